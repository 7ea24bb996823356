package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The merchant's views at scale, measured from outside (issue 17, part 3):
// -target views seeds leads through /t/lead and affiliates through the API
// of a spiffy it starts, then times what a merchant waits for, one request
// at a time: the Leads and Purchases pages and their email-prefix
// searches, the dashboard, the last pages of the Affiliates list, the
// leads CSV over HTTP (rows/s and the server's RSS growth), purchases
// through the API at that size (48 clients: half attributed by referral,
// half by a lead's email, 5% refunded), and clicks while an export
// streams. -data-dir keeps the seeded store for the next run, which then
// skips the seeding.

const (
	viewsPrograms      = 3
	viewsAdminEmail    = "admin@loadgen.example.com"
	viewsAdminPassword = "loadgen-admin-password"
	viewsFixtureFile   = "loadgen-views.json"
	viewsSeedConns     = 64
	viewsPurchaseConns = 48
	viewsRepeats       = 25 // timings per view
	viewsSeedLimit     = time.Hour
)

// viewsGoals are issue 17's goals for this run.
const (
	viewsGoalP99         = 20 * time.Millisecond
	viewsGoalCSVRowsPerS = 250_000
	viewsGoalCSVRSSMiB   = 64
	viewsGoalPurchases   = 3000
	viewsGoalClickP99    = 50 * time.Millisecond
)

// firstNames are the leads' email words: each is shared by 1/len of the
// leads, so a search for one is the "word shared by 1% of leads".
var firstNames = strings.Fields(`ada alan anna arthur bea ben bruno carla chen chloe dan dara
	diego elena eli emma erik eva felix fiona finn gala gus hana hugo ida igor ines ivan jack jana
	jon josh julia kai kara karl kim lara leo lena liam lina luca lucy luis maja mara mario maya
	mia mila nadia nina noah nora olga omar otto paul pia quinn rafa rita rosa ruth sam sara sean
	sofia sven tara teo tina tom uma una vera vince wanda will xena yara yuri zara zeno zoe abel
	cora dina edda fred gwen hal iris jude kurt lise milo nell`)

// viewsFixture is what the seeding made; kept in the data dir so a later
// run on the same store can skip the seeding.
type viewsFixture struct {
	Programs   []string `json:"programs"`
	Refs       []string `json:"refs"`        // one click's referral per affiliate
	RefProgram []int    `json:"ref_program"` // index into Programs of each ref
	Affiliates int      `json:"affiliates"`
	Leads      int      `json:"leads"`
	Run        string   `json:"run"`
}

// leadEmail is the i-th seeded lead's email; its referral is
// Refs[i%len(Refs)].
func (f *viewsFixture) leadEmail(i int) string {
	return firstNames[i%len(firstNames)] + "." + strconv.FormatInt(int64(i), 36) + "@" + f.Run + ".example.com"
}

func (e *environment) viewsRun() error {
	if e.spiffy == nil {
		return errors.New("-target views needs -spiffy (it signs in to the admin it creates)")
	}
	fx, err := e.viewsSeed()
	if err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar, Timeout: 60 * time.Second, Transport: bearerForAPI{e.apiKey},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if err := e.viewsSignIn(admin); err != nil {
		return err
	}
	if err := e.viewsPages(admin, fx); err != nil {
		return err
	}
	if err := e.viewsPurchases(fx); err != nil {
		return err
	}
	// The pages again, now that there are purchases to list and search.
	if err := e.viewsPurchasePages(admin); err != nil {
		return err
	}
	if err := e.viewsExport(); err != nil {
		return err
	}
	if len(e.failures) > 0 && !e.opts.noFail {
		return &failedTargets{n: len(e.failures)}
	}
	return nil
}

