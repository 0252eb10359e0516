#!/usr/bin/env bash
# Installs egctl, Envoy Gateway's CLI, for test/egctl-translate.test.ts: its `x translate` runs the
# controller's own Gateway API → xDS translation on our rendered objects, with no cluster.
#
#   scripts/install-egctl.sh VERSION      e.g. v1.9.1 (CHART_VERSIONS.envoyGateway in config/settings.ts)
#
# Built from the github.com/envoyproxy/gateway module at VERSION through the Go module proxy, with
# the wrapper module tools/egctl (its go.sum checks the sources), into
# ${XDG_CACHE_HOME:-~/.cache}/platform-toolchain/egctl-VERSION/bin/egctl; prints the binary's path
# on stdout, the build's timing on stderr. Idempotent: a cached binary that reports VERSION is reused.
# The build runs niced (the machine is shared) with at most ENGINE_BUILD_PROCS (default 2) jobs.
set -euo pipefail

version=${1:?usage: scripts/install-egctl.sh VERSION (e.g. v1.9.1)}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="${PLATFORM_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/platform-toolchain}/egctl-$version"
bin="$dir/bin/egctl"
procs=${ENGINE_BUILD_PROCS:-2}

# Without a cluster, `egctl version --remote=false` prints the version stamped at build time.
reports_version() { [[ $("$1" version --remote=false 2>/dev/null) == "$version" ]]; }

if [ -x "$bin" ] && reports_version "$bin"; then
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-egctl.sh: Go is not installed; install Go (1.26.7 or later, what Envoy Gateway $version needs) or put egctl $version at $bin" >&2
  exit 1
fi

# The wrapper is copied so that the build never edits the repo's go.mod/go.sum.
src="$dir/src"
rm -rf "$src"
mkdir -p "$src" "$dir/bin"
cp -R "$repo/tools/egctl/." "$src/"
(cd "$src" && go mod edit -require="github.com/envoyproxy/gateway@$version")

echo "install-egctl.sh: building egctl $version (log: $dir/build.log)" >&2
t0=$(date +%s)
if ! (
  cd "$src"
  GOMAXPROCS=$procs GOFLAGS=-mod=mod nice -n 10 go build -p "$procs" -trimpath \
    -ldflags "-s -w -X github.com/envoyproxy/gateway/internal/cmd/version.envoyGatewayVersion=$version" \
    -o "$bin.tmp" github.com/envoyproxy/gateway/cmd/egctl
) >"$dir/build.log" 2>&1; then
  tail -n 30 "$dir/build.log" >&2
  echo "install-egctl.sh: egctl $version failed to build (see $dir/build.log)" >&2
  exit 1
fi
mv -f "$bin.tmp" "$bin"
seconds=$(($(date +%s) - t0))
echo "install-egctl.sh: egctl $version built in ${seconds}s" >&2
printf '%s\tegctl\t%s\t%s\tbuilt\n' "$(date -u +%FT%TZ)" "$version" "$seconds" >>"$(dirname "$dir")/timings.tsv"
echo "$bin"
