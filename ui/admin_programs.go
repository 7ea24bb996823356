package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/views"
)

// The merchant's Programs pages: list, create, edit (settings, join link,
// enrolled affiliates), enrol and delete.

// programForm is the settings form of a program, as typed. Numbers stay
// strings so that "abc" is a field message, not a bind error; toggles are
// strings because an unchecked box sends nothing: on this form every toggle
// is present, so absence means off.
type programForm struct {
	Name            string `form:"name"`
	Description     string `form:"description"`
	LandingURL      string `form:"landing_url"`
	CookieDays      string `form:"cookie_days"`
	Attribution     string `form:"attribution"`
	CommissionType  string `form:"commission_type"`
	CommissionValue string `form:"commission_value"`
	Currency        string `form:"currency"`
	TrackLeads      string `form:"track_leads"`
	ShareLeads      string `form:"share_leads"`
	SharePurchasers string `form:"share_purchasers"`
	AutoApprove     string `form:"auto_approve"`
	HoldDays        string `form:"hold_days"`
	RecurringMonths string `form:"recurring_months"`
}

// checked reads a checkbox value: the box sends "true" (or a browser's "on").
func checked(v string) bool { return v == "true" || v == "on" || v == "1" }

func boolValue(b bool) string {
	if b {
		return "true"
	}
	return ""
}

// newProgramForm holds the defaults a new program starts from.
func newProgramForm() programForm {
	return programForm{
		CookieDays:      strconv.Itoa(app.DefaultCookieDays),
		Attribution:     app.AttributionLast,
		CommissionType:  app.CommissionPercent,
		Currency:        "USD",
		HoldDays:        strconv.Itoa(app.DefaultHoldDays),
		RecurringMonths: "0",
	}
}

// programFormFrom fills the form from a stored program.
func programFormFrom(p *app.Program) programForm {
	return programForm{
		Name:            p.Name,
		Description:     p.Description,
		LandingURL:      p.LandingURL,
		CookieDays:      strconv.Itoa(p.CookieDays),
		Attribution:     p.Attribution,
		CommissionType:  p.CommissionType,
		CommissionValue: views.CommissionValue(p),
		Currency:        p.Currency,
		TrackLeads:      boolValue(p.TrackLeads),
		ShareLeads:      boolValue(p.ShareLeads),
		SharePurchasers: boolValue(p.SharePurchasers),
		AutoApprove:     boolValue(p.AutoApprove),
		HoldDays:        strconv.Itoa(p.HoldDays),
		RecurringMonths: strconv.Itoa(p.RecurringMonths),
	}
}

// normalize turns each toggle into "true" or "" so the template can test it.
func (f *programForm) normalize() {
	for _, t := range []*string{&f.TrackLeads, &f.ShareLeads, &f.SharePurchasers, &f.AutoApprove} {
		*t = boolValue(checked(*t))
	}
}

// input turns the form into the app's input; every field is given, so an
// edit writes the whole form (a toggle switched off is saved as off).
func (f programForm) input() (app.ProgramInput, FormErrors) {
	days, err := strconv.Atoi(strings.TrimSpace(f.CookieDays))
	if err != nil {
		return app.ProgramInput{}, FormErrors{"cookie_days": "Cookie window must be a whole number of days, from 1 to 365."}
	}
	hold, err := strconv.Atoi(strings.TrimSpace(f.HoldDays))
	if err != nil {
		return app.ProgramInput{}, FormErrors{"hold_days": "Hold period must be a whole number of days, from 0 to 365."}
	}
	months, err := strconv.Atoi(strings.TrimSpace(f.RecurringMonths))
	if err != nil {
		return app.ProgramInput{}, FormErrors{"recurring_months": "Recurring commissions must be a whole number of months, from 0 to 1200."}
	}
	in := app.ProgramInput{
		Name:            &f.Name,
		Description:     &f.Description,
		LandingURL:      &f.LandingURL,
		CookieDays:      &days,
		Attribution:     &f.Attribution,
		CommissionType:  &f.CommissionType,
		CommissionValue: &f.CommissionValue,
		TrackLeads:      new(checked(f.TrackLeads)),
		ShareLeads:      new(checked(f.ShareLeads)),
		SharePurchasers: new(checked(f.SharePurchasers)),
		AutoApprove:     new(checked(f.AutoApprove)),
		HoldDays:        &hold,
		RecurringMonths: &months,
	}
	// An emptied currency keeps the current one (USD for a new program).
	if cur := strings.TrimSpace(f.Currency); cur != "" {
		in.Currency = &cur
	}
	return in, nil
}

