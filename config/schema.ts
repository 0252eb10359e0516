/**
 * The stack configuration the platform program accepts, as zod schemas.
 *
 * Every key lives in the `platform:` namespace of a stack file (`Pulumi.<stack>.yaml`). Each top-level
 * key has its own schema so that one bad key never hides the problems of another: the loader parses
 * them independently and reports every problem at once. Everything here is optional; what a stack does
 * not say is filled in by its stage profile (`config/profiles.ts`).
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { INSTANCE_TYPES } from "../analysis/capacity";
import { EKS_KUBERNETES_VERSIONS, imageReferenceProblem, ipv4CidrProblem } from "../components/lib";
import prices from "../scripts/cost/prices.eu-west-1.json";

export const STAGES = ["local", "staging", "production"] as const;
export type Stage = (typeof STAGES)[number];

export const CATALOG_NAMES = ["ecommerce", "fintech", "trading"] as const;
export type CatalogName = (typeof CATALOG_NAMES)[number];

export const BACKENDS = ["aws", "inCluster"] as const;
export type Backend = (typeof BACKENDS)[number];

/** Kubernetes versions EKS offers that this program is tested against (the component library's list). */
export const KUBERNETES_VERSIONS = EKS_KUBERNETES_VERSIONS;

/** PostgreSQL major versions (RDS and the official image both offer them). */
export const POSTGRES_VERSIONS = ["15", "16", "17"] as const;

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: "a DNS label (lowercase letters, digits and '-')" })
  .max(63, { error: "at most 63 characters" });

const domainName = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, { error: "a DNS domain such as shop.example.com" });

// Quantities above zero: a zero request, limit or volume is well formed and never what anyone meant.
const quantityCpu = z
  .string()
  .refine((q) => /^([0-9]+m|[0-9]+(\.[0-9]+)?)$/.test(q) && Number(q.replace(/m$/, "")) > 0, {
    error: 'a CPU quantity above zero such as "500m" or "2"',
  });
const quantityMemory = z
  .string()
  .regex(/^[1-9][0-9]*(Ki|Mi|Gi|Ti)$/, { error: 'a memory quantity above zero such as "512Mi" or "4Gi"' });
const storageSize = z
  .string()
  .regex(/^[1-9][0-9]*(Mi|Gi|Ti)$/, { error: 'a storage size above zero such as "20Gi"' });

/** A list in which nothing is listed twice (a repeat is a slip, and often hides the intended item). */
const uniqueList = <T extends z.ZodType>(item: T) =>
  z.array(item).superRefine((items, ctx) => {
    const seen = new Set<string>();
    for (const entry of items) {
      const key = JSON.stringify(entry);
      if (seen.has(key)) {
        ctx.addIssue({
          code: "custom",
          input: items,
          message: `a list without repeats (${key} is listed twice)`,
        });
        return;
      }
      seen.add(key);
    }
  });

/**
 * A name from a known set: well-formed names that do not exist (`db.r6g.larg`, `m5.medium`) are
 * refused here, not by AWS after the network is built. The set is what the cost and capacity models
 * already price and size; add a type there to use it.
 */
const knownName = (what: string, known: readonly string[], source: string) =>
  z.string().refine((value) => known.includes(value), {
    error: `${what} known to ${source}: ${known.join(", ")} (add it there to use another)`,
  });

const int = (min: number, max: number) =>
  z
    .number({ error: "a whole number" })
    .int({ error: "a whole number" })
    .min(min, { error: `a whole number from ${min} to ${max}` })
    .max(max, { error: `a whole number from ${min} to ${max}` });

/** An IPv4 CIDR block whose host bits are clear (`10.0.0.1/16` is refused, naming `10.0.0.0/16`). */
const cidrBlock = (example: string) =>
  z.cidrv4({ error: `an IPv4 CIDR such as ${example}` }).superRefine((cidr, ctx) => {
    const problem = ipv4CidrProblem(cidr);
    const start = problem && /the block starts at (\S+)$/.exec(problem)?.[1];
    if (start)
      ctx.addIssue({
        code: "custom",
        input: cidr,
        message: `a CIDR block with no host bits set (did you mean ${start}?)`,
      });
  });

const awsRoleArn = z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/, {
  error: "an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admins",
});

export const resourcesSchema = z.strictObject({
  requests: z.strictObject({ cpu: quantityCpu, memory: quantityMemory }).optional(),
  limits: z.strictObject({ cpu: quantityCpu, memory: quantityMemory }).optional(),
});

