package app

import (
	"errors"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/session"
	"github.com/spiffy/spiffy/app/throttle"
	"github.com/spiffy/spiffy/store"
)

// MinPasswordLen is the shortest password accepted for admins and affiliates.
const MinPasswordLen = 8

// HashPassword checks a new password's length and returns its bcrypt hash.
func HashPassword(pw string) (string, error) {
	if len(pw) < MinPasswordLen {
		return "", Invalid("password", "invalid_password", "password must be at least %d characters", MinPasswordLen)
	}
	if len(pw) > 72 {
		return "", Invalid("password", "invalid_password", "password must be at most 72 bytes")
	}
	return session.HashPassword(pw)
}

// signInLimits: 3 wrong passwords per IP and 5 per account are free, then
// 1s, 2s, 4s… up to 15 minutes; failures are forgotten after a quiet day.
var signInLimits = throttle.SignInOptions{IP: throttle.Backoff{Free: 3, First: time.Second, Max: 15 * time.Minute},
	Account: throttle.Backoff{Free: 5, First: time.Second, Max: 15 * time.Minute}, Forget: 24 * time.Hour, MaxKeys: 50000}

// checkLogin applies the sign-in throttle around a credential check: growing
// delays per IP and per account, yet never refusing an IP that has not
// failed, so no one can lock an account's owner out (throttle.SignIns).
func (a *App) checkLogin(kind, email, ip string, check func() bool) error {
	now, account := a.Now(), kind+":"+store.NormEmail(email)
	if err := a.loginThrottle.Attempt(account, ip, now); err != nil {
		return err
	}
	if !check() {
		return ErrUnauthorized // Attempt counted it already
	}
	a.loginThrottle.Succeeded(account, ip)
	return nil
}

// Admins.

// newAdmin validates an admin's email and password and builds the record.
func (a *App) newAdmin(email, password string) (*store.Admin, error) {
	email = strings.TrimSpace(email)
	if err := check.Email("email", email); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	now := a.Now()
	return &store.Admin{ID: store.NewID(now), Email: email, PasswordHash: hash, CreatedAt: now}, nil
}

// CreateAdmin adds a merchant admin.
func (a *App) CreateAdmin(email, password string) (*store.Admin, error) {
	adm, err := a.newAdmin(email, password)
	if err != nil {
		return nil, err
	}
	err = a.db.Update(func(tx *store.Tx) error { return tx.PutAdmin(adm) })
	if errors.Is(err, store.ErrDuplicate) {
		return nil, Conflict("email", "duplicate_email", "an admin with this email already exists")
	}
	return adm, err
}

// SetupAdmin creates the first admin; once one exists it fails with ErrForbidden.
func (a *App) SetupAdmin(email, password string) (*store.Admin, error) {
	adm, err := a.newAdmin(email, password)
	if err != nil {
		return nil, err
	}
	err = a.db.Update(func(tx *store.Tx) error {
		has, err := tx.HasAdmin()
		if err != nil {
			return err
		}
		if has {
			return ErrForbidden
		}
		return tx.PutAdmin(adm)
	})
	return adm, err
}

// AuthenticateAdmin checks an admin's email and password, throttling repeated
// failures by email and IP.
func (a *App) AuthenticateAdmin(email, password, ip string) (*store.Admin, error) {
	var adm *store.Admin
	err := a.checkLogin("admin", email, ip, func() bool {
		err := a.db.View(func(tx *store.Tx) (err error) { adm, err = tx.AdminByEmail(email); return })
		if err != nil {
			session.CheckPassword("", password)
			return false
		}
		return session.CheckPassword(adm.PasswordHash, password)
	})
	if err != nil {
		return nil, err
	}
	return adm, nil
}

// API keys.

// apiKeyPrefix starts every key, so leaked keys are recognisable.
const apiKeyPrefix = "spf_"

// CreateAPIKey makes a key and returns the record and the secret, which is
// never stored and cannot be shown again.
func (a *App) CreateAPIKey(name string) (*store.APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", Invalid("name", "invalid_name", "name is required")
	}
	if len(name) > 100 {
		return nil, "", Invalid("name", "invalid_name", "name must be at most 100 characters")
	}
	secret := apiKeyPrefix + session.Token(24)
	now := a.Now()
	k := &store.APIKey{ID: store.NewID(now), Name: name, Hash: session.Hash(secret), Prefix: secret[:len(apiKeyPrefix)+6], CreatedAt: now}
	if err := a.db.Update(func(tx *store.Tx) error { return tx.PutAPIKey(k) }); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// RevokeAPIKey stops a key from working; revoking twice is harmless.
func (a *App) RevokeAPIKey(id string) error {
	return a.db.Update(func(tx *store.Tx) error {
		k, err := tx.APIKey(id)
		if err != nil {
			return notFoundAs(err, "api_key_not_found", "API key")
		}
		if k.RevokedAt == nil {
			t := a.Now()
			k.RevokedAt = &t
		}
		return tx.PutAPIKey(k)
	})
}

// AuthenticateAPIKey returns the key record for a bearer secret, or
// ErrUnauthorized when it is unknown or revoked.
func (a *App) AuthenticateAPIKey(secret string) (*store.APIKey, error) {
	if !strings.HasPrefix(secret, apiKeyPrefix) {
		return nil, ErrUnauthorized
	}
	// Through the accounts cache: a key is created and revoked with a new
	// accounts revision, which a request takes before its snapshot, so a
	// revoked key is refused from the first request after the revocation.
	var k *store.APIKey
	rev := a.db.AccountsRevision()
	err := a.db.View(func(tx *store.Tx) (err error) {
		k, err = a.accounts.Reader(tx, rev).APIKeyByHash(session.Hash(secret))
		return err
	})
	if errors.Is(err, store.ErrNotFound) || err == nil && k.RevokedAt != nil {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	a.touchAPIKey(k)
	return k, nil
}

// apiKeyTouchEvery is how stale "last used" may get: recording every request
// would put a write on every API call; once a minute is plenty to tell a
// live key from a forgotten one.
const apiKeyTouchEvery = time.Minute

// touchAPIKey records that k was used, at most once per apiKeyTouchEvery.
// When it last did is kept in memory: k comes from the cache, which a use
// does not refresh (recording one does not move the accounts revision).
func (a *App) touchAPIKey(k *store.APIKey) {
	now := a.Now()
	last := k.LastUsedAt
	if t, ok := a.keysUsed.Load(k.ID); ok {
		last = new(t.(time.Time))
	}
	if last != nil && now.Sub(*last) < apiKeyTouchEvery {
		return
	}
	a.keysUsed.Store(k.ID, now)
	err := a.db.Update(func(tx *store.Tx) error {
		cur, err := tx.APIKey(k.ID)
		if err != nil {
			return err
		}
		cur.LastUsedAt = &now
		return tx.PutAPIKey(cur)
	})
	if err != nil {
		a.log.Warn("record api key use", "key", k.ID, "err", err)
	}
}
