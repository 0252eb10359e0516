/**
 * Merges a base and a head diagram into one picture of the change: nodes and edges only in the head are
 * "added", only in the base "removed", and a node present in both is "changed" when any resource it
 * stands for changed between the two inventories (inputs, dependencies, or which resources it holds).
 */
import { edgeKey, normalized, type ChangeStatus, type Diagram, type DiagramNode } from "./diagram";

/** A resource's recorded form, compared as JSON between two inventories. */
export interface Fingerprinted {
  urn: string;
}

/** URNs whose inventory entry differs between base and head (including URNs only on one side). */
export function changedUrns(base: readonly Fingerprinted[], head: readonly Fingerprinted[]): Set<string> {
  const before = new Map(base.map((r) => [r.urn, JSON.stringify(r)]));
  const after = new Map(head.map((r) => [r.urn, JSON.stringify(r)]));
  const changed = new Set<string>();
  for (const urn of new Set([...before.keys(), ...after.keys()]))
    if (before.get(urn) !== after.get(urn)) changed.add(urn);
  return changed;
}

export interface DiagramDiff {
  diagram: Diagram;
  /** Whether anything in the picture differs; unchanged pictures are left out of the review. */
  changed: boolean;
}

export function diffDiagrams(base: Diagram, head: Diagram, changed: ReadonlySet<string>): DiagramDiff {
  const baseNodes = new Map(base.nodes.map((n) => [n.id, n]));
  const headNodes = new Map(head.nodes.map((n) => [n.id, n]));
  const nodes: DiagramNode[] = [];
  for (const n of head.nodes) {
    const before = baseNodes.get(n.id);
    const status: ChangeStatus = !before
      ? "added"
      : n.label !== before.label ||
          n.members.some((u) => changed.has(u)) ||
          before.members.some((u) => changed.has(u))
        ? "changed"
        : "same";
    nodes.push({ ...n, status });
  }
  for (const n of base.nodes) if (!headNodes.has(n.id)) nodes.push({ ...n, status: "removed" });

  const baseEdges = new Map(base.edges.map((e) => [edgeKey(e), e]));
  const headEdges = new Set(head.edges.map(edgeKey));
  const edges = [
    ...head.edges.map((e) => {
      const before = baseEdges.get(edgeKey(e));
      const status: ChangeStatus = !before ? "added" : before.label !== e.label ? "changed" : "same";
      return { ...e, status };
    }),
    ...base.edges
      .filter((e) => !headEdges.has(edgeKey(e)))
      .map((e) => ({ ...e, status: "removed" as const })),
  ];
  const groups = new Map([...base.groups, ...head.groups].map((g) => [g.id, g]));
  const diagram = normalized({ ...head, groups: [...groups.values()], nodes, edges });
  return {
    diagram,
    changed: nodes.some((n) => n.status !== "same") || edges.some((e) => e.status !== "same"),
  };
}
