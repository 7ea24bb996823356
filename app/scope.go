package app

// Scope is whose data a call may see and change: the merchant's (all of
// it) or one affiliate's (its own only). The webhook and export calls take
// one, so "the merchant" is never spelled as an empty affiliate id. The
// zero Scope is nobody's and allows nothing.
type Scope struct {
	merchant    bool
	affiliateID string
}

// Merchant is the merchant's scope: every affiliate's records.
var Merchant = Scope{merchant: true}

// AffiliateScope is one affiliate's scope.
func AffiliateScope(affiliateID string) Scope { return Scope{affiliateID: affiliateID} }

// IsMerchant reports whether the scope is the merchant's.
func (s Scope) IsMerchant() bool { return s.merchant }

// AffiliateID is the scope's affiliate ("" for the merchant).
func (s Scope) AffiliateID() string { return s.affiliateID }

// Allows reports whether a record owned by affiliateID is in the scope.
func (s Scope) Allows(affiliateID string) bool {
	return s.merchant || (s.affiliateID != "" && s.affiliateID == affiliateID)
}
