package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// alertSink is the receiving end of Alertmanager's webhook: it keeps every notification it is
// sent, with the time it arrived, and hands them back on GET /alerts, so a test can tell when an
// alert was delivered and when its resolution followed. It is the local stand-in for the paging
// service production's webhook reaches (same Alertmanager route, same payload).
type alertSink struct {
	mu            sync.Mutex
	notifications []receivedNotification
}

// receivedNotification is one webhook call: Alertmanager's payload as sent, and when it arrived.
type receivedNotification struct {
	ReceivedAt time.Time       `json:"receivedAt"`
	Payload    json.RawMessage `json:"payload"`
}

func (s *alertSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/healthz":
		fmt.Fprintln(w, "ok")
	case r.URL.Path == "/alerts" && r.Method == http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !json.Valid(body) {
			http.Error(w, "expected Alertmanager's JSON webhook payload", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.notifications = append(s.notifications, receivedNotification{ReceivedAt: time.Now().UTC(), Payload: body})
		s.mu.Unlock()
		logLine("info", "alert notification received", map[string]any{"bytes": len(body)})
		w.WriteHeader(http.StatusOK)
	case r.URL.Path == "/alerts" && r.Method == http.MethodGet:
		s.mu.Lock()
		// An empty list, not null, before the first notification.
		out, _ := json.Marshal(append([]receivedNotification{}, s.notifications...))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	default:
		http.NotFound(w, r)
	}
}

// runAlertSink serves the sink until the process is stopped.
func runAlertSink(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("alert-sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":8080", "address to serve POST/GET /alerts and /healthz on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logLine("info", "alert sink listening", map[string]any{"address": *listen})
	server := &http.Server{Addr: *listen, Handler: &alertSink{}, ReadHeaderTimeout: 5 * time.Second}
	if err := server.ListenAndServe(); err != nil {
		fmt.Fprintf(stderr, "alert-sink: %v\n", err)
		return 1
	}
	return 0
}
