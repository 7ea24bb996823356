package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/spiffy/spiffy/app/brand"
	"github.com/spiffy/spiffy/store"
)

// The Sender delivers the outbox. Work reaches it two ways, as for the
// webhooks:
//   - at once: the write that queues a mail wakes it after the commit;
//   - from the due index: SendDue (the mail job, and once at start) sends
//     every queued mail whose next attempt has come, which is how retries
//     happen and how nothing is lost across restarts or a crash.
//
// Delivery is at least once: a mail leaves the due index only in the write
// that records the attempt that sent it (or its last failure), so a crash
// between the SMTP server's "250 OK" and that write sends it again, with
// the same Message-ID.
//
// One pass at a time sends what is due over one SMTP connection. Mail is
// low-volume (invites, resets, notices), so nothing here is concurrent.

// Settings say how to reach the SMTP server and who mail is from.
type Settings struct {
	Host     string
	Port     int
	Username string
	Password string
	// FromAddress is the sender's address; Owner is the program owner's
	// name, shown as the sender's name and inside every mail.
	FromAddress string
	Owner       string
	TLS         string // starttls | tls | none
	// RootCAs, when set, replaces the system's certificate authorities.
	RootCAs *x509.CertPool
	// Timeout bounds the connection and each SMTP command (default 30 s).
	Timeout time.Duration
}

// Enabled reports whether any mail is sent.
func (s Settings) Enabled() bool { return s.Host != "" }

// LoadCAFile reads a PEM file of certificate authorities for Settings.RootCAs.
func LoadCAFile(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp.ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("mail: smtp.ca_file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// Clock tells the sender the time.
type Clock interface{ Now() time.Time }

// Options configure a Sender.
type Options struct {
	Settings Settings
	BaseURL  string
	Clock    Clock
	Log      *slog.Logger
}

// Sender sends the mail outbox.
type Sender struct {
	db       *store.DB
	settings Settings
	baseURL  string
	clock    Clock
	log      *slog.Logger
	views    *renderer

	pass   sync.Mutex // one pass at a time
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	sent     atomic.Int64 // mails the SMTP server accepted
	failed   atomic.Int64 // attempts that failed
	given    atomic.Int64 // mails given up on (failed for good)
	attempts atomic.Int64
}

// New returns a sender over db. Nothing is sent until Start (or SendDue).
func New(db *store.DB, o Options) (*Sender, error) {
	views, err := newRenderer()
	if err != nil {
		return nil, err
	}
	if o.Settings.Timeout <= 0 {
		o.Settings.Timeout = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Sender{
		db: db, settings: o.Settings, baseURL: o.BaseURL, clock: o.Clock, log: o.Log, views: views,
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel,
	}, nil
}

// Enabled reports whether the sender has an SMTP server to send to.
func (s *Sender) Enabled() bool { return s.settings.Enabled() }

// Settings returns the settings in force (for Settings → Email; the
// password is the caller's to hide).
func (s *Sender) Settings() Settings { return s.settings }

// Start sends what is already due (left over from before a restart), then
// whatever a write queues, until ctx ends or Stop is called.
func (s *Sender) Start(ctx context.Context) {
	if !s.Enabled() {
		return
	}
	context.AfterFunc(ctx, s.cancel)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runPass()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-s.wake:
				s.runPass()
			}
		}
	}()
}

func (s *Sender) runPass() {
	if err := s.SendDue(s.ctx); err != nil && s.ctx.Err() == nil {
		s.log.Error("mail: send due mail", "err", err)
	}
}

// Stop cancels a pass in progress and waits for it. A mail whose attempt
// was cut short stays due and is sent after the next start.
func (s *Sender) Stop() {
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
	})
}

