/**
 * RedisCache: Redis (or Valkey) with one contract and two backends. `aws` is an ElastiCache
 * replication group (TLS in transit, KMS encryption at rest, auth token, failover across zones when
 * it has replicas); `inCluster` is a single-replica StatefulSet with password auth and append-only
 * persistence (the local stack). Either way every consumer gets a connection Secret in its own
 * namespace with `REDIS_URL` and its parts, and a bootstrap Job proves from inside the cluster that
 * the cache answers with those credentials before consumers start.
 *
 * Redis has one credential (the auth token / `requirepass`): every consumer's Secret carries it.
 *
 * @example
 * const cache = new RedisCache("fintech-redis", {
 *   backend: "inCluster",
 *   namespace: "fintech",
 *   maxmemoryPolicy: "allkeys-lru",
 *   consumers: [{ service: "backend-api", namespace: "fintech" }],
 * }, { provider: k8sProvider });
 * // cache.connectionSecretNames["backend-api"] → Secret with REDIS_URL, host, port, password, tls
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import type { DataServiceForConsumers } from "./MicroService";
import * as pulumi from "@pulumi/pulumi";
import type * as random from "@pulumi/random";
import {
  CLIENT_JOB_RESOURCES,
  credentialsRevisionAnnotation,
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
  contractOutputs,
  credentialsRevision,
  credentialsSecret,
  encryptionKey,
  finalSnapshotIdentifier,
  finalSnapshotSuffix,
  generatedPassword,
  inClusterServer,
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
  elastiCacheAlarms,
  resolveAlarmArgs,
  type DataStoreAlarmArgs,
} from "./aws-alarms";
import {
  ComponentArgsError,
  childName,
  memoryBytes,
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
 * Args only one backend reads: each is an error with the other backend, which would ignore it.
 * ElastiCache sizes memory by node type and runs the `engineVersion` asked for; the StatefulSet runs
 * the pinned image of `engine` (CACHE_IMAGES) with `maxmemoryMb`, a volume and container resources.
 * `image` is read by both (the bootstrap Job runs its CLI), as are `engine` and `maxmemoryPolicy`.
 */
const BACKEND_ONLY_ARGS: BackendOnlyArgs = {
  aws: {
    readBy: "ElastiCache",
    args: [
      "nodeType",
      "replicasPerShard",
      "multiAz",
      "snapshotRetentionDays",
      "finalSnapshot",
      "snapshotWindow",
      "maintenanceWindow",
      "engineVersion",
    ],
  },
  inCluster: {
    readBy: "the StatefulSet",
    args: ["maxmemoryMb", "storageSize", "storageClassName", "resources"],
  },
};
export const MAXMEMORY_POLICIES = [
  "noeviction",
  "allkeys-lru",
  "volatile-lru",
  "allkeys-lfu",
  "volatile-lfu",
  "allkeys-random",
  "volatile-random",
  "volatile-ttl",
] as const;
export type MaxmemoryPolicy = (typeof MAXMEMORY_POLICIES)[number];
export type CacheEngine = "redis" | "valkey";

/** ElastiCache engine versions per engine, and the parameter group family of each. */
export const CACHE_ENGINE_VERSIONS: Record<CacheEngine, Record<string, string>> = {
  redis: { "7.0": "redis7", "7.1": "redis7" },
  valkey: { "7.2": "valkey7", "8.0": "valkey8" },
};
const DEFAULT_ENGINE_VERSION: Record<CacheEngine, string> = { redis: "7.1", valkey: "8.0" };

export interface RedisCacheArgs extends LabelDomainArgs {
  /** `aws` (ElastiCache) or `inCluster` (StatefulSet). Example: `"aws"`. */
  backend: DataServiceBackend;
  /**
   * Namespace of the in-cluster server, the bootstrap Job and its credentials Secret. Pass the
   * namespace's Output (`PlatformNamespace.name`) so every child waits for the namespace through
   * it; a plain name is checked before anything is created (put the Namespace in `dependsOn` when
   * the same program creates it). Example: `"fintech"` or `ns.name`.
   */
  namespace: pulumi.Input<string>;
  /** Platform label value. Example: `"fintech"`. */
  platform?: string;
  /**
   * Stage label value (`<labelDomain>/stage`), one of `STAGES`. Default: none (no stage label).
   * Example: `"production"`.
   */
  stage?: Stage;
  /** `protect` + `retainOnDelete` on the stateful children (replication group and its KMS key, StatefulSet). Default `false`. */
  protect?: boolean;
  /** Engine on both backends. Default `"redis"`. */
  engine?: CacheEngine;
  /**
   * ElastiCache engine version (see CACHE_ENGINE_VERSIONS); an error with backend `inCluster`, whose
   * StatefulSet runs the pinned image of `engine` (CACHE_IMAGES). Default `"7.1"` for redis, `"8.0"`
   * for valkey.
   */
  engineVersion?: string;
  /** What to evict when memory is full (fintech: `allkeys-lru`). Default `"allkeys-lru"`. */
  maxmemoryPolicy?: MaxmemoryPolicy;
  /** Consumers: each gets a connection Secret in its namespace and is admitted by the NetworkPolicy. */
  consumers: DataServiceConsumer[];

