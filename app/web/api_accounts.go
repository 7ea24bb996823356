package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/views"
)

// The merchant API for programs, affiliates and enrollments, and the online
// backup stream.

// ProgramJSON is a program as the API shows it.
type ProgramJSON struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Description     string `json:"description"`
	LandingURL      string `json:"landing_url"`
	CookieDays      int    `json:"cookie_days"`
	Attribution     string `json:"attribution"`
	TrackLeads      bool   `json:"track_leads"`
	ShareLeads      bool   `json:"share_leads"`
	SharePurchasers bool   `json:"share_purchasers"`
	AutoApprove     bool   `json:"auto_approve"`
	CommissionType  string `json:"commission_type"`
	CommissionValue string `json:"commission_value"`
	Currency        string `json:"currency"`
	HoldDays        int    `json:"hold_days"`
	RecurringMonths int    `json:"recurring_months"`
	CreatedAt       string `json:"created_at"`
}

// NewProgramJSON converts a stored program for the API.
func NewProgramJSON(p *app.Program) ProgramJSON {
	return ProgramJSON{
		ID: p.ID, Name: p.Name, Description: p.Description, LandingURL: p.LandingURL, CookieDays: p.CookieDays,
		Attribution: p.Attribution, TrackLeads: p.TrackLeads, ShareLeads: p.ShareLeads, SharePurchasers: p.SharePurchasers,
		AutoApprove: p.AutoApprove, CommissionType: p.CommissionType, CommissionValue: views.CommissionValue(p),
		Currency: p.Currency, HoldDays: p.HoldDays, RecurringMonths: p.RecurringMonths, CreatedAt: app.RFC3339(p.CreatedAt),
	}
}

// AffiliateJSON is an affiliate as the API shows it.
type AffiliateJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	Status       string `json:"status"`
	PayoutMethod string `json:"payout_method"`
	PayoutEmail  string `json:"payout_email"`
	CreatedAt    string `json:"created_at"`
	InviteURL    string `json:"invite_url,omitempty"`
}

// NewAffiliateJSON converts a stored affiliate for the API.
func NewAffiliateJSON(af *app.Affiliate) AffiliateJSON {
	return AffiliateJSON{ID: af.ID, Name: af.Name, Email: af.Email, Status: af.Status,
		PayoutMethod: af.PayoutMethod, PayoutEmail: af.PayoutEmail, CreatedAt: app.RFC3339(af.CreatedAt)}
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

func (s *Server) apiListPrograms(c echo.Context) error {
	limit, cursor, err := ListParams(c)
	if err != nil {
		return err
	}
	ps, next, err := s.App.ProgramsPage(cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPage(mapSlice(ps, NewProgramJSON), next))
}

func (s *Server) apiCreateProgram(c echo.Context) error {
	var in app.ProgramInput
	if err := DecodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.App.CreateProgram(in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, NewProgramJSON(p))
}

func (s *Server) apiGetProgram(c echo.Context) error {
	p, err := s.App.Program(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewProgramJSON(p))
}

func (s *Server) apiUpdateProgram(c echo.Context) error {
	var in app.ProgramInput
	if err := DecodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.App.UpdateProgram(c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewProgramJSON(p))
}

func (s *Server) apiDeleteProgram(c echo.Context) error {
	if err := s.App.DeleteProgram(c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "deleted": true})
}

type enrollRequest struct {
	AffiliateID string `json:"affiliate_id"`
	Code        string `json:"code"`
	Coupon      string `json:"coupon"`
}

// enrollResponse is an enrolment: its referral code and link, and its
// coupon when it has one.
type enrollResponse struct {
	Code   string `json:"code"`
	Link   string `json:"link"`
	Coupon string `json:"coupon,omitempty"`
}

func (s *Server) apiEnroll(c echo.Context) error {
	var in enrollRequest
	if err := DecodeJSON(c, &in); err != nil {
		return err
	}
	if in.AffiliateID == "" {
		return app.Invalid("affiliate_id", "invalid_affiliate_id", "affiliate_id is required")
	}
	e, p, err := s.App.EnrollWithCoupon(c.Param("id"), in.AffiliateID, in.Code, in.Coupon)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, enrollResponse{Code: e.Code, Link: p.ReferralLink(e.Code), Coupon: e.Coupon})
}

func (s *Server) apiListAffiliates(c echo.Context) error {
	limit, cursor, err := ListParams(c)
	if err != nil {
		return err
	}
	as, next, err := s.App.AffiliatesPage(cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewPage(mapSlice(as, NewAffiliateJSON), next))
}

func (s *Server) apiCreateAffiliate(c echo.Context) error {
	var in app.AffiliateInput
	if err := DecodeJSON(c, &in); err != nil {
		return err
	}
	af, invite, err := s.App.CreateAffiliate(in)
	if err != nil {
		return err
	}
	out := NewAffiliateJSON(af)
	out.InviteURL = invite
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiGetAffiliate(c echo.Context) error {
	af, err := s.App.Affiliate(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewAffiliateJSON(af))
}

func (s *Server) apiUpdateAffiliate(c echo.Context) error {
	var in app.AffiliateInput
	if err := DecodeJSON(c, &in); err != nil {
		return err
	}
	af, err := s.App.UpdateAffiliate(c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewAffiliateJSON(af))
}

func (s *Server) apiInviteAffiliate(c echo.Context) error {
	url, err := s.App.IssueInvite(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"invite_url": url})
}

func (s *Server) apiBackup(c echo.Context) error {
	name := fmt.Sprintf("spiffy-%s.backup", s.App.Now().Format("20060102-150405"))
	c.Response().Header().Set(echo.HeaderContentType, "application/octet-stream")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Response().WriteHeader(http.StatusOK)
	// Headers are gone once streaming starts: a failure can only be logged
	// and the stream cut short, which the restore side detects.
	if err := s.App.Backup(c.Response()); err != nil {
		s.log.Error("backup stream failed", "err", err)
	}
	return nil
}
