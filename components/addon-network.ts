/**
 * NetworkPolicies for the namespaces the platform installs third-party charts into (monitoring,
 * cert-manager, envoy-gateway-system, cnpg-system): a default deny of both directions, then one
 * policy per chart workload admitting exactly the flows it needs, each stated as plain data with why.
 * The components that install each chart call `isolateAddOnNamespace` with their workloads' tables
 * (ObservabilityStack, IngressGateway, PostgresOperator); the connectivity model (analysis/intent.ts)
 * knows the same pods by the labels exported here.
 *
 * The Kubernetes API server and the nodes are address ranges, not pods: on EKS the API server's
 * endpoints are the control plane's network interfaces in the cluster's subnets (port 443), it calls
 * admission webhooks from those interfaces, and the nodes (kubelet, host-network exporters) sit in the
 * same subnets. `ClusterNetwork` says where they are.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import {
  childName,
  dnsEgressRule,
  externalEgressAnnotation,
  externalEgressSummary,
  NON_PUBLIC_IPV4_CIDRS,
  PRIVATE_IPV4_CIDRS,
} from "./lib";

/**
 * Where the cluster's nodes and its API server's endpoints are, as pods see them.
 * @example { cidrs: ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"], apiServerPorts: [443] } // EKS: the private subnets
 */
export interface ClusterNetwork {
  /** Address blocks of the nodes and of the API server's endpoints (EKS: the cluster's subnets). */
  cidrs: string[];
  /** Ports the API server listens on (EKS: 443; kubeadm-style clusters: 6443). */
  apiServerPorts: number[];
}

/**
 * Default when a component is not told: the private ranges, API server on 443 and 6443. On EKS pass
 * the cluster's private subnets (`Network.privateSubnetCidrs`) and `[443]`, which is narrower.
 */
export const DEFAULT_CLUSTER_NETWORK: ClusterNetwork = {
  cidrs: [...PRIVATE_IPV4_CIDRS],
  apiServerPorts: [443, 6443],
};

/** The other end of an add-on flow. */
export type AddOnPeer =
  /** Pods with these labels, in `namespace` (default: the add-on's own; `"*"`: every namespace). */
  | { pods: Record<string, string>; namespace?: string }
  /** Every pod of the namespaces a selector matches (`{}`: every namespace). */
  | { namespaces: NamespaceSelector }
  /** The Kubernetes API server (its endpoints and ports as `ClusterNetwork` states them). */
  | { apiServer: true }
  /** The nodes (kubelet, host-network pods): `ClusterNetwork.cidrs`. */
  | { nodes: true }
  /**
   * Public addresses only: every non-public range (private, link-local: instance metadata) excluded.
   * `hosts` name what is reached there; they are declared on the policy as the catalogs declare theirs.
   */
  | { internet: true; hosts: string[] }
  /** Any address, in or out of the cluster (a public listener). */
  | { anywhere: true };

/** One admitted flow: the peer, the ports, and why the workload needs it. */
export interface AddOnFlow {
  peer: AddOnPeer;
  /** Ports (protocol TCP unless stated). Empty: the API server's ports for `apiServer`, else every port. */
  ports: { port: number; protocol?: "TCP" | "UDP" }[];
  /** Why, for reviewers and docs/connectivity.md, e.g. `the API server calls the validating webhook`. */
  why: string;
}

/** A chart workload: its pods' labels and what it may receive and open (DNS is always added). */
export interface AddOnWorkload {
  /** Names its NetworkPolicy, e.g. `cert-manager-webhook`. */
  name: string;
  /** Labels the chart puts on its pods (its selector labels). */
  podLabels: Record<string, string>;
  ingress: AddOnFlow[];
  egress: AddOnFlow[];
}

/** A label selector over namespaces. */
export interface NamespaceSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }[];
}

const NAME_LABEL = "kubernetes.io/metadata.name";

function peersOf(
  peer: AddOnPeer,
  api: ClusterNetwork,
): k8s.types.input.networking.v1.NetworkPolicyPeer[] | undefined {
  if ("pods" in peer)
    return [
      {
        podSelector: { matchLabels: peer.pods },
        ...(peer.namespace === "*"
          ? { namespaceSelector: {} }
          : peer.namespace
            ? { namespaceSelector: { matchLabels: { [NAME_LABEL]: peer.namespace } } }
            : {}),
      },
    ];
  if ("namespaces" in peer) return [{ namespaceSelector: peer.namespaces }];
  if ("apiServer" in peer || "nodes" in peer) return api.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  if ("internet" in peer) return [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_IPV4_CIDRS] } }];
  return undefined; // anywhere: no `from`/`to`
}

