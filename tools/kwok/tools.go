// Package kwoktools only anchors this wrapper module; the binaries are
// built with `go build sigs.k8s.io/kwok/cmd/kwok` and `.../cmd/kwokctl`.
package kwoktools
