package accounts

import (
	"testing"

	"github.com/spiffy/spiffy/store"
)

// TestAccountCacheRevisions: the cache answers only readers at its own
// revision; a newer reader starts it afresh and an older one cannot fill it.
func TestAccountCacheRevisions(t *testing.T) {
	c := New(2, nil)
	old, cur := &store.Program{ID: "p", Name: "old"}, &store.Program{ID: "p", Name: "new"}
	cachePut(c, cachedPrograms, 5, "p", cur)
	if got, ok := cacheGet(c, cachedPrograms, 5, "p"); !ok || got != cur {
		t.Fatalf("same revision: %v %v", got, ok)
	}
	if _, ok := cacheGet(c, cachedPrograms, 4, "p"); ok {
		t.Fatal("an older reader was answered from the cache")
	}
	cachePut(c, cachedPrograms, 4, "p", old)
	if got, _ := cacheGet(c, cachedPrograms, 5, "p"); got != cur {
		t.Fatal("an older reader overwrote the cache")
	}
	cachePut(c, cachedAffiliates, 6, "a", &store.Affiliate{ID: "a"})
	if _, ok := cacheGet(c, cachedPrograms, 6, "p"); ok {
		t.Fatal("a newer revision kept the old revision's entries")
	}
	cachePut(c, cachedAffiliates, 6, "b", &store.Affiliate{ID: "b"})
	cachePut(c, cachedAffiliates, 6, "c", &store.Affiliate{ID: "c"})
	if len(c.affiliates) > 2 {
		t.Fatalf("%d affiliates cached, max 2", len(c.affiliates))
	}
}
