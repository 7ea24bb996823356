package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/spiffy/spiffy/app/views"
)

// The UI's route tables: one for the merchant's admin, one for the
// affiliate portal. Every route has a name; handlers redirect with
// redirectTo(c, name, params...) (Echo#Reverse), never to a path spelled
// out by hand.

// Names of the routes that handlers send people to.
const (
	routeSetup          = "admin.setup"
	routeLogin          = "admin.login"
	routeAdminHome      = "admin.home"
	routeDashboard      = "admin.dashboard"
	routePrograms       = "admin.programs"
	routeProgram        = "admin.program"
	routeAffiliate      = "admin.affiliate"
	routePurchase       = "admin.purchase"
	routePayouts        = "admin.payouts"
	routePayout         = "admin.payout"
	routeCommissions    = "admin.commissions"
	routeExports        = "admin.exports"
	routeSettings       = "admin.settings"
	routeIntegrations   = "admin.integrations"
	routeWebhooks       = "admin.webhooks"
	routePortalLogin    = "portal.login"
	routePortalHome     = "portal.home"
	routePortalWebhooks = "portal.webhooks"
	routePortalEndpoint = "portal.webhook"
	routePortalMessage  = "portal.webhook_message"
	routePortalPayouts  = "portal.payouts"
)

type route struct {
	method, path, name string
	handler            echo.HandlerFunc
}

func addRoutes(g *echo.Group, table []route) {
	for _, r := range table {
		g.Add(r.method, r.path, r.handler).Name = r.name
	}
}

// routesAdmin is the merchant's admin: public (first-run setup, sign-in)
// and the signed-in area.
func (u *UI) routesAdmin(public, admin *echo.Group) {
	addRoutes(public, []route{
		{http.MethodGet, "/setup", routeSetup, u.setupForm},
		{http.MethodPost, "/setup", "admin.setup.submit", u.setupSubmit},
		{http.MethodGet, "/login", routeLogin, u.loginForm},
		{http.MethodPost, "/login", "admin.login.submit", u.loginSubmit},
		{http.MethodPost, "/logout", "admin.logout", u.logout},
	})
	addRoutes(admin, []route{
		{http.MethodGet, "/", routeAdminHome, func(c echo.Context) error { return redirectTo(c, routeDashboard) }},
		{http.MethodGet, "/dashboard", routeDashboard, u.dashboardPage},

		{http.MethodGet, "/programs", routePrograms, u.programsList},
		{http.MethodGet, "/programs/new", "admin.programs.new", u.programNewForm},
		{http.MethodPost, "/programs", "admin.programs.create", u.programCreate},
		{http.MethodGet, "/programs/:id", routeProgram, u.programEditForm},
		{http.MethodPost, "/programs/:id", "admin.program.update", u.programUpdate},
		{http.MethodPost, "/programs/:id/affiliates", "admin.program.enroll", u.programEnroll},
		{http.MethodGet, "/programs/:id/delete", "admin.program.delete.confirm", u.programDeleteConfirm},
		{http.MethodPost, "/programs/:id/delete", "admin.program.delete", u.programDelete},

		{http.MethodGet, "/affiliates", "admin.affiliates", u.affiliatesList},
		{http.MethodGet, "/affiliates/new", "admin.affiliates.new", u.affiliateNewForm},
		{http.MethodGet, "/affiliates/suggest", "admin.affiliates.suggest", u.affiliateSuggest},
		{http.MethodPost, "/affiliates", "admin.affiliates.create", u.affiliateCreate},
		{http.MethodGet, "/affiliates/:id", routeAffiliate, u.affiliatePage},
		{http.MethodPost, "/affiliates/:id", "admin.affiliate.update", u.affiliateUpdate},
		{http.MethodPost, "/affiliates/:id/status", "admin.affiliate.status", u.affiliateSetStatus},
		{http.MethodPost, "/affiliates/:id/programs", "admin.affiliate.enroll", u.affiliateEnroll},
		{http.MethodPost, "/affiliates/:id/invite", "admin.affiliate.invite", u.affiliateInvite},

		{http.MethodGet, "/leads", "admin.leads", u.leadsPage},
		{http.MethodGet, "/leads/:id", "admin.lead", u.leadPage},
		{http.MethodGet, "/purchases", "admin.purchases", u.purchasesPage},
		{http.MethodGet, "/purchases/:id", routePurchase, u.purchasePage},
		{http.MethodPost, "/purchases/:id/refund", "admin.purchase.refund", u.purchaseRefund},
		{http.MethodGet, "/exports", routeExports, u.exportsPage},
		{http.MethodPost, "/exports", "admin.exports.start", u.exportStart},
		{http.MethodGet, "/exports/:id/download", "admin.export.download", u.exportDownload},
		{http.MethodPost, "/exports/:id/delete", "admin.export.delete", u.exportDelete},

		{http.MethodGet, "/payouts", routePayouts, u.payoutsPage},
		{http.MethodPost, "/payouts", "admin.payouts.create", u.payoutCreate},
		{http.MethodGet, "/payouts/:id", routePayout, u.payoutPage},
		{http.MethodGet, "/payouts/:id/file", "admin.payout.file", u.payoutFile},
		{http.MethodPost, "/payouts/:id/paid", "admin.payout.paid", u.payoutPaid},
		{http.MethodPost, "/payouts/:id/cancel", "admin.payout.cancel", u.payoutCancel},
		{http.MethodGet, "/commissions", routeCommissions, u.commissionsPage},
		{http.MethodPost, "/commissions/:id/approve", "admin.commission.approve", u.commissionApprove},
		{http.MethodPost, "/commissions/:id/void", "admin.commission.void", u.commissionVoid},

		{http.MethodGet, "/webhooks", routeWebhooks, u.adminWebhooks},
		{http.MethodPost, "/webhooks/:id/state", "admin.webhook.state", u.adminWebhookState},
		{http.MethodPost, "/webhooks/messages/:id/resend", "admin.webhook_message.resend", u.adminWebhookResend},

		{http.MethodGet, "/settings", routeSettings, u.settingsPage},
		{http.MethodPost, "/settings/api-keys", "admin.apikeys.create", u.apiKeyCreate},
		{http.MethodGet, "/settings/api-keys/:id/revoke", "admin.apikey.revoke.confirm", u.apiKeyRevokeConfirm},
		{http.MethodPost, "/settings/api-keys/:id/revoke", "admin.apikey.revoke", u.apiKeyRevoke},
		{http.MethodGet, "/settings/integrations", routeIntegrations, u.integrationsPage},
		{http.MethodPost, "/settings/integrations/:provider", "admin.integration.secret", u.integrationSecretSave},
	})
}

