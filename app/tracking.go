package app

import (
	"errors"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/accounts"
	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/text"
	"github.com/spiffy/spiffy/store"
)

// Tracking rules: what a click and a lead posted by SpiffyJS become.
//
// Both run on the hot path, so the lookups that decide whether a request is
// worth storing run in a read-only transaction on the request's goroutine
// (many in parallel), and only the write itself goes to the single writer:
// one db.Update per request, batched with everybody else's. A request that
// stores nothing (unknown code, unattributable lead) never reaches the
// writer.

// Field size caps for tracking input. Longer values are cut rather than
// refused: losing a click because a referrer URL is long helps nobody.
const (
	maxURLLen       = 2048
	maxUserAgentLen = 512
	maxVisitorIDLen = 64
	maxNameLen      = 100
)

// ClickInput is a click posted by SpiffyJS, plus what the server knows of the request.
type ClickInput struct {
	Ref      string `json:"ref"`      // the referral code from ?ref=, ?via= or ?aff=
	Sub      string `json:"sub"`      // the affiliate's campaign sub-id, optional
	Prev     string `json:"prev"`     // the referral id the browser already holds
	URL      string `json:"url"`      // the landing page
	Referrer string `json:"referrer"` // document.referrer
	VID      string `json:"vid"`      // the visitor id from the spiffy_vid cookie
	EID      string `json:"eid"`      // the client event id (store.ValidEventID), sent again on a retry

	IP        string `json:"-"`
	UserAgent string `json:"-"`
}

// ClickResult is the referral the browser should keep.
type ClickResult struct {
	Referral  string    // click id to keep in spiffy_ref
	Program   string    // its program
	ExpiresAt time.Time // the kept click's time + the program's cookie_days
	Repeat    bool      // the event id was seen before: this is its first answer
}

// LeadInput is a lead posted by SpiffyJS.
type LeadInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Referral string `json:"referral"` // the click id held in spiffy_ref
	VID      string `json:"vid"`
	URL      string `json:"url"`
	// Program, when given, must be the referral's program; it lets a site
	// that runs several programs refuse another program's referral.
	Program string `json:"program"`
	EID     string `json:"eid"` // as ClickInput's

	IP        string `json:"-"`
	UserAgent string `json:"-"`
}

// LeadResult says what became of a posted lead.
type LeadResult struct {
	Lead    *store.Lead // nil when not attributed
	Created bool        // false: the program already had a lead with this email
}

// ErrUnknownReferralCode is the 404 for a code that does not (or no longer) track.
var ErrUnknownReferralCode = NotFound("unknown_referral_code", "this referral code is unknown or no longer active")

