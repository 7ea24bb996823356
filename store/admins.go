package store

// Admins as a list: Settings → Admins adds and removes them.

// Admins lists every admin, oldest first.
func (tx *Tx) Admins() ([]*Admin, error) { return scanRecords[Admin](tx, pAdmin, false) }

// DeleteAdmin removes an admin and its unique email key (not its sessions:
// see DeleteAccountSessions).
func (tx *Tx) DeleteAdmin(id string) error {
	a, err := tx.Admin(id)
	if err != nil {
		return err
	}
	for _, d := range a.derived() {
		tx.del(d.k)
	}
	tx.del(adminKey(id))
	return nil
}
