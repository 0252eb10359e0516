/**
 * Shared building blocks for every component: type tokens, child naming, the recommended label set,
 * the restricted pod security context, probes, quantities and NetworkPolicy fragments. One helper per
 * concern, so no component carries its own copy.
 */
import { createHash } from "node:crypto";
import type * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Type tokens are `platform:index:<ClassName>` (stable: renaming a class needs an alias). */
export const typeToken = (className: string): string => `platform:index:${className}`;

/** Child resources are named after their parent: `<parent>-<suffix>`. */
export const childName = (parent: string, suffix: string): string => `${parent}-${suffix}`;

/**
 * Prefix of the library's own label, annotation and tag keys (`<domain>/platform`,
 * `<domain>/config-hash`, ...) when a component is given no `labelDomain`. It names the library, not
 * any organisation: set `labelDomain` to a DNS name your organisation owns (the platform's own
 * program passes `platform.example.com`).
 */
export const DEFAULT_LABEL_DOMAIN = "microservices-platform";

/** Stage profiles the components know: one type for every component's `stage` arg. */
export type Stage = "local" | "staging" | "production";

/** Every stage, in order of strictness. */
export const STAGES: readonly Stage[] = ["local", "staging", "production"];

/**
 * Why `stage` (the arg named `key`) is not a `Stage`, or undefined when it is one or is not given.
 * The type says so already; this catches the values that arrive untyped (JavaScript, YAML, `as`).
 */
export function stageProblem(stage: unknown, key = "stage"): string | undefined {
  if (stage === undefined || (STAGES as readonly unknown[]).includes(stage)) return undefined;
  return `${key} must be one of ${STAGES.map((s) => `"${s}"`).join(", ")}, found ${JSON.stringify(stage)}`;
}

/** The `labelDomain` arg every component that writes its own label or annotation keys accepts. */
export interface LabelDomainArgs {
  /**
   * DNS subdomain that prefixes the keys of the labels, annotations and tags this component writes
   * beyond the `app.kubernetes.io/*` set (`<labelDomain>/platform`, `<labelDomain>/config-hash`, ...).
   * Components that must find each other's labels (an ObservabilityStack and the monitoring objects it
   * selects, a namespace selector on the IngressGateway) need the same value.
   * Default: `DEFAULT_LABEL_DOMAIN` (`microservices-platform`). Example: `"platform.acme.io"`.
   */
  labelDomain?: string;
}

/** `<domain>/<key>`, with `DEFAULT_LABEL_DOMAIN` when no domain is given. */
export function domainKey(domain: string | undefined, key: string): string {
  return `${domain ?? DEFAULT_LABEL_DOMAIN}/${key}`;
}

/** Why `labelDomain` cannot prefix a label key (a DNS subdomain of at most 253 characters), or undefined. */
export function labelDomainProblem(domain: string | undefined): string | undefined {
  if (domain === undefined) return undefined;
  const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (typeof domain !== "string" || domain.length > 253 || !subdomain.test(domain))
    return `labelDomain: expected a DNS subdomain such as "platform.acme.io", found ${JSON.stringify(domain)}`;
  return undefined;
}

/** Labels every component puts on what it creates, beyond its own name. */
export interface PlatformLabels {
  /** The platform/catalog this belongs to (e.g. `ecommerce`). */
  platform?: string;
  /** Stage profile (`local`, `staging`, `production`). */
  stage?: Stage;
}

export const LABEL = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  component: "app.kubernetes.io/component",
  partOf: "app.kubernetes.io/part-of",
  version: "app.kubernetes.io/version",
  managedBy: "app.kubernetes.io/managed-by",
} as const;

/** Key of the platform label (`<labelDomain>/platform`), which namespace selectors match on. */
export const platformLabelKey = (domain?: string): string => domainKey(domain, "platform");

/**
 * Selector labels: the immutable subset used in workload selectors and NetworkPolicy peers.
 * `instance` equals `name` because every workload is a single instance per namespace.
 */
export function selectorLabels(name: string): Record<string, string> {
  return { [LABEL.name]: name, [LABEL.instance]: name };
}

/** The recommended `app.kubernetes.io/*` set plus platform and stage. */
export function standardLabels(
  args: { name: string; component: string; version?: string } & PlatformLabels & LabelDomainArgs,
): Record<string, string> {
  return {
    ...selectorLabels(args.name),
    [LABEL.component]: args.component,
    [LABEL.partOf]: args.platform ?? "platform",
    [LABEL.managedBy]: "pulumi",
    ...(args.version ? { [LABEL.version]: labelValue(args.version) } : {}),
    ...(args.platform ? { [domainKey(args.labelDomain, "platform")]: args.platform } : {}),
    ...(args.stage ? { [domainKey(args.labelDomain, "stage")]: args.stage } : {}),
  };
}

