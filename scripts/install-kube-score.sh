#!/usr/bin/env bash
# Installs kube-score (static analysis of Kubernetes manifests; it reads YAML as YAML 1.1 does, like
# kubectl) for test/kube-score.test.ts. Built from its Go module at a pinned version through the Go
# module proxy into a per-user cache; prints the binary's path. Idempotent: a cached build is reused.
set -euo pipefail

version=v1.20.0
dir="${XDG_CACHE_HOME:-$HOME/.cache}/platform-tools/kube-score-$version"
bin="$dir/kube-score"

if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-kube-score.sh: Go is not installed; install Go (1.22 or later) or put kube-score $version at $bin" >&2
  exit 1
fi
mkdir -p "$dir"
GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/zegl/kube-score/cmd/kube-score@$version" >&2
echo "$bin"
