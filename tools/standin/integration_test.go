package main

// Integration tests against real PostgreSQL, Redis and RabbitMQ servers started on loopback in
// temporary directories. They run only with STANDIN_INTEGRATION=1 and skip (saying why) when a
// server binary is missing: PostgreSQL from /usr/lib/postgresql/*/bin (run as the "postgres" user
// when the test runs as root), redis-server and rabbitmq-server from Debian's packages.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func integration(t *testing.T) {
	t.Helper()
	if os.Getenv("STANDIN_INTEGRATION") != "1" {
		t.Skip("set STANDIN_INTEGRATION=1 to run against real PostgreSQL, Redis and RabbitMQ")
	}
}

func freePort(t *testing.T) int {
	_, p, _ := net.SplitHostPort(freeAddr(t))
	n, _ := strconv.Atoi(p)
	return n
}

func waitPort(t *testing.T, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not open within %s", addr, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// --- PostgreSQL ---

type pgServer struct {
	t       *testing.T
	bin     string
	dir     string
	port    int
	asUser  *user.User // non-nil: run the server's commands as this user (we are root)
	caFile  string
	logFile string
}

func (p *pgServer) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	if p.asUser != nil {
		return exec.Command("runuser", append([]string{"-u", p.asUser.Username, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (p *pgServer) run(name string, args ...string) {
	p.t.Helper()
	out, err := p.cmd(name, args...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func (p *pgServer) chown(path string) {
	if p.asUser == nil {
		return
	}
	uid, _ := strconv.Atoi(p.asUser.Uid)
	gid, _ := strconv.Atoi(p.asUser.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		p.t.Fatal(err)
	}
}

// newPostgres initialises (but does not start) a cluster with superuser postgres/pgpass and TLS
// on (a CA-signed certificate for localhost and 127.0.0.1).
func newPostgres(t *testing.T) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("no PostgreSQL server (/usr/lib/postgresql/*/bin/initdb)")
	}
	p := &pgServer{t: t, bin: filepath.Dir(bins[len(bins)-1]), port: freePort(t)}
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root and there is no postgres user to run the server as")
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			t.Skip("running as root without runuser")
		}
		p.asUser = u
	}
	dir, err := os.MkdirTemp("", "standin-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	p.chown(dir)
	pw := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pw, []byte("pgpass\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--pwfile", pw,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")

	// TLS: a CA and a server certificate it signs.
	caCert, caKey := makeCert(t, nil, nil, "standin test CA", true)
	srvCert, srvKey := makeCert(t, caCert, caKey, "localhost", false)
	p.caFile = filepath.Join(dir, "ca.pem")
	writePEM(t, p.caFile, "CERTIFICATE", caCert.Raw, 0o644)
	data := filepath.Join(dir, "data")
	writePEM(t, filepath.Join(data, "server.crt"), "CERTIFICATE", srvCert.Raw, 0o644)
	kb, _ := x509.MarshalECPrivateKey(srvKey)
	writePEM(t, filepath.Join(data, "server.key"), "EC PRIVATE KEY", kb, 0o600)
	p.chown(filepath.Join(data, "server.crt"))
	p.chown(filepath.Join(data, "server.key"))
	p.logFile = filepath.Join(dir, "server.log")
	return p
}

func (p *pgServer) start() {
	p.t.Helper()
	p.run("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-l", p.logFile, "-w", "-t", "30", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c ssl=on -c fsync=off", p.port, p.dir), "start")
	p.t.Cleanup(func() {
		_ = p.cmd("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop").Run()
	})
}

func (p *pgServer) url(extra string) string {
	return fmt.Sprintf("postgres://postgres:pgpass@127.0.0.1:%d/postgres?%s", p.port, extra)
}

func makeCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, cn string, ca bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func writePEM(t *testing.T, path, typ string, der []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationPostgres(t *testing.T) {
	integration(t)
	pg := newPostgres(t)
	t.Setenv("STANDIN_SERVICE", "order-service")

	// migrate is started before the database: it retries until the server is up.
	t.Setenv("STANDIN_MIGRATE_WAIT", "60s")
	type res struct {
		code           int
		stdout, stderr string
	}
	done := make(chan res, 1)
	go func() {
		var o, e bytes.Buffer
		c := run([]string{"migrate", "-path", "/migrations", "-database", pg.url("sslmode=disable"), "up"}, &o, &e)
		done <- res{c, o.String(), e.String()}
	}()
	time.Sleep(2500 * time.Millisecond)
	pg.start()
	var r res
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("migrate did not finish")
	}
	if r.code != 0 || !strings.Contains(r.stdout, "1/u") || !strings.Contains(r.stderr, "retrying") {
		t.Fatalf("first migrate: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, "pgpass") {
		t.Errorf("migrate output leaks the password")
	}
	t.Logf("first migrate (started before the server):\n%s%s", r.stderr, r.stdout)

	// Re-running is a no-op.
	var o, e bytes.Buffer
	if c := run([]string{"migrate", "-path", "/migrations", "-database", pg.url("sslmode=disable"), "up"}, &o, &e); c != 0 || !strings.Contains(o.String(), "no change") {
		t.Fatalf("second migrate: exit %d %s %s", c, o.String(), e.String())
	}
	o.Reset()
	if c := run([]string{"standin", "migrate", "-database", pg.url("sslmode=disable"), "version"}, &o, &e); c != 0 || strings.TrimSpace(o.String()) != "1" {
		t.Errorf("version: exit %d %q", c, o.String())
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.url("sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version int64
	var dirty bool
	var rows int
	var service string
	if err := conn.QueryRow(ctx, "SELECT version, dirty, (SELECT count(*) FROM schema_migrations) FROM schema_migrations").Scan(&version, &dirty, &rows); err != nil {
		t.Fatal(err)
	}
	if version != 1 || dirty || rows != 1 {
		t.Errorf("schema_migrations: version %d dirty %v rows %d", version, dirty, rows)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*), max(service) FROM standin_migrations").Scan(&rows, &service); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || service != "order-service" {
		t.Errorf("standin_migrations: %d rows, service %q", rows, service)
	}
	// A dirty database fails the way golang-migrate does.
	if _, err := conn.Exec(ctx, "UPDATE schema_migrations SET dirty = true"); err != nil {
		t.Fatal(err)
	}
	e.Reset()
	if c := run([]string{"migrate", "-path", "/migrations", "-database", pg.url("sslmode=disable"), "up"}, &o, &e); c != 1 || !strings.Contains(e.String(), "Dirty database version 1") {
		t.Errorf("dirty migrate: exit %d %s", c, e.String())
	}

	// The dependency check, honouring sslmode.
	checks := []struct {
		url, detail, errPart string
	}{
		{pg.url("sslmode=disable"), "without TLS", ""},
		{pg.url("sslmode=require"), "over TLS", ""},
		{strings.Replace(pg.url("sslmode=verify-full&sslrootcert="+pg.caFile), "127.0.0.1", "localhost", 1), "over TLS", ""},
		{pg.url("sslmode=verify-full"), "", "certificate"}, // no CA given: the system roots do not know ours
		{strings.Replace(pg.url("sslmode=disable"), "pgpass", "wrong-pw-77", 1), "", "password authentication failed"},
	}
	for _, c := range checks {
		r := runCheck(KindPostgres, c.url, "order-service", 5*time.Second)
		if c.errPart == "" && (!r.OK || !strings.Contains(r.Detail, c.detail)) {
			t.Errorf("%s: %+v, want ok %q", redact(c.url), r, c.detail)
		}
		if c.errPart != "" && (r.OK || !strings.Contains(r.Err, c.errPart)) {
			t.Errorf("%s: %+v, want an error with %q", redact(c.url), r, c.errPart)
		}
		if strings.Contains(r.Err, "wrong-pw-77") || strings.Contains(r.Err, "pgpass") {
			t.Errorf("error leaks the password: %s", r.Err)
		}
		t.Logf("%s -> ok=%v detail=%q error=%q", redact(c.url), r.OK, r.Detail, r.Err)
	}

	// serve's readiness with a real database behind DATABASE_URL.
	captureLogs(t)
	good := strings.Replace(pg.url("sslmode=verify-full&sslrootcert="+pg.caFile), "127.0.0.1", "localhost", 1)
	s, err := newServer(Config{Service: "order-service", Ports: []Port{{Name: "http", Protocol: "http"}}}, []string{"DATABASE_URL=" + good})
	if err != nil {
		t.Fatal(err)
	}
	s.checkAll()
	if ok, failing := s.ready(); !ok {
		t.Errorf("not ready with a reachable database: %v %+v", failing, s.report())
	}
}

// --- Redis ---

func TestIntegrationRedis(t *testing.T) {
	integration(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server")
	}
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir %s\n"+
		"requirepass redispw1\nuser app on >apppw2 ~* &* +@all\n", port, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, conf)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	for _, c := range []struct {
		url string
		ok  bool
		err string
	}{
		{"redis://:redispw1@" + addr + "/0", true, ""},
		{"redis://:redispw1@" + addr + "/2", true, ""},
		{"redis://app:apppw2@" + addr, true, ""},
		{"redis://:nope-pw-3@" + addr + "/0", false, "WRONGPASS"},
		{"redis://" + addr, false, "NOAUTH"},
	} {
		r := runCheck(KindRedis, c.url, "order-service", 3*time.Second)
		if r.OK != c.ok || (c.err != "" && !strings.Contains(r.Err, c.err)) {
			t.Errorf("%s: %+v", redact(c.url), r)
		}
		if strings.Contains(r.Err, "nope-pw-3") {
			t.Errorf("error leaks the password: %s", r.Err)
		}
		t.Logf("%s -> ok=%v detail=%q error=%q", redact(c.url), r.OK, r.Detail, r.Err)
	}
}

// --- RabbitMQ ---

func TestIntegrationAMQP(t *testing.T) {
	integration(t)
	server := "/usr/lib/rabbitmq/bin/rabbitmq-server"
	epmdBins, _ := filepath.Glob("/usr/lib/erlang/erts-*/bin/epmd")
	if _, err := os.Stat(server); err != nil || len(epmdBins) == 0 {
		t.Skip("no rabbitmq-server / epmd")
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	if err := os.WriteFile(filepath.Join(home, ".erlang.cookie"), []byte("STANDINTESTCOOKIE"), 0o400); err != nil {
		t.Fatal(err)
	}
	// Our own epmd on a free port, so no daemon outlives the test.
	epmdPort := freePort(t)
	epmd := exec.Command(epmdBins[0], "-port", strconv.Itoa(epmdPort), "-address", "127.0.0.1")
	if err := epmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { epmd.Process.Kill(); epmd.Wait() })
	waitPort(t, fmt.Sprintf("127.0.0.1:%d", epmdPort), 5*time.Second)

	port := freePort(t)
	cmd := exec.Command(server)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"RABBITMQ_NODENAME=standin-it-"+strconv.Itoa(port)+"@localhost",
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(port),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(freePort(t)),
		"ERL_EPMD_PORT="+strconv.Itoa(epmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(dir, "advanced.config"),
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_PID_FILE="+filepath.Join(dir, "pid"),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // the server's own process group
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r := runCheck(KindAMQP, "amqp://guest:guest@"+addr+"/", "t", 2*time.Second); r.OK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("RabbitMQ did not come up:\n%s", out.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, c := range []struct {
		url     string
		timeout time.Duration
		ok      bool
		err     string
	}{
		{"amqp://guest:guest@" + addr + "/", 3 * time.Second, true, ""},
		{"amqp://guest:guest@" + addr + "/%2F", 3 * time.Second, true, ""},
		{"amqp://guest:guest@" + addr + "/novhost", 3 * time.Second, false, "vhost novhost not found"},
		// RabbitMQ answers bad credentials after a delay: give it the time, then with the default
		// timeout the error says so.
		{"amqp://guest:bad-pw-9@" + addr + "/", 8 * time.Second, false, "username or password not allowed"},
		{"amqp://guest:bad-pw-9@" + addr + "/", 1 * time.Second, false, "handshake did not finish"},
	} {
		r := runCheck(KindAMQP, c.url, "order-service", c.timeout)
		if r.OK != c.ok || (c.err != "" && !strings.Contains(r.Err, c.err)) {
			t.Errorf("%s: %+v", redact(c.url), r)
		}
		if strings.Contains(r.Err, "bad-pw-9") {
			t.Errorf("error leaks the password: %s", r.Err)
		}
		t.Logf("%s -> ok=%v detail=%q error=%q", redact(c.url), r.OK, r.Detail, r.Err)
	}
}
