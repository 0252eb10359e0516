/**
 * What the render adds from the analyses (analysis/): the route table, capacity (requested versus
 * capacity at minimum and at maximum), the connectivity verdict, and the connectivity graph.
 * Deterministic: everything is sorted.
 */
import { formatCpu, formatMemory, type Totals } from "../analysis/capacity";
import { type KubernetesObject } from "../analysis/cluster-model";
import { formatRouteTable, routeConflicts, routeTable } from "../analysis/routes";
import { analyseCapacity, analyseConnectivity } from "../analysis/stack";
import { type PlatformSettings } from "../config/settings";
import { connectivityDiagram } from "./diagrams/connectivity";

const GRAPH_NOTE = [
  "Edges are the flows the NetworkPolicy model allows between workloads (DNS and one-shot Jobs left out).",
  "AWS-managed data services share the VPC's private subnets, which NetworkPolicy addresses only as a",
  "range: a consumer admitted to an engine's port there reaches every instance of that engine; per-consumer",
  "credentials and the security groups keep the catalogs apart.",
].join("\n");

export interface StackReport {
  /** Lines appended to summary.txt. */
  summary: string[];
  /** Extra files of the render (relative path → content). */
  files: Map<string, string>;
}

const amount = (t: Totals) =>
  `CPU ${formatCpu(t.requests.cpu)}, memory ${formatMemory(t.requests.memory)}, ${t.pods} pods`;

export function stackReport(settings: PlatformSettings, objects: readonly KubernetesObject[]): StackReport {
  const connectivity = analyseConnectivity(settings, objects);
  const capacity = analyseCapacity(settings, connectivity.plans);
  const routes = routeTable(objects);
  const { report, intent } = connectivity;
  const summary: string[] = [
    "",
    "Routes (one hostname per platform; every listener + hostname + match claimed once):",
  ];
  summary.push(
    ...(routes.length > 0
      ? formatRouteTable(routes).map((l) => `  ${l}`)
      : ["  none (no gateway in this stack)"]),
  );
  for (const c of routeConflicts(routes)) summary.push(`  CONFLICT: ${c}`);

  summary.push(
    "",
    "Capacity (requests; at minimum = min replicas + largest rollout surge + Jobs, at maximum = HPA maxima):",
  );
  for (const n of capacity.namespaces) {
    const q = n.quota;
    const quota = `quota CPU ${formatCpu(q.requests.cpu)}, memory ${formatMemory(q.requests.memory)}, ${q.pods} pods`;
    summary.push(
      `  namespace ${n.namespace}: at minimum ${amount(n.atMin)}; at maximum ${amount(n.atMax)}; ${quota}`,
    );
  }
  const cluster = capacity.cluster;
  if (cluster) {
    for (const g of cluster.groups)
      summary.push(
        `  node group ${g.name}: ${g.minSize}-${g.maxSize} × ${g.instanceType} (allocatable ${formatCpu(g.perNode.cpu)} CPU, ${formatMemory(g.perNode.memory)}, ${g.perNode.pods} pods each)`,
      );
    const cap = (c: { cpu: number; memory: number; pods: number }) =>
      `CPU ${formatCpu(c.cpu)}, memory ${formatMemory(c.memory)}, ${c.pods} pods`;
    summary.push(
      `  cluster at minimum size: requested ${amount(cluster.atMin.requested)} of ${cap(cluster.atMin.capacity)} (workloads at min replicas + add-ons + DaemonSets)`,
      `  cluster at maximum size: requested ${amount(cluster.atMax.requested)} of ${cap(cluster.atMax.capacity)} (HPA maxima + largest surge + Jobs)`,
    );
  } else summary.push("  nodes: an existing cluster (its node capacity is not managed by this program)");
  for (const p of capacity.problems) summary.push(`  DOES NOT FIT: ${p}`);
  for (const c of capacity.caps) summary.push(`  cap: ${c}`);

  summary.push(
    "",
    `Connectivity: ${intent.intended.length} intended flows, ${report.blocked.length} blocked; ${intent.mustNot.length} must-not rules, ${report.leaks.length} leaks; graph in connectivity.md`,
    ...report.blocked.map((b) => `  BLOCKED: ${b}`),
    ...report.leaks.map((l) => `  LEAK: ${l}`),
    ...report.missingPods.map((m) => `  MISSING: ${m}`),
    ...report.noService.map((m) => `  NO SERVICE: ${m}`),
  );
  const files = new Map([
    [
      "connectivity.md",
      `# Connectivity: ${settings.stack}\n\n${GRAPH_NOTE}\n\n\`\`\`mermaid\n${connectivityDiagram(connectivity)}\`\`\`\n`,
    ],
  ]);
  return { summary, files };
}
