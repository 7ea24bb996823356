package ui

import "github.com/labstack/echo/v4"

// Placeholder owned by the webhooks work (issue 6): the admin Webhooks page
// and the portal's /portal/webhooks pages.
func (u *UI) routesWebhooks(admin, affiliate *echo.Group) {}
