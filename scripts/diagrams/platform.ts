/**
 * The two platform pictures, built from a rendered inventory (so the review can draw a base commit's
 * inventory with the head's code):
 *  - start order: data services, their bootstrap Jobs, migration Jobs, services, the gateway and its
 *    routes, each arrow "must exist before", redundant arrows removed;
 *  - topology: namespaces with their services and in-cluster stores, AWS-managed stores, the gateway
 *    with its routes (path prefixes on the arrows), and who uses or calls whom.
 * Both come from the resources' recorded dependencies, the same edges `pulumi up` orders by.
 */
import { dependencyEdges, indexByUrn, owningComponent, COMPONENT_TYPE_PREFIX } from "../resource-graph";
import { normalized, transitiveReduction, type Diagram, type DiagramEdge, type DiagramNode } from "./diagram";

/** A resource as inventory.json records it (inputs redacted). */
export interface InventoryResource {
  type: string;
  name: string;
  urn: string;
  parent: string;
  provider: string;
  dependencies: readonly string[];
  inputs: unknown;
}

const DATA_COMPONENTS = ["ManagedPostgres", "RedisCache", "MessageBroker"];
const MANAGED_TYPES: Record<string, string> = {
  "aws:rds/instance:Instance": "RDS",
  "aws:elasticache/replicationGroup:ReplicationGroup": "ElastiCache",
  "aws:mq/broker:Broker": "Amazon MQ",
};
const JOB_TYPE = "kubernetes:batch/v1:Job";
const SERVICE_KINDS = [
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:core/v1:Service",
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  "kubernetes:policy/v1:PodDisruptionBudget",
];
const AWS_GROUP = "aws-managed";

interface Classified {
  node: Omit<DiagramNode, "members" | "group">;
  /** Topology folds a Job into the component that owns it (bootstrap → store, migration → service). */
  topologyOwner: string;
}

export function startOrderDiagram(inventory: readonly InventoryResource[]): Diagram {
  const graph = platformGraph(inventory);
  const ids = graph.nodes.map((n) => n.id);
  return normalized({
    title: "start order",
    direction: "LR",
    groups: graph.groups,
    nodes: graph.nodes,
    edges: transitiveReduction(ids, graph.edges),
  });
}

export function topologyDiagram(inventory: readonly InventoryResource[]): Diagram {
  const graph = platformGraph(inventory);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const fold = (id: string) => graph.topologyOwner.get(id) ?? id;
  const shown = (n: DiagramNode | undefined) => !!n && (n.shape === "box" || n.shape === "store");
  // Arrows point from the caller or user to what it uses: the reverse of "exists before".
  const edges = new Map<string, DiagramEdge>();
  for (const e of graph.edges) {
    const user = fold(e.to);
    const used = fold(e.from);
    const [u, d] = [byId.get(user), byId.get(used)];
    if (user === used || !shown(u) || !shown(d)) continue;
    edges.set(`${user} ${used}`, { from: user, to: used, label: d?.shape === "store" ? "uses" : "calls" });
  }
  const gateway = graph.nodes.find((n) => n.shape === "gateway");
  for (const route of routesOf(inventory, graph.serviceByK8sName)) {
    if (gateway)
      edges.set(`${gateway.id} ${route.service}`, {
        from: gateway.id,
        to: route.service,
        label: route.paths,
      });
  }
  const nodes = graph.nodes.filter((n) => shown(n) || n.shape === "gateway");
  const used = new Set(nodes.map((n) => n.group).filter(Boolean));
  return normalized({
    title: "topology",
    direction: "LR",
    groups: graph.groups.filter((g) => used.has(g.id)),
    nodes,
    edges: [...edges.values()],
  });
}

interface PlatformGraph {
  groups: { id: string; label: string }[];
  nodes: DiagramNode[];
  /** Node-level "before → after" edges, not yet reduced. */
  edges: DiagramEdge[];
  topologyOwner: Map<string, string>;
  /** `namespace/Service name` → service node id (for routes). */
  serviceByK8sName: Map<string, string>;
}

function platformGraph(inventory: readonly InventoryResource[]): PlatformGraph {
  const byUrn = indexByUrn(inventory);
  const nodeOf = new Map<string, string>();
  const nodes = new Map<string, DiagramNode>();
  const topologyOwner = new Map<string, string>();
  const serviceByK8sName = new Map<string, string>();
  for (const r of inventory) {
    const c = classify(r, owningComponent(r, byUrn));
    if (!c) continue;
    nodeOf.set(r.urn, c.node.id);
    const node = nodes.get(c.node.id) ?? { ...c.node, members: [] };
    node.members.push(r.urn);
    nodes.set(c.node.id, node);
    if (c.topologyOwner !== c.node.id) topologyOwner.set(c.node.id, c.topologyOwner);
    const meta = metadataOf(r);
    if (r.type === "kubernetes:core/v1:Service" && node.shape === "box" && meta.name)
      serviceByK8sName.set(`${meta.namespace ?? ""}/${meta.name}`, node.id);
  }
  const groups = new Map<string, string>();
  for (const node of nodes.values()) {
    const group = groupOf(node, byUrn);
    if (!group) continue;
    node.group = group.id;
    groups.set(group.id, group.label);
    if (group.id === AWS_GROUP) node.label = `${node.label} (${managedKind(node, byUrn)})`;
  }
  return {
    groups: [...groups].map(([id, label]) => ({ id, label })),
    nodes: [...nodes.values()],
    edges: nodeEdges(inventory, nodeOf),
    topologyOwner,
    serviceByK8sName,
  };
}

