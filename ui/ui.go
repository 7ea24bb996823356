// Package ui serves the merchant admin UI and the affiliate portal:
// server-rendered pages over the app layer. Page handlers are thin: they
// bind a form, make one call into app, and render a view model.
package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/brand"
	"github.com/spiffy/spiffy/app/web"
)

// UI holds what page handlers need: the app, the templates and the two
// session kinds (admin and affiliate portal are separate).
type UI struct {
	app    *app.App
	srv    *web.Server
	views  *renderer
	admin  *sessionKind
	portal *sessionKind
}

// Context keys for the signed-in user.
const (
	ctxAdmin     = "ui.admin"
	ctxAffiliate = "ui.affiliate"
)

// Mount registers the admin UI and the portal on the server and sets its
// friendly HTML error page.
func Mount(s *web.Server) error {
	views, err := newRenderer(templateFuncs())
	if err != nil {
		return err
	}
	secure := strings.HasPrefix(s.App.Config().BaseURL, "https://")
	u := &UI{
		app:    s.App,
		srv:    s,
		views:  views,
		admin:  newSessionKind(s.App, adminCookie, app.SessionAdmin, s.App.SessionSecret(), secure),
		portal: newSessionKind(s.App, portalCookie, app.SessionAffiliate, s.App.SessionSecret(), secure),
	}
	s.HTMLError = u.errorPage
	views.brand = u.brandView
	// The brand's logo and accent stylesheet: public, for pages, sign-in
	// and mail clients alike.
	s.Echo.GET(brand.LogoPath, u.brandLogo).Name = "brand.logo"
	s.Echo.GET(brand.CSSPath, u.brandCSS).Name = "brand.css"
	e := s.Echo
	e.GET(views.css.path, views.css.serve).Name = "static.css"
	e.GET(views.js.path, views.js.serve).Name = "static.js"

	forms := middleware.BodyLimit("1M")
	// Admin: public pages (setup, sign-in) and the signed-in area.
	u.routesAdmin(e.Group("", forms, u.admin.csrfProtect), e.Group("", forms, u.admin.csrfProtect, u.requireAdmin))

	// Portal: public pages (sign-in, invite, /join) and the affiliate's area.
	u.routesPortal(e.Group("", forms, u.portal.csrfProtect), e.Group("/portal", forms, u.portal.csrfProtect, u.requireAffiliate))

	// Email: reset links, the admin's Settings → Email and Admins, and the
	// one-click unsubscribe that mail clients post without a session.
	u.routesAccounts(e.Group("", forms, u.admin.csrfProtect), e.Group("", forms, u.admin.csrfProtect, u.requireAdmin),
		e.Group("", forms, u.portal.csrfProtect), e.Group("", forms))
	return nil
}

// requireAdmin lets signed-in admins through; others go to /setup (no admin
// yet) or /login.
func (u *UI) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id := u.admin.userID(c); id != "" {
			adm, err := u.app.Views().Admin(id)
			if err == nil {
				c.Set(ctxAdmin, adm)
				return next(c)
			}
			if !errors.Is(err, app.ErrNotFound) {
				return err
			}
		}
		has, err := u.app.Views().HasAdmin()
		if err != nil {
			return err
		}
		if !has {
			return redirectTo(c, routeSetup)
		}
		return c.Redirect(http.StatusSeeOther, pathTo(c, routeLogin)+nextParam(c))
	}
}

// requireAffiliate lets signed-in affiliates through (pending ones too: their
// pages say they await approval); blocked ones are signed out.
func (u *UI) requireAffiliate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id := u.portal.userID(c); id != "" {
			af, err := u.app.Affiliate(id)
			if err == nil && af.Status != app.StatusBlocked {
				c.Set(ctxAffiliate, af)
				return next(c)
			}
			if err != nil && !errors.Is(err, app.ErrNotFound) {
				return err
			}
			_ = u.portal.signOut(c)
		}
		return c.Redirect(http.StatusSeeOther, pathTo(c, routePortalLogin)+nextParam(c))
	}
}

