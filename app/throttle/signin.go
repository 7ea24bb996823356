package throttle

import (
	"sync"
	"time"
)

// Backoff is a growing delay: after Free failures, the next attempt waits
// First; each further failure doubles the wait, up to Max.
type Backoff struct {
	Free  int
	First time.Duration
	Max   time.Duration
}

// Delay is the wait after n failures.
func (b Backoff) Delay(n int) time.Duration {
	if n < b.Free || n <= 0 || b.First <= 0 {
		return 0
	}
	d := b.First
	for i := b.Free; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// SignInOptions are a SignIns' limits.
type SignInOptions struct {
	IP      Backoff       // failures from one address, whatever the account
	Account Backoff       // failures on one account, from every address
	Forget  time.Duration // failures are forgotten this long after a key's last one
	MaxKeys int           // addresses (and accounts, and pairs) remembered at most
}

// SignIns throttles failed sign-ins with growing delays, per client IP and
// per account, without letting anyone lock an account's owner out.
//
// Three counters grow with each wrong password: the IP's (every account),
// the account's (every IP) and the pair's (this account from this IP).
// An attempt waits for:
//
//   - the IP's delay, always: one address cannot guess quickly at any
//     account;
//   - the account's delay, only when the IP has failed lately. An account
//     under attack from many addresses thus slows every address that has
//     guessed wrong (each new address gets one guess, then waits the
//     account's delay like the others), while the owner signing in from
//     an address that has not failed is never refused: the account's
//     counter alone never blocks anyone. Without this rule, five wrong
//     passwords from anywhere would lock the owner out from everywhere.
//
// The right password forgives the pair: the IP's failures on this account
// are taken off the IP's count (a person's own typos), and the pair's
// counter goes. The IP's failures on other accounts stay, so signing in to
// an account of one's own (anyone can join) does not wipe a record of
// guesses at others. The account's counter stays too: the owner signing in
// does not end an attack on the account; its failures are forgotten after
// Forget without new ones, or at once after a password reset
// (ForgetAccount).
//
// An attempt counts as a failure from the moment it is let through, until
// Succeeded says otherwise: checking a password takes a while (bcrypt), and
// counting only once it proved wrong would let a burst of concurrent
// guesses all pass the check. Attempts refused for waiting are not
// failures: they do not lengthen the wait. Memory is bounded by MaxKeys per
// counter; under a flood of new keys the least recently failed are
// forgotten first.
type SignIns struct {
	mu                   sync.Mutex
	o                    SignInOptions
	ips, accounts, pairs *table
}

// NewSignIns is a sign-in throttle with these limits.
func NewSignIns(o SignInOptions) *SignIns {
	return &SignIns{o: o,
		ips: newTable(o.MaxKeys, o.Forget), accounts: newTable(o.MaxKeys, o.Forget), pairs: newTable(o.MaxKeys, o.Forget)}
}

// Attempt is a *WaitError saying how long to wait when account may not try
// to sign in from ip at now. Otherwise it is nil and the attempt counts as
// a failure until Succeeded.
func (s *SignIns) Attempt(account, ip string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := wait(s.until(account, ip, now), now); err != nil {
		return err
	}
	for _, e := range []*entry{s.ips.touch(ip, now), s.accounts.touch(account, now), s.pairs.touch(pair(account, ip), now)} {
		e.n++
		e.at = now
	}
	return nil
}

// until is when account may next try from ip: now, or later while the
// address or (for an address that has failed) the account waits. s.mu is
// held.
func (s *SignIns) until(account, ip string, now time.Time) time.Time {
	from := s.ips.get(ip, now)
	if from == nil || from.n == 0 {
		return now // an address that has not failed is never refused
	}
	until := from.at.Add(s.o.IP.Delay(from.n))
	if acc := s.accounts.get(account, now); acc != nil {
		if u := acc.at.Add(s.o.Account.Delay(acc.n)); u.After(until) {
			until = u
		}
	}
	return until
}

// Succeeded says the attempt of account from ip had the right password:
// it is no failure of the account's, and the IP's failures on this
// account are forgiven.
func (s *SignIns) Succeeded(account, ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts.forgive(account, 1)
	if p := s.pairs.remove(pair(account, ip)); p != nil {
		s.ips.forgive(ip, p.n)
	}
}

// ForgetAccount forgets the account's failures (its password changed: the
// guesses were at the old one).
func (s *SignIns) ForgetAccount(account string) {
	s.mu.Lock()
	s.accounts.remove(account)
	s.mu.Unlock()
}

// Size is how many IPs, accounts and pairs are remembered (for tests).
func (s *SignIns) Size() (ips, accounts, pairs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ips.len(), s.accounts.len(), s.pairs.len()
}

// pair is the key of an account from an address; the NUL cannot occur in
// either.
func pair(account, ip string) string { return account + "\x00" + ip }
