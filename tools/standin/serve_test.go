package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func captureLogs(t *testing.T) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	old := logOut
	logOut = buf
	t.Cleanup(func() { logOut = old })
	return buf
}

// freeAddr reserves a loopback port and releases it: nothing listens there until the test says.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func grpcHealth(t *testing.T, addr, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("health Check(%q) on %s: %v", service, addr, err)
	}
	return resp.GetStatus()
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func startServer(t *testing.T, cfg Config, env []string) *Server {
	t.Helper()
	if err := cfg.validate(true); err != nil {
		t.Fatal(err)
	}
	s, err := newServer(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func loopback(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return "127.0.0.1:" + port
}

// A gRPC and an HTTP dependency are down, then come up, then the gRPC one goes away again: the
// stand-in's HTTP health, gRPC health and metrics follow.
func TestReadinessFollowsDependencies(t *testing.T) {
	logs := captureLogs(t)
	grpcDep := freeAddr(t)
	httpDep := freeAddr(t)
	cfg := Config{Service: "order-service", Namespace: "ecommerce", Ports: []Port{
		{Name: "grpc", Port: 0, Protocol: "grpc"},
		{Name: "metrics", Port: 0, Protocol: "http"},
		{Name: "http", Port: 0, Protocol: "http", HealthPath: "/api/v1/heartbeat"},
	}}
	s := startServer(t, cfg, []string{
		"INVENTORY_SERVICE_URL=" + grpcDep,
		"RISK_ENGINE_URL=http://caller:topsecret@" + httpDep + "/api",
		"LOG_LEVEL=debug",
		"STANDIN_INTERVAL=100ms",
		"STANDIN_TIMEOUT=1s",
	})
	web := "http://" + loopback(s.Addr("http"))
	metrics := "http://" + loopback(s.Addr("metrics"))
	grpcAddr := loopback(s.Addr("grpc"))

	// Down: wait for one full round of checks.
	waitFor(t, "first check round", func() bool { s.mu.RLock(); defer s.mu.RUnlock(); return s.rounds >= 1 })
	code, body := httpGet(t, web+"/api/v1/heartbeat")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("heartbeat with deps down = %d, want 503; body %s", code, body)
	}
	var h struct {
		Status  string   `json:"status"`
		Failing []string `json:"failing"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	if h.Status != "unavailable" || strings.Join(h.Failing, ",") != "INVENTORY_SERVICE_URL,RISK_ENGINE_URL" {
		t.Errorf("health body = %+v", h)
	}
	for _, p := range []string{"/health", "/healthz"} {
		if code, _ := httpGet(t, metrics+p); code != http.StatusServiceUnavailable {
			t.Errorf("%s on the metrics port = %d, want 503", p, code)
		}
	}
	if code, _ := httpGet(t, web+"/livez"); code != http.StatusOK {
		t.Errorf("/livez = %d, want 200 whatever the deps", code)
	}
	for _, svc := range []string{"", "order-service"} {
		if st := grpcHealth(t, grpcAddr, svc); st != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("gRPC health(%q) with deps down = %s, want NOT_SERVING", svc, st)
		}
	}
	_, m := httpGet(t, metrics+"/metrics")
	for _, want := range []string{
		"standin_ready 0\n",
		`standin_info{service="order-service",namespace="ecommerce"} 1`,
		`standin_dependency_up{dependency="INVENTORY_SERVICE_URL",kind="grpc",target="` + grpcDep + `"} 0`,
		`standin_dependency_up{dependency="RISK_ENGINE_URL",kind="http",target="http://` + httpDep + `/api"} 0`,
		`standin_dependency_checks_total{dependency="INVENTORY_SERVICE_URL",kind="grpc",target="` + grpcDep + `",result="ok"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}

	// Up: a gRPC health server (NOT_SERVING itself: still proves the flow) and an HTTP server.
	gl, err := net.Listen("tcp", grpcDep)
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	go gs.Serve(gl)
	defer gs.Stop()
	var pathsMu sync.Mutex
	var paths []string
	hl, err := net.Listen("tcp", httpDep)
	if err != nil {
		t.Fatal(err)
	}
	fake := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pathsMu.Lock()
		paths = append(paths, r.URL.Path)
		pathsMu.Unlock()
		w.WriteHeader(http.StatusOK)
	})}
	go fake.Serve(hl)
	defer fake.Close()

	waitFor(t, "heartbeat 200", func() bool { c, _ := httpGet(t, web+"/api/v1/heartbeat"); return c == http.StatusOK })
	for _, svc := range []string{"", "order-service"} {
		if st := grpcHealth(t, grpcAddr, svc); st != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("gRPC health(%q) with deps up = %s, want SERVING", svc, st)
		}
	}
	pathsMu.Lock()
	for _, p := range paths {
		if p != "/healthz" {
			t.Errorf("HTTP dependency check asked for %q, want /healthz", p)
		}
	}
	pathsMu.Unlock()
	_, m = httpGet(t, metrics+"/metrics")
	for _, want := range []string{
		"standin_ready 1\n",
		`standin_dependency_up{dependency="INVENTORY_SERVICE_URL",kind="grpc",target="` + grpcDep + `"} 1`,
		`standin_dependency_callee_ready{dependency="INVENTORY_SERVICE_URL",kind="grpc",target="` + grpcDep + `"} 0`,
		`standin_dependency_up{dependency="RISK_ENGINE_URL",kind="http",target="http://` + httpDep + `/api"} 1`,
		`standin_dependency_callee_ready{dependency="RISK_ENGINE_URL",kind="http",target="http://` + httpDep + `/api"} 1`,
		"# TYPE standin_dependency_checks_total counter\n",
		"standin_dependency_last_check_timestamp_seconds{",
		"standin_start_time_seconds ",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	if strings.Contains(m, "standin_data_generation") {
		t.Errorf("no dataDir, yet standin_data_generation is exposed")
	}
	checkExposition(t, m)

	// Down again: the gRPC dependency goes away.
	gs.Stop()
	waitFor(t, "heartbeat 503 again", func() bool { c, _ := httpGet(t, web+"/api/v1/heartbeat"); return c == http.StatusServiceUnavailable })
	if st := grpcHealth(t, grpcAddr, ""); st != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("gRPC health after the dependency left = %s, want NOT_SERVING", st)
	}

	// The identity page.
	code, body = httpGet(t, web+"/")
	if code != 200 || !strings.Contains(body, `"service":"order-service"`) || !strings.Contains(body, `"namespace":"ecommerce"`) {
		t.Errorf("GET / = %d %s", code, body)
	}
	if code, _ := httpGet(t, web+"/nope"); code != 404 {
		t.Errorf("GET /nope = %d, want 404", code)
	}

	// Logs: one JSON line per check, with the documented fields, and never the password.
	out := logs.String()
	if strings.Contains(out, "topsecret") || strings.Contains(m, "topsecret") {
		t.Errorf("password leaked into logs or metrics")
	}
	var sawOK, sawFail bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if l["msg"] != "dependency check" {
			continue
		}
		for _, f := range []string{"ts", "level", "dependency", "kind", "target", "ok", "ms", "error"} {
			if _, ok := l[f]; !ok {
				t.Errorf("log line lacks %q: %s", f, line)
			}
		}
		if l["ok"] == true {
			sawOK = true
			if l["level"] != "info" {
				t.Errorf("ok check logged at %v", l["level"])
			}
		} else {
			sawFail = true
			if l["level"] != "warn" || l["error"] == "" {
				t.Errorf("failed check line: %s", line)
			}
		}
	}
	if !sawOK || !sawFail {
		t.Errorf("want both ok and failed check lines; ok=%v fail=%v", sawOK, sawFail)
	}
}

