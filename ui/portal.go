package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/text"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/app/web"
)

// The affiliate portal: sign-in, invite and join pages (public), and the
// signed-in affiliate's programs, statistics, shared lists and CSV files.
// Handlers always take the affiliate from the session (currentAffiliate),
// never from the request, and leave every access rule to package app.

// Sign-in and sign-out.

func (u *UI) portalLoginForm(c echo.Context) error {
	v := credentialsView{Next: c.QueryParam("next")}
	if id := u.portal.userID(c); id != "" {
		if af, err := u.app.Affiliate(id); err == nil && af.Status != app.StatusBlocked {
			v.SignedInAs = af.Email
		}
	}
	return u.publicPage(c, u.portal, http.StatusOK, "portal/login", "Partner sign in", v)
}

func (u *UI) portalLoginSubmit(c echo.Context) error {
	var f credentialsForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	af, err := u.app.AuthenticateAffiliate(f.Email, f.Password, c.RealIP())
	if err != nil {
		msg := "That email and password do not match a partner account."
		status := http.StatusUnauthorized
		switch {
		case errors.Is(err, app.ErrThrottled):
			web.SetRetryAfter(c, err)
			msg, status = "Too many failed attempts. Try again "+web.TryAgainIn(err)+".", http.StatusTooManyRequests
		case errors.Is(err, app.ErrForbidden):
			msg, status = "This partner account has been blocked. Contact the program owner if you think this is a mistake.", http.StatusForbidden
		case !errors.Is(err, app.ErrUnauthorized):
			return err
		}
		return u.publicPage(c, u.portal, status, "portal/login", "Partner sign in",
			credentialsView{Email: f.Email, Next: f.Next, Errors: FormErrors{"form": msg}})
	}
	if err := u.portal.signIn(c, af.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next, pathTo(c, routePortalHome)))
}

func (u *UI) portalLogout(c echo.Context) error {
	if err := u.portal.signOut(c); err != nil {
		return err
	}
	return redirectTo(c, routePortalLogin)
}

// Invites: the merchant's link where an affiliate sets its password.

type inviteForm struct {
	Password string `form:"password"`
}

type inviteView struct {
	Token  string
	Name   string
	Email  string
	Errors FormErrors
}

func (u *UI) portalInviteForm(c echo.Context) error {
	token := c.Param("token")
	af, err := u.app.InviteAffiliate(token)
	if err != nil {
		return u.inviteInvalid(c, err)
	}
	return u.publicPage(c, u.portal, http.StatusOK, "portal/invite", "Set your password",
		inviteView{Token: token, Name: af.Name, Email: af.Email})
}

func (u *UI) portalInviteSubmit(c echo.Context) error {
	token := c.Param("token")
	var f inviteForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	af, err := u.app.AcceptInvite(token, f.Password)
	if err != nil {
		if app.IsKind(err, app.KindNotFound) {
			return u.inviteInvalid(c, err)
		}
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		v := inviteView{Token: token, Errors: fe}
		if af, err := u.app.InviteAffiliate(token); err == nil {
			v.Name, v.Email = af.Name, af.Email
		}
		return u.publicPage(c, u.portal, http.StatusUnprocessableEntity, "portal/invite", "Set your password", v)
	}
	if af.Status == app.StatusBlocked {
		u.portal.flash(c, "error", "Your password is set, but this partner account is blocked. Contact the program owner.")
		return redirectTo(c, routePortalLogin)
	}
	if err := u.portal.signIn(c, af.ID); err != nil {
		return err
	}
	u.portal.flash(c, "success", "Your password is set. Welcome to the partner portal!")
	return redirectTo(c, routePortalHome)
}

// inviteInvalid is the friendly page for a used, unknown or expired link.
func (u *UI) inviteInvalid(c echo.Context, err error) error {
	if !app.IsKind(err, app.KindNotFound) {
		return err
	}
	return u.publicPage(c, u.portal, http.StatusNotFound, "portal/invite_invalid", "Link expired", nil)
}

// Joining through a program's public page.

// joinForm is the sign-up form. terms is a string because browsers send a
// checkbox as "on" (or its value attribute); any value means checked.
type joinForm struct {
	Name     string `form:"name"`
	Email    string `form:"email"`
	Password string `form:"password"`
	Terms    string `form:"terms"`
}

type joinView struct {
	Program *app.Program
	Form    joinForm
	Errors  FormErrors
}

func (u *UI) joinPage(c echo.Context) error {
	p, err := u.app.Program(c.Param("id"))
	if err != nil {
		return err
	}
	return u.publicPage(c, u.portal, http.StatusOK, "portal/join", "Join "+p.Name, joinView{Program: p})
}

