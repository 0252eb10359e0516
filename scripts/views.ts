/**
 * The review views a render writes beside the manifests, each computed from the stack's inventory alone
 * (so the review can recompute them for a base commit with the head's code):
 *  - `cost.md`: the monthly cost estimate;
 *  - `diagrams/start-order.mmd`, `diagrams/topology.mmd`: Mermaid pictures;
 *  - `images.md`: every container image, its registry, pinning and publisher.
 * A new view is one more entry in VIEWS.
 */
import type { PlatformSettings } from "../config/settings";
import { costReport } from "./cost/model";
import { costMarkdown } from "./cost/format";
import { loadPrices, type PriceTable } from "./cost/prices";
import { toMermaid } from "./diagrams/mermaid";
import { startOrderDiagram, topologyDiagram, type InventoryResource } from "./diagrams/platform";
import { imageUses, imagesMarkdown, unstatedChartImages } from "./images";

export interface RenderContext {
  /** The stack's AWS region (from its stack file), for the cost report's region check. */
  region?: string;
  /** The stack's validated settings: with them the render adds routes, capacity and connectivity. */
  settings?: PlatformSettings;
  /** Prices to use instead of the pinned table. */
  prices?: PriceTable;
}

export interface ViewInput extends RenderContext {
  stack: string;
  inventory: readonly InventoryResource[];
}

type View = (input: ViewInput) => Record<string, string>;

const VIEWS: readonly View[] = [
  ({ stack, inventory, region, prices }) => ({
    "cost.md": costMarkdown(costReport(stack, inventory, prices ?? loadPrices(), region)),
  }),
  ({ inventory }) => ({
    "diagrams/start-order.mmd": toMermaid(startOrderDiagram(inventory)),
    "diagrams/topology.mmd": toMermaid(topologyDiagram(inventory)),
  }),
  ({ stack, inventory, settings }) => ({
    "images.md": imagesMarkdown(
      stack,
      imageUses(inventory, settings?.images),
      unstatedChartImages(inventory),
    ),
  }),
];

/** Every view's files, file name → content. */
export function renderViews(input: ViewInput): Map<string, string> {
  return new Map(VIEWS.flatMap((view) => Object.entries(view(input))));
}
