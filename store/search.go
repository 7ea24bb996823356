package store

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Search indexes answer the list filters that the time indexes cannot: an
// email prefix (and, for purchases, a status) combined with program,
// affiliate and dates, newest first, without reading records.
//
// Keys are grouped by day, then ordered by email inside the day:
//
//	i-lead-q:  <day><email>\0<time><program><affiliate><lead id>
//	i-lead-aq: <affiliate><day><email>\0<time><program><lead id>
//
// A query walks days from the newest down. In each day one seek lands on the
// emails starting with the prefix, the keys found are checked against the
// other filters from their own bytes, sorted newest first and handed out.
// So a page costs one seek per day visited plus one key per email that
// matches the prefix in those days: a common prefix fills a page from the
// first day; a rare one visits many days but reads almost nothing in each.
// The affiliate variant keeps a filter on one affiliate from reading other
// affiliates' keys.
//
// Purchases have the same two indexes (i-pur-q:, i-pur-aq:) with the status
// in the key; with an empty prefix they serve a status filter.

// Fixed tail lengths after the email's 0x00 terminator.
const (
	leadSearchTail        = 8 + 3*IDLen     // time, program, affiliate, lead
	leadAffSearchTail     = 8 + 2*IDLen     // time, program, lead
	purchaseSearchTail    = 8 + 3*IDLen + 1 // time, program, affiliate, status, purchase
	purchaseAffSearchTail = 8 + 2*IDLen + 1 // time, program, status, purchase
)

// statusByte is a purchase status in search keys.
func statusByte(s string) byte {
	switch s {
	case "paid":
		return 'p'
	case "refunded":
		return 'r'
	}
	return '?'
}

func orNoAffiliate(id string) string {
	if id == "" {
		return NoAffiliate
	}
	return id
}

func (l *Lead) searchKeys() []derivedKey {
	day, email := DayNumber(l.CreatedAt), NormEmail(l.Email)
	d := []derivedKey{indexEntry(key(iLeadSearch).day(day).str(email).time(l.CreatedAt).
		id(l.ProgramID).id(orNoAffiliate(l.AffiliateID)).id(l.ID))}
	if l.AffiliateID != "" {
		d = append(d, indexEntry(key(iLeadAffSearch).id(l.AffiliateID).day(day).str(email).time(l.CreatedAt).
			id(l.ProgramID).id(l.ID)))
	}
	return d
}

func (p *Purchase) searchKeys() []derivedKey {
	t := p.PurchasedAt
	day, email, st := DayNumber(t), NormEmail(p.Email), statusByte(p.Status)
	d := []derivedKey{indexEntry(append(key(iPurchaseSearch).day(day).str(email).time(t).
		id(p.ProgramID).id(orNoAffiliate(p.AffiliateID)), st).id(p.ID))}
	if p.AffiliateID != "" {
		d = append(d, indexEntry(append(key(iPurchaseAffSearch).id(p.AffiliateID).day(day).str(email).time(t).
			id(p.ProgramID), st).id(p.ID)))
	}
	return d
}

// searchSpec is one walk over a search index.
type searchSpec struct {
	base      []byte // index prefix, plus the affiliate id for the per-affiliate variants
	tail      int    // tail length after the email terminator
	hasAff    bool   // the tail carries the affiliate
	hasStatus bool   // the tail carries a status byte

	prefix    string // normalised email prefix ("" = any)
	programID string
	affID     string // checked from the key when hasAff
	status    byte   // 0 = any

	fromKey, toKey uint64 // time bounds [fromKey, toKey); toKey 0 = open
	loDay, hiDay   uint32 // days to visit, both included
}

// searchHit is one entry that passed the filters.
type searchHit struct {
	suffix []byte // time + id: the cursor form
}

// id is the record id of the hit.
func (h searchHit) id() string { return string(h.suffix[8:]) }

// walkOrder says how a search walk hands out one day's hits.
type walkOrder bool

const (
	newestFirst walkOrder = true  // a page's order
	anyOrder    walkOrder = false // enough for a count, which then skips sorting a day's hits
)

