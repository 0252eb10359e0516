// Wrapper module: builds the etcd server binary (package main at the root of
// go.etcd.io/etcd/server/v3) through the Go module proxy. Upstream's replaces
// (../api, ../client/...) only apply inside the etcd repo; here the sibling
// modules resolve to the same tagged release.
module platform.local/tools/etcd

go 1.23.0

require go.etcd.io/etcd/server/v3 v3.5.21
