/**
 * Monitoring on the real node, judged by Prometheus and Alertmanager themselves (built from their
 * modules at the versions staging and production run, installed by prometheus-operator from the
 * objects ObservabilityStack creates):
 *
 *  1. every scrape target the stack's ServiceMonitors and PodMonitors select is UP: the expected list
 *     comes from the cluster (each monitor's selected Services and their ready endpoints), the actual
 *     one from Prometheus' /api/v1/targets; none down, none missing; the time until all are up;
 *  2. every PrometheusRule group is loaded, and no rule has an evaluation error;
 *  3. an alert fires and is delivered: a stand-in service is scaled to zero, its ServiceDown alert
 *     fires within its `for` plus two scrape intervals and one evaluation, Alertmanager delivers it
 *     through the stack's own route to the alert sink (the local stand-in for the pager), and the
 *     resolution follows once the service is back. The latencies are printed.
 *
 * Queries go through the alert sink's pod (the stand-in's `scrape`), from the monitoring namespace,
 * so they take the same path a dashboard would.
 */
import { spawnSync } from "node:child_process";
import { check, kubectl, seconds, tryKubectl } from "./lib/checks";

export const MONITORING_NAMESPACE = "monitoring";
const STACK = "observability";
const PROMETHEUS = `http://${STACK}-prometheus.${MONITORING_NAMESPACE}.svc:9090`;
const SINK = "alert-sink";
/** What the local stack's `platform:alertWebhookUrl` names (Pulumi.local.yaml). */
export const ALERT_SINK_URL = `http://${SINK}.${MONITORING_NAMESPACE}.svc.cluster.local:8080/alerts`;

/** Labels prometheus-operator puts on the pods it runs. */
const PROMETHEUS_POD = { "app.kubernetes.io/name": "prometheus" };
const ALERTMANAGER_POD = { "app.kubernetes.io/name": "alertmanager" };

const sleep = (s: number) => spawnSync("sleep", [String(s)]);

/** Polls `fn` every `everySeconds` until it returns a value or `timeoutSeconds` pass. */
function waitFor<T>(timeoutSeconds: number, everySeconds: number, fn: () => T | undefined): T | undefined {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    sleep(everySeconds);
  }
}

