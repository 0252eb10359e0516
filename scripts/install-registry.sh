#!/usr/bin/env bash
# Installs the reference OCI registry (distribution v3, `registry`) and crane (go-containerregistry's
# push/inspect tool) for test/image-lock-registry.test.ts: the lock command is proven against a real
# registry on localhost, with images crane pushes and digests crane reports.
#
#   scripts/install-registry.sh            prints two lines: the registry's path, then crane's
#
# Both are built from their Go modules at pinned versions through the Go module proxy (go install
# checks them against the checksum database) into a per-user cache. Idempotent: cached builds are
# reused. The builds run niced with at most ENGINE_BUILD_PROCS (default 2) jobs: the machine is shared.
set -euo pipefail

registry_version=v3.1.2
crane_version=v0.22.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/platform-tools"
registry_dir="$cache/distribution-$registry_version"
crane_dir="$cache/crane-$crane_version"
procs=${ENGINE_BUILD_PROCS:-2}

build() { # DIR PACKAGE@VERSION NAME
  local dir=$1 pkg=$2 name=$3
  if [ -x "$dir/$name" ]; then return 0; fi
  if ! command -v go >/dev/null 2>&1; then
    echo "install-registry.sh: Go is not installed; install Go (1.23 or later) or put $pkg at $dir/$name" >&2
    exit 1
  fi
  mkdir -p "$dir"
  echo "install-registry.sh: building $pkg (log: $dir/build.log)" >&2
  local t0
  t0=$(date +%s)
  if ! GOBIN="$dir" GOMAXPROCS=$procs GOFLAGS=-mod=mod nice -n 10 go install -p "$procs" -trimpath \
    -ldflags "-s -w" "$pkg" >"$dir/build.log" 2>&1; then
    tail -n 30 "$dir/build.log" >&2
    echo "install-registry.sh: $pkg failed to build (see $dir/build.log)" >&2
    exit 1
  fi
  echo "install-registry.sh: $name built in $(($(date +%s) - t0))s" >&2
}

build "$registry_dir" "github.com/distribution/distribution/v3/cmd/registry@$registry_version" registry
build "$crane_dir" "github.com/google/go-containerregistry/cmd/crane@$crane_version" crane
echo "$registry_dir/registry"
echo "$crane_dir/crane"
