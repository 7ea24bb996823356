package apptest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// Scenario is one request through the real router and what must come of
// it, for table tests (after PocketBase's tests.ApiScenario and
// GoatCounter's handler tests). The same table can run with the body sent
// as JSON and, where the endpoint is also a form, as a form post.
type Scenario struct {
	Name   string
	Method string // default POST
	Path   string
	// Body is the request body. Sent as JSON, a string goes as is and
	// anything else is marshalled; sent as a form, a map's values are
	// written with fmt.Sprint.
	Body    any
	Status  int
	Code    string   // the "error" of the JSON error body, when set
	Want    []string // substrings the response body must contain
	NotWant []string // substrings it must not
}

// Encoding is how a scenario's body is sent.
type Encoding string

const (
	AsJSON Encoding = "json"
	AsForm Encoding = "form"
)

// Sender delivers a request to the server under test and returns the
// status and body of the answer: through the router (Env.Sender), or
// through a client that keeps a session and adds a CSRF token.
type Sender func(t testing.TB, req *http.Request) (status int, body string)

// RunScenarios runs every scenario once per encoding (JSON when none is
// given), each as a subtest named "name/json" or "name/form".
func RunScenarios(t *testing.T, send Sender, scenarios []Scenario, encodings ...Encoding) {
	t.Helper()
	if len(encodings) == 0 {
		encodings = []Encoding{AsJSON}
	}
	for _, sc := range scenarios {
		for _, enc := range encodings {
			t.Run(sc.Name+"/"+string(enc), func(t *testing.T) {
				status, body := send(t, sc.request(t, enc))
				sc.check(t, status, body)
			})
		}
	}
}

func (sc Scenario) request(t testing.TB, enc Encoding) *http.Request {
	t.Helper()
	method := sc.Method
	if method == "" {
		method = http.MethodPost
	}
	var r io.Reader
	ct := ""
	switch b := sc.Body.(type) {
	case nil:
	case string:
		r, ct = strings.NewReader(b), "application/json"
		if enc == AsForm {
			ct = "application/x-www-form-urlencoded"
		}
	default:
		if enc == AsForm {
			r, ct = strings.NewReader(formValues(t, b).Encode()), "application/x-www-form-urlencoded"
			break
		}
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		r, ct = strings.NewReader(string(j)), "application/json"
	}
	req := httptest.NewRequest(method, sc.Path, r)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return req
}

// formValues writes a map body as form values, in key order.
func formValues(t testing.TB, body any) url.Values {
	t.Helper()
	v := url.Values{}
	switch m := body.(type) {
	case map[string]any:
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v.Set(k, fmt.Sprint(m[k]))
		}
	case map[string]string:
		for k, s := range m {
			v.Set(k, s)
		}
	case url.Values:
		return m
	default:
		t.Fatalf("a form body must be a map, not %T", body)
	}
	return v
}

func (sc Scenario) check(t testing.TB, status int, body string) {
	t.Helper()
	if status != sc.Status {
		t.Fatalf("status %d, want %d; body: %.600s", status, sc.Status, body)
	}
	if sc.Code != "" {
		var e struct{ Error, Message string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != sc.Code || e.Message == "" {
			t.Fatalf("error body %.300s, want code %q with a message", body, sc.Code)
		}
	}
	for _, w := range sc.Want {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q: %.600s", w, body)
		}
	}
	for _, w := range sc.NotWant {
		if strings.Contains(body, w) {
			t.Errorf("body has %q: %.600s", w, body)
		}
	}
}

// Sender sends through the env's router, with the given headers (name,
// value pairs).
func (e *Env) Sender(headers ...string) Sender {
	return func(t testing.TB, req *http.Request) (int, string) {
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		e.Server.Echo.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
}

// APISender sends to /api/v1 (scenario paths are relative to it) with the
// env's API key.
func (e *Env) APISender() Sender {
	send := e.Sender("Authorization", "Bearer "+e.APIKey)
	return func(t testing.TB, req *http.Request) (int, string) {
		req.URL.Path = "/api/v1" + req.URL.Path
		if req.URL.RawPath != "" {
			req.URL.RawPath = "/api/v1" + req.URL.RawPath
		}
		req.RequestURI = ""
		return send(t, req)
	}
}
