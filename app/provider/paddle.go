package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	paddle "github.com/PaddleHQ/paddle-go-sdk/v4"
)

// Paddle verifies a Paddle Billing webhook (the Paddle-Signature header,
// ts=…;h1=…, whose timestamp must be within Tolerance of now either way)
// with paddle-go-sdk's WebhookVerifier and reads it. Mapped types:
//
//   - transaction.completed: KindSale, or KindRenewal for a transaction a
//     subscription made by itself (origin subscription_recurring, and the
//     subscription_charge and subscription_update charges of an existing
//     subscription). A payment-method change (a zero transaction) is
//     KindIgnored.
//   - adjustment.created and adjustment.updated with action refund and
//     status approved: KindRefund of that adjustment's total.
//
// Anything else is KindIgnored.
func Paddle(body []byte, signatureHeader, secret string) (*Event, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil, invalid("paddle", errors.New("no signing secret"))
	}
	// The SDK verifies an *http.Request; a body past its 2 MB cap fails to
	// read, which is no signature problem.
	req, err := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Paddle-Signature", signatureHeader)
	// Without a tolerance option the SDK checks no timestamp at all.
	ok, err := paddle.NewWebhookVerifier(secret, paddle.VerifierWithTimestampTolerance(Tolerance)).Verify(req)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, malformed("paddle", "body of %d bytes is over the verifier's limit", len(body))
	case err != nil:
		return nil, invalid("paddle", err)
	case !ok:
		return nil, invalid("paddle", errors.New("signature mismatch"))
	}
	return parsePaddle(body)
}

func parsePaddle(body []byte) (*Event, error) {
	var env struct {
		EventID    string          `json:"event_id"`
		EventType  string          `json:"event_type"`
		OccurredAt stamp           `json:"occurred_at"`
		Data       json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, malformed("paddle", "%v", err)
	}
	if env.EventID == "" || env.EventType == "" {
		return nil, malformed("paddle", "event without event_id or event_type")
	}
	ev := &Event{Provider: "paddle", ID: env.EventID, Type: env.EventType, At: env.OccurredAt.time()}
	var err error
	switch env.EventType {
	case "transaction.completed":
		err = paddleTransaction(ev, env.Data)
	case "adjustment.created", "adjustment.updated":
		err = paddleAdjustment(ev, env.Data)
	}
	if err != nil {
		return nil, malformed("paddle", "%s %s: %v", env.EventType, env.EventID, err)
	}
	return ev, nil
}

func paddleTransaction(ev *Event, raw json.RawMessage) error {
	var t struct {
		ID             string `json:"id"`
		Origin         string `json:"origin"`
		CustomerID     text   `json:"customer_id"`
		SubscriptionID text   `json:"subscription_id"`
		CurrencyCode   string `json:"currency_code"`
		CustomData     meta   `json:"custom_data"`
		DiscountID     text   `json:"discount_id"`
		// discount and customer are there only when the payload includes
		// them (the API's ?include=); read them when they are.
		Discount struct {
			ID   string `json:"id"`
			Code string `json:"code"`
		} `json:"discount"`
		Customer struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"customer"`
		Details struct {
			Totals struct {
				GrandTotal   minor  `json:"grand_total"`
				CurrencyCode string `json:"currency_code"`
			} `json:"totals"`
			LineItems []struct {
				Product struct {
					Name string `json:"name"`
				} `json:"product"`
			} `json:"line_items"`
		} `json:"details"`
		Items []struct {
			Price struct {
				Name        string `json:"name"`
				Description string `json:"description"`
			} `json:"price"`
		} `json:"items"`
		Payments []struct {
			Status     string `json:"status"`
			CapturedAt stamp  `json:"captured_at"`
		} `json:"payments"`
		BilledAt stamp `json:"billed_at"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return err
	}
	kind := KindSale
	switch t.Origin {
	case "subscription_payment_method_change":
		return nil
	case "subscription_recurring", "subscription_charge", "subscription_update":
		kind = KindRenewal
	}
	sale := &Sale{
		OrderID:        t.ID,
		Amount:         int64(t.Details.Totals.GrandTotal),
		Currency:       currency(firstString(t.CurrencyCode, t.Details.Totals.CurrencyCode)),
		Email:          strings.TrimSpace(t.Customer.Email),
		Name:           strings.TrimSpace(t.Customer.Name),
		Referral:       t.CustomData.str("spiffy_referral"),
		Coupons:        codes(nil, t.Discount.Code, string(t.DiscountID), t.Discount.ID),
		CustomerID:     string(t.CustomerID),
		SubscriptionID: string(t.SubscriptionID),
	}
	if len(t.Details.LineItems) > 0 {
		sale.Product = strings.TrimSpace(t.Details.LineItems[0].Product.Name)
	}
	if sale.Product == "" && len(t.Items) > 0 {
		sale.Product = strings.TrimSpace(firstString(t.Items[0].Price.Name, t.Items[0].Price.Description))
	}
	var captured stamp
	for _, p := range t.Payments { // newest first
		if p.Status == "captured" {
			captured = p.CapturedAt
			break
		}
	}
	sale.At = first(captured.time(), t.BilledAt.time(), ev.At)
	if err := sale.check(); err != nil {
		return err
	}
	ev.Kind, ev.Sale = kind, sale
	return nil
}

func paddleAdjustment(ev *Event, raw json.RawMessage) error {
	var a struct {
		ID            string `json:"id"`
		Action        string `json:"action"`
		Status        string `json:"status"`
		TransactionID string `json:"transaction_id"`
		CurrencyCode  string `json:"currency_code"`
		Totals        struct {
			Total        minor  `json:"total"`
			CurrencyCode string `json:"currency_code"`
		} `json:"totals"`
		UpdatedAt stamp `json:"updated_at"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return err
	}
	// Most refunds are created pending_approval and approved later, in an
	// adjustment.updated; credits, chargebacks and rejected refunds move no
	// money back from a sale.
	if a.Action != "refund" || a.Status != "approved" {
		return nil
	}
	if a.TransactionID == "" {
		return errors.New("refund without transaction_id")
	}
	amount := int64(a.Totals.Total)
	if amount < 0 {
		amount = -amount
	}
	ev.Kind = KindRefund
	ev.Refund = &Refund{
		ID:       a.ID,
		OrderID:  a.TransactionID,
		Amount:   amount,
		Currency: currency(firstString(a.CurrencyCode, a.Totals.CurrencyCode)),
		At:       first(a.UpdatedAt.time(), ev.At),
	}
	return nil
}