// WakeAfterCommit makes the sender look at the outbox once tx has
// committed (never if it fails).
func (s *Sender) WakeAfterCommit(tx *store.Tx) {
	if !s.Enabled() {
		return
	}
	tx.AfterCommit(func() {
		select {
		case s.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	})
}

// Stats are the sender's counters since start.
type Stats struct {
	Sent     int64 // mails the SMTP server accepted
	Failed   int64 // attempts that failed (retried or not)
	GivenUp  int64 // mails that failed for good
	Attempts int64
	Queued   int // waiting in the outbox now
}

// Stats reads the counters and the outbox's size.
func (s *Sender) Stats() Stats {
	st := Stats{Sent: s.sent.Load(), Failed: s.failed.Load(), GivenUp: s.given.Load(), Attempts: s.attempts.Load()}
	_ = s.db.View(func(tx *store.Tx) (err error) { st.Queued, err = tx.QueuedMails(1_000_000); return })
	return st
}

// retryDelays is the backoff after each failed attempt: about two days in
// all, then the mail is marked failed.
var retryDelays = []time.Duration{
	10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// RetryDelay is how long to wait after the tries-th failed attempt, and
// false when there is no retry left.
func RetryDelay(tries int) (time.Duration, bool) {
	if tries < 1 || tries > len(retryDelays) {
		return 0, false
	}
	return retryDelays[tries-1], true
}

// DescribeSchedule says in words when a failed mail is tried again.
func DescribeSchedule() string {
	return fmt.Sprintf("retried %d times over about 2 days (after 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h and 24 h)", len(retryDelays))
}

// LogRetention is how long sent and failed mail stays in the log.
const LogRetention = 30 * 24 * time.Hour

// passBatch is how many mails one connection sends before the results are
// written.
const passBatch = 50

// SendDue sends every queued mail whose next attempt has come and records
// each attempt. It returns when nothing due is left or ctx ends. It also
// prunes the log.
func (s *Sender) SendDue(ctx context.Context) error {
	if !s.Enabled() {
		return nil
	}
	s.pass.Lock()
	defer s.pass.Unlock()
	if err := s.prune(); err != nil {
		s.log.Warn("mail: prune the log", "err", err)
	}
	for ctx.Err() == nil {
		var mails []*store.Mail
		err := s.db.View(func(tx *store.Tx) error {
			ids, err := tx.DueMails(s.clock.Now(), passBatch)
			if err != nil {
				return err
			}
			for _, id := range ids {
				m, err := tx.Mail(id)
				if err != nil {
					return err
				}
				mails = append(mails, m)
			}
			return nil
		})
		if err != nil || len(mails) == 0 {
			return err
		}
		results := s.send(ctx, mails)
		if ctx.Err() != nil {
			return nil // stopping: not the server's fault, leave them due
		}
		if err := s.record(results); err != nil {
			return err
		}
	}
	return nil
}

// result is one attempt's outcome.
type result struct {
	id      string
	subject string
	err     error
	final   bool // a permanent failure: no retry
}

// send renders the mails and sends them over one connection.
func (s *Sender) send(ctx context.Context, mails []*store.Mail) []result {
	results := make([]result, len(mails))
	msgs := make([]*gomail.Msg, len(mails))
	for i, m := range mails {
		results[i].id = m.ID
		msg, subject, err := s.message(m)
		results[i].subject = subject
		if err != nil {
			results[i].err, results[i].final = err, true
			continue
		}
		msgs[i] = msg
	}
	client, err := s.client()
	if err != nil {
		for i := range results {
			if results[i].err == nil {
				results[i].err, results[i].final = err, true
			}
		}
		return results
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		for i := range results {
			if results[i].err == nil {
				results[i].err = fmt.Errorf("connect to %s: %w", client.ServerAddr(), err)
			}
		}
		return results
	}
	defer func() {
		if err := client.CloseWithSMTPClient(conn); err != nil {
			s.log.Debug("mail: close smtp connection", "err", err)
		}
	}()
	for i, msg := range msgs {
		if msg == nil {
			continue
		}
		if ctx.Err() != nil {
			results[i].err = ctx.Err()
			continue
		}
		if err := client.SendWithSMTPClient(conn, msg); err != nil {
			results[i].err = err
			var se *gomail.SendError
			if errors.As(err, &se) {
				// A 5xx answer (say, an unknown recipient) will not change.
				results[i].final = !se.IsTemp() && se.ErrorCode() >= 500
			}
		}
	}
	return results
}

// client builds an SMTP client from the settings.
func (s *Sender) client() (*gomail.Client, error) {
	st := s.settings
	opts := []gomail.Option{
		gomail.WithPort(st.Port),
		gomail.WithTimeout(st.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: st.Host, RootCAs: st.RootCAs, MinVersion: tls.VersionTLS12}),
	}
	switch st.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if st.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(st.Username), gomail.WithPassword(st.Password))
	}
	c, err := gomail.NewClient(st.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp client: %w", err)
	}
	return c, nil
}

