#!/usr/bin/env bash
# The consumer test (issue 14): the library as another team gets it. Packs the package (`npm pack`),
# installs the tarball into a scratch project in a temporary directory with only the documented
# dependencies (the Pulumi SDKs it names as peers, at the versions this repository's lockfile pins),
# then runs a strict `tsc --noEmit` and a mocked `pulumi up` of two consumers with the package's own
# `testing` entry point: examples/consumer-stack, which uses every component the package exports, on
# an existing cluster and on AWS; and examples/analytics-stack, a second shape (three services,
# PostgreSQL, Redis and RabbitMQ, a call into another stack), as a test of its own. Prints
# `consumer: N passed, N failed` last.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
started=$SECONDS
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0
check() { # name, command...
  local name=$1
  shift
  printf '\n==> %s\n' "$name"
  if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
}
finish() {
  echo
  echo "consumer: $passed passed, $failed failed"
  echo "consumer test time: $((SECONDS - started)) s"
  ((failed == 0))
  exit $?
}

# 1. The tarball, exactly what `npm publish` would upload, from a checkout with nothing built: the
#    package's `prepack` builds it.
build_and_pack() {
  rm -rf dist &&
    npm pack --silent --pack-destination "$scratch" >"$scratch/pack.txt" &&
    tar -tzf "$scratch/$(tail -n1 "$scratch/pack.txt")" >"$scratch/contents.txt" &&
    if grep -Ev '^package/(dist/components/|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE$|docs/library\.md$)' "$scratch/contents.txt"; then
      echo "the tarball ships files outside dist/components and the documents (listed above)"
      false
    elif grep -E '\.map$' "$scratch/contents.txt"; then
      echo "the tarball ships source maps (listed above) whose sources it does not ship"
      false
    else
      for f in LICENSE CHANGELOG.md docs/library.md README.md dist/components/index.js dist/components/index.d.ts dist/components/testing/index.js; do
        grep -qx "package/$f" "$scratch/contents.txt" || { echo "the tarball lacks $f"; return 1; }
      done
    fi
}
check "npm pack (prepack builds; dist/components, LICENSE, CHANGELOG, docs; no source maps)" build_and_pack || finish

# 2. A scratch project: the two examples and a package.json naming only the tarball, the peers
#    at the lockfile's versions, and the TypeScript toolchain.
make_project() {
  local project=$scratch/consumer
  mkdir -p "$project/analytics" &&
    cp examples/consumer-stack/index.ts examples/consumer-stack/mock-run.ts examples/consumer-stack/Pulumi.yaml "$project/" &&
    cp examples/analytics-stack/index.ts examples/analytics-stack/mock-run.ts "$project/analytics/" &&
    node - "$repo" "$scratch" "$project" <<'JS'
const fs = require("node:fs");
const path = require("node:path");
const [repo, scratch, project] = process.argv.slice(2);
const pkg = require(path.join(repo, "package.json"));
const lock = require(path.join(repo, "package-lock.json"));
const locked = (name) => lock.packages[`node_modules/${name}`].version;
const tarball = fs.readFileSync(path.join(scratch, "pack.txt"), "utf8").trim().split("\n").pop();
const example = require(path.join(repo, "examples", "consumer-stack", "package.json"));
fs.writeFileSync(
  path.join(project, "package.json"),
  JSON.stringify(
    {
      name: "consumer-stack-scratch",
      private: true,
      dependencies: {
        [pkg.name]: `file:${path.join(scratch, tarball)}`,
        // Only what the package asks its consumers for: its peers, at the versions we test.
        ...Object.fromEntries(Object.keys(pkg.peerDependencies).map((n) => [n, locked(n)])),
      },
      devDependencies: { typescript: locked("typescript"), "@types/node": locked("@types/node") },
    },
    null,
    2,
  ),
);
// The example's own tsconfig, without the in-repository `paths` that point at the sources.
const tsconfig = JSON.parse(
  fs.readFileSync(path.join(repo, "examples", "consumer-stack", "tsconfig.json"), "utf8").replace(/^\s*\/\/.*$/gm, ""),
);
delete tsconfig.compilerOptions.paths;
delete tsconfig.compilerOptions.baseUrl;
tsconfig.compilerOptions.exactOptionalPropertyTypes = true;
tsconfig.compilerOptions.noImplicitOverride = true;
tsconfig.include = ["index.ts", "mock-run.ts", "analytics/*.ts"];
fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
if (JSON.stringify(Object.keys(example.dependencies).sort()) !==
    JSON.stringify([pkg.name, ...Object.keys(pkg.peerDependencies)].sort())) {
  console.error(`examples/consumer-stack/package.json must depend on ${pkg.name} and its peers only, found ${Object.keys(example.dependencies)}`);
  process.exit(1);
}
JS
}
check "scratch project with the documented dependencies" make_project || finish

install() {
  (cd "$scratch/consumer" && npm install --no-audit --no-fund --prefer-offline --ignore-scripts --loglevel=error) &&
    # One copy of the SDK: the library resolves @pulumi/pulumi to the consumer's, not a copy of its own.
    (cd "$scratch/consumer" && [[ ! -d node_modules/@platform/microservices-platform/node_modules/@pulumi ]])
}
check "npm install of the tarball and its peers (one SDK copy)" install || finish

check "strict typecheck (tsc --noEmit)" bash -c "cd '$scratch/consumer' && npx tsc --noEmit -p ."

run_mocked() {
  (cd "$scratch/consumer" && npx tsc -p . --noCheck --outDir out) &&
    (cd "$scratch/consumer" && node out/mock-run.js existing local "$scratch/existing.json") &&
    (cd "$scratch/consumer" && node out/mock-run.js aws staging "$scratch/aws.json") &&
    node - "$scratch/consumer" "$scratch/existing.json" "$scratch/aws.json" <<'JS'
const path = require("node:path");
const [project, ...summaries] = process.argv.slice(2);
const pulumi = require(path.join(project, "node_modules", "@pulumi", "pulumi"));
const library = require(path.join(project, "node_modules", "@platform", "microservices-platform"));
const exported = Object.entries(library)
  .filter(([, v]) => typeof v === "function" && v.prototype instanceof pulumi.ComponentResource)
  .map(([name]) => `platform:index:${name}`)
  .sort();
const seen = new Set(summaries.flatMap((f) => require(f).components));
const missing = exported.filter((t) => !seen.has(t));
console.log(`components exported: ${exported.length}; used by the consumer stack: ${exported.length - missing.length}`);
if (missing.length) { console.error(`not used by examples/consumer-stack: ${missing.join(", ")}`); process.exit(1); }
JS
}
check "mocked run of examples/consumer-stack (existing cluster and AWS), every component used" run_mocked

run_analytics() {
  (cd "$scratch/consumer" && [[ -f out/analytics/mock-run.js ]] || npx tsc -p . --noCheck --outDir out) &&
    (cd "$scratch/consumer" && node out/analytics/mock-run.js)
}
check "mocked run of examples/analytics-stack (three services, three stores, a cross-stack call)" run_analytics

finish
