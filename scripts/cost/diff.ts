/**
 * What a change does to a stack's monthly cost: the totals before and after, and each line item that
 * appeared, disappeared or changed its amount. Both sides are priced with the same table, so the delta
 * is the change's own, never a price-table update's.
 */
import type { CostReport, LineItem } from "./model";

export interface LineItemChange {
  component: string;
  resource: string;
  item: string;
  beforeCents: number;
  afterCents: number;
}

export interface CostDelta {
  beforeCents: number;
  afterCents: number;
  changes: LineItemChange[];
}

/** A line item's identity across commits: owner, resource and which of its charges it is. */
export function lineItemKey(i: Pick<LineItem, "component" | "resource" | "kind">): string {
  return [i.component, i.resource, i.kind].join("\u0000");
}

export function costDelta(before: CostReport, after: CostReport): CostDelta {
  const sums = (items: LineItem[]) => {
    const byKey = new Map<string, { item: LineItem; cents: number }>();
    for (const i of items) {
      const k = lineItemKey(i);
      byKey.set(k, { item: i, cents: (byKey.get(k)?.cents ?? 0) + i.monthlyCents });
    }
    return byKey;
  };
  const a = sums(before.items);
  const b = sums(after.items);
  const changes: LineItemChange[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(key);
    const y = b.get(key);
    const beforeCents = x?.cents ?? 0;
    const afterCents = y?.cents ?? 0;
    const shown = (y ?? x)?.item;
    if (!shown || (beforeCents === afterCents && x?.item.item === y?.item.item)) continue;
    // "3 × cache.r7g.large cache nodes → 3 × cache.t4g.small cache nodes" when what is billed changed.
    const item = x && y && x.item.item !== y.item.item ? `${x.item.item} → ${y.item.item}` : shown.item;
    changes.push({
      component: shown.component,
      resource: shown.resource,
      item,
      beforeCents,
      afterCents,
    });
  }
  return { beforeCents: before.totalCents, afterCents: after.totalCents, changes };
}