/** Label values: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/** Pod-level security context for Pod Security Standards "restricted". */
export function restrictedPodSecurityContext(uid: number): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level security context for Pod Security Standards "restricted". */
export function restrictedContainerSecurityContext(uid: number): k8s.types.input.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Writable scratch directories under a read-only root filesystem: one emptyDir per path. */
export function scratchVolumes(
  paths: readonly string[],
  sizeLimit = "256Mi",
): {
  volumes: k8s.types.input.core.v1.Volume[];
  mounts: k8s.types.input.core.v1.VolumeMount[];
} {
  const named = paths.map((path, i) => ({ path, name: `scratch-${i}` }));
  return {
    volumes: named.map(({ name }) => ({ name, emptyDir: { sizeLimit } })),
    mounts: named.map(({ name, path }) => ({ name, mountPath: path })),
  };
}

export interface ProbeTiming {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

/**
 * Startup, liveness and readiness probes that differ on purpose: startup tolerates a slow boot
 * (up to 5 minutes), liveness restarts only after sustained failure, readiness reacts fast.
 */
export function standardProbes(args: {
  /** How to probe: an HTTP GET on a path, the gRPC health protocol, or a command. */
  check:
    | { http: { path: string; port: string | number } }
    | { grpc: { port: number } }
    | { exec: { command: string[] } };
  startupPath?: string;
  readinessPath?: string;
  startup?: ProbeTiming;
  liveness?: ProbeTiming;
  readiness?: ProbeTiming;
}): {
  startupProbe: k8s.types.input.core.v1.Probe;
  livenessProbe: k8s.types.input.core.v1.Probe;
  readinessProbe: k8s.types.input.core.v1.Probe;
} {
  const handler = (path?: string): Partial<k8s.types.input.core.v1.Probe> => {
    if ("http" in args.check)
      return { httpGet: { path: path ?? args.check.http.path, port: args.check.http.port } };
    if ("grpc" in args.check) return { grpc: { port: args.check.grpc.port } };
    return { exec: { command: args.check.exec.command } };
  };
  return {
    startupProbe: {
      ...handler(args.startupPath),
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: 60,
      ...args.startup,
    },
    livenessProbe: {
      ...handler(),
      periodSeconds: 20,
      timeoutSeconds: 5,
      failureThreshold: 3,
      ...args.liveness,
    },
    readinessProbe: {
      ...handler(args.readinessPath),
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: 2,
      successThreshold: 1,
      ...args.readiness,
    },
  };
}

/** A CPU quantity Kubernetes accepts: whole or decimal cores, or millicores. */
const CPU_QUANTITY = /^([0-9]+(\.[0-9]+)?|[0-9]+m)$/;

/**
 * A value as a problem message shows it: a string quoted exactly as given (`found "3000"`, so a
 * string that looks like a number is not mistaken for one), anything else as written.
 */
export function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (
    Array.isArray(value) ||
    (value !== null && typeof value === "object" && !pulumi.Output.isInstance(value))
  )
    try {
      return JSON.stringify(value);
    } catch {
      return "an object that cannot be shown as JSON";
    }
  return String(value);
}

/** CPU quantity in millicores ("500m" → 500, "2" → 2000). */
export function cpuMillis(quantity: string): number {
  if (quantity.endsWith("m")) return Number(quantity.slice(0, -1));
  return Math.round(Number(quantity) * 1000);
}

/** Memory quantity in bytes ("512Mi" → 536870912). */
export function memoryBytes(quantity: string): number {
  const units: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  const match = /^([0-9.]+)([A-Za-z]*)$/.exec(quantity);
  if (!match) return NaN;
  const [, num, unit] = match;
  return Number(num) * (unit ? (units[unit] ?? NaN) : 1);
}

export interface ContainerResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** Problems with a resources block (requests above limits, unparseable quantities), for invariants. */
export function resourceProblems(where: string, r: ContainerResources): string[] {
  const problems: string[] = [];
  const cpu = (q: unknown) => (typeof q === "string" ? cpuMillis(q) : NaN);
  const memory = (q: unknown) => (typeof q === "string" ? memoryBytes(q) : NaN);
  const cpuReq = cpu(r.requests.cpu);
  const cpuLim = cpu(r.limits.cpu);
  const memReq = memory(r.requests.memory);
  const memLim = memory(r.limits.memory);
  for (const [side, value, millis] of [
    ["requests", r.requests.cpu, cpuReq],
    ["limits", r.limits.cpu, cpuLim],
  ] as const)
    if (typeof value !== "string" || !CPU_QUANTITY.test(value) || Number.isNaN(millis))
      problems.push(
        `${where}.${side}.cpu must be a CPU quantity such as "500m" or "2", found ${shown(value)}`,
      );
  for (const [side, value, bytes] of [
    ["requests", r.requests.memory, memReq],
    ["limits", r.limits.memory, memLim],
  ] as const)
    if (typeof value !== "string" || Number.isNaN(bytes))
      problems.push(
        `${where}.${side}.memory must be a memory quantity such as "512Mi", found ${shown(value)}`,
      );
  if (cpuReq > cpuLim)
    problems.push(`${where}: CPU request ${r.requests.cpu} exceeds its limit ${r.limits.cpu}`);
  if (memReq > memLim)
    problems.push(`${where}: memory request ${r.requests.memory} exceeds its limit ${r.limits.memory}`);
  return problems;
}

