package ui

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/spiffy/spiffy/app/views"
)

// Settings → Email (the SMTP setup in force, a test message, recent mail)
// and Settings → Admins (invite and remove admins, change your password).

const (
	routeSettingsEmail  = "admin.settings.email"
	routeSettingsAdmins = "admin.settings.admins"
	onceAdminInvite     = "once:admin-invite"
)

type testMailForm struct {
	To string `form:"to"`
}

// mailRow is one line of the recent-mail list.
type mailRow struct {
	views.MailLogEntry
	NextIn string // "in 4 min" for queued mail
}

type emailView struct {
	Settings views.EmailSettings
	Mail     []mailRow
	Form     testMailForm
	Errors   FormErrors
}

func (u *UI) loadEmailView() (*emailView, error) {
	log, err := u.app.RecentMail(50)
	if err != nil {
		return nil, err
	}
	v := &emailView{Settings: u.app.EmailSettings()}
	v.Settings.Owner = u.brandView().Name // Settings → Brand's name wins over smtp.from's
	now := u.app.Now()
	for _, m := range log {
		r := mailRow{MailLogEntry: m}
		if m.IsQueued() {
			r.NextIn = untilText(m.NextAttemptAt.Sub(now))
		}
		v.Mail = append(v.Mail, r)
	}
	return v, nil
}

func (u *UI) emailSettingsPage(c echo.Context) error {
	v, err := u.loadEmailView()
	if err != nil {
		return err
	}
	return u.adminPage(c, http.StatusOK, "admin/email", "Email", "settings", v)
}

func (u *UI) emailTest(c echo.Context) error {
	var f testMailForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	to, err := u.app.SendTestMail(currentAdmin(c).ID, f.To)
	if err == nil {
		u.admin.flash(c, "success", "Test message queued for "+to+". Its status is in the list below.")
		return redirectToAnchor(c, "recent", routeSettingsEmail)
	}
	fe, err := formErrors(err)
	if err != nil {
		return err
	}
	v, err := u.loadEmailView()
	if err != nil {
		return err
	}
	v.Form, v.Errors = f, fe
	return u.adminPage(c, http.StatusUnprocessableEntity, "admin/email", "Email", "settings", v)
}

// Admins.

type adminRow struct {
	ID, Email string
	Pending   bool // invited, no password yet
	You       bool
	CreatedAt time.Time
}

type inviteAdminForm struct {
	Email string `form:"email"`
}

type passwordForm struct {
	Current  string `form:"current_password"`
	Password string `form:"password"`
}

type adminsView struct {
	Admins         []adminRow
	MailEnabled    bool
	InviteLink     string // a new admin's link, shown once
	Form           inviteAdminForm
	Errors         FormErrors
	PasswordErrors FormErrors
}

func (u *UI) loadAdminsView(c echo.Context) (*adminsView, error) {
	admins, err := u.app.Views().Admins()
	if err != nil {
		return nil, err
	}
	me := currentAdmin(c).ID
	v := &adminsView{MailEnabled: u.app.MailEnabled()}
	for _, a := range admins {
		v.Admins = append(v.Admins, adminRow{ID: a.ID, Email: a.Email, Pending: a.PasswordHash == "", You: a.ID == me, CreatedAt: a.CreatedAt})
	}
	return v, nil
}

func (u *UI) adminsPage(c echo.Context) error {
	v, err := u.loadAdminsView(c)
	if err != nil {
		return err
	}
	v.InviteLink = u.takeOnce(c, onceAdminInvite)
	return u.adminPage(c, http.StatusOK, "admin/admins", "Admins", "settings", v)
}

func (u *UI) adminInvite(c echo.Context) error {
	var f inviteAdminForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	adm, link, err := u.app.InviteAdmin(currentAdmin(c).ID, f.Email)
	if err == nil {
		u.keepOnce(c, onceAdminInvite, link)
		msg := adm.Email + " is invited. Send them the link below; it works once, for 7 days."
		if u.app.MailEnabled() {
			msg = "We emailed " + adm.Email + " a link to set a password (it works once, for 7 days). You can also copy it below."
		}
		u.admin.flash(c, "success", msg)
		return redirectTo(c, routeSettingsAdmins)
	}
	fe, err := formErrors(err)
	if err != nil {
		return err
	}
	v, err := u.loadAdminsView(c)
	if err != nil {
		return err
	}
	v.Form, v.Errors = f, friendlyErrors(fe)
	return u.adminPage(c, http.StatusUnprocessableEntity, "admin/admins", "Admins", "settings", v)
}

func (u *UI) adminRemove(c echo.Context) error {
	adm, err := u.app.RemoveAdmin(currentAdmin(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	u.admin.flash(c, "success", adm.Email+" is no longer an admin and has been signed out.")
	return redirectTo(c, routeSettingsAdmins)
}

// passwordChange sets the signed-in admin's password: every session of the
// account ends, and this browser is signed in afresh.
func (u *UI) passwordChange(c echo.Context) error {
	var f passwordForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	me := currentAdmin(c)
	err := u.app.ChangeAdminPassword(me.ID, f.Current, f.Password)
	if err == nil {
		if err := u.admin.signIn(c, me.ID); err != nil {
			return err
		}
		u.admin.flash(c, "success", "Your password is changed. Every other sign-in of your account has ended.")
		return redirectToAnchor(c, "password", routeSettingsAdmins)
	}
	fe, err := formErrors(err)
	if err != nil {
		return err
	}
	v, err := u.loadAdminsView(c)
	if err != nil {
		return err
	}
	v.PasswordErrors = fe
	return u.adminPage(c, http.StatusUnprocessableEntity, "admin/admins", "Admins", "settings", v)
}
