package demo

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// The demo account (spiffy demo): programs, affiliates and 90 days of
// clicks, leads and purchases with a believable shape, written straight
// through the store API in large operations so that a million leads take
// seconds, not hours. Generation streams: each click is generated together
// with the lead and purchase it turns into, and only the current batch is
// held in memory, so the size of the account does not change the memory used.

// Options sizes the demo account.
type Options struct {
	Leads, Clicks, Purchases, Affiliates int
	// Days is how many days of history to generate, today included (default 90).
	Days int
	// Seed makes the generated data reproducible; 0 means a fixed default.
	Seed uint64
}

// Result is what the demo command prints.
type Result struct {
	AdminEmail, AdminPassword, APIKey string
	// AffiliatePassword signs every demo affiliate in to the portal;
	// AffiliateEmail is one of them worth a look (active, the busiest).
	AffiliatePassword, AffiliateEmail string
	// What was written and how long it took.
	Programs, Affiliates, Clicks, Leads, Purchases int
	Elapsed                                        time.Duration
}

// ErrNotEmpty is returned when the data dir already holds an account.
var ErrNotEmpty = errors.New("demo: the data dir is not empty")

// AdminEmail is the demo admin's sign-in.
const AdminEmail = "admin@example.com"

// demoOpUnits is the size of one store operation in rough units (a click is
// 1, a lead or a purchase 3: they carry about three times the keys and
// bytes). 600 units is about 250 KB, a few hundred records: large enough
// that commits are few, well below Badger's per-transaction limit (15% of
// a memtable) even when the writer puts two of them in one transaction.
const demoOpUnits = 600

// demoInFlight is how many operations may wait on the writer at once, so
// generation overlaps with commits without queueing unbounded memory.
const demoInFlight = 2

// Seed fills an empty store with a demo account and returns the admin
// sign-in and an API key. It refuses a data dir that already has an admin
// or programs. progress (may be nil) receives a line now and then.
func Seed(ctx context.Context, a *app.App, db *store.DB, opts Options, progress io.Writer) (*Result, error) {
	start := time.Now()
	if progress == nil {
		progress = io.Discard
	}
	if opts.Days <= 0 {
		opts.Days = 90
	}
	if opts.Seed == 0 {
		opts.Seed = 20240601
	}
	if opts.Leads < 0 || opts.Clicks < 0 || opts.Purchases < 0 || opts.Affiliates < 0 {
		return nil, errors.New("demo: counts must not be negative")
	}
	if err := checkEmpty(db, a.Config().DataDir); err != nil {
		return nil, err
	}
	g := newDemoGen(a, db, opts)
	if err := g.plan(); err != nil {
		return nil, err
	}

	// The admin first: it claims the data dir, so an interrupted run is not
	// doubled by a second one.
	res := &Result{AdminEmail: AdminEmail, AdminPassword: crand.Text()[:16], AffiliatePassword: "affiliate-demo"}
	if _, err := a.CreateAdmin(res.AdminEmail, res.AdminPassword); err != nil {
		return nil, fmt.Errorf("demo: create admin: %w", err)
	}
	var err error
	if _, res.APIKey, err = a.CreateAPIKey("demo"); err != nil {
		return nil, fmt.Errorf("demo: create api key: %w", err)
	}
	if err := g.writeAccounts(res.AffiliatePassword); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "demo: %d programs, %d affiliates (%d active); generating %d clicks, %d leads, %d purchases over %d days\n",
		len(g.programs), len(g.affs), g.activeAffiliates(), opts.Clicks, opts.Leads, opts.Purchases, opts.Days)
	if err := g.generate(ctx, progress, start); err != nil {
		return nil, err
	}
	if err := g.payouts(ctx, progress); err != nil {
		return nil, err
	}
	res.Programs, res.Affiliates = len(g.programs), len(g.affs)
	res.AffiliateEmail = g.busiestActive()
	res.Clicks, res.Leads, res.Purchases = g.nClicks, g.nLeads, g.nPurchases
	res.Elapsed = time.Since(start)
	fmt.Fprintf(progress, "demo: wrote %d clicks, %d leads, %d purchases in %s\n",
		res.Clicks, res.Leads, res.Purchases, res.Elapsed.Round(10*time.Millisecond))
	fmt.Fprintf(progress, "demo: affiliates sign in at %s/portal/login with their email and password %s\n", a.Config().BaseURL, res.AffiliatePassword)
	return res, nil
}

func checkEmpty(db *store.DB, dataDir string) error {
	return db.View(func(tx *store.Tx) error {
		has, err := tx.HasAdmin()
		if err != nil {
			return err
		}
		if has {
			return fmt.Errorf("%w: %s already has an admin; run the demo on a new --data-dir", ErrNotEmpty, dataDir)
		}
		progs, err := tx.Programs()
		if err != nil {
			return err
		}
		if len(progs) > 0 {
			return fmt.Errorf("%w: %s already has programs; run the demo on a new --data-dir", ErrNotEmpty, dataDir)
		}
		return nil
	})
}