/**
 * Thrown by a component when its args break an invariant; lists every problem at once. A Pulumi
 * `RunError`, so `pulumi up` prints the message alone, once, without a stack trace: the message names
 * every arg at fault, and the stack would point into the library rather than at the program.
 */
export class ComponentArgsError extends pulumi.RunError {
  constructor(component: string, name: string, problems: string[]) {
    super(
      `${component} "${name}": invalid arguments (${problems.length}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ComponentArgsError";
  }
}

/** Packages a component can require an explicit provider of. */
export type ProviderPackage = "kubernetes" | "aws";

const PROVIDER_PACKAGE_TITLES: Record<ProviderPackage, string> = { kubernetes: "Kubernetes", aws: "AWS" };

/** The package a provider resource is for (`kubernetes`, `aws`), or undefined for anything else. */
function providerPackage(provider: unknown): string | undefined {
  // `getPackage()` is internal to the SDK (not in its declarations) but present on every ProviderResource.
  const getPackage = (provider as { getPackage?: unknown } | null | undefined)?.getPackage;
  return typeof getPackage === "function" ? String(getPackage.call(provider)) : undefined;
}

/**
 * The `pkg` provider that a child created with `{ parent: component }` gets when the component is
 * constructed with `opts`, resolved as the Pulumi SDK's `Resource` constructor resolves it:
 * `opts.provider` if it is for `pkg`, else `opts.providers` (a map by its key, an array by each
 * provider's package, the last one winning), else what `opts.parent` holds (its own providers and
 * those it inherited). `provider` undefined means the children would use the ambient default provider.
 */
function inheritedProvider(
  opts: pulumi.ComponentResourceOptions | undefined,
  pkg: ProviderPackage,
): { provider: unknown; from?: string } {
  if (opts?.provider && providerPackage(opts.provider) === pkg) return { provider: opts.provider };
  const providers = opts?.providers;
  if (Array.isArray(providers)) {
    const matching = providers.filter((p) => providerPackage(p) === pkg);
    if (matching.length > 0) return { provider: matching[matching.length - 1] };
  } else if (providers && Object.prototype.hasOwnProperty.call(providers, pkg)) {
    // The SDK takes a map's entry by its key, whatever it holds (`{ kubernetes: undefined }` included).
    return { provider: providers[pkg], from: `providers.${pkg}` };
  }
  return { provider: opts?.parent?.getProvider(`${pkg}::`), from: `the parent's ${pkg} provider` };
}

/**
 * The problem, if any, with how a component gets its `pkg` provider: none found among `opts.provider`,
 * `opts.providers` and what `opts.parent` passes down (the order the SDK resolves them in). A list,
 * so a component reports it together with its args' problems, all at once.
 */
export function providerProblems(
  opts: pulumi.ComponentResourceOptions | undefined,
  pkg: ProviderPackage,
): string[] {
  const { provider, from } = inheritedProvider(opts, pkg);
  const found = providerPackage(provider);
  if (found === pkg) return [];
  const given = providerPackage(opts?.provider);
  const why =
    provider !== undefined
      ? ` (${from} is ${found ? `a provider for "${found}"` : "not a provider resource"})`
      : from === `providers.${pkg}`
        ? ` (${from} is undefined)`
        : given !== undefined
          ? ` (the provider given is for "${given}")`
          : "";
  return [
    `no ${PROVIDER_PACKAGE_TITLES[pkg]} provider${why}: pass { provider } or { providers: { ${pkg} } } (components never fall back to the ambient default provider)`,
  ];
}

/**
 * Throws a `ComponentArgsError` unless a component constructed with `opts` hands its children an
 * explicit `pkg` provider: `{ provider }`, `{ providers: { kubernetes } }`, `{ providers: [...] }`,
 * or one inherited from `{ parent }`. Called first in the constructor of every component that creates
 * objects of `pkg`, so a missing provider registers nothing: components never fall back to the
 * ambient default provider (for Kubernetes, whatever cluster the current kubeconfig context names).
 */
export function requireProvider(
  component: string,
  name: string,
  opts: pulumi.ComponentResourceOptions | undefined,
  pkg: ProviderPackage,
): void {
  const problems = providerProblems(opts, pkg);
  if (problems.length > 0) throw new ComponentArgsError(component, name, problems);
}

/** A Kubernetes namespace name: a DNS label of at most 63 characters. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The problem, if any, with a value given where a namespace goes: a name (a DNS label of at most 63
 * characters) or an Output of one. Passing the PlatformNamespace (or any resource) itself is the
 * usual slip, so the message says which of its outputs to pass. An Output is checked once its value
 * is known (see `namespaceValueProblem`).
 */
export function namespaceInputProblem(key: string, value: unknown): string | undefined {
  if (pulumi.Output.isInstance(value)) return undefined;
  if (typeof value === "string") return namespaceValueProblem(key, value);
  if (pulumi.Resource.isInstance(value))
    return `${key}: expected a namespace name or its Output (for a PlatformNamespace, pass its \`name\`: ns.name), found the ${value.constructor?.name ?? "resource"} resource itself`;
  return `${key}: expected a namespace name (a string) or an Output of one such as ns.name, found ${shown(value)}`;
}

/** The problem, if any, with a namespace name (a plain one, or an Output's value once known). */
export function namespaceValueProblem(key: string, value: unknown): string | undefined {
  if (typeof value === "string" && NAMESPACE_NAME.test(value) && value.length <= 63) return undefined;
  return `${key} must be a namespace name (a DNS label of at most 63 characters, such as "shop"), found ${shown(value)}`;
}

/**
 * Data service objects (ManagedPostgres, RedisCache, MessageBroker) as constructed. `uses` accepts
 * only these: a copy (`{ ...db, connectionEnv: "X" }`) or a literal type-checks, but points at a
 * Secret key or consumer the store never created.
 */
const DATA_SERVICES = new WeakSet<object>();
/** Marks `store` as a data service object that `MicroService.uses` accepts. */
export function registerDataService(store: object): void {
  DATA_SERVICES.add(store);
}
/** Whether `value` is a data service object as constructed (not a copy or a literal). */
export function isDataService(value: unknown): boolean {
  return typeof value === "object" && value !== null && DATA_SERVICES.has(value);
}

/** Egress to the cluster DNS (kube-dns / CoreDNS) on 53/UDP and 53/TCP. */
export function dnsEgressRule(): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      },
    ],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  };
}

