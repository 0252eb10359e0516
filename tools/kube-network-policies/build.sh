#!/usr/bin/env bash
# Builds kube-network-policies (SIG Network's nftables NetworkPolicy agent) at
# VERSION into OUT, with one patch: packets reach the agent through the
# x_tables NFQUEUE target instead of nft's `queue` expression, which this
# project's VM kernels lack (nfqueue_compat.go says why).
#
#   tools/kube-network-policies/build.sh OUT VERSION
set -euo pipefail
out=$1 version=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(dirname "$out")/src
module=sigs.k8s.io/kube-network-policies
rm -rf "$work"
mkdir -p "$work" "$(dirname "$out")"
dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[[ -f $dir/pkg/networkpolicy/controller.go ]] || { echo "no source for $module@$version" >&2; exit 1; }
cp -R "$dir/." "$work/"
chmod -R u+w "$work"
cp "$here/nfqueue_compat.go" "$work/pkg/networkpolicy/"
# Every `queue` expression becomes the compat target; the build fails if the
# upstream code moved, so a version bump cannot silently drop the patch.
perl -0pi -e 's/queue := &expr\.Queue\{Num: uint16\(c\.config\.QueueID\)\}\n\tif c\.config\.FailOpen \{\n\t\tqueue\.Flag = expr\.QueueFlagBypass\n\t\}/queue := nfqueueTarget(uint16(c.config.QueueID), c.config.FailOpen)/g' \
  "$work/pkg/networkpolicy/controller.go"
perl -pi -e 's/&expr\.Queue\{Num: uint16\(n\.nfQueueID\), Flag: expr\.QueueFlagBypass\}/nfqueueTarget(uint16(n.nfQueueID), true)/' \
  "$work/pkg/networkpolicy/dnsagent.go"
# It reads its API credentials only in-cluster; as a node process it takes a
# kubeconfig from $KUBECONFIG (BuildConfigFromFlags falls back to in-cluster).
perl -pi -e 's/config, err := rest\.InClusterConfig\(\)/config, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))/' "$work/cmd/main.go"
perl -pi -e 's/^(\s*)"k8s\.io\/client-go\/rest"$/$1"k8s.io\/client-go\/tools\/clientcmd"/' "$work/cmd/main.go"
grep -q 'clientcmd.BuildConfigFromFlags' "$work/cmd/main.go" || { echo "kube-network-policies $version: main.go moved; update build.sh" >&2; exit 1; }
if grep -n 'expr\.Queue' "$work"/pkg/networkpolicy/*.go | grep -v _test.go; then
  echo "kube-network-policies $version: expr.Queue left after patching; update build.sh" >&2
  exit 1
fi
cd "$work"
GOMAXPROCS=${ENGINE_BUILD_PROCS:-2} GOFLAGS=-mod=mod go build -p "${ENGINE_BUILD_PROCS:-2}" -trimpath \
  -ldflags "-s -w" -o "$out.tmp" ./cmd
mv -f "$out.tmp" "$out"
