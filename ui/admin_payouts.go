package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/app/views"
)

// The merchant's money pages (contract §9): Payouts (balances due, the
// "Create payout" form, the history), one payout (its items, its files
// for PayPal and Wise, "Mark paid" and "Cancel") and Commissions (by
// status, with Approve and Void). Each page is one app call; each action
// is one app call and a redirect with a flash.

// payoutsQuery is the Payouts page's query string. Paging values that do
// not parse are ignored, as on the other lists: they are state, not input.
type payoutsQuery struct {
	Currency string
	Page     int
	History  string
}

func bindPayoutsQuery(c echo.Context) payoutsQuery {
	q := c.QueryParams()
	page, _ := strconv.Atoi(q.Get("page"))
	return payoutsQuery{Currency: strings.ToUpper(strings.TrimSpace(q.Get("currency"))), Page: page, History: q.Get("history")}
}

// url is the Payouts page with the query, overriding page and history.
func (q payoutsQuery) url(page int, history string) string {
	v := url.Values{}
	if q.Currency != "" {
		v.Set("currency", q.Currency)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if history != "" {
		v.Set("history", history)
	}
	if len(v) == 0 {
		return "/payouts"
	}
	return "/payouts?" + v.Encode()
}

// payoutForm is the "Create payout" form.
type payoutForm struct {
	Currency string `form:"currency"`
	Minimum  string `form:"minimum"`
	Program  string `form:"program"`
}

type payoutsView struct {
	*views.PayoutsPage
	Query  payoutsQuery
	Form   payoutForm
	Errors FormErrors
	// Error is a bad filter or history link, shown instead of the tables.
	Error string
	// Links of the balance pages and of the history.
	PrevURL, NextURL, HistoryFirstURL, HistoryNextURL string
	First, Last                                       int // row numbers of the page
}

// newPayoutsView reads the page; a bad filter or cursor becomes a message
// on an empty page (400) rather than an error page.
func (u *UI) newPayoutsView(q payoutsQuery) (*payoutsView, int, error) {
	v := &payoutsView{Query: q}
	status := http.StatusOK
	page, err := u.app.PayoutsPage(app.PayoutsPageQuery{Currency: q.Currency, Page: q.Page, History: q.History})
	if err != nil {
		if v.Error, err = listError(err); err != nil {
			return nil, 0, err
		}
		v.PayoutsPage, status = &views.PayoutsPage{}, http.StatusBadRequest
		return v, status, nil
	}
	v.PayoutsPage = page
	if page.Page > 1 {
		v.PrevURL = q.url(page.Page-1, q.History)
	}
	if page.Page < page.Pages {
		v.NextURL = q.url(page.Page+1, q.History)
	}
	if len(page.Balances) > 0 {
		v.First = (page.Page-1)*views.BalancesPageSize + 1
		v.Last = v.First + len(page.Balances) - 1
	}
	v.HistoryFirstURL = q.url(page.Page, "") + "#history"
	if page.HistoryNext != "" {
		v.HistoryNextURL = q.url(page.Page, page.HistoryNext) + "#history"
	}
	// The form offers the filtered currency, else the one with the most
	// affiliates due.
	v.Form.Currency = q.Currency
	if v.Form.Currency == "" {
		best := 0
		for _, d := range page.Currencies {
			if d.Payable > best {
				v.Form.Currency, best = d.Currency, d.Payable
			}
		}
	}
	return v, status, nil
}

func (u *UI) payoutsPage(c echo.Context) error {
	v, status, err := u.newPayoutsView(bindPayoutsQuery(c))
	if err != nil {
		return err
	}
	return u.adminPage(c, status, "admin/payouts", "Payouts", "payouts", v)
}

func (u *UI) payoutCreate(c echo.Context) error {
	var f payoutForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	p, err := u.app.CreatePayout(app.PayoutInput{Currency: f.Currency, Minimum: f.Minimum, Program: f.Program})
	if err == nil {
		u.admin.flash(c, "success", fmt.Sprintf("Payout of %s to %s created. Download its file, pay it with PayPal or Wise, then mark it paid.",
			money.Display(p.Total, p.Currency), countWord(int64(p.Payout.ItemCount), "affiliate")))
		return redirectTo(c, routePayout, p.ID)
	}
	status := http.StatusUnprocessableEntity
	if app.IsKind(err, app.KindConflict) {
		status = http.StatusConflict // nothing_due
	}
	fe, err := formErrors(err)
	if err != nil {
		return err
	}
	// The page again, unfiltered (the typed currency may be refused), with
	// the form as typed and its message.
	v, _, err := u.newPayoutsView(payoutsQuery{})
	if err != nil {
		return err
	}
	f.Currency = strings.ToUpper(strings.TrimSpace(f.Currency))
	v.Form, v.Errors = f, friendlyErrors(fe)
	return u.adminPage(c, status, "admin/payouts", "Payouts", "payouts", v)
}

type payoutView struct {
	*views.PayoutDetail
	NextURL, FirstURL string
}

func (u *UI) payoutPage(c echo.Context) error {
	d, err := u.app.PayoutDetail(c.Param("id"), c.QueryParam("after"))
	if err != nil {
		return err
	}
	v := payoutView{PayoutDetail: d}
	base := pathTo(c, routePayout, d.ID)
	if d.After != "" {
		v.FirstURL = base + "#items"
	}
	if d.Next != "" {
		v.NextURL = base + "?after=" + url.QueryEscape(d.Next) + "#items"
	}
	return u.adminPage(c, http.StatusOK, "admin/payout", "Payout "+d.ID, "payouts", v)
}

// payoutFile streams a payout's file (generic, paypal or wise). Everything
// that can refuse is checked before the first byte.
func (u *UI) payoutFile(c echo.Context) error {
	f, err := u.app.PayoutFile(c.Param("id"), c.QueryParam("format"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+f.Name+`"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	if err := f.Write(c.Response()); err != nil && c.Request().Context().Err() == nil {
		// The status is sent; all that is left is to log and cut the body short.
		u.app.Log().Error("payout file stream failed", "payout", c.Param("id"), "err", err)
	}
	return nil
}

func (u *UI) payoutPaid(c echo.Context) error {
	p, err := u.app.MarkPayoutPaid(c.Param("id"))
	if err != nil {
		return err
	}
	u.admin.flash(c, "success", fmt.Sprintf("Payout marked paid: %s to %s. Each affiliate sees it in the partner portal.",
		money.Display(p.Total, p.Currency), countWord(int64(p.Payout.ItemCount), "affiliate")))
	return redirectTo(c, routePayout, p.ID)
}

func (u *UI) payoutCancel(c echo.Context) error {
	p, err := u.app.CancelPayout(c.Param("id"))
	if err != nil {
		return err
	}
	u.admin.flash(c, "success", "Payout canceled. Its commissions are approved again and due in the next payout.")
	return redirectTo(c, routePayout, p.ID)
}

// Commissions.

// commissionStatuses are the tabs of the Commissions page, in lifecycle order.
var commissionStatuses = []string{app.CommissionPending, app.CommissionApproved, app.CommissionProcessing, app.CommissionPaid, app.CommissionVoided}

type commissionsView struct {
	*views.CommissionList
	Filter   app.CommissionFilter
	Statuses []string
	Cursor   string
	Error    string
	// Back is this page's URL, where the Approve and Void buttons return.
	Back, NextURL, FirstURL string
}

// url is the Commissions page with the filter and a cursor.
func commissionsURL(f app.CommissionFilter, cursor string) string {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "program": f.Program, "affiliate": f.Affiliate, "purchase": f.Purchase, "cursor": cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return "/commissions"
	}
	return "/commissions?" + v.Encode()
}

// commissionPageSize is how many commissions a page shows.
const commissionPageSize = 50

func (u *UI) commissionsPage(c echo.Context) error {
	q := c.QueryParams()
	f := app.CommissionFilter{Status: strings.TrimSpace(q.Get("status")), Program: strings.TrimSpace(q.Get("program")),
		Affiliate: strings.TrimSpace(q.Get("affiliate")), Purchase: strings.TrimSpace(q.Get("purchase"))}
	v := commissionsView{Filter: f, Statuses: commissionStatuses, Cursor: q.Get("cursor"), FirstURL: commissionsURL(f, "")}
	v.Back = commissionsURL(f, v.Cursor)
	status := http.StatusOK
	list, err := u.app.CommissionList(f, v.Cursor, commissionPageSize)
	if err != nil {
		if v.Error, err = listError(err); err != nil {
			return err
		}
		list, status = &views.CommissionList{}, http.StatusBadRequest
	}
	v.CommissionList = list
	if list.Next != "" {
		v.NextURL = commissionsURL(f, list.Next)
	}
	return u.adminPage(c, status, "admin/commissions", "Commissions", "payouts", v)
}

// commissionActionForm is an Approve or Void button: where to come back to.
type commissionActionForm struct {
	Next string `form:"next"`
}

func (u *UI) commissionAction(do func(id string) (*app.Commission, error), done string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var f commissionActionForm
		if err := c.Bind(&f); err != nil {
			return err
		}
		if _, err := do(c.Param("id")); err != nil {
			return err
		}
		u.admin.flash(c, "success", done)
		return c.Redirect(http.StatusSeeOther, safeNext(f.Next, pathTo(c, routeCommissions)))
	}
}

func (u *UI) commissionApprove(c echo.Context) error {
	return u.commissionAction(u.app.ApproveCommission, "Commission approved: it is due in the next payout.")(c)
}

func (u *UI) commissionVoid(c echo.Context) error {
	return u.commissionAction(u.app.VoidCommission, "Commission voided: it will not be paid.")(c)
}
