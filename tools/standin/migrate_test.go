package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestParseMigrateArgs(t *testing.T) {
	db := "postgresql://order:pw@ecommerce-postgres:5432/orders?sslmode=disable"
	ok := []struct {
		args    []string
		path    string
		command string
	}{
		{[]string{"-path", "/migrations", "-database", db, "up"}, "/migrations", "up"},
		{[]string{"-path=/migrations", "-database=" + db, "up"}, "/migrations", "up"},
		{[]string{"--path", "/m", "--database", db, "up", "2"}, "/m", "up"},
		{[]string{"-source", "file:///m", "-database", db, "-verbose", "up"}, "", "up"},
		{[]string{"-database", db, "-lock-timeout", "30", "-prefetch", "5", "version"}, "", "version"},
		{[]string{"-database", "postgres://h/db", "up"}, "", "up"},
	}
	for _, c := range ok {
		m, err := parseMigrateArgs(c.args, io.Discard)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if m.Path != c.path || m.Command != c.command || !strings.HasPrefix(m.Database, "postgres") {
			t.Errorf("%q parsed as %+v", c.args, m)
		}
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"-path", "/m", "-database", db}, "no command"},
		{[]string{"-path", "/m", "up"}, "-database is required"},
		{[]string{"-path", "/m", "-database", db, "down"}, `"down" is not supported`},
		{[]string{"-path", "/m", "-database", db, "force", "1"}, `"force" is not supported`},
		{[]string{"-path", "/m", "-database", "mysql://u:pw@h/db", "up"}, "must be a postgres"},
		{[]string{"-path", "/m", "-database", "$(DATABASE_URL)", "up"}, "must be a postgres"},
		{[]string{"-path", "/m", "-database", db, "up", "1", "2"}, "at most one argument"},
		{[]string{"-nope", "-database", db, "up"}, "flag provided but not defined"},
	}
	for _, c := range bad {
		_, err := parseMigrateArgs(c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.args, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "u:pw") {
			t.Errorf("%q: error leaks the password: %v", c.args, err)
		}
	}
	if m, err := parseMigrateArgs([]string{"-version"}, io.Discard); err != nil || !m.Version {
		t.Errorf("-version: %+v %v", m, err)
	}
}

// migrate against a database that is not there: retries, then a clear error and exit 1,
// without the password.
func TestMigrateUnreachable(t *testing.T) {
	t.Setenv("STANDIN_MIGRATE_WAIT", "1s")
	addr := freeAddr(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"/usr/local/bin/migrate", "-path", "/nonexistent", "-database",
		"postgres://order:Sup3rSecret@" + addr + "/orders?sslmode=disable", "up"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, stderr.String())
	}
	e := stderr.String()
	if !strings.Contains(e, "built-in migration") || !strings.Contains(e, "could not connect") {
		t.Errorf("stderr: %s", e)
	}
	if strings.Contains(e, "Sup3rSecret") {
		t.Errorf("stderr leaks the password: %s", e)
	}
}

func TestAlembicArguments(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runAlembic([]string{"downgrade", "base"}, &out, &errb); code != 2 {
		t.Fatalf("downgrade: exit %d, want 2", code)
	}
	if !strings.Contains(errb.String(), `upgrade <revision>`) {
		t.Fatalf("stderr %q does not say what is supported", errb.String())
	}
	errb.Reset()
	t.Setenv("DATABASE_URL", "")
	if code := runAlembic([]string{"upgrade", "head"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "DATABASE_URL is not set") {
		t.Fatalf("no DATABASE_URL: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	t.Setenv("DATABASE_URL", "mysql://x@y/z")
	if code := runAlembic([]string{"upgrade", "head"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "postgres://") {
		t.Fatalf("non-postgres URL: exit %d, stderr %q", code, errb.String())
	}
}
