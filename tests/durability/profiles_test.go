package durability

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spiffy/spiffy/tests/internal/binary"
)

// debug.pprof_listen serves Go's profiles on its own loopback listener (to
// trace a measured run, docs/PERFORMANCE.md), never on the app's.
func TestProfilesOnTheirOwnListener(t *testing.T) {
	addr := binary.FreeAddr(t)
	srv := binary.Start(t, spiffyBin, t.TempDir(), "--debug-pprof-listen", addr)
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "serve") {
		t.Fatalf("profiles listener: %d %q", resp.StatusCode, body)
	}
	resp, err = http.Get(srv.Base + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the app's listener answers /debug/pprof/ with %d, want 404", resp.StatusCode)
	}
}
