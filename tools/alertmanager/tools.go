// Package alertmanagertools only anchors this wrapper module; the binary is built
// with `go build github.com/prometheus/alertmanager/cmd/alertmanager`.
package alertmanagertools
