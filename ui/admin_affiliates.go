package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/views"
)

// The merchant's Affiliates pages: list, add, details and status, program
// enrolment with referral links, and invite (password reset) links.

// affiliateForm is the add and details form. An empty password on the add
// form means "send an invite link instead".
type affiliateForm struct {
	Name     string `form:"name"`
	Email    string `form:"email"`
	Status   string `form:"status"`
	Password string `form:"password"`
}

func (f affiliateForm) input() app.AffiliateInput {
	in := app.AffiliateInput{Name: &f.Name, Email: &f.Email}
	if f.Status != "" {
		in.Status = &f.Status
	}
	if f.Password != "" {
		in.Password = &f.Password
	}
	return in
}

// statusForm is a one-click status change (approve, block, unblock).
type statusForm struct {
	Status string `form:"status"`
	Next   string `form:"next"`
}

// statusTab is a filter tab of the Affiliates list with its count.
type statusTab struct {
	Status, Label string
	Count         int64
	Active        bool
	URL           string
}

// affiliatesPageSize is how many affiliates a page of the Affiliates list
// or of a program's affiliates shows.
const affiliatesPageSize = 50

// maxSearchLen bounds a search's characters (a name, an email, a code).
const maxSearchLen = 100

// affiliatesQuery is the query string of the Affiliates list and of a
// program's affiliates: ?q=&status=&after=&before=.
type affiliatesQuery struct {
	Q, Status, After, Before string
}

// bindAffiliatesQuery reads and checks the list's query string. A problem
// is said on the page (problem), and the list shows from its start.
func bindAffiliatesQuery(c echo.Context, withStatus bool) (q affiliatesQuery, problem string) {
	p := c.QueryParams()
	q = affiliatesQuery{Q: strings.TrimSpace(p.Get("q")), After: p.Get("after"), Before: p.Get("before")}
	if withStatus {
		switch s := p.Get("status"); s {
		case "", app.StatusPending, app.StatusActive, app.StatusBlocked:
			q.Status = s
		default:
			problem = "There is no such status; showing every affiliate."
		}
	}
	if utf8.RuneCountInString(q.Q) > maxSearchLen {
		q.Q, problem = "", fmt.Sprintf("Search for at most %d characters: a name, an email or a referral code.", maxSearchLen)
	}
	if q.After != "" && !app.ValidID(q.After) || q.Before != "" && !app.ValidID(q.Before) {
		q.After, q.Before, problem = "", "", "That page link is no longer valid; here is the first page."
	}
	return q, problem
}

// storeQuery is the query for one page of a program's affiliates ("" = all).
func (q affiliatesQuery) storeQuery(programID string) views.AffiliateQuery {
	return views.AffiliateQuery{Q: q.Q, Status: q.Status, ProgramID: programID, After: q.After, Before: q.Before, Limit: affiliatesPageSize}
}

// url is the list at path with this query and one more pair (a cursor).
func (q affiliatesQuery) url(path string, pairs ...string) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Q, "status": q.Status} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// affiliatePager is the Previous/Next links of a page of affiliates.
type affiliatePager struct {
	PrevURL, NextURL string
}

func newAffiliatePager(path, anchor string, q affiliatesQuery, page *views.AffiliatesPage) affiliatePager {
	var p affiliatePager
	if page.Prev != "" {
		p.PrevURL = q.url(path, "before", page.Prev) + anchor
	}
	if page.Next != "" {
		p.NextURL = q.url(path, "after", page.Next) + anchor
	}
	return p
}

type affiliatesView struct {
	Page   *views.AffiliatesPage
	Tabs   []statusTab
	Query  affiliatesQuery
	Error  string
	Pager  affiliatePager
	Next   string // this list's URL, to come back to after a quick action
	Status string
}

func (u *UI) affiliatesList(c echo.Context) error {
	q, problem := bindAffiliatesQuery(c, true)
	page, err := u.app.Views().AffiliatesPage(q.storeQuery(""))
	if err != nil {
		return err
	}
	v := affiliatesView{Page: page, Query: q, Error: problem, Status: q.Status, Next: c.Request().URL.RequestURI(),
		Pager: newAffiliatePager(c.Request().URL.Path, "", q, page)}
	for _, t := range []statusTab{{Label: "All", Count: page.Total},
		{Status: app.StatusPending, Label: "Pending"}, {Status: app.StatusActive, Label: "Active"}, {Status: app.StatusBlocked, Label: "Blocked"}} {
		if t.Status != "" {
			t.Count = page.ByStatus[t.Status]
		}
		t.Active = t.Status == q.Status
		t.URL = affiliatesQuery{Q: q.Q, Status: t.Status}.url(c.Request().URL.Path)
		v.Tabs = append(v.Tabs, t)
	}
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadRequest
	}
	return u.adminPage(c, status, "admin/affiliates", "Affiliates", "affiliates", v)
}

