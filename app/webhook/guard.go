package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// TargetError says why a webhook target was refused. The message is meant
// for the affiliate who typed the URL.
type TargetError struct{ Reason string }

func (e *TargetError) Error() string { return "webhook: target refused: " + e.Reason }

// nonPublic lists special-purpose ranges (RFC 6890 and successors) that
// netip's predicates do not cover. Nothing on them is a legitimate public
// webhook receiver, and several reach the appliance's own network.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo, ORCHID, …)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
}

// Ranges whose addresses embed an IPv4 address.
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

// PublicAddr reports whether ip is an ordinary public unicast address: not
// loopback, private, link-local, CGNAT, multicast, unspecified, or any
// other special-purpose range. Addresses that embed an IPv4 address
// (IPv4-mapped, NAT64, 6to4) are judged by the embedded address.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip) || nat64Local.Contains(ip):
			return PublicAddr(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return PublicAddr(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() ||
		ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// checkAddr refuses a non-public address with a readable reason.
func checkAddr(ip netip.Addr) error {
	if PublicAddr(ip) {
		return nil
	}
	return &TargetError{Reason: fmt.Sprintf("%s is not a public internet address (loopback, private, link-local and other special ranges are not allowed)", ip.Unmap())}
}

// LookupFunc resolves a host name to addresses.
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// DefaultLookup resolves with the system resolver.
func DefaultLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// Guard checks webhook URLs when they are saved. The client repeats the
// address check at connect time (see NewClient), which is what stops DNS
// rebinding; this check gives the affiliate an immediate, clear answer.
type Guard struct {
	// AllowPrivate turns the address checks off (webhooks.allow_private_targets).
	AllowPrivate bool
	// Lookup resolves host names; nil means DefaultLookup.
	Lookup LookupFunc
}

// CheckURL validates a webhook URL: absolute http(s), no credentials, at
// most 2,048 bytes, and (unless private targets are allowed) a host that
// resolves only to public addresses. It returns the parsed URL.
func (g Guard) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	if len(raw) > 2048 {
		return nil, &TargetError{Reason: "the URL is longer than 2048 characters"}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, &TargetError{Reason: "enter an absolute http:// or https:// URL"}
	}
	if u.User != nil {
		return nil, &TargetError{Reason: "the URL must not contain a user name or password"}
	}
	if u.Fragment != "" || strings.ContainsAny(raw, " \t\r\n") {
		return nil, &TargetError{Reason: "the URL must not contain spaces or a #fragment"}
	}
	if g.AllowPrivate {
		return u, nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return u, checkAddr(ip)
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return nil, &TargetError{Reason: host + " is this machine"}
	}
	lookup := g.Lookup
	if lookup == nil {
		lookup = DefaultLookup
	}
	addrs, err := lookup(ctx, host)
	if err != nil || len(addrs) == 0 {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound || err == nil {
			return nil, &TargetError{Reason: "the host name " + host + " does not exist"}
		}
		return nil, &TargetError{Reason: "the host name " + host + " could not be resolved; try again"}
	}
	for _, ip := range addrs {
		if err := checkAddr(ip); err != nil {
			return nil, &TargetError{Reason: host + " resolves to " + ip.Unmap().String() + ", which is not a public internet address"}
		}
	}
	return u, nil
}
