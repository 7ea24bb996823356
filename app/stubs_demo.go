package app

import (
	"context"
	"errors"
	"io"
)

// DemoOptions sizes the demo account.
type DemoOptions struct{ Leads, Clicks, Purchases, Affiliates int }

// DemoResult is what the demo command prints.
type DemoResult struct{ AdminEmail, AdminPassword, APIKey string }

// SeedDemo fills the store with a demo account (issue 3).
func (a *App) SeedDemo(ctx context.Context, opts DemoOptions, progress io.Writer) (*DemoResult, error) {
	return nil, errors.New("demo: not built yet")
}
