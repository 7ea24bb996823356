package app

// Placeholder owned by the tracking work (issue 3).

// routesTracking registers /t/click, /t/lead and /spiffy.js.
func (s *Server) routesTracking() {}
