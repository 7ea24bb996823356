package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Admins, API keys, programs, affiliates, enrollments and invites: the
// low-volume records, stored as JSON.

func init() {
	reindexers = append(reindexers,
		jsonReindexer("admin", pAdmin, func(a *Admin) []derivedKey { return a.derived() }),
		jsonReindexer("api key", pAPIKey, func(k *APIKey) []derivedKey { return k.derived() }),
		// Affiliates and enrolments also count (per status, per program).
		reindexer{kind: "affiliate", prefix: pAffiliate, derive: func(tx *Tx, v []byte) ([]derivedKey, error) {
			var a Affiliate
			if err := jsonUnmarshal(v, &a); err != nil {
				return nil, err
			}
			return a.derived(), tx.countAffiliate(nil, &a)
		}},
		reindexer{kind: "enrollment", prefix: pEnrollment, derive: func(tx *Tx, v []byte) ([]derivedKey, error) {
			var e Enrollment
			if err := jsonUnmarshal(v, &e); err != nil {
				return nil, err
			}
			return e.derived(), tx.addCount(programEnrolledKey(e.ProgramID), 1)
		}},
	)
}

func jsonReindexer[T any](kind, prefix string, derive func(*T) []derivedKey) reindexer {
	return reindexer{kind: kind, prefix: prefix, derive: func(_ *Tx, val []byte) ([]derivedKey, error) {
		var rec T
		if err := jsonUnmarshal(val, &rec); err != nil {
			return nil, err
		}
		return derive(&rec), nil
	}}
}

// getRecord reads one JSON record, naming what was missing in the error.
func getRecord[T any](tx *Tx, what, id string, k []byte) (*T, error) {
	var v T
	if err := tx.getJSON(k, &v); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("store: %s %s: %w", what, id, ErrNotFound)
		}
		return nil, err
	}
	return &v, nil
}

// listRecords returns every JSON record under prefix, newest first (ids are
// time-ordered).
func listRecords[T any](tx *Tx, prefix string) ([]*T, error) {
	return scanRecords[T](tx, prefix, true)
}

// scanRecords returns every JSON record under prefix, in key order or
// reversed.
func scanRecords[T any](tx *Tx, prefix string, reverse bool) ([]*T, error) {
	var out []*T
	err := tx.scan([]byte(prefix), nil, reverse, true, func(k []byte, item *badger.Item) (bool, error) {
		var v T
		err := item.Value(func(b []byte) error { return jsonUnmarshal(b, &v) })
		if err != nil {
			return false, fmt.Errorf("store: decode %q: %w", k, err)
		}
		out = append(out, &v)
		return true, nil
	})
	return out, err
}

// Admins.

func (a *Admin) derived() []derivedKey {
	return []derivedKey{uniqueEntry("email", adminEmailKey(a.Email), a.ID)}
}

// Admin returns an admin by id.
func (tx *Tx) Admin(id string) (*Admin, error) {
	return getRecord[Admin](tx, "admin", id, adminKey(id))
}

// AdminByEmail returns the admin with that email (compared normalised).
func (tx *Tx) AdminByEmail(email string) (*Admin, error) {
	id, err := tx.get(adminEmailKey(email))
	if err != nil {
		return nil, fmt.Errorf("store: admin %q: %w", email, err)
	}
	return tx.Admin(string(id))
}

// HasAdmin reports whether at least one admin exists.
func (tx *Tx) HasAdmin() (bool, error) {
	found := false
	err := tx.scan([]byte(pAdmin), nil, false, false, func([]byte, *badger.Item) (bool, error) {
		found = true
		return false, nil
	})
	return found, err
}

// PutAdmin creates or replaces an admin; a second admin with the same email
// fails with ErrDuplicate.
func (tx *Tx) PutAdmin(a *Admin) error {
	var oldKeys []derivedKey
	if old, err := tx.Admin(a.ID); err == nil {
		oldKeys = old.derived()
	}
	if err := tx.putDerived(oldKeys, a.derived()); err != nil {
		return err
	}
	return tx.setJSON(adminKey(a.ID), a)
}

// API keys.

func (k *APIKey) derived() []derivedKey {
	return []derivedKey{uniqueEntry("key", apiKeyHashKey(k.Hash), k.ID)}
}

// APIKey returns an API key by id.
func (tx *Tx) APIKey(id string) (*APIKey, error) {
	return getRecord[APIKey](tx, "api key", id, apiKeyKey(id))
}

// APIKeyByHash returns the key whose secret hashes to hash.
func (tx *Tx) APIKeyByHash(hash string) (*APIKey, error) {
	id, err := tx.get(apiKeyHashKey(hash))
	if err != nil {
		return nil, fmt.Errorf("store: api key by hash: %w", err)
	}
	return tx.APIKey(string(id))
}

// APIKeys lists all keys, newest first.
func (tx *Tx) APIKeys() ([]*APIKey, error) { return listRecords[APIKey](tx, pAPIKey) }

