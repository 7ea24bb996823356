package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Webhook endpoints and messages (the outbox). A message is written in the
// same operation as the lead or purchase it reports; while it is pending it
// has an entry in the due index keyed by its next attempt time, which is how
// the dispatcher finds work after a restart or a crash.

// Webhook message statuses.
const (
	MessagePending   = "pending"
	MessageDelivered = "delivered"
	MessageFailed    = "failed"
)

func init() {
	reindexers = append(reindexers,
		jsonReindexer("webhook endpoint", pEndpoint, func(e *WebhookEndpoint) []derivedKey { return e.derived() }),
		reindexer{kind: "webhook message", prefix: pMessage, derive: func(_ *Tx, v []byte) ([]derivedKey, error) {
			var m WebhookMessage
			if err := m.unmarshal(v); err != nil {
				return nil, err
			}
			return m.derived(), nil
		}},
	)
}

// Endpoints.

func (e *WebhookEndpoint) derived() []derivedKey {
	return []derivedKey{indexEntry(endpointByAffiliateKey(e.AffiliateID, e.ID))}
}

// WebhookEndpoint returns an endpoint by id.
func (tx *Tx) WebhookEndpoint(id string) (*WebhookEndpoint, error) {
	return getRecord[WebhookEndpoint](tx, "webhook endpoint", id, endpointKey(id))
}

// PutWebhookEndpoint creates or replaces an endpoint.
func (tx *Tx) PutWebhookEndpoint(e *WebhookEndpoint) error {
	var oldKeys []derivedKey
	if old, err := tx.WebhookEndpoint(e.ID); err == nil {
		oldKeys = old.derived()
	}
	if err := tx.putDerived(oldKeys, e.derived()); err != nil {
		return err
	}
	return tx.setJSON(endpointKey(e.ID), e)
}

// DeleteWebhookEndpoint removes an endpoint and its index entry (not its
// messages: see WebhookMessageIDsByEndpoint).
func (tx *Tx) DeleteWebhookEndpoint(id string) error {
	e, err := tx.WebhookEndpoint(id)
	if err != nil {
		return err
	}
	for _, d := range e.derived() {
		tx.del(d.k)
	}
	tx.del(endpointKey(id))
	return nil
}

// AffiliateWebhookEndpointIDs lists the ids of an affiliate's endpoints
// (oldest first) with a key-only scan: on the tracking hot path an affiliate
// without endpoints costs one empty prefix seek.
func (tx *Tx) AffiliateWebhookEndpointIDs(affiliateID string) ([]string, error) {
	prefix := key(iEndpointByAffiliate).id(affiliateID)
	var ids []string
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		if len(k) != len(prefix)+IDLen {
			return false, errCorrupt
		}
		ids = append(ids, string(k[len(prefix):]))
		return true, nil
	})
	return ids, err
}