// Demo catalogue.

type demoProduct struct {
	name   string
	price  string // decimal, in the program's currency
	weight float64
}

type demoProgramSpec struct {
	in       app.ProgramInput
	share    float64 // share of all clicks
	startDay int     // days after the window start when it launched
	leadConv float64 // relative click → lead conversion
	buyConv  float64 // relative lead/click → purchase conversion
	products []demoProduct
	codeTag  string // appended to affiliates' codes after their first program
	joinRate float64
}

func demoPrograms() []demoProgramSpec {
	s := func(v string) *string { return &v }
	i := func(v int) *int { return &v }
	b := func(v bool) *bool { return &v }
	return []demoProgramSpec{
		{
			in: app.ProgramInput{Name: s("Acme Analytics"), Description: s("Product analytics for SaaS teams. 30% of every payment."),
				LandingURL: s("https://acme-analytics.example.com/"), CookieDays: i(30), Attribution: s(app.AttributionLast),
				TrackLeads: b(true), ShareLeads: b(true), SharePurchasers: b(true), AutoApprove: b(false),
				CommissionType: s(app.CommissionPercent), CommissionValue: s("30"), Currency: s("USD")},
			share: 0.45, leadConv: 1.2, buyConv: 1, joinRate: 1, codeTag: "",
			products: []demoProduct{{"Starter monthly", "19.00", 4}, {"Pro monthly", "49.00", 5}, {"Pro annual", "490.00", 1.5}, {"Team annual", "1490.00", 0.3}},
		},
		{
			in: app.ProgramInput{Name: s("Acme Academy"), Description: s("Online data courses. $25 per sale, first click wins."),
				LandingURL: s("https://academy.example.com/courses"), CookieDays: i(60), Attribution: s(app.AttributionFirst),
				TrackLeads: b(true), ShareLeads: b(false), SharePurchasers: b(true), AutoApprove: b(true),
				CommissionType: s(app.CommissionFlat), CommissionValue: s("25.00"), Currency: s("USD")},
			share: 0.25, leadConv: 1, buyConv: 0.9, joinRate: 0.6, codeTag: "academy",
			products: []demoProduct{{"SQL for Analysts", "149.00", 3}, {"Data Viz Masterclass", "199.00", 2}, {"All-access bundle", "399.00", 1}},
		},
		{
			in: app.ProgramInput{Name: s("Acme Cloud EU"), Description: s("Hosted analytics in the EU. 12.5% of credit purchases."),
				LandingURL: s("https://eu.acme-cloud.example.com/?lang=en"), CookieDays: i(90), Attribution: s(app.AttributionLast),
				TrackLeads: b(true), ShareLeads: b(true), SharePurchasers: b(false), AutoApprove: b(false),
				CommissionType: s(app.CommissionPercent), CommissionValue: s("12.5"), Currency: s("EUR")},
			share: 0.20, startDay: 20, leadConv: 0.7, buyConv: 1.2, joinRate: 0.4, codeTag: "eu",
			products: []demoProduct{{"Credits 50", "50.00", 4}, {"Credits 200", "200.00", 2}, {"Credits 1000", "1000.00", 0.5}},
		},
		{
			in: app.ProgramInput{Name: s("Acme Japan"), Description: s("Our Japanese storefront. ¥1,000 per sale."),
				LandingURL: s("https://jp.acme-analytics.example.com/"), CookieDays: i(14), Attribution: s(app.AttributionLast),
				TrackLeads: b(false), ShareLeads: b(false), SharePurchasers: b(false), AutoApprove: b(false),
				CommissionType: s(app.CommissionFlat), CommissionValue: s("1000"), Currency: s("JPY")},
			share: 0.10, startDay: 40, leadConv: 0, buyConv: 4, joinRate: 0.25, codeTag: "jp",
			products: []demoProduct{{"Starter", "4980", 3}, {"Pro", "9800", 1}},
		},
	}
}

var (
	demoFirstNames = []string{"Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas",
		"Hana", "Mateo", "Aisha", "Kenji", "Chloé", "Jonas", "Priya", "Diego", "Zoe", "Omar",
		"Lena", "Ivan", "Sara", "Tomás", "Yuki", "Felix", "Nora", "Arjun", "Elena", "Sam"}
	demoLastNames = []string{"Smith", "Johnson", "García", "Müller", "Rossi", "Kowalski", "Nguyen", "Tanaka", "Martin", "Brown",
		"Silva", "Dubois", "Novak", "Jensen", "Kim", "Ahmed", "Patel", "Lopez", "Andersson", "O'Brien",
		"Cohen", "Ivanova", "Moreau", "Costa", "Weber", "Larsen", "Sato", "Khan", "Fischer", "Walsh"}
	demoMailDomains = []string{"example.com", "example.net", "example.org", "mail.example.com", "inbox.example.net"}
	demoSubIDs      = []string{"youtube", "newsletter", "blog", "twitter", "podcast", "spring-sale", "review", "tiktok", "linkedin", "webinar"}
	demoReferrers   = []string{"https://www.youtube.com/", "https://x.com/", "https://www.google.com/", "https://news.ycombinator.com/",
		"https://www.linkedin.com/", "https://www.reddit.com/"}
	demoUserAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
	}
	// demoHourWeights is traffic by UTC hour: quiet at night in Europe and
	// the Americas, busiest in the European afternoon / American morning.
	demoHourWeights = []float64{3, 2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5, 5.5, 6, 6.5, 7, 8, 8.5, 8.5, 8, 7.5, 7, 6, 5, 4.5, 3.5}
	// demoWeekday is traffic by weekday (Sunday first): lower at weekends.
	demoWeekday = []float64{0.72, 1.05, 1.1, 1.1, 1.05, 0.95, 0.68}
)

