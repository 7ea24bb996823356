package app

import (
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/spiffy/spiffy/app/accounts"
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/app/mail"
	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/app/session"
	"github.com/spiffy/spiffy/app/throttle"
	"github.com/spiffy/spiffy/app/webhook"
	"github.com/spiffy/spiffy/store"
)

// App is the product: every rule is a method on it. It holds no global
// state; tests build one per data dir.
type App struct {
	cfg   config.Config
	db    *store.DB
	log   *slog.Logger
	clock Clock

	loginThrottle *throttle.SignIns // failed sign-ins (auth.go)
	joins         *throttle.Rate    // sign-ups per IP (portal.go)
	sessionSecret []byte
	webhooks      *webhook.Dispatcher
	mailer        *mail.Sender      // the mail outbox's sender (mail.go)
	forgot        forgotLimits      // the forgot-password form's limits (sessions.go)
	sessions      *session.Sessions // sessions and reset links, on the session clock (sessions.go)
	exports       *export.Runner    // background CSV exports
	accounts      *accounts.Cache   // decoded accounts for the tracking path (tracking.go) and API keys (auth.go)
	keysUsed      sync.Map          // API key id -> time.Time its use was last recorded (auth.go)
	money         sync.Mutex        // serialises changes of approved and paid money (commissions.go)
	refused       provider.Refusals // provider webhooks refused lately (integrations.go)
}

// Options is what an App is built from.
type Options struct {
	Config config.Config
	Store  *store.DB
	Log    *slog.Logger // nil: slog.Default()
	Clock  Clock        // nil: SystemClock
	// SessionClock times sign-in sessions and reset links (nil:
	// SystemClock). They follow real time even when a test or a demo moves
	// the business clock by months.
	SessionClock Clock
}

// New wires an App over an open store. It loads (or creates and keeps) the
// session secret.
func New(o Options) (*App, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.SessionClock == nil {
		o.SessionClock = SystemClock{}
	}
	a := &App{
		cfg:           o.Config,
		db:            o.Store,
		log:           o.Log,
		clock:         o.Clock,
		loginThrottle: throttle.NewSignIns(signInLimits),
		joins:         throttle.NewRate(6*time.Minute, 5, 50000), // 5 sign-ups per IP at once, then 10 an hour
		accounts:      accounts.New(maxCachedAccounts, tracks),
		forgot:        newForgotLimits(),
		sessions:      session.New(o.Store, o.SessionClock),
	}
	a.webhooks = webhook.New(o.Store, webhook.Options{
		Timeout: o.Config.Webhooks.Timeout, AllowPrivate: o.Config.Webhooks.AllowPrivateTargets,
		Concurrency: o.Config.Webhooks.Concurrency, Clock: o.Clock, Log: o.Log,
		OnDisabled: a.queueWebhookDisabledMail,
	})
	a.exports = export.NewRunner(o.Store, export.Options{
		Dir: o.Config.ExportsDir(), TTL: o.Config.Exports.TTL, Clock: o.Clock, Log: o.Log,
	})
	st, err := mail.SettingsFrom(o.Config)
	if err == nil {
		a.mailer, err = mail.New(o.Store, mail.Options{Settings: st, BaseURL: o.Config.BaseURL, Clock: o.Clock, Log: o.Log})
	}
	if err != nil {
		a.webhooks.Stop()
		a.exports.Stop()
		return nil, err
	}
	secret, err := session.LoadSecret(o.Store, o.Config.SessionSecret)
	if err != nil {
		a.Stop()
		return nil, err
	}
	a.sessionSecret = secret
	return a, nil
}

// Now is the App's clock reading.
func (a *App) Now() time.Time { return a.clock.Now() }

// Config is the configuration the App was built with.
func (a *App) Config() config.Config { return a.cfg }

// Log is the App's logger.
func (a *App) Log() *slog.Logger { return a.log }

// SessionSecret is the key sessions are signed with: the configured one, or
// one generated on first start and kept in the store.
func (a *App) SessionSecret() []byte { return a.sessionSecret }

// Backup streams a full, consistent backup of the store to w (the format
// `spiffy restore` reads).
func (a *App) Backup(w io.Writer) error { return a.db.Backup(w) }

// StoreStats reads the store's sizes and writer counters, for /metrics.
func (a *App) StoreStats() store.Stats { return a.db.Stats() }