// programRow is one line of the Programs list.
type programRow struct {
	*app.Program
	Affiliates int
	JoinURL    string
}

type programsView struct {
	Programs []programRow
}

// enrollForm enrols an affiliate in a program; a blank code is generated.
type enrollForm struct {
	AffiliateID string `form:"affiliate_id"`
	ProgramID   string `form:"program_id"`
	Code        string `form:"code"`
	Coupon      string `form:"coupon"`
}

type programView struct {
	New     bool
	ID      string
	Form    programForm
	Errors  FormErrors
	Program *app.Program
	JoinURL string
	// Enrolled is the page of the program's affiliates the query asks
	// for, with their results in the program.
	Enrolled      *views.AffiliatesPage
	EnrolledQuery affiliatesQuery
	EnrolledError string
	Pager         affiliatePager
	Enroll        enrollForm
	EnrollErrors  FormErrors
}

func (u *UI) joinURL(programID string) string { return u.app.Config().BaseURL + "/join/" + programID }

func (u *UI) programsList(c echo.Context) error {
	programs, err := u.app.Views().Programs()
	if err != nil {
		return err
	}
	v := programsView{Programs: make([]programRow, 0, len(programs))}
	for _, p := range programs {
		n, err := u.app.Views().EnrolledCount(p.ID)
		if err != nil {
			return err
		}
		v.Programs = append(v.Programs, programRow{Program: p, Affiliates: n, JoinURL: u.joinURL(p.ID)})
	}
	return u.adminPage(c, http.StatusOK, "admin/programs", "Programs", "programs", v)
}

func (u *UI) programNewForm(c echo.Context) error {
	return u.adminPage(c, http.StatusOK, "admin/program_form", "New program", "programs", &programView{New: true, Form: newProgramForm()})
}

func (u *UI) programCreate(c echo.Context) error {
	var f programForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	f.normalize()
	in, fe := f.input()
	if fe == nil {
		p, err := u.app.CreateProgram(in)
		if err == nil {
			u.admin.flash(c, "success", "Program “"+p.Name+"” created. Share its join link or add affiliates below.")
			return redirectTo(c, routeProgram, p.ID)
		}
		if fe, err = formErrors(err); err != nil {
			return err
		}
	}
	return u.adminPage(c, http.StatusUnprocessableEntity, "admin/program_form", "New program", "programs",
		&programView{New: true, Form: f, Errors: friendlyErrors(fe)})
}

// loadProgramView loads what the edit page shows besides the form: a page
// of its affiliates (q) with their results in the program.
func (u *UI) loadProgramView(c echo.Context, id string, q affiliatesQuery) (*programView, error) {
	p, err := u.app.Program(id)
	if err != nil {
		return nil, err
	}
	page, err := u.app.Views().AffiliatesPage(q.storeQuery(id))
	if err != nil {
		return nil, err
	}
	v := &programView{ID: p.ID, Program: p, Form: programFormFrom(p), JoinURL: u.joinURL(p.ID), Enrolled: page, EnrolledQuery: q,
		Pager: newAffiliatePager(pathTo(c, routeProgram, p.ID), "#affiliates", q, page)}
	return v, nil
}

func (u *UI) programEditForm(c echo.Context) error {
	q, problem := bindAffiliatesQuery(c, false)
	v, err := u.loadProgramView(c, c.Param("id"), q)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if v.EnrolledError = problem; problem != "" {
		status = http.StatusBadRequest
	}
	return u.adminPage(c, status, "admin/program_form", v.Program.Name, "programs", v)
}

