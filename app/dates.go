package app

import (
	"time"

	"github.com/spiffy/spiffy/app/event"
)

// ParseDateRange reads from/to as UTC dates (YYYY-MM-DD), both days
// included: it returns [from 00:00, the day after to 00:00). Empty values
// leave that end open.
func ParseDateRange(fromS, toS string) (from, to time.Time, err error) {
	if fromS != "" {
		if from, err = time.Parse(time.DateOnly, fromS); err != nil {
			return from, to, Invalid("from", "invalid_from", "from must be a date such as 2026-01-31")
		}
	}
	if toS != "" {
		t, err := time.Parse(time.DateOnly, toS)
		if err != nil {
			return from, to, Invalid("to", "invalid_to", "to must be a date such as 2026-01-31")
		}
		to = t.AddDate(0, 0, 1)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, Invalid("to", "invalid_to", "to must not be before from")
	}
	return from, to, nil
}

// RFC3339 formats a time as the API does: RFC3339, UTC, whole seconds.
func RFC3339(t time.Time) string { return event.RFC3339(t) }