/** The alert sink: the stand-in's `alert-sink` mode, a Deployment and Service in the monitoring namespace. */
export function deployAlertSink(image: string): void {
  const labels = { "app.kubernetes.io/name": SINK };
  const objects = [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: SINK, namespace: MONITORING_NAMESPACE, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "sink",
                image,
                imagePullPolicy: "IfNotPresent",
                command: ["/usr/local/bin/standin", "alert-sink", "-listen", ":8080"],
                ports: [{ name: "http", containerPort: 8080 }],
                readinessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 2 },
                resources: {
                  requests: { cpu: "10m", memory: "16Mi" },
                  limits: { cpu: "200m", memory: "64Mi" },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: SINK, namespace: MONITORING_NAMESPACE, labels },
      spec: { selector: labels, ports: [{ name: "http", port: 8080, targetPort: 8080 }] },
    },
    // The sink states its own flows (NetworkPolicies are additive), as a paging service outside the
    // cluster would be reached through the stack's egress: Alertmanager in, Prometheus' API out.
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: SINK, namespace: MONITORING_NAMESPACE, labels },
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: { matchLabels: ALERTMANAGER_POD } }], ports: [{ port: 8080 }] }],
        egress: [
          { to: [{ podSelector: { matchLabels: PROMETHEUS_POD } }], ports: [{ port: 9090 }] },
          {
            to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
            ports: [
              { port: 53, protocol: "UDP" },
              { port: 53, protocol: "TCP" },
            ],
          },
        ],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `prometheus-from-${SINK}`, namespace: MONITORING_NAMESPACE, labels },
      spec: {
        podSelector: { matchLabels: PROMETHEUS_POD },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: { matchLabels: labels } }], ports: [{ port: 9090 }] }],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${SINK}-from-alertmanager`, namespace: MONITORING_NAMESPACE, labels },
      spec: {
        podSelector: { matchLabels: ALERTMANAGER_POD },
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: { matchLabels: labels } }], ports: [{ port: 8080 }] }],
      },
    },
  ];
  kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  const ready = tryKubectl([
    "-n",
    MONITORING_NAMESPACE,
    "rollout",
    "status",
    `deployment/${SINK}`,
    "--timeout=120s",
  ]);
  check("the alert sink is running", ready.ok, ready.out.split("\n").pop());
}

export function removeAlertSink(): void {
  tryKubectl([
    "-n",
    MONITORING_NAMESPACE,
    "delete",
    "deployment,service",
    SINK,
    "--ignore-not-found",
    "--wait=true",
  ]);
}

/** GET a URL from inside the monitoring namespace (the sink's pod), as text. */
function fetchFromCluster(url: string): string | undefined {
  const r = tryKubectl([
    "-n",
    MONITORING_NAMESPACE,
    "exec",
    `deployment/${SINK}`,
    "--",
    "/usr/local/bin/standin",
    "scrape",
    url,
  ]);
  return r.ok ? r.out : undefined;
}

function prometheusApi<T>(path: string): T | undefined {
  const text = fetchFromCluster(`${PROMETHEUS}${path}`);
  if (!text) return undefined;
  const body = JSON.parse(text) as { status: string; data: T };
  return body.status === "success" ? body.data : undefined;
}

/**
 * Prometheus and Alertmanager, as the operator made them from our resources, are running. On failure
 * prints what says why (the operator's pod, its warnings, the resources' conditions, the namespace's
 * events) and returns false: the checks that need the servers are then reported as not run.
 */
export function checkServersRunning(): boolean {
  let running = true;
  for (const sts of [`prometheus-${STACK}-prometheus`, `alertmanager-${STACK}-alertmanager`]) {
    const appeared = waitFor(180, 3, () =>
      tryKubectl(["-n", MONITORING_NAMESPACE, "get", "statefulset", sts]).ok ? true : undefined,
    );
    const ready = appeared
      ? tryKubectl(["-n", MONITORING_NAMESPACE, "rollout", "status", `statefulset/${sts}`, "--timeout=300s"])
      : { ok: false, out: "the operator made no StatefulSet in 180 s" };
    running = check(`prometheus-operator runs ${sts}`, ready.ok, ready.out.split("\n").pop()) && running;
  }
  if (!running) printOperatorDiagnostics();
  return running;
}

/** The checks that need a running Prometheus, reported as failed without waiting for it. */
export function reportNotRun(checks: readonly string[]): void {
  for (const name of checks) check(name, false, "not run: Prometheus and Alertmanager are not running");
}

function printOperatorDiagnostics(): void {
  const show = (title: string, args: string[]) => {
    const r = tryKubectl(["-n", MONITORING_NAMESPACE, ...args]);
    console.log(`    --- ${title}\n${r.out.replace(/^/gm, "    | ")}`);
  };
  show("pods", ["get", "pods", "-o", "wide"]);
  const logs = tryKubectl([
    "-n",
    MONITORING_NAMESPACE,
    "logs",
    "deployment/prometheus-operator",
    "--tail=2000",
  ]);
  const warnings = logs.out.split("\n").filter((l) => !/level=info/i.test(l));
  console.log(
    `    --- the operator's warnings and errors (last 40)\n${warnings.slice(-40).join("\n").replace(/^/gm, "    | ")}`,
  );
  show("Prometheus and Alertmanager resources", [
    "get",
    "prometheuses,alertmanagers",
    "-o",
    'jsonpath={range .items[*]}{.kind}/{.metadata.name}: {.status.conditions}{"\\n"}{end}',
  ]);
  show("events", ["get", "events", "--sort-by=.lastTimestamp"]);
}

interface Monitor {
  kind: "ServiceMonitor" | "PodMonitor";
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: {
    selector: { matchLabels?: Record<string, string> };
    endpoints?: unknown[];
    podMetricsEndpoints?: unknown[];
    namespaceSelector?: { matchNames?: string[] };
  };
}
interface Target {
  scrapePool: string;
  scrapeUrl: string;
  health: "up" | "down" | "unknown";
  lastError: string;
}

const selectorArg = (labels: Record<string, string> = {}) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

