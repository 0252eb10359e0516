/**
 * The one place that knows metric names and how a service's series are selected. Alert rules
 * (`monitoring-rules.ts`) and dashboards (`dashboards.ts`) build every PromQL expression from here, so
 * a renamed metric or label changes both at once.
 *
 * How a service is identified in PromQL:
 * - Application metrics (scraped through the service's ServiceMonitor) carry the pod's selector
 *   labels, copied onto every series by the ServiceMonitor's `podTargetLabels` and sanitised the way
 *   Prometheus sanitises label names (`app.kubernetes.io/name` → `app_kubernetes_io_name`).
 * - Container metrics (cAdvisor through the kubelet, kube-state-metrics) know only namespace, pod and
 *   container, so they are joined with `kube_pod_labels`, where kube-state-metrics publishes the
 *   allow-listed pod labels as `label_<sanitised name>`. ObservabilityStack allow-lists exactly
 *   {@link POD_IDENTITY_LABEL_KEYS}.
 * Either way the match is on the same pod labels the Service selects by, never on generated object
 * names, so it holds however a workload's pods or Service are named.
 */
import { LABEL, type ContainerResources } from "./lib";

/** The wire protocol a service speaks; it decides which request metrics it exports. */
export type ServiceProtocol = "http" | "grpc";

/** Request metrics per protocol: what the service's own instrumentation exports. */
export interface RequestMetrics {
  /** Counter of finished requests. */
  requestsTotal: string;
  /** Label on `requestsTotal` carrying the outcome. */
  outcomeLabel: string;
  /** Regular expression over `outcomeLabel` for outcomes that count as server errors. */
  errorOutcomes: string;
  /** Histogram bucket series of request duration in seconds. */
  durationBucket: string;
}

export const REQUEST_METRICS: Readonly<Record<ServiceProtocol, RequestMetrics>> = {
  http: {
    requestsTotal: "http_requests_total",
    outcomeLabel: "status",
    // 5xx are the server's fault; 4xx are the caller's and do not count against the service.
    errorOutcomes: "5..",
    durationBucket: "http_request_duration_seconds_bucket",
  },
  grpc: {
    requestsTotal: "grpc_server_handled_total",
    outcomeLabel: "grpc_code",
    // The gRPC codes a server returns for its own failures (the 5xx of gRPC); client-side codes
    // such as InvalidArgument, NotFound or PermissionDenied are excluded.
    errorOutcomes: "Unknown|DeadlineExceeded|Unimplemented|Internal|Unavailable|DataLoss",
    durationBucket: "grpc_server_handling_seconds_bucket",
  },
};

/** Container metrics from cAdvisor (through the kubelet) and kube-state-metrics. */
export const CONTAINER_METRICS = {
  cpuSecondsTotal: "container_cpu_usage_seconds_total",
  memoryWorkingSetBytes: "container_memory_working_set_bytes",
  restartsTotal: "kube_pod_container_status_restarts_total",
  resourceLimits: "kube_pod_container_resource_limits",
  resourceRequests: "kube_pod_container_resource_requests",
  podLabels: "kube_pod_labels",
} as const;

/**
 * Pod labels kube-state-metrics publishes on `kube_pod_labels` (its `metricLabelsAllowlist`), and
 * therefore the only keys a monitored service's selector labels may use.
 */
export const POD_IDENTITY_LABEL_KEYS: readonly string[] = [LABEL.name, LABEL.instance];

/** Rate window for request and CPU rates: long enough for 15 s scrapes to give 20 samples. */
export const RATE_WINDOW = "5m";

/** A service as monitoring sees it: where it runs, what it speaks and how its pods are labelled. */
export interface MonitoredService {
  /** Service name, e.g. `order-service`. */
  serviceName: string;
  /** Namespace the service runs in, e.g. `ecommerce`. */
  namespace: string;
  /** Platform (catalog) the service belongs to, e.g. `ecommerce`. */
  platform: string;
  protocol: ServiceProtocol;
  /** The labels the service's Kubernetes Service selects its pods by (keys from {@link POD_IDENTITY_LABEL_KEYS}). */
  selectorLabels: Record<string, string>;
  /** Container requests and limits, drawn as reference lines on saturation panels. */
  resources?: ContainerResources;
}

/** Prometheus' label-name sanitising: every character outside [a-zA-Z0-9_] becomes `_`. */
export function promLabelName(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, "_");
}

/** A PromQL string literal (double-quoted, escaped). */
export function promString(value: string): string {
  return JSON.stringify(value);
}

/** Renders matchers `k="v"` / `k=~"v"` / `k!="v"` into a selector body. */
function matchers(list: [string, "=" | "=~" | "!=", string][]): string {
  return list.map(([k, op, v]) => `${k}${op}${promString(v)}`).join(",");
}

function namespaceMatcher(s: MonitoredService): [string, "=", string] {
  return ["namespace", "=", s.namespace];
}

