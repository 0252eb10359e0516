package main

import (
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Dependency kinds.
const (
	KindPostgres = "postgres"
	KindRedis    = "redis"
	KindAMQP     = "amqp"
	KindHTTP     = "http"
	KindGRPC     = "grpc"
	KindTCP      = "tcp" // probe mode only
)

// Dependency is one *_URL environment variable the service was given.
type Dependency struct {
	Env    string // variable name, e.g. INVENTORY_SERVICE_URL
	Kind   string
	Raw    string // the value as given (may hold credentials: never log it)
	Target string // the value with credentials removed, for logs and metric labels
}

// skipped is an *_URL variable that was not turned into a dependency, and why.
type skipped struct {
	Env    string
	Reason string
}

// classify returns the dependency kind of a *_URL value, or "" when it is none of them.
func classify(value string) string {
	v := strings.TrimSpace(value)
	lower := strings.ToLower(v)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return KindPostgres
	case strings.HasPrefix(lower, "redis://"), strings.HasPrefix(lower, "rediss://"):
		return KindRedis
	case strings.HasPrefix(lower, "amqp://"), strings.HasPrefix(lower, "amqps://"):
		return KindAMQP
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return KindHTTP
	case strings.HasPrefix(lower, "grpc://"):
		if isHostPort(v[len("grpc://"):]) {
			return KindGRPC
		}
		return ""
	case !strings.Contains(v, "://") && isHostPort(v):
		return KindGRPC
	}
	return ""
}

// isHostPort reports whether s is a bare host:port with a numeric port (the gRPC target form).
func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || strings.ContainsAny(host, "/?#@ ") {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n < 65536
}

// grpcTarget is the host:port a gRPC dependency value names.
func grpcTarget(value string) string {
	v := strings.TrimSpace(value)
	if strings.HasPrefix(strings.ToLower(v), "grpc://") {
		return v[len("grpc://"):]
	}
	return v
}

// discover turns an environment (KEY=VALUE list) into dependencies: every variable whose name
// ends in _URL, except those named in STANDIN_IGNORE (comma list). Sorted by name.
func discover(environ []string) ([]Dependency, []skipped) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			env[k] = v
		}
	}
	ignore := map[string]bool{}
	for _, name := range strings.Split(env["STANDIN_IGNORE"], ",") {
		if n := strings.TrimSpace(name); n != "" {
			ignore[n] = true
		}
	}
	var deps []Dependency
	var skips []skipped
	for k, v := range env {
		if !strings.HasSuffix(k, "_URL") {
			continue
		}
		if ignore[k] {
			skips = append(skips, skipped{k, "named in STANDIN_IGNORE"})
			continue
		}
		if strings.TrimSpace(v) == "" {
			skips = append(skips, skipped{k, "empty value"})
			continue
		}
		kind := classify(v)
		if kind == "" {
			skips = append(skips, skipped{k, "value is not postgres://, redis://, amqp://, http(s):// or host:port: " + redact(v)})
			continue
		}
		deps = append(deps, Dependency{Env: k, Kind: kind, Raw: strings.TrimSpace(v), Target: redactTarget(kind, v)})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Env < deps[j].Env })
	sort.Slice(skips, func(i, j int) bool { return skips[i].Env < skips[j].Env })
	return deps, skips
}

func redactTarget(kind, value string) string {
	if kind == KindGRPC {
		return grpcTarget(value)
	}
	return redact(value)
}

// isSecretKey reports whether a URL query parameter's value is a credential.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"pass", "secret", "token", "key", "auth", "credential"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// redact removes the userinfo (user and password) from a URL and blanks credential-looking query
// parameters (password=, sslkey=, token=...). A value that does not parse loses everything up to
// the last '@' after its scheme.
func redact(value string) string {
	v := strings.TrimSpace(value)
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque != "") {
		// Unparseable: drop everything between "://" and the last "@" before the host.
		if i := strings.Index(v, "://"); i >= 0 {
			rest := v[i+3:]
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				return v[:i+3] + rest[at+1:]
			}
			return v
		}
		if at := strings.LastIndex(v, "@"); at >= 0 {
			return v[at+1:]
		}
		return v
	}
	u.User = nil
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if isSecretKey(k) {
				q[k] = []string{"REDACTED"}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// secretsOf lists the credential strings in a value (password raw and decoded, secret query
// values), so that error messages echoing them can be scrubbed.
func secretsOf(value string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 3 {
			out = append(out, s)
		}
	}
	v := strings.TrimSpace(value)
	if i := strings.Index(v, "://"); i >= 0 {
		authority := v[i+3:]
		if end := strings.IndexAny(authority, "/?#"); end >= 0 {
			authority = authority[:end]
		}
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			userinfo := authority[:at]
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				add(pw)
				if d, err := url.PathUnescape(pw); err == nil {
					add(d)
				}
			} else {
				// redis://PASSWORD@host form: a lone userinfo may be the password
				add(userinfo)
			}
		}
	}
	if u, err := url.Parse(v); err == nil {
		for k, vals := range u.Query() {
			if isSecretKey(k) {
				for _, s := range vals {
					add(s)
					add(url.QueryEscape(s))
				}
			}
		}
	}
	// longest first so a decoded form inside a raw one is not half-replaced
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// scrub removes every credential of value from msg (for error texts that echo the URL).
func scrub(msg, value string) string {
	if msg == "" {
		return msg
	}
	for _, s := range secretsOf(value) {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	// Anything still shaped like a URL with userinfo loses it.
	return scrubURLs(msg)
}

// scrubURLs drops userinfo from any scheme://user:pw@host sequence in free text.
func scrubURLs(msg string) string {
	var b strings.Builder
	for {
		i := strings.Index(msg, "://")
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i+3])
		rest := msg[i+3:]
		end := strings.IndexAny(rest, "/?# \"'`\n")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			rest = rest[at+1:]
		}
		msg = rest
	}
}
