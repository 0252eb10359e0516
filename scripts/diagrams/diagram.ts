/**
 * A diagram as plain data (nodes in optional groups, directed edges), independent of how it is drawn.
 * Builders in this folder make one from a rendered inventory; `mermaid.ts` draws it; `diff.ts` merges
 * two of them and marks what changed.
 */

export type NodeShape = "box" | "store" | "job" | "gateway" | "route";
export type ChangeStatus = "same" | "added" | "removed" | "changed";

export interface DiagramNode {
  /** Stable across commits for the same thing (derived from names, never from ids or order). */
  id: string;
  label: string;
  shape: NodeShape;
  /** Group (drawn as a subgraph) the node sits in, if any. */
  group?: string;
  /** URNs of the resources the node stands for (what "changed" is judged on). */
  members: string[];
  status?: ChangeStatus;
}

export interface DiagramEdge {
  from: string;
  to: string;
  label?: string;
  status?: ChangeStatus;
}

export interface Diagram {
  title: string;
  /** Mermaid flowchart direction: left to right or top down. */
  direction: "LR" | "TD";
  groups: { id: string; label: string }[];
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

export function edgeKey(e: Pick<DiagramEdge, "from" | "to">): string {
  return `${e.from}\u0000${e.to}`;
}

/** Sorted nodes, edges and groups, so the same graph always draws as the same text. */
export function normalized(d: Diagram): Diagram {
  return {
    ...d,
    groups: [...d.groups].sort((a, b) => a.id.localeCompare(b.id)),
    nodes: [...d.nodes]
      .map((n) => ({ ...n, members: [...n.members].sort() }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    edges: [...d.edges].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
  };
}

/**
 * Drops every edge u→v that another path from u to v already implies, so a start-order picture shows
 * "order waits for payment", not also every earlier step payment itself waits for.
 */
export function transitiveReduction(nodes: readonly string[], edges: readonly DiagramEdge[]): DiagramEdge[] {
  const out = new Map<string, Set<string>>(nodes.map((n) => [n, new Set<string>()]));
  for (const e of edges) out.get(e.from)?.add(e.to);
  const reachableAvoidingDirect = (from: string, to: string): boolean => {
    const stack = [...(out.get(from) ?? [])].filter((n) => n !== to);
    const seen = new Set(stack);
    while (stack.length) {
      const n = stack.pop() as string;
      if (n === to) return true;
      for (const m of out.get(n) ?? []) {
        if (seen.has(m)) continue;
        seen.add(m);
        stack.push(m);
      }
    }
    return false;
  };
  return edges.filter((e) => !reachableAvoidingDirect(e.from, e.to));
}
