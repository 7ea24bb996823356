package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spiffy/spiffy/app/webhook"
	"github.com/spiffy/spiffy/store"
)

// The dispatcher delivers webhook messages. Work reaches it two ways:
//   - at once: the write that queues a message wakes it with tx.AfterCommit;
//   - from the due index: DeliverDueWebhooks (the cron job, and once at
//     start) scans pending messages whose next attempt has come, which is
//     how retries happen and how nothing is lost across restarts or a crash.
//
// Delivery is at least once: a message leaves the due index only in the
// write that records its successful (or final) attempt, so a crash between
// sending and recording sends it again, with the same webhook-id.
//
// Fairness: messages wait in per-endpoint queues served round-robin, with at
// most a few requests in flight per endpoint. Endpoints whose last attempt
// failed run in a separate, smaller lane, so dead receivers waiting out
// their timeouts can never take the slots healthy ones need. Nothing here
// runs on the tracking path: the AfterCommit hook only appends to a queue.

const (
	perEndpointHealthy = 4     // requests in flight to one healthy endpoint
	perEndpointFailing = 1     // … to one whose last attempt failed
	endpointQueueCap   = 1000  // messages of one endpoint held in memory
	totalQueueCap      = 50000 // messages held in memory (queued or in flight)
	scanBatch          = 5000  // messages taken from the due index per pass
)

// webhookRuntime is the App's handle on its dispatcher, created on first use
// so that tests and commands that never start workers still deliver.
type webhookRuntime struct {
	once sync.Once
	d    *dispatcher
}

func (a *App) dispatcher() *dispatcher {
	a.webhooks.once.Do(func() { a.webhooks.d = newDispatcher(a) })
	return a.webhooks.d
}

// dueRef names a message to deliver.
type dueRef struct {
	ID         string
	EndpointID string
	Failing    bool // the endpoint's last attempt failed (picks the lane)
}

type lane int

const (
	laneHealthy lane = iota
	laneFailing
)

type epState struct {
	id       string
	failing  bool
	queue    []string // message ids waiting for a slot
	inflight int
	inRing   bool
}

func (e *epState) lane() lane {
	if e.failing {
		return laneFailing
	}
	return laneHealthy
}

func (e *epState) limit() int {
	if e.failing {
		return perEndpointFailing
	}
	return perEndpointHealthy
}

type dispatcher struct {
	a      *App
	client *webhook.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	held    map[string]*epState // message id → endpoint, while queued or in flight
	eps     map[string]*epState
	ring    []*epState // endpoints with queued messages, served round-robin
	rr      int
	free    [2]int        // free slots per lane
	changed chan struct{} // closed on every completion when someone waits
	// endpoints caches endpoint records for attempts: every write of an
	// endpoint drops its entry (forget), and entries expire anyway.
	endpoints map[string]cachedEndpoint

	done   atomic.Int64 // messages finished (for waits and metrics)
	sent   atomic.Int64 // HTTP attempts made
	scanMu sync.Mutex   // one due-index scan at a time
}

func newDispatcher(a *App) *dispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	n := a.Config.Webhooks.Concurrency
	if n <= 0 {
		n = 16
	}
	failing := n / 4
	if failing < 2 {
		failing = 2
	}
	return &dispatcher{
		a: a,
		client: webhook.NewClient(webhook.Options{
			Timeout:         a.Config.Webhooks.Timeout,
			AllowPrivate:    a.Config.Webhooks.AllowPrivateTargets,
			MaxConnsPerHost: n + failing,
		}),
		ctx: ctx, cancel: cancel,
		held:      map[string]*epState{},
		eps:       map[string]*epState{},
		endpoints: map[string]cachedEndpoint{},
		free:      [2]int{n, failing},
	}
}

// startWorkers starts the dispatcher and hands it every message already due
// (left over from before a restart or a crash).
func (a *App) startWorkers(ctx context.Context) error {
	d := a.dispatcher()
	context.AfterFunc(ctx, d.cancel)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := a.DeliverDueWebhooks(d.ctx); err != nil && d.ctx.Err() == nil {
			a.Log.Error("webhooks: initial delivery of due messages", "err", err)
		}
	}()
	return nil
}

