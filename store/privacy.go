package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Privacy: how long the network details of a visit (the IP address and the
// browser's user agent kept with clicks and leads) stay whole, and what
// erasing a person does to the clicks that lead to them. Both rewrite
// records in place: the binary format stays the same (only values change),
// and so does every derived key except a forgotten visitor id's index entry.
// docs/PRIVACY.md is the merchant's version of this.

// TruncateIP keeps only the network of an address: the /24 of an IPv4
// address (its last octet 0), the /48 of an IPv6 one. What does not parse as
// an address is dropped (""). Truncating twice changes nothing, so the
// retention job can tell a record it already handled.
func TruncateIP(s string) string {
	if s == "" {
		return ""
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}

// withoutQuery cuts a URL down to scheme, host and path: a query string or
// fragment may carry anything (an email, a token, a search), the rest says
// which page it was. What does not parse is dropped.
func withoutQuery(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
	return u.String()
}

// expireNetworkDetails truncates the IP and drops the user agent; it
// reports whether anything changed.
func expireNetworkDetails(ip, ua *string) bool {
	t := TruncateIP(*ip)
	if t == *ip && *ua == "" {
		return false
	}
	*ip, *ua = t, ""
	return true
}

// Forget clears what identifies the person on a lead whose email is erased:
// email, name, IP address, user agent, visitor id, and the query and
// fragment of the page it was left on. Ids, program, affiliate and times
// stay, so attribution and totals do not change.
func (l *Lead) Forget() {
	l.Email, l.Name, l.IP, l.UserAgent, l.VisitorID = "", "", "", "", ""
	l.URL = withoutQuery(l.URL)
}

// Forget clears what identifies the person on a purchase whose email is
// erased: email, name and visitor id. Money and attribution stay.
func (p *Purchase) Forget() { p.Email, p.Name, p.VisitorID = "", "", "" }

// Forget clears what could single out the visitor of a click: IP address,
// user agent, visitor id (and so its entry in the visitor index), and the
// query and fragment of the landing URL and the referrer. It reports whether
// anything changed. Program, affiliate, code, sub-id and time stay: the
// click still counts.
func (c *Click) Forget() bool {
	before := *c
	c.IP, c.UserAgent, c.VisitorID = "", "", ""
	c.URL, c.Referrer = withoutQuery(c.URL), withoutQuery(c.Referrer)
	return before != *c
}

// retentionChunk is how many records one retention step reads (outside the
// writer) and then rewrites; a var so tests can make it small.
var retentionChunk = 500

// RetentionResult says what one retention run changed.
type RetentionResult struct {
	Clicks, Leads int // records rewritten
	Writes        int // write operations used
}

// expiring is a record kind whose network details expire: its prefix, the
// name of its cursor and how to expire one stored value.
type expiring struct {
	name   string
	prefix string
	// expire decodes v and returns its new encoding (nil: nothing to change)
	// or recent = true when the record is not older than cutoff.
	expire func(v []byte, cutoff time.Time) (nv []byte, recent bool, err error)
}

var expiringKinds = []expiring{
	{"clicks", pClick, func(v []byte, cutoff time.Time) ([]byte, bool, error) {
		var c Click
		if err := c.unmarshal(v); err != nil {
			return nil, false, err
		}
		if !c.CreatedAt.Before(cutoff) {
			return nil, true, nil
		}
		if !expireNetworkDetails(&c.IP, &c.UserAgent) {
			return nil, false, nil
		}
		return c.marshal(), false, nil
	}},
	{"leads", pLead, func(v []byte, cutoff time.Time) ([]byte, bool, error) {
		var l Lead
		if err := l.unmarshal(v); err != nil {
			return nil, false, err
		}
		if !l.CreatedAt.Before(cutoff) {
			return nil, true, nil
		}
		if !expireNetworkDetails(&l.IP, &l.UserAgent) {
			return nil, false, nil
		}
		return l.marshal(), false, nil
	}},
}

// ExpireNetworkDetails truncates the IP address (IPv4 to /24, IPv6 to /48)
// and drops the user agent of every click and lead created before cutoff.
//
// Ids begin with their creation time, so records are walked in key order
// from where the previous run stopped (a cursor per kind under m:) up to
// the first record not older than cutoff: each record is read about once
// in its life, however many millions there are. Each step reads a chunk in
// a read transaction (the writer, and so tracking, never waits for the
// scan) and rewrites what needs it through the writer in one operation
// bounded by Tx.Full, re-reading each record there so a concurrent erasure
// is never undone. The cursor moves in the same operation, so a stopped run
// resumes where it was, and running twice changes nothing.
func (db *DB) ExpireNetworkDetails(ctx context.Context, cutoff time.Time) (RetentionResult, error) {
	var res RetentionResult
	for _, kind := range expiringKinds {
		for {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			n, more, err := db.expireStep(kind, cutoff)
			if n >= 0 {
				res.Writes++
			}
			if kind.prefix == pClick {
				res.Clicks += max(n, 0)
			} else {
				res.Leads += max(n, 0)
			}
			if err != nil {
				return res, fmt.Errorf("store: expire network details of %s: %w", kind.name, err)
			}
			if !more {
				break
			}
		}
	}
	return res, nil
}

// expireStep handles one chunk of a kind: it returns how many records it
// rewrote (-1 when it wrote nothing, not even the cursor) and whether more
// may follow.
func (db *DB) expireStep(kind expiring, cutoff time.Time) (int, bool, error) {
	cursorKey := retentionCursorKey(kind.name)
	var (
		cursor  []byte   // the seek position after the prefix: where this step starts
		changes []string // ids of the records to rewrite, in key order
		next    []byte   // the seek position after this chunk
		reached bool     // the scan met a recent record or the end
	)
	err := db.View(func(tx *Tx) error {
		c, err := tx.get(cursorKey)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		cursor = c
		start := append(key(kind.prefix), cursor...)
		stopID := MinID(cutoff) // ids from cutoff's millisecond on are recent
		seen := 0
		reached = true
		return tx.scan([]byte(kind.prefix), start, false, true, func(k []byte, item *badger.Item) (bool, error) {
			id := k[len(kind.prefix):]
			if string(id) >= stopID {
				return false, nil
			}
			var nv []byte
			var recent bool
			if err := item.Value(func(v []byte) error {
				var err error
				nv, recent, err = kind.expire(v, cutoff)
				return err
			}); err != nil {
				return false, fmt.Errorf("%q: %w", k, err)
			}
			if recent {
				return false, nil
			}
			if nv != nil {
				changes = append(changes, string(id))
			}
			next = append(bytes.Clone(id), 0) // just after this id
			if seen++; seen >= retentionChunk {
				reached = false
				return false, nil
			}
			return true, nil
		})
	})
	if err != nil || next == nil {
		return -1, false, err
	}
	n := 0
	err = db.Update(func(tx *Tx) error {
		n = 0
		moved := next
		for i, id := range changes {
			if tx.Full() {
				// Resume at this record next time: ids are fixed-length,
				// so the id itself is a seek position.
				moved, reached = []byte(changes[i]), false
				break
			}
			k := append(key(kind.prefix), id...)
			v, err := tx.get(k)
			if errors.Is(err, ErrNotFound) {
				continue // deleted meanwhile
			}
			if err != nil {
				return err
			}
			nv, _, err := kind.expire(v, cutoff)
			if err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
			if nv != nil {
				tx.set(k, nv)
				n++
			}
		}
		tx.set(cursorKey, moved)
		return nil
	})
	if err != nil {
		return -1, false, err
	}
	return n, !reached, nil
}

// ClickTrail gathers the clicks that lead to a person: the referral (click)
// ids and visitor ids found on their leads and purchases.
type ClickTrail struct {
	visitors, clicks map[string]bool
}

// AddLead adds the lead's click and visitor to the trail.
func (t *ClickTrail) AddLead(l *Lead) { t.add(l.VisitorID, l.ReferralID) }

// AddPurchase adds the purchase's click and visitor to the trail.
func (t *ClickTrail) AddPurchase(p *Purchase) { t.add(p.VisitorID, p.ReferralID) }

func (t *ClickTrail) add(visitor, click string) {
	if t.visitors == nil {
		t.visitors, t.clicks = map[string]bool{}, map[string]bool{}
	}
	if visitor != "" {
		t.visitors[visitor] = true
	}
	if ValidID(click) {
		t.clicks[click] = true
	}
}

// ForgetClicks forgets (Click.Forget) every click on the trail: the clicks
// named and every click of its visitor ids, in every program, deleted ones
// included, since a visitor id is one browser's whatever program it met.
// Writes are bounded by Tx.Full; it returns how many clicks changed.
func (db *DB) ForgetClicks(ctx context.Context, t *ClickTrail) (int, error) {
	if len(t.visitors)+len(t.clicks) == 0 {
		return 0, nil
	}
	ids := map[string]bool{}
	for id := range t.clicks {
		ids[id] = true
	}
	err := db.View(func(tx *Tx) error {
		var programs []string
		err := tx.scan([]byte(pProgram), nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
			programs = append(programs, string(k[len(pProgram):]))
			return true, nil
		})
		if err != nil {
			return err
		}
		for vid := range t.visitors {
			for _, prg := range programs {
				prefix := key(iClickByVisitor).id(prg).str(vid)
				err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
					ids[string(k[len(k)-IDLen:])] = true
					return true, nil
				})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: forget clicks: %w", err)
	}
	todo := make([]string, 0, len(ids))
	for id := range ids {
		todo = append(todo, id)
	}
	slices.Sort(todo)
	total := 0
	for len(todo) > 0 {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, done := 0, 0
		err := db.Update(func(tx *Tx) error {
			n, done = 0, 0
			for _, id := range todo {
				if tx.Full() {
					break
				}
				done++
				old, err := tx.Click(id)
				if err == nil {
					c := *old
					if !c.Forget() {
						continue
					}
					if err := tx.putDerived(old.derived(), c.derived()); err != nil {
						return err
					}
					tx.set(clickKey(id), c.marshal())
					n++
				} else if !errors.Is(err, ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: forget clicks: %w", err)
		}
		total += n
		todo = todo[done:]
	}
	return total, nil
}
