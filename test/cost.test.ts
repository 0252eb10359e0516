/**
 * The cost model: arithmetic checked against figures worked out by hand from a price table with round
 * numbers, the price table's loading and validation, and the model over the real stacks (every billed
 * resource the program sends is priced, and the report adds up).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { costDelta } from "../scripts/cost/diff";
import { costMarkdown, dollars, signedDollars } from "../scripts/cost/format";
import { componentTotals, costReport, quantityToGiB, type PricedResource } from "../scripts/cost/model";
import { loadPrices, PriceTableError, validatePrices, type PriceTable } from "../scripts/cost/prices";
import { inventoryOf } from "../scripts/render-lib";
import { runStack } from "./harness";

/** Round figures, so every expected amount below can be checked with pencil and paper. */
const PRICES: PriceTable = {
  region: "test-region-1",
  currency: "USD",
  date: "2026-01-01",
  source: "made up for the tests",
  hoursPerMonth: 730,
  eks: { clusterHour: 0.1, extendedSupportClusterHour: 0.6 },
  ec2: { instanceHour: { "m5.large": 0.1 } },
  ebs: { gbMonth: { gp3: 0.08, gp2: 0.1 } },
  vpc: { natGatewayHour: 0.05, natGatewayGb: 0.05, publicIpv4Hour: 0.005 },
  elb: { nlbHour: 0.02, nlcuHour: 0.01 },
  rds: {
    postgresInstanceHour: { "db.r6g.large": 0.25 },
    multiAzFactor: 2,
    storageGbMonth: { gp3: 0.1 },
    backupGbMonth: 0.1,
  },
  elasticache: { nodeHour: { "cache.r7g.large": 0.2 } },
  mq: { rabbitmqInstanceHour: { "mq.m5.large": 0.3 } },
  s3: { standardGbMonth: 0.02 },
  kms: { keyMonth: 1 },
  assumptions: {
    natGatewayGbPerMonth: 100,
    nlcuPerLoadBalancer: 2,
    rdsBackupBeyondFreeFraction: 0.5,
    inClusterBackupCopies: 1,
  },
};

const STACK = "urn:pulumi:test::platform::pulumi:pulumi:Stack::platform-test";
const component = (type: string, name: string): PricedResource => ({
  type: `platform:index:${type}`,
  name,
  urn: `urn:pulumi:test::platform::platform:index:${type}::${name}`,
  parent: STACK,
  inputs: {},
});
const child = (
  parent: PricedResource,
  type: string,
  name: string,
  inputs: unknown,
  dependencies: string[] = [],
): PricedResource => ({
  type,
  name,
  urn: `urn:pulumi:test::platform::${type}::${name}`,
  parent: parent.urn,
  inputs,
  dependencies,
});

const cluster = component("KubernetesCluster", "platform");
const network = component("Network", "platform");
const db = component("ManagedPostgres", "shop-postgres");
const cache = component("RedisCache", "shop-redis");
const broker = component("MessageBroker", "shop-rabbitmq");
const gateway = component("IngressGateway", "gateway");
const store = component("ManagedPostgres", "trading-postgres");
const observability = component("ObservabilityStack", "observability");
const template = child(cluster, "aws:ec2/launchTemplate:LaunchTemplate", "platform-general-nodes", {
  blockDeviceMappings: [{ ebs: { volumeSize: 100, volumeType: "gp3" } }],
});

