package app

import (
	"errors"
	"sync"

	"github.com/spiffy/spiffy/store"
)

// codeTarget is what a referral code resolves to; nil fields mean the code
// does not track (unknown, blocked or pending affiliate, deleted program).
type codeTarget struct {
	enr *store.Enrollment
	prg *store.Program
}

// accountCache keeps decoded programs, affiliates and what referral codes
// resolve to, so that a click or a lead checks one number (the store's
// accounts revision, kept in memory) instead of reading up to three JSON
// records: on the tracking path that decoding was a third of a click's CPU
// and a sixth of a lead's.
//
// The whole cache belongs to one accounts revision. A reader at a newer
// revision clears it and starts the new one; a reader at an older one (it
// took the revision just before a change committed) neither reads nor fills
// it. Together with the order in accountReader, an answer from the cache is
// never older than the reader's own revision. The maps are bounded: when
// one is full it is simply cleared, which costs a refill, never a wrong
// answer. Cached records are shared: read-only.
type accountCache struct {
	mu         sync.RWMutex
	rev        int64
	codes      map[string]*codeTarget
	programs   map[string]*store.Program
	affiliates map[string]*store.Affiliate
	max        int
}

// maxCachedAccounts bounds each of the account cache's maps.
const maxCachedAccounts = 8192

// newAccountCache makes a cache of at most max entries of each kind.
func newAccountCache(max int) *accountCache {
	c := &accountCache{max: max}
	c.reset(0)
	return c
}

func (c *accountCache) reset(rev int64) {
	c.rev = rev
	c.codes = make(map[string]*codeTarget)
	c.programs = make(map[string]*store.Program)
	c.affiliates = make(map[string]*store.Affiliate)
}

// cacheGet looks key up in one of the cache's maps for a reader at revision rev.
func cacheGet[V any](c *accountCache, m func(*accountCache) map[string]V, rev int64, key string) (v V, ok bool) {
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
func cachePut[V any](c *accountCache, m func(*accountCache) map[string]V, rev int64, key string, v V) {
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

func cachedCodes(c *accountCache) map[string]*codeTarget           { return c.codes }
func cachedPrograms(c *accountCache) map[string]*store.Program     { return c.programs }
func cachedAffiliates(c *accountCache) map[string]*store.Affiliate { return c.affiliates }

// accountReader reads programs, affiliates and referral codes in one
// snapshot, through the cache.
type accountReader struct {
	tx    *store.Tx
	cache *accountCache
	rev   int64
}

// accountReader reads accounts in tx at revision rev, which the caller took
// from store.DB.AccountsRevision before opening tx: the snapshot then holds
// at least that revision's records (store/revision.go), so nothing older
// than rev is ever cached as rev.
func (a *App) accountReader(tx *store.Tx, rev int64) *accountReader {
	return &accountReader{tx: tx, cache: a.accounts, rev: rev}
}

// Program returns the program with that id (store.ErrNotFound when there is none).
func (r *accountReader) Program(id string) (*store.Program, error) {
	return cached(r, cachedPrograms, id, r.tx.Program)
}

// Affiliate returns the affiliate with that id (store.ErrNotFound when there is none).
func (r *accountReader) Affiliate(id string) (*store.Affiliate, error) {
	return cached(r, cachedAffiliates, id, r.tx.Affiliate)
}

// cached returns what load gives for id, through one of the cache's maps.
func cached[V any](r *accountReader, m func(*accountCache) map[string]V, id string, load func(string) (V, error)) (V, error) {
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
func (r *accountReader) Code(code string) (*codeTarget, error) {
	return cached(r, cachedCodes, store.NormCode(code), r.resolveCode)
}

// resolveCode reads what a code resolves to; an unknown code, or one whose
// program or affiliate no longer tracks, gives an empty target.
func (r *accountReader) resolveCode(code string) (*codeTarget, error) {
	t := &codeTarget{}
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
	if prg != nil && prg.DeletedAt == nil && af != nil && attributable(af) {
		t.enr, t.prg = enr, prg
	}
	return t, nil
}
