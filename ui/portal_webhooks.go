package ui

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/app/web"
)

// The affiliate's webhooks, /portal/webhooks: add an endpoint, choose its
// events, see and rotate its signing secret, send a test event, see recent
// deliveries and resend one, disable or delete it. Every call is scoped to
// the signed-in affiliate by package app: another affiliate's endpoint or
// message is simply "not found".

// endpointForm adds or edits an endpoint. EventsShown tells a form whose
// boxes were all unticked (refused) from a bare post with no events (all).
type endpointForm struct {
	URL         string   `form:"url"`
	Events      []string `form:"events"`
	EventsShown string   `form:"events_shown"`
}

func (f endpointForm) input() app.WebhookEndpointInput {
	in := app.WebhookEndpointInput{URL: &f.URL, Events: f.Events}
	if f.EventsShown != "" && in.Events == nil {
		in.Events = []string{}
	}
	return in
}

// eventChoice is one event checkbox.
type eventChoice struct {
	Value, Label, Help string
	Checked            bool
}

func eventChoices(selected []string) []eventChoice {
	help := map[string][2]string{
		event.PurchaseCreated:  {"New purchase", "a customer you referred bought (programs that share purchasers)"},
		event.PurchaseRefunded: {"Refund", "a referred purchase was refunded"},
		event.LeadCreated:      {"New lead", "someone you referred signed up (programs that share leads)"},
	}
	var out []eventChoice
	for _, e := range event.Subscribable() {
		out = append(out, eventChoice{Value: e, Label: help[e][0], Help: help[e][1], Checked: slices.Contains(selected, e)})
	}
	return out
}

type portalWebhooksView struct {
	Endpoints []endpointRow
	Form      endpointForm
	Choices   []eventChoice
	Errors    FormErrors
	CanAdd    bool
	Max       int
	Schedule  string
	Timeout   string // webhooks.timeout, as "10s"
	// Edit holds a refused edit of one endpoint, re-shown with its errors.
	EditID     string
	EditForm   endpointForm
	EditErrors FormErrors
}

// recentDeliveries is how many deliveries each endpoint card previews.
const recentDeliveries = 8

func (u *UI) loadPortalWebhooks(c echo.Context) (*portalWebhooksView, error) {
	af := currentAffiliate(c)
	eps, err := u.app.Views().AffiliateWebhooks(af.ID, recentDeliveries)
	if err != nil {
		return nil, err
	}
	v := &portalWebhooksView{Max: app.MaxWebhookEndpoints, CanAdd: len(eps) < app.MaxWebhookEndpoints,
		Choices: eventChoices(event.Subscribable()), Schedule: app.WebhookSchedule(),
		Timeout: u.app.Config().Webhooks.Timeout.String()}
	names := map[string]string{af.ID: af.Name}
	now := u.app.Now()
	for _, ep := range eps {
		row := newEndpointRow(ep.WebhookEndpoint, names)
		row.Choices = eventChoices(ep.Events)
		byID := map[string]*app.WebhookEndpoint{ep.ID: ep.WebhookEndpoint}
		for _, m := range ep.Recent {
			row.Deliveries = append(row.Deliveries, newDeliveryRow(m, byID, names, now))
		}
		if ep.More {
			row.MoreURL = pathTo(c, routePortalEndpoint, ep.ID)
		}
		v.Endpoints = append(v.Endpoints, row)
	}
	return v, nil
}

func (u *UI) portalWebhooks(c echo.Context) error {
	v, err := u.loadPortalWebhooks(c)
	if err != nil {
		return err
	}
	return u.portalPage(c, http.StatusOK, "portal/webhooks", "Webhooks", "webhooks", v)
}

