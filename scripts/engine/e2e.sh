#!/usr/bin/env bash
# `npm run test:e2e`: the local stack through the real Pulumi engine (scripts/e2e-engine.ts).
# Builds or reuses the toolchain (cached after the first run), starts the embedded cluster unless
# the current kube context answers, then runs the checks. The last line is `e2e: N passed, N failed`.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$here/toolchain.sh" cluster
bash "$here/toolchain.sh" pulumi
bash "$here/cluster.sh" start
eval "$(bash "$here/cluster.sh" env)"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$REPO_ROOT"
exec node --import tsx scripts/e2e-engine.ts "$@"
