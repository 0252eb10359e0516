#!/usr/bin/env bash
# Brings the platform up on the embedded default: the `local` stack.
#
#  1. npm ci (when node_modules are missing or stale);
#  2. builds/caches the local control plane (etcd, kube-apiserver, kube-controller-manager,
#     kube-scheduler, kwok) from the Go module proxy — minutes on first run, cached afterwards;
#  3. uses the current kube context when it answers, else starts the embedded kwok cluster;
#  4. with a Pulumi engine at the pinned version available (on PATH or in the toolchain cache):
#     `pulumi up` on the local stack, file backend in .pulumi-state/, passphrase secrets;
#     without one (this project's machines: the Go module proxy refuses the Pulumi CLI and provider
#     modules, see docs/local-engine.md): applies the program's offline render with server-side
#     apply and waits until every workload is available and every Job complete — no Pulumi state,
#     and Secret values are placeholders, never the generated secrets.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/ensure-deps.sh
. scripts/lib/ensure-deps.sh
ensure_node_modules

bash scripts/engine/toolchain.sh cluster
bash scripts/engine/cluster.sh start
eval "$(bash scripts/engine/cluster.sh env)"

engine_log=$(mktemp)
if bash scripts/engine/toolchain.sh pulumi >"$engine_log" 2>&1; then
  # shellcheck source=engine/env.sh
  . scripts/engine/env.sh
  mkdir -p .pulumi-state
  pulumi login "$PULUMI_BACKEND_URL"
  pulumi stack select --create --secrets-provider passphrase local
  pulumi up --yes --stack local
else
  echo
  echo "No Pulumi engine at the pinned version here (details: $engine_log)."
  echo "Applying the local stack's offline render to the cluster instead (not a Pulumi deployment)."
  npx tsx scripts/local-cluster.ts up
fi
