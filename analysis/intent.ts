/**
 * The flows a stack is meant to have, as data derived from the catalogs and the plan (never from the
 * rendered objects), and the flows it must not have. `checkIntent` holds a connectivity model (built
 * from what the program renders) against both: every intended flow allowed, every must-not flow
 * denied, and every pod an intended flow names present.
 *
 * Intended: caller → dependency port; service, migration Job and bootstrap Job → each data service
 * they use; gateway proxy → public services (and the JWT issuer's JWKS port); Prometheus → metrics
 * ports; every pod → DNS; declared external egress.
 *
 * Must not: another catalog's pods → an in-cluster data service; any pod but a declared caller → a
 * service port; monitoring → anything but a metrics port, and nothing in monitoring but Prometheus
 * → a metrics port; any pod but the gateway proxy → an entry service's API port; any pod → the
 * instance metadata service; an undeclared pod → the internet.
 *
 * Data services on AWS (RDS, ElastiCache, Amazon MQ) sit in the VPC's private subnets at addresses
 * NetworkPolicy cannot tell apart: consumers reach them through an ipBlock of those subnets on the
 * engine's port, so catalogs are kept apart there by per-consumer credentials and the security group,
 * not by NetworkPolicy. The must-not set covers in-cluster data services only.
 */
import { childName, subnetCidr } from "../components/lib";
import { envoyProxyPodLabels, GRAFANA_POD_LABELS, PROMETHEUS_POD_LABELS } from "../components";
import { type CatalogPlan, type ServicePlan } from "../config/plan";
import { type PlatformSettings } from "../config/settings";
import {
  flowVerdict,
  servicesReaching,
  type ClusterModel,
  type Endpoint,
  type ExternalEndpoint,
  type Pod,
  type Protocol,
} from "./network-policy";

/** A flow between a pod (by id) and a pod or an external address. */
export interface FlowSpec {
  from: string;
  to: { pod: string } | { external: ExternalEndpoint };
  port: number;
  protocol: Protocol;
  why: string;
}

/** Flows to one destination that only `allowedFrom` (pod ids) may open; every other pod must be denied. */
export interface MustNotSpec {
  to: { pod: string } | { external: ExternalEndpoint };
  port: number;
  /** Pods allowed to open it (every other pod in the model must be denied). */
  allowedFrom: ReadonlySet<string>;
  /** Only sources this selects are checked (default: every pod). */
  sources?: (pod: Pod) => boolean;
  why: string;
}

export interface Intent {
  intended: FlowSpec[];
  mustNot: MustNotSpec[];
  /** Workloads that only a chart creates, for the model (Envoy proxies, Prometheus, Grafana, CoreDNS). */
  knownPods: Pod[];
}

export const GATEWAY_NAME = "gateway";
export const GATEWAY_NAMESPACE = "envoy-gateway-system";
export const MONITORING_NAMESPACE = "monitoring";

/** Ports the data services serve on, per backend (bootstrap: the port the bootstrap Job uses). */
export const DATA_PORTS = {
  postgres: { aws: { consumers: 5432, bootstrap: 5432 }, inCluster: { consumers: 5432, bootstrap: 5432 } },
  redis: { aws: { consumers: 6379, bootstrap: 6379 }, inCluster: { consumers: 6379, bootstrap: 6379 } },
  rabbitmq: { aws: { consumers: 5671, bootstrap: 443 }, inCluster: { consumers: 5672, bootstrap: 15672 } },
} as const;
export type DataKind = keyof typeof DATA_PORTS;

/** A public address standing for "the internet" (TEST-NET-3: public, never routed to anything real). */
export const INTERNET_IP = "203.0.113.10";
export const METADATA_SERVICE: ExternalEndpoint = { ip: "169.254.169.254", name: "instance metadata" };

