package store

import (
	"bytes"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/spiffy/spiffy/store/best"
)

// The merchant's Affiliates pages at thousands of affiliates: search by
// name, email or referral code, pages by keyset, counts and each
// affiliate's results, all from keys kept on write.
//
//	i-aff-q:  <term>\0<affiliate id><source>  one key per search term
//	i-aff-st: <status>\0<affiliate id>        the affiliates of a status
//	t-afs:    <status>\0 -> count             how many have that status
//	t-enc:    <program id> -> count           how many a program enrolled
//	t-aft:    <affiliate id><program id> -> Tally of all time
//
// A search is one prefix scan of i-aff-q: for the typed text: it reads one
// key per term that starts with it, never a record. The terms of an
// affiliate are each word of its name, its whole name and its email
// (source 'a', kept by the affiliate's record) and each referral code
// (source 'c', kept by the enrolment), so renaming an affiliate never drops
// the key a code also needs.

// Sources of a search term, the last byte of its key.
const (
	termOfAffiliate  = 'a'
	termOfEnrollment = 'c'
)

// maxTermLen bounds a term's bytes: longer text is searched by its start.
const maxTermLen = 100

var foldAccents = runes.Remove(runes.In(unicode.Mn))

// NormSearch is the form affiliate search terms and queries are compared
// in: accents dropped, lower-cased, runs of spaces made one, trimmed,
// at most maxTermLen bytes ("Zoë  Núñez" → "zoe nunez").
func NormSearch(s string) string {
	t := transform.Chain(norm.NFD, foldAccents, norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	folded = strings.Join(strings.Fields(strings.ToLower(folded)), " ")
	if len(folded) > maxTermLen {
		folded = folded[:maxTermLen]
		for !utf8.ValidString(folded) { // a rune cut in half
			folded = folded[:len(folded)-1]
		}
	}
	return folded
}

// affiliateTerms are the search terms of an affiliate's own fields.
func affiliateTerms(a *Affiliate) []string {
	name := NormSearch(a.Name)
	terms := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	terms = append(terms, name, NormSearch(NormEmail(a.Email)))
	slices.Sort(terms)
	terms = slices.Compact(slices.DeleteFunc(terms, func(t string) bool { return t == "" }))
	// A term that starts another one adds no match (the first word of the
	// name starts the whole name) but one more key for a broad query to
	// read: drop it. Sorted, such a term comes right before one it starts.
	out := terms[:0]
	for i, t := range terms {
		if i+1 < len(terms) && strings.HasPrefix(terms[i+1], t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

func affiliateSearchKey(term, affiliateID string, source byte) []byte {
	return append(key(iAffiliateSearch).str(term).id(affiliateID), source)
}

func affiliateStatusKey(status, affiliateID string) []byte {
	return key(iAffiliateStatus).str(status).id(affiliateID)
}

func affiliateStatusCountKey(status string) []byte { return key(tAffiliateStatus).str(status) }
func programEnrolledKey(programID string) []byte   { return key(tProgramEnrolled).id(programID) }
func affiliateResultsKey(aff, prg string) []byte   { return key(tAffiliateResults).id(aff).id(prg) }

// searchKeys are the affiliate's index entries for search and status.
func (a *Affiliate) searchKeys() []derivedKey {
	terms := affiliateTerms(a)
	d := make([]derivedKey, 0, len(terms)+1)
	for _, t := range terms {
		d = append(d, indexEntry(affiliateSearchKey(t, a.ID, termOfAffiliate)))
	}
	return append(d, indexEntry(affiliateStatusKey(a.Status, a.ID)))
}

// countAffiliate keeps the per-status counts when an affiliate is written
// (old nil for a new one).
func (tx *Tx) countAffiliate(old, new *Affiliate) error {
	if old != nil && old.Status == new.Status {
		return nil
	}
	if old != nil {
		if err := tx.addCount(affiliateStatusCountKey(old.Status), -1); err != nil {
			return err
		}
	}
	return tx.addCount(affiliateStatusCountKey(new.Status), 1)
}

// addCount adds delta to a count and drops it at zero, as a reindex would
// never write a zero count.
func (tx *Tx) addCount(k []byte, delta int64) error {
	v, err := tx.addInt64(k, delta)
	if err == nil && v == 0 {
		tx.del(k)
	}
	return err
}

// AffiliateStatusCounts returns how many affiliates have each status.
func (tx *Tx) AffiliateStatusCounts() (map[string]int64, error) {
	out := map[string]int64{}
	prefix := []byte(tAffiliateStatus)
	err := tx.scanValues(prefix, nil, func(k []byte, item *badger.Item) (bool, error) {
		if len(k) < len(prefix)+1 || k[len(k)-1] != 0 {
			return false, errCorrupt
		}
		var n int64
		err := item.Value(func(v []byte) error {
			if len(v) != 8 {
				return errCorrupt
			}
			n = int64(be64(v))
			return nil
		})
		out[string(k[len(prefix):len(k)-1])] = n
		return true, err
	})
	return out, err
}

// ProgramEnrolledCount returns how many affiliates a program enrolled.
func (tx *Tx) ProgramEnrolledCount(programID string) (int64, error) {
	return tx.getInt64(programEnrolledKey(programID))
}

// AffiliateResults returns an affiliate's totals of all time in each
// program it has any in (keyed by program id), or in one program when
// programID is set. Each is one key kept on write.
func (tx *Tx) AffiliateResults(affiliateID, programID string) (map[string]*Tally, error) {
	out := map[string]*Tally{}
	prefix := key(tAffiliateResults).id(affiliateID)
	if programID != "" {
		prefix = prefix.id(programID)
	}
	err := tx.scanValues(prefix, nil, func(k []byte, item *badger.Item) (bool, error) {
		if len(k) != len(tAffiliateResults)+2*IDLen {
			return false, errCorrupt
		}
		var t Tally
		if err := item.Value(t.unmarshal); err != nil {
			return false, err
		}
		out[string(k[len(k)-IDLen:])] = &t
		return true, nil
	})
	return out, err
}

// AffiliatePageQuery selects one page of affiliates, newest first. Empty
// fields do not filter.
type AffiliatePageQuery struct {
	// Q is searched as the start of a word of the name, of the whole
	// name, of the email or of a referral code (NormSearch applies).
	Q         string
	Status    string
	ProgramID string // only affiliates enrolled in this program
	// After asks for the page of older affiliates after this id; Before
	// for the newer ones before it. Neither: the newest page.
	After, Before string
	Limit         int
}

// AffiliatePage is a page of affiliate ids, newest first, with the cursors
// of the pages around it ("" when there is none).
type AffiliatePage struct {
	IDs        []string
	Prev, Next string // Prev goes with Before, Next with After
}

// AffiliatePage returns one page of the affiliates q selects. Cost: the
// page's keys, plus for a search every key of a term that starts with the
// query, plus for a filter the source does not answer one key lookup per
// affiliate looked at.
func (tx *Tx) AffiliatePage(q AffiliatePageQuery) (*AffiliatePage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Q = NormSearch(q.Q)
	page := &AffiliatePage{}
	if q.Before != "" {
		ids, err := tx.affiliateWalk(q, q.Before, false, q.Limit+1)
		if err != nil {
			return nil, err
		}
		if len(ids) <= q.Limit {
			// Back at the newest: the first page, whole.
			q.Before = ""
			q.After = ""
			return tx.AffiliatePage(q)
		}
		ids = ids[:q.Limit]
		slices.Reverse(ids)
		page.IDs, page.Prev, page.Next = ids, ids[0], ids[len(ids)-1]
		return page, nil
	}
	ids, err := tx.affiliateWalk(q, q.After, true, q.Limit+1)
	if err != nil {
		return nil, err
	}
	if len(ids) > q.Limit {
		ids = ids[:q.Limit]
		page.Next = ids[len(ids)-1]
	}
	if q.After != "" && len(ids) > 0 {
		page.Prev = ids[0]
	}
	page.IDs = ids
	return page, nil
}

// affiliateWalk returns up to n ids that pass q's filters, from just past
// cursor ("" = the end) towards older ids (older) or newer ones.
func (tx *Tx) affiliateWalk(q AffiliatePageQuery, cursor string, older bool, n int) ([]string, error) {
	var out []string
	checkStatus, checkProgram := q.Status != "", q.ProgramID != ""
	visit := func(id string) (bool, error) {
		if checkStatus {
			if ok, err := tx.exists(affiliateStatusKey(q.Status, id)); err != nil || !ok {
				return err == nil, err
			}
		}
		if checkProgram {
			if ok, err := tx.exists(enrollmentKey(q.ProgramID, id)); err != nil || !ok {
				return err == nil, err
			}
		}
		out = append(out, id)
		return len(out) < n, nil
	}
	var err error
	switch {
	case q.Q != "":
		err = tx.walkSearch(q.Q, cursor, older, n, visit)
	case q.ProgramID != "":
		checkProgram = false
		err = tx.walkIDKeys(key(pEnrollment).id(q.ProgramID), cursor, older, visit)
	case q.Status != "":
		checkStatus = false
		err = tx.walkIDKeys(key(iAffiliateStatus).str(q.Status), cursor, older, visit)
	default:
		err = tx.walkIDKeys([]byte(pAffiliate), cursor, older, visit)
	}
	return out, err
}

// walkSearch visits the affiliates with a term starting with the
// normalised query q, each once, from just past cursor, newest first when
// older. Matches come in term order, not id order, so each round scans
// every key of the prefix and keeps only the k ids nearest the cursor (a
// bounded selection: no string per key, no sort of every match); a round
// whose ids the filters mostly refuse is followed by a wider one from
// where it ended.
func (tx *Tx) walkSearch(q, cursor string, older bool, want int, visit func(string) (bool, error)) error {
	k := max(2*want, 64)
	for {
		ids, more, err := tx.searchNearest(q, cursor, older, k)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if cont, err := visit(id); err != nil || !cont {
				return err
			}
		}
		if !more || len(ids) == 0 {
			return nil
		}
		cursor, k = ids[len(ids)-1], 2*k
	}
}

// searchNearest returns the k ids nearest past cursor (below it when
// older, above it otherwise; "" = from the end) among the affiliates with
// a term starting with q, nearest first, and whether there are more.
func (tx *Tx) searchNearest(q, cursor string, older bool, k int) ([]string, bool, error) {
	prefix := append(key(iAffiliateSearch), q...)
	// Nearest the cursor first: the greater id first when older.
	nearer := func(a, b [IDLen]byte) int {
		if older {
			return bytes.Compare(b[:], a[:])
		}
		return bytes.Compare(a[:], b[:])
	}
	kept := best.New(k, nearer)
	var cur [IDLen]byte
	copy(cur[:], cursor)
	err := tx.scan(prefix, nil, false, false, func(key []byte, _ *badger.Item) (bool, error) {
		if len(key) < len(prefix)+2+IDLen {
			return false, errCorrupt
		}
		var id [IDLen]byte
		copy(id[:], key[len(key)-1-IDLen:len(key)-1])
		if cursor != "" && nearer(cur, id) >= 0 { // at or before the cursor's side
			return true, nil
		}
		kept.Offer(id)
		return true, nil
	})
	out := make([]string, len(kept.Items()))
	for i, id := range kept.Items() {
		out[i] = string(id[:])
	}
	return out, kept.Dropped(), err
}

// walkIDKeys visits the ids that end the keys directly under prefix
// (prefix + id), key only, from just past cursor, newest first when older.
func (tx *Tx) walkIDKeys(prefix []byte, cursor string, older bool, visit func(string) (bool, error)) error {
	var start []byte
	if cursor != "" {
		start = append(bytes.Clone(prefix), cursor...)
	}
	return tx.scan(prefix, start, older, false, func(k []byte, _ *badger.Item) (bool, error) {
		if len(k) != len(prefix)+IDLen {
			return false, errCorrupt
		}
		id := string(k[len(prefix):])
		if id == cursor {
			return true, nil
		}
		return visit(id)
	})
}

// AffiliateProgramIDs lists the programs an affiliate is enrolled in, from
// the index keys alone (no enrolment record read), in program id order.
func (tx *Tx) AffiliateProgramIDs(affiliateID string) ([]string, error) {
	prefix := key(iEnrollmentByAffiliate).id(affiliateID)
	var out []string
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		if len(k) != len(prefix)+IDLen {
			return false, errCorrupt
		}
		out = append(out, string(k[len(prefix):]))
		return true, nil
	})
	return out, err
}

// FindAffiliate resolves what a person typed to pick an affiliate: an id,
// an email or a referral code (any case). ErrNotFound when none matches.
func (tx *Tx) FindAffiliate(text string) (*Affiliate, error) {
	text = strings.TrimSpace(text)
	if ValidID(text) {
		if a, err := tx.Affiliate(text); !isNotFound(err) {
			return a, err
		}
	}
	if strings.Contains(text, "@") {
		return tx.AffiliateByEmail(text)
	}
	e, err := tx.EnrollmentByCode(text)
	if err != nil {
		return nil, err
	}
	return tx.Affiliate(e.AffiliateID)
}

// affiliateSearchMigration (migration 6) writes the search, status and
// count keys of the affiliates and enrolments already stored, and each
// affiliate's results of all time from its daily tallies. It starts by
// dropping what an interrupted run left, so running it twice is the same
// as once.
func affiliateSearchMigration(db *DB) error {
	for _, p := range []string{iAffiliateSearch, iAffiliateStatus, tAffiliateStatus, tProgramEnrolled, tAffiliateResults} {
		if err := db.dropPrefix(p); err != nil {
			return err
		}
	}
	for _, r := range reindexers {
		if r.prefix == pAffiliate || r.prefix == pEnrollment {
			if err := db.reindexKind(r, nil); err != nil {
				return err
			}
		}
	}
	// t-ap: <affiliate><program><day> in key order: sum each affiliate and
	// program's days, then write the sums in chunks.
	sums := map[string]*Tally{}
	err := db.View(func(tx *Tx) error {
		prefix := []byte(tAffProgram)
		return tx.scanValues(prefix, nil, func(k []byte, item *badger.Item) (bool, error) {
			if len(k) != len(prefix)+2*IDLen+4 {
				return false, errCorrupt
			}
			aff, prg := string(k[len(prefix):len(prefix)+IDLen]), string(k[len(prefix)+IDLen:len(prefix)+2*IDLen])
			if aff == NoAffiliate {
				return true, nil
			}
			var t Tally
			if err := item.Value(t.unmarshal); err != nil {
				return false, err
			}
			k2 := string(affiliateResultsKey(aff, prg))
			if sums[k2] == nil {
				sums[k2] = &Tally{}
			}
			sums[k2].Add(&t)
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), 2000)]
		keys = keys[len(chunk):]
		err := db.Update(func(tx *Tx) error {
			for _, k := range chunk {
				if !sums[k].IsZero() {
					tx.set([]byte(k), sums[k].marshal())
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
