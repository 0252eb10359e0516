/**
 * Turns a stack's raw `platform:` config into one validated, fully-defaulted settings object.
 *
 * Pure: takes the config map (as the Pulumi runtime holds it: every value a string, structured
 * values as JSON) plus which keys are secrets, and returns settings or throws a ConfigError listing
 * every problem with its key, stack file, what was expected and what was found. Nothing here touches
 * Pulumi resources, so a bad config stops the program before anything is registered.
 */
import { CATALOGS, loadCatalog, type Catalog } from "../services";
import { STAGE_PROFILES, type StageProfile } from "./profiles";
import { CLOUDNATIVE_PG_CHART_VERSION } from "../components/PostgresOperator";
import { CERT_MANAGER_CHART_VERSION, ENVOY_GATEWAY_CHART_VERSION } from "../components/IngressGateway";
import { ipv4CidrsOverlap } from "../components/lib";
import {
  PRODUCTION_SAFETY_OPT_OUTS,
  PRODUCTION_SAFETY_OPT_OUT_KEYS,
  type Backend,
  type CatalogName,
  type NodeGroupConfig,
  type RawConfig,
  type ServiceOverride,
  type ImagesConfig,
  type Stage,
  type TopLevelKey,
} from "./schema";
import {
  CONFIG_NAMESPACE,
  describeFound,
  parseConfig,
  problemAt,
  type ParsedConfig,
  type Problem,
} from "./settings-parse";

// Defined where the raw config is read; exported here too, as before (config/index.ts re-exports this module).
export { CONFIG_NAMESPACE } from "./settings-parse";

const PREFIX = `${CONFIG_NAMESPACE}:`;

export interface ConfigSource {
  project: string;
  stack: string;
  /** Full keys (`platform:stage`) to raw string values, as `pulumi.runtime.allConfig()` returns them. */
  values: Record<string, string>;
  /** Full keys whose values are Pulumi secrets. */
  secretKeys: ReadonlySet<string>;
}

export interface ConfigProblem {
  /** Full key path, e.g. `platform:database.instanceClass`. */
  key: string;
  stackFile: string;
  expected: string;
  found: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    const file = problems[0]?.stackFile ?? "the stack file";
    super(
      `Invalid configuration in ${file} (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.key}: expected ${p.expected}, found ${p.found}`;
}

export interface NodeGroupSettings {
  instanceTypes: string[];
  minSize: number;
  maxSize: number;
  desiredSize: number;
  diskSizeGb: number;
  capacityType: "ON_DEMAND" | "SPOT";
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }[];
}

export type ClusterSettings =
  | {
      provider: "existing";
      kubeconfig?: string;
      context?: string;
      /** Where pods reach the API server and the nodes (`platform:cluster.apiServer`). */
      apiServer?: { cidrs: string[]; ports: number[] };
    }
  | {
      provider: "aws";
      kubernetesVersion: string;
      publicAccessCidrs: string[];
      adminRoleArns: string[];
      /** The deploy workflow's role: an access entry with cluster admin (`platform:cluster.deployRoleArn`). */
      deployRoleArn?: string;
      nodeGroups: Record<string, NodeGroupSettings>;
    };

/** A third-party Helm chart: fetched from its repository, read from a local path, or left out. */
export interface ChartSettings {
  version: string;
  /** `repository` (online), `localPath` (offline with a chart on disk) or `skipped`. */
  source: "repository" | "localPath" | "skipped";
  path?: string;
}

export interface PlatformSettings {
  project: string;
  stack: string;
  stackFile: string;
  stage: Stage;
  profile: StageProfile;
  owner: string;
  /** Tags put on every AWS resource. */
  tags: Record<string, string>;
  catalogs: Catalog[];
  cluster: ClusterSettings;
  network: StageProfile["network"];
  database: StageProfile["database"] & {
    backend: Backend;
    engineVersion: string;
    /** Effective backend per deployed catalog (the stack-wide backend unless byCatalog says otherwise). */
    backendByCatalog: Record<string, Backend>;
    /** Point-in-time restores asked for, per catalog (CloudNativePG only). */
    restoreByCatalog: Record<string, { from: string; targetTime?: string }>;
    /** Extensions a catalog asks for that this stack runs its database without (see the schema). */
    omittedExtensionsByCatalog: Record<string, string[]>;
    /**
     * In-cluster PostgreSQL on CloudNativePG. `enabled` only on EKS with the chart available (not the
     * offline local stack): otherwise in-cluster PostgreSQL is a single StatefulSet, and a warning says so.
     */
    operator: { enabled: boolean; chart: ChartSettings; instances: number; synchronousReplication: boolean };
  };
  cache: StageProfile["cache"] & { backend: Backend; engine: "redis" | "valkey" };
  broker: StageProfile["broker"] & { backend: Backend; engineVersion: string };
  ingress: {
    enabled: boolean;
    domain: string;
    tls: { issuer: "acme" | "selfSigned"; acmeEmail?: string; acmeServer: string };
    envoyGatewayChart: ChartSettings;
    certManagerChart: ChartSettings;
    /** How the proxy Service is exposed (IngressGateway `loadBalancer`). */
    loadBalancer: "nlb" | "default" | "clusterIP";
  };
  observability: {
    enabled: boolean;
    scrapeIntervalSeconds: number;
    retentionDays: number;
    prometheusStorageSize: string;
    grafanaStorageSize: string;
    chart: ChartSettings;
    /** prometheus-operator's release manifests, installed instead of the chart (`platform:observability.operator.path`). */
    operatorManifestsPath?: string;
    alertReceiver: "none" | "slack" | "pagerduty" | "webhook";
  };
  /** Per-service overrides keyed `<catalog>/<service>`. */
  services: Record<string, ServiceOverride>;
  /** Images pinned per data-service role (`platform:images`); an unset role runs the component's default. */
  images: ImagesConfig;
  /** Keys (`<catalog>.<ENV>`) of external credentials supplied as secrets; values via `secretValues`. */
  externalSecretKeys: string[];
  /** Whether an alert webhook URL was supplied (the value itself stays in `secretValues`). */
  hasAlertWebhook: boolean;
  /** Refuse a stack whose workloads do not fit its quotas or node groups at minimum (`platform:capacity.enforce`). */
  enforceCapacity: boolean;
  /** Warnings to print (not errors): things left out or defaulted that an operator should know. */
  warnings: string[];
}

