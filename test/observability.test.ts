/**
 * ObservabilityStack and ServiceMonitoring, asserted from what the SDK registers: the Helm release
 * (chart, pinned version, values: selectors, scrape/evaluation interval, retention, storage per
 * stage, Grafana, Alertmanager), secret handling (no password or webhook URL in plain text anywhere
 * in the run), the per-service ServiceMonitor / PrometheusRule / dashboard (validated against the
 * prometheus-operator and Kubernetes schemas, PromQL parsed by promtool), ordering on the release,
 * and the exact problems rejected arguments report.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { STAGE_PROFILES } from "../config/profiles";
import { CHART_VERSIONS } from "../config/settings";
import { DEFAULT_DATASOURCE_UID } from "../components/dashboards";
import { ComponentArgsError, selectorLabels } from "../components/lib";
import {
  alertmanagerConfig,
  ObservabilityStack,
  PROMETHEUS_COMMUNITY_REPOSITORY,
  type MonitorServiceArgs,
  type ObservabilityStackArgs,
} from "../components/ObservabilityStack";
import {
  byName,
  byType,
  onCluster,
  reveal,
  runProgram,
  type RecordedResource,
  type RunResult,
} from "./harness";
import {
  dashboardProblems,
  dashboardQueries,
  plaintextOccurrences,
  promtoolCheckRules,
  queriesAsRecordingRules,
  queryScopeProblems,
  requirePromtool,
  secretOccurrences,
} from "./observability-checks";
import { validateKubernetesObject } from "./validate";

const T = {
  stack: "platform:index:ObservabilityStack",
  monitoring: "platform:index:ServiceMonitoring",
  release: "kubernetes:helm.sh/v3:Release",
  namespace: "kubernetes:core/v1:Namespace",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
  password: "random:index/randomPassword:RandomPassword",
} as const;

const SELECTOR_LABELS = { "microservices-platform/monitoring": "observability" };
const DASHBOARD_LABELS = { "microservices-platform/grafana-dashboard": "observability" };
const WEBHOOK_URL = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";

const BASE: ObservabilityStackArgs = {
  chart: { version: CHART_VERSIONS.kubePrometheusStack, source: "repository" },
  prometheusStorageSize: STAGE_PROFILES.staging.observability.prometheusStorageSize,
  grafanaStorageSize: STAGE_PROFILES.staging.observability.grafanaStorageSize,
  stage: "staging",
};

/** Three services as index.ts monitors them: a gRPC service with a separate metrics port, two HTTP services. */
const SERVICES: MonitorServiceArgs[] = [
  {
    serviceName: "order-service",
    namespace: "ecommerce",
    platform: "ecommerce",
    protocol: "grpc",
    metricsPortName: "metrics",
    metricsPath: "/metrics",
    selectorLabels: selectorLabels("order-service"),
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  },
  {
    serviceName: "api-gateway",
    namespace: "ecommerce",
    platform: "ecommerce",
    protocol: "http",
    metricsPortName: "http",
    metricsPath: "/metrics",
    selectorLabels: selectorLabels("api-gateway"),
    resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  },
  {
    serviceName: "trading-api",
    namespace: "trading",
    platform: "trading",
    protocol: "http",
    metricsPortName: "http",
    metricsPath: "/internal/metrics",
    selectorLabels: selectorLabels("trading-api"),
    resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "4Gi" } },
  },
];

