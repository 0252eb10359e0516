/**
 * The chart workloads the platform installs, with the flows each needs: the data that
 * `isolateAddOnNamespace` (addon-network.ts) turns into NetworkPolicies. Labels are the charts' own
 * pod selector labels at the pinned versions (kube-prometheus-stack 77, cert-manager 1.18, Envoy
 * Gateway 1.5, CloudNativePG 1.27); ports are the charts' container ports. Every flow says why; the
 * real node proves them (docs/connectivity.md lists them, generated from these tables).
 *
 * Not here: host-network pods (the node exporter), which NetworkPolicy does not govern.
 */
import {
  addOnFlowRows,
  type AddOnFlow,
  type AddOnWorkload,
  type NamespaceSelector,
  toApiServer,
} from "./addon-network";
import { PROMETHEUS_POD_LABELS, selectorLabels } from "./lib";
import { GRAFANA_POD_LABELS } from "./ObservabilityStack";
import { envoyProxyPodLabels } from "./IngressGateway";

const MONITORING = "monitoring";
const tcp = (...ports: number[]) => ports.map((port) => ({ port }));
const fromPrometheus = (ports: number[], why: string): AddOnFlow => ({
  peer: { pods: { ...PROMETHEUS_POD_LABELS }, namespace: MONITORING },
  ports: tcp(...ports),
  why,
});

// ------------------------------------------------------------------------------------------------
// monitoring: kube-prometheus-stack
// ------------------------------------------------------------------------------------------------

/** Pod labels of kube-prometheus-stack's workloads (release `release`, fullnameOverride = release). */
export function monitoringPodLabels(release: string) {
  return {
    operator: { app: "kube-prometheus-stack-operator", release },
    prometheus: { ...PROMETHEUS_POD_LABELS },
    alertmanager: { "app.kubernetes.io/name": "alertmanager" },
    grafana: { ...GRAFANA_POD_LABELS },
    kubeStateMetrics: { "app.kubernetes.io/name": "kube-state-metrics" },
    admissionCreate: { app: "kube-prometheus-stack-admission-create" },
    admissionPatch: { app: "kube-prometheus-stack-admission-patch" },
  };
}

/**
 * kube-prometheus-stack in `namespace`. `alertsLeave`: Alertmanager has a receiver outside the
 * cluster (Slack, PagerDuty), reached on public 443.
 */
export function monitoringWorkloads(
  release: string,
  namespace: string,
  alertsLeave: boolean,
  /** Where the operator serves its metrics: the chart's 10250 (https), or 8080 from its release manifests. */
  operatorMetricsPort = 10250,
): AddOnWorkload[] {
  const l = monitoringPodLabels(release);
  const own = (pods: Record<string, string>) => ({ pods, namespace });
  return [
    {
      name: "prometheus-operator",
      podLabels: l.operator,
      ingress: [
        {
          peer: { apiServer: true },
          ports: tcp(10250),
          why: "the API server calls the operator's admission webhook (PrometheusRule validation) on 10250",
        },
        fromPrometheus(
          [operatorMetricsPort],
          `Prometheus scrapes the operator's metrics (${operatorMetricsPort === 10250 ? "https, 10250" : operatorMetricsPort})`,
        ),
      ],
      egress: [toApiServer("watches and writes the monitoring custom resources, StatefulSets and Secrets")],
    },
    {
      name: "prometheus",
      podLabels: l.prometheus,
      ingress: [
        { peer: own(l.grafana), ports: tcp(9090), why: "Grafana queries Prometheus (its data source)" },
        fromPrometheus(
          [9090, 8080],
          "Prometheus replicas scrape each other (9090) and the config reloader (8080)",
        ),
      ],
      egress: [
        toApiServer("service discovery of scrape targets (Endpoints, Pods) and the API server's own metrics"),
        {
          peer: { namespaces: {} },
          ports: [],
          why: "scrapes what the ServiceMonitors and PodMonitors name, in any namespace and on their metrics ports; each target's own ingress policy decides",
        },
        {
          peer: { nodes: true },
          ports: tcp(10250, 9100),
          why: "scrapes the kubelets and cAdvisor (10250) and the host-network node exporter (9100)",
        },
      ],
    },
    alertmanagerWorkload(l, own, alertsLeave),
    {
      name: "grafana",
      podLabels: l.grafana,
      ingress: [fromPrometheus([3000], "Prometheus scrapes Grafana's metrics")],
      egress: [
        { peer: own(l.prometheus), ports: tcp(9090), why: "queries its Prometheus data source" },
        { peer: own(l.alertmanager), ports: tcp(9093), why: "its Alertmanager data source" },
        toApiServer("the sidecars load dashboards and data sources from ConfigMaps and Secrets"),
      ],
    },
    {
      name: "kube-state-metrics",
      podLabels: l.kubeStateMetrics,
      ingress: [
        fromPrometheus([8080, 8081], "Prometheus scrapes object metrics (8080) and self-metrics (8081)"),
      ],
      egress: [toApiServer("lists and watches the objects it reports on")],
    },
    ...(["admissionCreate", "admissionPatch"] as const).map((job) => ({
      name: job === "admissionCreate" ? "admission-create" : "admission-patch",
      podLabels: l[job],
      ingress: [],
      egress: [toApiServer("the chart's hook Job writes the webhook's certificate Secret and CA bundle")],
    })),
  ];
}

