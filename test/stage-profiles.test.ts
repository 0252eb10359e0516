/**
 * Stage profiles, end to end through the real index.ts: production and staging are the same shape
 * (the same set of resource types) and differ exactly where the profile says (zones, NAT, node
 * groups, Multi-AZ, deletion protection, final snapshots, protect on stateful resources and the
 * cluster, replica floors). The local stack takes the existing-cluster path. Every Kubernetes resource
 * of every stack goes through the cluster's explicit provider.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { byType, runStack, type RecordedResource, type RunResult } from "./harness";
import { CATALOGS, loadCatalog } from "../services";

const catalogs = Object.values(CATALOGS).map(loadCatalog);
const entryPoints = new Set(
  catalogs.flatMap((c) => c.services.filter((s) => s.entryPoint).map((s) => `${c.namespace}/${s.name}`)),
);
const catalogServices = catalogs.flatMap((c) => c.services.map((s) => `${c.namespace}/${s.name}`));
/** Services with a per-pod volume run a fixed count (a second replica would be a second, empty store): no floor. */
const persistentServices = new Set(
  catalogs.flatMap((c) => c.services.filter((s) => s.persistence).map((s) => `${c.namespace}/${s.name}`)),
);

/** Each stack runs once, on first use (runs are serialised: tests in a file run one after another). */
const runs = new Map<string, Promise<RunResult>>();
const stackRun = (stack: string): Promise<RunResult> => {
  if (!runs.has(stack)) runs.set(stack, runStack(stack));
  return runs.get(stack) as Promise<RunResult>;
};

let production: RunResult;
let staging: RunResult;
let local: RunResult;
const productionAndStaging = async () => {
  production = await stackRun("production");
  staging = await stackRun("staging");
};

const types = (run: RunResult) => new Set(run.resources.map((r) => r.type));
const count = (run: RunResult, type: string) => byType(run, type).length;
const one = (run: RunResult, type: string): RecordedResource => {
  const found = byType(run, type);
  expect(found, type).toHaveLength(1);
  return found[0] as RecordedResource;
};
const meta = (r: RecordedResource) => (r.inputs.metadata ?? {}) as { name?: string; namespace?: string };
const isKubernetesObject = (r: RecordedResource) => r.custom && r.type.startsWith("kubernetes:");
/** Stateful resource types: protected and retained in production, neither in staging. */
const STATEFUL = [
  "aws:eks/cluster:Cluster",
  "aws:rds/instance:Instance",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:mq/broker:Broker",
  "kubernetes:apps/v1:StatefulSet",
];

