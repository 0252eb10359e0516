package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

const (
	defaultInterval = 10 * time.Second
	defaultTimeout  = 3 * time.Second
	shutdownGrace   = 5 * time.Second
)

// depState is what is known about one dependency.
type depState struct {
	dep      Dependency
	checked  bool
	last     Result
	lastAt   time.Time
	okTotal  uint64
	errTotal uint64
}

// Server is a running stand-in: its ports and its dependency checker.
type Server struct {
	cfg        Config
	interval   time.Duration
	timeout    time.Duration
	start      time.Time
	generation int64 // -1 when no dataDir
	skipped    []skipped
	requests   *requestMetrics
	failures   *failureInjector

	mu     sync.RWMutex
	states []*depState
	rounds int

	health    *health.Server
	listeners map[string]net.Listener
	httpSrv   []*http.Server
	grpcSrv   []*grpc.Server
	wg        sync.WaitGroup
	stop      chan struct{}
	stopOnce  sync.Once
	// roundDone is signalled (non-blocking) after every check round; tests wait on it.
	roundDone chan struct{}
}

// durationEnv parses a duration ("10s", "500ms") or a plain number of seconds.
func durationEnv(environ []string, name string, def time.Duration) (time.Duration, error) {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = strings.TrimSpace(val)
		}
	}
	if v == "" {
		return def, nil
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 10s, found %q", name, v)
	}
	return d, nil
}

// newServer prepares a server for cfg with the dependencies found in environ. It binds nothing.
func newServer(cfg Config, environ []string) (*Server, error) {
	interval, err := durationEnv(environ, "STANDIN_INTERVAL", defaultInterval)
	if err != nil {
		return nil, err
	}
	timeout, err := durationEnv(environ, "STANDIN_TIMEOUT", defaultTimeout)
	if err != nil {
		return nil, err
	}
	ratio, err := failureRatioEnv(environ)
	if err != nil {
		return nil, err
	}
	deps, skips := discover(environ)
	s := &Server{
		cfg: cfg, interval: interval, timeout: timeout, start: time.Now(), generation: -1,
		skipped: skips, requests: newRequestMetrics(), failures: newFailureInjector(ratio),
		health: health.NewServer(), listeners: map[string]net.Listener{},
		stop: make(chan struct{}), roundDone: make(chan struct{}, 1),
	}
	for _, d := range deps {
		s.states = append(s.states, &depState{dep: d})
	}
	s.setHealth()
	return s, nil
}

// ready reports readiness (every dependency's last check succeeded) and the failing ones.
func (s *Server) ready() (bool, []string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var failing []string
	for _, st := range s.states {
		switch {
		case !st.checked:
			failing = append(failing, st.dep.Env+" (not checked yet)")
		case !st.last.OK:
			failing = append(failing, st.dep.Env)
		}
	}
	return len(failing) == 0, failing
}

func (s *Server) setHealth() {
	ok, _ := s.ready()
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(s.cfg.Service, st)
}

// checkAll runs every dependency check concurrently, records and logs the results.
func (s *Server) checkAll() {
	var wg sync.WaitGroup
	for _, st := range s.states {
		wg.Add(1)
		go func(st *depState) {
			defer wg.Done()
			r := runCheck(st.dep.Kind, st.dep.Raw, s.cfg.Service, s.timeout)
			now := time.Now()
			s.mu.Lock()
			st.checked, st.last, st.lastAt = true, r, now
			if r.OK {
				st.okTotal++
			} else {
				st.errTotal++
			}
			s.mu.Unlock()
			level := "info"
			if !r.OK {
				level = "warn"
			}
			writeJSONLine(checkLog{
				TS: now.UTC().Format(time.RFC3339Nano), Level: level, Msg: "dependency check",
				Dependency: st.dep.Env, Kind: st.dep.Kind, Target: st.dep.Target, OK: r.OK,
				CalleeReady: r.CalleeReady, MS: r.Duration.Milliseconds(), Detail: r.Detail, Error: r.Err,
			})
		}(st)
	}
	wg.Wait()
	s.mu.Lock()
	s.rounds++
	s.mu.Unlock()
	s.setHealth()
	select {
	case s.roundDone <- struct{}{}:
	default:
	}
}

func (s *Server) checkLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.checkAll()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// Start binds every declared port, serves them and starts the dependency checks.
func (s *Server) Start() error {
	for _, p := range s.cfg.Ports {
		l, err := net.Listen("tcp", ":"+strconv.Itoa(p.Port))
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen on port %d (%s): %w", p.Port, p.Name, err)
		}
		s.listeners[p.Name] = l
	}
	for _, p := range s.cfg.Ports {
		l := s.listeners[p.Name]
		switch p.Protocol {
		case "grpc":
			gs := grpc.NewServer(
				grpc.ChainUnaryInterceptor(s.requests.unaryInterceptor),
				grpc.ChainStreamInterceptor(s.requests.streamInterceptor),
			)
			healthpb.RegisterHealthServer(gs, s.health)
			s.grpcSrv = append(s.grpcSrv, gs)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				if err := gs.Serve(l); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
					logLine("error", "grpc server stopped", map[string]any{"port": p.Port, "error": err.Error()})
				}
			}()
		case "http":
			hs := &http.Server{Handler: s.requests.instrumentHTTP(s.httpHandler(p)), ReadHeaderTimeout: 5 * time.Second}
			s.httpSrv = append(s.httpSrv, hs)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
					logLine("error", "http server stopped", map[string]any{"port": p.Port, "error": err.Error()})
				}
			}()
		}
	}
	s.wg.Add(1)
	go s.checkLoop()
	return nil
}

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		_ = l.Close()
	}
}

