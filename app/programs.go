package app

import (
	"strings"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
)

// Program settings and their defaults.
const (
	DefaultCookieDays = 30
	DefaultHoldDays   = 30
	AttributionLast   = "last_click"
	AttributionFirst  = "first_click"
	CommissionPercent = "percent"
	CommissionFlat    = "flat"
)

// ProgramInput carries the fields of a create or a partial update (PATCH):
// nil means "not given".
type ProgramInput struct {
	Name            *string `json:"name" form:"name"`
	Description     *string `json:"description" form:"description"`
	LandingURL      *string `json:"landing_url" form:"landing_url"`
	CookieDays      *int    `json:"cookie_days" form:"cookie_days"`
	Attribution     *string `json:"attribution" form:"attribution"`
	TrackLeads      *bool   `json:"track_leads" form:"track_leads"`
	ShareLeads      *bool   `json:"share_leads" form:"share_leads"`
	SharePurchasers *bool   `json:"share_purchasers" form:"share_purchasers"`
	AutoApprove     *bool   `json:"auto_approve" form:"auto_approve"`
	CommissionType  *string `json:"commission_type" form:"commission_type"`
	CommissionValue *string `json:"commission_value" form:"commission_value"`
	Currency        *string `json:"currency" form:"currency"`
	HoldDays        *int    `json:"hold_days" form:"hold_days"`
	RecurringMonths *int    `json:"recurring_months" form:"recurring_months"`
}