const AWS_STACK: PricedResource[] = [
  cluster,
  network,
  db,
  cache,
  broker,
  gateway,
  store,
  observability,
  child(cluster, "aws:eks/cluster:Cluster", "platform-eks", { upgradePolicy: { supportType: "STANDARD" } }),
  template,
  child(
    cluster,
    "aws:eks/nodeGroup:NodeGroup",
    "platform-general",
    {
      instanceTypes: ["m5.large"],
      scalingConfig: { desiredSize: 3, minSize: 2, maxSize: 6 },
      launchTemplate: { id: "lt-1" },
    },
    [template.urn],
  ),
  child(cluster, "kubernetes:storage.k8s.io/v1:StorageClass", "platform-gp3", {
    metadata: {
      name: "gp3-encrypted",
      annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
    },
    parameters: { type: "gp3" },
  }),
  child(network, "aws:ec2/natGateway:NatGateway", "platform-nat-0", {}),
  child(network, "aws:ec2/eip:Eip", "platform-nat-0", {}),
  child(db, "aws:rds/instance:Instance", "shop-postgres-db", {
    instanceClass: "db.r6g.large",
    multiAz: true,
    allocatedStorage: 100,
    storageType: "gp3",
  }),
  child(db, "aws:kms/key:Key", "shop-postgres-kms", {}),
  child(cache, "aws:elasticache/replicationGroup:ReplicationGroup", "shop-redis-cache", {
    nodeType: "cache.r7g.large",
    numCacheClusters: 3,
  }),
  child(broker, "aws:mq/broker:Broker", "shop-rabbitmq-broker", {
    hostInstanceType: "mq.m5.large",
    deploymentMode: "CLUSTER_MULTI_AZ",
  }),
  child(gateway, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "gateway-proxy", {
    spec: { provider: { kubernetes: { envoyService: { type: "LoadBalancer" } } } },
  }),
  child(store, "kubernetes:apps/v1:StatefulSet", "trading-postgres", {
    spec: {
      replicas: 2,
      volumeClaimTemplates: [
        { metadata: { name: "data" }, spec: { resources: { requests: { storage: "10Gi" } } } },
      ],
    },
  }),
  child(observability, "kubernetes:helm.sh/v3:Release", "observability-release", {
    values: {
      prometheus: {
        prometheusSpec: {
          replicas: 2,
          storageSpec: { volumeClaimTemplate: { spec: { resources: { requests: { storage: "50Gi" } } } } },
        },
      },
      grafana: { persistence: { enabled: true, size: "5Gi" } },
      alertmanager: { persistence: { enabled: false, size: "99Gi" } },
    },
  }),
];

/** Every line as "component | resource | item = dollars", the shape the hand computation below uses. */
const lines = (resources: PricedResource[]) =>
  costReport("test", resources, PRICES).items.map(
    (i) => `${i.component} | ${i.resource} | ${i.item} = ${dollars(i.monthlyCents)}`,
  );

