/**
 * Capacity model: does a stack fit, at its minimum and at its maximum?
 *
 * - Per namespace, the ResourceQuota must admit steady state at minimum replicas, plus the surge of
 *   the largest rollout (a Deployment's `maxSurge` pods, 25 % rounded up), plus every Job (bootstrap
 *   and migration Jobs may run together). At HPA maxima the same sum either fits or the quota caps
 *   the scale-out, which the report states.
 * - Per cluster, the node groups at their minimum size must hold the requests of every workload at
 *   minimum replicas, the system add-ons and one copy of each DaemonSet per node; at maximum size,
 *   HPA maxima plus the largest surge and the Jobs. Pod slots (the VPC CNI's per-instance limit)
 *   count like CPU and memory.
 *
 * Workload demand comes from two places that must agree (a test holds them equal): the plan (known
 * before anything is registered, so the program can refuse a stack that does not fit) and the
 * rendered objects (what the policy pack sees at preview).
 */
import {
  addTotals as add,
  scenarioTotals,
  zeroTotals as zero,
  formatCpu,
  formatMemory,
  type Amount,
  type Totals,
  type WorkloadDemand,
} from "../components/capacity";

export {
  amountsOf,
  namespaceFit,
  scenarioTotals,
  surgePods,
  formatCpu,
  formatMemory,
  type Amount,
  type NamespaceFit,
  type QuotaHard,
  type Totals,
  type WorkloadDemand,
} from "../components/capacity";

// ── Nodes ────────────────────────────────────────────────────────────────────────────────────────

/** EC2 instance types the model knows: vCPUs, memory and the VPC CNI's pod limit (ENIs × IPs − 1, + 2). */
export const INSTANCE_TYPES: Readonly<Record<string, { vcpu: number; memoryGiB: number; maxPods: number }>> =
  {
    "t3.medium": { vcpu: 2, memoryGiB: 4, maxPods: 17 },
    "t3.large": { vcpu: 2, memoryGiB: 8, maxPods: 35 },
    "m5.large": { vcpu: 2, memoryGiB: 8, maxPods: 29 },
    "m5.xlarge": { vcpu: 4, memoryGiB: 16, maxPods: 58 },
    "m5.2xlarge": { vcpu: 8, memoryGiB: 32, maxPods: 58 },
    "m6i.large": { vcpu: 2, memoryGiB: 8, maxPods: 29 },
    "m6i.xlarge": { vcpu: 4, memoryGiB: 16, maxPods: 58 },
    "r5.large": { vcpu: 2, memoryGiB: 16, maxPods: 29 },
    "r5.xlarge": { vcpu: 4, memoryGiB: 32, maxPods: 58 },
    "r6i.large": { vcpu: 2, memoryGiB: 16, maxPods: 29 },
  };

/**
 * What the kubelet can schedule on a node, by the EKS AMI's reservation formula: CPU 6 % of the first
 * core, 1 % of the second, 0.5 % of the next two, 0.25 % of the rest; memory 255 MiB + 11 MiB per pod
 * slot, plus the 100 MiB hard eviction threshold.
 */
export function allocatable(instanceType: string): (Amount & { pods: number }) | undefined {
  const t = INSTANCE_TYPES[instanceType];
  if (!t) return undefined;
  const cores = [0.06, 0.01, 0.005, 0.005];
  let reservedCpu = 0;
  for (let core = 0; core < t.vcpu; core++) reservedCpu += 1000 * (cores[core] ?? 0.0025);
  const reservedMemoryMi = 255 + 11 * t.maxPods + 100;
  return {
    cpu: t.vcpu * 1000 - Math.ceil(reservedCpu),
    memory: (t.memoryGiB * 1024 - reservedMemoryMi) * 2 ** 20,
    pods: t.maxPods,
  };
}

export interface NodeGroupSpec {
  name: string;
  instanceTypes: string[];
  minSize: number;
  maxSize: number;
  /** Node taints: a NoSchedule/NoExecute taint keeps every workload but the DaemonSets off the group. */
  taints?: { key: string; effect: string }[];
}

export interface ClusterFit {
  groups: {
    name: string;
    instanceType: string;
    minSize: number;
    maxSize: number;
    perNode: Amount & { pods: number };
  }[];
  /** Requested (workloads + add-ons + DaemonSets on every node) versus allocatable, at minimum and maximum size. */
  atMin: { requested: Totals; capacity: Amount & { pods: number } };
  atMax: { requested: Totals; capacity: Amount & { pods: number } };
  problems: string[];
  caps: string[];
}

