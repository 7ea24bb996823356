package provider

// The providers by name, as Spiffy's URLs and settings spell them, with
// what pages say of each.

// Provider names.
const (
	NameStripe       = "stripe"
	NamePaddle       = "paddle"
	NameLemonSqueezy = "lemonsqueezy"
)

// Names lists the providers in the order pages show them.
func Names() []string { return []string{NameStripe, NamePaddle, NameLemonSqueezy} }

// Title is a provider's name as people write it.
func Title(name string) string {
	switch name {
	case NameStripe:
		return "Stripe"
	case NamePaddle:
		return "Paddle"
	case NameLemonSqueezy:
		return "Lemon Squeezy"
	}
	return name
}

// SignatureHeader is the request header carrying a provider's signature.
func SignatureHeader(name string) string {
	switch name {
	case NameStripe:
		return "Stripe-Signature"
	case NamePaddle:
		return "Paddle-Signature"
	}
	return "X-Signature"
}

// Verifier is the named provider's entry point (Stripe, Paddle or
// LemonSqueezy); ok is false for a name that is none of them.
func Verifier(name string) (verify func(body []byte, signatureHeader, secret string) (*Event, error), ok bool) {
	switch name {
	case NameStripe:
		return Stripe, true
	case NamePaddle:
		return Paddle, true
	case NameLemonSqueezy:
		return LemonSqueezy, true
	}
	return nil, false
}