describe("cost arithmetic, against figures worked out by hand", () => {
  it("prices every billed resource of an AWS stack", () => {
    expect(lines(AWS_STACK).sort()).toEqual(
      [
        // 730 h × $0.10
        "KubernetesCluster-platform | platform-eks | EKS control plane = 73.00",
        // 3 nodes × 730 h × $0.10; 3 × 100 GB × $0.08 (size and type from the launch template)
        "KubernetesCluster-platform | platform-general | 3 × m5.large (desired; scales 2–6) = 219.00",
        "KubernetesCluster-platform | platform-general | 3 × 100 GB gp3 node root volume = 24.00",
        // 730 h × $0.05; 100 GB × $0.05; 730 h × $0.005
        "Network-platform | platform-nat-0 | NAT gateway = 36.50",
        "Network-platform | platform-nat-0 | NAT data processed (assumed 100 GB) = 5.00",
        "Network-platform | platform-nat-0 | public IPv4 address = 3.65",
        // Multi-AZ: 2 × 730 h × $0.25; 2 × 100 GB × $0.10; backups 0.5 × 100 GB × $0.10
        "ManagedPostgres-shop-postgres | shop-postgres-db | db.r6g.large PostgreSQL, Multi-AZ = 365.00",
        "ManagedPostgres-shop-postgres | shop-postgres-db | 100 GB gp3 storage, Multi-AZ = 20.00",
        "ManagedPostgres-shop-postgres | shop-postgres-db | backup storage beyond the free allowance (assumed 50 GB) = 5.00",
        "ManagedPostgres-shop-postgres | shop-postgres-kms | KMS customer managed key = 1.00",
        // 3 nodes × 730 h × $0.20
        "RedisCache-shop-redis | shop-redis-cache | 3 × cache.r7g.large cache nodes = 438.00",
        // cluster deployment: 3 brokers × 730 h × $0.30
        "MessageBroker-shop-rabbitmq | shop-rabbitmq-broker | 3 × mq.m5.large broker nodes = 657.00",
        // 730 h × $0.02; 2 NLCU × 730 h × $0.01
        "IngressGateway-gateway | gateway-proxy | Network Load Balancer = 14.60",
        "IngressGateway-gateway | gateway-proxy | NLB capacity units (assumed 2 NLCU) = 14.60",
        // 2 replicas × 10 GiB × $0.08 (default class gp3); one S3 copy: 20 GiB × $0.02
        "ManagedPostgres-trading-postgres | trading-postgres volume data | 2 × 10Gi gp3 volume = 1.60",
        "ManagedPostgres-trading-postgres | trading-postgres volume data | S3 backups (assumed 1 full copy of 2 × 10Gi) = 0.40",
        // Prometheus: 2 replicas × 50 GiB × $0.08; Grafana 5 GiB × $0.08; alertmanager persistence disabled
        "ObservabilityStack-observability | observability-release prometheus.prometheusSpec.storageSpec.volumeClaimTemplate | 2 × 50Gi gp3 volume = 8.00",
        "ObservabilityStack-observability | observability-release grafana.persistence | 1 × 5Gi gp3 volume = 0.40",
      ].sort(),
    );
  });

  it("totals the lines, per component and for the stack", () => {
    const report = costReport("test", AWS_STACK, PRICES);
    // 73 + 219 + 24 + 36.5 + 5 + 3.65 + 365 + 20 + 5 + 1 + 438 + 657 + 14.6 + 14.6 + 1.6 + 0.4 + 8 + 0.4
    expect(report.totalCents).toBe(188675);
    const totals = Object.fromEntries(componentTotals(report).map((c) => [c.component, c.monthlyCents]));
    expect(totals["ManagedPostgres-shop-postgres"]).toBe(39100);
    expect(totals["KubernetesCluster-platform"]).toBe(31600);
    expect(componentTotals(report)[0]?.component).toBe("MessageBroker-shop-rabbitmq");
  });

  it("bills a single-AZ database and a single broker once, and extended support at its rate", () => {
    const single = AWS_STACK.map((r) =>
      r.type === "aws:rds/instance:Instance"
        ? { ...r, inputs: { ...(r.inputs as object), multiAz: false } }
        : r.type === "aws:mq/broker:Broker"
          ? { ...r, inputs: { hostInstanceType: "mq.m5.large", deploymentMode: "SINGLE_INSTANCE" } }
          : r.type === "aws:eks/cluster:Cluster"
            ? { ...r, inputs: { upgradePolicy: { supportType: "EXTENDED" } } }
            : r,
    );
    expect(lines(single)).toEqual(
      expect.arrayContaining([
        "ManagedPostgres-shop-postgres | shop-postgres-db | db.r6g.large PostgreSQL, Single-AZ = 182.50",
        "ManagedPostgres-shop-postgres | shop-postgres-db | 100 GB gp3 storage, Single-AZ = 10.00",
        "MessageBroker-shop-rabbitmq | shop-rabbitmq-broker | 1 × mq.m5.large broker node = 219.00",
        "KubernetesCluster-platform | platform-eks | EKS control plane (extended support) = 438.00",
      ]),
    );
  });

  it("prices Kubernetes volumes at nothing without an EKS cluster (a local cluster's disks are not billed)", () => {
    const local = AWS_STACK.filter((r) => r.type.startsWith("kubernetes:") || r.type.startsWith("platform:"));
    const report = costReport("local", local, PRICES);
    expect(report.items).toEqual([]);
    expect(costMarkdown(report)).toContain("No billed cloud resources");
  });

  it("lists a size the table has no figure for instead of guessing, naming the table key", () => {
    const odd = AWS_STACK.map((r) =>
      r.type === "aws:elasticache/replicationGroup:ReplicationGroup"
        ? { ...r, inputs: { nodeType: "cache.x9.huge", numNodeGroups: 2, replicasPerNodeGroup: 1 } }
        : r,
    );
    const report = costReport("test", odd, PRICES);
    expect(report.unpriced).toEqual([
      'RedisCache-shop-redis shop-redis-cache: no price for "cache.x9.huge" in elasticache.nodeHour (add it to the price table or a --prices file)',
    ]);
    expect(report.items.some((i) => i.resource === "shop-redis-cache")).toBe(false);
  });

  it("warns when the stack deploys to another region than the table's", () => {
    expect(costReport("test", AWS_STACK, PRICES, "eu-west-1").assumptions.join("\n")).toContain(
      "The stack deploys to eu-west-1, the price table is for test-region-1",
    );
    expect(costReport("test", AWS_STACK, PRICES, "test-region-1").assumptions.join("\n")).not.toContain(
      "deploys to",
    );
  });

  it("reads storage quantities in GiB and formats cents as dollars", () => {
    expect(quantityToGiB("10Gi")).toBe(10);
    expect(quantityToGiB("512Mi")).toBe(0.5);
    expect(quantityToGiB("1Ti")).toBe(1024);
    expect(quantityToGiB("2G")).toBeCloseTo(1.8626, 4);
    expect(() => quantityToGiB("ten")).toThrow('not a storage quantity: "ten"');
    expect(dollars(123456789)).toBe("1,234,567.89");
    expect(dollars(5)).toBe("0.05");
    expect(signedDollars(-1050)).toBe("-10.50");
    expect(signedDollars(1050)).toBe("+10.50");
  });

  it("reports the delta and the line items that changed", () => {
    const before = costReport("test", AWS_STACK, PRICES);
    const bigger = AWS_STACK.map((r) =>
      r.type === "aws:eks/nodeGroup:NodeGroup"
        ? {
            ...r,
            inputs: { ...(r.inputs as object), scalingConfig: { desiredSize: 4, minSize: 2, maxSize: 6 } },
          }
        : r,
    ).filter((r) => r.type !== "aws:mq/broker:Broker");
    const delta = costDelta(before, costReport("test", bigger, PRICES));
    expect(delta.changes.map((c) => [c.item, c.beforeCents, c.afterCents])).toEqual([
      // one more node: 730 h × $0.10 and 100 GB × $0.08 more
      ["3 × m5.large (desired; scales 2–6) → 4 × m5.large (desired; scales 2–6)", 21900, 29200],
      ["3 × 100 GB gp3 node root volume → 4 × 100 GB gp3 node root volume", 2400, 3200],
      ["3 × mq.m5.large broker nodes", 65700, 0],
    ]);
    expect(delta.afterCents - delta.beforeCents).toBe(7300 + 800 - 65700);
  });
});