func (u *UI) portalWebhookCreate(c echo.Context) error {
	var f endpointForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	af := currentAffiliate(c)
	ep, err := u.app.CreateWebhookEndpoint(c.Request().Context(), af.ID, f.input())
	if err != nil {
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		v, err := u.loadPortalWebhooks(c)
		if err != nil {
			return err
		}
		v.Form, v.Errors, v.Choices = f, fe, eventChoices(f.Events)
		return u.portalPage(c, http.StatusUnprocessableEntity, "portal/webhooks", "Webhooks", "webhooks", v)
	}
	u.portal.flash(c, "success", "Endpoint added. Put its signing secret in your receiver to check signatures, then send a test event.")
	return redirectToAnchor(c, "ep-"+ep.ID, routePortalWebhooks)
}

func (u *UI) portalWebhookUpdate(c echo.Context) error {
	var f endpointForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	af := currentAffiliate(c)
	id := c.Param("id")
	if _, err := u.app.UpdateWebhookEndpoint(c.Request().Context(), app.AffiliateScope(af.ID), id, f.input()); err != nil {
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		v, err := u.loadPortalWebhooks(c)
		if err != nil {
			return err
		}
		v.EditID, v.EditForm, v.EditErrors = id, f, fe
		for i := range v.Endpoints {
			if v.Endpoints[i].ID == id {
				v.Endpoints[i].Choices = eventChoices(f.Events)
			}
		}
		return u.portalPage(c, http.StatusUnprocessableEntity, "portal/webhooks", "Webhooks", "webhooks", v)
	}
	u.portal.flash(c, "success", "Endpoint saved.")
	return redirectToAnchor(c, "ep-"+id, routePortalWebhooks)
}

// portalAction runs one endpoint action and comes back to the page with a
// flash: the message on success, the refusal otherwise.
func (u *UI) portalAction(c echo.Context, anchor, success string, do func(s app.Scope) error) error {
	if err := do(app.AffiliateScope(currentAffiliate(c).ID)); err != nil {
		var ae *app.Error
		if errors.As(err, &ae) && ae.Kind == app.KindForbidden {
			// A refusal the affiliate should read, not an error page
			// (re-enabling an endpoint the merchant disabled).
			u.portal.flash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, pathTo(c, routePortalWebhooks)+anchor)
		}
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		for _, msg := range fe {
			u.portal.flash(c, "error", msg)
		}
	} else {
		u.portal.flash(c, "success", success)
	}
	return c.Redirect(http.StatusSeeOther, pathTo(c, routePortalWebhooks)+anchor)
}

// testDeliveryJSON is a message's delivery as the "Send test event"
// button's script shows it in place (webhooks.js): the page asks with
// Accept: application/json and polls StatusURL while Status is pending and
// nothing was tried yet. Without the script the form posts and redirects.
type testDeliveryJSON struct {
	Message    string `json:"message"`
	Status     string `json:"status"` // pending | delivered | failed
	Attempts   int    `json:"attempts"`
	StatusCode int    `json:"status_code,omitempty"` // the last attempt's answer
	LatencyMS  int64  `json:"latency_ms"`
	Error      string `json:"error,omitempty"`
	StatusURL  string `json:"status_url"`
}

func newTestDeliveryJSON(c echo.Context, m *app.WebhookMessage) testDeliveryJSON {
	out := testDeliveryJSON{Message: m.ID, Status: m.Status, Attempts: len(m.Attempts), StatusURL: pathTo(c, routePortalMessage, m.ID)}
	if a := m.LastAttempt(); a != nil {
		out.StatusCode, out.LatencyMS, out.Error = a.StatusCode, a.LatencyMS, a.Error
	}
	return out
}

func (u *UI) portalWebhookTest(c echo.Context) error {
	id := c.Param("id")
	if web.WantsJSON(c) {
		m, err := u.app.SendTestWebhook(app.AffiliateScope(currentAffiliate(c).ID), id)
		if err != nil {
			return err // the error handler answers {"error","message"}
		}
		return c.JSON(http.StatusAccepted, newTestDeliveryJSON(c, m))
	}
	return u.portalAction(c, "#ep-"+id, "Test event sent. Its delivery shows below in a moment.", func(s app.Scope) error {
		_, err := u.app.SendTestWebhook(s, id)
		return err
	})
}

