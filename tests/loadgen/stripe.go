package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"
)

// The stripe target (issue 13): signed checkout.session.completed events
// posted to /integrations/stripe, each a new one-time Checkout payment
// whose client_reference_id is one of the load's referrals, so every event
// is verified, attributed, stored with its commission and fsynced before
// its 200. An answer that is 200 without "purchase recorded" counts as an
// error: an event that was merely acknowledged would measure nothing.

// Targets of issue 13, at stripeConns concurrent senders.
const (
	targetStripeRPS = 3000
	targetStripeP99 = 50 * time.Millisecond
	stripeConns     = 32
)

// stripeRecorded is what the answer to a recorded sale contains.
var stripeRecorded = []byte(`"outcome":"purchase recorded"`)

// newStripeSecret makes a signing secret for a spiffy the generator starts.
func newStripeSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_loadgen" + hex.EncodeToString(b)
}

// stripeSession is a checkout.session.completed event of API 2025-03-31 as
// Stripe sends it (the shape of app/provider/testdata's sample, indented),
// cut where each event differs («…»): event id, created, session id,
// client reference, buyer's email, payment intent.
var stripeSession = splitTemplate(indentStripe(`{"id":"evt_lg«EVT»","object":"event","api_version":"2025-03-31.basil","created":«CREATED»,` +
	`"data":{"object":{"id":"cs_test_lg«EVT»","object":"checkout.session","adaptive_pricing":{"enabled":false},"after_expiration":null,` +
	`"allow_promotion_codes":true,"amount_subtotal":5900,"amount_total":4900,"automatic_tax":{"enabled":false,"liability":null,"status":null},` +
	`"billing_address_collection":null,"cancel_url":"https://shop.example.com/cancel","client_reference_id":"«REF»","client_secret":null,` +
	`"consent":null,"consent_collection":null,"created":«CREATED»,"currency":"usd","currency_conversion":null,"custom_fields":[],` +
	`"custom_text":{"after_submit":null,"shipping_address":null,"submit":null,"terms_of_service_acceptance":null},"customer":null,` +
	`"customer_creation":"if_required","customer_details":{"address":{"city":"Lyon","country":"FR","line1":"1 Rue de la Paix","line2":null,` +
	`"postal_code":"69001","state":null},"email":"buyer.«EVT»@example.com","name":"Load Buyer","phone":null,"tax_exempt":"none","tax_ids":[]},` +
	`"customer_email":null,"discounts":[{"coupon":null,"promotion_code":"promo_1R8nWzB7WZ01zgkWJANE20"}],"expires_at":1743586400,"invoice":null,` +
	`"invoice_creation":{"enabled":false,"invoice_data":{"account_tax_ids":null,"custom_fields":null,"description":null,"footer":null,` +
	`"issuer":null,"metadata":{},"rendering_options":null}},"livemode":false,"locale":null,"metadata":{"product":"Pro plan (lifetime)"},` +
	`"mode":"payment","payment_intent":"pi_lg«EVT»","payment_link":null,"payment_method_collection":"if_required",` +
	`"payment_method_configuration_details":null,"payment_method_options":{"card":{"request_three_d_secure":"automatic"}},` +
	`"payment_method_types":["card"],"payment_status":"paid","phone_number_collection":{"enabled":false},"recovered_from":null,` +
	`"saved_payment_method_options":null,"setup_intent":null,"shipping_address_collection":null,"shipping_cost":null,"shipping_options":[],` +
	`"status":"complete","submit_type":null,"subscription":null,"success_url":"https://shop.example.com/thanks",` +
	`"total_details":{"amount_discount":1000,"amount_shipping":0,"amount_tax":0},"ui_mode":"hosted","url":null}},` +
	`"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"checkout.session.completed"}`))

// indentStripe indents a compact event as Stripe sends them: two spaces,
// one field a line (a third more bytes to verify and read than compact).
func indentStripe(compact string) string {
	const created = "9999999999" // a number standing for «CREATED» while indenting
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(strings.ReplaceAll(compact, "«CREATED»", created)), "", "  "); err != nil {
		panic("loadgen: stripe template: " + err.Error())
	}
	return strings.ReplaceAll(b.String(), created, "«CREATED»")
}

// template is a text cut at its «NAME» placeholders (characters no JSON
// of ours contains): parts[i] comes before names[i]; the last part ends it.
type template struct {
	parts []string
	names []string
}

func splitTemplate(s string) template {
	var t template
	for {
		before, rest, ok := strings.Cut(s, "«")
		if !ok {
			t.parts = append(t.parts, s)
			return t
		}
		name, after, ok := strings.Cut(rest, "»")
		if !ok {
			panic("loadgen: unterminated placeholder in " + s)
		}
		t.parts, t.names, s = append(t.parts, before), append(t.names, name), after
	}
}

// appendTo appends the template with values[name] in its places.
func (t template) appendTo(b []byte, values func(b []byte, name string) []byte) []byte {
	for i, name := range t.names {
		b = append(b, t.parts[i]...)
		b = values(b, name)
	}
	return append(b, t.parts[len(t.parts)-1]...)
}

// stripeBuilder returns the request factory of the stripe target.
func (e *environment) stripeBuilder(head func(b []byte, path, extra string, bodyLen int) []byte) func() requestFunc {
	run := e.runID + strconv.FormatInt(time.Now().UnixNano()%1e6, 36) // event and order ids unique across runs
	secret := e.opts.stripeSecret
	return func() requestFunc {
		run := e.generation(run)
		body := make([]byte, 0, 4096)
		extra := make([]byte, 0, 128)
		return func(b []byte, w, n int) []byte {
			now := time.Now()
			body = stripeSession.appendTo(body[:0], func(b []byte, name string) []byte {
				switch name {
				case "EVT":
					b = append(b, run...)
					b = append(b, 'w')
					b = strconv.AppendInt(b, int64(w), 36)
					b = append(b, 'n')
					return strconv.AppendInt(b, int64(n), 36)
				case "CREATED":
					// A second ahead: in whole seconds, an event made in the
					// second of its referral's click could read as earlier
					// than the click, and so outside its window.
					return strconv.AppendInt(b, now.Unix()+1, 10)
				case "REF":
					return append(b, e.refs[w%len(e.refs)]...)
				}
				return b
			})
			// Signed with stripe-go's own function, as Stripe signs:
			// v1 = HMAC-SHA256(secret, "t.body").
			extra = append(extra[:0], "Stripe-Signature: t="...)
			extra = strconv.AppendInt(extra, now.Unix(), 10)
			extra = append(extra, ",v1="...)
			extra = hex.AppendEncode(extra, webhook.ComputeSignature(now, body, secret))
			extra = append(extra, "\r\n"...)
			b = head(b, "/integrations/stripe", string(extra), len(body))
			b = replaceContentType(b)
			return append(b, body...)
		}
	}
}
