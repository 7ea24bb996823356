package check

import (
	"errors"
	"math/rand/v2"
	"net/mail"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app/fault"
)

func TestChecks(t *testing.T) {
	long := string(make([]byte, 300))
	for _, tc := range []struct {
		name  string
		err   error
		field string // "" when the input is accepted
	}{
		{"email", Email("email", "ann@shop.example"), ""},
		{"email missing", Email("email", ""), "email"},
		{"email with a display name", Email("email", "Ann <ann@shop.example>"), "email"},
		{"email without a dot in the domain", Email("email", "ann@localhost"), "email"},
		{"text", Text("name", "Ann", true, 10), ""},
		{"text required", Text("name", "  ", true, 10), "name"},
		{"text too long", Text("name", "Annabelle Smith", false, 10), "name"},
		{"text with a newline", Text("name", "Ann\nSmith", false, 10), "name"},
		{"url", HTTPURL("landing_url", "https://shop.example/x"), ""},
		{"url not http", HTTPURL("landing_url", "ftp://shop.example/"), "landing_url"},
		{"url relative", HTTPURL("landing_url", "/x"), "landing_url"},
		{"code", Code("code", "ann_2026-x"), ""},
		{"code too short", Code("code", "a"), "code"},
		{"code with a space", Code("code", "an n"), "code"},
		{"code too long", Code("code", long), "code"},
	} {
		var fe *fault.Error
		switch {
		case tc.field == "" && tc.err != nil:
			t.Errorf("%s: refused: %v", tc.name, tc.err)
		case tc.field != "" && (!errors.As(tc.err, &fe) || fe.Field != tc.field || fe.Kind != fault.KindInvalid):
			t.Errorf("%s: got %v, want an invalid %s", tc.name, tc.err, tc.field)
		}
	}
}

func TestDateRange(t *testing.T) {
	from, to, err := DateRange("2026-01-01", "2026-01-31")
	if err != nil || from.Format("2006-01-02") != "2026-01-01" || to.Format("2006-01-02") != "2026-02-01" {
		t.Fatalf("got %v %v %v; want [2026-01-01, 2026-02-01)", from, to, err)
	}
	if from, to, err := DateRange("", ""); err != nil || !from.IsZero() || !to.IsZero() {
		t.Fatalf("open range: %v %v %v", from, to, err)
	}
	for _, bad := range [][2]string{{"2026-13-01", ""}, {"", "yesterday"}, {"2026-02-01", "2026-01-01"}} {
		if _, _, err := DateRange(bad[0], bad[1]); !fault.IsKind(err, fault.KindInvalid) {
			t.Errorf("DateRange(%q, %q): %v, want invalid", bad[0], bad[1], err)
		}
	}
}

// TestPlainAddressAgreesWithParser: every address the fast path accepts,
// mail.ParseAddress accepts as it is (with a dot in the domain), over edge
// cases and random strings of the characters that matter.
func TestPlainAddressAgreesWithParser(t *testing.T) {
	parserAccepts := func(s string) bool {
		addr, err := mail.ParseAddress(s)
		return err == nil && addr.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
	}
	inputs := []string{"a@b.c", "pat@mail.example", "first.last+tag@sub.shop-x.example", "a@b", "a@.b", "a@b.", "a..b@c.d",
		".a@b.c", "a.@b.c", "a@b..c", "@b.c", "a@", "a@@b.c", "a@b@c.d", "a_b%c@d-e.f", "-@-.-", "+@+.+", "A@B.C", "a b@c.d", "a@b.c "}
	rng := rand.New(rand.NewPCG(3, 4))
	// Mostly the fast path's own characters around one "@", some others.
	common, rare := []rune("ab.._%+-9Z"), []rune("@ \"(),:;<>[]\\é!#")
	word := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			if rng.IntN(20) == 0 {
				b.WriteRune(rare[rng.IntN(len(rare))])
			} else {
				b.WriteRune(common[rng.IntN(len(common))])
			}
		}
		return b.String()
	}
	for range 200000 {
		inputs = append(inputs, word()+"@"+word()+"."+word())
	}
	accepted := 0
	for _, s := range inputs {
		if plainAddress(s) {
			accepted++
			if !parserAccepts(s) {
				t.Fatalf("plainAddress(%q) = true, but mail.ParseAddress refuses it or changes it", s)
			}
		}
	}
	if accepted < 1000 {
		t.Fatalf("only %d inputs took the fast path: the test would not show a disagreement", accepted)
	}
}