// stopWorkers cancels in-flight deliveries and waits for them. A cancelled
// attempt is not recorded: the message stays due and is sent again after
// the next start.
func (a *App) stopWorkers() {
	d := a.dispatcher()
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	d.client.CloseIdle()
}

// enqueue takes messages to deliver and returns how many it accepted
// (ones already held, or beyond the memory caps, are left to the next scan
// of the due index). It never blocks: it runs in the store's writer.
func (d *dispatcher) enqueue(refs []dueRef) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return 0
	}
	n := 0
	for _, r := range refs {
		if _, ok := d.held[r.ID]; ok || len(d.held) >= totalQueueCap {
			continue
		}
		ep := d.eps[r.EndpointID]
		if ep == nil {
			ep = &epState{id: r.EndpointID, failing: r.Failing}
			d.eps[r.EndpointID] = ep
		}
		if len(ep.queue) >= endpointQueueCap {
			continue
		}
		ep.queue = append(ep.queue, r.ID)
		d.held[r.ID] = ep
		if !ep.inRing {
			ep.inRing = true
			d.ring = append(d.ring, ep)
		}
		n++
	}
	d.pump()
	return n
}

// pump starts deliveries while slots are free, one message per endpoint per
// round so that a large backlog for one endpoint does not starve the rest.
// d.mu is held.
func (d *dispatcher) pump() {
	for !d.stopped {
		started := false
		n := len(d.ring)
		for k := 0; k < n; k++ {
			if d.free[laneHealthy] == 0 && d.free[laneFailing] == 0 {
				break
			}
			ep := d.ring[(d.rr+k)%n]
			l := ep.lane()
			if len(ep.queue) == 0 || ep.inflight >= ep.limit() || d.free[l] == 0 {
				continue
			}
			id := ep.queue[0]
			ep.queue[0] = ""
			ep.queue = ep.queue[1:]
			ep.inflight++
			d.free[l]--
			d.wg.Add(1)
			go d.deliver(ep, id, l)
			started = true
		}
		if n > 0 {
			d.rr = (d.rr + 1) % n
		}
		// Drop endpoints with nothing queued from the ring.
		kept := d.ring[:0]
		for _, ep := range d.ring {
			if len(ep.queue) > 0 {
				kept = append(kept, ep)
			} else {
				ep.inRing = false
			}
		}
		clear(d.ring[len(kept):])
		d.ring = kept
		if !started {
			return
		}
	}
}

// endpointCacheTTL bounds how stale a cached endpoint can be even if a
// write forgot to drop it.
const endpointCacheTTL = 2 * time.Second

type cachedEndpoint struct {
	ep      *store.WebhookEndpoint
	expires time.Time
}

// endpoint returns the endpoint from the cache or, on a miss, from tx. The
// record is shared: callers must not change it.
func (d *dispatcher) endpoint(tx *store.Tx, id string) (*store.WebhookEndpoint, error) {
	now := time.Now()
	d.mu.Lock()
	c, ok := d.endpoints[id]
	d.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.ep, nil
	}
	ep, err := tx.WebhookEndpoint(id)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if len(d.endpoints) > 10000 {
		clear(d.endpoints)
	}
	d.endpoints[id] = cachedEndpoint{ep: ep, expires: now.Add(endpointCacheTTL)}
	d.mu.Unlock()
	return ep, nil
}

// forget drops what the dispatcher remembers of an endpoint after it was
// written (enabled, rotated, deleted, its failure streak changed), so the
// next attempt reads it afresh and its lane is judged again.
func (d *dispatcher) forget(endpointID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.endpoints, endpointID)
	if ep := d.eps[endpointID]; ep != nil {
		ep.failing = false
		d.pump()
	}
}

