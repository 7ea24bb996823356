package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/web"
	"github.com/spiffy/spiffy/store"
)

// BenchmarkTrackClick measures POST /t/click through the real router and
// store, with many concurrent clients so the writer can batch, with fsync
// off (as in tests) and on (as in production, where throughput grows with
// the number of requests in flight: one fsync per batch).
//
//	go test ./app/web -run '^$' -bench TrackClick -benchmem -cpu 2
func BenchmarkTrackClick(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name(), func(b *testing.B) {
			_, db, srv := benchServer(b, bc.sync, nil)
			runTracking(b, db, srv, bc.clients, http.StatusCreated, `"referral":"`, "clicks/s", func(i int64) *http.Request {
				body := `{"ref":"ANN","sub":"spring","url":"https://shop.example.com/?ref=ann","referrer":"https://blog.example/post","vid":"v` +
					strconv.FormatInt(i, 36) + `abcdefghijklmnop"}`
				return trackingRequest("/t/click", body, i)
			})
		})
	}
}

// BenchmarkTrackLead measures POST /t/lead as SpiffyJS sends it: a new
// email each time, with the referral of a click made beforehand, so each
// lead takes the whole path (lead, its indexes and search keys, roll-up
// and tallies).
//
//	go test ./app/web -run '^$' -bench TrackLead -benchmem -cpu 2
func BenchmarkTrackLead(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name(), func(b *testing.B) {
			a, db, srv := benchServer(b, bc.sync, nil)
			ref, _ := benchReferral(b, a)
			runTracking(b, db, srv, bc.clients, http.StatusCreated, `"attributed":true`, "leads/s", func(i int64) *http.Request {
				body := `{"email":"visitor` + strconv.FormatInt(i, 36) + `@mail.example","name":"Pat Visitor","referral":"` + ref +
					`","vid":"vabcdefghijklmnop","url":"https://shop.example.com/signup"}`
				return trackingRequest("/t/lead", body, i)
			})
		})
	}
}

// BenchmarkAPIPurchase measures POST /api/v1/purchases as a merchant's
// checkout sends it: a new order each time, attributed by the referral of
// a click made beforehand, so each purchase writes its commission, indexes,
// search keys, roll-up and tallies.
//
//	go test ./app/web -run '^$' -bench APIPurchase -benchmem -cpu 2
func BenchmarkAPIPurchase(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name(), func(b *testing.B) {
			a, db, srv := benchServer(b, bc.sync, nil)
			ref, program := benchReferral(b, a)
			_, secret, err := a.CreateAPIKey("bench")
			if err != nil {
				b.Fatal(err)
			}
			runTracking(b, db, srv, bc.clients, http.StatusCreated, `"affiliate":"`, "purchases/s", func(i int64) *http.Request {
				body := `{"order_id":"ord-` + strconv.FormatInt(i, 36) + `","program":"` + program + `","email":"buyer` + strconv.FormatInt(i, 36) +
					`@mail.example","name":"Pat Buyer","product":"Pro plan","amount":"49.00","currency":"USD","referral":"` + ref + `"}`
				req := httptest.NewRequest(http.MethodPost, "/api/v1/purchases", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+secret)
				req.RemoteAddr = "203.0.113.7:4000"
				return req
			})
		})
	}
}

// benchCase is one run of a web benchmark: fsync on or off, and how many
// requests each core keeps in flight.
type benchCase struct {
	sync    bool
	clients int // concurrent requests per core
}

func (bc benchCase) name() string {
	return "sync=" + strconv.FormatBool(bc.sync) + "/clients=" + strconv.Itoa(bc.clients)
}

var benchCases = []benchCase{{false, 64}, {true, 1}, {true, 64}, {true, 512}}

// trackingRequest is a SpiffyJS post (text/plain, as sendBeacon sends it)
// from one of 200 visitors' addresses.
func trackingRequest(path, body string, i int64) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", "https://shop.example.com")
	req.RemoteAddr = "198.51.100." + strconv.FormatInt(i%200, 10) + ":4000"
	return req
}

// runTracking sends b.N requests built by newRequest through the router
// from clients goroutines per core, failing on any status but want or an
// answer without wantBody (so an unattributed lead or purchase, which
// writes less, cannot pass for one), and reports the writer's batch size
// and the rate as unit.
func runTracking(b *testing.B, db *store.DB, srv *web.Server, clients, want int, wantBody, unit string, newRequest func(i int64) *http.Request) {
	var n atomic.Int64
	batches0, ops0 := db.WriterStats()
	b.SetParallelism(clients)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := newRequest(n.Add(1))
			rec := httptest.NewRecorder()
			srv.Echo.ServeHTTP(rec, req)
			if rec.Code != want || !bytes.Contains(rec.Body.Bytes(), []byte(wantBody)) {
				b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
		}
	})
	b.StopTimer()
	if batches, ops := db.WriterStats(); batches > batches0 {
		b.ReportMetric(float64(ops-ops0)/float64(batches-batches0), "writes/batch")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// benchReferral is the referral id of a click on Ann's link, for the
// leads and purchases to be attributed by, and its program's id.
func benchReferral(b *testing.B, a *app.App) (referral, program string) {
	b.Helper()
	res, err := a.TrackClick(app.ClickInput{Ref: "ann", VID: "vbenchvisitor0001", IP: "198.51.100.1"})
	if err != nil {
		b.Fatal(err)
	}
	return res.Referral, res.Program
}

// benchServer is an App and its server over a fresh store (fsynced when
// sync), the tracking rate limit off, with a program "Shop" (20%, Track
// Leads on) and Ann enrolled under the code "ann": the fixture of the web benchmarks.
func benchServer(b *testing.B, sync bool, configure func(*config.Config)) (*app.App, *store.DB, *web.Server) {
	b.Helper()
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.Tracking.RateLimit = 1e9
	if configure != nil {
		configure(&cfg)
	}
	db, err := store.Open(store.Options{Dir: cfg.DBDir(), SyncWrites: sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	a, err := app.New(app.Options{Config: cfg, Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Stop)
	prg, err := a.CreateProgram(app.ProgramInput{Name: new("Shop"), LandingURL: new("https://shop.example.com/"), CommissionValue: new("20"), TrackLeads: new(true)})
	if err != nil {
		b.Fatal(err)
	}
	af, _, err := a.CreateAffiliate(app.AffiliateInput{Name: new("Ann"), Email: new("ann@partner.example")})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := a.Enroll(prg.ID, af.ID, "ann"); err != nil {
		b.Fatal(err)
	}
	return a, db, web.NewServer(a)
}