/** A stack with a Kubernetes provider, every SERVICE monitored under a parent, and an overview per platform. */
function stackProgram(args: Partial<ObservabilityStackArgs> = {}, options: { monitor?: boolean } = {}) {
  return () => {
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    const stack = new ObservabilityStack("observability", { ...BASE, ...args }, { providers: [provider] });
    if (options.monitor ?? true) {
      for (const svc of SERVICES) {
        // Stands in for the MicroService the lead passes as parent.
        const parent = new pulumi.ComponentResource(
          "test:index:Service",
          `${svc.platform}-${svc.serviceName}`,
          {},
          { providers: [provider] },
        );
        stack.monitorService(svc, { parent });
      }
      stack.addPlatformOverview("ecommerce");
      stack.addPlatformOverview("trading", ["trading-api"]);
    }
    return {
      namespace: stack.namespace,
      grafanaUrl: stack.grafanaUrl,
      prometheusUrl: stack.prometheusUrl,
      grafanaAdminSecretName: stack.grafanaAdminSecretName,
      selectorLabels: stack.selectorLabels,
      dashboardLabels: stack.dashboardLabels,
    };
  };
}

/** Chart values and dashboards are deep JSON documents; the tests read them path by path. */
type Json = ReturnType<typeof JSON.parse>;
const values = (run: RunResult): Json => byType(run, T.release)[0]?.inputs.values;
const dashboardOf = (cm: RecordedResource) => {
  const data = cm.inputs.data as Record<string, string>;
  const [file] = Object.keys(data);
  return { file, dashboard: JSON.parse(data[file as string] as string) };
};