/**
 * Node-group fit. A group with several instance types is counted at its smallest (the autoscaler may
 * pick any). Workloads carry no node selectors, so the groups' capacity is pooled; every pod must
 * also fit on one node of some group.
 */
export function clusterFit(
  workloads: readonly WorkloadDemand[],
  nodeGroups: readonly NodeGroupSpec[],
): ClusterFit {
  const problems: string[] = [];
  const groups: ClusterFit["groups"] = [];
  for (const g of nodeGroups) {
    const sizes = g.instanceTypes.map((t) => ({ t, a: allocatable(t) }));
    for (const s of sizes)
      if (!s.a)
        problems.push(
          `node group ${g.name}: instance type ${s.t} is not in the capacity model (analysis/capacity.ts INSTANCE_TYPES); add its vCPUs, memory and pod limit`,
        );
    const known = sizes.filter((s): s is { t: string; a: Amount & { pods: number } } => !!s.a);
    const smallest = known.sort((a, b) => a.a.cpu - b.a.cpu || a.a.memory - b.a.memory)[0];
    if (!smallest) continue;
    const tainted = (g.taints ?? []).some((t) => t.effect === "NoSchedule" || t.effect === "NoExecute");
    if (tainted)
      problems.push(
        `node group ${g.name}: tainted (${(g.taints ?? []).map((t) => t.key).join(", ")}) and no platform workload tolerates it, so its ${g.minSize} node(s) at minimum run only DaemonSets`,
      );
    else
      groups.push({
        name: g.name,
        instanceType: smallest.t,
        minSize: g.minSize,
        maxSize: g.maxSize,
        perNode: smallest.a,
      });
  }
  const capacity = (size: "minSize" | "maxSize") =>
    groups.reduce(
      (c, g) => ({
        cpu: c.cpu + g.perNode.cpu * g[size],
        memory: c.memory + g.perNode.memory * g[size],
        pods: c.pods + g.perNode.pods * g[size],
      }),
      { cpu: 0, memory: 0, pods: 0 },
    );
  const nodes = (size: "minSize" | "maxSize") => groups.reduce((n, g) => n + g[size], 0);
  const requested = (at: "min" | "max") => {
    const t = at === "min" ? steadyTotals(workloads) : scenarioTotals(workloads, "max");
    for (const ds of workloads.filter((w) => w.kind === "DaemonSet"))
      add(t, ds, nodes(at === "min" ? "minSize" : "maxSize"));
    return t;
  };
  const atMin = { requested: requested("min"), capacity: capacity("minSize") };
  const atMax = { requested: requested("max"), capacity: capacity("maxSize") };
  const over = (label: string, r: Totals, c: Amount & { pods: number }) => [
    ...(r.requests.cpu > c.cpu
      ? [`${label}: CPU requests ${formatCpu(r.requests.cpu)} > allocatable ${formatCpu(c.cpu)}`]
      : []),
    ...(r.requests.memory > c.memory
      ? [
          `${label}: memory requests ${formatMemory(r.requests.memory)} > allocatable ${formatMemory(c.memory)}`,
        ]
      : []),
    ...(r.pods > c.pods ? [`${label}: ${r.pods} pods > ${c.pods} pod slots`] : []),
  ];
  problems.push(...over("node groups at minimum size", atMin.requested, atMin.capacity));
  const biggestNode = groups.reduce(
    (b, g) => ({ cpu: Math.max(b.cpu, g.perNode.cpu), memory: Math.max(b.memory, g.perNode.memory) }),
    { cpu: 0, memory: 0 },
  );
  for (const w of workloads)
    if (groups.length > 0 && (w.requests.cpu > biggestNode.cpu || w.requests.memory > biggestNode.memory))
      problems.push(
        `${w.id}: one pod requests ${formatCpu(w.requests.cpu)} / ${formatMemory(w.requests.memory)}, more than any node offers`,
      );
  return {
    groups,
    atMin,
    atMax,
    problems,
    caps: over("HPA maxima at maximum node-group size", atMax.requested, atMax.capacity),
  };
}

/** Steady state at minimum replicas, without surge or Jobs (what the node groups must hold at rest). */
function steadyTotals(workloads: readonly WorkloadDemand[]): Totals {
  const t = zero();
  for (const w of workloads) if (w.kind !== "Job" && w.kind !== "DaemonSet") add(t, w, w.replicas.min);
  return t;
}
