package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// ClientOptions configures a Client.
type ClientOptions struct {
	// Timeout bounds one attempt: connect, send, and the response headers
	// and body (webhooks.timeout).
	Timeout time.Duration
	// AllowPrivate lets the client connect to non-public addresses
	// (webhooks.allow_private_targets).
	AllowPrivate bool
	// Lookup, when set, resolves host names instead of the system resolver
	// (tests use it to simulate DNS rebinding). The connect-time address
	// check applies either way.
	Lookup LookupFunc
	// MaxBody is how much of a response body is read (default 4 KiB); the
	// rest is dropped with the connection.
	MaxBody int64
	// UserAgent is sent with every request.
	UserAgent string
	// MaxConnsPerHost is how many idle keep-alive connections are kept per
	// host (default 8). Many affiliates share one host (hooks.zapier.com),
	// so the dispatcher sets it to its total concurrency.
	MaxConnsPerHost int
}

// Client sends signed webhook requests.
type Client struct {
	hc      *http.Client
	maxBody int64
	ua      string
	timeout time.Duration
}

// NewClient builds a client. Every connection goes through a net.Dialer
// whose Control hook checks the address actually being connected to, after
// DNS resolution: a host that resolved to a public address when it was
// saved but to 127.0.0.1 now (DNS rebinding) is still refused. Redirects are
// not followed and no proxy from the environment is used.
func NewClient(o ClientOptions) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 4 << 10
	}
	if o.UserAgent == "" {
		o.UserAgent = "Spiffy-Webhooks/1"
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = 8
	}
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &TargetError{Reason: "cannot check address " + address}
			}
			return checkAddr(ap.Addr())
		}
	}
	dial := dialer.DialContext
	if o.Lookup != nil {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			var ips []netip.Addr
			if ip, err := netip.ParseAddr(host); err == nil {
				ips = []netip.Addr{ip}
			} else if ips, err = o.Lookup(ctx, host); err != nil {
				return nil, err
			}
			var firstErr error
			for _, ip := range ips {
				c, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
				if err == nil {
					return c, nil
				}
				if firstErr == nil {
					firstErr = err
				}
			}
			if firstErr == nil {
				firstErr = &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			return nil, firstErr
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would hide the real target from the address check
		DialContext:           dial,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   o.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Client{
		hc: &http.Client{
			Transport:     tr,
			Timeout:       o.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		maxBody: o.MaxBody,
		ua:      o.UserAgent,
		timeout: o.Timeout,
	}
}

// CloseIdle closes idle keep-alive connections.
func (c *Client) CloseIdle() { c.hc.CloseIdleConnections() }

// Request is one attempt to deliver a message.
type Request struct {
	URL       string
	Secret    string // whsec_…
	ID        string // webhook-id: the message id, the same on every retry
	Timestamp time.Time
	Body      []byte
}

// Result is the outcome of one attempt.
type Result struct {
	StatusCode int // 0 when no response arrived
	Latency    time.Duration
	Err        error  // transport error, or nil
	Detail     string // short readable reason when not OK
}

// OK reports whether the receiver accepted the message (2xx in time).
func (r Result) OK() bool { return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300 }

// Send makes one signed POST. It never follows redirects, reads at most
// MaxBody bytes of the response, and gives up after Timeout.
func (c *Client) Send(ctx context.Context, r Request) Result {
	key, err := SecretKey(r.Secret)
	if err != nil {
		return Result{Err: err, Detail: "the endpoint's signing secret is invalid"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Result{Err: err, Detail: "the endpoint URL is invalid"}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", c.ua)
	h.Set(HeaderID, r.ID)
	h.Set(HeaderTimestamp, strconv.FormatInt(r.Timestamp.Unix(), 10))
	h.Set(HeaderSignature, Sign(key, r.ID, r.Timestamp, r.Body))
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Err: err, Detail: c.describe(err)}
	}
	snippet, rerr := readSome(resp.Body, c.maxBody)
	resp.Body.Close()
	res := Result{StatusCode: resp.StatusCode, Latency: time.Since(start)}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Detail = fmt.Sprintf("HTTP %d redirect (not followed): %s", resp.StatusCode, resp.Header.Get("Location"))
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		res.Detail = fmt.Sprintf("HTTP %d", resp.StatusCode)
		if snippet != "" {
			res.Detail += ": " + snippet
		}
	case rerr != nil && ctx.Err() != nil:
		// A 2xx whose body did not finish within the timeout: the contract
		// asks for a 2xx *within* webhooks.timeout, so this is a failure.
		res.Err = rerr
		res.Detail = c.describe(rerr)
	}
	return res
}

// readSome reads up to max bytes and returns a short printable excerpt.
func readSome(body io.Reader, max int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(body, max))
	if err != nil {
		return "", err
	}
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Join(strings.Fields(s), " ")
	const keep = 200
	if len(s) > keep {
		cut := keep
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s, nil
}

// describe turns a transport error into a short reason for the delivery log.
func (c *Client) describe(err error) string {
	var te *TargetError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &te):
		return "refused: " + te.Reason
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return fmt.Sprintf("no answer within %s", c.timeout)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &dnsErr):
		return "could not resolve host " + dnsErr.Name
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