// portalWebhookMessage is one of the affiliate's messages: its delivery as
// JSON for the test button's polling, else its endpoint's log page.
func (u *UI) portalWebhookMessage(c echo.Context) error {
	m, err := u.app.WebhookMessage(app.AffiliateScope(currentAffiliate(c).ID), c.Param("id"))
	if err != nil {
		return err
	}
	if !web.WantsJSON(c) {
		return redirectTo(c, routePortalEndpoint, m.EndpointID)
	}
	return c.JSON(http.StatusOK, newTestDeliveryJSON(c, m))
}

func (u *UI) portalWebhookRotate(c echo.Context) error {
	id := c.Param("id")
	return u.portalAction(c, "#ep-"+id, "New signing secret made. Update your receiver: deliveries from now on are signed with it.", func(s app.Scope) error {
		_, err := u.app.RotateWebhookSecret(s, id)
		return err
	})
}

func (u *UI) portalWebhookState(c echo.Context) error {
	var f stateForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	id := c.Param("id")
	msg := "Endpoint enabled. New events are sent to it again."
	if f.Enabled != "true" {
		msg = "Endpoint disabled. Nothing is sent to it until you enable it."
	}
	return u.portalAction(c, "#ep-"+id, msg, func(s app.Scope) error {
		_, err := u.app.UpdateWebhookEndpoint(c.Request().Context(), s, id, f.input())
		return err
	})
}

func (u *UI) portalWebhookDelete(c echo.Context) error {
	id := c.Param("id")
	return u.portalAction(c, "", "Endpoint deleted, with its delivery log.", func(s app.Scope) error {
		return u.app.DeleteWebhookEndpoint(s, id)
	})
}

func (u *UI) portalWebhookResend(c echo.Context) error {
	var f resendForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	err := func() error {
		_, err := u.app.ResendWebhookMessage(app.AffiliateScope(currentAffiliate(c).ID), c.Param("id"))
		return err
	}()
	if err != nil {
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		for _, msg := range fe {
			u.portal.flash(c, "error", msg)
		}
	} else {
		u.portal.flash(c, "success", "Delivery queued again; it is sent right away.")
	}
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next, pathTo(c, routePortalWebhooks)))
}

// The full delivery log of one endpoint, a page at a time.

type portalWebhookLogView struct {
	Endpoint   endpointRow
	Deliveries []deliveryRow
	Cursor     string
	NextCursor string
	Next       string
}

func (u *UI) portalWebhookLog(c echo.Context) error {
	af := currentAffiliate(c)
	ep, err := u.app.WebhookEndpoint(app.AffiliateScope(af.ID), c.Param("id"))
	if err != nil {
		return err
	}
	cursor := c.QueryParam("cursor")
	ms, next, err := u.app.WebhookMessages(app.WebhookMessageQuery{Scope: app.AffiliateScope(af.ID), EndpointID: ep.ID, Cursor: cursor, Limit: 50})
	if err != nil {
		if _, ferr := formErrors(err); ferr != nil {
			return err
		}
		cursor = ""
		if ms, next, err = u.app.WebhookMessages(app.WebhookMessageQuery{Scope: app.AffiliateScope(af.ID), EndpointID: ep.ID, Limit: 50}); err != nil {
			return err
		}
	}
	names := map[string]string{af.ID: af.Name}
	v := portalWebhookLogView{Endpoint: newEndpointRow(ep, names), Cursor: cursor, NextCursor: next, Next: c.Request().URL.RequestURI()}
	now := u.app.Now()
	for _, m := range ms {
		v.Deliveries = append(v.Deliveries, newDeliveryRow(m, map[string]*app.WebhookEndpoint{ep.ID: ep}, names, now))
	}
	return u.portalPage(c, http.StatusOK, "portal/webhook_log", "Deliveries", "webhooks", v)
}
