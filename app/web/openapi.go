package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	"github.com/spiffy/spiffy/embedded"
)

// The API reference: embedded/openapi.yaml, written by hand as YAML (the
// form people edit and review) and served as JSON (the form every OpenAPI
// tool reads), converted once per process with its keys in the file's order.

// OpenAPIPath is where the document is served. It needs no API key: it is
// the same for every server and holds nothing of the merchant's, and API
// viewers and code generators fetch it without one.
const OpenAPIPath = "/api/v1/openapi.json"

// openAPIDoc is the document as JSON, and its ETag.
var openAPIDoc = sync.OnceValues(func() (openAPIJSON, error) {
	b, err := YAMLToJSON(embedded.OpenAPI)
	if err != nil {
		return openAPIJSON{}, fmt.Errorf("web: openapi.yaml: %w", err)
	}
	sum := sha256.Sum256(b)
	return openAPIJSON{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}, nil
})

type openAPIJSON struct {
	body []byte
	etag string
}

// OpenAPIDocument returns the API reference as JSON.
func OpenAPIDocument() ([]byte, error) {
	d, err := openAPIDoc()
	return d.body, err
}

func serveOpenAPI(c echo.Context) error {
	d, err := openAPIDoc()
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "public, max-age=3600")
	h.Set("ETag", d.etag)
	if c.Request().Header.Get("If-None-Match") == d.etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.body)
}

// YAMLToJSON converts one YAML document to JSON, keeping mapping keys in
// their order and resolving anchors and aliases. Mapping keys must be
// strings (quote numeric ones such as response codes).
func YAMLToJSON(in []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(in, &doc); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeJSONNode(&buf, &doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSONNode(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("want one YAML document, got %d", len(n.Content))
		}
		return writeJSONNode(buf, n.Content[0])
	case yaml.AliasNode:
		return writeJSONNode(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
				return fmt.Errorf("line %d: mapping key %q is not a string", k.Line, k.Value)
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(k.Value)
			buf.Write(kb)
			buf.WriteByte(':')
			if err := writeJSONNode(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSONNode(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(b)
	default:
		return fmt.Errorf("line %d: unexpected YAML node", n.Line)
	}
	return nil
}
