// Package embedded holds the files built into the binary: HTML templates,
// CSS, small scripts and SpiffyJS. It has no code beyond this declaration.
package embedded

import "embed"

// FS holds templates/, static/, mail/ (the emails' templates) and
// spiffy.js (the tracking script).
//
//go:embed templates static spiffy.js mail
var FS embed.FS