  // --- aws backend: each is an error with backend inCluster ---
  /** ElastiCache node type (the `cache.` family). Default `"cache.t4g.small"`. */
  nodeType?: string;
  /** Read replicas besides the primary, 0–5; with at least one, failover is automatic. Default `0`. */
  replicasPerShard?: number;
  /** Place replicas in other zones and fail over across zones; needs `replicasPerShard` ≥ 1. Default: `replicasPerShard > 0`. */
  multiAz?: boolean;
  /** Daily snapshots kept, 0–35 (0 turns snapshots off). Default `1`. */
  snapshotRetentionDays?: number;
  /** Take a final snapshot (`<name>-final-<8 hex>`, new per group) when the group is deleted. Default: the value of `protect`. */
  finalSnapshot?: boolean;
  /** Daily snapshot window (UTC). Default `"03:00-04:00"`. */
  snapshotWindow?: string;
  /** Weekly maintenance window (UTC), must not overlap the snapshot window. Default `"sun:05:00-sun:06:00"`. */
  maintenanceWindow?: string;
  /** Network placement; required with backend `aws`, forbidden otherwise. */
  aws?: DataServiceAwsArgs;
  /**
   * CloudWatch alarms (instance down, storage above the usage share of maxmemory per node, replication lag of the replicas), notifying
   * `alarms.topicArn` (AlertTopic). Only with backend `aws`; in-cluster stores are watched by
   * Prometheus (DataStoreMonitoring). Default: none.
   */
  alarms?: DataStoreAlarmArgs;

  // --- inCluster backend (ElastiCache sizes memory by node type): each is an error with backend aws ---
  /** `maxmemory` in MiB; at most 75 % of the memory limit (an AOF rewrite forks the process). Default `128`. */
  maxmemoryMb?: number;
  /** Persistent volume size (append-only file). Default `"1Gi"`. */
  storageSize?: string;
  /** StorageClass of the volume. Default: the cluster's default class. */
  storageClassName?: string;
  /** Container resources of the server. Default requests 100m/128Mi, limits 500m/512Mi. */
  resources?: ContainerResources;
  /**
   * Server and bootstrap image (with backend `aws`, the bootstrap's redis-cli only). Default: pinned
   * official `redis` / `valkey/valkey` Alpine image (CACHE_IMAGES; UID 999). Example, the default pinned
   * by digest: `"redis:7.4.5-alpine@sha256:<digest>"`.
   */
  image?: string;
}

/** Official Alpine images (UID 999); Alpine carries the CA bundle the TLS check against ElastiCache needs. */
export const CACHE_IMAGES: Readonly<Record<CacheEngine, string>> = {
  redis: "redis:7.4.5-alpine",
  valkey: "valkey/valkey:8.1.3-alpine",
};
const UID = 999;
const PORT = 6379;
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** Server container resources when `resources` is not given (in-cluster backend). */
export const REDIS_DEFAULT_RESOURCES: ContainerResources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "512Mi" },
};
/**
 * Redis or Valkey for its consumers (see the module documentation). `Namespace` is the type of
 * `args.namespace`, which `egressPeer` carries.
 */
