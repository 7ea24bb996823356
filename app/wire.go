package app

import (
	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
)

// PurchaseFields is the one wire form of a purchase's own fields, shared by
// the API (web.PurchaseJSON) and the purchase webhooks (PurchaseEventData).
// The two differ only in how they name the program and the affiliate
// around it, so each embeds this where the contract puts these fields:
// encoding/json writes an embedded struct's fields in place, in this order.
type PurchaseFields struct {
	ReferralCode string `json:"referral_code"`
	SubID        string `json:"sub_id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	Product      string `json:"product"`
	Amount       string `json:"amount"`
	Currency     string `json:"currency"`
	Commission   string `json:"commission"`
	Status       string `json:"status"`
}

// NewPurchaseFields formats a stored purchase's fields for the wire: money
// as decimal strings in its currency.
func NewPurchaseFields(p *store.Purchase) PurchaseFields {
	return PurchaseFields{
		ReferralCode: p.Code, SubID: p.SubID, Email: p.Email, Name: p.Name, Product: p.Product,
		Amount: money.Format(p.Amount, p.Currency), Currency: p.Currency,
		Commission: money.Format(p.Commission, p.Currency), Status: p.Status,
	}
}