/** Targets each monitor should have: one per endpoint entry and ready pod it selects. */
function expectedTargets(monitor: Monitor): number {
  const namespaces = monitor.spec.namespaceSelector?.matchNames ?? [monitor.metadata.namespace];
  let pods = 0;
  for (const ns of namespaces) {
    const selector = selectorArg(monitor.spec.selector.matchLabels);
    if (monitor.kind === "PodMonitor") {
      const list = JSON.parse(kubectl(["-n", ns, "get", "pods", "-l", selector, "-o", "json"])) as {
        items: { status?: { phase?: string } }[];
      };
      pods += list.items.filter((p) => p.status?.phase === "Running").length;
      continue;
    }
    const services = JSON.parse(kubectl(["-n", ns, "get", "services", "-l", selector, "-o", "json"])) as {
      items: { spec: { selector?: Record<string, string> } }[];
    };
    for (const service of services.items) {
      const podList = JSON.parse(
        kubectl(["-n", ns, "get", "pods", "-l", selectorArg(service.spec.selector), "-o", "json"]),
      ) as { items: { status?: { phase?: string } }[] };
      pods += podList.items.filter((p) => p.status?.phase === "Running").length;
    }
  }
  const endpoints = (monitor.spec.endpoints ?? monitor.spec.podMetricsEndpoints ?? []).length;
  return pods * endpoints;
}

/** Every monitor's targets are UP: none down, none missing. Returns seconds until all were up. */
export function checkTargetsUp(
  selectorLabels: Record<string, string>,
  catalogNamespaces: readonly string[],
): void {
  const started = Date.now();
  const monitors = ["servicemonitors", "podmonitors"].flatMap(
    (kind) =>
      (
        JSON.parse(
          kubectl(["get", kind, "--all-namespaces", "-l", selectorArg(selectorLabels), "-o", "json"]),
        ) as { items: Monitor[] }
      ).items,
  );
  check(
    "the stack's monitors exist in every catalog namespace",
    catalogNamespaces.every((ns) => monitors.some((m) => m.metadata.namespace === ns)),
    `${monitors.length} monitors`,
  );
  let report: { missing: string[]; down: string[]; total: number } = { missing: [], down: [], total: 0 };
  const settled = waitFor(240, 5, () => {
    const data = prometheusApi<{ activeTargets: Target[] }>("/api/v1/targets?state=active");
    if (!data) return undefined;
    const missing: string[] = [];
    const down: string[] = [];
    let total = 0;
    for (const monitor of monitors) {
      const pool = `${monitor.kind === "ServiceMonitor" ? "serviceMonitor" : "podMonitor"}/${monitor.metadata.namespace}/${monitor.metadata.name}/`;
      const targets = data.activeTargets.filter((t) => t.scrapePool.startsWith(pool));
      const want = expectedTargets(monitor);
      total += want;
      if (targets.length < want)
        missing.push(`${monitor.metadata.namespace}/${monitor.metadata.name}: ${targets.length} of ${want}`);
      for (const t of targets.filter((t) => t.health !== "up"))
        down.push(`${t.scrapeUrl} (${t.health}${t.lastError ? `: ${t.lastError}` : ""})`);
    }
    report = { missing, down, total };
    return missing.length === 0 && down.length === 0 && total > 0 ? report : undefined;
  });
  check(
    `every target of the stack's ${monitors.length} monitors is UP (${report.total} targets)`,
    settled !== undefined,
    settled
      ? `all up ${seconds(Date.now() - started)} s after the check began`
      : [...report.missing.map((m) => `missing ${m}`), ...report.down.map((d) => `down ${d}`)]
          .slice(0, 6)
          .join("; "),
  );
}

interface RuleGroup {
  name: string;
  file: string;
  rules: { name: string; health: string; lastError?: string; state?: string }[];
}

