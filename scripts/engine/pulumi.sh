#!/usr/bin/env bash
# `npm run pulumi -- <command> …`: the Pulumi CLI and the inline program runner
# (scripts/pulumi.ts) with the local engine's environment (scripts/engine/env.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
. "$here/env.sh"
if [[ ! -x $PLATFORM_PULUMI_ROOT/bin/pulumi ]]; then
  echo "No Pulumi CLI $PULUMI_CLI_VERSION in $PLATFORM_PULUMI_ROOT: run \`npm run engine:toolchain -- pulumi\` first." >&2
  exit 1
fi
cd "$REPO_ROOT"
exec node --import tsx scripts/pulumi.ts "$@"
