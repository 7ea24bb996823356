package store

// Binary codecs of the high-volume records (see codec.go). Field order is
// part of the on-disk format: append new fields at the end only.

const recordV1 = 1

func (c *Click) marshal() []byte {
	e := newEncoder(recordV1, 160+len(c.URL)+len(c.Referrer)+len(c.UserAgent))
	e.str(c.ID)
	e.str(c.ProgramID)
	e.str(c.AffiliateID)
	e.str(c.Code)
	e.str(c.SubID)
	e.str(c.VisitorID)
	e.str(c.URL)
	e.str(c.Referrer)
	e.str(c.IP)
	e.str(c.UserAgent)
	e.time(c.CreatedAt)
	return e.b
}

func (c *Click) unmarshal(b []byte) error {
	d := newDecoder(b)
	c.ID = d.str()
	c.ProgramID = d.str()
	c.AffiliateID = d.str()
	c.Code = d.str()
	c.SubID = d.str()
	c.VisitorID = d.str()
	c.URL = d.str()
	c.Referrer = d.str()
	c.IP = d.str()
	c.UserAgent = d.str()
	c.CreatedAt = d.time()
	return d.err
}

func (l *Lead) marshal() []byte {
	e := newEncoder(recordV1, 200+len(l.URL)+len(l.UserAgent))
	e.str(l.ID)
	e.str(l.ProgramID)
	e.str(l.AffiliateID)
	e.str(l.ReferralID)
	e.str(l.Code)
	e.str(l.SubID)
	e.str(l.Email)
	e.str(l.Name)
	e.str(l.URL)
	e.str(l.VisitorID)
	e.str(l.IP)
	e.str(l.UserAgent)
	e.time(l.CreatedAt)
	e.str(l.PurchaseID)
	return e.b
}

func (l *Lead) unmarshal(b []byte) error {
	d := newDecoder(b)
	l.ID = d.str()
	l.ProgramID = d.str()
	l.AffiliateID = d.str()
	l.ReferralID = d.str()
	l.Code = d.str()
	l.SubID = d.str()
	l.Email = d.str()
	l.Name = d.str()
	l.URL = d.str()
	l.VisitorID = d.str()
	l.IP = d.str()
	l.UserAgent = d.str()
	l.CreatedAt = d.time()
	l.PurchaseID = d.str()
	return d.err
}

func (p *Purchase) marshal() []byte {
	e := newEncoder(recordV1, 256)
	e.str(p.ID)
	e.str(p.OrderID)
	e.str(p.ProgramID)
	e.str(p.AffiliateID)
	e.str(p.ReferralID)
	e.str(p.LeadID)
	e.str(p.Code)
	e.str(p.SubID)
	e.str(p.Email)
	e.str(p.Name)
	e.str(p.Product)
	e.int(p.Amount)
	e.str(p.Currency)
	e.int(p.Commission)
	e.str(p.Status)
	e.bool(p.SelfReferral)
	e.str(p.VisitorID)
	e.time(p.PurchasedAt)
	e.time(p.CreatedAt)
	e.time(p.RefundedAt)
	e.int(p.RefundedAmount)
	e.str(p.Kind)
	return e.b
}

func (p *Purchase) unmarshal(b []byte) error {
	d := newDecoder(b)
	p.ID = d.str()
	p.OrderID = d.str()
	p.ProgramID = d.str()
	p.AffiliateID = d.str()
	p.ReferralID = d.str()
	p.LeadID = d.str()
	p.Code = d.str()
	p.SubID = d.str()
	p.Email = d.str()
	p.Name = d.str()
	p.Product = d.str()
	p.Amount = d.int()
	p.Currency = d.str()
	p.Commission = d.int()
	p.Status = d.str()
	p.SelfReferral = d.bool()
	p.VisitorID = d.str()
	p.PurchasedAt = d.time()
	p.CreatedAt = d.time()
	p.RefundedAt = d.time()
	p.RefundedAmount = d.int()
	p.Kind = d.str()
	if p.Status == "refunded" && p.RefundedAmount == 0 {
		p.RefundedAmount = p.Amount // refunded before partial refunds existed
	}
	return d.err
}

// Rollup holds one day's totals for one program and affiliate.
type Rollup struct {
	Clicks    int64
	Leads     int64
	Purchases int64 // every purchase, refunded ones included
	Refunds   int64
	Money     []RollupMoney // paid (not refunded) purchases, per currency

	// refunded carries a refunded purchase's money in a delta to the
	// per-scope tallies (tally.go); rollups do not store it.
	refunded []RollupMoney
}

// RollupMoney is a per-currency total of paid purchases.
type RollupMoney struct {
	Currency   string
	Amount     int64
	Commission int64
}

func (r *Rollup) marshal() []byte {
	e := newEncoder(recordV1, 32+len(r.Money)*16)
	e.int(r.Clicks)
	e.int(r.Leads)
	e.int(r.Purchases)
	e.int(r.Refunds)
	e.int(int64(len(r.Money)))
	for _, m := range r.Money {
		e.str(m.Currency)
		e.int(m.Amount)
		e.int(m.Commission)
	}
	return e.b
}

func (r *Rollup) unmarshal(b []byte) error {
	d := newDecoder(b)
	r.Clicks = d.int()
	r.Leads = d.int()
	r.Purchases = d.int()
	r.Refunds = d.int()
	n := d.int()
	if n < 0 || n > 1000 {
		return errCorrupt
	}
	r.Money = make([]RollupMoney, 0, n)
	for i := int64(0); i < n && d.err == nil; i++ {
		r.Money = append(r.Money, RollupMoney{Currency: d.str(), Amount: d.int(), Commission: d.int()})
	}
	return d.err
}

// Add adds o to r, merging the money per currency.
func (r *Rollup) Add(o *Rollup) {
	r.Clicks += o.Clicks
	r.Leads += o.Leads
	r.Purchases += o.Purchases
	r.Refunds += o.Refunds
	for _, m := range o.Money {
		r.addMoney(m.Currency, m.Amount, m.Commission)
	}
	// Sorted, without zero entries: the same purchases give the same bytes
	// whatever order they were added in (reindex is compared with the live path).
	if len(r.Money) > 0 {
		if m := mergeMoney(r.Money, nil); m != nil {
			r.Money = m
		} else {
			r.Money = r.Money[:0]
		}
	}
}

// addDelta sums delta into r, a delta itself: as Add, and the refunded
// money that only tallies keep.
func (r *Rollup) addDelta(delta *Rollup) {
	r.Add(delta)
	r.refunded = mergeMoney(r.refunded, delta.refunded)
}

func (r *Rollup) addMoney(cur string, amount, commission int64) {
	for i := range r.Money {
		if r.Money[i].Currency == cur {
			r.Money[i].Amount += amount
			r.Money[i].Commission += commission
			return
		}
	}
	r.Money = append(r.Money, RollupMoney{Currency: cur, Amount: amount, Commission: commission})
}
