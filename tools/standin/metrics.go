package main

import (
	"fmt"
	"strconv"
	"strings"
)

// escapeLabel escapes a label value for the Prometheus text exposition format.
func escapeLabel(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return r.Replace(v)
}

// labels renders {k="v",...} from alternating keys and values.
func labels(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, kv[i], escapeLabel(kv[i+1]))
	}
	b.WriteByte('}')
	return b.String()
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsText renders the stand-in's metrics in the Prometheus text exposition format (0.0.4).
func (s *Server) metricsText() string {
	var b strings.Builder
	family := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	sample := func(name, lbls string, v float64) {
		fmt.Fprintf(&b, "%s%s %s\n", name, lbls, fmtFloat(v))
	}
	ok, _ := s.ready()

	family("standin_info", "gauge", "Identity of the service this stand-in plays.")
	sample("standin_info", labels("service", s.cfg.Service, "namespace", s.cfg.Namespace), 1)
	family("standin_ready", "gauge", "1 when every declared dependency answered its last check.")
	sample("standin_ready", "", b2f(ok))
	family("standin_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.")
	sample("standin_start_time_seconds", "", float64(s.start.UnixMilli())/1000)
	family("standin_dependencies", "gauge", "Number of dependencies discovered from *_URL environment variables.")
	sample("standin_dependencies", "", float64(len(s.states)))
	if s.generation >= 0 {
		family("standin_data_generation", "gauge", "Starts recorded in the data directory (grows by one per start when the data persists).")
		sample("standin_data_generation", "", float64(s.generation))
	}

	family("standin_failure_ratio", "gauge", "Share of application (non-health) HTTP requests answered with 503 on purpose (STANDIN_FAILURE_RATIO).")
	sample("standin_failure_ratio", "", s.failures.ratio())
	b.WriteString(s.requests.text())

	s.mu.RLock()
	defer s.mu.RUnlock()
	depLabels := func(st *depState, extra ...string) string {
		return labels(append([]string{"dependency", st.dep.Env, "kind", st.dep.Kind, "target", st.dep.Target}, extra...)...)
	}
	family("standin_dependency_up", "gauge", "1 when the dependency answered its last check (the flow works).")
	for _, st := range s.states {
		sample("standin_dependency_up", depLabels(st), b2f(st.checked && st.last.OK))
	}
	family("standin_dependency_callee_ready", "gauge", "1 when the dependency said it is ready itself (HTTP 2xx, gRPC SERVING, a data store that answered).")
	for _, st := range s.states {
		sample("standin_dependency_callee_ready", depLabels(st), b2f(st.checked && st.last.CalleeReady))
	}
	family("standin_dependency_checks_total", "counter", "Dependency checks by result.")
	for _, st := range s.states {
		sample("standin_dependency_checks_total", depLabels(st, "result", "ok"), float64(st.okTotal))
		sample("standin_dependency_checks_total", depLabels(st, "result", "error"), float64(st.errTotal))
	}
	family("standin_dependency_last_check_timestamp_seconds", "gauge", "When the dependency was last checked, since the Unix epoch in seconds.")
	for _, st := range s.states {
		ts := 0.0
		if st.checked {
			ts = float64(st.lastAt.UnixMilli()) / 1000
		}
		sample("standin_dependency_last_check_timestamp_seconds", depLabels(st), ts)
	}
	family("standin_dependency_check_duration_seconds", "gauge", "Duration of the dependency's last check in seconds.")
	for _, st := range s.states {
		sample("standin_dependency_check_duration_seconds", depLabels(st), st.last.Duration.Seconds())
	}
	return b.String()
}
