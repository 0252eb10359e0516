/**
 * The platform baseline as plain functions: every rule takes resources shaped like Pulumi's
 * `PolicyResource` (`type`, `name`, `urn`, `props`) plus the stack's stage and returns violation
 * messages. Nothing here imports `@pulumi/policy`, so importing this module never starts the policy
 * server: `policy/index.ts` wraps these rules into the pack, and the tests call them directly (on
 * fixtures, and on the resources the mock harness records for every stack).
 *
 * Two kinds of rule:
 * - resource rules look at one resource at a time (RDS settings, container probes, images...);
 * - stack rules see every resource at once, for checks that relate resources to each other
 *   (a PodDisruptionBudget selecting a Deployment's pods, a flow log attached to a VPC, the Pod
 *   Security level of the namespace a workload runs in).
 *
 * "Application namespaces" are every namespace the stack creates except infrastructure namespaces
 * that opt out explicitly: a Namespace carrying the annotation
 * `platform.example.com/pod-security-exemption: <reason>` (for example the observability namespace,
 * whose node exporter needs host access). Workloads in an exempt namespace are not held to Pod
 * Security "restricted" nor to the PDB / HPA / NetworkPolicy coverage rules; probes, requests and
 * limits, pinned images and secret-free env values apply everywhere.
 */
import { CHART_IMAGES_NOT_STATED, chartImagesOf, chartNameOf } from "../components/chart-images";
import { cpuMillis, memoryBytes } from "../components/lib";
import { HELM_RELEASE_TYPES, imagesInResource } from "../config/image-lock";
import { externalEgressDeclared, quotaFit, routesUnique } from "./flow-rules";

export const STAGES = ["local", "staging", "production"] as const;
export type Stage = (typeof STAGES)[number];

/** What every rule knows about the stack being checked. */
export interface RuleContext {
  stage: Stage;
  /** The stack's name, when known: messages name the command to run for it. */
  stack?: string;
}

/** A resource as the rules see it: Pulumi's `PolicyResource` reduced to plain data. */
export interface RuleResource {
  /** Type token, e.g. `kubernetes:apps/v1:Deployment`. */
  type: string;
  /** Logical name. */
  name: string;
  urn: string;
  /** Inputs merged with outputs, secrets unwrapped to their values. */
  props: Record<string, unknown>;
  /** URNs of the resources this one depends on (any property or `dependsOn`). */
  dependencies?: readonly string[];
  /** URNs each property was computed from (only the engine knows these; the harness does not). */
  propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

export interface ResourceRule {
  kind: "resource";
  /** Policy name (lowercase, dashes), unique in the pack. */
  name: string;
  description: string;
  /** The resource types this rule inspects; others are never passed to `check`. */
  resourceTypes: readonly string[];
  /** Violation messages for one resource (empty when it complies). */
  check(resource: RuleResource, ctx: RuleContext): string[];
}

export interface StackViolation {
  /** The resource at fault. */
  urn: string;
  message: string;
}

export interface StackRule {
  kind: "stack";
  name: string;
  description: string;
  check(resources: readonly RuleResource[], ctx: RuleContext): StackViolation[];
}

export type Rule = ResourceRule | StackRule;

export interface Finding {
  rule: string;
  urn: string;
  message: string;
}

// ------------------------------------------------------------------------------------------------
// Resource types
// ------------------------------------------------------------------------------------------------

export const K8S = {
  namespace: "kubernetes:core/v1:Namespace",
  pod: "kubernetes:core/v1:Pod",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  job: "kubernetes:batch/v1:Job",
  cronJob: "kubernetes:batch/v1:CronJob",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  hpaV2: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  hpaV1: "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
  scaledObject: "kubernetes:keda.sh/v1alpha1:ScaledObject",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
} as const;

export const AWS = {
  rdsInstance: "aws:rds/instance:Instance",
  rdsCluster: "aws:rds/cluster:Cluster",
  cacheReplicationGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  cacheCluster: "aws:elasticache/cluster:Cluster",
  mqBroker: "aws:mq/broker:Broker",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  eksCluster: "aws:eks/cluster:Cluster",
  vpc: "aws:ec2/vpc:Vpc",
  flowLog: "aws:ec2/flowLog:FlowLog",
  kmsKey: "aws:kms/key:Key",
  snsTopic: "aws:sns/topic:Topic",
} as const;

/** Kinds whose pod template the Kubernetes rules inspect, keyed by type token. */
const WORKLOAD_KINDS: Readonly<Record<string, string>> = {
  [K8S.pod]: "Pod",
  [K8S.deployment]: "Deployment",
  [K8S.statefulSet]: "StatefulSet",
  [K8S.daemonSet]: "DaemonSet",
  [K8S.job]: "Job",
  [K8S.cronJob]: "CronJob",
};
const WORKLOAD_TYPES = Object.keys(WORKLOAD_KINDS);
/** Pod Security "restricted" is checked on these (the pod-creating kinds the baseline names, plus CronJob and Pod). */
const POD_SECURITY_TYPES = [K8S.deployment, K8S.statefulSet, K8S.job, K8S.cronJob, K8S.pod];
/** Long-running workloads: probes, PDB and HPA apply to these. */
const SERVICE_TYPES = [K8S.deployment, K8S.statefulSet];

export const POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";
export const POD_SECURITY_EXEMPTION_ANNOTATION = "platform.example.com/pod-security-exemption";
/** Namespaces Kubernetes itself owns; never application namespaces. */
const SYSTEM_NAMESPACES = new Set(["kube-system", "kube-public", "kube-node-lease"]);

// ------------------------------------------------------------------------------------------------
// Small readers over untyped props
// ------------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
function strRecord(v: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}
function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}
function get(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const key of path) cur = obj(cur)[key];
  return cur;
}

// ------------------------------------------------------------------------------------------------
// Kubernetes helpers
// ------------------------------------------------------------------------------------------------

interface Container {
  name: string;
  /** `containers`, `initContainers` or `ephemeralContainers`. */
  list: string;
  spec: Obj;
}

interface Workload {
  resource: RuleResource;
  kind: string;
  name: string;
  namespace: string;
  /** `Deployment "shop/api"`. */
  label: string;
  podSpec: Obj;
  podLabels: Record<string, string>;
}

function metadataName(r: RuleResource): string {
  return str(get(r.props, "metadata", "name")) ?? r.name;
}

function namespaceOf(r: RuleResource): string {
  return str(get(r.props, "metadata", "namespace")) ?? "default";
}