func (u *UI) joinSubmit(c echo.Context) error {
	var f joinForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	af, _, err := u.app.JoinProgram(c.Param("id"), app.JoinInput{
		Name: f.Name, Email: f.Email, Password: f.Password, Terms: f.Terms != "" && f.Terms != "false" && f.Terms != "0" && f.Terms != "off",
		IP: c.RealIP(),
	})
	if err != nil {
		status := http.StatusUnprocessableEntity
		var fe FormErrors
		if errors.Is(err, app.ErrThrottled) {
			web.SetRetryAfter(c, err)
			status, fe = http.StatusTooManyRequests, FormErrors{"form": "Too many sign-ups from your network. Try again " + web.TryAgainIn(err) + "."}
		} else if fe, err = formErrors(err); err != nil {
			return err
		}
		p, err := u.app.Program(c.Param("id"))
		if err != nil {
			return err
		}
		f.Password = ""
		return u.publicPage(c, u.portal, status, "portal/join", "Join "+p.Name, joinView{Program: p, Form: f, Errors: fe})
	}
	if err := u.portal.signIn(c, af.ID); err != nil {
		return err
	}
	if af.Status == app.StatusActive {
		u.portal.flash(c, "success", "Welcome aboard! Your referral link is ready.")
	} else {
		u.portal.flash(c, "success", "Thanks for applying! We will let you in as soon as the program owner approves your account.")
	}
	return redirectTo(c, routePortalHome)
}

// Signed-in pages.

type portalHomeView struct {
	Pending  bool
	Programs []*views.PortalProgram
	Range    views.PortalRange
}

func (u *UI) portalHome(c echo.Context) error {
	af := currentAffiliate(c)
	rng := views.DefaultPortalRange(u.app.Now())
	progs, err := u.app.PortalPrograms(af.ID, rng)
	if err != nil {
		return err
	}
	return u.portalPage(c, http.StatusOK, "portal/home", "My programs", "programs",
		portalHomeView{Pending: af.Status != app.StatusActive, Programs: progs, Range: rng})
}

type portalProgramQuery struct {
	From   string `query:"from"`
	To     string `query:"to"`
	List   string `query:"list"`
	Cursor string `query:"cursor"`
	Sub    string `query:"sub"`
}

type portalProgramView struct {
	*views.PortalReport
	Sub     string // the sub-id typed in the builder
	SubLink string // the referral link with that sub-id
	Chart   chartView
	Errors  FormErrors
	// Cursor is the current page's cursor ("" on the first page).
	Cursor string
}

func (u *UI) portalProgram(c echo.Context) error {
	af := currentAffiliate(c)
	if af.Status != app.StatusActive {
		return redirectTo(c, routePortalHome)
	}
	var q portalProgramQuery
	if err := c.Bind(&q); err != nil {
		return err
	}
	status := http.StatusOK
	var fe FormErrors
	rng, err := views.ParsePortalRange(q.From, q.To, u.app.Now())
	if err != nil {
		if fe, err = formErrors(err); err != nil {
			return err
		}
		// Show the default range with the message rather than a dead end.
		status, rng, q.Cursor = http.StatusBadRequest, views.DefaultPortalRange(u.app.Now()), ""
	}
	rep, err := u.app.PortalReport(af.ID, c.Param("id"), views.PortalReportQuery{Range: rng, List: q.List, Cursor: q.Cursor})
	if err != nil {
		return err
	}
	v := portalProgramView{PortalReport: rep, Sub: text.SubID(q.Sub), Chart: newChart(rep.Days), Errors: fe}
	v.SubLink = views.ReferralLinkWithSub(rep.Program, rep.Code, v.Sub)
	if rep.List == q.List {
		v.Cursor = q.Cursor
	}
	return u.portalPage(c, status, "portal/program", rep.Program.Name, "programs", v)
}

// portalCSV streams one of the shared lists as a file. Everything that can
// refuse (not enrolled: 404, not shared: 403, bad dates: 400) is decided
// before the first byte.
func (u *UI) portalCSV(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		rng, err := views.ParsePortalRange(c.QueryParam("from"), c.QueryParam("to"), u.app.Now())
		if err != nil {
			return err
		}
		name, write, err := u.app.PortalCSV(currentAffiliate(c).ID, c.Param("id"), kind, rng)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"; filename*=UTF-8''`+url.PathEscape(name))
		h.Set("Cache-Control", "no-store")
		c.Response().WriteHeader(http.StatusOK)
		if err := write(c.Request().Context(), c.Response()); err != nil {
			// The status is sent; all that is left is to log and cut the body short.
			u.app.Log().Warn("portal csv stream stopped", "kind", kind, "err", err)
		}
		return nil
	}
}