/** Secret config values, kept apart from the plain settings so they are only ever handled as secrets. */
export interface SecretValues {
  externalSecrets: Record<string, string>;
  alertWebhookUrl?: string;
}

/** Pinned third-party chart versions (one place). */
export const CHART_VERSIONS = {
  envoyGateway: ENVOY_GATEWAY_CHART_VERSION,
  certManager: CERT_MANAGER_CHART_VERSION,
  // Its appVersion, prometheus-operator v0.93.1, is what the local stack builds (scripts/engine/versions.env).
  kubePrometheusStack: "89.2.0",
  cloudNativePg: CLOUDNATIVE_PG_CHART_VERSION,
} as const;

export const POSTGRES_DEFAULT_VERSION = "15";
export const RABBITMQ_DEFAULT_VERSION = "3.13";
export const LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory";

/** Validates the raw config and resolves it against the stage profile. Throws ConfigError. */
export function resolveSettings(source: ConfigSource): { settings: PlatformSettings; secrets: SecretValues } {
  const stackFile = `Pulumi.${source.stack}.yaml`;
  const parsed = parseConfig(source);
  const ctx = resolution(parsed);
  const { raw } = ctx;

  const cluster = resolveCluster(ctx);
  const database = resolveDatabase(ctx);
  const cache = resolveCache(ctx);
  const broker = resolveBroker(ctx);
  const ingress = resolveIngress(ctx);
  const observability = resolveObservability(ctx);
  const services = resolveServices(ctx);
  const externalSecretKeys = resolveExternalSecretKeys(ctx);

  // One report with every problem: parse problems first, then each section's cross-key checks. The
  // managed-backend check spans the three data services, so it runs on its own, before theirs.
  const problems = [
    ...parsed.problems,
    ...cluster.problems,
    ...managedBackendProblems(ctx, {
      database: database.settings.backend,
      cache: cache.settings.backend,
      broker: broker.settings.backend,
    }),
    ...database.problems,
    ...cache.problems,
    ...broker.problems,
    ...ingress.problems,
    ...observability.problems,
    ...services.problems,
    ...externalSecretKeys.problems,
    ...safetyOptOutProblems(ctx),
  ];
  if (problems.length > 0)
    throw new ConfigError(
      problems.map((p) => ({ key: p.key, stackFile, expected: p.expected, found: p.found })),
    );

  const owner = raw.owner ?? "platform-team";
  return {
    settings: {
      project: source.project,
      stack: source.stack,
      stackFile,
      stage: ctx.stage,
      profile: ctx.profile,
      owner,
      tags: { project: source.project, stack: source.stack, owner, "managed-by": "pulumi" },
      catalogs: ctx.catalogs,
      cluster: cluster.settings,
      network: { ...ctx.profile.network, ...definedOnly(raw.network ?? {}) },
      database: database.settings,
      cache: cache.settings,
      broker: broker.settings,
      ingress: ingress.settings,
      observability: observability.settings,
      services: services.settings,
      images: raw.images ?? {},
      externalSecretKeys: externalSecretKeys.settings,
      hasAlertWebhook: raw.alertWebhookUrl !== undefined,
      enforceCapacity: raw.capacity?.enforce ?? true,
      warnings: [...database.warnings, ...ingress.warnings, ...observability.warnings],
    },
    secrets: {
      externalSecrets: raw.secrets ?? {},
      ...(raw.alertWebhookUrl ? { alertWebhookUrl: raw.alertWebhookUrl } : {}),
    },
  };
}

/**
 * Production safeguards turned off need a stated reason (`platform:acknowledge.<key>`), and a reason
 * must name an opt-out the stack takes (one for nothing is a stale entry hiding the next real one).
 */