function workloadOf(r: RuleResource): Workload | undefined {
  const kind = WORKLOAD_KINDS[r.type];
  if (!kind) return undefined;
  const template =
    r.type === K8S.pod
      ? { metadata: get(r.props, "metadata"), spec: get(r.props, "spec") }
      : r.type === K8S.cronJob
        ? get(r.props, "spec", "jobTemplate", "spec", "template")
        : get(r.props, "spec", "template");
  const name = metadataName(r);
  const namespace = namespaceOf(r);
  return {
    resource: r,
    kind,
    name,
    namespace,
    label: `${kind} "${namespace}/${name}"`,
    podSpec: obj(get(template, "spec")),
    podLabels: strRecord(get(template, "metadata", "labels")),
  };
}

function workloads(
  resources: readonly RuleResource[],
  types: readonly string[] = WORKLOAD_TYPES,
): Workload[] {
  return resources.filter((r) => types.includes(r.type)).flatMap((r) => workloadOf(r) ?? []);
}

function containersOf(
  podSpec: Obj,
  lists: readonly string[] = ["initContainers", "containers", "ephemeralContainers"],
): Container[] {
  return lists.flatMap((list) =>
    arr(podSpec[list]).map((c, i) => ({ list, spec: obj(c), name: str(obj(c)["name"]) ?? `${list}[${i}]` })),
  );
}

function containerLabel(c: Container): string {
  return c.list === "containers"
    ? `container "${c.name}"`
    : c.list === "initContainers"
      ? `init container "${c.name}"`
      : `ephemeral container "${c.name}"`;
}

/** Whether a Kubernetes label selector (`matchLabels` + `matchExpressions`) selects `labels`. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const s = obj(selector);
  for (const [k, v] of Object.entries(strRecord(s["matchLabels"]))) if (labels[k] !== v) return false;
  for (const raw of arr(s["matchExpressions"])) {
    const e = obj(raw);
    const key = str(e["key"]) ?? "";
    const values = arr(e["values"]).filter((x): x is string => typeof x === "string");
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (str(e["operator"])) {
      case "In":
        if (!has || !values.includes(labels[key] ?? "")) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[key] ?? "")) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false; // an operator Kubernetes would reject selects nothing
    }
  }
  return true;
}

/** Names of namespaces that opted out of the application-namespace rules (plus Kubernetes' own). */
function exemptNamespaces(resources: readonly RuleResource[]): Set<string> {
  const exempt = new Set(SYSTEM_NAMESPACES);
  for (const r of resources) {
    if (r.type !== K8S.namespace) continue;
    const reason = strRecord(get(r.props, "metadata", "annotations"))[POD_SECURITY_EXEMPTION_ANNOTATION];
    if (reason && reason.trim() !== "") exempt.add(metadataName(r));
  }
  return exempt;
}

function applicationWorkloads(resources: readonly RuleResource[], types: readonly string[]): Workload[] {
  const exempt = exemptNamespaces(resources);
  return workloads(resources, types).filter((w) => !exempt.has(w.namespace));
}

// ------------------------------------------------------------------------------------------------
// Kubernetes rules
// ------------------------------------------------------------------------------------------------

const ALLOWED_RESTRICTED_VOLUMES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

/** The Pod Security "restricted" checks for one pod spec (the policies of the Kubernetes docs that apply to Linux pods). */
function restrictedProblems(podSpec: Obj): string[] {
  const problems: string[] = [];
  for (const field of ["hostNetwork", "hostPID", "hostIPC"])
    if (podSpec[field] === true) problems.push(`spec.${field} must not be true`);
  for (const raw of arr(podSpec["volumes"])) {
    const v = obj(raw);
    const kind = Object.keys(v).find((k) => k !== "name");
    if (kind && !ALLOWED_RESTRICTED_VOLUMES.includes(kind))
      problems.push(
        `volume "${str(v["name"]) ?? "?"}" uses ${kind}; only ${ALLOWED_RESTRICTED_VOLUMES.join(", ")} are allowed`,
      );
  }
  const pod = obj(podSpec["securityContext"]);
  if (num(pod["runAsUser"]) === 0) problems.push("securityContext.runAsUser must not be 0 (root)");
  const podSeccomp = str(get(pod, "seccompProfile", "type"));
  if (podSeccomp !== undefined && podSeccomp !== "RuntimeDefault" && podSeccomp !== "Localhost")
    problems.push(
      `securityContext.seccompProfile.type must be RuntimeDefault or Localhost (found ${podSeccomp})`,
    );

  for (const c of containersOf(podSpec)) {
    const sc = obj(c.spec["securityContext"]);
    const where = containerLabel(c);
    if (sc["privileged"] === true) problems.push(`${where} must not be privileged`);
    if (sc["allowPrivilegeEscalation"] !== false)
      problems.push(`${where} must set securityContext.allowPrivilegeEscalation to false`);
    const drop = arr(get(sc, "capabilities", "drop"));
    if (!drop.includes("ALL")) problems.push(`${where} must drop capability ALL`);
    const added = arr(get(sc, "capabilities", "add")).filter((cap) => cap !== "NET_BIND_SERVICE");
    if (added.length > 0)
      problems.push(`${where} may add only NET_BIND_SERVICE (adds ${added.map(String).join(", ")})`);
    const runAsNonRoot = sc["runAsNonRoot"] ?? pod["runAsNonRoot"];
    if (runAsNonRoot !== true)
      problems.push(
        `${where} must run as non-root (securityContext.runAsNonRoot true on the pod or the container)`,
      );
    if (num(sc["runAsUser"]) === 0) problems.push(`${where} must not set runAsUser 0 (root)`);
    const seccomp = str(get(sc, "seccompProfile", "type")) ?? podSeccomp;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
      problems.push(
        `${where} must use seccompProfile RuntimeDefault or Localhost (on the pod or the container; found ${seccomp ?? "none"})`,
      );
    for (const p of arr(c.spec["ports"])) {
      const hostPort = num(obj(p)["hostPort"]);
      if (hostPort !== undefined && hostPort !== 0)
        problems.push(`${where} must not use hostPort ${hostPort}`);
    }
  }
  return problems;
}

export const podSecurityRestricted: StackRule = {
  kind: "stack",
  name: "k8s-pod-security-restricted",
  description:
    'Application namespaces enforce Pod Security "restricted" and the pods of their Deployments, StatefulSets, Jobs and CronJobs meet it: non-root, no privilege escalation, capabilities dropped, seccomp RuntimeDefault, no host namespaces, ports or paths.',
  check(resources) {
    const out: StackViolation[] = [];
    for (const ns of resources.filter((r) => r.type === K8S.namespace)) {
      const name = metadataName(ns);
      const annotations = strRecord(get(ns.props, "metadata", "annotations"));
      if ((annotations[POD_SECURITY_EXEMPTION_ANNOTATION] ?? "").trim() !== "") continue;
      const level = strRecord(get(ns.props, "metadata", "labels"))[POD_SECURITY_ENFORCE_LABEL];
      if (level !== "restricted")
        out.push({
          urn: ns.urn,
          message: `Namespace "${name}" must label ${POD_SECURITY_ENFORCE_LABEL}=restricted (found ${level === undefined ? "no label" : `"${level}"`}); an infrastructure namespace that needs less gives its reason in annotation ${POD_SECURITY_EXEMPTION_ANNOTATION}.`,
        });
    }
    for (const w of applicationWorkloads(resources, POD_SECURITY_TYPES)) {
      for (const problem of restrictedProblems(w.podSpec))
        out.push({
          urn: w.resource.urn,
          message: `${w.label} violates Pod Security "restricted": ${problem}.`,
        });
    }
    return out;
  },
};

