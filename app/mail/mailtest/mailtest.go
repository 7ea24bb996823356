// Package mailtest runs a real SMTP server in the test process, on a
// random loopback port, and keeps what it receives: tests point smtp.* at
// it and read the mail Spiffy sent, headers, text and HTML parts decoded.
// It can speak STARTTLS with a self-signed certificate (written to a file
// for smtp.ca_file), require a password, refuse a recipient for good, and
// stop and start again on the same port.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"encoding/base64"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/spiffy/spiffy/app/config"
)

// Message is one mail as the server received it.
type Message struct {
	From   string   // MAIL FROM
	To     []string // RCPT TO
	Raw    []byte
	Header mail.Header
	// Text and HTML are the decoded parts.
	Text, HTML string
}

// Subject is the decoded Subject header.
func (m Message) Subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}

var linkRe = regexp.MustCompile(`https?://[^\s<>"]+`)

// Links returns the URLs in the text part, in order.
func (m Message) Links() []string { return linkRe.FindAllString(m.Text, -1) }

// Link returns the first URL of the text part that contains part, or "".
func (m Message) Link(part string) string {
	for _, l := range m.Links() {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}

// Server is a running (or stopped) SMTP server.
type Server struct {
	t    testing.TB
	Host string
	Port int
	// CAFile is the PEM file of the server's certificate (STARTTLS only).
	CAFile string

	tlsConfig  *tls.Config
	user, pass string

	mu       sync.Mutex
	srv      *smtp.Server
	msgs     []Message
	arrived  chan struct{} // closed and replaced at every arrival
	rejected map[string]bool
}

// Option configures a Server.
type Option func(*Server)

// WithSTARTTLS offers STARTTLS with a self-signed certificate for
// 127.0.0.1, written to CAFile.
func WithSTARTTLS() Option { return func(s *Server) { s.tlsConfig = selfSigned(s.t, &s.CAFile) } }

// WithAuth requires AUTH PLAIN with this user and password.
func WithAuth(user, pass string) Option { return func(s *Server) { s.user, s.pass = user, pass } }

// Start runs a server on a random loopback port; it stops when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, Host: "127.0.0.1", arrived: make(chan struct{}), rejected: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// FreePort returns a loopback port nothing listens on (for a server that is
// down from the start: see Down).
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// Down returns a server that is not running yet, on a port of its own:
// Up starts it.
func Down(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, Host: "127.0.0.1", Port: FreePort(t), arrived: make(chan struct{}), rejected: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	t.Cleanup(s.Stop)
	return s
}

// Up starts a stopped server again on its port.
func (s *Server) Up() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment after Stop
		if ln, err = net.Listen("tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port))); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("mailtest: listen again on %d: %v", s.Port, err)
	}
	s.serve(ln)
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.AllowInsecureAuth = s.tlsConfig == nil
	srv.TLSConfig = s.tlsConfig
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the server: connections are refused until Up.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Reject makes the server refuse a recipient for good (550).
func (s *Server) Reject(addr string) {
	s.mu.Lock()
	s.rejected[strings.ToLower(addr)] = true
	s.mu.Unlock()
}

// Configure points cfg's smtp.* at this server (STARTTLS when the server
// offers it, else none) with "Acme Partners <partners@acme.example>" as the
// sender.
func (s *Server) Configure(cfg *config.Config) {
	cfg.SMTP.Host, cfg.SMTP.Port = s.Host, s.Port
	cfg.SMTP.From, cfg.SMTP.FromName, cfg.SMTP.FromAddress = "Acme Partners <partners@acme.example>", "Acme Partners", "partners@acme.example"
	cfg.SMTP.TLS, cfg.SMTP.CAFile = "none", ""
	if s.tlsConfig != nil {
		cfg.SMTP.TLS, cfg.SMTP.CAFile = "starttls", s.CAFile
	}
	cfg.SMTP.Username, cfg.SMTP.Password = s.user, s.pass
}

// Messages returns what has arrived so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait waits until at least n messages have arrived in all and returns
// them; after timeout it fails the test.
func (s *Server) Wait(n int, timeout time.Duration) []Message {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs, arrived := append([]Message(nil), s.msgs...), s.arrived
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-arrived:
		case <-deadline.C:
			s.t.Fatalf("mailtest: %d messages after %s, want %d: %s", len(msgs), timeout, n, describe(msgs))
			return nil
		}
	}
}

// WaitFor waits for the first message to rcpt whose subject contains
// subject, and fails the test after 10 seconds.
func (s *Server) WaitFor(rcpt, subject string) Message {
	s.t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs, arrived := append([]Message(nil), s.msgs...), s.arrived
		s.mu.Unlock()
		for _, m := range msgs {
			if slicesContainsFold(m.To, rcpt) && strings.Contains(m.Subject(), subject) {
				return m
			}
		}
		select {
		case <-arrived:
		case <-deadline.C:
			s.t.Fatalf("mailtest: no mail to %s about %q; got %s", rcpt, subject, describe(msgs))
			return Message{}
		}
	}
}

// To returns the messages sent to rcpt so far.
func (s *Server) To(rcpt string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if slicesContainsFold(m.To, rcpt) {
			out = append(out, m)
		}
	}
	return out
}

func describe(msgs []Message) string {
	if len(msgs) == 0 {
		return "none"
	}
	var parts []string
	for _, m := range msgs {
		parts = append(parts, fmt.Sprintf("%v %q", m.To, m.Subject()))
	}
	return strings.Join(parts, "; ")
}

func slicesContainsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func (s *Server) deliver(m Message) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.mu.Unlock()
}

// session is one SMTP conversation.
type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	rejected := ss.s.rejected[strings.ToLower(to)]
	ss.s.mu.Unlock()
	if rejected {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unreadable message: " + err.Error()}
	}
	m.From, m.To = ss.from, ss.to
	ss.s.deliver(m)
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parse reads a message and decodes its text and HTML parts.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Raw: raw, Header: msg.Header}
	err = walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &m)
	return m, err
}

func walk(ctype, encoding string, body io.Reader, m *Message) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text += string(b)
	case "text/html":
		m.HTML += string(b)
	}
	return nil
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, writes it as
// PEM to a temp file (*caFile) and returns a server config using it.
func selfSigned(t testing.TB, caFile *string) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	*caFile = filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(*caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}