function safetyOptOutProblems(ctx: Resolution): Problem[] {
  const { raw, stage } = ctx;
  if (!ctx.usable("acknowledge")) return [];
  const acknowledged = raw.acknowledge ?? {};
  const setting = (key: keyof typeof PRODUCTION_SAFETY_OPT_OUTS): unknown => {
    const [section, field] = key.split(".") as [string, string];
    return (raw as Record<string, Record<string, unknown> | undefined>)[section]?.[field];
  };
  const problems: Problem[] = [];
  for (const key of PRODUCTION_SAFETY_OPT_OUT_KEYS) {
    const optedOut = stage === "production" && setting(key) === PRODUCTION_SAFETY_OPT_OUTS[key];
    if (optedOut && acknowledged[key] === undefined)
      problems.push(
        problemAt(
          key,
          `${JSON.stringify(!PRODUCTION_SAFETY_OPT_OUTS[key])} in production, or the opt-out acknowledged with acknowledge.${key}: "<why>"`,
          JSON.stringify(setting(key)),
        ),
      );
    else if (!optedOut && acknowledged[key] !== undefined)
      problems.push(
        problemAt(
          `acknowledge.${key}`,
          `an acknowledgement only for an opt-out this stack takes (${key}: ${JSON.stringify(PRODUCTION_SAFETY_OPT_OUTS[key])} in production)`,
          JSON.stringify(acknowledged[key]),
        ),
      );
  }
  return problems;
}

/** One section's settings, with the problems and warnings found resolving it, in the order reported. */
interface Resolved<T> {
  settings: T;
  problems: Problem[];
  warnings: string[];
}

/** What the section resolvers read: the parsed config, its stage profile and its catalogs. */
interface Resolution {
  raw: RawConfig;
  /** Top-level keys that parsed. */
  valid: ReadonlySet<TopLevelKey>;
  /**
   * Whether cross-key checks may look at a key: it parsed or was left to the profile. A key that
   * was already reported as malformed would otherwise produce follow-on noise from its defaults.
   */
  usable: (key: TopLevelKey) => boolean;
  stage: Stage;
  profile: StageProfile;
  clusterProvider: "existing" | "aws";
  catalogNames: CatalogName[];
  catalogs: Catalog[];
}

function resolution({ raw, valid, present }: ParsedConfig): Resolution {
  const stage: Stage = raw.stage ?? "local";
  const profile = STAGE_PROFILES[stage];
  const catalogNames: CatalogName[] = [...new Set(raw.catalogs ?? [])];
  return {
    raw,
    valid,
    usable: (key) => valid.has(key) || !present.has(key),
    stage,
    profile,
    clusterProvider: raw.cluster?.provider ?? profile.clusterProvider,
    catalogNames,
    catalogs: catalogNames.map((name) => loadCatalog(CATALOGS[name])),
  };
}

function resolveCluster(ctx: Resolution): Resolved<ClusterSettings> {
  const { raw, profile } = ctx;
  const c = raw.cluster ?? {};
  const cluster: ClusterSettings =
    ctx.clusterProvider === "existing"
      ? {
          provider: "existing",
          ...(c.kubeconfig ? { kubeconfig: c.kubeconfig } : {}),
          ...(c.context ? { context: c.context } : {}),
          ...(c.apiServer ? { apiServer: c.apiServer } : {}),
        }
      : {
          provider: "aws",
          kubernetesVersion: c.kubernetesVersion ?? profile.kubernetesVersion,
          publicAccessCidrs: c.publicAccessCidrs ?? [],
          adminRoleArns: c.adminRoleArns ?? [],
          ...(c.deployRoleArn ? { deployRoleArn: c.deployRoleArn } : {}),
          nodeGroups: resolveNodeGroups(c.nodeGroups, profile),
        };
  return { settings: cluster, problems: clusterProblems(ctx, cluster), warnings: [] };
}