/**
 * Address ranges that are not the public internet: private (RFC 1918), carrier-grade NAT (RFC 6598,
 * also used for EKS custom pod networking), loopback, link-local (169.254.0.0/16 holds the EC2
 * instance metadata service and the Pod Identity agent) and multicast/reserved. External egress
 * excludes them, so a service allowed out to a third-party API cannot use that rule to reach the
 * VPC's databases, other pods by IP, or the node's credentials.
 */
export const NON_PUBLIC_IPV4_CIDRS: readonly string[] = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "224.0.0.0/3",
];

/** The private (RFC 1918) ranges: where a VPC's own endpoints, the EKS API server's among them, live. */
export const PRIVATE_IPV4_CIDRS: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/**
 * Labels the Prometheus Operator puts on every Prometheus server pod (whatever the release is called):
 * the peer a scraped workload admits on its metrics port, so that Grafana, Alertmanager and the node
 * exporter in the same namespace are not admitted with it.
 */
export const PROMETHEUS_POD_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": "prometheus",
  "app.kubernetes.io/managed-by": "prometheus-operator",
};

/** An endpoint outside the cluster a workload calls, with why (plain data, from a service catalog). */
export interface ExternalEgress {
  /** DNS name, e.g. `api.stripe.com`. */
  host: string;
  /** TCP port, e.g. `443`. */
  port: number;
  /** Why the service needs it, e.g. `card payments (Stripe API)`. */
  reason: string;
}

/** Annotation on a NetworkPolicy listing the external endpoints its public egress is for (`host:port`, comma-separated). */
export const externalEgressAnnotation = (domain?: string): string => domainKey(domain, "external-egress");

/**
 * Egress to the declared external endpoints: TCP on their ports to public addresses only. A
 * NetworkPolicy cannot name hosts (it sees IPs, and a SaaS API's IPs change), so this is the narrowest
 * rule plain NetworkPolicy can state: the declared ports, every public address, nothing private,
 * link-local or reserved. Hosts are recorded in `EXTERNAL_EGRESS_ANNOTATION` for reviewers and the
 * policy pack. Narrowing to the hosts themselves needs an FQDN-aware layer (an egress gateway or a
 * CNI with DNS policies), which the VPC CNI's policy engine does not offer.
 */
export function externalEgressRules(
  endpoints: readonly ExternalEgress[],
): k8s.types.input.networking.v1.NetworkPolicyEgressRule[] {
  const ports = [...new Set(endpoints.map((e) => e.port))].sort((a, b) => a - b);
  if (ports.length === 0) return [];
  return [
    {
      to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_IPV4_CIDRS] } }],
      ports: ports.map((port) => ({ protocol: "TCP", port })),
    },
  ];
}

/** `host:port` of each endpoint, sorted and comma-separated (the annotation's value). */
export function externalEgressSummary(endpoints: readonly ExternalEgress[]): string {
  return [...new Set(endpoints.map((e) => `${e.host}:${e.port}`))].sort().join(",");
}

/**
 * A workload's NetworkPolicy metadata: the workload's own, plus the external endpoints its egress
 * admits, declared in the annotation the policy pack and the review read (none when there are none).
 */
export function egressPolicyMetadata<M extends object>(
  meta: M,
  externalEgress: readonly ExternalEgress[],
  labelDomain: string | undefined,
): M | (M & { annotations: Record<string, string> }) {
  if (externalEgress.length === 0) return meta;
  return {
    ...meta,
    annotations: { [externalEgressAnnotation(labelDomain)]: externalEgressSummary(externalEgress) },
  };
}

