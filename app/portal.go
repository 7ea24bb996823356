package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// The affiliate portal's rules. Every read here takes the affiliate id the
// caller got from the signed-in session (never one from a URL or a form) and
// scopes its store queries by it, so one affiliate can never reach another's
// referrals whatever ids, cursors or dates a request carries. The program's
// sharing flags are read in the same transaction as the data on every call,
// so switching sharing off hides the data at once.

// forbidden is a 403 that both matches ErrForbidden (errors.Is) and carries
// a message for the person reading the error page (errors.As *Error).
func forbidden(code, msg string) error {
	return fmt.Errorf("app: %w: %w", ErrForbidden, &Error{Kind: KindForbidden, Code: code, Message: msg})
}

// Programs and links.

// PortalPrograms lists the live programs the affiliate is enrolled in, by
// name, each with its totals over r. Links are left out unless the
// affiliate is active.
func (a *App) PortalPrograms(affiliateID string, r views.PortalRange) ([]*views.PortalProgram, error) {
	out, err := store.Read(a.db, func(tx *store.Tx) ([]*views.PortalProgram, error) {
		af, err := portalAffiliate(tx, affiliateID)
		if err != nil {
			return nil, err
		}
		return views.ReadPortalPrograms(tx, af, r)
	})
	if err != nil {
		return nil, fmt.Errorf("app: portal programs: %w", err)
	}
	return out, nil
}

// portalAffiliate reads the signed-in affiliate, refusing a blocked one.
func portalAffiliate(tx *store.Tx, id string) (*store.Affiliate, error) {
	af, err := getAffiliate(tx, id)
	if err == nil && af.Status == StatusBlocked {
		return nil, forbidden("affiliate_blocked", "this account has been blocked")
	}
	return af, err
}

// badPortalCursor refuses a portal page link whose cursor this server did
// not hand out.
func badPortalCursor() error {
	return Invalid("cursor", "invalid_cursor", "this page link is not valid; go back to the first page")
}

