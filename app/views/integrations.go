package views

import (
	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/store"
)

// Where a provider's signing secret comes from.
const (
	SecretFromConfig   = "config"
	SecretFromSettings = "settings"
)

// IntegrationView is one provider as Settings → Integrations shows it.
type IntegrationView struct {
	Provider, Title, EndpointURL string
	SignatureHeader              string
	SecretSource                 string // SecretFromConfig, SecretFromSettings or ""
	Events                       []*store.ProviderEvent
	Refused                      []provider.Refusal
}

// ReadIntegrations returns every provider with its endpoint under baseURL,
// where its secret comes from (inConfig says whether the config sets it),
// its last events handled and those refused.
func ReadIntegrations(tx *store.Tx, baseURL string, inConfig func(p string) bool, refused func(p string) []provider.Refusal) ([]IntegrationView, error) {
	var out []IntegrationView
	for _, p := range provider.Names() {
		v := IntegrationView{Provider: p, Title: provider.Title(p), EndpointURL: baseURL + "/integrations/" + p,
			SignatureHeader: provider.SignatureHeader(p), Refused: refused(p)}
		if inConfig(p) {
			v.SecretSource = SecretFromConfig
		} else if s, err := tx.IntegrationSecret(p); err != nil {
			return nil, err
		} else if s != "" {
			v.SecretSource = SecretFromSettings
		}
		var err error
		if v.Events, err = tx.ProviderEvents(p, 20); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
