#!/usr/bin/env bash
# The one test command (README): sets itself up on a fresh machine, then runs everything a change
# must pass — lint, typecheck, the unit suite (mocks + real validators + promtool), the offline
# render of every stack twice to prove it is byte-identical, and the consumer test (the packed library
# installed into a scratch project, type-checked strictly and run under mocks).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
# shellcheck source=lib/ensure-deps.sh
. scripts/lib/ensure-deps.sh
ensure_node_modules
bash scripts/install-promtool.sh   # Debian's prometheus package ships promtool (alert-rule tests)
# prometheus-operator's release manifests, which the local stack installs (a module download)
bash scripts/engine/toolchain.sh operator-manifests >/dev/null
# The gateway's two charts, which the local stack installs on a real node (module downloads).
bash scripts/engine/toolchain.sh gateway-charts >/dev/null
bash scripts/install-kube-score.sh >/dev/null   # built from its Go module (render read as kubectl reads it)
# Envoy Gateway's translator, built from its Go module at the version tools/egctl/go.mod pins (gateway tests).
bash scripts/install-egctl.sh "$(sed -n 's|^require github.com/envoyproxy/gateway ||p' tools/egctl/go.mod)" >/dev/null
bash scripts/install-cyclonus.sh >/dev/null     # the independent NetworkPolicy engine (test/netpol-engine.test.ts)
bash scripts/install-parliament.sh >/dev/null  # the IAM policy linter, from PyPI (test/parliament.test.ts)
bash scripts/install-registry.sh >/dev/null     # the reference OCI registry and crane (test/image-lock-registry.test.ts)

# Every step runs even after one fails, and any failure fails the run. (A failure inside an `a && b`
# list does not stop a `set -e` script, which once let lint errors pass.)
status=0
step "lint"
npm run --silent lint || status=1
if npx prettier --check . >/dev/null 2>&1; then echo "prettier: all files formatted"; else npx prettier --check . || true; status=1; fi
step "typecheck"
npm run --silent typecheck || status=1

step "unit tests"
report=$(mktemp -d)/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile="$report" || status=1

step "offline render is deterministic"
out=$(mktemp -d)
npm run --silent render -- --stack all --out "$out/a" >/dev/null
npm run --silent render -- --stack all --out "$out/b"
if diff -r "$out/a" "$out/b" >/dev/null; then echo "two renders are byte-identical"; else echo "renders differ:"; diff -r "$out/a" "$out/b" | head -40; status=1; fi

step "consumer test: the packed library in a scratch project (scripts/consumer-test.sh)"
consumer_log=$(mktemp)
if ! bash scripts/consumer-test.sh 2>&1 | tee "$consumer_log"; then status=1; fi
read -r cp cf <<<"$(sed -n 's/^consumer: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$consumer_log" | tail -n1)"

# One plain closing line that any CI can read: the unit suite plus the consumer test's checks (a
# consumer test that crashed before its own closing line counts as one failure).
node -e '
const r = require(process.argv[1]);
const cp = Number(process.argv[2] || 0), cf = process.argv[3] === "" ? 1 : Number(process.argv[3]);
console.log(`\nunit: ${r.numPassedTests + cp} passed, ${r.numFailedTests + cf} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : "") + ` (vitest ${r.numPassedTests}/${r.numFailedTests}, consumer ${cp}/${cf})`);
' "$report" "${cp:-0}" "${cf:-}"
echo "total time: $((SECONDS - started)) s"
exit $status
