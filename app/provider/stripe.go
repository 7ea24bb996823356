package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"
)

// Stripe verifies a Stripe webhook (the Stripe-Signature header, within
// Tolerance, any of the header's v1 signatures during a secret roll) with
// stripe-go's webhook package and reads it. Events of any API version are
// accepted. Mapped types:
//
//   - checkout.session.completed and checkout.session.async_payment_succeeded
//     with payment_status paid: KindSale.
//   - invoice.paid: KindSale for a subscription's first invoice
//     (billing_reason subscription_create) and for an invoice outside any
//     subscription; KindRenewal for a subscription's later invoices.
//   - invoice_payment.paid: KindPaymentLink.
//   - charge.refunded: KindRefund with the cumulative amount_refunded.
//
// Anything else, including Stripe's thin (v2) event notifications, is
// KindIgnored.
func Stripe(body []byte, signatureHeader, secret string) (*Event, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil, invalid("stripe", errors.New("no signing secret"))
	}
	// The SDK's signature check alone: its ConstructEvent would also decode
	// the body into its typed Event, which we would throw away (that took
	// two thirds of the time per event) and which fails on shapes it does
	// not know (old API versions, thin events). Checking only the signature
	// is also what ignoring API-version mismatches amounts to.
	if err := webhook.ValidatePayloadWithTolerance(body, signatureHeader, secret, Tolerance); err != nil {
		return nil, invalid("stripe", err)
	}
	return parseStripe(body)
}

// stripeEnvelope is a snapshot event with its object read as the union of
// the fields Spiffy reads from the objects of the types it maps (Checkout
// Session, Invoice, Invoice Payment, Charge: their shared names mean the
// same in each). Reading the event so, in one pass, takes half the time of
// reading the envelope and then its object: on a 3 KB indented event, the
// JSON scanning was most of the CPU an event cost before the store.
type stripeEnvelope struct {
	ID       string  `json:"id"`
	Object   string  `json:"object"`
	Type     string  `json:"type"`
	Created  created `json:"created"`
	Livemode bool    `json:"livemode"`
	Data     struct {
		Object stripeObject `json:"object"`
	} `json:"data"`
}