// PutAPIKey creates or replaces an API key. A new key, or a change to
// whether it is revoked, bumps the accounts revision: the API's
// authentication caches keys by it. Recording when a key was last used
// does not.
func (tx *Tx) PutAPIKey(k *APIKey) error {
	var oldKeys []derivedKey
	old, err := tx.APIKey(k.ID)
	switch {
	case err == nil:
		oldKeys = old.derived()
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if err := tx.putDerived(oldKeys, k.derived()); err != nil {
		return err
	}
	if old == nil || (old.RevokedAt == nil) != (k.RevokedAt == nil) {
		if err := tx.bumpAccountsRevision(); err != nil {
			return err
		}
	}
	return tx.setJSON(apiKeyKey(k.ID), k)
}

// Programs.

// Program returns a program by id, deleted or not.
func (tx *Tx) Program(id string) (*Program, error) {
	return getRecord[Program](tx, "program", id, programKey(id))
}

// Programs lists every program, deleted ones included, newest first.
func (tx *Tx) Programs() ([]*Program, error) { return listRecords[Program](tx, pProgram) }

// PutProgram creates or replaces a program.
func (tx *Tx) PutProgram(p *Program) error {
	if err := tx.bumpAccountsRevision(); err != nil {
		return err
	}
	return tx.setJSON(programKey(p.ID), p)
}

// Affiliates.

func (a *Affiliate) derived() []derivedKey {
	d := []derivedKey{
		uniqueEntry("email", affiliateEmailKey(a.Email), a.ID),
		// A copy of the name: lists of thousands of affiliates' balances
		// or rows read it without decoding each affiliate's JSON.
		{k: affiliateNameKey(a.ID), v: []byte(a.Name)},
	}
	return append(d, a.searchKeys()...) // affiliate_search.go
}

func affiliateNameKey(id string) []byte { return key(tAffiliateName).id(id) }

// AffiliateName returns an affiliate's name ("" when there is none).
func (tx *Tx) AffiliateName(id string) (string, error) {
	b, err := tx.get(affiliateNameKey(id))
	if isNotFound(err) {
		return "", nil
	}
	return string(b), err
}

// Affiliate returns an affiliate by id.
func (tx *Tx) Affiliate(id string) (*Affiliate, error) {
	return getRecord[Affiliate](tx, "affiliate", id, affiliateKey(id))
}

// AffiliateByEmail returns the affiliate with that email (compared normalised).
func (tx *Tx) AffiliateByEmail(email string) (*Affiliate, error) {
	id, err := tx.get(affiliateEmailKey(email))
	if err != nil {
		return nil, fmt.Errorf("store: affiliate %q: %w", email, err)
	}
	return tx.Affiliate(string(id))
}

// Affiliates lists every affiliate, newest first.
func (tx *Tx) Affiliates() ([]*Affiliate, error) { return listRecords[Affiliate](tx, pAffiliate) }

// AffiliatesPage lists up to limit affiliates older than the cursor id
// (newest first); next is the cursor of the following page or "".
func (tx *Tx) AffiliatesPage(cursor string, limit int) (page []*Affiliate, next string, err error) {
	return pageRecords[Affiliate](tx, pAffiliate, cursor, limit, func(a *Affiliate) string { return a.ID })
}

// ProgramsPage is AffiliatesPage for programs.
func (tx *Tx) ProgramsPage(cursor string, limit int) (page []*Program, next string, err error) {
	return pageRecords[Program](tx, pProgram, cursor, limit, func(p *Program) string { return p.ID })
}

func pageRecords[T any](tx *Tx, prefix, cursor string, limit int, idOf func(*T) string) ([]*T, string, error) {
	var start []byte
	if cursor != "" {
		start = append(key(prefix).id(cursor), 0)
		// Reverse seek lands on the greatest key <= start: the cursor record
		// itself, which the loop skips.
	}
	var out []*T
	more := false
	err := tx.scan([]byte(prefix), start, true, true, func(k []byte, item *badger.Item) (bool, error) {
		if cursor != "" && string(k[len(prefix):]) >= cursor {
			return true, nil
		}
		if len(out) == limit {
			more = true
			return false, nil
		}
		var v T
		if err := item.Value(func(b []byte) error { return jsonUnmarshal(b, &v) }); err != nil {
			return false, fmt.Errorf("store: decode %q: %w", k, err)
		}
		out = append(out, &v)
		return true, nil
	})
	next := ""
	if more && len(out) > 0 {
		next = idOf(out[len(out)-1])
	}
	return out, next, err
}

// PutAffiliate creates or replaces an affiliate; a second affiliate with the
// same email fails with ErrDuplicate.
func (tx *Tx) PutAffiliate(a *Affiliate) error {
	var oldKeys []derivedKey
	old, err := tx.Affiliate(a.ID)
	switch {
	case err == nil:
		oldKeys = old.derived()
	case isNotFound(err):
		old = nil
	default:
		return err
	}
	if err := tx.putDerived(oldKeys, a.derived()); err != nil {
		return err
	}
	if err := tx.countAffiliate(old, a); err != nil {
		return err
	}
	if err := tx.bumpAccountsRevision(); err != nil {
		return err
	}
	return tx.setJSON(affiliateKey(a.ID), a)
}

// Enrollments.

func (e *Enrollment) derived() []derivedKey {
	d := []derivedKey{
		uniqueEntry("code", codeKey(e.Code), e.ProgramID+e.AffiliateID),
		indexEntry(key(iEnrollmentByAffiliate).id(e.AffiliateID).id(e.ProgramID)),
		indexEntry(affiliateSearchKey(NormSearch(NormCode(e.Code)), e.AffiliateID, termOfEnrollment)),
	}
	if e.Coupon != "" {
		d = append(d, uniqueEntry("coupon", couponKey(e.Coupon), e.ProgramID+e.AffiliateID))
	}
	return d
}

// Enrollment returns the enrollment of an affiliate in a program.
func (tx *Tx) Enrollment(programID, affiliateID string) (*Enrollment, error) {
	return getRecord[Enrollment](tx, "enrollment", programID+"/"+affiliateID, enrollmentKey(programID, affiliateID))
}

// EnrollmentByCode finds the enrollment owning a referral code (any case).
func (tx *Tx) EnrollmentByCode(code string) (*Enrollment, error) {
	v, err := tx.get(codeKey(code))
	if err != nil {
		return nil, fmt.Errorf("store: referral code %q: %w", code, err)
	}
	if len(v) != 2*IDLen {
		return nil, errCorrupt
	}
	return tx.Enrollment(string(v[:IDLen]), string(v[IDLen:]))
}

// EnrollmentByCoupon finds the enrollment owning a coupon code (any case).
func (tx *Tx) EnrollmentByCoupon(coupon string) (*Enrollment, error) {
	v, err := tx.get(couponKey(coupon))
	if err != nil {
		return nil, fmt.Errorf("store: coupon %q: %w", coupon, err)
	}
	if len(v) != 2*IDLen {
		return nil, errCorrupt
	}
	return tx.Enrollment(string(v[:IDLen]), string(v[IDLen:]))
}

// ProgramEnrollments lists a program's enrollments in key order.
func (tx *Tx) ProgramEnrollments(programID string) ([]*Enrollment, error) {
	return listRecords[Enrollment](tx, string(key(pEnrollment).id(programID)))
}

// Enrollments lists every enrollment in one scan, by program (oldest
// first) then affiliate: for pages that show each affiliate's programs.
func (tx *Tx) Enrollments() ([]*Enrollment, error) {
	return scanRecords[Enrollment](tx, pEnrollment, false)
}

// HasEnrollment reports whether any affiliate is enrolled in any program,
// reading one key.
func (tx *Tx) HasEnrollment() (bool, error) {
	found := false
	err := tx.scan([]byte(pEnrollment), nil, false, false, func([]byte, *badger.Item) (bool, error) {
		found = true
		return false, nil
	})
	return found, err
}

// AffiliateEnrollments lists the programs an affiliate belongs to.
func (tx *Tx) AffiliateEnrollments(affiliateID string) ([]*Enrollment, error) {
	prefix := key(iEnrollmentByAffiliate).id(affiliateID)
	var out []*Enrollment
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		e, err := tx.Enrollment(string(k[len(prefix):]), affiliateID)
		if err != nil {
			return false, err
		}
		out = append(out, e)
		return true, nil
	})
	return out, err
}