// portalAccess enforces what every per-program portal read needs: the
// affiliate exists and is active, the program is live and the affiliate is
// enrolled in it. A program the affiliate is not in is "not found", exactly
// like a program that does not exist, so ids cannot be probed.
func portalAccess(tx *store.Tx, affiliateID, programID string) (*views.PortalProgram, error) {
	af, err := getAffiliate(tx, affiliateID)
	if err != nil {
		return nil, err
	}
	switch af.Status {
	case StatusActive:
	case StatusPending:
		return nil, forbidden("affiliate_pending", "your account is awaiting the program owner's approval")
	default:
		return nil, forbidden("affiliate_blocked", "this account has been blocked")
	}
	notFound := NotFound("program_not_found", "program not found")
	if !store.ValidID(programID) {
		return nil, notFound
	}
	e, err := tx.Enrollment(programID, af.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	p, err := liveProgram(tx, programID)
	if err != nil {
		return nil, err
	}
	return &views.PortalProgram{Program: p, Code: e.Code, Coupon: e.Coupon, Link: p.ReferralLink(e.Code), JoinedAt: e.CreatedAt}, nil
}

// checkShared refuses a list the program does not share.
func checkShared(p *store.Program, kind string) error {
	switch kind {
	case views.PortalLeads:
		if !p.ShareLeads {
			return forbidden("leads_not_shared", "this program does not share leads with its affiliates")
		}
	case views.PortalPurchases:
		if !p.SharePurchasers {
			return forbidden("purchases_not_shared", "this program does not share purchases with its affiliates")
		}
	default:
		return NotFound("not_found", "no such list")
	}
	return nil
}

// PortalReport returns the affiliate's link, statistics and (where the
// program shares them) rows for one program and date range.
func (a *App) PortalReport(affiliateID, programID string, q views.PortalReportQuery) (*views.PortalReport, error) {
	rep, err := store.Read(a.db, func(tx *store.Tx) (*views.PortalReport, error) {
		pp, err := portalAccess(tx, affiliateID, programID)
		if err != nil {
			return nil, err
		}
		return views.ReadPortalReport(tx, pp, affiliateID, q)
	})
	switch {
	case errors.Is(err, store.ErrBadCursor):
		return nil, badPortalCursor()
	case err != nil:
		return nil, fmt.Errorf("app: portal report: %w", err)
	}
	return rep, nil
}

// PortalPayouts reads the affiliate's Payouts page: its balances per
// currency, a page of the payouts that paid it, with its own item only,
// and its payout details.
func (a *App) PortalPayouts(affiliateID, cursor string) (*views.PortalPayoutsPage, error) {
	page, err := store.Read(a.db, func(tx *store.Tx) (*views.PortalPayoutsPage, error) {
		af, err := portalAffiliate(tx, affiliateID)
		if err != nil {
			return nil, err
		}
		return views.ReadPortalPayouts(tx, af, cursor)
	})
	if errors.Is(err, store.ErrBadCursor) {
		return nil, badPortalCursor()
	}
	return page, err
}

// CSV downloads.

// PortalCSV checks that the affiliate may download the program's leads or
// purchases (kind) and returns the file's name and a function that streams
// it in the portal column set. Checking comes first so that a refusal can
// still be answered with a proper status before any byte is written.
func (a *App) PortalCSV(affiliateID, programID, kind string, r views.PortalRange) (filename string, write func(ctx context.Context, w io.Writer) error, err error) {
	var pp *views.PortalProgram
	err = a.db.View(func(tx *store.Tx) error {
		var err error
		if pp, err = portalAccess(tx, affiliateID, programID); err != nil {
			return err
		}
		return checkShared(pp.Program, kind)
	})
	if err != nil {
		return "", nil, fmt.Errorf("app: portal csv: %w", err)
	}
	filename, write = export.PortalFile(a.db, affiliateID, pp.Program, kind, r.From, r.To)
	return filename, write, nil
}

// Joining.

// JoinInput is a program's public sign-up form.
type JoinInput struct {
	Name     string
	Email    string
	Password string
	Terms    bool   // the program's terms were accepted
	IP       string // the client's address: sign-ups are limited per IP
}

// JoinProgram signs a new affiliate up through a program's public page: the
// affiliate is created pending (active when the program auto-approves) and
// enrolled under a generated code, in one write. An email that already has
// an account is refused with a 409 (never a second account).
func (a *App) JoinProgram(programID string, in JoinInput) (*store.Affiliate, *store.Enrollment, error) {
	if _, err := a.Program(programID); err != nil {
		return nil, nil, err
	}
	in.Name, in.Email = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email)
	if err := check.Text("name", in.Name, true, 100); err != nil {
		return nil, nil, err
	}
	if err := check.Email("email", in.Email); err != nil {
		return nil, nil, err
	}
	if !in.Terms {
		return nil, nil, Invalid("terms", "terms_required", "please accept the program terms to join")
	}
	if err := a.joins.Take(in.IP, a.Now()); err != nil { // each costs a bcrypt hash and may leave a pending account
		return nil, nil, err
	}
	// Hash outside the write: bcrypt is slow and the writer is shared.
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, nil, err
	}
	now := a.Now()
	af := &store.Affiliate{ID: store.NewID(now), Name: in.Name, Email: in.Email, Status: StatusPending, PasswordHash: hash, CreatedAt: now}
	var e *store.Enrollment
	err = a.db.Update(func(tx *store.Tx) error {
		p, err := liveProgram(tx, programID)
		if err != nil {
			return err
		}
		if p.AutoApprove {
			af.Status = StatusActive
		}
		if err := tx.PutAffiliate(af); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return Conflict("email", "duplicate_email", "an account with this email already exists; sign in to the partner portal instead")
			}
			return err
		}
		e = &store.Enrollment{ProgramID: p.ID, AffiliateID: af.ID, CreatedAt: now}
		if err := putGeneratedCode(tx, e, af.Name); err != nil {
			return err
		}
		if af.Status == StatusActive {
			return a.queueApprovedMail(tx, af)
		}
		return a.queueApplicationMails(tx, af, p)
	})
	if err != nil {
		return nil, nil, err
	}
	return af, e, nil
}