const knownPod = (
  namespace: string,
  name: string,
  labels: Record<string, string>,
  ports: Pod["ports"] = [],
): Pod => ({
  id: `${namespace}/${name}`,
  namespace,
  labels,
  ports,
  kind: "chart",
});
export const COREDNS = knownPod("kube-system", "coredns", { "k8s-app": "kube-dns" }, [
  { name: "dns", port: 53, protocol: "UDP" },
  { name: "dns-tcp", port: 53, protocol: "TCP" },
]);
export const ENVOY_PROXY = knownPod(
  GATEWAY_NAMESPACE,
  "envoy-proxy",
  envoyProxyPodLabels(GATEWAY_NAME, GATEWAY_NAMESPACE),
);
export const PROMETHEUS = knownPod(MONITORING_NAMESPACE, "prometheus", { ...PROMETHEUS_POD_LABELS });
export const GRAFANA = knownPod(MONITORING_NAMESPACE, "grafana", { ...GRAFANA_POD_LABELS });

/** A data service a catalog deploys: its kind, backend and name (`<catalog>-<kind>`). */
export interface PlannedDataService {
  kind: DataKind;
  backend: "aws" | "inCluster";
  name: string;
  namespace: string;
  consumers: string[];
}

export function plannedDataServices(settings: PlatformSettings, plan: CatalogPlan): PlannedDataService[] {
  const { catalog } = plan;
  const entry = (kind: DataKind, backend: "aws" | "inCluster", consumers: string[]): PlannedDataService => ({
    kind,
    backend,
    name: childName(catalog.name, kind),
    namespace: plan.namespace,
    consumers,
  });
  return [
    ...(catalog.data.postgres
      ? [
          entry(
            "postgres",
            settings.database.backendByCatalog[catalog.name] ?? settings.database.backend,
            plan.databases.map((d) => d.service),
          ),
        ]
      : []),
    ...(catalog.data.redis ? [entry("redis", settings.cache.backend, plan.redisConsumers)] : []),
    ...(catalog.data.broker ? [entry("rabbitmq", settings.broker.backend, plan.brokerConsumers)] : []),
  ];
}

/** Where a data service is reached: its pods in-cluster, or an address in the VPC's first private subnet. */
function dataEndpoint(settings: PlatformSettings, d: PlannedDataService): FlowSpec["to"] {
  if (d.backend === "inCluster") return { pod: `${d.namespace}/${d.name}` };
  const subnet = subnetCidr(settings.network.cidr, 3, 0).split("/")[0] ?? "";
  const ip = subnet.replace(/\.0$/, ".10");
  return { external: { ip, name: `${d.name} (AWS)` } };
}

const metricsPortOf = (s: ServicePlan): number | undefined =>
  s.spec.metrics.enabled ? (s.spec.metrics.port ?? s.spec.port) : undefined;

/** Intended and must-not flows of a stack, from its settings and catalog plans. */
export function stackIntent(settings: PlatformSettings, plans: readonly CatalogPlan[]): Intent {
  const intent = new IntentBuilder(settings);
  for (const plan of plans) {
    dataServiceIntent(intent, plan);
    serviceIntent(intent, plan);
  }
  outsideIntent(intent, new Set(plans.map((p) => p.namespace)));
  return { intended: intent.intended, mustNot: intent.mustNot, knownPods: intent.knownPods };
}

/** The flows being collected, and the helpers every part of the intent states them with. */
class IntentBuilder {
  readonly intended: FlowSpec[] = [];
  readonly mustNot: MustNotSpec[] = [];
  readonly knownPods: Pod[];
  readonly gateway: boolean;
  readonly monitoring: boolean;
  /** Pods that declare an external endpoint: the only ones that may leave the cluster. */
  readonly declaredEgress = new Set<string>();

  constructor(readonly settings: PlatformSettings) {
    this.gateway = settings.ingress.enabled;
    this.monitoring = settings.observability.enabled;
    this.knownPods = [
      COREDNS,
      ...(this.gateway ? [ENVOY_PROXY] : []),
      ...(this.monitoring ? [PROMETHEUS, GRAFANA] : []),
    ];
  }

  flow(from: string, to: FlowSpec["to"], port: number, why: string, protocol: Protocol = "TCP"): void {
    this.intended.push({ from, to, port, protocol, why });
  }

  dns(from: string): void {
    this.flow(from, { pod: COREDNS.id }, 53, "DNS", "UDP");
    this.flow(from, { pod: COREDNS.id }, 53, "DNS", "TCP");
  }
}

