/**
 * Another team's stack on the platform library, using every component it exports: a cluster (an
 * existing one, or EKS in its own VPC with volume backups), the CloudNativePG operator, monitoring and
 * a public gateway, a namespace with the platform's guard rails, PostgreSQL, Redis and RabbitMQ, and
 * two services where one calls the other. Nothing here comes from the platform's own program (no
 * catalogs, no stage profiles, none of its label domain): only the package's components, their
 * documented args, and Pulumi's `transforms` for what the args don't cover.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  AlertTopic,
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
  PostgresOperator,
  RedisCache,
  type Stage,
  ScheduledJob,
  STAGES,
  VolumeBackup,
  Worker,
} from "@platform/microservices-platform";

const config = new pulumi.Config();
const stageValue = config.get("stage") ?? "local";
if (!(STAGES as readonly string[]).includes(stageValue))
  throw new Error(`consumer-stack:stage must be local, staging or production, found "${stageValue}"`);
const stage = stageValue as Stage;
const cloud = config.get("cloud") ?? "existing";
if (cloud !== "existing" && cloud !== "aws")
  throw new Error(`consumer-stack:cloud must be existing or aws, found "${cloud}"`);
const image = config.require("image");
/** A source directory to build the image from instead (ContainerImage); default: use `image` as is. */
const buildContext = config.get("buildContext");
const production = stage === "production";
const team = "inventory-team";
// Our own label domain: every key the components write beyond app.kubernetes.io/* is ours.
const labelDomain = config.get("labelDomain") ?? "inventory.acme.io";
const common = { platform: team, stage, labelDomain };

// ── The cluster: explicit, and every component gets its provider ────────────────────────────────
const network =
  cloud === "aws"
    ? new Network("inventory", { cidr: "10.40.0.0/16", availabilityZoneCount: 2, clusterName: "inventory" })
    : undefined;
const kubeContext = config.get("kubeContext");
const cluster = network
  ? new KubernetesCluster("inventory", {
      provider: "aws",
      clusterName: "inventory",
      kubernetesVersion: "1.33",
      nodeGroups: {
        general: { instanceTypes: ["m5.large"], minSize: production ? 3 : 2, maxSize: production ? 10 : 4 },
      },
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      adminRoleArns: config.getObject<string[]>("adminRoleArns") ?? [],
      requireAdminRoles: production,
      protect: production,
      labelDomain,
    })
  : new KubernetesCluster("inventory", {
      provider: "existing",
      ...(kubeContext ? { context: kubeContext } : {}),
      labelDomain,
    });
const onCluster = { provider: cluster.provider };
// On AWS: one alert topic (its own KMS key, so CloudWatch and EventBridge may publish) that the
// managed stores' alarms and the volume backups' failures go to.
const alerts = cloud === "aws" ? new AlertTopic("inventory-alerts", { protect: production }) : undefined;
const alarms = alerts ? { alarms: { topicArn: alerts.topicArn } } : {};
if (cloud === "aws") new VolumeBackup("inventory-volumes", { protect: production, labelDomain, ...alarms });

// ── Shared services: monitoring and the public gateway ─────────────────────────────────────────
const monitoring = new ObservabilityStack(
  "monitoring",
  {
    chart: { version: "89.2.0", source: "repository" },
    monitoredNamespaces: [team],
    prometheusStorageSize: production ? "100Gi" : "20Gi",
    grafanaStorageSize: "5Gi",
    stage,
    labelDomain,
  },
  onCluster,
);
const gateway = new IngressGateway(
  "edge",
  {
    domain: config.get("domain") ?? "stock.acme.io",
    tls: { issuer: "selfSigned" },
    envoyGatewayChart: { version: ENVOY_GATEWAY_CHART_VERSION, source: "repository" },
    certManagerChart: { version: CERT_MANAGER_CHART_VERSION, source: "repository" },
    labels: { stage },
    labelDomain,
  },
  onCluster,
);
const operator =
  cloud === "aws"
    ? new PostgresOperator("cnpg", { chart: { version: "0.26.1", source: "repository" } }, onCluster)
    : undefined;

// ── The team's namespace and data services ────────────────────────────────────────────────────
const ns = new PlatformNamespace(team, { ...common, protect: production }, onCluster);
const dataBackend =
  network && cluster.clusterSecurityGroupId
    ? {
        backend: "aws" as const,
        aws: {
          vpcId: network.vpcId,
          subnetIds: network.privateSubnetIds,
          subnetCidrs: network.privateSubnetCidrs,
          allowedSecurityGroupIds: [cluster.clusterSecurityGroupId.apply((id) => id ?? "")],
        },
      }
    : { backend: "inCluster" as const };
// Redis and RabbitMQ: AWS-managed (ElastiCache, Amazon MQ) on EKS, in the cluster otherwise.
// The stores and the consumers' connection Secrets take the namespace's Output: everything they
// create in it waits for the namespace, with no dependsOn.
const consumers = ["stock-api", "stock-worker"].map((service) => ({ service, namespace: ns.name }));

