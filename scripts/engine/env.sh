# shellcheck shell=bash
# Source me: `. scripts/engine/env.sh`
#
# Points this shell at the cached Pulumi toolchain (built by toolchain.sh) for
# the local, offline stack:
#   - the CLI on PATH; the provider plugins only in PULUMI_HOME (installed there
#     with --file), never on PATH, so the engine uses exactly the versions the
#     SDK asks for and never looks for "ambient" plugins;
#   - no update check and no automatic plugin download;
#   - the file backend in <repo>/.pulumi-state (git-ignored);
#   - the passphrase secrets provider (see below);
#   - KUBECONFIG of the embedded cluster when cluster.sh started it.
#
# Passphrase: the local stack's encryptionsalt is committed in Pulumi.local.yaml,
# made with the passphrase `local-engine`, the default here, so every clone
# can deploy the local stack without a shared secret. It keeps the generated
# secrets out of the state file in plaintext; it is not a security boundary,
# and it needs none: the local stack's secrets exist only in an offline local
# cluster, where anyone with its kubeconfig reads the Secrets anyway. Set
# PULUMI_CONFIG_PASSPHRASE (or _FILE) to use your own, then run
# `npm run pulumi -- stack change-secrets-provider passphrase` and keep the
# salt it writes out of commits. Staging and production use a KMS key
# (docs/delivery.md).
# It changes nothing else and builds nothing; run toolchain.sh first.

_engine_env_main() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  # shellcheck source=lib.sh
  . "$here/lib.sh" || return 1

  case ":$PATH:" in *":$PULUMI_TOOL_DIR/bin:"*) ;; *) PATH=$PULUMI_TOOL_DIR/bin:$PATH ;; esac
  export PATH
  # The inline runner (scripts/pulumi.ts) drives this CLI installation.
  export PLATFORM_PULUMI_ROOT=$PULUMI_TOOL_DIR
  export PULUMI_HOME=$ENGINE_PULUMI_HOME
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_IGNORE_AMBIENT_PLUGINS=true
  # Real-node mode deploys to a cluster of its own, so it keeps its state apart.
  local state=$REPO_ROOT/.pulumi-state
  [[ $ENGINE_NODES != real ]] || state=$REPO_ROOT/.pulumi-state/real-node
  export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$state}
  mkdir -p "$PULUMI_HOME" "$state"

  if [[ -z ${PULUMI_CONFIG_PASSPHRASE+x} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
    export PULUMI_CONFIG_PASSPHRASE=local-engine
  fi

  if [[ $(cat "$CLUSTER_MODE_FILE" 2>/dev/null) == "$ENGINE_NODES" && -f $CLUSTER_KUBECONFIG ]]; then
    export KUBECONFIG=$CLUSTER_KUBECONFIG
  fi

  if [[ ! -x $PULUMI_TOOL_DIR/bin/pulumi ]]; then
    printf '[engine] warning: no pulumi %s in %s (run scripts/engine/toolchain.sh pulumi)\n' \
      "$PULUMI_CLI_VERSION" "$PULUMI_TOOL_DIR/bin" >&2
  fi
}

_engine_env_main
unset -f _engine_env_main
