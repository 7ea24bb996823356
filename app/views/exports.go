package views

import (
	"encoding/json"
	"time"

	"github.com/spiffy/spiffy/app/export"
	"github.com/spiffy/spiffy/store"
)

// ExportView is an export as pages and the API show it.
type ExportView struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Status    string     `json:"status"`
	Rows      int64      `json:"rows"`
	Total     int64      `json:"total"`
	Percent   int        `json:"percent"`
	Filter    ListFilter `json:"filter"`
	Error     string     `json:"error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	FileName  string     `json:"file_name"`
	// The names of the filter's program and affiliate ("" when not set
	// or gone), for Exports and List pages.
	ProgramName   string `json:"program_name,omitempty"`
	AffiliateName string `json:"affiliate_name,omitempty"`
}

// NewExportView is an export record as pages and the API show it; running
// says whether the runner is still writing it.
func NewExportView(x *store.Export, running bool) ExportView {
	v := ExportView{
		ID: x.ID, Kind: x.Kind, Status: x.Status, Rows: x.Rows, Total: x.Total, Error: x.Error,
		CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt, FileName: export.FileName(x),
	}
	_ = json.Unmarshal(x.Filter, &v.Filter)
	if v.Status == export.Running && !running {
		// Its process stopped before it finished (a restart or a crash).
		v.Status, v.Error = export.Failed, "interrupted by a restart; start it again"
	}
	switch {
	case v.Status == export.Done:
		v.Percent = 100
	case v.Total > 0:
		v.Percent = int(min(99, v.Rows*100/v.Total))
	}
	return v
}