// Generator state.

type demoAff struct {
	rec     *store.Affiliate
	weight  float64 // share of traffic (a few affiliates bring most of it)
	conv    float64 // relative conversion: some audiences buy more
	subIDs  []string
	site    string
	blocked bool
}

type demoEnrollment struct {
	aff  *demoAff
	code string
}

type demoProgram struct {
	spec     demoProgramSpec
	rec      *store.Program
	prices   []int64
	enrolled []demoEnrollment
	// Cumulative traffic weights over enrolled affiliates: before the
	// blocking day (blocked ones still sent traffic) and after it.
	cumBefore, cumAfter []float64
	clicks              int   // clicks to generate in total
	perDay              []int // clicks per day
}

type demoGen struct {
	a        *app.App
	db       *store.DB
	opts     Options
	rng      *rand.Rand
	now      time.Time
	day0     time.Time // 00:00 UTC of the first day
	dayW     []float64 // relative traffic per day
	blockDay int       // from this day on blocked affiliates get no traffic
	programs []*demoProgram
	affs     []*demoAff

	// Exact-count selection (Knuth's selection sampling with weights and a
	// forcing rule at the end): what is still needed and what is left to
	// choose from.
	clicksLeft, eligLeft, leadsLeft        int
	leadsNeed, leadBuysNeed, clickBuysNeed int
	unattributed                           []int // unattributed purchases per day

	nClicks, nLeads, nPurchases int
	orderSeq                    int
	peopleSeq                   int
}

func newDemoGen(a *app.App, db *store.DB, opts Options) *demoGen {
	now := a.Now().UTC().Truncate(time.Millisecond)
	today := now.Truncate(24 * time.Hour)
	return &demoGen{
		a:    a,
		db:   db,
		opts: opts,
		rng:  rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5bd1e995)),
		now:  now,
		day0: today.AddDate(0, 0, -(opts.Days - 1)),
	}
}

// plan builds programs and affiliates in memory, the daily traffic curve and
// the exact counts, and checks that the requested numbers can be met.
func (g *demoGen) plan() error {
	o := g.opts
	if o.Clicks > 0 && o.Affiliates == 0 {
		return errors.New("demo: clicks need at least one affiliate (--affiliates)")
	}
	g.planDays()
	if err := g.planAccounts(); err != nil {
		return err
	}
	// Split the clicks between programs that have someone to send traffic.
	var shares []float64
	var live []*demoProgram
	for _, p := range g.programs {
		if len(p.cumAfter) > 0 || len(p.cumBefore) > 0 {
			live = append(live, p)
			shares = append(shares, p.spec.share)
		}
	}
	if o.Clicks > 0 && len(live) == 0 {
		return errors.New("demo: clicks need at least one active affiliate")
	}
	eligible := 0
	for i, n := range spread(o.Clicks, shares) {
		p := live[i]
		p.clicks = n
		w := make([]float64, len(g.dayW))
		for d := range w {
			if d >= p.spec.startDay {
				w[d] = g.dayW[d] * (0.9 + 0.2*g.rng.Float64())
			}
		}
		p.perDay = spread(n, w)
		if p.rec.TrackLeads {
			eligible += n
		}
	}
	if o.Leads > eligible {
		return fmt.Errorf("demo: %d leads need as many clicks in lead-tracking programs, and %d clicks give %d: raise --clicks", o.Leads, o.Clicks, eligible)
	}
	// Purchases: most come from leads, some straight from a click (no
	// sign-up, or a program that does not track leads), the rest unattributed.
	leadBuys := min(o.Purchases*80/100, o.Leads)
	clickBuys := min(o.Purchases-leadBuys-o.Purchases*12/100, o.Clicks-o.Leads)
	g.clicksLeft, g.eligLeft, g.leadsLeft = o.Clicks, eligible, o.Leads
	g.leadsNeed, g.leadBuysNeed, g.clickBuysNeed = o.Leads, leadBuys, clickBuys
	g.unattributed = spread(o.Purchases-leadBuys-clickBuys, g.dayW)
	return nil
}