export const probesDefined: ResourceRule = {
  kind: "resource",
  name: "k8s-probes",
  description: "Every container of a Deployment or StatefulSet has startup, liveness and readiness probes.",
  resourceTypes: SERVICE_TYPES,
  check(resource) {
    const w = workloadOf(resource);
    if (!w) return [];
    return containersOf(w.podSpec, ["containers"]).flatMap((c) => {
      const missing = ["startupProbe", "livenessProbe", "readinessProbe"].filter((p) => !isObj(c.spec[p]));
      return missing.length === 0 ? [] : [`${w.label} ${containerLabel(c)} has no ${missing.join(", ")}.`];
    });
  },
};

export const resourcesDefined: ResourceRule = {
  kind: "resource",
  name: "k8s-requests-limits",
  description:
    "Every container (init containers included) of every workload sets CPU and memory requests and limits, requests not above limits.",
  resourceTypes: WORKLOAD_TYPES,
  check(resource) {
    const w = workloadOf(resource);
    if (!w) return [];
    return containersOf(w.podSpec, ["initContainers", "containers"]).flatMap((c) => {
      const requests = strRecord(get(c.spec, "resources", "requests"));
      const limits = strRecord(get(c.spec, "resources", "limits"));
      const missing = [
        ...(["cpu", "memory"] as const).filter((k) => requests[k] === undefined).map((k) => `requests.${k}`),
        ...(["cpu", "memory"] as const).filter((k) => limits[k] === undefined).map((k) => `limits.${k}`),
      ];
      if (missing.length > 0)
        return [`${w.label} ${containerLabel(c)} does not set resources ${missing.join(", ")}.`];
      const out: string[] = [];
      if (cpuMillis(requests["cpu"] ?? "") > cpuMillis(limits["cpu"] ?? ""))
        out.push(
          `${w.label} ${containerLabel(c)} requests CPU ${requests["cpu"]} above its limit ${limits["cpu"]}.`,
        );
      if (memoryBytes(requests["memory"] ?? "") > memoryBytes(limits["memory"] ?? ""))
        out.push(
          `${w.label} ${containerLabel(c)} requests memory ${requests["memory"]} above its limit ${limits["memory"]}.`,
        );
      return out;
    });
  },
};

/** The tag of an image reference, `undefined` when it has none; digests count as pinned. */
export function imageTag(image: string): { tag?: string; digest?: string } {
  const at = image.indexOf("@");
  if (at >= 0) return { digest: image.slice(at + 1) };
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1); // a colon before the last slash is a registry port
  return colon >= 0 ? { tag: image.slice(colon + 1) } : {};
}

export const imagesPinned: ResourceRule = {
  kind: "resource",
  name: "k8s-image-pinned",
  description: 'Every container image names a version tag or digest; never "latest" or no tag.',
  resourceTypes: WORKLOAD_TYPES,
  check(resource) {
    const w = workloadOf(resource);
    if (!w) return [];
    return containersOf(w.podSpec).flatMap((c) => {
      const image = str(c.spec["image"]);
      if (image === undefined) return [`${w.label} ${containerLabel(c)} has no image.`];
      const { tag, digest } = imageTag(image);
      if (digest) return [];
      if (tag === undefined || tag === "")
        return [
          `${w.label} ${containerLabel(c)} image "${image}" has no tag; pin a version tag or a digest.`,
        ];
      if (tag === "latest")
        return [
          `${w.label} ${containerLabel(c)} image "${image}" uses the mutable tag "latest"; pin a version tag or a digest.`,
        ];
      return [];
    });
  },
};

/** An image reference split into its parts; `registry` is `docker.io` when the reference names none. */
export interface ImageReference {
  registry: string;
  /** Path inside the registry, e.g. `library/postgres`, `acme-shop/user-service`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` when the reference pins one. */
  digest?: string;
}

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Parses `[registry/]path[:tag][@digest]` the way container runtimes resolve it (Docker Hub by default). */
export function parseImageReference(image: string): ImageReference {
  const at = image.indexOf("@");
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const named = at >= 0 ? image.slice(0, at) : image;
  const { tag } = imageTag(named);
  const name = tag === undefined ? named : named.slice(0, named.length - tag.length - 1);
  const [first = "", ...rest] = name.split("/");
  // A first segment with a dot or a port, or "localhost", is a registry host; otherwise Docker Hub.
  const hasRegistry = rest.length > 0 && (/[.:]/.test(first) || first === "localhost");
  const registry = hasRegistry ? first : "docker.io";
  const path = hasRegistry ? rest.join("/") : name;
  const repository = registry === "docker.io" && !path.includes("/") ? `library/${path}` : path;
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Whether the reference pins a sha256 digest (a tag beside it is only a label then). */
export function isDigestPinned(image: string): boolean {
  const { digest } = parseImageReference(image);
  return digest !== undefined && SHA256_DIGEST.test(digest);
}

/** Resources that make the cluster run an image: workloads, custom resources naming one, Helm releases. */
const IMAGE_RUNNING_TYPES = [
  ...WORKLOAD_TYPES,
  "kubernetes:postgresql.cnpg.io/v1:Cluster",
  "kubernetes:monitoring.coreos.com/v1:Prometheus",
  "kubernetes:monitoring.coreos.com/v1:Alertmanager",
  ...HELM_RELEASE_TYPES,
];

/** The resource as a message names it: `Deployment "ns/name"`, `Release "cert-manager"`. */
function imageOwnerLabel(resource: RuleResource): string {
  const kind = resource.type.split(":").pop() ?? resource.type;
  const p = resource.props as { metadata?: { name?: string; namespace?: string }; name?: string };
  if (HELM_RELEASE_TYPES.includes(resource.type)) return `${kind} "${p.name ?? resource.name}"`;
  const ns = p.metadata?.namespace;
  return `${kind} "${ns ? `${ns}/` : ""}${p.metadata?.name ?? resource.name}"`;
}

export const imagesDigestPinnedInProduction: ResourceRule = {
  kind: "resource",
  name: "k8s-image-digest-pinned-production",
  description:
    "Production: every image the stack runs (containers, the CloudNativePG Cluster's imageName, Prometheus and Alertmanager, every image our Helm charts run) is pinned by digest (`repo:tag@sha256:…`), so what was reviewed is what runs; a tag can be moved. Staging: reported as a warning.",
  resourceTypes: IMAGE_RUNNING_TYPES,
  check(resource, ctx) {
    if (ctx.stage !== "production" && ctx.stage !== "staging") return [];
    const owner = imageOwnerLabel(resource);
    const stack = ctx.stack ?? ctx.stage;
    const how = `lock the stack's images with \`npm run images -- lock --stack ${stack}\` (writes Pulumi.${stack}.images.lock.json beside the stack file; the program then deploys tag@sha256:…), or pin this one in config (platform:services.<catalog>/<service>.imageTag: sha256:…, platform:images.<role>: <image>@sha256:…; images.md in the render names the key)`;
    const out = imagesInResource(resource.type, resource.props).flatMap((found) => {
      const image = found.digest ? `${found.image}@${found.digest}` : found.image;
      return isDigestPinned(image)
        ? []
        : [
            `${owner} ${found.where} image "${image}" is not pinned by digest; ${ctx.stage === "production" ? "production runs only `name@sha256:<digest>` references" : "production would refuse it"}: ${how}.`,
          ];
    });
    if (HELM_RELEASE_TYPES.includes(resource.type)) {
      const chart = chartNameOf(str(resource.props["chart"]) ?? "");
      for (const found of chartImagesOf(chart, resource.props["values"]))
        if (!found.image)
          out.push(
            `${owner} values.${found.key}: the chart's image (${found.slot.runs}) is not stated in the values, so it runs the chart's default tag, unpinned; state it (components/chart-images.ts) and lock it.`,
          );
      for (const key of CHART_IMAGES_NOT_STATED[chart] ?? [])
        out.push(
          `${owner} values.${key}: the chart runs an image its values do not state, so it runs the chart's default tag, unpinned; state it (components/chart-images.ts) and lock it.`,
        );
    }
    return out;
  },
};

/** Name segments that mark an environment variable as secret. */
const SECRET_WORDS = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "APIKEY", "CREDENTIALS"];
/** Trailing segments that describe a secret without being one (JWT_SECRET_EXPIRATION, API_KEY_HEADER...). */
const NON_SECRET_SUFFIXES = [
  "EXPIRATION",
  "EXPIRY",
  "TTL",
  "TIMEOUT",
  "FILE",
  "PATH",
  "LENGTH",
  "ALGORITHM",
  "HEADER",
];

