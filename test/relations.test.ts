/**
 * Relations stated once, by passing objects (MicroService `calls` and `uses`): a small stack of two
 * namespaces, a database and four services, run under mocks, then judged as a running system would
 * be — the connectivity model (analysis/network-policy.ts) over the objects the stack registers says
 * which flows the policies allow, and the recorded dependencies say what starts after what.
 */
import { describe, expect, it } from "vitest";
import { onCluster, runProgram, type RecordedResource, type RunResult } from "./harness";
import { MicroService, type MicroServiceArgs } from "../components/MicroService";
import { ManagedPostgres } from "../components/ManagedPostgres";
import { RedisCache } from "../components/RedisCache";
import { PlatformNamespace } from "../components/PlatformNamespace";
import { clusterModel, type KubernetesObject } from "../analysis/cluster-model";
import { flowVerdict, type ClusterModel, type Pod } from "../analysis/network-policy";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

const service = (
  namespace: MicroServiceArgs["namespace"],
  port: number,
  extra: Partial<MicroServiceArgs> = {},
) =>
  ({
    namespace,
    platform: "shop",
    image: "ghcr.io/acme/shop:1.0.0",
    port,
    protocol: "http",
    replicas: { min: 1, max: 1 },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    ...extra,
  }) satisfies MicroServiceArgs;

/**
 * shop: web → orders → (orders_db, cache); web → ledger in namespace `finance` (another namespace);
 * `reports` in shop calls no one and uses nothing. Each relation is written once, on the caller.
 */
function shop(overrides: { ordersUses?: "typo" } = {}): () => void {
  return () => {
    const shopNs = new PlatformNamespace("shop", { platform: "shop" }, onCluster());
    const financeNs = new PlatformNamespace("finance", { platform: "finance" }, onCluster());
    const db = new ManagedPostgres(
      "shop-pg",
      {
        backend: "inCluster",
        namespace: "shop",
        consumers: [{ service: "orders", namespace: "shop", database: "orders_db" }],
      },
      onCluster(),
    );
    const cache = new RedisCache(
      "shop-cache",
      {
        backend: "inCluster",
        namespace: "shop",
        consumers: [{ service: "orders", namespace: "shop" }],
      },
      onCluster(),
    );
    const ledger = new MicroService("ledger", service(financeNs.name, 7000), onCluster());
    const orders = new MicroService(
      overrides.ordersUses === "typo" ? "order" : "orders",
      service(shopNs.name, 8080, {
        ...(overrides.ordersUses === "typo" ? { serviceName: "order" } : {}),
        uses: [db, cache],
        migration: { command: ["migrate"] },
      }),
      onCluster(),
    );
    new MicroService(
      "web",
      service(shopNs.name, 3000, {
        calls: [
          { endpoint: orders.endpoint, env: "ORDERS_URL" },
          { endpoint: ledger.endpoint, env: "LEDGER_URL" },
        ],
        migration: { command: ["migrate"] },
      }),
      onCluster(),
    );
    new MicroService("reports", service(shopNs.name, 3100), onCluster());
  };
}

function objectsOf(run: RunResult): KubernetesObject[] {
  return run.resources
    .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm"))
    .map((r) => r.inputs as KubernetesObject);
}

const byName = (run: RunResult, type: string, name: string): RecordedResource => {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};

