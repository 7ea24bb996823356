package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far a signed timestamp (Stripe, Paddle) may be from now
// before the request is refused as a replay. Lemon Squeezy signs no
// timestamp, so its events can only be deduplicated, not aged out.
const Tolerance = 300 * time.Second

var (
	// ErrInvalidSignature: the signature header is missing, unreadable,
	// does not match the body under the secret, or is older than
	// Tolerance; or no secret was given. The body was not parsed.
	ErrInvalidSignature = errors.New("provider: invalid signature")
	// ErrMalformed: the signature is good but the body is not an event this
	// package can read (bad JSON, or a sale without an order id or currency).
	ErrMalformed = errors.New("provider: malformed event")
)

// Kind says what an Event means to Spiffy.
type Kind int

const (
	// KindIgnored is any event Spiffy does not use (also a sale that is not
	// paid yet). Answer it with a 200 and store nothing.
	KindIgnored Kind = iota
	// KindSale is a first payment: Event.Sale is set.
	KindSale
	// KindRenewal is a later payment of a subscription (attributed through
	// the customer's earlier sale): Event.Sale is set.
	KindRenewal
	// KindRefund is money given back on an order: Event.Refund is set.
	KindRefund
	// KindPaymentLink (Stripe, API 2025-03-31.basil and later) says which
	// payment intent paid which invoice, so that a later charge.refunded,
	// which names only the payment intent, finds the invoice's purchase:
	// Event.Link is set.
	KindPaymentLink
)

func (k Kind) String() string {
	switch k {
	case KindIgnored:
		return "ignored"
	case KindSale:
		return "sale"
	case KindRenewal:
		return "renewal"
	case KindRefund:
		return "refund"
	case KindPaymentLink:
		return "payment_link"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one verified provider webhook, normalised.
type Event struct {
	// Provider is "stripe", "paddle" or "lemonsqueezy".
	Provider string
	// ID is the provider's id of this event, the idempotency key: Stripe's
	// evt_…, Paddle's evt_…; Lemon Squeezy sends none, so it is the event
	// name, the object's id and its updated_at, which a retry repeats.
	ID string
	// Type is the provider's event type (checkout.session.completed,
	// transaction.completed, order_created, …).
	Type string
	// Kind says which of Sale, Refund and Link is set.
	Kind Kind
	// Test is true for events of the provider's test mode (Stripe livemode
	// false, Lemon Squeezy test_mode). Paddle's sandbox is another account
	// with its own secret, so its events never say so.
	Test bool
	// At is when the provider created the event.
	At time.Time

	Sale   *Sale        // KindSale and KindRenewal
	Refund *Refund      // KindRefund
	Link   *PaymentLink // KindPaymentLink
}

// Sale is a payment received: a first sale or a renewal.
type Sale struct {
	// OrderID is the purchase's order id, unique per provider: Stripe the
	// invoice id, else the payment intent id, else the Checkout Session id
	// (so a subscription's checkout and its first invoice.paid name the
	// same order); Paddle the transaction id; Lemon Squeezy the order id,
	// or "subscription-invoice-" and the id for a renewal, since its order
	// and subscription-invoice ids are counted separately and may collide.
	OrderID string
	// Amount is what the customer paid, in minor units of Currency, tax
	// included as the provider totals it. It may be 0 (a trial's first
	// invoice, a 100% discount); the caller decides what that is worth.
	Amount int64
	// Currency is the ISO 4217 code, upper-case.
	Currency string
	// Email, Name: the buyer's, when the event carries them (Paddle's
	// transactions carry neither).
	Email, Name string
	// Product is a label for what was bought, when known: Stripe
	// metadata.product (or the first invoice line), Paddle the first line
	// item's product name, Lemon Squeezy first_order_item.product_name.
	Product string
	// Referral is the referral id the checkout carried (Stripe
	// metadata.spiffy_referral, client_reference_id or the expanded
	// customer's metadata.spiffy_referral; Paddle and Lemon Squeezy
	// custom_data.spiffy_referral), or "". It is whatever the merchant's
	// page passed: look it up, never trust it.
	Referral string
	// Coupons lists the discount codes and ids seen on the sale, to match
	// against enrolments' coupons: Stripe promotion-code ids (promo_…),
	// their codes when expanded, and coupon ids; Paddle the discount id
	// (dsc_…) and its code when present; Lemon Squeezy discount codes when
	// the payload includes its discount redemptions.
	Coupons []string
	// CustomerID and SubscriptionID are the provider's ids, remembered with
	// a first sale's attribution so that renewals and refunds map to it.
	CustomerID, SubscriptionID string
	// PaymentIntentID (Stripe) is the payment intent that paid this order,
	// when the event says: a one-time Checkout's, or an invoice's on API
	// versions before 2025-03-31.basil. Later versions send it in a
	// separate invoice_payment.paid event (KindPaymentLink).
	PaymentIntentID string
	// InvoiceID (Stripe) is the invoice of this sale, when there is one.
	InvoiceID string
	// At is when the payment was made: the invoice's or transaction's paid
	// time where the event has one, else the event's creation.
	At time.Time
}

// Refund is money given back on an earlier sale.
type Refund struct {
	// ID is the provider's id of this one refund when it has one (Paddle's
	// adjustment id): Paddle may announce the same approved refund in both
	// adjustment.created and adjustment.updated, two events with two event
	// ids, so a non-cumulative Amount must be applied once per ID.
	ID string
	// OrderID is the refunded order's id, as in Sale.OrderID, when the event
	// names it: Paddle the transaction id, Lemon Squeezy the order (or
	// subscription-invoice-…) id, Stripe the charge's invoice on API
	// versions before 2025-03-31.basil. Otherwise "" and the purchase is
	// found by PaymentIntentID.
	OrderID string
	// PaymentIntentID (Stripe) is the refunded charge's payment intent: the
	// order id of a one-time Checkout payment, or a Sale's PaymentIntentID,
	// or a PaymentLink's.
	PaymentIntentID string
	// Amount is in minor units of Currency; Cumulative says which amount.
	Amount int64
	// Cumulative: Amount is everything refunded on the order so far
	// (Stripe amount_refunded, Lemon Squeezy refunded_amount), so a
	// repeated or late event never refunds twice; refund up to it. When
	// false (Paddle), Amount is this refund alone.
	Cumulative bool
	// Currency is the ISO 4217 code, upper-case.
	Currency string
	// At is when the refund was made, or the event's creation.
	At time.Time
}

// PaymentLink (Stripe) says that a payment intent paid an invoice.
type PaymentLink struct {
	InvoiceID       string
	PaymentIntentID string
	At              time.Time
}

func invalid(provider string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrInvalidSignature, provider, err)
}

func malformed(provider, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, provider, fmt.Sprintf(format, args...))
}