// viewsSeed makes the programs, affiliates, clicks and leads, or reads
// what an earlier run on the same data dir made.
func (e *environment) viewsSeed() (*viewsFixture, error) {
	path := filepath.Join(e.dataDir, viewsFixtureFile)
	if b, err := os.ReadFile(path); err == nil {
		fx := &viewsFixture{}
		if err := json.Unmarshal(b, fx); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		fmt.Printf("reusing the seeded store: %d leads, %d affiliates, %d programs\n\n", fx.Leads, fx.Affiliates, len(fx.Programs))
		return fx, nil
	}
	fx := &viewsFixture{Run: strconv.FormatInt(time.Now().UnixMilli()%1e9, 36), Leads: e.opts.leads, Affiliates: e.opts.affiliates}
	for i := range viewsPrograms {
		var prg struct{ ID string }
		if err := e.api("POST", "/api/v1/programs", map[string]any{
			"name": fmt.Sprintf("Program %d", i+1), "landing_url": "https://shop.example.com/", "track_leads": true,
			"commission_type": "percent", "commission_value": "30",
		}, &prg); err != nil {
			return nil, err
		}
		fx.Programs = append(fx.Programs, prg.ID)
	}
	start := time.Now()
	fx.Refs = make([]string, fx.Affiliates)
	fx.RefProgram = make([]int, fx.Affiliates)
	var failed atomic.Pointer[error]
	parallel(16, fx.Affiliates, func(i int) {
		if failed.Load() != nil {
			return
		}
		if err := e.viewsAffiliate(fx, i); err != nil {
			failed.CompareAndSwap(nil, &err)
		}
	})
	if p := failed.Load(); p != nil {
		return nil, *p
	}
	fmt.Printf("seeded %d affiliates (created, enrolled, one click each) in %s\n", fx.Affiliates, time.Since(start).Round(time.Second))

	addr := strings.TrimPrefix(e.baseURL, "http://")
	perConn := (fx.Leads + viewsSeedConns - 1) / viewsSeedConns
	build := func() requestFunc {
		body := make([]byte, 0, 512)
		return func(b []byte, w, n int) []byte {
			i := w*perConn + n
			if i >= fx.Leads {
				i = fx.Leads - 1 // the last worker's tail repeats one email: answered 200, nothing added
			}
			body = append(body[:0], `{"email":"`...)
			body = append(body, fx.leadEmail(i)...)
			body = append(body, `","name":"Seed Lead","url":"https://shop.example.com/signup","referral":"`...)
			body = append(body, fx.Refs[i%len(fx.Refs)]...)
			body = append(body, `"}`...)
			b = append(b, "POST /t/lead HTTP/1.1\r\nHost: "...)
			b = append(b, addr...)
			b = append(b, "\r\nContent-Type: text/plain;charset=UTF-8\r\nOrigin: https://shop.example.com\r\nContent-Length: "...)
			b = strconv.AppendInt(b, int64(len(body)), 10)
			b = append(b, "\r\n\r\n"...)
			return append(b, body...)
		}
	}
	start = time.Now()
	res, elapsed := runLoad(addr, viewsSeedConns, viewsSeedLimit, perConn, false, build, nil)
	if res.ok < int64(fx.Leads) {
		return nil, fmt.Errorf("seeding leads: %d of %d stored in %s", res.ok, fx.Leads, elapsed.Round(time.Second))
	}
	if res.bad > 0 || res.netErrs > 0 {
		return nil, fmt.Errorf("seeding leads: %d non-2xx, %d network errors; first: %v %s", res.bad, res.netErrs, res.firstErr, res.firstBody)
	}
	fmt.Printf("seeded %d leads through /t/lead in %s (%.0f/s, p99 %s)\n\n", res.ok, elapsed.Round(time.Second),
		float64(res.ok)/elapsed.Seconds(), ms(res.hist.quantile(0.99)))
	b, _ := json.Marshal(fx)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	return fx, nil
}