/** Keys of the other provider, node group sizes, and production's administrators. */
function clusterProblems(ctx: Resolution, cluster: ClusterSettings): Problem[] {
  const { raw, stage, valid, usable } = ctx;
  const c = raw.cluster ?? {};
  const problems: Problem[] = [];
  const problem = (key: string, expected: string, found: string) =>
    problems.push(problemAt(key, expected, found));
  if (valid.has("cluster")) {
    if (ctx.clusterProvider === "existing") {
      for (const k of [
        "kubernetesVersion",
        "publicAccessCidrs",
        "adminRoleArns",
        "deployRoleArn",
        "nodeGroups",
      ] as const) {
        if (c[k] !== undefined)
          problem(
            `cluster.${k}`,
            'no value when platform:cluster.provider is "existing" (it configures an EKS cluster this stack does not create)',
            describeFound(c[k]),
          );
      }
    } else {
      for (const k of ["kubeconfig", "context", "apiServer"] as const) {
        if (c[k] !== undefined)
          problem(
            `cluster.${k}`,
            'no value when platform:cluster.provider is "aws" (the program builds the kubeconfig from the EKS cluster it creates)',
            describeFound(c[k]),
          );
      }
    }
  }
  if (cluster.provider === "aws" && usable("cluster")) {
    for (const [name, ng] of Object.entries(cluster.nodeGroups)) {
      if (ng.minSize > ng.maxSize)
        problem(`cluster.nodeGroups.${name}.minSize`, `at most maxSize (${ng.maxSize})`, String(ng.minSize));
      else if (ng.desiredSize < ng.minSize || ng.desiredSize > ng.maxSize)
        problem(
          `cluster.nodeGroups.${name}.desiredSize`,
          `a size from minSize (${ng.minSize}) to maxSize (${ng.maxSize})`,
          String(ng.desiredSize),
        );
    }
    // With a malformed stage the profile's pools are not the stack's: no follow-on noise.
    if (Object.keys(cluster.nodeGroups).length === 0 && (c.nodeGroups !== undefined || usable("stage")))
      problem("cluster.nodeGroups", "at least one managed node group", "none");
    if (stage === "production" && cluster.adminRoleArns.length === 0)
      problem(
        "cluster.adminRoleArns",
        "at least one IAM role ARN in production (cluster access entries; without one nobody can administer the cluster)",
        "none",
      );
    if (stage === "production" && cluster.deployRoleArn === undefined)
      problem(
        "cluster.deployRoleArn",
        "the IAM role the deploy workflow assumes (AWS_DEPLOY_ROLE_ARN of the production environment, docs/delivery.md) in production: it gets the cluster access entry pulumi up deploys with",
        "no value",
      );
    if (stage !== "local") problems.push(...publicAccessProblems(cluster.publicAccessCidrs));
  }
  return problems;
}

/**
 * Address blocks reserved for documentation (RFC 5737): a stack file that lists one was copied from
 * an example, and its deploy would either be locked out of the API or wait for someone to guess.
 */
export const DOCUMENTATION_IPV4_CIDRS: readonly string[] = [
  "192.0.2.0/24",
  "198.51.100.0/24",
  "203.0.113.0/24",
];

/**
 * Staging and production reach the API privately (docs/delivery.md): a public allowlist must name
 * networks someone owns, never a documentation range nor the whole internet.
 */
function publicAccessProblems(cidrs: readonly string[]): Problem[] {
  return cidrs.flatMap((cidr, i): Problem[] => {
    const key = `cluster.publicAccessCidrs.${i}`;
    if (cidr.endsWith("/0"))
      return [
        problemAt(
          key,
          "the deploy runners' own networks, or no publicAccessCidrs at all (a private-only API endpoint reached from the in-VPC deploy runner, docs/delivery.md); the whole internet is refused",
          JSON.stringify(cidr),
        ),
      ];
    const documentation = DOCUMENTATION_IPV4_CIDRS.find((range) => ipv4CidrsOverlap(cidr, range));
    return documentation
      ? [
          problemAt(
            key,
            `a network the deploy runners really use, not the documentation range ${documentation} (RFC 5737), or no publicAccessCidrs at all (a private-only API endpoint, docs/delivery.md)`,
            JSON.stringify(cidr),
          ),
        ]
      : [];
  });
}

/** A data service's backend: the one given, else the profile's on EKS, else in-cluster. */
function dataBackend(ctx: Resolution, explicit: Backend | undefined): Backend {
  return explicit ?? (ctx.clusterProvider === "aws" ? ctx.profile.dataBackend : "inCluster");
}

/** AWS-managed data services need the VPC this program creates: none next to an existing cluster. */
function managedBackendProblems(
  ctx: Resolution,
  backends: Record<"database" | "cache" | "broker", Backend>,
): Problem[] {
  const { usable } = ctx;
  const problems: Problem[] = [];
  for (const key of ["database", "cache", "broker"] as const) {
    if (backends[key] === "aws" && ctx.clusterProvider === "existing" && usable(key) && usable("cluster"))
      problems.push(
        problemAt(
          `${key}.backend`,
          '"inCluster" when platform:cluster.provider is "existing" (AWS-managed data services need the VPC this program creates with cluster.provider "aws")',
          '"aws"',
        ),
      );
  }
  return problems;
}

function resolveDatabase(ctx: Resolution): Resolved<PlatformSettings["database"]> {
  const warnings: string[] = [];
  const database = databaseSettings(ctx, warnings);
  warnings.push(...databaseWarnings(ctx, database));
  return { settings: database, problems: databaseProblems(ctx, database), warnings };
}