describe("the price table", () => {
  it("is pinned with a region, a date and a source, and validates", () => {
    const pinned = loadPrices();
    expect(pinned.region).toBe("eu-west-1");
    expect(pinned.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(pinned.source).toMatch(/aws\.amazon\.com/);
  });

  it("takes overrides figure by figure from a file of the same shape", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "prices-"));
    const file = path.join(dir, "prices.json");
    writeFileSync(file, JSON.stringify({ ec2: { instanceHour: { "m5.large": 0.05, "c7g.large": 0.07 } } }));
    const merged = loadPrices(file);
    expect(merged.ec2.instanceHour["m5.large"]).toBe(0.05);
    expect(merged.ec2.instanceHour["c7g.large"]).toBe(0.07);
    expect(merged.ec2.instanceHour["r5.large"]).toBe(loadPrices().ec2.instanceHour["r5.large"]);
  });

  it("rejects a bad table listing every problem with its key, expected and found", () => {
    const bad = {
      ...PRICES,
      date: "last year",
      eks: { clusterHour: -1, extendedSupportClusterHour: 0.6 },
      ec2: { instanceHour: { "m5.large": "cheap" } },
      extra: 1,
    };
    let error: unknown;
    try {
      validatePrices(bad, "my-prices.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PriceTableError);
    const message = (error as Error).message;
    expect(message).toContain("Invalid price table my-prices.json (4 problems)");
    expect(message).toContain('ec2.instanceHour.m5.large: expected a number, found "cheap"');
    expect(message).toContain('date: expected a date as YYYY-MM-DD, found "last year"');
    expect(message).toContain("eks.clusterHour: expected a number of at least 0, found -1");
    expect(message).toContain("extra: expected no such key (the price table has none), found one");
  });
});

describe.each(["staging", "production"] as const)("the cost of the %s stack", (stack) => {
  it("prices every billed resource the program sends, and adds up", async () => {
    const run = await runStack(stack);
    const inventory = inventoryOf(run);
    const report = costReport(stack, inventory, loadPrices(), "eu-west-1");
    expect(report.unpriced).toEqual([]);
    const count = (type: string) => inventory.filter((r) => r.type === type).length;
    const itemsMatching = (pattern: RegExp) => report.items.filter((i) => pattern.test(i.item)).length;
    expect(itemsMatching(/PostgreSQL/)).toBe(count("aws:rds/instance:Instance"));
    expect(itemsMatching(/cache nodes?$/)).toBe(count("aws:elasticache/replicationGroup:ReplicationGroup"));
    expect(itemsMatching(/^NAT gateway$/)).toBe(count("aws:ec2/natGateway:NatGateway"));
    expect(itemsMatching(/^EKS control plane/)).toBe(1);
    expect(report.totalCents).toBe(componentTotals(report).reduce((s, c) => s + c.monthlyCents, 0));
    expect(report.assumptions.join("\n")).not.toContain("deploys to");
  });
});

it("production costs more than staging (Multi-AZ, NAT per zone, bigger data services)", async () => {
  const total = async (stack: string) =>
    costReport(stack, inventoryOf(await runStack(stack)), loadPrices()).totalCents;
  expect(await total("production")).toBeGreaterThan(await total("staging"));
  expect(await total("local")).toBe(0);
});
