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
 * engine's port. Catalogs are kept apart there by the stores' security groups, a second gate that
 * analysis/aws-stores.ts models; the must-not set here covers in-cluster data services.
 */
import { OPERATOR_MANIFESTS_METRICS_PORT } from "../components/prometheus-operator";
import { childName, subnetCidr } from "../components/lib";
import { envoyProxyPodLabels, GRAFANA_POD_LABELS, PROMETHEUS_POD_LABELS } from "../components";
import {
  certManagerPodLabels,
  cnpgOperatorPodLabels,
  ENVOY_LISTENER_PORTS,
  gatewayPodLabels,
  monitoringPodLabels,
} from "../components/addon-workloads";
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
const tcpPorts = (...ports: number[]): Pod["ports"] => ports.map((port) => ({ port, protocol: "TCP" }));
export const ENVOY_PROXY = knownPod(
  GATEWAY_NAMESPACE,
  "envoy-proxy",
  envoyProxyPodLabels(GATEWAY_NAME, GATEWAY_NAMESPACE),
  tcpPorts(...ENVOY_LISTENER_PORTS, 19001),
);
export const PROMETHEUS = knownPod(
  MONITORING_NAMESPACE,
  "prometheus",
  { ...PROMETHEUS_POD_LABELS },
  tcpPorts(9090, 8080),
);
export const GRAFANA = knownPod(MONITORING_NAMESPACE, "grafana", { ...GRAFANA_POD_LABELS }, tcpPorts(3000));

/** The ObservabilityStack's name in index.ts: its release name, which the operator's labels carry. */
export const OBSERVABILITY_RELEASE = "observability";
export const CNPG_NAMESPACE = "cnpg-system";
export const CERT_MANAGER_NAMESPACE = "cert-manager";

/** Where the operator serves its metrics: the chart's 10250, or 8080 when installed from its release manifests. */
function operatorMetricsPort(settings: PlatformSettings): number {
  return settings.observability.operatorManifestsPath ? OPERATOR_MANIFESTS_METRICS_PORT : 10250;
}

/** The other chart workloads of the add-on namespaces, by the labels their charts give their pods. */
export function addOnPods(settings: PlatformSettings): Record<string, Pod> {
  const m = monitoringPodLabels(OBSERVABILITY_RELEASE);
  const c = certManagerPodLabels();
  const g = gatewayPodLabels(GATEWAY_NAME, GATEWAY_NAMESPACE);
  return {
    ...(settings.observability.enabled
      ? {
          operator: knownPod(
            MONITORING_NAMESPACE,
            "prometheus-operator",
            m.operator,
            tcpPorts(operatorMetricsPort(settings)),
          ),
          alertmanager: knownPod(MONITORING_NAMESPACE, "alertmanager", m.alertmanager, [
            ...tcpPorts(9093, 9094, 8080),
            { port: 9094, protocol: "UDP" },
          ]),
          kubeStateMetrics: knownPod(
            MONITORING_NAMESPACE,
            "kube-state-metrics",
            m.kubeStateMetrics,
            tcpPorts(8080, 8081),
          ),
          admissionCreate: knownPod(MONITORING_NAMESPACE, "admission-create", m.admissionCreate),
        }
      : {}),
    ...(settings.ingress.enabled
      ? {
          certManager: knownPod(CERT_MANAGER_NAMESPACE, "cert-manager", c.controller, tcpPorts(9402, 9403)),
          certManagerWebhook: knownPod(
            CERT_MANAGER_NAMESPACE,
            "webhook",
            c.webhook,
            tcpPorts(10250, 6080, 9402),
          ),
          cainjector: knownPod(CERT_MANAGER_NAMESPACE, "cainjector", c.cainjector, tcpPorts(9402)),
          startupapicheck: knownPod(CERT_MANAGER_NAMESPACE, "startupapicheck", c.startupapicheck),
          envoyGateway: knownPod(
            GATEWAY_NAMESPACE,
            "envoy-gateway",
            g.controller,
            tcpPorts(18000, 18001, 18002, 19001, 9443),
          ),
          certgen: knownPod(GATEWAY_NAMESPACE, "certgen", g.certgen),
          rateLimit: knownPod(GATEWAY_NAMESPACE, "envoy-ratelimit", g.rateLimit, tcpPorts(8081, 19001)),
          acmeSolver: knownPod(GATEWAY_NAMESPACE, "acme-http01-solver", g.acmeSolver, tcpPorts(8089)),
        }
      : {}),
    ...(cnpgOperatorInstalled(settings)
      ? {
          cnpgOperator: knownPod(
            CNPG_NAMESPACE,
            "cloudnative-pg",
            cnpgOperatorPodLabels(),
            tcpPorts(9443, 8080),
          ),
        }
      : {}),
  };
}

