package apptest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
)

// The checker itself: it must catch each kind of mismatch, or the API
// tests it watches prove nothing.
func TestContractCheck(t *testing.T) {
	c := LoadContract(t)
	program := `{"id":"p1","name":"Shop","description":"","landing_url":"https://shop.example/","cookie_days":30,` +
		`"attribution":"last_click","track_leads":false,"share_leads":false,"share_purchasers":false,"auto_approve":false,` +
		`"commission_type":"percent","commission_value":"30","currency":"USD","hold_days":30,"recurring_months":0,` +
		`"created_at":"2026-03-01T12:00:00Z"}`
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name               string
		method, path, body string
		noKey              bool
		status             int
		header             http.Header
		response           string
		want               []string // in the report; none: no mismatch
	}{
		{name: "a true answer", method: "GET", path: "/api/v1/programs/p1", status: 200, header: jsonHeader, response: program},
		{name: "a field the document lacks", method: "GET", path: "/api/v1/programs/p1", status: 200, header: jsonHeader,
			response: strings.Replace(program, `"id":"p1"`, `"id":"p1","secret_sauce":1`, 1),
			want:     []string{"operation getProgram", "secret_sauce"}},
		{name: "a field missing", method: "GET", path: "/api/v1/programs/p1", status: 200, header: jsonHeader,
			response: strings.Replace(program, `"hold_days":30,`, ``, 1), want: []string{"getProgram", "hold_days"}},
		{name: "a field of another type", method: "GET", path: "/api/v1/programs/p1", status: 200, header: jsonHeader,
			response: strings.Replace(program, `"cookie_days":30`, `"cookie_days":"30"`, 1), want: []string{"getProgram", "cookie_days"}},
		{name: "a status not documented", method: "GET", path: "/api/v1/programs/p1", status: 500, header: jsonHeader,
			response: `{"error":"internal_error","message":"boom"}`, want: []string{"getProgram", "500", "status"}},
		{name: "an error body of another shape", method: "GET", path: "/api/v1/programs/p1", status: 404, header: jsonHeader,
			response: `{"error":"not_found"}`, want: []string{"getProgram", "message"}},
		{name: "a documented error", method: "GET", path: "/api/v1/programs/p1", status: 404, header: jsonHeader,
			response: `{"error":"not_found","message":"not found"}`},
		{name: "a request the document refuses, accepted", method: "POST", path: "/api/v1/programs", body: `{"name":7}`,
			status: 201, header: jsonHeader, response: program, want: []string{"createProgram", "refuses this request", "name"}},
		{name: "a request the document refuses, refused", method: "POST", path: "/api/v1/programs", body: `{"name":7}`,
			status: 400, header: jsonHeader, response: `{"error":"invalid_name","message":"name must be a string","field":"name"}`},
		{name: "an unknown PATCH field, accepted", method: "PATCH", path: "/api/v1/programs/p1", body: `{"nmae":"x"}`,
			status: 200, header: jsonHeader, response: program, want: []string{"updateProgram", "nmae"}},
		{name: "no API key, accepted", method: "GET", path: "/api/v1/programs/p1", noKey: true,
			status: 200, header: jsonHeader, response: program, want: []string{"getProgram", "refuses"}},
		{name: "an undocumented operation answered", method: "GET", path: "/api/v1/secrets", status: 200, header: jsonHeader,
			response: `{}`, want: []string{"no such operation"}},
		{name: "an undocumented operation refused", method: "PUT", path: "/api/v1/programs/p1", status: 405, header: jsonHeader,
			response: `{"error":"method_not_allowed","message":"Method Not Allowed"}`},
		{name: "a tracking beacon without a content type", method: "POST", path: "/t/click", body: `{"ref":"ann"}`, noKey: true,
			status: 201, header: jsonHeader, response: `{"referral":"r","program":"p","expires_at":"2026-03-31T12:00:00Z"}`},
		{name: "a purchase before currency is required", method: "POST", path: "/api/v1/purchases", noKey: false,
			body: `{"order_id":"1","program":"p","email":"jo@example.com","amount":"1"}`, status: 400, header: jsonHeader,
			response: `{"error":"invalid_currency","message":"currency is required"}`},
		{name: "a purchase with a bad field is not excused by the missing currency", method: "POST", path: "/api/v1/purchases",
			body: `{"order_id":1,"program":"p","email":"jo@example.com","amount":"1"}`, status: 201, header: jsonHeader,
			response: `{}`, want: []string{"createPurchase", "refuses", "order_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if !tt.noKey {
				req.Header.Set("Authorization", "Bearer k")
			}
			got := c.Check(Exchange{Request: req, RequestBody: []byte(tt.body), Status: tt.status, Header: tt.header, ResponseBody: []byte(tt.response)})
			if len(tt.want) == 0 && got != "" {
				t.Fatalf("reported a mismatch:\n%s", got)
			}
			if len(tt.want) > 0 && got == "" {
				t.Fatal("no mismatch reported")
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("report lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// recordingTB keeps the errors reported to it instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := r.errs
	r.errs = nil
	return errs
}

// The middleware New installs sees the live exchanges, errors and all, and
// reports a mismatch to the test that sent the request.
func TestCheckOpenAPIMiddleware(t *testing.T) {
	rec := &recordingTB{TB: t}
	env := New(rec) // not a *testing.T: New installs no checker of its own
	env.Server.Echo.Pre(CheckOpenAPI(rec))

	// True exchanges: a created program, an error from the API-key check.
	Expect(t, env.API(http.MethodPost, "/programs", map[string]any{"name": "Shop", "landing_url": "https://shop.example/"}), http.StatusCreated)
	Expect(t, env.Request(http.MethodGet, "/api/v1/programs", nil), http.StatusUnauthorized)
	Expect(t, env.Request(http.MethodOptions, "/t/lead", nil), http.StatusNoContent)
	if errs := rec.take(); len(errs) > 0 {
		t.Fatalf("true exchanges reported: %v", errs)
	}

	// A handler that answers a field the document lacks.
	env.Server.API.GET("/programs/:id", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "name": "Shop", "leaked": true})
	})
	Expect(t, env.API(http.MethodGet, "/programs/p1", nil), http.StatusOK)
	// A route the document lacks.
	env.Server.Echo.POST("/t/secret", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	Expect(t, env.Request(http.MethodPost, "/t/secret", nil), http.StatusOK)
	// An answer the document does not list: a handler error becomes a 500.
	env.Server.API.GET("/leads", func(c echo.Context) error { return errors.New("boom") })
	Expect(t, env.API(http.MethodGet, "/leads", nil), http.StatusInternalServerError)

	errs := strings.Join(rec.take(), "\n")
	for _, want := range []string{"operation getProgram", "leaked", "POST /t/secret", "no such operation", "operation listLeads", "500"} {
		if !strings.Contains(errs, want) {
			t.Errorf("reports lack %q:\n%s", want, errs)
		}
	}
}
