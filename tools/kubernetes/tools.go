// Package kubernetestools only anchors this wrapper module; the binaries are the
// upstream main packages, built with `go build k8s.io/kubernetes/cmd/<name>`.
package kubernetestools
