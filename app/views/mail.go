package views

import (
	"github.com/spiffy/spiffy/app/config"
	"github.com/spiffy/spiffy/app/mail"
	"github.com/spiffy/spiffy/store"
)

// Settings → Email.

// EmailSettings is the SMTP setup in force, without the password.
type EmailSettings struct {
	Enabled     bool
	Host        string
	Port        int
	TLS         string
	Username    string
	PasswordSet bool
	From        string
	Owner       string
	CAFile      string
	Schedule    string // when failed mail is retried, in words
}

// ReadEmailSettings describes the SMTP setup of cfg.
func ReadEmailSettings(cfg config.Config) EmailSettings {
	s := cfg.SMTP
	return EmailSettings{Enabled: s.Enabled(), Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username,
		PasswordSet: s.Password != "", From: s.From, Owner: mail.OwnerName(cfg), CAFile: s.CAFile, Schedule: mail.DescribeSchedule()}
}

// MailLogEntry is one row of the recent-mail list.
type MailLogEntry struct {
	*store.Mail
	Label string // what the mail is ("Password reset")
}

// IsQueued reports whether the mail still waits in the outbox.
func (e MailLogEntry) IsQueued() bool { return e.Status == store.MailQueued }

// ReadRecentMail lists the newest mail, queued, sent and failed: limit of
// them, 50 when limit is not in 1–500.
func ReadRecentMail(tx *store.Tx, limit int) ([]MailLogEntry, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	ms, err := tx.RecentMails(limit)
	if err != nil {
		return nil, err
	}
	out := make([]MailLogEntry, len(ms))
	for i, m := range ms {
		out[i] = MailLogEntry{Mail: m, Label: mail.Label(m.Kind)}
	}
	return out, nil
}
