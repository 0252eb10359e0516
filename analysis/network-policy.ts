/**
 * Kubernetes NetworkPolicy semantics, as plain functions over plain data: which flows a set of
 * policies allows. It is the model the connectivity tests, the render's graph and its summary use;
 * kwok does not enforce NetworkPolicy, so this is where "who may reach whom" is proven.
 *
 * The rules implemented (networking.k8s.io/v1, as the API reference states them):
 * - A pod is isolated for a direction only when some policy in its namespace selects it and lists
 *   that direction in `policyTypes`. A pod no policy selects is open in that direction.
 * - `policyTypes` left out means `["Ingress"]`, plus `"Egress"` when the policy has at least one egress
 *   rule (the API server's defaulting: `len(spec.egress) != 0`, so `egress: []` alone is Ingress-only).
 * - Policies are additive: an isolated pod accepts a connection when any rule of any selecting policy
 *   allows it. A flow between two pods needs the source's egress and the destination's ingress.
 * - A rule with no `from`/`to` admits every peer; a rule with no `ports` admits every port.
 * - A peer with only `podSelector` selects pods of the policy's own namespace; with only
 *   `namespaceSelector`, every pod of the matching namespaces; with both, the matching pods of the
 *   matching namespaces. An empty selector (`{}`) matches everything.
 * - `ipBlock` (with `except`) matches an address: an external endpoint's, or a pod's when the model
 *   knows it. The reference calls pod IPs ephemeral but does not exempt them, and the implementations
 *   match them: under the VPC CNI pods take addresses from the node subnets, which also hold RDS,
 *   ElastiCache and Amazon MQ, so an ipBlock of those subnets reaches pods too.
 * - A port is a number (with `endPort`, a range) or a name, resolved against the destination pod's
 *   container ports (a named port never matches an external endpoint). `protocol` defaults to TCP.
 *   A port entry without `port` matches every port of its protocol.
 */
import { parseIpv4Cidr } from "../components/lib";
import { networkPolicyTypes, selectorMatches } from "../policy/rules";

/** A pod (one per workload template): where it runs, its labels and its named container ports. */
export interface Pod {
  /** `<namespace>/<workload instance>`, e.g. `ecommerce/order-service-migration`. */
  id: string;
  namespace: string;
  labels: Record<string, string>;
  ports: ContainerPort[];
  /** Kind of the workload that runs it (Deployment, Job...), or `chart` for a known chart workload. */
  kind: string;
  /** Its IPv4 address, which `ipBlock` peers match (absent: no ipBlock matches it). */
  ip?: string;
}

export interface ContainerPort {
  name?: string;
  port: number;
  protocol: Protocol;
}

export type Protocol = "TCP" | "UDP" | "SCTP";

/** An address outside the cluster's pods (a managed database's subnet, the internet). */
export interface ExternalEndpoint {
  /** An IPv4 address, e.g. `10.30.1.10` or `203.0.113.10`. */
  ip: string;
  /** What it stands for, e.g. `api.stripe.com` or `ecommerce-postgres (RDS)`. */
  name: string;
}

export type Endpoint = { pod: Pod } | { external: ExternalEndpoint };

