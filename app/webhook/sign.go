package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// secretBytes is the size of a generated secret: Standard Webhooks asks for
// 24 to 64 bytes; 24 (as Svix) encodes to 32 characters without padding.
const secretBytes = 24

// ErrBadSecret is returned for a secret that is not whsec_ + base64.
var ErrBadSecret = errors.New("webhook: bad signing secret")

// NewSecret returns a fresh signing secret: "whsec_" + base64 of 24 random
// bytes. Secrets whose encoding holds a '+' are drawn again (about one in
// three; it costs under one bit of the 192): HTML escapes '+' as "&#43;",
// and a secret that reads the same in a page's source, a form and a URL
// is one fewer way for an affiliate to paste it wrong.
func NewSecret() string {
	b := make([]byte, secretBytes)
	for {
		if _, err := rand.Read(b); err != nil {
			panic("webhook: crypto/rand failed: " + err.Error())
		}
		s := base64.StdEncoding.EncodeToString(b)
		if !strings.Contains(s, "+") {
			return SecretPrefix + s
		}
	}
}

// SecretKey decodes a secret into the HMAC key: the bytes after "whsec_".
func SecretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// Sign returns the webhook-signature header value for one attempt:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	var buf [20]byte
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(buf[:0], ts.Unix(), 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// MaxTries is how many attempts a message gets in one delivery round: the
// first one and seven retries.
const MaxTries = 8

// RetryDelay is how long to wait before the next attempt after `tries`
// failed attempts (1-based), following the Standard Webhooks reference
// schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. ok is false once
// the message has had MaxTries attempts and is to be marked failed.
func RetryDelay(tries int) (d time.Duration, ok bool) {
	switch tries {
	case 1:
		return 5 * time.Second, true
	case 2:
		return 5 * time.Minute, true
	case 3:
		return 30 * time.Minute, true
	case 4:
		return 2 * time.Hour, true
	case 5:
		return 5 * time.Hour, true
	case 6, 7:
		return 10 * time.Hour, true
	}
	return 0, false
}

// DescribeSchedule renders the schedule for help texts.
func DescribeSchedule() string {
	var parts []string
	for i := 1; i < MaxTries; i++ {
		d, _ := RetryDelay(i)
		parts = append(parts, shortDuration(d))
	}
	return fmt.Sprintf("retried after %s, then marked failed", strings.Join(parts, ", "))
}

func shortDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d s", d/time.Second)
}