/** Whether an environment variable name looks like it holds a secret. */
export function looksSecret(name: string): boolean {
  const segments = name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  const last = segments[segments.length - 1] ?? "";
  if (NON_SECRET_SUFFIXES.includes(last)) return false;
  return segments.some(
    (s) => SECRET_WORDS.includes(s) || SECRET_WORDS.some((w) => w.length > 3 && s.endsWith(w)),
  );
}

export const noPlaintextSecretEnv: ResourceRule = {
  kind: "resource",
  name: "k8s-no-plaintext-secret-env",
  description:
    "No container sets a secret-looking environment variable (*PASSWORD*, *SECRET*, *TOKEN*, *KEY*...) with a literal `value`; use `valueFrom.secretKeyRef`.",
  resourceTypes: WORKLOAD_TYPES,
  check(resource) {
    const w = workloadOf(resource);
    if (!w) return [];
    return containersOf(w.podSpec).flatMap((c) =>
      arr(c.spec["env"]).flatMap((raw) => {
        const e = obj(raw);
        const name = str(e["name"]) ?? "";
        const value = e["value"];
        if (value === undefined || value === null || value === "" || !looksSecret(name)) return [];
        return [
          `${w.label} ${containerLabel(c)} sets ${name} as a plain value; read it from a Secret with valueFrom.secretKeyRef.`,
        ];
      }),
    );
  },
};

function coverageRule(args: {
  name: string;
  description: string;
  types: readonly string[];
  stages: readonly Stage[];
  exempt?: (w: Workload) => boolean;
  check: (w: Workload, resources: readonly RuleResource[]) => string | undefined;
}): StackRule {
  return {
    kind: "stack",
    name: args.name,
    description: args.description,
    check(resources, ctx) {
      if (!args.stages.includes(ctx.stage)) return [];
      return applicationWorkloads(resources, args.types)
        .filter((w) => !(args.exempt?.(w) ?? false))
        .flatMap((w) => {
          const message = args.check(w, resources);
          return message ? [{ urn: w.resource.urn, message }] : [];
        });
    },
  };
}

export const pdbCoverage = coverageRule({
  name: "k8s-pdb-coverage",
  description:
    "Every Deployment and StatefulSet in an application namespace is selected by a PodDisruptionBudget.",
  types: SERVICE_TYPES,
  stages: STAGES,
  check(w, resources) {
    const covered = resources.some(
      (r) =>
        r.type === K8S.pdb &&
        namespaceOf(r) === w.namespace &&
        selectorMatches(get(r.props, "spec", "selector"), w.podLabels),
    );
    return covered
      ? undefined
      : `${w.label} is not covered by a PodDisruptionBudget (none in namespace "${w.namespace}" selects its pod labels).`;
  },
});

/**
 * A StatefulSet that runs a single replica and keeps data in volume claims (an in-cluster database
 * or cache) cannot scale horizontally: a second replica would be a second, empty data store. It is
 * exempt from the HPA rule; its PDB and NetworkPolicy are still required.
 */
export function isSingleReplicaPersistentStatefulSet(w: Workload): boolean {
  if (w.resource.type !== K8S.statefulSet) return false;
  const replicas = num(get(w.resource.props, "spec", "replicas")) ?? 1;
  return replicas <= 1 && arr(get(w.resource.props, "spec", "volumeClaimTemplates")).length > 0;
}

/**
 * A single-replica workload that says why it must never run twice (a Worker's `singleton`: the
 * annotation `<labelDomain>/singleton-reason` with a reason): scaling it out is the fault it avoids.
 */
export function isDeclaredSingleton(w: Workload): boolean {
  const replicas = num(get(w.resource.props, "spec", "replicas")) ?? 1;
  const annotations = obj(get(w.resource.props, "metadata", "annotations"));
  return (
    replicas <= 1 &&
    Object.entries(annotations).some(
      ([key, value]) => key.endsWith("/singleton-reason") && typeof value === "string" && value.trim() !== "",
    )
  );
}