/** Alertmanager: alerts in from Prometheus, gossip among replicas, and out to the receiver when there is one. */
function alertmanagerWorkload(
  l: ReturnType<typeof monitoringPodLabels>,
  own: (pods: Record<string, string>) => { pods: Record<string, string>; namespace: string },
  alertsLeave: boolean,
): AddOnWorkload {
  return {
    name: "alertmanager",
    podLabels: l.alertmanager,
    ingress: [
      fromPrometheus(
        [9093, 8080],
        "Prometheus sends alerts (9093) and scrapes Alertmanager and its reloader (8080)",
      ),
      { peer: own(l.grafana), ports: tcp(9093), why: "Grafana's Alertmanager data source" },
      {
        peer: own(l.alertmanager),
        ports: [{ port: 9094 }, { port: 9094, protocol: "UDP" }],
        why: "replicas gossip (cluster port 9094)",
      },
    ],
    egress: [
      {
        peer: own(l.alertmanager),
        ports: [{ port: 9094 }, { port: 9094, protocol: "UDP" }],
        why: "replicas gossip (cluster port 9094)",
      },
      ...(alertsLeave
        ? [
            {
              peer: { internet: true as const, hosts: ["alert-receiver-webhook"] },
              ports: tcp(443),
              why: "delivers notifications to the receiver's webhook (Slack or PagerDuty, HTTPS)",
            },
          ]
        : []),
    ],
  };
}

// ------------------------------------------------------------------------------------------------
// cert-manager
// ------------------------------------------------------------------------------------------------

export function certManagerPodLabels() {
  const l = (name: string, component: string) => ({
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/component": component,
  });
  return {
    controller: l("cert-manager", "controller"),
    webhook: l("webhook", "webhook"),
    cainjector: l("cainjector", "cainjector"),
    startupapicheck: l("startupapicheck", "startupapicheck"),
  };
}

/**
 * cert-manager. `acmeHostnames`: the ClusterIssuer is ACME (Let's Encrypt, public 443) for these
 * hostnames, whose HTTP-01 challenges the controller checks through the public load balancer (80).
 */
export function certManagerWorkloads(acmeHostnames: readonly string[] | undefined): AddOnWorkload[] {
  const acme = acmeHostnames !== undefined;
  const l = certManagerPodLabels();
  return [
    {
      name: "cert-manager-controller",
      podLabels: l.controller,
      ingress: [fromPrometheus([9402], "Prometheus scrapes the controller's metrics")],
      egress: [
        toApiServer("reconciles Certificates, Orders and Challenges and writes the TLS Secrets"),
        ...(acme
          ? [
              {
                peer: { internet: true as const, hosts: ["acme-v02.api.letsencrypt.org"] },
                ports: tcp(443),
                why: "the ACME server (Let's Encrypt): account, orders, finalisation",
              },
              {
                peer: { internet: true as const, hosts: [...(acmeHostnames ?? [])] },
                ports: tcp(80),
                why: "the HTTP-01 self-check fetches the challenge through the public load balancer",
              },
            ]
          : []),
      ],
    },
    {
      name: "cert-manager-webhook",
      podLabels: l.webhook,
      ingress: [
        {
          peer: { apiServer: true },
          ports: tcp(10250),
          why: "the API server calls the validating and mutating webhooks on 10250",
        },
        fromPrometheus([9402], "Prometheus scrapes the webhook's metrics"),
      ],
      egress: [toApiServer("reads its configuration and serving certificate")],
    },
    {
      name: "cert-manager-cainjector",
      podLabels: l.cainjector,
      ingress: [fromPrometheus([9402], "Prometheus scrapes the CA injector's metrics")],
      egress: [toApiServer("injects CA bundles into webhook configurations and CRDs")],
    },
    {
      name: "cert-manager-startupapicheck",
      podLabels: l.startupapicheck,
      ingress: [],
      egress: [toApiServer("the post-install Job checks that the webhook answers through the API server")],
    },
  ];
}

