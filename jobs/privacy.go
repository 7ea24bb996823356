package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/spiffy/spiffy/store"
)

// PrivacyRetention truncates the IP addresses (IPv4 to /24, IPv6 to /48)
// and drops the user agents of clicks and leads older than
// privacy.ip_retention (docs/PRIVACY.md). Each run goes on from where the
// last one stopped, so an hourly run only looks at the hour of records that
// have come of age since.
type PrivacyRetention struct {
	Store *store.DB
	Clock Clock
	// Retention is privacy.ip_retention; 0 keeps everything, so the job
	// does nothing.
	Retention time.Duration
	Log       *slog.Logger
}

// Name implements Job.
func (j *PrivacyRetention) Name() string { return "privacy_retention" }

// Run implements Job.
func (j *PrivacyRetention) Run(ctx context.Context) error {
	if j.Retention <= 0 {
		return nil
	}
	res, err := j.Store.ExpireNetworkDetails(ctx, j.Clock.Now().Add(-j.Retention))
	if res.Clicks+res.Leads > 0 {
		j.Log.Info("privacy retention: network details truncated", "clicks", res.Clicks, "leads", res.Leads, "writes", res.Writes)
	}
	return err
}
