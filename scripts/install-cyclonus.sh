#!/usr/bin/env bash
# Installs cyclonus (an independent NetworkPolicy engine by a Kubernetes SIG-Network contributor; it
# computes the full pod-to-pod truth table of a set of policies) for scripts/netpol-matrix.ts and
# test/netpol-engine.test.ts. Built from its Go module at a pinned version through the Go module proxy
# into a per-user cache; prints the binary's path. Idempotent: a cached build is reused.
set -euo pipefail

version=v0.5.6
dir="${XDG_CACHE_HOME:-$HOME/.cache}/platform-tools/cyclonus-$version"
bin="$dir/cyclonus"

if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-cyclonus.sh: Go is not installed; install Go (1.22 or later) or put cyclonus $version at $bin" >&2
  exit 1
fi
mkdir -p "$dir"
GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/mattfenwick/cyclonus/cmd/cyclonus@$version" >&2
echo "$bin"
