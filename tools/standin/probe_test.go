package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			w.Write([]byte("standin_ready 1\n"))
			return
		}
		http.Error(w, "boom", 500)
	})}
	go srv.Serve(l)
	defer srv.Close()
	open := l.Addr().String()
	closed := freeAddr(t)

	cases := []struct {
		args []string
		code int
		ok   bool
	}{
		{[]string{"standin", "probe", "tcp", open}, 0, true},
		{[]string{"standin", "probe", "tcp", closed}, 1, false},
		{[]string{"standin", "probe", "http", "http://" + open + "/anything"}, 0, true}, // a 500 still connected
		{[]string{"standin", "probe", "http", "http://" + closed + "/"}, 1, false},
		{[]string{"standin", "probe", "grpc", closed}, 1, false},
		{[]string{"standin", "probe", "postgres", "postgres://u:pw@" + closed + "/db?sslmode=disable"}, 1, false},
		{[]string{"standin", "probe", "amqp", "amqp://u:pw@" + closed + "/"}, 1, false},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		if code != c.code {
			t.Errorf("%q: exit %d, want %d (%s%s)", c.args, code, c.code, out.String(), errb.String())
			continue
		}
		var p probeOut
		if err := json.Unmarshal(out.Bytes(), &p); err != nil {
			t.Errorf("%q: output not one JSON line: %q", c.args, out.String())
			continue
		}
		if p.OK != c.ok || (c.ok && p.Error != "") || (!c.ok && p.Error == "") {
			t.Errorf("%q: %+v", c.args, p)
		}
		if strings.Contains(out.String(), ":pw@") {
			t.Errorf("%q: password in output %s", c.args, out.String())
		}
	}

	var out, errb bytes.Buffer
	if code := run([]string{"standin", "scrape", "http://" + open + "/metrics"}, &out, &errb); code != 0 || out.String() != "standin_ready 1\n" {
		t.Errorf("scrape: exit %d, out %q, err %q", code, out.String(), errb.String())
	}
	if code := run([]string{"standin", "scrape", "http://" + open + "/other"}, &out, &errb); code == 0 {
		t.Errorf("scrape of a 500 must fail")
	}
	if code := run([]string{"standin", "scrape", "http://" + closed + "/metrics"}, &out, &errb); code == 0 {
		t.Errorf("scrape of a closed port must fail")
	}
}

func TestDispatch(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"standin", "bogus"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown mode") {
		t.Errorf("unknown mode: %d %s", code, errb.String())
	}
	if code := run([]string{"standin", "probe", "udp", "x:1"}, &out, &errb); code != 2 {
		t.Errorf("unknown probe kind: %d", code)
	}
	if code := run([]string{"standin", "probe"}, &out, &errb); code != 2 {
		t.Errorf("probe without args: %d", code)
	}
	errb.Reset()
	if code := run([]string{"/bin/migrate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "no command") {
		t.Errorf("argv[0] migrate without args: %d %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"standin", "migrate", "-database", "postgres://h/db", "down"}, &out, &errb); code != 2 {
		t.Errorf("standin migrate down: %d %s", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"standin", "help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "standin probe") {
		t.Errorf("help: %d", code)
	}
	// serve with a missing config: exit 1 with a clear message
	t.Setenv("STANDIN_CONFIG", t.TempDir()+"/none.json")
	errb.Reset()
	if code := run([]string{"/app/order-service"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "read config") {
		t.Errorf("serve without config: %d %s", code, errb.String())
	}
}
