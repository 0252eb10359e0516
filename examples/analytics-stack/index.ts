/**
 * A second shape of consumer: an "analytics" platform of three services on PostgreSQL, Redis and
 * RabbitMQ in one namespace of an existing cluster, calling one service of another team's stack.
 * Where examples/consumer-stack shows every component, this one shows relations: each stated once,
 * by objects, and a store used under an env name of the service's own.
 *
 * scripts/consumer-test.sh type-checks it against the packed tarball and runs `mock-run.ts` with
 * `@platform/microservices-platform/testing`, as a test of its own.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
  ManagedPostgres,
  MessageBroker,
  MicroService,
  PlatformNamespace,
  RedisCache,
  type MicroServiceArgs,
} from "@platform/microservices-platform";

const config = new pulumi.Config();
const stage = config.get("stage") === "production" ? "production" : "staging";
const provider = new k8s.Provider("analytics-k8s", { kubeconfig: config.get("kubeconfig") ?? "{}" });
const onCluster = { provider };
const common = { platform: "analytics", stage, labelDomain: "analytics.acme.io" } as const;

const ns = new PlatformNamespace("analytics", { ...common }, onCluster);

const db = new ManagedPostgres(
  "analytics-pg",
  {
    backend: "inCluster",
    ...common,
    namespace: ns.name,
    consumers: [
      { service: "ingest", namespace: ns.name, database: "events" },
      { service: "query", namespace: ns.name, database: "events" },
    ],
  },
  onCluster,
);
const cache = new RedisCache(
  "analytics-cache",
  {
    backend: "inCluster",
    ...common,
    namespace: ns.name,
    consumers: [{ service: "query", namespace: ns.name }],
  },
  onCluster,
);
const events = new MessageBroker(
  "analytics-events",
  {
    backend: "inCluster",
    ...common,
    namespace: ns.name,
    exchanges: ["analytics_events"],
    consumers: [
      { service: "ingest", namespace: ns.name },
      { service: "aggregator", namespace: ns.name },
    ],
  },
  onCluster,
);

const service = (image: string, port: number): Omit<MicroServiceArgs, "namespace"> => ({
  ...common,
  image: `ghcr.io/acme-analytics/${image}:1.4.0`,
  port,
  protocol: "http",
  replicas: { min: 2, max: 4 },
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
});

const ingest = new MicroService(
  "ingest",
  {
    ...service("ingest", 8080),
    namespace: ns.name,
    // The database under a name of the service's own; the broker under its usual RABBITMQ_URL.
    uses: [{ store: db, env: "EVENTS_DATABASE_URL" }, events],
    migration: { command: ["./ingest", "migrate"] },
  },
  onCluster,
);
const aggregator = new MicroService(
  "aggregator",
  {
    ...service("aggregator", 8081),
    namespace: ns.name,
    uses: [events],
    calls: [{ endpoint: ingest.endpoint, env: "INGEST_URL" }],
  },
  onCluster,
);
const query = new MicroService(
  "query",
  {
    ...service("query", 8082),
    namespace: ns.name,
    uses: [db, cache],
    calls: [
      { endpoint: aggregator.endpoint, env: "AGGREGATOR_URL" },
      // Another team's service, from their stack (a StackReference in a real program). Their
      // namespace is theirs: they admit us, so we create no policy there.
      {
        endpoint: { name: "ledger", namespace: "finance", port: 7000, protocol: "http" },
        env: "LEDGER_URL",
        admission: false,
      },
    ],
  },
  onCluster,
);

export const namespace = ns.name;
export const urls = { ingest: ingest.url, aggregator: aggregator.url, query: query.url };