// planDays draws the daily traffic curve: steady growth, a weekly rhythm,
// noise, and two campaign spikes that fade over a few days.
func (g *demoGen) planDays() {
	n := g.opts.Days
	g.dayW = make([]float64, n)
	spikes := map[int]float64{}
	if n >= 10 {
		for _, d := range []int{n/3 + g.rng.IntN(max(1, n/6)), 2*n/3 + g.rng.IntN(max(1, n/6))} {
			spikes[min(d, n-1)] += 2.2
			spikes[min(d+1, n-1)] += 1.0
			spikes[min(d+2, n-1)] += 0.4
		}
	}
	for d := range g.dayW {
		t := g.day0.AddDate(0, 0, d)
		growth := 0.7 + 0.6*float64(d)/float64(max(1, n-1))
		w := growth * demoWeekday[t.Weekday()] * (0.88 + 0.24*g.rng.Float64()) * (1 + spikes[d])
		if d == n-1 { // today: only the part of the day that has passed
			w *= max(0.01, g.now.Sub(t).Hours()/24)
		}
		g.dayW[d] = w
	}
	g.blockDay = n * 2 / 3
}

// planAccounts builds the programs and affiliates (not yet stored).
func (g *demoGen) planAccounts() error {
	start := g.day0
	for _, spec := range demoPrograms() {
		created := start.AddDate(0, 0, spec.startDay-10).Add(time.Duration(g.rng.IntN(36000)) * time.Second)
		p := &store.Program{ID: store.NewID(created), CookieDays: app.DefaultCookieDays, HoldDays: app.DefaultHoldDays, Attribution: app.AttributionLast,
			CommissionType: *spec.in.CommissionType, Currency: *spec.in.Currency, CreatedAt: created}
		if err := spec.in.Apply(p); err != nil {
			return fmt.Errorf("demo: program %s: %w", *spec.in.Name, err)
		}
		dp := &demoProgram{spec: spec, rec: p}
		for _, pr := range spec.products {
			v, err := app.ParseMoney("price", pr.price, p.Currency)
			if err != nil {
				return fmt.Errorf("demo: price of %s: %w", pr.name, err)
			}
			dp.prices = append(dp.prices, v)
		}
		g.programs = append(g.programs, dp)
	}

	n := g.opts.Affiliates
	pending, blocked := 0, 0
	switch {
	case n >= 10:
		pending, blocked = max(1, n*6/100), max(1, n*4/100)
	case n >= 4:
		pending = 1
		if n >= 6 {
			blocked = 1
		}
	}
	usedEmail := map[string]bool{}
	usedCode := map[string]bool{}
	for i := 0; i < n; i++ {
		first := demoFirstNames[i%len(demoFirstNames)]
		last := demoLastNames[(i*7+i/len(demoFirstNames))%len(demoLastNames)]
		name := first + " " + last
		email := demoEmail(first, last, "", demoMailDomains[i%len(demoMailDomains)])
		for k := 2; usedEmail[email]; k++ {
			email = demoEmail(first, last, strconv.Itoa(k), "partners.example.com")
		}
		usedEmail[email] = true
		status := app.StatusActive
		created := start.Add(-time.Duration(1+g.rng.IntN(60*24)) * time.Hour)
		switch {
		case i >= n-pending: // the newest sign-ups wait for approval
			status = app.StatusPending
			created = g.now.Add(-time.Duration(1+g.rng.IntN(10*24)) * time.Hour)
		case i >= n-pending-blocked:
			status = app.StatusBlocked
		}
		af := &demoAff{
			rec:     &store.Affiliate{ID: store.NewID(created), Name: name, Email: email, Status: status, CreatedAt: created},
			weight:  1 / math.Pow(float64(1+g.rng.IntN(n)), 1.1), // a long tail of small partners
			conv:    0.5 + g.rng.Float64(),
			blocked: status == app.StatusBlocked,
		}
		for k := g.rng.IntN(5); k > 0; k-- {
			af.subIDs = append(af.subIDs, demoSubIDs[g.rng.IntN(len(demoSubIDs))])
		}
		base := app.CodeBase(name)
		for k := 2; usedCode[base]; k++ {
			base = app.CodeBase(name) + strconv.Itoa(k)
		}
		usedCode[base] = true
		af.site = "https://" + base + ".example.net/"
		for j, p := range g.programs {
			// Everyone is in the first program; others by their join rate.
			// Pending affiliates have applied to one program only.
			if j > 0 && (status == app.StatusPending || g.rng.Float64() >= p.spec.joinRate) {
				continue
			}
			code := base
			if p.spec.codeTag != "" {
				code = base + "-" + p.spec.codeTag
			}
			p.enrolled = append(p.enrolled, demoEnrollment{aff: af, code: code})
		}
		g.affs = append(g.affs, af)
	}
	for _, p := range g.programs {
		var before, after float64
		for _, e := range p.enrolled {
			if e.aff.rec.Status == app.StatusPending {
				p.cumBefore, p.cumAfter = append(p.cumBefore, before), append(p.cumAfter, after)
				continue
			}
			w := e.aff.weight * (0.5 + g.rng.Float64())
			before += w
			if !e.aff.blocked {
				after += w
			}
			p.cumBefore, p.cumAfter = append(p.cumBefore, before), append(p.cumAfter, after)
		}
		if before == 0 {
			p.cumBefore = nil
		}
		if after == 0 {
			p.cumAfter = nil
		}
	}
	return nil
}