describe("ObservabilityStack: the kube-prometheus-stack release", () => {
  let run: RunResult;
  beforeAll(async () => {
    run = await runProgram(stackProgram(), { stack: "staging" });
  });

  it("installs the pinned kube-prometheus-stack chart from prometheus-community into the monitoring namespace", () => {
    const [release] = byType(run, T.release);
    expect(release?.inputs).toMatchObject({
      name: "observability",
      chart: "kube-prometheus-stack",
      version: "89.2.0",
      repositoryOpts: { repo: PROMETHEUS_COMMUNITY_REPOSITORY },
      namespace: "monitoring",
      createNamespace: false,
    });
    expect(PROMETHEUS_COMMUNITY_REPOSITORY).toBe("https://prometheus-community.github.io/helm-charts");
    const ns = byType(run, T.namespace)[0];
    expect(release?.dependencies).toContain(ns?.urn);
  });

  it("labels the namespace privileged for node-exporter's host access, audited against baseline", () => {
    const metadata = byType(run, T.namespace)[0]?.inputs.metadata as {
      labels: Record<string, string>;
      annotations: Record<string, string>;
    };
    expect(metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
      "pod-security.kubernetes.io/audit": "baseline",
    });
    // The policy pack accepts a namespace below "restricted" only with its reason stated.
    expect(metadata.annotations["microservices-platform/pod-security-exemption"]).toMatch(
      /node-exporter.*hostNetwork.*hostPID/,
    );
    expect(values(run)["prometheus-node-exporter"]).toBeDefined();
  });

  it("scrapes every 15 s, evaluates every 15 s and keeps 15 days, capped at 85 % of the volume", () => {
    expect(values(run).prometheus.prometheusSpec).toMatchObject({
      scrapeInterval: "15s",
      evaluationInterval: "15s",
      retention: "15d",
      retentionSize: "17408MB",
    });
  });

  it("selects monitors, rules, probes and scrape configs by the stack's labels only, never by the chart's release label", () => {
    const spec = values(run).prometheus.prometheusSpec;
    for (const kind of ["serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"]) {
      expect(spec[`${kind}SelectorNilUsesHelmValues`], kind).toBe(false);
      expect(spec[`${kind}Selector`], kind).toEqual({ matchLabels: SELECTOR_LABELS });
      expect(spec[`${kind}NamespaceSelector`], kind).toEqual({});
    }
    // The chart's own monitors and rules carry the labels, so the explicit selectors keep them.
    expect(values(run).commonLabels).toEqual(SELECTOR_LABELS);
    expect(values(run)["kube-state-metrics"].prometheus.monitor.additionalLabels).toEqual(SELECTOR_LABELS);
    expect(values(run)["prometheus-node-exporter"].prometheus.monitor.additionalLabels).toEqual(
      SELECTOR_LABELS,
    );
    expect(values(run).grafana.serviceMonitor.labels).toEqual(SELECTOR_LABELS);
    // kube-state-metrics publishes the pod labels that join container metrics to services.
    expect(values(run)["kube-state-metrics"].metricLabelsAllowlist).toEqual([
      "pods=[app.kubernetes.io/name,app.kubernetes.io/instance]",
    ]);
  });

  it("exports the selector and dashboard labels and in-cluster URLs", () => {
    expect(reveal(run.outputs)).toMatchObject({
      namespace: "monitoring",
      selectorLabels: SELECTOR_LABELS,
      dashboardLabels: DASHBOARD_LABELS,
      grafanaUrl: "http://observability-grafana.monitoring.svc.cluster.local",
      prometheusUrl: "http://observability-prometheus.monitoring.svc.cluster.local:9090",
      grafanaAdminSecretName: "observability-grafana-admin",
    });
  });

  it("keeps Grafana's admin password in a generated Secret referenced by name, never in the values", () => {
    const grafana = values(run).grafana;
    expect(grafana.admin).toEqual({
      existingSecret: "observability-grafana-admin",
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    expect(grafana.adminPassword).toBeUndefined();
    const secret = byName(run, T.secret, "observability-grafana-admin");
    // The whole stringData travels as a secret: the password is never a plain input.
    expect(secret.inputs.stringData).toEqual({
      secret: true,
      value: { "admin-user": "admin", "admin-password": expect.stringMatching(/.{8,}/) },
    });
    expect(byType(run, T.password)[0]?.inputs).toMatchObject({ length: 32 });
    expect(byType(run, T.release)[0]?.dependencies).toContain(secret.urn);
  });

  it("gives Grafana the trading platform's resources, persistence and a sidecar selecting the dashboard label in every namespace", () => {
    const grafana = values(run).grafana;
    expect(grafana.resources).toEqual({
      requests: { cpu: "250m", memory: "128Mi" },
      limits: { cpu: "1", memory: "512Mi" },
    });
    expect(grafana.persistence).toMatchObject({ enabled: true, size: "5Gi" });
    expect(grafana.sidecar.dashboards).toMatchObject({
      enabled: true,
      label: "microservices-platform/grafana-dashboard",
      labelValue: "observability",
      searchNamespace: "ALL",
    });
    expect(grafana.sidecar.datasources).toMatchObject({
      defaultDatasourceEnabled: true,
      uid: DEFAULT_DATASOURCE_UID,
    });
  });

  it("routes every severity to the null receiver when no receiver is configured, with no webhook Secret", () => {
    const am = values(run).alertmanager;
    expect(am.config.receivers).toEqual([{ name: "null" }]);
    expect(am.config.route.routes.map((r: { receiver: string }) => r.receiver)).toEqual([
      "null",
      "null",
      "null",
    ]);
    expect(am.alertmanagerSpec.secrets).toEqual([]);
    expect(byType(run, T.secret).map((s) => s.name)).toEqual(["observability-grafana-admin"]);
  });

  it("leaves the control plane unscraped by default (managed control planes do not expose it)", () => {
    const v = values(run);
    for (const key of ["kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"])
      expect(v[key], key).toEqual({ enabled: false });
    expect(v.defaultRules.rules).toMatchObject({ etcd: false, kubeControllerManager: false });
  });

  it("puts no secret in plain text anywhere in the run (the scan finds the password inside secrets)", () => {
    const password = reveal(byType(run, T.password)[0]?.state.result) as string;
    expect(password.length).toBeGreaterThanOrEqual(8);
    expect(plaintextOccurrences(run, password)).toEqual([]);
    expect(secretOccurrences(run, password).length).toBeGreaterThan(0);
  });
});

describe("ObservabilityStack: storage and settings per stage", () => {
  it.each(["local", "staging", "production"] as const)(
    "%s: Prometheus and Grafana volumes follow the stage profile",
    async (stage) => {
      const sizes = STAGE_PROFILES[stage].observability;
      const run = await runProgram(
        stackProgram(
          {
            stage,
            prometheusStorageSize: sizes.prometheusStorageSize,
            grafanaStorageSize: sizes.grafanaStorageSize,
            protect: stage === "production",
          },
          { monitor: false },
        ),
        { stack: stage },
      );
      const v = values(run);
      expect(v.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec).toEqual({
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: sizes.prometheusStorageSize } },
      });
      expect(v.grafana.persistence.size).toBe(sizes.grafanaStorageSize);
      const release = byType(run, T.release)[0];
      expect(release?.protect).toBe(stage === "production");
      expect(release?.retainOnDelete).toBe(stage === "production");
    },
  );

  it("installs from a local chart path offline, without a repository", async () => {
    const run = await runProgram(
      stackProgram(
        { chart: { version: "89.2.0", source: "localPath", path: "/charts/kube-prometheus-stack" } },
        { monitor: false },
      ),
    );
    const inputs = byType(run, T.release)[0]?.inputs;
    expect(inputs?.chart).toBe("/charts/kube-prometheus-stack");
    expect(inputs?.repositoryOpts).toBeUndefined();
  });

  it("honours scrape interval, retention, storage class and a namespace list", async () => {
    const run = await runProgram(
      stackProgram({
        scrapeIntervalSeconds: 30,
        evaluationIntervalSeconds: 60,
        retentionDays: 30,
        storageClassName: "gp3",
        monitoredNamespaces: ["trading", "ecommerce"],
      }),
    );
    const spec = values(run).prometheus.prometheusSpec;
    expect(spec).toMatchObject({ scrapeInterval: "30s", evaluationInterval: "60s", retention: "30d" });
    expect(spec.storageSpec.volumeClaimTemplate.spec.storageClassName).toBe("gp3");
    expect(spec.serviceMonitorNamespaceSelector).toEqual({
      matchExpressions: [
        {
          key: "kubernetes.io/metadata.name",
          operator: "In",
          values: ["ecommerce", "monitoring", "trading"],
        },
      ],
    });
    expect(spec.ruleNamespaceSelector).toEqual(spec.serviceMonitorNamespaceSelector);
  });
});

