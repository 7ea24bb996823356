// Package accounts keeps decoded programs, affiliates and what referral
// codes resolve to for the tracking path, so that a click or a lead checks
// one number (the store's accounts revision, kept in memory) instead of
// reading up to three JSON records: on the tracking path that decoding was
// a third of a click's CPU and a sixth of a lead's. It keeps the API's keys
// by the hash of their secret too: at a million leads, reading the key on
// every call was 4.5% of a purchase's CPU. It reads through the store and
// decides nothing: whether a code still tracks is the rule its owner
// (package app) gives New, whether a key is valid the caller's.
package accounts

import (
	"errors"
	"sync"

	"github.com/spiffy/spiffy/store"
)

// Target is what a referral code resolves to; nil fields mean the code
// does not track (unknown, or refused by the cache's tracks rule).
type Target struct {
	Enrollment *store.Enrollment
	Program    *store.Program
}

// Cache is the shared cache of decoded accounts.
//
// The whole cache belongs to one accounts revision. A reader at a newer
// revision clears it and starts the new one; a reader at an older one (it
// took the revision just before a change committed) neither reads nor fills
// it. Together with the order in Reader, an answer from the cache is never
// older than the reader's own revision. The maps are bounded: when one is
// full it is simply cleared, which costs a refill, never a wrong answer.
// Cached records are shared: read-only.
type Cache struct {
	tracks func(*store.Program, *store.Affiliate) bool

	mu         sync.RWMutex
	rev        int64
	codes      map[string]*Target
	programs   map[string]*store.Program
	affiliates map[string]*store.Affiliate
	keys       map[string]*store.APIKey // by the hash of the secret
	max        int
}

// New makes a cache of at most max entries of each kind. tracks says
// whether a code of a program and an affiliate still tracks.
func New(max int, tracks func(*store.Program, *store.Affiliate) bool) *Cache {
	c := &Cache{max: max, tracks: tracks}
	c.reset(0)
	return c
}

func (c *Cache) reset(rev int64) {
	c.rev = rev
	c.codes = make(map[string]*Target)
	c.programs = make(map[string]*store.Program)
	c.affiliates = make(map[string]*store.Affiliate)
	c.keys = make(map[string]*store.APIKey)
}

// cacheGet looks key up in one of the cache's maps for a reader at revision rev.
func cacheGet[V any](c *Cache, m func(*Cache) map[string]V, rev int64, key string) (v V, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.rev != rev {
		return v, false
	}
	v, ok = m(c)[key]
	return v, ok
}

// cachePut stores what a reader at revision rev read; a newer revision
// starts the cache afresh, an older one is not kept.
func cachePut[V any](c *Cache, m func(*Cache) map[string]V, rev int64, key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case rev < c.rev:
		return
	case rev > c.rev:
		c.reset(rev)
	}
	mm := m(c)
	if len(mm) >= c.max {
		clear(mm)
	}
	mm[key] = v
}

func cachedCodes(c *Cache) map[string]*Target               { return c.codes }
func cachedPrograms(c *Cache) map[string]*store.Program     { return c.programs }
func cachedAffiliates(c *Cache) map[string]*store.Affiliate { return c.affiliates }
func cachedKeys(c *Cache) map[string]*store.APIKey          { return c.keys }

// Reader reads programs, affiliates, referral codes and API keys in one
// snapshot, through the cache.
type Reader struct {
	tx    *store.Tx
	cache *Cache
	rev   int64
}

// Reader reads accounts in tx at revision rev, which the caller took from
// store.DB.AccountsRevision before opening tx: the snapshot then holds at
// least that revision's records (store/revision.go), so nothing older than
// rev is ever cached as rev.
func (c *Cache) Reader(tx *store.Tx, rev int64) *Reader {
	return &Reader{tx: tx, cache: c, rev: rev}
}

// Program returns the program with that id (store.ErrNotFound when there is none).
func (r *Reader) Program(id string) (*store.Program, error) {
	return cached(r, cachedPrograms, id, r.tx.Program)
}

