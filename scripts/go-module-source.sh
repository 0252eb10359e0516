#!/usr/bin/env bash
# Fetches the source of a Go module at a pinned version through the Go module proxy and prints its
# directory in the module cache. The tests read third-party charts, CRDs and release notes from there
# (Envoy Gateway's and cert-manager's modules ship their Helm charts): test/gateway-charts.test.ts.
#
#   scripts/go-module-source.sh MODULE VERSION   e.g. github.com/envoyproxy/gateway v1.9.1
#
# Idempotent and cached: the module cache (`go env GOMODCACHE`) keeps a fetched version, and a second
# run reads it without the network. The module zip's hash is checked against the checksum database.
set -euo pipefail

module=${1:?usage: scripts/go-module-source.sh MODULE VERSION}
version=${2:?usage: scripts/go-module-source.sh MODULE VERSION}

if ! command -v go >/dev/null 2>&1; then
  echo "go-module-source.sh: Go is not installed; install Go to fetch $module@$version" >&2
  exit 1
fi
# Outside any module, so that no go.mod is read or edited.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
json=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$module@$version") || {
  echo "go-module-source.sh: the Go module proxy did not serve $module@$version:" >&2
  printf '%s\n' "$json" | sed -n 's/.*"Error": "\(.*\)".*/  \1/p' >&2
  exit 1
}
dir=$(printf '%s\n' "$json" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
if [[ -z $dir || ! -d $dir ]]; then
  echo "go-module-source.sh: go mod download reported no directory for $module@$version" >&2
  exit 1
fi
echo "$dir"