describe("ObservabilityStack: what Grafana may read", () => {
  let run: RunResult;
  const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
  const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";

  it("with monitored namespaces, the sidecar reads dashboards only there, through namespaced RBAC (no ClusterRole over every Secret)", async () => {
    run = await runProgram(stackProgram({ monitoredNamespaces: ["trading", "ecommerce"] }));
    const grafana = values(run).grafana;
    expect(grafana.rbac).toEqual({ namespaced: true });
    expect(grafana.sidecar.dashboards).toMatchObject({
      searchNamespace: ["monitoring", "trading", "ecommerce"],
      resource: "configmap",
    });
  });

  it("lets Grafana's service account read ConfigMaps, and nothing else, in each namespace a monitored service runs in", () => {
    const roles = byType(run, ROLE);
    expect(roles.map((r) => (r.inputs.metadata as { namespace: string }).namespace).sort()).toEqual([
      "ecommerce",
      "trading",
    ]);
    for (const role of roles)
      expect(role.inputs.rules).toEqual([
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] },
      ]);
    const bindings = byType(run, BINDING);
    expect(bindings).toHaveLength(2);
    for (const binding of bindings) {
      const { namespace } = binding.inputs.metadata as { namespace: string };
      expect(binding.inputs).toMatchObject({
        roleRef: { kind: "Role", name: `${namespace}-grafana-dashboards` },
        subjects: [{ kind: "ServiceAccount", name: "observability-grafana", namespace: "monitoring" }],
      });
    }
  });

  it("without a namespace list, keeps the cluster-wide search (a consumer's choice) but for ConfigMaps only", async () => {
    const all = await runProgram(stackProgram());
    const grafana = values(all).grafana;
    expect(grafana.rbac).toBeUndefined();
    expect(grafana.sidecar.dashboards).toMatchObject({ searchNamespace: "ALL", resource: "configmap" });
    expect(byType(all, ROLE)).toEqual([]);
  });
});

