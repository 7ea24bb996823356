package views

import "github.com/spiffy/spiffy/store"

// Reader reads the views that need no checking first, each in its own read
// transaction.
type Reader struct{ db *store.DB }

// NewReader is a Reader over the store.
func NewReader(db *store.DB) *Reader { return &Reader{db: db} }