export class RedisCache<Namespace extends pulumi.Input<string> = string>
  extends pulumi.ComponentResource
  implements DataServiceForConsumers
{
  /** Hostname consumers connect to (primary endpoint or the headless Service's DNS name). */
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** Whether connections use TLS (`rediss://`): required by ElastiCache, off in-cluster. */
  public readonly tls: pulumi.Output<boolean>;
  /** Job that succeeds once the cache answers from inside the cluster with the consumers' credentials. */
  public readonly bootstrap: k8s.batch.v1.Job;
  /** Consumer service name → Secret (in its namespace) with REDIS_URL and its parts. */
  public readonly connectionSecretNames: Record<string, string>;
  /** Consumer service name → the namespace its connection Secret is in (`MicroService.uses` checks its own against it). */
  public readonly consumerNamespaces: Record<string, pulumi.Input<string>>;
  /**
   * How consumers reach the cache, for their egress NetworkPolicy: plain data when `namespace` is a
   * string; with an Output namespace, `pod.namespace` is that Output.
   */
  public readonly egressPeer: EgressPeer<Namespace>;
  /** Env var (and Secret key) a consumer's connection URL is delivered in: what `MicroService.uses` sets. */
  public readonly connectionEnv = "REDIS_URL";
  /** What a consumer waits for before it starts: the whole component: server, credentials, bootstrap check and every connection Secret. */
  public readonly ready: pulumi.Resource;

  constructor(
    name: string,
    args: RedisCacheArgs & { namespace: Namespace },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    // Validate before registering anything: bad args or no Kubernetes provider create nothing, not
    // even the component.
    const p = resolve(name, args, opts);
    const { options, dependsOn } = splitDependsOn(opts);
    super(typeToken("RedisCache"), name, {}, options);
    const labels = labelsFor(name, p.engine, args);
    const child = childOptions(this, dependsOn, dataServiceGate("RedisCache", name, this, args));

    const credentials = cacheCredentials(name, args, labels, this, child);
    const server =
      p.backend === "aws"
        ? this.elastiCache(name, args, p, credentials.password, child)
        : this.statefulSet(name, args, p, credentials.secret, credentials.revision.hex, labels, child);
    this.host = server.host;
    this.port = server.port;
    this.tls = pulumi.output(p.tls);
    this.egressPeer = backendEgressPeer(p.backend, name, args, PORT);
    this.bootstrap = cacheBootstrap(name, args, p, server, credentials, labels, this.egressPeer, child);
    this.connectionSecretNames = cacheConnectionSecrets(name, args, p, server, credentials, labels, child);

    this.consumerNamespaces = consumerNamespaces(args.consumers);
    this.ready = this;
    this.registerOutputs(contractOutputs(this));
  }

  /** ElastiCache replication group (cluster mode off) in private subnets, encrypted in transit and at rest. */
  private elastiCache(
    name: string,
    args: RedisCacheArgs,
    p: Resolved,
    password: random.RandomPassword,
    child: ChildOptions,
  ): Server {
    const net = args.aws!;
    const tags = awsTags(name, net);
    const key = encryptionKey(name, `At-rest encryption for ${name}`, tags, p.protect, child);
    const subnetGroup = privateSubnetGroup(aws.elasticache.SubnetGroup, name, net, tags, child);
    const securityGroup = clientSecurityGroup(name, `Cache clients of ${name}`, net, [PORT], tags, child);
    const parameterGroup = new aws.elasticache.ParameterGroup(
      childName(name, "params"),
      {
        family: p.parameterGroupFamily,
        description: `${name}: maxmemory-policy ${p.maxmemoryPolicy}`,
        parameters: [{ name: "maxmemory-policy", value: p.maxmemoryPolicy }],
        tags: tags("params"),
      },
      child(),
    );
    // The inputs that replace the group. An engine or version downgrade replaces the group too; an
    // upgrade only renames the future snapshot.
    const snapshotSuffix = finalSnapshotSuffix(
      name,
      p.finalSnapshot,
      {
        engine: p.engine,
        engineVersion: p.engineVersion,
        port: String(PORT),
        atRestEncryptionEnabled: "true",
        kmsKeyId: key.arn,
        subnetGroupName: subnetGroup.name,
      },
      this,
    );
    const group = new aws.elasticache.ReplicationGroup(
      childName(name, "cache"),
      {
        description: `${p.engine} for ${name}`,
        engine: p.engine,
        engineVersion: p.engineVersion,
        autoMinorVersionUpgrade: true,
        nodeType: p.nodeType,
        port: PORT,
        numCacheClusters: 1 + p.replicasPerShard,
        automaticFailoverEnabled: p.replicasPerShard > 0,
        multiAzEnabled: p.multiAz,
        parameterGroupName: parameterGroup.name,
        subnetGroupName: subnetGroup.name,
        securityGroupIds: [securityGroup.id],
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        authToken: password.result,
        atRestEncryptionEnabled: true,
        kmsKeyId: key.arn,
        snapshotRetentionLimit: p.snapshotRetentionDays,
        snapshotWindow: p.snapshotWindow,
        maintenanceWindow: p.maintenanceWindow,
        ...finalSnapshotIdentifier(name, snapshotSuffix),
        tags: tags("cache"),
      },
      child(statefulOptions(p.protect)),
    );
    if (args.alarms)
      createAlarms(
        name,
        elastiCacheAlarms(
          { replicationGroupId: group.replicationGroupId, nodes: 1 + p.replicasPerShard },
          resolveAlarmArgs(args.alarms),
        ),
        args.alarms.topicArn,
        net.tags ?? {},
        child(),
      );
    return {
      host: group.primaryEndpointAddress,
      port: group.port.apply((port) => port ?? PORT),
      resource: group,
    };
  }

  /** The in-cluster server (see inClusterServer) with append-only persistence and a mounted config. */
  private statefulSet(
    name: string,
    args: RedisCacheArgs,
    p: Resolved,
    credentials: k8s.core.v1.Secret,
    credentialsRevision: pulumi.Output<string>,
    labels: LabelsFor,
    child: ChildOptions,
  ): Server {
    const serverLabels = labels("cache");
    const conf = [
      // "-::*": listen on IPv6 too when the pod has it, without failing when it does not.
      "bind * -::*",
      `port ${PORT}`,
      "dir /data",
      "appendonly yes",
      "appendfsync everysec",
      `maxmemory ${p.maxmemoryMb}mb`,
      `maxmemory-policy ${p.maxmemoryPolicy}`,
      "include /etc/redis/auth/auth.conf",
      "",
    ].join("\n");
    const config = new k8s.core.v1.ConfigMap(
      childName(name, "config"),
      {
        metadata: { name: childName(name, "config"), namespace: args.namespace, labels: serverLabels },
        data: { "redis.conf": conf },
      },
      child(),
    );
    const server = inClusterServer(
      name,
      args,
      p,
      {
        labels: serverLabels,
        ports: [{ name: "redis", port: PORT }],
        admit: { consumers: PORT, bootstrap: PORT },
        uid: UID,
        // The config is mounted, not templated in: hash it so a change rolls the pod.
        // The credentials revision restarts the server when the auth token is replaced.
        podAnnotations: {
          [domainKey(args.labelDomain, "config-hash")]: stableHash(conf),
          [credentialsRevisionAnnotation(args.labelDomain)]: credentialsRevision,
        },
        dataMountPath: "/data",
        scratchPaths: ["/tmp"],
        volumes: [
          { name: "config", configMap: { name: config.metadata.name } },
          {
            name: "auth",
            secret: {
              secretName: credentials.metadata.name,
              items: [{ key: "auth.conf", path: "auth.conf" }],
            },
          },
        ],
        container: {
          name: p.engine,
          image: p.image,
          command: [`${p.engine}-server`, "/etc/redis/conf/redis.conf"],
          env: authEnv(credentials),
          ...standardProbes({
            check: { exec: { command: ["/bin/sh", "-c", `${p.engine}-cli ping | grep -q PONG`] } },
          }),
          resources: p.resources,
          volumeMounts: [
            { name: "config", mountPath: "/etc/redis/conf", readOnly: true },
            { name: "auth", mountPath: "/etc/redis/auth", readOnly: true },
          ],
        },
      },
      child,
    );
    return { host: pulumi.output(server.host), port: pulumi.output(PORT), resource: server.statefulSet };
  }
}