const internet = (host: string): ExternalEndpoint => ({ ip: INTERNET_IP, name: host });

/** Each data service: its bootstrap, its consumers and their migrations in; nobody else. */
function dataServiceIntent(intent: IntentBuilder, plan: CatalogPlan): void {
  const { settings } = intent;
  const ns = plan.namespace;
  const id = (instance: string) => `${ns}/${instance}`;
  for (const d of plannedDataServices(settings, plan)) {
    const ports = DATA_PORTS[d.kind][d.backend];
    const to = dataEndpoint(settings, d);
    const bootstrap = id(childName(d.name, "bootstrap"));
    intent.flow(bootstrap, to, ports.bootstrap, `bootstrap of ${d.name}`);
    intent.dns(bootstrap);
    if (d.backend === "inCluster") intent.dns(id(d.name));
    // CloudNativePG instances archive WAL and base backups to S3 (through STS): their declared egress.
    if (d.kind === "postgres" && d.backend === "inCluster" && settings.database.operator.enabled) {
      intent.flow(
        id(d.name),
        { external: internet("S3 and STS (backups)") },
        443,
        `${d.name} archives to S3`,
      );
      intent.declaredEgress.add(id(d.name));
    }
    for (const consumer of d.consumers) {
      intent.flow(id(consumer), to, ports.consumers, `${consumer} uses ${d.name}`);
      const svc = plan.services.find((s) => s.spec.name === consumer);
      if (svc?.spec.migration)
        intent.flow(
          id(childName(consumer, "migration")),
          to,
          ports.consumers,
          `migration of ${consumer} uses ${d.name}`,
        );
    }
    if (d.backend === "inCluster") {
      // Nobody outside the catalog's namespace reaches its in-cluster data (and inside, only consumers).
      const allowedFrom = new Set([
        bootstrap,
        ...d.consumers.flatMap((c) => [id(c), id(childName(c, "migration"))]),
      ]);
      intent.mustNot.push({
        to,
        port: ports.consumers,
        allowedFrom,
        sources: (p) => p.namespace !== ns,
        why: `another catalog's pods must not reach ${d.name}`,
      });
      intent.mustNot.push({
        to,
        port: ports.consumers,
        allowedFrom,
        why: `only consumers of ${d.name} reach it`,
      });
    }
  }
}

/** Each service: DNS, its calls, its external endpoints, its route and scrape in; only callers in. */
function serviceIntent(intent: IntentBuilder, plan: CatalogPlan): void {
  const { gateway, monitoring } = intent;
  const id = (instance: string) => `${plan.namespace}/${instance}`;
  for (const svc of plan.services) {
    const { spec } = svc;
    const self = id(spec.name);
    intent.dns(self);
    if (spec.migration) intent.dns(id(childName(spec.name, "migration")));
    for (const dep of svc.dependencies)
      intent.flow(self, { pod: id(dep.name) }, dep.port, `${spec.name} calls ${dep.name}`);
    for (const e of spec.externalEgress) intent.flow(self, { external: internet(e.host) }, e.port, e.reason);
    const metricsPort = metricsPortOf(svc);
    if (spec.expose && gateway)
      intent.flow(ENVOY_PROXY.id, { pod: self }, spec.port, `public route to ${spec.name}`);
    if (svc.jwtIssuer && gateway && metricsPort !== undefined)
      intent.flow(ENVOY_PROXY.id, { pod: self }, metricsPort, `gateway fetches the JWKS of ${spec.name}`);
    if (monitoring && metricsPort !== undefined)
      intent.flow(PROMETHEUS.id, { pod: self }, metricsPort, `Prometheus scrapes ${spec.name}`);

    // The service port: declared callers only (and the gateway's proxies for a public service). An
    // internal service that serves metrics on its service port is scraped there; an entry service
    // may not (the catalog requires it a separate metrics port: see catalogProblems).
    const callers = new Set(svc.callers.map(id));
    if (spec.expose && gateway) callers.add(ENVOY_PROXY.id);
    if (monitoring && metricsPort === spec.port && !spec.entryPoint && !spec.expose)
      callers.add(PROMETHEUS.id);
    intent.mustNot.push({
      to: { pod: self },
      port: spec.port,
      allowedFrom: callers,
      why: spec.entryPoint
        ? `only the gateway reaches the API port of entry service ${spec.name}`
        : `only declared callers reach ${spec.name}`,
    });
    // The metrics port: Prometheus (and the gateway's proxies for the JWKS), nothing else in monitoring.
    if (metricsPort !== undefined && metricsPort !== spec.port)
      intent.mustNot.push({
        to: { pod: self },
        port: metricsPort,
        allowedFrom: new Set([PROMETHEUS.id, ...(svc.jwtIssuer && gateway ? [ENVOY_PROXY.id] : [])]),
        sources: (p) => p.namespace === MONITORING_NAMESPACE,
        why: `only Prometheus in monitoring scrapes ${spec.name}`,
      });
    if (spec.externalEgress.length > 0) intent.declaredEgress.add(self);
  }
}

