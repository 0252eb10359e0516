# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared settings for scripts/engine/*.sh. Sourced, never executed.
#
# Versions: the Pulumi SDK packages (and so the plugin versions the program asks
# for) come from package.json; the engine's sources and the control plane from
# versions.env.

ENGINE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$ENGINE_DIR/../.." && pwd)

# shellcheck source=versions.env
. "$ENGINE_DIR/versions.env"

# Version of an npm dependency as declared in package.json, without range signs.
engine_pkg_version() {
  node -e '
    const p = require(process.argv[1]);
    const v = (p.dependencies || {})[process.argv[2]] || (p.devDependencies || {})[process.argv[2]];
    if (!v) { console.error("package.json does not declare " + process.argv[2]); process.exit(1); }
    process.stdout.write(String(v).replace(/^[\^~=v]+/, ""));
  ' "$REPO_ROOT/package.json" "$1"
}

PULUMI_VERSION=$(engine_pkg_version @pulumi/pulumi)
PULUMI_KUBERNETES_VERSION=$(engine_pkg_version @pulumi/kubernetes)
PULUMI_RANDOM_VERSION=$(engine_pkg_version @pulumi/random)

TOOLCHAIN_CACHE=${PLATFORM_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/platform-toolchain}

# One cache directory per tool and version, so that bumping one version only
# rebuilds that tool. Each holds bin/ and a build log.
# A plugin's directory also names its source, so a new source is a new build.
PULUMI_TOOL_DIR=$TOOLCHAIN_CACHE/pulumi-$PULUMI_CLI_VERSION
PULUMI_KUBERNETES_TOOL_DIR=$TOOLCHAIN_CACHE/pulumi-resource-kubernetes-v$PULUMI_KUBERNETES_VERSION-${PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION##*-}
PULUMI_RANDOM_TOOL_DIR=$TOOLCHAIN_CACHE/pulumi-resource-random-v$PULUMI_RANDOM_VERSION-${TERRAFORM_PROVIDER_RANDOM_VERSION##*-}
KUBERNETES_TOOL_DIR=$TOOLCHAIN_CACHE/kubernetes-$KUBERNETES_VERSION
ETCD_TOOL_DIR=$TOOLCHAIN_CACHE/etcd-$ETCD_VERSION
KWOK_TOOL_DIR=$TOOLCHAIN_CACHE/kwok-$KWOK_VERSION

# The real node's pieces and the local images (scripts/engine/node.sh, images.sh).
KUBE_NETWORK_POLICIES_TOOL_DIR=$TOOLCHAIN_CACHE/kube-network-policies-$KUBE_NETWORK_POLICIES_VERSION
COREDNS_TOOL_DIR=$TOOLCHAIN_CACHE/coredns-$COREDNS_VERSION
PROMETHEUS_OPERATOR_TOOL_DIR=$TOOLCHAIN_CACHE/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION
PROMETHEUS_TOOL_DIR=$TOOLCHAIN_CACHE/prometheus-$PROMETHEUS_VERSION
ALERTMANAGER_TOOL_DIR=$TOOLCHAIN_CACHE/alertmanager-$ALERTMANAGER_VERSION
# cert-manager's binaries (scripts/engine/toolchain.sh cert-manager).
CERT_MANAGER_TOOL_DIR=$TOOLCHAIN_CACHE/cert-manager-$CERT_MANAGER_VERSION
# Envoy Gateway's controller and the gateway's two charts, laid out from their modules
# (scripts/engine/toolchain.sh gateway).
ENVOY_GATEWAY_TOOL_DIR=$TOOLCHAIN_CACHE/envoy-gateway-$ENVOY_GATEWAY_VERSION
GATEWAY_CHARTS_DIR=$TOOLCHAIN_CACHE/charts
IMAGES_DIR=$TOOLCHAIN_CACHE/images
# The embedded API server's port, fixed so that stack config can name it, and the address it
# advertises to a real node's pods (node.sh's host end of the veth).
API_SERVER_PORT=6443
REAL_NODE_API_ADDRESS=10.203.0.1
# The kubernetes Service's ClusterIP (the first address of kwokctl's service range).
KUBERNETES_SERVICE_IP=10.0.0.1
# Images the node itself needs, built locally like the rest (never pulled).
PAUSE_IMAGE=localhost/platform/pause:3.10
COREDNS_IMAGE=localhost/platform/coredns:${COREDNS_VERSION#v}

# PULUMI_HOME holds the installed plugins (plugins/resource-kubernetes-v4.34.2/...).
ENGINE_PULUMI_HOME=$TOOLCHAIN_CACHE/pulumi-home
# The embedded cluster: kwokctl's workdir, the kubeconfig and the bootstrap markers.
CLUSTER_DIR=$TOOLCHAIN_CACHE/cluster
# ENGINE_NODES picks the embedded cluster's nodes: `kwok` (the default: simulated,
# starts in a minute, nothing runs) or `real` (scripts/engine/node.sh: a kubelet
# running real containers with NetworkPolicy enforced). Each mode is a cluster
# of its own, with its own kubeconfig and its own Pulumi state (env.sh), so the
# two never mix.
ENGINE_NODES=${ENGINE_NODES:-kwok}
case $ENGINE_NODES in
kwok)
  CLUSTER_NAME=${ENGINE_CLUSTER_NAME:-platform}
  CLUSTER_KUBECONFIG=$CLUSTER_DIR/kubeconfig
  CLUSTER_MODE_FILE=$CLUSTER_DIR/mode
  ;;
real)
  CLUSTER_NAME=${ENGINE_CLUSTER_NAME:-platform-real}
  CLUSTER_KUBECONFIG=$CLUSTER_DIR/kubeconfig-real
  CLUSTER_MODE_FILE=$CLUSTER_DIR/mode-real
  ;;
*)
  printf '[engine] error: ENGINE_NODES must be "kwok" or "real", not "%s"\n' "$ENGINE_NODES" >&2
  exit 2
  ;;
esac

# Builds share two cores with everyone else on the machine.
ENGINE_BUILD_PROCS=${ENGINE_BUILD_PROCS:-2}

engine_log() { printf '[engine] %s\n' "$*" >&2; }
engine_die() { printf '[engine] error: %s\n' "$*" >&2; exit 1; }
