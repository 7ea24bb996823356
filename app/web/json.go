package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/spiffy/spiffy/app"
)

// DecodeJSON reads a JSON request body into v, turning every decoding
// problem into a 400 that names the field when it can.
func DecodeJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) && !strings.HasPrefix(ct, echo.MIMETextPlain) {
		return app.Errorf(app.KindUnsupportedMedia, "unsupported_media_type", "send the body as application/json")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return jsonError(err)
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD and store
	// that: refuse it instead.
	if !utf8.Valid(body) {
		return app.Invalid("body", "invalid_json", "body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if c.Request().Method == http.MethodPatch {
		// A partial update names only fields it changes: a misspelt one
		// would otherwise change nothing and answer 200.
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return app.Invalid(name, "unknown_field", "%s is not a field of this object", name)
		}
		return jsonError(err)
	}
	if dec.More() {
		return app.Invalid("body", "invalid_json", "body must be a single JSON object")
	}
	return nil
}

// decodeOptionalJSON is DecodeJSON for a body that may be left out: an
// empty body leaves v as it is.
func decodeOptionalJSON(c echo.Context, v any) error {
	r := c.Request()
	if r.ContentLength == 0 {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return DecodeJSON(c, v)
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return app.Errorf(app.KindTooLarge, "payload_too_large", "body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return app.Invalid("body", "invalid_json", "body must be a JSON object")
		}
		return app.Invalid(field, "invalid_"+field, "%s must be a %s", field, jsonKind(te.Type.Kind().String()))
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return app.Invalid("body", "invalid_json", "body is not valid JSON")
	case errors.Is(err, io.EOF):
		return app.Invalid("body", "invalid_json", "body is empty; send a JSON object")
	}
	return app.Invalid("body", "invalid_json", "body is not valid JSON")
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "number"
	case k == "bool":
		return "boolean"
	case k == "string":
		return "string"
	}
	return "value of another type"
}

// Page is the API's list envelope.
type Page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// NewPage wraps a page of items; next "" means the last page.
func NewPage[T any](data []T, next string) Page[T] {
	if data == nil {
		data = []T{}
	}
	p := Page[T]{Data: data}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

// ListParams reads ?limit= (default 50, 1–500) and ?cursor=.
func ListParams(c echo.Context) (limit int, cursor string, err error) {
	limit = 50
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return 0, "", app.Invalid("limit", "invalid_limit", "limit must be a whole number from 1 to 500")
		}
		limit = n
	}
	return limit, c.QueryParam("cursor"), nil
}
