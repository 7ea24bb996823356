package export

import (
	"io"
	"net/url"
	"strconv"

	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
)

// Payout files (contract §9): the generic CSV, PayPal's Payouts web upload
// and Wise's batch payment by email. PayPal's has no header row; each of
// the two providers' files carries only the items paid by that provider.

// Payout file formats.
const (
	PayoutGeneric = "generic"
	PayoutPayPal  = "paypal"
	PayoutWise    = "wise"
)

// PayoutFormats lists the formats in the order pages offer them.
func PayoutFormats() []string { return []string{PayoutGeneric, PayoutPayPal, PayoutWise} }

// PayoutColumns returns the header of a payout file ("" format: generic);
// PayPal's file has none.
func PayoutColumns(format string) []string {
	switch format {
	case PayoutPayPal:
		return nil
	case PayoutWise:
		return []string{"name", "recipientEmail", "paymentReference", "receiverType", "amountCurrency", "amount", "sourceCurrency", "targetCurrency"}
	}
	return []string{"affiliate", "name", "email", "method", "payout_email", "amount", "currency", "commissions", "reference"}
}

// PayoutFile is a payout's file in one format, checked and ready to write.
type PayoutFile struct {
	Name   string // a file name for the download
	db     *store.DB
	payout *store.Payout
	format string
	note   string
}

// NewPayoutFile is payout p's file in format (one of PayoutFormats); note
// is the PayPal note naming who pays and which payout.
func NewPayoutFile(db *store.DB, p *store.Payout, format, note string) *PayoutFile {
	return &PayoutFile{Name: "payout-" + p.ID + "-" + format + ".csv", db: db, payout: p, format: format, note: note}
}

// Write streams the file's rows to w, from one read transaction.
func (f *PayoutFile) Write(w io.Writer) error {
	return f.db.View(func(tx *store.Tx) error {
		pw, err := NewPayoutWriter(w, f.format, f.payout, f.note)
		if err != nil {
			return err
		}
		err = tx.PayoutItems(f.payout.ID, "", func(it *store.PayoutItem) (bool, error) {
			return true, pw.Write(it)
		})
		if err != nil {
			return err
		}
		return pw.Flush()
	})
}

// PayoutWriter writes one payout's items in one format.
type PayoutWriter struct {
	cw       *Writer
	format   string
	payout   *store.Payout
	note     string
	currency string
}

// NewPayoutWriter writes the header of payout p's file in format to w;
// note is the PayPal note naming who pays and which payout.
func NewPayoutWriter(w io.Writer, format string, p *store.Payout, note string) (*PayoutWriter, error) {
	x := &PayoutWriter{cw: NewWriter(w), format: format, payout: p, note: note, currency: p.Currency}
	if cols := PayoutColumns(format); cols != nil {
		return x, x.cw.Write(cols...)
	}
	return x, nil
}

// Write writes one item, or nothing when the format's provider does not
// pay it.
func (x *PayoutWriter) Write(it *store.PayoutItem) error {
	amount := money.Format(it.Amount, x.currency)
	switch x.format {
	case PayoutPayPal:
		if it.Method != PayoutPayPal {
			return nil
		}
		return x.cw.Write(it.PayoutEmail, amount, x.currency, it.AffiliateID, x.note, "PAYPAL")
	case PayoutWise:
		if it.Method != PayoutWise {
			return nil
		}
		return x.cw.Write(it.Name, it.PayoutEmail, WiseReference(x.payout.ID), "PERSON", "target", amount, x.currency, x.currency)
	}
	return x.cw.Write(it.AffiliateID, it.Name, it.Email, it.Method, it.PayoutEmail, amount, x.currency,
		strconv.FormatInt(it.Commissions, 10), it.AffiliateID)
}

// Flush writes out what is buffered.
func (x *PayoutWriter) Flush() error { return x.cw.Flush() }

// WiseReference is the payment reference Wise shows the recipient: at most
// 18 characters, so "Payout " and the payout id's last 11 (its random part).
func WiseReference(payoutID string) string {
	if len(payoutID) > 11 {
		payoutID = payoutID[len(payoutID)-11:]
	}
	return "Payout " + payoutID
}

// PayoutNote is the note a payout's file carries (PayPal shows it): who
// pays — the program, else the host of baseURL — and which payout.
func PayoutNote(program, baseURL, payoutID string) string {
	owner := program
	if owner == "" {
		owner = "Affiliate program"
		if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
			owner = u.Hostname()
		}
	}
	return owner + " payout " + payoutID
}
