package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/app/views"
)

// The merchant API for commissions, balances and payouts (contract §9).

// CommissionJSON is a commission as the API shows it; ids that are not
// set are null.
type CommissionJSON struct {
	ID         string  `json:"id"`
	Purchase   string  `json:"purchase"`
	Program    string  `json:"program"`
	Affiliate  string  `json:"affiliate"`
	Kind       string  `json:"kind"`
	Amount     string  `json:"amount"`
	Currency   string  `json:"currency"`
	Status     string  `json:"status"`
	ApproveAt  string  `json:"approve_at"`
	CreatedAt  string  `json:"created_at"`
	PaidAt     *string `json:"paid_at"`
	Payout     *string `json:"payout"`
	ClawbackOf *string `json:"clawback_of"`
}

// NewCommissionJSON converts a stored commission for the API.
func NewCommissionJSON(c *app.Commission) CommissionJSON {
	out := CommissionJSON{
		ID: c.ID, Purchase: c.PurchaseID, Program: c.ProgramID, Affiliate: c.AffiliateID, Kind: c.Kind,
		Amount: money.Format(c.Amount, c.Currency), Currency: c.Currency, Status: c.Status,
		ApproveAt: app.RFC3339(c.ApproveAt), CreatedAt: app.RFC3339(c.CreatedAt),
		Payout: nullable(c.PayoutID), ClawbackOf: nullable(c.ClawbackOf),
	}
	if !c.PaidAt.IsZero() {
		out.PaidAt = nullable(app.RFC3339(c.PaidAt))
	}
	return out
}

// nullable is s, or null when it is empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// BalanceJSON is one affiliate's balance in one currency.
type BalanceJSON struct {
	Affiliate  string `json:"affiliate"`
	Name       string `json:"name"`
	Currency   string `json:"currency"`
	Pending    string `json:"pending"`
	Approved   string `json:"approved"`
	Processing string `json:"processing"`
	Paid       string `json:"paid"`
}

// NewBalanceJSON converts a balance for the API.
func NewBalanceJSON(b views.BalanceRow) BalanceJSON {
	f := func(v int64) string { return money.Format(v, b.Currency) }
	return BalanceJSON{Affiliate: b.AffiliateID, Name: b.Name, Currency: b.Currency,
		Pending: f(b.Pending), Approved: f(b.Approved), Processing: f(b.Processing), Paid: f(b.Paid)}
}

// PayoutJSON is a payout as the API shows it.
type PayoutJSON struct {
	ID        string           `json:"id"`
	Currency  string           `json:"currency"`
	Program   *string          `json:"program"`
	Minimum   string           `json:"minimum"`
	Status    string           `json:"status"`
	Total     string           `json:"total"`
	CreatedAt string           `json:"created_at"`
	PaidAt    *string          `json:"paid_at"`
	Items     []PayoutItemJSON `json:"items"`
}

// PayoutItemJSON is one affiliate's share of a payout.
type PayoutItemJSON struct {
	Affiliate   string `json:"affiliate"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	Method      string `json:"method"`
	PayoutEmail string `json:"payout_email"`
	Amount      string `json:"amount"`
	Commissions int64  `json:"commissions"`
}

// NewPayoutJSON converts a payout and its items for the API.
func NewPayoutJSON(v *app.PayoutView) PayoutJSON {
	out := PayoutJSON{
		ID: v.ID, Currency: v.Currency, Program: nullable(v.ProgramID), Minimum: money.Format(v.Minimum, v.Currency),
		Status: v.Status, Total: money.Format(v.Total, v.Currency), CreatedAt: app.RFC3339(v.CreatedAt),
		Items: make([]PayoutItemJSON, 0, len(v.Items)),
	}
	if !v.PaidAt.IsZero() {
		out.PaidAt = nullable(app.RFC3339(v.PaidAt))
	}
	for _, it := range v.Items {
		out.Items = append(out.Items, PayoutItemJSON{
			Affiliate: it.AffiliateID, Name: it.Name, Email: it.Email, Method: it.Method, PayoutEmail: it.PayoutEmail,
			Amount: money.Format(it.Amount, v.Currency), Commissions: it.Commissions,
		})
	}
	return out
}

func (s *Server) apiListCommissions(c echo.Context) error {
	limit, cursor, err := ListParams(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	f := app.CommissionFilter{Program: q.Get("program"), Affiliate: q.Get("affiliate"), Status: q.Get("status"),
		Purchase: q.Get("purchase"), From: q.Get("from"), To: q.Get("to")}
	coms, next, err := s.App.Commissions(f, cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPage(mapSlice(coms, NewCommissionJSON), next))
}

func (s *Server) apiGetCommission(c echo.Context) error {
	return commissionResult(c)(s.App.Commission(c.Param("id")))
}

func (s *Server) apiApproveCommission(c echo.Context) error {
	return commissionResult(c)(s.App.ApproveCommission(c.Param("id")))
}

func (s *Server) apiVoidCommission(c echo.Context) error {
	return commissionResult(c)(s.App.VoidCommission(c.Param("id")))
}

func commissionResult(c echo.Context) func(*app.Commission, error) error {
	return func(com *app.Commission, err error) error {
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, NewCommissionJSON(com))
	}
}

func (s *Server) apiBalances(c echo.Context) error {
	q := c.QueryParams()
	rows, err := s.App.Balances(app.BalanceFilter{Currency: q.Get("currency"), Affiliate: q.Get("affiliate"), Program: q.Get("program")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]BalanceJSON{"data": mapSlice(rows, NewBalanceJSON)})
}

func (s *Server) apiListPayouts(c echo.Context) error {
	limit, cursor, err := ListParams(c)
	if err != nil {
		return err
	}
	ps, next, err := s.App.Payouts(app.Merchant, cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPage(mapSlice(ps, NewPayoutJSON), next))
}

func (s *Server) apiCreatePayout(c echo.Context) error {
	var in app.PayoutInput
	if err := DecodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.App.CreatePayout(in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, NewPayoutJSON(p))
}

// apiGetPayout answers both /payouts/{id} and /payouts/{id}.csv: Echo's
// router cannot tell a parameter from a parameter with a suffix.
func (s *Server) apiGetPayout(c echo.Context) error {
	id := c.Param("id")
	if id, ok := strings.CutSuffix(id, ".csv"); ok {
		f, err := s.App.PayoutFile(id, c.QueryParam("format"))
		if err != nil {
			return err
		}
		startCSV(c, f.Name)
		if err := f.Write(c.Response()); err != nil && c.Request().Context().Err() == nil {
			s.log.Error("payout file stream failed", "payout", id, "err", err)
		}
		return nil
	}
	return payoutResult(c)(s.App.Payout(id))
}

func (s *Server) apiPayoutPaid(c echo.Context) error {
	return payoutResult(c)(s.App.MarkPayoutPaid(c.Param("id")))
}

func (s *Server) apiCancelPayout(c echo.Context) error {
	return payoutResult(c)(s.App.CancelPayout(c.Param("id")))
}

func payoutResult(c echo.Context) func(*app.PayoutView, error) error {
	return func(p *app.PayoutView, err error) error {
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, NewPayoutJSON(p))
	}
}
