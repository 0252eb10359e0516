/**
 * The example consumer stack (examples/consumer-stack) renders under the mock harness, importing the
 * library by its package name exactly as its own `pulumi up` would; only the package name is pointed
 * at the library's TypeScript entry (components/index.ts) instead of the built dist/ that
 * `file:../..` links to.
 */
import Module from "node:module";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import packageJson from "../package.json";
import exampleJson from "../examples/consumer-stack/package.json";
import { REPO_ROOT, byType, reveal, runProgram, type RunResult } from "./harness";

const EXAMPLE = path.join(REPO_ROOT, "examples", "consumer-stack", "index.ts");
const LIBRARY_ENTRY = path.join(REPO_ROOT, "components", "index.ts");

type Resolve = (request: string, parent: unknown, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: Resolve };
const originalResolve = moduleInternals._resolveFilename;

/** Runs the example's index.ts (via tsx, as the harness loads the platform's own program). */
function loadExample(): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { require: tsxRequire } = require("tsx/cjs/api") as {
    require: (id: string, from: string) => unknown;
  };
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(REPO_ROOT) && !key.includes(`${path.sep}node_modules${path.sep}`))
      delete require.cache[key];
  }
  return { ...(tsxRequire(EXAMPLE, __filename) as Record<string, unknown>) };
}

const run = (stage: string) =>
  runProgram(loadExample, {
    project: "consumer-stack",
    stack: stage,
    config: {
      "consumer-stack:image": "ghcr.io/inventory-team/stock-api:1.0.3",
      "consumer-stack:stage": stage,
    },
  });

describe("examples/consumer-stack", () => {
  beforeAll(() => {
    moduleInternals._resolveFilename = function (this: unknown, request, parent, ...rest) {
      return originalResolve.call(
        this,
        request === packageJson.name ? LIBRARY_ENTRY : request,
        parent,
        ...rest,
      );
    };
  });
  afterAll(() => {
    moduleInternals._resolveFilename = originalResolve;
  });

  it("depends on this library by its package name, from the repository", () => {
    expect(exampleJson.dependencies).toMatchObject({ [packageJson.name]: "file:../.." });
    expect(exampleJson.dependencies["@pulumi/pulumi"]).toBe(packageJson.devDependencies["@pulumi/pulumi"]);
    expect(exampleJson.dependencies["@pulumi/kubernetes"]).toBe(
      packageJson.devDependencies["@pulumi/kubernetes"],
    );
  });

  let local: RunResult;

  it("renders: the library's components under the example's own stack, on its explicit provider", async () => {
    local = await run("local");
    const components = local.resources
      .filter((r) => r.type.startsWith("platform:index:"))
      .map((r) => `${r.type} ${r.name}`);
    expect(components).toEqual(
      expect.arrayContaining([
        "platform:index:KubernetesCluster inventory",
        "platform:index:PlatformNamespace inventory-team",
        "platform:index:ManagedPostgres stock-db",
        "platform:index:RedisCache stock-cache",
        "platform:index:MessageBroker stock-events",
        "platform:index:MicroService stock-api",
        "platform:index:MicroService stock-worker",
        "platform:index:IngressGateway edge",
        "platform:index:ObservabilityStack monitoring",
      ]),
    );
    expect(local.resources.every((r) => r.urn.startsWith("urn:pulumi:local::consumer-stack::"))).toBe(true);
    const kubernetes = local.resources.filter(
      (r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes",
    );
    expect(kubernetes.length).toBeGreaterThan(5);
    const provider = local.resources.find(
      (r) => r.type === "pulumi:providers:kubernetes" && r.name === "inventory-k8s",
    );
    expect(provider).toBeDefined();
    for (const r of kubernetes)
      expect(r.provider, `${r.type} ${r.name}`).toMatch(
        new RegExp(`^${provider?.urn.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}::`),
      );
  });

  it("wires the service to its database through a Secret, never a plain value", () => {
    const deployment = byType(local, "kubernetes:apps/v1:Deployment").find(
      (d) => (reveal(d.inputs) as { metadata?: { name?: string } }).metadata?.name === "stock-api",
    );
    expect(deployment).toBeDefined();
    const spec = reveal(deployment?.inputs) as {
      spec: {
        template: {
          spec: {
            containers: {
              image: string;
              env?: { name: string; value?: unknown; valueFrom?: { secretKeyRef?: { key: string } } }[];
            }[];
          };
        };
      };
    };
    const container = spec.spec.template.spec.containers[0];
    expect(container?.image).toBe("ghcr.io/inventory-team/stock-api:1.0.3");
    const dbUrl = container?.env?.find((e) => e.name === "DATABASE_URL");
    expect(dbUrl?.value).toBeUndefined();
    expect(dbUrl?.valueFrom?.secretKeyRef?.key).toBe("DATABASE_URL");
    expect(Object.keys(local.outputs).sort()).toEqual([
      "brokerHost",
      "cacheHost",
      "databaseHost",
      "namespace",
      "publicUrls",
      "url",
    ]);
    expect(local.outputs["url"]).toBe("http://stock-api.inventory-team.svc.cluster.local:8080");
  });

  // `transforms` is the customisation hook (docs/library.md); the harness applies it as the engine does.
  it("a transform on a MicroService reaches its children (the Deployment, the ConfigMap), not its siblings", () => {
    const labelOf = (type: string, name: string) =>
      (
        reveal(
          byType(local, type).find(
            (r) => (reveal(r.inputs) as { metadata?: { name?: string } }).metadata?.name === name,
          )?.inputs,
        ) as { metadata?: { labels?: Record<string, string> } } | undefined
      )?.metadata?.labels?.["acme.io/cost-centre"];
    expect(labelOf("kubernetes:apps/v1:Deployment", "stock-api")).toBe("inventory");
    expect(labelOf("kubernetes:core/v1:ConfigMap", "stock-api-env")).toBe("inventory");
    expect(labelOf("kubernetes:apps/v1:Deployment", "stock-worker")).toBe("inventory");
    // The data services were not given the transform.
    expect(labelOf("kubernetes:apps/v1:StatefulSet", "stock-db")).toBeUndefined();
  });

  it("protects stateful resources in production", async () => {
    const production = await run("production");
    const namespace = byType(production, "kubernetes:core/v1:Namespace").find((n) =>
      n.name.startsWith("inventory-team"),
    );
    expect(namespace?.protect).toBe(true);
    const statefulSets = byType(production, "kubernetes:apps/v1:StatefulSet");
    expect(statefulSets.map((s) => [s.name, s.protect, s.retainOnDelete])).toEqual(
      expect.arrayContaining([
        [expect.stringContaining("stock-db"), true, true],
        [expect.stringContaining("stock-cache"), true, true],
        [expect.stringContaining("stock-events"), true, true],
      ]),
    );
  });

  it("reports a bad stage before creating anything", async () => {
    await expect(run("qa")).rejects.toThrow(
      'consumer-stack:stage must be local, staging or production, found "qa"',
    );
  });
});
