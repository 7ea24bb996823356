// Package providertest signs webhook bodies as the payment providers do,
// for tests that post them to Spiffy: Stripe with stripe-go's own test
// helper, Paddle and Lemon Squeezy by their documented schemes (their SDKs
// verify but do not sign).
package providertest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"
)

// Stripe is the Stripe-Signature header for body signed with secret at at.
func Stripe(body []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
}

// Paddle is the Paddle-Signature header: ts=<unix>;h1=<hex
// HMAC-SHA256(secret, ts + ":" + body)>.
func Paddle(body []byte, secret string, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + ":"))
	mac.Write(body)
	return "ts=" + ts + ";h1=" + hex.EncodeToString(mac.Sum(nil))
}

// LemonSqueezy is the X-Signature header: hex HMAC-SHA256(secret, body).
func LemonSqueezy(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