// viewsAffiliate creates the i-th affiliate (no password: an invite, as a
// merchant adds one), enrols it in one program and records one click.
func (e *environment) viewsAffiliate(fx *viewsFixture, i int) error {
	var aff struct{ ID string }
	name := firstNames[i%len(firstNames)]
	if err := e.api("POST", "/api/v1/affiliates", map[string]any{
		"name":  strings.ToUpper(name[:1]) + name[1:] + " Partner " + strconv.Itoa(i),
		"email": fmt.Sprintf("%s.partner%d@%s.partners.example.com", name, i, fx.Run),
	}, &aff); err != nil {
		return err
	}
	p := i % len(fx.Programs)
	var enr struct{ Code string }
	if err := e.api("POST", "/api/v1/programs/"+fx.Programs[p]+"/affiliates", map[string]any{
		"affiliate_id": aff.ID, "code": fmt.Sprintf("v%s%d", fx.Run, i),
	}, &enr); err != nil {
		return err
	}
	var click struct{ Referral string }
	if err := e.post("/t/click", "", map[string]any{"ref": enr.Code, "vid": fmt.Sprintf("vseed%d", i)}, &click); err != nil {
		return err
	}
	fx.Refs[i], fx.RefProgram[i] = click.Referral, p
	return nil
}

// parallel runs fn(0..n-1) on k goroutines.
func parallel(k, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// bearerForAPI signs the admin client's /api/ requests with the API key;
// pages go with the session cookie alone.
type bearerForAPI struct{ key string }

func (b bearerForAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.key)
	}
	return http.DefaultTransport.RoundTrip(r)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// viewsSignIn signs the admin in, as a browser does: the form's CSRF token,