/**
 * Outside the cluster: only services that declare an endpoint (not their Jobs, not data servers),
 * and nobody to the node's metadata service.
 */
function outsideIntent(intent: IntentBuilder, appNamespaces: ReadonlySet<string>): void {
  intent.mustNot.push({
    to: { external: internet("the internet") },
    port: 443,
    allowedFrom: intent.declaredEgress,
    sources: (p) => appNamespaces.has(p.namespace),
    why: "only services that declare an external endpoint reach the internet",
  });
  for (const port of [80, 443])
    intent.mustNot.push({
      to: { external: METADATA_SERVICE },
      port,
      allowedFrom: new Set(),
      sources: (p) => appNamespaces.has(p.namespace),
      why: "application pods never reach the instance metadata service",
    });
}

/** What the model says about an intent. Every list empty means the stack is as intended. */
export interface IntentReport {
  /** Intended flows the policies deny. */
  blocked: string[];
  /** Must-not flows the policies allow. */
  leaks: string[];
  /** Intended flows naming a pod the model does not have. */
  missingPods: string[];
  /** Intended flows to a rendered pod on a port no Service forwards to (callers dial Services). */
  noService: string[];
}

function endpointOf(model: ClusterModel, to: FlowSpec["to"]): Endpoint | undefined {
  if ("external" in to) return { external: to.external };
  const pod = model.pods.find((p) => p.id === to.pod);
  return pod ? { pod } : undefined;
}
const describeTo = (to: FlowSpec["to"]) => ("pod" in to ? to.pod : `${to.external.name} (${to.external.ip})`);

export function checkIntent(model: ClusterModel, intent: Intent): IntentReport {
  const report: IntentReport = { blocked: [], leaks: [], missingPods: [], noService: [] };
  const byId = new Map(model.pods.map((p) => [p.id, p]));
  for (const f of intent.intended) {
    const source = byId.get(f.from);
    const target = endpointOf(model, f.to);
    if (!source || !target) {
      report.missingPods.push(
        `${f.from} -> ${describeTo(f.to)}:${f.port} (${f.why}): no pod ${source ? describeTo(f.to) : f.from}`,
      );
      continue;
    }
    if (
      "pod" in target &&
      target.pod.kind !== "chart" &&
      servicesReaching(model, target.pod, f.port, f.protocol).length === 0
    )
      report.noService.push(
        `${f.from} -> ${describeTo(f.to)}:${f.port} (${f.why}): no Service forwards port ${f.port} to it`,
      );
    const verdict = flowVerdict(model, { pod: source }, target, f.port, f.protocol);
    if (!verdict.allowed)
      report.blocked.push(
        `${f.from} -> ${describeTo(f.to)}:${f.port}/${f.protocol} (${f.why}): denied by ${verdict.deniedBy}`,
      );
  }
  for (const m of intent.mustNot) {
    const target = endpointOf(model, m.to);
    if (!target) continue;
    for (const source of model.pods) {
      if (m.allowedFrom.has(source.id) || (m.sources && !m.sources(source))) continue;
      if ("pod" in target && target.pod === source) continue;
      if (flowVerdict(model, { pod: source }, target, m.port).allowed)
        report.leaks.push(`${source.id} -> ${describeTo(m.to)}:${m.port} is allowed (${m.why})`);
    }
  }
  return report;
}
