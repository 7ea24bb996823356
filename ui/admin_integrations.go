package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/app/views"
)

// Settings → Integrations: each payment provider's endpoint URL to paste in
// its dashboard, its signing secret (pasted here unless the config sets
// it), the last events handled and those refused, with why.

// integrationSecretForm is one provider's secret, pasted.
type integrationSecretForm struct {
	Secret string `form:"secret"`
}

type integrationsView struct {
	Providers []views.IntegrationView
	Provider  string // the provider whose form has errors
	Errors    FormErrors
}

func (u *UI) integrationsPage(c echo.Context) error {
	return u.renderIntegrations(c, http.StatusOK, "", nil)
}

func (u *UI) renderIntegrations(c echo.Context, status int, provider string, errs FormErrors) error {
	ps, err := u.app.Integrations()
	if err != nil {
		return err
	}
	v := &integrationsView{Providers: ps, Provider: provider, Errors: errs}
	return u.adminPage(c, status, "admin/integrations", "Integrations", "settings", v)
}

func (u *UI) integrationSecretSave(c echo.Context) error {
	var f integrationSecretForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	p := c.Param("provider")
	err := u.app.SetIntegrationSecret(p, f.Secret)
	if err == nil {
		msg := provider.Title(p) + " is connected: its events are verified with this secret."
		if f.Secret == "" {
			msg = provider.Title(p) + " is disconnected: its endpoint refuses events until a secret is set."
		}
		u.admin.flash(c, "success", msg)
		return redirectToAnchor(c, p, routeIntegrations)
	}
	fe, err := formErrors(err)
	if err != nil {
		return err
	}
	return u.renderIntegrations(c, http.StatusUnprocessableEntity, p, friendlyErrors(fe))
}