interface Server {
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  resource: pulumi.Resource;
}

/** The auth token, the credentials Secret holding it and its revision. */
interface Credentials {
  password: random.RandomPassword;
  secret: k8s.core.v1.Secret;
  revision: random.RandomId;
}

/**
 * The one credential (the auth token) in the credentials Secret. Replacing the token restarts the
 * in-cluster server (redis reads `requirepass` only at start) and reruns the Job against the new
 * token: both pod templates carry the revision.
 */
function cacheCredentials(
  name: string,
  args: RedisCacheArgs,
  labels: LabelsFor,
  parent: pulumi.Resource,
  child: ChildOptions,
): Credentials {
  const password = generatedPassword(name, "auth-token", parent);
  const secret = credentialsSecret(
    name,
    args.namespace,
    labels("cache"),
    // `auth.conf` is included by the in-cluster server's redis.conf, so the password never sits in a ConfigMap or argv.
    { password: password.result, "auth.conf": pulumi.interpolate`requirepass ${password.result}\n` },
    child,
  );
  return { password, secret, revision: credentialsRevision(name, { password: password.result }, parent) };
}

/** The bootstrap: a NetworkPolicy letting the Job reach the cache, and the Job waiting for PONG. */
function cacheBootstrap(
  name: string,
  args: RedisCacheArgs,
  p: Resolved,
  server: Server,
  credentials: Credentials,
  labels: LabelsFor,
  reach: EgressPeer<pulumi.Input<string>>,
  child: ChildOptions,
): k8s.batch.v1.Job {
  return bootstrapJob(
    {
      name,
      namespace: args.namespace,
      labels: labels("cache-bootstrap", "bootstrap"),
      reach,
      revision: credentials.revision.hex,
      labelDomain: args.labelDomain,
      job: {
        uid: UID,
        activeDeadlineSeconds: 600,
        container: {
          name: "bootstrap",
          image: p.image,
          command: ["/bin/sh", "-c", readinessScript(p)],
          env: [
            { name: "CACHE_HOST", value: server.host },
            { name: "CACHE_PORT", value: server.port.apply(String) },
            ...authEnv(credentials.secret),
          ],
          resources: CLIENT_JOB_RESOURCES,
        },
      },
      after: [server.resource, credentials.secret],
    },
    child,
  );
}

