package store

import (
	"bytes"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNoPrefixIsAPrefixOfAnother(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range allPrefixes {
		if seen[p] {
			t.Errorf("prefix %q listed twice", p)
		}
		seen[p] = true
		if !strings.HasSuffix(p, ":") || strings.Count(p, ":") != 1 {
			t.Errorf("prefix %q must end with its only ':'", p)
		}
		for _, q := range allPrefixes {
			if p != q && strings.HasPrefix(q, p) {
				t.Errorf("prefix %q is a prefix of %q", p, q)
			}
		}
	}
}

func TestTimeOrderIsByteOrder(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	times := []time.Time{
		base, base.Add(time.Microsecond), base.Add(time.Second), base.Add(255 * time.Microsecond),
		base.Add(256 * time.Microsecond), base.AddDate(1, 0, 0), time.Unix(0, 0), base.Add(-time.Hour),
		time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	type entry struct {
		t time.Time
		k []byte
	}
	var entries []entry
	for _, tm := range times {
		entries = append(entries, entry{tm, key(iLeadAll).time(tm).id(NewID(tm))})
	}
	sort.Slice(entries, func(i, j int) bool { return bytes.Compare(entries[i].k, entries[j].k) < 0 })
	for i := 1; i < len(entries); i++ {
		if entries[i].t.Before(entries[i-1].t) {
			t.Fatalf("byte order puts %v after %v", entries[i].t, entries[i-1].t)
		}
	}
}

func TestIDsSortByTime(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []string
	var want []string
	for i := 0; i < 1000; i++ {
		tm := base.Add(time.Duration(i%7) * time.Millisecond).Add(time.Duration(i/7) * time.Second)
		id := NewID(tm)
		if !ValidID(id) {
			t.Fatalf("NewID made invalid id %q", id)
		}
		if got := IDTime(id); !got.Equal(tm.Truncate(time.Millisecond)) {
			t.Fatalf("IDTime(%q) = %v, want %v", id, got, tm)
		}
		ids = append(ids, id)
	}
	want = append(want, ids...)
	sort.Slice(want, func(i, j int) bool { return IDTime(want[i]).Before(IDTime(want[j])) })
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	for i := range sorted {
		if !IDTime(sorted[i]).Equal(IDTime(want[i])) {
			t.Fatalf("string order differs from time order at %d", i)
		}
	}
	// Ids made in the same millisecond still increase.
	a, b := NewID(base), NewID(base)
	if !(a < b) {
		t.Fatalf("same-millisecond ids not increasing: %s, %s", a, b)
	}
	for _, bad := range []string{"", "short", strings.Repeat("Z", IDLen), strings.Repeat("0", IDLen-1) + "I", "8" + strings.Repeat("0", IDLen-1)} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestStringsInKeysAreTerminated(t *testing.T) {
	// "ab" + terminator must sort before "abc": a prefix scan for one
	// email never runs into a longer one.
	k1 := key(iLeadByEmail).str("ab").time(time.Unix(9e9, 0))
	k2 := key(iLeadByEmail).str("abc").time(time.Unix(1, 0))
	if bytes.HasPrefix(k2, key(iLeadByEmail).str("ab")) {
		t.Fatal("terminated string is a prefix of a longer one")
	}
	if bytes.Compare(k1, k2) >= 0 {
		t.Fatal("shorter string does not sort first")
	}
	if got := key("x:").str("a\x00b"); !bytes.Equal(got, []byte("x:ab\x00")) {
		t.Fatalf("NUL not stripped: %q", got)
	}
	if NormEmail("  Jane@Example.COM ") != "jane@example.com" || NormCode(" SPRING ") != "spring" {
		t.Fatal("normalisation")
	}
}