export const hpaCoverage = coverageRule({
  name: "k8s-hpa-coverage",
  description:
    "In staging and production every Deployment and StatefulSet in an application namespace is the target of a HorizontalPodAutoscaler, or of a KEDA ScaledObject, which creates one (single-replica StatefulSets with volume claims, and single-replica workloads that state a singleton reason, are exempt: they cannot scale out).",
  types: SERVICE_TYPES,
  stages: ["staging", "production"],
  exempt: (w) => isSingleReplicaPersistentStatefulSet(w) || isDeclaredSingleton(w),
  check(w, resources) {
    const covered = resources.some((r) => {
      if (r.type !== K8S.hpaV2 && r.type !== K8S.hpaV1 && r.type !== K8S.scaledObject) return false;
      const target = obj(get(r.props, "spec", "scaleTargetRef"));
      // A ScaledObject's target kind defaults to Deployment.
      const kind = target["kind"] ?? (r.type === K8S.scaledObject ? "Deployment" : undefined);
      return namespaceOf(r) === w.namespace && kind === w.kind && target["name"] === w.name;
    });
    return covered
      ? undefined
      : `${w.label} has no HorizontalPodAutoscaler (none in namespace "${w.namespace}" targets ${w.kind} "${w.name}").`;
  },
});

/**
 * The directions a NetworkPolicy spec restricts, with the API server's default when `policyTypes` is
 * left out: Ingress, plus Egress when the spec has at least one egress rule (`len(spec.egress) != 0`),
 * so `egress: []` alone restricts ingress only. The connectivity model (analysis/) reads it too.
 */