/** A NetworkPolicy, reduced to what the semantics read. */
export interface Policy {
  name: string;
  namespace: string;
  spec: PolicySpec;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface PolicySpec {
  podSelector?: LabelSelector;
  policyTypes?: string[];
  ingress?: { from?: PolicyPeer[]; ports?: PolicyPort[] }[];
  egress?: { to?: PolicyPeer[]; ports?: PolicyPort[] }[];
}

/** What the semantics need to know about a cluster. */
export interface ClusterModel {
  /** Namespace name → labels (the API server's `kubernetes.io/metadata.name` is added when missing). */
  namespaces: Map<string, Record<string, string>>;
  pods: Pod[];
  policies: Policy[];
  /** Services: how callers address pods (a flow on a port no Service forwards to is never dialled). Default: none. */
  services?: ServiceInfo[];
}

export interface ServiceInfo {
  name: string;
  namespace: string;
  /** `spec.selector` (equality on labels). */
  selector: Record<string, string>;
  ports: { port: number; targetPort: number | string; protocol: Protocol }[];
}

/** Services that forward `port` to `pod` (a numbered targetPort, or a name resolved on the pod). */
export function servicesReaching(
  model: ClusterModel,
  pod: Pod,
  port: number,
  protocol: Protocol = "TCP",
): ServiceInfo[] {
  return (model.services ?? []).filter(
    (s) =>
      s.namespace === pod.namespace &&
      Object.keys(s.selector).length > 0 &&
      Object.entries(s.selector).every(([k, v]) => pod.labels[k] === v) &&
      s.ports.some(
        (p) =>
          p.protocol === protocol &&
          (typeof p.targetPort === "number"
            ? p.targetPort === port
            : pod.ports.some((c) => c.name === p.targetPort && c.port === port && c.protocol === protocol)),
      ),
  );
}

export type Direction = "Ingress" | "Egress";

/** The verdict on one flow, with the side that denies it. */
export interface Verdict {
  allowed: boolean;
  /** Why it is denied: `egress of <pod>` or `ingress of <pod>`. Undefined when allowed. */
  deniedBy?: string;
}

export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** Labels of a namespace as selectors see them: its own plus the immutable name label. */
export function namespaceLabels(model: ClusterModel, namespace: string): Record<string, string> {
  return { ...(model.namespaces.get(namespace) ?? {}), [NAMESPACE_NAME_LABEL]: namespace };
}

/** `policyTypes` with the API server's default applied. */
export function effectivePolicyTypes(spec: PolicySpec): Direction[] {
  return networkPolicyTypes(spec).filter((t): t is Direction => t === "Ingress" || t === "Egress");
}

/** The policies that isolate `pod` in `direction` (empty: the pod is open that way). */
export function isolatingPolicies(model: ClusterModel, pod: Pod, direction: Direction): Policy[] {
  return model.policies.filter(
    (p) =>
      p.namespace === pod.namespace &&
      selectorMatches(p.spec.podSelector ?? {}, pod.labels) &&
      effectivePolicyTypes(p.spec).includes(direction),
  );
}

/** Whether `peer`, written in a policy of `policyNamespace`, matches `endpoint`. */
export function peerMatches(
  model: ClusterModel,
  peer: PolicyPeer,
  policyNamespace: string,
  endpoint: Endpoint,
): boolean {
  if (peer.ipBlock) {
    const ip = "external" in endpoint ? endpoint.external.ip : endpoint.pod.ip;
    if (ip === undefined) return false;
    return ipInCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => ipInCidr(ip, c));
  }
  if (!("pod" in endpoint)) return false;
  const { pod } = endpoint;
  if (!peer.podSelector && !peer.namespaceSelector) return false; // an empty peer is invalid
  const namespaceOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, namespaceLabels(model, pod.namespace))
    : pod.namespace === policyNamespace;
  return namespaceOk && selectorMatches(peer.podSelector ?? {}, pod.labels);
}

/**
 * Whether a rule's `ports` admit `port`/`protocol` on `destination`. Named ports resolve against the
 * destination pod's container ports (ingress: the selected pod; egress: the pod connected to).
 */
export function portsMatch(
  ports: PolicyPort[] | undefined,
  port: number,
  protocol: Protocol,
  destination: Endpoint,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "number") return port >= p.port && port <= (p.endPort ?? p.port);
    if (!("pod" in destination)) return false;
    return destination.pod.ports.some((c) => c.name === p.port && c.protocol === protocol && c.port === port);
  });
}