// checkExposition checks the text format line by line: HELP/TYPE before samples, name{labels} value.
func checkExposition(t *testing.T, text string) {
	t.Helper()
	typed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.HasPrefix(line, "# TYPE ") {
			f := strings.Fields(line)
			if len(f) != 4 {
				t.Errorf("bad TYPE line %q", line)
				continue
			}
			typed[f[2]] = true
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if !typed[name] {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(name, suf); ok && typed[base] {
					name = base
				}
			}
		}
		if !typed[name] {
			t.Errorf("sample before its TYPE: %q", line)
		}
		val := line[strings.LastIndex(line, " ")+1:]
		if _, err := parseFloat(val); err != nil {
			t.Errorf("bad value in %q", line)
		}
	}
}

// With no dependencies the stand-in is ready at once.
func TestNoDependenciesIsReady(t *testing.T) {
	captureLogs(t)
	s := startServer(t, Config{Service: "static-site", Ports: []Port{{Name: "http", Port: 0, Protocol: "http"}}}, nil)
	waitFor(t, "first round", func() bool { s.mu.RLock(); defer s.mu.RUnlock(); return s.rounds >= 1 })
	if code, body := httpGet(t, "http://"+loopback(s.Addr("http"))+"/health"); code != 200 {
		t.Fatalf("/health = %d %s", code, body)
	}
}

