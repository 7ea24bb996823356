package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
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
	{4, "commissions of existing purchases", commissionsFromPurchases},
	{5, "affiliate names for lists", affiliateNames},
	{6, "affiliate search, status counts and results of all time", affiliateSearchMigration},
	{7, "purchases by status", purchaseStatusIndex},
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

// IntegrationSecret returns a payment provider's signing secret pasted in
// Settings ("" when none).
func (tx *Tx) IntegrationSecret(provider string) (string, error) {
	b, err := tx.Meta("integration_secret:" + provider)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return string(b), err
}

// SetIntegrationSecret keeps a provider's signing secret ("" removes it).
func (tx *Tx) SetIntegrationSecret(provider, secret string) {
	tx.SetMeta("integration_secret:"+provider, []byte(secret))
}

// commissionsFromPurchases (migration 4) gives data written before
// commissions existed what it would have had: programs hold commissions
// for the default 30 days, and every attributed purchase gets a commission
// record (voided for a refunded purchase, else pending until its hold ends,
// when the approval job approves it).
func commissionsFromPurchases(db *DB) error {
	err := db.Update(func(tx *Tx) error {
		var progs []*Program
		err := tx.scan([]byte(pProgram), nil, false, true, func(_ []byte, item *badger.Item) (bool, error) {
			var p Program
			if err := item.Value(func(b []byte) error { return jsonUnmarshal(b, &p) }); err != nil {
				return false, err
			}
			progs = append(progs, &p)
			return true, nil
		})
		for _, p := range progs {
			p.HoldDays = 30
			if err := tx.setJSON(programKey(p.ID), p); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	return eachPurchaseChunk(db, 200, func(tx *Tx, purs []*Purchase) error {
		for _, p := range purs {
			if p.AffiliateID == "" {
				continue
			}
			done, err := tx.PurchaseCommissions(p.ID)
			if err != nil {
				return err
			}
			if len(done) > 0 {
				continue // an interrupted run already did this one
			}
			c := &Commission{
				ID: NewID(p.CreatedAt), PurchaseID: p.ID, ProgramID: p.ProgramID, AffiliateID: p.AffiliateID,
				Kind: CommissionSale, Amount: p.Commission - RefundShare(p.Commission, p.RefundedAmount, p.Amount),
				Currency: p.Currency, Status: CommissionPending, ApproveAt: p.PurchasedAt.AddDate(0, 0, 30), CreatedAt: p.CreatedAt,
			}
			if p.Status == "refunded" {
				c.Status, c.Amount = CommissionVoided, p.Commission
			}
			if err := tx.PutCommission(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachPurchaseChunk reads the stored purchases size at a time, in key
// order, each chunk in its own snapshot, and hands each chunk to fn in its
// own write, for migrations too big for one transaction.
func eachPurchaseChunk(db *DB, size int, fn func(tx *Tx, purs []*Purchase) error) error {
	var after []byte
	for {
		var purs []*Purchase
		err := db.View(func(tx *Tx) error {
			start := []byte(pPurchase)
			if after != nil {
				start = append(bytes.Clone(after), 0)
			}
			return tx.scan([]byte(pPurchase), start, false, true, func(k []byte, item *badger.Item) (bool, error) {
				var p *Purchase
				err := item.Value(func(v []byte) (err error) { p, err = decodePurchase(v); return err })
				if err != nil {
					return false, fmt.Errorf("purchase %q: %w", k, err)
				}
				purs = append(purs, p)
				if len(purs) == size {
					after = bytes.Clone(k) // the next chunk starts past it
					return false, nil
				}
				return true, nil
			})
		})
		if err != nil || len(purs) == 0 {
			return err
		}
		if err := db.Update(func(tx *Tx) error { return fn(tx, purs) }); err != nil || len(purs) < size {
			return err
		}
	}
}

// affiliateNames (migration 5) writes the derived copy of every
// affiliate's name (Affiliate.derived).
func affiliateNames(db *DB) error {
	var affs []*Affiliate
	if err := db.View(func(tx *Tx) (err error) { affs, err = scanRecords[Affiliate](tx, pAffiliate, false); return }); err != nil {
		return err
	}
	for len(affs) > 0 {
		chunk := affs[:min(len(affs), 2000)]
		affs = affs[len(chunk):]
		err := db.Update(func(tx *Tx) error {
			for _, a := range chunk {
				tx.set(affiliateNameKey(a.ID), []byte(a.Name))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// purchaseStatusIndex (migration 7) writes every stored purchase's entry in
// the status index (purchaseStatusKey), a chunk of purchases per write.
func purchaseStatusIndex(db *DB) error {
	return eachPurchaseChunk(db, 2000, func(tx *Tx, purs []*Purchase) error {
		for _, p := range purs {
			tx.set(purchaseStatusKey(p), nil)
		}
		return nil
	})
}