/** Each consumer's connection Secret: one credential, so every one carries the auth token. */
function cacheConnectionSecrets(
  name: string,
  args: RedisCacheArgs,
  p: Resolved,
  server: Server,
  credentials: Credentials,
  labels: LabelsFor,
  child: ChildOptions,
): Record<string, string> {
  return connectionSecrets(
    name,
    args.consumers,
    labels("cache"),
    () =>
      pulumi.all([server.host, server.port, credentials.password.result]).apply(([host, port, pw]) => ({
        REDIS_URL: `${p.tls ? "rediss" : "redis"}://:${pw}@${host}:${port}/0`,
        host,
        port: String(port),
        password: pw,
        tls: String(p.tls),
      })),
    child,
    args.labelDomain,
  );
}

interface Resolved {
  backend: DataServiceBackend;
  protect: boolean;
  engine: CacheEngine;
  engineVersion: string;
  parameterGroupFamily: string;
  tls: boolean;
  maxmemoryPolicy: MaxmemoryPolicy;
  nodeType: string;
  replicasPerShard: number;
  multiAz: boolean;
  snapshotRetentionDays: number;
  finalSnapshot: boolean;
  snapshotWindow: string;
  maintenanceWindow: string;
  maxmemoryMb: number;
  storageSize: string;
  resources: ContainerResources;
  image: string;
}