// walk hands out hits day by day, newest day first, and within a day
// newest first when order is newestFirst, starting strictly after the
// cursor suffix `after` when it is not nil, until fn returns false.
// maxKeys > 0 stops the walk at the end of the first day after which more
// than maxKeys keys were read; walk then reports done=false and the oldest
// day it finished.
func (tx *Tx) searchWalk(sp *searchSpec, after []byte, maxKeys int, order walkOrder, fn func(searchHit) (bool, error)) (done bool, lastDay uint32, err error) {
	hi := sp.hiDay
	if after != nil {
		if d := DayNumber(timeFromKey(be64(after))); d < hi {
			hi = d
		}
	}
	if hi < sp.loDay {
		return true, sp.loDay, nil
	}
	it := tx.txn.NewIterator(badger.IteratorOptions{Prefix: sp.base, Reverse: true})
	defer it.Close()
	prefix := []byte(sp.prefix)
	dayStart := len(sp.base)
	read := 0
	var hits []searchHit
	var arena []byte // the hits' suffixes, a chunk at a time (match)
	day := hi
	for {
		seek := prefixEnd(append(append(bytes.Clone(sp.base), be32(day)...), prefix...))
		it.Seek(seek)
		hits = hits[:0]
		next, more := uint32(0), false
		for ; it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) < dayStart+4+1+sp.tail {
				return false, day, errCorrupt
			}
			d := be32u(k[dayStart:])
			email := k[dayStart+4 : len(k)-sp.tail-1]
			if d != day {
				next, more = d, d >= sp.loDay // the newest earlier day that has keys
				break
			}
			if !bytes.HasPrefix(email, prefix) {
				next, more = day-1, day > sp.loDay
				break
			}
			read++
			if h, ok := sp.match(k[len(k)-sp.tail:], &arena); ok {
				hits = append(hits, h)
			}
		}
		if order == newestFirst {
			slices.SortFunc(hits, func(a, b searchHit) int { return bytes.Compare(b.suffix, a.suffix) })
		}
		for _, h := range hits {
			if after != nil && bytes.Compare(h.suffix, after) >= 0 {
				continue
			}
			ok, err := fn(h)
			if err != nil || !ok {
				return false, day, err
			}
		}
		if !more {
			return true, day, nil
		}
		if maxKeys > 0 && read > maxKeys {
			return false, day, nil
		}
		day = next
	}
}

// match checks a key's tail against the filters. A hit's suffix is copied
// into arena, a chunk shared by many hits: a common prefix on a busy day
// matches tens of thousands of keys per walk, and two allocations per hit
// were a fifth of such a search's time.
func (sp *searchSpec) match(tail []byte, arena *[]byte) (searchHit, bool) {
	t := be64(tail)
	if t < sp.fromKey || sp.toKey != 0 && t >= sp.toKey {
		return searchHit{}, false
	}
	rest := tail[8:]
	if sp.programID != "" && string(rest[:IDLen]) != sp.programID {
		return searchHit{}, false
	}
	rest = rest[IDLen:]
	if sp.hasAff {
		if sp.affID != "" && string(rest[:IDLen]) != sp.affID {
			return searchHit{}, false
		}
		rest = rest[IDLen:]
	}
	if sp.hasStatus {
		if sp.status != 0 && rest[0] != sp.status {
			return searchHit{}, false
		}
		rest = rest[1:]
	}
	n := 8 + len(rest)
	if cap(*arena)-len(*arena) < n {
		*arena = make([]byte, 0, max(64<<10, n)) // earlier chunks stay with the hits that point into them
	}
	start := len(*arena)
	*arena = append(append(*arena, tail[:8]...), rest...)
	return searchHit{suffix: (*arena)[start : start+n : start+n]}, true
}

// leadSearchSpec builds the walk for a lead query with an email prefix.
func leadSearchSpec(q *LeadQuery, b bounds) *searchSpec {
	sp := &searchSpec{prefix: NormEmail(q.EmailPrefix), programID: q.ProgramID}
	if q.AffiliateID != "" {
		sp.base, sp.tail = key(iLeadAffSearch).id(q.AffiliateID), leadAffSearchTail
	} else {
		sp.base, sp.tail, sp.hasAff = key(iLeadSearch), leadSearchTail, true
	}
	b.apply(sp)
	return sp
}

// purchaseSearchSpec builds the walk for a purchase query with an email
// prefix or a status.
func purchaseSearchSpec(q *PurchaseQuery, b bounds) *searchSpec {
	sp := &searchSpec{prefix: NormEmail(q.EmailPrefix), programID: q.ProgramID, hasStatus: true}
	if q.Status != "" {
		sp.status = statusByte(q.Status)
	}
	if q.AffiliateID != "" && q.AffiliateID != NoAffiliate {
		sp.base, sp.tail = key(iPurchaseAffSearch).id(q.AffiliateID), purchaseAffSearchTail
	} else {
		sp.base, sp.tail, sp.hasAff, sp.affID = key(iPurchaseSearch), purchaseSearchTail, true, q.AffiliateID
	}
	b.apply(sp)
	return sp
}

// emailHasPrefix compares a stored email with a normalised prefix.
func emailHasPrefix(email, prefix string) bool {
	return prefix == "" || strings.HasPrefix(NormEmail(email), prefix)
}

func be32u(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// stringDecoder reads the codec.go encoding out of one string, handing out
// substrings of it rather than fresh copies.
type stringDecoder struct {
	s   string
	i   int
	err error
}

func (d *stringDecoder) version() byte {
	if len(d.s) == 0 {
		d.err = errCorrupt
		return 0
	}
	d.i = 1
	return d.s[0]
}

func (d *stringDecoder) uvarint() uint64 {
	var v uint64
	for shift := uint(0); d.i < len(d.s) && shift < 64; shift += 7 {
		c := d.s[d.i]
		d.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.err = errCorrupt
	return 0
}

func (d *stringDecoder) str() string {
	if d.err != nil || d.i >= len(d.s) {
		return ""
	}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)-d.i) {
		d.err = errCorrupt
		return ""
	}
	v := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return v
}

func (d *stringDecoder) time() time.Time {
	if d.err != nil || d.i >= len(d.s) {
		return time.Time{}
	}
	u := d.uvarint()
	us := int64(u>>1) ^ -int64(u&1) // zig-zag, as binary.AppendVarint writes
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