/** The database settings; `warnings` receives the CloudNativePG chart's. */
function databaseSettings(ctx: Resolution, warnings: string[]): PlatformSettings["database"] {
  const { raw, stage, profile, catalogNames } = ctx;
  const { byCatalog, operator: operatorRaw, ...databaseRaw } = raw.database ?? {};
  const databaseBackend = dataBackend(ctx, raw.database?.backend);
  const operatorChart = chartSettings(
    stage,
    warnings,
    "CloudNativePG (in-cluster PostgreSQL: replicas, failover, backups, point-in-time restore)",
    `${PREFIX}database.operator.chart`,
    CHART_VERSIONS.cloudNativePg,
    operatorRaw?.chart,
  );
  return {
    ...profile.database,
    ...definedOnly(databaseRaw),
    backend: databaseBackend,
    engineVersion: raw.database?.engineVersion ?? POSTGRES_DEFAULT_VERSION,
    backendByCatalog: Object.fromEntries(
      catalogNames.map((name) => [name, byCatalog?.[name]?.backend ?? databaseBackend]),
    ),
    restoreByCatalog: Object.fromEntries(
      Object.entries(byCatalog ?? {}).flatMap(([name, c]) => (c?.restore ? [[name, c.restore]] : [])),
    ),
    omittedExtensionsByCatalog: Object.fromEntries(
      Object.entries(byCatalog ?? {}).flatMap(([name, c]) =>
        c?.omitExtensions?.length ? [[name, [...c.omitExtensions]]] : [],
      ),
    ),
    operator: {
      // Backups go to S3 through IRSA: only on the EKS cluster this program creates.
      enabled: operatorChart.source !== "skipped" && ctx.clusterProvider === "aws",
      chart: operatorChart,
      instances: operatorRaw?.instances ?? profile.database.inClusterInstances,
      synchronousReplication: profile.database.synchronousReplication,
    },
  };
}

/** What the stack's PostgreSQL runs without: CloudNativePG's guarantees, or extensions left out. */
function databaseWarnings(ctx: Resolution, database: PlatformSettings["database"]): string[] {
  const { catalogs, catalogNames } = ctx;
  const warnings: string[] = [];
  const statefulPostgres = catalogs
    .filter((cat) => cat.data.postgres && database.backendByCatalog[cat.name] === "inCluster")
    .map((cat) => cat.name);
  if (statefulPostgres.length > 0 && !database.operator.enabled)
    warnings.push(
      `In-cluster PostgreSQL (${statefulPostgres.join(", ")}) runs as a single StatefulSet: no replicas, no failover, no backups, no point-in-time restore. ` +
        (ctx.clusterProvider === "aws"
          ? `Give ${PREFIX}database.operator.chart.path to run it on CloudNativePG.`
          : `CloudNativePG needs ${PREFIX}cluster.provider "aws" (its backups go to S3 through IRSA).`),
    );
  for (const [name, omitted] of Object.entries(database.omittedExtensionsByCatalog)) {
    if ((catalogNames as string[]).includes(name))
      warnings.push(
        `Catalog "${name}"'s PostgreSQL runs WITHOUT ${omitted.join(", ")} (${PREFIX}database.byCatalog.${name}.omitExtensions): ` +
          `what depends on ${omitted.length > 1 ? "them" : "it"} is not exercised by this stack.`,
      );
  }
  return warnings;
}

function databaseProblems(ctx: Resolution, database: PlatformSettings["database"]): Problem[] {
  const { raw, stage, valid, catalogNames } = ctx;
  if (!ctx.usable("database")) return [];
  const problems = [...catalogExtensionProblems(ctx, database), ...restoreProblems(ctx, database)];
  if (stage === "production" && database.operator.instances < 3)
    problems.push(
      problemAt(
        "database.operator.instances",
        "at least 3 in production (synchronous replication keeps a second standby for failover)",
        String(database.operator.instances),
      ),
    );
  for (const name of Object.keys(raw.database?.byCatalog ?? {})) {
    if (!catalogNames.includes(name as CatalogName))
      problems.push(
        problemAt(
          `database.byCatalog.${name}`,
          `a deployed catalog (${catalogNames.join(", ")})`,
          JSON.stringify(name),
        ),
      );
  }
  if (database.maxAllocatedStorageGb < database.allocatedStorageGb)
    problems.push(
      problemAt(
        "database.maxAllocatedStorageGb",
        `at least database.allocatedStorageGb (${database.allocatedStorageGb})`,
        String(database.maxAllocatedStorageGb),
      ),
    );
  if (
    stage === "production" &&
    valid.has("database") &&
    raw.database?.backupRetentionDays !== undefined &&
    raw.database.backupRetentionDays < 14
  )
    problems.push(
      problemAt(
        "database.backupRetentionDays",
        "at least 14 days in production",
        String(raw.database.backupRetentionDays),
      ),
    );
  const backends = ctx.catalogs
    .filter((catalog) => catalog.data.postgres)
    .map((catalog) => database.backendByCatalog[catalog.name] ?? database.backend);
  problems.push(...backendOnlyKeyProblems("database", raw.database, backends));
  return problems;
}

/**
 * Keys of a data-service section that only one backend reads, for `backendOnlyKeyProblems`: the
 * composition root passes them only to that backend's component, so set with the other they would
 * be dropped without a word.
 */
const BACKEND_ONLY_KEYS = {
  database: {
    aws: ["instanceClass", "allocatedStorageGb", "maxAllocatedStorageGb", "multiAz", "deletionProtection"],
    inCluster: ["storageSize"],
  },
  cache: {
    aws: ["nodeType", "replicasPerShard", "snapshotRetentionDays"],
    inCluster: ["maxmemoryMb", "storageSize"],
  },
  broker: { aws: ["instanceType"], inCluster: ["storageSize"] },
} as const;
const BACKEND_TITLES = {
  database: { aws: "an RDS setting", inCluster: "a setting of the in-cluster server" },
  cache: { aws: "an ElastiCache setting", inCluster: "a setting of the in-cluster server" },
  broker: { aws: "an Amazon MQ setting", inCluster: "a setting of the in-cluster server" },
} as const;