/** A NetworkPolicy peer: pods with `name` in `namespace` (omit namespace for the policy's own). */
export function podPeer(
  name: string,
  namespace?: pulumi.Input<string>,
): k8s.types.input.networking.v1.NetworkPolicyPeer {
  return {
    podSelector: { matchLabels: selectorLabels(name) },
    ...(namespace
      ? { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } }
      : {}),
  };
}

/**
 * A data service's consumer as a NetworkPolicy peer: every pod of service `name` in `namespace`,
 * selected by `app.kubernetes.io/name` alone. That is the service's own pods and its migration Job
 * (instance `<name>-migration`), which connects with the same credentials before the service rolls out.
 */
export function consumerPeer(
  name: string,
  namespace: pulumi.Input<string>,
): k8s.types.input.networking.v1.NetworkPolicyPeer {
  return {
    podSelector: { matchLabels: { [LABEL.name]: name } },
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
  };
}

/** In-cluster DNS name of a Service. */
export function serviceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

/** Short stable hash (for checksum annotations that roll pods when their config changes). */
export function stableHash(value: unknown): string {
  return createHash("sha256").update(stableStringify(value)).digest("hex").slice(0, 16);
}

/** JSON with sorted object keys, so equal values always serialise the same way. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Options for stateful children: production protects them and keeps them if the stack is destroyed. */
export function statefulOptions(protect: boolean): { protect: boolean; retainOnDelete: boolean } {
  return { protect, retainOnDelete: protect };
}

import { imageReferenceProblem } from "./image-reference";
export { imageReferenceProblem };

/**
 * Splits `dependsOn` off a component's options so the component can hold back only the children
 * that need it. Pulumi's Node SDK never passes a component's `dependsOn` on to its children, while a
 * resource that depends ON a component waits for all of its children; a component registered with
 * the returned `options` is therefore not waited on itself, and it hands `dependsOn` to the children
 * it chooses (with `withDependsOn`).
 */
export function splitDependsOn(opts: pulumi.ComponentResourceOptions | undefined): {
  options: pulumi.ComponentResourceOptions;
  dependsOn: pulumi.ComponentResourceOptions["dependsOn"];
} {
  const { dependsOn, ...options } = opts ?? {};
  return { options, dependsOn };
}

/**
 * `dependsOn` for a child: the component's external dependencies plus the child's own. `external`
 * may be any shape Pulumi accepts (a resource, a list, or an Output/Promise of either); the SDK
 * flattens nested Inputs when it gathers explicit dependencies, so wrapping keeps every shape intact.
 */
export function withDependsOn(
  external: pulumi.ComponentResourceOptions["dependsOn"],
  ...own: Dependency[]
): pulumi.Input<pulumi.Resource>[] {
  // An Output of a resource list (a yaml.ConfigFile's `ready`) is flattened by the SDK like any nested Input.
  const mine = own as pulumi.Input<pulumi.Resource>[];
  if (external === undefined) return mine;
  if (Array.isArray(external)) return [...external, ...mine];
  return [external as pulumi.Input<pulumi.Resource>, ...mine];
}

/**
 * Something to wait for: a resource, or the resources a component makes once it knows them (a
 * yaml.ConfigFile's resources, which exist only after its file is decoded; depending on the
 * component itself would wait for the children registered so far, possibly none).
 */
export type Dependency = pulumi.Resource | pulumi.Output<pulumi.Resource[]>;

/**
 * What a component's children wait for before they register: its checks that need resolved Outputs
 * or the whole program (see platform-scope.ts). A promise of no resources, so it adds no edge.
 */
export type Gate = Promise<pulumi.Resource[]>;

/** `dependsOn` with the gate added (the SDK awaits a promise in the list like any dependency). */
export function gated(
  dependsOn: pulumi.Input<pulumi.Resource>[],
  gate: Gate | undefined,
): pulumi.Input<pulumi.Resource>[] {
  return gate ? [...dependsOn, gate as unknown as pulumi.Input<pulumi.Resource>] : dependsOn;
}

/** Parses an IPv4 CIDR ("10.0.0.0/16") into its network address (as a 32-bit number) and prefix length. */
export function parseIpv4Cidr(cidr: string): { address: number; prefix: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { address, prefix };
}

/** Whether two IPv4 CIDR blocks share an address (false when either is not a CIDR block). */
export function ipv4CidrsOverlap(a: string, b: string): boolean {
  const [x, y] = [parseIpv4Cidr(a), parseIpv4Cidr(b)];
  if (!x || !y) return false;
  const prefix = Math.min(x.prefix, y.prefix);
  const size = 2 ** (32 - prefix);
  return Math.floor(x.address / size) === Math.floor(y.address / size);
}

/** Why `cidr` is not a usable IPv4 CIDR block (host bits set included), or undefined when it is. */
export function ipv4CidrProblem(cidr: string): string | undefined {
  const parsed = parseIpv4Cidr(cidr);
  if (!parsed) return `"${cidr}" is not an IPv4 CIDR block such as 10.0.0.0/16`;
  const size = 2 ** (32 - parsed.prefix);
  const network = Math.floor(parsed.address / size) * size;
  if (network !== parsed.address)
    return `"${cidr}" has host bits set; the block starts at ${formatIpv4(network)}/${parsed.prefix}`;
  return undefined;
}