describe("ObservabilityStack: alert routing", () => {
  it.each(["slack", "pagerduty"] as const)(
    "%s: routes critical and warning alerts to the receiver, reading the URL from a mounted Secret",
    async (receiver) => {
      const run = await runProgram(
        stackProgram({ alertReceiver: receiver, alertWebhookUrl: pulumi.secret(WEBHOOK_URL) }),
      );
      const am = values(run).alertmanager;
      const secret = byName(run, T.secret, "observability-alert-webhook");
      expect(secret.inputs.stringData).toEqual({ secret: true, value: { url: WEBHOOK_URL } });
      expect(am.alertmanagerSpec.secrets).toEqual(["observability-alert-webhook"]);
      expect(byType(run, T.release)[0]?.dependencies).toContain(secret.urn);
      const routes = am.config.route.routes as { receiver: string; matchers: string[] }[];
      expect(routes.find((r) => r.matchers.includes('severity="critical"'))?.receiver).toBe(receiver);
      expect(routes.find((r) => r.matchers.includes('severity="warning"'))?.receiver).toBe(receiver);
      expect(am.config.route.receiver).toBe("null");
      const file = "/etc/alertmanager/secrets/observability-alert-webhook/url";
      const configured = am.config.receivers.find((r: { name: string }) => r.name === receiver);
      if (receiver === "slack") expect(configured.slack_configs[0].api_url_file).toBe(file);
      else expect(configured.webhook_configs[0].url_file).toBe(file);
      // The URL is nowhere in plain text: not in the values, not in any other input, output or state.
      expect(plaintextOccurrences(run, "hooks.slack.com")).toEqual([]);
      expect(secretOccurrences(run, "hooks.slack.com").length).toBeGreaterThan(0);
    },
  );

  it("the configuration never inlines a URL", () => {
    const text = JSON.stringify(alertmanagerConfig("slack", "hook"));
    expect(text).not.toMatch(/https?:\/\//);
    expect(text).not.toMatch(/"(api_)?url"\s*:/);
  });
});

describe("ServiceMonitoring through monitorService", () => {
  let run: RunResult;
  beforeAll(async () => {
    requirePromtool();
    run = await runProgram(stackProgram(), { stack: "staging" });
  });

  it("creates a ServiceMonitor, a PrometheusRule and a dashboard per service, under the service's parent", () => {
    const components = byType(run, T.monitoring);
    expect(components.map((c) => c.name).sort()).toEqual([
      "ecommerce-api-gateway-monitoring",
      "ecommerce-order-service-monitoring",
      "trading-trading-api-monitoring",
    ]);
    for (const c of components) expect(c.parent).toMatch(/test:index:Service::/);
    expect(byType(run, T.serviceMonitor)).toHaveLength(3);
    expect(byType(run, T.prometheusRule)).toHaveLength(3);
    // Three service dashboards and two platform overviews.
    expect(byType(run, T.configMap)).toHaveLength(5);
  });

  it("makes every monitoring object wait for the Helm release (its CRDs) and use the cluster provider", () => {
    const release = byType(run, T.release)[0] as RecordedResource;
    const provider = run.resources.find((r) => r.type === "pulumi:providers:kubernetes") as RecordedResource;
    const monitoring = run.resources.filter((r) => byType(run, T.monitoring).some((c) => r.parent === c.urn));
    expect(monitoring).toHaveLength(9);
    for (const r of monitoring) {
      expect(r.dependencies, r.name).toContain(release.urn);
      expect(r.provider, r.name).toMatch(new RegExp(`^${provider.urn.replace(/[$]/g, "\\$")}::`));
    }
  });

  it("ServiceMonitors carry the stack's labels, select the service and scrape its metrics port and path; they validate against the operator schema", async () => {
    for (const svc of SERVICES) {
      const sm = byName(
        run,
        T.serviceMonitor,
        `${svc.platform}-${svc.serviceName}-monitoring-servicemonitor`,
      );
      await validateKubernetesObject(sm.inputs);
      expect((sm.inputs.metadata as { labels: Record<string, string> }).labels).toMatchObject(
        SELECTOR_LABELS,
      );
      expect(sm.inputs.metadata).toMatchObject({ namespace: svc.namespace });
      expect(sm.inputs.spec).toMatchObject({
        selector: { matchLabels: svc.selectorLabels },
        namespaceSelector: { matchNames: [svc.namespace] },
        podTargetLabels: Object.keys(svc.selectorLabels).sort(),
        endpoints: [{ port: svc.metricsPortName, path: svc.metricsPath, scheme: "http" }],
      });
    }
  });

  it("PrometheusRules carry the stack's labels, the brief's alerts and a saturation alert; they validate and pass promtool", async () => {
    for (const svc of SERVICES) {
      const rule = byName(run, T.prometheusRule, `${svc.platform}-${svc.serviceName}-monitoring-rules`);
      await validateKubernetesObject(rule.inputs);
      expect((rule.inputs.metadata as { labels: Record<string, string> }).labels).toMatchObject(
        SELECTOR_LABELS,
      );
      const groups = (
        rule.inputs.spec as {
          groups: {
            rules: { alert: string; expr: string; for?: string; labels: Record<string, string> }[];
          }[];
        }
      ).groups;
      const rules = groups.flatMap((g) => g.rules);
      const byAlert = Object.fromEntries(rules.map((r) => [r.alert, r]));
      expect(byAlert.ServiceErrorRateHigh).toMatchObject({
        for: "5m",
        labels: { severity: "critical", service: svc.serviceName },
      });
      expect(byAlert.ServiceErrorRateHigh?.expr).toMatch(/ > 0\.05$/);
      expect(byAlert.ServiceLatencyP95High).toMatchObject({ for: "5m", labels: { severity: "warning" } });
      expect(byAlert.ServiceLatencyP95High?.expr).toMatch(/^histogram_quantile\(0\.95, .* > 2$/);
      expect(byAlert.ServiceRestartingFrequently).toMatchObject({ labels: { severity: "critical" } });
      expect(byAlert.ServiceRestartingFrequently?.expr).toMatch(/\[1h\].* > 5$/);
      expect(byAlert.ServiceCPUNearLimit?.expr).toContain("kube_pod_container_resource_limits");
      expect(byAlert.ServiceMemoryNearLimit?.expr).toContain("container_memory_working_set_bytes");
      const metric = svc.protocol === "grpc" ? "grpc_server_handled_total" : "http_requests_total";
      expect(byAlert.ServiceErrorRateHigh?.expr).toContain(metric);
      for (const r of rules) expect(queryScopeProblems(r.expr, svc), r.alert).toEqual([]);
      const check = promtoolCheckRules(groups);
      expect(check.status, check.output).toBe(0);
    }
  });

  it("service dashboards are valid, labelled for the sidecar, show the golden signals and query only their own service", async () => {
    for (const svc of SERVICES) {
      const cm = byName(run, T.configMap, `${svc.platform}-${svc.serviceName}-monitoring-dashboard`);
      await validateKubernetesObject({ apiVersion: "v1", kind: "ConfigMap", ...cm.inputs });
      const meta = cm.inputs.metadata as {
        labels: Record<string, string>;
        annotations: Record<string, string>;
        namespace: string;
      };
      expect(meta.labels).toMatchObject(DASHBOARD_LABELS);
      expect(meta.annotations).toEqual({ grafana_folder: svc.platform });
      expect(meta.namespace).toBe(svc.namespace);
      const { file, dashboard } = dashboardOf(cm);
      expect(file).toBe(`${dashboard.uid}.json`);
      expect(dashboardProblems(dashboard, DEFAULT_DATASOURCE_UID)).toEqual([]);
      const queries = dashboardQueries(dashboard);
      for (const q of queries) expect(queryScopeProblems(q.expr, svc), q.panel).toEqual([]);
      const titles = (dashboard.panels as { title: string }[]).map((p) => p.title).join(" | ");
      for (const signal of ["traffic", "error ratio", "latency p50/p95/p99", "restarts", "CPU", "memory"])
        expect(titles).toContain(signal);
      const exprs = queries.map((q) => q.expr);
      expect(exprs.some((e) => e.includes("kube_pod_container_resource_requests"))).toBe(true);
      expect(exprs.some((e) => e.includes("kube_pod_container_resource_limits"))).toBe(true);
      const check = promtoolCheckRules([queriesAsRecordingRules("dashboard", exprs)]);
      expect(check.status, check.output).toBe(0);
    }
  });

  it("overview dashboards hold a row per service with its golden signals, each row querying only that service", () => {
    const overview = byName(run, T.configMap, "ecommerce-overview-dashboard");
    expect(
      (overview.inputs.metadata as { namespace: string; labels: Record<string, string> }).namespace,
    ).toBe("monitoring");
    expect((overview.inputs.metadata as { labels: Record<string, string> }).labels).toMatchObject(
      DASHBOARD_LABELS,
    );
    const { dashboard } = dashboardOf(overview);
    expect(dashboardProblems(dashboard, DEFAULT_DATASOURCE_UID)).toEqual([]);
    const rows = (dashboard.panels as { type: string; title: string }[])
      .filter((p) => p.type === "row")
      .map((p) => p.title);
    expect(rows).toEqual(["api-gateway", "order-service"]);
    const queries = dashboardQueries(dashboard);
    for (const q of queries) {
      const svc = SERVICES.find((s) => s.platform === "ecommerce" && s.serviceName === q.row);
      if (!svc) throw new Error(`query outside a service row: ${q.panel}`);
      expect(queryScopeProblems(q.expr, svc), q.panel).toEqual([]);
    }
    expect(queries.length).toBe(2 * 5);
    const trading = dashboardOf(byName(run, T.configMap, "trading-overview-dashboard")).dashboard;
    expect(
      (trading.panels as { type: string; title: string }[])
        .filter((p) => p.type === "row")
        .map((p) => p.title),
    ).toEqual(["trading-api"]);
  });

  it("the scope check catches a query about another service (it is not vacuous)", () => {
    const [svc] = SERVICES;
    const other = { ...svc!, selectorLabels: selectorLabels("payment-service") };
    expect(
      queryScopeProblems(
        `sum(rate(grpc_server_handled_total{namespace="ecommerce",app_kubernetes_io_name="payment-service"}[5m]))`,
        svc!,
      ).length,
    ).toBeGreaterThan(0);
    expect(
      queryScopeProblems(
        `sum(rate(grpc_server_handled_total{app_kubernetes_io_name="order-service",app_kubernetes_io_instance="order-service"}[5m]))`,
        svc!,
      ),
    ).toEqual([
      'selector {app_kubernetes_io_name="order-service",app_kubernetes_io_instance="order-service"} does not name namespace ecommerce',
    ]);
    expect(
      queryScopeProblems(
        `up{namespace="ecommerce",app_kubernetes_io_name="payment-service",app_kubernetes_io_instance="payment-service"}`,
        other,
      ),
    ).toEqual([]);
  });
});

describe("rejected arguments", () => {
  const construct =
    (args: Partial<ObservabilityStackArgs>, name = "observability") =>
    () =>
      new ObservabilityStack(name, { ...BASE, ...args }, onCluster());

  it("lists every problem of the stack's args at once", async () => {
    let error: unknown;
    await runProgram(() => {
      try {
        construct(
          {
            chart: { version: "latest", source: "skipped" },
            scrapeIntervalSeconds: 2,
            retentionDays: 0,
            prometheusStorageSize: "lots",
            grafanaResources: {
              requests: { cpu: "2", memory: "128Mi" },
              limits: { cpu: "1", memory: "512Mi" },
            },
            alertReceiver: "slack",
          },
          "a-very-long-observability-stack-name",
        )();
      } catch (e) {
        error = e;
      }
    });
    expect(error).toBeInstanceOf(ComponentArgsError);
    expect((error as Error).message).toBe(
      [
        'ObservabilityStack "a-very-long-observability-stack-name": invalid arguments (8):',
        '  - name "a-very-long-observability-stack-name" must be a DNS label of at most 26 characters (the chart truncates longer names)',
        '  - chart.version "latest" is not a pinned version such as 89.2.0',
        '  - chart.source is "skipped": there is no chart to install; leave the ObservabilityStack out instead',
        "  - scrapeIntervalSeconds must be a whole number of seconds from 5 to 300, found 2",
        "  - retentionDays must be a whole number of at least 1, found 0",
        '  - prometheusStorageSize must be a size such as 20Gi, found "lots"',
        "  - grafanaResources: CPU request 2 exceeds its limit 1",
        '  - alertWebhookUrl (a secret) is required with alertReceiver "slack"',
      ].join("\n"),
    );
  });

  it("rejects a webhook URL without a receiver, and a local chart without a path", async () => {
    const messages: string[] = [];
    await runProgram(() => {
      for (const args of [
        { alertWebhookUrl: pulumi.secret(WEBHOOK_URL) },
        { chart: { version: "89.2.0", source: "localPath" as const } },
      ]) {
        try {
          construct(args)();
        } catch (e) {
          messages.push((e as Error).message.split("\n").slice(1).join("\n"));
        }
      }
    });
    expect(messages).toEqual([
      '  - alertWebhookUrl is given but alertReceiver is "none"; choose "slack" or "pagerduty", or drop the URL',
      '  - chart.path is required with chart.source "localPath"',
    ]);
  });

  it("rejects a service Prometheus would not read, a duplicate, unknown selector keys and unregistered overview services", async () => {
    const messages: string[] = [];
    await runProgram(() => {
      const stack = new ObservabilityStack(
        "observability",
        { ...BASE, monitoredNamespaces: ["ecommerce"] },
        onCluster(),
      );
      const attempt = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          messages.push((e as Error).message.split("\n").slice(1).join("\n"));
        }
      };
      const [order, , trading] = SERVICES;
      stack.monitorService(order!);
      attempt(() => stack.monitorService(order!));
      attempt(() => stack.monitorService(trading!));
      attempt(() =>
        stack.monitorService({
          ...order!,
          serviceName: "user-service",
          selectorLabels: { app: "user-service" },
        }),
      );
      attempt(() => stack.addPlatformOverview("ecommerce", ["order-service", "cart-service"]));
      attempt(() => stack.addPlatformOverview("fintech"));
    });
    expect(messages).toEqual([
      "  - monitorService: ecommerce/order-service is already monitored",
      '  - monitorService: trading/trading-api runs in namespace "trading", which Prometheus does not read (monitoredNamespaces: ecommerce)',
      '  - selectorLabels key "app" is not published by kube-state-metrics (app.kubernetes.io/name, app.kubernetes.io/instance), so container metrics could not be matched to the service',
      "  - addPlatformOverview: ecommerce/cart-service was not registered with monitorService",
      '  - addPlatformOverview: no service of platform "fintech" is monitored',
    ]);
  });
});
