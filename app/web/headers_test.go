package web

import (
	"net/http"
	"testing"
)

// TestSharedHeaderValuesStayUnchanged: a handler adding to a header whose
// value is one of the shared slices must not write into it, or every later
// answer would carry its value.
func TestSharedHeaderValuesStayUnchanged(t *testing.T) {
	for _, shared := range [][]string{headerJSON, headerAnyOrigin, headerVaryAcceptEncoding, headerVaryOrigin} {
		want := shared[0]
		h := http.Header{"Vary": shared}
		h.Add("Vary", "Cookie")
		h.Add("Vary", "Authorization")
		if len(shared) != 1 || shared[:cap(shared)][0] != want || cap(shared) != 1 {
			t.Fatalf("shared value %q changed to %q (cap %d)", want, shared[:cap(shared)], cap(shared))
		}
		if got := h.Values("Vary"); len(got) != 3 || got[0] != want {
			t.Fatalf("Vary = %q", got)
		}
	}
}