export const nodeGroupSchema = z.strictObject({
  instanceTypes: uniqueList(
    knownName(
      "an EC2 instance type",
      Object.keys(INSTANCE_TYPES).filter((t) => t in prices.ec2.instanceHour),
      "both the capacity model (analysis/capacity.ts) and the price table (scripts/cost)",
    ),
  ).min(1, { error: "at least one EC2 instance type" }),
  minSize: int(0, 100),
  maxSize: int(1, 100),
  desiredSize: int(0, 100).optional(),
  diskSizeGb: int(20, 2000).optional(),
  capacityType: z.enum(["ON_DEMAND", "SPOT"]).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  taints: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        value: z.string().optional(),
        effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
      }),
    )
    .optional(),
});

export const clusterSchema = z.strictObject({
  /** `existing`: use a kubeconfig/context; `aws`: create VPC + EKS. */
  provider: z.enum(["existing", "aws"]).optional(),
  kubeconfig: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  /**
   * An existing cluster's API server as its pods reach it (after the kubernetes Service's
   * translation): the address blocks of it and the nodes, and its ports. The add-on namespaces'
   * NetworkPolicies admit exactly these. Default: the private ranges on 443 and 6443.
   */
  apiServer: z
    .strictObject({
      cidrs: uniqueList(cidrBlock("10.203.0.0/24")).min(1),
      ports: uniqueList(int(1, 65535)).min(1),
    })
    .optional(),
  kubernetesVersion: z.enum(KUBERNETES_VERSIONS).optional(),
  /**
   * Networks allowed to reach the EKS API's public endpoint. Unset or `[]`: the public endpoint is
   * off and the API is reached only from inside the VPC (the deploy runner: docs/delivery.md).
   * Staging and production refuse documentation ranges and `0.0.0.0/0` (settings.ts).
   */
  publicAccessCidrs: uniqueList(cidrBlock("203.0.113.0/24")).optional(),
  adminRoleArns: uniqueList(awsRoleArn).optional(),
  /**
   * The IAM role the deploy workflow assumes to run `pulumi up`: an EKS access entry with cluster
   * admin, which the Kubernetes provider waits for. Required in production.
   */
  deployRoleArn: awsRoleArn.optional(),
  nodeGroups: z.record(dnsLabel, nodeGroupSchema).optional(),
});

export const networkSchema = z.strictObject({
  cidr: cidrBlock("10.0.0.0/16").optional(),
  availabilityZoneCount: int(2, 6).optional(),
  natGateways: z.enum(["single", "perZone"]).optional(),
  flowLogRetentionDays: int(1, 3653).optional(),
});

const chartSourceSchema = z.strictObject({
  /**
   * A chart directory or .tgz already on disk (offline installs), relative to the project directory
   * (where Pulumi runs the program). It must exist: Helm would otherwise fail mid-deployment.
   */
  path: z
    .string()
    .min(1)
    .refine((p) => existsSync(path.resolve(process.cwd(), p)), {
      error: "a chart directory or .tgz that exists, relative to the project directory",
    })
    .optional(),
  version: z
    .string()
    .regex(/^v?[0-9]+\.[0-9]+\.[0-9]+$/, { error: "a chart version such as 1.4.2" })
    .optional(),
});

/** A point-in-time restore: the archive (a cluster's `backupServerName`) and the instant to stop at. */
const restoreSchema = z.strictObject({
  from: dnsLabel,
  targetTime: z.iso
    .datetime({ offset: true, error: 'an RFC 3339 instant with offset such as "2026-11-30T09:15:00Z"' })
    .optional(),
});

export const databaseSchema = z.strictObject({
  backend: z.enum(BACKENDS).optional(),
  engineVersion: z.enum(POSTGRES_VERSIONS).optional(),
  instanceClass: knownName(
    "an RDS instance class",
    Object.keys(prices.rds.postgresInstanceHour),
    "the price table (scripts/cost/prices.eu-west-1.json)",
  ).optional(),
  allocatedStorageGb: int(20, 65536).optional(),
  maxAllocatedStorageGb: int(20, 65536).optional(),
  backupRetentionDays: int(7, 35).optional(),
  multiAz: z.boolean().optional(),
  deletionProtection: z.boolean().optional(),
  storageSize: storageSize.optional(),
  /**
   * Per catalog: the backend, for a catalog whose needs one backend cannot meet (the trading catalog's
   * TimescaleDB is not offered by RDS), and a point-in-time restore (CloudNativePG only; see
   * docs/restore.md). Example: `{ trading: { backend: inCluster, restore: { from: trading-postgres,
   * targetTime: "2026-11-30T09:15:00Z" } } }`.
   *
   * `omitExtensions` runs the catalog's database without extensions its catalog asks for, for a
   * stack whose images cannot carry them: the local stack's real node builds PostgreSQL from
   * Debian, which has no TimescaleDB. The stack warns at every run that it does so. Default `[]`.
   */
  byCatalog: z
    .partialRecord(
      z.enum(CATALOG_NAMES),
      z.strictObject({
        backend: z.enum(BACKENDS).optional(),
        restore: restoreSchema.optional(),
        omitExtensions: uniqueList(z.string().min(1)).optional(),
      }),
    )
    .optional(),
  /**
   * In-cluster PostgreSQL on the CloudNativePG operator (staging and production on EKS): the chart,
   * and instances per cluster (the stage profile's: 2 in staging, 3 in production).
   */
  operator: z
    .strictObject({ chart: chartSourceSchema.optional(), instances: int(1, 9).optional() })
    .optional(),
});