// Apply validates in and writes it over p. Creating passes a zero Program
// with defaults filled in; a missing required field is reported then.
func (in *ProgramInput) Apply(p *store.Program) error {
	if in.Name != nil {
		p.Name = strings.TrimSpace(*in.Name)
	}
	if err := check.Text("name", p.Name, true, 100); err != nil {
		return err
	}
	if in.Description != nil {
		p.Description = strings.TrimSpace(*in.Description)
		if len(p.Description) > 2000 {
			return Invalid("description", "invalid_description", "description must be at most 2000 characters")
		}
	}
	if in.LandingURL != nil {
		p.LandingURL = strings.TrimSpace(*in.LandingURL)
	}
	if err := check.HTTPURL("landing_url", p.LandingURL); err != nil {
		return err
	}
	if in.CookieDays != nil {
		if *in.CookieDays < 1 || *in.CookieDays > 365 {
			return Invalid("cookie_days", "invalid_cookie_days", "cookie_days must be between 1 and 365")
		}
		p.CookieDays = *in.CookieDays
	}
	if in.Attribution != nil {
		if *in.Attribution != AttributionLast && *in.Attribution != AttributionFirst {
			return Invalid("attribution", "invalid_attribution", "attribution must be last_click or first_click")
		}
		p.Attribution = *in.Attribution
	}
	for _, b := range []struct {
		in  *bool
		dst *bool
	}{{in.TrackLeads, &p.TrackLeads}, {in.ShareLeads, &p.ShareLeads}, {in.SharePurchasers, &p.SharePurchasers}, {in.AutoApprove, &p.AutoApprove}} {
		if b.in != nil {
			*b.dst = *b.in
		}
	}
	if in.Currency != nil {
		cur := strings.ToUpper(strings.TrimSpace(*in.Currency))
		if err := validateCurrency("currency", cur); err != nil {
			return err
		}
		p.Currency = cur
	}
	if in.HoldDays != nil {
		if *in.HoldDays < 0 || *in.HoldDays > 365 {
			return Invalid("hold_days", "invalid_hold_days", "hold_days must be between 0 and 365")
		}
		p.HoldDays = *in.HoldDays
	}
	if in.RecurringMonths != nil {
		if *in.RecurringMonths < 0 || *in.RecurringMonths > 1200 {
			return Invalid("recurring_months", "invalid_recurring_months", "recurring_months must be between 0 and 1200")
		}
		p.RecurringMonths = *in.RecurringMonths
	}
	typeChanged := false
	if in.CommissionType != nil {
		if *in.CommissionType != CommissionPercent && *in.CommissionType != CommissionFlat {
			return Invalid("commission_type", "invalid_commission_type", "commission_type must be percent or flat")
		}
		typeChanged = p.CommissionType != *in.CommissionType
		p.CommissionType = *in.CommissionType
	}
	if in.CommissionValue == nil && typeChanged {
		return Invalid("commission_value", "invalid_commission_value", "commission_value is required when commission_type changes")
	}
	if in.CommissionValue != nil {
		var err error
		if p.CommissionType == CommissionFlat {
			p.CommissionValue, err = ParseMoney("commission_value", *in.CommissionValue, p.Currency)
		} else {
			p.CommissionValue, err = ParsePercent("commission_value", *in.CommissionValue)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// CreateProgram validates and stores a new program.
func (a *App) CreateProgram(in ProgramInput) (*store.Program, error) {
	now := a.Now()
	p := &store.Program{
		ID:             store.NewID(now),
		CookieDays:     DefaultCookieDays,
		HoldDays:       DefaultHoldDays,
		Attribution:    AttributionLast,
		CommissionType: CommissionPercent,
		Currency:       "USD",
		CreatedAt:      now,
	}
	if in.CommissionType != nil && in.CommissionValue == nil {
		return nil, Invalid("commission_value", "invalid_commission_value", "commission_value is required with commission_type")
	}
	if in.Name == nil {
		return nil, Invalid("name", "invalid_name", "name is required")
	}
	if in.LandingURL == nil {
		return nil, Invalid("landing_url", "invalid_landing_url", "landing_url is required")
	}
	// Currency first, so a flat commission is parsed in the right minor unit.
	if in.Currency != nil {
		cur := strings.ToUpper(strings.TrimSpace(*in.Currency))
		if err := validateCurrency("currency", cur); err != nil {
			return nil, err
		}
		p.Currency = cur
	}
	if in.CommissionType != nil {
		p.CommissionType = *in.CommissionType
		if p.CommissionType != CommissionPercent && p.CommissionType != CommissionFlat {
			return nil, Invalid("commission_type", "invalid_commission_type", "commission_type must be percent or flat")
		}
		in.CommissionType = nil
	}
	if err := in.Apply(p); err != nil {
		return nil, err
	}
	if err := a.db.Update(func(tx *store.Tx) error { return tx.PutProgram(p) }); err != nil {
		return nil, err
	}
	return p, nil
}

// Program returns a live (not deleted) program.
func (a *App) Program(id string) (*store.Program, error) {
	return store.Read(a.db, func(tx *store.Tx) (*store.Program, error) { return liveProgram(tx, id) })
}

func liveProgram(tx *store.Tx, id string) (*store.Program, error) {
	if !store.ValidID(id) {
		return nil, NotFound("program_not_found", "program not found")
	}
	p, err := tx.Program(id)
	if err != nil {
		return nil, notFoundAs(err, "program_not_found", "program")
	}
	if p.DeletedAt != nil {
		return nil, NotFound("program_not_found", "program not found")
	}
	return p, nil
}

// ProgramsPage lists live programs for the API's cursor pagination.
func (a *App) ProgramsPage(cursor string, limit int) ([]*store.Program, string, error) {
	if cursor != "" && !store.ValidID(cursor) {
		return nil, "", Invalid("cursor", "invalid_cursor", "cursor is not valid")
	}
	return a.Views().ProgramsPage(cursor, limit)
}

// UpdateProgram applies a partial update to a live program.
func (a *App) UpdateProgram(id string, in ProgramInput) (*store.Program, error) {
	var p *store.Program
	err := a.db.Update(func(tx *store.Tx) error {
		var err error
		if p, err = liveProgram(tx, id); err != nil {
			return err
		}
		if err := in.Apply(p); err != nil {
			return err
		}
		return tx.PutProgram(p)
	})
	return p, err
}

// DeleteProgram marks a program deleted: its codes stop tracking and it
// leaves every list, while its leads and purchases keep their history.
func (a *App) DeleteProgram(id string) error {
	return a.db.Update(func(tx *store.Tx) error {
		p, err := liveProgram(tx, id)
		if err != nil {
			return err
		}
		t := a.Now()
		p.DeletedAt = &t
		return tx.PutProgram(p)
	})
}

// CommissionFor computes a purchase's commission in the purchase currency:
// percent of the amount, or the flat value (the program's currency must then
// match the purchase's; otherwise ok is false and the commission is 0).
func CommissionFor(p *store.Program, amount int64, currency string) (commission int64, ok bool) {
	if p.CommissionType == CommissionFlat {
		if currency != p.Currency {
			return 0, false
		}
		return p.CommissionValue, true
	}
	return money.PercentOf(amount, p.CommissionValue), true
}
