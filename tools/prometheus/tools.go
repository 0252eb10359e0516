// Package prometheustools only anchors this wrapper module; the binary is built
// with `go build github.com/prometheus/prometheus/cmd/prometheus`.
package prometheustools
