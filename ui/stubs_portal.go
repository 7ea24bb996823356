package ui

import "github.com/labstack/echo/v4"

// Placeholder owned by the portal work (issue 5): public (login, join,
// invite) and signed-in affiliate pages under /portal.
func (u *UI) routesPortal(public, affiliate *echo.Group) {}
