package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// maxLoadRate bounds -rate: a test's traffic, not a benchmark (and the ticker needs a period above 0).
const maxLoadRate = 1000

// loadSummary is what `standin load` prints when it ends: requests sent and their outcomes.
type loadSummary struct {
	Target   string         `json:"target"`
	Sent     int            `json:"sent"`
	ByStatus map[string]int `json:"byStatus"` // status code, or "error" when no response came
	Seconds  float64        `json:"seconds"`
}

// runLoad is `standin load [-rate N] [-count N] [-duration D] [-timeout D] URL`: GET URL at a steady
// rate until count requests were sent, the duration passed or a signal came; then print a summary.
// It generates traffic for the request metrics (and the failure ratio) to be seen by Prometheus.
func runLoad(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("standin load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rate := fs.Float64("rate", 10, "requests per second")
	count := fs.Int("count", 0, "stop after this many requests (0: no limit)")
	duration := fs.Duration("duration", 0, "stop after this long (0: no limit)")
	timeout := fs.Duration("timeout", 5*time.Second, "timeout of each request")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var problems []string
	if fs.NArg() != 1 {
		problems = append(problems, fmt.Sprintf("one target URL expected, found %d arguments %q", fs.NArg(), fs.Args()))
	}
	if *rate <= 0 || *rate > maxLoadRate {
		problems = append(problems, fmt.Sprintf("-rate must be above 0 and at most %d, found %s", maxLoadRate, fmtFloat(*rate)))
	}
	if *count < 0 {
		problems = append(problems, fmt.Sprintf("-count must be 0 or more, found %d", *count))
	}
	if *duration < 0 || *timeout <= 0 {
		problems = append(problems, fmt.Sprintf("-duration must be 0 or more and -timeout above 0, found %s and %s", *duration, *timeout))
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "standin load: %s\n", p)
		}
		fmt.Fprintln(stderr, "usage: standin load [-rate N] [-count N] [-duration D] [-timeout D] URL")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, os.Interrupt)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	sum, err := generateLoad(ctx, fs.Arg(0), *rate, *count, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "standin load: %s\n", scrub(err.Error(), fs.Arg(0)))
		return 2
	}
	b, _ := json.Marshal(sum)
	fmt.Fprintln(stdout, string(b))
	return 0
}

// generateLoad sends GET target every 1/rate seconds (each request on its own, so a slow answer
// does not lower the rate) until count were sent (0: no limit) or ctx ends, then waits for the
// answers of those sent.
func generateLoad(ctx context.Context, target string, rate float64, count int, timeout time.Duration) (loadSummary, error) {
	if _, err := http.NewRequest(http.MethodGet, target, nil); err != nil {
		return loadSummary{}, err
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	sum := loadSummary{Target: redact(target), ByStatus: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for count == 0 || sum.Sent < count {
		sum.Sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcome := "error"
			req, _ := http.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("User-Agent", "standin-load")
			if resp, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				outcome = strconv.Itoa(resp.StatusCode)
			}
			mu.Lock()
			sum.ByStatus[outcome]++
			mu.Unlock()
		}()
		if count != 0 && sum.Sent == count {
			break
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			sum.Seconds = time.Since(start).Seconds()
			return sum, nil
		case <-tick.C:
		}
	}
	wg.Wait()
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}