/** A policy's rules in one direction, each as its ports and its peers (`from` or `to`). */
function rulesOf(spec: PolicySpec, direction: Direction): { ports?: PolicyPort[]; peers: PolicyPeer[] }[] {
  return direction === "Ingress"
    ? (spec.ingress ?? []).map((r) => ({ ports: r.ports, peers: r.from ?? [] }))
    : (spec.egress ?? []).map((r) => ({ ports: r.ports, peers: r.to ?? [] }));
}

/**
 * Whether `pod`'s policies for `direction` admit `peer` (the other end) on `port`, whose named ports
 * resolve on `destination`.
 */
function admitted(
  model: ClusterModel,
  pod: Pod,
  direction: Direction,
  peer: Endpoint,
  destination: Endpoint,
  port: number,
  protocol: Protocol,
): boolean {
  const policies = isolatingPolicies(model, pod, direction);
  if (policies.length === 0) return true;
  return policies.some((p) =>
    rulesOf(p.spec, direction).some(
      (rule) =>
        portsMatch(rule.ports, port, protocol, destination) &&
        (rule.peers.length === 0 || rule.peers.some((x) => peerMatches(model, x, p.namespace, peer))),
    ),
  );
}

/** Whether `pod` may receive `port`/`protocol` from `source`. */
export function ingressAllowed(
  model: ClusterModel,
  pod: Pod,
  source: Endpoint,
  port: number,
  protocol: Protocol = "TCP",
): boolean {
  return admitted(model, pod, "Ingress", source, { pod }, port, protocol);
}

/** Whether `pod` may open `port`/`protocol` to `destination`. */
export function egressAllowed(
  model: ClusterModel,
  pod: Pod,
  destination: Endpoint,
  port: number,
  protocol: Protocol = "TCP",
): boolean {
  return admitted(model, pod, "Egress", destination, destination, port, protocol);
}

/** Whether a connection from `source` to `destination` on `port` is allowed by both sides. */
export function flowVerdict(
  model: ClusterModel,
  source: Endpoint,
  destination: Endpoint,
  port: number,
  protocol: Protocol = "TCP",
): Verdict {
  if ("pod" in source && !egressAllowed(model, source.pod, destination, port, protocol))
    return { allowed: false, deniedBy: `egress of ${source.pod.id}` };
  if ("pod" in destination && !ingressAllowed(model, destination.pod, source, port, protocol))
    return { allowed: false, deniedBy: `ingress of ${destination.pod.id}` };
  return { allowed: true };
}

/** A flow the policies allow. */
export interface AllowedFlow {
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
}

/**
 * Every allowed flow between the model's pods, on each destination's container ports, and from each
 * pod to each of `externals` on `externalPorts`. Sorted, so renders stay byte-identical.
 */
export function allowedFlows(
  model: ClusterModel,
  externals: readonly ExternalEndpoint[] = [],
  externalPorts: readonly number[] = [],
): AllowedFlow[] {
  const flows: AllowedFlow[] = [];
  for (const source of model.pods) {
    for (const target of model.pods) {
      if (target === source) continue;
      for (const p of target.ports)
        if (flowVerdict(model, { pod: source }, { pod: target }, p.port, p.protocol).allowed)
          flows.push({ from: source.id, to: target.id, port: p.port, protocol: p.protocol });
    }
    for (const external of externals)
      for (const port of externalPorts)
        if (flowVerdict(model, { pod: source }, { external }, port).allowed)
          flows.push({ from: source.id, to: `${external.name} (${external.ip})`, port, protocol: "TCP" });
  }
  return flows.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.port - b.port);
}

/** Whether an IPv4 address lies in a CIDR block. A malformed address or block matches nothing. */
export function ipInCidr(ip: string, cidr: string): boolean {
  const address = parseIpv4Cidr(`${ip}/32`);
  const block = parseIpv4Cidr(cidr);
  if (!address || !block) return false;
  const size = 2 ** (32 - block.prefix);
  return Math.floor(address.address / size) === Math.floor(block.address / size);
}
