/**
 * The review section of a pull request comment, from two renders (base and head): per stack, the
 * monthly cost before and after with the line items that changed, the images whose digest changed
 * (old, new, and the workloads that roll), the images that came or went (with their pinning and publisher), and each platform picture whose graph changed, changed nodes marked,
 * followed by the same change as text.
 *
 * Everything is recomputed from the two `inventory.json` files with this (the head's) code and one
 * price table, so a base rendered before these views existed is reviewed the same way.
 */
import { costReport, type CostReport } from "./cost/model";
import { costDelta } from "./cost/diff";
import { dollars, signedDollars } from "./cost/format";
import type { PriceTable } from "./cost/prices";
import type { Diagram } from "./diagrams/diagram";
import { changedUrns, diffDiagrams } from "./diagrams/diff";
import { toMermaid } from "./diagrams/mermaid";
import { startOrderDiagram, topologyDiagram, type InventoryResource } from "./diagrams/platform";
import { imageUses, type ImageUse } from "./images";

export interface StackRenders {
  stack: string;
  /** Undefined when the stack did not exist (or did not render) on that side. */
  base?: readonly InventoryResource[];
  head?: readonly InventoryResource[];
  region?: string;
}

const PICTURES: { title: string; build: (inventory: readonly InventoryResource[]) => Diagram }[] = [
  { title: "Start order", build: startOrderDiagram },
  { title: "Topology", build: topologyDiagram },
];

export interface ReviewOptions {
  /**
   * Longest review in characters; above it the pictures are left out (their text diff stays), so the
   * comment keeps within GitHub's limit with the manifest diffs after it.
   * @default 30000
   */
  maxChars?: number;
}

export function reviewMarkdown(
  stacks: readonly StackRenders[],
  prices: PriceTable,
  options: ReviewOptions = {},
): string {
  const full = review(stacks, prices, true);
  if (full.length <= (options.maxChars ?? 30_000)) return full;
  return review(stacks, prices, false).replace(
    "\n\n",
    "\n\n_Pictures left out to keep the comment within GitHub's size limit: each stack's `diagrams/` in the render artifact has them._\n\n",
  );
}

