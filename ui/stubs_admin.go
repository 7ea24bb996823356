package ui

import "github.com/labstack/echo/v4"

// Placeholder owned by the admin pages work (issue 2): Programs, Affiliates
// and Settings, registered on the signed-in admin group.
func (u *UI) routesAdmin(admin *echo.Group) {}