// Addr is the bound address of the named port.
func (s *Server) Addr(name string) string {
	if l, ok := s.listeners[name]; ok {
		return l.Addr().String()
	}
	return ""
}

// Shutdown stops the checks and the servers, forcing them closed when ctx ends.
func (s *Server) Shutdown(ctx context.Context) {
	s.stopOnce.Do(func() { close(s.stop) })
	s.health.Shutdown() // every service NOT_SERVING from now on
	var wg sync.WaitGroup
	for _, hs := range s.httpSrv {
		wg.Add(1)
		go func(hs *http.Server) {
			defer wg.Done()
			if err := hs.Shutdown(ctx); err != nil {
				_ = hs.Close()
			}
		}(hs)
	}
	for _, gs := range s.grpcSrv {
		wg.Add(1)
		go func(gs *grpc.Server) {
			defer wg.Done()
			done := make(chan struct{})
			go func() { gs.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				gs.Stop()
			}
		}(gs)
	}
	wg.Wait()
	s.wg.Wait()
}

type depReport struct {
	Dependency  string `json:"dependency"`
	Kind        string `json:"kind"`
	Target      string `json:"target"`
	Checked     bool   `json:"checked"`
	OK          bool   `json:"ok"`
	CalleeReady bool   `json:"calleeReady"`
	Detail      string `json:"detail,omitempty"`
	Error       string `json:"error,omitempty"`
	CheckedAt   string `json:"checkedAt,omitempty"`
}

func (s *Server) report() []depReport {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]depReport, 0, len(s.states))
	for _, st := range s.states {
		r := depReport{Dependency: st.dep.Env, Kind: st.dep.Kind, Target: st.dep.Target, Checked: st.checked}
		if st.checked {
			r.OK, r.CalleeReady, r.Detail, r.Error = st.last.OK, st.last.CalleeReady, st.last.Detail, st.last.Err
			r.CheckedAt = st.lastAt.UTC().Format(time.RFC3339Nano)
		}
		out = append(out, r)
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) httpHandler(p Port) http.Handler {
	healthPaths := map[string]bool{p.HealthPath: true, "/health": true, "/healthz": true, "/readyz": true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Health, liveness and metrics never fail on purpose: the pod stays ready and observable
		// while its application paths answer with the configured share of server errors.
		if !healthPaths[r.URL.Path] && r.URL.Path != "/livez" && r.URL.Path != "/metrics" && s.failures.next() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{
				"status": "injected failure", "service": s.cfg.Service, "failureRatio": s.failures.ratio(),
			})
			return
		}
		switch {
		case healthPaths[r.URL.Path]:
			ok, failing := s.ready()
			code, status := http.StatusOK, "ok"
			if !ok {
				code, status = http.StatusServiceUnavailable, "unavailable"
			}
			writeJSON(w, code, map[string]any{
				"status": status, "service": s.cfg.Service, "failing": nonNil(failing), "dependencies": s.report(),
			})
		case r.URL.Path == "/livez":
			// The process is alive, whatever its dependencies say.
			writeJSON(w, http.StatusOK, map[string]any{"status": "alive", "service": s.cfg.Service})
		case r.URL.Path == "/metrics":
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			_, _ = io.WriteString(w, s.metricsText())
		case r.URL.Path == "/":
			ok, _ := s.ready()
			host, _ := os.Hostname()
			id := map[string]any{
				"service": s.cfg.Service, "namespace": s.cfg.Namespace, "standin": true,
				"port": p.Name, "pod": host, "ready": ok,
			}
			if s.generation >= 0 {
				id["dataGeneration"] = s.generation
			}
			writeJSON(w, http.StatusOK, id)
		default:
			http.NotFound(w, r)
		}
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// runServe is the serve mode: config, data generation, ports, checks, until SIGTERM.
func runServe(args []string, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "standin serve: takes no arguments (the config comes from $STANDIN_CONFIG), found %q\n", args)
		return 2
	}
	path := configPath()
	cfg, err := loadConfig(path)
	if err != nil {
		fmt.Fprintf(stderr, "standin: %v\n", err)
		return 1
	}
	s, err := newServer(cfg, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "standin: %v\n", err)
		return 1
	}
	if cfg.DataDir != "" {
		gen, err := bumpGeneration(cfg.DataDir)
		if err != nil {
			fmt.Fprintf(stderr, "standin: dataDir %s: %v\n", cfg.DataDir, err)
			return 1
		}
		s.generation = gen
	}
	deps := []map[string]string{}
	for _, st := range s.states {
		deps = append(deps, map[string]string{"dependency": st.dep.Env, "kind": st.dep.Kind, "target": st.dep.Target})
	}
	skips := []map[string]string{}
	for _, sk := range s.skipped {
		skips = append(skips, map[string]string{"variable": sk.Env, "reason": sk.Reason})
	}
	fields := map[string]any{
		"service": cfg.Service, "namespace": cfg.Namespace, "config": path, "ports": cfg.Ports,
		"dependencies": deps, "skipped": skips, "interval": s.interval.String(), "timeout": s.timeout.String(),
	}
	if r := s.failures.ratio(); r > 0 {
		fields["failureRatio"] = r
	}
	if s.generation >= 0 {
		fields["dataDir"], fields["dataGeneration"] = cfg.DataDir, s.generation
	}
	if err := s.Start(); err != nil {
		fmt.Fprintf(stderr, "standin: %v\n", err)
		return 1
	}
	logLine("info", "standin serving", fields)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	got := <-sig
	logLine("info", "shutting down", map[string]any{"signal": got.String()})
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	s.Shutdown(ctx)
	logLine("info", "stopped", nil)
	return 0
}