function review(stacks: readonly StackRenders[], prices: PriceTable, pictures: boolean): string {
  const lines = ["## Cost, images and pictures", ""];
  lines.push(
    `Monthly estimate from the sizes each commit renders, both priced with the head's table (${prices.region}, ${prices.currency}, dated ${prices.date}; assumptions in each stack's \`cost.md\`).`,
    "",
    "| stack | before | after | change |",
    "|---|---:|---:|---:|",
  );
  const reports = stacks.map((s) => ({
    s,
    before: costReport(s.stack, s.base ?? [], prices, s.region),
    after: costReport(s.stack, s.head ?? [], prices, s.region),
  }));
  for (const { s, before, after } of reports)
    lines.push(
      `| ${s.stack} | ${dollars(before.totalCents)} | ${dollars(after.totalCents)} | ${signedDollars(after.totalCents - before.totalCents)} |`,
    );
  lines.push("");
  for (const { s, before, after } of reports) {
    const section = [
      ...costSection(before, after),
      ...digestSection(imageUses(s.base ?? []), imageUses(s.head ?? [])),
      ...imageSection(imageUses(s.base ?? []), imageUses(s.head ?? [])),
      ...pictureSection(s, pictures),
    ];
    if (section.length) lines.push(`### ${s.stack}: cost, images, pictures`, "", ...section);
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

function costSection(before: CostReport, after: CostReport): string[] {
  const delta = costDelta(before, after);
  if (delta.changes.length === 0) return [];
  return [
    `**Monthly cost** ${dollars(delta.beforeCents)} → ${dollars(delta.afterCents)} USD (${signedDollars(delta.afterCents - delta.beforeCents)})`,
    "",
    "| component | resource | item | before | after | change |",
    "|---|---|---|---:|---:|---:|",
    ...delta.changes.map(
      (c) =>
        `| ${c.component} | ${c.resource} | ${c.item} | ${dollars(c.beforeCents)} | ${dollars(c.afterCents)} | ${signedDollars(c.afterCents - c.beforeCents)} |`,
    ),
    "",
  ];
}

/** `repo:tag` of a reference, without its digest. */
const tagRef = (image: string): string => image.split("@")[0] ?? image;
const digestOf = (image: string): string | undefined => image.split("@")[1];

export interface DigestChange {
  /** The image as the stack names it (`repo:tag`). */
  image: string;
  /** Digest before, undefined when it ran by tag only. */
  old?: string;
  new?: string;
  /** What runs it after the change: the workloads that roll. */
  usedBy: string[];
}

/** Images named by the same tag on both sides whose digest changed (a re-lock, a first pin, an unpin). */
export function digestChanges(before: readonly ImageUse[], after: readonly ImageUse[]): DigestChange[] {
  const old = new Map(before.map((u) => [tagRef(u.image), u]));
  return after.flatMap((u) => {
    const was = old.get(tagRef(u.image));
    if (!was || was.image === u.image) return [];
    const o = digestOf(was.image);
    const n = digestOf(u.image);
    return [{ image: tagRef(u.image), ...(o ? { old: o } : {}), ...(n ? { new: n } : {}), usedBy: u.usedBy }];
  });
}

function digestSection(before: readonly ImageUse[], after: readonly ImageUse[]): string[] {
  const changes = digestChanges(before, after);
  if (changes.length === 0) return [];
  const cell = (d: string | undefined) => (d ? `\`${d}\`` : "tag only");
  return [
    "**Image digests** (the workloads listed roll)",
    "",
    "| image | old digest | new digest | workloads that roll |",
    "|---|---|---|---|",
    ...changes.map((c) => `| \`${c.image}\` | ${cell(c.old)} | ${cell(c.new)} | ${c.usedBy.join("<br>")} |`),
    "",
  ];
}

function imageSection(before: readonly ImageUse[], after: readonly ImageUse[]): string[] {
  const had = new Set(before.map((u) => tagRef(u.image)));
  const has = new Set(after.map((u) => tagRef(u.image)));
  const added = after.filter((u) => !had.has(tagRef(u.image)));
  const removed = before.filter((u) => !has.has(tagRef(u.image)));
  if (added.length === 0 && removed.length === 0) return [];
  const flags = (u: ImageUse) =>
    [u.pinned ? "pinned by digest" : "**tag only**", u.vetted ? "" : `**unvetted namespace ${u.namespace}**`]
      .filter(Boolean)
      .join(", ");
  return [
    "**Images**",
    "",
    ...added.map((u) => `- added \`${u.image}\` (${u.registry}; ${flags(u)})`),
    ...removed.map((u) => `- removed \`${u.image}\``),
    "",
  ];
}

function pictureSection(s: StackRenders, drawn: boolean): string[] {
  const changed = changedUrns(s.base ?? [], s.head ?? []);
  const lines: string[] = [];
  for (const picture of PICTURES) {
    const diff = diffDiagrams(picture.build(s.base ?? []), picture.build(s.head ?? []), changed);
    if (!diff.changed) continue;
    lines.push(
      `<details><summary>${picture.title}: ${changeCounts(diff.diagram)}</summary>`,
      "",
      ...(drawn ? ["```mermaid", toMermaid(diff.diagram).trimEnd(), "```", ""] : []),
      ...textDiff(diff.diagram),
      "</details>",
      "",
    );
  }
  return lines;
}

function changeCounts(d: Diagram): string {
  const count = (status: string) => d.nodes.filter((n) => n.status === status).length;
  const edges = d.edges.filter((e) => e.status === "added" || e.status === "removed").length;
  return `${count("added")} added, ${count("changed")} changed, ${count("removed")} removed, ${edges} arrows added or removed`;
}

/** The picture's change in words, for readers (and screen readers) who do not see the diagram. */
function textDiff(d: Diagram): string[] {
  const label = new Map(d.nodes.map((n) => [n.id, n.label]));
  const lines = [
    ...d.nodes.filter((n) => n.status && n.status !== "same").map((n) => `- ${n.status} ${n.label}`),
    ...d.edges
      .filter((e) => e.status && e.status !== "same")
      .map(
        (e) =>
          `- arrow ${e.status}: ${label.get(e.from) ?? e.from} → ${label.get(e.to) ?? e.to}${e.label ? ` (${e.label})` : ""}`,
      ),
  ];
  return lines.length ? [...lines, ""] : [];
}