// stripeObject: see stripeEnvelope. Fields a type does not have stay zero.
type stripeObject struct {
	ID       string `json:"id"`
	Currency string `json:"currency"`
	Customer ref    `json:"customer"`
	Metadata meta   `json:"metadata"`
	Status   string `json:"status"`
	// Sessions and invoices (until 2025-02-24.acacia), charges.
	Invoice       ref `json:"invoice"`
	PaymentIntent ref `json:"payment_intent"`
	Subscription  ref `json:"subscription"`
	// Sessions and invoices.
	CustomerEmail string     `json:"customer_email"`
	Discounts     []discount `json:"discounts"`
	// Invoices and invoice payments.
	AmountPaid        minor `json:"amount_paid"`
	StatusTransitions struct {
		PaidAt int64 `json:"paid_at"`
	} `json:"status_transitions"`

	// Checkout Session.
	PaymentStatus     string `json:"payment_status"`
	AmountTotal       minor  `json:"amount_total"`
	ClientReferenceID string `json:"client_reference_id"`
	CustomerDetails   struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"customer_details"`
	TotalDetails struct {
		Breakdown struct {
			Discounts []struct {
				Discount discount `json:"discount"`
			} `json:"discounts"`
		} `json:"breakdown"`
	} `json:"total_details"`

	// Invoice.
	BillingReason string `json:"billing_reason"`
	CustomerName  string `json:"customer_name"`
	// Until 2025-02-24.acacia the subscription and payment intent sit on
	// the invoice itself, the subscription's metadata beside them.
	SubscriptionDetails subDetails `json:"subscription_details"`
	Discount            *discount  `json:"discount"`
	// From 2025-03-31.basil the subscription moved under parent; the
	// payment intent is only in payments when included, and otherwise
	// arrives in invoice_payment.paid.
	Parent struct {
		SubscriptionDetails subDetails `json:"subscription_details"`
	} `json:"parent"`
	Payments struct {
		Data []invoicePayment `json:"data"`
	} `json:"payments"`
	Lines struct {
		Data []struct {
			Description string `json:"description"`
		} `json:"data"`
	} `json:"lines"`

	// Invoice Payment.
	Payment struct {
		PaymentIntent ref `json:"payment_intent"`
	} `json:"payment"`

	// Charge.
	AmountRefunded minor `json:"amount_refunded"`
}

type subDetails struct {
	Subscription ref  `json:"subscription"`
	Metadata     meta `json:"metadata"`
}

// stripeObjectTypes maps the event types Spiffy uses to their readers.
var stripeObjectTypes = map[string]func(*Event, *stripeObject) error{
	"checkout.session.completed":               stripeSession,
	"checkout.session.async_payment_succeeded": stripeSession,
	"invoice.paid":                             stripeInvoice,
	"invoice_payment.paid":                     stripeInvoicePayment,
	"charge.refunded":                          stripeCharge,
}

func parseStripe(body []byte) (*Event, error) {
	var env stripeEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		// Some field of the object has a shape the union does not expect
		// (an event type Spiffy does not use may name a field alike), or
		// the body is no JSON: read the envelope and, for the types
		// Spiffy uses, the object on its own, which says which.
		return parseStripeObject(body)
	}
	return stripeEvent(&env, &env.Data.Object)
}

// parseStripeObject reads the envelope, then the object of the types
// Spiffy uses: the slower way, for events the one pass refused.
func parseStripeObject(body []byte) (*Event, error) {
	var env struct {
		stripeEnvelope
		Data struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, malformed("stripe", "%v", err)
	}
	var obj stripeObject
	// An absent or null object reads as empty, as in the one pass.
	if _, used := stripeObjectTypes[env.Type]; used && env.Object == "event" && len(env.Data.Object) > 0 {
		if err := json.Unmarshal(env.Data.Object, &obj); err != nil {
			return nil, malformed("stripe", "%s %s: %v", env.Type, env.ID, err)
		}
	}
	return stripeEvent(&env.stripeEnvelope, &obj)
}

func stripeEvent(env *stripeEnvelope, obj *stripeObject) (*Event, error) {
	ev := &Event{Provider: "stripe", ID: env.ID, Type: env.Type, Test: !env.Livemode, At: time.Time(env.Created)}
	if env.Object != "event" {
		// A thin event notification (v2.core.event): it carries no object
		// to read, and none of its types is one Spiffy uses.
		return ev, nil
	}
	if env.ID == "" || env.Type == "" {
		return nil, malformed("stripe", "event without id or type")
	}
	if read, used := stripeObjectTypes[env.Type]; used {
		if err := read(ev, obj); err != nil {
			return nil, malformed("stripe", "%s %s: %v", env.Type, env.ID, err)
		}
	}
	return ev, nil
}

// created is an event's creation time: epoch seconds in snapshot events,
// an RFC 3339 string in thin (v2) ones.
type created time.Time

func (c *created) UnmarshalJSON(b []byte) error {
	var sec int64
	if json.Unmarshal(b, &sec) == nil {
		*c = created(unix(sec))
		return nil
	}
	var s stamp
	_ = s.UnmarshalJSON(b)
	*c = created(s)
	return nil
}

// ref is a Stripe "expandable" field: null, an id string, or the expanded
// object. Only the parts Spiffy reads are kept.
type ref struct {
	ID       string
	Code     string // a promotion code's customer-facing code
	Metadata meta   // a customer's metadata
}

func (r *ref) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*r = ref{}
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		return json.Unmarshal(b, &r.ID)
	case b[0] == '{':
		var o struct {
			ID       string `json:"id"`
			Code     string `json:"code"`
			Metadata meta   `json:"metadata"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*r = ref{ID: o.ID, Code: o.Code, Metadata: o.Metadata}
	}
	return nil
}

// discount is one entry of a session's or invoice's discounts (or an old
// invoice's single discount). Sessions list {coupon, promotion_code};
// invoices list discount ids (di_…, nothing to match) or, expanded,
// Discount objects whose coupon moved to source.coupon in 2025-09-30.clover.
type discount struct {
	Coupon        ref `json:"coupon"`
	PromotionCode ref `json:"promotion_code"`
	Source        struct {
		Coupon ref `json:"coupon"`
	} `json:"source"`
}

func (d *discount) UnmarshalJSON(b []byte) error {
	*d = discount{}
	if b = bytes.TrimSpace(b); len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain discount
	return json.Unmarshal(b, (*plain)(d))
}

func discountCodes(list []string, ds ...discount) []string {
	for _, d := range ds {
		list = codes(list, d.PromotionCode.ID, d.PromotionCode.Code, d.Coupon.ID, d.Source.Coupon.ID)
	}
	return list
}

