package app_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/app/webhook/webhooktest"
	"github.com/spiffy/spiffy/store"
)

// TestErase checks every place a person's email and name live after
// POST /api/v1/erase: leads, purchases, their indexes, queued and delivered
// webhook payloads, and export files on disk. Totals do not change and the
// person can be tracked again afterwards.
func TestErase(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled, apptest.LoopbackWebhooks)
	var failing atomic.Bool
	failing.Store(true)
	down := webhooktest.NewReceiver(t, func(int, *http.Request) int {
		if failing.Load() {
			return 500
		}
		return 200
	})
	up := webhooktest.NewReceiver(t, nil)
	shop := env.Program("Shop", apptest.ShareAll)
	other := env.Program("Other", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	ann := env.Affiliate("Ann", "ann@example.com", "ann", shop, other)
	downEP := env.WebhookEndpoint(ann.ID, map[string]any{"url": down.URL})
	env.WebhookEndpoint(ann.ID, map[string]any{"url": up.URL})
	otherCode := ""
	if es, _ := env.App.Views().EnrollmentsOfAffiliate(ann.ID); len(es) == 2 {
		for _, e := range es {
			if e.ProgramID == other.ID {
				otherCode = e.Code
			}
		}
	}

	// Clicks carry the visitor id, IP and browser; clicks[vid] are their ids.
	clicks := map[string][]string{}
	click := func(code, vid string) string {
		rec := env.Request(http.MethodPost, "/t/click", map[string]string{"ref": code, "vid": vid, "url": "https://shop.example/?ref=" + code + "&email=pat%40example.com"},
			"User-Agent", "Firefox/1")
		apptest.Expect(t, rec, 201)
		ref := apptest.Decode[struct{ Referral string }](t, rec).Referral
		clicks[vid] = append(clicks[vid], ref)
		return ref
	}
	lead := func(code, email, name string) string {
		vid := "vid-" + strings.ToLower(strings.TrimSpace(email[:3]))
		rec := env.Request(http.MethodPost, "/t/lead", map[string]string{"email": email, "name": name, "referral": click(code, vid), "vid": vid},
			"User-Agent", "Firefox/1")
		apptest.Expect(t, rec, 201)
		return apptest.Decode[struct{ Lead string }](t, rec).Lead
	}
	patLeads := []string{lead("ann", "Pat@Example.com", "Pat Buyer"), lead(otherCode, " pat@example.COM", "Pat B.")}
	click("ann", "vid-pat") // Pat comes back through Ann's link and leaves no lead
	keepLead := lead("ann", "keep@example.com", "Kim Keep")
	p1 := env.AttributedPurchase(shop, "ann", "A-1", "pat@example.com")
	if sp, err := store.Read(env.DB, func(tx *store.Tx) (*store.Purchase, error) { return tx.Purchase(p1.ID) }); err != nil || sp.ReferralID == "" {
		t.Fatalf("purchase A-1: %+v %v", sp, err)
	} else {
		clicks[""] = append(clicks[""], sp.ReferralID) // that purchase's click has no visitor id
	}
	rec := env.API(http.MethodPost, "/purchases", map[string]string{"order_id": "B-1", "program": other.ID, "email": "PAT@example.com", "name": "Pat", "amount": "12.00", "currency": "USD"})
	apptest.Expect(t, rec, 201)
	p2 := apptest.Decode[web.PurchaseJSON](t, rec)
	// Kim's purchase is attributed through her lead.
	rec = env.API(http.MethodPost, "/purchases", map[string]string{"order_id": "A-2", "program": shop.ID, "email": "keep@example.com", "name": "Kim Keep", "amount": "20.00", "currency": "USD"})
	apptest.Expect(t, rec, 201)
	keepPurchase := apptest.Decode[web.PurchaseJSON](t, rec)
	env.WaitWebhooks()

	// Exports written before the erasure: the merchant's and Ann's.
	var exportIDs []string
	for _, x := range []struct {
		owner app.Scope
		kind  string
	}{
		{app.Merchant, app.ExportLeads}, {app.Merchant, app.ExportPurchases}, {app.AffiliateScope(ann.ID), app.ExportPurchases},
	} {
		v, err := env.App.StartExport(x.owner, x.kind, views.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		exportIDs = append(exportIDs, v.ID)
	}
	env.App.WaitExports()
	exportRows := func() map[string][][]string {
		out := map[string][][]string{}
		files, _ := filepath.Glob(filepath.Join(env.Config.ExportsDir(), "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatalf("%s is not valid CSV after erasure: %v", f, err)
			}
			out[filepath.Base(f)] = recs
		}
		return out
	}
	before := exportRows()
	if len(before) != 3 {
		t.Fatalf("%d export files, want 3", len(before))
	}
	rollups := func() []store.Rollup {
		var out []store.Rollup
		env.DB.View(func(tx *store.Tx) error {
			return tx.Rollups(0, 1<<31, "", func(_ uint32, _, _ string, r *store.Rollup) { out = append(out, *r) })
		})
		return out
	}
	totals := rollups()

	// Bad requests change nothing.
	for _, body := range []any{map[string]any{}, map[string]any{"email": "not-an-email"}, map[string]any{"email": 5}, `{"email":`, "[]"} {
		rec := env.API(http.MethodPost, "/erase", body)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"error":"invalid_`) {
			t.Errorf("erase %v: %d %s", body, rec.Code, rec.Body.String())
		}
	}
	if rec := env.Request(http.MethodPost, "/api/v1/erase", map[string]string{"email": "pat@example.com"}); rec.Code != 401 {
		t.Errorf("erase without an API key: %d", rec.Code)
	}
	if !reflect.DeepEqual(exportRows(), before) {
		t.Fatalf("a refused erasure changed export files")
	}

	rec = env.API(http.MethodPost, "/erase", map[string]string{"email": "  pat@EXAMPLE.com "})
	apptest.Expect(t, rec, 200)
	res := apptest.Decode[app.EraseResult](t, rec)
	// 2 leads, 2 purchases, and on each of Ann's 2 endpoints the lead.created
	// and purchase.created of the shop (the other program shares nothing).
	// Export rows: 2 leads and 2 purchases in the merchant's files, and both
	// purchases in Ann's (B-1 is hers through her lead).
	// Clicks: Pat's visitor's 3 clicks in both programs, and the click of
	// the purchase A-1.
	want := app.EraseResult{Erased: 12, Leads: 2, Purchases: 2, WebhookMessages: 4, Clicks: 4, ExportFiles: 3, ExportRows: 6}
	if res != want {
		t.Fatalf("erase answered %+v, want %+v", res, want)
	}

	err := env.DB.View(func(tx *store.Tx) error {
		for _, id := range patLeads {
			l, err := tx.Lead(id)
			if err != nil {
				return err
			}
			if l.Email != "" || l.Name != "" || l.IP != "" || l.UserAgent != "" || l.VisitorID != "" || l.AffiliateID != ann.ID {
				t.Errorf("lead after erasure %+v", l)
			}
		}
		for _, id := range []string{p1.ID, p2.ID} {
			p, err := tx.Purchase(id)
			if err != nil {
				return err
			}
			if p.Email != "" || p.Name != "" || p.Amount == 0 {
				t.Errorf("purchase after erasure %+v", p)
			}
		}
		// The clicks that lead to Pat keep what the totals need, nothing
		// that could single Pat out again; Kim's stay whole.
		for _, id := range append(clicks["vid-pat"], clicks[""]...) {
			c, err := tx.Click(id)
			if err != nil {
				return err
			}
			if c.IP != "" || c.UserAgent != "" || c.VisitorID != "" || strings.ContainsAny(c.URL, "?#") || c.AffiliateID != ann.ID {
				t.Errorf("Pat's click after erasure %+v", c)
			}
		}
		if c, err := tx.Click(clicks["vid-pat"][0]); err != nil || c.URL != "https://shop.example/" {
			t.Errorf("the landing URL keeps its page and loses its query: %+v %v", c, err)
		}
		for _, id := range clicks["vid-kim"] {
			if c, err := tx.Click(id); err != nil || c.IP == "" || c.UserAgent != "Firefox/1" || c.VisitorID != "vid-kim" || !strings.Contains(c.URL, "?ref=") {
				t.Errorf("someone else's click changed: %+v %v", c, err)
			}
		}
		for _, prg := range []string{shop.ID, other.ID} {
			if err := tx.VisitorClicks(prg, "vid-pat", env.Clock.Now().Add(time.Hour), func(c *store.Click) bool {
				t.Errorf("the visitor index still leads to Pat's click %s", c.ID)
				return true
			}); err != nil {
				return err
			}
		}
		for _, prg := range []string{shop.ID, other.ID} {
			if _, err := tx.LeadByEmail(prg, "pat@example.com"); err == nil {
				t.Errorf("the unique email key of program %s still finds the lead", prg)
			}
		}
		if ls, _, _ := tx.Leads(store.LeadQuery{Email: "pat@example.com"}); len(ls) != 0 {
			t.Errorf("lead email index still lists %d leads", len(ls))
		}
		if ls, _, _ := tx.Leads(store.LeadQuery{EmailPrefix: "pat"}); len(ls) != 0 {
			t.Errorf("lead search by prefix finds %d leads", len(ls))
		}
		if ps, _, _ := tx.Purchases(store.PurchaseQuery{Email: "pat@example.com"}); len(ps) != 0 {
			t.Errorf("purchase email index still lists %d purchases", len(ps))
		}
		if ids, _ := tx.WebhookMessageIDsByEmail("pat@example.com"); len(ids) != 0 {
			t.Errorf("message email index still lists %d", len(ids))
		}
		keep, err := tx.Lead(keepLead)
		if err != nil || keep.Email != "keep@example.com" || keep.Name != "Kim Keep" {
			t.Errorf("someone else's lead changed: %+v %v", keep, err)
		}
		kp, err := tx.Purchase(keepPurchase.ID)
		if err != nil || kp.Email != "keep@example.com" {
			t.Errorf("someone else's purchase changed: %+v %v", kp, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, m := range env.WebhookMessages() {
		low := strings.ToLower(string(m.Payload))
		if strings.Contains(low, "pat@example.com") || strings.Contains(low, "pat b") || m.Email == "pat@example.com" {
			t.Errorf("message %s still holds the person: %s", m.ID, m.Payload)
		}
		if m.Status == store.MessagePending {
			pending++
		}
	}
	if pending != 4 {
		t.Fatalf("%d pending messages, want 4 (Pat's and Kim's lead and purchase on the failing endpoint)", pending)
	}
	if !reflect.DeepEqual(rollups(), totals) {
		t.Errorf("erasure changed the totals")
	}

	// Export files: the person's rows are gone, everyone else's stay.
	after := exportRows()
	for name, recs := range after {
		if !reflect.DeepEqual(recs[0], before[name][0]) {
			t.Errorf("%s: header changed", name)
		}
		var kept [][]string
		for _, r := range before[name][1:] {
			if !strings.Contains(strings.ToLower(strings.Join(r, ",")), "pat@example.com") {
				kept = append(kept, r)
			}
		}
		if !reflect.DeepEqual(recs[1:], kept) {
			t.Errorf("%s after erasure:\n%v\nwant\n%v", name, recs[1:], kept)
		}
		if len(kept) == 0 {
			t.Errorf("%s lost every row", name)
		}
	}
	for _, id := range exportIDs {
		f, _, err := env.App.OpenExport(app.Merchant, id)
		if err != nil {
			f, _, err = env.App.OpenExport(app.AffiliateScope(ann.ID), id)
		}
		if err != nil {
			t.Fatalf("open export %s: %v", id, err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if strings.Contains(strings.ToLower(string(b)), "pat@example.com") {
			t.Errorf("export %s still holds the person", id)
		}
		if !bytes.HasSuffix(b, []byte("\r\n")) {
			t.Errorf("export %s lost its CRLF line ends", id)
		}
	}

	// Queued messages still go out, signed over the scrubbed body.
	failing.Store(false)
	for _, m := range env.WebhookMessages() {
		if m.Status == store.MessagePending {
			apptest.Expect(t, env.API(http.MethodPost, "/webhook-messages/"+m.ID+"/resend", nil), 200)
		}
	}
	env.WaitWebhooks()
	reqs := down.Requests()
	last := reqs[len(reqs)-1]
	webhooktest.Verify(t, downEP.Secret, last, true)
	if strings.Contains(strings.ToLower(string(last.Body)), "pat@") {
		t.Fatalf("delivered body holds the person: %s", last.Body)
	}

	// Erasing again finds nothing; the person can be tracked afresh.
	rec = env.API(http.MethodPost, "/erase", map[string]string{"email": "pat@example.com"})
	apptest.Expect(t, rec, 200)
	if res := apptest.Decode[app.EraseResult](t, rec); res != (app.EraseResult{}) {
		t.Fatalf("second erasure %+v", res)
	}
	if id := lead("ann", "pat@example.com", "Pat"); id == patLeads[0] {
		t.Fatalf("the erased lead came back")
	}
	// Two erased leads in one program do not collide on the blank email.
	lead("ann", "pat2@example.com", "Pat Two")
	rec = env.API(http.MethodPost, "/erase", map[string]string{"email": "pat@example.com"})
	apptest.Expect(t, rec, 200)
	rec = env.API(http.MethodPost, "/erase", map[string]string{"email": "pat2@example.com"})
	apptest.Expect(t, rec, 200)
	if res := apptest.Decode[app.EraseResult](t, rec); res.Leads != 1 {
		t.Fatalf("erasing a second lead in the program: %+v", res)
	}
}
