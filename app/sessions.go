package app

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/mail"
	"github.com/spiffy/spiffy/app/session"
	"github.com/spiffy/spiffy/app/throttle"
	"github.com/spiffy/spiffy/store"
)

// Sign-in sessions, self-service password resets and admin invites.
//
// A session is a record in the store; the browser's cookie holds only a
// random id, and the record (kept under the id's hash) holds the account
// and the expiry. Signing out, a password change or reset, blocking an
// affiliate and removing an admin delete every session of that account, so
// a copied cookie stops working at once.

// Session kinds: the two sides sign in separately.
const (
	SessionAdmin     = session.Admin
	SessionAffiliate = session.Affiliate
)

// SessionTTL is how long a session lasts from sign-in.
const SessionTTL = session.TTL

// ResetTTL is how long a password-reset link works; AdminInviteTTL how long
// an invited admin's link does.
const (
	ResetTTL       = time.Hour
	AdminInviteTTL = 7 * 24 * time.Hour
)

// Account token purposes.
const (
	tokenReset  = "reset"
	tokenInvite = "invite"
)

// StartSession records a new session for an account and returns the id
// for the cookie.
func (a *App) StartSession(kind, accountID string) (string, error) {
	return a.sessions.Start(kind, accountID)
}

// SessionAccount returns the account a session id signs in, or
// ErrUnauthorized for an unknown, ended or expired one.
func (a *App) SessionAccount(kind, id string) (string, error) {
	accountID, ok, err := a.sessions.Account(kind, id)
	if err == nil && !ok {
		return "", ErrUnauthorized
	}
	return accountID, err
}

// EndSessions signs out: it deletes every session of the account the id
// belongs to, on every device. An unknown id is not an error.
func (a *App) EndSessions(kind, id string) error { return a.sessions.End(kind, id) }

// AccountSessions counts an account's sessions (for tests and the admin
// pages).
func (a *App) AccountSessions(kind, accountID string) (int, error) {
	return a.sessions.Count(kind, accountID)
}

// endAccount deletes an account's sessions and unused reset links in tx:
// what every credential change does.
func endAccount(tx *store.Tx, kind, accountID string) error {
	return session.EndAccount(tx, kind, accountID)
}

// SweepSessions deletes expired sessions and reset links, in bounded
// writes, and says how many.
func (a *App) SweepSessions(ctx context.Context) (int, error) { return a.sessions.Sweep(ctx) }

// Self-service password reset.

// ResetURL is where an emailed reset (or admin invite) link leads.
func (a *App) ResetURL(kind, token string) string {
	if kind == SessionAdmin {
		return a.cfg.BaseURL + "/reset/" + token
	}
	return a.portalURL("/reset/" + token)
}

// Limits of the forgot-password form: per client IP (answered with
// ErrThrottled) and per account (silently: the page must not tell whether
// the account exists).
const (
	forgotPerIP       = 10
	forgotPerAccount  = 3
	forgotLimitWindow = time.Hour
)

type forgotLimits struct {
	ip      *throttle.Rate // forgotPerIP at once, then as many per window, evenly
	account *throttle.Throttle
}

func newForgotLimits() forgotLimits {
	return forgotLimits{ip: throttle.NewRate(forgotLimitWindow/forgotPerIP, forgotPerIP, 50000), account: throttle.New(forgotPerAccount, forgotLimitWindow)}
}

// RequestPasswordReset mails a one-hour reset link to the account with
// that email, if there is one (and it is not blocked). It answers the same
// either way, so the form cannot tell who has an account; only too many
// requests from one IP get ErrThrottled.
func (a *App) RequestPasswordReset(kind, email, ip string) error {
	if !session.ValidKind(kind) {
		return errors.New("app: unknown account kind " + kind)
	}
	now := a.sessions.Now()
	if err := a.forgot.ip.Take(ip, now); err != nil {
		return err
	}
	email = strings.TrimSpace(email)
	if err := check.Email("email", email); err != nil {
		return err
	}
	if !a.mailer.Enabled() {
		return nil
	}
	acctKey := "forgot:" + kind + ":" + store.NormEmail(email)
	if a.forgot.account.Blocked(acctKey, now) {
		return nil
	}
	return a.db.Update(func(tx *store.Tx) error {
		acc, err := session.AccountByEmail(tx, kind, email)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil || acc.Blocked {
			return err
		}
		token, err := a.sessions.PutToken(tx, tokenReset, kind, acc.ID, ResetTTL)
		if err != nil {
			return err
		}
		affID := ""
		if kind == SessionAffiliate {
			affID = acc.ID
		}
		a.forgot.account.Fail(acctKey, now)
		return a.queueMail(tx, mail.KindPasswordReset, acc.Email, affID, map[string]string{
			"name": acc.Name, "link": a.ResetURL(kind, token), "minutes": strconv.Itoa(int(ResetTTL / time.Minute)),
		})
	})
}

// ResetLink is what a reset page shows about its link.
type ResetLink struct {
	Email  string
	Invite bool // an invited admin's first password, not a reset
}

var errResetLink = NotFound("reset_link_invalid", "this link is invalid, has expired or was used already")

func (a *App) validToken(tx *store.Tx, kind, token string) (*store.AccountToken, error) {
	t, ok, err := a.sessions.ValidToken(tx, kind, token)
	if err == nil && !ok {
		return nil, errResetLink
	}
	return t, err
}