// MessageID is the Message-ID of a mail: the same on every attempt.
func (s *Sender) MessageID(m *store.Mail) string {
	domain := "spiffy.invalid"
	if _, d, ok := strings.Cut(s.settings.FromAddress, "@"); ok && d != "" {
		domain = d
	}
	return strings.ToLower(m.ID) + "@" + domain
}

// message renders a mail into an SMTP message.
func (s *Sender) message(m *store.Mail) (*gomail.Msg, string, error) {
	r, err := s.Render(m)
	if err != nil {
		return nil, "", err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(r.From, s.settings.FromAddress); err != nil {
		return nil, r.Subject, fmt.Errorf("mail: from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, r.Subject, fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	msg.Subject(r.Subject)
	msg.SetMessageIDWithValue(s.MessageID(m))
	msg.SetDateWithValue(s.clock.Now())
	msg.SetGenHeader(gomail.HeaderUserAgent, "Spiffy")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if m.Unsubscribe != "" {
		// RFC 2369 and RFC 8058: mail clients offer "unsubscribe", and
		// may do it with one POST, no page to visit.
		msg.SetGenHeaderPreformatted("List-Unsubscribe", "<"+m.Unsubscribe+">")
		msg.SetGenHeaderPreformatted("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	return msg, r.Subject, nil
}

// Render renders a stored mail with the owner's brand as it is now
// (Settings → Brand; its name wins over smtp.from's).
func (s *Sender) Render(m *store.Mail) (Rendered, error) {
	b, err := store.Read(s.db, func(tx *store.Tx) (*store.Brand, error) { return tx.Brand() })
	if err != nil {
		// Spiffy's defaults rather than no mail.
		s.log.Warn("mail: read the brand", "err", err)
		b = &store.Brand{}
	}
	v := brand.NewView(b, s.settings.Owner)
	d := templateData{
		Owner: v.Name, BaseURL: s.baseURL, Support: v.SupportEmail, To: m.To, Unsubscribe: m.Unsubscribe, D: m.Data,
		Accent: v.Colours.Accent, OnAccent: v.Colours.OnAccent, Link: v.Colours.Text,
	}
	if v.LogoURL != "" {
		d.Logo = s.baseURL + v.LogoURL
	}
	return s.views.render(m.Kind, d)
}

// record writes a pass's attempts in one write: sent (the data, which may
// hold a secret link, is dropped), due again per the schedule, or failed.
func (s *Sender) record(results []result) error {
	now := s.clock.Now()
	var sent, failed, given int64
	err := s.db.Update(func(tx *store.Tx) error {
		sent, failed, given = 0, 0, 0
		for _, r := range results {
			m, err := tx.Mail(r.id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if m.Status != store.MailQueued {
				continue
			}
			at := now
			m.Tries++
			m.LastAttemptAt = &at
			if r.subject != "" {
				m.Subject = r.subject
			}
			if r.err == nil {
				m.Status, m.SentAt, m.LastError, m.Data = store.MailSent, &at, "", nil
				sent++
			} else {
				failed++
				m.LastError = oneLine(r.err.Error())
				if d, more := RetryDelay(m.Tries); more && !r.final {
					m.NextAttemptAt = now.Add(d)
				} else {
					m.Status = store.MailFailed
					given++
				}
			}
			if err := tx.PutMail(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mail: record attempts: %w", err)
	}
	s.attempts.Add(int64(len(results)))
	s.sent.Add(sent)
	s.failed.Add(failed)
	s.given.Add(given)
	for _, r := range results {
		if r.err != nil {
			s.log.Warn("mail: not sent", "mail", r.id, "final", r.final, "err", r.err)
		}
	}
	return nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// prune deletes sent and failed mail older than LogRetention, a bounded
// number per pass.
func (s *Sender) prune() error {
	cutoff := s.clock.Now().Add(-LogRetention)
	var ids []string
	if err := s.db.View(func(tx *store.Tx) (err error) { ids, err = tx.MailIDsBefore(cutoff, 500); return }); err != nil || len(ids) == 0 {
		return err
	}
	return s.db.Update(func(tx *store.Tx) error {
		for _, id := range ids {
			m, err := tx.Mail(id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if m.Status == store.MailQueued {
				continue // still owed to its recipient
			}
			if err := tx.DeleteMail(id); err != nil {
				return err
			}
		}
		return nil
	})
}
