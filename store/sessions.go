package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Sign-in sessions and account tokens (password resets, admin invites).
// Both are kept under the SHA-256 of the secret the browser or the email
// link holds, never the secret itself, with two index entries: by account
// (to end every session of an account, or void its tokens, in one write)
// and by expiry (for the sweep job).

// Session is one signed-in browser of an admin or an affiliate.
type Session struct {
	ID        string    `json:"id"`   // hex SHA-256 of the cookie's session id
	Kind      string    `json:"kind"` // admin | affiliate
	AccountID string    `json:"account_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// AccountToken lets the holder of an emailed link set an account's
// password once: a password reset, or an invited admin's first password.
type AccountToken struct {
	ID        string    `json:"id"`      // hex SHA-256 of the token
	Purpose   string    `json:"purpose"` // reset | invite
	Kind      string    `json:"kind"`    // admin | affiliate
	AccountID string    `json:"account_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func init() {
	reindexers = append(reindexers,
		jsonReindexer("session", pSession, func(s *Session) []derivedKey { return s.derived() }),
		jsonReindexer("account token", pAccountToken, func(t *AccountToken) []derivedKey { return t.derived() }),
	)
}

func (s *Session) derived() []derivedKey {
	return []derivedKey{
		indexEntry(sessionAccountKey(s.Kind, s.AccountID, s.ID)),
		indexEntry(sessionExpiryKey(s.ExpiresAt, s.ID)),
	}
}

func (t *AccountToken) derived() []derivedKey {
	return []derivedKey{
		indexEntry(accountTokenAccountKey(t.Kind, t.AccountID, t.ID)),
		indexEntry(accountTokenExpiryKey(t.ExpiresAt, t.ID)),
	}
}

// Session returns a session by the hash of its id.
func (tx *Tx) Session(id string) (*Session, error) {
	return getRecord[Session](tx, "session", "", sessionKey(id))
}

// PutSession stores a new session (sessions never change).
func (tx *Tx) PutSession(s *Session) error {
	if err := tx.putDerived(nil, s.derived()); err != nil {
		return err
	}
	return tx.setJSON(sessionKey(s.ID), s)
}

// DeleteSession removes a session; a missing one is not an error.
func (tx *Tx) DeleteSession(id string) error {
	s, err := tx.Session(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, d := range s.derived() {
		tx.del(d.k)
	}
	tx.del(sessionKey(id))
	return nil
}

// DeleteAccountSessions removes every session of an account and says how
// many there were.
func (tx *Tx) DeleteAccountSessions(kind, accountID string) (int, error) {
	ids, err := tx.hashesUnder(key(iSessionAccount).str(kind).id(accountID))
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := tx.DeleteSession(id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// AccountSessions counts an account's sessions.
func (tx *Tx) AccountSessions(kind, accountID string) (int, error) {
	ids, err := tx.hashesUnder(key(iSessionAccount).str(kind).id(accountID))
	return len(ids), err
}

// ExpiredSessions returns up to limit ids of sessions that expired at or
// before now.
func (tx *Tx) ExpiredSessions(now time.Time, limit int) ([]string, error) {
	return tx.expiredUnder([]byte(iSessionExpiry), now, limit)
}

// AccountToken returns a token by its hash.
func (tx *Tx) AccountToken(id string) (*AccountToken, error) {
	return getRecord[AccountToken](tx, "account token", "", accountTokenKey(id))
}

// PutAccountToken stores a new token.
func (tx *Tx) PutAccountToken(t *AccountToken) error {
	if err := tx.putDerived(nil, t.derived()); err != nil {
		return err
	}
	return tx.setJSON(accountTokenKey(t.ID), t)
}

// DeleteAccountToken removes a token; a missing one is not an error.
func (tx *Tx) DeleteAccountToken(id string) error {
	t, err := tx.AccountToken(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, d := range t.derived() {
		tx.del(d.k)
	}
	tx.del(accountTokenKey(id))
	return nil
}

// DeleteAccountTokens removes every token of an account.
func (tx *Tx) DeleteAccountTokens(kind, accountID string) error {
	ids, err := tx.hashesUnder(key(iAccountTokenAcc).str(kind).id(accountID))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := tx.DeleteAccountToken(id); err != nil {
			return err
		}
	}
	return nil
}

// AccountTokens lists an account's tokens.
func (tx *Tx) AccountTokens(kind, accountID string) ([]*AccountToken, error) {
	ids, err := tx.hashesUnder(key(iAccountTokenAcc).str(kind).id(accountID))
	if err != nil {
		return nil, err
	}
	out := make([]*AccountToken, 0, len(ids))
	for _, id := range ids {
		t, err := tx.AccountToken(id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// ExpiredAccountTokens returns up to limit hashes of tokens that expired
// at or before now.
func (tx *Tx) ExpiredAccountTokens(now time.Time, limit int) ([]string, error) {
	return tx.expiredUnder([]byte(iAccountTokenExp), now, limit)
}

// hashesUnder reads the NUL-terminated hashes that end the keys under prefix.
func (tx *Tx) hashesUnder(prefix []byte) ([]string, error) {
	var out []string
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) < 2 || rest[len(rest)-1] != 0 {
			return false, fmt.Errorf("store: index %q: %w", prefix, errCorrupt)
		}
		out = append(out, string(rest[:len(rest)-1]))
		return true, nil
	})
	return out, err
}

// expiredUnder reads "time + hash\0" entries up to now.
func (tx *Tx) expiredUnder(prefix []byte, now time.Time, limit int) ([]string, error) {
	until := timeKey(now)
	var out []string
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) < 10 || rest[len(rest)-1] != 0 || bytes.IndexByte(rest[8:], 0) != len(rest)-9 {
			return false, fmt.Errorf("store: index %q: %w", prefix, errCorrupt)
		}
		if be64(rest) > until || len(out) >= limit {
			return false, nil
		}
		out = append(out, string(rest[8:len(rest)-1]))
		return true, nil
	})
	return out, err
}
