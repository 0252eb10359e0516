#!/usr/bin/env bash
# Brings the platform up on the embedded default: a real `pulumi up` of the `local` stack.
#
#  1. npm ci (when node_modules are missing or stale);
#  2. builds or reuses the toolchain (scripts/engine/toolchain.sh): the control plane (etcd,
#     kube-apiserver, kube-controller-manager, kube-scheduler, kwok) and the Pulumi engine (the CLI
#     and the kubernetes and random provider plugins), all from the Go module proxy. The first run
#     compiles them (tens of minutes on 2 cores; docs/local-engine.md has the figures); later runs
#     start in seconds;
#  3. uses the current kube context when it answers, else starts the embedded kwok cluster;
#  4. `pulumi up` of the local stack through our runner (scripts/pulumi.ts: the program runs inline
#     through the Automation API), file backend in .pulumi-state/, passphrase secrets provider
#     (scripts/engine/env.sh says how the passphrase is handled), progress streamed as the engine
#     prints it;
#  5. prints the stack outputs and how to reach the entry services.
#
# The same stack afterwards: `npm run pulumi -- preview --diff`, `… refresh`, `… destroy`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/ensure-deps.sh
. scripts/lib/ensure-deps.sh
ensure_node_modules

bash scripts/engine/toolchain.sh cluster
bash scripts/engine/toolchain.sh pulumi
bash scripts/engine/cluster.sh start
eval "$(bash scripts/engine/cluster.sh env)"

bash scripts/engine/pulumi.sh up --stack local
bash scripts/engine/pulumi.sh reach --stack local
