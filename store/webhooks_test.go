package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func TestWebhookMessageCodec(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123000, time.UTC)
	cases := []WebhookMessage{
		{},
		{ID: NewID(t0), EndpointID: NewID(t0), AffiliateID: NewID(t0), EventType: "purchase.created",
			Payload: []byte(`{"type":"purchase.created","data":{"email":"é@x.com"}}`), Status: MessagePending,
			NextAttemptAt: t0.Add(5 * time.Second), CreatedAt: t0, Tries: 3, SubjectID: NewID(t0), Email: "a@b.co",
			Attempts: []WebhookAttempt{{At: t0, StatusCode: 500, Error: "HTTP 500: boom", LatencyMS: 12}, {At: t0.Add(time.Second), LatencyMS: 10000, Error: "no answer"}}},
	}
	for _, m := range cases {
		var got WebhookMessage
		if err := got.unmarshal(m.marshal()); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		want := m
		want.Payload = nil // the body is stored apart
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
		}
	}
	// A record from before the body moved out still reads, body included.
	m1 := cases[1]
	e := newEncoder(recordV1, 256)
	e.str(m1.ID)
	e.str(m1.EndpointID)
	e.str(m1.AffiliateID)
	e.str(m1.EventType)
	e.str(string(m1.Payload))
	e.str(m1.Status)
	e.time(m1.NextAttemptAt)
	e.time(m1.CreatedAt)
	e.int(int64(m1.Tries))
	e.str(m1.SubjectID)
	e.str(m1.Email)
	e.int(int64(len(m1.Attempts)))
	for _, a := range m1.Attempts {
		e.time(a.At)
		e.int(int64(a.StatusCode))
		e.str(a.Error)
		e.int(a.LatencyMS)
	}
	var old WebhookMessage
	if err := old.unmarshal(e.b); err != nil || !reflect.DeepEqual(old, m1) {
		t.Fatalf("v1 record\n got %+v (%v)\nwant %+v", old, err, m1)
	}
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Update(func(tx *Tx) error { tx.set(messageKey(m1.ID), e.b); return nil })
	err = db.Update(func(tx *Tx) error {
		_, err := tx.EditWebhookMessage(m1.ID, func(m *WebhookMessage) error { m.Tries++; return nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *Tx) error {
		got, err := tx.WebhookMessage(m1.ID)
		if err != nil || string(got.Payload) != string(m1.Payload) || got.Tries != m1.Tries+1 {
			t.Fatalf("v1 record after an edit: %+v %v", got, err)
		}
		return nil
	})
	// Messages written as JSON still read.
	m := cases[1]
	j, _ := json.Marshal(m)
	var got WebhookMessage
	if err := got.unmarshal(j); err != nil || got.ID != m.ID || string(got.Payload) != string(m.Payload) || len(got.Attempts) != 2 {
		t.Fatalf("JSON record: %+v %v", got, err)
	}
	var empty WebhookMessage
	if err := empty.unmarshal(nil); err == nil {
		t.Fatalf("an empty record decodes")
	}
}

func TestWebhookOutboxIndexes(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	aff, ep := NewID(t0), NewID(t0)
	var ids []string
	err = db.Update(func(tx *Tx) error {
		if err := tx.PutWebhookEndpoint(&WebhookEndpoint{ID: ep, AffiliateID: aff, URL: "https://x.example/", CreatedAt: t0}); err != nil {
			return err
		}
		for i := range 3 {
			at := t0.Add(time.Duration(i) * time.Second)
			m := &WebhookMessage{ID: NewID(at), EndpointID: ep, AffiliateID: aff, EventType: "test", Payload: []byte(`{}`),
				Status: MessagePending, NextAttemptAt: at, CreatedAt: at, Email: "Pat@Example.com"}
			ids = append(ids, m.ID)
			if err := tx.InsertWebhookMessage(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	due := func(at time.Time) []string {
		var out []string
		db.View(func(tx *Tx) error {
			return tx.DueWebhookMessages(at, func(d DueMessage) bool {
				if d.EndpointID != ep {
					t.Errorf("due entry names endpoint %s", d.EndpointID)
				}
				out = append(out, d.ID)
				return true
			})
		})
		return out
	}
	if got := due(t0.Add(time.Second)); !reflect.DeepEqual(got, ids[:2]) {
		t.Fatalf("due at +1s: %v, want %v", got, ids[:2])
	}
	// Delivering one takes it off the due index; rescheduling moves it.
	err = db.Update(func(tx *Tx) error {
		if _, err := tx.EditWebhookMessage(ids[0], func(m *WebhookMessage) error { m.Status = MessageDelivered; return nil }); err != nil {
			return err
		}
		_, err := tx.EditWebhookMessage(ids[1], func(m *WebhookMessage) error { m.NextAttemptAt = t0.Add(time.Hour); return nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := due(t0.Add(time.Minute)); !reflect.DeepEqual(got, ids[2:]) {
		t.Fatalf("due at +1m: %v, want %v", got, ids[2:])
	}
	if got := due(t0.Add(time.Hour)); !reflect.DeepEqual(got, []string{ids[2], ids[1]}) {
		t.Fatalf("due at +1h: %v", got)
	}
	// An edit that fails writes nothing.
	boom := errors.New("boom")
	db.Update(func(tx *Tx) error {
		_, err := tx.EditWebhookMessage(ids[2], func(m *WebhookMessage) error { m.Status = MessageFailed; return boom })
		return err
	})
	if got := due(t0.Add(time.Hour)); len(got) != 2 {
		t.Fatalf("a failed edit changed the due index: %v", got)
	}
	db.View(func(tx *Tx) error {
		if got, _ := tx.WebhookMessageIDsByEmail("pat@example.com"); !reflect.DeepEqual(got, ids) {
			t.Errorf("by email: %v", got)
		}
		if got, _ := tx.WebhookMessageIDsByEndpoint(ep, 2); !reflect.DeepEqual(got, ids[:2]) {
			t.Errorf("by endpoint: %v", got)
		}
		if got, _ := tx.WebhookMessageIDsBefore(t0.Add(time.Second), 0); !reflect.DeepEqual(got, ids[:1]) {
			t.Errorf("before +1s: %v", got)
		}
		page, next, err := tx.WebhookMessages("", 2, nil)
		if err != nil || len(page) != 2 || page[0].ID != ids[2] || next == "" {
			t.Errorf("page 1: %d %q %v", len(page), next, err)
		}
		page, next, _ = tx.WebhookMessages(next, 2, nil)
		if len(page) != 1 || page[0].ID != ids[0] || next != "" {
			t.Errorf("page 2: %d %q", len(page), next)
		}
		if got, _ := tx.AffiliateWebhookEndpointIDs(aff); !reflect.DeepEqual(got, []string{ep}) {
			t.Errorf("endpoints of affiliate: %v", got)
		}
		return nil
	})
	// Deleting removes every index entry; a reindex rebuilds the same keys.
	if err := db.Reindex(nil); err != nil {
		t.Fatal(err)
	}
	if got := due(t0.Add(time.Hour)); len(got) != 2 {
		t.Fatalf("after reindex: %v", got)
	}
	db.Update(func(tx *Tx) error {
		for _, id := range ids {
			if err := tx.DeleteWebhookMessage(id); err != nil {
				return err
			}
		}
		return tx.DeleteWebhookEndpoint(ep)
	})
	db.View(func(tx *Tx) error {
		for _, p := range []string{iMessageDue, iMessageAll, iMessageByEndpoint, iMessageByEmail, iEndpointByAffiliate, pMessage, pPayload, pEndpoint} {
			tx.scan([]byte(p), nil, false, false, func(k []byte, _ *badger.Item) (bool, error) {
				t.Errorf("left behind: %q", k)
				return true, nil
			})
		}
		return nil
	})
}

// BenchmarkNoEndpointsLookup is the outbox hook's cost on the tracking hot
// path for an affiliate without webhook endpoints: one key-only prefix seek.
func BenchmarkNoEndpointsLookup(b *testing.B) {
	db, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	db.Update(func(tx *Tx) error { // other affiliates' endpoints around the probed key
		for range 100 {
			tx.PutWebhookEndpoint(&WebhookEndpoint{ID: NewID(t0), AffiliateID: NewID(t0), URL: "https://x.example/"})
		}
		return nil
	})
	aff := NewID(t0)
	b.ResetTimer()
	db.View(func(tx *Tx) error {
		for range b.N {
			if ids, err := tx.AffiliateWebhookEndpointIDs(aff); err != nil || len(ids) != 0 {
				b.Fatal(ids, err)
			}
		}
		return nil
	})
}