// AffiliateWebhookEndpoints lists an affiliate's endpoints, oldest first.
func (tx *Tx) AffiliateWebhookEndpoints(affiliateID string) ([]*WebhookEndpoint, error) {
	ids, err := tx.AffiliateWebhookEndpointIDs(affiliateID)
	if err != nil {
		return nil, err
	}
	out := make([]*WebhookEndpoint, 0, len(ids))
	for _, id := range ids {
		e, err := tx.WebhookEndpoint(id)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// WebhookEndpoints lists every endpoint of every affiliate, newest first.
func (tx *Tx) WebhookEndpoints() ([]*WebhookEndpoint, error) {
	return listRecords[WebhookEndpoint](tx, pEndpoint)
}

// Messages.

func (m *WebhookMessage) derived() []derivedKey {
	d := []derivedKey{
		indexEntry(messageByEndpointKey(m.EndpointID, m.CreatedAt, m.ID)),
		indexEntry(messageAllKey(m.CreatedAt, m.ID)),
	}
	if m.Status == MessagePending {
		d = append(d, indexEntry(messageDueKey(m.NextAttemptAt, m.ID, m.EndpointID)))
	}
	if m.Email != "" {
		d = append(d, indexEntry(messageByEmailKey(m.Email, m.CreatedAt, m.ID)))
	}
	return d
}

// Messages are the high-volume webhook record: every event writes one and
// every attempt rewrites its delivery state. The state is a compact binary
// record (decoding is the largest cost of a delivery after the HTTP request
// itself) and the body lives apart under whp:, written once: an attempt
// rewrites a hundred bytes, not the kilobyte of payload, which is most of
// what a draining backlog would otherwise push through the write-ahead log.

// msgV2 is the state record without the payload; recordV1 records (from
// before the split) still carry it inline.
const msgV2 = 2

func (m *WebhookMessage) marshal() []byte {
	e := newEncoder(msgV2, 128+len(m.Attempts)*40)
	e.str(m.ID)
	e.str(m.EndpointID)
	e.str(m.AffiliateID)
	e.str(m.EventType)
	e.str(m.Status)
	e.time(m.NextAttemptAt)
	e.time(m.CreatedAt)
	e.int(int64(m.Tries))
	e.str(m.SubjectID)
	e.str(m.Email)
	e.int(int64(len(m.Attempts)))
	for _, a := range m.Attempts {
		e.time(a.At)
		e.int(int64(a.StatusCode))
		e.str(a.Error)
		e.int(a.LatencyMS)
	}
	return e.b
}

// unmarshal decodes the state; Payload is set only for old records that
// carry it inline.
func (m *WebhookMessage) unmarshal(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		return jsonUnmarshal(b, m) // written before the binary encoding
	}
	d := newDecoder(b)
	m.ID = d.str()
	m.EndpointID = d.str()
	m.AffiliateID = d.str()
	m.EventType = d.str()
	if d.version == recordV1 {
		m.Payload = []byte(d.str())
	}
	m.Status = d.str()
	m.NextAttemptAt = d.time()
	m.CreatedAt = d.time()
	m.Tries = int(d.int())
	m.SubjectID = d.str()
	m.Email = d.str()
	n := d.int()
	if n < 0 || n > int64(len(d.b)) {
		return errCorrupt
	}
	m.Attempts = nil
	if n > 0 {
		m.Attempts = make([]WebhookAttempt, n)
	}
	for i := range m.Attempts {
		a := &m.Attempts[i]
		a.At = d.time()
		a.StatusCode = int(d.int())
		a.Error = d.str()
		a.LatencyMS = d.int()
	}
	return d.err
}

// InsertWebhookMessage stores a new message, state and body, without
// looking for an older version (it runs on the tracking hot path).
func (tx *Tx) InsertWebhookMessage(m *WebhookMessage) error {
	if err := tx.putMessageState(nil, m); err != nil {
		return err
	}
	tx.set(payloadKey(m.ID), m.Payload)
	return nil
}

// PutWebhookMessage replaces a stored message, state and body (or stores a
// new one), moving its index entries: leaving "pending" takes it off the
// due index.
func (tx *Tx) PutWebhookMessage(m *WebhookMessage) error {
	var oldKeys []derivedKey
	if old, err := tx.messageState(m.ID); err == nil {
		oldKeys = old.derived()
	}
	if err := tx.putMessageState(oldKeys, m); err != nil {
		return err
	}
	tx.set(payloadKey(m.ID), m.Payload)
	return nil
}

// putMessageState writes m's state record and moves its index entries from
// oldKeys (nil for a new message).
func (tx *Tx) putMessageState(oldKeys []derivedKey, m *WebhookMessage) error {
	if err := tx.putDerived(oldKeys, m.derived()); err != nil {
		return err
	}
	tx.set(messageKey(m.ID), m.marshal())
	return nil
}

// EditWebhookMessage reads a message's delivery state once, lets edit change
// it, and stores it with its index entries moved. The body is neither read
// nor written (Payload is nil in edit; use PutWebhookMessage to change it).
// When edit returns an error nothing is written and the error is returned.
func (tx *Tx) EditWebhookMessage(id string, edit func(*WebhookMessage) error) (*WebhookMessage, error) {
	m, err := tx.messageState(id)
	if err != nil {
		return nil, err
	}
	if m.Payload != nil {
		// An old record with its body inline: move the body out first so
		// the rewrite below does not lose it.
		tx.set(payloadKey(id), m.Payload)
		m.Payload = nil
	}
	old := m.derived()
	if err := edit(m); err != nil {
		return nil, err
	}
	if err := tx.putMessageState(old, m); err != nil {
		return nil, err
	}
	return m, nil
}

// messageState reads the state record only.
func (tx *Tx) messageState(id string) (*WebhookMessage, error) {
	b, err := tx.get(messageKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: webhook message %s: %w", id, err)
	}
	var m WebhookMessage
	if err := m.unmarshal(b); err != nil {
		return nil, fmt.Errorf("store: webhook message %s: %w", id, err)
	}
	return &m, nil
}

// WebhookMessage returns a message by id, with its body.
func (tx *Tx) WebhookMessage(id string) (*WebhookMessage, error) {
	m, err := tx.messageState(id)
	if err != nil {
		return nil, err
	}
	if m.Payload == nil {
		p, err := tx.get(payloadKey(id))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("store: webhook message %s body: %w", id, err)
		}
		m.Payload = p
	}
	return m, nil
}