// then the post.
func (e *environment) viewsSignIn(c *http.Client) error {
	page, _, err := get(c, e.baseURL+"/login")
	if err != nil {
		return err
	}
	m := csrfInput.FindSubmatch(page)
	if m == nil {
		return errors.New("no CSRF token on /login")
	}
	resp, err := c.PostForm(e.baseURL+"/login", url.Values{"email": {viewsAdminEmail}, "password": {viewsAdminPassword}, "csrf": {html.UnescapeString(string(m[1]))}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return fmt.Errorf("admin sign-in: %s", resp.Status)
	}
	return nil
}

// get fetches one page and times it to the last byte.
func get(c *http.Client, u string) ([]byte, time.Duration, error) {
	start := time.Now()
	resp, err := c.Get(u)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return b, took, err
}

var nextLink = regexp.MustCompile(`<a [^>]*rel="next"[^>]*>`)
var hrefAttr = regexp.MustCompile(`href="([^"]+)"`)

// nextPage is the page's rel="next" link, or "".
func nextPage(page []byte) string {
	a := nextLink.Find(page)
	if a == nil {
		return ""
	}
	m := hrefAttr.FindSubmatch(a)
	if m == nil {
		return ""
	}
	return html.UnescapeString(string(m[1]))
}

// timings collects one view's latencies.
type timings struct {
	name string
	d    []time.Duration
}

func (t *timings) add(d time.Duration) { t.d = append(t.d, d) }

func (t *timings) quantile(q float64) time.Duration {
	s := slices.Clone(t.d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// report prints the view's figures and checks the goal.
func (e *environment) report(t *timings) {
	p99 := t.quantile(0.99)
	fmt.Printf("%-58s n %4d  p50 %8s  p99 %8s  max %8s\n", t.name, len(t.d), ms(t.quantile(0.5)), ms(p99), ms(t.quantile(1)))
	e.check(t.name+" p99 ≤ 20 ms", p99 <= viewsGoalP99, ms(p99))
}

// viewsPages times the leads views, the dashboard and the affiliates list.
func (e *environment) viewsPages(c *http.Client, fx *viewsFixture) error {
	today := time.Now().UTC()
	from, to := today.AddDate(0, 0, -29).Format("2006-01-02"), today.Format("2006-01-02")
	fmt.Printf("views, one request at a time (%d each):\n", viewsRepeats)
	// Each timed view names a page; pages of a search are followed by their
	// "Next page" links, the way a merchant pages through them.
	type view struct {
		name  string
		urls  func(i int) string
		pages int
	}
	vs := []view{
		{"leads page", func(int) string { return "/leads" }, 1},
		{"leads, pages 1-5", func(int) string { return "/leads" }, 5},
		{"leads, program + last 30 days", func(i int) string {
			return "/leads?" + url.Values{"program": {fx.Programs[i%len(fx.Programs)]}, "from": {from}, "to": {to}}.Encode()
		}, 1},
		{"leads, q=<word of 1%> + program + 30 days, pages 1-3", func(i int) string {
			return "/leads?" + url.Values{"q": {firstNames[(i*7)%len(firstNames)]}, "program": {fx.Programs[i%len(fx.Programs)]}, "from": {from}, "to": {to}}.Encode()
		}, 3},
		{"leads, q=<word of 1%>, pages 1-3", func(i int) string {
			return "/leads?" + url.Values{"q": {firstNames[(i*11)%len(firstNames)]}}.Encode()
		}, 3},
		{"leads, q=<one email>", func(i int) string {
			return "/leads?" + url.Values{"q": {fx.leadEmail((i * 7919) % fx.Leads)}}.Encode()
		}, 1},
		{"leads, q=<two letters>", func(i int) string {
			return "/leads?" + url.Values{"q": {firstNames[i%len(firstNames)][:2]}}.Encode()
		}, 1},
		{"API leads, q=<word of 1%> + program", func(i int) string {
			return "/api/v1/leads?" + url.Values{"q": {firstNames[(i*13)%len(firstNames)]}, "program": {fx.Programs[i%len(fx.Programs)]}}.Encode()
		}, 1},
		{"dashboard, 90 days", func(int) string {
			return "/dashboard?" + url.Values{"from": {today.AddDate(0, 0, -89).Format("2006-01-02")}, "to": {to}}.Encode()
		}, 1},
		{"affiliates, q=<word of 1%>", func(i int) string {
			return "/affiliates?" + url.Values{"q": {firstNames[(i*3)%len(firstNames)]}}.Encode()
		}, 1},
	}
	for _, v := range vs {
		if err := e.timeView(c, v.name, v.urls, v.pages); err != nil {
			return err
		}
	}
	return e.timeAffiliatesToTheEnd(c)
}

// timeView fetches a view viewsRepeats times (each time with urls(i)),
// following its next links up to pages pages, and reports every page.
func (e *environment) timeView(c *http.Client, name string, urls func(i int) string, pages int) error {
	t := &timings{name: name}
	for i := range viewsRepeats {
		u := urls(i)
		for p := 0; p < pages && u != ""; p++ {
			page, took, err := get(c, e.baseURL+u)
			if err != nil {
				return err
			}
			t.add(took)
			u = nextPage(page)
		}
	}
	e.report(t)
	return nil
}

// timeAffiliatesToTheEnd pages the whole Affiliates list and times its
// last ten pages, read again viewsRepeats/5 times.
func (e *environment) timeAffiliatesToTheEnd(c *http.Client) error {
	var urls []string
	for u := "/affiliates"; u != ""; {
		urls = append(urls, u)
		page, _, err := get(c, e.baseURL+u)
		if err != nil {
			return err
		}
		u = nextPage(page)
	}
	last := urls[max(0, len(urls)-10):]
	t := &timings{name: fmt.Sprintf("affiliates, last 10 of %d pages", len(urls))}
	for range max(1, viewsRepeats/5) {
		for _, u := range last {
			_, took, err := get(c, e.baseURL+u)
			if err != nil {
				return err
			}
			t.add(took)
		}
	}
	e.report(t)
	return nil
}

// viewsPurchasePages times the purchase views once purchases exist.
func (e *environment) viewsPurchasePages(c *http.Client) error {
	for _, v := range []struct {
		name string
		url  func(i int) string
	}{
		{"purchases page", func(int) string { return "/purchases" }},
		{"purchases, q=<word of 1%> + status paid", func(i int) string {
			return "/purchases?" + url.Values{"q": {firstNames[(i*5)%len(firstNames)]}, "status": {"paid"}}.Encode()
		}},
		{"purchases, refunded", func(int) string { return "/purchases?status=refunded" }},
	} {
		if err := e.timeView(c, v.name, v.url, 2); err != nil {
			return err
		}
	}
	return nil
}

// viewsPurchases sends purchases through the API from 48 clients for the
// run's duration: even ones carry a seeded referral, odd ones only a
// seeded lead's email (attributed by the lead), and every 20th is refunded
// right after. Latency and throughput count the purchases, not the refunds.
func (e *environment) viewsPurchases(fx *viewsFixture) error {
	addr := strings.TrimPrefix(e.baseURL, "http://")
	run := e.generation(fx.Run + strconv.FormatInt(time.Now().UnixNano()%1e6, 36))
	results := make([]result, viewsPurchaseConns)
	var refunds, unattributed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	s := startSampler(e.pid)
	start := time.Now()
	for w := range viewsPurchaseConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[w]
			r.statuses = map[int]int64{}
			c, err := dial(addr)
			if err != nil {
				r.noteErr(err)
				return
			}
			defer c.close()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				body := e.purchaseBody(fx, run, w, n)
				t0 := time.Now()
				status, answer, _, err := c.roundTrip(e.apiRequest(addr, "/api/v1/purchases", body))
				if err != nil {
					r.noteErr(err)
					return
				}
				r.hist.add(time.Since(t0))
				r.record(status, answer, nil)
				var p struct {
					ID        string
					Affiliate *string
				}
				if json.Unmarshal(answer, &p) != nil || p.ID == "" {
					continue
				}
				if p.Affiliate == nil {
					unattributed.Add(1)
				}
				if n%20 == 19 {
					status, answer, _, err = c.roundTrip(e.apiRequest(addr, "/api/v1/purchases/"+p.ID+"/refund", []byte("{}")))
					if err != nil || status != http.StatusOK {
						r.noteErr(fmt.Errorf("refund: %d %s %v", status, answer, err))
						return
					}
					refunds.Add(1)
				}
			}
		}()
	}
	time.Sleep(e.opts.duration)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	cpu, peak, _ := s.finish()
	res := mergeResults(results)
	rps := float64(res.ok) / elapsed.Seconds()
	fmt.Printf("\npurchases through the API at %d leads, %d clients: %.0f/s  ok %d  non-2xx %d  net-err %d  unattributed %d  refunds %d  p50 %s  p99 %s  server cpu %.0f%% (%.0f µs/purchase)  peak RSS %s\n",
		fx.Leads, viewsPurchaseConns, rps, res.ok, res.bad, res.netErrs, unattributed.Load(), refunds.Load(),
		ms(res.hist.quantile(0.5)), ms(res.hist.quantile(0.99)), cpu, float64(s.cpuUsed.Microseconds())/float64(max(res.ok, 1)), mib(peak.RSS))
	if res.bad > 0 || res.netErrs > 0 {
		fmt.Printf("  statuses %v; first error: %v; first bad answer: %s\n", res.statuses, res.firstErr, res.firstBody)
	}
	e.check("purchases at 1M leads ≥ 3,000/s", rps >= viewsGoalPurchases, fmt.Sprintf("%.0f/s", rps))
	return nil
}