// An HTTP callee answering 503 (up, not ready itself) still proves the flow; a 500 does not.
func TestHTTPCheckStatuses(t *testing.T) {
	for _, c := range []struct {
		code      int
		ok, ready bool
	}{{200, true, true}, {204, true, true}, {404, true, false}, {503, true, false}, {500, false, false}, {502, false, false}} {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(c.code) })}
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		go srv.Serve(l)
		r := runCheck(KindHTTP, "http://"+l.Addr().String(), "t", time.Second)
		srv.Close()
		if r.OK != c.ok || r.CalleeReady != c.ready || !r.Reached {
			t.Errorf("HTTP %d: ok=%v ready=%v reached=%v, want ok=%v ready=%v", c.code, r.OK, r.CalleeReady, r.Reached, c.ok, c.ready)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	good := `{"service":"order-service","namespace":"ecommerce",
	  "ports":[{"name":"grpc","port":9004,"protocol":"grpc"},{"name":"metrics","port":9104,"protocol":"http"},
	           {"name":"http","port":3000,"protocol":"http","healthPath":"/health"}],
	  "dataDir":"/chroma/chroma"}`
	dir := t.TempDir()
	write := func(s string) string {
		p := dir + "/c.json"
		if err := writeFile(p, s); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := loadConfig(write(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Ports[1].HealthPath != "/health" || c.DataDir != "/chroma/chroma" || len(c.Ports) != 3 {
		t.Errorf("loaded %+v", c)
	}
	bad := map[string]string{
		`{"ports":[{"name":"h","port":80,"protocol":"http"}]}`:                                                        "service: required",
		`{"service":"x","ports":[]}`:                                                                                  "at least one port",
		`{"service":"x","ports":[{"name":"h","port":0,"protocol":"http"}]}`:                                           "port must be 1-65535",
		`{"service":"x","ports":[{"name":"h","port":80,"protocol":"tcp"}]}`:                                           `protocol must be "grpc" or "http"`,
		`{"service":"x","ports":[{"name":"h","port":80,"protocol":"http"},{"name":"h","port":81,"protocol":"http"}]}`: "declared twice",
		`{"service":"x","ports":[{"name":"h","port":80,"protocol":"http","healthPath":"health"}]}`:                    "must start with /",
		`{"service":"x","ports":[{"name":"g","port":80,"protocol":"grpc","healthPath":"/h"}]}`:                        "http ports only",
		`{"service":"x","port":80}`:                                                                                   "unknown field",
	}
	for in, want := range bad {
		_, err := loadConfig(write(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %s: error %v, want it to mention %q", in, err, want)
		}
	}
	if _, err := loadConfig(dir + "/absent.json"); err == nil {
		t.Errorf("a missing config must fail")
	}
}
