// Package money is Spiffy's arithmetic and notation of amounts: integer
// minor units of an ISO 4217 currency, decimal strings rounded half-up (away
// from zero) to the currency's minor unit, and percentages in hundredths of
// a percent. It has no rules of the product and imports nothing of ours.
package money

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// exponents lists the currencies whose minor unit is not 1/100.
var exponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// Exponent is the number of decimal places of the currency's minor unit.
func Exponent(cur string) int {
	if e, ok := exponents[cur]; ok {
		return e
	}
	return 2
}

// ValidCurrency reports whether cur has the shape of an ISO 4217 code:
// three upper-case letters.
func ValidCurrency(cur string) bool {
	return len(cur) == 3 && strings.IndexFunc(cur, func(r rune) bool { return r < 'A' || r > 'Z' }) < 0
}

// Parse reads a non-negative amount such as "49.00" into minor units of
// cur, rounding half-up. It refuses signs, exponents and absurd sizes.
func Parse(s, cur string) (int64, bool) { return parseDecimal(s, Exponent(cur)) }

// Format renders minor units as a decimal string with the currency's
// number of decimals: 4900 USD -> "49.00", 500 JPY -> "500".
func Format(minor int64, cur string) string {
	exp := Exponent(cur)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor, 10)
	if exp > 0 {
		for len(s) <= exp {
			s = "0" + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// percentScale: percentages are kept in hundredths of a percent.
const percentScale = 2

// ParsePercent reads "30" or "12.5" into hundredths of a percent (0–100%).
func ParsePercent(s string) (int64, bool) {
	v, ok := parseDecimal(s, percentScale)
	return v, ok && v <= 100*100
}

// FormatPercent renders hundredths of a percent without trailing zeros:
// 3000 -> "30", 1250 -> "12.5".
func FormatPercent(v int64) string {
	s := Format(v, "USD")
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// PercentOf is amount × basis/10000 (basis in hundredths of a percent),
// rounded half-up to the minor unit.
func PercentOf(amount, basis int64) int64 {
	// In int64 when the product fits, as it does for any amount Parse
	// accepts and any percentage; big numbers only beyond that.
	if p, ok := mulFits(amount, basis); ok {
		q, r := p/10000, p%10000
		if r >= 5000 || r <= -5000 {
			q += sign(p)
		}
		if q > maxParsed { // as roundHalfUp refuses it
			return 0
		}
		return q
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(amount), big.NewInt(basis)), big.NewInt(10000))
	v, _ := roundHalfUp(r)
	return v
}

// mulFits is a × b and whether it fits in an int64.
func mulFits(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	p := a * b
	return p, p/b == a
}

func sign(v int64) int64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// maxParsed is the largest value parseDecimal returns, in units of its
// scale: room for sums and percentages of amounts without overflow.
const maxParsed = math.MaxInt64 / 10000

// parseDecimal parses a non-negative decimal string into units of 10^-scale,
// rounding half-up. Plain integer arithmetic: it runs for every purchase's
// amount, and the digits it keeps fit an int64 or are refused.
func parseDecimal(s string, scale int) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return 0, false
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, false
	}
	for _, part := range [...]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, false
			}
		}
	}
	var q int64
	push := func(d byte) bool {
		q = q*10 + int64(d-'0')
		return q <= maxParsed
	}
	for i := 0; i < len(intPart); i++ {
		if !push(intPart[i]) {
			return 0, false
		}
	}
	for i := 0; i < scale; i++ {
		d := byte('0')
		if i < len(frac) {
			d = frac[i]
		}
		if !push(d) {
			return 0, false
		}
	}
	// Half-up: the first dropped digit alone decides (5 or more is at
	// least half a unit, whatever follows).
	if len(frac) > scale && frac[scale] >= '5' {
		q++
	}
	if q > maxParsed {
		return 0, false
	}
	return q, true
}

func roundHalfUp(r *big.Rat) (int64, bool) {
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).CmpAbs(den) >= 0 {
		q.Add(q, big.NewInt(int64(num.Sign())))
	}
	if !q.IsInt64() || q.Int64() > math.MaxInt64/10000 {
		return 0, false
	}
	return q.Int64(), true
}

// Display renders minor units for people: the currency's English symbol, a
// thousands separator and the currency's own decimals — 123450 USD ->
// "$1,234.50", 1235 JPY -> "¥1,235", 1234500 KWD -> "KWD 1,234.500",
// -1250 USD -> "-$12.50". One fixed locale (en) so every page, the portal
// and the emails read alike. Files and the API keep Format's plain decimals.
func Display(minor int64, cur string) string {
	plain := Format(minor, cur)
	neg := strings.HasPrefix(plain, "-")
	plain = strings.TrimPrefix(plain, "-")
	intPart, frac, hasFrac := strings.Cut(plain, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	sym := Symbol(cur)
	b.WriteString(sym)
	// A symbol ending in a letter ("KWD", "CHF") needs a space before the
	// digits; "$" and "CA$" do not.
	if r, _ := utf8.DecodeLastRuneInString(sym); unicode.IsLetter(r) {
		b.WriteByte(' ')
	}
	for i, d := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// symbols caches each currency's English symbol: the lookup formats
// through x/text, too slow for every cell of a long table.
var symbols sync.Map

// Symbol is the currency's symbol in English: "$" for USD, "€" for EUR,
// "CA$" for CAD, the code itself where English has no symbol ("KWD") or
// the code is not ISO 4217.
func Symbol(cur string) string {
	if s, ok := symbols.Load(cur); ok {
		return s.(string)
	}
	sym := cur
	if u, err := currency.ParseISO(cur); err == nil && ValidCurrency(cur) {
		sym = message.NewPrinter(language.English).Sprint(currency.Symbol(u))
	}
	if sym == "" {
		sym = cur
	}
	symbols.Store(cur, sym)
	return sym
}
