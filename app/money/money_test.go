package money

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParseAndFormat(t *testing.T) {
	for _, tc := range []struct {
		in, cur string
		minor   int64
		ok      bool
		out     string
	}{
		{"49.00", "USD", 4900, true, "49.00"},
		{"49.5", "EUR", 4950, true, "49.50"},
		{"0.005", "USD", 1, true, "0.01"}, // half-up
		{"0.004", "USD", 0, true, "0.00"},
		{".5", "USD", 50, true, "0.50"},
		{"500", "JPY", 500, true, "500"},
		{"1.5", "JPY", 2, true, "2"},
		{"1.2345", "KWD", 1235, true, "1.235"},
		{"-1", "USD", 0, false, ""},
		{"1e3", "USD", 0, false, ""},
		{"", "USD", 0, false, ""},
		{".", "USD", 0, false, ""},
		{"12345678901234567890123456789012345", "USD", 0, false, ""},
	} {
		got, ok := Parse(tc.in, tc.cur)
		if ok != tc.ok || got != tc.minor {
			t.Errorf("Parse(%q, %s) = %d, %v; want %d, %v", tc.in, tc.cur, got, ok, tc.minor, tc.ok)
			continue
		}
		if ok && Format(got, tc.cur) != tc.out {
			t.Errorf("Format(%d, %s) = %q, want %q", got, tc.cur, Format(got, tc.cur), tc.out)
		}
	}
	if got := Format(-1234, "USD"); got != "-12.34" {
		t.Errorf("negative: %q", got)
	}
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		in     string
		hundth int64
		ok     bool
		out    string
	}{
		{"30", 3000, true, "30"}, {"12.5", 1250, true, "12.5"}, {"0.01", 1, true, "0.01"},
		{"100", 10000, true, "100"}, {"100.01", 0, false, ""}, {"thirty", 0, false, ""},
	} {
		got, ok := ParsePercent(tc.in)
		if ok != tc.ok || (ok && (got != tc.hundth || FormatPercent(got) != tc.out)) {
			t.Errorf("ParsePercent(%q) = %d, %v (%q)", tc.in, got, ok, FormatPercent(got))
		}
	}
	// 30% of 49.99 is 14.997, rounded half-up to 15.00.
	if got := PercentOf(4999, 3000); got != 1500 {
		t.Errorf("PercentOf = %d, want 1500", got)
	}
}

func TestValidCurrency(t *testing.T) {
	for cur, want := range map[string]bool{"USD": true, "usd": false, "US": false, "EURO": false, "U$D": false} {
		if ValidCurrency(cur) != want {
			t.Errorf("ValidCurrency(%q) = %v", cur, !want)
		}
	}
}

func TestDisplay(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		cur   string
		want  string
	}{
		{123450, "USD", "$1,234.50"},
		{5, "USD", "$0.05"},
		{0, "USD", "$0.00"},
		{99999, "USD", "$999.99"},
		{123450, "EUR", "€1,234.50"},
		{1235, "JPY", "¥1,235"},
		{1234500, "KWD", "KWD 1,234.500"},
		{-1250, "USD", "-$12.50"}, // a clawback
		{-1000000, "JPY", "-¥1,000,000"},
		{123456789012345, "USD", "$1,234,567,890,123.45"},
		{100, "CAD", "CA$1.00"}, // not to be read as US dollars
		{100, "CHF", "CHF 1.00"},
		{100, "ZZZ", "ZZZ 1.00"}, // not ISO 4217: the code itself
	} {
		if got := Display(tc.minor, tc.cur); got != tc.want {
			t.Errorf("Display(%d, %s) = %q, want %q", tc.minor, tc.cur, got, tc.want)
		}
	}
}

// TestParseMatchesBigRat checks the integer parser and PercentOf against
// the big.Rat arithmetic they replaced, over edge cases and random inputs.
func TestParseMatchesBigRat(t *testing.T) {
	bigParse := func(s string, scale int) (int64, bool) {
		s = strings.TrimSpace(s)
		if s == "" || len(s) > 32 {
			return 0, false
		}
		intPart, frac, _ := strings.Cut(s, ".")
		if intPart == "" && frac == "" {
			return 0, false
		}
		for _, part := range []string{intPart, frac} {
			for _, r := range part {
				if r < '0' || r > '9' {
					return 0, false
				}
			}
		}
		if intPart == "" {
			intPart = "0"
		}
		r, ok := new(big.Rat).SetString(intPart + "." + frac + "0")
		if !ok {
			return 0, false
		}
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
		return roundHalfUp(r)
	}
	bigPercent := func(amount, basis int64) int64 {
		v, _ := roundHalfUp(new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(amount), big.NewInt(basis)), big.NewInt(10000)))
		return v
	}
	inputs := []string{"", " ", ".", "0", "00", "0.", ".0", ".5", "5.", "49.00", "49.005", "49.004999", "0.0049", "0.005",
		"1.2.3", "-1", "+1", "1e3", "١٢", " 12.5 ", "922337203685477", "922337203685477.5", "922337203685478",
		"92233720368547.75", "9223372036854775807", "00000000000000000000000000000001", "000000000000000000000000000000001",
		"99999999999999999999999999999999", "0.99995", "0.99994", "12.345", "7.5", "7.4999999999999999999999"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := rng.IntN(20)
		b := make([]byte, 0, n+1)
		for range n {
			b = append(b, "0123456789"[rng.IntN(10)])
		}
		if len(b) > 0 && rng.IntN(2) == 0 {
			b = slices.Insert(b, rng.IntN(len(b)+1), '.')
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		for scale := 0; scale <= 4; scale++ {
			got, gotOK := parseDecimal(s, scale)
			want, wantOK := bigParse(s, scale)
			if got != want || gotOK != wantOK {
				t.Fatalf("parseDecimal(%q, %d) = %d, %v; big.Rat gives %d, %v", s, scale, got, gotOK, want, wantOK)
			}
		}
	}
	amounts := []int64{0, 1, -1, 49, 4900, -4900, 12345, -12345, 99995, maxParsed, -maxParsed, math.MaxInt64, math.MinInt64, math.MaxInt64 / 3}
	for range 5000 {
		amounts = append(amounts, rng.Int64N(2*maxParsed)-maxParsed)
	}
	for _, a := range amounts {
		for _, basis := range []int64{0, 1, 2500, 3333, 5000, 10000, 1, 9999, -5000, math.MaxInt64} {
			if got, want := PercentOf(a, basis), bigPercent(a, basis); got != want {
				t.Fatalf("PercentOf(%d, %d) = %d; big.Rat gives %d", a, basis, got, want)
			}
		}
	}
}
