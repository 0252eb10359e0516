#!/usr/bin/env bash
# Builds or adopts the local engine toolchain, idempotently, into
# ${XDG_CACHE_HOME:-~/.cache}/platform-toolchain/<tool>-<version>/bin.
#
#   scripts/engine/toolchain.sh [all|pulumi|cluster|node|monitoring|operator-manifests|cert-manager|gateway|gateway-charts|status]
#
#   pulumi   the Pulumi CLI and the kubernetes and random provider plugins, from
#            the sources in versions.env, the plugins labelled with the versions of
#            @pulumi/kubernetes and @pulumi/random in package.json and installed
#            into PULUMI_HOME with --file, so the CLI never downloads a plugin.
#   cluster  kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok,
#            kwokctl at the versions in scripts/engine/versions.env.
#   monitoring  prometheus-operator, Prometheus and Alertmanager for the real node
#            (ENGINE_NODES=real), and the operator's release manifests. Not in `all`.
#   operator-manifests  only the operator's release manifests (a module download),
#            which the local stack installs; the unit suite's setup runs it.
#   node     the real node (ENGINE_NODES=real): kubelet and kube-proxy,
#            kube-network-policies and CoreDNS built from Go modules, and
#            containerd, runc, the CNI plugins, nftables/iptables, debootstrap
#            and umoci installed from Debian's packages when missing. Not in `all`.
#   cert-manager  cert-manager's controller, webhook, cainjector, acmesolver and
#            startupapicheck at CERT_MANAGER_VERSION, from tools/cert-manager. Not in `all`.
#   gateway  the IngressGateway for the real node: Envoy Gateway's controller at
#            ENVOY_GATEWAY_VERSION, cert-manager (as above), and both charts laid out
#            from their modules. Not in `all`.
#   gateway-charts  only the two charts (module downloads), which the local stack
#            installs; the unit suite's setup runs it.
#
# For every binary: a cached binary whose version matches is kept; else one on
# PATH (or in $ENGINE_PREBUILT_DIR, ~/.pulumi/bin) whose version matches is
# linked in (not plugins: they state no version); else it is built with `go build` from the wrapper
# module under tools/<tool>/ through the Go module proxy. Timings are printed and
# appended to platform-toolchain/timings.tsv.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET=${1:-all}
SUMMARY=()
FAILED=0

now() { date +%s; }

record() { # record NAME VERSION SECONDS STATUS
  SUMMARY+=("$(printf '%-32s %-10s %6ss  %s' "$1" "$2" "$3" "$4")")
  mkdir -p "$TOOLCHAIN_CACHE"
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$1" "$2" "$3" "$4" >>"$TOOLCHAIN_CACHE/timings.tsv"
}

# first_line CMD...: the first output line of CMD, or nothing.
first_line() { "$@" 2>&1 | head -n1 || true; }

# go_module_refusal MODULE VERSION: prints why the Go module proxy cannot serve
# MODULE@VERSION, or nothing when it can. Cheap: only .info/.mod are fetched.
go_module_refusal() {
  local out tmp
  tmp=$(mktemp -d)
  out=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$1@$2" 2>&1 || true)
  rm -rf "$tmp"
  printf '%s' "$out" | sed -n 's/.*"Error": "\(.*\)".*/\1/p' | sed 's/\\n/ /g; s/\\t/ /g; s/  */ /g' | sed -E 's/^.*\.(info|mod|zip|list): //' | head -n1
}