/** The `index`-th subnet of `cidr` that is `newBits` longer (Terraform's `cidrsubnet`). */
export function subnetCidr(cidr: string, newBits: number, index: number): string {
  const parsed = parseIpv4Cidr(cidr);
  if (!parsed) throw new Error(`subnetCidr: "${cidr}" is not an IPv4 CIDR block`);
  const prefix = parsed.prefix + newBits;
  if (prefix > 32 || index < 0 || index >= 2 ** newBits)
    throw new Error(`subnetCidr: ${cidr} has no subnet #${index} of /${prefix}`);
  return `${formatIpv4(parsed.address + index * 2 ** (32 - prefix))}/${prefix}`;
}

/** An IPv4 address from its 32-bit value. */
export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

/**
 * Kubernetes versions EKS offers that this library is tested against (standard support). The single
 * list: KubernetesCluster validates `kubernetesVersion` against it and the stack config schema
 * (config/schema.ts) imports it from here.
 */
export const EKS_KUBERNETES_VERSIONS = ["1.32", "1.33", "1.34"] as const;

/** Where a third-party Helm chart comes from. */
export interface HelmChartSource {
  /**
   * Chart version, pinned.
   * @example "v1.9.1"
   */
  version: string;
  /**
   * `repository`: fetch from the chart's registry (online). `localPath`: a chart directory or .tgz on disk.
   * @example "repository"
   */
  source: "repository" | "localPath";
  /**
   * Chart directory or .tgz (`localPath` only).
   * @example "./charts/gateway-helm-v1.9.1.tgz"
   */
  path?: string;
}

/**
 * The chart reference of a Helm Release: the path on disk for `localPath`, else `repositoryChart`
 * (a chart name in `repository`, or a full `oci://` reference when `repository` is left out).
 */
export function chartRef(
  chart: HelmChartSource,
  repositoryChart: string,
  repository?: string,
): Pick<k8s.helm.v3.ReleaseArgs, "chart" | "version" | "repositoryOpts"> {
  if (chart.source === "localPath") return { chart: chart.path as string, version: chart.version };
  return {
    chart: repositoryChart,
    version: chart.version,
    ...(repository ? { repositoryOpts: { repo: repository } } : {}),
  };
}

/**
 * Problems with a chart source arg `key` (for ComponentArgsError). `instead` says what to do rather
 * than skipping the chart (e.g. "leave the IngressGateway out").
 */
export function chartProblems(key: string, chart: HelmChartSource | undefined, instead: string): string[] {
  if (!chart) return [`${key}: required ({ version, source })`];
  const problems: string[] = [];
  if (!/^v?[0-9]+\.[0-9]+\.[0-9]+$/.test(chart.version ?? ""))
    problems.push(
      `${key}.version: a pinned chart version such as v1.5.4, found ${JSON.stringify(chart.version)}`,
    );
  if (chart.source === "localPath" && !chart.path)
    problems.push(`${key}.path: required when source is "localPath"`);
  else if (chart.source === "repository" && chart.path !== undefined)
    problems.push(
      `${key}.path: no value when source is "repository" (the chart is fetched from its registry)`,
    );
  else if (chart.source !== "localPath" && chart.source !== "repository")
    problems.push(
      `${key}.source: "repository" or "localPath", found ${JSON.stringify(chart.source)} (${instead} instead of skipping its chart)`,
    );
  return problems;
}

/** Retention periods (days) CloudWatch Logs accepts. */
export const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

// ---------------------------------------------------------------------------------------------------
// Data services (ManagedPostgres, RedisCache, MessageBroker): the contract the three share, so that a
// consumer cannot tell which backend it got and each component validates the same things the same way.
// ---------------------------------------------------------------------------------------------------

/** Where a data service runs: AWS-managed (RDS, ElastiCache, Amazon MQ) or a StatefulSet in the cluster. */
export type DataServiceBackend = "aws" | "inCluster";

/** A workload that connects to a data service; it gets a connection Secret in its own namespace. */
export interface DataServiceConsumer {
  /** The consumer's `app.kubernetes.io/name` (its service name), e.g. `order-service`. */
  service: string;
  /**
   * The consumer's namespace, where its connection Secret is created. Pass the namespace's Output
   * (`PlatformNamespace.name`) so the Secret waits for the namespace. Example: `"ecommerce"` or `ns.name`.
   */
  namespace: pulumi.Input<string>;
  /**
   * Why no MicroService of this program uses the store as this consumer: a service of another
   * program reads the Secret (by `secretEnv`). Without it, a consumer that no MicroService of the
   * program lists the store in `uses` for is an error (its role and Secret would serve no one).
   * Default: none. Example: `"the reporting stack's exporter reads the Secret"`.
   */
  elsewhere?: string;
}

/**
 * How consumers reach a data service, for their egress NetworkPolicy: pods selected by name in a
 * namespace (in-cluster backend) or IP blocks (AWS backend: the data service's subnets). Plain data
 * when the namespace is a string (the default type argument), so it crosses stacks as it is; a data
 * service given its namespace as an Output gives an `EgressPeer<Output<string>>`.
 */
