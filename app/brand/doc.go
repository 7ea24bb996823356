// Package brand owns the program owner's brand (Settings → Brand): checking
// what the form sends (name, accent colour, terms URL, support email, a
// logo whose type is sniffed, never trusted), keeping it in the store, and
// what pages and mail need from it: the name to show, the logo's URL, and
// accent colours that keep text readable (WCAG contrast ≥ 4.5:1).
//
// Logos are PNG, JPEG or GIF. SVG is refused: an SVG is a document that
// can carry scripts and external references, and most mail clients
// (Gmail, Outlook) do not show it anyway, so the one logo could not serve
// both the pages and the mail.
package brand
