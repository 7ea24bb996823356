package app

import (
	"time"

	"github.com/spiffy/spiffy/app/event"
)

// RFC3339 formats a time as the API does: RFC3339, UTC, whole seconds.
func RFC3339(t time.Time) string { return event.RFC3339(t) }
