package store

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// migration moves the data from version-1 to version. Migrations run in
// order at Open, each in its own write, and the schema version is stored
// after each one, so an interrupted upgrade resumes where it stopped.
type migration struct {
	version int
	name    string
	run     func(db *DB) error
}

// migrations is the ordered list; append only, never renumber.
var migrations = []migration{
	{1, "initial key layout", func(*DB) error { return nil }},
	// Search indexes and per-scope tallies (search.go, tally.go) are derived
	// keys: rebuild them for data written before they existed. Version 2 did
	// this with a tally layout that changed before release; 3 supersedes it.
	{2, "search indexes and tallies (superseded by 3)", func(*DB) error { return nil }},
	{3, "search indexes and tallies", rebuildTallies},
}

// SchemaVersion is the version this binary writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

func (db *DB) schemaVersion() (int, error) {
	var v int
	err := db.View(func(tx *Tx) error {
		b, err := tx.get(metaKey("schema"))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(b) != 4 {
			return errCorrupt
		}
		v = int(binary.BigEndian.Uint32(b))
		return nil
	})
	return v, err
}

func (db *DB) migrate() error {
	cur, err := db.schemaVersion()
	if err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if cur > SchemaVersion() {
		return fmt.Errorf("store: data has schema version %d, this binary knows up to %d: upgrade spiffy", cur, SchemaVersion())
	}
	if cur == 0 {
		// A new data dir is born in the current layout: nothing to migrate.
		empty, err := db.IsEmpty()
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		if empty {
			return db.setSchemaVersion(SchemaVersion())
		}
	}
	for _, m := range migrations {
		if m.version <= cur {
			continue
		}
		if err := m.run(db); err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
		}
		if err := db.setSchemaVersion(m.version); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) setSchemaVersion(v int) error {
	err := db.Update(func(tx *Tx) error {
		tx.set(metaKey("schema"), binary.BigEndian.AppendUint32(nil, uint32(v)))
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save schema version %d: %w", v, err)
	}
	return nil
}

// Meta returns a named meta value (ErrNotFound when unset).
func (tx *Tx) Meta(name string) ([]byte, error) { return tx.get(metaKey(name)) }

// SetMeta stores a named meta value.
func (tx *Tx) SetMeta(name string, v []byte) { tx.set(metaKey(name), v) }
