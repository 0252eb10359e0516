/**
 * The cost report as Markdown: per component, then every line item, then the assumptions and what is
 * not priced. The render writes it as `cost.md`, so a stack's cost diffs like its manifests.
 */
import { componentTotals, formatNumber, NOT_MODELLED, type CostReport, type LineItem } from "./model";

/** Cents as a dollar figure with thousands separators: 123456 → "1,234.56". */
export function dollars(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${whole}.${String(abs % 100).padStart(2, "0")}`;
}

/** A signed difference: "+12.30", "-4.00", "0.00". */
export function signedDollars(cents: number): string {
  return cents > 0 ? `+${dollars(cents)}` : dollars(cents);
}

export function priceBasis(report: CostReport): string {
  const p = report.prices;
  return `Prices: ${p.region}, ${p.currency}, table dated ${p.date} (scripts/cost/prices.${p.region}.json or a --prices override).`;
}

export function lineItemRow(i: LineItem): string {
  return `| ${i.component} | ${i.resource} | ${i.item} | ${formatNumber(i.quantity)} ${i.unit} | ${i.unitPrice} | ${dollars(i.monthlyCents)} |`;
}

export const LINE_ITEM_HEADER =
  "| component | resource | item | quantity | unit price | monthly |\n|---|---|---|---:|---:|---:|";

export function costMarkdown(report: CostReport): string {
  const lines = [`# Monthly cost estimate: ${report.stack}`, "", priceBasis(report), ""];
  if (report.items.length === 0 && report.unpriced.length === 0) {
    lines.push(
      "No billed cloud resources: this stack runs on an existing cluster with in-cluster data services.",
      "",
    );
  } else {
    lines.push("| component | monthly (USD) |", "|---|---:|");
    for (const c of componentTotals(report)) lines.push(`| ${c.component} | ${dollars(c.monthlyCents)} |`);
    lines.push(
      `| **total** | **${dollars(report.totalCents)}** |`,
      "",
      "## Line items",
      "",
      LINE_ITEM_HEADER,
    );
    for (const i of report.items) lines.push(lineItemRow(i));
    lines.push("", "## Assumptions", "", ...report.assumptions.map((a) => `- ${a}`), "");
  }
  if (report.unpriced.length)
    lines.push("## Not priced (no figure in the table)", "", ...report.unpriced.map((u) => `- ${u}`), "");
  lines.push("## Not modelled", "", ...NOT_MODELLED.map((n) => `- ${n}`), "");
  return lines.join("\n");
}
