package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// listFixture: two programs, two affiliates, leads and purchases spread
// over three days.
type listFixture struct {
	env            *apptest.Env
	shop, club     *store.Program
	ann, bob       *store.Affiliate
	leads          []string // ids, oldest first
	purchases      []string // ids, oldest purchased_at first
	refundedID     string
	leadEmails     []string
	purchaseEmails []string
}

func newListFixture(t *testing.T) *listFixture {
	t.Helper()
	env, advance := newEnv(t)
	f := &listFixture{env: env}
	f.shop = env.Program("Shop", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	f.club = env.Program("Club", func(in *app.ProgramInput) { in.TrackLeads = apptest.Ptr(true) })
	f.ann = env.Affiliate("Ann", "ann@partner.example", "ann", f.shop, f.club)
	f.bob = env.Affiliate("Bob", "bob@partner.example", "bob", f.shop)
	annClub := "ann-" + f.club.ID[len(f.club.ID)-4:]

	// Day 0 (2026-03-01): ann/shop x2, bob/shop. Day 1: ann/club. Day 2: bob/shop.
	plan := []struct {
		code, email string
		advance     time.Duration
	}{
		{"ann", "amy@example.com", 0},
		{"ann", "ben@example.com", time.Hour},
		{"bob", "amy.b@example.org", time.Hour},
		{annClub, "amy@example.com", 24 * time.Hour},
		{"bob", "cid@example.com", 24 * time.Hour},
	}
	for i, p := range plan {
		advance(p.advance)
		ref := postClick(t, env, map[string]string{"ref": p.code}).Referral
		rec := env.Request(http.MethodPost, "/t/lead", map[string]string{"email": p.email, "referral": ref})
		apptest.Expect(t, rec, 201)
		f.leads = append(f.leads, apptest.Decode[leadResp](t, rec).Lead)
		f.leadEmails = append(f.leadEmails, p.email)
		prg := f.shop.ID
		if p.code == annClub {
			prg = f.club.ID
		}
		pur := postPurchase(t, env, map[string]string{"order_id": string(rune('a' + i)), "program": prg, "email": p.email, "amount": "10", "currency": "USD", "referral": ref}, 201)
		f.purchases = append(f.purchases, pur.ID)
		f.purchaseEmails = append(f.purchaseEmails, p.email)
	}
	// Bob's first purchase is refunded.
	f.refundedID = f.purchases[2]
	apptest.Expect(t, env.API(http.MethodPost, "/purchases/"+f.refundedID+"/refund", nil), 200)
	return f
}

func TestListLeads(t *testing.T) {
	f := newListFixture(t)
	L := f.leads
	tests := []struct {
		name  string
		query url.Values
		want  []string // newest first
	}{
		{"all", nil, []string{L[4], L[3], L[2], L[1], L[0]}},
		{"program", url.Values{"program": {f.shop.ID}}, []string{L[4], L[2], L[1], L[0]}},
		{"affiliate", url.Values{"affiliate": {f.ann.ID}}, []string{L[3], L[1], L[0]}},
		{"program and affiliate", url.Values{"program": {f.shop.ID}, "affiliate": {f.ann.ID}}, []string{L[1], L[0]}},
		{"q exact email, any case", url.Values{"q": {" AMY@example.com "}}, []string{L[3], L[0]}},
		{"q exact is not a prefix", url.Values{"q": {"amy@example.co"}}, nil},
		{"q prefix", url.Values{"q": {"amy"}}, []string{L[3], L[2], L[0]}},
		{"q prefix with @", url.Values{"q": {"amy@"}}, []string{L[3], L[0]}},
		{"q and program", url.Values{"q": {"amy@example.com"}, "program": {f.club.ID}}, []string{L[3]}},
		{"from", url.Values{"from": {"2026-03-02"}}, []string{L[4], L[3]}},
		{"to, day included", url.Values{"to": {"2026-03-01"}}, []string{L[2], L[1], L[0]}},
		{"one day", url.Values{"from": {"2026-03-02"}, "to": {"2026-03-02"}}, []string{L[3]}},
		{"empty range", url.Values{"from": {"2026-04-01"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.env.API(http.MethodGet, "/leads?"+tt.query.Encode(), nil)
			apptest.Expect(t, rec, 200)
			page := apptest.Decode[web.Page[web.LeadJSON]](t, rec)
			if page.NextCursor != nil {
				t.Fatalf("next_cursor %q on a short list", *page.NextCursor)
			}
			if page.Data == nil {
				t.Fatal("data is null, want []")
			}
			var got []string
			for _, l := range page.Data {
				got = append(got, l.ID)
			}
			if !sameIDs(got, tt.want) {
				t.Fatalf("leads %v, want %v", got, tt.want)
			}
		})
	}

	// A lead's JSON, all fields.
	page := apptest.Decode[web.Page[web.LeadJSON]](t, f.env.API(http.MethodGet, "/leads?limit=1", nil))
	want := web.LeadJSON{ID: L[4], Program: f.shop.ID, Affiliate: f.bob.ID, ReferralCode: "bob", Email: "cid@example.com",
		CreatedAt: "2026-03-03T14:00:00Z", Purchased: true}
	if len(page.Data) != 1 || page.Data[0] != want {
		t.Fatalf("lead JSON %+v, want %+v", page.Data, want)
	}
}

func TestListPurchases(t *testing.T) {
	f := newListFixture(t)
	P := f.purchases
	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"all", nil, []string{P[4], P[3], P[2], P[1], P[0]}},
		{"paid", url.Values{"status": {"paid"}}, []string{P[4], P[3], P[1], P[0]}},
		{"refunded", url.Values{"status": {"refunded"}}, []string{P[2]}},
		{"affiliate and status", url.Values{"affiliate": {f.bob.ID}, "status": {"paid"}}, []string{P[4]}},
		{"program", url.Values{"program": {f.club.ID}}, []string{P[3]}},
		{"q prefix", url.Values{"q": {"amy"}}, []string{P[3], P[2], P[0]}},
		{"q exact", url.Values{"q": {"Ben@Example.com"}}, []string{P[1]}},
		{"to", url.Values{"to": {"2026-03-01"}}, []string{P[2], P[1], P[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.env.API(http.MethodGet, "/purchases?"+tt.query.Encode(), nil)
			apptest.Expect(t, rec, 200)
			page := apptest.Decode[web.Page[web.PurchaseJSON]](t, rec)
			var got []string
			for _, p := range page.Data {
				got = append(got, p.ID)
			}
			if !sameIDs(got, tt.want) {
				t.Fatalf("purchases %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListPagination(t *testing.T) {
	f := newListFixture(t)
	for _, kind := range []struct {
		path string
		want []string
	}{
		{"/leads", f.leads},
		{"/purchases", f.purchases},
	} {
		t.Run(kind.path, func(t *testing.T) {
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
				q := url.Values{"limit": {"2"}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				rec := f.env.API(http.MethodGet, kind.path+"?"+q.Encode(), nil)
				apptest.Expect(t, rec, 200)
				page := apptest.Decode[web.Page[struct {
					ID string `json:"id"`
				}]](t, rec)
				if len(page.Data) > 2 {
					t.Fatalf("page of %d, limit 2", len(page.Data))
				}
				for _, d := range page.Data {
					got = append(got, d.ID)
				}
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
			}
			want := make([]string, len(kind.want))
			for i, id := range kind.want {
				want[len(want)-1-i] = id
			}
			if !sameIDs(got, want) {
				t.Fatalf("paged %v, want %v", got, want)
			}
		})
	}
}

func TestListBadFilters(t *testing.T) {
	f := newListFixture(t)
	tests := []struct {
		path string
		code string
	}{
		{"/leads?limit=0", "invalid_limit"},
		{"/leads?limit=501", "invalid_limit"},
		{"/purchases?limit=x", "invalid_limit"},
		{"/leads?cursor=garbage", "invalid_cursor"},
		{"/purchases?cursor=" + store.NewID(t0), "invalid_cursor"},
		{"/leads?program=" + store.NewID(t0), "unknown_program"},
		{"/purchases?program=nope", "unknown_program"},
		{"/leads?affiliate=" + store.NewID(t0), "unknown_affiliate"},
		{"/purchases?affiliate=%00", "unknown_affiliate"},
		{"/leads?from=2026-13-01", "invalid_from"},
		{"/purchases?to=yesterday", "invalid_to"},
		{"/leads?from=2026-03-03&to=2026-03-01", "invalid_to"},
		{"/purchases?status=pending", "invalid_status"},
		{"/leads?q=" + url.QueryEscape(string(make([]byte, 300))), "invalid_q"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			wantError(t, f.env.API(http.MethodGet, tt.path, nil), 400, tt.code)
		})
	}
	wantError(t, f.env.Request(http.MethodGet, "/api/v1/leads", nil), 401, "unauthorized")
}

func sameIDs(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
