// Package metrics reads spiffy's /metrics (Prometheus text format) for the
// load tools (tests/loadgen, tests/webhooks/whbench).
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Samples maps each series, written as in the exposition ("name" or
// `name{label="value",...}`), to its value.
type Samples map[string]float64

// Scrape reads base + "/metrics".
func Scrape(base string) (Samples, error) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: GET %s/metrics: %s", base, resp.Status)
	}
	return Parse(io.LimitReader(resp.Body, 4<<20))
}

// Parse reads the text format; comments and lines it cannot read are
// skipped.
func Parse(r io.Reader) (Samples, error) {
	out := Samples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// Sum adds up the series of metric name whose labels contain every one of
// labels (each written `key="value"`).
func (s Samples) Sum(name string, labels ...string) float64 {
	var sum float64
	for series, v := range s {
		rest, ok := strings.CutPrefix(series, name)
		if !ok || (rest != "" && rest[0] != '{') {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(rest, l)
		}
		if match {
			sum += v
		}
	}
	return sum
}