// PutEnrollment creates or replaces an enrollment; a code already used by
// another enrollment (in any program, any case) fails with ErrDuplicate.
func (tx *Tx) PutEnrollment(e *Enrollment) error {
	var oldKeys []derivedKey
	old, err := tx.Enrollment(e.ProgramID, e.AffiliateID)
	switch {
	case err == nil:
		oldKeys = old.derived()
	case !isNotFound(err):
		return err
	}
	if err := tx.putDerived(oldKeys, e.derived()); err != nil {
		return err
	}
	if old == nil {
		if err := tx.addCount(programEnrolledKey(e.ProgramID), 1); err != nil {
			return err
		}
	}
	if err := tx.bumpAccountsRevision(); err != nil {
		return err
	}
	return tx.setJSON(enrollmentKey(e.ProgramID, e.AffiliateID), e)
}

// Invites.

// Invite returns the invite whose token hashes to tokenHash.
func (tx *Tx) Invite(tokenHash string) (*Invite, error) {
	return getRecord[Invite](tx, "invite", "", inviteKey(tokenHash))
}

// PutInvite stores an invite under the hash of its token.
func (tx *Tx) PutInvite(tokenHash string, inv *Invite) error {
	return tx.setJSON(inviteKey(tokenHash), inv)
}

// DeleteInvite removes a used invite.
func (tx *Tx) DeleteInvite(tokenHash string) { tx.del(inviteKey(tokenHash)) }
