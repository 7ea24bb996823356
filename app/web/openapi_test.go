package web_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/spiffy/spiffy/app/apptest"
	"github.com/spiffy/spiffy/app/web"
)

// The API reference is served without a key, parses as OpenAPI 3.1, and
// documents every route the server has under /api/v1, /t/ and
// /integrations/: a new endpoint without documentation fails here.
func TestOpenAPIDocumentServed(t *testing.T) {
	env, _ := newEnv(t)
	rec := env.Request(http.MethodGet, web.OpenAPIPath, nil)
	apptest.Expect(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q, want JSON", ct)
	}
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(doc.OpenAPI) {
		t.Fatalf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	// The served bytes are what the validator of every API test loads.
	want, err := web.OpenAPIDocument()
	if err != nil || string(want) != rec.Body.String() {
		t.Fatalf("served document differs from web.OpenAPIDocument (err %v)", err)
	}
	if c := apptest.LoadContract(t); c.Doc.OpenAPI != doc.OpenAPI {
		t.Fatalf("kin-openapi read version %q", c.Doc.OpenAPI)
	}

	etag := rec.Header().Get("ETag")
	rec = env.Request(http.MethodGet, web.OpenAPIPath, nil, "If-None-Match", etag)
	apptest.Expect(t, rec, http.StatusNotModified)
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	env, _ := newEnv(t)
	doc := apptest.LoadContract(t).Doc
	checked := 0
	for _, r := range env.Server.Echo.Routes() {
		if !apptest.CheckedPath(r.Path) || strings.HasPrefix(r.Method, "echo_route_") {
			continue // the group's catch-alls, which answer 404
		}
		checked++
		if !documented(doc.Paths.Map(), r.Method, r.Path) {
			t.Errorf("%s %s (route %s) is not in embedded/openapi.yaml", r.Method, r.Path, r.Name)
		}
	}
	if checked < 40 {
		t.Fatalf("only %d routes checked: the walk of e.Routes() is broken", checked)
	}
}

// documented reports whether some path of the document, with the method,
// matches Echo's route: segments equal, or Echo's :param standing for a
// {param} or for the literal segments the document spells out (one path
// per payment provider for /integrations/:provider).
func documented(paths map[string]*openapi3.PathItem, method, echoPath string) bool {
	want := strings.Split(echoPath, "/")
	for p, item := range paths {
		got := strings.Split(p, "/")
		if len(got) != len(want) || item.GetOperation(method) == nil {
			continue
		}
		match := true
		for i := range want {
			param := strings.HasPrefix(want[i], ":")
			if !(got[i] == want[i] || param && (strings.HasPrefix(got[i], "{") && strings.HasSuffix(got[i], "}") || !strings.Contains(got[i], "{"))) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
