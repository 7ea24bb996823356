package ui

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/views"
)

// The affiliate's Payouts page, /portal/payouts (contract §9): its money
// per currency, the payouts that paid it (its own share only) and how it
// wants to be paid. The affiliate is always the session's.

// payoutDetailsForm is the payout details form.
type payoutDetailsForm struct {
	Method string `form:"method"`
	Email  string `form:"email"`
}

type portalPayoutsView struct {
	*views.PortalPayoutsPage
	Form   payoutDetailsForm
	Errors FormErrors
	// Cursor is the history page shown ("" = the newest).
	Cursor string
}

func (u *UI) portalPayouts(c echo.Context) error {
	cursor := c.QueryParam("cursor")
	page, err := u.app.PortalPayouts(currentAffiliate(c).ID, cursor)
	if err != nil {
		return err
	}
	v := portalPayoutsView{PortalPayoutsPage: page, Form: payoutDetailsForm{Method: page.Method, Email: page.Email}, Cursor: cursor}
	return u.portalPage(c, http.StatusOK, "portal/payouts", "Payouts", "payouts", v)
}

func (u *UI) portalPayoutDetails(c echo.Context) error {
	var f payoutDetailsForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	af := currentAffiliate(c)
	if _, err := u.app.SetPayoutDetails(af.ID, f.Method, f.Email); err != nil {
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		page, err := u.app.PortalPayouts(af.ID, "")
		if err != nil {
			return err
		}
		return u.portalPage(c, http.StatusUnprocessableEntity, "portal/payouts", "Payouts", "payouts",
			portalPayoutsView{PortalPayoutsPage: page, Form: f, Errors: payoutDetailsErrors(fe)})
	}
	msg := "Payout details saved."
	switch strings.ToLower(strings.TrimSpace(f.Method)) {
	case app.PayoutPayPal:
		msg = "Payout details saved: you will be paid by PayPal."
	case app.PayoutWise:
		msg = "Payout details saved: you will be paid by Wise."
	}
	u.portal.flash(c, "success", msg)
	return redirectTo(c, routePortalPayouts)
}

// payoutDetailsErrors puts the app's messages (named as the API names the
// fields) under the form's fields, in the form's words.
func payoutDetailsErrors(fe FormErrors) FormErrors {
	out := FormErrors{}
	for field, msg := range fe {
		switch field {
		case "payout_method":
			field = "method"
		case "payout_email":
			field = "email"
		}
		for _, p := range []struct{ from, to string }{
			{"payout_email ", "Email "}, {"payout email ", "Email "}, {"payout method ", "Payment method "},
		} {
			if rest, ok := strings.CutPrefix(msg, p.from); ok {
				msg = p.to + rest
				break
			}
		}
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		out[field] = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return out
}
