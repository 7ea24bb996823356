package export

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spiffy/spiffy/store"
)

// PortalFile is an affiliate's leads or purchases (kind: Leads or
// Purchases) in program p over the days from to to (both included), in the
// portal column set: the file's name, and a function that streams it. The
// caller has checked that the affiliate may download it.
func PortalFile(db *store.DB, affiliateID string, p *store.Program, kind string, from, to time.Time) (name string, write func(ctx context.Context, w io.Writer) error) {
	name = fmt.Sprintf("%s-%s-%s-to-%s.csv", slug(p.Name), kind, from.Format(time.DateOnly), to.Format(time.DateOnly))
	end := to.AddDate(0, 0, 1)
	if kind == Leads {
		q := store.LeadQuery{AffiliateID: affiliateID, ProgramID: p.ID, From: from, To: end}
		return name, func(ctx context.Context, w io.Writer) error {
			_, err := WriteLeads(ctx, w, db, q, Portal, nil)
			return err
		}
	}
	q := store.PurchaseQuery{AffiliateID: affiliateID, ProgramID: p.ID, From: from, To: end}
	return name, func(ctx context.Context, w io.Writer) error {
		_, err := WritePurchases(ctx, w, db, q, Portal, nil)
		return err
	}
}

// slug makes a safe file-name stem from a program name.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "program"
	}
	return s
}