export type EgressPeer<Namespace extends pulumi.Input<string> = string> =
  { pod: { name: string; namespace: Namespace }; port: number } | { cidrs: string[]; port: number };

/** The NetworkPolicy egress rule that lets a pod reach `peer` (TCP). */
export function egressPeerRule(
  peer: EgressPeer<pulumi.Input<string>>,
): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
  const to =
    "pod" in peer
      ? [podPeer(peer.pod.name, peer.pod.namespace)]
      : peer.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  return { to, ports: [{ protocol: "TCP", port: peer.port }] };
}

/** Network placement of an AWS-managed data service (required with backend "aws", forbidden otherwise). */
export interface DataServiceAwsArgs {
  /** VPC the data service's security group belongs to. */
  vpcId: pulumi.Input<string>;
  /** Private subnets for the subnet group (one per availability zone). */
  subnetIds: pulumi.Input<string[]>;
  /**
   * IPv4 CIDR blocks of `subnetIds` (or the VPC CIDR). Plain data because it becomes `egressPeer.cidrs`,
   * which consumers turn into NetworkPolicy egress rules. Example: `["10.30.0.0/16"]`.
   */
  subnetCidrs: string[];
  /** Security groups whose members may connect (e.g. the EKS cluster/node security group). */
  allowedSecurityGroupIds?: pulumi.Input<string>[];
  /** IPv4 CIDR blocks that may connect (e.g. the pod CIDRs). At least one of the two allow-lists is required. */
  allowedCidrs?: string[];
  /** Tags added to every AWS resource (a `Name` tag is added per resource). */
  tags?: Record<string, string>;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Problems with the args every data service shares: its own name (it names Kubernetes objects), the
 * namespace, consumers, the backend's network placement, container resources and the volume size.
 */
export function dataServiceArgProblems(args: {
  name: string;
  backend: string;
  namespace: pulumi.Input<string>;
  consumers: readonly DataServiceConsumer[];
  aws?: DataServiceAwsArgs;
  resources?: ContainerResources;
  storageSize?: string;
  image?: string;
}): string[] {
  const problems: string[] = [];
  // The StatefulSet's pods carry a controller-revision-hash label of `<name>-<10 chars>`, capped at 63.
  if (!DNS_LABEL.test(args.name) || args.name.length > 40)
    problems.push(
      `name: expected a DNS label of at most 40 characters (it names the Kubernetes objects), found "${args.name}"`,
    );
  if (args.backend !== "aws" && args.backend !== "inCluster")
    problems.push(`backend: expected "aws" or "inCluster", found "${args.backend}"`);
  // An Output is checked once its value is known, before any child registers (platform-scope.ts).
  const namespaceProblem = namespaceInputProblem("namespace", args.namespace);
  if (namespaceProblem) problems.push(namespaceProblem);
  const seen = new Set<string>();
  const consumers: readonly DataServiceConsumer[] = Array.isArray(args.consumers) ? args.consumers : [];
  if (consumers.length === 0)
    problems.push(
      "consumers: expected at least one consumer { service, namespace }: each gets its own role and connection Secret, and a store no service uses only costs money",
    );
  consumers.forEach((c, i) => {
    if (typeof c.service !== "string" || !DNS_LABEL.test(c.service) || c.service.length > 40)
      problems.push(
        `consumers[${i}].service: expected a DNS label of at most 40 characters, found ${shown(c.service)}`,
      );
    const consumerNamespace = namespaceInputProblem(`consumers[${i}].namespace`, c.namespace);
    if (consumerNamespace) problems.push(consumerNamespace);
    if (c.elsewhere !== undefined && (typeof c.elsewhere !== "string" || !c.elsewhere.trim()))
      problems.push(
        `consumers[${i}].elsewhere must say which program reads the Secret, found ${shown(c.elsewhere)}`,
      );
    // connectionSecretNames is keyed by service name, so one service cannot consume twice.
    if (seen.has(c.service))
      problems.push(`consumers[${i}].service: "${c.service}" is listed more than once`);
    seen.add(c.service);
  });
  if (args.backend === "aws") {
    if (!args.aws)
      problems.push(
        'aws: required when backend is "aws" (vpcId, subnetIds, subnetCidrs and who may connect)',
      );
    else {
      if (args.aws.subnetCidrs.length === 0)
        problems.push(
          "aws.subnetCidrs: expected at least one IPv4 CIDR (consumers' egress rules are built from it)",
        );
      args.aws.subnetCidrs.forEach((cidr, i) => {
        const problem = ipv4CidrProblem(cidr);
        if (problem) problems.push(`aws.subnetCidrs[${i}]: ${problem}`);
      });
      (args.aws.allowedCidrs ?? []).forEach((cidr, i) => {
        const problem = ipv4CidrProblem(cidr);
        if (problem) problems.push(`aws.allowedCidrs[${i}]: ${problem}`);
      });
      if ((args.aws.allowedSecurityGroupIds ?? []).length === 0 && (args.aws.allowedCidrs ?? []).length === 0)
        problems.push(
          "aws: expected allowedSecurityGroupIds or allowedCidrs (the security group would admit nobody)",
        );
    }
  } else if (args.aws) {
    problems.push(
      'aws: must be omitted when backend is "inCluster" (it places an AWS-managed service; nothing would read it)',
    );
  }
  if (args.resources) problems.push(...resourceProblems("resources", args.resources));
  if (args.storageSize !== undefined && !/^[1-9][0-9]*(Mi|Gi|Ti)$/.test(args.storageSize))
    problems.push(`storageSize: expected a volume size such as "10Gi", found "${args.storageSize}"`);
  if (args.image !== undefined) {
    const problem = imageReferenceProblem(args.image);
    if (problem) problems.push(`image: ${problem}`);
  }
  return problems;
}

/**
 * Security group ingress for a data service: `ports` over TCP from the allowed security groups and
 * CIDRs, nothing else. No egress rules: a server only answers connections (security groups are
 * stateful), and the AWS provider removes the default allow-all egress rule.
 */
export function dataServiceIngressRules(
  awsArgs: DataServiceAwsArgs,
  ports: readonly number[],
): aws.types.input.ec2.SecurityGroupIngress[] {
  return ports.flatMap((port) => [
    ...((awsArgs.allowedSecurityGroupIds ?? []).length > 0
      ? [
          {
            protocol: "tcp",
            fromPort: port,
            toPort: port,
            securityGroups: awsArgs.allowedSecurityGroupIds,
            description: `clients on ${port} (security groups)`,
          },
        ]
      : []),
    ...((awsArgs.allowedCidrs ?? []).length > 0
      ? [
          {
            protocol: "tcp",
            fromPort: port,
            toPort: port,
            cidrBlocks: awsArgs.allowedCidrs,
            description: `clients on ${port} (CIDRs)`,
          },
        ]
      : []),
  ]);
}

/**
 * Arguments for `random.RandomPassword` of data-service credentials: 32 letters and digits. No
 * special characters, so a password goes into a connection URL (`postgresql://user:pw@host`), a
 * JSON body or a config file without escaping, and meets the RDS, ElastiCache and Amazon MQ rules
 * (which forbid characters such as `@`, `"`, `/`, `,`, `:` and `=`). 32 alphanumerics are ~190 bits.
 */
export const URL_SAFE_PASSWORD = { length: 32, special: false } as const;

/**
 * Spec of a one-shot Job (a bootstrap or migration) under Pod Security "restricted": no service
 * account token, read-only root filesystem with a writable /tmp, bounded retries and run time.
 */
export function oneShotJobSpec(args: {
  labels: Record<string, string>;
  uid: number;
  /** The one container; its security context is set here, /tmp is added to its mounts. */
  container: Omit<k8s.types.input.core.v1.Container, "securityContext" | "volumeMounts"> & {
    volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
  };
  volumes?: k8s.types.input.core.v1.Volume[];
  /** Give up after this long, retries included (default 900 s). */
  activeDeadlineSeconds?: number;
}): k8s.types.input.batch.v1.JobSpec {
  const scratch = scratchVolumes(["/tmp"], "64Mi");
  return {
    backoffLimit: 6,
    activeDeadlineSeconds: args.activeDeadlineSeconds ?? 900,
    template: {
      metadata: { labels: args.labels },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        securityContext: restrictedPodSecurityContext(args.uid),
        volumes: [...scratch.volumes, ...(args.volumes ?? [])],
        containers: [
          {
            ...args.container,
            securityContext: restrictedContainerSecurityContext(args.uid),
            volumeMounts: [...scratch.mounts, ...(args.container.volumeMounts ?? [])],
          },
        ],
      },
    },
  };
}

