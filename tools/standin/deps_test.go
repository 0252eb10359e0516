package main

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	cases := []struct{ value, want string }{
		{"postgres://u:p@db:5432/orders?sslmode=disable", KindPostgres},
		{"postgresql://u:p@db/orders?sslmode=verify-full&sslrootcert=/etc/ca.crt", KindPostgres},
		{"POSTGRES://db/x", KindPostgres},
		{"redis://:pw@redis-master.cache.svc.cluster.local:6379/0", KindRedis},
		{"rediss://default:pw@master.example.cache.amazonaws.com:6379", KindRedis},
		{"amqp://user:pw@rabbitmq.messaging.svc:5672/", KindAMQP},
		{"amqps://b-1.mq.eu-west-1.amazonaws.com:5671", KindAMQP},
		{"http://risk-engine.fintech.svc.cluster.local:8000", KindHTTP},
		{"https://example.internal/api", KindHTTP},
		{"inventory-service.ecommerce.svc.cluster.local:9003", KindGRPC},
		{"10.0.0.7:50051", KindGRPC},
		{"[::1]:9003", KindGRPC},
		{"grpc://inventory:9003", KindGRPC},
		{" inventory:9003 ", KindGRPC},
		{"inventory", ""},
		{"inventory:http", ""},
		{"inventory:0", ""},
		{"inventory:70000", ""},
		{"ftp://files:21", ""},
		{"s3://bucket/key", ""},
		{"user@host:22", ""},
		{"", ""},
	}
	for _, c := range cases {
		if got := classify(c.value); got != c.want {
			t.Errorf("classify(%q) = %q, want %q", c.value, got, c.want)
		}
	}
}

func TestDiscover(t *testing.T) {
	env := []string{
		"DATABASE_URL=postgresql://order:s3cret@ecommerce-postgres.data.svc:5432/orders?sslmode=disable",
		"INVENTORY_SERVICE_URL=inventory-service.ecommerce.svc.cluster.local:9003",
		"REDIS_URL=redis://:hunter22@redis.cache.svc:6379/0",
		"RABBITMQ_URL=amqp://order:rabbitpw@rabbitmq.messaging.svc:5672/",
		"CHROMA_URL=http://chromadb.trading.svc:8000",
		"OTEL_EXPORTER_URL=http://collector:4318",
		"STANDIN_IGNORE=OTEL_EXPORTER_URL, NOPE_URL",
		"LOG_LEVEL=debug",
		"DATABASE_URL_FILE=/etc/x", // does not end in _URL
		"DOCS_URL=see the wiki",
		"EMPTY_URL=",
		"PATH=/usr/bin",
	}
	deps, skips := discover(env)
	got := map[string]Dependency{}
	var names []string
	for _, d := range deps {
		got[d.Env] = d
		names = append(names, d.Env)
	}
	if want := "CHROMA_URL,DATABASE_URL,INVENTORY_SERVICE_URL,RABBITMQ_URL,REDIS_URL"; strings.Join(names, ",") != want {
		t.Fatalf("deps = %s, want %s (sorted)", strings.Join(names, ","), want)
	}
	wantKinds := map[string]string{"CHROMA_URL": KindHTTP, "DATABASE_URL": KindPostgres, "INVENTORY_SERVICE_URL": KindGRPC, "RABBITMQ_URL": KindAMQP, "REDIS_URL": KindRedis}
	for n, k := range wantKinds {
		if got[n].Kind != k {
			t.Errorf("%s kind = %q, want %q", n, got[n].Kind, k)
		}
	}
	if tg := got["DATABASE_URL"].Target; tg != "postgresql://ecommerce-postgres.data.svc:5432/orders?sslmode=disable" {
		t.Errorf("DATABASE_URL target = %q", tg)
	}
	if tg := got["INVENTORY_SERVICE_URL"].Target; tg != "inventory-service.ecommerce.svc.cluster.local:9003" {
		t.Errorf("INVENTORY_SERVICE_URL target = %q", tg)
	}
	skipped := map[string]string{}
	for _, s := range skips {
		skipped[s.Env] = s.Reason
	}
	for _, n := range []string{"OTEL_EXPORTER_URL", "DOCS_URL", "EMPTY_URL"} {
		if _, ok := skipped[n]; !ok {
			t.Errorf("%s should be skipped, skips = %v", n, skips)
		}
	}
	if _, ok := skipped["NOPE_URL"]; ok {
		t.Errorf("an ignored name that is not set is not a skip")
	}
	for _, d := range deps {
		for _, secret := range []string{"s3cret", "hunter22", "rabbitpw"} {
			if strings.Contains(d.Target, secret) {
				t.Errorf("%s target %q leaks a password", d.Env, d.Target)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://bob:pa55@db:5432/x?sslmode=require", "postgres://db:5432/x?sslmode=require"},
		{"postgresql://bob@db/x", "postgresql://db/x"},
		{"redis://:hunter2@redis:6379/0", "redis://redis:6379/0"},
		{"rediss://default:pw@r.example:6379", "rediss://r.example:6379"},
		{"amqp://guest:guest@mq:5672/", "amqp://mq:5672/"},
		{"http://u:p@svc:8000/path", "http://svc:8000/path"},
		{"http://svc:8000", "http://svc:8000"},
		{"postgres://db/x?sslmode=disable&password=pw1", "postgres://db/x?password=REDACTED&sslmode=disable"},
		{"postgres://db/x?sslkey=/k&sslmode=verify-full", "postgres://db/x?sslkey=REDACTED&sslmode=verify-full"},
		// a password with characters that break URL parsing still goes
		{"postgres://bob:p%zz@db/x", "postgres://db/x"},
		{"redis://:a b@host:1", "redis://host:1"},
		{"bob:pw@host:5432", "host:5432"},
	}
	for _, c := range cases {
		if got := redact(c.in); got != c.want {
			t.Errorf("redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestScrub(t *testing.T) {
	value := "postgres://bob:p%40ss%2Fword@db:5432/x?sslmode=disable"
	msgs := []string{
		`cannot parse "postgres://bob:p%40ss%2Fword@db:5432/x": bad`,
		"password authentication failed, tried p@ss/word",
		`dial "postgres://bob:p%40ss%2Fword@db"`,
	}
	for _, m := range msgs {
		got := scrub(m, value)
		for _, s := range []string{"p%40ss%2Fword", "p@ss/word"} {
			if strings.Contains(got, s) {
				t.Errorf("scrub(%q) = %q still holds %q", m, got, s)
			}
		}
	}
	if got := scrub("connect failed: https://x:y@other.host/z", "http://a"); got != "connect failed: https://other.host/z" {
		t.Errorf("userinfo in an unrelated URL not dropped: %q", got)
	}
	if got := scrub("plain error", value); got != "plain error" {
		t.Errorf("scrub changed a clean message: %q", got)
	}
	// redis://PASSWORD@host: the lone userinfo is the password
	if got := scrub("AUTH failed for sekritpw", "redis://sekritpw@h:6379"); strings.Contains(got, "sekritpw") {
		t.Errorf("lone-userinfo password leaked: %q", got)
	}
}

func TestHealthzURL(t *testing.T) {
	cases := map[string]string{
		"http://risk:8000":                   "http://risk:8000/healthz",
		"http://risk:8000/api/v1?x=1":        "http://risk:8000/healthz",
		"https://u:p@chroma.trading:8000/db": "https://chroma.trading:8000/healthz",
	}
	for in, want := range cases {
		if got := healthzURL(in); got != want {
			t.Errorf("healthzURL(%q) = %q, want %q", in, got, want)
		}
	}
}
