// Wrapper module: builds kwok (the node/pod simulator controller) and kwokctl
// (the cluster manager) from sigs.k8s.io/kwok through the Go module proxy.
module platform.local/tools/kwok

go 1.24.0

require sigs.k8s.io/kwok v0.7.0
