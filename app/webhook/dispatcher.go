package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spiffy/spiffy/store"
)

// The dispatcher delivers webhook messages. Work reaches it two ways:
//   - at once: the write that queues a message wakes it with tx.AfterCommit;
//   - from the due index: DeliverDue (the cron job, and once at
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

// Held messages carry their payload (about a kilobyte), so the caps below
// keep the dispatcher's memory near 10 MB whatever the backlog; the rest
// waits in the store's due index.
const (
	perEndpointHealthy = 4     // requests in flight to one healthy endpoint
	perEndpointFailing = 1     // … to one whose last attempt failed
	endpointQueueCap   = 500   // messages of one endpoint held in memory
	totalQueueCap      = 10000 // messages held in memory (queued or in flight)
	scanBatch          = 4000  // messages taken from the due index per pass
)

// Due names a message to deliver, usually with the message itself: a read
// per attempt would wait for the store's commit in progress, which bounds
// deliveries by fsync latency. Messages are loaded where they are written
// (the outbox, NewDue) or in bulk by the due-index scan instead.
type Due struct {
	ID         string
	EndpointID string
	Failing    bool                  // the endpoint's last attempt failed (picks the lane)
	msg        *store.WebhookMessage // nil: read it at attempt time
}

// NewDue names a message just written for ep, with the message itself.
func NewDue(ep *store.WebhookEndpoint, m *store.WebhookMessage) Due {
	return Due{ID: m.ID, EndpointID: ep.ID, Failing: ep.FailingSince != nil, msg: m}
}

type lane int

const (
	laneHealthy lane = iota
	laneFailing
)

type epState struct {
	id       string
	failing  bool
	queue    []*Due // messages waiting for a slot
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

// Dispatcher is the delivery engine: it holds due messages in memory,
// sends them with the Client, and records each attempt in the store.
type Dispatcher struct {
	db    *store.DB
	clock Clock
	log   *slog.Logger
	// stall is how long a wait for deliveries gives up after none finishes.
	stall  time.Duration
	client *Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	held    map[string]*epState // message id → endpoint, while queued or in flight
	eps     map[string]*epState
	ring    []*epState // endpoints with queued messages, served round-robin
	rr      int
	free    [2]int // free slots per lane (negative after the limit shrank)
	// limit is the healthy lane's current size: the configured concurrency,
	// halved while the store is congested and grown back one by one.
	limit, maxLimit int
	// The rate budget (takeToken).
	rate, tokens float64
	tokenAt      time.Time
	tokenTimer   bool
	changed      chan struct{} // closed on every completion when someone waits
	// overflow: enqueue turned messages away (queues full); they are
	// fetched again from the due index when room frees up.
	overflow bool
	refills  int // refill scans running
	// endpoints caches endpoint records for attempts: every write of an
	// endpoint drops its entry (forget), and entries expire anyway.
	endpoints map[string]cachedEndpoint
	// While a due-index scan runs, finished collects the messages whose
	// attempt was recorded meanwhile: the scan's snapshot may still show
	// them due, and they must not be sent again.
	scanning bool
	finished map[string]bool

	onDisabled func(tx *store.Tx, ep *store.WebhookEndpoint) error

	results      chan recordJob // attempts for the recorder to write
	recorderDone chan struct{}

	done   atomic.Int64 // messages finished (for waits and metrics)
	sent   atomic.Int64 // HTTP attempts made
	scanMu sync.Mutex   // one due-index scan at a time
}

// Clock tells the dispatcher the time.
type Clock interface{ Now() time.Time }

// Options configure a Dispatcher.
type Options struct {
	Timeout      time.Duration // how long a receiver has to answer
	AllowPrivate bool          // allow loopback and private targets
	Concurrency  int           // deliveries in flight at once
	Clock        Clock
	Log          *slog.Logger
	// OnDisabled runs in the write that disables an endpoint after
	// FailingLimit, so whatever it queues (a notice to the affiliate) is
	// stored if and only if the endpoint is disabled.
	OnDisabled func(tx *store.Tx, ep *store.WebhookEndpoint) error
}

// New returns a dispatcher over db. Its recorder runs until Stop.
func New(db *store.DB, o Options) *Dispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	n := o.Concurrency
	if n <= 0 {
		n = 16
	}
	failing := n / 4
	if failing < 2 {
		failing = 2
	}
	d := &Dispatcher{
		db: db, clock: o.Clock, log: o.Log, onDisabled: o.OnDisabled,
		stall: o.Timeout + 2*time.Second,
		client: NewClient(ClientOptions{
			Timeout:         o.Timeout,
			AllowPrivate:    o.AllowPrivate,
			MaxConnsPerHost: n + failing,
		}),
		ctx: ctx, cancel: cancel,
		held:      map[string]*epState{},
		eps:       map[string]*epState{},
		endpoints: map[string]cachedEndpoint{},
		free:      [2]int{n, failing},
		limit:     n,
		rate:      float64(ratePerCPU * runtime.GOMAXPROCS(0)),
		maxLimit:  n,
		// Room for every attempt in flight, so senders rarely wait.
		results:      make(chan recordJob, n+failing),
		recorderDone: make(chan struct{}),
	}
	go d.runRecorder()
	return d
}

