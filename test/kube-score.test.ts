/**
 * kube-score reads the rendered manifests the way kubectl does (YAML 1.1): it must parse every file of
 * the staging and production renders (before the render quoted `no`, it refused them), score every
 * workload, and find nothing critical in the checks that state what this platform promises (probes,
 * requests and limits, pod security, network policies, disruption budgets, selectors). kube-score is
 * built from its Go module by scripts/install-kube-score.sh; without it this file fails and says so.
 */
import { ADD_ON_POLICY_COMPONENT } from "../components/addon-network";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { renderRun } from "../scripts/render-lib";
import { REPO_ROOT, runStack } from "./harness";

/** Checks whose subject the platform guarantees by construction; kube-score's grade 1 is "critical". */
const PROMISED_CHECKS = [
  "pod-probes",
  "container-resources",
  "container-security-context-privileged",
  "container-security-context-readonlyrootfilesystem",
  "container-seccomp-profile",
  "pod-networkpolicy",
  "networkpolicy-targets-pod",
  "deployment-has-poddisruptionbudget",
  "deployment-strategy",
  "deployment-pod-selector-labels-match-template-metadata-labels",
  "statefulset-pod-selector-labels-match-template-metadata-labels",
  "service-targets-pod",
  "horizontalpodautoscaler-has-target",
  "stable-version",
  "label-values",
  "container-image-tag",
];
const CRITICAL = 1;

interface ScoredObject {
  object_name: string;
  type_meta: { kind: string };
  checks: {
    check: { id: string };
    grade: number;
    skipped: boolean;
    comments?: { summary?: string }[] | null;
  }[];
}

let kubeScore = "";

beforeAll(() => {
  const install = spawnSync("bash", [path.join(REPO_ROOT, "scripts/install-kube-score.sh")], {
    encoding: "utf8",
  });
  if (install.status !== 0)
    throw new Error(
      `kube-score is not installed and could not be built (scripts/install-kube-score.sh):\n${install.stderr}`,
    );
  kubeScore = install.stdout.trim();
}, 600_000);

describe.each(["staging", "production"] as const)("kube-score on the %s render", (stack) => {
  it("parses every file, scores every workload, and finds nothing critical in the promised checks", async () => {
    const { files } = renderRun(stack, await runStack(stack));
    const dir = mkdtempSync(path.join(tmpdir(), `kube-score-${stack}-`));
    const manifests: string[] = [];
    const workloads: string[] = [];
    // Policies for CloudNativePG instances select pods the operator makes, which no manifest holds.
    const operatorPodPolicies = new Set<string>();
    for (const [file, content] of files) {
      if (!file.startsWith("manifests/")) continue;
      const target = path.join(dir, file);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, content);
      manifests.push(target);
      for (const doc of parseAllDocuments(content)) {
        const o = doc.toJS() as {
          kind: string;
          metadata: { name: string; namespace?: string; labels?: Record<string, string> };
        };
        if (["Deployment", "StatefulSet", "Job"].includes(o.kind))
          workloads.push(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
        if (o.kind === "Cluster") operatorPodPolicies.add(`${o.metadata.namespace}/${o.metadata.name}`);
        // The add-on namespaces' policies select the charts' pods, which only the Helm releases make.
        if (
          o.kind === "NetworkPolicy" &&
          o.metadata.labels?.["app.kubernetes.io/component"] === ADD_ON_POLICY_COMPONENT
        )
          operatorPodPolicies.add(`${o.metadata.namespace}/${o.metadata.name}`);
      }
    }
    const run = spawnSync(kubeScore, ["score", "--output-format", "json", ...manifests.sort()], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    // 0: nothing critical anywhere; 1: some check graded critical. Anything else is a failure to run or parse.
    expect(run.stderr + run.stdout).not.toMatch(/failed to parse/i);
    expect([0, 1], run.stderr).toContain(run.status);
    const scored = JSON.parse(run.stdout) as ScoredObject[];
    const names = new Set(
      scored.map((o) => `${o.type_meta.kind}/${o.object_name.split("/").slice(-2).join("/")}`),
    );
    expect(workloads.length).toBeGreaterThan(10);
    for (const w of workloads) expect(names.has(w), `${w} scored`).toBe(true);
    const broken = scored.flatMap((o) =>
      o.checks
        .filter((c) => PROMISED_CHECKS.includes(c.check.id) && !c.skipped && c.grade === CRITICAL)
        .filter(
          (c) =>
            !(
              c.check.id === "networkpolicy-targets-pod" &&
              o.type_meta.kind === "NetworkPolicy" &&
              operatorPodPolicies.has(o.object_name.split("/").slice(-2).join("/"))
            ),
        )
        .map((c) => `${o.object_name} ${c.check.id}: ${(c.comments ?? []).map((x) => x.summary).join("; ")}`),
    );
    expect(broken).toEqual([]);
  });
});
