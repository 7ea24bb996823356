package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Profile-guided optimisation (issue 17): -pgo FILE profiles the spiffy it
// starts for the whole run and writes the merged CPU profile to FILE, the
// main package's default.pgo that `go build` then uses:
//
//	go build -o /tmp/spiffy . && go run ./tests/loadgen -spiffy /tmp/spiffy -pgo default.pgo -no-fail
//
// The server serves pprof on a loopback port of its own
// (--debug-pprof-listen); profiles are taken back to back in slices and
// merged with `go tool pprof -proto`.

const pgoSlice = 15 * time.Second

// profiler fetches CPU profiles from a pprof listener until stopped.
type profiler struct {
	addr  string
	dir   string
	stop  chan struct{}
	wg    sync.WaitGroup
	files []string
	err   error
}

func startProfiler(addr string) (*profiler, error) {
	dir, err := os.MkdirTemp("", "loadgen-pgo-")
	if err != nil {
		return nil, err
	}
	p := &profiler{addr: addr, dir: dir, stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-p.stop:
				return
			default:
			}
			f := filepath.Join(dir, "cpu"+strconv.Itoa(i)+".pprof")
			if err := p.fetch(f); err != nil {
				p.err = err
				return
			}
			p.files = append(p.files, f)
		}
	}()
	return p, nil
}

// fetch takes one profile slice; it ends early (and is kept) when the run
// stops meanwhile, because the listener answers when its server stops.
func (p *profiler) fetch(path string) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.addr, int(pgoSlice.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// finish waits for the slice being taken, then merges every slice into out.
func (p *profiler) finish(out string) error {
	close(p.stop)
	p.wg.Wait()
	defer os.RemoveAll(p.dir)
	if p.err != nil {
		return fmt.Errorf("profiling: %w", p.err)
	}
	if len(p.files) == 0 {
		return fmt.Errorf("profiling: no profile taken")
	}
	args := append([]string{"tool", "pprof", "-proto"}, p.files...)
	cmd := exec.Command("go", args...)
	merged, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go tool pprof -proto: %w", err)
	}
	if err := os.WriteFile(out, merged, 0o644); err != nil {
		return err
	}
	fmt.Printf("CPU profile of the run (%d slices of %s) written to %s\n", len(p.files), pgoSlice, out)
	return nil
}