function resolve(
  name: string,
  args: RedisCacheArgs,
  opts: pulumi.ComponentResourceOptions | undefined,
): Resolved {
  const engine = args.engine ?? "redis";
  const engineVersion = args.engineVersion ?? DEFAULT_ENGINE_VERSION[engine] ?? "7.1";
  const replicasPerShard = args.replicasPerShard ?? 0;
  const r: Resolved = {
    backend: args.backend,
    protect: args.protect ?? false,
    engine,
    engineVersion,
    parameterGroupFamily: CACHE_ENGINE_VERSIONS[engine]?.[engineVersion] ?? "",
    tls: args.backend === "aws",
    maxmemoryPolicy: args.maxmemoryPolicy ?? "allkeys-lru",
    nodeType: args.nodeType ?? "cache.t4g.small",
    replicasPerShard,
    multiAz: args.multiAz ?? replicasPerShard > 0,
    snapshotRetentionDays: args.snapshotRetentionDays ?? 1,
    finalSnapshot: args.finalSnapshot ?? args.protect ?? false,
    snapshotWindow: args.snapshotWindow ?? "03:00-04:00",
    maintenanceWindow: args.maintenanceWindow ?? "sun:05:00-sun:06:00",
    maxmemoryMb: args.maxmemoryMb ?? 128,
    storageSize: args.storageSize ?? "1Gi",
    resources: args.resources ?? REDIS_DEFAULT_RESOURCES,
    image: args.image ?? CACHE_IMAGES[engine] ?? CACHE_IMAGES.redis,
  };

  const problems = sharedArgProblems(name, args, opts);
  problems.push(...backendOnlyArgProblems(args.backend, args, BACKEND_ONLY_ARGS));
  problems.push(...alarmArgProblems(args.backend, args.alarms));
  if (engine !== "redis" && engine !== "valkey")
    problems.push(`engine: expected "redis" or "valkey", found "${String(engine)}"`);
  if (!(MAXMEMORY_POLICIES as readonly string[]).includes(r.maxmemoryPolicy))
    problems.push(
      `maxmemoryPolicy: expected one of ${MAXMEMORY_POLICIES.join(", ")}, found "${r.maxmemoryPolicy}"`,
    );

  if (args.backend === "aws") {
    const versions = Object.keys(CACHE_ENGINE_VERSIONS[engine] ?? {});
    if (versions.length > 0 && !versions.includes(engineVersion))
      problems.push(
        `engineVersion: expected one of ${versions.map((v) => `"${v}"`).join(", ")} for ${engine}, found "${engineVersion}"`,
      );
    if (!/^cache\.[a-z0-9-]+\.[a-z0-9]+$/.test(r.nodeType))
      problems.push(
        `nodeType: expected an ElastiCache node type such as "cache.r7g.large", found "${r.nodeType}"`,
      );
    if (!Number.isInteger(replicasPerShard) || replicasPerShard < 0 || replicasPerShard > 5)
      problems.push(`replicasPerShard: expected a whole number from 0 to 5, found ${replicasPerShard}`);
    else if (args.multiAz === true && replicasPerShard === 0)
      problems.push(
        "multiAz: needs replicasPerShard of at least 1 (Multi-AZ fails over to a replica in another zone)",
      );
    if (
      !Number.isInteger(r.snapshotRetentionDays) ||
      r.snapshotRetentionDays < 0 ||
      r.snapshotRetentionDays > 35
    )
      problems.push(
        `snapshotRetentionDays: expected a whole number of days from 0 to 35, found ${r.snapshotRetentionDays}`,
      );
    if (!DAILY_WINDOW.test(r.snapshotWindow))
      problems.push(
        `snapshotWindow: expected a UTC window such as "03:00-04:00", found "${r.snapshotWindow}"`,
      );
    if (!WEEKLY_WINDOW.test(r.maintenanceWindow))
      problems.push(
        `maintenanceWindow: expected a UTC window such as "sun:05:00-sun:06:00", found "${r.maintenanceWindow}"`,
      );
  } else {
    const limit = memoryBytes(r.resources.limits.memory);
    if (!Number.isInteger(r.maxmemoryMb) || r.maxmemoryMb < 32)
      problems.push(`maxmemoryMb: expected a whole number of MiB, at least 32, found ${r.maxmemoryMb}`);
    else if (Number.isFinite(limit) && r.maxmemoryMb * 1024 ** 2 > limit * 0.75)
      problems.push(
        `maxmemoryMb: expected at most 75 % of the memory limit ${r.resources.limits.memory} (${Math.floor((limit * 0.75) / 1024 ** 2)}; an append-only rewrite forks the process), found ${r.maxmemoryMb}`,
      );
  }
  if (problems.length > 0) throw new ComponentArgsError("RedisCache", name, problems);
  return r;
}

/** The password for `redis-cli`/`valkey-cli` through the environment, so it never appears in argv. */
function authEnv(credentials: k8s.core.v1.Secret): k8s.types.input.core.v1.EnvVar[] {
  return [
    secretKeyEnv("REDISCLI_AUTH", credentials, "password"),
    secretKeyEnv("VALKEYCLI_AUTH", credentials, "password"),
  ];
}

/**
 * Waits until the cache answers PING with the consumers' password from inside the cluster (proving
 * DNS, NetworkPolicy/security group, TLS and auth), printing the last reply while it waits.
 * Against ElastiCache the certificate is verified against the image's CA bundle.
 */
function readinessScript(p: Resolved): string {
  const tls = p.tls ? ` --tls --cacert ${CA_BUNDLE}` : "";
  return [
    "set -u",
    "while true; do",
    `  reply=$(${p.engine}-cli -h "$CACHE_HOST" -p "$CACHE_PORT"${tls} ping 2>&1) || true`,
    '  if [ "$reply" = "PONG" ]; then echo "cache ready"; exit 0; fi',
    '  echo "waiting for $CACHE_HOST:$CACHE_PORT: $reply"',
    "  sleep 3",
    "done",
  ].join("\n");
}
