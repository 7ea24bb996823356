package app

import (
	"errors"
	"strings"
	"time"

	"github.com/spiffy/spiffy/app/provider"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// Payment providers (contract §10): sales, renewals and refunds arrive as
// the provider's signed webhooks. Package provider verifies and reads
// them; the rules here attribute and store them. Every event is handled in
// one write with its record (idempotency by the provider's event id), so a
// 200 means the purchase and its commission are on disk, and the same
// event again changes nothing.

// IntegrationSecret returns a provider's webhook signing secret and where
// it comes from: the config (which wins) or Settings; "" when neither.
func (a *App) IntegrationSecret(p string) (secret, source string, err error) {
	if s := a.cfg.WebhookSecret(p); s != "" {
		return s, views.SecretFromConfig, nil
	}
	secret, err = store.Read(a.db, func(tx *store.Tx) (string, error) { return tx.IntegrationSecret(p) })
	if secret == "" {
		return "", "", err
	}
	return secret, views.SecretFromSettings, err
}

// SetIntegrationSecret keeps a provider's signing secret pasted in
// Settings ("" removes it). A secret set in the config cannot be changed
// here.
func (a *App) SetIntegrationSecret(p, secret string) error {
	if _, ok := provider.Verifier(p); !ok {
		return NotFound("integration_not_found", "no integration %q", p)
	}
	if a.cfg.WebhookSecret(p) != "" {
		return Errorf(KindConflict, "secret_in_config", "the %s secret is set in the config; change it there", provider.Title(p))
	}
	secret = strings.TrimSpace(secret)
	if len(secret) > 256 || strings.ContainsAny(secret, " \t\r\n") {
		return Invalid("secret", "invalid_secret", "paste the signing secret exactly as the provider shows it")
	}
	return a.db.Update(func(tx *store.Tx) error { tx.SetIntegrationSecret(p, secret); return nil })
}

// ProviderOutcome is what came of one provider webhook.
type ProviderOutcome struct {
	Outcome    string // in a few words, as the Integrations page shows it
	PurchaseID string // the purchase created or refunded, if any
	Duplicate  bool   // the same event was handled before
}

// ReceiveProviderWebhook verifies one provider webhook (the raw body and
// its signature header) and handles it. No secret → 404
// integration_not_configured; a bad signature → 400 invalid_signature and
// nothing read or stored.
func (a *App) ReceiveProviderWebhook(p string, body []byte, signature string) (*ProviderOutcome, error) {
	verify, ok := provider.Verifier(p)
	if !ok {
		return nil, NotFound("integration_not_found", "no integration %q", p)
	}
	secret, _, err := a.IntegrationSecret(p)
	if err != nil {
		return nil, err
	}
	if secret == "" {
		return nil, NotFound("integration_not_configured", "%s is not connected: set its webhook signing secret in Settings → Integrations", provider.Title(p))
	}
	ev, err := verify(body, signature, secret)
	switch {
	case errors.Is(err, provider.ErrInvalidSignature):
		a.refused.Add(p, a.Now(), "invalid signature")
		return nil, Invalid("signature", "invalid_signature", "the %s header is missing, wrong or older than 5 minutes", provider.SignatureHeader(p))
	case err != nil:
		a.refused.Add(p, a.Now(), "unreadable event: "+err.Error())
		return nil, Invalid("body", "invalid_event", "%v", err)
	}
	// Before the single writer, in a snapshot: a retry of an event handled
	// before is answered at once; a sale's referral (a click: never
	// changed once written) is read, and the accounts it points to are
	// brought into the account cache, which the writer then reads instead
	// of decoding them (providerMatch).
	rev := a.db.AccountsRevision()
	var (
		seen  bool
		click *store.Click
	)
	err = a.db.View(func(tx *store.Tx) error {
		var err error
		if seen, err = tx.ProviderEventSeen(p, ev.ID); err != nil || seen {
			return err
		}
		if ev.Sale != nil && store.ValidID(ev.Sale.Referral) {
			click, err = tx.Click(ev.Sale.Referral)
			if err == nil {
				_, err = a.accounts.Reader(tx, rev).Code(click.Code)
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if seen {
		return &ProviderOutcome{Duplicate: true, Outcome: "already handled"}, nil
	}
	if ev.Kind == provider.KindRefund {
		// A refund changes approved or paid money.
		a.money.Lock()
		defer a.money.Unlock()
	}
	out := &ProviderOutcome{}
	err = a.db.Update(func(tx *store.Tx) error {
		// The same event handled since the snapshot above fails the
		// event's unique key at the end (ErrDuplicate, below), which
		// undoes whatever this run did.
		*out = ProviderOutcome{}
		if err := a.handleProviderEvent(tx, p, ev, click, out); err != nil {
			return err
		}
		now := a.Now()
		return tx.InsertProviderEvent(&store.ProviderEvent{ID: store.NewID(now), Provider: p, EventID: ev.ID, Type: ev.Type,
			Outcome: out.Outcome, PurchaseID: out.PurchaseID, ReceivedAt: now})
	})
	if errors.Is(err, store.ErrDuplicate) {
		// The same event raced in twice; the first one's write won.
		return &ProviderOutcome{Duplicate: true, Outcome: "already handled"}, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// handleProviderEvent handles a verified event in the writer; click is the
// sale's referral when it was read beforehand (nil: not read, or none).
func (a *App) handleProviderEvent(tx *store.Tx, p string, ev *provider.Event, click *store.Click, out *ProviderOutcome) error {
	switch ev.Kind {
	case provider.KindSale, provider.KindRenewal:
		return a.providerSale(tx, p, ev, click, out)
	case provider.KindRefund:
		return a.providerRefund(tx, p, ev.Refund, out)
	case provider.KindPaymentLink:
		// Which payment intent paid which invoice (order): a later refund
		// names only the payment intent.
		tx.LinkProviderPurchase(p, store.LinkPaymentIntent, ev.Link.PaymentIntentID, ev.Link.InvoiceID)
		out.Outcome = provider.OutcomeLinked
		return nil
	}
	out.Outcome = provider.OutcomeIgnored
	return nil
}

// providerSale records a sale or renewal: attributed as the contract says
// (providerMatch), or not stored at all.
func (a *App) providerSale(tx *store.Tx, p string, ev *provider.Event, click *store.Click, out *ProviderOutcome) error {
	s := ev.Sale
	at := s.At
	if at.IsZero() {
		at = ev.At
	}
	if at.IsZero() {
		at = a.Now()
	}
	at = at.UTC()
	if s.PaymentIntentID != "" && s.PaymentIntentID != s.OrderID {
		// (A payment intent that is the order itself, a one-time
		// Checkout's, needs no link: a refund naming it finds the order.)
		tx.LinkProviderPurchase(p, store.LinkPaymentIntent, s.PaymentIntentID, s.OrderID)
	}
	// The same order again (Stripe sends a subscription's first payment as
	// both checkout.session.completed and invoice.paid).
	if id, err := tx.ProviderPurchase(p, store.LinkOrder, s.OrderID); err == nil {
		out.Outcome, out.PurchaseID = provider.OutcomeKnownOrder, id
		pur, err := tx.Purchase(id)
		if err != nil {
			return err
		}
		return a.rememberCustomer(tx, p, s, pur)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	m, prg, err := a.providerMatch(tx, p, ev.Kind == provider.KindRenewal, s, click, at)
	if err != nil {
		return err
	}
	if m == nil {
		out.Outcome = provider.OutcomeUnattributed
		return nil
	}
	if _, err := tx.PurchaseByOrder(prg.ID, s.OrderID); err == nil {
		// An order id the API recorded already in this program.
		out.Outcome = provider.OutcomeKnownOrder
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	now := a.Now()
	pur := &store.Purchase{
		ID: store.NewID(now), OrderID: s.OrderID, ProgramID: prg.ID, Email: s.Email, Name: s.Name, Product: s.Product,
		Amount: s.Amount, Currency: s.Currency, Status: PurchasePaid, Kind: PurchaseSale, PurchasedAt: at, CreatedAt: now,
	}
	out.Outcome = provider.OutcomeSale
	if ev.Kind == provider.KindRenewal {
		pur.Kind, out.Outcome = PurchaseRenewal, provider.OutcomeRenewal
	}
	var lead *store.Lead
	if s.Email != "" {
		if lead, err = tx.LeadByEmail(prg.ID, s.Email); errors.Is(err, store.ErrNotFound) {
			lead, err = nil, nil
		}
		if err != nil {
			return err
		}
	}
	if err := a.recordPurchase(tx, prg, pur, m, lead); err != nil {
		return err
	}
	tx.LinkProviderPurchase(p, store.LinkOrder, s.OrderID, pur.ID)
	out.PurchaseID = pur.ID
	if pur.AffiliateID == "" {
		return nil // a self-referral: no customer to remember
	}
	return a.rememberCustomer(tx, p, s, pur)
}

// rememberCustomer keeps the attribution of a customer's (and its
// subscription's) first attributed sale, so renewals and refunds map to it
// without calling the provider. A link already kept stays as it is. A new
// link for the same affiliate in the same program (a Lemon Squeezy
// subscription first seen on its first renewal, a customer's second
// subscription) keeps the earliest first sale it knows of: recurring_months
// count from the affiliate's first sale to the customer, and a renewal
// must not start them again.
func (a *App) rememberCustomer(tx *store.Tx, p string, s *provider.Sale, pur *store.Purchase) error {
	if pur.AffiliateID == "" || s.CustomerID == "" && s.SubscriptionID == "" {
		return nil
	}
	attr := &store.ProviderAttribution{ProgramID: pur.ProgramID, AffiliateID: pur.AffiliateID, ReferralID: pur.ReferralID,
		Code: pur.Code, SubID: pur.SubID, FirstSaleAt: pur.PurchasedAt}
	type link struct{ kind, id string }
	var missing []link
	for _, l := range []link{{store.LinkCustomer, s.CustomerID}, {store.LinkSubscription, s.SubscriptionID}} {
		if l.id == "" {
			continue
		}
		kept, err := tx.ProviderAttribution(p, l.kind, l.id)
		if errors.Is(err, store.ErrNotFound) {
			missing = append(missing, l)
			continue
		}
		if err != nil {
			return err
		}
		if kept.ProgramID == attr.ProgramID && kept.AffiliateID == attr.AffiliateID && kept.FirstSaleAt.Before(attr.FirstSaleAt) {
			attr.FirstSaleAt = kept.FirstSaleAt
		}
	}
	for _, l := range missing {
		if err := tx.PutProviderAttribution(p, l.kind, l.id, attr); err != nil {
			return err
		}
	}
	return nil
}

// providerMatch attributes a provider's sale, first match wins:
//  1. the referral it carried: a click, its program, within its window at
//     the sale's time;
//  2. a coupon or promotion code of an enrolment (no window);
//  3. the customer's (or subscription's) earlier attributed sale, within
//     its program's recurring_months of that first sale;
//  4. the newest lead with the buyer's email, in any program, within that
//     program's cookie window.
//
// A renewal is attributed by 3 only: a coupon that keeps applying, or an
// old lead, must not stretch the recurring period. click is the referral's
// click when the caller read it already.
func (a *App) providerMatch(tx *store.Tx, p string, renewal bool, s *provider.Sale, click *store.Click, at time.Time) (*match, *store.Program, error) {
	accounts := a.accounts.Writer(tx, a.db.AccountsRevision())
	// activeIn: the program, if it is not deleted, and the affiliate, if
	// it is active and still enrolled in it under code ("" when not known).
	activeIn := func(prgID, affID, code string) (*store.Program, *store.Affiliate, error) {
		if prg, af, ok := accounts.Tracking(code, prgID, affID); ok {
			return prg, af, nil
		}
		prg, err := accounts.Program(prgID)
		if errors.Is(err, store.ErrNotFound) || err == nil && prg.DeletedAt != nil {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		af, err := accounts.Affiliate(affID)
		if errors.Is(err, store.ErrNotFound) || err == nil && !attributable(af) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.Enrollment(prgID, affID); err != nil {
			return nil, nil, nil // no longer in the program
		}
		return prg, af, nil
	}
	if !renewal {
		// 1. The referral.
		if store.ValidID(s.Referral) {
			c, err := click, error(nil)
			if c == nil || c.ID != s.Referral {
				c, err = tx.Click(s.Referral)
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, nil, err
			}
			if err == nil {
				prg, af, err := activeIn(c.ProgramID, c.AffiliateID, c.Code)
				if err != nil {
					return nil, nil, err
				}
				if af != nil && inWindow(prg, c, at) {
					return &match{affiliate: af, referralID: c.ID, code: c.Code, subID: c.SubID}, prg, nil
				}
			}
		}
		// 2. A coupon.
		for _, code := range s.Coupons {
			e, err := tx.EnrollmentByCoupon(code)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			prg, af, err := activeIn(e.ProgramID, e.AffiliateID, e.Code)
			if err != nil {
				return nil, nil, err
			}
			if af != nil {
				return &match{affiliate: af, code: e.Code}, prg, nil
			}
		}
	}
	// 3. The customer's first attributed sale.
	for _, link := range []struct{ kind, id string }{{store.LinkSubscription, s.SubscriptionID}, {store.LinkCustomer, s.CustomerID}} {
		if link.id == "" {
			continue
		}
		attr, err := tx.ProviderAttribution(p, link.kind, link.id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		prg, af, err := activeIn(attr.ProgramID, attr.AffiliateID, attr.Code)
		if err != nil {
			return nil, nil, err
		}
		if af != nil && prg.RecurringMonths > 0 && at.Before(attr.FirstSaleAt.AddDate(0, prg.RecurringMonths, 0)) {
			return &match{affiliate: af, referralID: attr.ReferralID, code: attr.Code, subID: attr.SubID}, prg, nil
		}
		break // the first sale's attribution decides, in or out of its period
	}
	if renewal || s.Email == "" {
		return nil, nil, nil
	}
	// 4. The newest lead with the buyer's email, within its program's window.
	var found *match
	var foundPrg *store.Program
	err := tx.LeadsByEmail(s.Email, func(l *store.Lead) (bool, error) {
		if l.AffiliateID == "" || l.CreatedAt.After(at) {
			return true, nil
		}
		prg, af, err := activeIn(l.ProgramID, l.AffiliateID, l.Code)
		if err != nil || af == nil {
			return err == nil, err
		}
		if at.After(l.CreatedAt.AddDate(0, 0, prg.CookieDays)) {
			return true, nil
		}
		found, foundPrg = &match{affiliate: af, referralID: l.ReferralID, code: l.Code, subID: l.SubID}, prg
		return false, nil
	})
	return found, foundPrg, err
}

// providerRefund refunds a recorded purchase: Stripe and Lemon Squeezy
// send the total refunded so far (refund up to it), Paddle each refund
// once (by its id).
func (a *App) providerRefund(tx *store.Tx, p string, r *provider.Refund, out *ProviderOutcome) error {
	order := r.OrderID
	if order == "" && r.PaymentIntentID != "" {
		// The payment intent names the order: the invoice it paid, or a
		// one-time checkout's own payment intent.
		if o, err := tx.ProviderPurchase(p, store.LinkPaymentIntent, r.PaymentIntentID); err == nil {
			order = o
		} else if errors.Is(err, store.ErrNotFound) {
			order = r.PaymentIntentID
		} else {
			return err
		}
	}
	id, err := tx.ProviderPurchase(p, store.LinkOrder, order)
	if errors.Is(err, store.ErrNotFound) {
		out.Outcome = provider.OutcomeNoPurchase
		return nil
	}
	if err != nil {
		return err
	}
	pur, err := tx.Purchase(id)
	if err != nil {
		return err
	}
	out.PurchaseID = pur.ID
	amount := r.Amount
	if r.Cumulative {
		amount = r.Amount - pur.RefundedAmount
	} else if r.ID != "" {
		if _, err := tx.ProviderPurchase(p, store.LinkRefund, r.ID); err == nil {
			out.Outcome = provider.OutcomeNothingNew
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		tx.LinkProviderPurchase(p, store.LinkRefund, r.ID, pur.ID)
	}
	amount = min(amount, pur.Amount-pur.RefundedAmount)
	if amount <= 0 {
		out.Outcome = provider.OutcomeNothingNew
		return nil
	}
	out.Outcome = provider.OutcomeRefund
	return a.refund(tx, pur, amount)
}

// Integrations returns every provider as Settings → Integrations shows it.
func (a *App) Integrations() ([]views.IntegrationView, error) {
	inConfig := func(p string) bool { return a.cfg.WebhookSecret(p) != "" }
	return store.Read(a.db, func(tx *store.Tx) ([]views.IntegrationView, error) {
		return views.ReadIntegrations(tx, a.cfg.BaseURL, inConfig, a.refused.List)
	})
}
