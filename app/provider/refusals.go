package provider

import (
	"sync"
	"time"
)

// Refusals keeps the last webhooks refused per provider (bad signature,
// unreadable body), in memory only: a refused event stores nothing. The
// zero value is ready to use and safe for concurrent use.
type Refusals struct {
	mu   sync.Mutex
	byPr map[string][]Refusal
}

// Refusal is one refused provider webhook.
type Refusal struct {
	At     time.Time
	Reason string
}

// keptRefusals is how many refusals Refusals keeps per provider.
const keptRefusals = 20

// Add records a refusal of a provider's webhook.
func (r *Refusals) Add(name string, at time.Time, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byPr == nil {
		r.byPr = map[string][]Refusal{}
	}
	list := append([]Refusal{{At: at, Reason: reason}}, r.byPr[name]...)
	r.byPr[name] = list[:min(len(list), keptRefusals)]
}

// List returns a provider's last refusals, newest first.
func (r *Refusals) List(name string) []Refusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Refusal(nil), r.byPr[name]...)
}