export function networkPolicyTypes(spec: unknown): string[] {
  const explicit = arr(get(spec, "policyTypes")).filter((t): t is string => typeof t === "string");
  if (explicit.length > 0) return explicit;
  return arr(get(spec, "egress")).length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

function policyTypes(networkPolicy: RuleResource): string[] {
  return networkPolicyTypes(get(networkPolicy.props, "spec"));
}

export const networkPolicyCoverage = coverageRule({
  name: "k8s-networkpolicy-coverage",
  description:
    "The pods of every workload in an application namespace are selected by NetworkPolicies restricting both ingress and egress.",
  types: WORKLOAD_TYPES.filter((t) => t !== K8S.pod),
  stages: STAGES,
  check(w, resources) {
    const directions = new Set(
      resources
        .filter(
          (r) =>
            r.type === K8S.networkPolicy &&
            namespaceOf(r) === w.namespace &&
            selectorMatches(get(r.props, "spec", "podSelector"), w.podLabels),
        )
        .flatMap(policyTypes),
    );
    const missing = ["Ingress", "Egress"].filter((d) => !directions.has(d));
    return missing.length === 0
      ? undefined
      : `${w.label} is not covered by a NetworkPolicy for ${missing.join(" and ")} (none in namespace "${w.namespace}" selects its pod labels).`;
  },
});

// ------------------------------------------------------------------------------------------------
// AWS rules
// ------------------------------------------------------------------------------------------------

function awsLabel(r: RuleResource, kind: string): string {
  return `${kind} "${r.name}"`;
}

const RDS_TYPES = [AWS.rdsInstance, AWS.rdsCluster];
const rdsKind = (r: RuleResource) => (r.type === AWS.rdsCluster ? "RDS cluster" : "RDS instance");

export const rdsEncrypted: ResourceRule = {
  kind: "resource",
  name: "aws-rds-storage-encrypted",
  description: "RDS instances and clusters encrypt their storage.",
  resourceTypes: RDS_TYPES,
  check(r) {
    return r.props["storageEncrypted"] === true
      ? []
      : [`${awsLabel(r, rdsKind(r))} must set storageEncrypted to true.`];
  },
};

export const rdsNotPublic: ResourceRule = {
  kind: "resource",
  name: "aws-rds-not-public",
  description: "RDS instances are not publicly accessible.",
  resourceTypes: [AWS.rdsInstance],
  check(r) {
    return r.props["publiclyAccessible"] === true
      ? [`${awsLabel(r, rdsKind(r))} must not be publicly accessible.`]
      : [];
  },
};

export const MIN_BACKUP_RETENTION_DAYS = 7;

export const rdsBackups: ResourceRule = {
  kind: "resource",
  name: "aws-rds-backup-retention",
  description: `RDS keeps automated backups for at least ${MIN_BACKUP_RETENTION_DAYS} days.`,
  resourceTypes: RDS_TYPES,
  check(r) {
    const days = num(r.props["backupRetentionPeriod"]);
    return days !== undefined && days >= MIN_BACKUP_RETENTION_DAYS
      ? []
      : [
          `${awsLabel(r, rdsKind(r))} must keep backups for at least ${MIN_BACKUP_RETENTION_DAYS} days (backupRetentionPeriod is ${days ?? "unset"}).`,
        ];
  },
};

export const rdsProductionResilience: ResourceRule = {
  kind: "resource",
  name: "aws-rds-production-resilience",
  description:
    "In production, RDS instances are Multi-AZ and RDS instances and clusters have deletion protection.",
  resourceTypes: RDS_TYPES,
  check(r, ctx) {
    if (ctx.stage !== "production") return [];
    const out: string[] = [];
    if (r.type === AWS.rdsInstance && r.props["multiAz"] !== true)
      out.push(`${awsLabel(r, rdsKind(r))} must be Multi-AZ in production (multiAz true).`);
    if (r.props["deletionProtection"] !== true)
      out.push(`${awsLabel(r, rdsKind(r))} must have deletionProtection in production.`);
    return out;
  },
};

export const rdsIamAuth: ResourceRule = {
  kind: "resource",
  name: "aws-rds-iam-auth",
  description: "RDS enables IAM database authentication.",
  resourceTypes: RDS_TYPES,
  check(r) {
    return r.props["iamDatabaseAuthenticationEnabled"] === true
      ? []
      : [
          `${awsLabel(r, rdsKind(r))} must enable IAM database authentication (iamDatabaseAuthenticationEnabled true).`,
        ];
  },
};

export const elasticacheSecure: ResourceRule = {
  kind: "resource",
  name: "aws-elasticache-encryption-auth",
  description:
    "ElastiCache runs as a replication group encrypted in transit (mode required) and at rest, with an AUTH token or RBAC user groups; single-node clusters (aws.elasticache.Cluster) cannot and are rejected.",
  resourceTypes: [AWS.cacheReplicationGroup, AWS.cacheCluster],
  check(r) {
    const label = awsLabel(r, "ElastiCache replication group");
    if (r.type === AWS.cacheCluster)
      return [
        `ElastiCache cluster "${r.name}" cannot encrypt or authenticate; use an aws.elasticache.ReplicationGroup.`,
      ];
    const out: string[] = [];
    if (r.props["transitEncryptionEnabled"] !== true)
      out.push(`${label} must enable encryption in transit (transitEncryptionEnabled true).`);
    else if (r.props["transitEncryptionMode"] === "preferred")
      out.push(
        `${label} must require encryption in transit (transitEncryptionMode "required", found "preferred").`,
      );
    if (r.props["atRestEncryptionEnabled"] !== true)
      out.push(`${label} must enable encryption at rest (atRestEncryptionEnabled true).`);
    const token = str(r.props["authToken"]);
    const userGroups = arr(r.props["userGroupIds"]);
    if ((token === undefined || token === "") && userGroups.length === 0)
      out.push(`${label} must require authentication (authToken or userGroupIds).`);
    return out;
  },
};

export const elasticacheFailover: ResourceRule = {
  kind: "resource",
  name: "aws-elasticache-production-failover",
  description:
    "In production, ElastiCache replication groups fail over automatically across availability zones.",
  resourceTypes: [AWS.cacheReplicationGroup],
  check(r, ctx) {
    if (ctx.stage !== "production") return [];
    const label = awsLabel(r, "ElastiCache replication group");
    const out: string[] = [];
    if (r.props["automaticFailoverEnabled"] !== true)
      out.push(`${label} must enable automatic failover in production (automaticFailoverEnabled true).`);
    if (r.props["multiAzEnabled"] !== true)
      out.push(`${label} must be Multi-AZ in production (multiAzEnabled true).`);
    return out;
  },
};

export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

export const eksHardened: ResourceRule = {
  kind: "resource",
  name: "aws-eks-hardened",
  description:
    "EKS clusters have a private API endpoint (a public one only for listed CIDRs, never 0.0.0.0/0), encrypt Kubernetes secrets with KMS and ship all five control-plane log types.",
  resourceTypes: [AWS.eksCluster],
  check(r) {
    const label = awsLabel(r, "EKS cluster");
    const out: string[] = [];
    const vpc = obj(r.props["vpcConfig"]);
    if (vpc["endpointPrivateAccess"] !== true)
      out.push(`${label} must enable the private API endpoint (vpcConfig.endpointPrivateAccess true).`);
    // EKS defaults the public endpoint to on and open to 0.0.0.0/0 when these are left unset.
    if (vpc["endpointPublicAccess"] !== false) {
      const cidrs = arr(vpc["publicAccessCidrs"]).filter((c): c is string => typeof c === "string");
      if (cidrs.length === 0 || cidrs.includes("0.0.0.0/0"))
        out.push(
          `${label} exposes its public API endpoint to the internet; set vpcConfig.endpointPublicAccess false or list publicAccessCidrs (not 0.0.0.0/0).`,
        );
    }
    const encryption = obj(r.props["encryptionConfig"]);
    const keyArn = str(get(encryption, "provider", "keyArn"));
    if (!keyArn || !arr(encryption["resources"]).includes("secrets"))
      out.push(
        `${label} must encrypt Kubernetes secrets with a KMS key (encryptionConfig with resources ["secrets"] and provider.keyArn).`,
      );
    const enabled = arr(r.props["enabledClusterLogTypes"]);
    const missing = EKS_LOG_TYPES.filter((t) => !enabled.includes(t));
    if (missing.length > 0)
      out.push(`${label} must enable every control-plane log type (missing ${missing.join(", ")}).`);
    return out;
  },
};

export const vpcFlowLogs: StackRule = {
  kind: "stack",
  name: "aws-vpc-flow-logs",
  description: "Every VPC the stack creates has a flow log attached to it.",
  check(resources) {
    const flowLogs = resources.filter((r) => r.type === AWS.flowLog);
    return resources
      .filter((r) => r.type === AWS.vpc)
      .filter((vpc) => {
        const vpcId = str(vpc.props["id"]);
        return !flowLogs.some((fl) => {
          if (vpcId !== undefined && fl.props["vpcId"] === vpcId) return true;
          // The engine tells which resource `vpcId` came from; without that (the harness), any dependency on the VPC counts.
          const sources =
            fl.propertyDependencies?.["vpcId"] ??
            (fl.props["vpcId"] !== undefined ? fl.dependencies : undefined) ??
            [];
          return sources.includes(vpc.urn);
        });
      })
      .map((vpc) => ({
        urn: vpc.urn,
        message: `VPC "${vpc.name}" has no flow log (an aws.ec2.FlowLog with its vpcId).`,
      }));
  },
};

/** KMS rotates only symmetric encryption keys; asymmetric and HMAC keys cannot be rotated. */
const SYMMETRIC_KEY_SPEC = "SYMMETRIC_DEFAULT";

export const kmsKeyRotation: ResourceRule = {
  kind: "resource",
  name: "aws-kms-key-rotation",
  description: "Symmetric KMS keys rotate their key material every year (enableKeyRotation true).",
  resourceTypes: [AWS.kmsKey],
  check(r) {
    const spec = str(r.props["customerMasterKeySpec"]) ?? SYMMETRIC_KEY_SPEC;
    if (spec !== SYMMETRIC_KEY_SPEC) return [];
    return r.props["enableKeyRotation"] === true
      ? []
      : [`${awsLabel(r, "KMS key")} must rotate its key material (enableKeyRotation true).`];
  },
};

export const snsTopicEncrypted: ResourceRule = {
  kind: "resource",
  name: "aws-sns-encrypted",
  description: "SNS topics encrypt messages at rest with a KMS key (kmsMasterKeyId set).",
  resourceTypes: [AWS.snsTopic],
  check(r) {
    const key = str(r.props["kmsMasterKeyId"]);
    return key !== undefined && key !== ""
      ? []
      : [`${awsLabel(r, "SNS topic")} must encrypt at rest with a KMS key (kmsMasterKeyId).`];
  },
};

// ------------------------------------------------------------------------------------------------
// Data stores in production: backups, replicas, encrypted connections
// ------------------------------------------------------------------------------------------------

export const DATA = {
  storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
  secret: "kubernetes:core/v1:Secret",
  cnpgCluster: "kubernetes:postgresql.cnpg.io/v1:Cluster",
  cnpgScheduledBackup: "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup",
  backupSelection: "aws:backup/selection:Selection",
} as const;
/** Why a production data store runs a single replica (MicroService's `singleton`). */
export const SINGLETON_REASON_ANNOTATION = "platform.example.com/singleton-reason";
const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";

/** StatefulSets that keep data in volume claims: the stateful workloads Kubernetes runs. */
function persistentStatefulSets(resources: readonly RuleResource[]): Workload[] {
  return workloads(resources, [K8S.statefulSet]).filter(
    (w) => arr(get(w.resource.props, "spec", "volumeClaimTemplates")).length > 0,
  );
}

/** The `key=value` tags an EBS CSI StorageClass puts on the volumes it provisions (`tagSpecification_N`). */
function storageClassVolumeTags(storageClass: RuleResource): string[] {
  return Object.entries(strRecord(storageClass.props["parameters"]))
    .filter(([k]) => /^tagSpecification_[0-9]+$/.test(k))
    .map(([, v]) => v);
}

/** Whether an AWS Backup selection picks EBS volumes carrying all of `tags`. */
function selectionPicksVolumesTagged(selection: RuleResource, tags: readonly string[]): boolean {
  const resourcesSelected = arr(selection.props["resources"]).filter(
    (x): x is string => typeof x === "string",
  );
  const ebs =
    resourcesSelected.length === 0 ||
    resourcesSelected.some((arn) => /:ec2:[^:]*:[^:]*:volume\/\*$/.test(arn) || arn === "*");
  const conditions = arr(selection.props["selectionTags"]).map(obj);
  return (
    ebs &&
    conditions.length > 0 &&
    conditions.every(
      (c) => c["type"] === "STRINGEQUALS" && tags.includes(`${str(c["key"])}=${str(c["value"])}`),
    )
  );
}

export const productionBackups: StackRule = {
  kind: "stack",
  name: "data-production-backup",
  description:
    "In production every stateful workload is backed up: StatefulSet volumes are selected by an AWS Backup plan (through the tags of their StorageClass), CloudNativePG clusters archive to an object store and have a ScheduledBackup, ElastiCache keeps snapshots.",
  check(resources, ctx) {
    if (ctx.stage !== "production") return [];
    const violations: StackViolation[] = [];
    const classes = resources.filter((r) => r.type === DATA.storageClass);
    const selections = resources.filter((r) => r.type === DATA.backupSelection);
    for (const w of persistentStatefulSets(resources)) {
      for (const claim of arr(get(w.resource.props, "spec", "volumeClaimTemplates"))) {
        const className =
          str(get(claim, "spec", "storageClassName")) ??
          classes
            .map((c) => ({ c, a: strRecord(get(c.props, "metadata", "annotations")) }))
            .filter(({ a }) => a[DEFAULT_CLASS_ANNOTATION] === "true")
            .map(({ c }) => metadataName(c))[0];
        const claimName = str(get(claim, "metadata", "name")) ?? "data";
        const storageClass = classes.find((c) => metadataName(c) === className);
        if (!storageClass) {
          violations.push({
            urn: w.resource.urn,
            message: `${w.label} keeps data in volume claim "${claimName}" of ${className ? `StorageClass "${className}", which this stack does not define` : "the cluster's default StorageClass, which this stack does not define"}: nothing shows its volumes are backed up.`,
          });
          continue;
        }
        const tags = storageClassVolumeTags(storageClass);
        if (!selections.some((s) => selectionPicksVolumesTagged(s, tags)))
          violations.push({
            urn: w.resource.urn,
            message: `${w.label} keeps data in volume claim "${claimName}" of StorageClass "${metadataName(storageClass)}", whose volumes no AWS Backup selection picks (volume tags: ${tags.length ? tags.join(", ") : "none"}).`,
          });
      }
    }
    for (const cluster of resources.filter((r) => r.type === DATA.cnpgCluster)) {
      const name = metadataName(cluster);
      const namespace = namespaceOf(cluster);
      const label = `CloudNativePG Cluster "${namespace}/${name}"`;
      const archives =
        str(get(cluster.props, "spec", "backup", "barmanObjectStore", "destinationPath")) !== undefined ||
        arr(get(cluster.props, "spec", "plugins")).length > 0;
      if (!archives)
        violations.push({
          urn: cluster.urn,
          message: `${label} archives no WAL: it has no backup.barmanObjectStore (or backup plugin).`,
        });
      const scheduled = resources.some(
        (r) =>
          r.type === DATA.cnpgScheduledBackup &&
          namespaceOf(r) === namespace &&
          str(get(r.props, "spec", "cluster", "name")) === name,
      );
      if (!scheduled)
        violations.push({
          urn: cluster.urn,
          message: `${label} has no ScheduledBackup: no base backups, so WAL alone cannot restore it.`,
        });
    }
    for (const group of resources.filter((r) => r.type === AWS.cacheReplicationGroup)) {
      if ((num(group.props["snapshotRetentionLimit"]) ?? 0) < 1)
        violations.push({
          urn: group.urn,
          message: `ElastiCache replication group "${group.name}" keeps no snapshots (snapshotRetentionLimit 0).`,
        });
    }
    return violations;
  },
};

export const productionReplicas: StackRule = {
  kind: "stack",
  name: "data-production-replicas",
  description: `In production no data store runs a single replica unless it records why (annotation ${SINGLETON_REASON_ANNOTATION}): StatefulSets with volume claims and CloudNativePG clusters.`,
  check(resources, ctx) {
    if (ctx.stage !== "production") return [];
    const reason = (r: RuleResource) =>
      (strRecord(get(r.props, "metadata", "annotations"))[SINGLETON_REASON_ANNOTATION] ?? "").trim();
    const statefulSets = persistentStatefulSets(resources)
      .filter((w) => (num(get(w.resource.props, "spec", "replicas")) ?? 1) <= 1 && !reason(w.resource))
      .map((w) => ({
        urn: w.resource.urn,
        message: `${w.label} is a single-replica data store in production without a recorded reason (annotation ${SINGLETON_REASON_ANNOTATION}).`,
      }));
    const clusters = resources
      .filter((r) => r.type === DATA.cnpgCluster)
      .filter((r) => (num(get(r.props, "spec", "instances")) ?? 1) < 2 && !reason(r))
      .map((r) => ({
        urn: r.urn,
        message: `CloudNativePG Cluster "${namespaceOf(r)}/${metadataName(r)}" runs ${num(get(r.props, "spec", "instances")) ?? 1} instance in production without a recorded reason (annotation ${SINGLETON_REASON_ANNOTATION}): no failover.`,
      }));
    return [...statefulSets, ...clusters];
  },
};

/** Why a data-store connection URL is plain text, or undefined when it is encrypted (or not a data-store URL). */
export function plaintextConnection(url: string): string | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url.trim());
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") {
    const sslmode = /[?&]sslmode=([^&#]*)/.exec(url)?.[1];
    return sslmode && ["require", "verify-ca", "verify-full"].includes(sslmode)
      ? undefined
      : `sslmode=${sslmode ?? "(unset: libpq falls back to plain text)"}`;
  }
  if (scheme === "redis") return "redis:// (use rediss://)";
  if (scheme === "amqp") return "amqp:// (use amqps://)";
  if (scheme === "mongodb" && !/[?&](tls|ssl)=true/.test(url)) return "mongodb:// without tls=true";
  return undefined;
}

