package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// gateway serves the inference gateway's HTTP surface and its fault switches.
type gateway struct {
	log      *slog.Logger
	faults   *faults
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newGateway(log *slog.Logger, f *faults) *gateway {
	g := &gateway{
		log:      log,
		faults:   f,
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by handler and status code.",
		}, []string{"handler", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency, by handler.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"handler"}),
	}
	g.registry.MustRegister(g.requests, g.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return g
}

func (g *gateway) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /health", g.instrument("/health", http.HandlerFunc(g.health)))
	mux.Handle("POST /predict", g.instrument("/predict", http.HandlerFunc(g.predict)))
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /admin/fault", g.fault)
	return mux
}

// statusRecorder remembers the status code a handler wrote; promhttp's own
// middleware labels it "code", while the runbook's queries use "status".
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (g *gateway) instrument(handler string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		g.requests.WithLabelValues(handler, strconv.Itoa(rec.status)).Inc()
		g.latency.WithLabelValues(handler).Observe(time.Since(start).Seconds())
	})
}

func (g *gateway) health(w http.ResponseWriter, _ *http.Request) {
	if !g.faults.healthy() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
}

// predictRequest is the runbook's example body: {"data": [[1,2,3,4]]}.
type predictRequest struct {
	Data [][]float64 `json:"data"`
}

// predict stands in for a model: one prediction per row, the row's mean.
func (g *gateway) predict(w http.ResponseWriter, r *http.Request) {
	var req predictRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
		return
	}
	if len(req.Data) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "data: want at least one row"})
		return
	}
	if g.faults.fail() {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "model failed (fault errors)"})
		return
	}
	predictions := make([]float64, len(req.Data))
	for i, row := range req.Data {
		if len(row) == 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "data[" + strconv.Itoa(i) + "]: empty row"})
			return
		}
		var sum float64
		for _, x := range row {
			sum += x
		}
		predictions[i] = sum / float64(len(row))
	}
	writeJSON(w, http.StatusOK, map[string][]float64{"predictions": predictions})
}

// fault arms the fault named by ?do= (see parseFault); &sticky=true makes it
// hit again on every start of the same container.
func (g *gateway) fault(w http.ResponseWriter, r *http.Request) {
	f, err := parseFault(r.URL.Query().Get("do"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	sticky := r.URL.Query().Get("sticky") == "true"
	if sticky {
		if err := g.faults.persist(f); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
	}
	g.log.Warn("fault armed", "fault", f.String(), "sticky", sticky)
	// Answer before a fatal fault takes the process down.
	writeJSON(w, http.StatusAccepted, map[string]any{"fault": f.String(), "sticky": sticky})
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	if err := g.faults.apply(f); err != nil {
		g.log.Error("fault failed", "fault", f.String(), "err", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