// routesPortal is the affiliate portal: public (sign-in, invite, the
// programs' join pages) and the signed-in affiliate's area under /portal.
func (u *UI) routesPortal(public, affiliate *echo.Group) {
	addRoutes(public, []route{
		{http.MethodGet, "/portal/login", routePortalLogin, u.portalLoginForm},
		{http.MethodPost, "/portal/login", "portal.login.submit", u.portalLoginSubmit},
		{http.MethodPost, "/portal/logout", "portal.logout", u.portalLogout},
		{http.MethodGet, "/portal/invite/:token", "portal.invite", u.portalInviteForm},
		{http.MethodPost, "/portal/invite/:token", "portal.invite.submit", u.portalInviteSubmit},
		{http.MethodGet, "/join/:id", "portal.join", u.joinPage},
		{http.MethodPost, "/join/:id", "portal.join.submit", u.joinSubmit},
	})
	addRoutes(affiliate, []route{
		{http.MethodGet, "", routePortalHome, u.portalHome},
		{http.MethodGet, "/", "portal.home.slash", func(c echo.Context) error { return redirectTo(c, routePortalHome) }},
		{http.MethodGet, "/programs/:id", "portal.program", u.portalProgram},
		{http.MethodGet, "/programs/:id/leads.csv", "portal.program.leads_csv", u.portalCSV(views.PortalLeads)},
		{http.MethodGet, "/programs/:id/purchases.csv", "portal.program.purchases_csv", u.portalCSV(views.PortalPurchases)},

		{http.MethodGet, "/payouts", routePortalPayouts, u.portalPayouts},
		{http.MethodPost, "/payouts", "portal.payouts.details", u.portalPayoutDetails},

		{http.MethodGet, "/webhooks", routePortalWebhooks, u.portalWebhooks},
		{http.MethodPost, "/webhooks", "portal.webhooks.create", u.portalWebhookCreate},
		{http.MethodGet, "/webhooks/:id", routePortalEndpoint, u.portalWebhookLog},
		{http.MethodPost, "/webhooks/:id", "portal.webhook.update", u.portalWebhookUpdate},
		{http.MethodPost, "/webhooks/:id/test", "portal.webhook.test", u.portalWebhookTest},
		{http.MethodPost, "/webhooks/:id/rotate", "portal.webhook.rotate", u.portalWebhookRotate},
		{http.MethodPost, "/webhooks/:id/state", "portal.webhook.state", u.portalWebhookState},
		{http.MethodPost, "/webhooks/:id/delete", "portal.webhook.delete", u.portalWebhookDelete},
		{http.MethodGet, "/webhooks/messages/:id", routePortalMessage, u.portalWebhookMessage},
		{http.MethodPost, "/webhooks/messages/:id/resend", "portal.webhook_message.resend", u.portalWebhookResend},
	})
}

// pathTo is the path of a named route.
func pathTo(c echo.Context, name string, params ...any) string {
	return c.Echo().Reverse(name, params...)
}

// redirectTo answers 303 See Other to a named route.
func redirectTo(c echo.Context, name string, params ...any) error {
	return c.Redirect(http.StatusSeeOther, pathTo(c, name, params...))
}

// redirectToAnchor answers 303 See Other to a named route's #anchor.
func redirectToAnchor(c echo.Context, anchor, name string, params ...any) error {
	return c.Redirect(http.StatusSeeOther, pathTo(c, name, params...)+"#"+anchor)
}