// cookieWindow is how long a program's referrals stay valid.
func cookieWindow(p *store.Program) time.Duration {
	days := p.CookieDays
	if days <= 0 {
		days = DefaultCookieDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// referralExpiry is when a click's referral stops counting.
func referralExpiry(p *store.Program, c *store.Click) time.Time {
	return c.CreatedAt.Add(cookieWindow(p))
}

// inWindow reports whether something happening at `at` can be credited to
// click c: not before the click, and before its cookie window ends.
func inWindow(p *store.Program, c *store.Click, at time.Time) bool {
	return !at.Before(c.CreatedAt) && at.Before(referralExpiry(p, c))
}

// attributable reports whether an affiliate may still earn: only active
// affiliates do. A blocked (or, after a status change, pending) affiliate's
// referrals are ignored as if they did not exist.
func attributable(af *store.Affiliate) bool { return af.Status == StatusActive }

// maxCachedAccounts bounds each of the account cache's maps. A full map is
// cleared, so the bound must hold every affiliate of a large program: at
// 8,192 with 10,000 affiliates buying, the map was cleared every few
// thousand purchases and most affiliate reads missed it (docs/PERFORMANCE.md,
// issue 17). A decoded affiliate is about 400 bytes: 6.5 MB at most.
const maxCachedAccounts = 16384

// tracks reports whether a referral code of the program and the affiliate
// still counts: the program is live and the affiliate attributable.
func tracks(p *store.Program, af *store.Affiliate) bool {
	return p.DeletedAt == nil && attributable(af)
}

// TrackClick records a click through a referral code and decides which
// referral the browser keeps: the new one, or (first_click programs) the one
// it already holds while that is valid in the same program.
func (a *App) TrackClick(in ClickInput) (*ClickResult, error) {
	code := strings.TrimSpace(in.Ref)
	if code == "" || len(code) > 64 {
		return nil, ErrUnknownReferralCode
	}
	now := a.Now()
	var (
		target *accounts.Target
		kept   *store.Click
	)
	rev := a.db.AccountsRevision()
	err := a.db.View(func(tx *store.Tx) error {
		acc := a.accounts.Reader(tx, rev)
		var err error
		if target, err = acc.Code(code); err != nil {
			return err
		}
		if target.Enrollment == nil {
			return ErrUnknownReferralCode
		}
		if target.Program.Attribution == AttributionFirst && in.Prev != "" {
			kept, err = heldReferral(tx, acc, target.Program, in.Prev, target.Enrollment.AffiliateID, now)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	enr, prg := target.Enrollment, target.Program
	c := &store.Click{
		ID:          store.NewID(now),
		ProgramID:   prg.ID,
		AffiliateID: enr.AffiliateID,
		Code:        enr.Code,
		SubID:       text.SubID(in.Sub),
		VisitorID:   text.VisitorID(in.VID, maxVisitorIDLen),
		URL:         text.Clean(in.URL, maxURLLen),
		Referrer:    text.Clean(in.Referrer, maxURLLen),
		IP:          in.IP,
		UserAgent:   text.Clean(in.UserAgent, maxUserAgentLen),
		CreatedAt:   now,
	}
	if kept == nil {
		kept = c
	}
	res, eid := &ClickResult{Referral: kept.ID, Program: prg.ID, ExpiresAt: referralExpiry(prg, kept)}, in.EID
	err = a.db.Update(func(tx *store.Tx) error { // the eid inside the write: racing copies make one click
		if first, err := tx.EventReply(store.EventClick, eid); first != nil || err != nil {
			if first != nil {
				*res = ClickResult{first.Record, first.Program, first.ExpiresAt, true}
			}
			return err
		}
		tx.PutEventReply(store.EventClick, eid, &store.EventReply{Record: res.Referral, Program: res.Program, ExpiresAt: res.ExpiresAt})
		return tx.InsertClick(c)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// heldReferral returns the click behind the browser's held referral when a
// first_click program should keep it: same program, still in its window, and
// its affiliate still active. Otherwise it returns nil.
func heldReferral(tx *store.Tx, acc *accounts.Reader, p *store.Program, prevID, newAffiliateID string, now time.Time) (*store.Click, error) {
	if !store.ValidID(prevID) {
		return nil, nil
	}
	c, err := tx.Click(prevID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.ProgramID != p.ID || !inWindow(p, c, now) {
		return nil, nil
	}
	if c.AffiliateID != newAffiliateID {
		af, err := acc.Affiliate(c.AffiliateID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !attributable(af) {
			return nil, nil
		}
	}
	return c, nil
}

// validReferral resolves a referral id to its click, live program and
// active affiliate when something happening at `at` may be credited to it.
// ok is false (and err nil) for an unknown, expired or unattributable one.
func validReferral(tx *store.Tx, acc *accounts.Reader, id string, at time.Time) (c *store.Click, p *store.Program, af *store.Affiliate, ok bool, err error) {
	if !store.ValidID(id) {
		return nil, nil, nil, false, nil
	}
	if c, err = tx.Click(id); err != nil {
		return nil, nil, nil, false, ignoreNotFound(err)
	}
	if p, err = acc.Program(c.ProgramID); err != nil {
		return nil, nil, nil, false, ignoreNotFound(err)
	}
	if p.DeletedAt != nil || !inWindow(p, c, at) {
		return nil, nil, nil, false, nil
	}
	if af, err = acc.Affiliate(c.AffiliateID); err != nil {
		return nil, nil, nil, false, ignoreNotFound(err)
	}
	if !attributable(af) {
		return nil, nil, nil, false, nil
	}
	return c, p, af, true, nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// TrackLead records a lead for the referral the browser holds. The result's
// Lead is nil when nothing was stored: no valid referral, Track Leads off,
// or the affiliate signing up with its own email. The same email in the
// same program returns the program's first lead (the first affiliate keeps
// it) with Created false.
func (a *App) TrackLead(in LeadInput) (*LeadResult, error) {
	email, eid := strings.TrimSpace(in.Email), in.EID
	if err := check.Email("email", email); err != nil {
		return nil, err
	}
	now := a.Now()
	var (
		click *store.Click
		prg   *store.Program
		ok    bool
		res   = &LeadResult{}
	)
	rev := a.db.AccountsRevision()
	err := a.db.View(func(tx *store.Tx) error {
		acc := a.accounts.Reader(tx, rev)
		var af *store.Affiliate
		// A repeated event gets its first lead, even with the referral expired since.
		first, err := tx.EventReply(store.EventLead, eid)
		if first != nil {
			res.Lead, err = tx.Lead(first.Record)
		}
		if first != nil || err != nil {
			return err
		}
		click, prg, af, ok, err = validReferral(tx, acc, in.Referral, now)
		if err != nil || !ok {
			return err
		}
		ok = prg.TrackLeads &&
			(in.Program == "" || in.Program == prg.ID) &&
			store.NormEmail(af.Email) != store.NormEmail(email)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return res, nil
	}
	lead := &store.Lead{
		ID:          store.NewID(now),
		ProgramID:   prg.ID,
		AffiliateID: click.AffiliateID,
		ReferralID:  click.ID,
		Code:        click.Code,
		SubID:       click.SubID,
		Email:       email,
		Name:        text.Clean(in.Name, maxNameLen),
		URL:         text.Clean(in.URL, maxURLLen),
		VisitorID:   text.VisitorID(in.VID, maxVisitorIDLen),
		IP:          in.IP,
		UserAgent:   text.Clean(in.UserAgent, maxUserAgentLen),
		CreatedAt:   now,
	}
	err = a.db.Update(func(tx *store.Tx) error {
		// The dedupe check runs inside the write so that two submissions of
		// the same email racing each other still make a single lead.
		first, err := tx.LeadByEmail(prg.ID, email)
		switch {
		case err == nil:
			res.Lead = first
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := tx.InsertLead(lead); err != nil {
			return err
		}
		res.Lead, res.Created = lead, true
		tx.PutEventReply(store.EventLead, eid, &store.EventReply{Record: lead.ID})
		return a.queueLeadEvent(tx, prg, lead)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
