package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/web"
)

// Self-service accounts: forgot-password and reset pages for both sides,
// and the one-click unsubscribe of optional mail. The rules (tokens, the
// rate limit, which account) are all in package app.

const (
	routeForgot       = "admin.forgot"
	routePortalForgot = "portal.forgot"
)

// routesAccounts registers the pages of this file, of admin_email.go and
// of brand.go (Settings → Brand):
// the admin's public reset pages, its signed-in Settings → Email and
// Admins, the portal's reset pages, and the unsubscribe endpoint, which
// mail clients post to without a session or a CSRF token (RFC 8058): the
// signed link is its authority.
func (u *UI) routesAccounts(adminPublic, admin, portalPublic, noCSRF *echo.Group) {
	addRoutes(adminPublic, []route{
		{http.MethodGet, "/forgot", routeForgot, u.forgotForm(app.SessionAdmin)},
		{http.MethodPost, "/forgot", "admin.forgot.submit", u.forgotSubmit(app.SessionAdmin)},
		{http.MethodGet, "/reset/:token", "admin.reset", u.resetForm(app.SessionAdmin)},
		{http.MethodPost, "/reset/:token", "admin.reset.submit", u.resetSubmit(app.SessionAdmin)},
	})
	addRoutes(admin, []route{
		{http.MethodGet, "/settings/email", routeSettingsEmail, u.emailSettingsPage},
		{http.MethodPost, "/settings/email/test", "admin.settings.email.test", u.emailTest},
		{http.MethodGet, "/settings/admins", routeSettingsAdmins, u.adminsPage},
		{http.MethodPost, "/settings/admins", "admin.settings.admins.invite", u.adminInvite},
		{http.MethodPost, "/settings/admins/:id/remove", "admin.settings.admin.remove", u.adminRemove},
		{http.MethodPost, "/settings/password", "admin.settings.password", u.passwordChange},
		{http.MethodGet, "/settings/brand", routeSettingsBrand, u.brandSettingsPage},
		{http.MethodPost, "/settings/brand", "admin.settings.brand.save", u.brandSave},
	})
	addRoutes(portalPublic, []route{
		{http.MethodGet, "/portal/forgot", routePortalForgot, u.forgotForm(app.SessionAffiliate)},
		{http.MethodPost, "/portal/forgot", "portal.forgot.submit", u.forgotSubmit(app.SessionAffiliate)},
		{http.MethodGet, "/portal/reset/:token", "portal.reset", u.resetForm(app.SessionAffiliate)},
		{http.MethodPost, "/portal/reset/:token", "portal.reset.submit", u.resetSubmit(app.SessionAffiliate)},
		{http.MethodGet, "/portal/unsubscribe/:token", "portal.unsubscribe", u.unsubscribePage},
		{http.MethodPost, "/portal/resubscribe/:token", "portal.resubscribe", u.mailPreference(false)},
	})
	addRoutes(noCSRF, []route{
		{http.MethodPost, "/portal/unsubscribe/:token", "portal.unsubscribe.submit", u.mailPreference(true)},
	})
}

// side is what differs between the admin's and the portal's pages.
type side struct {
	session  *sessionKind
	dir      string // template directory: "admin" or "portal"
	home     string // route after a reset
	login    string // route of sign-in
	loginURL string
}

func (u *UI) side(kind string) side {
	if kind == app.SessionAdmin {
		return side{session: u.admin, dir: "admin", home: routeAdminHome, login: routeLogin, loginURL: "/login"}
	}
	return side{session: u.portal, dir: "portal", home: routePortalHome, login: routePortalLogin, loginURL: "/portal/login"}
}

// Forgot password.

type forgotForm struct {
	Email string `form:"email"`
}

type forgotView struct {
	Email       string
	Sent        bool // the form was sent: "check your email"
	MailEnabled bool
	LoginURL    string
	Action      string
	Errors      FormErrors
}

func (u *UI) forgotForm(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		sd := u.side(kind)
		return u.publicPage(c, sd.session, http.StatusOK, sd.dir+"/forgot", "Forgot your password?",
			forgotView{MailEnabled: u.app.MailEnabled(), LoginURL: sd.loginURL, Action: c.Request().URL.Path})
	}
}

