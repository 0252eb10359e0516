package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// series parses an exposition into "name{labels}" → value (labels exactly as rendered).
func series(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndex(line, " ")
		v, err := parseFloat(line[i+1:])
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// scrapeVia GETs /metrics on base: the scrape is itself a request, counted in the next one.
func scrapeVia(t *testing.T, base string) map[string]float64 {
	t.Helper()
	code, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	checkExposition(t, body)
	return series(t, body)
}

// checkHistogram checks one histogram: a bucket per bound, cumulative, +Inf equal to _count.
func checkHistogram(t *testing.T, m map[string]float64, name, lbls string) {
	t.Helper()
	prefix := "{"
	if lbls != "" {
		prefix = "{" + lbls + ","
	}
	prev := -1.0
	for _, b := range append(append([]string{}, boundStrings()...), "+Inf") {
		k := name + "_bucket" + prefix + `le="` + b + `"}`
		v, ok := m[k]
		if !ok {
			t.Fatalf("no series %s", k)
		}
		if v < prev {
			t.Errorf("%s = %v below the previous bucket's %v: not cumulative", k, v, prev)
		}
		prev = v
	}
	cl := ""
	if lbls != "" {
		cl = "{" + lbls + "}"
	}
	if c := m[name+"_count"+cl]; c != prev {
		t.Errorf("%s_count%s = %v, +Inf bucket = %v: must be equal", name, cl, c, prev)
	}
	if _, ok := m[name+"_sum"+cl]; !ok {
		t.Errorf("no %s_sum%s", name, cl)
	}
}

func boundStrings() []string {
	out := make([]string, len(durationBuckets))
	for i, b := range durationBuckets {
		out[i] = fmtFloat(b)
	}
	return out
}

// Every HTTP request is counted by status, whatever the path, and timed in the histogram.
func TestHTTPRequestMetrics(t *testing.T) {
	captureLogs(t)
	s := startServer(t, Config{Service: "order-service", Namespace: "ecommerce", Ports: []Port{
		{Name: "http", Port: 0, Protocol: "http", HealthPath: "/api/v1/heartbeat"},
		{Name: "metrics", Port: 0, Protocol: "http"},
	}}, nil)
	waitFor(t, "first round", func() bool { s.mu.RLock(); defer s.mu.RUnlock(); return s.rounds >= 1 })
	web := "http://" + loopback(s.Addr("http"))
	metrics := "http://" + loopback(s.Addr("metrics"))

	before := scrapeVia(t, metrics) // 0 requests counted so far; this scrape counts in the next
	if len(before) == 0 || before[`http_requests_total{status="200"}`] != 0 {
		t.Fatalf("first scrape: %v", before)
	}
	for _, p := range []string{"/api/v1/heartbeat", "/healthz", "/", "/livez"} {
		if code, _ := httpGet(t, web+p); code != 200 {
			t.Fatalf("GET %s = %d", p, code)
		}
	}
	for i := 0; i < 3; i++ {
		if code, _ := httpGet(t, web+"/nope"); code != 404 {
			t.Fatalf("GET /nope = %d", code)
		}
	}
	resp, err := http.Post(web+"/", "text/plain", bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	m := scrapeVia(t, metrics)
	for k, want := range map[string]float64{
		`http_requests_total{status="200"}`:   5, // four GETs plus the first scrape, on either port
		`http_requests_total{status="404"}`:   3,
		`http_requests_total{status="405"}`:   1,
		`http_request_duration_seconds_count`: 9,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	for k := range m {
		if strings.HasPrefix(k, "http_requests_total{") && strings.Count(k, "=") != 1 {
			t.Errorf("%s: want the status label only (namespace, pod and app come from the ServiceMonitor)", k)
		}
	}
	checkHistogram(t, m, "http_request_duration_seconds", "")
	// Local requests take well under 5 ms... or at most well under 10 s: every one is in a finite bucket.
	if m[`http_request_duration_seconds_bucket{le="10"}`] != 9 {
		t.Errorf("le=10 bucket = %v, want all 9", m[`http_request_duration_seconds_bucket{le="10"}`])
	}
	for _, b := range []string{"0.005", "2", "2.5", "10"} {
		if _, ok := m[`http_request_duration_seconds_bucket{le="`+b+`"}`]; !ok {
			t.Errorf("no le=%q bucket", b)
		}
	}
}

// The histogram puts an observation in the first bucket whose bound is at or above it.
func TestHistogramBuckets(t *testing.T) {
	rm := newRequestMetrics()
	for _, d := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 300 * time.Millisecond, 2 * time.Second, 2100 * time.Millisecond, 3 * time.Second, 11 * time.Second} {
		rm.observeHTTP(200, d)
	}
	rm.observeHTTP(503, 2*time.Second)
	m := series(t, rm.text())
	for le, want := range map[string]float64{
		"0.005": 2, "0.01": 2, "0.25": 2, "0.5": 3, "1": 3, "2": 5, "2.5": 6, "5": 7, "10": 7, "+Inf": 8,
	} {
		if got := m[`http_request_duration_seconds_bucket{le="`+le+`"}`]; got != want {
			t.Errorf("bucket le=%s = %v, want %v", le, got, want)
		}
	}
	if got := m["http_request_duration_seconds_sum"]; got < 20.4 || got > 20.41 {
		t.Errorf("sum = %v, want 20.406", got)
	}
	checkHistogram(t, m, "http_request_duration_seconds", "")
	if m[`http_requests_total{status="200"}`] != 7 || m[`http_requests_total{status="503"}`] != 1 {
		t.Errorf("counters: %v", m)
	}
}

// gRPC health calls are counted by code and method; NotFound for an unknown service is a code too.
func TestGRPCRequestMetrics(t *testing.T) {
	captureLogs(t)
	s := startServer(t, Config{Service: "order-service", Ports: []Port{
		{Name: "grpc", Port: 0, Protocol: "grpc"},
		{Name: "metrics", Port: 0, Protocol: "http"},
	}}, nil)
	waitFor(t, "first round", func() bool { s.mu.RLock(); defer s.mu.RUnlock(); return s.rounds >= 1 })
	grpcAddr := loopback(s.Addr("grpc"))
	metrics := "http://" + loopback(s.Addr("metrics"))

	if m := scrapeVia(t, metrics); m[`grpc_server_handled_total{grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK"}`] != 0 {
		t.Fatalf("gRPC calls counted before any: %v", m)
	}
	for i := 0; i < 3; i++ {
		grpcHealth(t, grpcAddr, "order-service")
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "no-such"}); err == nil {
		t.Fatal("health Check of an unknown service succeeded")
	}

	m := scrapeVia(t, metrics)
	const lbl = `grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check"`
	for k, want := range map[string]float64{
		`grpc_server_handled_total{` + lbl + `,grpc_code="OK"}`:       3,
		`grpc_server_handled_total{` + lbl + `,grpc_code="NotFound"}`: 1,
		`grpc_server_handling_seconds_count{` + lbl + `}`:             4,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	checkHistogram(t, m, "grpc_server_handling_seconds", lbl)
}

// STANDIN_FAILURE_RATIO fails exactly floor(N·ratio) of N application requests, evenly spread
// (the ratio resolves to parts per million: 1/3 is 0.333333, so 999 of 3000).
func TestFailureRatioExact(t *testing.T) {
	for _, tc := range []struct {
		ratio float64
		n     int
		want  int
	}{{0, 100, 0}, {0.25, 100, 25}, {0.1, 1000, 100}, {0.3, 99, 29}, {1.0 / 3, 3000, 999}, {0.05, 19, 0}, {0.05, 20, 1}, {1, 50, 50}, {0.999999, 1000000, 999999}} {
		f := newFailureInjector(tc.ratio)
		got, run, maxRun := 0, 0, 0
		for i := 0; i < tc.n; i++ {
			if f.next() {
				got++
				run++
				if run > maxRun {
					maxRun = run
				}
			} else {
				run = 0
			}
		}
		if got != tc.want {
			t.Errorf("ratio %v over %d requests: %d failed, want %d", tc.ratio, tc.n, got, tc.want)
		}
		if tc.ratio > 0 && tc.ratio <= 0.5 && maxRun > 1 {
			t.Errorf("ratio %v: %d failures in a row, want them spread", tc.ratio, maxRun)
		}
	}
	f := newFailureInjector(0.25)
	var pattern []bool
	for i := 0; i < 8; i++ {
		pattern = append(pattern, f.next())
	}
	if fmt.Sprint(pattern) != "[false false false true false false false true]" {
		t.Errorf("ratio 0.25 pattern = %v, want every 4th", pattern)
	}
}

func TestFailureRatioEnv(t *testing.T) {
	for _, v := range []string{"1.5", "-0.1", "half", "NaN"} {
		_, err := newServer(Config{Service: "x", Ports: []Port{{Name: "http", Protocol: "http"}}}, []string{"STANDIN_FAILURE_RATIO=" + v})
		if err == nil || !strings.Contains(err.Error(), "STANDIN_FAILURE_RATIO must be a number from 0 to 1") || !strings.Contains(err.Error(), strconv.Quote(v)) {
			t.Errorf("STANDIN_FAILURE_RATIO=%s: error %v", v, err)
		}
	}
	for v, want := range map[string]float64{"": 0, "0": 0, " 0.2 ": 0.2, "1": 1} {
		r, err := failureRatioEnv([]string{"STANDIN_FAILURE_RATIO=" + v})
		if err != nil || r != want {
			t.Errorf("STANDIN_FAILURE_RATIO=%q: %v, %v; want %v", v, r, err, want)
		}
	}
}

// With every application request failing, health, liveness and metrics still answer: the pod
// stays ready and scraped, and Prometheus sees the 503s.
func TestFailureModeSparesHealthPaths(t *testing.T) {
	captureLogs(t)
	s := startServer(t, Config{Service: "order-service", Ports: []Port{
		{Name: "http", Port: 0, Protocol: "http", HealthPath: "/api/v1/heartbeat"},
	}}, []string{"STANDIN_FAILURE_RATIO=1"})
	waitFor(t, "first round", func() bool { s.mu.RLock(); defer s.mu.RUnlock(); return s.rounds >= 1 })
	web := "http://" + loopback(s.Addr("http"))
	for i := 0; i < 20; i++ {
		for _, p := range []string{"/api/v1/heartbeat", "/health", "/healthz", "/readyz", "/livez", "/metrics"} {
			if code, body := httpGet(t, web+p); code != 200 {
				t.Fatalf("GET %s with STANDIN_FAILURE_RATIO=1 = %d %s", p, code, body)
			}
		}
	}
	for _, p := range []string{"/", "/api/v1/orders", "/nope"} {
		code, body := httpGet(t, web+p)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"injected failure"`) {
			t.Errorf("GET %s = %d %s, want the injected 503", p, code, body)
		}
	}
	m := scrapeVia(t, web)
	if m[`http_requests_total{status="503"}`] != 3 || m[`http_requests_total{status="200"}`] != 120 || m["standin_failure_ratio"] != 1 {
		t.Errorf("after 120 health/metrics requests and 3 application ones: 200=%v 503=%v ratio=%v",
			m[`http_requests_total{status="200"}`], m[`http_requests_total{status="503"}`], m["standin_failure_ratio"])
	}
}

// `standin load` sends the requests it was asked for; with ratio 0.2 exactly a fifth fail (the
// rest get the identity page), and the stand-in's metrics agree with the load's summary.
func TestLoadAgainstFailureRatio(t *testing.T) {
	captureLogs(t)
	s := startServer(t, Config{Service: "order-service", Ports: []Port{
		{Name: "http", Port: 0, Protocol: "http"},
		{Name: "metrics", Port: 0, Protocol: "http"},
	}}, []string{"STANDIN_FAILURE_RATIO=0.2"})
	waitFor(t, "first round", func() bool { s.mu.RLock(); defer s.mu.RUnlock(); return s.rounds >= 1 })
	web := "http://" + loopback(s.Addr("http"))

	var out, errOut bytes.Buffer
	if code := run([]string{"standin", "load", "-rate", "200", "-count", "50", web + "/"}, &out, &errOut); code != 0 {
		t.Fatalf("standin load exit %d: %s", code, errOut.String())
	}
	var sum loadSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", out.String(), err)
	}
	if sum.Sent != 50 || sum.ByStatus["503"] != 10 || sum.ByStatus["200"] != 40 {
		t.Errorf("summary = %+v, want 50 sent, 40×200, 10×503", sum)
	}
	m := scrapeVia(t, "http://"+loopback(s.Addr("metrics")))
	if m[`http_requests_total{status="503"}`] != 10 || m[`http_requests_total{status="200"}`] != 40 {
		t.Errorf("metrics: 200=%v 503=%v, want 40 and 10", m[`http_requests_total{status="200"}`], m[`http_requests_total{status="503"}`])
	}

	errOut.Reset()
	if code := run([]string{"standin", "load", "-rate", "5000", web + "/"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "found 5000") {
		t.Errorf("-rate 5000: exit %d, stderr %s", code, errOut.String())
	}

	// Bad arguments: every problem at once, exit 2.
	out.Reset()
	errOut.Reset()
	if code := run([]string{"standin", "load", "-rate", "0", "-count", "-1"}, &out, &errOut); code != 2 {
		t.Errorf("bad arguments: exit %d", code)
	}
	for _, want := range []string{"one target URL expected", "-rate must be above 0 and at most 1000, found 0", "-count must be 0 or more, found -1"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, errOut.String())
		}
	}
}