/** Every PrometheusRule group is loaded and no rule has an evaluation error. */
export function checkRulesLoaded(selectorLabels: Record<string, string>): void {
  const objects = JSON.parse(
    kubectl(["get", "prometheusrules", "--all-namespaces", "-l", selectorArg(selectorLabels), "-o", "json"]),
  ) as { items: { spec: { groups: { name: string; rules: unknown[] }[] } }[] };
  const want = objects.items.flatMap((o) => o.spec.groups);
  const wantRules = want.reduce((n, g) => n + g.rules.length, 0);
  // Rules are evaluated every evaluation interval; wait until each has been evaluated at least once.
  const loaded = waitFor(120, 5, () => {
    const data = prometheusApi<{ groups: RuleGroup[] }>("/api/v1/rules");
    if (!data) return undefined;
    const rules = data.groups.flatMap((g) => g.rules);
    return rules.length >= wantRules && rules.every((r) => r.health !== "unknown") ? data.groups : undefined;
  });
  const groups = loaded ?? [];
  const rules = groups.flatMap((g) => g.rules);
  check(
    `all ${want.length} rule groups (${wantRules} rules) of the stack's PrometheusRules are loaded`,
    want.every((g) => groups.some((l) => l.name === g.name)) && rules.length === wantRules,
    `${groups.length} groups, ${rules.length} rules loaded`,
  );
  const failing = rules.filter((r) => r.health !== "ok");
  check(
    "0 rule evaluation errors",
    rules.length > 0 && failing.length === 0,
    failing
      .slice(0, 4)
      .map((r) => `${r.name}: ${r.lastError ?? r.health}`)
      .join("; "),
  );
}

interface Notification {
  receivedAt: string;
  payload: { status: string; alerts: { status: string; labels: Record<string, string> }[] };
}

function notifications(): Notification[] {
  const text = fetchFromCluster(`http://127.0.0.1:8080/alerts`);
  return text ? ((JSON.parse(text) as Notification[] | null) ?? []) : [];
}

function alertState(alertname: string, service: string): string | undefined {
  const data = prometheusApi<{ alerts: { labels: Record<string, string>; state: string }[] }>(
    "/api/v1/alerts",
  );
  return data?.alerts.find((a) => a.labels.alertname === alertname && a.labels.service === service)?.state;
}

/**
 * A service goes down: its alert fires in time, is delivered through Alertmanager's route, and
 * resolves once the service is back. `forSeconds`, `scrapeSeconds` and `evaluationSeconds` are the
 * rule's and the stack's own figures.
 */
export function checkAlertDelivered(opts: {
  namespace: string;
  deployment: string;
  service: string;
  alertname: string;
  forSeconds: number;
  scrapeSeconds: number;
  evaluationSeconds: number;
  groupWaitSeconds: number;
  groupIntervalSeconds: number;
}): void {
  const { namespace, deployment, service, alertname } = opts;
  const match = (n: Notification, status: string) =>
    n.payload.alerts.some(
      (a) => a.labels.alertname === alertname && a.labels.service === service && a.status === status,
    );
  const replicas = kubectl([
    "-n",
    namespace,
    "get",
    "deployment",
    deployment,
    "-o",
    "jsonpath={.spec.replicas}",
  ]).trim();
  const scaled = Date.now();
  kubectl(["-n", namespace, "scale", "deployment", deployment, "--replicas=0"]);
  // The service is down once its last pod has stopped (graceful termination takes a moment): the
  // alert's clock starts there.
  const selector = kubectl([
    "-n",
    namespace,
    "get",
    "deployment",
    deployment,
    "-o",
    "jsonpath={.spec.selector.matchLabels}",
  ]);
  const podSelector = selectorArg(JSON.parse(selector) as Record<string, string>);
  const killed =
    waitFor(120, 1, () =>
      kubectl(["-n", namespace, "get", "pods", "-l", podSelector, "-o", "name"]).trim() === ""
        ? Date.now()
        : undefined,
    ) ?? Date.now();
  console.log(
    `    the last pod of ${namespace}/${deployment} stopped ${seconds(killed - scaled)} s after the scale-down`,
  );
  const bound = opts.forSeconds + 2 * opts.scrapeSeconds + opts.evaluationSeconds;
  const firing = waitFor(bound + 60, 3, () =>
    alertState(alertname, service) === "firing" ? Date.now() : undefined,
  );
  const firedAfter = firing ? (firing - killed) / 1000 : undefined;
  check(
    `${alertname} for ${namespace}/${service} fires within for + 2 scrapes + 1 evaluation (${bound} s)`,
    firedAfter !== undefined && firedAfter <= bound,
    firedAfter !== undefined ? `fired ${firedAfter.toFixed(1)} s after the service went down` : "never fired",
  );
  const delivered = waitFor(opts.groupWaitSeconds + 90, 3, () =>
    notifications().find((n) => match(n, "firing")),
  );
  const deliveredAfter = delivered ? (Date.parse(delivered.receivedAt) - killed) / 1000 : undefined;
  check(
    `Alertmanager delivered it to the webhook receiver through the stack's route`,
    delivered !== undefined,
    deliveredAfter !== undefined
      ? `delivered ${deliveredAfter.toFixed(1)} s after the service went down`
      : "no notification arrived",
  );
  const restored = Date.now();
  kubectl(["-n", namespace, "scale", "deployment", deployment, `--replicas=${replicas || "1"}`]);
  tryKubectl(["-n", namespace, "rollout", "status", `deployment/${deployment}`, "--timeout=180s"]);
  const resolved = waitFor(opts.groupIntervalSeconds + opts.forSeconds + 120, 5, () =>
    notifications().find((n) => match(n, "resolved")),
  );
  const resolvedAfter = resolved ? (Date.parse(resolved.receivedAt) - restored) / 1000 : undefined;
  check(
    "its resolution is delivered after the service is back",
    resolved !== undefined,
    resolvedAfter !== undefined
      ? `resolved notification ${resolvedAfter.toFixed(1)} s after the scale-up (group_interval ${opts.groupIntervalSeconds} s)`
      : "no resolved notification",
  );
}

