/**
 * ServiceMonitoring: everything that watches one service. A ServiceMonitor that scrapes its metrics
 * port, a PrometheusRule with its alerts, and a Grafana dashboard in a ConfigMap the Grafana sidecar
 * loads. The labels that make Prometheus and Grafana pick them up come in as args (from
 * ObservabilityStack), so the objects are selected by construction, not by a chart's label default.
 *
 * Usually created through `ObservabilityStack.monitorService`, which fills the stack's labels and
 * makes every child wait for the stack's Helm release (the monitoring CRDs).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { dashboardFileName, DEFAULT_DATASOURCE_UID, serviceDashboard } from "./dashboards";
import {
  childName,
  ComponentArgsError,
  LABEL,
  providerProblems,
  resourceProblems,
  splitDependsOn,
  stageProblem,
  standardLabels,
  typeToken,
  withDependsOn,
  type ContainerResources,
  type LabelDomainArgs,
  type Stage,
} from "./lib";
import {
  POD_IDENTITY_LABEL_KEYS,
  promLabelName,
  type MonitoredService,
  type ServiceProtocol,
} from "./metrics";
import { serviceRuleGroups } from "./monitoring-rules";

export interface ServiceMonitoringArgs extends LabelDomainArgs {
  /** Service name, e.g. `order-service`. Required. */
  serviceName: string;
  /** Namespace the service runs in; the monitoring objects are created there too. Required. Example: `ecommerce`. */
  namespace: string;
  /** Platform (catalog) the service belongs to, e.g. `ecommerce`. Labels, alert labels, dashboard folder. Required. */
  platform: string;
  /** `http` or `grpc`: decides which request metrics the alerts and dashboard use. Required. */
  protocol: ServiceProtocol;
  /** Name of the Service port Prometheus scrapes, e.g. `metrics` or `http`. Required. */
  metricsPortName: string;
  /** HTTP path of the metrics endpoint. Default `/metrics`. */
  metricsPath?: string;
  /**
   * Labels the service's Kubernetes Service carries and selects its pods by, e.g.
   * `{ "app.kubernetes.io/name": "order-service", "app.kubernetes.io/instance": "order-service" }`.
   * Keys must be among `POD_IDENTITY_LABEL_KEYS` (the pod labels kube-state-metrics publishes).
   */
  selectorLabels: Record<string, string>;
  /** The container's requests and limits, drawn as reference lines on the saturation panels. Required. */
  resources: ContainerResources;
  /**
   * Labels Prometheus selects ServiceMonitors and PrometheusRules by (ObservabilityStack's
   * `selectorLabels`), e.g. `{ "platform.acme.io/monitoring": "observability" }`. Required.
   */
  monitorLabels: Record<string, string>;
  /** Labels Grafana's dashboard sidecar selects ConfigMaps by (ObservabilityStack's `dashboardLabels`). Required. */
  dashboardLabels: Record<string, string>;
  /** Grafana datasource uid the dashboard queries. Default `prometheus` (what ObservabilityStack provisions). */
  datasourceUid?: string;
  /** Grafana folder the dashboard is filed in. Default: the platform name. */
  dashboardFolder?: string;
  /** Scrape interval for this service in seconds. Default: Prometheus' global interval. */
  scrapeIntervalSeconds?: number;
  /** Stage label (`local`, `staging`, `production`) put on every object. Default: none. */
  stage?: Stage;
}

/** Annotation the Grafana sidecar reads to file a dashboard into a folder. */
export const GRAFANA_FOLDER_ANNOTATION = "grafana_folder";

export class ServiceMonitoring extends pulumi.ComponentResource {
  public readonly serviceMonitorName: pulumi.Output<string>;
  public readonly prometheusRuleName: pulumi.Output<string>;
  public readonly dashboardConfigMapName: pulumi.Output<string>;
  /** Grafana uid of the service's dashboard (its URL is `<grafana>/d/<uid>`). */
  public readonly dashboardUid: pulumi.Output<string>;
  /** The service as monitoring sees it (what rules and dashboards were built from). */
  public readonly target: MonitoredService;