func demoEmail(first, last, suffix, domain string) string {
	local := strings.ToLower(app.CodeBase(asciiFold(first)) + "." + app.CodeBase(asciiFold(last)) + suffix)
	return local + "@" + domain
}

// foldLetters are the letters that carry no combining mark to strip, so
// decomposition alone would drop them: written out as English mail
// providers spell them.
var foldLetters = strings.NewReplacer("ß", "ss", "ẞ", "SS", "Ø", "O", "ø", "o", "Æ", "AE", "æ", "ae",
	"Œ", "OE", "œ", "oe", "Ł", "L", "ł", "l", "Đ", "D", "đ", "d", "Ð", "D", "ð", "d", "Þ", "Th", "þ", "th", "ı", "i")

// asciiFold transliterates a name for an email address: accents go, the
// letters stay ("José Müller" -> "Jose Muller", "Søren" -> "Soren"); an
// email that dropped them ("jos.mller@") reads as a typo.
func asciiFold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, foldLetters.Replace(s))
	if err != nil {
		return s
	}
	return out
}

// busiestActive is the email of the active affiliate with the most
// traffic: the one whose portal the demo's sign-in shows.
func (g *demoGen) busiestActive() string {
	var best *demoAff
	for _, af := range g.affs {
		if af.rec.Status == app.StatusActive && (best == nil || af.weight > best.weight) {
			best = af
		}
	}
	if best == nil {
		return ""
	}
	return best.rec.Email
}

func (g *demoGen) activeAffiliates() int {
	n := 0
	for _, af := range g.affs {
		if af.rec.Status == app.StatusActive {
			n++
		}
	}
	return n
}

