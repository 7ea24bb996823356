package ui

import (
	"net/http"
	"net/url"
	"testing"
)

// next= after sign-in follows only a local path: anything a browser could
// read as another host goes to the default page (contract §12).
func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"/leads?program=1", "/leads?program=1"},
		{"/", "/"},
		{"", "/home"},
		{"https://evil.example/", "/home"},
		{"//evil.example/", "/home"},
		{"/\\evil.example/", "/home"},
		{"/\t/evil.example/", "/home"},
		{"/\n/evil.example/", "/home"},
		{"/\r\n//evil.example/", "/home"},
		{"/\x7f/evil.example", "/home"},
		{"evil.example", "/home"},
	} {
		if got := safeNext(tc.next, "/home"); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
}

// The review's case through the real sign-in: /login?next=/%09/evil.example/
// must not send the browser to another host.
func TestLoginNextOpenRedirect(t *testing.T) {
	b := newBrowser(t)
	if _, err := b.env.App.CreateAdmin("owner@shop.example.com", "correct-horse"); err != nil {
		t.Fatal(err)
	}
	page := "/login?next=" + url.QueryEscape("/\t/evil.example/")
	p := b.submit(page, page, url.Values{"email": {"owner@shop.example.com"}, "password": {"correct-horse"}})
	expectStatus(t, p, http.StatusSeeOther)
	if p.Location != "/" {
		t.Fatalf("after sign-in with a tab in next=: Location %q, want /", p.Location)
	}
}