/**
 * Namespace annotation stating why a namespace does not enforce Pod Security "restricted" (the policy
 * pack exempts namespaces that give a reason). Infrastructure namespaces only.
 */
export const podSecurityExemptionAnnotation = (domain?: string): string =>
  domainKey(domain, "pod-security-exemption");

/**
 * One key of a Secret as a read-only file `<mountPath>/<key>`: only that key is projected, never the
 * rest of the Secret (a CA Secret also holds the CA's private key).
 */
export function secretKeyFile(
  volumeName: string,
  file: { secretName: string; key: string; mountPath: string },
): { volume: k8s.types.input.core.v1.Volume; mount: k8s.types.input.core.v1.VolumeMount } {
  return {
    volume: {
      name: volumeName,
      secret: { secretName: file.secretName, items: [{ key: file.key, path: file.key }] },
    },
    mount: { name: volumeName, mountPath: file.mountPath, readOnly: true },
  };
}

/**
 * The tag the platform's StorageClass puts on every EBS volume it provisions, and that VolumeBackup's
 * AWS Backup selection picks volumes by: one fact, stated here for both sides.
 */
export const volumeBackupTag = (domain?: string): { key: string; value: "aws-backup" } => ({
  key: domainKey(domain, "backup"),
  value: "aws-backup",
});
