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
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  ComponentArgsError,
  URL_SAFE_PASSWORD,
  childName,
  dataServiceArgProblems,
  dataServiceIngressRules,
  dnsEgressRule,
  egressPeerRule,
  memoryBytes,
  oneShotJobSpec,
  podPeer,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  scratchVolumes,
  selectorLabels,
  serviceHost,
  splitDependsOn,
  stableHash,
  standardLabels,
  standardProbes,
  statefulOptions,
  typeToken,
  withDependsOn,
  type ContainerResources,
  type DataServiceAwsArgs,
  type DataServiceBackend,
  type DataServiceConsumer,
  type EgressPeer,
} from "./lib";

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

export interface RedisCacheArgs {
  /** `aws` (ElastiCache) or `inCluster` (StatefulSet). Example: `"aws"`. */
  backend: DataServiceBackend;
  /** Namespace of the in-cluster server, the bootstrap Job and its credentials Secret. Example: `"fintech"`. */
  namespace: string;
  /** Platform label value. Example: `"fintech"`. */
  platform?: string;
  /** Stage label value. Example: `"production"`. */
  stage?: string;
  /** `protect` + `retainOnDelete` on the stateful children (replication group and its KMS key, StatefulSet). Default `false`. */
  protect?: boolean;
  /** Engine on both backends. Default `"redis"`. */
  engine?: CacheEngine;
  /** ElastiCache engine version (see CACHE_ENGINE_VERSIONS). Default `"7.1"` for redis, `"8.0"` for valkey. */
  engineVersion?: string;
  /** What to evict when memory is full (fintech: `allkeys-lru`). Default `"allkeys-lru"`. */
  maxmemoryPolicy?: MaxmemoryPolicy;
  /** Consumers: each gets a connection Secret in its namespace and is admitted by the NetworkPolicy. */
  consumers: DataServiceConsumer[];

  // --- aws backend ---
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

  // --- inCluster backend (ElastiCache sizes memory by node type) ---
  /** `maxmemory` in MiB; at most 75 % of the memory limit (an AOF rewrite forks the process). Default `128`. */
  maxmemoryMb?: number;
  /** Persistent volume size (append-only file). Default `"1Gi"`. */
  storageSize?: string;
  /** StorageClass of the volume. Default: the cluster's default class. */
  storageClassName?: string;
  /** Container resources of the server. Default requests 100m/128Mi, limits 500m/512Mi. */
  resources?: ContainerResources;
  /** Server and bootstrap image. Default: pinned official `redis` / `valkey/valkey` Alpine image (UID 999). */
  image?: string;
}

/** Official Alpine images (UID 999); Alpine carries the CA bundle the TLS check against ElastiCache needs. */
const IMAGES: Record<CacheEngine, string> = {
  redis: "redis:7.4.5-alpine",
  valkey: "valkey/valkey:8.1.3-alpine",
};
const UID = 999;
const PORT = 6379;
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const DEFAULT_RESOURCES: ContainerResources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "512Mi" },
};
const JOB_RESOURCES: ContainerResources = {
  requests: { cpu: "10m", memory: "16Mi" },
  limits: { cpu: "100m", memory: "64Mi" },
};
/**
 * Pod-template annotation of the bootstrap Job and the in-cluster server: the `hex` of a RandomId
 * whose `keepers` hold the auth token. Replacing the token changes it, which restarts the server
 * (redis reads `requirepass` only at start) and reruns the Job against the new token. Nothing
 * non-secret about a RandomPassword changes when it is replaced (its URN is stable, its id a
 * constant), so the keepers hold the token itself, kept secret in state (`additionalSecretOutputs`).
 * The hex is random, not derived from it: it reveals only that the token changed.
 */
const CREDENTIALS_REVISION = "platform.example.com/credentials-revision";

export class RedisCache extends pulumi.ComponentResource {
  /** Hostname consumers connect to (primary endpoint or the headless Service's DNS name). */
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** Whether connections use TLS (`rediss://`): required by ElastiCache, off in-cluster. */
  public readonly tls: pulumi.Output<boolean>;
  /** Job that succeeds once the cache answers from inside the cluster with the consumers' credentials. */
  public readonly bootstrap: k8s.batch.v1.Job;
  /** Consumer service name → Secret (in its namespace) with REDIS_URL and its parts. */
  public readonly connectionSecretNames: Record<string, string>;
  /** How consumers reach the cache, for their egress NetworkPolicy. */
  public readonly egressPeer: EgressPeer;

