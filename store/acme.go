package store

// The ACME cache lives in the store, not in files beside it, so that the
// account key and the certificates are in every backup and a restored
// server starts serving HTTPS at once, without asking the CA again (and
// without spending Let's Encrypt's weekly certificate quota).

// ACMEEntry returns what the HTTPS certificate manager stored under name
// (ErrNotFound when nothing is).
func (tx *Tx) ACMEEntry(name string) ([]byte, error) { return tx.get(acmeKey(name)) }

// SetACMEEntry stores data under name, replacing what was there.
func (tx *Tx) SetACMEEntry(name string, data []byte) { tx.set(acmeKey(name), data) }

// DeleteACMEEntry removes name; removing what is not there is no error.
func (tx *Tx) DeleteACMEEntry(name string) { tx.del(acmeKey(name)) }