/**
 * Every dashboard panel's PromQL, run against the live Prometheus: each query parses and evaluates,
 * and each request-based query (traffic, errors, latency: the stand-ins serve those series) returns
 * series for the service it is about. Queries over kube-state-metrics' and cAdvisor's series
 * (saturation, restarts) evaluate but have no series here: those exporters are not installed on the
 * local route (docs/monitoring.md), so they are counted, not required.
 */
export function checkDashboardQueries(dashboardLabels: Record<string, string>): void {
  const maps = JSON.parse(
    kubectl(["get", "configmaps", "--all-namespaces", "-l", selectorArg(dashboardLabels), "-o", "json"]),
  ) as { items: { metadata: { name: string }; data?: Record<string, string> }[] };
  const queries: { dashboard: string; expr: string }[] = [];
  const collect = (dashboard: string, node: unknown): void => {
    if (Array.isArray(node)) node.forEach((n) => collect(dashboard, n));
    else if (node && typeof node === "object") {
      const { expr } = node as { expr?: unknown };
      if (typeof expr === "string") queries.push({ dashboard, expr });
      Object.values(node).forEach((n) => collect(dashboard, n));
    }
  };
  for (const map of maps.items)
    for (const text of Object.values(map.data ?? {})) collect(map.metadata.name, JSON.parse(text));
  const failed: string[] = [];
  const empty: string[] = [];
  let withSeries = 0;
  let requestBased = 0;
  for (const { dashboard, expr } of queries) {
    const query = expr.replaceAll("$__rate_interval", "5m").replaceAll("$__interval", "1m");
    const data = prometheusApi<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(query)}`);
    if (!data) {
      failed.push(`${dashboard}: ${expr.slice(0, 80)}`);
      continue;
    }
    const isRequestBased = /requests_total|_seconds_bucket|grpc_server_handled_total/.test(expr);
    if (isRequestBased) requestBased++;
    if (data.result.length > 0) withSeries++;
    else if (isRequestBased) empty.push(`${dashboard}: ${expr.slice(0, 80)}`);
  }
  check(
    `all ${queries.length} dashboard queries of ${maps.items.length} dashboards parse and evaluate on the running Prometheus`,
    queries.length > 0 && failed.length === 0,
    failed.slice(0, 3).join("; "),
  );
  check(
    `every request-based query (traffic, errors, latency) returns series for its service (${requestBased} queries)`,
    requestBased > 0 && failed.length === 0 && empty.length === 0,
    empty.length > 0
      ? empty.slice(0, 3).join("; ")
      : `${withSeries} of ${queries.length} queries return series`,
  );
}
