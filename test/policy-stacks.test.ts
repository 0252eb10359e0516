/**
 * The policy pack over the real program: every stack's recorded resources (the mock harness runs
 * index.ts exactly as `pulumi up` would) go through every rule of policy/rules.ts, mapped the way
 * the pack sees them (props = inputs merged with outputs, secrets unwrapped; dependencies as URNs).
 * All must pass. A mutated copy of a stack proves the mapping really reaches the rules.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CHART_IMAGES_NOT_STATED } from "../components/chart-images";
import { serializeImageLock, type ImageLock } from "../config/image-lock";
import { renderStackImages } from "../scripts/image-lock/cli";
import { evaluate, stageFor, type Finding, type RuleResource } from "../policy/rules";
import { imageUses } from "../scripts/images";
import { CATALOGS } from "../services";
import { REPO_ROOT, runStack, toRuleResource } from "./harness";
import { everyRolePinned, everyServicePinned, syntheticDigest } from "./image-pins";

const STACKS = ["local", "staging", "production"] as const;

const DIGEST_RULE = "k8s-image-digest-pinned-production";

/** Every image the stack's workloads run without a digest (read from the workloads, not from the rule). */
function unpinnedImages(resources: RuleResource[]): string[] {
  const images = imageUses(resources.map((r) => ({ type: r.type, name: r.name, inputs: r.props })));
  return images.filter((u) => !u.pinned).map((u) => u.image);
}