// forgotSubmit answers the same page whether or not the account exists.
func (u *UI) forgotSubmit(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		sd := u.side(kind)
		var f forgotForm
		if err := c.Bind(&f); err != nil {
			return err
		}
		v := forgotView{Email: strings.TrimSpace(f.Email), MailEnabled: u.app.MailEnabled(), LoginURL: sd.loginURL, Action: c.Request().URL.Path}
		err := u.app.RequestPasswordReset(kind, f.Email, c.RealIP())
		status := http.StatusOK
		switch {
		case err == nil:
			v.Sent = true
		case errors.Is(err, app.ErrThrottled):
			web.SetRetryAfter(c, err)
			status, v.Errors = http.StatusTooManyRequests, FormErrors{"form": "Too many requests from your network. Try again " + web.TryAgainIn(err) + "."}
		default:
			fe, err := formErrors(err)
			if err != nil {
				return err
			}
			status, v.Errors = http.StatusUnprocessableEntity, fe
		}
		return u.publicPage(c, sd.session, status, sd.dir+"/forgot", "Forgot your password?", v)
	}
}

// Reset (and an invited admin's first password).

type resetForm struct {
	Password string `form:"password"`
}

type resetView struct {
	Token     string
	Email     string
	Invite    bool
	Action    string
	ForgotURL string
	Errors    FormErrors
}

func (u *UI) resetTitle(invite bool) string {
	if invite {
		return "Set your password"
	}
	return "Choose a new password"
}

func (u *UI) resetForm(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		sd := u.side(kind)
		token := c.Param("token")
		link, err := u.app.ResetLinkInfo(kind, token)
		if err != nil {
			return u.resetInvalid(c, sd, err)
		}
		return u.publicPage(c, sd.session, http.StatusOK, sd.dir+"/reset", u.resetTitle(link.Invite),
			resetView{Token: token, Email: link.Email, Invite: link.Invite, Action: c.Request().URL.Path})
	}
}

func (u *UI) resetSubmit(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		sd := u.side(kind)
		token := c.Param("token")
		var f resetForm
		if err := c.Bind(&f); err != nil {
			return err
		}
		id, blocked, err := u.app.ResetPassword(kind, token, f.Password)
		if err != nil {
			if app.IsKind(err, app.KindNotFound) {
				return u.resetInvalid(c, sd, err)
			}
			fe, err := formErrors(err)
			if err != nil {
				return err
			}
			v := resetView{Token: token, Action: c.Request().URL.Path, Errors: fe}
			if link, err := u.app.ResetLinkInfo(kind, token); err == nil {
				v.Email, v.Invite = link.Email, link.Invite
			}
			return u.publicPage(c, sd.session, http.StatusUnprocessableEntity, sd.dir+"/reset", u.resetTitle(v.Invite), v)
		}
		if blocked {
			_ = sd.session.signOut(c)
			sd.session.flash(c, "error", "Your password is set, but this partner account is blocked. Contact the program owner.")
			return redirectTo(c, sd.login)
		}
		if err := sd.session.signIn(c, id); err != nil {
			return err
		}
		sd.session.flash(c, "success", "Your new password is set, and every other sign-in of your account has ended.")
		return redirectTo(c, sd.home)
	}
}

// resetInvalid is the friendly page for a used, unknown or expired link.
func (u *UI) resetInvalid(c echo.Context, sd side, err error) error {
	if !app.IsKind(err, app.KindNotFound) {
		return err
	}
	return u.publicPage(c, sd.session, http.StatusNotFound, sd.dir+"/reset", "Link expired",
		resetView{ForgotURL: pathTo(c, map[string]string{"admin": routeForgot, "portal": routePortalForgot}[sd.dir])})
}

// Unsubscribe.

type unsubscribeView struct {
	Token    string
	Name     string
	OptedOut bool
	Changed  bool // the page answers a change just made
}

func (u *UI) unsubscribePage(c echo.Context) error {
	pref, err := u.app.MailPreferenceByToken(c.Param("token"))
	if err != nil {
		return err
	}
	return u.publicPage(c, u.portal, http.StatusOK, "portal/unsubscribe", "Email notices",
		unsubscribeView{Token: c.Param("token"), Name: pref.Affiliate.Name, OptedOut: pref.OptedOut})
}

// mailPreference records the opt-out (the one-click POST of a mail client,
// or the page's button) or withdraws it.
func (u *UI) mailPreference(optOut bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		pref, err := u.app.SetMailOptOut(c.Param("token"), optOut)
		if err != nil {
			return err
		}
		return u.publicPage(c, u.portal, http.StatusOK, "portal/unsubscribe", "Email notices",
			unsubscribeView{Token: c.Param("token"), Name: pref.Affiliate.Name, OptedOut: pref.OptedOut, Changed: true})
	}
}