// forgetAfter drops the endpoint from the cache once tx has committed.
func (d *dispatcher) forgetAfter(tx *store.Tx, endpointID string) {
	tx.AfterCommit(func() {
		d.mu.Lock()
		delete(d.endpoints, endpointID)
		d.mu.Unlock()
	})
}

func (d *dispatcher) deliver(ep *epState, id string, l lane) {
	defer d.wg.Done()
	out := d.a.attemptWebhook(d.ctx, id)
	d.mu.Lock()
	ep.inflight--
	d.free[l]++
	if out.sent {
		ep.failing = !out.res.OK()
	}
	d.pump()
	d.mu.Unlock()

	if out.sent && d.ctx.Err() == nil {
		d.sent.Add(1)
		if err := d.a.recordWebhookAttempt(id, out); err != nil {
			d.a.Log.Error("webhooks: record attempt", "message", id, "err", err)
		}
	} else if out.drop != "" {
		if err := d.a.dropWebhookMessage(id, out.drop); err != nil {
			d.a.Log.Error("webhooks: drop message", "message", id, "err", err)
		}
	}

	d.mu.Lock()
	delete(d.held, id)
	if ep.inflight == 0 && len(ep.queue) == 0 && d.eps[ep.id] == ep {
		delete(d.eps, ep.id)
	}
	if d.changed != nil {
		close(d.changed)
		d.changed = nil
	}
	d.mu.Unlock()
	d.done.Add(1)
}

// heldCount is how many messages are queued or in flight, and a channel
// closed at the next completion.
func (d *dispatcher) heldCount() (int, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.changed == nil {
		d.changed = make(chan struct{})
	}
	return len(d.held), d.changed
}

