package export

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spiffy/spiffy/app/money"
	"github.com/spiffy/spiffy/store"
)

// Every CSV Spiffy writes — the API's streamed .csv endpoints, the admin's
// background exports and the affiliate portal's downloads — goes through this
// file, so they all share one dialect (contract §6):
//
//   - RFC 4180: comma separated, CRLF line ends, fields holding a comma, a
//     double quote, CR or LF are quoted with inner quotes doubled;
//   - UTF-8 without BOM, with a header row;
//   - times RFC3339 UTC, whole seconds; money as decimal strings;
//   - program and affiliate as names, purchased as yes/no;
//   - formula guard: a cell that begins with = + - @, tab or CR gets a
//     leading ' so spreadsheets show it as text instead of running it.
//
// The row types below carry gocsv tags, so gocsv (or any RFC 4180 reader)
// reads the files back into them; the writer itself is hand-rolled because a
// reflection-based marshaller is the bottleneck of a million-row export.

// View selects a column set: what the merchant sees or what an affiliate
// sees of its own referrals.
type View int

const (
	// Merchant is the API and admin column set (contract §4).
	Merchant View = iota
	// Portal is the affiliate portal column set (contract §6).
	Portal
)

// LeadRow is one lead row in the merchant column set; portal files carry
// the same names minus affiliate.
type LeadRow struct {
	CreatedAt    string `csv:"created_at"`
	Email        string `csv:"email"`
	Name         string `csv:"name"`
	Program      string `csv:"program"`
	Affiliate    string `csv:"affiliate"`
	ReferralCode string `csv:"referral_code"`
	SubID        string `csv:"sub_id"`
	Purchased    string `csv:"purchased"`
}

// PurchaseRow is one purchase row in the merchant column set; portal
// files carry a subset of these names.
type PurchaseRow struct {
	PurchasedAt  string `csv:"purchased_at"`
	OrderID      string `csv:"order_id"`
	Email        string `csv:"email"`
	Name         string `csv:"name"`
	Product      string `csv:"product"`
	Amount       string `csv:"amount"`
	Currency     string `csv:"currency"`
	Commission   string `csv:"commission"`
	Status       string `csv:"status"`
	Program      string `csv:"program"`
	Affiliate    string `csv:"affiliate"`
	ReferralCode string `csv:"referral_code"`
	SubID        string `csv:"sub_id"`
}

// LeadColumns returns the header of a leads file in the given view.
func LeadColumns(v View) []string {
	if v == Portal {
		return []string{"created_at", "email", "name", "program", "referral_code", "sub_id", "purchased"}
	}
	return []string{"created_at", "email", "name", "program", "affiliate", "referral_code", "sub_id", "purchased"}
}

// PurchaseColumns returns the header of a purchases file in the given view.
func PurchaseColumns(v View) []string {
	if v == Portal {
		return []string{"purchased_at", "order_id", "email", "name", "product", "amount", "currency", "commission", "status", "sub_id"}
	}
	return []string{"purchased_at", "order_id", "email", "name", "product", "amount", "currency", "commission", "status",
		"program", "affiliate", "referral_code", "sub_id"}
}

// Writer writes RFC 4180 records with Spiffy's formula guard. It buffers;
// call Flush at the end. After the first error every call returns it.
type Writer struct {
	w   *bufio.Writer
	err error
}

// NewWriter writes to w through a 64 KB buffer.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one record (a header or a row).
func (c *Writer) Write(cells ...string) error {
	if c.err != nil {
		return c.err
	}
	for i, cell := range cells {
		if i > 0 {
			c.w.WriteByte(',')
		}
		c.cell(cell)
	}
	_, c.err = c.w.WriteString("\r\n")
	return c.err
}

// Flush writes out what is buffered.
func (c *Writer) Flush() error {
	if c.err != nil {
		return c.err
	}
	c.err = c.w.Flush()
	return c.err
}

func (c *Writer) cell(s string) {
	// One pass finds whether the cell needs quoting and whether it is
	// plain ASCII (then it is valid UTF-8 without a closer look).
	quote, ascii := false, true
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b == ',' || b == '"' || b == '\r' || b == '\n':
			quote = true
		case b >= 0x80:
			ascii = false
		}
	}
	if !ascii && !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	guard := len(s) > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r')
	if !quote {
		if guard {
			c.w.WriteByte('\'')
		}
		c.w.WriteString(s)
		return
	}
	c.w.WriteByte('"')
	if guard {
		c.w.WriteByte('\'')
	}
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			c.w.WriteString(s)
			break
		}
		c.w.WriteString(s[:i+1])
		c.w.WriteByte('"')
		s = s[i+1:]
	}
	c.w.WriteByte('"')
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// LeadWriter writes leads in one view. Make it with NewLeadWriter (which writes
// the header), call Write per lead, then Flush.
type LeadWriter struct {
	cw    *Writer
	view  View
	names *store.Names
	cells []string
}

// NewLeadWriter writes the header of a leads file to w; names resolves
// program and affiliate ids.
func NewLeadWriter(w io.Writer, view View, names *store.Names) (*LeadWriter, error) {
	x := &LeadWriter{cw: NewWriter(w), view: view, names: names, cells: make([]string, 0, 8)}
	return x, x.cw.Write(LeadColumns(view)...)
}

// Row returns the lead as a merchant-view row.
func (x *LeadWriter) Row(l *store.Lead) LeadRow {
	return LeadRow{
		CreatedAt: rfc3339(l.CreatedAt), Email: l.Email, Name: l.Name,
		Program: x.names.Program(l.ProgramID), Affiliate: x.names.Affiliate(l.AffiliateID),
		ReferralCode: l.Code, SubID: l.SubID, Purchased: yesNo(l.PurchaseID != ""),
	}
}

