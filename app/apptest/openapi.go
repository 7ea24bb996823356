package apptest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app/web"
)

// The API reference kept true: every request a test sends through the
// server to /api/v1, /t/ or /integrations/, and the answer, is checked
// against the OpenAPI document the server serves (embedded/openapi.yaml),
// with kin-openapi. A mismatch fails the test that sent it:
//   - an answer whose status the operation does not list, or whose body
//     does not match that status's schema (a field the document lacks, a
//     missing or mistyped one);
//   - a request the document refuses that the server accepted (2xx): the
//     document is stricter than the API, or the API too lax;
//   - a path and method the document lacks that the server answered with
//     anything but an error.
// A request the document accepts may still be refused (rules no schema
// holds, such as an unknown id): that is not a mismatch.

// Contract is the loaded OpenAPI document and its router: loaded, checked
// and compiled once per test binary.
type Contract struct {
	Doc    *openapi3.T
	router routers.Router
}

var loadContract = sync.OnceValues(func() (*Contract, error) {
	b, err := web.OpenAPIDocument()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("apptest: load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("apptest: the OpenAPI document is not valid: %w", err)
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("apptest: route the OpenAPI document: %w", err)
	}
	return &Contract{Doc: doc, router: r}, nil
})

// LoadContract returns the server's OpenAPI document, parsed and validated.
func LoadContract(t testing.TB) *Contract {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CheckedPath reports whether requests to path are checked against the
// document: the surfaces it describes.
func CheckedPath(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/t/") || strings.HasPrefix(path, "/integrations/")
}

// validationOptions: every status must be documented, every problem
// reported at once. The API key itself is the server's to check; the
// document only says that one is sent.
var validationOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		if in.SecurityScheme.Type == "http" && in.SecurityScheme.Scheme == "bearer" &&
			strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
			return nil
		}
		return errors.New("no Authorization: Bearer header")
	},
}

// Exchange is one request and its answer, as the server saw them.
type Exchange struct {
	Request      *http.Request
	RequestBody  []byte
	Status       int
	Header       http.Header
	ResponseBody []byte
}

// Check compares one exchange with the document and returns what does
// not match ("" when all does).
func (c *Contract) Check(ex Exchange) string {
	req := ex.Request.Clone(context.Background())
	req.Body, req.GetBody = io.NopCloser(bytes.NewReader(ex.RequestBody)), nil
	req.ContentLength = int64(len(ex.RequestBody))
	if len(ex.RequestBody) > 0 && req.Header.Get("Content-Type") == "" {
		// The server reads a body sent without a Content-Type as JSON
		// (SpiffyJS's beacons, providers, curl -d), which a document cannot
		// say: check it as the server reads it.
		req.Header.Set("Content-Type", "application/json")
	}
	call := req.Method + " " + req.URL.RequestURI()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if ex.Status >= 400 && isErrorBody(ex.ResponseBody) {
			return ""
		}
		return fmt.Sprintf("%s: the OpenAPI document has no such operation (%v), yet the server answered %d %.300s",
			call, err, ex.Status, ex.ResponseBody)
	}
	op := route.Operation.OperationID
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: validationOptions}
	ctx := context.Background()
	err = openapi3filter.ValidateRequest(ctx, in)
	if err != nil && ex.Status < 400 {
		return fmt.Sprintf("%s (operation %s): the OpenAPI document refuses this request, yet the server answered %d:\n%s",
			call, op, ex.Status, describe(err))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: ex.Status, Header: ex.Header, Options: validationOptions}
	out.SetBodyBytes(ex.ResponseBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Sprintf("%s (operation %s): the %d answer does not match the OpenAPI document:\n%s\nbody: %.600s",
			call, op, ex.Status, describe(err), ex.ResponseBody)
	}
	return ""
}

// describe lists each problem of a validation error on its own line,
// naming the field (its JSON pointer) where there is one.
func describe(err error) string {
	var lines []string
	var walk func(error)
	walk = func(err error) {
		var me openapi3.MultiError
		if errors.As(err, &me) {
			for _, e := range me {
				walk(e)
			}
			return
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			where := "/" + strings.Join(se.JSONPointer(), "/")
			lines = append(lines, fmt.Sprintf("  at %s: %s", where, se.Reason))
			return
		}
		lines = append(lines, "  "+strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	walk(err)
	return strings.Join(lines, "\n")
}

func isErrorBody(b []byte) bool {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	return json.Unmarshal(b, &e) == nil && e.Error != "" && e.Message != ""
}

// CheckOpenAPI is Echo middleware (for Echo#Pre, so that it sees the
// final answer, errors included) that checks every exchange on the
// document's surfaces and reports a mismatch as an error of t.
func CheckOpenAPI(t testing.TB) echo.MiddlewareFunc {
	contract := LoadContract(t)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if !CheckedPath(req.URL.Path) {
				return next(c)
			}
			var body []byte
			if req.Body != nil && req.Body != http.NoBody {
				var err error
				if body, err = io.ReadAll(req.Body); err != nil {
					return err
				}
				req.Body = io.NopCloser(bytes.NewReader(body))
			}
			tee := &teeWriter{ResponseWriter: c.Response().Writer}
			c.Response().Writer = tee
			if err := next(c); err != nil {
				c.Error(err)
			}
			c.Response().Writer = tee.ResponseWriter
			resp := tee.buf.Bytes()
			if c.Response().Header().Get(echo.HeaderContentEncoding) == "gzip" && len(resp) > 0 {
				zr, err := gzip.NewReader(bytes.NewReader(resp))
				if err == nil {
					resp, err = io.ReadAll(zr)
				}
				if err != nil {
					t.Errorf("openapi: %s %s: gzip answer: %v", req.Method, req.URL.Path, err)
					return nil
				}
			}
			if msg := contract.Check(Exchange{Request: req, RequestBody: body, Status: c.Response().Status,
				Header: c.Response().Header(), ResponseBody: resp}); msg != "" {
				t.Errorf("openapi: %s", msg)
			}
			return nil
		}
	}
}

// teeWriter keeps a copy of what the handler writes.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

func (w *teeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
