package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

type probeOut struct {
	Kind    string `json:"kind"`
	Target  string `json:"target"`
	OK      bool   `json:"ok"`
	Reached bool   `json:"reached"`
	MS      int64  `json:"ms"`
	Detail  string `json:"detail,omitempty"`
	Error   string `json:"error"`
}

var probeKinds = map[string]string{
	"tcp": KindTCP, "http": kindHTTPAny, "grpc": KindGRPC, "postgres": KindPostgres, "redis": KindRedis, "amqp": KindAMQP,
}

// runProbe is `standin probe KIND TARGET`: one check, one JSON line, exit 0 when it connected
// (and, for the data stores, the check passed), 1 otherwise.
func runProbe(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintf(stderr, "usage: standin probe tcp|http|grpc|postgres|redis|amqp TARGET\n")
		return 2
	}
	kind, ok := probeKinds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "standin probe: unknown kind %q (want tcp, http, grpc, postgres, redis or amqp)\n", args[0])
		return 2
	}
	target := args[1]
	timeout, err := durationEnv(os.Environ(), "STANDIN_TIMEOUT", defaultTimeout)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	who, _ := os.Hostname()
	r := runCheck(kind, target, "probe-"+who, timeout)
	shown := redact(target)
	if kind == KindTCP || kind == KindGRPC {
		shown = grpcTarget(target)
	}
	b, _ := json.Marshal(probeOut{Kind: args[0], Target: shown, OK: r.OK, Reached: r.Reached, MS: r.Duration.Milliseconds(), Detail: r.Detail, Error: r.Err})
	fmt.Fprintln(stdout, string(b))
	if r.OK {
		return 0
	}
	return 1
}

// runScrape is `standin scrape URL`: GET it, print the body, fail on an error or a status >= 400.
func runScrape(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "usage: standin scrape URL\n")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		fmt.Fprintf(stderr, "standin scrape: %s\n", scrub(err.Error(), args[0]))
		return 2
	}
	req.Header.Set("User-Agent", "standin")
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "standin scrape: %s\n", scrub(err.Error(), args[0]))
		return 1
	}
	defer resp.Body.Close()
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		fmt.Fprintf(stderr, "standin scrape: reading body: %v\n", err)
		return 1
	}
	if resp.StatusCode >= 400 {
		fmt.Fprintf(stderr, "standin scrape: %s answered %s\n", redact(args[0]), resp.Status)
		return 1
	}
	return 0
}