function portsOf(flow: AddOnFlow, api: ClusterNetwork): { protocol: string; port: number }[] {
  const ports: AddOnFlow["ports"] =
    "apiServer" in flow.peer && flow.ports.length === 0
      ? api.apiServerPorts.map((port) => ({ port }))
      : flow.ports;
  return ports.map((p) => ({ protocol: p.protocol ?? "TCP", port: p.port }));
}

/** One rule; no `ports` key for a flow on every port (an empty list would be dropped by the API server). */
function rule(flow: AddOnFlow, api: ClusterNetwork, key: "from" | "to") {
  const peers = peersOf(flow.peer, api);
  const ports = portsOf(flow, api);
  return { ...(peers ? { [key]: peers } : {}), ...(ports.length > 0 ? { ports } : {}) };
}

/** The `component` label of the add-on namespaces' policies (their pods are the charts', not in any manifest). */
export const ADD_ON_POLICY_COMPONENT = "add-on-network-policy";

/** The API server on its ports (an egress flow every controller states). */
export const toApiServer = (why: string): AddOnFlow => ({ peer: { apiServer: true }, ports: [], why });

/**
 * Default deny for `namespace`, then one policy per workload. Returns the policies (the deny first).
 * Names: `<prefix>-default-deny` and `<prefix>-<workload.name>` (Pulumi) / `<workload.name>` (Kubernetes).
 */
export function isolateAddOnNamespace(
  prefix: string,
  namespace: pulumi.Input<string>,
  workloads: readonly AddOnWorkload[],
  api: ClusterNetwork,
  labels: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
  labelDomain?: string,
): k8s.networking.v1.NetworkPolicy[] {
  const external = (w: AddOnWorkload) =>
    w.egress.flatMap((f) =>
      "internet" in f.peer
        ? f.peer.hosts.flatMap((host) => f.ports.map((p) => ({ host, port: p.port, reason: f.why })))
        : [],
    );
  const deny = new k8s.networking.v1.NetworkPolicy(
    childName(prefix, "default-deny"),
    {
      metadata: { name: "default-deny", namespace, labels },
      // No rules with both types: nothing in or out unless a workload's policy below admits it.
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    opts,
  );
  return [
    deny,
    ...workloads.map(
      (w) =>
        new k8s.networking.v1.NetworkPolicy(
          childName(prefix, w.name),
          {
            metadata: {
              name: w.name,
              namespace,
              labels,
              ...(external(w).length > 0
                ? {
                    annotations: {
                      [externalEgressAnnotation(labelDomain)]: externalEgressSummary(external(w)),
                    },
                  }
                : {}),
            },
            spec: {
              podSelector: { matchLabels: w.podLabels },
              policyTypes: ["Ingress", "Egress"],
              ...(w.ingress.length > 0 ? { ingress: w.ingress.map((f) => rule(f, api, "from")) } : {}),
              egress: [dnsEgressRule(), ...w.egress.map((f) => rule(f, api, "to"))],
            },
          },
          opts,
        ),
    ),
  ];
}

/** The flows of `workloads` as Markdown table rows (docs/connectivity.md lists them; a test keeps it current). */
export function addOnFlowRows(namespace: string, workloads: readonly AddOnWorkload[]): string[] {
  const peer = (p: AddOnPeer): string =>
    "pods" in p
      ? `pods ${Object.entries(p.pods)
          .map(([k, v]) => `${k}=${v}`)
          .join(",")}${p.namespace === "*" ? " in every namespace" : p.namespace ? ` in ${p.namespace}` : ""}`
      : "namespaces" in p
        ? Object.keys(p.namespaces).length === 0
          ? "every namespace"
          : `namespaces ${JSON.stringify(p.namespaces)}`
        : "apiServer" in p
          ? "API server"
          : "nodes" in p
            ? "nodes"
            : "internet" in p
              ? `internet: ${p.hosts.join(", ")}`
              : "anywhere";
  const ports = (f: AddOnFlow) =>
    f.ports.length === 0
      ? "apiServer" in f.peer
        ? "API server ports"
        : "every port"
      : f.ports.map((p) => `${p.port}/${p.protocol ?? "TCP"}`).join(", ");
  return workloads.flatMap((w) => [
    ...w.ingress.map((f) => `| ${namespace} | ${w.name} | in | ${peer(f.peer)} | ${ports(f)} | ${f.why} |`),
    ...w.egress.map((f) => `| ${namespace} | ${w.name} | out | ${peer(f.peer)} | ${ports(f)} | ${f.why} |`),
  ]);
}
