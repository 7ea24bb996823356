package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/app/views"
)

// startCSV sets the headers of a streamed CSV download.
func startCSV(c echo.Context, name string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
}

func (s *Server) apiLeadsCSV(c echo.Context) error {
	q, err := s.App.LeadQuery(views.ListFilterFromParams(c.QueryParams()))
	if err != nil {
		return err
	}
	startCSV(c, "leads-"+s.App.Now().UTC().Format("20060102-150405")+".csv")
	// Once streaming has begun the status line is gone: a failure can only
	// cut the file short and be logged.
	if _, err := s.App.WriteLeadsCSV(c.Request().Context(), c.Response(), q, export.Merchant, nil); err != nil && c.Request().Context().Err() == nil {
		s.log.Error("leads csv stream failed", "err", err)
	}
	return nil
}

func (s *Server) apiPurchasesCSV(c echo.Context) error {
	q, err := s.App.PurchaseQuery(views.ListFilterFromParams(c.QueryParams()))
	if err != nil {
		return err
	}
	startCSV(c, "purchases-"+s.App.Now().UTC().Format("20060102-150405")+".csv")
	if _, err := s.App.WritePurchasesCSV(c.Request().Context(), c.Response(), q, export.Merchant, nil); err != nil && c.Request().Context().Err() == nil {
		s.log.Error("purchases csv stream failed", "err", err)
	}
	return nil
}
