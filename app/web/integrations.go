package web

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/provider"
)

// The payment providers' webhook endpoints (contract §10):
// POST /integrations/{stripe,paddle,lemonsqueezy}. The raw body is read
// whole, within maxProviderBody, before anything parses it: the signature
// covers its exact bytes.

// maxProviderBody caps a provider webhook's body. Stripe's largest events
// (an invoice with many lines) stay well below it.
const maxProviderBody = 1 << 20

// providerResponse is the answer to a handled event.
type providerResponse struct {
	Received  bool   `json:"received"`
	Outcome   string `json:"outcome"`
	Purchase  string `json:"purchase,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

func (s *Server) routesIntegrations() {
	s.addRoutes("", nil, []route{
		{http.MethodPost, "/integrations/:provider", "integrations.webhook", s.providerWebhook, nil},
	})
}

func (s *Server) providerWebhook(c echo.Context) error {
	// Sized from Content-Length (providers send it) so that a 3 KB event
	// is read into one buffer, not grown from 512 bytes.
	buf := bytes.NewBuffer(make([]byte, 0, min(max(c.Request().ContentLength, 0), maxProviderBody)+bytes.MinRead))
	_, err := buf.ReadFrom(http.MaxBytesReader(c.Response(), c.Request().Body, maxProviderBody))
	body := buf.Bytes()
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return app.Errorf(app.KindTooLarge, "payload_too_large", "body is larger than %d bytes", mbe.Limit)
	}
	if err != nil {
		return app.Invalid("body", "invalid_event", "could not read the body: %v", err)
	}
	p := c.Param("provider")
	out, err := s.App.ReceiveProviderWebhook(p, body, c.Request().Header.Get(provider.SignatureHeader(p)))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, providerResponse{Received: true, Outcome: out.Outcome, Purchase: out.PurchaseID, Duplicate: out.Duplicate})
}
