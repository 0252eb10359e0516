package main

import (
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"
)

var logMu sync.Mutex

// logOut is where JSON log lines go (stdout; tests may swap it).
var logOut io.Writer = os.Stdout

// checkLog is one dependency check's log line; field order is fixed for readable logs.
type checkLog struct {
	TS          string `json:"ts"`
	Level       string `json:"level"`
	Msg         string `json:"msg"`
	Dependency  string `json:"dependency"`
	Kind        string `json:"kind"`
	Target      string `json:"target"`
	OK          bool   `json:"ok"`
	CalleeReady bool   `json:"calleeReady"`
	MS          int64  `json:"ms"`
	Detail      string `json:"detail,omitempty"`
	Error       string `json:"error"`
}

func nowTS() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func writeJSONLine(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	logMu.Lock()
	defer logMu.Unlock()
	_, _ = logOut.Write(append(b, '\n'))
}

// logLine writes {"ts","level","msg",...fields} as one JSON line.
func logLine(level, msg string, fields map[string]any) {
	m := map[string]any{"ts": nowTS(), "level": level, "msg": msg}
	for k, v := range fields {
		m[k] = v
	}
	writeJSONLine(m)
}
