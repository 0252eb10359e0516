package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	amqp "github.com/rabbitmq/amqp091-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Result is the outcome of one check.
type Result struct {
	// OK: the flow worked (the dependency answered the way the check requires).
	OK bool
	// Reached: a TCP connection to the dependency was established (the network let the flow through).
	Reached bool
	// CalleeReady: the callee said it is ready itself (HTTP 2xx, gRPC SERVING; a data store that
	// answered is ready).
	CalleeReady bool
	Detail      string
	Err         string
	Duration    time.Duration
}

// dialTracker records whether any TCP connection was established.
type dialTracker struct{ connected atomic.Bool }

func (t *dialTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err == nil {
		t.connected.Store(true)
	}
	return c, err
}

// runCheck runs the check of kind against value within timeout. who names the caller (used for
// connection names and the Redis key). Credentials never appear in the result's Err.
func runCheck(kind, value, who string, timeout time.Duration) Result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	var r Result
	var err error
	tr := &dialTracker{}
	switch kind {
	case KindPostgres:
		r, err = checkPostgres(ctx, value, tr)
	case KindRedis:
		r, err = checkRedis(ctx, value, who, tr)
	case KindAMQP:
		r, err = checkAMQP(ctx, value, who, tr)
	case KindHTTP:
		r, err = checkHTTP(ctx, healthzURL(value), false, tr)
	case kindHTTPAny:
		r, err = checkHTTP(ctx, value, true, tr)
	case KindGRPC:
		r, err = checkGRPC(ctx, grpcTarget(value), who, tr)
	case KindTCP:
		r, err = checkTCP(ctx, value, tr)
	default:
		err = fmt.Errorf("unknown check kind %q", kind)
	}
	r.Duration = time.Since(start)
	r.Reached = r.Reached || tr.connected.Load()
	if err != nil {
		r.OK = false
		r.CalleeReady = false
		msg := err.Error()
		if ctx.Err() != nil && !strings.Contains(msg, "deadline") && !strings.Contains(msg, "timeout") {
			msg += fmt.Sprintf(" (timed out after %s)", timeout)
		}
		r.Err = scrub(msg, value)
	}
	r.Detail = scrub(r.Detail, value)
	return r
}

func checkTCP(ctx context.Context, addr string, tr *dialTracker) (Result, error) {
	if !isHostPort(addr) {
		return Result{}, fmt.Errorf("tcp target must be host:port, found %q", addr)
	}
	c, err := tr.dial(ctx, "tcp", addr)
	if err != nil {
		return Result{}, err
	}
	_ = c.Close()
	return Result{OK: true, CalleeReady: true, Detail: "connected"}, nil
}

func checkPostgres(ctx context.Context, dsn string, tr *dialTracker) (Result, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return Result{}, err
	}
	cfg.DialFunc = tr.dial
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "standin"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close(context.Background())
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return Result{}, fmt.Errorf("SELECT 1: %w", err)
	}
	if one != 1 {
		return Result{}, fmt.Errorf("SELECT 1 returned %d", one)
	}
	transport := "without TLS"
	if _, ok := conn.PgConn().Conn().(*tls.Conn); ok {
		transport = "over TLS"
	}
	return Result{OK: true, CalleeReady: true, Detail: "SELECT 1 ok " + transport + ", server " + conn.PgConn().ParameterStatus("server_version")}, nil
}

// healthzURL is the origin of an http(s) URL plus /healthz (credentials dropped: a health
// endpoint needs none).
func healthzURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Scheme + "://" + u.Host + "/healthz"
}

// kindHTTPAny is the probe's http check: GET the URL as given; any response counts.
const kindHTTPAny = "http-any"

// checkHTTP GETs target. The flow worked when the callee answered below 500 or with 503 (up,
// though not ready itself); with anyStatus every answer counts.
func checkHTTP(ctx context.Context, target string, anyStatus bool, tr *dialTracker) (Result, error) {
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           tr.dial,
		DisableKeepAlives:     true, // every check proves a fresh connection
		TLSHandshakeTimeout:   3 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("User-Agent", "standin")
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	r := Result{Reached: true, Detail: "HTTP " + strconv.Itoa(resp.StatusCode)}
	if anyStatus || resp.StatusCode < 500 || resp.StatusCode == http.StatusServiceUnavailable {
		r.OK = true
		r.CalleeReady = resp.StatusCode >= 200 && resp.StatusCode < 300
		return r, nil
	}
	return r, fmt.Errorf("GET %s answered %d", target, resp.StatusCode)
}

func checkGRPC(ctx context.Context, target, who string, tr *dialTracker) (Result, error) {
	if !isHostPort(target) {
		return Result{}, fmt.Errorf("grpc target must be host:port, found %q", target)
	}
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return tr.dial(ctx, "tcp", addr) }),
		grpc.WithUserAgent("standin/"+who),
	)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: ""})
	if err != nil {
		st, _ := status.FromError(err)
		switch st.Code() {
		case codes.Unimplemented, codes.NotFound:
			// The server answered (it has no health service, or not for ""): the flow worked.
			return Result{OK: true, Reached: true, Detail: "gRPC " + st.Code().String()}, nil
		}
		return Result{}, err
	}
	s := resp.GetStatus()
	return Result{OK: true, Reached: true, CalleeReady: s == healthpb.HealthCheckResponse_SERVING, Detail: s.String()}, nil
}

