/**
 * What the local stack's first run on a real node (ENGINE_NODES=real, scripts/engine/node.sh) found
 * that kwok's simulated nodes hid, each held here so it cannot come back:
 *
 *  1. The catalogs' production-sized CPU requests (5 cores for the local stack) left pods Pending on
 *     a two-core machine: the local profile caps every request (limits untouched).
 *  2. Debian has no TimescaleDB, so the local images cannot preload it: the local stack runs the
 *     trading database without it, on the plain PostgreSQL image, and says so at every run.
 *  3. Every image a local pod runs has a local recipe (scripts/engine/local-images.ts), and each
 *     catalog service's stand-in answers on exactly the ports and probes its pod spec declares.
 */
import { describe, expect, it } from "vitest";
import { renderedDemand } from "../analysis/workloads";
import { capCpuRequest } from "../config/plan";
import { cpuMillis } from "../components/lib";
import { ConfigError, formatProblem, resolveSettings } from "../config/settings";
import { kubernetesObject } from "../scripts/render-lib";
import { localImages } from "../scripts/engine/local-images";
import { byType, readStackConfig, runStack } from "./harness";

/** The real node's allocatable CPU (two cores) less what the node's own pods (CoreDNS) and headroom need. */
const REAL_NODE_CPU_FOR_THE_PLATFORM = 1500;

function objects(run: Awaited<ReturnType<typeof runStack>>): Record<string, unknown>[] {
  return run.resources.flatMap((r) => {
    const o = kubernetesObject(r);
    return o ? [o] : [];
  });
}

describe("the local stack on a real two-core node", () => {
  it("asks for no more CPU than the node has, with every Job running at once", async () => {
    const run = await runStack("local");
    const demand = renderedDemand(objects(run));
    // Prometheus and Alertmanager run in pods the operator makes from their resources: their server's
    // request per replica, plus the config reloader beside it (the operator's default, 10m).
    const operatorPods = objects(run)
      .filter((o) => o.kind === "Prometheus" || o.kind === "Alertmanager")
      .map((o) => {
        const spec = o.spec as { replicas?: number; resources?: { requests?: { cpu?: string } } };
        return (cpuMillis(spec.resources?.requests?.cpu ?? "0") + 10) * (spec.replicas ?? 1);
      });
    expect(operatorPods).toHaveLength(2);
    const total =
      demand.reduce((sum, w) => sum + w.requests.cpu * (w.kind === "Job" ? 1 : w.replicas.min), 0) +
      operatorPods.reduce((a, b) => a + b, 0);
    // Millicores.
    expect(total).toBeLessThanOrEqual(REAL_NODE_CPU_FOR_THE_PLATFORM);
    // Every workload still asks for something: a zero request would make it BestEffort, first evicted.
    for (const w of demand) expect(w.requests.cpu, w.id).toBeGreaterThan(0);
  });

  it("caps requests only: the limits (what a service may burst to) keep the catalog's figures", async () => {
    const run = await runStack("local");
    const api = byType(run, "kubernetes:apps/v1:Deployment").find(
      (d) => (d.inputs.metadata as { name?: string }).name === "trading-api",
    );
    const container = (
      api?.inputs.spec as {
        template: { spec: { containers: { resources: Record<string, Record<string, string>> }[] } };
      }
    ).template.spec.containers[0];
    expect(container?.resources.requests?.cpu).toBe("25m");
    expect(cpuMillis(container?.resources.limits?.cpu ?? "0")).toBeGreaterThan(25);
  });

  it("staging and production keep the catalogs' requests", async () => {
    const run = await runStack("staging");
    const api = byType(run, "kubernetes:apps/v1:Deployment").find(
      (d) => (d.inputs.metadata as { name?: string }).name === "trading-api",
    );
    const spec = api?.inputs.spec as {
      template: { spec: { containers: { resources: { requests: { cpu: string } } }[] } };
    };
    expect(cpuMillis(spec.template.spec.containers[0]?.resources.requests.cpu ?? "0")).toBeGreaterThan(25);
  });

  it("capCpuRequest lowers only requests above the ceiling", () => {
    const r = { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };
    expect(capCpuRequest(r, "25m")).toEqual({ requests: { cpu: "25m", memory: "1Gi" }, limits: r.limits });
    expect(capCpuRequest({ ...r, requests: { cpu: "10m", memory: "1Gi" } }, "25m").requests.cpu).toBe("10m");
    expect(capCpuRequest(r, undefined)).toBe(r);
    expect(cpuMillis("1.5")).toBe(1500);
  });
});

