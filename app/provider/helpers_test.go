package provider_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app/provider"
)

const (
	// ref is the referral id the sample checkouts carry: a Spiffy id.
	ref = "01JQ5Z8T3K7M2N4P6R8S0V2X4Y"

	stripeSecret = "whsec_5f1e3c9a7b2d4e6f8a0b1c2d3e4f5a6b"
	paddleSecret = "pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_hKkRiCGyyRhbFwIUuqiTBgI7gnWoV0Gr"
	lsSecret     = "spiffy-lemon-squeezy-signing-secret"
)

// sample reads testdata/<path>.
func sample(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// patch decodes a sample, lets change edit it (the Stripe event's
// data.object is passed as obj), and encodes it again.
func patch(t *testing.T, path string, change func(doc, obj map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(sample(t, path), &doc); err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if data, ok := doc["data"].(map[string]any); ok {
		obj, _ = data["object"].(map[string]any)
	}
	change(doc, obj)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// same fails the test when got and want differ, showing both as JSON (the
// form a reader can compare field by field).
func same(t *testing.T, what string, got, want *provider.Event) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	if string(g) != string(w) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

func wantInvalid(t *testing.T, what string, ev *provider.Event, err error) {
	t.Helper()
	if !errors.Is(err, provider.ErrInvalidSignature) || errors.Is(err, provider.ErrMalformed) || ev != nil {
		t.Errorf("%s: got %+v, %v; want ErrInvalidSignature", what, ev, err)
	}
}

func wantMalformed(t *testing.T, what string, ev *provider.Event, err error) {
	t.Helper()
	if !errors.Is(err, provider.ErrMalformed) || errors.Is(err, provider.ErrInvalidSignature) || ev != nil {
		t.Errorf("%s: got %+v, %v; want ErrMalformed", what, ev, err)
	}
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func rfc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}
