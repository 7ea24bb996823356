package app

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/session"
	"github.com/spiffy/spiffy/store"
)

// Affiliate statuses.
const (
	StatusPending = store.AffiliatePending
	StatusActive  = store.AffiliateActive
	StatusBlocked = store.AffiliateBlocked
)

// InviteTTL is how long an invite (or password reset) link works.
const InviteTTL = 7 * 24 * time.Hour

// AffiliateInput carries an affiliate create or partial update; nil = not given.
type AffiliateInput struct {
	Name     *string `json:"name" form:"name"`
	Email    *string `json:"email" form:"email"`
	Status   *string `json:"status" form:"status"`
	Password *string `json:"password" form:"password"`
	// PayoutMethod and PayoutEmail say how the affiliate is paid.
	PayoutMethod *string `json:"payout_method" form:"payout_method"`
	PayoutEmail  *string `json:"payout_email" form:"payout_email"`
}

func (in *AffiliateInput) apply(af *store.Affiliate) error {
	if in.Name != nil {
		af.Name = strings.TrimSpace(*in.Name)
	}
	if err := check.Text("name", af.Name, true, 100); err != nil {
		return err
	}
	if in.Email != nil {
		af.Email = strings.TrimSpace(*in.Email)
	}
	if err := check.Email("email", af.Email); err != nil {
		return err
	}
	if err := applyPayoutDetails(af, in.PayoutMethod, in.PayoutEmail); err != nil {
		return err
	}
	if in.Status != nil {
		switch *in.Status {
		case StatusPending, StatusActive, StatusBlocked:
			af.Status = *in.Status
		default:
			return Invalid("status", "invalid_status", "status must be pending, active or blocked")
		}
	}
	if in.Password != nil {
		h, err := HashPassword(*in.Password)
		if err != nil {
			return err
		}
		af.PasswordHash = h
	}
	return nil
}

func affiliateConflict(err error) error {
	if errors.Is(err, store.ErrDuplicate) {
		return Conflict("email", "duplicate_email", "an affiliate with this email already exists")
	}
	return err
}

