package web

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spiffy/spiffy/app"
)

// mailCollectors report the mail outbox: mail sent and failed attempts by
// this process, mail given up on, and mail waiting in the store.
func mailCollectors(a *app.App) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "spiffy_mail_sent_total", Help: "Emails the SMTP server accepted, since start."},
			func() float64 { return float64(a.MailStats().Sent) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "spiffy_mail_failed_total", Help: "Email send attempts that failed (retried or not), since start."},
			func() float64 { return float64(a.MailStats().Failed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "spiffy_mail_given_up_total", Help: "Emails marked failed for good (a refused recipient, or every retry failed), since start."},
			func() float64 { return float64(a.MailStats().GivenUp) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spiffy_mail_queued", Help: "Emails waiting in the outbox to be sent or retried."},
			func() float64 { return float64(a.MailStats().Queued) }),
	}
}
