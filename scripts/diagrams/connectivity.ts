/**
 * The connectivity graph as Mermaid (GitHub renders it in pull requests): platforms as subgraphs
 * with their services and data services, the gateway, Prometheus and the external endpoints, and one
 * edge per pair of workloads the NetworkPolicy model allows to talk, labelled with the ports.
 *
 * Edges come from the model, not from the intent: a flow the policies deny is not drawn, and a flow
 * they allow but nobody intended would be. DNS (every pod reaches CoreDNS) and the one-shot Jobs
 * (migrations, bootstraps) are left out to keep the picture readable; the connectivity tests check them.
 */
import { type ConnectivityAnalysis } from "../../analysis/stack";
import { flowVerdict, type Pod } from "../../analysis/network-policy";
import { COREDNS } from "../../analysis/intent";

const nodeId = (id: string) => id.replace(/[^A-Za-z0-9]/g, "_");
const label = (id: string) => id.split("/").pop() ?? id;

export function connectivityDiagram(analysis: ConnectivityAnalysis): string {
  const { model, intent } = analysis;
  const shown = model.pods.filter((p) => p.kind !== "Job" && p.kind !== "CronJob" && p.id !== COREDNS.id);
  const edges = new Map<string, Set<string>>();
  const edge = (from: string, to: string, port: string) => {
    const key = `${nodeId(from)} -->|PORTS| ${nodeId(to)}`;
    edges.set(key, (edges.get(key) ?? new Set()).add(port));
  };
  for (const source of shown)
    for (const target of shown) {
      if (source === target) continue;
      for (const p of target.ports)
        if (flowVerdict(model, { pod: source }, { pod: target }, p.port, p.protocol).allowed)
          edge(source.id, target.id, String(p.port));
    }
  const externals = new Map<string, string>();
  const shownIds = new Set(shown.map((p) => p.id));
  for (const f of intent.intended) {
    if (!("external" in f.to) || !shownIds.has(f.from)) continue;
    const source = shown.find((p) => p.id === f.from) as Pod;
    if (!flowVerdict(model, { pod: source }, { external: f.to.external }, f.port, f.protocol).allowed)
      continue;
    const id = `external/${f.to.external.name}`;
    externals.set(nodeId(id), f.to.external.name);
    edge(f.from, id, String(f.port));
  }

  const lines = ["flowchart LR"];
  const byNamespace = new Map<string, Pod[]>();
  for (const p of shown) byNamespace.set(p.namespace, [...(byNamespace.get(p.namespace) ?? []), p]);
  for (const [namespace, pods] of [...byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  subgraph ${nodeId(`ns/${namespace}`)}["${namespace}"]`);
    for (const p of pods) lines.push(`    ${nodeId(p.id)}["${label(p.id)}"]`);
    lines.push("  end");
  }
  if (externals.size > 0) {
    lines.push(`  subgraph external["outside the cluster"]`);
    for (const [id, name] of [...externals].sort()) lines.push(`    ${id}(["${name}"])`);
    lines.push("  end");
  }
  for (const [key, ports] of [...edges].sort(([a], [b]) => a.localeCompare(b)))
    lines.push(`  ${key.replace("PORTS", [...ports].sort((a, b) => Number(a) - Number(b)).join(", "))}`);
  return `${lines.join("\n")}\n`;
}