// CreateAffiliate adds an affiliate (active unless a status is given). With
// no password it also issues an invite link where the affiliate sets one.
func (a *App) CreateAffiliate(in AffiliateInput) (af *store.Affiliate, inviteURL string, err error) {
	now := a.Now()
	af = &store.Affiliate{ID: store.NewID(now), Status: StatusActive, CreatedAt: now}
	if in.Name == nil {
		return nil, "", Invalid("name", "invalid_name", "name is required")
	}
	if in.Email == nil {
		return nil, "", Invalid("email", "invalid_email", "email is required")
	}
	if err := in.apply(af); err != nil {
		return nil, "", err
	}
	var token string
	err = a.db.Update(func(tx *store.Tx) error {
		if err := tx.PutAffiliate(af); err != nil {
			return affiliateConflict(err)
		}
		if af.PasswordHash == "" {
			token = a.putInvite(tx, af.ID)
			return a.queueInviteMail(tx, af, token)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if token != "" {
		inviteURL = a.InviteURL(token)
	}
	return af, inviteURL, nil
}

// Affiliate returns an affiliate by id.
func (a *App) Affiliate(id string) (*store.Affiliate, error) {
	return store.Read(a.db, func(tx *store.Tx) (*store.Affiliate, error) { return getAffiliate(tx, id) })
}

func getAffiliate(tx *store.Tx, id string) (*store.Affiliate, error) {
	if !store.ValidID(id) {
		return nil, NotFound("affiliate_not_found", "affiliate not found")
	}
	af, err := tx.Affiliate(id)
	return af, notFoundAs(err, "affiliate_not_found", "affiliate")
}

// AffiliatesPage lists affiliates for the API's cursor pagination.
func (a *App) AffiliatesPage(cursor string, limit int) ([]*store.Affiliate, string, error) {
	if cursor != "" && !store.ValidID(cursor) {
		return nil, "", Invalid("cursor", "invalid_cursor", "cursor is not valid")
	}
	var out []*store.Affiliate
	var next string
	err := a.db.View(func(tx *store.Tx) (err error) { out, next, err = tx.AffiliatesPage(cursor, limit); return })
	return out, next, err
}

// UpdateAffiliate applies a partial update (name, email, status, password).
// Becoming active mails the affiliate "approved"; blocking it or setting
// its password ends its sessions.
func (a *App) UpdateAffiliate(id string, in AffiliateInput) (*store.Affiliate, error) {
	var af *store.Affiliate
	err := a.db.Update(func(tx *store.Tx) error {
		var err error
		if af, err = getAffiliate(tx, id); err != nil {
			return err
		}
		before := af.Status
		if err := in.apply(af); err != nil {
			return err
		}
		if err := affiliateConflict(tx.PutAffiliate(af)); err != nil {
			return err
		}
		return a.affiliateChanged(tx, af, before, in.Password != nil)
	})
	return af, err
}

// Invites.

// putInvite stores a fresh invite for the affiliate and returns its token.
func (a *App) putInvite(tx *store.Tx, affiliateID string) string {
	token := session.Token(24)
	tx.PutInvite(session.Hash(token), &store.Invite{AffiliateID: affiliateID, ExpiresAt: a.Now().Add(InviteTTL)})
	return token
}

// InviteURL is the page where an invited affiliate sets a password.
func (a *App) InviteURL(token string) string { return a.cfg.BaseURL + "/portal/invite/" + token }

// IssueInvite makes a fresh invite link for an affiliate: the merchant's way
// to onboard or to reset a forgotten password.
func (a *App) IssueInvite(affiliateID string) (string, error) {
	var token string
	err := a.db.Update(func(tx *store.Tx) error {
		if _, err := getAffiliate(tx, affiliateID); err != nil {
			return err
		}
		token = a.putInvite(tx, affiliateID)
		af, err := tx.Affiliate(affiliateID)
		if err != nil {
			return err
		}
		return a.queueInviteMail(tx, af, token)
	})
	if err != nil {
		return "", err
	}
	return a.InviteURL(token), nil
}

// InviteAffiliate returns the affiliate an unexpired invite token belongs to.
func (a *App) InviteAffiliate(token string) (*store.Affiliate, error) {
	var af *store.Affiliate
	err := a.db.View(func(tx *store.Tx) error {
		inv, err := tx.Invite(session.Hash(token))
		if err != nil || a.Now().After(inv.ExpiresAt) {
			return NotFound("invite_not_found", "this invite link is invalid or has expired")
		}
		af, err = getAffiliate(tx, inv.AffiliateID)
		return err
	})
	return af, err
}

// AcceptInvite sets the affiliate's password and uses up the token.
func (a *App) AcceptInvite(token, password string) (*store.Affiliate, error) {
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	var af *store.Affiliate
	err = a.db.Update(func(tx *store.Tx) error {
		inv, err := tx.Invite(session.Hash(token))
		if err != nil || a.Now().After(inv.ExpiresAt) {
			return NotFound("invite_not_found", "this invite link is invalid or has expired")
		}
		if af, err = getAffiliate(tx, inv.AffiliateID); err != nil {
			return err
		}
		af.PasswordHash = hash
		tx.DeleteInvite(session.Hash(token))
		if err := tx.PutAffiliate(af); err != nil {
			return err
		}
		return endAccount(tx, SessionAffiliate, af.ID)
	})
	return af, err
}

// AuthenticateAffiliate checks a portal sign-in. Blocked affiliates are
// refused with ErrForbidden; pending ones may sign in and see that they wait.
func (a *App) AuthenticateAffiliate(email, password, ip string) (*store.Affiliate, error) {
	var af *store.Affiliate
	err := a.checkLogin("affiliate", email, ip, func() bool {
		err := a.db.View(func(tx *store.Tx) (err error) { af, err = tx.AffiliateByEmail(email); return })
		if err != nil {
			session.CheckPassword("", password)
			return false
		}
		return session.CheckPassword(af.PasswordHash, password)
	})
	if err != nil {
		return nil, err
	}
	if af.Status == StatusBlocked {
		return nil, ErrForbidden
	}
	return af, nil
}

// Enrollments.

// Enroll puts an affiliate in a program under code (generated from the
// affiliate's name when empty). Codes are unique across all programs and
// case-insensitive. Enrolling again returns the existing enrollment unless a
// different code is asked for, which replaces it.
func (a *App) Enroll(programID, affiliateID, code string) (*store.Enrollment, *store.Program, error) {
	return a.EnrollWithCoupon(programID, affiliateID, code, "")
}

// EnrollWithCoupon is Enroll with a coupon code for the affiliate (""
// keeps the enrolment's coupon): a purchase with it is the affiliate's,
// cookie or not. Coupons are unique across programs, in any case.
func (a *App) EnrollWithCoupon(programID, affiliateID, code, coupon string) (*store.Enrollment, *store.Program, error) {
	code = strings.TrimSpace(code)
	if code != "" {
		if err := check.Code("code", code); err != nil {
			return nil, nil, err
		}
	}
	coupon = strings.TrimSpace(coupon)
	if coupon != "" {
		if err := check.Code("coupon", coupon); err != nil {
			return nil, nil, err
		}
	}
	var e *store.Enrollment
	var p *store.Program
	err := a.db.Update(func(tx *store.Tx) error {
		var err error
		if p, err = liveProgram(tx, programID); err != nil {
			return err
		}
		af, err := getAffiliate(tx, affiliateID)
		if err != nil {
			return err
		}
		if old, err := tx.Enrollment(programID, affiliateID); err == nil && (code == "" || strings.EqualFold(code, old.Code)) {
			e = old
			if coupon == "" || coupon == old.Coupon {
				return nil
			}
			e.Coupon = coupon
			return enrollmentConflict(tx.PutEnrollment(e), code, coupon)
		}
		e = &store.Enrollment{ProgramID: programID, AffiliateID: affiliateID, Code: code, Coupon: coupon, CreatedAt: a.Now()}
		if code != "" {
			return enrollmentConflict(tx.PutEnrollment(e), code, coupon)
		}
		return enrollmentConflict(putGeneratedCode(tx, e, af.Name), code, coupon)
	})
	return e, p, err
}

// enrollmentConflict names the field a refused enrolment collided on.
func enrollmentConflict(err error, code, coupon string) error {
	var dup *store.DuplicateError
	if !errors.As(err, &dup) {
		return err
	}
	if dup.Field == "coupon" {
		return Conflict("coupon", "duplicate_coupon", "coupon %q is already taken", coupon)
	}
	return Conflict("code", "duplicate_code", "referral code %q is already taken", code)
}

// putGeneratedCode stores e under a free code made from the affiliate's
// name, inside the caller's write (so that an affiliate joining never
// exists without its enrollment): the stem, then the stem and a number,
// then the stem and a random suffix. Any other refusal (a coupon taken) is
// returned.
func putGeneratedCode(tx *store.Tx, e *store.Enrollment, name string) error {
	base := CodeBase(name)
	for i := 0; i < 50; i++ {
		e.Code = base
		if i > 0 {
			e.Code = base + strconv.Itoa(100+int(session.Uint32()%9900))
		}
		err := tx.PutEnrollment(e)
		var dup *store.DuplicateError
		if !errors.As(err, &dup) || dup.Field != "code" {
			return err
		}
	}
	e.Code = base + strings.ToLower(session.Token(6))
	return tx.PutEnrollment(e)
}

// CodeBase makes a URL-safe code stem from a name: "Jane O'Neil" -> "janeoneil".
func CodeBase(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
		if b.Len() >= 20 {
			break
		}
	}
	if b.Len() < 2 {
		return "ref" + strings.ToLower(session.Token(3))
	}
	return b.String()
}