// check refuses a sale the caller could not store: better a visible
// refusal than a purchase without an order id or currency.
func (s *Sale) check() error {
	switch {
	case s.OrderID == "":
		return errors.New("no order id")
	case len(s.Currency) != 3:
		return fmt.Errorf("currency %q", s.Currency)
	}
	return nil
}

// minor is an amount in minor units written as a JSON number (Stripe,
// Lemon Squeezy) or a string of digits (Paddle); null or absent is 0.
type minor int64

func (m *minor) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		*m = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*m = 0
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("amount %s: not an integer of minor units", b)
	}
	*m = minor(n)
	return nil
}

// text is an id that one version writes as a string and another as a
// number (Lemon Squeezy's customer_id); null is "". Anything else is
// ignored rather than failing the whole event.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(strings.TrimSpace(s))
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		*t = text(b)
	default:
		*t = ""
	}
	return nil
}

// meta is a free-form key-value object (metadata, custom_data). A value
// that is not an object (null, or a merchant's odd custom_data) reads as
// empty rather than failing the event.
type meta map[string]any

func (m *meta) UnmarshalJSON(b []byte) error {
	var v map[string]any
	if json.Unmarshal(b, &v) != nil {
		v = nil
	}
	*m = v
	return nil
}

// str returns the trimmed string value of key, or "".
func (m meta) str(key string) string {
	if s, ok := m[key].(string); ok {
		return strings.TrimSpace(s)
	}
	return ""
}

// stamp is an RFC 3339 time (Paddle, Lemon Squeezy); one that does not
// parse reads as zero, and the event's own time stands in.
type stamp time.Time

func (s *stamp) UnmarshalJSON(b []byte) error {
	var v string
	if json.Unmarshal(b, &v) == nil {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v)); err == nil {
			*s = stamp(t.UTC())
			return nil
		}
	}
	*s = stamp{}
	return nil
}

func (s stamp) time() time.Time { return time.Time(s) }

// unix converts Stripe's epoch seconds; 0 (absent or null) is zero time.
func unix(sec int64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// first returns the first non-zero time.
func first(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// firstString returns the first non-empty string.
func firstString(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func currency(c string) string { return strings.ToUpper(strings.TrimSpace(c)) }

// codes appends the non-empty values of add to list, once each.
func codes(list []string, add ...string) []string {
	for _, c := range add {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		dup := false
		for _, have := range list {
			if have == c {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, c)
		}
	}
	return list
}

// Outcomes of a handled event, in the words the Integrations page and the
// endpoint's answer use.
const (
	OutcomeSale         = "purchase recorded"
	OutcomeRenewal      = "renewal recorded"
	OutcomeRefund       = "refund recorded"
	OutcomeKnownOrder   = "order already recorded"
	OutcomeUnattributed = "not attributed: not stored"
	OutcomeNoPurchase   = "no recorded purchase for it"
	OutcomeLinked       = "payment linked to its invoice"
	OutcomeIgnored      = "event type not used"
	OutcomeNothingNew   = "nothing new to refund"
)