  constructor(name: string, args: RedisCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything: bad args create nothing, not even the component.
    const p = resolve(name, args);
    const { options, dependsOn } = splitDependsOn(opts);
    super(typeToken("RedisCache"), name, {}, options);

    const labels = (component: string, suffix?: string) =>
      standardLabels({
        name: suffix ? childName(name, suffix) : name,
        component,
        version: p.engine,
        platform: args.platform,
        stage: args.stage,
      });
    const child = (
      extra: pulumi.CustomResourceOptions = {},
      ...own: pulumi.Resource[]
    ): pulumi.CustomResourceOptions => ({
      parent: this,
      dependsOn: withDependsOn(dependsOn, ...own),
      ...extra,
    });

    const password = new random.RandomPassword(childName(name, "auth-token"), URL_SAFE_PASSWORD, {
      parent: this,
    });
    const credentials = new k8s.core.v1.Secret(
      childName(name, "credentials"),
      {
        metadata: {
          name: childName(name, "credentials"),
          namespace: args.namespace,
          labels: labels("cache"),
        },
        // `auth.conf` is included by the in-cluster server's redis.conf, so the password never sits in a ConfigMap or argv.
        stringData: {
          password: password.result,
          "auth.conf": pulumi.interpolate`requirepass ${password.result}\n`,
        },
      },
      child(),
    );

    const revision = new random.RandomId(
      childName(name, "credentials-revision"),
      { byteLength: 4, keepers: { password: password.result } },
      { parent: this, additionalSecretOutputs: ["keepers"] },
    );

    const server =
      p.backend === "aws"
        ? this.elastiCache(name, args, p, password, child)
        : this.statefulSet(name, args, p, credentials, revision.hex, labels, child);
    this.host = server.host;
    this.port = server.port;
    this.tls = pulumi.output(p.tls);
    this.egressPeer =
      p.backend === "aws"
        ? { cidrs: [...(args.aws?.subnetCidrs ?? [])], port: PORT }
        : { pod: { name, namespace: args.namespace }, port: PORT };

    const jobLabels = labels("cache-bootstrap", "bootstrap");
    const jobPolicy = new k8s.networking.v1.NetworkPolicy(
      childName(name, "bootstrap"),
      {
        metadata: { name: childName(name, "bootstrap"), namespace: args.namespace, labels: jobLabels },
        spec: {
          podSelector: { matchLabels: selectorLabels(childName(name, "bootstrap")) },
          policyTypes: ["Ingress", "Egress"],
          egress: [egressPeerRule(this.egressPeer), dnsEgressRule()],
        },
      },
      child(),
    );
    const jobSpec = oneShotJobSpec({
      labels: jobLabels,
      uid: UID,
      activeDeadlineSeconds: 600,
      container: {
        name: "bootstrap",
        image: p.image,
        command: ["/bin/sh", "-c", readinessScript(p)],
        env: [
          { name: "CACHE_HOST", value: server.host },
          { name: "CACHE_PORT", value: server.port.apply(String) },
          ...authEnv(credentials),
        ],
        resources: JOB_RESOURCES,
      },
    });
    // Auto-named, so a replacement is created before the old Job is deleted. Any change to the pod
    // template replaces a Job: a new script or image, and a new credentials revision, rerun it.
    this.bootstrap = new k8s.batch.v1.Job(
      childName(name, "bootstrap"),
      {
        metadata: { namespace: args.namespace, labels: jobLabels },
        // oneShotJobSpec returns plain objects; only the template's metadata is added to.
        spec: {
          ...jobSpec,
          template: {
            ...(jobSpec.template as k8s.types.input.core.v1.PodTemplateSpec),
            metadata: { labels: jobLabels, annotations: { [CREDENTIALS_REVISION]: revision.hex } },
          },
        },
      },
      child({}, server.resource, credentials, jobPolicy),
    );

    this.connectionSecretNames = {};
    for (const c of args.consumers) {
      const secretName = `${c.service}-${name}`;
      this.connectionSecretNames[c.service] = secretName;
      new k8s.core.v1.Secret(
        childName(name, `${c.service}-connection`),
        {
          metadata: {
            name: secretName,
            namespace: c.namespace,
            labels: { ...labels("cache"), "platform.example.com/consumer": c.service },
          },
          stringData: pulumi.all([server.host, server.port, password.result]).apply(([host, port, pw]) => ({
            REDIS_URL: `${p.tls ? "rediss" : "redis"}://:${pw}@${host}:${port}/0`,
            host,
            port: String(port),
            password: pw,
            tls: String(p.tls),
          })),
        },
        child(),
      );
    }

    this.registerOutputs({
      host: this.host,
      port: this.port,
      tls: this.tls,
      bootstrap: this.bootstrap,
      connectionSecretNames: this.connectionSecretNames,
      egressPeer: this.egressPeer,
    });
  }