// Affiliate returns the affiliate with that id (store.ErrNotFound when there is none).
func (r *Reader) Affiliate(id string) (*store.Affiliate, error) {
	return cached(r, cachedAffiliates, id, r.tx.Affiliate)
}

// APIKeyByHash returns the API key whose secret hashes to hash
// (store.ErrNotFound when there is none), revoked or not.
func (r *Reader) APIKeyByHash(hash string) (*store.APIKey, error) {
	return cached(r, cachedKeys, hash, r.tx.APIKeyByHash)
}

// cached returns what load gives for id, through one of the cache's maps.
func cached[V any](r *Reader, m func(*Cache) map[string]V, id string, load func(string) (V, error)) (V, error) {
	if v, ok := cacheGet(r.cache, m, r.rev, id); ok {
		return v, nil
	}
	v, err := load(id)
	if err != nil {
		return v, err
	}
	cachePut(r.cache, m, r.rev, id, v)
	return v, nil
}

// Code finds the program and enrollment a referral code tracks for.
func (r *Reader) Code(code string) (*Target, error) {
	return cached(r, cachedCodes, store.NormCode(code), r.resolveCode)
}

// resolveCode reads what a code resolves to; an unknown code, or one whose
// program or affiliate no longer tracks, gives an empty target.
func (r *Reader) resolveCode(code string) (*Target, error) {
	t := &Target{}
	enr, err := r.tx.EnrollmentByCode(code)
	if errors.Is(err, store.ErrNotFound) {
		return t, nil
	}
	if err != nil {
		return nil, err
	}
	prg, err := r.Program(enr.ProgramID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	af, err := r.Affiliate(enr.AffiliateID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if prg != nil && af != nil && r.cache.tracks(prg, af) {
		t.Enrollment, t.Program = enr, prg
	}
	return t, nil
}

// WriterReader reads programs and affiliates inside the writer's
// transaction: from the cache when it holds them at the revision last
// committed (every account change goes through the same writer, so none is
// newer but one earlier in this very batch, which is ordered as if after),
// else from the transaction. It never fills the cache: the transaction may
// hold changes not yet committed; the caller fills it beforehand, in a
// snapshot (a Reader).
type WriterReader struct {
	tx    *store.Tx
	cache *Cache
	rev   int64
}

// Writer returns a WriterReader over the writer's tx at the last committed
// accounts revision.
func (c *Cache) Writer(tx *store.Tx, rev int64) *WriterReader {
	return &WriterReader{tx: tx, cache: c, rev: rev}
}

// Program returns a program, from the cache or the transaction.
func (w *WriterReader) Program(id string) (*store.Program, error) {
	if p, ok := cacheGet(w.cache, cachedPrograms, w.rev, id); ok {
		return p, nil
	}
	return w.tx.Program(id)
}

// Affiliate returns an affiliate, from the cache or the transaction.
func (w *WriterReader) Affiliate(id string) (*store.Affiliate, error) {
	if af, ok := cacheGet(w.cache, cachedAffiliates, w.rev, id); ok {
		return af, nil
	}
	return w.tx.Affiliate(id)
}

// Tracking reports, from the cache alone, that code still tracks for the
// affiliate in the program (enrolled, active, program not deleted), with
// both; false when the cache does not know, or knows otherwise.
func (w *WriterReader) Tracking(code, programID, affiliateID string) (*store.Program, *store.Affiliate, bool) {
	if code == "" {
		return nil, nil, false
	}
	t, ok := cacheGet(w.cache, cachedCodes, w.rev, store.NormCode(code))
	if !ok || t.Enrollment == nil || t.Enrollment.ProgramID != programID || t.Enrollment.AffiliateID != affiliateID {
		return nil, nil, false
	}
	af, ok := cacheGet(w.cache, cachedAffiliates, w.rev, affiliateID)
	if !ok {
		return nil, nil, false
	}
	return t.Program, af, true
}
