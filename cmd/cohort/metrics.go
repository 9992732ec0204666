package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/cohorthq/cohort"
	"github.com/cohorthq/cohort/internal/httpx"
	"github.com/cohorthq/cohort/internal/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus metrics of one `cohort serve`. They are
// served on their own listener (--metrics-addr), never on the main
// address: request counts, outbox backlog and pool use are operational
// detail for the operator's monitoring, not for staff or the internet.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
}

// newMetrics returns the metrics of a server on db, or nil when no
// --metrics-addr is configured (then nothing is counted).
func newMetrics(addr string, db *sqlstore.DB, logger *slog.Logger) *metrics {
	if addr == "" {
		return nil
	}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cohort_http_requests_total",
			Help: "HTTP requests answered, by route pattern (\"unmatched\" for paths no route serves) and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cohort_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern. Live-update streams count the whole time they stay open.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cohort_webhook_deliveries_total",
			Help: "Webhook delivery attempts made by this process, by outcome (delivered or failed).",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.deliveries,
		&dbCollector{db: db, logger: logger},
	)
	// Both outcomes are exported from the start, so a rate() over the
	// failures works before the first failure.
	m.deliveries.WithLabelValues("delivered")
	m.deliveries.WithLabelValues("failed")
	return m
}

// instrument counts and times every request the server answers, labelled
// by the route pattern that serves it. The pattern is looked up on a mux
// of the server's routes, so that the server's middleware needs no hook
// and a client cannot invent label values.
func (m *metrics) instrument(h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	patterns := http.NewServeMux()
	for _, rt := range h.(interface{ Routes() []httpx.Route }).Routes() {
		patterns.Handle(rt.Method+" "+rt.Pattern, http.NotFoundHandler())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := "unmatched"
		if _, p := patterns.Handler(r); p != "" {
			route = p
		}
		start := time.Now()
		sw := &metricsWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// metricsWriter records a response's status. It passes Flush through
// (live updates) and unwraps for http.ResponseController (deadlines).
type metricsWriter struct {
	http.ResponseWriter
	status int
}

func (w *metricsWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *metricsWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *metricsWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *metricsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countDeliveries returns q with every recorded delivery attempt counted.
// The relay records each attempt through the queue, so counting there
// sees every outcome without the relay knowing about metrics.
func (m *metrics) countDeliveries(q cohort.DeliveryQueue) cohort.DeliveryQueue {
	if m == nil || q == nil {
		return q
	}
	return &countingQueue{DeliveryQueue: q, m: m}
}

type countingQueue struct {
	cohort.DeliveryQueue
	m *metrics
}

func (q *countingQueue) RecordDeliveryAttempt(ctx context.Context, deliveryID string, a cohort.DeliveryAttempt) error {
	outcome := "failed"
	if a.Delivered {
		outcome = "delivered"
	}
	q.m.deliveries.WithLabelValues(outcome).Inc()
	return q.DeliveryQueue.RecordDeliveryAttempt(ctx, deliveryID, a)
}

// serve listens on addr and serves /metrics until the returned stop is
// called. It prints where, so an operator (and a test) knows the port.
func (m *metrics) serve(addr string, e *env, logger *slog.Logger) (stop func(), err error) {
	if m == nil {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --metrics-addr %s: %w (choose a free port, or leave it empty to serve no metrics)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener stopped", "err", err)
		}
	}()
	url := "http://" + displayAddr(ln.Addr()) + "/metrics"
	logger.Info("serving metrics", "url", url)
	fmt.Fprintf(e.stdout, "Prometheus metrics at %s\n", url)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// dbCollector reads the database's connection pools and outbox backlog
// at scrape time.
type dbCollector struct {
	db     *sqlstore.DB
	logger *slog.Logger
}

var (
	poolOpenDesc = prometheus.NewDesc("cohort_db_pool_open_connections",
		"Open database connections, by pool (SQLite: read and write; PostgreSQL: main).", []string{"pool"}, nil)
	poolInUseDesc = prometheus.NewDesc("cohort_db_pool_in_use_connections",
		"Database connections in use.", []string{"pool"}, nil)
	poolIdleDesc = prometheus.NewDesc("cohort_db_pool_idle_connections",
		"Idle database connections.", []string{"pool"}, nil)
	poolMaxDesc = prometheus.NewDesc("cohort_db_pool_max_open_connections",
		"Most connections the pool may open (--db-max-conns).", []string{"pool"}, nil)
	poolWaitCountDesc = prometheus.NewDesc("cohort_db_pool_wait_count_total",
		"Times a query waited for a free connection.", []string{"pool"}, nil)
	poolWaitDesc = prometheus.NewDesc("cohort_db_pool_wait_seconds_total",
		"Total time queries waited for a free connection.", []string{"pool"}, nil)
	outboxLagDesc = prometheus.NewDesc("cohort_outbox_lag_events",
		"Committed events the webhook relay has not yet turned into deliveries (last event seq minus relay position).", nil, nil)
	outboxPendingDesc = prometheus.NewDesc("cohort_webhook_deliveries_pending",
		"Webhook deliveries waiting to be sent or retried.", nil, nil)
	dbUpDesc = prometheus.NewDesc("cohort_db_up",
		"1 when the outbox could be read at scrape time, 0 when the database did not answer.", nil, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpenDesc, poolInUseDesc, poolIdleDesc, poolMaxDesc, poolWaitCountDesc, poolWaitDesc, outboxLagDesc, outboxPendingDesc, dbUpDesc} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	for pool, s := range c.db.PoolStats() {
		ch <- prometheus.MustNewConstMetric(poolOpenDesc, prometheus.GaugeValue, float64(s.OpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(poolInUseDesc, prometheus.GaugeValue, float64(s.InUse), pool)
		ch <- prometheus.MustNewConstMetric(poolIdleDesc, prometheus.GaugeValue, float64(s.Idle), pool)
		ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(s.MaxOpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(poolWaitCountDesc, prometheus.CounterValue, float64(s.WaitCount), pool)
		ch <- prometheus.MustNewConstMetric(poolWaitDesc, prometheus.CounterValue, s.WaitDuration.Seconds(), pool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o, err := c.db.Outbox(ctx)
	if err != nil {
		// The scrape still answers (pool and request metrics matter most
		// during an outage); cohort_db_up says why the backlog is missing.
		c.logger.Warn("metrics: reading the outbox failed", "err", err)
		ch <- prometheus.MustNewConstMetric(dbUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(dbUpDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(outboxLagDesc, prometheus.GaugeValue, float64(o.Lag))
	ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(o.PendingDeliveries))
}