// suggestLimit is how many affiliates the picker offers at once.
const suggestLimit = 10

// affiliateSuggest answers the affiliate picker (embedded/static/suggest.js):
// GET /affiliates/suggest?q= → {"data":[{"id","name","email","code"}]}.
func (u *UI) affiliateSuggest(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	if utf8.RuneCountInString(q) > maxSearchLen {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "invalid_q",
			"message": fmt.Sprintf("q must be at most %d characters", maxSearchLen)})
	}
	out := []views.Suggestion{}
	if q != "" {
		var err error
		if out, err = u.app.Views().SuggestAffiliates(q, suggestLimit); err != nil {
			return err
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// findAffiliate resolves a typed affiliate field (id, email, referral code,
// or text only one affiliate matches); a friendly sentence when none does.
func (u *UI) findAffiliate(text string) (*app.Affiliate, string, error) {
	a, err := u.app.Views().FindAffiliate(text)
	if errors.Is(err, app.ErrNotFound) {
		return nil, "No affiliate matches “" + text + "”: type their email or referral code, or pick one of the suggestions.", nil
	}
	return a, "", err
}

type affiliateNewView struct {
	Form   affiliateForm
	Errors FormErrors
}

func (u *UI) affiliateNewForm(c echo.Context) error {
	return u.adminPage(c, http.StatusOK, "admin/affiliate_new", "Add affiliate", "affiliates",
		affiliateNewView{Form: affiliateForm{Status: app.StatusActive}})
}

func (u *UI) affiliateCreate(c echo.Context) error {
	var f affiliateForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	af, inviteURL, err := u.app.CreateAffiliate(f.input())
	if err != nil {
		fe, err := formErrors(err)
		if err != nil {
			return err
		}
		f.Password = ""
		return u.adminPage(c, http.StatusUnprocessableEntity, "admin/affiliate_new", "Add affiliate", "affiliates",
			affiliateNewView{Form: f, Errors: friendlyErrors(fe)})
	}
	if inviteURL != "" {
		u.keepOnce(c, onceInvite+af.ID, inviteURL)
		msg := af.Name + " added. Send them the invite link below so they can set a password."
		if u.app.MailEnabled() {
			msg = af.Name + " added. We emailed them an invite link to set a password; you can also copy it below."
		}
		u.admin.flash(c, "success", msg)
	} else {
		u.admin.flash(c, "success", af.Name+" added. Now add them to a program to give them a referral link.")
	}
	return redirectTo(c, routeAffiliate, af.ID)
}

// affiliateProgram is one program an affiliate is in.
type affiliateProgram struct {
	ProgramID, Name, Code, Coupon, Link string
}

type affiliateView struct {
	Affiliate *app.Affiliate
	// Overview is the affiliate's results of all time by program and its
	// commission balances per currency.
	Overview     *views.AffiliateOverview
	Form         affiliateForm
	Errors       FormErrors
	InviteURL    string
	Programs     []affiliateProgram
	Candidates   []*app.Program // live programs the affiliate is not in
	Enroll       enrollForm
	EnrollErrors FormErrors
}

// loadAffiliateView loads the affiliate page's data.
func (u *UI) loadAffiliateView(id string) (*affiliateView, error) {
	af, err := u.app.Affiliate(id)
	if err != nil {
		return nil, err
	}
	es, err := u.app.Views().EnrollmentsOfAffiliate(id)
	if err != nil {
		return nil, err
	}
	programs, err := u.app.Views().Programs()
	if err != nil {
		return nil, err
	}
	enrolled := make(map[string]*app.Enrollment, len(es))
	for _, e := range es {
		enrolled[e.ProgramID] = e
	}
	overview, err := u.app.Views().AffiliateOverview(id)
	if err != nil {
		return nil, err
	}
	v := &affiliateView{Affiliate: af, Overview: overview, Form: affiliateForm{Name: af.Name, Email: af.Email, Status: af.Status}}
	for _, p := range programs {
		if e := enrolled[p.ID]; e != nil {
			v.Programs = append(v.Programs, affiliateProgram{ProgramID: p.ID, Name: p.Name, Code: e.Code, Coupon: e.Coupon, Link: p.ReferralLink(e.Code)})
		} else {
			v.Candidates = append(v.Candidates, p)
		}
	}
	return v, nil
}

func (u *UI) affiliatePage(c echo.Context) error {
	v, err := u.loadAffiliateView(c.Param("id"))
	if err != nil {
		return err
	}
	v.InviteURL = u.takeOnce(c, onceInvite+v.Affiliate.ID)
	return u.adminPage(c, http.StatusOK, "admin/affiliate", v.Affiliate.Name, "affiliates", v)
}

func (u *UI) affiliateUpdate(c echo.Context) error {
	var f affiliateForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	f.Password = "" // the details form never sets one: invites do
	id := c.Param("id")
	af, err := u.app.UpdateAffiliate(id, f.input())
	if err == nil {
		u.admin.flash(c, "success", "Details saved.")
		return redirectTo(c, routeAffiliate, af.ID)
	}
	fe, err := formErrors(err)
	if err != nil {
		return err
	}
	v, err := u.loadAffiliateView(id)
	if err != nil {
		return err
	}
	v.Form, v.Errors = f, friendlyErrors(fe)
	return u.adminPage(c, http.StatusUnprocessableEntity, "admin/affiliate", v.Affiliate.Name, "affiliates", v)
}

func (u *UI) affiliateSetStatus(c echo.Context) error {
	var f statusForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	before, err := u.app.Affiliate(c.Param("id"))
	if err != nil {
		return err
	}
	af, err := u.app.UpdateAffiliate(before.ID, app.AffiliateInput{Status: &f.Status})
	if err != nil {
		return err // only a tampered status gets here: a friendly 400 page
	}
	msg := af.Name + " is now " + af.Status + "."
	switch {
	case af.Status == app.StatusActive && before.Status == app.StatusPending:
		msg = af.Name + " is approved and can start referring."
	case af.Status == app.StatusActive && before.Status == app.StatusBlocked:
		msg = af.Name + " is unblocked; their referral links track again."
	case af.Status == app.StatusBlocked:
		msg = af.Name + " is blocked: they cannot sign in and their referral links stop tracking."
	}
	u.admin.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next, pathTo(c, routeAffiliate, af.ID)))
}

