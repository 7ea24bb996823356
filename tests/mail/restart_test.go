// Package mail checks the mail outbox on the real binary: mail queued
// while the SMTP server is down is sent once it is back, even when Spiffy
// was restarted in between (CONTRACT.md §11).
package mail

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spiffy/spiffy/app/mail/mailtest"
	"github.com/spiffy/spiffy/tests/internal/binary"
)

var spiffyBin string

func TestMain(m *testing.M) { binary.Main(m, &spiffyBin) }

func TestMailQueuedWhileSMTPIsDownArrivesAfterARestart(t *testing.T) {
	dataDir := t.TempDir()
	smtp := mailtest.Down(t, mailtest.WithSTARTTLS())
	flags := []string{"--smtp-host", smtp.Host, "--smtp-port", strconv.Itoa(smtp.Port), "--smtp-tls", "starttls",
		"--smtp-ca-file", smtp.CAFile, "--smtp-from", "Acme Partners <partners@acme.example>", "--jobs-mail", "@every 1s"}
	key := binary.APIKey(t, spiffyBin, dataDir)

	first := binary.Start(t, spiffyBin, dataDir, flags...)
	cl := &binary.Client{Base: first.Base, Key: key, HTTP: &http.Client{Timeout: 10 * time.Second}}
	var aff struct {
		ID        string `json:"id"`
		InviteURL string `json:"invite_url"`
	}
	cl.Must(t, "POST", "/api/v1/affiliates", map[string]any{"name": "Paula Partner", "email": "paula@partners.example"}, &aff)
	if aff.InviteURL == "" {
		t.Fatal("no invite_url in the answer")
	}
	// The first attempt fails at once (connection refused); stop Spiffy
	// before the retry, then bring the SMTP server up.
	time.Sleep(500 * time.Millisecond)
	first.Signal(syscall.SIGTERM)
	if code := first.Wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, first.Output())
	}
	if n := len(smtp.Messages()); n != 0 {
		t.Fatalf("%d mails while the server was down", n)
	}
	smtp.Up()

	second := binary.Start(t, spiffyBin, dataDir, flags...)
	msgs := smtp.Wait(1, 40*time.Second)
	m := msgs[0]
	if len(m.To) != 1 || m.To[0] != "paula@partners.example" || !strings.Contains(m.Subject(), "invited") {
		t.Fatalf("mail to %v: %q", m.To, m.Subject())
	}
	link := m.Link("/portal/invite/")
	_, token, ok := strings.Cut(link, "/portal/invite/")
	if !ok || !strings.HasSuffix(aff.InviteURL, "/portal/invite/"+token) {
		t.Fatalf("mailed link %q, answered invite_url %q", link, aff.InviteURL)
	}
	resp, err := http.Get(second.Base + "/portal/invite/" + token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the mailed invite link after the restart: %d", resp.StatusCode)
	}
	// Sent is recorded: the job does not send it again.
	time.Sleep(2500 * time.Millisecond)
	if n := len(smtp.Messages()); n != 1 {
		t.Fatalf("%d mails, want the invite once", n)
	}
	resp, err = http.Get(second.Base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	metrics := string(body)
	if !strings.Contains(metrics, "spiffy_mail_sent_total 1") || !strings.Contains(metrics, "spiffy_mail_queued 0") {
		t.Fatalf("metrics after sending:\n%s", grepMail(metrics))
	}
}

func grepMail(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "spiffy_mail") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