func (u *UI) programUpdate(c echo.Context) error {
	var f programForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	f.normalize()
	id := c.Param("id")
	in, fe := f.input()
	if fe == nil {
		p, err := u.app.UpdateProgram(id, in)
		if err == nil {
			u.admin.flash(c, "success", "Settings saved.")
			return redirectTo(c, routeProgram, p.ID)
		}
		if fe, err = formErrors(err); err != nil {
			return err
		}
	}
	v, err := u.loadProgramView(c, id, affiliatesQuery{})
	if err != nil {
		return err
	}
	v.Form, v.Errors = f, friendlyErrors(fe)
	return u.adminPage(c, http.StatusUnprocessableEntity, "admin/program_form", v.Program.Name, "programs", v)
}

func (u *UI) programEnroll(c echo.Context) error {
	var f enrollForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	id := c.Param("id")
	var fe FormErrors
	f.AffiliateID = strings.TrimSpace(f.AffiliateID)
	if f.AffiliateID == "" {
		fe = FormErrors{"affiliate_id": "Choose an affiliate to add."}
	} else if af, problem, err := u.findAffiliate(f.AffiliateID); err != nil {
		return err
	} else if af == nil {
		fe = FormErrors{"affiliate_id": problem}
	} else {
		e, p, err := u.app.EnrollWithCoupon(id, af.ID, f.Code, f.Coupon)
		if err == nil {
			u.admin.flash(c, "success", af.Name+" added to “"+p.Name+"” with referral code "+e.Code+".")
			return redirectToAnchor(c, "affiliates", routeProgram, id)
		}
		if fe, err = formErrors(err); err != nil {
			return err
		}
	}
	v, err := u.loadProgramView(c, id, affiliatesQuery{})
	if err != nil {
		return err
	}
	v.Enroll, v.EnrollErrors = f, friendlyErrors(fe)
	return u.adminPage(c, http.StatusUnprocessableEntity, "admin/program_form", v.Program.Name, "programs", v)
}

type programDeleteView struct {
	Program    *app.Program
	Affiliates int
}

func (u *UI) programDeleteConfirm(c echo.Context) error {
	p, err := u.app.Program(c.Param("id"))
	if err != nil {
		return err
	}
	n, err := u.app.Views().EnrolledCount(p.ID)
	if err != nil {
		return err
	}
	return u.adminPage(c, http.StatusOK, "admin/program_delete", "Delete "+p.Name, "programs", programDeleteView{Program: p, Affiliates: n})
}

func (u *UI) programDelete(c echo.Context) error {
	p, err := u.app.Program(c.Param("id"))
	if err != nil {
		return err
	}
	if err := u.app.DeleteProgram(p.ID); err != nil {
		return err
	}
	u.admin.flash(c, "success", "Program “"+p.Name+"” deleted. Its referral links no longer track; past leads and purchases are kept.")
	return redirectTo(c, routePrograms)
}

// friendlyErrors rewrites the app's messages for people: the app names
// fields as the API does ("cookie_days must be…"), the form by its labels.
func friendlyErrors(fe FormErrors) FormErrors {
	if fe == nil {
		return nil
	}
	out := make(FormErrors, len(fe))
	for field, msg := range fe {
		for _, l := range []struct{ field, label string }{
			{"landing_url", "Landing page URL"}, {"cookie_days", "Cookie window"},
			{"hold_days", "Hold period"}, {"recurring_months", "Recurring commissions"},
			{"commission_value", "Commission"}, {"commission_type", "Commission type"},
			{"attribution", "Attribution"}, {"currency", "Currency"}, {"description", "Description"},
			{"name", "Name"}, {"email", "Email"}, {"status", "Status"}, {"password", "Password"},
			{"code", "Referral code"}, {"referral code", "Referral code"}, {"coupon", "Coupon"},
			{"minimum", "Minimum"}, {"program", "Program"}, {"amount", "Amount"},
		} {
			if rest, ok := strings.CutPrefix(msg, l.field+" "); ok {
				msg = l.label + " " + rest
				break
			}
		}
		if msg == "" {
			continue
		}
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		out[field] = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return out
}
