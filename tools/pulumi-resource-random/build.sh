#!/usr/bin/env bash
# Builds the Pulumi random provider plugin from Go modules the module proxy serves.
#
#   tools/pulumi-resource-random/build.sh OUTDIR VERSION
#
# writes OUTDIR/pulumi-resource-random, reporting itself as VERSION (set it to the
# @pulumi/random version in package.json, so the engine sees the plugin it asks
# for). The sources are copied to a scratch dir first: the generated schema.json
# and bridge-metadata.json never land in the source tree.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 OUTDIR VERSION" >&2
  exit 2
fi
OUTDIR=$(mkdir -p "$1" && cd "$1" && pwd)
VERSION=${2#v}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROCS=${ENGINE_BUILD_PROCS:-2}

# The sum database has no entry for the terraform-provider-random pseudo-version
# (it answers 404), so that one module is checked against go.sum alone.
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/terraform-providers/terraform-provider-random
export GOFLAGS=-mod=mod
export GOMAXPROCS=$PROCS

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-resource-random.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -R "$SRC/." "$WORK/"
cd "$WORK"

LDFLAGS="-X main.version=$VERSION"
# 1. The real package schema, from the same mapping the plugin serves.
go build -p "$PROCS" -trimpath -ldflags "$LDFLAGS" -o "$WORK/gen" ./cmd/gen
"$WORK/gen" schema --skip-examples --out cmd/pulumi-resource-random >"$WORK/gen.log" 2>&1 || {
  cat "$WORK/gen.log" >&2
  exit 1
}
test -s cmd/pulumi-resource-random/schema.json
test -s cmd/pulumi-resource-random/bridge-metadata.json
# 2. The plugin, embedding them.
go build -p "$PROCS" -trimpath -ldflags "-s -w $LDFLAGS" \
  -o "$OUTDIR/pulumi-resource-random.tmp" ./cmd/pulumi-resource-random
mv -f "$OUTDIR/pulumi-resource-random.tmp" "$OUTDIR/pulumi-resource-random"
# The schema is also served by the plugin: pulumi package get-schema <binary>.
echo "$OUTDIR/pulumi-resource-random $("$OUTDIR/pulumi-resource-random" -version)"
