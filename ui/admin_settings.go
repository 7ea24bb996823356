package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/web"
)

// The Settings page: API keys (create, revoke) and, at the bottom, the
// SpiffyJS install code.

// apiKeyForm names a new API key.
type apiKeyForm struct {
	Name string `form:"name"`
}

type settingsView struct {
	Keys        []*app.APIKey
	ActiveKeys  int
	NewKey      string // the secret of the key just created, shown once
	Form        apiKeyForm
	Errors      FormErrors
	APIBase     string
	InstallCode string
}

// loadSettingsView loads the keys and the install code the page shows.
func (u *UI) loadSettingsView() (*settingsView, error) {
	keys, err := u.app.Views().APIKeys()
	if err != nil {
		return nil, err
	}
	v := &settingsView{Keys: keys, APIBase: u.app.Config().BaseURL + "/api/v1", InstallCode: web.InstallCode(u.app.Config().BaseURL)}
	for _, k := range keys {
		if k.RevokedAt == nil {
			v.ActiveKeys++
		}
	}
	return v, nil
}

func (u *UI) settingsPage(c echo.Context) error {
	v, err := u.loadSettingsView()
	if err != nil {
		return err
	}
	v.NewKey = u.takeOnce(c, onceAPIKey)
	return u.adminPage(c, http.StatusOK, "admin/settings", "Settings", "settings", v)
}

func (u *UI) apiKeyCreate(c echo.Context) error {
	var f apiKeyForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	k, secret, err := u.app.CreateAPIKey(f.Name)
	if err == nil {
		u.keepOnce(c, onceAPIKey, secret)
		u.admin.flash(c, "success", "API key “"+k.Name+"” created.")
		return redirectToAnchor(c, "api-keys", routeSettings)
	}
	fe, err := formErrors(err)
	if err != nil {
		return err
	}
	v, err := u.loadSettingsView()
	if err != nil {
		return err
	}
	v.Form, v.Errors = f, friendlyErrors(fe)
	return u.adminPage(c, http.StatusUnprocessableEntity, "admin/settings", "Settings", "settings", v)
}

// apiKey finds a key by id for the confirmation page.
func (u *UI) apiKey(id string) (*app.APIKey, error) {
	keys, err := u.app.Views().APIKeys()
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return nil, app.NotFound("api_key_not_found", "API key not found")
}

func (u *UI) apiKeyRevokeConfirm(c echo.Context) error {
	k, err := u.apiKey(c.Param("id"))
	if err != nil {
		return err
	}
	return u.adminPage(c, http.StatusOK, "admin/apikey_revoke", "Revoke "+k.Name, "settings", k)
}

func (u *UI) apiKeyRevoke(c echo.Context) error {
	k, err := u.apiKey(c.Param("id"))
	if err != nil {
		return err
	}
	if err := u.app.RevokeAPIKey(k.ID); err != nil {
		return err
	}
	u.admin.flash(c, "success", "API key “"+k.Name+"” revoked. Requests using it are now refused.")
	return redirectToAnchor(c, "api-keys", routeSettings)
}
