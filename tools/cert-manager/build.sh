#!/usr/bin/env bash
# Builds cert-manager's controller, webhook, cainjector, acmesolver and startupapicheck from the
# github.com/cert-manager/cert-manager module (see doc.go for why the mains are
# ours) into OUTDIR, each reporting VERSION.
#
#   tools/cert-manager/build.sh OUTDIR VERSION
#
# One substitution: cert-manager v1.21 requires github.com/Venafi/vcert/v5
# v5.13.7, and the Go module proxy refuses every v5.13.x (and v5.12.4 to
# v5.12.6); it serves v5.12.3. The build uses that release, copied into the
# scratch tree with the two files under _vcert-compat/ (what v5.13 added that
# cert-manager names: the NGTS connector type). Only the Venafi issuer's NGTS
# mode is affected; see _vcert-compat/pkg/endpoint/ngts_compat.go.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 OUTDIR VERSION" >&2
  exit 2
fi
OUTDIR=$(mkdir -p "$1" && cd "$1" && pwd)
VERSION=$2
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROCS=${ENGINE_BUILD_PROCS:-2}
VCERT_MODULE=github.com/Venafi/vcert/v5
VCERT_VERSION=v5.12.3
BINARIES=(controller webhook cainjector acmesolver startupapicheck)

export GOFLAGS=-mod=mod
export GOMAXPROCS=$PROCS
# Static, as upstream's distroless images have them: the local images hold no libc.
export CGO_ENABLED=0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cert-manager-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -R "$SRC/." "$WORK/"
cd "$WORK"
# A third_party/ left in the source tree by a developer's `go mod tidy` is rebuilt from scratch.
rm -rf third_party

# The module must be the one this script is asked for: go.mod pins it.
pinned=$(sed -n 's#^\s*github.com/cert-manager/cert-manager \(v[^ ]*\)$#\1#p; s#^require github.com/cert-manager/cert-manager \(v[^ ]*\)$#\1#p' go.mod)
[[ $pinned == "$VERSION" ]] || {
  echo "tools/cert-manager/go.mod requires github.com/cert-manager/cert-manager $pinned, not $VERSION" >&2
  exit 1
}

vcert_dir=$(go mod download -json "$VCERT_MODULE@$VCERT_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[[ -f $vcert_dir/go.mod ]] || { echo "no source for $VCERT_MODULE@$VCERT_VERSION" >&2; exit 1; }
mkdir -p third_party/vcert
cp -R "$vcert_dir/." third_party/vcert/
chmod -R u+w third_party/vcert
# A vcert release that gained these names upstream would clash: stop rather
# than build against something nobody checked.
if [[ -e third_party/vcert/pkg/venafi/ngts ]] || grep -qs 'ConnectorTypeNGTS' third_party/vcert/pkg/endpoint/*.go; then
  echo "$VCERT_MODULE@$VCERT_VERSION already has an NGTS connector; drop _vcert-compat" >&2
  exit 1
fi
cp -R _vcert-compat/. third_party/vcert/

LDFLAGS="-X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$VERSION -X github.com/cert-manager/cert-manager/pkg/util.AppGitState=clean"
for b in "${BINARIES[@]}"; do
  t0=$(date +%s)
  go build -p "$PROCS" -trimpath -ldflags "-s -w $LDFLAGS" -o "$OUTDIR/cert-manager-$b.tmp" "./$b"
  mv -f "$OUTDIR/cert-manager-$b.tmp" "$OUTDIR/cert-manager-$b"
  echo "built cert-manager-$b in $(($(date +%s) - t0))s: $("$OUTDIR/cert-manager-$b" --version)"
done
