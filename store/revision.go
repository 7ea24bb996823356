package store

// The accounts revision: a counter that every write of a program, an
// affiliate or an enrollment bumps in the same operation, and so do a new
// API key and a key's revocation. Readers that keep decoded copies of those
// records (the tracking path and the API's authentication cache them) check
// this one number instead of reading the records, and refetch when it has
// moved.
//
// The counter is stored, and the DB keeps the committed value in memory
// too, so the tracking path does not read it from the LSM tree on every
// request. The writer updates that copy after the batch that moved it has
// committed and before any of that batch's callers is answered. So a reader
// that takes the revision first and then opens its snapshot sees at least
// the account records of that revision: it may see newer ones (a change
// committed in between), never older.
const accountsRevision = "accounts_rev"

// AccountsRevision returns the revision of the last committed account
// change. Take it before opening the snapshot it is used with.
func (db *DB) AccountsRevision() int64 { return db.accountsRev.Load() }

// AccountsRevision returns the accounts revision stored in tx's snapshot.
func (tx *Tx) AccountsRevision() (int64, error) { return tx.getInt64(counterKey(accountsRevision)) }

func (tx *Tx) bumpAccountsRevision() error {
	rev, err := tx.addInt64(counterKey(accountsRevision), 1)
	tx.accountsRev = rev
	return err
}

// loadAccountsRevision sets the in-memory copy from the store (at open).
func (db *DB) loadAccountsRevision() error {
	return db.View(func(tx *Tx) error {
		rev, err := tx.AccountsRevision()
		db.accountsRev.Store(rev)
		return err
	})
}
