package store

import (
	"testing"
	"time"
)

// TestEventReplies: the first answer to an event comes back by kind and
// id and carries Badger's expiry, EventReplyTTL from now; a plain set of a
// key after setTTL in the same operation does not inherit the expiry.
func TestEventReplies(t *testing.T) {
	db := openTest(t)
	exp := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	want := EventReply{Record: NewID(exp), Program: NewID(exp), ExpiresAt: exp}
	if err := db.Update(func(tx *Tx) error {
		tx.PutEventReply(EventClick, "evt-1", &want)
		tx.PutEventReply(EventClick, "", &want) // no id: nothing kept
		// Visible to the rest of the same operation.
		if r, err := tx.EventReply(EventClick, "evt-1"); err != nil || r == nil || *r != want {
			t.Errorf("inside the write: %+v, %v", r, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	err := db.View(func(tx *Tx) error {
		r, err := tx.EventReply(EventClick, "evt-1")
		if err != nil || r == nil || r.Record != want.Record || r.Program != want.Program || !r.ExpiresAt.Equal(exp) {
			t.Errorf("EventReply = %+v, %v; want %+v", r, err, want)
		}
		for _, miss := range [][2]string{{EventLead, "evt-1"}, {EventClick, "evt-2"}, {EventClick, ""}} {
			if r, err := tx.EventReply(miss[0], miss[1]); r != nil || err != nil {
				t.Errorf("EventReply(%q, %q) = %+v, %v; want nil", miss[0], miss[1], r, err)
			}
		}
		item, err := tx.txn.Get(eventReplyKey(EventClick, "evt-1"))
		if err != nil {
			return err
		}
		if at := time.Unix(int64(item.ExpiresAt()), 0); at.Sub(time.Now().Add(EventReplyTTL)).Abs() > time.Minute {
			t.Errorf("expires at %s, want in %s", at, EventReplyTTL)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// set after setTTL in one operation keeps the key for good.
	if err := db.Update(func(tx *Tx) error {
		tx.setTTL([]byte(pEventReply+"x"), []byte("1"), time.Hour)
		tx.set([]byte(pEventReply+"x"), []byte("2"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *Tx) error {
		item, err := tx.txn.Get([]byte(pEventReply + "x"))
		if err == nil && item.ExpiresAt() != 0 {
			t.Errorf("a plain set after setTTL expires at %d", item.ExpiresAt())
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
