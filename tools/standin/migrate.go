package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// migrateArgs is a golang-migrate CLI invocation: `migrate [flags] COMMAND [ARG...]`.
type migrateArgs struct {
	Path     string
	Source   string
	Database string
	Verbose  bool
	Version  bool
	Command  string
	Args     []string
}

// parseMigrateArgs parses the golang-migrate flags the platform's Jobs use (-path, -source,
// -database, -verbose, -prefetch, -lock-timeout, -version); Go flag syntax, flags before the command.
func parseMigrateArgs(args []string, stderr io.Writer) (migrateArgs, error) {
	var m migrateArgs
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&m.Path, "path", "", "migrations directory (shorthand for -source=file://PATH)")
	fs.StringVar(&m.Source, "source", "", "migrations source URL")
	fs.StringVar(&m.Database, "database", "", "database URL (postgres:// or postgresql://)")
	fs.BoolVar(&m.Verbose, "verbose", false, "print verbose logging")
	fs.BoolVar(&m.Version, "version", false, "print the version and exit")
	fs.Uint("prefetch", 10, "accepted for compatibility; ignored")
	fs.Uint("lock-timeout", 15, "accepted for compatibility; ignored")
	if err := fs.Parse(args); err != nil {
		return m, err
	}
	if m.Version {
		return m, nil
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return m, errors.New("no command given (want: up)")
	}
	m.Command, m.Args = rest[0], rest[1:]
	switch m.Command {
	case "up":
		if len(m.Args) > 1 {
			return m, fmt.Errorf("up takes at most one argument (N), found %q", m.Args)
		}
	case "version":
		if len(m.Args) > 0 {
			return m, fmt.Errorf("version takes no arguments, found %q", m.Args)
		}
	default:
		return m, fmt.Errorf("command %q is not supported by the stand-in migrate (it supports up and version)", m.Command)
	}
	if m.Database == "" {
		return m, errors.New("-database is required")
	}
	if classify(m.Database) != KindPostgres {
		return m, fmt.Errorf("-database must be a postgres:// or postgresql:// URL, found %q", redact(m.Database))
	}
	return m, nil
}

// serviceName names the service in standin_migrations: $STANDIN_SERVICE, else the config's.
func serviceName() string {
	if s := strings.TrimSpace(os.Getenv("STANDIN_SERVICE")); s != "" {
		return s
	}
	if c, err := loadConfig(configPath()); err == nil {
		return c.Service
	}
	return "unknown"
}

// connectWithRetry connects until it succeeds or wait runs out (the database may still be starting).
func connectWithRetry(dsn string, wait time.Duration, stderr io.Writer) (*pgx.Conn, error) {
	deadline := time.Now().Add(wait)
	attempt := 0
	for {
		attempt++
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Ping(ctx)
			if err != nil {
				conn.Close(context.Background())
			}
		}
		cancel()
		if err == nil {
			return conn, nil
		}
		msg := scrub(err.Error(), dsn)
		if time.Now().Add(2 * time.Second).After(deadline) {
			return nil, fmt.Errorf("could not connect after %d attempts in %s: %s", attempt, wait, msg)
		}
		fmt.Fprintf(stderr, "migrate: connect attempt %d failed, retrying: %s\n", attempt, msg)
		time.Sleep(2 * time.Second)
	}
}

// builtinMigration records version 1 in schema_migrations (as golang-migrate would) and a
// standin_migrations row, in one transaction; a database already at a clean version is left as is.
// It returns whether it applied anything.
func builtinMigration(ctx context.Context, conn *pgx.Conn, service string) (applied bool, version int64, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, 0, err
	}
	defer tx.Rollback(context.Background())
	stmts := []string{
		// Serialises concurrent runs (two Job pods) so the CREATE TABLEs cannot race.
		`SELECT pg_advisory_xact_lock(hashtext('standin-migrate'))`,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS standin_migrations (applied_at timestamptz NOT NULL DEFAULT now(), service text NOT NULL)`,
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return false, 0, fmt.Errorf("%s: %w", strings.SplitN(q, "(", 2)[0], err)
		}
	}
	var dirty bool
	err = tx.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&version, &dirty)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, dirty) VALUES (1, false)`); err != nil {
			return false, 0, fmt.Errorf("record version 1: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO standin_migrations (applied_at, service) VALUES (now(), $1)`, service); err != nil {
			return false, 0, fmt.Errorf("record standin_migrations row: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return false, 0, fmt.Errorf("commit: %w", err)
		}
		return true, 1, nil
	case err != nil:
		return false, 0, fmt.Errorf("read schema_migrations: %w", err)
	case dirty:
		return false, version, fmt.Errorf("Dirty database version %d. Fix and force version.", version)
	}
	return false, version, tx.Commit(ctx)
}

func runMigrate(args []string, stdout, stderr io.Writer) int {
	m, err := parseMigrateArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	}
	if m.Version {
		fmt.Fprintln(stdout, "standin (golang-migrate compatible stand-in)")
		return 0
	}
	src := m.Path
	if src == "" {
		src = m.Source
	}
	if src != "" {
		if _, err := os.Stat(strings.TrimPrefix(src, "file://")); err != nil {
			fmt.Fprintf(stderr, "migrate: %s not found; running the stand-in's built-in migration\n", src)
		} else {
			fmt.Fprintf(stderr, "migrate: ignoring the files in %s; running the stand-in's built-in migration\n", src)
		}
	}
	wait, err := durationEnv(os.Environ(), "STANDIN_MIGRATE_WAIT", 60*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	}
	conn, err := connectWithRetry(m.Database, wait, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "error: %s: %v\n", redact(m.Database), err)
		return 1
	}
	defer conn.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if m.Command == "version" {
		var v int64
		var dirty bool
		err := conn.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&v, &dirty)
		if err != nil {
			fmt.Fprintf(stderr, "error: %s\n", scrub(err.Error(), m.Database))
			return 1
		}
		if dirty {
			fmt.Fprintf(stdout, "%d (dirty)\n", v)
		} else {
			fmt.Fprintln(stdout, v)
		}
		return 0
	}
	start := time.Now()
	applied, version, err := builtinMigration(ctx, conn, serviceName())
	if err != nil {
		fmt.Fprintf(stderr, "error: %s\n", scrub(err.Error(), m.Database))
		return 1
	}
	if applied {
		fmt.Fprintf(stdout, "1/u standin_builtin (%s)\n", time.Since(start).Round(time.Millisecond))
	} else {
		fmt.Fprintf(stdout, "no change (database at version %d)\n", version)
	}
	return 0
}

// runAlembic stands in for `alembic upgrade <revision>` (the trading catalog's migration): Alembic
// reads its database from the project's env.py, which by convention takes $DATABASE_URL, so the
// stand-in does the same and runs its built-in migration through runMigrate.
func runAlembic(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "upgrade" {
		fmt.Fprintf(stderr, "error: the stand-in alembic supports \"upgrade <revision>\", found %q\n", strings.Join(args, " "))
		return 2
	}
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		fmt.Fprintln(stderr, "error: DATABASE_URL is not set (the stand-in alembic reads the database from it)")
		return 2
	}
	fmt.Fprintf(stderr, "alembic: upgrade %s through the stand-in's built-in migration\n", args[1])
	return runMigrate([]string{"-database", url, "up"}, stdout, stderr)
}