/** index.ts installs the operator where in-cluster PostgreSQL runs on it. */
function cnpgOperatorInstalled(settings: PlatformSettings): boolean {
  return (
    settings.database.operator.enabled &&
    settings.catalogs.some(
      (c) => c.data.postgres && settings.database.backendByCatalog[c.name] === "inCluster",
    )
  );
}

/**
 * The Kubernetes API server as pods see it on EKS: the control plane's interfaces in the cluster's
 * (first private) subnet, on 443. Undefined elsewhere (an existing cluster's API address is not known).
 */
export function apiServerEndpoint(settings: PlatformSettings): ExternalEndpoint | undefined {
  if (settings.cluster.provider !== "aws") return undefined;
  const base = subnetCidr(settings.network.cidr, 3, 0).split("/")[0] ?? "";
  return { ip: base.replace(/\.0$/, ".5"), name: "Kubernetes API server (EKS)" };
}

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
export function dataEndpoint(settings: PlatformSettings, d: PlannedDataService): FlowSpec["to"] {
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
  addOnIntent(intent, plans);
  outsideIntent(intent);
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
    this.addOns = addOnPods(settings);
    this.knownPods = [
      COREDNS,
      ...(this.gateway ? [ENVOY_PROXY] : []),
      ...(this.monitoring ? [PROMETHEUS, GRAFANA] : []),
      ...Object.values(this.addOns),
    ];
  }

  readonly addOns: Record<string, Pod>;

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
 * The add-on namespaces' chart workloads: what each needs (stated here from the charts' documented
 * behaviour, not read from the policies), and who must not reach the API server or the operator's
 * port on the database instances.
 */
function addOnIntent(intent: IntentBuilder, plans: readonly CatalogPlan[]): void {
  const { settings, addOns } = intent;
  const api = apiServerEndpoint(settings);
  const needsApi = new Set<string>();
  const toApi = (pod: Pod | undefined, why: string) => {
    if (!pod) return;
    needsApi.add(pod.id);
    if (api) intent.flow(pod.id, { external: api }, 443, why);
  };
  for (const pod of Object.values(addOns)) intent.dns(pod.id);
  if (intent.monitoring) monitoringIntent(intent, toApi);
  if (intent.gateway) gatewayIntent(intent, toApi);
  if (addOns.cnpgOperator) cnpgOperatorIntent(intent, addOns.cnpgOperator, plans, toApi);
  if (api)
    intent.mustNot.push({
      to: { external: api },
      port: 443,
      allowedFrom: needsApi,
      sources: ours,
      why: "only controllers that need it reach the Kubernetes API server (no application pod, no bootstrap Job)",
    });
}

type ToApi = (pod: Pod | undefined, why: string) => void;

function monitoringIntent(intent: IntentBuilder, toApi: ToApi): void {
  const { settings, addOns: a } = intent;
  for (const p of [PROMETHEUS, GRAFANA]) intent.dns(p.id);
  intent.flow(GRAFANA.id, { pod: PROMETHEUS.id }, 9090, "Grafana queries Prometheus");
  intent.flow(PROMETHEUS.id, { pod: a.alertmanager!.id }, 9093, "Prometheus sends alerts");
  intent.flow(PROMETHEUS.id, { pod: a.kubeStateMetrics!.id }, 8080, "Prometheus scrapes kube-state-metrics");
  intent.flow(
    PROMETHEUS.id,
    { pod: a.operator!.id },
    operatorMetricsPort(settings),
    "Prometheus scrapes the operator",
  );
  toApi(a.operator, "the Prometheus Operator reconciles");
  toApi(PROMETHEUS, "Prometheus discovers its targets");
  toApi(GRAFANA, "Grafana's sidecars load dashboards");
  toApi(a.kubeStateMetrics, "kube-state-metrics watches objects");
  toApi(a.admissionCreate, "the admission hook Job writes its certificate");
  if (settings.observability.alertReceiver !== "none") {
    intent.flow(a.alertmanager!.id, { external: internet("alert receiver") }, 443, "Alertmanager notifies");
    intent.declaredEgress.add(a.alertmanager!.id);
  }
}

