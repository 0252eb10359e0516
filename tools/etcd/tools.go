// Package etcdtools only anchors this wrapper module; the binary is
// built with `go build go.etcd.io/etcd/server/v3`.
package etcdtools
