package web_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/config"
)

var storeSizeRe = regexp.MustCompile(`(?m)^(spiffy_store_(?:lsm|vlog)_bytes) (\S+)$`)

// /metrics reports the store's size on disk, which Badger itself (its
// metrics off) reported as 0: a store written to and reopened (its
// memtable flushed into a table) has tables and a value log (programs
// with 2,000-character descriptions pass the 1 KB value threshold).
func TestMetricsReportTheStoreSize(t *testing.T) {
	dir := t.TempDir()
	inDir := func(c *config.Config) { c.DataDir = dir }
	t.Run("write", func(t *testing.T) {
		env := apptest.New(t, inDir)
		for range 50 {
			env.Program("Long", func(in *app.ProgramInput) { in.Description = apptest.Ptr(strings.Repeat("Great shoes. ", 150)) })
		}
	}) // the store is closed here
	env := apptest.New(t, inDir)
	rec := env.Request(http.MethodGet, "/metrics", nil)
	apptest.Expect(t, rec, http.StatusOK)
	got := map[string]float64{}
	for _, m := range storeSizeRe.FindAllStringSubmatch(rec.Body.String(), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("%s %q: %v", m[1], m[2], err)
		}
		got[m[1]] = v
	}
	if got["spiffy_store_lsm_bytes"] <= 0 || got["spiffy_store_vlog_bytes"] < 50*1950 {
		t.Fatalf("store sizes %v, want tables and the 50 programs' values:\n%s", got, rec.Body)
	}
}
