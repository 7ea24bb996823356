package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The mail outbox. A mail is written in the same operation as its cause (an
// invite, a sign-up, a payout); while it is queued it has an entry in the
// due index keyed by its next attempt time, which is how the sender finds
// work after a restart or a crash. It leaves that index only in the write
// that records its last attempt, so it is sent at least once.

// Mail statuses.
const (
	MailQueued = "queued"
	MailSent   = "sent"
	MailFailed = "failed"
)

// Mail is one email to one recipient: what to render (Kind and Data) and
// its delivery state.
type Mail struct {
	ID   string `json:"id"` // also the Message-ID's left part, the same on every retry
	Kind string `json:"kind"`
	To   string `json:"to"`
	// AffiliateID is the affiliate the mail is to, when it is one.
	AffiliateID string `json:"affiliate_id,omitempty"`
	// Data holds the template's fields (names, amounts, links). Links may
	// carry a secret token, so it is cleared once the mail is sent.
	Data map[string]string `json:"data,omitempty"`
	// Unsubscribe is the one-click unsubscribe URL of a mail the recipient
	// may opt out of ("" for the others).
	Unsubscribe   string     `json:"unsubscribe,omitempty"`
	Subject       string     `json:"subject,omitempty"` // set when first rendered
	Status        string     `json:"status"`            // queued | sent | failed
	Tries         int        `json:"tries"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error,omitempty"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

// MailOptOut records that an affiliate asked for no more optional mail.
type MailOptOut struct {
	AffiliateID string    `json:"affiliate_id"`
	At          time.Time `json:"at"`
}

func init() {
	reindexers = append(reindexers, jsonReindexer("mail", pMail, func(m *Mail) []derivedKey { return m.derived() }))
}

func (m *Mail) derived() []derivedKey {
	d := []derivedKey{indexEntry(mailAllKey(m.CreatedAt, m.ID))}
	if m.Status == MailQueued {
		d = append(d, indexEntry(mailDueKey(m.NextAttemptAt, m.ID)))
	}
	return d
}

// Mail returns a mail by id.
func (tx *Tx) Mail(id string) (*Mail, error) {
	return getRecord[Mail](tx, "mail", id, mailKey(id))
}

// PutMail stores a new mail or replaces one, moving its index entries:
// leaving "queued" takes it off the due index.
func (tx *Tx) PutMail(m *Mail) error {
	var oldKeys []derivedKey
	if old, err := tx.Mail(m.ID); err == nil {
		oldKeys = old.derived()
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := tx.putDerived(oldKeys, m.derived()); err != nil {
		return err
	}
	return tx.setJSON(mailKey(m.ID), m)
}

// DeleteMail removes a mail and its index entries.
func (tx *Tx) DeleteMail(id string) error {
	m, err := tx.Mail(id)
	if err != nil {
		return err
	}
	for _, d := range m.derived() {
		tx.del(d.k)
	}
	tx.del(mailKey(id))
	return nil
}

// DueMails returns the ids of up to limit queued mails whose next attempt
// is at or before now, earliest first. It reads keys only.
func (tx *Tx) DueMails(now time.Time, limit int) ([]string, error) {
	prefix := []byte(iMailDue)
	until := timeKey(now)
	var ids []string
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) != 8+IDLen {
			return false, fmt.Errorf("store: mail due index: %w", errCorrupt)
		}
		if be64(rest) > until {
			return false, nil
		}
		ids = append(ids, string(rest[8:]))
		return limit <= 0 || len(ids) < limit, nil
	})
	return ids, err
}

// QueuedMails counts the queued mails, stopping at max (for the metrics).
func (tx *Tx) QueuedMails(max int) (int, error) {
	n := 0
	err := tx.scan([]byte(iMailDue), nil, false, false, func([]byte, *badger.Item) (bool, error) {
		n++
		return n < max, nil
	})
	return n, err
}

// RecentMails returns up to limit mails, newest first.
func (tx *Tx) RecentMails(limit int) ([]*Mail, error) {
	prefix := []byte(iMailAll)
	var out []*Mail
	err := tx.scan(prefix, nil, true, false, func(k []byte, _ *badger.Item) (bool, error) {
		if len(k) != len(prefix)+8+IDLen {
			return false, fmt.Errorf("store: mail index: %w", errCorrupt)
		}
		m, err := tx.Mail(string(k[len(prefix)+8:]))
		if err != nil {
			return false, err
		}
		out = append(out, m)
		return len(out) < limit, nil
	})
	return out, err
}

// MailIDsBefore returns up to limit ids of mails created before t, oldest
// first (for pruning the log).
func (tx *Tx) MailIDsBefore(t time.Time, limit int) ([]string, error) {
	prefix := []byte(iMailAll)
	until := timeKey(t)
	var ids []string
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) != 8+IDLen {
			return false, fmt.Errorf("store: mail index: %w", errCorrupt)
		}
		if be64(rest) >= until || len(ids) >= limit {
			return false, nil
		}
		ids = append(ids, string(rest[8:]))
		return true, nil
	})
	return ids, err
}

// MailOptOut returns the affiliate's opt-out, or ErrNotFound when it gets
// optional mail.
func (tx *Tx) MailOptOut(affiliateID string) (*MailOptOut, error) {
	return getRecord[MailOptOut](tx, "mail opt-out", affiliateID, mailOptOutKey(affiliateID))
}

// SetMailOptOut records an affiliate's opt-out (o not nil) or removes it.
func (tx *Tx) SetMailOptOut(affiliateID string, o *MailOptOut) error {
	if o == nil {
		tx.del(mailOptOutKey(affiliateID))
		return nil
	}
	return tx.setJSON(mailOptOutKey(affiliateID), o)
}