/**
 * A backend-only key the stack sets while no store of that kind runs on that backend: a problem at
 * the key, naming the backend in use. `backends` are those of the stores the catalogs actually
 * deploy (none: the section is not checked, nothing reads it).
 */
function backendOnlyKeyProblems(
  section: keyof typeof BACKEND_ONLY_KEYS,
  raw: Record<string, unknown> | undefined,
  backends: readonly ("aws" | "inCluster")[],
): Problem[] {
  if (!raw || backends.length === 0) return [];
  const inUse = [...new Set(backends)];
  return (["aws", "inCluster"] as const).flatMap((backend) =>
    inUse.includes(backend)
      ? []
      : BACKEND_ONLY_KEYS[section][backend]
          .filter((key) => raw[key] !== undefined)
          .map((key) =>
            problemAt(
              `${section}.${key}`,
              `nothing: it is ${BACKEND_TITLES[section][backend]}, and the stack's ${section} backend is "${inUse.join('" and "')}" (set ${PREFIX}${section}.backend to "${backend}", or remove the key)`,
              JSON.stringify(raw[key]),
            ),
          ),
  );
}

/** Extensions RDS lacks (timescaledb), and extensions left out that the catalog never asked for. */
function catalogExtensionProblems(ctx: Resolution, database: PlatformSettings["database"]): Problem[] {
  const { raw, catalogs } = ctx;
  const problems: Problem[] = [];
  for (const catalog of catalogs) {
    const extensions = catalog.data.postgres?.extensions ?? [];
    if (database.backendByCatalog[catalog.name] === "aws" && extensions.includes("timescaledb")) {
      const key = raw.database?.byCatalog?.[catalog.name]
        ? `database.byCatalog.${catalog.name}.backend`
        : "database.backend";
      problems.push(
        problemAt(
          key,
          `"inCluster" for catalog "${catalog.name}": it needs the timescaledb extension, which RDS does not offer (set platform:database.byCatalog.${catalog.name}.backend to "inCluster")`,
          '"aws"',
        ),
      );
    }
  }
  for (const [name, omitted] of Object.entries(database.omittedExtensionsByCatalog)) {
    const catalog = catalogs.find((c) => c.name === name);
    const requested = catalog?.data.postgres?.extensions ?? [];
    const unknown = omitted.filter((e) => !requested.includes(e));
    if (catalog && unknown.length > 0)
      problems.push(
        problemAt(
          `database.byCatalog.${name}.omitExtensions`,
          requested.length > 0
            ? `extensions catalog "${name}" asks for (${requested.map((e) => `"${e}"`).join(", ")})`
            : `nothing: catalog "${name}" asks for no PostgreSQL extension`,
          JSON.stringify(unknown),
        ),
      );
  }
  return problems;
}

/** Point-in-time restores need a CloudNativePG database to restore into. */
function restoreProblems(ctx: Resolution, database: PlatformSettings["database"]): Problem[] {
  const problems: Problem[] = [];
  for (const [name, target] of Object.entries(database.restoreByCatalog)) {
    const key = `database.byCatalog.${name}.restore`;
    const catalog = ctx.catalogs.find((cat) => cat.name === name);
    if (!catalog) continue; // reported as an undeployed catalog
    if (!catalog.data.postgres)
      problems.push(
        problemAt(key, `no restore: catalog "${name}" has no PostgreSQL database`, JSON.stringify(target)),
      );
    else if (database.backendByCatalog[name] === "aws")
      problems.push(
        problemAt(
          key,
          `no restore for backend "aws" (restore RDS with its own point-in-time restore, see docs/restore.md)`,
          JSON.stringify(target),
        ),
      );
    else if (!database.operator.enabled)
      problems.push(
        problemAt(
          key,
          `no restore on this stack: in-cluster PostgreSQL here is a StatefulSet without backups (restores need CloudNativePG: stage staging or production with ${PREFIX}cluster.provider "aws")`,
          JSON.stringify(target),
        ),
      );
  }
  return problems;
}

function resolveCache(ctx: Resolution): Resolved<PlatformSettings["cache"]> {
  const { raw, stage, profile } = ctx;
  const cache: PlatformSettings["cache"] = {
    ...profile.cache,
    ...definedOnly(raw.cache ?? {}),
    backend: dataBackend(ctx, raw.cache?.backend),
    engine: raw.cache?.engine ?? "redis",
  };
  const problems: Problem[] = [];
  if (ctx.usable("cache") && cache.backend === "aws" && stage === "production" && cache.replicasPerShard < 1)
    problems.push(
      problemAt(
        "cache.replicasPerShard",
        "at least 1 in production (automatic failover needs a replica)",
        String(cache.replicasPerShard),
      ),
    );
  if (ctx.usable("cache"))
    problems.push(
      ...backendOnlyKeyProblems(
        "cache",
        raw.cache,
        ctx.catalogs.some((catalog) => catalog.data.redis) ? [cache.backend] : [],
      ),
    );
  return { settings: cache, problems, warnings: [] };
}

