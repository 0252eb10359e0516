// Wrapper module: builds the Prometheus server (cmd/prometheus) through the Go
// module proxy. Prometheus' Go module versions are v0.<3 digits of the minor>.<patch>
// of the v3 release (v3.13.1 is v0.313.1). Upstream's one replace is restated
// here, since a dependency's replaces do not apply to the module that builds it.
module platform.local/tools/prometheus

go 1.25.0

replace cloud.google.com/go => cloud.google.com/go v0.123.0
