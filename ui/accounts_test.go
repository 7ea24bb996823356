package ui

import (
	"time"

	"github.com/spiffy/spiffy/app/mail"
	"github.com/spiffy/spiffy/app/views"
	"github.com/spiffy/spiffy/store"
)

// accountPageFixtures are the fixtures of the pages of accounts.go and
// admin_email.go (TestEveryPageRendersItsFixtures).
func accountPageFixtures() map[string][]pageFixture {
	next := fxDay.Add(5 * time.Minute)
	sent := fxDay.Add(time.Minute)
	settings := views.EmailSettings{Enabled: true, Host: "smtp.acme.example", Port: 587, TLS: "starttls", Username: "spiffy",
		PasswordSet: true, From: "Acme Partners <partners@acme.example>", Owner: "Acme Partners", Schedule: "retried 8 times over about 2 days"}
	mails := []mailRow{
		{MailLogEntry: views.MailLogEntry{Label: "Password reset", Mail: &store.Mail{ID: "m1", Kind: mail.KindPasswordReset, To: "paula@partners.example.com",
			Subject: "Reset your password", Status: store.MailSent, Tries: 1, SentAt: &sent, CreatedAt: fxDay}}},
		{MailLogEntry: views.MailLogEntry{Label: "Affiliate invite", Mail: &store.Mail{ID: "m2", Kind: mail.KindInvite, To: "pete@partners.example.com",
			Status: store.MailQueued, Tries: 2, LastError: "connect to smtp.acme.example:587: connection refused", NextAttemptAt: next, CreatedAt: fxDay}}, NextIn: "in 5 min"},
		{MailLogEntry: views.MailLogEntry{Label: "Payout paid", Mail: &store.Mail{ID: "m3", Kind: mail.KindPayoutPaid, To: "nobody@partners.example.com",
			Subject: "Acme Partners paid you 49.00 USD", Status: store.MailFailed, Tries: 1, LastError: "550 5.1.1 No such user here", CreatedAt: fxDay}}},
	}
	forgot := func(v forgotView) forgotView { v.LoginURL, v.Action = "/portal/login", "/portal/forgot"; return v }
	return map[string][]pageFixture{
		"admin/email": {
			{"sending", fxAdminView("settings", &emailView{Settings: settings, Mail: mails, Errors: FormErrors{"to": "to is not a valid email"}}),
				[]string{"smtp.acme.example:587", "STARTTLS", "••••••••", "Acme Partners &lt;partners@acme.example&gt;", "Send test message",
					"Reset your password", "Sent", "next try in 5 min", "connection refused", "550 5.1.1 No such user here", "to is not a valid email",
					`href="/settings/email" class="active"`}},
			{"not set up", fxAdminView("settings", &emailView{Settings: views.EmailSettings{Port: 587, TLS: "starttls"}}),
				[]string{"Not set up", "smtp.host", "No mail yet"}},
		},
		"admin/admins": {
			{"admins", fxAdminView("settings", &adminsView{MailEnabled: true, InviteLink: "https://aff.shop.example.com/reset/tok",
				Admins: []adminRow{{ID: "adm_1", Email: "owner@shop.example.com", You: true, CreatedAt: fxDay},
					{ID: "adm_2", Email: "new@shop.example.com", Pending: true, CreatedAt: fxDay}},
				Errors: FormErrors{"email": "an admin with this email already exists"}, PasswordErrors: FormErrors{"current_password": "that is not your current password"}}),
				[]string{"owner@shop.example.com", "(you)", "Invited", `action="/settings/admins/adm_2/remove"`, "https://aff.shop.example.com/reset/tok",
					"We email them a link", "already exists", "that is not your current password", `name="current_password"`}},
		},
		"admin/forgot": {
			{"form", fxPublicView(forgotView{MailEnabled: true, LoginURL: "/login", Action: "/forgot", Errors: FormErrors{"form": "Too many requests"}}),
				[]string{`action="/forgot"`, `name="email"`, "Too many requests"}},
			{"sent", fxPublicView(forgotView{MailEnabled: true, Sent: true, Email: "owner@shop.example.com", LoginURL: "/login"}),
				[]string{"If an account uses <strong>owner@shop.example.com</strong>"}},
		},
		"portal/forgot": {
			{"form", fxPublicView(forgot(forgotView{MailEnabled: true})), []string{`action="/portal/forgot"`, "Email me a reset link"}},
			{"no mail", fxPublicView(forgot(forgotView{})), []string{"does not send email", `href="/portal/login"`}},
		},
		"admin/reset": {
			{"reset", fxPublicView(resetView{Token: "tok", Email: "owner@shop.example.com", Action: "/reset/tok", Errors: FormErrors{"password": "password must be at least 8 characters"}}),
				[]string{"Choose a new password", `action="/reset/tok"`, "at least 8 characters", "signs you out everywhere else"}},
			{"invite", fxPublicView(resetView{Token: "tok", Email: "new@shop.example.com", Invite: true, Action: "/reset/tok"}),
				[]string{"Set your password", "new@shop.example.com"}},
			{"invalid", fxPublicView(resetView{ForgotURL: "/forgot"}), []string{"This link has expired", `href="/forgot"`}},
		},
		"portal/reset": {
			{"reset", fxPublicView(resetView{Token: "tok", Email: "paula@partners.example.com", Action: "/portal/reset/tok"}),
				[]string{`action="/portal/reset/tok"`, "paula@partners.example.com"}},
			{"invalid", fxPublicView(resetView{ForgotURL: "/portal/forgot"}), []string{`href="/portal/forgot"`}},
		},
		"portal/unsubscribe": {
			{"ask", fxPublicView(unsubscribeView{Token: "tok", Name: "Paula Partner"}), []string{`action="/portal/unsubscribe/tok"`, "Stop emails"}},
			{"done", fxPublicView(unsubscribeView{Token: "tok", Name: "Paula Partner", OptedOut: true, Changed: true}),
				[]string{"Done:", "no longer gets emails", `action="/portal/resubscribe/tok"`}},
			{"back", fxPublicView(unsubscribeView{Token: "tok", Name: "Paula Partner", Changed: true}), []string{"gets emails about payouts and webhook endpoints again"}},
		},
	}
}