export const productionEncryptedConnections: StackRule = {
  kind: "stack",
  name: "data-production-tls",
  description:
    "In production no database connection is plain text: connection URLs in Secrets and env values use TLS (PostgreSQL sslmode require or stricter, rediss://, amqps://), and CloudNativePG clusters reject non-TLS clients in pg_hba.",
  check(resources, ctx) {
    if (ctx.stage !== "production") return [];
    const violations: StackViolation[] = [];
    for (const secret of resources.filter((r) => r.type === DATA.secret)) {
      const values: [string, string][] = [
        ...Object.entries(strRecord(secret.props["stringData"])),
        ...Object.entries(strRecord(secret.props["data"])).map(
          ([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")] as [string, string],
        ),
      ];
      for (const [key, value] of values) {
        const why = plaintextConnection(value);
        if (why)
          violations.push({
            urn: secret.urn,
            message: `Secret "${namespaceOf(secret)}/${metadataName(secret)}" key ${key} is a plain-text connection: ${why}.`,
          });
      }
    }
    for (const w of workloads(resources)) {
      for (const c of containersOf(w.podSpec)) {
        for (const e of arr(c.spec["env"]).map(obj)) {
          const value = str(e["value"]);
          const why = value !== undefined ? plaintextConnection(value) : undefined;
          if (why)
            violations.push({
              urn: w.resource.urn,
              message: `${w.label} ${containerLabel(c)} env ${str(e["name"])} is a plain-text connection: ${why}.`,
            });
        }
      }
    }
    for (const cluster of resources.filter((r) => r.type === DATA.cnpgCluster)) {
      const hba = arr(get(cluster.props, "spec", "postgresql", "pg_hba")).filter(
        (x): x is string => typeof x === "string",
      );
      if (!hba.some((line) => /^hostnossl\s+all\s+all\s+\S+\s+reject$/.test(line.trim())))
        violations.push({
          urn: cluster.urn,
          message: `CloudNativePG Cluster "${namespaceOf(cluster)}/${metadataName(cluster)}" accepts plain-text clients: its pg_hba has no "hostnossl all all all reject".`,
        });
    }
    return violations;
  },
};

/**
 * CloudWatch alarms that fire when a store stops reporting ("down": missing data breaching, with an
 * alarm action), built from `store` (they depend on it), by the dimension naming it.
 */
function downAlarmDimensions(
  resources: readonly RuleResource[],
  store: RuleResource,
  namespace: string,
  dimension: string,
): string[] {
  return resources
    .filter(
      (a) =>
        a.type === AWS.metricAlarm &&
        (a.dependencies ?? []).includes(store.urn) &&
        a.props["namespace"] === namespace &&
        a.props["treatMissingData"] === "breaching" &&
        arr(a.props["alarmActions"]).length > 0,
    )
    .map((a) => strRecord(a.props["dimensions"])[dimension])
    .filter((d): d is string => d !== undefined);
}

export const productionAlarms: StackRule = {
  kind: "stack",
  name: "data-production-alarms",
  description:
    "In production every AWS-managed data store has a CloudWatch alarm that notifies someone when it stops reporting: each RDS instance, each node of an ElastiCache replication group, each Amazon MQ broker (in-cluster stores are covered by Prometheus rules).",
  check(resources, ctx) {
    if (ctx.stage !== "production") return [];
    const violations: StackViolation[] = [];
    const missing = (r: RuleResource, what: string, expected: string) =>
      violations.push({
        urn: r.urn,
        message: `${what} has no CloudWatch alarm that notifies when it stops reporting (${expected}, missing data breaching, an alarm action).`,
      });
    for (const db of resources.filter((r) => r.type === AWS.rdsInstance)) {
      const id = str(db.props["identifier"]);
      const dims = downAlarmDimensions(resources, db, "AWS/RDS", "DBInstanceIdentifier");
      if (!dims.some((d) => id === undefined || d === id))
        missing(db, `RDS instance "${db.name}"`, `AWS/RDS, DBInstanceIdentifier ${id ?? "(its identifier)"}`);
    }
    for (const group of resources.filter((r) => r.type === AWS.cacheReplicationGroup)) {
      const id = str(group.props["replicationGroupId"]);
      const nodes = num(group.props["numCacheClusters"]) ?? 1;
      const members = Array.from(
        { length: nodes },
        (_, i) => `${id ?? "<group>"}-${String(i + 1).padStart(3, "0")}`,
      );
      const dims = new Set(downAlarmDimensions(resources, group, "AWS/ElastiCache", "CacheClusterId"));
      const unwatched =
        id === undefined ? (dims.size >= nodes ? [] : members) : members.filter((m) => !dims.has(m));
      if (unwatched.length > 0)
        missing(
          group,
          `ElastiCache replication group "${group.name}" (node${unwatched.length > 1 ? "s" : ""} ${unwatched.join(", ")})`,
          "AWS/ElastiCache, CacheClusterId per node",
        );
    }
    for (const broker of resources.filter((r) => r.type === AWS.mqBroker)) {
      const id = str(broker.props["brokerName"]);
      const dims = downAlarmDimensions(resources, broker, "AWS/AmazonMQ", "Broker");
      if (!dims.some((d) => id === undefined || d === id))
        missing(broker, `Amazon MQ broker "${broker.name}"`, `AWS/AmazonMQ, Broker ${id ?? "(its name)"}`);
    }
    return violations;
  },
};

// ------------------------------------------------------------------------------------------------
// The baseline
// ------------------------------------------------------------------------------------------------

export const RULES: readonly Rule[] = [
  podSecurityRestricted,
  probesDefined,
  resourcesDefined,
  imagesPinned,
  imagesDigestPinnedInProduction,
  noPlaintextSecretEnv,
  pdbCoverage,
  hpaCoverage,
  networkPolicyCoverage,
  rdsEncrypted,
  rdsNotPublic,
  rdsBackups,
  rdsProductionResilience,
  rdsIamAuth,
  elasticacheSecure,
  elasticacheFailover,
  eksHardened,
  vpcFlowLogs,
  kmsKeyRotation,
  snsTopicEncrypted,
  productionBackups,
  productionReplicas,
  productionEncryptedConnections,
  productionAlarms,
  routesUnique,
  quotaFit,
  externalEgressDeclared,
];

/**
 * The stage a stack is held to: its `platform:stage` config when the pack can read it, else the
 * stack name (`org/production` → production). Unknown names are held to production, the strictest.
 */
export function stageFor(stackName: string, configuredStage?: string): Stage {
  const known = (s: string | undefined): s is Stage =>
    s !== undefined && (STAGES as readonly string[]).includes(s);
  if (known(configuredStage)) return configuredStage;
  const bare = stackName.split("/").pop() ?? stackName;
  return known(bare) ? bare : "production";
}

/** Runs every rule over a stack's resources: what the pack reports, as data. */
export function evaluate(
  resources: readonly RuleResource[],
  ctx: RuleContext,
  rules: readonly Rule[] = RULES,
): Finding[] {
  const findings: Finding[] = [];
  for (const rule of rules) {
    if (rule.kind === "stack") {
      for (const v of rule.check(resources, ctx))
        findings.push({ rule: rule.name, urn: v.urn, message: v.message });
      continue;
    }
    for (const r of resources) {
      if (!rule.resourceTypes.includes(r.type)) continue;
      for (const message of rule.check(r, ctx)) findings.push({ rule: rule.name, urn: r.urn, message });
    }
  }
  return findings;
}
