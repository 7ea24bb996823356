package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"

	"github.com/spiffy/spiffy/embedded"
)

// Kinds of mail. Each has embedded/mail/<kind>.txt (blocks "subject" and
// "body", text/template) and <kind>.html (block "body", html/template,
// inside layout.html).
const (
	KindInvite              = "invite"               // an affiliate's invite link (data: name, link)
	KindApplicationReceived = "application_received" // after /join, pending (data: name, program)
	KindApproved            = "approved"             // status became active (data: name, link)
	KindPasswordReset       = "password_reset"       // data: name, link, minutes
	KindPayoutPaid          = "payout_paid"          // data: name, amount, commissions, program, link
	KindWebhookDisabled     = "webhook_disabled"     // data: name, url, reason, link
	KindNewApplication      = "new_application"      // to every admin (data: name, email, program, link)
	KindAdminInvite         = "admin_invite"         // an admin's invite (data: invited_by, link, days)
	KindTest                = "test"                 // Settings → Email's test message (data: sent_by)
)

// Kinds lists every kind, for the test that renders them all.
func Kinds() []string {
	return []string{KindInvite, KindApplicationReceived, KindApproved, KindPasswordReset, KindPayoutPaid,
		KindWebhookDisabled, KindNewApplication, KindAdminInvite, KindTest}
}

// Optional reports whether the recipient may opt out of a kind: the
// notices about money and integrations are; invites, approvals and
// password resets are what the account needs to work.
func Optional(kind string) bool { return kind == KindPayoutPaid || kind == KindWebhookDisabled }

// Label names a kind for the recent-mail list.
func Label(kind string) string {
	switch kind {
	case KindInvite:
		return "Affiliate invite"
	case KindApplicationReceived:
		return "Application received"
	case KindApproved:
		return "Approved"
	case KindPasswordReset:
		return "Password reset"
	case KindPayoutPaid:
		return "Payout paid"
	case KindWebhookDisabled:
		return "Webhook endpoint disabled"
	case KindNewApplication:
		return "New affiliate application"
	case KindAdminInvite:
		return "Admin invite"
	case KindTest:
		return "Test message"
	}
	return kind
}

// Rendered is a mail ready to send.
type Rendered struct {
	From                string // the sender's display name: the owner's
	Subject, Text, HTML string
}

// templateData is what every template receives.
type templateData struct {
	Owner       string            // the program owner's name (Settings → Brand, else smtp.from's name)
	BaseURL     string            // Spiffy's public URL
	Logo        string            // the owner's logo, an absolute URL ("" = none)
	Support     string            // the owner's support email ("" = none)
	Accent      string            // buttons' background: the owner's accent
	OnAccent    string            // buttons' text, readable on Accent
	Link        string            // links' colour, readable on white
	To          string            // the recipient
	Unsubscribe string            // the one-click unsubscribe URL, when the kind is optional
	D           map[string]string // the mail's own fields
}

// renderer holds the parsed templates of every kind.
type renderer struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

func newRenderer() (*renderer, error) {
	r := &renderer{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	layout, err := fs.ReadFile(embedded.FS, "mail/layout.html")
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	for _, k := range Kinds() {
		txt, err := fs.ReadFile(embedded.FS, "mail/"+k+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		tt, err := texttemplate.New(k).Option("missingkey=error").Parse(string(txt))
		if err != nil {
			return nil, fmt.Errorf("mail: parse %s.txt: %w", k, err)
		}
		if tt.Lookup("subject") == nil || tt.Lookup("body") == nil {
			return nil, fmt.Errorf("mail: %s.txt must define subject and body", k)
		}
		r.text[k] = tt
		page, err := fs.ReadFile(embedded.FS, "mail/"+k+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		ht, err := htmltemplate.New("layout").Option("missingkey=error").Parse(string(layout))
		if err == nil {
			_, err = ht.Parse(string(page))
		}
		if err != nil {
			return nil, fmt.Errorf("mail: parse %s.html: %w", k, err)
		}
		r.html[k] = ht
	}
	return r, nil
}

func (r *renderer) render(kind string, d templateData) (Rendered, error) {
	tt, ok := r.text[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("mail: unknown kind %q", kind)
	}
	if d.D == nil {
		d.D = map[string]string{}
	}
	var subj, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subj, "subject", d); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s subject: %w", kind, err)
	}
	if err := tt.ExecuteTemplate(&text, "body", d); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s text: %w", kind, err)
	}
	if err := r.html[kind].ExecuteTemplate(&html, "layout", d); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s html: %w", kind, err)
	}
	// Every text part ends alike: who sent it and where to write.
	text.WriteString("\n\n-- \n" + d.Owner)
	if d.Support != "" {
		text.WriteString("\nQuestions? Write to " + d.Support)
	}
	text.WriteString("\nPowered by Spiffy")
	return Rendered{
		From:    d.Owner,
		Subject: strings.Join(strings.Fields(subj.String()), " "),
		Text:    strings.TrimSpace(text.String()) + "\n",
		HTML:    html.String(),
	}, nil
}

// MethodTitle is a payout method's name in mail ("PayPal", "Wise"; ""
// for any other).
func MethodTitle(method string) string {
	switch method {
	case "paypal":
		return "PayPal"
	case "wise":
		return "Wise"
	}
	return ""
}