// purchaseBody is worker w's n-th purchase: by referral (even n) or by a
// seeded lead's email in that lead's program (odd n).
func (e *environment) purchaseBody(fx *viewsFixture, run string, w, n int) []byte {
	i := (w*1_000_003 + n*7919) % fx.Leads
	ref := i % len(fx.Refs)
	p := map[string]any{
		"order_id": fmt.Sprintf("v-%s-%d-%d", run, w, n), "program": fx.Programs[fx.RefProgram[ref]],
		"product": "Pro", "amount": "49.00", "currency": "USD", "name": "Seed Buyer",
	}
	if n%2 == 0 {
		p["referral"], p["email"] = fx.Refs[ref], fmt.Sprintf("buyer.%s.%d.%d@example.com", run, w, n)
	} else {
		p["email"] = fx.leadEmail(i)
	}
	b, _ := json.Marshal(p)
	return b
}

func (e *environment) apiRequest(host, path string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, host, e.apiKey, len(body))
	b.Write(body)
	return b.Bytes()
}

// viewsExport streams the whole leads CSV: as curl fetches it (no
// compression; the goal), as a browser does (gzip), then again with
// clicks arriving open-loop meanwhile (their latency).
func (e *environment) viewsExport() error {
	var took time.Duration
	for _, enc := range []string{"identity", "gzip"} {
		before, _ := memory(e.pid)
		s := startSampler(e.pid)
		rows, d, size, err := e.exportLeads(enc)
		if err != nil {
			return err
		}
		cpu, peak, _ := s.finish()
		rate := float64(rows) / d.Seconds()
		growth := peak.RSS - before.RSS
		fmt.Printf("\nGET /api/v1/leads.csv (Accept-Encoding: %s): %d rows, %.1f MB sent, in %s: %.0f rows/s; server cpu %.0f%% (%.2f µs/row); RSS %s before, peak %s (growth %s)\n",
			enc, rows, float64(size)/1e6, d.Round(time.Millisecond), rate, cpu, float64(s.cpuUsed.Microseconds())/float64(max(rows, 1)), mib(before.RSS), mib(peak.RSS), mib(growth))
		if enc == "identity" {
			took = d
			e.check("leads CSV ≥ 250k rows/s", rate >= viewsGoalCSVRowsPerS, fmt.Sprintf("%.0f rows/s", rate))
			e.check("leads CSV RSS growth ≤ 64 MiB", growth <= viewsGoalCSVRSSMiB*1024, mib(growth))
		}
	}

	addr, build, err := e.builder("click", false)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { _, _, _, err := e.exportLeads("identity"); done <- err }()
	time.Sleep(200 * time.Millisecond) // the export is streaming
	const clickRate = 1000
	res, _ := runOpenLoop(addr, clickRate, min(e.opts.duration, max(took-time.Second, time.Second)), 64, build, nil)
	if err := <-done; err != nil {
		return err
	}
	p99 := res.hist.quantile(0.99)
	fmt.Printf("clicks at %d/s open-loop while the CSV streams: ok %d  non-2xx %d  p50 %s  p99 %s  p99.9 %s\n",
		clickRate, res.ok, res.bad, ms(res.hist.quantile(0.5)), ms(p99), ms(res.hist.quantile(0.999)))
	e.check("click p99 ≤ 50 ms during an export", p99 <= viewsGoalClickP99 && res.bad == 0, ms(p99))
	return nil
}

