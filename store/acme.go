package store

// The ACME cache lives in the store, not in files beside it, so that the
// account key and the certificates are in every backup and a restored
// server serves HTTPS at once, without asking the CA again (and without
// spending Let's Encrypt's weekly certificate quota). Entries are kept per
// ACME directory: certificates from a staging or test CA must not be
// served once the server is pointed at the real one.

// ACMEEntry returns what the HTTPS certificate manager stored under name
// for the ACME directory dir (ErrNotFound when nothing is).
func (tx *Tx) ACMEEntry(dir, name string) ([]byte, error) { return tx.get(acmeKey(dir, name)) }

// SetACMEEntry stores data under dir and name, replacing what was there.
func (tx *Tx) SetACMEEntry(dir, name string, data []byte) { tx.set(acmeKey(dir, name), data) }

// DeleteACMEEntry removes an entry; removing what is not there is no error.
func (tx *Tx) DeleteACMEEntry(dir, name string) { tx.del(acmeKey(dir, name)) }
