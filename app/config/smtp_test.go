package config

import (
	"strings"
	"testing"
)

func TestSMTPSettings(t *testing.T) {
	c := Default()
	if c.SMTP.Enabled() || c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" {
		t.Fatalf("smtp defaults: %+v", c.SMTP)
	}
	file := writeFile(t, "smtp:\n  host: mail.acme.example\n  port: 465\n  tls: tls\n  from: \"Acme Partners <partners@acme.example>\"\n")
	c, err := Load(file, []string{"SPIFFY_SMTP_PASSWORD=s3cret"}, map[string]string{"smtp.username": "spiffy"})
	if err != nil {
		t.Fatal(err)
	}
	s := c.SMTP
	if !s.Enabled() || s.Host != "mail.acme.example" || s.Port != 465 || s.TLS != "tls" || s.Username != "spiffy" || s.Password != "s3cret" ||
		s.FromName != "Acme Partners" || s.FromAddress != "partners@acme.example" {
		t.Fatalf("smtp from file, env and flags: %+v", s)
	}
	for _, tc := range []struct {
		env  []string
		name string
	}{
		{[]string{"SPIFFY_SMTP_HOST=mail.acme.example"}, "smtp.from"},
		{[]string{"SPIFFY_SMTP_FROM=not an address"}, "SPIFFY_SMTP_FROM"},
		{[]string{"SPIFFY_SMTP_TLS=ssl"}, "SPIFFY_SMTP_TLS"},
		{[]string{"SPIFFY_SMTP_PORT=0"}, "SPIFFY_SMTP_PORT"},
	} {
		_, err := Load("", tc.env, nil)
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.name)
		}
	}
}
