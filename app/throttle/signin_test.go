package throttle

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testSignIns() *SignIns {
	return NewSignIns(SignInOptions{
		IP:      Backoff{Free: 3, First: time.Second, Max: 15 * time.Minute},
		Account: Backoff{Free: 5, First: time.Second, Max: 15 * time.Minute},
		Forget:  24 * time.Hour,
		MaxKeys: 1000,
	})
}

// waitOf is how long an attempt would have to wait (0: it may try now),
// without attempting.
func waitOf(t *testing.T, s *SignIns, account, ip string, now time.Time) time.Duration {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.until(account, ip, now).Sub(now)
}

// wrong is an attempt, let through, with a wrong password.
func wrong(t *testing.T, s *SignIns, account, ip string, now time.Time) {
	t.Helper()
	if err := s.Attempt(account, ip, now); err != nil {
		t.Fatalf("attempt of %s from %s refused: %v", account, ip, err)
	}
}

// right is an attempt, let through, with the right password.
func right(t *testing.T, s *SignIns, account, ip string, now time.Time) {
	t.Helper()
	wrong(t, s, account, ip, now)
	s.Succeeded(account, ip)
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Free: 3, First: time.Second, Max: 15 * time.Minute}
	for n, want := range map[int]time.Duration{0: 0, 1: 0, 2: 0, 3: time.Second, 4: 2 * time.Second, 5: 4 * time.Second,
		12: 512 * time.Second, 13: 15 * time.Minute, 60: 15 * time.Minute, 1 << 30: 15 * time.Minute} {
		if got := b.Delay(n); got != want {
			t.Errorf("Delay(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestSignInsGrowingDelaysPerIP(t *testing.T) {
	s := testSignIns()
	now := t0
	// Each failure from one address, on whichever account, lengthens its
	// wait: 3 free, then 1s, 2s, 4s, … up to 15 minutes.
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := waitOf(t, s, fmt.Sprintf("admin:u%d@example.com", i), "203.0.113.9", now); got != w {
			t.Fatalf("attempt %d: wait %s, want %s", i+1, got, w)
		}
		now = now.Add(w)
		wrong(t, s, fmt.Sprintf("admin:u%d@example.com", i), "203.0.113.9", now)
	}
	// Halfway through a wait, the rest of it; not a failure, so no longer.
	if got := waitOf(t, s, "admin:x@example.com", "203.0.113.9", now.Add(8*time.Second)); got != 8*time.Second {
		t.Fatalf("wait %s, want 8s", got)
	}
	for i := 0; i < 40; i++ {
		now = now.Add(waitOf(t, s, "admin:x@example.com", "203.0.113.9", now))
		wrong(t, s, "admin:x@example.com", "203.0.113.9", now)
	}
	if got := waitOf(t, s, "admin:x@example.com", "203.0.113.9", now); got != 15*time.Minute {
		t.Fatalf("wait %s, want the 15 minute cap", got)
	}
	// Another address is not slowed by this one.
	if got := waitOf(t, s, "admin:y@example.com", "198.51.100.7", now); got != 0 {
		t.Fatalf("another address waits %s", got)
	}
	// A day without failures forgets the address.
	if got := waitOf(t, s, "admin:x@example.com", "203.0.113.9", now.Add(24*time.Hour)); got != 0 {
		t.Fatalf("after a day: wait %s", got)
	}
}

// The lockout anyone could trigger: wrong passwords for the owner's email
// from one address must not refuse the owner at another.
func TestSignInsAccountUnderAttackLetsCleanAddressesIn(t *testing.T) {
	s := testSignIns()
	const owner = "admin:owner@shop.example"
	now := t0
	// Attackers from many addresses, each waiting out its own delay.
	for i := 0; i < 30; i++ {
		ip := fmt.Sprintf("203.0.113.%d", i%6)
		now = now.Add(waitOf(t, s, owner, ip, now))
		wrong(t, s, owner, ip, now)
	}
	// The owner's clean address: never refused, however long the attack.
	if got := waitOf(t, s, owner, "192.0.2.1", now); got != 0 {
		t.Fatalf("a clean address waits %s for an account under attack", got)
	}
	// An attacking address waits the account's delay, longer than its own.
	acct := s.o.Account.Delay(30)
	if got := waitOf(t, s, owner, "203.0.113.0", now); got != acct {
		t.Fatalf("attacking address waits %s, want the account's %s", got, acct)
	}
	// A fresh address gets its guess; once wrong, it waits the account's
	// delay too (its own would be none yet).
	if got := waitOf(t, s, owner, "198.51.100.1", now); got != 0 {
		t.Fatalf("new address waits %s before guessing", got)
	}
	wrong(t, s, owner, "198.51.100.1", now)
	if got := waitOf(t, s, owner, "198.51.100.1", now); got != s.o.Account.Delay(31) {
		t.Fatalf("after one wrong guess: wait %s, want the account's %s", got, s.o.Account.Delay(31))
	}
	// So does an address that failed on another account.
	wrong(t, s, "admin:other@shop.example", "198.51.100.2", now)
	if got := waitOf(t, s, owner, "198.51.100.2", now); got != s.o.Account.Delay(31) {
		t.Fatalf("address with a failure elsewhere: wait %s, want the account's", got)
	}
	// The owner's sign-in does not end the attack.
	right(t, s, owner, "192.0.2.1", now)
	if got := waitOf(t, s, owner, "203.0.113.0", now); got == 0 {
		t.Fatal("the owner's sign-in cleared the attackers' wait")
	}
	// A password reset does: the guesses were at the old password.
	s.ForgetAccount(owner)
	if got := waitOf(t, s, owner, "198.51.100.1", now); got != 0 {
		t.Fatalf("after a reset: wait %s (the address's own failure alone is free)", got)
	}
}

func TestSignInsSuccessForgivesOnlyItsOwnTypos(t *testing.T) {
	s := testSignIns()
	const ip = "192.0.2.1"
	now := t0
	// Two typos of one's own, and two guesses at someone else's account.
	wrong(t, s, "affiliate:me@example.com", ip, now)
	wrong(t, s, "affiliate:me@example.com", ip, now)
	wrong(t, s, "affiliate:victim@example.com", ip, now)
	now = now.Add(time.Second)
	wrong(t, s, "affiliate:victim@example.com", ip, now)
	if got := waitOf(t, s, "affiliate:me@example.com", ip, now); got != 2*time.Second {
		t.Fatalf("wait %s, want 2s after 4 failures", got)
	}
	now = now.Add(2 * time.Second)
	right(t, s, "affiliate:me@example.com", ip, now)
	// The two guesses at the victim remain: one more failure and the
	// address waits again.
	if got := waitOf(t, s, "affiliate:me@example.com", ip, now); got != 0 {
		t.Fatalf("after signing in: wait %s", got)
	}
	wrong(t, s, "affiliate:victim@example.com", ip, now)
	if got := waitOf(t, s, "affiliate:victim@example.com", ip, now); got != time.Second {
		t.Fatalf("wait %s, want 1s: the victim's guesses were not forgiven", got)
	}
	// Only typos: the right password wipes the address clean.
	wrong(t, s, "admin:a@example.com", "192.0.2.2", now)
	wrong(t, s, "admin:a@example.com", "192.0.2.2", now)
	right(t, s, "admin:a@example.com", "192.0.2.2", now)
	if ips, _, _ := s.Size(); ips != 1 {
		t.Fatalf("%d addresses remembered, want 1 (the forgiven one forgotten)", ips)
	}
}

func TestSignInsMemoryIsBounded(t *testing.T) {
	s := NewSignIns(SignInOptions{IP: Backoff{Free: 3, First: time.Second, Max: time.Minute},
		Account: Backoff{Free: 5, First: time.Second, Max: time.Minute}, Forget: time.Hour, MaxKeys: 100})
	now := t0
	for i := 0; i < 1000; i++ {
		wrong(t, s, fmt.Sprintf("admin:%d@example.com", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256), now)
	}
	if ips, accounts, pairs := s.Size(); ips != 100 || accounts != 100 || pairs != 100 {
		t.Fatalf("remembered %d ips, %d accounts, %d pairs; want 100 each", ips, accounts, pairs)
	}
	// The busiest key, failing all along, is not the one forgotten.
	for i := 0; i < 500; i++ {
		now = now.Add(waitOf(t, s, "admin:target@example.com", "203.0.113.1", now))
		wrong(t, s, "admin:target@example.com", "203.0.113.1", now)
		wrong(t, s, fmt.Sprintf("admin:spray%d@example.com", i), fmt.Sprintf("10.1.%d.%d", i/256, i%256), now)
	}
	if got := waitOf(t, s, "admin:target@example.com", "203.0.113.1", now); got != time.Minute {
		t.Fatalf("the attacked account's address waits %s, want the cap", got)
	}
	// Stale keys go when new ones come.
	wrong(t, s, "admin:late@example.com", "198.51.100.1", now.Add(2*time.Hour))
	if ips, accounts, pairs := s.Size(); ips != 1 || accounts != 1 || pairs != 1 {
		t.Fatalf("after an hour: %d ips, %d accounts, %d pairs remembered; want 1 each", ips, accounts, pairs)
	}
}

// A burst of concurrent guesses from one address: each counts from the
// moment it is let through, so no more than the free ones pass.
func TestSignInsConcurrentGuessesCountAtOnce(t *testing.T) {
	s := testSignIns()
	var wg sync.WaitGroup
	var passed atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Attempt("admin:owner@shop.example", "203.0.113.9", t0) == nil {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := passed.Load(); n != 3 {
		t.Fatalf("%d concurrent guesses let through, want the 3 free ones", n)
	}
}

func TestRate(t *testing.T) {
	r := NewRate(6*time.Minute, 3, 100)
	now := t0
	for i := 0; i < 3; i++ {
		if err := r.Take("192.0.2.1", now); err != nil {
			t.Fatalf("request %d of the burst refused: %v", i+1, err)
		}
	}
	err := r.Take("192.0.2.1", now)
	if d, ok := RetryAfter(err); !ok || d != 6*time.Minute || !errors.Is(err, ErrThrottled) {
		t.Fatalf("past the burst: %v, want a 6 minute wait", err)
	}
	// A refusal spends nothing: a minute later, five more to wait.
	if d, _ := RetryAfter(r.Take("192.0.2.1", now.Add(time.Minute))); d != 5*time.Minute {
		t.Fatalf("wait %s, want 5m", d)
	}
	if err := r.Take("192.0.2.2", now); err != nil {
		t.Fatalf("another key refused: %v", err)
	}
	// One request per interval from then on.
	now = now.Add(6 * time.Minute)
	if err := r.Take("192.0.2.1", now); err != nil {
		t.Fatal(err)
	}
	if err := r.Take("192.0.2.1", now); err == nil {
		t.Fatal("two requests in one interval")
	}
	// A full bucket is forgotten: it behaves as a new one.
	now = now.Add(time.Hour)
	if err := r.Take("192.0.2.3", now); err != nil {
		t.Fatal(err)
	}
	if n := r.Size(); n != 1 {
		t.Fatalf("%d keys remembered, want 1", n)
	}
	for i := 0; i < 1000; i++ {
		_ = r.Take(fmt.Sprint("10.0.0.", i), now)
	}
	if n := r.Size(); n != 100 {
		t.Fatalf("%d keys remembered, want at most 100", n)
	}
}
