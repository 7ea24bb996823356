package config

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
)

// SMTP is the mail server settings (smtp.*).
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	// From is the sender as written ("Acme Partners <partners@acme.example>");
	// FromName and FromAddress are its parts.
	From        string
	FromName    string
	FromAddress string
	TLS         string // starttls | tls | none
	CAFile      string
}

// Enabled reports whether mail is sent at all.
func (s SMTP) Enabled() bool { return s.Host != "" }

func smtpPort(c *Config, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("want a port number from 1 to 65535")
	}
	c.SMTP.Port = n
	return nil
}

func smtpFrom(c *Config, v string) error {
	v = strings.TrimSpace(v)
	c.SMTP.From, c.SMTP.FromName, c.SMTP.FromAddress = v, "", ""
	if v == "" {
		return nil
	}
	a, err := mail.ParseAddress(v)
	if err != nil {
		return fmt.Errorf("want an address such as \"Acme Partners <partners@acme.example>\"")
	}
	c.SMTP.FromName, c.SMTP.FromAddress = a.Name, a.Address
	return nil
}

// checkSMTP refuses a mail setup that cannot send: a host without a sender.
func checkSMTP(c *Config) error {
	if c.SMTP.Host != "" && c.SMTP.FromAddress == "" {
		return &Error{Source: "smtp.from", Err: fmt.Errorf("is required when smtp.host is set")}
	}
	return nil
}
