// Package embedded holds the files built into the binary: HTML templates,
// CSS, small scripts, SpiffyJS and the API reference. It has no code beyond this declaration.
package embedded

import "embed"

// FS holds templates/, static/, mail/ (the emails' templates) and
// spiffy.js (the tracking script).
//
//go:embed templates static spiffy.js mail
var FS embed.FS

// OpenAPI is the API reference (OpenAPI 3.1, YAML), which app/web serves
// as JSON at /api/v1/openapi.json.
//
//go:embed openapi.yaml
var OpenAPI []byte