// waitBelow waits until at most n messages are held, ctx ends, or no
// message completes for stall. It reports whether the level was reached.
func (d *dispatcher) waitBelow(ctx context.Context, n int, stall time.Duration) bool {
	timer := time.NewTimer(stall)
	defer timer.Stop()
	for {
		held, changed := d.heldCount()
		if held <= n {
			return true
		}
		select {
		case <-changed:
			if !timer.Stop() {
				<-timer.C
			}
			timer.Reset(stall)
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// WaitWebhooks waits until no webhook message is queued or in flight in
// this process, or ctx ends. Tests and benchmarks use it.
func (a *App) WaitWebhooks(ctx context.Context) error {
	d := a.dispatcher()
	for {
		held, changed := d.heldCount()
		if held == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WebhookStats reports the dispatcher's counters: HTTP attempts made and
// messages queued or in flight now.
func (a *App) WebhookStats() (attempts int64, held int) {
	d := a.dispatcher()
	h, _ := d.heldCount()
	return d.sent.Load(), h
}

// DeliverDueWebhooks hands every pending message whose next attempt has
// come to the dispatcher and waits while they are delivered. It returns when
// nothing due is left, when deliveries stop making progress for longer than
// the webhook timeout (a slow endpoint keeps its messages; the next run
// continues), or when ctx ends. It also prunes the delivery log.
func (a *App) DeliverDueWebhooks(ctx context.Context) error {
	d := a.dispatcher()
	d.scanMu.Lock()
	defer d.scanMu.Unlock()
	if err := a.pruneWebhookLog(); err != nil {
		a.Log.Warn("webhooks: prune delivery log", "err", err)
	}
	stall := a.Config.Webhooks.Timeout + 2*time.Second
	for ctx.Err() == nil {
		refs, err := a.scanDue(d)
		if err != nil {
			return err
		}
		if len(refs) == 0 || d.enqueue(refs) == 0 {
			break
		}
		if !d.waitBelow(ctx, scanBatch/2, stall) {
			return nil
		}
	}
	d.waitBelow(ctx, 0, stall)
	return nil
}

// scanDue reads up to scanBatch due messages the dispatcher does not hold,
// at most what each endpoint's queue can take, and looks up the lane of
// endpoints it has no state for.
func (a *App) scanDue(d *dispatcher) ([]dueRef, error) {
	now := a.Now()
	var refs []dueRef
	room := map[string]int{}
	unknown := map[string]bool{}
	err := a.DB.View(func(tx *store.Tx) error {
		return tx.DueWebhookMessages(now, func(m store.DueMessage) bool {
			d.mu.Lock()
			_, held := d.held[m.ID]
			r, seen := room[m.EndpointID]
			if !seen {
				r = endpointQueueCap
				if ep := d.eps[m.EndpointID]; ep != nil {
					r -= len(ep.queue)
				} else {
					unknown[m.EndpointID] = true
				}
			}
			d.mu.Unlock()
			if held || r <= 0 {
				room[m.EndpointID] = r
				return true
			}
			room[m.EndpointID] = r - 1
			refs = append(refs, dueRef{ID: m.ID, EndpointID: m.EndpointID})
			return len(refs) < scanBatch
		})
	})
	if err != nil || len(unknown) == 0 {
		return refs, err
	}
	failing := map[string]bool{}
	err = a.DB.View(func(tx *store.Tx) error {
		for id := range unknown {
			ep, err := tx.WebhookEndpoint(id)
			if err == nil {
				failing[id] = ep.FailingSince != nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	for i := range refs {
		refs[i].Failing = failing[refs[i].EndpointID]
	}
	return refs, err
}

// attemptOutcome is what one delivery try did.
type attemptOutcome struct {
	sent bool // an HTTP attempt was made (or refused at connect time)
	at   time.Time
	res  webhook.Result
	drop string // not sent, and the message must be closed: the reason
	// clean: the endpoint had no failure streak when read, so a success
	// needs no endpoint write.
	clean bool
}

// attemptWebhook re-reads the message (another worker, a resend or an
// erasure may have changed it since it was queued) and makes one attempt.
func (a *App) attemptWebhook(ctx context.Context, id string) attemptOutcome {
	var m *store.WebhookMessage
	var ep *store.WebhookEndpoint
	now := a.Now()
	err := a.DB.View(func(tx *store.Tx) error {
		var err error
		if m, err = tx.WebhookMessage(id); err != nil {
			return err
		}
		if m.Status != store.MessagePending || m.NextAttemptAt.After(now) {
			m = nil
			return nil
		}
		ep, err = a.dispatcher().endpoint(tx, m.EndpointID)
		return err
	})
	switch {
	case err != nil && errors.Is(err, store.ErrNotFound) && m != nil:
		return attemptOutcome{drop: "endpoint deleted"}
	case err != nil:
		if !errors.Is(err, store.ErrNotFound) {
			a.Log.Error("webhooks: read message", "message", id, "err", err)
		}
		return attemptOutcome{}
	case m == nil:
		return attemptOutcome{}
	case ep.Disabled:
		return attemptOutcome{drop: "endpoint disabled"}
	}
	res := a.dispatcher().client.Send(ctx, webhook.Request{URL: ep.URL, Secret: ep.Secret, ID: m.ID, Timestamp: now, Body: m.Payload})
	if ctx.Err() != nil {
		return attemptOutcome{} // stopping: not the receiver's fault, leave it due
	}
	return attemptOutcome{sent: true, at: now, res: res, clean: ep.FailingSince == nil && ep.LastError == ""}
}

// recordWebhookAttempt logs an attempt on its message and moves it on:
// delivered, due again per the retry schedule, or failed. It also keeps the
// endpoint's failure streak, disabling an endpoint that has failed without
// a single success for WebhookFailingLimit.
func (a *App) recordWebhookAttempt(id string, out attemptOutcome) error {
	return a.DB.Update(func(tx *store.Tx) error {
		ok := out.res.OK()
		att := store.WebhookAttempt{At: out.at, StatusCode: out.res.StatusCode, LatencyMS: out.res.Latency.Milliseconds()}
		if !ok {
			att.Error = out.res.Detail
			if att.Error == "" {
				att.Error = "failed"
			}
		}
		now := a.Now()
		m, err := tx.EditWebhookMessage(id, func(m *store.WebhookMessage) error {
			m.Attempts = append(m.Attempts, att)
			if len(m.Attempts) > maxAttemptLog {
				m.Attempts = append(m.Attempts[:0], m.Attempts[len(m.Attempts)-maxAttemptLog:]...)
			}
			m.Tries++
			switch delay, more := webhook.RetryDelay(m.Tries); {
			case ok:
				m.Status = store.MessageDelivered
			case more:
				m.NextAttemptAt = now.Add(delay)
			default:
				m.Status = store.MessageFailed
			}
			return nil
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted meanwhile (endpoint deleted)
		}
		if err != nil {
			return err
		}
		if ok && out.clean {
			return nil // the common case: a healthy endpoint stays healthy
		}
		return a.noteEndpointHealth(tx, m.EndpointID, ok, att.Error, now)
	})
}

func (a *App) noteEndpointHealth(tx *store.Tx, endpointID string, ok bool, lastErr string, now time.Time) error {
	ep, err := tx.WebhookEndpoint(endpointID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	a.dispatcher().forgetAfter(tx, endpointID)
	if ok {
		if ep.FailingSince == nil && ep.LastError == "" {
			return nil
		}
		ep.FailingSince, ep.LastError = nil, ""
		return tx.PutWebhookEndpoint(ep)
	}
	if ep.FailingSince == nil {
		ep.FailingSince = &now
	}
	ep.LastError = lastErr
	if !ep.Disabled && now.Sub(*ep.FailingSince) >= WebhookFailingLimit {
		ep.Disabled, ep.DisabledAt, ep.DisabledBy = true, &now, DisabledByAuto
		ep.DisabledReason = fmt.Sprintf("Disabled automatically on %s: every delivery failed for 5 days (since %s). Last error: %s. Fix the receiver, then enable the endpoint again and resend the failed deliveries.",
			now.UTC().Format(time.DateOnly), ep.FailingSince.UTC().Format(time.DateOnly), lastErr)
		a.Log.Warn("webhooks: endpoint disabled after failing for 5 days", "endpoint", ep.ID, "affiliate", ep.AffiliateID, "last_error", lastErr)
	}
	return tx.PutWebhookEndpoint(ep)
}

// dropWebhookMessage closes a message that can no longer be sent: its
// endpoint was deleted (the message goes too) or disabled (it fails, and
// can be resent once the endpoint is enabled again).
func (a *App) dropWebhookMessage(id, reason string) error {
	errSkip := errors.New("skip")
	return a.DB.Update(func(tx *store.Tx) error {
		if reason == "endpoint deleted" {
			err := tx.DeleteWebhookMessage(id)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		_, err := tx.EditWebhookMessage(id, func(m *store.WebhookMessage) error {
			if m.Status != store.MessagePending {
				return errSkip
			}
			m.Status = store.MessageFailed
			m.Attempts = append(m.Attempts, store.WebhookAttempt{At: a.Now(), Error: "not sent: " + reason})
			return nil
		})
		if errors.Is(err, errSkip) || errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// pruneWebhookLog deletes delivered and failed messages older than
// WebhookLogRetention, a bounded number per call.
func (a *App) pruneWebhookLog() error {
	cutoff := a.Now().Add(-WebhookLogRetention)
	for range 20 {
		var ids []string
		if err := a.DB.View(func(tx *store.Tx) (err error) { ids, err = tx.WebhookMessageIDsBefore(cutoff, 500); return }); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		deleted := 0
		err := a.DB.Update(func(tx *store.Tx) error {
			deleted = 0
			for _, id := range ids {
				m, err := tx.WebhookMessage(id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if m.Status == store.MessagePending {
					continue // still owed to its receiver
				}
				if err := tx.DeleteWebhookMessage(id); err != nil {
					return err
				}
				deleted++
			}
			return nil
		})
		if err != nil || deleted == 0 {
			return err
		}
	}
	return nil
}
