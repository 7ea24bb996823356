package web

import (
	"crypto/subtle"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spiffy/spiffy/app"
)

// metrics is the server's own Prometheus registry (no global default
// registry, so tests can build many servers).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(a *app.App) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spiffy_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spiffy_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spiffy_store_lsm_bytes", Help: "Size of Badger's LSM tree on disk."},
			func() float64 { return float64(a.StoreStats().LSMBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spiffy_store_vlog_bytes", Help: "Size of Badger's value log on disk."},
			func() float64 { return float64(a.StoreStats().VlogBytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "spiffy_store_write_batches_total", Help: "Transactions committed by the store's writer."},
			func() float64 { return float64(a.StoreStats().WriteBatches) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "spiffy_store_write_ops_total", Help: "Write operations committed by the store's writer."},
			func() float64 { return float64(a.StoreStats().WriteOps) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "spiffy_webhook_attempts_total", Help: "Webhook delivery attempts made by this process."},
			func() float64 { n, _ := a.Webhooks().Stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "spiffy_webhook_messages_held", Help: "Webhook messages queued in memory for delivery."},
			func() float64 { _, h := a.Webhooks().Stats(); return float64(h) }),
	)
	m.reg.MustRegister(mailCollectors(a)...)
	return m
}

// Registry lets other packages (jobs, webhooks) register their collectors.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// handler serves the metrics; with a token configured only to a request
// that carries it (metrics.token).
func (m *metrics) handler(token string) echo.HandlerFunc {
	serve := echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	if token == "" {
		return serve
	}
	want := []byte("Bearer " + token)
	return func(c echo.Context) error {
		if subtle.ConstantTimeCompare([]byte(c.Request().Header.Get(echo.HeaderAuthorization)), want) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return app.ErrUnauthorized
		}
		return serve(c)
	}
}
