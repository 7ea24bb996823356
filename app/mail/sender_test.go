package mail_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/mail"
	"github.com/spiffy/spiffy/app/mail/mailtest"
	"github.com/spiffy/spiffy/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newSender builds a sender over a fresh store, set up for srv.
func newSender(t *testing.T, srv *mailtest.Server) (*mail.Sender, *store.DB, *clock) {
	return newSenderTB(t, srv)
}

func newSenderTB(t testing.TB, srv *mailtest.Server) (*mail.Sender, *store.DB, *clock) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(store.Options{Dir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var cfg config.Config
	srv.Configure(&cfg)
	st := mail.Settings{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
		FromAddress: cfg.SMTP.FromAddress, Owner: cfg.SMTP.FromName, TLS: cfg.SMTP.TLS, Timeout: 5 * time.Second}
	if cfg.SMTP.CAFile != "" {
		if st.RootCAs, err = mail.LoadCAFile(cfg.SMTP.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	s, err := mail.New(db, mail.Options{Settings: st, BaseURL: "https://aff.acme.example", Clock: c, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s, db, c
}

func queue(t *testing.T, db *store.DB, c *clock, m *store.Mail) *store.Mail {
	return queueTB(t, db, c, m)
}

func queueTB(t testing.TB, db *store.DB, c *clock, m *store.Mail) *store.Mail {
	t.Helper()
	m.ID, m.Status, m.NextAttemptAt, m.CreatedAt = store.NewID(c.Now()), store.MailQueued, c.Now(), c.Now()
	if err := db.Update(func(tx *store.Tx) error { return tx.PutMail(m) }); err != nil {
		t.Fatal(err)
	}
	return m
}

func stored(t *testing.T, db *store.DB, id string) *store.Mail {
	t.Helper()
	var m *store.Mail
	if err := db.View(func(tx *store.Tx) (err error) { m, err = tx.Mail(id); return }); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEveryKindRenders(t *testing.T) {
	s, _, _ := newSender(t, mailtest.Down(t))
	data := map[string]string{"name": "Paula", "link": "https://aff.acme.example/x", "days": "7", "minutes": "60",
		"program": "Acme", "amount": "49.00 USD", "commissions": "2", "method": "PayPal", "url": "https://hooks.example/x",
		"reason": "Last error: 503.", "email": "paula@example.com", "invited_by": "owner@acme.example", "sent_by": "owner@acme.example"}
	for _, kind := range mail.Kinds() {
		m := &store.Mail{Kind: kind, To: "paula@example.com", Data: data}
		if mail.Optional(kind) {
			m.Unsubscribe = "https://aff.acme.example/portal/unsubscribe/tok"
		}
		r, err := s.Render(m)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if r.Subject == "" || strings.Contains(r.Text+r.HTML, "<no value>") || !strings.Contains(r.HTML, "Acme Partners") {
			t.Errorf("%s: subject %q, text %q, html %q", kind, r.Subject, r.Text, r.HTML)
		}
		if mail.Optional(kind) && !strings.Contains(r.HTML, "/portal/unsubscribe/tok") {
			t.Errorf("%s: optional mail without an unsubscribe link: %s", kind, r.HTML)
		}
	}
	// A field the template needs and the data lacks is an error, not a
	// mail saying "<no value>".
	if _, err := s.Render(&store.Mail{Kind: mail.KindInvite, To: "x@example.com"}); err == nil {
		t.Fatal("rendered an invite without its link")
	}
}

func TestSendsOverSTARTTLSWithHeadersAndParts(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("spiffy", "s3cret"))
	s, db, c := newSender(t, srv)
	m := queue(t, db, c, &store.Mail{Kind: mail.KindPayoutPaid, To: "paula@example.com", AffiliateID: "aff",
		Unsubscribe: "https://aff.acme.example/portal/unsubscribe/tok",
		Data:        map[string]string{"name": "Paula", "amount": "49.00 USD", "commissions": "2", "program": "", "method": "", "link": "https://aff.acme.example/portal"}})
	if err := s.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor("paula@example.com", "paid you 49.00 USD")
	h := got.Header
	if want := "<" + strings.ToLower(m.ID) + "@acme.example>"; h.Get("Message-Id") != want {
		t.Errorf("Message-ID %q, want %q", h.Get("Message-Id"), want)
	}
	if h.Get("List-Unsubscribe") != "<https://aff.acme.example/portal/unsubscribe/tok>" || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("unsubscribe headers: %q, %q", h.Get("List-Unsubscribe"), h.Get("List-Unsubscribe-Post"))
	}
	if !strings.Contains(h.Get("From"), "Acme Partners") || !strings.Contains(h.Get("From"), "partners@acme.example") {
		t.Errorf("From %q", h.Get("From"))
	}
	if !strings.Contains(got.Text, "Acme Partners has paid you 49.00 USD") || !strings.Contains(got.HTML, "<strong>49.00 USD</strong>") {
		t.Errorf("parts: text %q html %q", got.Text, got.HTML)
	}
	after := stored(t, db, m.ID)
	if after.Status != store.MailSent || after.SentAt == nil || after.Data != nil || after.Subject == "" {
		t.Fatalf("after sending: %+v", after)
	}
	if st := s.Stats(); st.Sent != 1 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	// A second pass sends nothing again.
	if err := s.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages after a second pass, want 1", n)
	}
}

func TestRetriesWithBackoffUntilTheServerIsBack(t *testing.T) {
	srv := mailtest.Down(t)
	s, db, c := newSender(t, srv)
	m := queue(t, db, c, &store.Mail{Kind: mail.KindTest, To: "owner@acme.example", Data: map[string]string{"sent_by": "owner@acme.example"}})
	if err := s.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := stored(t, db, m.ID)
	if got.Status != store.MailQueued || got.Tries != 1 || got.LastError == "" || !got.NextAttemptAt.Equal(c.Now().Add(10*time.Second)) {
		t.Fatalf("after a refused connection: %+v", got)
	}
	srv.Up()
	// Not due yet: nothing is sent before the backoff has passed.
	if err := s.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("sent %d before its retry time", n)
	}
	c.Add(10 * time.Second)
	if err := s.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.WaitFor("owner@acme.example", "Test message")
	if got := stored(t, db, m.ID); got.Status != store.MailSent || got.Tries != 2 {
		t.Fatalf("after the retry: %+v", got)
	}
}

func TestGivesUpOnARefusedRecipientAndAfterTheLastRetry(t *testing.T) {
	srv := mailtest.Start(t)
	srv.Reject("nobody@example.com")
	s, db, c := newSender(t, srv)
	refused := queue(t, db, c, &store.Mail{Kind: mail.KindTest, To: "nobody@example.com", Data: map[string]string{"sent_by": "x"}})
	ok := queue(t, db, c, &store.Mail{Kind: mail.KindTest, To: "owner@acme.example", Data: map[string]string{"sent_by": "x"}})
	if err := s.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, db, refused.ID); got.Status != store.MailFailed || !strings.Contains(got.LastError, "550") {
		t.Fatalf("refused recipient: %+v", got)
	}
	if got := stored(t, db, ok.ID); got.Status != store.MailSent {
		t.Fatalf("the other mail of the same connection: %+v", got)
	}

	srv.Stop()
	down := queue(t, db, c, &store.Mail{Kind: mail.KindTest, To: "owner@acme.example", Data: map[string]string{"sent_by": "x"}})
	for i := 0; i < 20; i++ {
		if err := s.SendDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Add(25 * time.Hour)
	}
	got := stored(t, db, down.ID)
	if got.Status != store.MailFailed || got.Tries != 9 {
		t.Fatalf("after every retry: status %s, %d tries; want failed after 9", got.Status, got.Tries)
	}
	if st := s.Stats(); st.GivenUp != 2 {
		t.Fatalf("stats %+v, want 2 given up", st)
	}
}

// BenchmarkSendDue measures a pass over a backlog: render, one SMTP
// connection to a loopback server, and the write that records the results.
func BenchmarkSendDue(b *testing.B) {
	srv := mailtest.Start(b)
	s, db, c := newSenderTB(b, srv)
	for i := 0; i < b.N; i++ {
		queueTB(b, db, c, &store.Mail{Kind: mail.KindTest, To: "owner@acme.example", Data: map[string]string{"sent_by": "x"}})
	}
	b.ResetTimer()
	if err := s.SendDue(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	srv.Wait(b.N, time.Minute)
}

// Every kind carries the owner's brand from Settings → Brand (read when
// the mail is rendered): name, logo as an absolute URL, the accent on its
// buttons, the support address in both parts; Spiffy only as "Powered by".
func TestEveryKindCarriesTheBrand(t *testing.T) {
	s, db, _ := newSender(t, mailtest.Down(t))
	data := map[string]string{"name": "Paula", "link": "https://aff.acme.example/x", "days": "7", "minutes": "60",
		"program": "Acme", "amount": "49.00 USD", "commissions": "2", "method": "PayPal", "url": "https://hooks.example/x",
		"reason": "Last error: 503.", "email": "paula@example.com", "invited_by": "owner@acme.example", "sent_by": "owner@acme.example"}
	plain, err := s.Render(&store.Mail{Kind: mail.KindInvite, To: "paula@example.com", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if plain.From != "Acme Partners" || strings.Contains(plain.HTML, "<img") || strings.Contains(plain.Text, "Questions?") {
		t.Fatalf("without a brand: from %q\n%s\n%s", plain.From, plain.Text, plain.HTML)
	}

	b := &store.Brand{Name: "Acme Outdoor", Accent: "#ffd43b", SupportEmail: "partners@acme.example", LogoType: "image/png", LogoETag: "abc123"}
	if err := db.Update(func(tx *store.Tx) error { return tx.PutBrand(b, []byte{1}) }); err != nil {
		t.Fatal(err)
	}
	for _, kind := range mail.Kinds() {
		r, err := s.Render(&store.Mail{Kind: kind, To: "paula@example.com", Data: data})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if r.From != "Acme Outdoor" {
			t.Errorf("%s: from %q", kind, r.From)
		}
		for _, want := range []string{`<img src="https://aff.acme.example/brand/logo?v=abc123" alt="Acme Outdoor"`,
			`href="mailto:partners@acme.example"`, "Powered by Spiffy"} {
			if !strings.Contains(r.HTML, want) {
				t.Errorf("%s: the HTML part lacks %q", kind, want)
			}
		}
		if strings.Contains(r.HTML, "background:") && strings.Contains(r.HTML, "padding:12px 20px") && !strings.Contains(r.HTML, "background:#ffd43b;color:#000000;") {
			t.Errorf("%s: a button not in the accent:\n%s", kind, r.HTML)
		}
		for _, want := range []string{"Acme Outdoor", "Questions? Write to partners@acme.example", "Powered by Spiffy"} {
			if !strings.Contains(r.Text, want) {
				t.Errorf("%s: the text part lacks %q:\n%s", kind, want, r.Text)
			}
		}
		for _, part := range []string{r.Subject, r.Text, r.HTML} {
			if strings.Contains(strings.ReplaceAll(part, "Powered by Spiffy", ""), "Spiffy") {
				t.Errorf("%s names Spiffy outside \"Powered by\":\n%s", kind, part)
			}
		}
	}
}