  constructor(name: string, args: ServiceMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = [...providerProblems(opts, "kubernetes"), ...serviceMonitoringProblems(args)];
    if (problems.length > 0) throw new ComponentArgsError("ServiceMonitoring", name, problems);
    // The component is not held back itself: its children wait for `dependsOn` (the stack's CRDs).
    const { options, dependsOn } = splitDependsOn(opts);
    super(typeToken("ServiceMonitoring"), name, {}, options);

    const metricsPath = args.metricsPath ?? "/metrics";
    const namespace = args.namespace;
    const labels = (extra: Record<string, string>) => ({
      ...standardLabels({
        name: args.serviceName,
        component: "monitoring",
        platform: args.platform,
        stage: args.stage,
        labelDomain: args.labelDomain,
      }),
      ...extra,
    });
    this.target = {
      serviceName: args.serviceName,
      namespace,
      platform: args.platform,
      protocol: args.protocol,
      selectorLabels: args.selectorLabels,
      resources: args.resources,
    };
    const childOpts: pulumi.CustomResourceOptions = { parent: this, dependsOn: withDependsOn(dependsOn) };

    const serviceMonitor = new k8s.apiextensions.CustomResource(
      childName(name, "servicemonitor"),
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { namespace, labels: labels(args.monitorLabels) },
        spec: {
          selector: { matchLabels: args.selectorLabels },
          namespaceSelector: { matchNames: [namespace] },
          // Copies the pod identity labels onto every scraped series: rules and dashboards match on them.
          podTargetLabels: Object.keys(args.selectorLabels).sort(),
          endpoints: [
            {
              port: args.metricsPortName,
              path: metricsPath,
              scheme: "http",
              ...(args.scrapeIntervalSeconds ? { interval: `${args.scrapeIntervalSeconds}s` } : {}),
            },
          ],
        },
      },
      childOpts,
    );

    const prometheusRule = new k8s.apiextensions.CustomResource(
      childName(name, "rules"),
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { namespace, labels: labels(args.monitorLabels) },
        spec: { groups: serviceRuleGroups(this.target) },
      },
      childOpts,
    );

    const dashboard = serviceDashboard(this.target, args.datasourceUid ?? DEFAULT_DATASOURCE_UID);
    const configMap = new k8s.core.v1.ConfigMap(
      childName(name, "dashboard"),
      {
        metadata: {
          namespace,
          labels: labels(args.dashboardLabels),
          annotations: { [GRAFANA_FOLDER_ANNOTATION]: args.dashboardFolder ?? args.platform },
        },
        data: { [dashboardFileName(dashboard)]: JSON.stringify(dashboard, null, 2) },
      },
      // A ConfigMap needs no CRD; it waits like its siblings so the sidecar exists when it lands.
      childOpts,
    );

    this.serviceMonitorName = serviceMonitor.metadata.name;
    this.prometheusRuleName = prometheusRule.metadata.name;
    this.dashboardConfigMapName = configMap.metadata.name;
    this.dashboardUid = pulumi.output(dashboard.uid);
    this.registerOutputs({
      serviceMonitorName: this.serviceMonitorName,
      prometheusRuleName: this.prometheusRuleName,
      dashboardConfigMapName: this.dashboardConfigMapName,
      dashboardUid: this.dashboardUid,
    });
  }
}

/** Every problem with the args, so one error lists them all. */
export function serviceMonitoringProblems(args: ServiceMonitoringArgs): string[] {
  const problems: string[] = [];
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(args.serviceName))
    problems.push(`serviceName "${args.serviceName}" is not a DNS label such as order-service`);
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(args.namespace))
    problems.push(`namespace "${args.namespace}" is not a DNS label such as ecommerce`);
  if (!args.platform) problems.push("platform is empty");
  const stage = stageProblem(args.stage);
  if (stage) problems.push(stage);
  if (args.protocol !== "http" && args.protocol !== "grpc")
    problems.push(`protocol must be "http" or "grpc", found ${JSON.stringify(args.protocol)}`);
  if (!args.metricsPortName)
    problems.push("metricsPortName is empty; name the Service port Prometheus scrapes (e.g. metrics)");
  if (args.metricsPath !== undefined && !args.metricsPath.startsWith("/"))
    problems.push(`metricsPath must start with "/", found "${args.metricsPath}"`);
  const keys = Object.keys(args.selectorLabels);
  if (keys.length === 0)
    problems.push(
      `selectorLabels is empty; give the labels the service's Service selects its pods by (e.g. ${LABEL.name})`,
    );
  for (const key of keys) {
    if (!POD_IDENTITY_LABEL_KEYS.includes(key))
      problems.push(
        `selectorLabels key "${key}" is not published by kube-state-metrics (${POD_IDENTITY_LABEL_KEYS.join(", ")}), so container metrics could not be matched to the service`,
      );
  }
  if (new Set(keys.map(promLabelName)).size !== keys.length)
    problems.push("selectorLabels keys collide once sanitised to Prometheus label names");
  if (Object.keys(args.monitorLabels).length === 0)
    problems.push(
      "monitorLabels is empty: Prometheus would not select the ServiceMonitor and PrometheusRule",
    );
  if (Object.keys(args.dashboardLabels).length === 0)
    problems.push("dashboardLabels is empty: Grafana's sidecar would not load the dashboard");
  if (
    args.scrapeIntervalSeconds !== undefined &&
    !(
      Number.isInteger(args.scrapeIntervalSeconds) &&
      args.scrapeIntervalSeconds >= 5 &&
      args.scrapeIntervalSeconds <= 300
    )
  )
    problems.push(
      `scrapeIntervalSeconds must be a whole number from 5 to 300, found ${args.scrapeIntervalSeconds}`,
    );
  problems.push(...resourceProblems("resources", args.resources));
  return problems;
}