describe("MicroService relations, stated once", () => {
  let result: RunResult;
  const get = async () => (result ??= await runProgram(shop()));
  const model = async (): Promise<ClusterModel> => clusterModel(objectsOf(await get()));
  const podOf = (m: ClusterModel, id: string): Pod => {
    const pod = m.pods.find((p) => p.id === id);
    if (!pod) throw new Error(`no pod ${id} in ${m.pods.map((p) => p.id).join(", ")}`);
    return pod;
  };
  const verdict = async (from: string, to: string, port: number) => {
    const m = await model();
    return flowVerdict(m, { pod: podOf(m, from) }, { pod: podOf(m, to) }, port);
  };

  it("lets each caller reach what it calls, in its namespace and in another one", async () => {
    expect(await verdict("shop/web", "shop/orders", 8080)).toEqual({ allowed: true });
    expect(await verdict("shop/web", "finance/ledger", 7000)).toEqual({ allowed: true });
  });

  it("lets a service reach the data services it uses, and its migration reach the database", async () => {
    expect(await verdict("shop/orders", "shop/shop-pg", 5432)).toEqual({ allowed: true });
    expect(await verdict("shop/orders", "shop/shop-cache", 6379)).toEqual({ allowed: true });
    expect(await verdict("shop/orders-migration", "shop/shop-pg", 5432)).toEqual({ allowed: true });
  });

  it("refuses every flow nobody stated: by the callee's ingress, or by the caller's egress", async () => {
    // reports states no call: its own egress refuses, and orders' ingress would too.
    expect(await verdict("shop/reports", "shop/orders", 8080)).toEqual({
      allowed: false,
      deniedBy: "egress of shop/reports",
    });
    // web calls orders but uses no database: its egress refuses.
    expect((await verdict("shop/web", "shop/shop-pg", 5432)).allowed).toBe(false);
    // orders is not a caller of web (calls go one way).
    expect((await verdict("shop/orders", "shop/web", 3000)).allowed).toBe(false);
    // Only the callee's port: the web → orders admission opens 8080 and nothing else.
    expect((await verdict("shop/web", "shop/orders", 9090)).allowed).toBe(false);
    // The caller's migration is not the caller: it does not call services.
    expect((await verdict("shop/web-migration", "shop/orders", 8080)).allowed).toBe(false);
  });

  it("gives the caller the callee's URL, and the user its own connection Secret of each store", async () => {
    const run = await get();
    const web = byName(run, "kubernetes:core/v1:ConfigMap", "web-env");
    expect((web.inputs as { data: Record<string, string> }).data).toEqual({
      ORDERS_URL: "http://orders.shop.svc.cluster.local:8080",
      LEDGER_URL: "http://ledger.finance.svc.cluster.local:7000",
    });
    const orders = byName(run, DEPLOYMENT, "orders-deploy");
    const env = (orders.inputs as { spec: { template: { spec: { containers: { env: unknown[] }[] } } } }).spec
      .template.spec.containers[0]!.env;
    expect(env).toEqual([
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "orders-shop-pg", key: "DATABASE_URL" } } },
      { name: "REDIS_URL", valueFrom: { secretKeyRef: { name: "orders-shop-cache", key: "REDIS_URL" } } },
    ]);
  });

  it("puts the admission in the callee's namespace, owned by the caller", async () => {
    const run = await get();
    const admission = byName(run, NETWORK_POLICY, "web-admit-to-ledger");
    expect(admission.parent).toBe(byName(run, "platform:index:MicroService", "web").urn);
    expect((admission.inputs as { metadata: { name: string; namespace: string } }).metadata).toMatchObject({
      name: "ledger-from-web",
      namespace: "finance",
    });
  });

  it("starts the caller and its migration after the callee, the user after its stores; nothing else waits", async () => {
    const run = await get();
    const deps = (type: string, name: string) => byName(run, type, name).dependencies;
    const ordersDeploy = byName(run, DEPLOYMENT, "orders-deploy").urn;
    const ledgerDeploy = byName(run, DEPLOYMENT, "ledger-deploy").urn;
    expect(deps(DEPLOYMENT, "web-deploy")).toEqual(expect.arrayContaining([ordersDeploy, ledgerDeploy]));
    expect(deps("kubernetes:batch/v1:Job", "web-migrate")).toEqual(
      expect.arrayContaining([ordersDeploy, ledgerDeploy]),
    );
    for (const [type, name] of [
      [NETWORK_POLICY, "web-netpol"],
      [NETWORK_POLICY, "web-admit-to-orders"],
      ["kubernetes:core/v1:Service", "web-svc"],
      ["kubernetes:core/v1:ConfigMap", "web-env"],
    ] as const)
      expect(deps(type, name), name).not.toContain(ordersDeploy);
    const bootstrap = byName(run, "kubernetes:batch/v1:Job", "shop-pg-bootstrap").urn;
    // A component in dependsOn stands for its children: the cache's server among them.
    const cache = byName(run, "kubernetes:apps/v1:StatefulSet", "shop-cache").urn;
    expect(deps(DEPLOYMENT, "orders-deploy")).toEqual(expect.arrayContaining([bootstrap, cache]));
    expect(deps("kubernetes:batch/v1:Job", "orders-migrate")).toEqual(
      expect.arrayContaining([bootstrap, cache]),
    );
  });

  it("refuses a service that uses a store which does not list it, naming both, before anything is created", async () => {
    await expect(runProgram(shop({ ordersUses: "typo" }))).rejects.toThrow(
      'MicroService "order": invalid arguments (2):\n' +
        '  - uses[0]: the data service that provides DATABASE_URL has no consumer "order" (its consumers: orders); add { service: "order", … } to its consumers\n' +
        '  - uses[1]: the data service that provides REDIS_URL has no consumer "order" (its consumers: orders); add { service: "order", … } to its consumers',
    );
  });

  it("calls a service of another stack by a written-out endpoint: URL, egress and admission, no start-order edge", async () => {
    const run = await runProgram(() => {
      new MicroService(
        "web",
        service("shop", 3000, {
          calls: [
            {
              endpoint: { name: "ledger", namespace: "finance", port: 7000, protocol: "grpc" },
              env: "LEDGER_ADDR",
            },
          ],
        }),
        onCluster(),
      );
    });
    const config = byName(run, "kubernetes:core/v1:ConfigMap", "web-env").inputs as {
      data: Record<string, string>;
    };
    expect(config.data).toEqual({ LEDGER_ADDR: "ledger.finance.svc.cluster.local:7000" });
    const m = clusterModel([
      ...objectsOf(run),
      // The other stack's ledger, default-denied in its namespace as PlatformNamespace makes it.
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "ledger", namespace: "finance" },
        spec: {
          template: {
            metadata: {
              labels: { "app.kubernetes.io/name": "ledger", "app.kubernetes.io/instance": "ledger" },
            },
            spec: { containers: [{ name: "ledger", ports: [{ containerPort: 7000 }] }] },
          },
        },
      },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "default-deny", namespace: "finance" },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      },
    ]);
    const pod = (id: string) => m.pods.find((p) => p.id === id)!;
    expect(flowVerdict(m, { pod: pod("shop/web") }, { pod: pod("finance/ledger") }, 7000)).toEqual({
      allowed: true,
    });
    expect(byName(run, DEPLOYMENT, "web-deploy").dependencies.filter((d) => d.includes("ledger"))).toEqual(
      [],
    );
  });
});
