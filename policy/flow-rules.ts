/**
 * Rules about how the stack's pieces fit together at run time, checkable at preview: routes unique
 * on the Gateway, namespace quotas that admit the rollout, and public egress only where declared.
 * They reuse the analyses the tests and the render use (analysis/), on the resources as the pack sees
 * them. Type-only imports from ./rules keep the module graph acyclic (rules.ts lists these in RULES).
 */
import { externalEgressAnnotation, NON_PUBLIC_IPV4_CIDRS, parseIpv4Cidr } from "../components/lib";
import { PLATFORM_LABEL_DOMAIN } from "../config/label-domain";

/** The annotation the platform's program writes (with its label domain) on NetworkPolicies with public egress. */
const EXTERNAL_EGRESS_ANNOTATION = externalEgressAnnotation(PLATFORM_LABEL_DOMAIN);
import { amountsOf, namespaceFit } from "../analysis/capacity";
import { routeConflicts, routeRows, type RouteRow } from "../analysis/routes";
import { renderedDemand } from "../analysis/workloads";
import { list, obj, text } from "../analysis/plain";
import type { ResourceRule, RuleResource, StackRule, StackViolation } from "./rules";

const ROUTE_TYPES: Record<string, string> = {
  "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": "HTTPRoute",
  "kubernetes:gateway.networking.k8s.io/v1:GRPCRoute": "GRPCRoute",
};
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota";

/** A resource's props as a Kubernetes object, its kind from the type token (`kubernetes:apps/v1:Deployment`). */
function asObject(r: RuleResource): Record<string, unknown> {
  return { ...r.props, kind: r.type.split(":").pop() };
}

export const routesUnique: StackRule = {
  kind: "stack",
  name: "gateway-routes-unique",
  description:
    "Every listener + hostname + match (path prefix or gRPC service) on the Gateway is claimed by one route only, across all platforms.",
  check(resources) {
    const rows: (RouteRow & { urn: string })[] = resources
      .filter((r) => ROUTE_TYPES[r.type])
      .flatMap((r) =>
        routeRows({ ...r.props, kind: ROUTE_TYPES[r.type] }).map((row) => ({ ...row, urn: r.urn })),
      );
    const urnOf = new Map(rows.map((row) => [row.route, row.urn]));
    return routeConflicts(rows).map((message) => ({
      urn: urnOf.get(message.split(" and ")[1]?.split(" ")[0] ?? "") ?? rows[0]?.urn ?? "",
      message: `${message}: one of them is unreachable. Give each platform its own hostname or distinct prefixes.`,
    }));
  },
};

export const quotaFit: StackRule = {
  kind: "stack",
  name: "k8s-quota-fits-rollout",
  description:
    "Each namespace's ResourceQuota admits its workloads at minimum replicas plus the largest rollout surge plus every Job.",
  check(resources) {
    const objects = resources.map(asObject);
    const demand = renderedDemand(objects);
    const violations: StackViolation[] = [];
    for (const r of resources.filter((x) => x.type === RESOURCE_QUOTA)) {
      const namespace = text(obj(r.props.metadata).namespace);
      const hard = obj(obj(r.props.spec).hard);
      const quantity = (key: string) => {
        const v = hard[key];
        return typeof v === "number" ? String(v) : text(v);
      };
      if (
        !quantity("requests.cpu") ||
        !quantity("requests.memory") ||
        !quantity("limits.cpu") ||
        !quantity("limits.memory")
      )
        continue;
      const quota = {
        ...amountsOf({
          requests: { cpu: quantity("requests.cpu"), memory: quantity("requests.memory") },
          limits: { cpu: quantity("limits.cpu"), memory: quantity("limits.memory") },
        }),
        pods: quantity("pods") ? Number(quantity("pods")) : Number.POSITIVE_INFINITY,
      };
      for (const message of namespaceFit(namespace, demand, quota).problems)
        violations.push({ urn: r.urn, message });
    }
    return violations;
  },
};

/** Whether CIDR `inner` lies inside CIDR `outer`. */
function within(inner: string, outer: string): boolean {
  const a = parseIpv4Cidr(inner);
  const b = parseIpv4Cidr(outer);
  if (!a || !b || b.prefix > a.prefix) return false;
  const size = 2 ** (32 - b.prefix);
  return Math.floor(a.address / size) === Math.floor(b.address / size);
}

/** Whether a CIDR lies entirely inside one of the non-public ranges (a VPC subnet, a pod range). */
const isPrivate = (cidr: string) => NON_PUBLIC_IPV4_CIDRS.some((range) => within(cidr, range));

export const externalEgressDeclared: ResourceRule = {
  kind: "resource",
  name: "k8s-external-egress-declared",
  description: `NetworkPolicy egress to public addresses names its endpoints (annotation ${EXTERNAL_EGRESS_ANNOTATION}: host:port,...), opens only their ports, and excludes private, link-local and metadata ranges.`,
  resourceTypes: [NETWORK_POLICY],
  check(r) {
    const metadata = obj(r.props.metadata);
    const label = `NetworkPolicy "${text(metadata.name, r.name)}"`;
    const declared = text(obj(metadata.annotations)[EXTERNAL_EGRESS_ANNOTATION]).split(",").filter(Boolean);
    const declaredPorts = new Set(declared.map((d) => Number(d.split(":").pop())));
    const problems: string[] = [];
    for (const rule of list(obj(r.props.spec).egress).map(obj)) {
      const blocks = list(rule.to)
        .map((peer) => obj(obj(peer).ipBlock))
        .filter((b) => typeof b.cidr === "string" && !isPrivate(b.cidr));
      if (blocks.length === 0) continue;
      const ports = list(rule.ports).map((p) => obj(p).port);
      if (declared.length === 0)
        problems.push(
          `${label} allows egress to public addresses (${blocks.map((b) => text(b.cidr)).join(", ")}) without declaring the endpoints: set ${EXTERNAL_EGRESS_ANNOTATION} (host:port) from the service's catalog entry.`,
        );
      if (ports.length === 0)
        problems.push(
          `${label} allows egress to public addresses on every port; open only the declared ports.`,
        );
      for (const port of ports)
        if (declared.length > 0 && !declaredPorts.has(Number(port)))
          problems.push(
            `${label} opens port ${String(port)} to public addresses, but declares only ${declared.join(", ")}.`,
          );
      for (const b of blocks) {
        const except = list(b.except).map((e) => text(e));
        const cidr = text(b.cidr);
        const missing = NON_PUBLIC_IPV4_CIDRS.filter(
          (range) => within(range, cidr) && !except.includes(range),
        );
        if (missing.length > 0)
          problems.push(
            `${label} allows ${cidr} without excluding ${missing.join(", ")} (private, link-local and metadata ranges).`,
          );
      }
    }
    return problems;
  },
};