# go_build TOOLDIR WRAPPER LDFLAGS PKG OUT [go-mod-edit-args...]
# Copies tools/WRAPPER to TOOLDIR/src, pins the versions with `go mod edit`,
# builds PKG to TOOLDIR/bin/OUT. The copy keeps the repo's go.sum untouched.
go_build() {
  local tooldir=$1 wrapper=$2 ldflags=$3 pkg=$4 out=$5
  shift 5
  local src=$tooldir/src
  mkdir -p "$tooldir/bin"
  if [[ ! -f $src/.prepared ]]; then
    rm -rf "$src"
    mkdir -p "$src"
    cp -R "$REPO_ROOT/tools/$wrapper/." "$src/"
    if (($#)); then (cd "$src" && go mod edit "$@"); fi
    touch "$src/.prepared"
  fi
  engine_log "go build $pkg -> $tooldir/bin/$out (log: $tooldir/build.log)"
  (
    cd "$src"
    GOMAXPROCS=$ENGINE_BUILD_PROCS GOFLAGS=-mod=mod \
      go build -p "$ENGINE_BUILD_PROCS" -trimpath -ldflags "-s -w $ldflags" -o "$tooldir/bin/$out.tmp" "$pkg"
  ) >>"$tooldir/build.log" 2>&1 || {
    tail -n 30 "$tooldir/build.log" >&2
    return 1
  }
  mv -f "$tooldir/bin/$out.tmp" "$tooldir/bin/$out"
}

# adopt NAME TOOLDIR CHECK: link an installed NAME whose version passes CHECK.
adopt() {
  local name=$1 tooldir=$2 check=$3 cand
  # A plugin binary states no version, so an installed one cannot be matched.
  [[ $check != check_plugin ]] || return 1
  for cand in "${ENGINE_PREBUILT_DIR:+$ENGINE_PREBUILT_DIR/$name}" "$(command -v "$name" || true)" "$HOME/.pulumi/bin/$name"; do
    [[ -n $cand && -x $cand && $cand != "$tooldir/bin/$name" ]] || continue
    if "$check" "$cand"; then
      mkdir -p "$tooldir/bin"
      ln -sf "$(readlink -f "$cand")" "$tooldir/bin/$name"
      engine_log "adopted installed $cand for $name"
      return 0
    fi
  done
  return 1
}

# ensure NAME VERSION TOOLDIR CHECK BUILDFN: cached, else adopted, else built.
ensure() {
  local name=$1 version=$2 tooldir=$3 check=$4 buildfn=$5 t0
  t0=$(now)
  if [[ -x $tooldir/bin/$name ]] && "$check" "$tooldir/bin/$name"; then
    record "$name" "$version" 0 "cached"
    return 0
  fi
  if adopt "$name" "$tooldir" "$check"; then
    record "$name" "$version" $(($(now) - t0)) "adopted installed binary"
    return 0
  fi
  if "$buildfn" && "$check" "$tooldir/bin/$name"; then
    record "$name" "$version" $(($(now) - t0)) "built"
    return 0
  fi
  record "$name" "$version" $(($(now) - t0)) "FAILED: ${ENSURE_REASON:-build failed, see $tooldir/build.log}"
  ENSURE_REASON=
  FAILED=1
  return 1
}

# ---------------------------------------------------------------- control plane

K8S_LDFLAGS() {
  local v=${KUBERNETES_VERSION#v} major minor
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%.*}
  local flags="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$flags"
}

K8S_EDIT_ARGS() {
  # Pin k8s.io/kubernetes and every k8s.io/<staging> module it replaces upstream.
  local staging=v0.${KUBERNETES_VERSION#v1.} args=(-require="k8s.io/kubernetes@$KUBERNETES_VERSION") m
  for m in $(sed -n 's/^\t\(k8s\.io\/[a-z0-9-]*\) => .*/\1/p' "$REPO_ROOT/tools/kubernetes/go.mod"); do
    args+=(-replace="$m=$m@$staging")
  done
  printf '%s\n' "${args[@]}"
}

check_kube() { [[ $(first_line "$1" --version) == "Kubernetes $KUBERNETES_VERSION" ]]; }
build_kube() {
  local name=$1
  mapfile -t edit < <(K8S_EDIT_ARGS)
  go_build "$KUBERNETES_TOOL_DIR" kubernetes "$(K8S_LDFLAGS)" "k8s.io/kubernetes/cmd/$name" "$name" "${edit[@]}"
}
build_kube_apiserver() { build_kube kube-apiserver; }
build_kube_controller_manager() { build_kube kube-controller-manager; }
build_kube_scheduler() { build_kube kube-scheduler; }

check_etcd() { [[ $(first_line "$1" --version) == "etcd Version: ${ETCD_VERSION#v}" ]]; }
build_etcd() {
  go_build "$ETCD_TOOL_DIR" etcd "" go.etcd.io/etcd/server/v3 etcd \
    -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
}

KWOK_LDFLAGS="-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION#v}"
check_kwok() { "$1" --version 2>&1 | grep -q "${KWOK_VERSION#v}"; }
build_kwok() {
  go_build "$KWOK_TOOL_DIR" kwok "$KWOK_LDFLAGS" sigs.k8s.io/kwok/cmd/kwok kwok -require="sigs.k8s.io/kwok@$KWOK_VERSION"
}
build_kwokctl() {
  go_build "$KWOK_TOOL_DIR" kwok "$KWOK_LDFLAGS" sigs.k8s.io/kwok/cmd/kwokctl kwokctl -require="sigs.k8s.io/kwok@$KWOK_VERSION"
}

# kwok's default Stages (node init/heartbeat, pod ready/complete/delete) ship in
# the kwok module; keep a copy next to the binaries so cluster.sh can pass them
# together with our extra Stages without the module cache.
install_kwok_stages() {
  local moddir
  moddir=$(cd "$KWOK_TOOL_DIR/src" 2>/dev/null && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' sigs.k8s.io/kwok 2>/dev/null) ||
    moddir=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION
  [[ -d $moddir/kustomize/stage ]] || {
    (cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kwok@$KWOK_VERSION")
    moddir=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION
  }
  mkdir -p "$KWOK_TOOL_DIR/stages"
  cp -f "$moddir/kustomize/stage/node/fast/node-initialize.yaml" \
    "$moddir/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    "$moddir/kustomize/stage/pod/fast/pod-ready.yaml" \
    "$moddir/kustomize/stage/pod/fast/pod-complete.yaml" \
    "$moddir/kustomize/stage/pod/fast/pod-delete.yaml" "$KWOK_TOOL_DIR/stages/"
  chmod 0644 "$KWOK_TOOL_DIR/stages/"*.yaml
}

toolchain_cluster() {
  ensure etcd "$ETCD_VERSION" "$ETCD_TOOL_DIR" check_etcd build_etcd || true
  ensure kube-apiserver "$KUBERNETES_VERSION" "$KUBERNETES_TOOL_DIR" check_kube build_kube_apiserver || true
  ensure kube-controller-manager "$KUBERNETES_VERSION" "$KUBERNETES_TOOL_DIR" check_kube build_kube_controller_manager || true
  ensure kube-scheduler "$KUBERNETES_VERSION" "$KUBERNETES_TOOL_DIR" check_kube build_kube_scheduler || true
  ensure kwok "$KWOK_VERSION" "$KWOK_TOOL_DIR" check_kwok build_kwok || true
  ensure kwokctl "$KWOK_VERSION" "$KWOK_TOOL_DIR" check_kwok build_kwokctl || true
  install_kwok_stages
}

# ------------------------------------------------------------------ real node

build_kubelet() { build_kube kubelet; }
build_kube_proxy() { build_kube kube-proxy; }

# kube-network-policies states no version; its cache directory is per version.
check_kube_network_policies() { [[ -x $1 && $("$1" --help 2>&1 || true) == *-nfqueue-id* ]]; }
build_kube_network_policies() {
  fail_unless_module sigs.k8s.io/kube-network-policies "$KUBE_NETWORK_POLICIES_VERSION" || return 1
  mkdir -p "$KUBE_NETWORK_POLICIES_TOOL_DIR/bin"
  ENGINE_BUILD_PROCS=$ENGINE_BUILD_PROCS bash "$REPO_ROOT/tools/kube-network-policies/build.sh" \
    "$KUBE_NETWORK_POLICIES_TOOL_DIR/bin/kube-network-policies" "$KUBE_NETWORK_POLICIES_VERSION" \
    >>"$KUBE_NETWORK_POLICIES_TOOL_DIR/build.log" 2>&1 || {
    tail -n 30 "$KUBE_NETWORK_POLICIES_TOOL_DIR/build.log" >&2
    return 1
  }
}

check_coredns() { [[ $(first_line "$1" -version) == "CoreDNS-${COREDNS_VERSION#v}" ]]; }
# Static (the image holds nothing else), built with CoreDNS's own go.mod.
build_coredns() {
  fail_unless_module github.com/coredns/coredns "$COREDNS_VERSION" || return 1
  local tmp
  tmp=$(mktemp -d)
  mkdir -p "$COREDNS_TOOL_DIR/bin"
  (
    cd "$tmp"
    CGO_ENABLED=0 GOBIN=$COREDNS_TOOL_DIR/bin GOMAXPROCS=$ENGINE_BUILD_PROCS \
      go install -p "$ENGINE_BUILD_PROCS" -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
  ) >>"$COREDNS_TOOL_DIR/build.log" 2>&1 || {
    tail -n 30 "$COREDNS_TOOL_DIR/build.log" >&2
    rm -rf "$tmp"
    return 1
  }
  rm -rf "$tmp"
}

# Debian's packages the node runs (and the image builder uses), installed when missing.
NODE_PACKAGES=(containerd runc containernetworking-plugins iptables nftables conntrack debootstrap umoci)
ensure_node_packages() {
  local missing=() p t0
  t0=$(now)
  for p in "${NODE_PACKAGES[@]}"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    record "debian-packages" "-" 0 "installed"
    return 0
  fi
  engine_log "apt-get install ${missing[*]}"
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >>"$TOOLCHAIN_CACHE/apt.log" 2>&1; then
    # Debian's containerd package starts a system containerd; the node runs its own.
    systemctl disable --now containerd >/dev/null 2>&1 || true
    record "debian-packages" "-" $(($(now) - t0)) "installed ${missing[*]}"
  else
    tail -n 20 "$TOOLCHAIN_CACHE/apt.log" >&2
    record "debian-packages" "-" $(($(now) - t0)) "FAILED: apt-get install ${missing[*]} (see $TOOLCHAIN_CACHE/apt.log)"
    FAILED=1
  fi
}

toolchain_node() {
  ensure_node_packages
  ensure kubelet "$KUBERNETES_VERSION" "$KUBERNETES_TOOL_DIR" check_kube build_kubelet || true
  ensure kube-proxy "$KUBERNETES_VERSION" "$KUBERNETES_TOOL_DIR" check_kube build_kube_proxy || true
  ensure kube-network-policies "$KUBE_NETWORK_POLICIES_VERSION" "$KUBE_NETWORK_POLICIES_TOOL_DIR" \
    check_kube_network_policies build_kube_network_policies || true
  ensure coredns "$COREDNS_VERSION" "$COREDNS_TOOL_DIR" check_coredns build_coredns || true
}

# ------------------------------------------------------------------ monitoring
#
# prometheus-operator (operator and config-reloader), Prometheus and Alertmanager
# for the real node, at the versions staging and production run (versions.env).
# Static binaries: each image holds one of them on a Debian base.

PROMETHEUS_VERSION_PKG=github.com/prometheus/common/version
# prometheus_ldflags VERSION: the version stamp every Prometheus-project binary prints and serves.
prometheus_ldflags() { printf -- '-X %s.Version=%s -X %s.Branch=release -X %s.BuildUser=platform' "$PROMETHEUS_VERSION_PKG" "${1#v}" "$PROMETHEUS_VERSION_PKG" "$PROMETHEUS_VERSION_PKG"; }
# Prometheus' Go module version of release vX.Y.Z is v0.X0Y.Z (v3.13.1 -> v0.313.1).
prometheus_module_version() { local v=${1#v} major minor patch; IFS=. read -r major minor patch <<<"$v"; printf 'v0.%d%02d.%d' "$major" "$minor" "$patch"; }

check_prometheus_binary() { "$1" --version 2>&1 | head -n1 | grep -q "version ${2#v} "; }
check_prometheus_operator() { check_prometheus_binary "$1" "$PROMETHEUS_OPERATOR_VERSION"; }
check_prometheus() { check_prometheus_binary "$1" "$PROMETHEUS_VERSION"; }
check_alertmanager() { check_prometheus_binary "$1" "$ALERTMANAGER_VERSION"; }

PROMETHEUS_OPERATOR_MODULE=github.com/prometheus-operator/prometheus-operator
build_prometheus_operator_binary() { # PKG OUT
  fail_unless_module "$PROMETHEUS_OPERATOR_MODULE" "$PROMETHEUS_OPERATOR_VERSION" || return 1
  CGO_ENABLED=0 go_build "$PROMETHEUS_OPERATOR_TOOL_DIR" prometheus-operator "$(prometheus_ldflags "$PROMETHEUS_OPERATOR_VERSION")" \
    "$PROMETHEUS_OPERATOR_MODULE/cmd/$1" "$2" \
    -require="$PROMETHEUS_OPERATOR_MODULE@$PROMETHEUS_OPERATOR_VERSION" \
    -require="$PROMETHEUS_OPERATOR_MODULE/pkg/apis/monitoring@$PROMETHEUS_OPERATOR_VERSION" \
    -require="$PROMETHEUS_OPERATOR_MODULE/pkg/client@$PROMETHEUS_OPERATOR_VERSION"
}
build_prometheus_operator() { build_prometheus_operator_binary operator prometheus-operator; }
build_prometheus_config_reloader() { build_prometheus_operator_binary prometheus-config-reloader prometheus-config-reloader; }
build_prometheus() {
  local module_version
  module_version=$(prometheus_module_version "$PROMETHEUS_VERSION")
  fail_unless_module github.com/prometheus/prometheus "$module_version" || return 1
  CGO_ENABLED=0 go_build "$PROMETHEUS_TOOL_DIR" prometheus "$(prometheus_ldflags "$PROMETHEUS_VERSION")" \
    github.com/prometheus/prometheus/cmd/prometheus prometheus \
    -require="github.com/prometheus/prometheus@$module_version"
}
# Alertmanager's web UI is built with npm at release time and embedded from ui/app/dist, which the
# module does not ship, so the package does not compile as served. The build uses a copy of the
# module with one placeholder page there: the API, which is all that Prometheus, the operator and
# our checks use, is the release's; only the browser UI is missing.
build_alertmanager() {
  local moddir copy=$ALERTMANAGER_TOOL_DIR/module
  fail_unless_module github.com/prometheus/alertmanager "$ALERTMANAGER_VERSION" || return 1
  moddir=$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/alertmanager@$ALERTMANAGER_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -d $moddir ]] || return 1
  rm -rf "$copy"
  mkdir -p "$ALERTMANAGER_TOOL_DIR"
  cp -R "$moddir" "$copy"
  chmod -R u+w "$copy"
  mkdir -p "$copy/ui/app/dist"
  printf '<!doctype html><title>Alertmanager</title><p>The web UI is not built from the Go module; the API is at /api/v2.</p>\n' \
    >"$copy/ui/app/dist/index.html"
  CGO_ENABLED=0 go_build "$ALERTMANAGER_TOOL_DIR" alertmanager "$(prometheus_ldflags "$ALERTMANAGER_VERSION")" \
    github.com/prometheus/alertmanager/cmd/alertmanager alertmanager \
    -require="github.com/prometheus/alertmanager@$ALERTMANAGER_VERSION" \
    -replace="github.com/prometheus/alertmanager=$copy"
}

# The operator's CRDs and its own Deployment and RBAC, as its release ships them
# (the module's example/), next to the binaries, and linked where the local stack
# file points (platform:observability.operator.path, relative to the project):
# the local stack installs them from there. Cheap (a module download and a copy),
# so the unit suite's setup runs it too.
OPERATOR_MANIFESTS_LINK=$REPO_ROOT/.cache/monitoring/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION
install_prometheus_operator_manifests() {
  local moddir dir=$PROMETHEUS_OPERATOR_TOOL_DIR/manifests
  moddir=$(go env GOMODCACHE)/$PROMETHEUS_OPERATOR_MODULE@$PROMETHEUS_OPERATOR_VERSION
  [[ -d $moddir/example ]] || (cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download "$PROMETHEUS_OPERATOR_MODULE@$PROMETHEUS_OPERATOR_VERSION") || return 1
  if [[ ! -f $dir/.complete ]]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -R "$moddir/example/prometheus-operator-crd" "$moddir/example/rbac/prometheus-operator" "$dir/"
    chmod -R u+w "$dir"
    touch "$dir/.complete"
  fi
  mkdir -p "$(dirname "$OPERATOR_MANIFESTS_LINK")"
  ln -sfn "$dir" "$OPERATOR_MANIFESTS_LINK"
}

toolchain_monitoring() {
  ensure prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" "$PROMETHEUS_OPERATOR_TOOL_DIR" \
    check_prometheus_operator build_prometheus_operator || true
  ensure prometheus-config-reloader "$PROMETHEUS_OPERATOR_VERSION" "$PROMETHEUS_OPERATOR_TOOL_DIR" \
    check_prometheus_operator build_prometheus_config_reloader || true
  ensure prometheus "$PROMETHEUS_VERSION" "$PROMETHEUS_TOOL_DIR" check_prometheus build_prometheus || true
  ensure alertmanager "$ALERTMANAGER_VERSION" "$ALERTMANAGER_TOOL_DIR" check_alertmanager build_alertmanager || true
  install_prometheus_operator_manifests || FAILED=1
}

# ----------------------------------------------------------------- cert-manager
#
# tools/cert-manager/build.sh builds all five binaries in one go (they share
# almost every package) from our mains over the github.com/cert-manager/cert-manager
# module, stamping CERT_MANAGER_VERSION into pkg/util.AppVersion, which each
# prints with --version. Each is recorded; the first carries the build's time.

CERT_MANAGER_BINARIES=(cert-manager-controller cert-manager-webhook cert-manager-cainjector cert-manager-acmesolver cert-manager-startupapicheck)

# Statically linked: the local images that hold these binaries have no libc (images.sh).
is_static() { ! readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'; }
check_cert_manager() { [[ $(first_line "$1" --version) == "cert-manager ${1##*/cert-manager-} $CERT_MANAGER_VERSION "* ]] && is_static "$1"; }
CERT_MANAGER_BUILD_TRIED=
build_cert_manager() {
  # One build makes all five; after a failed one the others fail without retrying.
  if [[ -n $CERT_MANAGER_BUILD_TRIED ]]; then
    ENSURE_REASON="the cert-manager build above failed, see $CERT_MANAGER_TOOL_DIR/build.log"
    return 1
  fi
  CERT_MANAGER_BUILD_TRIED=1
  fail_unless_module github.com/cert-manager/cert-manager "$CERT_MANAGER_VERSION" || return 1
  mkdir -p "$CERT_MANAGER_TOOL_DIR/bin"
  ENGINE_BUILD_PROCS=$ENGINE_BUILD_PROCS nice -n "${ENGINE_BUILD_NICE:-10}" bash "$REPO_ROOT/tools/cert-manager/build.sh" \
    "$CERT_MANAGER_TOOL_DIR/bin" "$CERT_MANAGER_VERSION" >>"$CERT_MANAGER_TOOL_DIR/build.log" 2>&1 || {
    tail -n 30 "$CERT_MANAGER_TOOL_DIR/build.log" >&2
    return 1
  }
}

toolchain_cert_manager() {
  local b
  for b in "${CERT_MANAGER_BINARIES[@]}"; do
    # build.sh makes all five, so after the first the others are cached.
    ensure "$b" "$CERT_MANAGER_VERSION" "$CERT_MANAGER_TOOL_DIR" check_cert_manager build_cert_manager || true
  done
}

# ---------------------------------------------------------------------- gateway
#
# The IngressGateway's two charts and Envoy Gateway's controller, for the real
# node. The charts are laid out from their modules as their releases ship them:
#  - gateway-helm: values.tmpl.yaml rendered the way Envoy Gateway's release
#    renders it (the release's controller image, IfNotPresent), and the release's
#    version in Chart.yaml;
#  - cert-manager: the release's version in Chart.yaml (its images default to it).
# Each is linked at .cache/charts/<chart>-<version> in the project, where the
# local stack's platform:ingress.charts.*.path point. The controller binary is
# built with tools/egctl's wrapper module (the same module as egctl). Envoy
# itself (C++) is in neither the Go proxy nor Debian: the proxies the controller
# makes do not start here (docs/gateway.md).

ENVOY_GATEWAY_MODULE=github.com/envoyproxy/gateway
CERT_MANAGER_MODULE=github.com/cert-manager/cert-manager
GATEWAY_CHARTS_LINK_DIR=$REPO_ROOT/.cache/charts

module_dir() { # module_dir MODULE VERSION: the module's source in the module cache (downloaded when missing)
  (cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "$1@$2" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
}

install_gateway_charts() {
  local eg cm dir
  eg=$(module_dir "$ENVOY_GATEWAY_MODULE" "$ENVOY_GATEWAY_VERSION") && [[ -d $eg/charts/gateway-helm ]] || {
    engine_log "no gateway-helm chart in $ENVOY_GATEWAY_MODULE@$ENVOY_GATEWAY_VERSION"
    return 1
  }
  cm=$(module_dir "$CERT_MANAGER_MODULE" "$CERT_MANAGER_VERSION") && [[ -d $cm/deploy/charts/cert-manager ]] || {
    engine_log "no cert-manager chart in $CERT_MANAGER_MODULE@$CERT_MANAGER_VERSION"
    return 1
  }
  dir=$GATEWAY_CHARTS_DIR/gateway-helm-$ENVOY_GATEWAY_VERSION
  if [[ ! -f $dir/.complete ]]; then
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    cp -R "$eg/charts/gateway-helm" "$dir"
    chmod -R u+w "$dir"
    sed "s|\${GatewayImage}|docker.io/envoyproxy/gateway:$ENVOY_GATEWAY_VERSION|; s|\${GatewayImagePullPolicy}|IfNotPresent|" \
      "$dir/values.tmpl.yaml" >"$dir/values.yaml"
    ! grep -n '\${' "$dir/values.yaml" >&2 || {
      engine_log "gateway-helm's values.tmpl.yaml has placeholders this script does not know (above)"
      return 1
    }
    rm -f "$dir/values.tmpl.yaml"
    sed -i "s/^version: .*/version: $ENVOY_GATEWAY_VERSION/; s/^appVersion: .*/appVersion: \"$ENVOY_GATEWAY_VERSION\"/" "$dir/Chart.yaml"
    touch "$dir/.complete"
  fi
  dir=$GATEWAY_CHARTS_DIR/cert-manager-$CERT_MANAGER_VERSION
  if [[ ! -f $dir/.complete ]]; then
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    cp -R "$cm/deploy/charts/cert-manager" "$dir"
    chmod -R u+w "$dir"
    sed -i "s/^version: .*/version: $CERT_MANAGER_VERSION/; s/^appVersion: .*/appVersion: $CERT_MANAGER_VERSION/" "$dir/Chart.yaml"
    touch "$dir/.complete"
  fi
  mkdir -p "$GATEWAY_CHARTS_LINK_DIR"
  ln -sfn "$GATEWAY_CHARTS_DIR/gateway-helm-$ENVOY_GATEWAY_VERSION" "$GATEWAY_CHARTS_LINK_DIR/gateway-helm-$ENVOY_GATEWAY_VERSION"
  ln -sfn "$GATEWAY_CHARTS_DIR/cert-manager-$CERT_MANAGER_VERSION" "$GATEWAY_CHARTS_LINK_DIR/cert-manager-$CERT_MANAGER_VERSION"
}

check_envoy_gateway() { [[ $("$1" version 2>/dev/null | head -n1) == "ENVOY_GATEWAY_VERSION: $ENVOY_GATEWAY_VERSION" ]] && is_static "$1"; }
build_envoy_gateway() {
  fail_unless_module "$ENVOY_GATEWAY_MODULE" "$ENVOY_GATEWAY_VERSION" || return 1
  local src=$ENVOY_GATEWAY_TOOL_DIR/src
  rm -rf "$src"
  mkdir -p "$src" "$ENVOY_GATEWAY_TOOL_DIR/bin"
  cp -R "$REPO_ROOT/tools/egctl/." "$src/"
  (
    cd "$src"
    go mod edit -require="$ENVOY_GATEWAY_MODULE@$ENVOY_GATEWAY_VERSION"
    # Static, as upstream's distroless image has it: the local image holds no libc.
    CGO_ENABLED=0 GOMAXPROCS=$ENGINE_BUILD_PROCS GOFLAGS=-mod=mod nice -n "${ENGINE_BUILD_NICE:-10}" go build -p "$ENGINE_BUILD_PROCS" -trimpath \
      -ldflags "-s -w -X $ENVOY_GATEWAY_MODULE/internal/cmd/version.envoyGatewayVersion=$ENVOY_GATEWAY_VERSION" \
      -o "$ENVOY_GATEWAY_TOOL_DIR/bin/envoy-gateway.tmp" "$ENVOY_GATEWAY_MODULE/cmd/envoy-gateway"
  ) >"$ENVOY_GATEWAY_TOOL_DIR/build.log" 2>&1 || {
    tail -n 30 "$ENVOY_GATEWAY_TOOL_DIR/build.log" >&2
    return 1
  }
  mv -f "$ENVOY_GATEWAY_TOOL_DIR/bin/envoy-gateway.tmp" "$ENVOY_GATEWAY_TOOL_DIR/bin/envoy-gateway"
}

toolchain_gateway() {
  install_gateway_charts || FAILED=1
  ensure envoy-gateway "$ENVOY_GATEWAY_VERSION" "$ENVOY_GATEWAY_TOOL_DIR" check_envoy_gateway build_envoy_gateway || true
  toolchain_cert_manager
}

# ----------------------------------------------------------------------- pulumi
#
# The CLI and two provider plugins, built from modules the Go proxy serves (see
# versions.env for the sources and why each plugin's version label is honest).
# No Node.js language host is built: the proxy refuses it at every version, and
# our runner (scripts/pulumi.ts) runs the program inline through the Automation
# API, which serves the language runtime from inside Node and hands the CLI
# `--client`. A normal Pulumi install brings its own language host and runs the
# same index.ts through Pulumi.yaml.

PULUMI_VERSION_PKG=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

check_pulumi() { [[ $(first_line "$1" version) == "$PULUMI_CLI_VERSION" ]]; }
build_pulumi() {
  fail_unless_module github.com/pulumi/pulumi/pkg/v3 "$PULUMI_CLI_VERSION" || return 1
  # Without the version stamp the Automation API fails with "Failed to get Pulumi version".
  go_build "$PULUMI_TOOL_DIR" pulumi "-X $PULUMI_VERSION_PKG=$PULUMI_CLI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi pulumi \
    -require="github.com/pulumi/pulumi/pkg/v3@$PULUMI_CLI_VERSION" -require="github.com/pulumi/pulumi/sdk/v3@$PULUMI_CLI_VERSION"
}

# fail_unless_module MODULE VERSION: sets ENSURE_REASON and fails when the Go
# module proxy refuses MODULE@VERSION (no point starting a build).
fail_unless_module() {
  local why
  why=$(go_module_refusal "$1" "$2")
  if [[ -n $why ]]; then
    ENSURE_REASON="Go module proxy refuses $1@$2 ($why)"
    engine_log "$ENSURE_REASON"
    return 1
  fi
}

# A plugin binary answers no version flag; its version is the directory it was
# built into (named for version and source), so a binary there is current.
check_plugin() { [[ -x $1 ]]; }

# Upstream's main embeds schema-embed.json and terraform-mapping-embed.json, made
# at release time and absent from the module zip. The zip ships schema.json and
# terraform-mapping.json, so we write the embed files from those, stamping the
# version into the schema as upstream's generate.go does, and build our main.go
# (tools/pulumi-resource-kubernetes), which serves the provider exactly as
# upstream's does.
build_kubernetes_plugin() {
  local dir=$PULUMI_KUBERNETES_TOOL_DIR src=$PULUMI_KUBERNETES_TOOL_DIR/src module_dir
  fail_unless_module "$PULUMI_KUBERNETES_PROVIDER_MODULE" "$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION" || return 1
  rm -rf "$src"
  mkdir -p "$src"
  cp -R "$REPO_ROOT/tools/pulumi-resource-kubernetes/." "$src/"
  (cd "$src" && go mod edit -require="$PULUMI_KUBERNETES_PROVIDER_MODULE@$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION")
  module_dir=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json \
    "$PULUMI_KUBERNETES_PROVIDER_MODULE@$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -f $module_dir/cmd/pulumi-resource-kubernetes/schema.json ]] || {
    ENSURE_REASON="no schema.json in $module_dir/cmd/pulumi-resource-kubernetes"
    return 1
  }
  node -e '
    const fs = require("fs");
    const [from, to, version] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(`${from}/schema.json`, "utf8"));
    schema.version = version;
    fs.writeFileSync(`${to}/schema-embed.json`, JSON.stringify(schema));
    const mapping = JSON.parse(fs.readFileSync(`${from}/terraform-mapping.json`, "utf8"));
    fs.writeFileSync(`${to}/terraform-mapping-embed.json`, JSON.stringify(mapping));
  ' "$module_dir/cmd/pulumi-resource-kubernetes" "$src" "$PULUMI_KUBERNETES_VERSION"
  touch "$src/.prepared"
  go_build "$dir" pulumi-resource-kubernetes \
    "-X $PULUMI_KUBERNETES_PROVIDER_MODULE/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" . pulumi-resource-kubernetes
}

# tools/pulumi-resource-random/build.sh: the Terraform provider behind a bridge
# shim, with a schema generated at build time (see that directory's go.mod).
build_random_plugin() {
  mkdir -p "$PULUMI_RANDOM_TOOL_DIR/bin"
  ENGINE_BUILD_PROCS=$ENGINE_BUILD_PROCS bash "$REPO_ROOT/tools/pulumi-resource-random/build.sh" \
    "$PULUMI_RANDOM_TOOL_DIR/bin" "$PULUMI_RANDOM_VERSION" >>"$PULUMI_RANDOM_TOOL_DIR/build.log" 2>&1 || {
    tail -n 30 "$PULUMI_RANDOM_TOOL_DIR/build.log" >&2
    return 1
  }
}

# Registers a plugin binary in PULUMI_HOME under the version the SDK asks for, so
# the CLI finds it without PATH lookups and never tries to download one.
install_plugin() { # install_plugin NAME VERSION BINARY
  local pulumi=$PULUMI_TOOL_DIR/bin/pulumi target
  [[ -x $pulumi && -x $3 ]] || return 1
  target=$ENGINE_PULUMI_HOME/plugins/resource-$1-v$2/pulumi-resource-$1
  if [[ -x $target ]] && cmp -s "$target" "$3"; then return 0; fi
  rm -rf "$ENGINE_PULUMI_HOME/plugins/resource-$1-v$2" "$ENGINE_PULUMI_HOME/plugins/resource-$1-v$2.lock"
  PULUMI_HOME=$ENGINE_PULUMI_HOME PULUMI_SKIP_UPDATE_CHECK=true \
    "$pulumi" plugin install resource "$1" "$2" --file "$3" >/dev/null
}

toolchain_pulumi() {
  ensure pulumi "$PULUMI_CLI_VERSION" "$PULUMI_TOOL_DIR" check_pulumi build_pulumi || true
  ensure pulumi-resource-kubernetes "v$PULUMI_KUBERNETES_VERSION" "$PULUMI_KUBERNETES_TOOL_DIR" \
    check_plugin build_kubernetes_plugin || true
  ensure pulumi-resource-random "v$PULUMI_RANDOM_VERSION" "$PULUMI_RANDOM_TOOL_DIR" \
    check_plugin build_random_plugin || true
  install_plugin kubernetes "$PULUMI_KUBERNETES_VERSION" "$PULUMI_KUBERNETES_TOOL_DIR/bin/pulumi-resource-kubernetes" || FAILED=1
  install_plugin random "$PULUMI_RANDOM_VERSION" "$PULUMI_RANDOM_TOOL_DIR/bin/pulumi-resource-random" || FAILED=1
}

status() {
  local d
  echo "cache: $TOOLCHAIN_CACHE"
  for d in "$PULUMI_TOOL_DIR" "$PULUMI_KUBERNETES_TOOL_DIR" "$PULUMI_RANDOM_TOOL_DIR" \
    "$KUBERNETES_TOOL_DIR" "$ETCD_TOOL_DIR" "$KWOK_TOOL_DIR" "$KUBE_NETWORK_POLICIES_TOOL_DIR" "$COREDNS_TOOL_DIR" \
    "$CERT_MANAGER_TOOL_DIR"; do
    printf '%s\n' "$d/bin:"
    if [[ -d $d/bin ]]; then ls -1 "$d/bin" | sed 's/^/  /'; else echo "  (missing)"; fi
  done
}

command -v go >/dev/null || engine_die "go is not on PATH"
command -v node >/dev/null || engine_die "node is not on PATH"

T0=$(now)
case $TARGET in
all)
  toolchain_cluster
  toolchain_pulumi
  ;;
cluster) toolchain_cluster ;;
pulumi) toolchain_pulumi ;;
node) toolchain_node ;;
monitoring) toolchain_monitoring ;;
operator-manifests) install_prometheus_operator_manifests ;;
cert-manager) toolchain_cert_manager ;;
gateway) toolchain_gateway ;;
gateway-charts) install_gateway_charts ;;
status)
  status
  exit 0
  ;;
*) engine_die "usage: $0 [all|pulumi|cluster|node|monitoring|operator-manifests|cert-manager|gateway|gateway-charts|status]" ;;
esac

echo
echo "toolchain ($TARGET) in $(($(now) - T0))s; cache $TOOLCHAIN_CACHE"
printf '  %s\n' "${SUMMARY[@]}"
exit $FAILED
