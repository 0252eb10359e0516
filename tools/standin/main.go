// Command standin is the stand-in program every catalog microservice image runs on a local
// cluster: it serves the service's declared ports (gRPC health, HTTP health, /metrics) and is
// ready only while every dependency named in its environment (the *_URL variables) really
// answers. The same binary is the migration Job's `migrate` and a debug pod's probe/scrape tool.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const usage = `usage:
  standin [serve]                      serve the ports in $STANDIN_CONFIG (default /etc/standin/config.json)
  standin migrate -path DIR -database URL up
  migrate -path DIR -database URL up   (argv[0] "migrate": golang-migrate compatible)
  alembic upgrade head                 (argv[0] "alembic": the database from $DATABASE_URL, as an env.py reads it)
  standin probe KIND TARGET            one-shot check; KIND: tcp http grpc postgres redis amqp
  standin scrape URL                   GET URL and print the body
  standin load [-rate 10] [-count N] [-duration D] URL
                                       GET URL N times a second (traffic for the request metrics)
  standin alert-sink [-listen :8080]   receive Alertmanager webhooks (POST /alerts), list them (GET /alerts)
`

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run dispatches on argv[0]'s basename and the first argument, and returns the exit code.
func run(argv []string, stdout, stderr io.Writer) int {
	base := ""
	if len(argv) > 0 {
		base = filepath.Base(argv[0])
	}
	args := argv[1:]
	if base == "migrate" {
		return runMigrate(args, stdout, stderr)
	}
	if base == "alembic" {
		return runAlembic(args, stdout, stderr)
	}
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			return runServe(args[1:], stderr)
		case "migrate":
			return runMigrate(args[1:], stdout, stderr)
		case "probe":
			return runProbe(args[1:], stdout, stderr)
		case "scrape":
			return runScrape(args[1:], stdout, stderr)
		case "load":
			return runLoad(args[1:], stdout, stderr)
		case "alert-sink":
			return runAlertSink(args[1:], stderr)
		case "help", "-h", "--help", "-help":
			fmt.Fprint(stdout, usage)
			return 0
		}
		if base == "standin" {
			fmt.Fprintf(stderr, "standin: unknown mode %q\n%s", args[0], usage)
			return 2
		}
		// Another entrypoint name (the image's service binary name) with arguments meant for the
		// real service: serve and say what was ignored.
		logLine("warn", "ignoring arguments meant for the real service", map[string]any{"args": strings.Join(args, " ")})
		return runServe(nil, stderr)
	}
	return runServe(nil, stderr)
}
