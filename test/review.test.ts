/**
 * The review section of the pull request comment, from two real runs of the program: a change's cost
 * delta and changed line items, its image changes, and the pictures of the graphs it changes, with the
 * changed nodes marked. Nothing here copies program output: expected amounts come from the price table.
 */
import { describe, expect, it } from "vitest";
import { dollars, signedDollars } from "../scripts/cost/format";
import { loadPrices } from "../scripts/cost/prices";
import { mermaidId } from "../scripts/diagrams/mermaid";
import { inventoryOf, type InventoryEntry } from "../scripts/render-lib";
import { reviewMarkdown } from "../scripts/review-lib";
import { runStack } from "./harness";

const prices = loadPrices();
const production = async (config: Record<string, unknown> = {}): Promise<InventoryEntry[]> =>
  inventoryOf(await runStack("production", { config }));

describe("the review of a change", () => {
  let base: InventoryEntry[] = [];

  it("is only the cost table when nothing changed", async () => {
    base = await production();
    const text = reviewMarkdown([{ stack: "production", base, head: base }], prices);
    expect(text).toMatch(/\| production \| ([\d,]+\.\d\d) \| \1 \| 0\.00 \|/);
    expect(text).not.toContain("### production");
    expect(text).not.toContain("```mermaid");
  });

  it("prices a smaller cache node type as a delta per replication group and marks the caches changed", async () => {
    const head = await production({ "platform:cache": { nodeType: "cache.t4g.small" } });
    const text = reviewMarkdown([{ stack: "production", base, head }], prices);
    const groups = base.filter((r) => r.type === "aws:elasticache/replicationGroup:ReplicationGroup");
    expect(groups.length).toBe(3);
    const nodes = 3; // production: one primary and two replicas per group
    const cents = (hourly: number | undefined) =>
      Math.round(nodes * prices.hoursPerMonth * (hourly ?? NaN) * 100);
    const before = cents(prices.elasticache.nodeHour["cache.r7g.large"]);
    const after = cents(prices.elasticache.nodeHour["cache.t4g.small"]);
    for (const g of groups)
      expect(text).toContain(
        `| ${g.name} | ${nodes} × cache.r7g.large cache nodes → ${nodes} × cache.t4g.small cache nodes | ${dollars(before)} | ${dollars(after)} | ${signedDollars(after - before)} |`,
      );
    expect(text).toContain(`(${signedDollars(3 * (after - before))})`);
    // The caches are drawn changed in the topology; the services around them are not.
    expect(text).toContain("```mermaid");
    expect(text).toContain(`class ${mermaidId("RedisCache-ecommerce-redis")}`);
    expect(text).toMatch(/- changed ecommerce-redis \(ElastiCache\)/);
    expect(text).not.toMatch(/- changed ecommerce-user-service/);
  });

  it("shows a catalog taken out as removed nodes, a negative delta and images gone", async () => {
    const head = await production({
      "platform:catalogs": ["ecommerce", "fintech"],
      "platform:database": {},
    });
    const text = reviewMarkdown([{ stack: "production", base, head }], prices);
    expect(text).toMatch(/\*\*Monthly cost\*\* [\d,.]+ → [\d,.]+ USD \(-[\d,.]+\)/);
    expect(text).toContain("- removed `ghcr.io/maricusco/trading-api:0.9.1`");
    expect(text).toMatch(/- removed trading-trading-api/);
    expect(text).toContain("removed trading-trading-api");
  });

  it("flags an added image that is tag-only", () => {
    const head = base.map((r) =>
      r.type === "kubernetes:apps/v1:Deployment" && r.name === "ecommerce-user-service-deploy"
        ? JSON.parse(
            JSON.stringify(r).replaceAll(
              "ghcr.io/acme-shop/user-service:1.0.0",
              "docker.io/someone/user-service:1.0.1",
            ),
          )
        : r,
    ) as InventoryEntry[];
    const text = reviewMarkdown([{ stack: "production", base, head }], prices);
    expect(text).toContain(
      "- added `docker.io/someone/user-service:1.0.1` (docker.io; **tag only**, **unvetted namespace docker.io/someone**)",
    );
  });

  it("leaves the pictures out, keeping their text, when the review would be too long", async () => {
    const head = await production({ "platform:cache": { nodeType: "cache.t4g.small" } });
    const text = reviewMarkdown([{ stack: "production", base, head }], prices, { maxChars: 2000 });
    expect(text).not.toContain("```mermaid");
    expect(text).toContain("Pictures left out");
    expect(text).toMatch(/- changed ecommerce-redis \(ElastiCache\)/);
  });
});
