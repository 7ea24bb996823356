package app

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/spiffy/spiffy/app/check"
	"github.com/spiffy/spiffy/app/event"
	"github.com/spiffy/spiffy/store"
)

// Erasure (the right to be forgotten): POST /api/v1/erase {"email"} removes
// a person's email and name (and the IP address, browser and visitor id kept
// with them) from leads and purchases, from webhook payloads still queued or
// kept in the delivery log, and from CSV export files on disk; the clicks of
// their visitor ids and referrals lose IP, browser and visitor id (so
// nothing links them to the person again, store.Click.Forget). Counts, amounts,
// commissions and attribution stay, so the affiliate's earnings and the
// merchant's reports do not change. Erasing twice is harmless: the second
// time finds nothing.

// EraseResult says what an erasure touched. Erased is the number of stored
// records changed (leads + purchases + webhook messages + clicks).
type EraseResult struct {
	Erased          int `json:"erased"`
	Leads           int `json:"leads"`
	Purchases       int `json:"purchases"`
	WebhookMessages int `json:"webhook_messages"`
	Clicks          int `json:"clicks"`
	ExportFiles     int `json:"export_files"` // files rewritten
	ExportRows      int `json:"export_rows"`  // rows removed from them
}

// eraseChunk bounds the records changed per write, far below Badger's
// transaction limit; a person rarely has more than a handful anyway.
const eraseChunk = 200

// Erase removes a person's PII everywhere Spiffy keeps it.
func (a *App) Erase(ctx context.Context, email string) (*EraseResult, error) {
	email = strings.TrimSpace(email)
	if err := check.Email("email", email); err != nil {
		return nil, err
	}
	norm := store.NormEmail(email)
	res := &EraseResult{}
	// done guards the loop: each pass handles what the email indexes still
	// list, and a record handled once must not be found (or counted) again.
	done := map[string]bool{}
	var trail store.ClickTrail // the clicks that lead to the person
	for {
		var leads []*store.Lead
		var purchases []*store.Purchase
		var msgIDs []string
		err := a.db.View(func(tx *store.Tx) error {
			var err error
			if leads, _, err = tx.Leads(store.LeadQuery{Email: norm, Limit: eraseChunk}); err != nil {
				return err
			}
			if purchases, _, err = tx.Purchases(store.PurchaseQuery{Email: norm, Limit: eraseChunk}); err != nil {
				return err
			}
			if msgIDs, err = tx.WebhookMessageIDsByEmail(norm); err != nil {
				return err
			}
			if len(msgIDs) > eraseChunk {
				msgIDs = msgIDs[:eraseChunk]
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		leads = slices.DeleteFunc(leads, func(l *store.Lead) bool { return done[l.ID] })
		purchases = slices.DeleteFunc(purchases, func(p *store.Purchase) bool { return done[p.ID] })
		msgIDs = slices.DeleteFunc(msgIDs, func(id string) bool { return done[id] })
		if len(leads)+len(purchases)+len(msgIDs) == 0 {
			break
		}
		var nl, np, nm int
		err = a.db.Update(func(tx *store.Tx) error {
			nl, np, nm = 0, 0, 0
			for _, l := range leads {
				cur, err := tx.Lead(l.ID)
				if err != nil {
					return err
				}
				if store.NormEmail(cur.Email) != norm {
					continue // changed since the read
				}
				cur.Forget()
				if err := tx.UpdateLead(cur); err != nil {
					return err
				}
				nl++
			}
			for _, p := range purchases {
				cur, err := tx.Purchase(p.ID)
				if err != nil {
					return err
				}
				if store.NormEmail(cur.Email) != norm {
					continue
				}
				cur.Forget()
				if err := tx.UpdatePurchase(cur); err != nil {
					return err
				}
				np++
			}
			for _, id := range msgIDs {
				m, err := tx.WebhookMessage(id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if m.Payload, err = event.Scrub(m.Payload); err != nil {
					return err
				}
				m.Email = ""
				if err := tx.PutWebhookMessage(m); err != nil {
					return err
				}
				nm++
			}
			// Queued copies in the dispatcher still hold the old payload.
			a.webhooks.InvalidateAfterCommit(tx, msgIDs)
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, l := range leads {
			done[l.ID] = true
			trail.AddLead(l)
		}
		for _, p := range purchases {
			done[p.ID] = true
			trail.AddPurchase(p)
		}
		for _, id := range msgIDs {
			done[id] = true
		}
		if nl+np+nm == 0 {
			break // everything found was changed by someone else meanwhile
		}
		res.Leads += nl
		res.Purchases += np
		res.WebhookMessages += nm
	}
	var err error
	if res.Clicks, err = a.db.ForgetClicks(ctx, &trail); err != nil {
		return nil, err
	}
	res.Erased = res.Leads + res.Purchases + res.WebhookMessages + res.Clicks
	files, rows, err := a.exports.EraseEmail(ctx, norm)
	res.ExportFiles, res.ExportRows = files, rows
	if err != nil {
		return res, err
	}
	a.log.Info("erased a person's data", "records", res.Erased, "export_rows", rows)
	return res, nil
}
