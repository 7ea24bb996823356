// Package web is Spiffy's HTTP layer: the Echo server with its middleware,
// the one central error mapping (domain error kinds to statuses and the
// JSON {"error","message"} body), Prometheus metrics, the merchant JSON API
// under /api/v1, the tracking endpoints SpiffyJS calls and /spiffy.js
// itself. Package ui mounts the admin UI and the affiliate portal on the
// same server.
//
// Handlers only translate: they bind the request, make one call into
// package app, and write the answer. They never hold a rule of the product.
package web
