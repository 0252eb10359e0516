#!/usr/bin/env bash
# Runs a TypeScript script against the real Pulumi engine and a live cluster:
#   scripts/engine/with-engine.sh scripts/e2e-engine.ts     (npm run test:e2e)
#   scripts/engine/with-engine.sh scripts/bench-engine.ts   (npm run bench:engine)
# Builds or reuses the toolchain (cached after the first run), starts the embedded cluster unless
# the current kube context answers, sources the engine environment (env.sh), then runs the script.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(($#)) || { echo "usage: $0 SCRIPT.ts [args…]" >&2; exit 2; }
bash "$here/toolchain.sh" cluster
bash "$here/toolchain.sh" pulumi
bash "$here/cluster.sh" start
eval "$(bash "$here/cluster.sh" env)"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$REPO_ROOT"
exec node --import tsx "$@"
