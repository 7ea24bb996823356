package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
)

// The merchant's webhook API (set up and inspect affiliates' endpoints on
// their behalf) and the erasure endpoint.

// WebhookEndpointJSON is an endpoint as the API shows it.
type WebhookEndpointJSON struct {
	ID             string   `json:"id"`
	AffiliateID    string   `json:"affiliate_id"`
	URL            string   `json:"url"`
	Secret         string   `json:"secret"`
	Events         []string `json:"events"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	FailingSince   *string  `json:"failing_since"`
	LastError      string   `json:"last_error,omitempty"`
	CreatedAt      string   `json:"created_at"`
}

// NewWebhookEndpointJSON converts a stored endpoint for the API.
func NewWebhookEndpointJSON(ep *app.WebhookEndpoint) WebhookEndpointJSON {
	j := WebhookEndpointJSON{
		ID: ep.ID, AffiliateID: ep.AffiliateID, URL: ep.URL, Secret: ep.Secret, Events: ep.Events,
		Enabled: !ep.Disabled, DisabledReason: ep.DisabledReason, LastError: ep.LastError, CreatedAt: app.RFC3339(ep.CreatedAt),
	}
	if ep.FailingSince != nil {
		s := app.RFC3339(*ep.FailingSince)
		j.FailingSince = &s
	}
	return j
}

// WebhookAttemptJSON is one delivery attempt.
type WebhookAttemptJSON struct {
	At         string `json:"at"`
	StatusCode int    `json:"status_code"`
	LatencyMS  int64  `json:"latency_ms"`
	Error      string `json:"error,omitempty"`
}

// WebhookMessageJSON is a delivery log entry.
type WebhookMessageJSON struct {
	ID            string               `json:"id"`
	EndpointID    string               `json:"endpoint_id"`
	AffiliateID   string               `json:"affiliate_id"`
	Event         string               `json:"event"`
	Status        string               `json:"status"`
	Attempts      []WebhookAttemptJSON `json:"attempts"`
	NextAttemptAt *string              `json:"next_attempt_at"`
	CreatedAt     string               `json:"created_at"`
	Payload       json.RawMessage      `json:"payload"`
}

// NewWebhookMessageJSON converts a stored message for the API.
func NewWebhookMessageJSON(m *app.WebhookMessage) WebhookMessageJSON {
	j := WebhookMessageJSON{
		ID: m.ID, EndpointID: m.EndpointID, AffiliateID: m.AffiliateID, Event: m.EventType, Status: m.Status,
		Attempts: make([]WebhookAttemptJSON, 0, len(m.Attempts)), CreatedAt: app.RFC3339(m.CreatedAt), Payload: m.Payload,
	}
	for _, at := range m.Attempts {
		j.Attempts = append(j.Attempts, WebhookAttemptJSON{At: app.RFC3339(at.At), StatusCode: at.StatusCode, LatencyMS: at.LatencyMS, Error: at.Error})
	}
	if m.Status == app.MessagePending {
		s := app.RFC3339(m.NextAttemptAt)
		j.NextAttemptAt = &s
	}
	return j
}

// webhookEndpointBody is the JSON of a create or update. An absent (or
// null) field is not given; "events": [] is refused.
type webhookEndpointBody struct {
	URL     *string  `json:"url"`
	Events  []string `json:"events"`
	Enabled *bool    `json:"enabled"`
}

func (b webhookEndpointBody) input() app.WebhookEndpointInput {
	in := app.WebhookEndpointInput{URL: b.URL, Events: b.Events}
	if b.Enabled != nil {
		disabled := !*b.Enabled
		in.Disabled = &disabled
	}
	return in
}

// affiliateFilter reads ?affiliate=, which narrows the merchant's view to
// one affiliate's endpoints or messages.
func affiliateFilter(c echo.Context) (app.Scope, error) {
	aff := c.QueryParam("affiliate")
	switch {
	case aff == "":
		return app.Merchant, nil
	case !app.ValidID(aff):
		return app.Scope{}, app.Invalid("affiliate", "invalid_affiliate", "affiliate must be an affiliate id")
	}
	return app.AffiliateScope(aff), nil
}

func (s *Server) apiListWebhookEndpoints(c echo.Context) error {
	scope, err := affiliateFilter(c)
	if err != nil {
		return err
	}
	eps, err := s.App.WebhookEndpoints(scope)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPage(mapSlice(eps, NewWebhookEndpointJSON), ""))
}

func (s *Server) apiCreateWebhookEndpoint(c echo.Context) error {
	var b webhookEndpointBody
	if err := DecodeJSON(c, &b); err != nil {
		return err
	}
	ep, err := s.App.CreateWebhookEndpoint(c.Request().Context(), c.Param("id"), b.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, NewWebhookEndpointJSON(ep))
}

func (s *Server) apiGetWebhookEndpoint(c echo.Context) error {
	ep, err := s.App.WebhookEndpoint(app.Merchant, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewWebhookEndpointJSON(ep))
}

func (s *Server) apiUpdateWebhookEndpoint(c echo.Context) error {
	var b webhookEndpointBody
	if err := DecodeJSON(c, &b); err != nil {
		return err
	}
	ep, err := s.App.UpdateWebhookEndpoint(c.Request().Context(), app.Merchant, c.Param("id"), b.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewWebhookEndpointJSON(ep))
}

func (s *Server) apiDeleteWebhookEndpoint(c echo.Context) error {
	if err := s.App.DeleteWebhookEndpoint(app.Merchant, c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "deleted": true})
}

func (s *Server) apiTestWebhookEndpoint(c echo.Context) error {
	m, err := s.App.SendTestWebhook(app.Merchant, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, NewWebhookMessageJSON(m))
}

func (s *Server) apiRotateWebhookSecret(c echo.Context) error {
	ep, err := s.App.RotateWebhookSecret(app.Merchant, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewWebhookEndpointJSON(ep))
}

func (s *Server) apiListWebhookMessages(c echo.Context) error {
	limit, cursor, err := ListParams(c)
	if err != nil {
		return err
	}
	scope, err := affiliateFilter(c)
	if err != nil {
		return err
	}
	q := app.WebhookMessageQuery{
		Scope: scope, EndpointID: c.QueryParam("endpoint"),
		Status: strings.TrimSpace(c.QueryParam("status")), Cursor: cursor, Limit: limit,
	}
	if q.EndpointID != "" && !app.ValidID(q.EndpointID) {
		return app.Invalid("endpoint", "invalid_endpoint", "endpoint must be a webhook endpoint id")
	}
	ms, next, err := s.App.WebhookMessages(q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPage(mapSlice(ms, NewWebhookMessageJSON), next))
}

func (s *Server) apiGetWebhookMessage(c echo.Context) error {
	m, err := s.App.WebhookMessage(app.Merchant, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewWebhookMessageJSON(m))
}

func (s *Server) apiResendWebhookMessage(c echo.Context) error {
	m, err := s.App.ResendWebhookMessage(app.Merchant, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewWebhookMessageJSON(m))
}

// EraseRequest is the body of POST /api/v1/erase.
type EraseRequest struct {
	Email string `json:"email"`
}

func (s *Server) apiErase(c echo.Context) error {
	var in EraseRequest
	if err := DecodeJSON(c, &in); err != nil {
		return err
	}
	res, err := s.App.Erase(c.Request().Context(), in.Email)
	if err != nil {
		return err
	}
	return c.JSON(200, res)
}