function resolveBroker(ctx: Resolution): Resolved<PlatformSettings["broker"]> {
  const { raw, profile } = ctx;
  const broker: PlatformSettings["broker"] = {
    ...profile.broker,
    ...definedOnly(raw.broker ?? {}),
    backend: dataBackend(ctx, raw.broker?.backend),
    engineVersion: raw.broker?.engineVersion ?? RABBITMQ_DEFAULT_VERSION,
  };
  const problems = ctx.usable("broker")
    ? backendOnlyKeyProblems(
        "broker",
        raw.broker,
        ctx.catalogs.some((catalog) => catalog.data.broker) ? [broker.backend] : [],
      )
    : [];
  return { settings: broker, problems, warnings: [] };
}

function resolveIngress(ctx: Resolution): Resolved<PlatformSettings["ingress"]> {
  const { raw, stage, profile, usable } = ctx;
  const ing = raw.ingress ?? {};
  const warnings: string[] = [];
  const ingress: PlatformSettings["ingress"] = {
    enabled: ing.enabled ?? true,
    domain: ing.domain ?? (stage === "local" ? "platform.localtest.me" : ""),
    tls: {
      issuer: ing.tls?.issuer ?? profile.tlsIssuer,
      ...(ing.tls?.acmeEmail ? { acmeEmail: ing.tls.acmeEmail } : {}),
      acmeServer: ing.tls?.acmeServer ?? LETSENCRYPT_PRODUCTION,
    },
    envoyGatewayChart: chartSettings(
      stage,
      warnings,
      "Envoy Gateway (IngressGateway)",
      `${PREFIX}ingress.charts.envoyGateway`,
      CHART_VERSIONS.envoyGateway,
      ing.charts?.envoyGateway,
    ),
    certManagerChart: chartSettings(
      stage,
      warnings,
      "cert-manager (IngressGateway)",
      `${PREFIX}ingress.charts.certManager`,
      CHART_VERSIONS.certManager,
      ing.charts?.certManager,
    ),
    loadBalancer: ing.loadBalancer ?? (ctx.clusterProvider === "aws" ? "nlb" : "default"),
  };
  if (
    ingress.enabled &&
    (ingress.envoyGatewayChart.source === "skipped" || ingress.certManagerChart.source === "skipped")
  )
    ingress.enabled = false;
  const problems: Problem[] = [];
  if (usable("ingress") && ingress.enabled && stage !== "local" && !ingress.domain)
    problems.push(
      problemAt("ingress.domain", "a DNS domain for the public Gateway (staging and production)", "nothing"),
    );
  if (usable("ingress") && ingress.tls.issuer === "acme" && ingress.enabled && !ingress.tls.acmeEmail)
    problems.push(
      problemAt(
        "ingress.tls.acmeEmail",
        'an e-mail address for the ACME account when platform:ingress.tls.issuer is "acme"',
        "nothing",
      ),
    );
  return { settings: ingress, problems, warnings };
}

function resolveObservability(ctx: Resolution): Resolved<PlatformSettings["observability"]> {
  const { raw, stage, profile, usable } = ctx;
  const obs = raw.observability ?? {};
  const warnings: string[] = [];
  const observability: PlatformSettings["observability"] = {
    enabled: obs.enabled ?? true,
    scrapeIntervalSeconds: obs.scrapeIntervalSeconds ?? 15,
    retentionDays: obs.retentionDays ?? 15,
    prometheusStorageSize: obs.prometheusStorageSize ?? profile.observability.prometheusStorageSize,
    grafanaStorageSize: obs.grafanaStorageSize ?? profile.observability.grafanaStorageSize,
    chart:
      obs.enabled === false || obs.operator
        ? { version: CHART_VERSIONS.kubePrometheusStack, source: "skipped" }
        : chartSettings(
            stage,
            warnings,
            "kube-prometheus-stack (ObservabilityStack)",
            `${PREFIX}observability.chart`,
            CHART_VERSIONS.kubePrometheusStack,
            obs.chart,
          ),
    alertReceiver: obs.alertReceiver ?? "none",
  };
  if (obs.operator && obs.enabled !== false) observability.operatorManifestsPath = obs.operator.path;
  else if (observability.chart.source === "skipped") observability.enabled = false;
  if (stage !== "local" && observability.enabled && observability.alertReceiver === "none")
    warnings.push(
      `Alerts are evaluated but routed nowhere: set ${PREFIX}observability.alertReceiver and ${PREFIX}alertWebhookUrl (secret).`,
    );
  const problems: Problem[] = [];
  if (obs.operator && obs.chart)
    problems.push(
      problemAt(
        "observability.operator",
        "either platform:observability.chart or platform:observability.operator (the operator's manifests, where the chart can't be fetched)",
        "both",
      ),
    );
  if (obs.operator && stage !== "local")
    problems.push(
      problemAt(
        "observability.operator",
        `nothing in a ${stage} stack, which installs the kube-prometheus-stack chart (the operator's manifests are for the offline local stack)`,
        JSON.stringify(obs.operator),
      ),
    );
  if (
    usable("observability") &&
    usable("alertWebhookUrl") &&
    observability.alertReceiver !== "none" &&
    raw.alertWebhookUrl === undefined
  )
    problems.push(
      problemAt(
        "alertWebhookUrl",
        `a secret webhook URL when platform:observability.alertReceiver is "${observability.alertReceiver}"`,
        "nothing",
      ),
    );
  if (obs.enabled === false && obs.alertReceiver !== undefined && obs.alertReceiver !== "none")
    problems.push(
      problemAt(
        "observability.alertReceiver",
        "no receiver when platform:observability.enabled is false",
        JSON.stringify(obs.alertReceiver),
      ),
    );
  return { settings: observability, problems, warnings };
}