/** The images the findings name (findings about an image the values do not state name none). */
function imagesNamedIn(findings: Finding[]): string[] {
  return [...new Set(findings.flatMap((f) => /image "([^"]+)"/.exec(f.message)?.[1] ?? []))].sort();
}

/** The findings about chart images the values do not state (kube-prometheus-stack's, for now). */
function unstatedChartFindings(findings: Finding[]): string[] {
  return findings
    .filter((f) => !/image "/.test(f.message))
    .map((f) => /values\.[^:]+/.exec(f.message)?.[0] ?? f.message);
}

const UNSTATED = (CHART_IMAGES_NOT_STATED["kube-prometheus-stack"] ?? []).map((k) => `values.${k}`);

function report(findings: Finding[]): string[] {
  return findings.map((f) => `[${f.rule}] ${f.message}`);
}

const count = (resources: RuleResource[], type: string) => resources.filter((r) => r.type === type).length;

describe.each(STACKS)("stack %s", (stack) => {
  let resources: RuleResource[] = [];

  it("records the resources the rules are about", async () => {
    // Re-thrown with the message only: the program's own stack frames point into tsx-compiled files
    // whose source maps vitest cannot read, which would hide the reason.
    const run = await runStack(stack).catch((error: unknown) => {
      throw new Error(
        `runStack("${stack}") failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    resources = run.resources.filter((r) => r.custom).map(toRuleResource);
    expect(count(resources, "kubernetes:core/v1:Namespace")).toBeGreaterThan(0);
    expect(count(resources, "kubernetes:apps/v1:Deployment")).toBeGreaterThan(0);
    if (stack !== "local") {
      for (const type of [
        "aws:ec2/vpc:Vpc",
        "aws:eks/cluster:Cluster",
        "aws:rds/instance:Instance",
        "aws:elasticache/replicationGroup:ReplicationGroup",
      ]) {
        expect(count(resources, type), type).toBeGreaterThan(0);
      }
    }
  });

  it("passes every rule of the policy pack but production's digest pinning", () => {
    expect(resources.length).toBeGreaterThan(0);
    const findings = evaluate(resources, { stage: stageFor(stack) });
    expect(report(findings.filter((f) => f.rule !== DIGEST_RULE))).toEqual([]);
  });

  it(
    stack === "production"
      ? "is held back by every tag-only image it runs, of every kind (no lock offline: lock them before deploying)"
      : stack === "staging"
        ? "warns about every tag-only image it runs, of every kind (the pack is advisory in staging)"
        : "runs tag-only images, which only staging (warning) and production (refusal) report",
    () => {
      const findings = evaluate(resources, { stage: stageFor(stack) }).filter((f) => f.rule === DIGEST_RULE);
      const tagOnly = unpinnedImages(resources);
      expect(tagOnly.length).toBeGreaterThan(0);
      if (stack === "local") expect(findings).toEqual([]);
      else {
        expect(imagesNamedIn(findings)).toEqual(tagOnly);
        expect(unstatedChartFindings(findings)).toEqual(UNSTATED);
      }
    },
  );

  it("would fail the pack if a workload drifted from the baseline (the mapping reaches the rules)", () => {
    const target = resources.find((r) => r.type === "kubernetes:apps/v1:Deployment");
    expect(target).toBeDefined();
    const spec = (target?.props["spec"] ?? {}) as {
      template: { spec: { containers: Record<string, unknown>[] } };
    };
    const mutated = structuredClone(spec);
    const first = mutated.template.spec.containers[0] as Record<string, unknown>;
    first["image"] = "nginx:latest";
    delete first["readinessProbe"];
    const changed = resources.map((r) => (r === target ? { ...r, props: { ...r.props, spec: mutated } } : r));
    const rules = evaluate(changed, { stage: stageFor(stack) })
      .filter((f) => f.urn === target?.urn)
      .map((f) => f.rule);
    expect(rules).toEqual(expect.arrayContaining(["k8s-probes", "k8s-image-pinned"]));
  });
});

describe("production: the data-store rules reach the stack", () => {
  it("would fail the pack if a data store lost its backup or its TLS", async () => {
    const resources = (await runStack("production")).resources.filter((r) => r.custom).map(toRuleResource);
    const rulesFired = (rs: RuleResource[]) => [
      // Only the data-store rules: production's tag-only images trip the digest rule on their own.
      ...new Set(
        evaluate(rs, { stage: "production" })
          .map((f) => f.rule)
          .filter((r) => r.startsWith("data-")),
      ),
    ];
    expect(rulesFired(resources)).toEqual([]);
    const withoutBackupPlan = resources.filter((r) => r.type !== "aws:backup/selection:Selection");
    expect(rulesFired(withoutBackupPlan)).toEqual(["data-production-backup"]);
    const plainUrl = resources.map((r) =>
      r.type === "kubernetes:core/v1:Secret" && r.name === "trading-postgres-trading-api-connection"
        ? {
            ...r,
            props: {
              ...r.props,
              stringData: { DATABASE_URL: "postgresql://u:p@h:5432/trading?sslmode=disable" },
            },
          }
        : r,
    );
    expect(rulesFired(plainUrl)).toEqual(["data-production-tls"]);
    // One ElastiCache node's down alarm gone: the alarm rule names that node.
    const oneNodeUnwatched = resources.filter((r) => r.name !== "fintech-redis-alarm-node-2-down");
    expect(rulesFired(oneNodeUnwatched)).toEqual(["data-production-alarms"]);
  });
});

describe("production with its catalog images pinned by digest", () => {
  // An obviously made-up digest: the test proves the override path, it does not claim a real image.
  const digest = `sha256:${"0".repeat(64)}`;

  it("leaves only the components' own images to pin", async () => {
    const catalogServices = ["ecommerce", "fintech", "trading"].flatMap((catalog) =>
      (CATALOGS[catalog as keyof typeof CATALOGS]?.services ?? []).map((s) => `${catalog}/${s.name}`),
    );
    const run = await runStack("production", {
      config: {
        "platform:services": Object.fromEntries(catalogServices.map((id) => [id, { imageTag: digest }])),
      },
    });
    const resources = run.resources.filter((r) => r.custom).map(toRuleResource);
    const flagged = imagesNamedIn(
      evaluate(resources, { stage: "production" }).filter((f) => f.rule === DIGEST_RULE),
    );
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.filter((image) => /acme-|maricusco|chromadb/.test(image))).toEqual([]);
    expect(unpinnedImages(resources)).toEqual(flagged);
    // What is left is each a data-service role's image, pinned by its platform:images key, and the
    // charts' images, which only a lock pins.
    const left = imageUses(resources.map((r) => ({ type: r.type, name: r.name, inputs: r.props }))).filter(
      (u) => !u.pinned,
    );
    expect(
      left
        .filter((u) => u.pinKeys.length === 0)
        .every((u) => u.usedBy.every((w) => w.startsWith("Release "))),
    ).toBe(true);
    const keys = left.filter((u) => u.pinKeys.length > 0).map((u) => `${u.image} ${u.pinKeys.join(" ")}`);
    expect(keys).toEqual([
      "curlimages/curl:8.16.0 platform:images.curl",
      "postgres:15.14-bookworm platform:images.postgres",
      "redis:7.4.5-alpine platform:images.redis",
      "timescale/timescaledb-ha:pg15.14-ts2.21.3 platform:images.cloudnativepgTimescaledb",
    ]);
  });
});

describe("production with a complete image lock", () => {
  // Synthetic digests (test/image-pins.ts): the test proves the lock path, not a real image.
  it("deploys every image it can see by digest, so the digest rule is left only with the chart images the values do not state", async () => {
    const images = await renderStackImages("production", REPO_ROOT);
    const lock: ImageLock = {
      version: 1,
      stack: "production",
      images: Object.fromEntries(
        images.map((i, n) => [
          i.image,
          {
            repository: i.image,
            tag: "t",
            digest: syntheticDigest(n + 1),
            mediaType: "application/vnd.oci.image.index.v1+json",
            platforms: ["linux/amd64"],
            resolvedAt: "2026-01-01T00:00:00.000Z",
          },
        ]),
      ),
    };
    const file = path.join(mkdtempSync(path.join(tmpdir(), "policy-lock-")), "lock.json");
    writeFileSync(file, serializeImageLock(lock));
    process.env.PLATFORM_IMAGE_LOCK = file;
    let resources: RuleResource[];
    try {
      resources = (await runStack("production")).resources.filter((r) => r.custom).map(toRuleResource);
    } finally {
      delete process.env.PLATFORM_IMAGE_LOCK;
    }
    expect(unpinnedImages(resources)).toEqual([]);
    const findings = evaluate(resources, { stage: "production" });
    expect(findings.every((f) => f.rule === DIGEST_RULE)).toBe(true);
    expect(unstatedChartFindings(findings)).toEqual(UNSTATED);
    // Positive control: config pins alone (every catalog service, every platform:images role) leave the charts' images.
    const configOnly = (
      await runStack("production", {
        config: { "platform:services": everyServicePinned(), "platform:images": everyRolePinned() },
      })
    ).resources
      .filter((r) => r.custom)
      .map(toRuleResource);
    const left = imagesNamedIn(
      evaluate(configOnly, { stage: "production" }).filter((f) => f.rule === DIGEST_RULE),
    );
    expect(left.length).toBeGreaterThan(10);
    expect(
      left.filter((image) => /acme-|maricusco|chromadb|^postgres|^redis|^curlimages|^timescale/.test(image)),
    ).toEqual([]);
  });
});
