package store

// Names turns program and affiliate ids into their names, as lists, detail
// pages and CSV files show them. It caches what it has looked up, so a long
// list or an export reads each program and affiliate once, and remembers
// the last of each, since consecutive rows mostly share them. It is not
// safe for concurrent use: make one per list or file.
type Names struct {
	view                 func(func(*Tx) error) error
	programs, affiliates nameCache
}

// Names returns a name cache that reads through its own short read
// transactions.
func (db *DB) Names() *Names { return &Names{view: db.View} }

// Names returns a name cache that reads through tx.
func (tx *Tx) Names() *Names {
	return &Names{view: func(fn func(*Tx) error) error { return fn(tx) }}
}

// Program returns the program's name ("" when it no longer exists).
func (n *Names) Program(id string) string {
	if name, ok := n.programs.cached(id); ok {
		return name
	}
	var name string
	_ = n.view(func(tx *Tx) error {
		if p, err := tx.Program(id); err == nil {
			name = p.Name
		}
		return nil // a program that is gone has no name
	})
	return n.programs.put(id, name)
}

// Affiliate returns the affiliate's name ("" when unattributed or gone).
func (n *Names) Affiliate(id string) string {
	if name, ok := n.affiliates.cached(id); ok {
		return name
	}
	var name string
	_ = n.view(func(tx *Tx) (err error) {
		name, err = tx.AffiliateName(id)
		return err
	})
	return n.affiliates.put(id, name)
}

// nameCache is one kind's names by id, with the last one asked for: the
// hot path of a long list costs a string comparison.
type nameCache struct {
	byID             map[string]string
	lastID, lastName string
}

// cached answers from memory: "" for no id, or a name looked up before.
func (c *nameCache) cached(id string) (string, bool) {
	if id == "" {
		return "", true
	}
	if id == c.lastID {
		return c.lastName, true
	}
	name, ok := c.byID[id]
	if ok {
		c.lastID, c.lastName = id, name
	}
	return name, ok
}

// put remembers a name looked up and returns it.
func (c *nameCache) put(id, name string) string {
	if c.byID == nil {
		c.byID = map[string]string{}
	}
	c.byID[id] = name
	c.lastID, c.lastName = id, name
	return name
}