// DeleteWebhookMessage removes a message and its index entries.
func (tx *Tx) DeleteWebhookMessage(id string) error {
	m, err := tx.messageState(id)
	if err != nil {
		return err
	}
	for _, d := range m.derived() {
		tx.del(d.k)
	}
	tx.del(messageKey(id))
	tx.del(payloadKey(id))
	return nil
}

// DueMessage is one entry of the due index.
type DueMessage struct {
	ID         string
	EndpointID string
	Due        time.Time
}

// DueWebhookMessages calls fn for each pending message whose next attempt
// is at or before now, earliest first, until fn returns false. It reads
// keys only.
func (tx *Tx) DueWebhookMessages(now time.Time, fn func(DueMessage) bool) error {
	prefix := []byte(iMessageDue)
	limit := timeKey(now)
	return tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) != 8+2*IDLen {
			return false, errCorrupt
		}
		t := be64(rest)
		if t > limit {
			return false, nil
		}
		return fn(DueMessage{
			ID:         string(rest[8 : 8+IDLen]),
			EndpointID: string(rest[8+IDLen:]),
			Due:        time.UnixMicro(int64(t)).UTC(),
		}), nil
	})
}

// WebhookMessagesByEndpoint returns one page of an endpoint's messages,
// newest first, and the next page's cursor ("" at the end).
func (tx *Tx) WebhookMessagesByEndpoint(endpointID, cursor string, limit int) ([]*WebhookMessage, string, error) {
	return tx.messagePage(key(iMessageByEndpoint).id(endpointID), cursor, limit, nil)
}

// WebhookMessages returns one page of all messages, newest first. keep,
// when not nil, filters (skipped messages do not count towards limit).
func (tx *Tx) WebhookMessages(cursor string, limit int, keep func(*WebhookMessage) bool) ([]*WebhookMessage, string, error) {
	return tx.messagePage(key(iMessageAll), cursor, limit, keep)
}

func (tx *Tx) messagePage(prefix []byte, cursor string, limit int, keep func(*WebhookMessage) bool) ([]*WebhookMessage, string, error) {
	var out []*WebhookMessage
	next, err := tx.scanIndexPage(prefix, time.Time{}, time.Time{}, cursor, limit, func(id string) (bool, error) {
		m, err := tx.WebhookMessage(id)
		if err != nil {
			return false, err
		}
		if keep != nil && !keep(m) {
			return false, nil
		}
		out = append(out, m)
		return true, nil
	})
	return out, next, err
}

// WebhookMessageIDsByEndpoint returns up to limit ids of an endpoint's
// messages, oldest first (to delete them in bounded chunks).
func (tx *Tx) WebhookMessageIDsByEndpoint(endpointID string, limit int) ([]string, error) {
	return tx.indexIDs(key(iMessageByEndpoint).id(endpointID), limit)
}

// WebhookMessageIDsByEmail returns the ids of the messages whose payload is
// about that person (email compared normalised).
func (tx *Tx) WebhookMessageIDsByEmail(email string) ([]string, error) {
	return tx.indexIDs(key(iMessageByEmail).str(NormEmail(email)), 0)
}

// WebhookMessageIDsBefore returns up to limit ids of messages created
// before t, oldest first (for pruning the delivery log).
func (tx *Tx) WebhookMessageIDsBefore(t time.Time, limit int) ([]string, error) {
	prefix := key(iMessageAll)
	limitKey := timeKey(t)
	var ids []string
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) != 8+IDLen {
			return false, errCorrupt
		}
		if be64(rest) >= limitKey || (limit > 0 && len(ids) >= limit) {
			return false, nil
		}
		ids = append(ids, string(rest[8:]))
		return true, nil
	})
	return ids, err
}

// indexIDs reads the trailing ids of "prefix + time + id" entries, oldest
// first; limit 0 means all.
func (tx *Tx) indexIDs(prefix []byte, limit int) ([]string, error) {
	var ids []string
	err := tx.scan(prefix, nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
		if len(k) != len(prefix)+8+IDLen {
			return false, fmt.Errorf("store: index %q: %w", prefix, errCorrupt)
		}
		ids = append(ids, string(k[len(k)-IDLen:]))
		return limit <= 0 || len(ids) < limit, nil
	})
	return ids, err
}
