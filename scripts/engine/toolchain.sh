#!/usr/bin/env bash
# Builds or adopts the local engine toolchain, idempotently, into
# ${XDG_CACHE_HOME:-~/.cache}/platform-toolchain/<tool>-<version>/bin.
#
#   scripts/engine/toolchain.sh [all|pulumi|cluster|status]
#
#   pulumi   Pulumi CLI + Node.js language host (version of @pulumi/pulumi),
#            kubernetes and random provider plugins (versions of @pulumi/kubernetes
#            and @pulumi/random), installed into PULUMI_HOME with --file so the
#            CLI never downloads a plugin.
#   cluster  kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok,
#            kwokctl at the versions in scripts/engine/versions.env.
#
# For every binary: a cached binary whose version matches is kept; else one on
# PATH (or in $ENGINE_PREBUILT_DIR, ~/.pulumi/bin, ~/.pulumi/plugins) whose
# version matches is linked in; else it is built with `go build` from the wrapper
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

# ----------------------------------------------------------------------- pulumi

PULUMI_VERSION_PKG=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

check_pulumi() { [[ $(first_line "$1" version) == "v$PULUMI_VERSION" ]]; }
# The language host has no version flag; it is accepted when it sits next to a
# pulumi CLI of the right version (adopted together) or was built here.
check_language_host() {
  local dir
  dir=$(dirname "$(readlink -f "$1")")
  [[ -f $PULUMI_TOOL_DIR/bin/.language-host-built ]] || { [[ -x $dir/pulumi ]] && check_pulumi "$dir/pulumi"; }
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

build_pulumi() {
  fail_unless_module github.com/pulumi/pulumi/pkg/v3 "v$PULUMI_VERSION" || return 1
  go_build "$PULUMI_TOOL_DIR" pulumi "-X $PULUMI_VERSION_PKG=v$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi pulumi \
    -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
}

build_language_host() {
  local mod=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
  fail_unless_module "$mod" "v$PULUMI_VERSION" || return 1
  go_build "$PULUMI_TOOL_DIR/language-host" pulumi-language-nodejs "-X $PULUMI_VERSION_PKG=v$PULUMI_VERSION" \
    "$mod" pulumi-language-nodejs \
    -require="$mod@v$PULUMI_VERSION" -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
    -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" || return 1
  mkdir -p "$PULUMI_TOOL_DIR/bin"
  mv -f "$PULUMI_TOOL_DIR/language-host/bin/pulumi-language-nodejs" "$PULUMI_TOOL_DIR/bin/"
  touch "$PULUMI_TOOL_DIR/bin/.language-host-built"
}

# Shim scripts the Node.js runtime expects on PATH next to the language host;
# they ship inside the sdk/v3 module (nodejs/dist), which the proxy does serve.
install_nodejs_shims() {
  local dir
  dir=$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" 2>/dev/null |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -n $dir && -d $dir/nodejs/dist ]] || return 0
  mkdir -p "$PULUMI_TOOL_DIR/bin"
  local f
  for f in "$dir"/nodejs/dist/pulumi-*; do
    [[ $f == *.cmd ]] && continue
    install -m 0755 "$f" "$PULUMI_TOOL_DIR/bin/$(basename "$f")"
  done
}

# Provider plugins: a plugin dir in ~/.pulumi/plugins or $ENGINE_PREBUILT_DIR
# named for the exact version is adopted; else built from the provider module.
provider_plugin() { # provider_plugin NAME VERSION TOOLDIR MODULE VERSIONPKG
  local name=$1 version=$2 tooldir=$3 module=$4 vpkg=$5 t0 bin=pulumi-resource-$1 cand
  t0=$(now)
  if [[ -x $tooldir/bin/$bin ]]; then
    record "$bin" "$version" 0 "cached"
    return 0
  fi
  for cand in "${ENGINE_PREBUILT_DIR:+$ENGINE_PREBUILT_DIR/resource-$name-v$version/$bin}" \
    "$HOME/.pulumi/plugins/resource-$name-v$version/$bin"; do
    if [[ -n $cand && -x $cand ]]; then
      mkdir -p "$tooldir/bin"
      ln -sf "$(readlink -f "$cand")" "$tooldir/bin/$bin"
      record "$bin" "$version" $(($(now) - t0)) "adopted installed plugin"
      return 0
    fi
  done
  if fail_unless_module "$module" "v$version" &&
    go_build "$tooldir" "$bin" "-X $vpkg=$version" "$module/cmd/$bin" "$bin" -require="$module@v$version"; then
    record "$bin" "$version" $(($(now) - t0)) "built"
    return 0
  fi
  record "$bin" "$version" $(($(now) - t0)) "FAILED: ${ENSURE_REASON:-build failed, see $tooldir/build.log}"
  ENSURE_REASON=
  FAILED=1
  return 1
}

install_plugin() { # install_plugin NAME VERSION BINARY
  local pulumi=$PULUMI_TOOL_DIR/bin/pulumi
  [[ -x $pulumi && -x $3 ]] || return 0
  if PULUMI_HOME=$ENGINE_PULUMI_HOME "$pulumi" plugin ls 2>/dev/null | awk -v n="$1" -v v="$2" '$1==n && $3==v {f=1} END {exit !f}'; then
    return 0
  fi
  PULUMI_HOME=$ENGINE_PULUMI_HOME PULUMI_SKIP_UPDATE_CHECK=true \
    "$pulumi" plugin install resource "$1" "$2" --file "$3"
}

toolchain_pulumi() {
  ensure pulumi "v$PULUMI_VERSION" "$PULUMI_TOOL_DIR" check_pulumi build_pulumi || true
  ensure pulumi-language-nodejs "v$PULUMI_VERSION" "$PULUMI_TOOL_DIR" check_language_host build_language_host || true
  install_nodejs_shims
  provider_plugin kubernetes "$PULUMI_KUBERNETES_VERSION" "$PULUMI_KUBERNETES_TOOL_DIR" \
    github.com/pulumi/pulumi-kubernetes/provider/v4 github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version || true
  provider_plugin random "$PULUMI_RANDOM_VERSION" "$PULUMI_RANDOM_TOOL_DIR" \
    github.com/pulumi/pulumi-random/provider/v4 github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version || true
  install_plugin kubernetes "$PULUMI_KUBERNETES_VERSION" "$PULUMI_KUBERNETES_TOOL_DIR/bin/pulumi-resource-kubernetes" || FAILED=1
  install_plugin random "$PULUMI_RANDOM_VERSION" "$PULUMI_RANDOM_TOOL_DIR/bin/pulumi-resource-random" || FAILED=1
}

status() {
  local d
  echo "cache: $TOOLCHAIN_CACHE"
  for d in "$PULUMI_TOOL_DIR" "$PULUMI_KUBERNETES_TOOL_DIR" "$PULUMI_RANDOM_TOOL_DIR" \
    "$KUBERNETES_TOOL_DIR" "$ETCD_TOOL_DIR" "$KWOK_TOOL_DIR"; do
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
status)
  status
  exit 0
  ;;
*) engine_die "usage: $0 [all|pulumi|cluster|status]" ;;
esac

echo
echo "toolchain ($TARGET) in $(($(now) - T0))s; cache $TOOLCHAIN_CACHE"
printf '  %s\n' "${SUMMARY[@]}"
exit $FAILED