func (u *UI) affiliateEnroll(c echo.Context) error {
	var f enrollForm
	if err := c.Bind(&f); err != nil {
		return err
	}
	id := c.Param("id")
	var fe FormErrors
	if strings.TrimSpace(f.ProgramID) == "" {
		fe = FormErrors{"program_id": "Choose a program."}
	} else {
		e, p, err := u.app.EnrollWithCoupon(f.ProgramID, id, f.Code, f.Coupon)
		if err == nil {
			msg := "Added to “" + p.Name + "” with referral code " + e.Code + "."
			if f.Coupon != "" {
				msg = "Coupon " + e.Coupon + " now credits “" + p.Name + "” sales to this affiliate."
			}
			u.admin.flash(c, "success", msg)
			return redirectToAnchor(c, "programs", routeAffiliate, id)
		}
		if fe, err = formErrors(err); err != nil {
			return err
		}
	}
	v, err := u.loadAffiliateView(id)
	if err != nil {
		return err
	}
	v.Enroll, v.EnrollErrors = f, friendlyErrors(fe)
	return u.adminPage(c, http.StatusUnprocessableEntity, "admin/affiliate", v.Affiliate.Name, "affiliates", v)
}

func (u *UI) affiliateInvite(c echo.Context) error {
	af, err := u.app.Affiliate(c.Param("id"))
	if err != nil {
		return err
	}
	link, err := u.app.IssueInvite(af.ID)
	if err != nil {
		return err
	}
	id := af.ID
	u.keepOnce(c, onceInvite+id, link)
	msg := "New invite link ready. Copy it below and send it to " + af.Name + "; it works for 7 days."
	if u.app.MailEnabled() {
		msg = "We emailed " + af.Name + " a new invite link (it works for 7 days); you can also copy it below."
	}
	u.admin.flash(c, "success", msg)
	return redirectToAnchor(c, "invite", routeAffiliate, id)
}

// One-time values: a fresh invite link or API key is made by a POST and
// shown once by the GET after the redirect, so reloading neither repeats
// the action nor shows the secret again. They wait in the admin session,
// whose cookie is encrypted.
const (
	onceInvite = "once:invite:"
	onceAPIKey = "once:apikey"
)

func (u *UI) keepOnce(c echo.Context, key, value string) {
	s := u.admin.get(c)
	s.Values[key] = value
	_ = u.admin.save(c, s)
}

func (u *UI) takeOnce(c echo.Context, key string) string {
	s := u.admin.get(c)
	v, ok := s.Values[key].(string)
	if !ok {
		return ""
	}
	delete(s.Values, key)
	_ = u.admin.save(c, s)
	return v
}
