package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
	"github.com/spiffy/spiffy/app/throttle"
	"github.com/spiffy/spiffy/app/web"
)

// A throttled request says when to try again: Retry-After in whole
// seconds, rounded up, and words in the message.
func TestThrottledSaysWhenToTryAgain(t *testing.T) {
	for _, tc := range []struct {
		wait  time.Duration
		after string
		words string
	}{
		{300 * time.Millisecond, "1", "in a second"},
		{time.Second, "1", "in a second"},
		{1500 * time.Millisecond, "2", "in 2 seconds"},
		{59 * time.Second, "59", "in 59 seconds"},
		{time.Minute, "60", "in a minute"},
		{61 * time.Second, "61", "in 2 minutes"},
		{15 * time.Minute, "900", "in 15 minutes"},
	} {
		err := &throttle.WaitError{Wait: tc.wait}
		rec := httptest.NewRecorder()
		web.SetRetryAfter(echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/login", nil), rec), err)
		status, body := web.Classify(err)
		if got := rec.Header().Get("Retry-After"); got != tc.after || web.TryAgainIn(err) != tc.words ||
			status != http.StatusTooManyRequests || body.Message != "too many attempts; try again "+tc.words {
			t.Errorf("wait %s: Retry-After %q, %q, %d %q; want %s, %q", tc.wait, got, web.TryAgainIn(err), status, body.Message, tc.after, tc.words)
		}
	}
	// A refusal that does not say how long: no header, vaguer words.
	rec := httptest.NewRecorder()
	web.SetRetryAfter(echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/forgot", nil), rec), app.ErrThrottled)
	if got := rec.Header().Get("Retry-After"); got != "" || web.TryAgainIn(app.ErrThrottled) != "in a few minutes" {
		t.Fatalf("Retry-After %q, %q", got, web.TryAgainIn(app.ErrThrottled))
	}
}
