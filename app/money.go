package app

import "github.com/spiffy/spiffy/app/money"

// Money is kept as integer minor units of its ISO 4217 currency (package
// money). These wrap its parsers with the API's field errors.

// validateCurrency accepts three upper-case letters.
func validateCurrency(field, cur string) error {
	if !money.ValidCurrency(cur) {
		return Invalid(field, "invalid_currency", "%s must be an ISO 4217 code such as USD", field)
	}
	return nil
}

// ParseMoney parses an amount such as "49.00" into minor units of cur.
func ParseMoney(field, s, cur string) (int64, error) {
	v, ok := money.Parse(s, cur)
	if !ok {
		return 0, Invalid(field, "invalid_"+field, "%s must be a non-negative decimal string such as \"49.00\"", field)
	}
	return v, nil
}

// ParsePercent parses "30" or "12.5" into hundredths of a percent (0–100%).
func ParsePercent(field, s string) (int64, error) {
	v, ok := money.ParsePercent(s)
	if !ok {
		return 0, Invalid(field, "invalid_"+field, "%s must be a percentage from 0 to 100 such as \"30\"", field)
	}
	return v, nil
}