export const cacheSchema = z.strictObject({
  backend: z.enum(BACKENDS).optional(),
  engine: z.enum(["redis", "valkey"]).optional(),
  nodeType: knownName(
    "an ElastiCache node type",
    Object.keys(prices.elasticache.nodeHour),
    "the price table (scripts/cost/prices.eu-west-1.json)",
  ).optional(),
  replicasPerShard: int(0, 5).optional(),
  snapshotRetentionDays: int(0, 35).optional(),
  maxmemoryMb: int(32, 1048576).optional(),
  storageSize: storageSize.optional(),
});

export const brokerSchema = z.strictObject({
  backend: z.enum(BACKENDS).optional(),
  instanceType: knownName(
    "an Amazon MQ instance type",
    Object.keys(prices.mq.rabbitmqInstanceHour),
    "the price table (scripts/cost/prices.eu-west-1.json)",
  ).optional(),
  engineVersion: z
    .string()
    .regex(/^[0-9]+\.[0-9]+$/, { error: 'a RabbitMQ version such as "3.13"' })
    .optional(),
  storageSize: storageSize.optional(),
});

export const ingressSchema = z.strictObject({
  enabled: z.boolean().optional(),
  domain: domainName.optional(),
  tls: z
    .strictObject({
      issuer: z.enum(["acme", "selfSigned"]).optional(),
      acmeEmail: z.email({ error: "an e-mail address for the ACME account" }).optional(),
      acmeServer: z.url({ error: "an ACME directory URL" }).optional(),
    })
    .optional(),
  charts: z
    .strictObject({ envoyGateway: chartSourceSchema.optional(), certManager: chartSourceSchema.optional() })
    .optional(),
  /**
   * How the proxy Service is exposed (IngressGateway `loadBalancer`). Default: `nlb` on EKS, else
   * `default` (a plain LoadBalancer Service). `clusterIP` for a cluster with no load balancer provider.
   */
  loadBalancer: z.enum(["nlb", "default", "clusterIP"]).optional(),
});

export const observabilitySchema = z.strictObject({
  enabled: z.boolean().optional(),
  scrapeIntervalSeconds: int(5, 300).optional(),
  retentionDays: int(1, 365).optional(),
  prometheusStorageSize: storageSize.optional(),
  grafanaStorageSize: storageSize.optional(),
  chart: chartSourceSchema.optional(),
  /**
   * Install without the kube-prometheus-stack chart, where it can't be fetched (the local stack):
   * prometheus-operator's release manifests at `path` (relative to the project directory), laid out
   * by `scripts/engine/toolchain.sh monitoring` or `scripts/engine/operator-manifests.sh`.
   */
  operator: z.strictObject({ path: z.string().min(1) }).optional(),
  alertReceiver: z.enum(["none", "slack", "pagerduty", "webhook"]).optional(),
});

export const serviceOverrideSchema = z.strictObject({
  imageTag: z
    .string()
    .regex(/^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64})$/, {
      error: 'an image tag such as "1.4.2" or a digest "sha256:…"',
    })
    // `latest` deploys different code from the same config; the components refuse it too.
    .refine((tag) => tag !== "latest", { error: 'a pinned tag such as "1.4.2" or a digest, not "latest"' })
    .optional(),
  replicas: z.strictObject({ min: int(1, 100), max: int(1, 500) }).optional(),
  resources: resourcesSchema.optional(),
});

/**
 * A container image reference the components accept (components/lib.ts `imageReferenceProblem`):
 * `repo:tag`, `repo@sha256:<64 hex>` or `repo:tag@sha256:<64 hex>`; never `latest` or no tag.
 */