// ------------------------------------------------------------------------------------------------
// envoy-gateway-system: Envoy Gateway, its proxies and rate limiter
// ------------------------------------------------------------------------------------------------

/** Pod labels of Envoy Gateway's workloads (release `envoy-gateway`) and of the Gateway's proxies. */
export function gatewayPodLabels(gatewayName: string, namespace: string) {
  return {
    controller: { "app.kubernetes.io/name": "gateway-helm", "app.kubernetes.io/instance": "envoy-gateway" },
    certgen: { app: "certgen" },
    proxy: envoyProxyPodLabels(gatewayName, namespace),
    rateLimit: { "app.kubernetes.io/name": "envoy-ratelimit" },
    acmeSolver: { "acme.cert-manager.io/http01-solver": "true" },
  };
}

/** The listener ports of the proxies: Envoy Gateway adds 10000 to privileged Gateway ports (80, 443). */
export const ENVOY_LISTENER_PORTS = [10080, 10443] as const;

/**
 * Envoy Gateway in `namespace`: the controller, the proxies of Gateway `gatewayName`, the global rate
 * limiter (with its Redis `redisName`) and cert-manager's HTTP-01 solver pods. `routeNamespaces`: the
 * namespaces whose routes the Gateway admits (the proxies' upstreams).
 */
export function gatewayWorkloads(
  gatewayName: string,
  namespace: string,
  routeNamespaces: NamespaceSelector,
  redisName: string | undefined,
): AddOnWorkload[] {
  const l = gatewayPodLabels(gatewayName, namespace);
  return [
    {
      name: "envoy-gateway",
      podLabels: l.controller,
      ingress: [
        {
          peer: { pods: l.proxy },
          ports: tcp(18000),
          why: "the proxies fetch their configuration (xDS, 18000)",
        },
        ...(redisName
          ? [
              {
                peer: { pods: l.rateLimit },
                ports: tcp(18001),
                why: "the rate limiter fetches its configuration (xDS, 18001)",
              },
            ]
          : []),
        {
          peer: { apiServer: true },
          ports: tcp(9443),
          why: "the API server calls the proxy topology injector webhook (9443)",
        },
        fromPrometheus([19001], "Prometheus scrapes the controller's metrics"),
      ],
      egress: [
        toApiServer("reconciles Gateway API resources and creates the proxies' Deployments and Services"),
      ],
    },
    {
      name: "envoy-gateway-certgen",
      podLabels: l.certgen,
      ingress: [],
      egress: [toApiServer("the install hook Job writes the control plane's certificate Secrets")],
    },
    proxyWorkload(l, routeNamespaces, redisName !== undefined),
    ...(redisName
      ? [
          {
            name: "envoy-ratelimit",
            podLabels: l.rateLimit,
            ingress: [
              { peer: { pods: l.proxy }, ports: tcp(8081), why: "the proxies ask for rate-limit decisions" },
              fromPrometheus([19001], "Prometheus scrapes the rate limiter's metrics"),
            ],
            egress: [
              {
                peer: { pods: l.controller },
                ports: tcp(18001),
                why: "fetches its configuration from Envoy Gateway (xDS)",
              },
              {
                peer: { pods: selectorLabels(redisName) },
                ports: tcp(6379),
                why: "keeps the per-client counters in the rate limiter's Redis",
              },
            ],
          },
        ]
      : []),
    {
      name: "acme-http01-solver",
      podLabels: l.acmeSolver,
      ingress: [
        {
          peer: { pods: l.proxy },
          ports: tcp(8089),
          why: "the proxies forward the ACME server's challenge request",
        },
      ],
      egress: [],
    },
  ];
}

