/**
 * The local stack's offline render applied to a real Kubernetes API server with server-side apply:
 * the baseline the engine benchmark compares `pulumi up` against, and a second e2e that needs no
 * Pulumi engine. It is not a Pulumi deployment (no state; Secret values are placeholders, never the
 * generated secrets). The real deployment is `npm run pulumi -- up` (scripts/e2e-engine.ts tests it).
 *
 *   tsx scripts/local-cluster.ts up    render, apply, wait until everything is available
 *   tsx scripts/local-cluster.ts e2e   `npm run test:e2e:apply`: the cycle below, then clean up
 *
 *  1. every object is accepted (schema, admission, Pod Security "restricted" enforcement);
 *  2. every Deployment and StatefulSet becomes available, every Job completes;
 *  3. every Secret exists with the keys the program declares; NetworkPolicies and PDBs exist;
 *  4. re-applying the same render changes nothing (`kubectl diff` is empty);
 *  5. a one-line config change (one service's replica floor) changes exactly that object;
 *  6. deleting the namespaces leaves no object of ours behind.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { runStack } from "../test/harness";
import { renderRun } from "./render-lib";
import {
  check,
  checkWorkloadsReady,
  kubectl,
  leftovers,
  step,
  summary,
  tally,
  type KubeObject,
} from "./lib/checks";

const STACK = "local";
const FIELD_MANAGER = "platform-e2e";

async function renderObjects(
  config?: Record<string, unknown>,
): Promise<{ dir: string; objects: KubeObject[] }> {
  const rendered = renderRun(STACK, await runStack(STACK, config ? { config } : {}));
  const dir = mkdtempSync(path.join(tmpdir(), "platform-e2e-"));
  const objects: KubeObject[] = [];
  for (const [file, content] of rendered.files) {
    if (!file.startsWith("manifests/")) continue;
    for (const doc of parseAllDocuments(content)) objects.push(doc.toJS() as KubeObject);
  }
  // Namespaces first (everything else lives in them), then the rest in render order.
  const ordered = [
    ...objects.filter((o) => o.kind === "Namespace"),
    ...objects.filter((o) => o.kind !== "Namespace"),
  ];
  writeFileSync(
    path.join(dir, "namespaces.yaml"),
    ordered
      .filter((o) => o.kind === "Namespace")
      .map((o) => JSON.stringify(o))
      .join("\n"),
  );
  writeFileSync(
    path.join(dir, "objects.json"),
    JSON.stringify({ apiVersion: "v1", kind: "List", items: ordered.filter((o) => o.kind !== "Namespace") }),
  );
  return { dir, objects: ordered };
}

function apply(dir: string): void {
  for (const file of ["namespaces.yaml", "objects.json"]) {
    kubectl([
      "apply",
      "--server-side",
      "--force-conflicts",
      `--field-manager=${FIELD_MANAGER}`,
      "-f",
      path.join(dir, file),
    ]);
  }
}

/** `kubectl diff` against the live objects: "" when nothing would change. */
function diff(dir: string): string {
  const result = spawnSync(
    "kubectl",
    [
      "diff",
      "--server-side",
      `--field-manager=${FIELD_MANAGER}`,
      "--force-conflicts",
      "-f",
      path.join(dir, "objects.json"),
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0 && result.status !== 1) throw new Error(`kubectl diff failed: ${result.stderr}`);
  return result.stdout;
}

async function main(): Promise<void> {
  const mode = process.argv[2] ?? "e2e";
  if (mode !== "up" && mode !== "e2e") throw new Error(`unknown mode "${mode}" (up | e2e)`);
  console.log(
    `${mode}: the ${STACK} stack on ${kubectl(["config", "current-context"]).trim()} (${
      kubectl(["version", "-o", "json"])
        .match(/"gitVersion": "([^"]+)"/g)
        ?.pop() ?? "?"
    })`,
  );
  const namespaces = (await renderObjects()).objects
    .filter((o) => o.kind === "Namespace")
    .map((o) => o.metadata.name);
  // The test starts from a clean slate so "nothing left behind" below means something.
  if (mode === "e2e")
    spawnSync("kubectl", ["delete", "namespace", "--wait=true", "--ignore-not-found", ...namespaces], {
      stdio: "ignore",
    });

  const first = await step("render the local stack and apply it (server-side)", async () => {
    const r = await renderObjects();
    apply(r.dir);
    check(`API server accepted all ${r.objects.length} objects`, true);
    return r;
  });

  await step("wait for workloads, Jobs and Secrets", () => {
    checkWorkloadsReady(first.objects);
    for (const s of first.objects.filter((o) => o.kind === "Secret")) {
      const live = JSON.parse(
        kubectl(["get", "secret", s.metadata.name, "-n", s.metadata.namespace ?? "", "-o", "json"]),
      ) as { data?: Record<string, string> };
      const expected = Object.keys(s.stringData ?? {}).sort();
      const actual = Object.keys(live.data ?? {}).sort();
      check(
        `Secret ${s.metadata.namespace}/${s.metadata.name} has keys ${expected.join(",")}`,
        JSON.stringify(expected) === JSON.stringify(actual),
        actual.join(","),
      );
    }
    for (const kind of [
      "NetworkPolicy",
      "PodDisruptionBudget",
      "HorizontalPodAutoscaler",
      "ResourceQuota",
      "LimitRange",
    ]) {
      const want = first.objects.filter((o) => o.kind === kind).length;
      const live = namespaces.reduce(
        (n, ns) =>
          n +
          (JSON.parse(kubectl(["get", kind.toLowerCase(), "-n", ns, "-o", "json"])) as { items: unknown[] })
            .items.length,
        0,
      );
      check(`${want} ${kind} objects live`, live === want && want > 0, `found ${live}`);
    }
  });

  if (mode === "up") {
    console.log(
      `\n${summary("up")} — namespaces ${namespaces.join(", ")} on ${kubectl(["config", "current-context"]).trim()}`,
    );
    process.exit(tally.failed === 0 ? 0 : 1);
  }

  await step("re-apply the same render: no changes", () => {
    const again = diff(first.dir);
    check("kubectl diff is empty", again === "", again.split("\n").slice(0, 8).join("\n"));
  });

  await step("one-line config change: fintech/backend-api replica floor 1 → 2", async () => {
    const changed = await renderObjects({
      "platform:services": { "fintech/backend-api": { replicas: { min: 2, max: 4 } } },
    });
    const text = diff(changed.dir);
    const touched = [...text.matchAll(/^\+\+\+ \S+\/([^/\s]+)\s/gm)].map((m) => m[1]);
    check(
      "the diff touches exactly the backend-api HPA",
      touched.length === 1 && /HorizontalPodAutoscaler.*backend-api/.test(touched[0] ?? ""),
      touched.join(", "),
    );
    check("and changes its minReplicas to 2", /^\+\s+minReplicas: 2$/m.test(text));
    apply(changed.dir);
    const hpa = JSON.parse(kubectl(["get", "hpa", "backend-api", "-n", "fintech", "-o", "json"])) as {
      spec: { minReplicas: number };
    };
    check("applied: live HPA minReplicas is 2", hpa.spec.minReplicas === 2);
    apply(first.dir);
  });

  await step("delete: nothing of ours left behind", () => {
    kubectl(["delete", "namespace", "--wait=true", ...namespaces]);
    const left = leftovers().join("\n");
    check("no labelled object remains", left === "", left.split("\n").slice(0, 5).join(", "));
  });

  console.log(`\n${summary("e2e")}`);
  process.exit(tally.failed === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  tally.failed++;
  console.log(`\n${summary("e2e")}`);
  process.exit(1);
});