// ResetLinkInfo checks a reset link without using it.
func (a *App) ResetLinkInfo(kind, token string) (*ResetLink, error) {
	var out *ResetLink
	err := a.db.View(func(tx *store.Tx) error {
		t, err := a.validToken(tx, kind, token)
		if err != nil {
			return err
		}
		acc, err := session.AccountByID(tx, kind, t.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return errResetLink
		}
		if err != nil {
			return err
		}
		out = &ResetLink{Email: acc.Email, Invite: t.Purpose == tokenInvite}
		return nil
	})
	return out, err
}

// ResetPassword sets a new password with a reset (or admin invite) link.
// The link works once; every session of the account ends, and its other
// links stop working. It returns the account's id, so the caller can sign
// the person in afresh, and whether the account is blocked (an affiliate
// then cannot sign in).
func (a *App) ResetPassword(kind, token, password string) (accountID string, blocked bool, err error) {
	hash, err := HashPassword(password)
	if err != nil {
		return "", false, err
	}
	var email string // whose sign-in throttle to clear
	err = a.db.Update(func(tx *store.Tx) error {
		t, err := a.validToken(tx, kind, token)
		if err != nil {
			return err
		}
		accountID = t.AccountID
		if kind == SessionAdmin {
			adm, err := tx.Admin(t.AccountID)
			if err != nil {
				return notFoundAs(err, "reset_link_invalid", "account")
			}
			adm.PasswordHash, email = hash, adm.Email
			if err := tx.PutAdmin(adm); err != nil {
				return err
			}
		} else {
			af, err := tx.Affiliate(t.AccountID)
			if err != nil {
				return notFoundAs(err, "reset_link_invalid", "account")
			}
			af.PasswordHash, email = hash, af.Email
			blocked = af.Status == StatusBlocked
			if err := tx.PutAffiliate(af); err != nil {
				return err
			}
		}
		return endAccount(tx, kind, t.AccountID)
	})
	if err != nil {
		return "", false, err
	}
	a.loginThrottle.ForgetAccount(kind + ":" + store.NormEmail(email))
	return accountID, blocked, nil
}

// Admins: Settings → Admins.

// InviteAdmin adds an admin without a password and mails them a link to set
// one (valid AdminInviteTTL). The link is returned too, for copying when
// mail is not set up.
func (a *App) InviteAdmin(byAdminID, email string) (*store.Admin, string, error) {
	email = strings.TrimSpace(email)
	if err := check.Email("email", email); err != nil {
		return nil, "", err
	}
	now := a.sessions.Now()
	adm := &store.Admin{ID: store.NewID(now), Email: email, CreatedAt: now}
	var link string
	err := a.db.Update(func(tx *store.Tx) error {
		by, err := tx.Admin(byAdminID)
		if err != nil {
			return notFoundAs(err, "admin_not_found", "admin")
		}
		if err := tx.PutAdmin(adm); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return Conflict("email", "duplicate_email", "an admin with this email already exists")
			}
			return err
		}
		token, err := a.sessions.PutToken(tx, tokenInvite, SessionAdmin, adm.ID, AdminInviteTTL)
		if err != nil {
			return err
		}
		link = a.ResetURL(SessionAdmin, token)
		return a.queueMail(tx, mail.KindAdminInvite, adm.Email, "", map[string]string{
			"invited_by": by.Email, "link": link, "days": strconv.Itoa(int(AdminInviteTTL / (24 * time.Hour))),
		})
	})
	if err != nil {
		return nil, "", err
	}
	return adm, link, nil
}

// RemoveAdmin deletes another admin with its sessions and links. An admin
// cannot remove itself, so at least one always remains.
func (a *App) RemoveAdmin(byAdminID, id string) (*store.Admin, error) {
	if id == byAdminID {
		return nil, Errorf(KindConflict, "cannot_remove_self", "you cannot remove yourself; ask another admin")
	}
	if !store.ValidID(id) {
		return nil, NotFound("admin_not_found", "admin not found")
	}
	var adm *store.Admin
	err := a.db.Update(func(tx *store.Tx) error {
		var err error
		if adm, err = tx.Admin(id); err != nil {
			return notFoundAs(err, "admin_not_found", "admin")
		}
		if err := tx.DeleteAdmin(id); err != nil {
			return err
		}
		return endAccount(tx, SessionAdmin, id)
	})
	return adm, err
}

// ChangeAdminPassword replaces an admin's password after checking the
// current one. Every session of the admin ends (the caller signs this
// browser in again).
func (a *App) ChangeAdminPassword(adminID, current, next string) error {
	var adm *store.Admin
	if err := a.db.View(func(tx *store.Tx) (err error) { adm, err = tx.Admin(adminID); return }); err != nil {
		return notFoundAs(err, "admin_not_found", "admin")
	}
	if !session.CheckPassword(adm.PasswordHash, current) {
		return Invalid("current_password", "wrong_password", "that is not your current password")
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	return a.db.Update(func(tx *store.Tx) error {
		adm, err := tx.Admin(adminID)
		if err != nil {
			return err
		}
		adm.PasswordHash = hash
		if err := tx.PutAdmin(adm); err != nil {
			return err
		}
		return endAccount(tx, SessionAdmin, adminID)
	})
}