// writeAccounts stores programs, affiliates and enrollments.
func (g *demoGen) writeAccounts(affPassword string) error {
	hash, err := app.HashPassword(affPassword) // one bcrypt for every affiliate
	if err != nil {
		return err
	}
	err = g.db.Update(func(tx *store.Tx) error {
		for _, p := range g.programs {
			if err := tx.PutProgram(p.rec); err != nil {
				return err
			}
		}
		for _, af := range g.affs {
			af.rec.PasswordHash = hash
			if err := tx.PutAffiliate(af.rec); err != nil {
				return fmt.Errorf("affiliate %s: %w", af.rec.Email, err)
			}
		}
		for _, p := range g.programs {
			for _, e := range p.enrolled {
				created := e.aff.rec.CreatedAt
				if p.rec.CreatedAt.After(created) {
					created = p.rec.CreatedAt
				}
				en := &store.Enrollment{ProgramID: p.rec.ID, AffiliateID: e.aff.rec.ID, Code: e.code, CreatedAt: created.Add(time.Hour)}
				if err := tx.PutEnrollment(en); err != nil {
					return fmt.Errorf("enrollment %s: %w", e.code, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("demo: write accounts: %w", err)
	}
	return nil
}

// Generation.

// demoBatch is one store operation's worth of records.
type demoBatch struct {
	clicks    []*store.Click
	leads     []*store.Lead
	purchases []*store.Purchase
	units     int
}

func (b *demoBatch) op(tx *store.Tx) error {
	for _, c := range b.clicks {
		if err := tx.InsertClick(c); err != nil {
			return fmt.Errorf("click %s: %w", c.ID, err)
		}
	}
	for _, l := range b.leads {
		if err := tx.InsertLead(l); err != nil {
			return fmt.Errorf("lead %s: %w", l.Email, err)
		}
	}
	for _, p := range b.purchases {
		if err := tx.InsertPurchase(p); err != nil {
			return fmt.Errorf("purchase %s: %w", p.OrderID, err)
		}
		if p.AffiliateID != "" {
			prg, err := tx.Program(p.ProgramID)
			if err != nil {
				return err
			}
			if err := tx.PutCommission(app.NewCommission(prg, p)); err != nil {
				return fmt.Errorf("commission of %s: %w", p.OrderID, err)
			}
		}
	}
	return nil
}

// demoWriter hands batches to the store, a few at a time.
type demoWriter struct {
	db   *store.DB
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
	done func(*demoBatch)
}

func (w *demoWriter) submit(b *demoBatch) error {
	w.sem <- struct{}{}
	if err := w.firstErr(); err != nil {
		<-w.sem
		return err
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		if err := w.db.Update(b.op); err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
			return
		}
		w.done(b)
	}()
	return nil
}

func (w *demoWriter) firstErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *demoWriter) wait() error {
	w.wg.Wait()
	return w.firstErr()
}

func (g *demoGen) generate(ctx context.Context, progress io.Writer, start time.Time) error {
	var written struct {
		sync.Mutex
		clicks, leads, purchases int
		lastPrint                time.Time
	}
	w := &demoWriter{db: g.db, sem: make(chan struct{}, demoInFlight)}
	w.done = func(b *demoBatch) {
		written.Lock()
		defer written.Unlock()
		written.clicks += len(b.clicks)
		written.leads += len(b.leads)
		written.purchases += len(b.purchases)
		if time.Since(written.lastPrint) >= 2*time.Second {
			written.lastPrint = time.Now()
			fmt.Fprintf(progress, "demo: %d/%d clicks, %d/%d leads, %d/%d purchases (%s)\n",
				written.clicks, g.opts.Clicks, written.leads, g.opts.Leads, written.purchases, g.opts.Purchases,
				time.Since(start).Round(100*time.Millisecond))
		}
	}
	written.lastPrint = time.Now()

	b := &demoBatch{}
	flush := func(force bool) error {
		if b.units == 0 || !force && b.units < demoOpUnits {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		g.nClicks += len(b.clicks)
		g.nLeads += len(b.leads)
		g.nPurchases += len(b.purchases)
		if err := w.submit(b); err != nil {
			return err
		}
		b = &demoBatch{}
		return nil
	}
	var err error
	for d := range g.dayW {
		dayStart := g.day0.AddDate(0, 0, d)
		for _, p := range g.programs {
			if p.perDay == nil {
				continue
			}
			for k := 0; k < p.perDay[d] && err == nil; k++ {
				g.click(b, d, dayStart, p)
				err = flush(false)
			}
		}
		for k := 0; k < g.unattributed[d] && err == nil; k++ {
			g.unattributedPurchase(b, dayStart)
			err = flush(false)
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = flush(true)
	}
	if werr := w.wait(); err == nil && werr != nil {
		err = fmt.Errorf("demo: write: %w", werr)
	}
	return err
}

// timeIn picks a moment of the day following the hourly traffic curve,
// never later than now.
func (g *demoGen) timeIn(dayStart time.Time) time.Time {
	end := dayStart.Add(24 * time.Hour)
	if end.After(g.now) {
		end = g.now
	}
	for range 8 {
		h := pickWeighted(g.rng, demoHourWeights)
		t := dayStart.Add(time.Duration(h)*time.Hour + time.Duration(g.rng.Int64N(int64(time.Hour))))
		if t.Before(end) {
			return t.Truncate(time.Millisecond)
		}
	}
	return dayStart.Add(time.Duration(g.rng.Int64N(int64(end.Sub(dayStart)) + 1))).Truncate(time.Millisecond)
}

// after returns base plus a delay drawn by draw, resampled (then clamped) so
// that the result is not in the future.
func (g *demoGen) after(base time.Time, draw func() time.Duration) time.Time {
	for range 4 {
		if t := base.Add(draw()); !t.After(g.now) {
			return t.Truncate(time.Millisecond)
		}
	}
	room := g.now.Sub(base)
	if room <= 0 {
		return base
	}
	return base.Add(time.Duration(g.rng.Int64N(int64(room) + 1))).Truncate(time.Millisecond)
}

func (g *demoGen) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.rng.Int64N(int64(hi-lo)+1))
}

// selected is one step of selection sampling: take this item with a chance
// proportional to what is still needed over what is left (scaled by weight),
// and surely when every remaining item is needed.
func (g *demoGen) selected(need, left int, weight float64) bool {
	if need <= 0 {
		return false
	}
	return need >= left || g.rng.Float64() < weight*float64(need)/float64(left)
}

func (g *demoGen) click(b *demoBatch, day int, dayStart time.Time, p *demoProgram) {
	cum := p.cumAfter
	if day < g.blockDay || cum == nil {
		cum = p.cumBefore
	}
	en := p.enrolled[pickCumulative(g.rng, cum)]
	af := en.aff
	t := g.timeIn(dayStart)
	sub := ""
	if len(af.subIDs) > 0 && g.rng.IntN(10) < 6 {
		sub = af.subIDs[g.rng.IntN(len(af.subIDs))]
	}
	url := p.rec.ReferralLink(en.code)
	if sub != "" {
		url += "&sub=" + sub
	}
	referrer := ""
	switch r := g.rng.IntN(10); {
	case r < 4:
		referrer = af.site + "posts/" + strconv.Itoa(1+g.rng.IntN(40))
	case r < 8:
		referrer = demoReferrers[g.rng.IntN(len(demoReferrers))]
	}
	c := &store.Click{
		ID: store.NewID(t), ProgramID: p.rec.ID, AffiliateID: af.rec.ID, Code: en.code, SubID: sub,
		VisitorID: strconv.FormatUint(g.rng.Uint64(), 36), URL: url, Referrer: referrer,
		IP:        fmt.Sprintf("%s.%d", []string{"192.0.2", "198.51.100", "203.0.113"}[g.rng.IntN(3)], 1+g.rng.IntN(254)),
		UserAgent: demoUserAgents[g.rng.IntN(len(demoUserAgents))], CreatedAt: t,
	}
	b.clicks = append(b.clicks, c)
	b.units++

	isLead := false
	if p.rec.TrackLeads {
		isLead = g.selected(g.leadsNeed, g.eligLeft, af.conv*p.spec.leadConv)
		g.eligLeft--
	}
	if isLead {
		g.clicksLeft--
		g.leadsNeed--
		l := g.lead(c, p)
		b.leads = append(b.leads, l)
		b.units += 3
		buys := g.selected(g.leadBuysNeed, g.leadsLeft, af.conv*p.spec.buyConv)
		g.leadsLeft--
		if buys {
			g.leadBuysNeed--
			pur := g.purchase(p, c, l.CreatedAt, 30*time.Minute)
			pur.LeadID, pur.Email, pur.Name = l.ID, l.Email, l.Name
			l.PurchaseID = pur.ID
			b.purchases = append(b.purchases, pur)
			b.units += 3
		}
		return
	}
	// Not a lead: it may still buy straight away. Non-lead clicks left,
	// this one included, are the clicks left minus the leads still needed.
	buys := g.selected(g.clickBuysNeed, g.clicksLeft-g.leadsNeed, af.conv*p.spec.buyConv)
	g.clicksLeft--
	if buys {
		g.clickBuysNeed--
		pur := g.purchase(p, c, c.CreatedAt, 2*time.Minute)
		pur.Name, pur.Email = g.person()
		b.purchases = append(b.purchases, pur)
		b.units += 3
	}
}

// person invents a customer with a unique email.
func (g *demoGen) person() (name, email string) {
	g.peopleSeq++
	first := demoFirstNames[g.rng.IntN(len(demoFirstNames))]
	last := demoLastNames[g.rng.IntN(len(demoLastNames))]
	return first + " " + last, demoEmail(first, last, strconv.Itoa(g.peopleSeq), demoMailDomains[g.rng.IntN(len(demoMailDomains))])
}

func (g *demoGen) lead(c *store.Click, p *demoProgram) *store.Lead {
	t := g.after(c.CreatedAt, func() time.Duration {
		if g.rng.IntN(10) < 7 {
			return g.between(10*time.Second, 30*time.Minute) // signs up during the visit
		}
		return g.between(time.Hour, 72*time.Hour) // comes back later
	})
	name, email := g.person()
	return &store.Lead{
		ID: store.NewID(t), ProgramID: p.rec.ID, AffiliateID: c.AffiliateID, ReferralID: c.ID, Code: c.Code, SubID: c.SubID,
		Email: email, Name: name, URL: strings.TrimSuffix(strings.SplitN(p.rec.LandingURL, "?", 2)[0], "/") + "/signup",
		VisitorID: c.VisitorID, IP: c.IP, UserAgent: c.UserAgent, CreatedAt: t,
	}
}

// purchase makes a paid (sometimes refunded) attributed purchase through
// click c, some time after base and within the program's cookie window.
func (g *demoGen) purchase(p *demoProgram, c *store.Click, base time.Time, minDelay time.Duration) *store.Purchase {
	window := time.Duration(p.rec.CookieDays) * 24 * time.Hour
	t := g.after(base, func() time.Duration {
		if g.rng.IntN(10) < 3 {
			return g.between(minDelay, 3*time.Hour)
		}
		return g.between(6*time.Hour, min(20*24*time.Hour, window/2))
	})
	pur := g.newPurchase(p, t)
	pur.AffiliateID, pur.ReferralID, pur.Code, pur.SubID, pur.VisitorID = c.AffiliateID, c.ID, c.Code, c.SubID, c.VisitorID
	pur.Commission, _ = app.CommissionFor(p.rec, pur.Amount, pur.Currency)
	return pur
}

// newPurchase fills what every purchase has: order, product, amount, times,
// status (about 5% are refunded a few days later).
func (g *demoGen) newPurchase(p *demoProgram, at time.Time) *store.Purchase {
	g.orderSeq++
	weights := make([]float64, len(p.spec.products))
	for i, pr := range p.spec.products {
		weights[i] = pr.weight
	}
	i := pickWeighted(g.rng, weights)
	created := at.Add(time.Duration(1+g.rng.IntN(4000)) * time.Millisecond)
	if created.After(g.now) {
		created = g.now
	}
	pur := &store.Purchase{
		ID: store.NewID(created), OrderID: fmt.Sprintf("ORD-%07d", 1000000+g.orderSeq), ProgramID: p.rec.ID,
		Product: p.spec.products[i].name, Amount: p.prices[i], Currency: p.rec.Currency,
		Status: "paid", Kind: app.PurchaseSale, PurchasedAt: at, CreatedAt: created,
	}
	if g.rng.IntN(100) < 5 {
		if r := at.Add(g.between(24*time.Hour, 14*24*time.Hour)).Truncate(time.Millisecond); r.Before(g.now) {
			pur.Status, pur.RefundedAt, pur.RefundedAmount = "refunded", r, pur.Amount
		}
	}
	return pur
}

// unattributedPurchase is an order no affiliate referred; about one in
// forty is an affiliate buying through its own link (self-referral).
func (g *demoGen) unattributedPurchase(b *demoBatch, dayStart time.Time) {
	shares := make([]float64, len(g.programs))
	day := int(dayStart.Sub(g.day0).Hours() / 24)
	for i, p := range g.programs {
		if day >= p.spec.startDay {
			shares[i] = p.spec.share
		}
	}
	p := g.programs[pickWeighted(g.rng, shares)]
	pur := g.newPurchase(p, g.timeIn(dayStart))
	pur.Name, pur.Email = g.person()
	if len(p.cumBefore) > 0 && g.rng.IntN(40) == 0 {
		af := p.enrolled[pickCumulative(g.rng, p.cumBefore)].aff
		pur.Name, pur.Email, pur.SelfReferral = af.rec.Name, af.rec.Email, true
	}
	b.purchases = append(b.purchases, pur)
	b.units += 3
}

// Helpers.

// spread splits total into whole numbers proportional to weights that sum
// exactly to total (cumulative rounding). With no positive weight it
// returns zeros.
func spread(total int, weights []float64) []int {
	out := make([]int, len(weights))
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 || total == 0 {
		return out
	}
	acc, prev := 0.0, 0
	for i, w := range weights {
		acc += w
		cur := int(math.Round(float64(total) * acc / sum))
		if i == len(weights)-1 {
			cur = total
		}
		out[i] = cur - prev
		prev = cur
	}
	return out
}

func pickWeighted(rng *rand.Rand, weights []float64) int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	x := rng.Float64() * sum
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// pickCumulative picks an index from cumulative weights (zero-weight
// entries are never picked).
func pickCumulative(rng *rand.Rand, cum []float64) int {
	x := rng.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// payouts gives the money pages something to show: payout details for most
// affiliates, the commissions past their hold approved, one paid payout per
// program but the last, whose payout stays open (processing), and two
// refunds after payment (clawbacks). Recent commissions stay pending and
// refunded purchases' are voided.
func (g *demoGen) payouts(ctx context.Context, progress io.Writer) error {
	for i, af := range g.affs {
		if af.rec.Status != app.StatusActive || i%5 == 4 {
			continue // some have not chosen how to be paid
		}
		method := app.PayoutPayPal
		if i%3 == 2 {
			method = app.PayoutWise
		}
		if _, err := g.a.SetPayoutDetails(af.rec.ID, method, af.rec.Email); err != nil {
			return fmt.Errorf("demo: payout details: %w", err)
		}
	}
	approved, err := g.a.ApproveDueCommissions(ctx)
	if err != nil {
		return fmt.Errorf("demo: approve: %w", err)
	}
	// Which programs have money due depends on today's date (purchases are
	// spread over the last months, holds end at fixed ages), so the payout
	// that stays open is the last one made, not the last program's.
	var created []*app.PayoutView
	for _, p := range g.programs {
		po, err := g.a.CreatePayout(app.PayoutInput{Currency: p.rec.Currency, Minimum: "0", Program: p.rec.ID})
		if app.IsKind(err, app.KindConflict) {
			continue // nothing due in this program
		}
		if err != nil {
			return fmt.Errorf("demo: payout: %w", err)
		}
		created = append(created, po)
	}
	var paid []*app.PayoutView
	for i, po := range created {
		if i == len(created)-1 {
			break // the last stays open
		}
		po, err := g.a.MarkPayoutPaid(po.ID)
		if err != nil {
			return fmt.Errorf("demo: pay: %w", err)
		}
		paid = append(paid, po)
	}
	// Two refunds of purchases already paid out: a full one and a partial one.
	refunds := 0
	for _, po := range paid {
		coms, _, err := g.a.Commissions(app.CommissionFilter{Status: app.CommissionPaid, Program: po.ProgramID}, "", 1)
		if err != nil || len(coms) == 0 {
			continue
		}
		pur, err := g.a.Purchase(coms[0].PurchaseID)
		if err != nil {
			return err
		}
		amount := ""
		if refunds == 1 {
			amount = money.Format(pur.Amount/2, pur.Currency)
		}
		if _, err := g.a.RefundPurchase(pur.ID, amount); err != nil {
			return fmt.Errorf("demo: refund: %w", err)
		}
		if refunds++; refunds == 2 {
			break
		}
	}
	fmt.Fprintf(progress, "demo: %d commissions approved, %d payouts paid, %d refunds after payment\n", approved, len(paid), refunds)
	return nil
}
