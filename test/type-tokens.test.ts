/**
 * Guards what existing stacks' state is keyed by: each component's type token and the logical names
 * and types of everything it creates, for one reference instantiation of every component. A URN is
 * `<type chain>::<name>`; changing a token, a child's name or a child's type (or moving a child to
 * another parent) makes Pulumi delete the old resource and create a new one — for an RDS instance,
 * a namespace or a volume, that is data loss. Such a change must come with `aliases` (see
 * docs/library.md), and then this snapshot is updated in the same change, on purpose.
 *
 * Child names are shown relative to the component's name (`<name>-…`).
 */
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import {
  CERT_MANAGER_CHART_VERSION,
  ContainerImage,
  ENVOY_GATEWAY_CHART_VERSION,
  IngressGateway,
  KubernetesCluster,
  ManagedPostgres,
  MessageBroker,
  MicroService,
  Network,
  ObservabilityStack,
  PlatformNamespace,
  RedisCache,
  ScheduledJob,
  ServiceMonitoring,
  Worker,
} from "../components";
import { runProgram, type RecordedResource, type RunResult } from "./harness";

const COMPONENTS = [
  "ContainerImage",
  "IngressGateway",
  "KubernetesCluster",
  "ManagedPostgres",
  "MessageBroker",
  "MicroService",
  "Network",
  "ObservabilityStack",
  "PlatformNamespace",
  "RedisCache",
  "ScheduledJob",
  "ServiceMonitoring",
  "Worker",
] as const;

const TAGS = { project: "reference", stack: "production", owner: "platform-team" };
const RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
const AWS_NETWORK = {
  vpcId: "vpc-0abc",
  subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
  subnetCidrs: ["10.30.0.0/16"],
  allowedSecurityGroupIds: ["sg-0cluster"],
};
/** The reference stores' consumer: no MicroService of the reference program uses them. */
const CONSUMER = { service: "orders", namespace: "shop", elsewhere: "not part of the reference program" };

/** One reference instance of every component, as a production stack would create it. */
function referenceProgram(): void {
  const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
  const opts = { provider };
  new ScheduledJob(
    "ref-job",
    {
      namespace: "shop",
      serviceName: "nightly-report",
      platform: "shop",
      stage: "production",
      image: "ghcr.io/acme/report:1.0.0",
      schedule: "0 3 * * *",
      activeDeadlineSeconds: 1800,
      resources: RESOURCES,
    },
    opts,
  );
  new Worker(
    "ref-worker",
    {
      namespace: "shop",
      serviceName: "order-events",
      platform: "shop",
      stage: "production",
      image: "ghcr.io/acme/order-events:1.0.0",
      metrics: { port: 9100 },
      replicas: { min: 2, max: 4 },
      resources: RESOURCES,
    },
    opts,
  );
  new PlatformNamespace(
    "ref-namespace",
    { name: "shop", platform: "shop", stage: "production", protect: true },
    opts,
  );
  new MicroService(
    "ref-service",
    {
      namespace: "shop",
      serviceName: "orders",
      platform: "shop",
      stage: "production",
      image: "ghcr.io/acme/orders:1.2.3",
      port: 8080,
      protocol: "http",
      replicas: { min: 2, max: 6 },
      resources: RESOURCES,
      env: { LOG_LEVEL: "info" },
      callers: ["gateway"],
      migration: { command: ["./orders", "migrate"] },
    },
    opts,
  );
  new ManagedPostgres(
    "ref-postgres",
    {
      backend: "aws",
      namespace: "shop",
      platform: "shop",
      stage: "production",
      protect: true,
      consumers: [{ ...CONSUMER, database: "orders_db" }],
      aws: AWS_NETWORK,
    },
    opts,
  );
  new RedisCache(
    "ref-cache",
    {
      backend: "aws",
      namespace: "shop",
      platform: "shop",
      stage: "production",
      protect: true,
      consumers: [CONSUMER],
      aws: AWS_NETWORK,
    },
    opts,
  );
  new MessageBroker(
    "ref-broker",
    {
      backend: "aws",
      namespace: "shop",
      platform: "shop",
      stage: "production",
      protect: true,
      consumers: [CONSUMER],
      aws: AWS_NETWORK,
    },
    opts,
  );
  new Network("ref-network", {
    cidr: "10.30.0.0/16",
    availabilityZoneCount: 3,
    natGateways: "perZone",
    flowLogRetentionDays: 365,
    clusterName: "reference",
    tags: TAGS,
  });
  new KubernetesCluster("ref-cluster", {
    provider: "aws",
    clusterName: "reference",
    kubernetesVersion: "1.33",
    vpcId: "vpc-0abc",
    subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
    publicAccessCidrs: [],
    adminRoleArns: ["arn:aws:iam::123456789012:role/platform-admins"],
    requireAdminRoles: true,
    nodeGroups: {
      general: { instanceTypes: ["m5.large"], minSize: 3, maxSize: 10, desiredSize: 3, diskSizeGb: 100 },
    },
    protect: true,
    tags: TAGS,
  });
  new IngressGateway(
    "ref-gateway",
    {
      domain: "platform.example.com",
      tls: { issuer: "acme", acmeEmail: "platform@example.com" },
      envoyGatewayChart: { version: ENVOY_GATEWAY_CHART_VERSION, source: "repository" },
      certManagerChart: { version: CERT_MANAGER_CHART_VERSION, source: "repository" },
      loadBalancer: "nlb",
      proxyReplicas: 3,
      controllerReplicas: 2,
    },
    { providers: { kubernetes: provider } },
  );
  new ObservabilityStack(
    "ref-observability",
    {
      chart: { version: "89.2.0", source: "repository" },
      prometheusStorageSize: "100Gi",
      grafanaStorageSize: "10Gi",
      stage: "production",
    },
    { providers: { kubernetes: provider } },
  );
  new ContainerImage("ref-image", {
    repositoryName: "shop/orders",
    imageTag: "1.0.0",
    context: "apps/orders",
    registry: "ecr",
    tags: TAGS,
  });
  new ServiceMonitoring(
    "ref-monitoring",
    {
      serviceName: "orders",
      namespace: "shop",
      platform: "shop",
      protocol: "http",
      metricsPortName: "http",
      selectorLabels: { "app.kubernetes.io/name": "orders", "app.kubernetes.io/instance": "orders" },
      resources: RESOURCES,
      monitorLabels: { "platform.example.com/monitoring": "observability" },
      dashboardLabels: { "platform.example.com/grafana-dashboard": "observability" },
    },
    opts,
  );
}

