package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// The golden-signal request metrics, named and labelled as the platform's dashboards and alerts
// query them (REQUEST_METRICS in components/metrics.ts). The series carry only request labels:
// namespace, pod and the pod's identity labels are added by the ServiceMonitor, and a label of the
// same name here would be renamed to exported_* and break every query.
const (
	httpRequestsTotal   = "http_requests_total"
	httpRequestDuration = "http_request_duration_seconds"
	grpcHandledTotal    = "grpc_server_handled_total"
	grpcHandlingSeconds = "grpc_server_handling_seconds"
)

// durationBuckets are the histograms' upper bounds in seconds: 5 ms to 10 s, with 2 s and 2.5 s so
// a "p95 above 2 s" alert is judged on a bucket boundary rather than interpolated from 1 s to 5 s.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10}

// histogram counts observations per bucket (not cumulative; rendering accumulates).
type histogram struct {
	counts []uint64 // len(durationBuckets)+1; the last is above the highest bound
	sum    float64
	count  uint64
}

func newHistogram() *histogram { return &histogram{counts: make([]uint64, len(durationBuckets)+1)} }

func (h *histogram) observe(seconds float64) {
	i := sort.SearchFloat64s(durationBuckets, seconds) // first bound >= seconds: le is inclusive
	h.counts[i]++
	h.sum += seconds
	h.count++
}

// grpcMethod identifies a gRPC method as go-grpc-prometheus labels it.
type grpcMethod struct{ typ, service, method string }

type grpcCode struct {
	grpcMethod
	code string
}

// requestMetrics records every request the stand-in serves, over all its ports.
type requestMetrics struct {
	mu        sync.Mutex
	httpTotal map[string]uint64 // by status code
	httpDur   *histogram
	grpcTotal map[grpcCode]uint64
	grpcDur   map[grpcMethod]*histogram
}

func newRequestMetrics() *requestMetrics {
	return &requestMetrics{
		httpTotal: map[string]uint64{}, httpDur: newHistogram(),
		grpcTotal: map[grpcCode]uint64{}, grpcDur: map[grpcMethod]*histogram{},
	}
}

func (m *requestMetrics) observeHTTP(code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.httpTotal[strconv.Itoa(code)]++
	m.httpDur.observe(d.Seconds())
}

func (m *requestMetrics) observeGRPC(typ, fullMethod string, err error, d time.Duration) {
	svc, meth := splitMethod(fullMethod)
	k := grpcMethod{typ: typ, service: svc, method: meth}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.grpcTotal[grpcCode{k, status.Code(err).String()}]++
	h := m.grpcDur[k]
	if h == nil {
		h = newHistogram()
		m.grpcDur[k] = h
	}
	h.observe(d.Seconds())
}

// splitMethod splits "/grpc.health.v1.Health/Check" into service and method.
func splitMethod(full string) (string, string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndex(full, "/"); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", full
}

// statusRecorder remembers the status a handler wrote (200 when it wrote a body without one).
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// instrumentHTTP counts every request h serves, whatever its path.
func (m *requestMetrics) instrumentHTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		m.observeHTTP(rec.code, time.Since(start))
	})
}

func (m *requestMetrics) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	m.observeGRPC("unary", info.FullMethod, err, time.Since(start))
	return resp, err
}

func (m *requestMetrics) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	typ := "bidi_stream"
	switch {
	case info.IsClientStream && !info.IsServerStream:
		typ = "client_stream"
	case !info.IsClientStream && info.IsServerStream:
		typ = "server_stream"
	}
	m.observeGRPC(typ, info.FullMethod, err, time.Since(start))
	return err
}

// writeHistogram renders one histogram's _bucket (cumulative, ending with +Inf), _sum and _count.
func writeHistogram(b *strings.Builder, name string, lbls []string, h *histogram) {
	var cum uint64
	for i, bound := range durationBuckets {
		cum += h.counts[i]
		fmt.Fprintf(b, "%s_bucket%s %d\n", name, labels(append(append([]string{}, lbls...), "le", fmtFloat(bound))...), cum)
	}
	cum += h.counts[len(durationBuckets)]
	fmt.Fprintf(b, "%s_bucket%s %d\n", name, labels(append(append([]string{}, lbls...), "le", "+Inf")...), cum)
	l := ""
	if len(lbls) > 0 {
		l = labels(lbls...)
	}
	fmt.Fprintf(b, "%s_sum%s %s\n", name, l, fmtFloat(h.sum))
	fmt.Fprintf(b, "%s_count%s %d\n", name, l, h.count)
}

// text renders the request metrics in the Prometheus text exposition format. The HTTP families are
// always present (a scrape is itself a request); the gRPC ones once a call was handled.
func (m *requestMetrics) text() string {
	var b strings.Builder
	m.mu.Lock()
	defer m.mu.Unlock()

	fmt.Fprintf(&b, "# HELP %s HTTP requests served, by status code.\n# TYPE %s counter\n", httpRequestsTotal, httpRequestsTotal)
	codes := make([]string, 0, len(m.httpTotal))
	for c := range m.httpTotal {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, "%s%s %d\n", httpRequestsTotal, labels("status", c), m.httpTotal[c])
	}
	fmt.Fprintf(&b, "# HELP %s Time to serve HTTP requests in seconds.\n# TYPE %s histogram\n", httpRequestDuration, httpRequestDuration)
	writeHistogram(&b, httpRequestDuration, nil, m.httpDur)

	if len(m.grpcTotal) == 0 {
		return b.String()
	}
	keys := make([]grpcCode, 0, len(m.grpcTotal))
	for k := range m.grpcTotal {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := keys[i], keys[j]
		if a.service != c.service {
			return a.service < c.service
		}
		if a.method != c.method {
			return a.method < c.method
		}
		if a.typ != c.typ {
			return a.typ < c.typ
		}
		return a.code < c.code
	})
	fmt.Fprintf(&b, "# HELP %s gRPC calls completed on the server, by status code.\n# TYPE %s counter\n", grpcHandledTotal, grpcHandledTotal)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s%s %d\n", grpcHandledTotal,
			labels("grpc_type", k.typ, "grpc_service", k.service, "grpc_method", k.method, "grpc_code", k.code), m.grpcTotal[k])
	}
	fmt.Fprintf(&b, "# HELP %s Time to handle gRPC calls on the server in seconds.\n# TYPE %s histogram\n", grpcHandlingSeconds, grpcHandlingSeconds)
	seen := map[grpcMethod]bool{}
	for _, k := range keys {
		if seen[k.grpcMethod] {
			continue
		}
		seen[k.grpcMethod] = true
		writeHistogram(&b, grpcHandlingSeconds, []string{"grpc_type", k.typ, "grpc_service", k.service, "grpc_method", k.method}, m.grpcDur[k.grpcMethod])
	}
	return b.String()
}
