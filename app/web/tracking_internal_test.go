package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spiffy/spiffy/app"
)

func TestIPLimiterBucket(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPLimiter(20, 100, func() time.Time { return now })
	allowed := 0
	for i := 0; i < 100; i++ {
		if l.allow("198.51.100.1") {
			allowed++
		}
	}
	if allowed != 40 {
		t.Fatalf("burst allowed %d, want 40 (twice the rate)", allowed)
	}
	now = now.Add(time.Second)
	allowed = 0
	for i := 0; i < 100; i++ {
		if l.allow("198.51.100.1") {
			allowed++
		}
	}
	if allowed != 20 {
		t.Fatalf("after a second allowed %d, want 20", allowed)
	}
	if !l.allow("198.51.100.2") {
		t.Fatal("another address shares the bucket")
	}
}

func TestIPLimiterBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPLimiter(1, 1000, func() time.Time { return now })
	// A flood from many addresses never grows the map past its bound.
	for i := 0; i < 10000; i++ {
		l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		if n := l.size(); n > 1000 {
			t.Fatalf("limiter holds %d addresses, bound 1000", n)
		}
	}
	// Idle buckets (refilled) are dropped first; a busy one survives.
	now = now.Add(time.Minute)
	busy := "192.0.2.99"
	for i := 0; i < 5; i++ {
		l.allow(busy)
	}
	for i := 0; i < 2000; i++ {
		l.allow(fmt.Sprintf("10.1.%d.%d", i/256, i%256))
		l.allow(busy) // keeps it throttled: never full
		if n := l.size(); n > 1000 {
			t.Fatalf("limiter holds %d addresses", n)
		}
	}
	if l.allow(busy) {
		t.Fatal("the busy address got a fresh bucket: it was evicted while throttled")
	}
}

func TestParseFlatJSON(t *testing.T) {
	type kv struct {
		k, v string
		str  bool
	}
	tests := []struct {
		in   string
		want []kv
		err  string // error code, "" = ok
	}{
		{`{}`, nil, ""},
		{` { "ref" : "abc" } `, []kv{{"ref", "abc", true}}, ""},
		{`{"ref":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}`, []kv{{"ref", "a\"b\\c/d\né😀", true}}, ""},
		{`{"ref":"\ud83d"}`, []kv{{"ref", "\uFFFD", true}}, ""},
		{"{\"ref\":\"\xff\xfeok\"}", []kv{{"ref", "\uFFFD\uFFFDok", true}}, ""},
		{`{"ref":null,"n":1.5e3,"b":true,"o":{"x":[1,{"y":"}"}]},"a":[]}`,
			[]kv{{"ref", "", true}, {"n", "", false}, {"b", "", false}, {"o", "", false}, {"a", "", false}}, ""},
		{`{"r\u0065f":"x","ref":"y"}`, []kv{{"ref", "y", true}}, ""},
		{``, nil, "invalid_json"},
		{`[]`, nil, "invalid_json"},
		{`"ref"`, nil, "invalid_json"},
		{`{"ref":"a"`, nil, "invalid_json"},
		{`{"ref":"a",}`, nil, "invalid_json"},
		{`{"ref" "a"}`, nil, "invalid_json"},
		{`{"ref":"a"}{}`, nil, "invalid_json"},
		{`{"ref":"a` + "\n" + `"}`, nil, "invalid_json"},
		{`{"ref":"\x"}`, nil, "invalid_json"},
		{`{"ref":"\u12"}`, nil, "invalid_json"},
		{`{"ref":tru}`, nil, "invalid_json"},
		{`{"ref":-}`, nil, "invalid_json"},
		{`{"o":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, nil, "invalid_json"},
	}
	for _, tt := range tests {
		var got []kv
		err := parseFlatJSON([]byte(tt.in), func(k []byte, v string, s bool) error {
			got = append(got, kv{string(k), v, s})
			return nil
		})
		code := ""
		if e, ok := err.(*app.Error); ok {
			code = e.Code
		} else if err != nil {
			t.Fatalf("%s: error %v is not an *Error", tt.in, err)
		}
		if code != tt.err {
			t.Errorf("%s: error %q, want %q", tt.in, code, tt.err)
			continue
		}
		if tt.err == "" && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// FuzzParseFlatJSON checks the hand-written decoder against encoding/json:
// whatever encoding/json reads as an object, parseFlatJSON reads too, with
// the same strings.
func FuzzParseFlatJSON(f *testing.F) {
	for _, s := range []string{`{"ref":"abc","sub":"x\u0041"}`, `{"a":[1,{"b":null}],"c":"\ud83d\ude00"}`, `{}`, `{"x":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var std map[string]any
		stdErr := json.Unmarshal(b, &std)
		got := map[string]any{}
		calls := 0
		err := parseFlatJSON(b, func(k []byte, v string, s bool) error {
			calls++
			if s {
				got[string(k)] = v
			} else {
				got[string(k)] = false
			}
			return nil
		})
		if stdErr != nil || std == nil || bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) > 30 {
			return // not an object, or nested deeper than parseFlatJSON accepts
		}
		if err != nil {
			t.Fatalf("encoding/json reads %q, parseFlatJSON: %v", b, err)
		}
		if len(got) != len(std) || calls != len(std) {
			return // escaped or duplicate keys: compared loosely below
		}
		for k, v := range got {
			if !utf8.ValidString(k) {
				continue // our keys are ASCII; encoding/json would mangle this one
			}
			sv, ok := std[k]
			if !ok {
				t.Fatalf("%q: key %q unknown to encoding/json", b, k)
			}
			switch want := sv.(type) {
			case string:
				if v != want {
					t.Fatalf("%q: %s = %q, encoding/json %q", b, k, v, want)
				}
			case nil:
				if v != "" {
					t.Fatalf("%q: %s = %q for null", b, k, v)
				}
			default:
				if v != false {
					t.Fatalf("%q: %s read as a string %q, encoding/json %T", b, k, v, sv)
				}
			}
		}
	})
}
