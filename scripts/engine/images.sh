#!/usr/bin/env bash
# The local stack's images for the real node, built offline from Debian's
# packages and our own stand-in, and imported into the node's containerd under
# the exact names the pods use (nothing is ever pulled).
#
#   scripts/engine/images.sh build          build every image the local stack runs
#   scripts/engine/images.sh import SOCKET  build, then import into containerd at SOCKET
#   scripts/engine/images.sh list           the plan: image -> recipe (JSON)
#
# How an image is made:
#   1. a Debian root filesystem, once: `debootstrap --variant=minbase` of
#      $IMAGES_DEBIAN_SUITE (base-<suite>.tar in the cache);
#   2. per recipe, the packages it needs installed into a copy with apt-get in a
#      chroot, the users the pods run as created first with their UIDs, and an
#      entrypoint that behaves like the upstream image's (files under
#      scripts/engine/images/); apt's caches, logs and docs removed;
#   3. one layer, written reproducibly (sorted, mtimes clamped to
#      SOURCE_DATE_EPOCH, numeric owners), packed with umoci into an OCI
#      archive with the entrypoint, user and environment in its config.
#
# The archive is cached under a key that hashes the recipe's inputs (this script,
# its files, the packages, the UIDs, the stand-in's sources), so a second run
# rebuilds nothing and an import of an unchanged image is skipped.
#
# Which image gets which recipe comes from the program (local-images.ts): the
# catalog services run the stand-in (tools/standin) with a config layer made
# from their own pod spec; the data stores run Debian's PostgreSQL 15, Redis 7.0
# and RabbitMQ 3.10 under the upstream images' names. Debian has no TimescaleDB:
# the timescale/timescaledb name carries plain PostgreSQL, and the local stack
# says so (platform:database.byCatalog.trading.omitExtensions).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RECIPES_DIR=$ENGINE_DIR/images
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600} # 2025-01-01, the layers' clamped mtime
export SOURCE_DATE_EPOCH
DEBIAN_MIRROR=${IMAGES_DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_TAR=$IMAGES_DIR/base-$IMAGES_DEBIAN_SUITE.tar
STANDIN_SRC=$REPO_ROOT/tools/standin
WORK=$IMAGES_DIR/work

declare -A PACKAGES=(
  [postgres]="postgresql-15"
  [redis]="redis-server redis-tools"
  [rabbitmq]="rabbitmq-server"
  [curl]="curl"
)
declare -A ENTRYPOINT=(
  [postgres]='["/usr/local/bin/docker-entrypoint.sh"]'
  [redis]='["/usr/local/bin/docker-entrypoint.sh"]'
  [rabbitmq]='["/usr/local/bin/docker-entrypoint.sh"]'
  [curl]='["/usr/bin/curl"]'
)
declare -A CMD=(
  [postgres]='["postgres"]'
  [redis]='["redis-server"]'
  [rabbitmq]='["rabbitmq-server"]'
  [curl]='["--help"]'
)
BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
declare -A ENV_PATH=(
  [postgres]=/usr/lib/postgresql/15/bin:$BASE_PATH
  [redis]=$BASE_PATH
  [rabbitmq]=/usr/lib/rabbitmq/bin:$BASE_PATH
  [curl]=$BASE_PATH
)
# Paths the upstream rabbitmq image sets, so that probes' rabbitmq-diagnostics find the node's cookie.
declare -A EXTRA_ENV=(
  [rabbitmq]="HOME=/var/lib/rabbitmq RABBITMQ_CONFIG_FILES=/etc/rabbitmq/conf.d RABBITMQ_ENABLED_PLUGINS_FILE=/etc/rabbitmq/enabled_plugins RABBITMQ_MNESIA_BASE=/var/lib/rabbitmq/mnesia RABBITMQ_LOG_BASE=/var/log/rabbitmq"
)
# Users whose name the upstream images use, created with the UID the pod runs as.
declare -A USER_NAME=([postgres]=postgres [redis]=redis [rabbitmq]=rabbitmq [curl]=curl_user)

now() { date +%s; }
hash_of() { sha256sum | cut -c1-16; }

plan() {
  local out=$IMAGES_DIR/plan.json
  mkdir -p "$IMAGES_DIR"
  (cd "$REPO_ROOT" && npx --no-install tsx scripts/engine/local-images.ts local) >"$out.tmp"
  mv -f "$out.tmp" "$out"
  printf '%s' "$out"
}

# jq-free JSON access: node is always here.
plan_query() { # plan_query PLAN JS-EXPRESSION-over-`images`
  node -e 'const images = require(process.argv[1]); const r = (0, eval)(process.argv[2])(images); const out = Array.isArray(r) ? r.join("\n") : String(r); if (out) console.log(out);' "$1" "$2"
}

# ------------------------------------------------------------------ base rootfs

ensure_base() {
  [[ -f $BASE_TAR ]] && return 0
  local t0 dir=$WORK/base
  t0=$(now)
  engine_log "debootstrap $IMAGES_DEBIAN_SUITE (minbase) -> $BASE_TAR"
  rm -rf "$dir"
  mkdir -p "$dir"
  debootstrap --variant=minbase --include=ca-certificates "$IMAGES_DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" \
    >"$IMAGES_DIR/debootstrap.log" 2>&1 || {
    tail -n 20 "$IMAGES_DIR/debootstrap.log" >&2
    engine_die "debootstrap failed (log: $IMAGES_DIR/debootstrap.log)"
  }
  tar -C "$dir" --numeric-owner -cf "$BASE_TAR.tmp" .
  mv -f "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$dir"
  timing "base-$IMAGES_DEBIAN_SUITE" $(($(now) - t0))
}

timing() { printf '%s\timage:%s\t-\t%s\tbuilt\n' "$(date -u +%FT%TZ)" "$1" "$2" >>"$TOOLCHAIN_CACHE/timings.tsv"; }

# ------------------------------------------------------------------ layers

# write_layer DIR OUT: a reproducible tar of DIR (the layer umoci adds verbatim).
write_layer() {
  tar -C "$1" --sort=name --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$2" .
}

# oci_archive OUT TAG LAYER... -- CONFIG-ARGS...: an OCI archive of one image.
oci_archive() {
  local out=$1 tag=$2 layout
  shift 2
  local layers=()
  while [[ $1 != -- ]]; do layers+=("$1"); shift; done
  shift
  layout=$(mktemp -d "$WORK/layout.XXXXXX")
  umoci init --layout "$layout/oci" >/dev/null
  umoci new --image "$layout/oci:$tag" >/dev/null
  local l
  for l in "${layers[@]}"; do
    umoci raw add-layer --no-history --image "$layout/oci:$tag" "$l" >/dev/null
  done
  umoci config --no-history --image "$layout/oci:$tag" --created "@$SOURCE_DATE_EPOCH" "$@" >/dev/null 2>&1 ||
    umoci config --no-history --image "$layout/oci:$tag" --created "$(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ)" "$@" >/dev/null
  umoci gc --layout "$layout/oci" >/dev/null
  tar -C "$layout/oci" --sort=name --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -cf "$out.tmp" .
  mv -f "$out.tmp" "$out"
  rm -rf "$layout"
}

config_args() { # config_args ENTRYPOINT-JSON CMD-JSON USER PATH [ENV...]
  local ep=$1 cmd=$2 user=$3 path=$4 a
  shift 4
  local args=(--clear=config.entrypoint --clear=config.cmd)
  while read -r a; do args+=(--config.entrypoint "$a"); done < <(node -e 'for (const x of JSON.parse(process.argv[1])) console.log(x)' "$ep")
  while read -r a; do args+=(--config.cmd "$a"); done < <(node -e 'for (const x of JSON.parse(process.argv[1])) console.log(x)' "$cmd")
  args+=(--config.user "$user" --config.env "PATH=$path" --config.workingdir /)
  for a in "$@"; do args+=(--config.env "$a"); done
  printf '%s\n' "${args[@]}"
}

# ------------------------------------------------------------------ Debian recipes

recipe_key() { # recipe_key RECIPE UIDS
  {
    cat "${BASH_SOURCE[0]}"
    cat "$BASE_TAR.sha256" 2>/dev/null || true
    find "$RECIPES_DIR/$1" -type f -print0 2>/dev/null | sort -z | xargs -0 cat 2>/dev/null || true
    echo "${PACKAGES[$1]} $2"
  } | hash_of
}

# build_debian RECIPE UIDS: the recipe's layer tar (cached).
build_debian_layer() {
  local recipe=$1 uids=$2 key layer root t0
  key=$(recipe_key "$recipe" "$uids")
  layer=$IMAGES_DIR/layer-$recipe-$key.tar
  if [[ -f $layer ]]; then
    printf '%s' "$layer"
    return 0
  fi
  t0=$(now)
  root=$WORK/$recipe
  rm -rf "$root"
  mkdir -p "$root"
  tar -C "$root" -xf "$BASE_TAR"
  local uid name=${USER_NAME[$recipe]} n=0
  for uid in $uids; do
    # The upstream name for the first UID; more UIDs (one image run as several users) get suffixes.
    local user=$name
    ((n == 0)) || user=$name$uid
    chroot "$root" groupadd --system --gid "$uid" "$user" 2>/dev/null || true
    chroot "$root" useradd --system --uid "$uid" --gid "$uid" --home-dir "/home/$user" --no-create-home --shell /usr/sbin/nologin "$user"
    n=$((n + 1))
  done
  # No daemon starts in the chroot, and PostgreSQL creates no default cluster.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  mkdir -p "$root/etc/postgresql-common"
  echo "create_main_cluster = false" >"$root/etc/postgresql-common/createcluster.conf"
  # The suite with its point-release updates and security fixes, as a current upstream image has.
  cat >"$root/etc/apt/sources.list" <<SOURCES
deb $DEBIAN_MIRROR $IMAGES_DEBIAN_SUITE main
deb $DEBIAN_MIRROR $IMAGES_DEBIAN_SUITE-updates main
deb ${DEBIAN_MIRROR%/debian}/debian-security $IMAGES_DEBIAN_SUITE-security main
SOURCES
  mount -t proc proc "$root/proc"
  local rc=0
  {
    chroot "$root" apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q --no-install-recommends ${PACKAGES[$recipe]}
  } >"$IMAGES_DIR/$recipe.log" 2>&1 || rc=$?
  umount "$root/proc"
  ((rc == 0)) || {
    tail -n 20 "$IMAGES_DIR/$recipe.log" >&2
    engine_die "installing ${PACKAGES[$recipe]} failed (log: $IMAGES_DIR/$recipe.log)"
  }
  chroot "$root" dpkg-query -W -f '${Package}=${Version}\n' | sort >"$IMAGES_DIR/$recipe.packages"
  if [[ -d $RECIPES_DIR/$recipe ]]; then
    cp -R "$RECIPES_DIR/$recipe/." "$root/"
    find "$root/usr/local/bin" -type f -exec chmod 0755 {} + 2>/dev/null || true
  fi
  rm -f "$root/usr/sbin/policy-rc.d"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/cache/debconf/*-old "$root"/var/cache/ldconfig/aux-cache \
    "$root"/etc/machine-id "$root"/tmp/* "$root"/root/.bash_history
  write_layer "$root" "$layer.tmp"
  mv -f "$layer.tmp" "$layer"
  rm -rf "$root"
  timing "$recipe" $(($(now) - t0))
  printf '%s' "$layer"
}

# ------------------------------------------------------------------ the stand-in

standin_binary() {
  local key out
  key=$( (cd "$STANDIN_SRC" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 | sort -z | xargs -0 cat) | hash_of)
  out=$IMAGES_DIR/standin-$key
  if [[ ! -x $out ]]; then
    (cd "$STANDIN_SRC" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags '-s -w' -o "$out.tmp" .) ||
      engine_die "building the stand-in (tools/standin) failed"
    mv -f "$out.tmp" "$out"
  fi
  printf '%s' "$out"
}

standin_layer() { # the binary, `migrate` and `alembic` beside it, /etc/passwd for the pods' UIDs
  local bin=$1 uids=$2 key layer root
  key=$( (sha256sum "$bin" | cut -d' ' -f1; echo "$uids"; cat "${BASH_SOURCE[0]}") | hash_of)
  layer=$IMAGES_DIR/layer-standin-$key.tar
  if [[ ! -f $layer ]]; then
    root=$WORK/standin
    rm -rf "$root"
    mkdir -p "$root/usr/local/bin" "$root/etc/standin" "$root/tmp"
    chmod 1777 "$root/tmp"
    install -m 0755 "$bin" "$root/usr/local/bin/standin"
    # The catalogs' migration commands (golang-migrate, Alembic) run the stand-in's migration.
    ln -s standin "$root/usr/local/bin/migrate"
    ln -s standin "$root/usr/local/bin/alembic"
    {
      echo "root:x:0:0:root:/root:/sbin/nologin"
      local uid
      for uid in $uids; do echo "app$uid:x:$uid:$uid:stand-in:/tmp:/sbin/nologin"; done
    } >"$root/etc/passwd"
    {
      echo "root:x:0:"
      for uid in $uids; do echo "app$uid:x:$uid:"; done
    } >"$root/etc/group"
    write_layer "$root" "$layer.tmp"
    mv -f "$layer.tmp" "$layer"
    rm -rf "$root"
  fi
  printf '%s' "$layer"
}

standin_config_layer() { # standin_config_layer CONFIG-JSON
  local key layer root
  key=$(printf '%s' "$1" | hash_of)
  layer=$IMAGES_DIR/layer-standin-config-$key.tar
  if [[ ! -f $layer ]]; then
    root=$WORK/standin-config-$key
    rm -rf "$root"
    mkdir -p "$root/etc/standin"
    printf '%s\n' "$1" >"$root/etc/standin/config.json"
    chmod 0644 "$root/etc/standin/config.json"
    write_layer "$root" "$layer.tmp"
    mv -f "$layer.tmp" "$layer"
    rm -rf "$root"
  fi
  printf '%s' "$layer"
}

# ------------------------------------------------------------------ node images

pause_layer() {
  local src layer root
  src=$(cd "$KUBERNETES_TOOL_DIR/src" && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
  [[ -f $src ]] || engine_die "pause.c not found in the k8s.io/kubernetes module ($src)"
  layer=$IMAGES_DIR/layer-pause-$(cat "$src" | hash_of).tar
  if [[ ! -f $layer ]]; then
    root=$WORK/pause
    rm -rf "$root"
    mkdir -p "$root"
    gcc -Os -static -DVERSION=v3.10-platform -o "$root/pause" "$src"
    strip "$root/pause"
    write_layer "$root" "$layer.tmp"
    mv -f "$layer.tmp" "$layer"
    rm -rf "$root"
  fi
  printf '%s' "$layer"
}

coredns_layer() {
  local bin=$COREDNS_TOOL_DIR/bin/coredns layer root
  [[ -x $bin ]] || engine_die "missing $bin: run scripts/engine/toolchain.sh node"
  layer=$IMAGES_DIR/layer-coredns-$(sha256sum "$bin" | cut -c1-16).tar
  if [[ ! -f $layer ]]; then
    root=$WORK/coredns
    rm -rf "$root"
    mkdir -p "$root/etc/coredns"
    install -m 0755 "$bin" "$root/coredns"
    write_layer "$root" "$layer.tmp"
    mv -f "$layer.tmp" "$layer"
    rm -rf "$root"
  fi
  printf '%s' "$layer"
}

# ------------------------------------------------------------------ prebuilt binaries

# The monitoring stack's and the gateway's images (recipe `binary`): one static binary each, built
# from its Go module by `toolchain.sh monitoring` / `toolchain.sh gateway` at the version the
# reference's tag names, laid out where the upstream image has it, with the upstream image's
# entrypoint and default arguments.
declare -A BINARY_PATH=(
  [prometheus-operator]=$PROMETHEUS_OPERATOR_TOOL_DIR/bin/prometheus-operator
  [prometheus-config-reloader]=$PROMETHEUS_OPERATOR_TOOL_DIR/bin/prometheus-config-reloader
  [prometheus]=$PROMETHEUS_TOOL_DIR/bin/prometheus
  [alertmanager]=$ALERTMANAGER_TOOL_DIR/bin/alertmanager
  [envoy-gateway]=$ENVOY_GATEWAY_TOOL_DIR/bin/envoy-gateway
)
declare -A BINARY_IN_IMAGE=(
  [prometheus-operator]=/bin/operator
  [prometheus-config-reloader]=/bin/prometheus-config-reloader
  [prometheus]=/bin/prometheus
  [alertmanager]=/bin/alertmanager
  # The certgen Job runs `envoy-gateway certgen` by name.
  [envoy-gateway]=/usr/local/bin/envoy-gateway
)
declare -A BINARY_CMD=(
  [prometheus-operator]='[]'
  [prometheus-config-reloader]='[]'
  [prometheus]='["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus"]'
  [alertmanager]='["--config.file=/etc/alertmanager/alertmanager.yml","--storage.path=/alertmanager"]'
  [envoy-gateway]='[]'
)
for component in controller webhook cainjector acmesolver startupapicheck; do
  BINARY_PATH[cert-manager-$component]=$CERT_MANAGER_TOOL_DIR/bin/cert-manager-$component
  BINARY_IN_IMAGE[cert-manager-$component]=/app/cmd/$component/$component
  BINARY_CMD[cert-manager-$component]='[]'
done

# binary_version NAME BIN: the first line in which the binary states its version.
binary_version() {
  case $1 in
  envoy-gateway) "$2" version 2>&1 | grep -m1 '^ENVOY_GATEWAY_VERSION:' ;;
  *) "$2" --version 2>&1 | head -n1 ;;
  esac
}
# binary_is_version NAME BIN TAG: the binary is the release the image tag names.
binary_is_version() {
  local line
  line=$(binary_version "$1" "$2")
  case $1 in
  envoy-gateway) [[ $line == "ENVOY_GATEWAY_VERSION: $3" ]] ;;
  cert-manager-*) [[ $line == "cert-manager ${1#cert-manager-} $3 "* ]] ;;
  *) [[ $line == *"version ${3#v} "* ]] ;;
  esac
}

# binary_target NAME: the toolchain.sh target that builds the binary.
binary_target() {
  case $1 in
  envoy-gateway) echo gateway ;;
  cert-manager-*) echo cert-manager ;;
  *) echo monitoring ;;
  esac
}

binary_layer() { # binary_layer NAME TAG: the layer of one binary (cached by its hash)
  local name=$1 tag=$2 bin=${BINARY_PATH[$1]} layer root
  [[ -x $bin ]] || engine_die "missing $bin: run scripts/engine/toolchain.sh $(binary_target "$name")"
  ! readelf -l "$bin" 2>/dev/null | grep -q 'program interpreter' ||
    engine_die "$bin is dynamically linked, and its image holds no libc: rebuild it static (scripts/engine/toolchain.sh $(binary_target "$name"))"
  binary_is_version "$name" "$bin" "$tag" ||
    engine_die "$bin is not version $tag, which the program runs (scripts/engine/versions.env and the program disagree): $(binary_version "$name" "$bin")"
  layer=$IMAGES_DIR/layer-$name-$( (sha256sum "$bin" | cut -d' ' -f1; cat "${BASH_SOURCE[0]}") | hash_of).tar
  if [[ ! -f $layer ]]; then
    root=$WORK/$name
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/prometheus" "$root/alertmanager"
    chmod 1777 "$root/tmp"
    mkdir -p "$root$(dirname "${BINARY_IN_IMAGE[$name]}")"
    install -m 0755 "$bin" "$root${BINARY_IN_IMAGE[$name]}"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
    chown 65534:65534 "$root/prometheus" "$root/alertmanager"
    write_layer "$root" "$layer.tmp"
    mv -f "$layer.tmp" "$layer"
    rm -rf "$root"
  fi
  printf '%s' "$layer"
}

# ------------------------------------------------------------------ verbs

# archive_for REF: path of the image's OCI archive (built when missing); sets ARCHIVE_TAG.
IMAGE_ARCHIVES=() # "ref<TAB>archive" lines
USED=()           # every cached file this build used (prune_cache keeps these)
build_all() {
  local plan_file t0
  t0=$(now)
  mkdir -p "$IMAGES_DIR" "$WORK"
  plan_file=$(plan)
  ensure_base

  local recipe uids layer ref archive key
  # Node images.
  local cfg
  layer=$(pause_layer)
  archive=$IMAGES_DIR/oci-pause-$(basename "$layer" .tar).tar
  mapfile -t cfg < <(config_args '["/pause"]' '[]' 65535 "$BASE_PATH")
  [[ -f $archive ]] || oci_archive "$archive" "${PAUSE_IMAGE##*:}" "$layer" -- "${cfg[@]}"
  IMAGE_ARCHIVES+=("$PAUSE_IMAGE	$archive")
  USED+=("$layer" "$archive")
  layer=$(coredns_layer)
  archive=$IMAGES_DIR/oci-coredns-$(basename "$layer" .tar).tar
  mapfile -t cfg < <(config_args '["/coredns"]' '[]' 0 "$BASE_PATH")
  [[ -f $archive ]] || oci_archive "$archive" "${COREDNS_IMAGE##*:}" "$layer" -- "${cfg[@]}"
  IMAGE_ARCHIVES+=("$COREDNS_IMAGE	$archive")
  USED+=("$layer" "$archive")

  # Data-store images: one layer per recipe (users for every UID its pods run as),
  # one archive per reference (its name and its user).
  for recipe in postgres redis rabbitmq curl; do
    [[ $(plan_query "$plan_file" "(i) => i.some(x => x.recipe === '$recipe')") == true ]] || continue
    uids=$(plan_query "$plan_file" "(i) => [...new Set(i.filter(x => x.recipe === '$recipe' && x.uid).map(x => x.uid))].sort((a, b) => b - a)" | tr '\n' ' ')
    layer=$(build_debian_layer "$recipe" "$uids") || engine_die "building the $recipe image failed"
    while IFS=$'\t' read -r ref uid; do
      key=$(printf '%s %s %s' "$ref" "$uid" "$(basename "$layer")" | hash_of)
      archive=$IMAGES_DIR/oci-$recipe-$key.tar
      mapfile -t cfg < <(config_args "${ENTRYPOINT[$recipe]}" "${CMD[$recipe]}" "${uid:-0}" "${ENV_PATH[$recipe]}" \
        "LANG=C.UTF-8" "PLATFORM_LOCAL_IMAGE=$recipe from Debian $IMAGES_DEBIAN_SUITE, standing in for $ref" ${EXTRA_ENV[$recipe]:-})
      [[ -f $archive ]] || oci_archive "$archive" "$(image_tag "$ref")" "$layer" -- "${cfg[@]}"
      IMAGE_ARCHIVES+=("$ref	$archive")
      USED+=("$layer" "$archive")
    done < <(plan_query "$plan_file" "(i) => i.filter(x => x.recipe === '$recipe').map(x => x.ref + '\\t' + (x.uid ?? ''))")
  done

  # Monitoring and the gateway: one binary per image.
  local name
  while IFS=$'\t' read -r ref name; do
    layer=$(binary_layer "$name" "$(image_tag "$ref")")
    archive=$IMAGES_DIR/oci-$name-$(basename "$layer" .tar).tar
    mapfile -t cfg < <(config_args "[\"${BINARY_IN_IMAGE[$name]}\"]" "${BINARY_CMD[$name]}" 65534 "$BASE_PATH")
    [[ -f $archive ]] || oci_archive "$archive" "$(image_tag "$ref")" "$layer" -- "${cfg[@]}"
    IMAGE_ARCHIVES+=("$ref	$archive")
    USED+=("$layer" "$archive")
  done < <(plan_query "$plan_file" "(i) => i.filter(x => x.recipe === 'binary').map(x => x.ref + '\\t' + x.binary)")

  # Catalog services: the stand-in plus a config layer of the service's own ports.
  local bin standin config uidset
  bin=$(standin_binary) || engine_die "building the stand-in failed"
  uidset=$(plan_query "$plan_file" "(i) => [...new Set(i.filter(x => x.recipe === 'standin').map(x => x.uid ?? 1000))].sort()" | tr '\n' ' ')
  standin=$(standin_layer "$bin" "$uidset")
  USED+=("$bin" "$standin")
  while IFS=$'\t' read -r ref uid config; do
    layer=$(standin_config_layer "$config")
    key=$(printf '%s %s %s %s' "$ref" "$uid" "$(basename "$standin")" "$(basename "$layer")" | hash_of)
    archive=$IMAGES_DIR/oci-standin-$key.tar
    mapfile -t cfg < <(config_args '["/usr/local/bin/standin"]' '["serve"]' "$uid" "$BASE_PATH" "STANDIN_CONFIG=/etc/standin/config.json")
    [[ -f $archive ]] || oci_archive "$archive" "$(image_tag "$ref")" "$standin" "$layer" -- "${cfg[@]}"
    IMAGE_ARCHIVES+=("$ref	$archive")
    USED+=("$layer" "$archive")
  done < <(plan_query "$plan_file" "(i) => i.filter(x => x.recipe === 'standin').map(x => x.ref + '\\t' + (x.uid ?? 1000) + '\\t' + JSON.stringify(x.standin ?? { service: x.ref.replace(/^.*\\//, '').replace(/[:@].*$/, ''), namespace: '', ports: [] }))")

  printf '%s\n' "${IMAGE_ARCHIVES[@]}" >"$IMAGES_DIR/archives.tsv"
  prune_cache
  engine_log "images: ${#IMAGE_ARCHIVES[@]} ready in $(($(now) - t0))s (cache $IMAGES_DIR)"
}

# Layers, archives and stand-in binaries this build did not use (made from older inputs) are
# deleted, so the cache holds one generation of each image.
prune_cache() {
  local f
  for f in "$IMAGES_DIR"/layer-*.tar "$IMAGES_DIR"/oci-*.tar "$IMAGES_DIR"/standin-*; do
    [[ -e $f ]] || continue
    case " ${USED[*]} " in *" $f "*) continue ;; esac
    rm -f "$f"
  done
}

image_tag() { local r=${1##*/}; [[ $r == *:* ]] && printf '%s' "${r##*:}" || printf 'latest'; }
image_repo() { # the containerd name without the tag, normalised the way the kubelet does
  local r=${1%:*}
  [[ $r == */* ]] || r=library/$r
  [[ ${r%%/*} == *.* || ${r%%/*} == localhost ]] || r=docker.io/$r
  printf '%s' "$r"
}

import_all() {
  local sock=$1 ref archive repo want have t0 n=0
  t0=$(now)
  build_all
  while IFS=$'\t' read -r ref archive; do
    repo=$(image_repo "$ref")
    want=$(tar -xOf "$archive" ./index.json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).manifests[0].digest))')
    have=$(ctr --address "$sock" -n k8s.io images ls 2>/dev/null | awk -v n="$repo:$(image_tag "$ref")" '$1 == n {print $3}')
    [[ $have == "$want" ]] && continue
    ctr --address "$sock" -n k8s.io images import --base-name "$repo" "$archive" >/dev/null
    n=$((n + 1))
  done <"$IMAGES_DIR/archives.tsv"
  engine_log "images: imported $n into containerd in $(($(now) - t0))s"
}

case ${1:-} in
build) build_all ;;
import)
  [[ -n ${2:-} ]] || engine_die "usage: $0 import CONTAINERD-SOCKET"
  import_all "$2"
  ;;
list) cat "$(plan)" ;;
*) engine_die "usage: $0 build|import SOCKET|list" ;;
esac