func checkAMQP(ctx context.Context, uri, who string, tr *dialTracker) (Result, error) {
	deadline, _ := ctx.Deadline()
	cfg := amqp.Config{
		Dial: func(network, addr string) (net.Conn, error) {
			c, err := tr.dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// A deadline for the TLS and AMQP handshakes; the library clears it once open.
			_ = c.SetDeadline(deadline)
			return c, nil
		},
		Properties: amqp.Table{"connection_name": "standin " + who},
		Heartbeat:  10 * time.Second,
	}
	type out struct {
		r   Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		conn, err := amqp.DialConfig(uri, cfg)
		if err != nil {
			done <- out{err: err}
			return
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			done <- out{err: fmt.Errorf("open channel: %w", err)}
			return
		}
		if err := ch.Close(); err != nil {
			done <- out{err: fmt.Errorf("close channel: %w", err)}
			return
		}
		if err := conn.Close(); err != nil && !errors.Is(err, amqp.ErrClosed) {
			done <- out{err: fmt.Errorf("close connection: %w", err)}
			return
		}
		done <- out{r: Result{OK: true, CalleeReady: true, Detail: "connection and channel opened"}}
	}()
	select {
	case o := <-done:
		return o.r, o.err
	case <-ctx.Done():
		if tr.connected.Load() {
			return Result{}, fmt.Errorf("connected, but the AMQP handshake did not finish in time: %w "+
				"(RabbitMQ answers wrong credentials only after a delay)", ctx.Err())
		}
		return Result{}, ctx.Err()
	}
}

// --- Redis: RESP by hand ---

type respValue struct {
	kind byte // '+', '-', ':', '$', '*'
	str  string
	null bool
}

func writeCommand(w *bufio.Writer, args ...string) error {
	fmt.Fprintf(w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(w, "$%d\r\n%s\r\n", len(a), a)
	}
	return w.Flush()
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("malformed RESP line %q", line)
	}
	return line[:len(line)-2], nil
}

func readReply(r *bufio.Reader) (respValue, error) {
	line, err := readLine(r)
	if err != nil {
		return respValue{}, err
	}
	if line == "" {
		return respValue{}, errors.New("empty RESP reply")
	}
	v := respValue{kind: line[0], str: line[1:]}
	switch line[0] {
	case '+', '-', ':':
		return v, nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return respValue{}, fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			v.null, v.str = true, ""
			return v, nil
		}
		if n > 1<<20 {
			return respValue{}, fmt.Errorf("bulk reply too long (%d bytes)", n)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return respValue{}, err
		}
		v.str = string(buf[:n])
		return v, nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return respValue{}, fmt.Errorf("bad array length %q", line)
		}
		for i := 0; i < n; i++ { // read and drop elements; no command here expects an array
			if _, err := readReply(r); err != nil {
				return respValue{}, err
			}
		}
		v.str = ""
		return v, nil
	}
	return respValue{}, fmt.Errorf("unexpected RESP reply %q", line)
}

// redisAddr is host:port of a redis:// URL (port 6379 by default).
func redisAddr(u *url.URL) string {
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "6379")
	}
	return u.Host
}

func checkRedis(ctx context.Context, raw, who string, tr *dialTracker) (Result, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Result{}, err
	}
	if u.Hostname() == "" {
		return Result{}, errors.New("redis URL has no host")
	}
	c, err := tr.dial(ctx, "tcp", redisAddr(u))
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if strings.EqualFold(u.Scheme, "rediss") {
		tc := tls.Client(c, &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return Result{}, fmt.Errorf("TLS handshake: %w", err)
		}
		c = tc
	}
	w := bufio.NewWriter(c)
	r := bufio.NewReader(c)
	do := func(args ...string) (respValue, error) {
		if err := writeCommand(w, args...); err != nil {
			return respValue{}, err
		}
		v, err := readReply(r)
		if err != nil {
			return v, fmt.Errorf("%s: %w", args[0], err)
		}
		if v.kind == '-' {
			return v, fmt.Errorf("%s: %s", args[0], v.str)
		}
		return v, nil
	}
	if u.User != nil {
		user := u.User.Username()
		pw, hasPW := u.User.Password()
		switch {
		case hasPW && user != "":
			_, err = do("AUTH", user, pw)
		case hasPW:
			_, err = do("AUTH", pw)
		case user != "":
			_, err = do("AUTH", user) // redis://PASSWORD@host: the lone userinfo is the password
		}
		if err != nil {
			return Result{}, err
		}
	}
	if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
		if _, err := strconv.Atoi(db); err != nil {
			return Result{}, fmt.Errorf("redis URL path must be a database number, found %q", db)
		}
		if _, err := do("SELECT", db); err != nil {
			return Result{}, err
		}
	}
	v, err := do("PING")
	if err != nil {
		return Result{}, err
	}
	if v.kind != '+' || v.str != "PONG" {
		return Result{}, fmt.Errorf("PING answered %q, want PONG", v.str)
	}
	key := "standin:check:" + who
	val := strconv.FormatInt(time.Now().UnixNano(), 10)
	if v, err := do("SET", key, val, "EX", "300"); err != nil {
		return Result{}, err
	} else if v.kind != '+' || v.str != "OK" {
		return Result{}, fmt.Errorf("SET answered %q, want OK", v.str)
	}
	v, err = do("GET", key)
	if err != nil {
		return Result{}, err
	}
	if v.kind != '$' || v.null || v.str != val {
		return Result{}, fmt.Errorf("GET %s returned %q, want the value just SET", key, v.str)
	}
	return Result{OK: true, CalleeReady: true, Detail: "PONG, SET/GET ok"}, nil
}
