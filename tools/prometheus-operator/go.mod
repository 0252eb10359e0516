// Wrapper module: builds prometheus-operator's operator and config-reloader
// binaries through the Go module proxy. Upstream's replaces of its nested
// modules (./pkg/apis/monitoring, ./pkg/client) only apply inside its repo;
// here they resolve to the same tagged release, which the proxy serves.
module platform.local/tools/prometheus-operator

go 1.26.0