const imageReference = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const problem = imageReferenceProblem(value);
    if (problem)
      ctx.addIssue({
        code: "custom",
        input: value,
        message: `an image reference repo:tag, repo@sha256:<64 hex> or repo:tag@sha256:<64 hex> (${problem})`,
      });
  });

/**
 * The images the data services and their Jobs run, one key per role (config/images.ts: what each role
 * runs, and its default). An unset role runs the component's pinned default tag. Production pins them
 * by digest (policy `k8s-image-digest-pinned-production`). Example:
 * `{ redis: "redis:7.4.5-alpine@sha256:<digest>", curl: "curlimages/curl:8.16.0@sha256:<digest>" }`.
 */
export const imagesSchema = z.strictObject({
  postgres: imageReference.optional(),
  timescaledb: imageReference.optional(),
  cloudnativepg: imageReference.optional(),
  cloudnativepgTimescaledb: imageReference.optional(),
  redis: imageReference.optional(),
  valkey: imageReference.optional(),
  rabbitmq: imageReference.optional(),
  curl: imageReference.optional(),
});

/**
 * Production safeguards a stack file can turn off, each with its unsafe value: in production, taking
 * one needs `platform:acknowledge.<key>` with the reason (settings.ts).
 */
export const PRODUCTION_SAFETY_OPT_OUTS = {
  "database.deletionProtection": false,
  "database.multiAz": false,
  "capacity.enforce": false,
} as const;
export const PRODUCTION_SAFETY_OPT_OUT_KEYS = Object.keys(PRODUCTION_SAFETY_OPT_OUTS) as [
  keyof typeof PRODUCTION_SAFETY_OPT_OUTS,
  ...(keyof typeof PRODUCTION_SAFETY_OPT_OUTS)[],
];

/** The secret-bearing keys: they must be set with `pulumi config set --secret`. */
export const SECRET_KEYS = ["secrets", "alertWebhookUrl"] as const;

/** One schema per top-level key of the `platform:` namespace. */
export const topLevelSchemas = {
  stage: z.enum(STAGES),
  owner: z.string().regex(/^[a-z0-9][a-z0-9._@-]*$/, { error: "an owner tag such as team-platform" }),
  catalogs: uniqueList(z.enum(CATALOG_NAMES)).min(1, { error: "at least one catalog" }),
  cluster: clusterSchema,
  network: networkSchema,
  database: databaseSchema,
  cache: cacheSchema,
  broker: brokerSchema,
  ingress: ingressSchema,
  observability: observabilitySchema,
  /** Per-service overrides, keyed `<catalog>/<service>`. */
  services: z.record(z.string(), serviceOverrideSchema),
  /** Images of the data services and their Jobs, per role (see imagesSchema). */
  images: imagesSchema,
  /** Externally issued credentials (Stripe, SendGrid…), keyed `<catalog>.<ENV_NAME>`. Secret. */
  secrets: z.record(
    z.string().regex(/^[a-z]+\.[A-Z][A-Z0-9_]*$/, {
      error: "<catalog>.<ENV_NAME>, such as ecommerce.STRIPE_API_KEY",
    }),
    z.string().min(1),
  ),
  /** Alertmanager receiver webhook (Slack or PagerDuty). Secret. */
  alertWebhookUrl: z.url({ error: "an https webhook URL" }),
  /**
   * The capacity check before anything is created (analysis/capacity.ts). `enforce: false` is an
   * explicit opt-out (a benchmark of synthetic catalogs that no real quota would admit); the render
   * still reports what does not fit. Default `{ enforce: true }`.
   */
  capacity: z.strictObject({ enforce: z.boolean().optional() }),
  /**
   * Production safety opt-outs taken on purpose: each key of `PRODUCTION_SAFETY_OPT_OUTS` set to its
   * unsafe value in production needs an entry here saying why, or the stack is refused. Example:
   * `{ "database.multiAz": "a read-only reporting copy; a restore from backup is acceptable" }`.
   */
  acknowledge: z.partialRecord(
    z.enum(PRODUCTION_SAFETY_OPT_OUT_KEYS),
    z.string().trim().min(1, { error: "a reason" }),
  ),
} as const;

export type TopLevelKey = keyof typeof topLevelSchemas;
export type RawConfig = { [K in TopLevelKey]?: z.infer<(typeof topLevelSchemas)[K]> };
export type NodeGroupConfig = z.infer<typeof nodeGroupSchema>;
export type ResourcesConfig = z.infer<typeof resourcesSchema>;
export type ServiceOverride = z.infer<typeof serviceOverrideSchema>;
export type ImagesConfig = z.infer<typeof imagesSchema>;
