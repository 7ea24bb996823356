// Package event is the JSON form of the webhook events Spiffy sends (and
// of a purchase on the API): the event types, each body in the contract's
// field order, and the erasure of a person from a body already stored.
// Which events are sent, to whom and when is package app's outbox; how
// they are delivered is package webhook's. It imports only store and money.
package event

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
)

// Event types.
const (
	LeadCreated      = "lead.created"
	PurchaseCreated  = "purchase.created"
	PurchaseRefunded = "purchase.refunded"
	// PayoutPaid is sent to each paid affiliate whatever its programs'
	// sharing toggles: it is its own money.
	PayoutPaid = "payout.paid"
	// Test is a sample purchase sent on request to one endpoint.
	Test = "test"
)

// Subscribable lists the events an endpoint can subscribe to, in the order
// forms show them.
func Subscribable() []string { return []string{PurchaseCreated, PurchaseRefunded, LeadCreated} }

// Subscription trims a list of event types, drops blanks and repeats, and
// puts it in Subscribable's order, so forms and comparisons are stable.
// unknown is the first type that cannot be subscribed to ("" if none).
func Subscription(events []string) (out []string, unknown string) {
	for _, e := range events {
		e = strings.TrimSpace(e)
		if e == "" || slices.Contains(out, e) {
			continue
		}
		if !slices.Contains(Subscribable(), e) {
			return nil, e
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y string) int {
		return slices.Index(Subscribable(), x) - slices.Index(Subscribable(), y)
	})
	return out, ""
}

// RFC3339 formats a time as the API and the events do: RFC3339, UTC, whole
// seconds.
func RFC3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// body is every event's envelope. Field order is the order the contract
// lists; `data` is flat so Zapier and Make can map fields without digging.
type body struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// Marshal is the body of an event of type eventType sent at now.
func Marshal(eventType string, now time.Time, data any) ([]byte, error) {
	b, err := json.Marshal(body{Type: eventType, Timestamp: RFC3339(now), Data: data})
	if err != nil {
		return nil, fmt.Errorf("event: %s payload: %w", eventType, err)
	}
	return b, nil
}

// PurchaseFields is the one wire form of a purchase's own fields, shared by
// the API (web.PurchaseJSON) and the purchase events (PurchaseData). The
// two differ only in how they name the program and the affiliate around
// it, so each embeds this where the contract puts these fields:
// encoding/json writes an embedded struct's fields in place, in this order.
type PurchaseFields struct {
	ReferralCode string `json:"referral_code"`
	SubID        string `json:"sub_id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	Product      string `json:"product"`
	Amount       string `json:"amount"`
	Currency     string `json:"currency"`
	Commission   string `json:"commission"`
	Status       string `json:"status"`
}

// NewPurchaseFields formats a stored purchase's fields for the wire: money
// as decimal strings in its currency.
func NewPurchaseFields(p *store.Purchase) PurchaseFields {
	return PurchaseFields{
		ReferralCode: p.Code, SubID: p.SubID, Email: p.Email, Name: p.Name, Product: p.Product,
		Amount: money.Format(p.Amount, p.Currency), Currency: p.Currency,
		Commission: money.Format(p.Commission, p.Currency), Status: p.Status,
	}
}

// PurchaseData is the data of purchase.created and purchase.refunded (and
// of the test event).
type PurchaseData struct {
	ID          string `json:"id"`
	OrderID     string `json:"order_id"`
	ProgramID   string `json:"program_id"`
	ProgramName string `json:"program_name"`
	AffiliateID string `json:"affiliate_id"`
	PurchaseFields
	PurchasedAt string `json:"purchased_at"`
}

// Purchase is the data of a purchase event of the program.
func Purchase(p *store.Program, pur *store.Purchase) PurchaseData {
	return PurchaseData{
		ID: pur.ID, OrderID: pur.OrderID, ProgramID: p.ID, ProgramName: p.Name, AffiliateID: pur.AffiliateID,
		PurchaseFields: NewPurchaseFields(pur), PurchasedAt: RFC3339(pur.PurchasedAt),
	}
}

// TestData is a sample purchase, so a Zap or Make scenario can be set up
// from the test event with every field it will later receive.
func TestData(affiliateID string, now time.Time) PurchaseData {
	return PurchaseData{
		ID: "test", OrderID: "TEST-1001", ProgramID: "test", ProgramName: "Test event", AffiliateID: affiliateID,
		PurchaseFields: PurchaseFields{
			ReferralCode: "test", SubID: "", Email: "jane.doe@example.com", Name: "Jane Doe", Product: "Sample product",
			Amount: "49.00", Currency: "USD", Commission: "14.70", Status: store.PurchasePaid,
		},
		PurchasedAt: RFC3339(now),
	}
}

// LeadData is the data of lead.created.
type LeadData struct {
	ID           string `json:"id"`
	ProgramID    string `json:"program_id"`
	ProgramName  string `json:"program_name"`
	AffiliateID  string `json:"affiliate_id"`
	ReferralCode string `json:"referral_code"`
	SubID        string `json:"sub_id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	CreatedAt    string `json:"created_at"`
}

// Lead is the data of lead.created for a lead of the program.
func Lead(p *store.Program, l *store.Lead) LeadData {
	return LeadData{
		ID: l.ID, ProgramID: p.ID, ProgramName: p.Name, AffiliateID: l.AffiliateID, ReferralCode: l.Code,
		SubID: l.SubID, Email: l.Email, Name: l.Name, CreatedAt: RFC3339(l.CreatedAt),
	}
}

// PayoutData is payout.paid's flat data.
type PayoutData struct {
	ID          string `json:"id"`
	AffiliateID string `json:"affiliate_id"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	Commissions int64  `json:"commissions"`
	PaidAt      string `json:"paid_at"`
}

// Payout is the data of payout.paid for one affiliate's item of a payout.
func Payout(p *store.Payout, it *store.PayoutItem) PayoutData {
	return PayoutData{
		ID: p.ID, AffiliateID: it.AffiliateID, Amount: money.Format(it.Amount, p.Currency), Currency: p.Currency,
		Commissions: it.Commissions, PaidAt: RFC3339(p.PaidAt),
	}
}

// Scrub blanks email and name in an event body, keeping the field order of
// the original.
func Scrub(b []byte) ([]byte, error) {
	var env struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("event: scrub: %w", err)
	}
	var data any
	var err error
	switch env.Type {
	case LeadCreated:
		data, err = scrubbed(env.Data, func(d *LeadData) { d.Email, d.Name = "", "" })
	case PurchaseCreated, PurchaseRefunded, Test:
		data, err = scrubbed(env.Data, func(d *PurchaseData) { d.Email, d.Name = "", "" })
	default:
		data, err = scrubbed(env.Data, func(d *map[string]any) {
			for _, k := range []string{"email", "name"} {
				if _, ok := (*d)[k]; ok {
					(*d)[k] = ""
				}
			}
		})
	}
	if err != nil {
		return nil, fmt.Errorf("event: scrub: %w", err)
	}
	return json.Marshal(body{Type: env.Type, Timestamp: env.Timestamp, Data: data})
}

// scrubbed decodes data as a T and blanks it.
func scrubbed[T any](data json.RawMessage, blank func(*T)) (T, error) {
	var d T
	if err := json.Unmarshal(data, &d); err != nil {
		return d, err
	}
	blank(&d)
	return d, nil
}