/** Per-service overrides must name a deployed service and respect the stage's replica rules. */
function resolveServices(ctx: Resolution): Resolved<Record<string, ServiceOverride>> {
  const { stage, catalogs } = ctx;
  const services = ctx.raw.services ?? {};
  const problems: Problem[] = [];
  const problem = (key: string, expected: string, found: string) =>
    problems.push(problemAt(key, expected, found));
  const deployed = new Set(catalogs.flatMap((cat) => cat.services.map((s) => `${cat.name}/${s.name}`)));
  for (const [id, override] of Object.entries(services)) {
    if (!deployed.has(id)) {
      problem(
        `services.${id}`,
        `a deployed service as <catalog>/<service> (${[...deployed].sort().join(", ") || "no catalog deployed"})`,
        JSON.stringify(id),
      );
      continue;
    }
    if (override.replicas) {
      if (override.replicas.min > override.replicas.max)
        problem(
          `services.${id}.replicas.min`,
          `at most replicas.max (${override.replicas.max})`,
          String(override.replicas.min),
        );
      if (stage === "production" && override.replicas.max < 2)
        problem(`services.${id}.replicas.max`, "at least 2 in production", String(override.replicas.max));
      if (stage === "production" && override.replicas.min < 2)
        problem(
          `services.${id}.replicas.min`,
          "at least 2 in production (a single replica cannot survive a node drain)",
          String(override.replicas.min),
        );
    }
  }
  return { settings: services, problems, warnings: [] };
}

/** External credentials: keys must name a declared external secret of a deployed catalog. */
function resolveExternalSecretKeys(ctx: Resolution): Resolved<string[]> {
  const keys = Object.keys(ctx.raw.secrets ?? {}).sort();
  const declaredExternal = new Set(
    ctx.catalogs.flatMap((cat) =>
      cat.services.flatMap((s) =>
        Object.entries(s.secretEnv)
          .filter(([, v]) => v.source === "external")
          .map(([env]) => `${cat.name}.${env}`),
      ),
    ),
  );
  const problems = keys
    .filter((key) => !declaredExternal.has(key))
    .map((key) =>
      problemAt(
        `secrets.${key}`,
        `an external secret a deployed service declares (${[...declaredExternal].sort().join(", ") || "none"})`,
        "an undeclared key",
      ),
    );
  return { settings: keys, problems, warnings: [] };
}

/**
 * Where a third-party chart comes from: a path on disk when given; otherwise its repository, except in
 * the offline local stack, which leaves it out (and says so in `warnings`).
 */
function chartSettings(
  stage: Stage,
  warnings: string[],
  name: string,
  fullKey: string,
  version: string,
  given: { path?: string; version?: string } | undefined,
): ChartSettings {
  if (given?.path) return { version: given.version ?? version, source: "localPath", path: given.path };
  if (stage === "local") {
    warnings.push(
      `${name} is left out of the local stack: its Helm chart cannot be fetched offline. Set ${fullKey}.path to a chart on disk to include it.`,
    );
    return { version: given?.version ?? version, source: "skipped" };
  }
  return { version: given?.version ?? version, source: "repository" };
}

function resolveNodeGroups(
  given: Record<string, NodeGroupConfig> | undefined,
  profile: StageProfile,
): Record<string, NodeGroupSettings> {
  // A stack that names node groups replaces the profile's pools entirely (no silent extra pools).
  const source: Record<string, NodeGroupConfig> = given ?? profile.nodeGroups;
  return Object.fromEntries(
    Object.entries(source).map(([name, ng]): [string, NodeGroupSettings] => [
      name,
      {
        instanceTypes: ng.instanceTypes,
        minSize: ng.minSize,
        maxSize: ng.maxSize,
        desiredSize: ng.desiredSize ?? ng.minSize,
        diskSizeGb: ng.diskSizeGb ?? 50,
        capacityType: ng.capacityType ?? "ON_DEMAND",
        labels: ng.labels ?? {},
        taints: ng.taints ?? [],
      },
    ]),
  );
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
