package store

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// ErrBadCursor is returned for a cursor this store did not hand out.
var ErrBadCursor = errors.New("store: bad cursor")

// LeadQuery selects leads, newest first. Empty fields do not filter.
type LeadQuery struct {
	ProgramID   string
	AffiliateID string
	Email       string    // exact match, compared normalised
	EmailPrefix string    // prefix match, compared normalised
	From, To    time.Time // From inclusive, To exclusive
	Cursor      string    // from a previous page's next cursor
	Limit       int
}

// PurchaseQuery selects purchases, newest purchased_at first.
type PurchaseQuery struct {
	ProgramID   string
	AffiliateID string
	Email       string
	EmailPrefix string
	Status      string
	From, To    time.Time // on purchased_at
	Cursor      string
	Limit       int
}

// Leads returns one page of leads matching q and the cursor of the next page
// ("" at the end). It walks the most selective index newest-first and checks
// the remaining conditions on each record.
func (tx *Tx) Leads(q LeadQuery) ([]*Lead, string, error) {
	var prefix []byte
	switch {
	case q.Email != "":
		prefix = key(iLeadByEmail).str(NormEmail(q.Email))
	case q.AffiliateID != "" && q.ProgramID != "":
		prefix = key(iLeadByAffProgram).id(q.AffiliateID).id(q.ProgramID)
	case q.AffiliateID != "":
		prefix = key(iLeadByAffiliate).id(q.AffiliateID)
	case q.ProgramID != "":
		prefix = key(iLeadByProgram).id(q.ProgramID)
	default:
		prefix = key(iLeadAll)
	}
	emailPrefix := NormEmail(q.EmailPrefix)
	var out []*Lead
	next, err := tx.scanIndexPage(prefix, q.From, q.To, q.Cursor, q.Limit, func(id string) (bool, error) {
		l, err := tx.Lead(id)
		if err != nil {
			return false, err
		}
		if q.ProgramID != "" && l.ProgramID != q.ProgramID ||
			q.AffiliateID != "" && l.AffiliateID != q.AffiliateID ||
			emailPrefix != "" && !strings.HasPrefix(NormEmail(l.Email), emailPrefix) {
			return false, nil
		}
		out = append(out, l)
		return true, nil
	})
	return out, next, err
}

// Purchases is Leads for purchases.
func (tx *Tx) Purchases(q PurchaseQuery) ([]*Purchase, string, error) {
	var prefix []byte
	switch {
	case q.Email != "":
		prefix = key(iPurchaseByEmail).str(NormEmail(q.Email))
	case q.AffiliateID != "" && q.ProgramID != "":
		prefix = key(iPurchaseByAffProgram).id(q.AffiliateID).id(q.ProgramID)
	case q.AffiliateID != "":
		prefix = key(iPurchaseByAffiliate).id(q.AffiliateID)
	case q.ProgramID != "":
		prefix = key(iPurchaseByProgram).id(q.ProgramID)
	default:
		prefix = key(iPurchaseAll)
	}
	emailPrefix := NormEmail(q.EmailPrefix)
	var out []*Purchase
	next, err := tx.scanIndexPage(prefix, q.From, q.To, q.Cursor, q.Limit, func(id string) (bool, error) {
		p, err := tx.Purchase(id)
		if err != nil {
			return false, err
		}
		if q.ProgramID != "" && p.ProgramID != q.ProgramID ||
			q.AffiliateID != "" && p.AffiliateID != q.AffiliateID ||
			q.Status != "" && p.Status != q.Status ||
			emailPrefix != "" && !strings.HasPrefix(NormEmail(p.Email), emailPrefix) {
			return false, nil
		}
		out = append(out, p)
		return true, nil
	})
	return out, next, err
}

// scanIndexPage walks index entries "prefix + time + id" newest first within
// [from, to), starting after cursor. match is called per entry and reports
// whether the entry was taken; the walk stops after limit taken entries and
// returns the cursor of the last one when more may follow.
func (tx *Tx) scanIndexPage(prefix []byte, from, to time.Time, cursor string, limit int, match func(id string) (bool, error)) (string, error) {
	if limit <= 0 {
		limit = 50
	}
	start := []byte(nil)
	var after []byte // suffix of the cursor entry: skip it and anything newer
	if cursor != "" {
		c, err := decodeCursor(cursor)
		if err != nil {
			return "", err
		}
		after = c
		start = append(bytes.Clone(prefix), c...)
	}
	if !to.IsZero() {
		// Entries before `to`: the greatest key <= prefix + (to-1µs) + 0xff….
		end := append(kb(bytes.Clone(prefix)).time(to.Add(-time.Microsecond)), 0xff)
		if start == nil || bytes.Compare(end, start) < 0 {
			start = end
		}
	}
	fromKey := uint64(0)
	if !from.IsZero() {
		fromKey = timeKey(from)
	}
	taken := 0
	var last []byte
	more := false
	err := tx.scan(prefix, start, true, false, func(k []byte, _ *badger.Item) (bool, error) {
		suffix := k[len(prefix):]
		if len(suffix) != 8+IDLen {
			return false, errCorrupt
		}
		if after != nil && bytes.Compare(suffix, after) >= 0 {
			return true, nil
		}
		if be64(suffix) < fromKey {
			return false, nil
		}
		if taken == limit {
			more = true
			return false, nil
		}
		ok, err := match(string(suffix[8:]))
		if err != nil {
			return false, err
		}
		if ok {
			taken++
			last = bytes.Clone(suffix)
		}
		return true, nil
	})
	if err != nil || !more {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(last), nil
}

func be64(b []byte) uint64 {
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

func decodeCursor(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 8+IDLen || !ValidID(string(b[8:])) {
		return nil, ErrBadCursor
	}
	return b, nil
}
