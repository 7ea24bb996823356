package ui

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/web"
)

// First-run setup, admin sign-in and sign-out.

type credentialsForm struct {
	Email    string `form:"email"`
	Password string `form:"password"`
	Next     string `form:"next"`
}

type credentialsView struct {
	Email      string
	Next       string
	SignedInAs string
	Errors     FormErrors
}

// setupClosed sends visitors away from /setup once an admin exists.
func (u *UI) setupClosed(c echo.Context) (bool, error) {
	has, err := u.app.Views().HasAdmin()
	if err != nil || !has {
		return false, err
	}
	return true, redirectTo(c, routeLogin)
}

func (u *UI) setupForm(c echo.Context) error {
	if closed, err := u.setupClosed(c); closed || err != nil {
		return err
	}
	return u.publicPage(c, u.admin, http.StatusOK, "admin/setup", "Set up Spiffy", credentialsView{})
}

func (u *UI) setupSubmit(c echo.Context) error {
	if closed, err := u.setupClosed(c); closed || err != nil {
		return err
	}
	var f credentialsForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	adm, err := u.app.SetupAdmin(f.Email, f.Password)
	if errors.Is(err, app.ErrForbidden) { // someone else finished setup first
		return redirectTo(c, routeLogin)
	}
	if err != nil {
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		return u.publicPage(c, u.admin, http.StatusUnprocessableEntity, "admin/setup", "Set up Spiffy", credentialsView{Email: f.Email, Errors: fe})
	}
	if err := u.admin.signIn(c, adm.ID); err != nil {
		return err
	}
	u.admin.flash(c, "success", "Welcome! Create your first program to get started.")
	return redirectTo(c, routePrograms)
}

func (u *UI) loginForm(c echo.Context) error {
	has, err := u.app.Views().HasAdmin()
	if err != nil {
		return err
	}
	if !has {
		return redirectTo(c, routeSetup)
	}
	v := credentialsView{Next: c.QueryParam("next")}
	// Already signed in: offer to continue or to switch accounts.
	if id := u.admin.userID(c); id != "" {
		if adm, err := u.app.Views().Admin(id); err == nil {
			v.SignedInAs = adm.Email
		}
	}
	return u.publicPage(c, u.admin, http.StatusOK, "admin/login", "Sign in", v)
}

func (u *UI) loginSubmit(c echo.Context) error {
	var f credentialsForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	adm, err := u.app.AuthenticateAdmin(f.Email, f.Password, c.RealIP())
	if err != nil {
		msg := "That email and password do not match an admin account."
		status := http.StatusUnauthorized
		switch {
		case errors.Is(err, app.ErrThrottled):
			web.SetRetryAfter(c, err)
			msg, status = "Too many failed attempts. Try again "+web.TryAgainIn(err)+".", http.StatusTooManyRequests
		case !errors.Is(err, app.ErrUnauthorized):
			return err
		}
		return u.publicPage(c, u.admin, status, "admin/login", "Sign in", credentialsView{Email: f.Email, Next: f.Next, Errors: FormErrors{"form": msg}})
	}
	if err := u.admin.signIn(c, adm.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next, pathTo(c, routeAdminHome)))
}

func (u *UI) logout(c echo.Context) error {
	if err := u.admin.signOut(c); err != nil {
		return err
	}
	return redirectTo(c, routeLogin)
}
