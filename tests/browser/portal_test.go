//go:build browser

package browser

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
)

// The affiliate portal in a real browser: an invited affiliate sets a
// password, signs out and in again, opens a program, builds a sub-id link,
// toggles Leads and Purchases, downloads each CSV and finds in the file
// exactly the rows on the screen; then the page is checked at phone width.

// portalData is what the test stores for the invited affiliate (Paula) and
// for a rival in the same program whose rows must never show.
func portalData(t *testing.T, s *Spiffy, prg *store.Program, paula, rival *store.Affiliate, now time.Time) {
	t.Helper()
	code := func(af *store.Affiliate) string {
		e, _, err := s.App.Enroll(prg.ID, af.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		return e.Code
	}
	pc, rc := code(paula), code(rival)
	leads := []*store.Lead{
		{AffiliateID: paula.ID, Code: pc, Email: "ann@customers.example", Name: "Ann Archer", SubID: "newsletter", PurchaseID: store.NewID(now)},
		{AffiliateID: paula.ID, Code: pc, Email: "hyper@customers.example", Name: `=HYPERLINK("https://evil.example","Click me")`},
		{AffiliateID: paula.ID, Code: pc, Email: "jane@customers.example", Name: `Doe, Jane "JD"`, SubID: "yt"},
		{AffiliateID: paula.ID, Code: pc, Email: "plus@customers.example", Name: "+Plus Sign"},
		{AffiliateID: paula.ID, Code: pc, Email: "zoe@customers.example", Name: "Zoë Ümlaut", SubID: "blog"},
		{AffiliateID: rival.ID, Code: rc, Email: "rival-lead@customers.example", Name: "Rival Lead"},
		{Email: "orphan@customers.example", Name: "Orphan Lead"},
	}
	purchases := []*store.Purchase{
		{AffiliateID: paula.ID, Code: pc, OrderID: "ORD-1001", Email: "ann@customers.example", Name: "Ann Archer", Product: "Runner Pro", Amount: 12000, Currency: "USD", Commission: 3000, Status: "paid", SubID: "newsletter"},
		{AffiliateID: paula.ID, Code: pc, OrderID: "ORD-1002", Email: "minus@customers.example", Name: "-Minus Buyer", Product: "Trail, Lite", Amount: 8999, Currency: "USD", Commission: 2250, Status: "refunded"},
		{AffiliateID: paula.ID, Code: pc, OrderID: "ORD-1003", Email: "jane@customers.example", Name: `Doe, Jane "JD"`, Product: "Socks", Amount: 4500, Currency: "EUR", Commission: 1125, Status: "paid", SubID: "yt"},
		{AffiliateID: rival.ID, Code: rc, OrderID: "ORD-2001", Email: "rival-buyer@customers.example", Name: "Rival Buyer", Product: "Runner Pro", Amount: 12000, Currency: "USD", Commission: 3000, Status: "paid"},
		{OrderID: "ORD-3001", Email: "paula@partners.example", Name: "Paula Herself", Product: "Runner Pro", Amount: 12000, Currency: "USD", Status: "paid", SelfReferral: true},
	}
	err := s.DB.Update(func(tx *store.Tx) error {
		for i, l := range leads {
			at := now.Add(-time.Duration(i*5+1) * time.Hour)
			l.ID, l.ProgramID, l.CreatedAt, l.IP, l.UserAgent = store.NewID(at), prg.ID, at, "198.51.100.77", "MerchantOnly/1.0"
			if err := tx.InsertLead(l); err != nil {
				return err
			}
		}
		for i, p := range purchases {
			at := now.Add(-time.Duration(i*7+2) * time.Hour)
			p.ID, p.ProgramID, p.PurchasedAt, p.CreatedAt = store.NewID(at), prg.ID, at, at
			if err := tx.InsertPurchase(p); err != nil {
				return err
			}
		}
		for i := 0; i < 40; i++ { // clicks over the last two weeks, for the chart
			at := now.Add(-time.Duration(i*i%14*24+i%5) * time.Hour)
			c := &store.Click{ID: store.NewID(at), ProgramID: prg.ID, AffiliateID: paula.ID, Code: pc, CreatedAt: at}
			if err := tx.InsertClick(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// portalGo runs steps (a click that navigates, usually) and waits until a
// loaded page meets cond, a JavaScript expression (see portalPath).
func portalGo(t *testing.T, b *Browser, cond string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		t.Fatalf("going to %s: %v", cond, err)
	}
	// Evaluate in a loop rather than with Poll: a navigation in flight
	// destroys the page a Poll runs in, which Poll reports as an error.
	js := `document.readyState === 'complete' && (` + cond + `)`
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(b.Ctx, chromedp.Location())
			t.Fatalf("waiting for %s (at %s): %v", cond, loc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// portalPath is a portalGo condition: the page's path is p and its query
// string contains each of query.
func portalPath(p string, query ...string) string {
	cond := fmt.Sprintf("location.pathname === %q", p)
	for _, q := range query {
		cond += fmt.Sprintf(" && location.search.includes(%q)", q)
	}
	return cond
}

// portalTable reads the rows of the page's list as the person sees them.
func portalTable(t *testing.T, b *Browser) [][]string {
	t.Helper()
	rows, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('table.portal-table tbody tr'))
		.map(tr => Array.from(tr.cells).map(td => td.innerText.trim()))`))
	if err != nil {
		t.Fatalf("read table: %v", err)
	}
	return rows
}

// portalDownload clicks the Export CSV button and returns the downloaded file.
func portalDownload(t *testing.T, b *Browser, dir string) [][]string {
	t.Helper()
	return b.DownloadCSV(dir, `a[download]`)
}

// unguard undoes the CSV formula guard, to compare a cell with the screen.
func unguard(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

func TestPortalInvitedAffiliateExportsWhatItSees(t *testing.T) {
	s := StartSpiffy(t)
	now := time.Now().UTC()
	prg := s.Program("Acme Sneakers", func(in *app.ProgramInput) {
		in.ShareLeads, in.SharePurchasers = apptest.Ptr(true), apptest.Ptr(true)
		in.CommissionValue = apptest.Ptr("25")
		in.Description = apptest.Ptr("Running shoes people love.")
	})
	quiet := s.Program("Quiet Club") // shares nothing
	paula, inviteURL, err := s.App.CreateAffiliate(app.AffiliateInput{Name: apptest.Ptr("Paula Partner"), Email: apptest.Ptr("paula@partners.example")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.App.Enroll(quiet.ID, paula.ID, ""); err != nil {
		t.Fatal(err)
	}
	rival := s.Affiliate("Rita Rival", "rita@partners.example", "rita", prg)
	portalData(t, s, prg, paula, rival, now)

	b := NewBrowser(t, 150*time.Second)
	downloads := b.AllowDownloads()

	// The invite link: set a password, land signed in.
	portalGo(t, b, `location.pathname.startsWith("/portal/invite/")`, chromedp.Navigate(inviteURL))
	b.Screenshot("invite")
	portalGo(t, b, portalPath("/portal"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "paula-secret-42"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.querySelector('h1').innerText.includes('Paula Partner')`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("not signed in after the invite: %v", err)
	}

	// Sign out, then sign in with the new password.
	portalGo(t, b, portalPath("/portal/login"), chromedp.Click(chromedp.CSS(`form.signout button`)))
	b.Screenshot("login")
	portalGo(t, b, portalPath("/portal"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "paula@partners.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "paula-secret-42"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	home, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Acme Sneakers", "Quiet Club", "25%"} {
		if !strings.Contains(home, want) {
			t.Fatalf("home lacks %q:\n%s", want, home)
		}
	}
	b.Screenshot("home")

	// The program page, and the sub-id builder (live, through its script).
	portalGo(t, b, portalPath("/portal/programs/"+prg.ID), chromedp.Click(chromedp.CSS(`a.btn[href="/portal/programs/`+prg.ID+`"]`)))
	link, err := chromedp.Run(b.Ctx, chromedp.Value(chromedp.CSS(`#ref-link`)))
	_, code, _ := strings.Cut(link, "?ref=")
	if err != nil || !strings.HasPrefix(link, "https://shop.example.com/?ref=") || !strings.HasPrefix(code, "paulapartner") {
		t.Fatalf("referral link %q: %v", link, err)
	}
	if err := chromedp.Do(b.Ctx, chromedp.SendKeys(chromedp.CSS(`#sub`), "spring sale")); err != nil {
		t.Fatal(err)
	}
	subLink, err := chromedp.Run(b.Ctx, chromedp.Value(chromedp.CSS(`#sub-link`)))
	if err != nil || subLink != link+"&sub=spring%20sale" {
		t.Fatalf("sub-id link %q, want %q&sub=spring%%20sale: %v", subLink, link, err)
	}
	b.Screenshot("program")

	// Leads: the table, then the file.
	portalGo(t, b, portalPath("/portal/programs/"+prg.ID, "list=leads"), chromedp.Click(chromedp.CSS(`.portal-tabs a[href*="list=leads"]`)))
	table := portalTable(t, b)
	b.Screenshot("leads")
	file := portalDownload(t, b, downloads)
	if want := "created_at,email,name,program,referral_code,sub_id,purchased"; strings.Join(file[0], ",") != want {
		t.Fatalf("leads header %q", file[0])
	}
	if len(table) != 5 || len(file)-1 != len(table) {
		t.Fatalf("%d rows on screen, %d in the file (want 5 each):\n%q\n%q", len(table), len(file)-1, table, file)
	}
	// shown is a file's decimal amount as the page shows it ("$120.00").
	shown := func(amount, cur string) string {
		v, ok := money.Parse(amount, cur)
		if !ok {
			t.Fatalf("amount %q in the file", amount)
		}
		return money.Display(v, cur)
	}
	for i, row := range file[1:] {
		screen := table[i] // Date, Name, Email, Sub-ID, Purchased
		got := []string{strings.Replace(row[0][:16], "T", " ", 1), unguard(row[2]), unguard(row[1]), row[5], row[6]}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", screen) {
			t.Fatalf("lead %d: file %q, screen %q", i, got, screen)
		}
		if row[3] != "Acme Sneakers" || row[4] != code {
			t.Fatalf("lead %d: program %q code %q", i, row[3], row[4])
		}
	}
	if !strings.Contains(fmt.Sprint(file), `'=HYPERLINK(`) {
		t.Fatalf("formula not guarded: %q", file)
	}

	// Purchases: the table, then the file.
	portalGo(t, b, portalPath("/portal/programs/"+prg.ID, "list=purchases"), chromedp.Click(chromedp.CSS(`.portal-tabs a[href*="list=purchases"]`)))
	table = portalTable(t, b)
	b.Screenshot("purchases")
	file = portalDownload(t, b, downloads)
	if want := "purchased_at,order_id,email,name,product,amount,currency,commission,status,sub_id"; strings.Join(file[0], ",") != want {
		t.Fatalf("purchases header %q", file[0])
	}
	if len(table) != 3 || len(file)-1 != len(table) {
		t.Fatalf("%d rows on screen, %d in the file (want 3 each):\n%q\n%q", len(table), len(file)-1, table, file)
	}
	for i, row := range file[1:] {
		screen := table[i] // Date, Order, Customer (name, email), Product, Amount, Commission, Status, Sub-ID, Commission status
		got := []string{strings.Replace(row[0][:16], "T", " ", 1), row[1], unguard(row[3]) + "\n" + row[2], row[4],
			shown(row[5], row[6]), shown(row[7], row[6]), row[8], row[9]}
		// The commission status is the screen's only (these purchases were
		// stored without commission records: "—").
		if len(screen) != 9 || screen[8] != "—" {
			t.Fatalf("purchase %d: commission status cell %q", i, screen)
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", screen[:8]) {
			t.Fatalf("purchase %d: file %q, screen %q", i, got, screen)
		}
	}

	// Nothing of the rival, the merchant or the unattributed on any page seen.
	page, err := chromedp.Run(b.Ctx, chromedp.OuterHTML(chromedp.CSS(`html`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Rival", "rival-", "ORD-2001", "ORD-3001", "Orphan", "198.51.100.77", "MerchantOnly"} {
		if strings.Contains(page, secret) || strings.Contains(fmt.Sprint(file), secret) {
			t.Fatalf("the portal shows %q", secret)
		}
	}

	// The program that shares nothing: statistics, no toggle, no export.
	portalGo(t, b, portalPath("/portal/programs/"+quiet.ID), chromedp.Navigate(s.URL+"/portal/programs/"+quiet.ID))
	n, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll('.portal-tabs, a[download], table').length`))
	if err != nil || n != 0 {
		t.Fatalf("unshared program shows %d list elements: %v", n, err)
	}

	// Phone width: nothing wider than the screen.
	portalGo(t, b, portalPath("/portal/programs/"+prg.ID, "list=purchases"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(s.URL+"/portal/programs/"+prg.ID+"?list=purchases"))
	overflow, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil || overflow > 0 {
		t.Fatalf("page is %d px wider than a phone: %v", overflow, err)
	}
	b.Screenshot("phone-purchases")
	portalGo(t, b, portalPath("/portal"), chromedp.Navigate(s.URL+"/portal"))
	b.Screenshot("phone-home")

	if ex := b.Exceptions(); len(ex) > 0 {
		t.Fatalf("script errors: %v", ex)
	}
}