/** Selector over the service's own (application) series: namespace plus its pod labels. */
export function appSelector(s: MonitoredService, extra: [string, "=" | "=~" | "!=", string][] = []): string {
  const identity = Object.entries(s.selectorLabels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]): [string, "=", string] => [promLabelName(k), "=", v]);
  return `{${matchers([namespaceMatcher(s), ...identity, ...extra])}}`;
}

/** Selector for container series in the service's namespace (real containers only, no pod sandbox). */
export function containerSelector(
  s: MonitoredService,
  extra: [string, "=" | "=~" | "!=", string][] = [],
): string {
  return `{${matchers([namespaceMatcher(s), ["container", "!=", ""], ["container", "!=", "POD"], ...extra])}}`;
}

/** One series per pod of the service, value 1: the right-hand side that restricts a per-pod vector to the service. */
export function servicePods(s: MonitoredService): string {
  const identity = Object.entries(s.selectorLabels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]): [string, "=", string] => [`label_${promLabelName(k)}`, "=", v]);
  return `max by (namespace, pod) (${CONTAINER_METRICS.podLabels}{${matchers([namespaceMatcher(s), ...identity])}})`;
}

/** Restricts a vector labelled by (namespace, pod) to the service's pods, keeping the left side's labels. */
export function onServicePods(s: MonitoredService, perPod: string): string {
  return `(${perPod}) * on (namespace, pod) group_left () ${servicePods(s)}`;
}

/** Requests per second, summed over the service. */
export function trafficQuery(s: MonitoredService): string {
  const m = REQUEST_METRICS[s.protocol];
  return `sum(rate(${m.requestsTotal}${appSelector(s)}[${RATE_WINDOW}]))`;
}

/**
 * Share of requests that failed on the server side (0..1): 0 while requests succeed (a service that
 * never failed has no error series at all), empty while there is no traffic.
 */
export function errorRatioQuery(s: MonitoredService): string {
  const m = REQUEST_METRICS[s.protocol];
  return (
    `(sum(rate(${m.requestsTotal}${appSelector(s, [[m.outcomeLabel, "=~", m.errorOutcomes]])}[${RATE_WINDOW}])) or vector(0))` +
    ` / sum(rate(${m.requestsTotal}${appSelector(s)}[${RATE_WINDOW}]))`
  );
}

/** Latency quantile in seconds (e.g. 0.95 for p95) over the service's duration histogram. */
export function latencyQuantileQuery(s: MonitoredService, quantile: number): string {
  const m = REQUEST_METRICS[s.protocol];
  return `histogram_quantile(${quantile}, sum by (le) (rate(${m.durationBucket}${appSelector(s)}[${RATE_WINDOW}])))`;
}

/** CPU cores used per pod of the service. */
export function cpuUsagePerPodQuery(s: MonitoredService): string {
  return onServicePods(
    s,
    `sum by (namespace, pod) (rate(${CONTAINER_METRICS.cpuSecondsTotal}${containerSelector(s)}[${RATE_WINDOW}]))`,
  );
}

/** Memory working set in bytes per pod of the service. */
export function memoryUsagePerPodQuery(s: MonitoredService): string {
  return onServicePods(
    s,
    `sum by (namespace, pod) (${CONTAINER_METRICS.memoryWorkingSetBytes}${containerSelector(s)})`,
  );
}

/** Requests or limits (cores / bytes) per pod of the service, as kube-state-metrics reports them. */
export function resourcePerPodQuery(
  s: MonitoredService,
  kind: "requests" | "limits",
  resource: "cpu" | "memory",
): string {
  const metric = kind === "limits" ? CONTAINER_METRICS.resourceLimits : CONTAINER_METRICS.resourceRequests;
  return onServicePods(
    s,
    `sum by (namespace, pod) (${metric}{${matchers([namespaceMatcher(s), ["resource", "=", resource]])}})`,
  );
}

/** Usage as a share of the limit per pod (0..1): the saturation signal. */
export function saturationPerPodQuery(s: MonitoredService, resource: "cpu" | "memory"): string {
  const usage =
    resource === "cpu"
      ? `sum by (namespace, pod) (rate(${CONTAINER_METRICS.cpuSecondsTotal}${containerSelector(s)}[${RATE_WINDOW}]))`
      : `sum by (namespace, pod) (${CONTAINER_METRICS.memoryWorkingSetBytes}${containerSelector(s)})`;
  const limit = `sum by (namespace, pod) (${CONTAINER_METRICS.resourceLimits}{${matchers([namespaceMatcher(s), ["resource", "=", resource]])}})`;
  return onServicePods(s, `${usage} / ${limit}`);
}

/** Container restarts per pod of the service over `window` (a PromQL duration such as `1h`). */
export function restartsPerPodQuery(s: MonitoredService, window: string): string {
  return onServicePods(
    s,
    `sum by (namespace, pod) (increase(${CONTAINER_METRICS.restartsTotal}{${matchers([namespaceMatcher(s)])}}[${window}]))`,
  );
}

/** Container restarts of all the service's pods together over `window`. */
export function restartsQuery(s: MonitoredService, window: string): string {
  return `sum(${restartsPerPodQuery(s, window)})`;
}