// Start hands the dispatcher every message already due (left over from
// before a restart or a crash). Deliveries stop when ctx ends or Stop is
// called.
func (d *Dispatcher) Start(ctx context.Context) {
	context.AfterFunc(ctx, d.cancel)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := d.DeliverDue(d.ctx); err != nil && d.ctx.Err() == nil {
			d.log.Error("webhooks: initial delivery of due messages", "err", err)
		}
	}()
}

// Stop cancels in-flight deliveries and waits for them. A cancelled
// attempt is not recorded: the message stays due and is sent again after
// the next start.
func (d *Dispatcher) Stop() {
	d.mu.Lock()
	already := d.stopped
	d.stopped = true
	d.mu.Unlock()
	if already {
		return
	}
	d.cancel()
	d.wg.Wait()
	close(d.results) // every sender has returned: let the recorder finish
	<-d.recorderDone
	d.client.CloseIdle()
}

// enqueue takes messages to deliver and returns how many it accepted
// (ones already held, or beyond the memory caps, are left to the next scan
// of the due index). It never blocks: it runs in the store's writer.
func (d *Dispatcher) enqueue(refs []Due) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return 0
	}
	n := 0
	for _, r := range refs {
		if _, ok := d.held[r.ID]; ok {
			continue
		}
		if len(d.held) >= totalQueueCap {
			d.overflow = true
			continue
		}
		ep := d.eps[r.EndpointID]
		if ep == nil {
			ep = &epState{id: r.EndpointID, failing: r.Failing}
			d.eps[r.EndpointID] = ep
		}
		if len(ep.queue) >= endpointQueueCap {
			d.overflow = true
			continue
		}
		if d.scanning && d.finished[r.ID] {
			continue
		}
		ep.queue = append(ep.queue, &r)
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
func (d *Dispatcher) pump() {
	for !d.stopped {
		started := false
		n := len(d.ring)
		for k := 0; k < n; k++ {
			if d.free[laneHealthy] <= 0 && d.free[laneFailing] <= 0 {
				break
			}
			ep := d.ring[(d.rr+k)%n]
			l := ep.lane()
			if len(ep.queue) == 0 || ep.inflight >= ep.limit() || d.free[l] <= 0 {
				continue
			}
			if !d.takeToken() {
				return
			}
			ref := ep.queue[0]
			ep.queue[0] = nil
			ep.queue = ep.queue[1:]
			ep.inflight++
			d.free[l]--
			d.wg.Add(1)
			go d.deliver(ep, ref, l)
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

// ratePerCPU caps the attempts started per second, per CPU. Delivering is
// background work: to a receiver that answers at once a backlog could
// otherwise take every core from tracking (80–140 µs of CPU per delivery,
// docs/PERFORMANCE.md, Webhooks). Real receivers, a network away, are far
// below this anyway: throughput is concurrency ÷ latency.
const ratePerCPU = 3000

// takeToken spends one attempt of the rate budget (a token bucket holding
// at most 50 ms of budget). With none left it schedules pump for when the
// next token is due and reports false. d.mu is held.
func (d *Dispatcher) takeToken() bool {
	if d.rate <= 0 {
		return true
	}
	now := time.Now()
	d.tokens = min(d.rate/20+1, d.tokens+now.Sub(d.tokenAt).Seconds()*d.rate)
	d.tokenAt = now
	if d.tokens >= 1 {
		d.tokens--
		return true
	}
	if !d.tokenTimer {
		d.tokenTimer = true
		wait := time.Duration((1 - d.tokens) / d.rate * float64(time.Second))
		time.AfterFunc(wait, func() {
			d.mu.Lock()
			d.tokenTimer = false
			d.pump()
			d.mu.Unlock()
		})
	}
	return false
}

// endpointCacheTTL bounds how stale a cached endpoint can be even if a
// write forgot to drop it.
const endpointCacheTTL = 2 * time.Second

type cachedEndpoint struct {
	ep      *store.WebhookEndpoint
	expires time.Time
}

// endpointFor returns the endpoint from the cache or, on a miss, from the
// store. The record is shared: callers must not change it.
func (d *Dispatcher) endpointFor(id string) (*store.WebhookEndpoint, error) {
	now := time.Now()
	d.mu.Lock()
	c, ok := d.endpoints[id]
	d.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.ep, nil
	}
	var ep *store.WebhookEndpoint
	if err := d.db.View(func(tx *store.Tx) (err error) { ep, err = tx.WebhookEndpoint(id); return }); err != nil {
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

// Forget drops what the dispatcher remembers of an endpoint after it was
// written (enabled, rotated, deleted, its failure streak changed), so the
// next attempt reads it afresh and its lane is judged again.
func (d *Dispatcher) Forget(endpointID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.endpoints, endpointID)
	if ep := d.eps[endpointID]; ep != nil {
		ep.failing = false
		d.pump()
	}
}

// EnqueueAfterCommit hands messages written in tx to the dispatcher once tx
// has committed (never if it fails).
func (d *Dispatcher) EnqueueAfterCommit(tx *store.Tx, refs ...Due) {
	if len(refs) > 0 {
		tx.AfterCommit(func() { d.enqueue(refs) })
	}
}

// InvalidateAfterCommit drops the in-memory copies of messages rewritten in
// tx once it has committed.
func (d *Dispatcher) InvalidateAfterCommit(tx *store.Tx, ids []string) {
	if len(ids) > 0 {
		tx.AfterCommit(func() { d.Invalidate(ids) })
	}
}

// forgetAfter drops the endpoint from the cache once tx has committed.
func (d *Dispatcher) forgetAfter(tx *store.Tx, endpointID string) {
	tx.AfterCommit(func() {
		d.mu.Lock()
		delete(d.endpoints, endpointID)
		d.mu.Unlock()
	})
}

// Invalidate drops the in-memory copies of messages that were rewritten
// (erasure): their attempt reads the stored version instead.
func (d *Dispatcher) Invalidate(ids []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		ep := d.held[id]
		if ep == nil {
			continue
		}
		for _, r := range ep.queue {
			if r.ID == id {
				r.msg = nil
			}
		}
	}
}

func (d *Dispatcher) deliver(ep *epState, ref *Due, l lane) {
	defer d.wg.Done()
	id := ref.ID
	out := d.attempt(d.ctx, ref)
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
		d.results <- recordJob{ep: ep, id: id, out: out} // the recorder finishes it
		return
	}
	if out.drop != "" {
		if err := d.drop(id, out.drop); err != nil {
			d.log.Error("webhooks: drop message", "message", id, "err", err)
		}
	}
	d.finish(ep, id)
}

// recordJob is an attempt waiting to be written.
type recordJob struct {
	ep  *epState
	id  string
	out attemptOutcome
}

// Attempts are written by a single recorder, in batches: at most
// recordBatch attempts per write, gathered for up to recordLinger. Tracking
// shares the store's single writer, and every read waits for the commit in
// progress, so what hurts tracking is a stream of small webhook commits
// back to back, not the bytes: a backlog of thousands of deliveries per
// second becomes a few dozen commits per second, and the writer never has
// more than one webhook write queued ahead of a tracking request.
const (
	recordBatch  = 256
	recordLinger = 10 * time.Millisecond
)

// runRecorder writes attempts as they come.
func (d *Dispatcher) runRecorder() {
	defer close(d.recorderDone)
	batch := make([]recordJob, 0, recordBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for j := range d.results {
		batch = append(batch[:0], j)
		timer.Reset(recordLinger)
	fill:
		for len(batch) < recordBatch {
			select {
			case j, ok := <-d.results:
				if !ok {
					break fill
				}
				batch = append(batch, j)
			case <-timer.C:
				break fill
			}
		}
		timer.Stop()
		start := time.Now()
		apply, err := d.recordAttempts(batch)
		d.adapt(time.Since(start) - apply)
		if err != nil {
			// The messages stay due as they were: they are sent again.
			d.log.Error("webhooks: record attempts", "n", len(batch), "err", err)
		}
		for _, j := range batch {
			d.finish(j.ep, j.id)
		}
	}
}

// finish releases a message the dispatcher held.
func (d *Dispatcher) finish(ep *epState, id string) {
	d.mu.Lock()
	delete(d.held, id)
	if d.scanning {
		d.finished[id] = true
	}
	if ep.inflight == 0 && len(ep.queue) == 0 && d.eps[ep.id] == ep {
		delete(d.eps, ep.id)
	}
	if d.changed != nil {
		close(d.changed)
		d.changed = nil
	}
	// Messages were turned away while the queues were full: they wait in
	// the due index. Fetch them as soon as there is room rather than at the
	// next cron tick, so a backlog drains without pauses.
	refill := d.overflow && !d.stopped && len(d.held) <= scanBatch/2
	if refill {
		d.overflow = false
		d.refills++
		d.wg.Add(1)
	}
	d.mu.Unlock()
	d.done.Add(1)
	if refill {
		go func() {
			defer d.wg.Done()
			if err := d.DeliverDue(d.ctx); err != nil && d.ctx.Err() == nil {
				d.log.Error("webhooks: refill from the due index", "err", err)
			}
			d.mu.Lock()
			d.refills--
			if d.changed != nil {
				close(d.changed)
				d.changed = nil
			}
			d.mu.Unlock()
		}()
	}
}

// heldCount is how many messages are queued or in flight, and a channel
// closed at the next completion.
func (d *Dispatcher) heldCount() (int, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.changed == nil {
		d.changed = make(chan struct{})
	}
	return len(d.held), d.changed
}

// waitBelow waits until at most n messages are held, ctx ends, or no
// message completes for stall. It reports whether the level was reached.
func (d *Dispatcher) waitBelow(ctx context.Context, n int, stall time.Duration) bool {
	return d.waitFor(ctx, stall, func(held int) bool { return held <= n })
}

// waitFor waits until reached (given the number of messages held) is true,
// ctx ends, or no message completes for stall. It reports whether reached.
func (d *Dispatcher) waitFor(ctx context.Context, stall time.Duration, reached func(held int) bool) bool {
	timer := time.NewTimer(stall)
	defer timer.Stop()
	for {
		held, changed := d.heldCount()
		if reached(held) {
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

// Wait waits until no message is queued or in flight in this process and
// no overflow is left to fetch from the due index, or ctx ends. Tests and
// benchmarks use it.
func (d *Dispatcher) Wait(ctx context.Context) error {
	for {
		d.mu.Lock()
		idle := len(d.held) == 0 && d.refills == 0 && (!d.overflow || d.stopped)
		if d.changed == nil {
			d.changed = make(chan struct{})
		}
		changed := d.changed
		d.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stats reports the dispatcher's counters: HTTP attempts made and
// messages queued or in flight now.
func (d *Dispatcher) Stats() (attempts int64, held int) {
	h, _ := d.heldCount()
	return d.sent.Load(), h
}

// DeliverDue hands every pending message whose next attempt has
// come to the dispatcher and waits while they are delivered. It returns when
// nothing due is left, when deliveries stop making progress for longer than
// the webhook timeout (a slow endpoint keeps its messages; the next run
// continues), or when ctx ends. It also prunes the delivery log.
func (d *Dispatcher) DeliverDue(ctx context.Context) error {
	if err := d.pruneLog(); err != nil {
		d.log.Warn("webhooks: prune delivery log", "err", err)
	}
	stall := d.stall
	for ctx.Err() == nil {
		// One scan at a time (the cron job and a refill may overlap); the
		// waits below hold no lock, so a slow batch never blocks a scan.
		d.scanMu.Lock()
		d.mu.Lock()
		d.scanning, d.finished = true, map[string]bool{}
		d.mu.Unlock()
		refs, more, err := d.scanDue()
		if err == nil && len(refs) > 0 {
			d.enqueue(refs)
		}
		d.mu.Lock()
		d.scanning, d.finished = false, nil
		held := len(d.held)
		d.mu.Unlock()
		d.scanMu.Unlock()
		if err != nil {
			return err
		}
		if !more {
			break // everything due is held now
		}
		// More is due than the queues took: scan again once enough has
		// been delivered to make room (or give up if nothing moves).
		if !d.waitDone(ctx, d.done.Load()+int64(max(1, min(held/2, scanBatch/2))), stall) {
			return nil
		}
	}
	d.waitBelow(ctx, 0, stall)
	return nil
}

// waitDone waits until target messages have finished in all, ctx ends, or
// none finishes for stall. It reports whether the target was reached.
func (d *Dispatcher) waitDone(ctx context.Context, target int64, stall time.Duration) bool {
	return d.waitFor(ctx, stall, func(int) bool { return d.done.Load() >= target })
}

// scanDue reads up to scanBatch due messages the dispatcher does not hold,
// at most what each endpoint's queue can take, with the messages themselves
// and the lanes of their endpoints, all in one read transaction. more
// reports due messages it left for lack of room.
func (d *Dispatcher) scanDue() (refs []Due, more bool, err error) {
	now := d.clock.Now()
	room := map[string]int{}
	err = d.db.View(func(tx *store.Tx) error {
		err := tx.DueWebhookMessages(now, func(m store.DueMessage) bool {
			d.mu.Lock()
			_, held := d.held[m.ID]
			r, seen := room[m.EndpointID]
			if !seen {
				r = endpointQueueCap
				if ep := d.eps[m.EndpointID]; ep != nil {
					r -= len(ep.queue)
				}
			}
			d.mu.Unlock()
			room[m.EndpointID] = r
			if held {
				return true
			}
			if r <= 0 || len(refs) >= scanBatch {
				more = true
				return r <= 0 // a full endpoint: look on for others; a full batch: stop
			}
			room[m.EndpointID] = r - 1
			refs = append(refs, Due{ID: m.ID, EndpointID: m.EndpointID})
			return true
		})
		if err != nil {
			return err
		}
		failing := map[string]bool{}
		for id := range room {
			ep, err := tx.WebhookEndpoint(id)
			if err == nil {
				failing[id] = ep.FailingSince != nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		for i := range refs {
			refs[i].Failing = failing[refs[i].EndpointID]
			m, err := tx.WebhookMessage(refs[i].ID)
			if err == nil {
				refs[i].msg = m
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	return refs, more, err
}

// attemptOutcome is what one delivery try did.
type attemptOutcome struct {
	sent bool // an HTTP attempt was made (or refused at connect time)
	at   time.Time
	res  Result
	drop string // not sent, and the message must be closed: the reason
	// clean: the endpoint had no failure streak when read, so a success
	// needs no endpoint write.
	clean bool
}

// attempt makes one attempt. The message comes from the ref (read
// when it was queued or scanned) or, when there is none, from the store;
// either way it is only sent while pending and due.
func (d *Dispatcher) attempt(ctx context.Context, ref *Due) attemptOutcome {
	now := d.clock.Now()
	m := ref.msg
	if m == nil {
		err := d.db.View(func(tx *store.Tx) (err error) { m, err = tx.WebhookMessage(ref.ID); return })
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				d.log.Error("webhooks: read message", "message", ref.ID, "err", err)
			}
			return attemptOutcome{}
		}
	}
	if m.Status != store.MessagePending || m.NextAttemptAt.After(now) {
		return attemptOutcome{}
	}
	ep, err := d.endpointFor(m.EndpointID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return attemptOutcome{drop: "endpoint deleted"}
	case err != nil:
		d.log.Error("webhooks: read endpoint", "endpoint", m.EndpointID, "err", err)
		return attemptOutcome{}
	case ep.Disabled:
		return attemptOutcome{drop: "endpoint disabled"}
	}
	res := d.client.Send(ctx, Request{URL: ep.URL, Secret: ep.Secret, ID: m.ID, Timestamp: now, Body: m.Payload})
	if ctx.Err() != nil {
		return attemptOutcome{} // stopping: not the receiver's fault, leave it due
	}
	return attemptOutcome{sent: true, at: now, res: res, clean: ep.FailingSince == nil && ep.LastError == ""}
}

// recordAttempts writes a batch of attempts in one store write and
// reports how long applying them took (the rest of the write's time is
// waiting for the writer and the commit).
func (d *Dispatcher) recordAttempts(jobs []recordJob) (apply time.Duration, err error) {
	err = d.db.Update(func(tx *store.Tx) error {
		start := time.Now()
		defer func() { apply = time.Since(start) }()
		now := d.clock.Now()
		for _, j := range jobs {
			if err := d.recordAttempt(tx, j.id, j.out, now); err != nil {
				return err
			}
		}
		return nil
	})
	return apply, err
}

// congestedWait is how long a webhook write may wait for the store (queued
// behind other writes, and the commit itself) before deliveries back off.
// An idle store commits in a millisecond or two; waits past this mean
// tracking requests are waiting too.
const congestedWait = 10 * time.Millisecond

// adapt sizes the healthy lane from the last webhook write's wait: halved
// (down to 2) when the store is congested, grown by one when it is not.
// Tracking and webhook results share the store's single writer, and a
// backlog can always go faster than the store: this keeps the backlog from
// taking the writer (and the CPU) from tracking.
func (d *Dispatcher) adapt(wait time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case wait > congestedWait && d.limit > 2:
		n := max(2, d.limit/2)
		d.free[laneHealthy] -= d.limit - n
		d.limit = n
	case wait <= congestedWait/2 && d.limit < d.maxLimit:
		d.limit++
		d.free[laneHealthy]++
		d.pump()
	}
}

// recordAttempt logs an attempt on its message and moves it on:
// delivered, due again per the retry schedule, or failed. It also keeps the
// endpoint's failure streak, disabling an endpoint that has failed without
// a single success for FailingLimit.
func (d *Dispatcher) recordAttempt(tx *store.Tx, id string, out attemptOutcome, now time.Time) error {
	ok := out.res.OK()
	att := store.WebhookAttempt{At: out.at, StatusCode: out.res.StatusCode, LatencyMS: out.res.Latency.Milliseconds()}
	if !ok {
		att.Error = out.res.Detail
		if att.Error == "" {
			att.Error = "failed"
		}
	}
	m, err := tx.EditWebhookMessage(id, func(m *store.WebhookMessage) error {
		m.Attempts = append(m.Attempts, att)
		if len(m.Attempts) > maxAttemptLog {
			m.Attempts = append(m.Attempts[:0], m.Attempts[len(m.Attempts)-maxAttemptLog:]...)
		}
		m.Tries++
		switch delay, more := RetryDelay(m.Tries); {
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
	return d.noteEndpointHealth(tx, m.EndpointID, ok, att.Error, now)
}

func (d *Dispatcher) noteEndpointHealth(tx *store.Tx, endpointID string, ok bool, lastErr string, now time.Time) error {
	ep, err := tx.WebhookEndpoint(endpointID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	d.forgetAfter(tx, endpointID)
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
	if !ep.Disabled && now.Sub(*ep.FailingSince) >= FailingLimit {
		ep.Disabled, ep.DisabledAt, ep.DisabledBy = true, &now, DisabledByAuto
		ep.DisabledReason = fmt.Sprintf("Disabled automatically on %s: every delivery failed for 5 days (since %s). Last error: %s. Fix the receiver, then enable the endpoint again and resend the failed deliveries.",
			now.UTC().Format(time.DateOnly), ep.FailingSince.UTC().Format(time.DateOnly), lastErr)
		d.log.Warn("webhooks: endpoint disabled after failing for 5 days", "endpoint", ep.ID, "affiliate", ep.AffiliateID, "last_error", lastErr)
		if d.onDisabled != nil {
			if err := d.onDisabled(tx, ep); err != nil {
				return err
			}
		}
	}
	return tx.PutWebhookEndpoint(ep)
}

// drop closes a message that can no longer be sent: its
// endpoint was deleted (the message goes too) or disabled (it fails, and
// can be resent once the endpoint is enabled again).
func (d *Dispatcher) drop(id, reason string) error {
	errSkip := errors.New("skip")
	return d.db.Update(func(tx *store.Tx) error {
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
			m.Attempts = append(m.Attempts, store.WebhookAttempt{At: d.clock.Now(), Error: "not sent: " + reason})
			return nil
		})
		if errors.Is(err, errSkip) || errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// pruneLog deletes delivered and failed messages older than
// LogRetention, a bounded number per call.
func (d *Dispatcher) pruneLog() error {
	cutoff := d.clock.Now().Add(-LogRetention)
	for range 20 {
		var ids []string
		if err := d.db.View(func(tx *store.Tx) (err error) { ids, err = tx.WebhookMessageIDsBefore(cutoff, 500); return }); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		deleted := 0
		err := d.db.Update(func(tx *store.Tx) error {
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
