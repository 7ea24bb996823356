package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/app/views"
)

// The merchant API for leads and purchases. The CSV exports of the same
// lists live with the exports work.

// LeadJSON is a lead as the API shows it.
type LeadJSON struct {
	ID           string `json:"id"`
	Program      string `json:"program"`
	Affiliate    string `json:"affiliate"`
	ReferralCode string `json:"referral_code"`
	SubID        string `json:"sub_id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	URL          string `json:"url"`
	CreatedAt    string `json:"created_at"`
	Purchased    bool   `json:"purchased"`
}

// NewLeadJSON converts a stored lead for the API.
func NewLeadJSON(l *app.Lead) LeadJSON {
	return LeadJSON{
		ID: l.ID, Program: l.ProgramID, Affiliate: l.AffiliateID, ReferralCode: l.Code, SubID: l.SubID,
		Email: l.Email, Name: l.Name, URL: l.URL, CreatedAt: app.RFC3339(l.CreatedAt), Purchased: l.PurchaseID != "",
	}
}

// PurchaseJSON is a purchase as the API shows it. Affiliate is null when
// the purchase is unattributed.
type PurchaseJSON struct {
	ID        string  `json:"id"`
	OrderID   string  `json:"order_id"`
	Program   string  `json:"program"`
	Affiliate *string `json:"affiliate"`
	event.PurchaseFields
	RefundedAmount string `json:"refunded_amount"`
	SelfReferral   bool   `json:"self_referral"`
	PurchasedAt    string `json:"purchased_at"`
	CreatedAt      string `json:"created_at"`
}

// NewPurchaseJSON converts a stored purchase for the API.
func NewPurchaseJSON(p *app.Purchase) PurchaseJSON {
	out := PurchaseJSON{
		ID: p.ID, OrderID: p.OrderID, Program: p.ProgramID, PurchaseFields: event.NewPurchaseFields(p),
		RefundedAmount: money.Format(p.RefundedAmount, p.Currency),
		SelfReferral:   p.SelfReferral, PurchasedAt: app.RFC3339(p.PurchasedAt), CreatedAt: app.RFC3339(p.CreatedAt),
	}
	if p.AffiliateID != "" {
		id := p.AffiliateID
		out.Affiliate = &id
	}
	return out
}

func (s *Server) apiListLeads(c echo.Context) error {
	limit, cursor, err := ListParams(c)
	if err != nil {
		return err
	}
	q, err := s.App.LeadQuery(views.ListFilterFromParams(c.QueryParams()))
	if err != nil {
		return err
	}
	q.Limit, q.Cursor = limit, cursor
	leads, next, err := s.App.Views().LeadsPage(q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPage(mapSlice(leads, NewLeadJSON), next))
}

func (s *Server) apiListPurchases(c echo.Context) error {
	limit, cursor, err := ListParams(c)
	if err != nil {
		return err
	}
	q, err := s.App.PurchaseQuery(views.ListFilterFromParams(c.QueryParams()))
	if err != nil {
		return err
	}
	q.Limit, q.Cursor = limit, cursor
	ps, next, err := s.App.Views().PurchasesPage(q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPage(mapSlice(ps, NewPurchaseJSON), next))
}

func (s *Server) apiCreatePurchase(c echo.Context) error {
	var in app.PurchaseInput
	if err := DecodeJSON(c, &in); err != nil {
		return err
	}
	p, created, err := s.App.CreatePurchase(in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, NewPurchaseJSON(p))
}

func (s *Server) apiGetPurchase(c echo.Context) error {
	p, err := s.App.Purchase(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPurchaseJSON(p))
}

// refundRequest is the optional body of a refund: no amount refunds all
// that is left.
type refundRequest struct {
	Amount string `json:"amount"`
}

func (s *Server) apiRefundPurchase(c echo.Context) error {
	var in refundRequest
	if err := decodeOptionalJSON(c, &in); err != nil {
		return err
	}
	p, err := s.App.RefundPurchase(c.Param("id"), in.Amount)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPurchaseJSON(p))
}