// PostgreSQL in the cluster: on CloudNativePG on EKS (replicas, backups to S3), else one StatefulSet.
const db = new ManagedPostgres(
  "stock-db",
  {
    backend: "inCluster",
    ...common,
    namespace: ns.name,
    protect: production,
    engineVersion: "16",
    extensions: ["pgcrypto"],
    // The nightly report reads the database too (a ScheduledJob, below).
    consumers: [...consumers, { service: "stock-report", namespace: ns.name }].map((c) => ({
      ...c,
      database: "stock",
    })),
    storageSize: production ? "50Gi" : "5Gi",
    ...(operator
      ? {
          cloudNativePg: {
            instances: production ? 3 : 2,
            oidcProviderArn: cluster.oidcProviderArn.apply((arn) => arn ?? ""),
            oidcIssuerUrl: cluster.oidcIssuerUrl.apply((url) => url ?? ""),
          },
        }
      : {}),
  },
  operator ? { ...onCluster, dependsOn: [operator] } : onCluster,
);
const cache = new RedisCache(
  "stock-cache",
  {
    ...dataBackend,
    ...(dataBackend.backend === "aws" ? alarms : {}),
    ...common,
    namespace: ns.name,
    protect: production,
    consumers,
  },
  onCluster,
);
const events = new MessageBroker(
  "stock-events",
  {
    ...dataBackend,
    ...(dataBackend.backend === "aws" ? alarms : {}),
    ...common,
    namespace: ns.name,
    protect: production,
    exchanges: ["stock_events"],
    // Only the worker publishes and consumes events: a consumer nothing uses is refused.
    consumers: ["stock-worker", "stock-events"].map((service) => ({ service, namespace: ns.name })),
  },
  onCluster,
);

// ── The services: the worker calls the API ────────────────────────────────────────────────────
const built = buildContext
  ? new ContainerImage("stock-api-image", {
      repositoryName: "inventory/stock-api",
      imageTag: "1.0.3",
      context: buildContext,
      registry: cloud === "aws" ? "ecr" : "none",
    })
  : undefined;

/** `transforms`: the customisation hook. Every Kubernetes object the services create gets our cost-centre label. */
const costCentre: pulumi.ResourceTransform = ({ props, opts, type }) => {
  if (!type.startsWith("kubernetes:") || !props["metadata"]) return undefined;
  const metadata = props["metadata"] as { labels?: Record<string, pulumi.Input<string>> };
  return {
    props: {
      ...props,
      metadata: { ...metadata, labels: { ...metadata.labels, "acme.io/cost-centre": "inventory" } },
    },
    opts,
  };
};

const resources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "512Mi" },
};

const api = new MicroService(
  "stock-api",
  {
    ...common,
    namespace: ns.name,
    image: built?.imageRef ?? image,
    port: 8080,
    protocol: "http",
    replicas: production ? { min: 2, max: 6 } : { min: 1, max: 2 },
    resources,
    env: { LOG_LEVEL: production ? "info" : "debug" },
    // DATABASE_URL and REDIS_URL from each store's Secret for this service, the CA file, the egress
    // rules and the start order: all from naming the stores once.
    uses: [db, cache],
    ingressFrom: [
      { namespace: gateway.gatewayNamespace, podLabels: gateway.proxyPodLabels, port: "service" },
      { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" }, port: "metrics" },
    ],
    migration: { command: ["./stock-api", "migrate"], timeoutSeconds: 300 },
  },
  { ...onCluster, transforms: [costCentre] },
);

const worker = new MicroService(
  "stock-worker",
  {
    ...common,
    namespace: ns.name,
    image,
    port: 8081,
    protocol: "http",
    replicas: production ? { min: 2, max: 4 } : { min: 1, max: 1 },
    resources,
    uses: [db, cache, events],
    // STOCK_API_URL, the worker's egress, stock-api's admission of the worker, and the worker
    // starting after stock-api: one statement.
    calls: [{ endpoint: api.endpoint, env: "STOCK_API_URL" }],
    ingressFrom: [
      { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" }, port: "metrics" },
    ],
  },
  { ...onCluster, transforms: [costCentre] },
);

// A nightly stock report: a CronJob hardened like the services, its own connection Secret, and
// only the database and DNS reachable. A run that overlaps the previous one or starts late is skipped.
new ScheduledJob(
  "stock-report",
  {
    ...common,
    namespace: ns.name,
    image,
    command: ["./stock-api", "report", "--nightly"],
    schedule: "15 1 * * *",
    activeDeadlineSeconds: 1800,
    resources,
    uses: [db],
  },
  { ...onCluster, transforms: [costCentre] },
);

// A consumer of the stock events: no serving port, so nothing can call it; its health and metrics on
// one port, which only Prometheus may reach. Two replicas in production, as a queue consumer can run.
new Worker(
  "stock-events",
  {
    ...common,
    namespace: ns.name,
    image,
    metrics: { port: 9106 },
    replicas: production ? { min: 2, max: 4 } : { min: 1, max: 1 },
    resources,
    uses: [events],
    ingressFrom: [{ namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } }],
  },
  { ...onCluster, transforms: [costCentre] },
);

// ── Routes and monitoring ─────────────────────────────────────────────────────────────────────
const urls = gateway.addRoutes(
  "stock-api",
  { namespace: team, port: 8080, pathPrefixes: ["/stock"] },
  { dependsOn: [api] },
);
for (const [service, svc] of [
  ["stock-api", api],
  ["stock-worker", worker],
] as const) {
  monitoring.monitorService(
    {
      serviceName: service,
      namespace: team,
      platform: team,
      protocol: "http",
      metricsPortName: "http",
      selectorLabels: { "app.kubernetes.io/name": service, "app.kubernetes.io/instance": service },
      resources,
    },
    { parent: svc },
  );
}
monitoring.monitorDataStores({ namespace: team, platform: team }, { dependsOn: [ns] });

export const namespace = ns.name;
export const url = api.url;
export const publicUrls = urls;
export const databaseHost = db.host;
export const cacheHost = cache.host;
export const brokerHost = events.host;
