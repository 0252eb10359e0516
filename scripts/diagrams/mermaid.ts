/**
 * Draws a Diagram as a Mermaid flowchart (GitHub renders ```mermaid blocks inline in comments and
 * Markdown). Node ids are derived from the diagram's ids, so the same graph is the same text. Change
 * marks: added nodes green, removed nodes red and dashed, changed nodes amber with a thick border;
 * added edges thick (`==>`), removed edges dotted (`-.->`).
 */
import type { ChangeStatus, Diagram, DiagramEdge, DiagramNode, NodeShape } from "./diagram";

const SHAPES: Record<NodeShape, [string, string]> = {
  box: ["[", "]"],
  store: ["[(", ")]"],
  job: ["[/", "/]"],
  gateway: ["{{", "}}"],
  route: [">", "]"],
};

const CLASS_DEFS: Record<Exclude<ChangeStatus, "same">, string> = {
  added: "fill:#dafbe1,stroke:#1a7f37,stroke-width:2px",
  removed: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5",
  changed: "fill:#fff8c5,stroke:#9a6700,stroke-width:4px",
};

const ARROWS: Record<ChangeStatus, string> = { same: "-->", changed: "-->", added: "==>", removed: "-.->" };

/**
 * A short Mermaid-safe identifier for a diagram id: a 32-bit FNV-1a hash, stable across runs. Short,
 * because the pictures travel in size-limited PR comments; the label carries the meaning.
 */
export function mermaidId(id: string): string {
  let hash = 0x811c9dc5;
  for (const ch of id) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `n${hash.toString(16).padStart(8, "0")}`;
}

/** Text inside a quoted Mermaid label: quotes and markup characters as entities. */
export function mermaidText(text: string): string {
  return text.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

export function toMermaid(d: Diagram): string {
  assertDistinctIds(d);
  const lines = [`flowchart ${d.direction}`];
  for (const g of d.groups) {
    const members = d.nodes.filter((n) => n.group === g.id);
    if (members.length === 0) continue;
    lines.push(`  subgraph ${mermaidId(`group ${g.id}`)}["${mermaidText(g.label)}"]`);
    for (const n of members) lines.push(`    ${nodeLine(n)}`);
    lines.push("  end");
  }
  for (const n of d.nodes.filter((x) => !x.group || !d.groups.some((g) => g.id === x.group)))
    lines.push(`  ${nodeLine(n)}`);
  for (const e of d.edges) lines.push(`  ${edgeLine(e)}`);
  const marked = (Object.keys(CLASS_DEFS) as (keyof typeof CLASS_DEFS)[]).filter((s) =>
    d.nodes.some((n) => n.status === s),
  );
  for (const status of marked) {
    lines.push(`  classDef ${status} ${CLASS_DEFS[status]}`);
    const ids = d.nodes.filter((n) => n.status === status).map((n) => mermaidId(n.id));
    lines.push(`  class ${ids.join(",")} ${status}`);
  }
  return `${lines.join("\n")}\n`;
}

function nodeLine(n: DiagramNode): string {
  const [open, close] = SHAPES[n.shape];
  const mark = n.status && n.status !== "same" ? ` (${n.status})` : "";
  return `${mermaidId(n.id)}${open}"${mermaidText(n.label + mark)}"${close}`;
}

function edgeLine(e: DiagramEdge): string {
  const arrow = ARROWS[e.status ?? "same"];
  const label = e.label ? `|"${mermaidText(e.label)}"|` : "";
  return `${mermaidId(e.from)} ${arrow}${label} ${mermaidId(e.to)}`;
}

function assertDistinctIds(d: Diagram): void {
  const seen = new Map<string, string>();
  for (const id of [...d.nodes.map((n) => n.id), ...d.groups.map((g) => `group ${g.id}`)]) {
    const short = mermaidId(id);
    const other = seen.get(short);
    if (other !== undefined && other !== id)
      throw new Error(`diagram ids "${other}" and "${id}" hash to the same Mermaid id ${short}`);
    seen.set(short, id);
  }
}
