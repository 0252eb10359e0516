// Package egctltools only anchors this wrapper module; the binary is built with
// `go build github.com/envoyproxy/gateway/cmd/egctl` by scripts/install-egctl.sh.
package egctltools
