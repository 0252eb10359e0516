# shellcheck shell=bash
# Source me: `. scripts/engine/env.sh`
#
# Puts the cached Pulumi toolchain (built or adopted by toolchain.sh) on PATH
# and configures the CLI for a local, offline stack:
#   - PULUMI_HOME in the toolchain cache (plugins installed there with --file),
#   - no update check and no automatic plugin download,
#   - the file backend in <repo>/.pulumi-state (gitignored),
#   - a default passphrase for the local stack's secrets,
#   - KUBECONFIG of the embedded cluster when cluster.sh started it.
# It changes nothing else and builds nothing; run toolchain.sh first.

_engine_env_main() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  # shellcheck source=lib.sh
  . "$here/lib.sh" || return 1

  local d
  for d in "$PULUMI_TOOL_DIR/bin" "$PULUMI_KUBERNETES_TOOL_DIR/bin" "$PULUMI_RANDOM_TOOL_DIR/bin"; do
    case ":$PATH:" in *":$d:"*) ;; *) PATH=$d:$PATH ;; esac
  done
  export PATH
  export PULUMI_HOME=$ENGINE_PULUMI_HOME
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$REPO_ROOT/.pulumi-state}
  # Only for the local file-backend stack; real stacks set their own.
  export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-local-engine}
  mkdir -p "$PULUMI_HOME" "$REPO_ROOT/.pulumi-state"

  if [[ $(cat "$CLUSTER_DIR/mode" 2>/dev/null) == kwok && -f $CLUSTER_KUBECONFIG ]]; then
    export KUBECONFIG=$CLUSTER_KUBECONFIG
  fi

  if [[ ! -x $PULUMI_TOOL_DIR/bin/pulumi ]]; then
    printf '[engine] warning: no pulumi v%s in %s (run scripts/engine/toolchain.sh pulumi)\n' \
      "$PULUMI_VERSION" "$PULUMI_TOOL_DIR/bin" >&2
  fi
}

_engine_env_main
unset -f _engine_env_main
