package app

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/mail"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// Email: the mail outbox's hooks (each runs inside the write that causes
// the mail, so the mail exists if and only if its cause does), one-click
// unsubscribe, and what Settings → Email shows. Sending lives in package
// mail (the Sender, the templates). Without smtp.host nothing is queued:
// the pages offer links to copy instead.

// MailEnabled reports whether Spiffy sends mail (smtp.host is set).
func (a *App) MailEnabled() bool { return a.mailer.Enabled() }

// Mailer is the mail engine, for the job that drives it and for tests.
func (a *App) Mailer() *mail.Sender { return a.mailer }

// queueMail stores a mail in tx and wakes the sender once tx commits.
// Without SMTP, and for optional mail an affiliate opted out of, it does
// nothing.
func (a *App) queueMail(tx *store.Tx, kind, to, affiliateID string, data map[string]string) error {
	if !a.mailer.Enabled() || to == "" {
		return nil
	}
	optional := mail.Optional(kind) && affiliateID != ""
	if optional {
		_, err := tx.MailOptOut(affiliateID)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	now := a.Now()
	m := &store.Mail{ID: store.NewID(now), Kind: kind, To: to, AffiliateID: affiliateID, Data: data,
		Status: store.MailQueued, NextAttemptAt: now, CreatedAt: now}
	if optional {
		m.Unsubscribe = a.UnsubscribeURL(affiliateID)
	}
	if err := tx.PutMail(m); err != nil {
		return err
	}
	a.mailer.WakeAfterCommit(tx)
	return nil
}

// Links in mail.

func (a *App) portalURL(path string) string { return a.cfg.BaseURL + "/portal" + path }

// queueInviteMail mails an affiliate its invite link.
func (a *App) queueInviteMail(tx *store.Tx, af *store.Affiliate, token string) error {
	return a.queueMail(tx, mail.KindInvite, af.Email, af.ID, map[string]string{
		"name": af.Name, "link": a.InviteURL(token), "days": strconv.Itoa(int(InviteTTL / (24 * time.Hour))),
	})
}

// queueApprovedMail tells an affiliate its account is active.
func (a *App) queueApprovedMail(tx *store.Tx, af *store.Affiliate) error {
	return a.queueMail(tx, mail.KindApproved, af.Email, af.ID, map[string]string{"name": af.Name, "link": a.portalURL("/login")})
}

// queueApplicationMails confirms a pending join to the affiliate and tells
// every admin.
func (a *App) queueApplicationMails(tx *store.Tx, af *store.Affiliate, p *store.Program) error {
	err := a.queueMail(tx, mail.KindApplicationReceived, af.Email, af.ID, map[string]string{
		"name": af.Name, "program": p.Name, "link": a.portalURL("/login"),
	})
	if err != nil || !a.mailer.Enabled() {
		return err
	}
	admins, err := tx.Admins()
	if err != nil {
		return err
	}
	for _, adm := range admins {
		err := a.queueMail(tx, mail.KindNewApplication, adm.Email, "", map[string]string{
			"name": af.Name, "email": af.Email, "program": p.Name, "link": a.cfg.BaseURL + "/affiliates/" + af.ID,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// queuePayoutPaidMail tells an affiliate it was paid (one mail per payout
// item, in the write that settles it).
func (a *App) queuePayoutPaidMail(tx *store.Tx, p *store.Payout, it *store.PayoutItem) error {
	if !a.mailer.Enabled() {
		return nil
	}
	program := ""
	if p.ProgramID != "" {
		program = tx.Names().Program(p.ProgramID)
	}
	return a.queueMail(tx, mail.KindPayoutPaid, it.Email, it.AffiliateID, map[string]string{
		"name": it.Name, "amount": money.Display(it.Amount, p.Currency),
		"commissions": strconv.FormatInt(it.Commissions, 10), "program": program, "method": mail.MethodTitle(it.Method),
		"link": a.portalURL(""),
	})
}

// queueWebhookDisabledMail is the delivery engine's OnDisabled: it runs in
// the write that disables an endpoint after days of failures.
func (a *App) queueWebhookDisabledMail(tx *store.Tx, ep *store.WebhookEndpoint) error {
	if !a.mailer.Enabled() {
		return nil
	}
	af, err := tx.Affiliate(ep.AffiliateID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return a.queueMail(tx, mail.KindWebhookDisabled, af.Email, af.ID, map[string]string{
		"name": af.Name, "url": ep.URL, "reason": ep.DisabledReason, "link": a.portalURL("/webhooks"),
	})
}

// UnsubscribeURL is the link in an optional mail's List-Unsubscribe
// (package mail's one-click token).
func (a *App) UnsubscribeURL(affiliateID string) string {
	return a.portalURL("/unsubscribe/" + mail.UnsubscribeToken(a.sessionSecret, affiliateID))
}

// unsubscribeAffiliate checks an unsubscribe token and returns its affiliate.
func (a *App) unsubscribeAffiliate(tx *store.Tx, token string) (*store.Affiliate, error) {
	id, ok := mail.UnsubscribeID(a.sessionSecret, token)
	if !ok || !store.ValidID(id) {
		return nil, NotFound("unsubscribe_link_invalid", "this unsubscribe link is not valid")
	}
	return getAffiliate(tx, id)
}

// MailPreference is what the unsubscribe page shows.
type MailPreference struct {
	Affiliate *store.Affiliate
	OptedOut  bool
}

// MailPreferenceByToken reads an unsubscribe link's affiliate and whether
// it has opted out.
func (a *App) MailPreferenceByToken(token string) (*MailPreference, error) {
	var out *MailPreference
	err := a.db.View(func(tx *store.Tx) error {
		af, err := a.unsubscribeAffiliate(tx, token)
		if err != nil {
			return err
		}
		_, err = tx.MailOptOut(af.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		out = &MailPreference{Affiliate: af, OptedOut: err == nil}
		return nil
	})
	return out, err
}

// SetMailOptOut records (or, with optOut false, withdraws) an affiliate's
// opt-out of optional mail, by its unsubscribe link. Doing it twice is
// harmless.
func (a *App) SetMailOptOut(token string, optOut bool) (*MailPreference, error) {
	var out *MailPreference
	err := a.db.Update(func(tx *store.Tx) error {
		af, err := a.unsubscribeAffiliate(tx, token)
		if err != nil {
			return err
		}
		var o *store.MailOptOut
		if optOut {
			o = &store.MailOptOut{AffiliateID: af.ID, At: a.Now()}
		}
		out = &MailPreference{Affiliate: af, OptedOut: optOut}
		return tx.SetMailOptOut(af.ID, o)
	})
	return out, err
}

// EmailSettings reads the SMTP setup in force (Settings → Email).
func (a *App) EmailSettings() views.EmailSettings { return views.ReadEmailSettings(a.cfg) }

// RecentMail lists the newest mail, queued, sent and failed.
func (a *App) RecentMail(limit int) ([]views.MailLogEntry, error) {
	return store.Read(a.db, func(tx *store.Tx) ([]views.MailLogEntry, error) { return views.ReadRecentMail(tx, limit) })
}

// SendTestMail queues a test message to the given address (the admin's own
// when empty).
func (a *App) SendTestMail(adminID, to string) (string, error) {
	if !a.mailer.Enabled() {
		return "", Errorf(KindConflict, "mail_disabled", "email is not set up: set smtp.host and smtp.from first")
	}
	to = strings.TrimSpace(to)
	err := a.db.Update(func(tx *store.Tx) error {
		adm, err := tx.Admin(adminID)
		if err != nil {
			return notFoundAs(err, "admin_not_found", "admin")
		}
		if to == "" {
			to = adm.Email
		}
		if err := check.Email("to", to); err != nil {
			return err
		}
		return a.queueMail(tx, mail.KindTest, to, "", map[string]string{"sent_by": adm.Email})
	})
	return to, err
}

// MailStats reads the sender's counters and the outbox's size, for /metrics.
func (a *App) MailStats() mail.Stats { return a.mailer.Stats() }

// affiliateChanged runs in the write that updated an affiliate: becoming
// active mails "approved"; being blocked or getting a new password ends
// its sessions (and unused reset links).
func (a *App) affiliateChanged(tx *store.Tx, af *store.Affiliate, before string, newPassword bool) error {
	if af.Status == StatusActive && before != StatusActive {
		if err := a.queueApprovedMail(tx, af); err != nil {
			return err
		}
	}
	if (af.Status == StatusBlocked && before != StatusBlocked) || newPassword {
		return endAccount(tx, SessionAffiliate, af.ID)
	}
	return nil
}
