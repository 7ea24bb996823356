package views

import "github.com/spiffy/spiffy/store"

// Reader reads the views that need no checking first, each in its own read
// transaction.
type Reader struct{ db *store.DB }

// NewReader is a Reader over the store.
func NewReader(db *store.DB) *Reader { return &Reader{db: db} }

// Programs lists the live (not deleted) programs, newest first.
func (r *Reader) Programs() ([]*store.Program, error) {
	return store.Read(r.db, func(tx *store.Tx) ([]*store.Program, error) {
		all, err := tx.Programs()
		var out []*store.Program
		for _, p := range all {
			if p.DeletedAt == nil {
				out = append(out, p)
			}
		}
		return out, err
	})
}

// ProgramsPage lists live programs for the API's cursor pagination; the
// cursor is the id the last page ended on ("" = the newest).
func (r *Reader) ProgramsPage(cursor string, limit int) ([]*store.Program, string, error) {
	var out []*store.Program
	next := cursor
	err := r.db.View(func(tx *store.Tx) error {
		for len(out) < limit {
			page, n, err := tx.ProgramsPage(next, limit-len(out))
			if err != nil {
				return err
			}
			for _, p := range page {
				if p.DeletedAt == nil {
					out = append(out, p)
				}
			}
			if next = n; n == "" {
				return nil
			}
		}
		return nil
	})
	return out, next, err
}

// Affiliates lists every affiliate, newest first.
func (r *Reader) Affiliates() ([]*store.Affiliate, error) {
	return store.Read(r.db, func(tx *store.Tx) ([]*store.Affiliate, error) { return tx.Affiliates() })
}

// EnrollmentsOfProgram lists a program's affiliates.
func (r *Reader) EnrollmentsOfProgram(programID string) ([]*store.Enrollment, error) {
	return store.Read(r.db, func(tx *store.Tx) ([]*store.Enrollment, error) { return tx.ProgramEnrollments(programID) })
}

// EnrollmentsOfAffiliate lists the programs an affiliate belongs to.
func (r *Reader) EnrollmentsOfAffiliate(affiliateID string) ([]*store.Enrollment, error) {
	return store.Read(r.db, func(tx *store.Tx) ([]*store.Enrollment, error) { return tx.AffiliateEnrollments(affiliateID) })
}

// LeadsPage returns one page of leads, newest first, and the next cursor
// ("" on the last page).
func (r *Reader) LeadsPage(q store.LeadQuery) (out []*store.Lead, next string, err error) {
	err = r.db.View(func(tx *store.Tx) (err error) { out, next, err = tx.Leads(q); return })
	return out, next, err
}

// PurchasesPage returns one page of purchases, newest purchased_at first,
// and the next cursor ("" on the last page).
func (r *Reader) PurchasesPage(q store.PurchaseQuery) (out []*store.Purchase, next string, err error) {
	err = r.db.View(func(tx *store.Tx) (err error) { out, next, err = tx.Purchases(q); return })
	return out, next, err
}

// APIKeys lists the API keys, newest first.
func (r *Reader) APIKeys() ([]*store.APIKey, error) {
	return store.Read(r.db, func(tx *store.Tx) ([]*store.APIKey, error) { return tx.APIKeys() })
}

// Admins lists the admins, oldest first.
func (r *Reader) Admins() ([]*store.Admin, error) {
	return store.Read(r.db, func(tx *store.Tx) ([]*store.Admin, error) { return tx.Admins() })
}

// HasAdmin reports whether setup has been done.
func (r *Reader) HasAdmin() (bool, error) {
	return store.Read(r.db, func(tx *store.Tx) (bool, error) { return tx.HasAdmin() })
}

// Admin returns an admin by id (for the session middleware).
func (r *Reader) Admin(id string) (*store.Admin, error) {
	return store.Read(r.db, func(tx *store.Tx) (*store.Admin, error) { return tx.Admin(id) })
}
