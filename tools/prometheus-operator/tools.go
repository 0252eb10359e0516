// Package prometheusoperatortools only anchors this wrapper module; the binaries
// are built with `go build github.com/prometheus-operator/prometheus-operator/cmd/...`.
package prometheusoperatortools
