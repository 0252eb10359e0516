/**
 * The review section of the pull request comment, from two real runs of the program: a change's cost
 * delta and changed line items, its image changes, and the pictures of the graphs it changes, with the
 * changed nodes marked. Nothing here copies program output: expected amounts come from the price table.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { serializeImageLock, type ImageLock } from "../config/image-lock";
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

  it("lists digest changes: image, old digest, new digest and the workloads that roll", async () => {
    const lock = (digit: string): ImageLock => ({
      version: 1,
      stack: "production",
      images: {
        "redis:7.4.5-alpine": {
          repository: "docker.io/library/redis",
          tag: "7.4.5-alpine",
          digest: `sha256:${digit.repeat(64)}`,
          mediaType: "application/vnd.oci.image.index.v1+json",
          platforms: ["linux/amd64"],
          resolvedAt: "2026-01-01T00:00:00.000Z",
        },
        "quay.io/jetstack/cert-manager-webhook:v1.21.2": {
          repository: "quay.io/jetstack/cert-manager-webhook",
          tag: "v1.21.2",
          digest: `sha256:${"c".repeat(64)}`,
          mediaType: "application/vnd.oci.image.index.v1+json",
          platforms: ["linux/amd64"],
          resolvedAt: "2026-01-01T00:00:00.000Z",
        },
      },
    });
    const dir = mkdtempSync(path.join(tmpdir(), "review-lock-"));
    const withLock = async (l: ImageLock) => {
      const file = path.join(dir, "lock.json");
      writeFileSync(file, serializeImageLock(l));
      process.env.PLATFORM_IMAGE_LOCK = file;
      try {
        return await production();
      } finally {
        delete process.env.PLATFORM_IMAGE_LOCK;
      }
    };
    const before = await withLock(lock("a"));
    const after = await withLock(lock("b"));
    const text = reviewMarkdown([{ stack: "production", base: before, head: after }], prices);
    const row = text.split("\n").find((l) => l.startsWith("| `redis:7.4.5-alpine` |"));
    expect(row).toBe(
      `| \`redis:7.4.5-alpine\` | \`sha256:${"a".repeat(64)}\` | \`sha256:${"b".repeat(64)}\` | Deployment envoy-gateway-system/gateway-ratelimit-redis<br>Job ecommerce/ecommerce-redis-bootstrap<br>Job fintech/fintech-redis-bootstrap<br>Job trading/trading-redis-bootstrap |`,
    );
    // Only that image moved: the webhook's digest is the same on both sides, and nothing is "added".
    expect(text).not.toContain("cert-manager-webhook");
    expect(text).not.toContain("- added `redis");
    // A first lock (tag only → digest) lists the chart slot with the release that rolls.
    const first = reviewMarkdown([{ stack: "production", base, head: after }], prices);
    expect(first).toContain(
      `| \`quay.io/jetstack/cert-manager-webhook:v1.21.2\` | tag only | \`sha256:${"c".repeat(64)}\` | Release cert-manager (values.webhook.image) |`,
    );
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
