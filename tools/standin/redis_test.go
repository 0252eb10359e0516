package main

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRedis speaks enough RESP for the check: AUTH [user] pass, SELECT, PING, SET k v EX n, GET k.
type fakeRedis struct {
	user, pass string
	mu         sync.Mutex
	data       map[string]string
	cmds       []string
}

func (f *fakeRedis) serve(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f.data = map[string]string{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go f.handle(c)
		}
	}()
	return l.Addr().String()
}

func (f *fakeRedis) handle(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	authed := f.pass == ""
	for {
		line, err := readLine(r)
		if err != nil || !strings.HasPrefix(line, "*") {
			return
		}
		n, _ := strconv.Atoi(line[1:])
		var args []string
		for i := 0; i < n; i++ {
			v, err := readReply(r)
			if err != nil {
				return
			}
			args = append(args, v.str)
		}
		f.mu.Lock()
		f.cmds = append(f.cmds, strings.ToUpper(args[0]))
		f.mu.Unlock()
		reply := ""
		switch cmd := strings.ToUpper(args[0]); {
		case cmd == "AUTH":
			user, pass := "default", args[len(args)-1]
			if len(args) == 3 {
				user = args[1]
			}
			if pass == f.pass && (f.user == "" || user == f.user) {
				authed, reply = true, "+OK\r\n"
			} else {
				reply = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
			}
		case !authed:
			reply = "-NOAUTH Authentication required.\r\n"
		case cmd == "PING":
			reply = "+PONG\r\n"
		case cmd == "SELECT":
			reply = "+OK\r\n"
		case cmd == "SET":
			f.mu.Lock()
			f.data[args[1]] = args[2]
			f.mu.Unlock()
			reply = "+OK\r\n"
		case cmd == "GET":
			f.mu.Lock()
			v, ok := f.data[args[1]]
			f.mu.Unlock()
			if ok {
				reply = fmt.Sprintf("$%d\r\n%s\r\n", len(v), v)
			} else {
				reply = "$-1\r\n"
			}
		default:
			reply = "-ERR unknown command\r\n"
		}
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
	}
}

func TestRedisCheck(t *testing.T) {
	f := &fakeRedis{pass: "hunter2pw"}
	addr := f.serve(t)
	r := runCheck(KindRedis, "redis://:hunter2pw@"+addr+"/3", "order-service", 2*time.Second)
	if !r.OK || !r.CalleeReady {
		t.Fatalf("good password: %+v", r)
	}
	f.mu.Lock()
	if got := strings.Join(f.cmds, " "); got != "AUTH SELECT PING SET GET" {
		t.Errorf("commands = %s", got)
	}
	if f.data["standin:check:order-service"] == "" {
		t.Errorf("the check's key was not written: %v", f.data)
	}
	f.mu.Unlock()

	r = runCheck(KindRedis, "redis://:wrongpw99@"+addr+"/0", "order-service", 2*time.Second)
	if r.OK || !strings.Contains(r.Err, "WRONGPASS") || strings.Contains(r.Err, "wrongpw99") || !r.Reached {
		t.Errorf("wrong password: %+v", r)
	}
	r = runCheck(KindRedis, "redis://"+addr, "order-service", 2*time.Second)
	if r.OK || !strings.Contains(r.Err, "NOAUTH") {
		t.Errorf("no password: %+v", r)
	}
	// redis://PASSWORD@host (legacy form) and ACL user:password
	if r := runCheck(KindRedis, "redis://hunter2pw@"+addr, "x", 2*time.Second); !r.OK {
		t.Errorf("lone userinfo as password: %+v", r)
	}
	acl := &fakeRedis{user: "app", pass: "aclpw123"}
	aaddr := acl.serve(t)
	if r := runCheck(KindRedis, "redis://app:aclpw123@"+aaddr, "x", 2*time.Second); !r.OK {
		t.Errorf("ACL user: %+v", r)
	}
	// nothing listening
	if r := runCheck(KindRedis, "redis://:pw@"+freeAddr(t), "x", time.Second); r.OK || r.Reached {
		t.Errorf("closed port: %+v", r)
	}
}

// A server that accepts and never answers: the check times out instead of hanging.
func TestRedisCheckTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	r := runCheck(KindRedis, "redis://:pw@"+l.Addr().String(), "x", 300*time.Millisecond)
	if r.OK || time.Since(start) > 2*time.Second || !r.Reached {
		t.Errorf("silent server: %+v after %s", r, time.Since(start))
	}
}
