package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"strconv"
	"sync"
	"time"
)

// A deliberately small HTTP/1.1 client. net/http's client spends more CPU
// per request than Spiffy's tracking handler does; on a 2-core machine
// where the generator shares the cores with the server, that would measure
// the client. This one writes a prepared request and parses just enough of
// the answer (status, Content-Length or chunked, Connection: close).

// requestFunc appends the n-th request of worker w to b.
type requestFunc func(b []byte, w, n int) []byte

// result is one worker's tally.
type result struct {
	ok, bad   int64 // 2xx answers; other statuses
	netErrs   int64 // dial, write or read failures
	statuses  map[int]int64
	hist      histogram
	firstErr  error
	firstBody string        // body of the first non-2xx answer, for the report
	slow      []slowRequest // open-loop only: requests slower than slowAfter
}

// slowRequest is one request of an open-loop run that took longer than
// slowAfter, kept to show when the tail happened (stallSpans).
type slowRequest struct {
	due     time.Time
	latency time.Duration
}

// slowAfter is the latency past which an open-loop request is kept in
// result.slow: the open-loop goal.
const slowAfter = openLoopGoalP99

// runWorker sends requests on one connection (a fresh one per request when
// closeEach) until stop is closed or max requests are sent. A 2xx answer
// whose body lacks expect (when given) counts as bad.
func runWorker(addr string, w int, closeEach bool, build requestFunc, stop <-chan struct{}, max int, expect []byte, res *result) {
	res.statuses = map[int]int64{}
	snd := &sender{addr: addr, res: res, expect: expect}
	defer snd.close()
	buf := make([]byte, 0, 1024)
	for n := 0; max <= 0 || n < max; n++ {
		select {
		case <-stop:
			return
		default:
		}
		buf = build(buf[:0], w, n)
		if !snd.send(buf, time.Now(), closeEach) {
			time.Sleep(10 * time.Millisecond) // do not spin on a dead server
		}
	}
}

// sender sends requests on one connection, dialling again after an error,
// and tallies the answers in res.
type sender struct {
	addr   string
	c      *clientConn
	res    *result
	expect []byte
	// keepSlow records the requests slower than slowAfter (open loop,
	// where start is the request's due time).
	keepSlow bool
}

// send sends req and records its answer, its latency timed from start;
// closeAfter closes the connection after the answer. It reports false
// when it could not connect.
func (s *sender) send(req []byte, start time.Time, closeAfter bool) bool {
	if s.c == nil {
		c, err := dial(s.addr)
		if err != nil {
			s.res.noteErr(err)
			return false
		}
		s.c = c
	}
	status, body, serverCloses, err := s.c.roundTrip(req)
	if err != nil {
		s.res.noteErr(err)
		s.c.close()
		s.c = nil
		return true
	}
	latency := time.Since(start)
	s.res.hist.add(latency)
	if s.keepSlow && latency > slowAfter {
		s.res.slow = append(s.res.slow, slowRequest{due: start, latency: latency})
	}
	s.res.record(status, body, s.expect)
	if closeAfter || serverCloses {
		s.c.drainAndClose()
		s.c = nil
	}
	return true
}

func (s *sender) close() {
	if s.c != nil {
		s.c.close()
	}
}

// record counts one answer. A 2xx answer whose body lacks expect (when
// given) counts as bad.
func (r *result) record(status int, body, expect []byte) {
	r.statuses[status]++
	if status >= 200 && status < 300 && (expect == nil || bytes.Contains(body, expect)) {
		r.ok++
		return
	}
	r.bad++
	if r.firstBody == "" {
		r.firstBody = fmt.Sprintf("%d %s", status, body)
	}
}

func (r *result) noteErr(err error) {
	r.netErrs++
	if r.firstErr == nil {
		r.firstErr = err
	}
}

type clientConn struct {
	nc net.Conn
	r  *bufio.Reader
}

func dial(addr string) (*clientConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &clientConn{nc: nc, r: bufio.NewReaderSize(nc, 4096)}, nil
}

func (c *clientConn) close() { _ = c.nc.Close() }

// drainAndClose waits for the server to close first (it does, right after
// an answer to "Connection: close"), so the TIME_WAIT state lands on the
// server's side and the generator does not run out of ephemeral ports.
func (c *clientConn) drainAndClose() {
	_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.Copy(io.Discard, c.r)
	_ = c.nc.Close()
}