/** Which picture node a resource belongs to, if any (clusters, namespaces, secrets and monitoring stay out). */
function classify(r: InventoryResource, owner: string): Classified | undefined {
  const ownerClass = owner.split("-")[0] ?? "";
  const ownerName = owner.slice(ownerClass.length + 1);
  const meta = metadataOf(r);
  if (r.type === JOB_TYPE) {
    const id = `job ${r.name}`;
    // The Pulumi name, not metadata.name: a migration Job's name carries a hash of its spec.
    return { node: { id, label: `${r.name} Job`, shape: "job" }, topologyOwner: owner };
  }
  if (DATA_COMPONENTS.includes(ownerClass))
    return { node: { id: owner, label: ownerName, shape: "store" }, topologyOwner: owner };
  // A service is its workload and what serves it; its ServiceAccount, config and policies come before its
  // migration Job, so counting them in would make the service both before and after that Job.
  if (ownerClass === "MicroService" && SERVICE_KINDS.includes(r.type))
    return { node: { id: owner, label: ownerName, shape: "box" }, topologyOwner: owner };
  if (ownerClass === "IngressGateway") {
    const labels = meta.labels ?? {};
    if (labels["app.kubernetes.io/component"] === "route") {
      const target = `${meta.namespace ?? ""}/${labels["app.kubernetes.io/instance"] ?? r.name}`;
      return {
        node: { id: `route ${target}`, label: `routes to ${target}`, shape: "route" },
        topologyOwner: owner,
      };
    }
    return {
      node: { id: owner, label: `${ownerName} (Envoy Gateway)`, shape: "gateway" },
      topologyOwner: owner,
    };
  }
  return undefined;
}

/**
 * Node A → node B when a resource of B needs a resource of A, directly or through resources no node
 * stands for (a Secret, a namespace): the walk goes through those and stops at the first node it meets.
 */
function nodeEdges(inventory: readonly InventoryResource[], nodeOf: Map<string, string>): DiagramEdge[] {
  const isCustom = (r: { type: string }) =>
    !r.type.startsWith(COMPONENT_TYPE_PREFIX) && r.type !== "pulumi:pulumi:Stack";
  const deps = dependencyEdges(
    inventory.map((r) => ({ ...r, providerUrn: r.provider })),
    isCustom,
  );
  const edges = new Map<string, DiagramEdge>();
  for (const [urn, node] of nodeOf) {
    const stack = [...(deps.get(urn) ?? [])];
    const seen = new Set(stack);
    while (stack.length) {
      const dep = stack.pop() as string;
      const other = nodeOf.get(dep);
      if (other && other !== node) {
        edges.set(`${other} ${node}`, { from: other, to: node });
        continue;
      }
      for (const next of deps.get(dep) ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return [...edges.values()];
}

function groupOf(
  node: DiagramNode,
  byUrn: Map<string, InventoryResource>,
): { id: string; label: string } | undefined {
  if (node.shape === "store" && managedKind(node, byUrn)) return { id: AWS_GROUP, label: "AWS managed" };
  for (const urn of node.members) {
    const namespace = metadataOf(byUrn.get(urn)).namespace;
    if (namespace && node.shape !== "route")
      return { id: `ns ${namespace}`, label: `namespace ${namespace}` };
  }
  return undefined;
}

function managedKind(node: DiagramNode, byUrn: Map<string, InventoryResource>): string | undefined {
  for (const urn of node.members) {
    const kind = MANAGED_TYPES[byUrn.get(urn)?.type ?? ""];
    if (kind) return kind;
  }
  return undefined;
}

type Metadata = { name?: string; namespace?: string; labels?: Record<string, string> };

function metadataOf(r: InventoryResource | undefined): Metadata {
  const inputs = (r?.inputs ?? {}) as { metadata?: Metadata };
  return inputs.metadata ?? {};
}

/** The gateway's routes: backend service node and the path prefixes (or `/`) it serves. */
function routesOf(
  inventory: readonly InventoryResource[],
  serviceByK8sName: Map<string, string>,
): { service: string; paths: string }[] {
  const paths = new Map<string, Set<string>>();
  for (const r of inventory) {
    if (!/^kubernetes:gateway\.networking\.k8s\.io\/v1:(HTTPRoute|GRPCRoute)$/.test(r.type)) continue;
    const meta = metadataOf(r);
    const spec = ((r.inputs ?? {}) as { spec?: RouteSpec }).spec ?? {};
    for (const rule of spec.rules ?? []) {
      for (const backend of rule.backendRefs ?? []) {
        const service = serviceByK8sName.get(`${backend.namespace ?? meta.namespace ?? ""}/${backend.name}`);
        if (!service) continue;
        const set = paths.get(service) ?? new Set<string>();
        for (const m of rule.matches ?? [])
          set.add(m.path?.value ?? (m.method?.service ? `grpc ${m.method.service}` : "/"));
        if (!rule.matches?.length) set.add("/");
        paths.set(service, set);
      }
    }
  }
  return [...paths].map(([service, set]) => ({ service, paths: summarisePaths([...set].sort()) }));
}

type RouteSpec = {
  rules?: {
    backendRefs?: { name: string; namespace?: string }[];
    matches?: { path?: { value?: string }; method?: { service?: string } }[];
  }[];
};

/** At most three paths on an arrow, then a count: the picture stays legible, the text diff has them all. */
function summarisePaths(paths: string[]): string {
  return paths.length <= 3 ? paths.join(", ") : `${paths.slice(0, 3).join(", ")} +${paths.length - 3} more`;
}
