package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// LemonSqueezy verifies a Lemon Squeezy webhook — X-Signature, the hex
// HMAC-SHA256 of the raw body under the signing secret, compared in
// constant time (Lemon Squeezy has no Go SDK and signs no timestamp) — and
// reads it. Mapped events:
//
//   - order_created with a paid order: KindSale.
//   - subscription_payment_success for a renewal: KindRenewal. The first
//     payment of a subscription (billing_reason initial) is KindIgnored:
//     its order_created is the sale.
//   - order_refunded and, for renewals, subscription_payment_refunded:
//     KindRefund with the cumulative refunded_amount.
//
// Anything else is KindIgnored.
func LemonSqueezy(body []byte, signatureHeader, secret string) (*Event, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil, invalid("lemonsqueezy", errors.New("no signing secret"))
	}
	got, err := hex.DecodeString(strings.TrimSpace(signatureHeader))
	if err != nil || len(got) != sha256.Size {
		return nil, invalid("lemonsqueezy", errors.New("X-Signature is not a hex SHA-256 HMAC"))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return nil, invalid("lemonsqueezy", errors.New("signature mismatch"))
	}
	return parseLemonSqueezy(body)
}

// subscriptionInvoice prefixes a subscription invoice's id into an order
// id: Lemon Squeezy numbers orders and subscription invoices separately.
const subscriptionInvoice = "subscription-invoice-"

func parseLemonSqueezy(body []byte) (*Event, error) {
	var env struct {
		Meta struct {
			EventName  string `json:"event_name"`
			TestMode   bool   `json:"test_mode"`
			CustomData meta   `json:"custom_data"`
		} `json:"meta"`
		Data struct {
			Type       string          `json:"type"`
			ID         text            `json:"id"`
			Attributes json.RawMessage `json:"attributes"`
		} `json:"data"`
		Included []struct {
			Type       string `json:"type"`
			Attributes struct {
				DiscountCode string `json:"discount_code"`
			} `json:"attributes"`
		} `json:"included"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, malformed("lemonsqueezy", "%v", err)
	}
	name, id := env.Meta.EventName, string(env.Data.ID)
	if name == "" || id == "" {
		return nil, malformed("lemonsqueezy", "event without meta.event_name or data.id")
	}
	// Both an order and a subscription invoice carry these; the rest of
	// their attributes differ only in what Spiffy does not read.
	var a struct {
		CustomerID     text   `json:"customer_id"`
		SubscriptionID text   `json:"subscription_id"`
		UserName       string `json:"user_name"`
		UserEmail      string `json:"user_email"`
		Currency       string `json:"currency"`
		Total          minor  `json:"total"`
		RefundedAmount minor  `json:"refunded_amount"`
		Status         string `json:"status"`
		BillingReason  string `json:"billing_reason"`
		FirstOrderItem struct {
			ProductName string `json:"product_name"`
		} `json:"first_order_item"`
		CreatedAt  stamp `json:"created_at"`
		UpdatedAt  stamp `json:"updated_at"`
		RefundedAt stamp `json:"refunded_at"`
	}
	if len(env.Data.Attributes) > 0 {
		if err := json.Unmarshal(env.Data.Attributes, &a); err != nil {
			return nil, malformed("lemonsqueezy", "%s %s: %v", name, id, err)
		}
	}
	ev := &Event{
		Provider: "lemonsqueezy",
		ID:       name + ":" + id,
		Type:     name,
		Test:     env.Meta.TestMode,
		At:       first(a.UpdatedAt.time(), a.CreatedAt.time()),
	}
	if !a.UpdatedAt.time().IsZero() {
		ev.ID += ":" + a.UpdatedAt.time().Format(time.RFC3339Nano)
	}
	orderID := id
	if env.Data.Type == "subscription-invoices" {
		orderID = subscriptionInvoice + id
	}
	sale := func() *Sale {
		s := &Sale{
			OrderID:        orderID,
			Amount:         int64(a.Total),
			Currency:       currency(a.Currency),
			Email:          strings.TrimSpace(a.UserEmail),
			Name:           strings.TrimSpace(a.UserName),
			Product:        strings.TrimSpace(a.FirstOrderItem.ProductName),
			Referral:       env.Meta.CustomData.str("spiffy_referral"),
			CustomerID:     string(a.CustomerID),
			SubscriptionID: string(a.SubscriptionID),
			At:             first(a.CreatedAt.time(), ev.At),
		}
		for _, inc := range env.Included {
			if inc.Type == "discount-redemptions" {
				s.Coupons = codes(s.Coupons, inc.Attributes.DiscountCode)
			}
		}
		return s
	}
	switch name {
	case "order_created":
		if !lsPaid(a.Status) {
			return ev, nil
		}
		ev.Kind, ev.Sale = KindSale, sale()
	case "subscription_payment_success":
		if a.BillingReason == "initial" || !lsPaid(a.Status) {
			return ev, nil
		}
		ev.Kind, ev.Sale = KindRenewal, sale()
	case "order_refunded", "subscription_payment_refunded":
		if a.BillingReason == "initial" {
			return ev, nil // the order's own order_refunded covers it
		}
		ev.Kind = KindRefund
		ev.Refund = &Refund{
			OrderID:    orderID,
			Amount:     int64(a.RefundedAmount),
			Cumulative: true,
			Currency:   currency(a.Currency),
			At:         first(a.RefundedAt.time(), ev.At),
		}
		return ev, nil
	default:
		return ev, nil
	}
	if err := ev.Sale.check(); err != nil {
		return nil, malformed("lemonsqueezy", "%s %s: %v", name, id, err)
	}
	return ev, nil
}

// lsPaid: an order or invoice that was paid (and may since have been
// refunded). pending and failed ones were not; an absent status is taken
// as paid, since the event itself announces a payment.
func lsPaid(status string) bool {
	switch status {
	case "", "paid", "refunded", "partial_refund":
		return true
	}
	return false
}
