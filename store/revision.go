package store

// The accounts revision: a counter that every write of a program, an
// affiliate or an enrollment bumps in the same operation. Readers that keep
// decoded copies of those records (the tracking path caches what a referral
// code resolves to) read this one small key instead of the three records,
// and refetch when it has moved. Because it is written in the same
// transaction as the change and read in the same snapshot as the check, a
// cache validated by it is never stale.
const accountsRevision = "accounts_rev"

// AccountsRevision returns the current accounts revision.
func (tx *Tx) AccountsRevision() (int64, error) { return tx.getInt64(counterKey(accountsRevision)) }

func (tx *Tx) bumpAccountsRevision() error { return tx.addInt64(counterKey(accountsRevision), 1) }