// Write writes one lead.
func (x *LeadWriter) Write(l *store.Lead) error {
	r := x.Row(l)
	c := append(x.cells[:0], r.CreatedAt, r.Email, r.Name, r.Program)
	if x.view == Merchant {
		c = append(c, r.Affiliate)
	}
	c = append(c, r.ReferralCode, r.SubID, r.Purchased)
	return x.cw.Write(c...)
}

// Flush writes out what is buffered.
func (x *LeadWriter) Flush() error { return x.cw.Flush() }

// PurchaseWriter writes purchases in one view, like LeadWriter.
type PurchaseWriter struct {
	cw    *Writer
	view  View
	names *store.Names
	cells []string
}

// NewPurchaseWriter writes the header of a purchases file to w; names
// resolves program and affiliate ids.
func NewPurchaseWriter(w io.Writer, view View, names *store.Names) (*PurchaseWriter, error) {
	x := &PurchaseWriter{cw: NewWriter(w), view: view, names: names, cells: make([]string, 0, 13)}
	return x, x.cw.Write(PurchaseColumns(view)...)
}

// Row returns the purchase as a merchant-view row.
func (x *PurchaseWriter) Row(p *store.Purchase) PurchaseRow {
	return PurchaseRow{
		PurchasedAt: rfc3339(p.PurchasedAt), OrderID: p.OrderID, Email: p.Email, Name: p.Name, Product: p.Product,
		Amount: money.Format(p.Amount, p.Currency), Currency: p.Currency, Commission: money.Format(p.Commission, p.Currency),
		Status: p.Status, Program: x.names.Program(p.ProgramID), Affiliate: x.names.Affiliate(p.AffiliateID),
		ReferralCode: p.Code, SubID: p.SubID,
	}
}

// Write writes one purchase.
func (x *PurchaseWriter) Write(p *store.Purchase) error {
	r := x.Row(p)
	c := append(x.cells[:0], r.PurchasedAt, r.OrderID, r.Email, r.Name, r.Product, r.Amount, r.Currency, r.Commission, r.Status)
	if x.view == Merchant {
		c = append(c, r.Program, r.Affiliate, r.ReferralCode)
	}
	c = append(c, r.SubID)
	return x.cw.Write(c...)
}

// Flush writes out what is buffered.
func (x *PurchaseWriter) Flush() error { return x.cw.Flush() }

// WriteLeads streams every lead matching q (its Cursor and Limit are
// ignored), newest first, as a CSV file in the given view. The store reads
// in chunked read transactions (store.StreamLeads), so tracking writes are
// never held up however long the file. progress, when not nil, is called
// after each chunk of rows with the rows written so far. It stops with ctx's
// error when ctx ends. Reading and formatting overlap (two goroutines), so a
// large export runs at about the speed of the slower of the two.
//
// The portal calls it with q.AffiliateID set to the signed-in affiliate and
// view Portal.
func WriteLeads(ctx context.Context, w io.Writer, db *store.DB, q store.LeadQuery, view View, progress func(rows int64)) (int64, error) {
	x, err := NewLeadWriter(w, view, db.Names())
	if err != nil {
		return 0, fmt.Errorf("export: leads csv: %w", err)
	}
	stream := func(fn func([]*store.Lead) error) error { return db.StreamLeads(ctx, q, fn) }
	rows, err := writeCSVRows(x, stream, progress)
	if err != nil {
		return rows, fmt.Errorf("export: leads csv: %w", err)
	}
	return rows, nil
}

// WritePurchases is WriteLeads for purchases (newest purchased_at first).
func WritePurchases(ctx context.Context, w io.Writer, db *store.DB, q store.PurchaseQuery, view View, progress func(rows int64)) (int64, error) {
	x, err := NewPurchaseWriter(w, view, db.Names())
	if err != nil {
		return 0, fmt.Errorf("export: purchases csv: %w", err)
	}
	stream := func(fn func([]*store.Purchase) error) error { return db.StreamPurchases(ctx, q, fn) }
	rows, err := writeCSVRows(x, stream, progress)
	if err != nil {
		return rows, fmt.Errorf("export: purchases csv: %w", err)
	}
	return rows, nil
}

// csvRowWriter is LeadWriter or PurchaseWriter.
type csvRowWriter[T any] interface {
	Write(T) error
	Flush() error
}

// writeCSVRows writes every chunk the stream yields, reporting progress
// after each chunk, and flushes at the end.
//
// It yields the processor every yieldEvery rows. An export keeps both
// cores of a small server busy (reading and formatting overlap), and Go's
// scheduler lets a busy goroutine run for 10 ms before it preempts it, so
// each step of a tracking request (read, handle, commit, answer) could wait
// that long behind it: clicks during a 1M-row export had a p99 of 100+ ms
// (docs/PERFORMANCE.md, issue 17). A yield costs well under a microsecond.
func writeCSVRows[T any](x csvRowWriter[T], stream func(func([]T) error) error, progress func(rows int64)) (int64, error) {
	var rows int64
	err := stream(func(chunk []T) error {
		for i, r := range chunk {
			if err := x.Write(r); err != nil {
				return err
			}
			if i%yieldEvery == yieldEvery-1 {
				runtime.Gosched()
			}
		}
		rows += int64(len(chunk))
		if progress != nil {
			progress(rows)
		}
		return nil
	})
	if err == nil {
		err = x.Flush()
	}
	return rows, err
}

// yieldEvery is how many rows an export writes between yields: about
// half a millisecond of work.
const yieldEvery = 256

// rfc3339 formats a time as every CSV does: RFC3339, UTC, whole seconds.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