  /** ElastiCache replication group (cluster mode off) in private subnets, encrypted in transit and at rest. */
  private elastiCache(
    name: string,
    args: RedisCacheArgs,
    p: Resolved,
    password: random.RandomPassword,
    child: (extra?: pulumi.CustomResourceOptions, ...own: pulumi.Resource[]) => pulumi.CustomResourceOptions,
  ): Server {
    const net = args.aws!;
    const tags = (suffix: string) => ({ ...net.tags, Name: childName(name, suffix) });
    const stateful = statefulOptions(p.protect);
    // As stateful as the data: without the key, snapshots cannot be restored.
    const key = new aws.kms.Key(
      childName(name, "kms"),
      {
        description: `At-rest encryption for ${name}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: tags("kms"),
      },
      child(stateful),
    );
    const subnetGroup = new aws.elasticache.SubnetGroup(
      childName(name, "subnets"),
      { description: `Private subnets of ${name}`, subnetIds: net.subnetIds, tags: tags("subnets") },
      child(),
    );
    const securityGroup = new aws.ec2.SecurityGroup(
      childName(name, "sg"),
      {
        description: `Cache clients of ${name}`,
        vpcId: net.vpcId,
        ingress: dataServiceIngressRules(net, [PORT]),
        tags: tags("sg"),
      },
      child(),
    );
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
    // Final snapshot names are unique per account and region, so a fixed one collides the second time
    // a group of this name is deleted (a replacement, or the stack destroyed and deployed again).
    // The suffix lives as long as the group: a new stack draws a new one, and so does every change of
    // an input that replaces the group (the keepers). The deleted group keeps the name it had.
    const snapshotSuffix = p.finalSnapshot
      ? new random.RandomId(
          childName(name, "final-snapshot-suffix"),
          {
            byteLength: 4,
            // An engine or version downgrade replaces the group too; an upgrade only renames the future snapshot.
            keepers: {
              engine: p.engine,
              engineVersion: p.engineVersion,
              port: String(PORT),
              atRestEncryptionEnabled: "true",
              kmsKeyId: key.arn,
              subnetGroupName: subnetGroup.name,
            },
          },
          { parent: this },
        )
      : undefined;
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
        ...(snapshotSuffix
          ? { finalSnapshotIdentifier: pulumi.interpolate`${childName(name, "final")}-${snapshotSuffix.hex}` }
          : {}),
        tags: tags("cache"),
      },
      child(stateful),
    );
    return {
      host: group.primaryEndpointAddress,
      port: group.port.apply((port) => port ?? PORT),
      resource: group,
    };
  }

  /** A single-replica StatefulSet with append-only persistence, a NetworkPolicy admitting only consumers and a PodDisruptionBudget. */
  private statefulSet(
    name: string,
    args: RedisCacheArgs,
    p: Resolved,
    credentials: k8s.core.v1.Secret,
    credentialsRevision: pulumi.Output<string>,
    labels: (component: string, suffix?: string) => Record<string, string>,
    child: (extra?: pulumi.CustomResourceOptions, ...own: pulumi.Resource[]) => pulumi.CustomResourceOptions,
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
    const service = new k8s.core.v1.Service(
      name,
      {
        metadata: { name, namespace: args.namespace, labels: serverLabels },
        spec: {
          clusterIP: "None",
          selector: selectorLabels(name),
          ports: [{ name: "redis", port: PORT, targetPort: "redis" }],
        },
      },
      child(),
    );
    new k8s.networking.v1.NetworkPolicy(
      name,
      {
        metadata: { name, namespace: args.namespace, labels: serverLabels },
        spec: {
          podSelector: { matchLabels: selectorLabels(name) },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            {
              from: [
                ...args.consumers.map((c) => podPeer(c.service, c.namespace)),
                podPeer(childName(name, "bootstrap"), args.namespace),
              ],
              ports: [{ protocol: "TCP", port: PORT }],
            },
          ],
          egress: [dnsEgressRule()],
        },
      },
      child(),
    );
    const scratch = scratchVolumes(["/tmp"]);
    const statefulSet = new k8s.apps.v1.StatefulSet(
      name,
      {
        metadata: { name, namespace: args.namespace, labels: serverLabels },
        spec: {
          replicas: 1,
          serviceName: service.metadata.name,
          selector: { matchLabels: selectorLabels(name) },
          updateStrategy: { type: "RollingUpdate" },
          persistentVolumeClaimRetentionPolicy: {
            whenDeleted: p.protect ? "Retain" : "Delete",
            whenScaled: "Retain",
          },
          template: {
            // The config is mounted, not templated in: hash it so a change rolls the pod.
            // The credentials revision restarts the server when the auth token is replaced.
            metadata: {
              labels: serverLabels,
              annotations: {
                "platform.example.com/config-hash": stableHash(conf),
                [CREDENTIALS_REVISION]: credentialsRevision,
              },
            },
            spec: {
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurityContext(UID),
              volumes: [
                ...scratch.volumes,
                { name: "config", configMap: { name: config.metadata.name } },
                {
                  name: "auth",
                  secret: {
                    secretName: credentials.metadata.name,
                    items: [{ key: "auth.conf", path: "auth.conf" }],
                  },
                },
              ],
              containers: [
                {
                  name: p.engine,
                  image: p.image,
                  command: [`${p.engine}-server`, "/etc/redis/conf/redis.conf"],
                  ports: [{ name: "redis", containerPort: PORT }],
                  env: authEnv(credentials),
                  ...standardProbes({
                    check: { exec: { command: ["/bin/sh", "-c", `${p.engine}-cli ping | grep -q PONG`] } },
                  }),
                  resources: p.resources,
                  securityContext: restrictedContainerSecurityContext(UID),
                  volumeMounts: [
                    { name: "data", mountPath: "/data" },
                    { name: "config", mountPath: "/etc/redis/conf", readOnly: true },
                    { name: "auth", mountPath: "/etc/redis/auth", readOnly: true },
                    ...scratch.mounts,
                  ],
                },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels: selectorLabels(name) },
              spec: {
                accessModes: ["ReadWriteOnce"],
                ...(args.storageClassName ? { storageClassName: args.storageClassName } : {}),
                resources: { requests: { storage: p.storageSize } },
              },
            },
          ],
        },
      },
      child(statefulOptions(p.protect)),
    );
    // One replica: maxUnavailable 1 lets a node drain evict it (minAvailable 1 would block every drain),
    // and an unhealthy pod never counts against the budget.
    new k8s.policy.v1.PodDisruptionBudget(
      childName(name, "pdb"),
      {
        metadata: { name: childName(name, "pdb"), namespace: args.namespace, labels: serverLabels },
        spec: {
          selector: { matchLabels: selectorLabels(name) },
          maxUnavailable: 1,
          unhealthyPodEvictionPolicy: "AlwaysAllow",
        },
      },
      child(),
    );
    return {
      host: pulumi.output(serviceHost(name, args.namespace)),
      port: pulumi.output(PORT),
      resource: statefulSet,
    };
  }
}

interface Server {
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  resource: pulumi.Resource;
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

function resolve(name: string, args: RedisCacheArgs): Resolved {
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
    resources: args.resources ?? DEFAULT_RESOURCES,
    image: args.image ?? IMAGES[engine] ?? IMAGES.redis,
  };

  const problems = dataServiceArgProblems({
    name,
    backend: args.backend,
    namespace: args.namespace,
    consumers: args.consumers,
    aws: args.aws,
    resources: args.resources,
    storageSize: args.storageSize,
    image: args.image,
  });
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
    if (!/^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$/.test(r.snapshotWindow))
      problems.push(
        `snapshotWindow: expected a UTC window such as "03:00-04:00", found "${r.snapshotWindow}"`,
      );
    if (
      !/^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$/.test(
        r.maintenanceWindow,
      )
    )
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
  const ref = { secretKeyRef: { name: credentials.metadata.name, key: "password" } };
  return [
    { name: "REDISCLI_AUTH", valueFrom: ref },
    { name: "VALKEYCLI_AUTH", valueFrom: ref },
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
