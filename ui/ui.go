// Package ui serves the merchant admin UI and the affiliate portal:
// server-rendered pages over the app layer.
package ui

import (
	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
)

// UI holds what page handlers need: the app, the template engine and the
// two session stores (admin and affiliate portal are separate).
type UI struct {
	app *app.App
	srv *app.Server
}

// Mount registers the admin UI and portal routes on the server.
func Mount(s *app.Server) error {
	u := &UI{app: s.App, srv: s}
	admin := s.Echo.Group("")
	portal := s.Echo.Group("/portal")
	u.routesAdminData(admin)
	u.routesPortal(portal, portal)
	u.routesWebhooks(admin, portal)
	var _ *echo.Group
	return nil
}
