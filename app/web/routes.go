package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// The server's own route tables: the merchant API and the tracking surface
// (package ui has the admin's and the portal's). Every route has a name,
// so code that needs a path asks Echo#Reverse for it.

type route struct {
	method, path, name string
	handler            echo.HandlerFunc
	middleware         []echo.MiddlewareFunc
}

// addRoutes registers table under prefix with the page chain, then the
// extra middleware, then each route's own wrapped around its handler once,
// here, rather than by Echo on every request (see aroundUnlessComposed).
func (s *Server) addRoutes(prefix string, extra []echo.MiddlewareFunc, table []route) {
	for _, rt := range table {
		chain := append(append(append([]echo.MiddlewareFunc(nil), s.pages...), extra...), rt.middleware...)
		r := s.Echo.Add(rt.method, prefix+rt.path, applyChain(rt.handler, chain))
		r.Name = rt.name
		s.composed[routeKey{r.Method, r.Path}] = true
	}
}

// routesAPI is the merchant REST API under /api/v1 (contract §4).
func (s *Server) routesAPI() {
	s.addRoutes(apiPrefix, s.apiMiddleware(), []route{
		{http.MethodGet, "/programs", "api.programs", s.apiListPrograms, nil},
		{http.MethodPost, "/programs", "api.programs.create", s.apiCreateProgram, nil},
		{http.MethodGet, "/programs/:id", "api.program", s.apiGetProgram, nil},
		{http.MethodPatch, "/programs/:id", "api.program.update", s.apiUpdateProgram, nil},
		{http.MethodDelete, "/programs/:id", "api.program.delete", s.apiDeleteProgram, nil},
		{http.MethodPost, "/programs/:id/affiliates", "api.program.enroll", s.apiEnroll, nil},

		{http.MethodGet, "/affiliates", "api.affiliates", s.apiListAffiliates, nil},
		{http.MethodPost, "/affiliates", "api.affiliates.create", s.apiCreateAffiliate, nil},
		{http.MethodGet, "/affiliates/:id", "api.affiliate", s.apiGetAffiliate, nil},
		{http.MethodPatch, "/affiliates/:id", "api.affiliate.update", s.apiUpdateAffiliate, nil},
		{http.MethodPost, "/affiliates/:id/invite", "api.affiliate.invite", s.apiInviteAffiliate, nil},

		{http.MethodGet, "/leads", "api.leads", s.apiListLeads, nil},
		{http.MethodGet, "/leads.csv", "api.leads.csv", s.apiLeadsCSV, nil},
		{http.MethodGet, "/purchases", "api.purchases", s.apiListPurchases, nil},
		{http.MethodGet, "/purchases.csv", "api.purchases.csv", s.apiPurchasesCSV, nil},
		{http.MethodPost, "/purchases", "api.purchases.create", s.apiCreatePurchase, nil},
		{http.MethodGet, "/purchases/:id", "api.purchase", s.apiGetPurchase, nil},
		{http.MethodPost, "/purchases/:id/refund", "api.purchase.refund", s.apiRefundPurchase, nil},

		{http.MethodGet, "/commissions", "api.commissions", s.apiListCommissions, nil},
		{http.MethodGet, "/commissions/:id", "api.commission", s.apiGetCommission, nil},
		{http.MethodPost, "/commissions/:id/approve", "api.commission.approve", s.apiApproveCommission, nil},
		{http.MethodPost, "/commissions/:id/void", "api.commission.void", s.apiVoidCommission, nil},
		{http.MethodGet, "/balances", "api.balances", s.apiBalances, nil},
		{http.MethodGet, "/payouts", "api.payouts", s.apiListPayouts, nil},
		{http.MethodPost, "/payouts", "api.payouts.create", s.apiCreatePayout, nil},
		{http.MethodGet, "/payouts/:id", "api.payout", s.apiGetPayout, nil},
		{http.MethodPost, "/payouts/:id/paid", "api.payout.paid", s.apiPayoutPaid, nil},
		{http.MethodPost, "/payouts/:id/cancel", "api.payout.cancel", s.apiCancelPayout, nil},

		{http.MethodGet, "/webhooks", "api.webhooks", s.apiListWebhookEndpoints, nil},
		{http.MethodPost, "/affiliates/:id/webhooks", "api.webhooks.create", s.apiCreateWebhookEndpoint, nil},
		{http.MethodGet, "/webhooks/:id", "api.webhook", s.apiGetWebhookEndpoint, nil},
		{http.MethodPatch, "/webhooks/:id", "api.webhook.update", s.apiUpdateWebhookEndpoint, nil},
		{http.MethodDelete, "/webhooks/:id", "api.webhook.delete", s.apiDeleteWebhookEndpoint, nil},
		{http.MethodPost, "/webhooks/:id/test", "api.webhook.test", s.apiTestWebhookEndpoint, nil},
		{http.MethodPost, "/webhooks/:id/rotate-secret", "api.webhook.rotate", s.apiRotateWebhookSecret, nil},
		{http.MethodGet, "/webhook-messages", "api.webhook_messages", s.apiListWebhookMessages, nil},
		{http.MethodGet, "/webhook-messages/:id", "api.webhook_message", s.apiGetWebhookMessage, nil},
		{http.MethodPost, "/webhook-messages/:id/resend", "api.webhook_message.resend", s.apiResendWebhookMessage, nil},

		{http.MethodPost, "/erase", "api.erase", s.apiErase, nil},
		{http.MethodGet, "/backup", "api.backup", s.apiBackup, nil},
	})
	// The API reference is public (see OpenAPIPath): it goes on the server,
	// outside the group and its API-key check.
	s.addRoutes("", nil, []route{
		{http.MethodGet, OpenAPIPath, "api.openapi", serveOpenAPI, nil},
	})
}

// routesTracking is what SpiffyJS calls from merchants' sites, and the
// script itself (contract §2–3): public, cross-origin, rate-limited.
func (s *Server) routesTracking(t *tracker) {
	guarded := []echo.MiddlewareFunc{t.cors, t.rateLimit}
	s.addRoutes("", nil, []route{
		{http.MethodGet, "/spiffy.js", "spiffy.js", t.serveScript, nil},
		{http.MethodHead, "/spiffy.js", "spiffy.js.head", t.serveScript, nil},
		{http.MethodOptions, "/t/click", "track.click.preflight", t.preflight, nil},
		{http.MethodOptions, "/t/lead", "track.lead.preflight", t.preflight, nil},
		{http.MethodPost, "/t/click", "track.click", t.click, guarded},
		{http.MethodPost, "/t/lead", "track.lead", t.lead, guarded},
	})
}
