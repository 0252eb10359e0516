/**
 * What the end-to-end scripts share: kubectl, a tally of named checks, and timed steps. Each check
 * prints one line; the script ends with the plain `N passed, N failed` line any CI can read.
 */
import { execFileSync, spawnSync } from "node:child_process";

export function kubectl(args: string[], input?: string): string {
  return execFileSync("kubectl", args, {
    encoding: "utf8",
    input,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** kubectl that may fail: its status and output, for checks that expect either. */
export function tryKubectl(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync("kubectl", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: (r.status === 0 ? r.stdout : r.stderr || r.stdout).trim() };
}

export const tally = { passed: 0, failed: 0 };

export function check(name: string, ok: boolean, detail = ""): boolean {
  if (ok) tally.passed++;
  else tally.failed++;
  console.log(`  ${ok ? "ok  " : "FAIL"} ${name}${detail ? ` — ${detail}` : ""}`);
  return ok;
}

export async function step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  console.log(`\n==> ${name}`);
  try {
    return await fn();
  } finally {
    console.log(`    (${seconds(Date.now() - started)} s)`);
  }
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** The closing line: `<label>: N passed, N failed`. */
export function summary(label: string): string {
  return `${label}: ${tally.passed} passed, ${tally.failed} failed`;
}

/**
 * Waits until every Deployment and StatefulSet is available and every Job complete, checking each:
 * what `kubectl apply` leaves to the caller and the Pulumi engine does by itself.
 */
export function checkWorkloadsReady(objects: readonly KubeObject[], timeoutSeconds = 180): void {
  for (const w of objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet")) {
    const r = tryKubectl([
      "rollout",
      "status",
      `${w.kind.toLowerCase()}/${w.metadata.name}`,
      "-n",
      w.metadata.namespace ?? "",
      `--timeout=${timeoutSeconds}s`,
    ]);
    check(
      `${w.kind} ${w.metadata.namespace}/${w.metadata.name} available`,
      r.ok,
      r.ok ? "" : r.out.split("\n").pop(),
    );
  }
  for (const j of objects.filter((o) => o.kind === "Job")) {
    const r = tryKubectl([
      "wait",
      "--for=condition=complete",
      `job/${j.metadata.name}`,
      "-n",
      j.metadata.namespace ?? "",
      `--timeout=${timeoutSeconds}s`,
    ]);
    check(`Job ${j.metadata.namespace}/${j.metadata.name} complete`, r.ok, r.ok ? "" : r.out);
  }
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}

/** Objects of ours (labelled managed-by=pulumi) still in the cluster, as kind/name. */
export function leftovers(): string[] {
  return kubectl([
    "get",
    "all,secrets,configmaps,networkpolicies,pdb,hpa,pvc,serviceaccounts,resourcequotas,limitranges",
    "-A",
    "-l",
    "app.kubernetes.io/managed-by=pulumi",
    "-o",
    "name",
  ])
    .split("\n")
    .filter(Boolean);
}
