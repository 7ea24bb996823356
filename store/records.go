package store

import (
	"strings"
	"time"
)

// Record types. These are the stored shapes, not the API's: the app layer
// translates them (money as integer minor units here, decimal strings there).

// Admin is a merchant user of the admin UI.
type Admin struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
}

// APIKey is a merchant REST API key. Only the SHA-256 of the secret is kept.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Hash       string     `json:"hash"`   // hex SHA-256 of the whole key
	Prefix     string     `json:"prefix"` // first characters, shown to tell keys apart
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Program is an affiliate program.
type Program struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Description     string `json:"description,omitempty"`
	LandingURL      string `json:"landing_url"`
	CookieDays      int    `json:"cookie_days"`
	Attribution     string `json:"attribution"` // last_click | first_click
	TrackLeads      bool   `json:"track_leads"`
	ShareLeads      bool   `json:"share_leads"`
	SharePurchasers bool   `json:"share_purchasers"`
	AutoApprove     bool   `json:"auto_approve"`
	CommissionType  string `json:"commission_type"` // percent | flat
	// CommissionValue is hundredths of a percent for percent commissions
	// ("30" -> 3000, "12.5" -> 1250) and minor units of Currency for flat ones.
	CommissionValue int64  `json:"commission_value"`
	Currency        string `json:"currency"`
	// HoldDays is the refund window before a commission is approved.
	HoldDays int `json:"hold_days"`
	// RecurringMonths is how long after an affiliate's first sale to a
	// customer that customer's renewals still earn (0 = never).
	RecurringMonths int        `json:"recurring_months"`
	CreatedAt       time.Time  `json:"created_at"`
	DeletedAt       *time.Time `json:"deleted_at,omitempty"`
}

// ReferralLink is the program's landing URL with ?ref=CODE added (before
// any #fragment).
func (p *Program) ReferralLink(code string) string {
	sep := "?"
	if strings.Contains(p.LandingURL, "?") {
		sep = "&"
	}
	base, frag, _ := strings.Cut(p.LandingURL, "#")
	link := base + sep + "ref=" + code
	if frag != "" {
		link += "#" + frag
	}
	return link
}

// Affiliate statuses, as stored.
const (
	AffiliatePending = "pending"
	AffiliateActive  = "active"
	AffiliateBlocked = "blocked"
)

// Affiliate is a partner who refers visitors; it may belong to several programs.
type Affiliate struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Status       string    `json:"status"` // pending | active | blocked
	PasswordHash string    `json:"password_hash,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	// PayoutMethod is "paypal", "wise" or ""; PayoutEmail the account paid.
	PayoutMethod string `json:"payout_method,omitempty"`
	PayoutEmail  string `json:"payout_email,omitempty"`
}

// Enrollment joins an affiliate to a program under a unique referral code.
type Enrollment struct {
	ProgramID   string `json:"program_id"`
	AffiliateID string `json:"affiliate_id"`
	Code        string `json:"code"`
	// Coupon is a discount code the affiliate hands out: a purchase with
	// it is the affiliate's, cookie or not. Unique across programs, any case.
	Coupon    string    `json:"coupon,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Invite lets an affiliate set a password once; the token itself is never stored.
type Invite struct {
	AffiliateID string    `json:"affiliate_id"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// Click is one visit through a referral link; its id is the referral id
// that SpiffyJS keeps in the spiffy_ref cookie.
type Click struct {
	ID          string
	ProgramID   string
	AffiliateID string
	Code        string
	SubID       string
	VisitorID   string
	URL         string
	Referrer    string
	IP          string
	UserAgent   string
	CreatedAt   time.Time
}

// Lead is an opt-in attributed to an affiliate.
type Lead struct {
	ID          string
	ProgramID   string
	AffiliateID string
	ReferralID  string // the click it came through
	Code        string
	SubID       string
	Email       string
	Name        string
	URL         string
	VisitorID   string
	IP          string
	UserAgent   string
	CreatedAt   time.Time
	PurchaseID  string // first purchase by this lead's email in the program, if any
}

// Purchase is an order reported by the merchant, attributed or not.
type Purchase struct {
	ID           string
	OrderID      string
	ProgramID    string
	AffiliateID  string // empty when unattributed
	ReferralID   string
	LeadID       string
	Code         string
	SubID        string
	Email        string
	Name         string
	Product      string
	Amount       int64 // minor units of Currency
	Currency     string
	Commission   int64  // minor units of Currency
	Status       string // paid | refunded
	SelfReferral bool
	VisitorID    string
	PurchasedAt  time.Time
	CreatedAt    time.Time
	RefundedAt   time.Time
	// RefundedAmount is how much of Amount has been refunded so far;
	// Status becomes "refunded" when it reaches Amount.
	RefundedAmount int64
	// Kind is "sale", or "renewal" for a subscription's later payment.
	Kind string
}

// Purchase statuses, as stored.
const (
	PurchasePaid     = "paid"
	PurchaseRefunded = "refunded"
)

// WebhookEndpoint is an affiliate's purchase webhook target.
type WebhookEndpoint struct {
	ID             string     `json:"id"`
	AffiliateID    string     `json:"affiliate_id"`
	URL            string     `json:"url"`
	Secret         string     `json:"secret"` // whsec_…
	Events         []string   `json:"events"`
	Disabled       bool       `json:"disabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	// DisabledAt is when the endpoint was disabled (by its affiliate, the
	// merchant, or automatically after failing for days).
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	// DisabledBy says who disabled it: "affiliate", "merchant" or "auto".
	DisabledBy string `json:"disabled_by,omitempty"`
	// LastError is the error of the most recent failed attempt, shown next
	// to a failing endpoint.
	LastError string `json:"last_error,omitempty"`
}

// WebhookAttempt is one delivery attempt of a message.
type WebhookAttempt struct {
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	LatencyMS  int64     `json:"latency_ms"`
}

// WebhookMessage is one event for one endpoint: the outbox entry and its log.
type WebhookMessage struct {
	ID            string           `json:"id"` // the webhook-id header, same on every retry
	EndpointID    string           `json:"endpoint_id"`
	AffiliateID   string           `json:"affiliate_id"`
	EventType     string           `json:"event_type"`
	Payload       []byte           `json:"payload"`
	Status        string           `json:"status"` // pending | delivered | failed
	Attempts      []WebhookAttempt `json:"attempts,omitempty"`
	NextAttemptAt time.Time        `json:"next_attempt_at"`
	CreatedAt     time.Time        `json:"created_at"`
	// Tries counts the attempts of the current delivery round; a resend
	// starts a new round (Attempts keeps the whole log).
	Tries int `json:"tries"`
	// SubjectID is the lead or purchase the event is about ("" for tests).
	SubjectID string `json:"subject_id,omitempty"`
	// Email is the person in the payload, indexed so erasure finds the
	// message; it is cleared with the payload's PII.
	Email string `json:"email,omitempty"`
}

// LastAttempt returns the message's most recent attempt, if any.
func (m *WebhookMessage) LastAttempt() *WebhookAttempt {
	if len(m.Attempts) == 0 {
		return nil
	}
	return &m.Attempts[len(m.Attempts)-1]
}

// Export is a CSV file written in the background.
type Export struct {
	ID        string    `json:"id"`
	Owner     string    `json:"owner"` // "admin" or an affiliate id
	Kind      string    `json:"kind"`  // leads | purchases
	Filter    []byte    `json:"filter"`
	Status    string    `json:"status"` // running | done | failed
	Rows      int64     `json:"rows"`
	Total     int64     `json:"total"`
	File      string    `json:"file"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}
