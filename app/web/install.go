package web

import (
	"html"
	"strings"
)

// queueStub defines window.spiffy before the script has loaded, keeping the
// calls in spiffy.q; SpiffyJS replays them once it runs.
const queueStub = `<script>window.spiffy=window.spiffy||function(){(window.spiffy.q=window.spiffy.q||[]).push(arguments)};</script>`

// InstallCode is the snippet merchants paste into every page of their site
// (shown at the bottom of Settings): the async SpiffyJS tag for baseURL and
// the one-line queue stub, so spiffy(...) calls made before the script
// loads are kept and replayed.
func InstallCode(baseURL string) string {
	src := html.EscapeString(strings.TrimRight(baseURL, "/") + "/spiffy.js")
	return `<script src="` + src + `" async></script>` + "\n" + queueStub
}