/** The Gateway's Envoy proxies: the public listeners in; configuration, rate limits, solvers and routed services out. */
function proxyWorkload(
  l: ReturnType<typeof gatewayPodLabels>,
  routeNamespaces: NamespaceSelector,
  rateLimiting: boolean,
): AddOnWorkload {
  return {
    name: "envoy-proxy",
    podLabels: l.proxy,
    ingress: [
      {
        peer: { anywhere: true },
        ports: tcp(...ENVOY_LISTENER_PORTS),
        why: "the public listeners (HTTP 80 and HTTPS 443 on the load balancer)",
      },
      fromPrometheus([19001], "Prometheus scrapes the proxies' statistics"),
    ],
    egress: [
      {
        peer: { pods: l.controller },
        ports: tcp(18000),
        why: "fetches its configuration from Envoy Gateway (xDS)",
      },
      ...(rateLimiting
        ? [
            {
              peer: { pods: l.rateLimit },
              ports: tcp(8081),
              why: "asks the global rate limiter (gRPC, 8081)",
            },
          ]
        : []),
      {
        peer: { pods: l.acmeSolver },
        ports: tcp(8089),
        why: "routes ACME HTTP-01 challenges to cert-manager's solver pods",
      },
      {
        peer: { namespaces: routeNamespaces },
        ports: [],
        why: "forwards to the routed services and fetches JWKS, in the namespaces whose routes the Gateway admits; each service's ingress admits the proxies on its own port",
      },
    ],
  };
}

// ------------------------------------------------------------------------------------------------
// cnpg-system: the CloudNativePG operator
// ------------------------------------------------------------------------------------------------

export function cnpgOperatorPodLabels() {
  return { "app.kubernetes.io/name": "cloudnative-pg" };
}

/** Labels CloudNativePG puts on every instance pod of every Cluster. */
export const CNPG_INSTANCE_POD_LABELS: Readonly<Record<string, string>> = { "cnpg.io/podRole": "instance" };

/** The CloudNativePG operator's status port on the instances (instance manager). */
export const CNPG_INSTANCE_STATUS_PORT = 8000;

export function cnpgOperatorWorkloads(): AddOnWorkload[] {
  return [
    {
      name: "cloudnative-pg",
      podLabels: cnpgOperatorPodLabels(),
      ingress: [
        {
          peer: { apiServer: true },
          ports: tcp(9443),
          why: "the API server calls the operator's mutating and validating webhooks (9443)",
        },
        fromPrometheus([8080], "Prometheus scrapes the operator's metrics"),
      ],
      egress: [
        toApiServer("reconciles Clusters, Backups and their Pods, Services, Secrets and Jobs"),
        {
          peer: { pods: { ...CNPG_INSTANCE_POD_LABELS }, namespace: "*" },
          ports: tcp(CNPG_INSTANCE_STATUS_PORT),
          why: "asks each instance manager for its status (8000) to pick the primary and run switchovers",
        },
      ],
    },
  ];
}

/**
 * Every add-on flow as a Markdown table (docs/connectivity.md holds it; test/addon-network.test.ts
 * keeps the two equal), for a stack with an ACME issuer, an alert receiver and the rate limiter.
 */
export function addOnFlowTable(): string {
  const header = [
    "| namespace | workload | dir | peer | ports | why |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  return [
    ...header,
    ...addOnFlowRows("monitoring", monitoringWorkloads("observability", "monitoring", true)),
    ...addOnFlowRows("cert-manager", certManagerWorkloads(["<public hostnames>"])),
    ...addOnFlowRows(
      "envoy-gateway-system",
      gatewayWorkloads(
        "gateway",
        "envoy-gateway-system",
        { matchLabels: { "<platform label>": "<any>" } },
        "gateway-ratelimit-redis",
      ),
    ),
    ...addOnFlowRows("cnpg-system", cnpgOperatorWorkloads()),
  ].join("\n");
}
