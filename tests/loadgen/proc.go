package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Process figures from /proc (Linux): CPU time from /proc/PID/stat and
// memory from /proc/PID/status.

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports (getconf CLK_TCK).
const clockTicks = 100

// cpuTime returns the user+system CPU time the process has used.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15). The command name
// (field 2) is in parentheses and may hold spaces, so fields are counted
// from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadgen: /proc stat: no command field")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14 -> f[11], stime f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("loadgen: /proc stat: %d fields", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("loadgen: /proc stat: bad utime/stime %q %q", f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// runQueueWait sums, over the process's threads, the time they were ready
// to run but waiting for a CPU (/proc/PID/task/*/schedstat, field 2). On a
// shared machine it tells a server that is slow from one that is starved.
func runQueueWait(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread exited
		}
		total += parseSchedstatWait(b)
	}
	return total, nil
}

func parseSchedstatWait(b []byte) time.Duration {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	ns, _ := strconv.ParseInt(f[1], 10, 64)
	return time.Duration(ns)
}

// memStatus holds /proc/PID/status memory lines, in KiB.
type memStatus struct {
	RSS, HWM, Anon, File int64
}

func memory(pid int) (memStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	return parseStatus(b), nil
}

func parseStatus(b []byte) memStatus {
	var m memStatus
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		case "RssAnon":
			dst = &m.Anon
		case "RssFile":
			dst = &m.File
		default:
			continue
		}
		f := strings.Fields(rest)
		if len(f) > 0 {
			*dst, _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	return m
}

// sampler follows a process during a run: CPU used over the run and the
// largest resident set seen (sampled every 100 ms).
type sampler struct {
	pid      int
	start    time.Time
	cpu0     time.Duration
	stop     chan struct{}
	done     sync.WaitGroup
	mu       sync.Mutex
	peak     memStatus // largest RSS sample (with its anon/file split)
	lastErr  error
	cpuUsed  time.Duration
	wallUsed time.Duration
	wait0    time.Duration
	waited   time.Duration // run-queue wait over the run, all threads
}

func startSampler(pid int) *sampler {
	s := &sampler{pid: pid, start: time.Now(), stop: make(chan struct{})}
	if pid <= 0 {
		return s
	}
	s.cpu0, s.lastErr = cpuTime(pid)
	s.wait0, _ = runQueueWait(pid)
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	m, err := memory(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.lastErr = err
		return
	}
	if m.RSS > s.peak.RSS {
		s.peak = m
	}
}

// finish stops sampling and returns CPU use as a percentage of one core.
func (s *sampler) finish() (cpuPct float64, peak memStatus, err error) {
	if s.pid <= 0 {
		return 0, memStatus{}, nil
	}
	close(s.stop)
	s.done.Wait()
	s.sample()
	cpu1, err := cpuTime(s.pid)
	if err != nil {
		return 0, s.peak, err
	}
	s.cpuUsed = cpu1 - s.cpu0
	if w, err := runQueueWait(s.pid); err == nil {
		s.waited = w - s.wait0
	}
	s.wallUsed = time.Since(s.start)
	return 100 * s.cpuUsed.Seconds() / s.wallUsed.Seconds(), s.peak, s.lastErr
}