describe("a catalog's database without an extension its images lack", () => {
  it("the local trading database runs plain PostgreSQL: no TimescaleDB image, preload or CREATE EXTENSION", async () => {
    const run = await runStack("local");
    const text = JSON.stringify(
      run.resources.filter((r) => r.urn.includes("trading-postgres")).map((r) => r.inputs),
    );
    expect(text).toContain("postgres:15.14-bookworm");
    expect(text).not.toMatch(/timescale/i);
    expect(run.warnings.join("\n")).toContain(
      `Catalog "trading"'s PostgreSQL runs WITHOUT timescaledb (platform:database.byCatalog.trading.omitExtensions)`,
    );
  });

  it("production still runs it with TimescaleDB", async () => {
    const run = await runStack("production");
    const text = JSON.stringify(
      run.resources.filter((r) => r.urn.includes("trading-postgres")).map((r) => r.inputs),
    );
    expect(text).toMatch(/timescaledb/);
  });

  it("omitting an extension the catalog does not ask for is an error naming the key and the choices", () => {
    const { config, secretKeys } = readStackConfig("local");
    const values = Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    values["platform:database"] = JSON.stringify({
      byCatalog: { trading: { omitExtensions: ["postgis"] }, fintech: { omitExtensions: ["timescaledb"] } },
    });
    let problems: string[] = [];
    try {
      resolveSettings({ project: "platform", stack: "local", values, secretKeys: new Set(secretKeys) });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems = e.problems.map(formatProblem);
    }
    expect(problems).toEqual([
      'platform:database.byCatalog.trading.omitExtensions: expected extensions catalog "trading" asks for ("timescaledb"), found ["postgis"]',
      'platform:database.byCatalog.fintech.omitExtensions: expected nothing: catalog "fintech" asks for no PostgreSQL extension, found ["timescaledb"]',
    ]);
  });
});

describe("local images (scripts/engine/local-images.ts)", () => {
  it("maps every image of the local stack to a recipe, and each service's stand-in to its pod spec", async () => {
    const images = await localImages("local");
    const run = await runStack("local");
    const podImages = new Set(
      objects(run).flatMap((o) => {
        const spec = (o.spec as { template?: { spec?: { containers?: { image: string }[] } } } | undefined)
          ?.template?.spec;
        return (spec?.containers ?? []).map((c) => c.image);
      }),
    );
    // prometheus-operator runs images no pod spec of ours names: Prometheus and Alertmanager (their
    // resources' spec.image) and the config reloader (an argument of the operator).
    const operatorImages = objects(run).flatMap((o) => {
      if (o.kind === "Prometheus" || o.kind === "Alertmanager") return [(o.spec as { image: string }).image];
      const containers =
        (o.spec as { template?: { spec?: { containers?: { args?: string[] }[] } } } | undefined)?.template
          ?.spec?.containers ?? [];
      return containers
        .flatMap((c) => c.args ?? [])
        .filter((a) => a.startsWith("--prometheus-config-reloader="))
        .map((a) => a.split("=")[1] as string);
    });
    expect(operatorImages).toHaveLength(3);
    expect(new Set(images.map((i) => i.ref))).toEqual(new Set([...podImages, ...operatorImages]));
    for (const ref of operatorImages) expect(images.find((i) => i.ref === ref)?.recipe).toBe("binary");
    expect(images.find((i) => i.ref === "postgres:15.14-bookworm")).toMatchObject({
      recipe: "postgres",
      uid: 999,
    });
    expect(images.find((i) => i.ref.startsWith("redis:"))).toMatchObject({ recipe: "redis", uid: 999 });
    expect(images.find((i) => i.ref.startsWith("rabbitmq:"))).toMatchObject({ recipe: "rabbitmq", uid: 999 });

    const order = images.find((i) => i.ref === "ghcr.io/acme-shop/order-service:1.0.0");
    expect(order?.standin).toEqual({
      service: "order-service",
      namespace: "ecommerce",
      ports: [
        { name: "grpc", port: 9004, protocol: "grpc" },
        { name: "metrics", port: 9104, protocol: "http" },
      ],
    });
    const chroma = images.find((i) => i.ref.startsWith("chromadb/chroma:"));
    expect(chroma?.standin).toMatchObject({
      service: "chromadb",
      ports: [{ name: "http", port: 8000, protocol: "http", healthPath: "/api/v1/heartbeat" }],
      dataDir: "/chroma/chroma",
    });
    // Every catalog service runs the stand-in; nothing else does.
    const standins = images.filter((i) => i.recipe === "standin").map((i) => i.standin?.service);
    expect(standins).toHaveLength(14);
  });
});