func stripeSession(ev *Event, s *stripeObject) error {
	// unpaid: a delayed payment method, announced again by
	// checkout.session.async_payment_succeeded; no_payment_required: a
	// trial or a full discount, whose subscription invoice.paid follows.
	if s.PaymentStatus != "paid" {
		return nil
	}
	sale := &Sale{
		OrderID:         firstString(s.Invoice.ID, s.PaymentIntent.ID, s.ID),
		Amount:          int64(s.AmountTotal),
		Currency:        currency(s.Currency),
		Email:           firstString(strings.TrimSpace(s.CustomerDetails.Email), strings.TrimSpace(s.CustomerEmail)),
		Name:            strings.TrimSpace(s.CustomerDetails.Name),
		Product:         s.Metadata.str("product"),
		Referral:        firstString(s.Metadata.str("spiffy_referral"), strings.TrimSpace(s.ClientReferenceID), s.Customer.Metadata.str("spiffy_referral")),
		CustomerID:      s.Customer.ID,
		SubscriptionID:  s.Subscription.ID,
		PaymentIntentID: s.PaymentIntent.ID,
		InvoiceID:       s.Invoice.ID,
		At:              ev.At,
	}
	sale.Coupons = discountCodes(nil, s.Discounts...)
	for _, d := range s.TotalDetails.Breakdown.Discounts {
		sale.Coupons = discountCodes(sale.Coupons, d.Discount)
	}
	if err := sale.check(); err != nil {
		return err
	}
	ev.Kind, ev.Sale = KindSale, sale
	return nil
}

func stripeInvoice(ev *Event, in *stripeObject) error {
	subMeta := in.Parent.SubscriptionDetails.Metadata
	if subMeta == nil {
		subMeta = in.SubscriptionDetails.Metadata
	}
	sale := &Sale{
		OrderID:        in.ID,
		Amount:         int64(in.AmountPaid),
		Currency:       currency(in.Currency),
		Email:          strings.TrimSpace(in.CustomerEmail),
		Name:           strings.TrimSpace(in.CustomerName),
		Product:        firstString(in.Metadata.str("product"), subMeta.str("product")),
		Referral:       firstString(in.Metadata.str("spiffy_referral"), subMeta.str("spiffy_referral"), in.Customer.Metadata.str("spiffy_referral")),
		CustomerID:     in.Customer.ID,
		SubscriptionID: firstString(in.Parent.SubscriptionDetails.Subscription.ID, in.Subscription.ID),
		InvoiceID:      in.ID,
		At:             first(unix(in.StatusTransitions.PaidAt), ev.At),
	}
	if sale.Product == "" && len(in.Lines.Data) > 0 {
		sale.Product = strings.TrimSpace(in.Lines.Data[0].Description)
	}
	sale.PaymentIntentID = in.PaymentIntent.ID
	for _, p := range in.Payments.Data {
		if sale.PaymentIntentID == "" && (p.Status == "" || p.Status == "paid") {
			sale.PaymentIntentID = p.Payment.PaymentIntent.ID
		}
	}
	if in.Discount != nil {
		sale.Coupons = discountCodes(sale.Coupons, *in.Discount)
	}
	sale.Coupons = discountCodes(sale.Coupons, in.Discounts...)
	if err := sale.check(); err != nil {
		return err
	}
	ev.Kind, ev.Sale = KindRenewal, sale
	// A subscription's first invoice is the sale its checkout made (same
	// order id); an invoice outside any subscription is a sale of its own,
	// with no earlier sale to renew.
	if in.BillingReason == "subscription_create" || sale.SubscriptionID == "" {
		ev.Kind = KindSale
	}
	return nil
}

type invoicePayment struct {
	Invoice ref    `json:"invoice"`
	Status  string `json:"status"`
	Payment struct {
		PaymentIntent ref `json:"payment_intent"`
	} `json:"payment"`
	StatusTransitions struct {
		PaidAt int64 `json:"paid_at"`
	} `json:"status_transitions"`
}

func stripeInvoicePayment(ev *Event, p *stripeObject) error {
	// A payment by a bare charge or an out-of-band record has no payment
	// intent for a refund to name.
	if p.Invoice.ID == "" || p.Payment.PaymentIntent.ID == "" {
		return nil
	}
	ev.Kind = KindPaymentLink
	ev.Link = &PaymentLink{
		InvoiceID:       p.Invoice.ID,
		PaymentIntentID: p.Payment.PaymentIntent.ID,
		At:              first(unix(p.StatusTransitions.PaidAt), ev.At),
	}
	return nil
}

func stripeCharge(ev *Event, c *stripeObject) error {
	if c.PaymentIntent.ID == "" && c.Invoice.ID == "" {
		return nil // a bare charge no Checkout or invoice made
	}
	ev.Kind = KindRefund
	ev.Refund = &Refund{
		OrderID:         c.Invoice.ID,
		PaymentIntentID: c.PaymentIntent.ID,
		Amount:          int64(c.AmountRefunded),
		Cumulative:      true,
		Currency:        currency(c.Currency),
		At:              ev.At,
	}
	return nil
}
