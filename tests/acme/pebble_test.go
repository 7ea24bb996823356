//go:build acme

package acme

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	testbin "github.com/spiffy/spiffy/tests/internal/binary"
)

// pebbleModule is Let's Encrypt's test ACME server, built from the module
// proxy (it is not a dependency of Spiffy's module: only this test runs it).
const pebbleModule = "github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3"

// Pebble is a running Pebble: its ACME directory, and the CA file that
// makes its own HTTPS (directory and management API) trusted.
type Pebble struct {
	Directory string // https://127.0.0.1:P/dir
	CAFile    string // PEM of the CA that signed Pebble's HTTPS certificate
	mgmt      string // https://127.0.0.1:M
	client    *http.Client
	out       *testbin.LockedBuffer
}

// buildPebble installs pebble into a temporary directory and returns its
// path. A failure (no module proxy, a build error) fails the test.
func buildPebble(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "install", pebbleModule)
	cmd.Dir = dir // outside Spiffy's module: `go install pkg@version` needs none
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building pebble (%s) failed; it comes from the Go module proxy: %v\n%s", pebbleModule, err, out)
	}
	return filepath.Join(dir, "pebble")
}

// startPebble runs pebble on loopback ports. Its validation authority asks
// dnsAddr for the test domain's address and fetches HTTP-01 challenges on
// httpPort (Spiffy's plain listener); tls-alpn-01 validation goes to
// tlsPort.
func startPebble(t *testing.T, bin, dnsAddr string, httpPort, tlsPort int) *Pebble {
	t.Helper()
	dir := t.TempDir()
	caPEM, certFile, keyFile := pebbleServingCert(t, dir)
	p := &Pebble{CAFile: filepath.Join(dir, "pebble-ca.pem"), out: &testbin.LockedBuffer{}}
	if err := os.WriteFile(p.CAFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	listen, mgmt := testbin.FreeAddr(t), testbin.FreeAddr(t)
	p.Directory, p.mgmt = "https://"+listen+"/dir", "https://"+mgmt
	var cfg struct {
		Pebble map[string]any `json:"pebble"`
	}
	cfg.Pebble = map[string]any{
		"listenAddress":                  listen,
		"managementListenAddress":        mgmt,
		"certificate":                    certFile,
		"privateKey":                     keyFile,
		"httpPort":                       httpPort,
		"tlsPort":                        tlsPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"keyAlgorithm":                   "ecdsa",
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
	}
	cfgFile := filepath.Join(dir, "pebble-config.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfgFile, "-dnsserver", dnsAddr)
	// No random sleeps before validating, and no nonces refused at random:
	// the test is about Spiffy, not about the client's retries. Validation
	// itself stays real (PEBBLE_VA_ALWAYS_VALID is not set).
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pebble: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("pebble's log:\n%s", p.out.String())
		}
	})

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	p.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := p.client.Get(p.Directory)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-exited:
			t.Fatalf("pebble exited:\n%s", p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble not answering after 20s: %v\n%s", err, p.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Issuer returns pebble's root and intermediate certificates, from its
// management API (they are made afresh each time pebble starts).
func (p *Pebble) Issuer(t *testing.T) (root, intermediate *x509.Certificate) {
	t.Helper()
	get := func(path string) *x509.Certificate {
		resp, err := p.client.Get(p.mgmt + path)
		if err != nil {
			t.Fatalf("pebble %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		block, _ := pem.Decode(b)
		if resp.StatusCode != http.StatusOK || block == nil {
			t.Fatalf("pebble %s: %d %s", path, resp.StatusCode, b)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return get("/roots/0"), get("/intermediates/0")
}

// Log is what pebble wrote so far.
func (p *Pebble) Log() string { return p.out.String() }

// pebbleServingCert makes a throwaway CA and, signed by it, the certificate
// pebble serves its directory with (for 127.0.0.1).
func pebbleServingCert(t *testing.T, dir string) (caPEM []byte, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "spiffy acme test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "pebble"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "pebble.pem"), filepath.Join(dir, "pebble.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), certFile, keyFile
}

// startDNS answers DNS over TCP on loopback (pebble's resolver uses TCP):
// A queries for domain get 127.0.0.1, everything else an empty answer. It
// stands in for the public DNS that points a real domain at the server.
func startDNS(t *testing.T, domain string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveDNS(conn, domain)
		}
	}()
	return ln.Addr().String()
}

func serveDNS(conn net.Conn, domain string) {
	defer conn.Close()
	for {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		var size [2]byte
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(conn, msg); err != nil {
			return
		}
		reply, err := dnsReply(msg, domain)
		if err != nil {
			return
		}
		if _, err := conn.Write(binary.BigEndian.AppendUint16(nil, uint16(len(reply)))); err != nil {
			return
		}
		if _, err := conn.Write(reply); err != nil {
			return
		}
	}
}

// dnsReply answers a one-question query (RFC 1035 §4.1).
func dnsReply(q []byte, domain string) ([]byte, error) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil, errors.New("dns: want one question")
	}
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return nil, errors.New("dns: short question")
		}
		n := int(q[i])
		i++
		if n == 0 {
			break
		}
		if n > 63 || i+n > len(q) {
			return nil, errors.New("dns: bad label")
		}
		labels = append(labels, string(q[i:i+n]))
		i += n
	}
	if i+4 > len(q) {
		return nil, errors.New("dns: short question")
	}
	qtype := binary.BigEndian.Uint16(q[i : i+2])
	question := q[12 : i+4]
	var r bytes.Buffer
	r.Write(q[0:2])                         // id
	r.Write([]byte{0x84 | q[2]&0x01, 0x80}) // QR, AA, RD as asked; RA; NOERROR
	answers := uint16(0)
	if qtype == 1 && strings.EqualFold(strings.Join(labels, "."), domain) {
		answers = 1
	}
	for _, n := range []uint16{1, answers, 0, 0} {
		r.Write(binary.BigEndian.AppendUint16(nil, n))
	}
	r.Write(question)
	if answers == 1 {
		// Name (a pointer to the question's), type A, class IN, TTL 60, 127.0.0.1.
		r.Write([]byte{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1})
	}
	return r.Bytes(), nil
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(p, &n)
	return n
}