// nextParam carries the requested page through sign-in (GET requests only).
func nextParam(c echo.Context) string {
	if c.Request().Method != http.MethodGet || c.Request().URL.Path == "/" {
		return ""
	}
	return "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
}

// safeNext returns next if it is a local path, else fallback: sign-in must
// never redirect to another site.
func safeNext(next, fallback string) string {
	if !strings.HasPrefix(next, "/") {
		return fallback
	}
	// Browsers drop tabs and newlines from URLs and read a backslash as a
	// slash, so "/\t/evil.example" is "//evil.example": another host. A
	// local path has no control character and no second slash or
	// backslash right after the first.
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return fallback
		}
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return fallback
	}
	return next
}

// currentAdmin is the admin set by requireAdmin.
func currentAdmin(c echo.Context) *app.Admin {
	adm, _ := c.Get(ctxAdmin).(*app.Admin)
	return adm
}

// currentAffiliate is the affiliate set by requireAffiliate.
func currentAffiliate(c echo.Context) *app.Affiliate {
	af, _ := c.Get(ctxAffiliate).(*app.Affiliate)
	return af
}

// adminPage renders a page of the signed-in admin area.
func (u *UI) adminPage(c echo.Context, status int, page, title, nav string, data any) error {
	return u.views.render(c, status, page, &View{
		Title: title, Nav: nav, Data: data, Admin: currentAdmin(c),
		CSRF: u.admin.csrfToken(c), Flashes: u.admin.takeFlashes(c),
		BaseURL: u.app.Config().BaseURL, Path: c.Request().URL.Path,
	})
}

// portalPage renders a page of the signed-in affiliate area.
func (u *UI) portalPage(c echo.Context, status int, page, title, nav string, data any) error {
	return u.views.render(c, status, page, &View{
		Title: title, Nav: nav, Data: data, Affiliate: currentAffiliate(c),
		CSRF: u.portal.csrfToken(c), Flashes: u.portal.takeFlashes(c),
		BaseURL: u.app.Config().BaseURL, Path: c.Request().URL.Path,
	})
}

// publicPage renders a signed-out page (sign-in, setup, join) with the CSRF
// token of the given session kind.
func (u *UI) publicPage(c echo.Context, kind *sessionKind, status int, page, title string, data any) error {
	return u.views.render(c, status, page, &View{
		Title: title, Data: data, CSRF: kind.csrfToken(c), Flashes: kind.takeFlashes(c),
		BaseURL: u.app.Config().BaseURL, Path: c.Request().URL.Path,
	})
}

// errorPage is the friendly HTML error page used by the central error handler.
func (u *UI) errorPage(c echo.Context, status int, message string) {
	home := "/"
	if strings.HasPrefix(c.Request().URL.Path, "/portal") || strings.HasPrefix(c.Request().URL.Path, "/join") {
		home = "/portal"
	}
	data := map[string]any{"Status": status, "StatusText": http.StatusText(status), "Message": message, "Home": home}
	if err := u.views.render(c, status, "error", &View{Title: http.StatusText(status), Data: data}); err != nil {
		_ = c.String(status, message)
	}
}

// FormErrors maps a validation error to per-field messages for re-rendering
// a form; any other error is returned for the central handler.
type FormErrors map[string]string

// formErrors splits an app error into field messages (for a 422 re-render)
// or passes it on.
func formErrors(err error) (FormErrors, error) {
	var ae *app.Error
	if errors.As(err, &ae) && ae.Kind != app.KindNotFound && ae.Kind != app.KindForbidden && ae.Kind != app.KindUnavailable {
		field := ae.Field
		if field == "" {
			field = "form"
		}
		return FormErrors{field: ae.Message}, nil
	}
	return nil, err
}
