/**
 * Another team's stack on the platform library: a namespace with the platform's guard rails, a
 * PostgreSQL database and the service that uses it, on a cluster the team already has. Nothing here
 * comes from the platform's own program (no catalogs, no stage profiles): only the library's
 * components and their documented args.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ManagedPostgres, MicroService, PlatformNamespace } from "@platform/microservices-platform";

const config = new pulumi.Config();
const stage = config.get("stage") ?? "local";
if (stage !== "local" && stage !== "staging" && stage !== "production")
  throw new Error(`consumer-stack:stage must be local, staging or production, found "${stage}"`);
const image = config.require("image");
const production = stage === "production";

// The cluster is explicit: every component inherits this provider, none falls back to an ambient one.
const kubeContext = config.get("kubeContext");
const cluster = new k8s.Provider("cluster", kubeContext ? { context: kubeContext } : {});

const ns = new PlatformNamespace(
  "inventory-team",
  { platform: "inventory-team", stage, protect: production },
  { provider: cluster },
);

const db = new ManagedPostgres(
  "stock-db",
  {
    backend: "inCluster",
    namespace: "inventory-team",
    platform: "inventory-team",
    stage,
    protect: production,
    engineVersion: "16",
    extensions: ["pgcrypto"],
    consumers: [{ service: "stock-api", namespace: "inventory-team", database: "stock" }],
    storageSize: production ? "50Gi" : "5Gi",
  },
  { provider: cluster, dependsOn: [ns] },
);

const connectionSecret = db.connectionSecretNames["stock-api"];
if (!connectionSecret) throw new Error("ManagedPostgres created no connection Secret for stock-api");

const api = new MicroService(
  "stock-api",
  {
    namespace: ns.name,
    platform: "inventory-team",
    stage,
    image,
    port: 8080,
    protocol: "http",
    replicas: production ? { min: 2, max: 6 } : { min: 1, max: 2 },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    env: { LOG_LEVEL: production ? "info" : "debug" },
    secretEnv: { DATABASE_URL: { secretName: connectionSecret, key: "DATABASE_URL" } },
    egress: [db.egressPeer],
    migration: { command: ["./stock-api", "migrate"], timeoutSeconds: 300 },
  },
  { provider: cluster, dependsOn: [db] },
);

export const namespace = ns.name;
export const url = api.url;
export const databaseHost = db.host;