func (c *clientConn) roundTrip(req []byte) (status int, body []byte, serverCloses bool, err error) {
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(req); err != nil {
		return 0, nil, false, fmt.Errorf("write: %w", err)
	}
	return readResponse(c.r)
}

var errBadResponse = errors.New("malformed response")

// readResponse reads one HTTP/1.1 response. The body is returned only when
// it is short (for error reports); it is always consumed.
func readResponse(r *bufio.Reader) (status int, body []byte, serverCloses bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, fmt.Errorf("read status: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	length, chunked := -1, false
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, fmt.Errorf("read header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, false, fmt.Errorf("%w: header %q", errBadResponse, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, nil, false, fmt.Errorf("%w: content-length %q", errBadResponse, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			serverCloses = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case status == 204 || status == 304 || status < 200:
		return status, nil, serverCloses, nil
	case chunked:
		body, err = readChunked(r)
	case length >= 0:
		body, err = readN(r, length)
	default: // body until the server closes
		serverCloses = true
		body, err = io.ReadAll(io.LimitReader(r, 1<<20))
	}
	return status, body, serverCloses, err
}

func readN(r *bufio.Reader, n int) ([]byte, error) {
	if n <= 512 {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	_, err := r.Discard(n)
	return nil, err
}

func readChunked(r *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		sizeStr, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeStr)), 16, 32)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("%w: chunk size %q", errBadResponse, line)
		}
		if size == 0 {
			// Trailers end with an empty line.
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return body, nil
				}
			}
		}
		chunk, err := readN(r, int(size))
		if err != nil {
			return nil, err
		}
		if len(body) < 512 {
			body = append(body, chunk...)
		}
		if _, err := r.Discard(2); err != nil { // CRLF after the chunk
			return nil, err
		}
	}
}

// histogram records latencies in microseconds with about 0.2% precision
// in a fixed amount of memory: values below 1024 µs exactly, larger ones in
// 512 sub-buckets per power of two.
type histogram struct {
	counts []int64
	n      int64
	max    time.Duration
}

const histExact = 1024

func histBucket(us uint64) int {
	if us < histExact {
		return int(us)
	}
	shift := bits.Len64(us) - 10 // keep the top 10 bits
	return histExact + (shift-1)*512 + int(us>>shift) - 512
}

// histValue is the upper end of a bucket, in microseconds.
func histValue(b int) uint64 {
	if b < histExact {
		return uint64(b)
	}
	b -= histExact
	shift := b/512 + 1
	mant := uint64(b%512 + 512)
	return (mant+1)<<shift - 1
}

func (h *histogram) add(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	b := histBucket(us)
	if b >= len(h.counts) {
		grown := make([]int64, b+1024)
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[b]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	if len(o.counts) > len(h.counts) {
		grown := make([]int64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency below which a fraction q of requests fell.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(histValue(b))*time.Microsecond, h.max)
		}
	}
	return h.max
}

// runLoad runs conns workers for d (or until each sent maxPerConn requests)
// and merges their results.
func runLoad(addr string, conns int, d time.Duration, maxPerConn int, closeEach bool, build func() requestFunc, expect []byte) (*result, time.Duration) {
	stop := make(chan struct{})
	results := make([]result, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runWorker(addr, w, closeEach, build(), stop, maxPerConn, expect, &results[w])
		}()
	}
	timer := time.AfterFunc(d, func() { close(stop) })
	wg.Wait()
	timer.Stop()
	return mergeResults(results), time.Since(start)
}

// mergeResults adds up the workers' tallies.
func mergeResults(results []result) *result {
	total := &result{statuses: map[int]int64{}}
	for i := range results {
		r := &results[i]
		total.ok += r.ok
		total.bad += r.bad
		total.netErrs += r.netErrs
		for s, c := range r.statuses {
			total.statuses[s] += c
		}
		total.hist.merge(&r.hist)
		total.slow = append(total.slow, r.slow...)
		if total.firstErr == nil {
			total.firstErr = r.firstErr
		}
		if total.firstBody == "" {
			total.firstBody = r.firstBody
		}
	}
	return total
}