// exportLeads streams GET /api/v1/leads.csv with the given
// Accept-Encoding and counts its rows and the bytes that came over the wire.
func (e *environment) exportLeads(encoding string) (rows int, took time.Duration, wire int64, err error) {
	req, _ := http.NewRequest("GET", e.baseURL+"/api/v1/leads.csv", nil)
	req.Header.Set("Authorization", "Bearer "+e.apiKey)
	req.Header.Set("Accept-Encoding", encoding) // set by hand, so not decoded by the transport
	start := time.Now()
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, 0, fmt.Errorf("leads.csv: %s", resp.Status)
	}
	counted := &countingReader{r: resp.Body}
	body := io.Reader(counted)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(counted)
		if err != nil {
			return 0, 0, 0, err
		}
		body = zr
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := body.Read(buf)
		rows += bytes.Count(buf[:n], []byte{'\n'})
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, 0, err
		}
	}
	return rows - 1, time.Since(start), counted.n, nil // less the header
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// createAdmin adds the admin the views run signs in as (the CLI needs the
// data dir to itself, so before the server starts).
func createAdmin(bin, dir string) error {
	cmd := exec.Command(bin, "admin", "create", "--email", viewsAdminEmail, "--data-dir", dir)
	cmd.Stdin = strings.NewReader(viewsAdminPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("spiffy admin create: %v: %s", err, out)
	}
	return nil
}
