// Package session is the mechanism behind signing in: random tokens and
// their hashes, session records kept under the hash of the cookie's id
// (start, look up, end, sweep), and single-use account tokens (reset and
// invite links) kept the same way. Package app owns the rules: who may sign
// in, what ends sessions, the reset flow.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/spiffy/spiffy/store"
	"golang.org/x/crypto/bcrypt"
)

// Kinds: the two sides sign in separately.
const (
	Admin     = "admin"
	Affiliate = "affiliate"
)

// TTL is how long a session lasts from sign-in.
const TTL = 7 * 24 * time.Hour

// ValidKind reports whether kind is Admin or Affiliate.
func ValidKind(kind string) bool { return kind == Admin || kind == Affiliate }

// Token returns n random bytes, URL-safe base64 encoded.
func Token(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("session: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Uint32 returns a random number.
func Uint32() uint32 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("session: crypto/rand failed: " + err.Error())
	}
	return binary.BigEndian.Uint32(b[:])
}

// Hash is the key a token is stored under: the hex SHA-256 of it, so a
// copy of the store holds no usable token.
func Hash(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// Clock times sessions and tokens.
type Clock interface{ Now() time.Time }

// Sessions keeps sessions and account tokens in the store.
type Sessions struct {
	db    *store.DB
	clock Clock
}

// New returns Sessions over db, timed by clock.
func New(db *store.DB, clock Clock) *Sessions { return &Sessions{db: db, clock: clock} }

// Now is the sessions' clock reading.
func (s *Sessions) Now() time.Time { return s.clock.Now() }

// Start records a new session for an account and returns the id for the
// cookie.
func (s *Sessions) Start(kind, accountID string) (string, error) {
	if !ValidKind(kind) {
		return "", errors.New("app: unknown session kind " + kind)
	}
	id := Token(32)
	now := s.clock.Now()
	rec := &store.Session{ID: Hash(id), Kind: kind, AccountID: accountID, CreatedAt: now, ExpiresAt: now.Add(TTL)}
	if err := s.db.Update(func(tx *store.Tx) error { return tx.PutSession(rec) }); err != nil {
		return "", err
	}
	return id, nil
}

// Account returns the account a session id signs in; ok is false for an
// unknown, ended or expired one.
func (s *Sessions) Account(kind, id string) (accountID string, ok bool, err error) {
	if id == "" || len(id) > 100 {
		return "", false, nil
	}
	var rec *store.Session
	err = s.db.View(func(tx *store.Tx) (err error) { rec, err = tx.Session(Hash(id)); return })
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if rec.Kind != kind || !s.clock.Now().Before(rec.ExpiresAt) {
		return "", false, nil
	}
	return rec.AccountID, true, nil
}

// End deletes every session of the account the id belongs to. An unknown
// id is not an error.
func (s *Sessions) End(kind, id string) error {
	if id == "" {
		return nil
	}
	return s.db.Update(func(tx *store.Tx) error {
		rec, err := tx.Session(Hash(id))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.Kind != kind {
			return nil
		}
		_, err = tx.DeleteAccountSessions(kind, rec.AccountID)
		return err
	})
}

// Count counts an account's sessions.
func (s *Sessions) Count(kind, accountID string) (int, error) {
	return store.Read(s.db, func(tx *store.Tx) (int, error) { return tx.AccountSessions(kind, accountID) })
}

// EndAccount deletes an account's sessions and unused tokens in tx.
func EndAccount(tx *store.Tx, kind, accountID string) error {
	if _, err := tx.DeleteAccountSessions(kind, accountID); err != nil {
		return err
	}
	return tx.DeleteAccountTokens(kind, accountID)
}

// Sweep deletes expired sessions and tokens, in bounded writes, and says
// how many.
func (s *Sessions) Sweep(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		var sessions, tokens []string
		now := s.clock.Now()
		err := s.db.View(func(tx *store.Tx) error {
			var err error
			if sessions, err = tx.ExpiredSessions(now, 500); err != nil {
				return err
			}
			tokens, err = tx.ExpiredAccountTokens(now, 500)
			return err
		})
		if err != nil || len(sessions)+len(tokens) == 0 {
			return total, err
		}
		err = s.db.Update(func(tx *store.Tx) error {
			for _, id := range sessions {
				if err := tx.DeleteSession(id); err != nil {
					return err
				}
			}
			for _, id := range tokens {
				if err := tx.DeleteAccountToken(id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(sessions) + len(tokens)
	}
	return total, ctx.Err()
}

// PutToken stores a fresh account token in tx and returns it.
func (s *Sessions) PutToken(tx *store.Tx, purpose, kind, accountID string, ttl time.Duration) (string, error) {
	token := Token(32)
	now := s.clock.Now()
	err := tx.PutAccountToken(&store.AccountToken{ID: Hash(token), Purpose: purpose, Kind: kind, AccountID: accountID,
		CreatedAt: now, ExpiresAt: now.Add(ttl)})
	return token, err
}

// ValidToken reads an account token of kind; ok is false for an unknown,
// used or expired one.
func (s *Sessions) ValidToken(tx *store.Tx, kind, token string) (t *store.AccountToken, ok bool, err error) {
	if token == "" || len(token) > 100 {
		return nil, false, nil
	}
	t, err = tx.AccountToken(Hash(token))
	if errors.Is(err, store.ErrNotFound) || err == nil && (t.Kind != kind || !s.clock.Now().Before(t.ExpiresAt)) {
		return nil, false, nil
	}
	return t, err == nil, err
}

// Account is an admin's or an affiliate's account, as reset and invite
// links need it.
type Account struct {
	ID, Name, Email string
	Blocked         bool // an affiliate the merchant blocked
}

// AccountByEmail reads the account of kind with an email.
func AccountByEmail(tx *store.Tx, kind, email string) (*Account, error) {
	if kind == Admin {
		return adminAccount(tx.AdminByEmail(email))
	}
	return affiliateAccount(tx.AffiliateByEmail(email))
}

// AccountByID reads the account of kind with an id.
func AccountByID(tx *store.Tx, kind, id string) (*Account, error) {
	if kind == Admin {
		return adminAccount(tx.Admin(id))
	}
	return affiliateAccount(tx.Affiliate(id))
}

func adminAccount(adm *store.Admin, err error) (*Account, error) {
	if err != nil {
		return nil, err
	}
	return &Account{ID: adm.ID, Name: adm.Email, Email: adm.Email}, nil
}

func affiliateAccount(af *store.Affiliate, err error) (*Account, error) {
	if err != nil {
		return nil, err
	}
	return &Account{ID: af.ID, Name: af.Name, Email: af.Email, Blocked: af.Status == store.AffiliateBlocked}, nil
}

// Passwords are kept as bcrypt hashes at bcrypt's default cost.

// dummyHash is compared against when the account does not exist, so that a
// wrong email and a wrong password take the same time.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("spiffy-dummy-password"), bcrypt.DefaultCost)

// HashPassword returns a password's bcrypt hash (at most 72 bytes are
// hashed: callers check the length first).
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// CheckPassword reports whether pw matches hash; an empty hash (no such
// account) costs the same time and never matches.
func CheckPassword(hash, pw string) bool {
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// LoadSecret returns the key session cookies are signed with: configured
// when not empty, else generated on first start and kept in the store.
func LoadSecret(db *store.DB, configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	var secret []byte
	err := db.Update(func(tx *store.Tx) error {
		b, err := tx.Meta("session_secret")
		if err == nil {
			secret = b
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		tx.SetMeta("session_secret", secret)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("session: secret: %w", err)
	}
	return secret, nil
}
