package web

import (
	"compress/gzip"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// compressMinLength is the size below which an answer goes out as it is:
// gzip's header and trailer make a small answer no smaller, and the error
// JSON and redirects are that small.
const compressMinLength = 1024

// compress gzips what the pages, the API and the CSV downloads send to
// clients that accept it: HTML, CSS, JS, JSON and CSV shrink four- to
// sixfold (the dashboard 31 KB to 5 KB). A streamed CSV keeps streaming:
// the gzip writer passes on what it has compressed as rows come.
//
// Left out: /spiffy.js, already served precompressed (script.go); /t/*,
// the tracking hot path, whose answers are a few dozen bytes; /metrics,
// which Prometheus' handler compresses itself; the backup, a binary
// stream; and range requests, whose byte ranges are of the file as stored.
func compress() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{
		Level:     gzip.DefaultCompression,
		MinLength: compressMinLength,
		Skipper: func(c echo.Context) bool {
			req := c.Request()
			p := req.URL.Path
			if p == "/spiffy.js" || isTracking(c) || p == "/metrics" || p == "/api/v1/backup" ||
				req.Header.Get("Range") != "" {
				return true
			}
			if !acceptsGzip(req.Header.Get(echo.HeaderAcceptEncoding)) {
				// Echo's check is a substring match, which takes
				// "gzip;q=0" for a yes. The answer still depends on
				// the header, so caches must know.
				addVary(c, headerVaryAcceptEncoding)
				return true
			}
			return false
		},
	})
}
