package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
)

// Webhook pages. The merchant's Webhooks page (every affiliate's endpoints
// and deliveries, failing ones highlighted, disable one) lives here with
// the view models both areas share; the affiliate's /portal/webhooks is in
// portal_webhooks.go.

// endpointRow is an endpoint as the pages show it.
type endpointRow struct {
	*app.WebhookEndpoint
	AffiliateName string
	Failing       bool // failing now, or disabled automatically for failing
	Deliveries    []deliveryRow
	MoreURL       string        // the full delivery log, when Deliveries is a preview
	Choices       []eventChoice // the portal's edit form
}

// Status is the endpoint's one-word state.
func (e endpointRow) Status() string {
	switch {
	case e.Disabled:
		return "disabled"
	case e.FailingSince != nil:
		return "failing"
	}
	return "active"
}

func newEndpointRow(ep *app.WebhookEndpoint, names map[string]string) endpointRow {
	return endpointRow{WebhookEndpoint: ep, AffiliateName: names[ep.AffiliateID],
		Failing: ep.FailingSince != nil || ep.DisabledBy == app.DisabledByAuto}
}

// deliveryRow is one message of the delivery log.
type deliveryRow struct {
	ID, Event, Status, EndpointURL, AffiliateName, AffiliateID, Error string
	Attempts, Code                                                    int
	LatencyMS                                                         int64
	Created, LastAt, NextAt                                           time.Time
	NextIn                                                            string // "in 4 min" for pending messages
	Payload                                                           string // indented JSON
}

func newDeliveryRow(m *app.WebhookMessage, eps map[string]*app.WebhookEndpoint, names map[string]string, now time.Time) deliveryRow {
	r := deliveryRow{ID: m.ID, Event: m.EventType, Status: m.Status, AffiliateID: m.AffiliateID,
		AffiliateName: names[m.AffiliateID], Attempts: len(m.Attempts), Created: m.CreatedAt}
	if ep := eps[m.EndpointID]; ep != nil {
		r.EndpointURL = ep.URL
	}
	if a := m.LastAttempt(); a != nil {
		r.Code, r.LatencyMS, r.Error, r.LastAt = a.StatusCode, a.LatencyMS, a.Error, a.At
	}
	if m.Status == app.MessagePending {
		r.NextAt = m.NextAttemptAt
		r.NextIn = untilText(m.NextAttemptAt.Sub(now))
	}
	var buf bytes.Buffer
	if json.Indent(&buf, m.Payload, "", "  ") == nil {
		r.Payload = buf.String()
	} else {
		r.Payload = string(m.Payload)
	}
	return r
}

// untilText renders a wait as "due now", "in 40 s", "in 5 min", "in 2 h".
func untilText(d time.Duration) string {
	switch {
	case d <= time.Second:
		return "due now"
	case d < time.Minute:
		return fmt.Sprintf("in %d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("in %d min", int(d.Round(time.Minute).Minutes()))
	}
	return fmt.Sprintf("in %.1f h", d.Hours())
}

type adminWebhooksView struct {
	Endpoints  []endpointRow
	Failing    int
	Deliveries []deliveryRow
	Status     string // delivery filter
	Statuses   []string
	Cursor     string
	NextCursor string
	Schedule   string
	Next       string // this page's URL, to come back to after an action
}

func (u *UI) adminWebhooks(c echo.Context) error {
	status := c.QueryParam("status")
	switch status {
	case "", app.MessagePending, app.MessageDelivered, app.MessageFailed:
	default:
		status = ""
	}
	ov, err := u.app.WebhooksOverview(app.WebhookMessageQuery{Status: status, Cursor: c.QueryParam("cursor"), Limit: 50})
	if err != nil {
		return err
	}
	names := ov.AffiliateNames
	byID := make(map[string]*app.WebhookEndpoint, len(ov.Endpoints))
	v := adminWebhooksView{Status: status, Cursor: ov.Cursor, Schedule: app.WebhookSchedule(),
		Statuses: []string{app.MessagePending, app.MessageDelivered, app.MessageFailed}, Next: c.Request().URL.RequestURI()}
	for _, ep := range ov.Endpoints {
		byID[ep.ID] = ep
		row := newEndpointRow(ep, names)
		if row.Failing {
			v.Failing++
		}
		v.Endpoints = append(v.Endpoints, row)
	}
	// Failing endpoints first: they are what the merchant comes here for.
	slices.SortStableFunc(v.Endpoints, func(a, b endpointRow) int {
		switch {
		case a.Failing && !b.Failing:
			return -1
		case b.Failing && !a.Failing:
			return 1
		}
		return 0
	})
	now := u.app.Now()
	for _, m := range ov.Deliveries {
		v.Deliveries = append(v.Deliveries, newDeliveryRow(m, byID, names, now))
	}
	v.NextCursor = ov.Next
	return u.adminPage(c, http.StatusOK, "admin/webhooks", "Webhooks", "webhooks", v)
}

// stateForm switches an endpoint on or off.
type stateForm struct {
	Enabled string `form:"enabled"`
	Next    string `form:"next"`
}

func (f stateForm) input() app.WebhookEndpointInput {
	disabled := f.Enabled != "true"
	return app.WebhookEndpointInput{Disabled: &disabled}
}

func (u *UI) adminWebhookState(c echo.Context) error {
	var f stateForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	ep, err := u.app.UpdateWebhookEndpoint(c.Request().Context(), app.Merchant, c.Param("id"), f.input())
	if err != nil {
		return err
	}
	if ep.Disabled {
		u.admin.flash(c, "success", "Endpoint "+ep.URL+" disabled. Its affiliate sees that you disabled it.")
	} else {
		u.admin.flash(c, "success", "Endpoint "+ep.URL+" enabled.")
	}
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next, pathTo(c, routeWebhooks)))
}

// resendForm carries where to go back to.
type resendForm struct {
	Next string `form:"next"`
}

func (u *UI) adminWebhookResend(c echo.Context) error {
	var f resendForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	if _, err := u.app.ResendWebhookMessage(app.Merchant, c.Param("id")); err != nil {
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		for _, msg := range fe {
			u.admin.flash(c, "error", msg)
		}
		return c.Redirect(http.StatusSeeOther, safeNext(f.Next, pathTo(c, routeWebhooks)))
	}
	u.admin.flash(c, "success", "Delivery queued again; it is sent right away.")
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next, pathTo(c, routeWebhooks)))
}
