// Package ui serves the merchant admin UI and the affiliate portal:
// server-rendered pages over the app layer.
package ui

import "github.com/spiffy/spiffy/app"

// Mount registers the admin UI and portal routes on the server.
func Mount(s *app.Server) error { return nil }