function gatewayIntent(intent: IntentBuilder, toApi: ToApi): void {
  const { settings, addOns: a } = intent;
  intent.dns(ENVOY_PROXY.id);
  intent.flow(ENVOY_PROXY.id, { pod: a.envoyGateway!.id }, 18000, "the proxies fetch their configuration");
  intent.flow(ENVOY_PROXY.id, { pod: a.rateLimit!.id }, 8081, "the proxies ask the rate limiter");
  intent.flow(ENVOY_PROXY.id, { pod: a.acmeSolver!.id }, 8089, "ACME HTTP-01 challenges reach the solver");
  intent.flow(
    a.rateLimit!.id,
    { pod: a.envoyGateway!.id },
    18001,
    "the rate limiter fetches its configuration",
  );
  intent.flow(
    a.rateLimit!.id,
    { pod: `${GATEWAY_NAMESPACE}/${GATEWAY_NAME}-ratelimit-redis` },
    6379,
    "counters in Redis",
  );
  if (intent.monitoring) {
    intent.flow(PROMETHEUS.id, { pod: ENVOY_PROXY.id }, 19001, "Prometheus scrapes the proxies");
    intent.flow(PROMETHEUS.id, { pod: a.certManager!.id }, 9402, "Prometheus scrapes cert-manager");
  }
  for (const pod of [
    a.certManager,
    a.certManagerWebhook,
    a.cainjector,
    a.startupapicheck,
    a.envoyGateway,
    a.certgen,
  ])
    toApi(pod, `${pod?.id ?? ""} talks to the API server`);
  if (settings.ingress.tls.issuer === "acme") {
    intent.flow(
      a.certManager!.id,
      { external: internet("ACME server") },
      443,
      "cert-manager orders certificates",
    );
    intent.declaredEgress.add(a.certManager!.id);
  }
  // Nothing but the rate limiter reaches its Redis (the proxies, which never use it, included).
  intent.mustNot.push({
    to: { pod: `${GATEWAY_NAMESPACE}/${GATEWAY_NAME}-ratelimit-redis` },
    port: 6379,
    allowedFrom: new Set([a.rateLimit!.id]),
    why: "only the rate limiter reaches its Redis",
  });
}

function cnpgOperatorIntent(
  intent: IntentBuilder,
  operator: Pod,
  plans: readonly CatalogPlan[],
  toApi: ToApi,
): void {
  const { settings } = intent;
  toApi(operator, "the CloudNativePG operator reconciles");
  for (const plan of plans)
    for (const d of plannedDataServices(settings, plan).filter(
      (x) => x.kind === "postgres" && x.backend === "inCluster",
    )) {
      const server = `${d.namespace}/${d.name}`;
      toApi({ ...operator, id: server }, `${d.name}'s instance manager watches its Cluster`);
      intent.flow(operator.id, { pod: server }, 8000, `the operator asks ${d.name}'s instance manager`);
      intent.mustNot.push({
        to: { pod: server },
        port: 8000,
        allowedFrom: new Set([operator.id]),
        why: `only the CloudNativePG operator (and the instances) reach ${d.name}'s instance manager`,
      });
    }
}

/**
 * kube-system is EKS's (CoreDNS must reach the VPC's resolver and upstream DNS): the platform creates
 * and installs nothing there, so its pods are not judged as sources.
 */
const ours = (p: Pod): boolean => p.namespace !== "kube-system";

/**
 * Outside the cluster: only services that declare an endpoint (not their Jobs, not data servers) and
 * the add-ons that need it (the ACME client, Alertmanager's receiver); nobody, in any namespace, to
 * the node's metadata service.
 */
function outsideIntent(intent: IntentBuilder): void {
  for (const port of [443, 80])
    intent.mustNot.push({
      to: { external: internet("the internet") },
      port,
      allowedFrom: new Set([
        ...intent.declaredEgress,
        ...(port === 80 && intent.addOns.certManager ? [intent.addOns.certManager.id] : []),
      ]),
      sources: ours,
      why: "only pods that declare an external endpoint reach the internet",
    });
  for (const port of [80, 443])
    intent.mustNot.push({
      to: { external: METADATA_SERVICE },
      port,
      allowedFrom: new Set(),
      sources: ours,
      why: "no pod reaches the instance metadata service",
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
    // Callers dial Services; a chart's controller (the CloudNativePG operator) dials pods directly.
    if (
      "pod" in target &&
      target.pod.kind !== "chart" &&
      source.kind !== "chart" &&
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
