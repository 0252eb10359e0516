/**
 * Namespace capacity: does what is placed in a namespace fit its ResourceQuota at minimum replicas,
 * plus the largest rollout's surge, plus every Job? The one model both the program's plan and the
 * components' own cross-component check (components/platform-scope.ts) use; analysis/capacity.ts
 * adds the node model on top.
 */
import { cpuMillis, memoryBytes, type ContainerResources } from "./lib";

/** CPU in millicores, memory in bytes. */
export interface Amount {
  cpu: number;
  memory: number;
}

export interface WorkloadDemand {
  /** `<namespace>/<name>`. */
  id: string;
  namespace: string;
  kind: "Deployment" | "StatefulSet" | "Job" | "DaemonSet" | "addon";
  /** Per pod, summed over its containers. */
  requests: Amount;
  limits: Amount;
  replicas: { min: number; max: number };
  /** Extra pods a rolling update starts, at minimum and at maximum replicas. */
  surge: { min: number; max: number };
}

export interface QuotaHard {
  requests: Amount;
  limits: Amount;
  pods: number;
}

/** Totals of one scenario (at minimum or at maximum). */
export interface Totals {
  requests: Amount;
  limits: Amount;
  pods: number;
}

export interface NamespaceFit {
  namespace: string;
  quota: QuotaHard;
  atMin: Totals;
  atMax: Totals;
  /** Problems at minimum (the stack must not deploy). */
  problems: string[];
  /** What the quota caps at HPA maxima (stated, not an error). */
  caps: string[];
}

/** Surge pods of a Deployment rollout: `maxSurge` as a count or a percentage of replicas, rounded up. */
export function surgePods(maxSurge: string | number | undefined, replicas: number): number {
  const value = maxSurge ?? "25%";
  if (typeof value === "number") return value;
  const percent = /^([0-9]+)%$/.exec(value);
  return percent ? Math.ceil((replicas * Number(percent[1])) / 100) : Number(value) || 0;
}

/** A container resources block as an Amount pair. */
export function amountsOf(r: ContainerResources): { requests: Amount; limits: Amount } {
  return {
    requests: { cpu: cpuMillis(r.requests.cpu), memory: memoryBytes(r.requests.memory) },
    limits: { cpu: cpuMillis(r.limits.cpu), memory: memoryBytes(r.limits.memory) },
  };
}

export const zeroTotals = (): Totals => ({
  requests: { cpu: 0, memory: 0 },
  limits: { cpu: 0, memory: 0 },
  pods: 0,
});
export function addTotals(t: Totals, w: Pick<WorkloadDemand, "requests" | "limits">, pods: number): void {
  t.requests.cpu += w.requests.cpu * pods;
  t.requests.memory += w.requests.memory * pods;
  t.limits.cpu += w.limits.cpu * pods;
  t.limits.memory += w.limits.memory * pods;
  t.pods += pods;
}

/** Steady state at `at` replicas, plus the largest rollout's surge, plus every Job. */
export function scenarioTotals(workloads: readonly WorkloadDemand[], at: "min" | "max"): Totals {
  const total = zeroTotals();
  let largestSurge: Totals = zeroTotals();
  for (const w of workloads) {
    if (w.kind === "DaemonSet") continue;
    addTotals(total, w, w.kind === "Job" ? 1 : w.replicas[at]);
    const surge = zeroTotals();
    addTotals(surge, w, w.surge[at]);
    // One rollout at a time is budgeted: the largest surge (by CPU, then memory) counts.
    if (
      surge.requests.cpu > largestSurge.requests.cpu ||
      (surge.requests.cpu === largestSurge.requests.cpu &&
        surge.requests.memory > largestSurge.requests.memory)
    )
      largestSurge = surge;
  }
  return {
    requests: {
      cpu: total.requests.cpu + largestSurge.requests.cpu,
      memory: total.requests.memory + largestSurge.requests.memory,
    },
    limits: {
      cpu: total.limits.cpu + largestSurge.limits.cpu,
      memory: total.limits.memory + largestSurge.limits.memory,
    },
    pods: total.pods + largestSurge.pods,
  };
}

/** Whether `t` fits `quota`, as one problem per exceeded dimension. */
function exceeded(t: Totals, quota: QuotaHard): string[] {
  const out: string[] = [];
  const check = (what: string, used: number, hard: number, format: (n: number) => string) => {
    if (used > hard) out.push(`${what} ${format(used)} > quota ${format(hard)}`);
  };
  check("requests.cpu", t.requests.cpu, quota.requests.cpu, formatCpu);
  check("requests.memory", t.requests.memory, quota.requests.memory, formatMemory);
  check("limits.cpu", t.limits.cpu, quota.limits.cpu, formatCpu);
  check("limits.memory", t.limits.memory, quota.limits.memory, formatMemory);
  check("pods", t.pods, quota.pods, String);
  return out;
}

export function namespaceFit(
  namespace: string,
  workloads: readonly WorkloadDemand[],
  quota: QuotaHard,
): NamespaceFit {
  const own = workloads.filter((w) => w.namespace === namespace);
  const atMin = scenarioTotals(own, "min");
  const atMax = scenarioTotals(own, "max");
  return {
    namespace,
    quota,
    atMin,
    atMax,
    problems: exceeded(atMin, quota).map(
      (p) => `namespace ${namespace}: minimum replicas + largest rollout surge + Jobs need ${p}`,
    ),
    caps: exceeded(atMax, quota).map((p) => `namespace ${namespace}: HPA maxima capped by the quota (${p})`),
  };
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? `${millis / 1000}` : `${Math.round(millis)}m`;
}
export function formatMemory(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)}Gi`;
}