/** Everything a component created (children, grandchildren...), as `type name` relative to its name. */
function descendants(run: RunResult, component: RecordedResource): string[] {
  const below = new Set([component.urn]);
  const out: string[] = [];
  for (const r of run.resources) {
    if (!below.has(r.parent)) continue;
    below.add(r.urn);
    out.push(`${r.type} ${r.name.split(component.name).join("<name>")}`);
  }
  return out.sort();
}

describe("type tokens and child names", () => {
  let run: RunResult;

  it("the reference program registers every component under platform:index:<ClassName>", async () => {
    run = await runProgram(referenceProgram, { stack: "production" });
    const tokens = run.resources
      .filter((r) => r.type.startsWith("platform:index:") && r.name.startsWith("ref-"))
      .map((r) => r.type);
    expect([...new Set(tokens)].sort()).toEqual(COMPONENTS.map((c) => `platform:index:${c}`));
  });

  it.each(COMPONENTS)("%s keeps its children's types and names", (component) => {
    const instance = run.resources.find(
      (r) => r.type === `platform:index:${component}` && r.name.startsWith("ref-"),
    );
    expect(instance).toBeDefined();
    expect(descendants(run, instance as RecordedResource)).toMatchSnapshot();
  });

  it("names every descendant `<component name>-…`, so an alias on the component carries over to all of them", () => {
    // The engine gives each child an alias derived from its parent's: the parent's old URN as parent,
    // and the child's name with the parent's new name prefix swapped for the old one. Only children
    // named after their parent follow a renamed component (lib.ts childName does this).
    for (const component of COMPONENTS) {
      const instance = run.resources.find(
        (r) => r.type === `platform:index:${component}` && r.name.startsWith("ref-"),
      ) as RecordedResource;
      const below = new Set([instance.urn]);
      for (const r of run.resources) {
        if (!below.has(r.parent)) continue;
        below.add(r.urn);
        expect(r.name, `${component}: ${r.type}`).toMatch(new RegExp(`^${instance.name}-`));
      }
    }
  });

  it("sends the alias a rename declares", async () => {
    const renamed = await runProgram(
      () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
        new PlatformNamespace(
          "storefront",
          { name: "shop" },
          { provider, aliases: [{ name: "ref-namespace" }] },
        );
      },
      { stack: "production" },
    );
    const component = renamed.resources.find((r) => r.type === "platform:index:PlatformNamespace");
    expect(component?.aliases).toHaveLength(1);
    expect(component?.aliases[0]).toContain("ref-namespace");
    expect(renamed.resources.filter((r) => r.parent === component?.urn).map((r) => r.name)).toContain(
      "storefront-ns",
    );
  });
});