/** Replica floor per stateless catalog service: its HPA's minReplicas, or its workload's fixed replica count. */
function replicaFloors(run: RunResult): Map<string, number> {
  const floors = new Map<string, number>();
  const key = (r: RecordedResource) => `${meta(r).namespace}/${meta(r).name}`;
  const hpas = new Map(
    byType(run, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").map((h) => [key(h), h]),
  );
  const workloads = new Map(
    [...byType(run, "kubernetes:apps/v1:Deployment"), ...byType(run, "kubernetes:apps/v1:StatefulSet")].map(
      (w) => [key(w), w],
    ),
  );
  for (const service of catalogServices.filter((s) => !persistentServices.has(s))) {
    const workload = workloads.get(service);
    if (!workload) continue;
    const hpa = hpas.get(service);
    const floor = hpa
      ? (hpa.inputs.spec as { minReplicas: number }).minReplicas
      : (workload.inputs.spec as { replicas?: number }).replicas;
    floors.set(service, floor ?? 1);
  }
  return floors;
}

/** Whether a PodDisruptionBudget in the workload's namespace selects its pods. */
function hasPdb(run: RunResult, workload: RecordedResource): boolean {
  const podLabels =
    (workload.inputs.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template
      ?.metadata?.labels ?? {};
  return byType(run, "kubernetes:policy/v1:PodDisruptionBudget").some((pdb) => {
    if (meta(pdb).namespace !== meta(workload).namespace) return false;
    const selector =
      (pdb.inputs.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ??
      {};
    return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  });
}

describe("production vs staging: same shape", () => {
  beforeAll(productionAndStaging, 120_000);
  it("registers the same set of resource types", () => {
    const prod = [...types(production)].sort();
    const stag = [...types(staging)].sort();
    expect(
      prod.filter((t) => !stag.includes(t)),
      "only in production",
    ).toEqual([]);
    expect(
      stag.filter((t) => !prod.includes(t)),
      "only in staging",
    ).toEqual([]);
    for (const t of [
      "aws:eks/cluster:Cluster",
      "aws:ec2/vpc:Vpc",
      "aws:rds/instance:Instance",
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    ]) {
      expect(prod, t).toContain(t);
    }
  });

  it("deploys the same catalog workloads, routes and policies", () => {
    const names = (run: RunResult, type: string) =>
      byType(run, type)
        .map((r) => `${meta(r).namespace}/${meta(r).name}`)
        .sort();
    for (const type of [
      "kubernetes:apps/v1:Deployment",
      "kubernetes:policy/v1:PodDisruptionBudget",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
      "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy",
      "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy",
    ]) {
      expect(names(production, type), type).toEqual(names(staging, type));
    }
    const releases = (run: RunResult) =>
      byType(run, "kubernetes:helm.sh/v3:Release")
        .map((r) => `${String(r.inputs.chart)}@${String(r.inputs.version)}`)
        .sort();
    expect(releases(production)).toEqual(releases(staging));
  });
});

describe("production vs staging: each difference", () => {
  beforeAll(productionAndStaging, 120_000);
  it("spreads over 3 zones in production and 2 in staging", () => {
    expect(count(production, "aws:ec2/subnet:Subnet")).toBe(6);
    expect(count(staging, "aws:ec2/subnet:Subnet")).toBe(4);
    const zones = (run: RunResult) =>
      new Set(byType(run, "aws:ec2/subnet:Subnet").map((s) => s.inputs.availabilityZone));
    expect(zones(production).size).toBe(3);
    expect(zones(staging).size).toBe(2);
  });

  it("has a NAT gateway per zone in production and one shared in staging", () => {
    expect(count(production, "aws:ec2/natGateway:NatGateway")).toBe(3);
    expect(count(staging, "aws:ec2/natGateway:NatGateway")).toBe(1);
    const natTargets = (run: RunResult) =>
      new Set(
        byType(run, "aws:ec2/route:Route")
          .map((r) => r.inputs.natGatewayId)
          .filter(Boolean),
      );
    expect(natTargets(production).size).toBe(3);
    expect(natTargets(staging).size).toBe(1);
  });

  it("runs larger node groups in production", () => {
    const sizes = (run: RunResult) =>
      Object.fromEntries(
        byType(run, "aws:eks/nodeGroup:NodeGroup").map((g) => [
          (g.inputs.labels as Record<string, string>)["platform.example.com/node-group"],
          g.inputs.scalingConfig,
        ]),
      );
    expect(sizes(production)).toEqual({
      general: { minSize: 6, maxSize: 10, desiredSize: 6 },
      memory: { minSize: 1, maxSize: 5, desiredSize: 2 },
    });
    expect(sizes(staging)).toEqual({
      general: { minSize: 5, maxSize: 8, desiredSize: 5 },
      memory: { minSize: 1, maxSize: 2, desiredSize: 1 },
    });
    const types = (run: RunResult) =>
      byType(run, "aws:eks/nodeGroup:NodeGroup").map((g) => g.inputs.instanceTypes);
    expect(types(production)).toEqual(types(staging));
  });

  it("makes the databases Multi-AZ with deletion protection and final snapshots in production only", () => {
    const rds = (run: RunResult) => byType(run, "aws:rds/instance:Instance");
    expect(rds(production).length).toBeGreaterThan(0);
    for (const db of rds(production)) {
      expect(db.inputs, db.name).toMatchObject({
        multiAz: true,
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: expect.any(String),
      });
    }
    for (const db of rds(staging)) {
      expect(db.inputs, db.name).toMatchObject({
        multiAz: false,
        deletionProtection: false,
        skipFinalSnapshot: true,
      });
      expect(db.inputs.finalSnapshotIdentifier).toBeUndefined();
    }
    for (const cache of byType(production, "aws:elasticache/replicationGroup:ReplicationGroup")) {
      expect(cache.inputs, cache.name).toMatchObject({
        multiAzEnabled: true,
        automaticFailoverEnabled: true,
        finalSnapshotIdentifier: expect.any(String),
      });
    }
    for (const cache of byType(staging, "aws:elasticache/replicationGroup:ReplicationGroup")) {
      expect(cache.inputs.finalSnapshotIdentifier, cache.name).toBeUndefined();
    }
    for (const broker of byType(production, "aws:mq/broker:Broker"))
      expect(broker.inputs.deploymentMode).toBe("CLUSTER_MULTI_AZ");
    for (const broker of byType(staging, "aws:mq/broker:Broker"))
      expect(broker.inputs.deploymentMode).toBe("SINGLE_INSTANCE");
  });

  it("protects (and retains) the cluster and every stateful resource in production, none in staging", () => {
    const stateful = (run: RunResult) => run.resources.filter((r) => STATEFUL.includes(r.type));
    expect(stateful(production).map((r) => r.type)).toContain("aws:eks/cluster:Cluster");
    for (const r of stateful(production))
      expect([r.protect, r.retainOnDelete], `${r.type} ${r.name}`).toEqual([true, true]);
    expect(one(production, "aws:eks/cluster:Cluster").inputs.deletionProtection).toBe(true);
    // The KMS keys guarding stateful data are protected with it.
    for (const key of byType(production, "aws:kms/key:Key")) expect(key.protect, key.name).toBe(true);
    expect(staging.resources.filter((r) => r.protect).map((r) => `${r.type} ${r.name}`)).toEqual([]);
    expect(one(staging, "aws:eks/cluster:Cluster").inputs.deletionProtection).toBe(false);
  });

  it("raises replica floors: ≥ 2 everywhere, 3 for public entry points in production, 2 in staging", () => {
    const prod = replicaFloors(production);
    const stag = replicaFloors(staging);
    expect([...prod.keys()].sort()).toEqual(catalogServices.filter((s) => !persistentServices.has(s)).sort());
    expect([...stag.keys()].sort()).toEqual([...prod.keys()].sort());
    for (const key of entryPoints) {
      expect(prod.get(key), key).toBeGreaterThanOrEqual(3);
      expect(stag.get(key), key).toBeGreaterThanOrEqual(2);
    }
    for (const [key, floor] of prod) expect(floor, key).toBeGreaterThanOrEqual(2);
    for (const [key, floor] of stag) expect(floor, key).toBeGreaterThanOrEqual(2);
    const proxyReplicas = (run: RunResult) =>
      (
        one(run, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy").inputs.spec as {
          provider: { kubernetes: { envoyDeployment: { replicas: number } } };
        }
      ).provider.kubernetes.envoyDeployment.replicas;
    expect(proxyReplicas(production)).toBe(3);
    expect(proxyReplicas(staging)).toBe(2);
  });

  it("keeps a PodDisruptionBudget for every catalog service in both stages", () => {
    for (const run of [production, staging]) {
      const workloads = [
        ...byType(run, "kubernetes:apps/v1:Deployment"),
        ...byType(run, "kubernetes:apps/v1:StatefulSet"),
      ].filter((w) => catalogServices.includes(`${meta(w).namespace}/${meta(w).name}`));
      expect(workloads.length).toBe(catalogServices.length);
      for (const w of workloads) expect(hasPdb(run, w), `${meta(w).namespace}/${meta(w).name}`).toBe(true);
    }
  });
});

describe("local stack", () => {
  beforeAll(async () => {
    local = await stackRun("local");
  }, 120_000);
  it("uses the existing-cluster path: a Kubernetes provider, no AWS resources", () => {
    expect(local.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.type)).toEqual([]);
    const provider = one(local, "pulumi:providers:kubernetes");
    const cluster = one(local, "platform:index:KubernetesCluster");
    expect(provider.parent).toBe(cluster.urn);
  });
});

describe("local stack with the gateway charts on disk", () => {
  it("installs the IngressGateway with a self-signed CA chain and a plain LoadBalancer, through the cluster's provider", async () => {
    // Chart paths must exist (a missing one is refused: see the bad-config corpus).
    const charts = mkdtempSync(path.join(tmpdir(), "charts-"));
    const [gatewayChart, certManagerChart] = ["gateway-helm", "cert-manager"].map((dir) => {
      mkdirSync(path.join(charts, dir));
      return path.join(charts, dir);
    });
    const run = await runStack("local", {
      config: {
        "platform:ingress": {
          charts: { envoyGateway: { path: gatewayChart }, certManager: { path: certManagerChart } },
        },
      },
    });
    const issuers = byType(run, "kubernetes:cert-manager.io/v1:ClusterIssuer").map(
      (r) => Object.keys(r.inputs.spec as object)[0],
    );
    expect(issuers.sort()).toEqual(["ca", "selfSigned"]);
    const releases = byType(run, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.chart);
    expect(releases.sort()).toEqual([certManagerChart, gatewayChart]);
    const proxy = one(run, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy");
    expect(
      (proxy.inputs.spec as { provider: { kubernetes: { envoyService: unknown } } }).provider.kubernetes
        .envoyService,
    ).toEqual({ type: "LoadBalancer" });
    const provider = one(run, "pulumi:providers:kubernetes");
    expect(
      run.resources.filter(isKubernetesObject).filter((r) => !r.provider.startsWith(`${provider.urn}::`)),
    ).toEqual([]);
  });
});

describe("explicit Kubernetes provider", () => {
  it.each(["production", "staging", "local"])(
    "every Kubernetes resource of %s goes through the cluster's provider",
    async (stack) => {
      const run = await stackRun(stack);
      const provider = one(run, "pulumi:providers:kubernetes");
      const objects = run.resources.filter(isKubernetesObject);
      expect(objects.length).toBeGreaterThan(20);
      const offenders = objects.filter(
        (r) =>
          !r.provider ||
          r.provider.includes("pulumi:providers:kubernetes::default") ||
          !r.provider.startsWith(`${provider.urn}::`),
      );
      expect(offenders.map((r) => `${r.type} ${r.name} → ${r.provider || "(default)"}`)).toEqual([]);
    },
  );
});
