package metrics

import (
	"strings"
	"testing"
)

func TestParseAndSum(t *testing.T) {
	s, err := Parse(strings.NewReader(`# HELP spiffy_store_write_batches_total Transactions.
# TYPE spiffy_store_write_batches_total counter
spiffy_store_write_batches_total 1234
spiffy_store_write_batches_total_extra 5
spiffy_http_request_duration_seconds_sum{method="POST",route="/t/click"} 1.5
spiffy_http_request_duration_seconds_sum{method="GET",route="/t/click"} 0.25
spiffy_http_request_duration_seconds_sum{method="POST",route="/t/lead"} 9
not a sample
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Sum("spiffy_store_write_batches_total"); got != 1234 {
		t.Errorf("unlabelled series: %v, want 1234 (a longer name must not count)", got)
	}
	if got := s.Sum("spiffy_http_request_duration_seconds_sum", `route="/t/click"`); got != 1.75 {
		t.Errorf("labelled sum: %v, want 1.75", got)
	}
	if got := s.Sum("spiffy_http_request_duration_seconds_sum", `route="/t/click"`, `method="POST"`); got != 1.5 {
		t.Errorf("two labels: %v, want 1.5", got)
	}
	if got := s.Sum("spiffy_missing_total"); got != 0 {
		t.Errorf("missing series: %v", got)
	}
}
