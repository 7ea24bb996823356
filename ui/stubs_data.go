package ui

import "github.com/labstack/echo/v4"

// Placeholder owned by the merchant-views work (issue 4): Leads, Purchases,
// Dashboard and Exports pages, registered on the signed-in admin group.
func (u *UI) routesAdminData(admin *echo.Group) {}
