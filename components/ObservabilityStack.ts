/**
 * ObservabilityStack: kube-prometheus-stack (Prometheus Operator, Prometheus, Alertmanager, Grafana,
 * kube-state-metrics, node-exporter) from its pinned Helm chart, with explicit selectors.
 *
 * The stack exports the labels that ServiceMonitors, PrometheusRules and dashboards must carry, and
 * configures Prometheus and Grafana's sidecar to select exactly those; it does not rely on the
 * chart's `release` label default. `monitorService` creates a service's ServiceMonitoring with those
 * labels and makes it wait for the Helm release (its CRDs), so monitoring is wired by construction.
 *
 * Secrets never enter Helm values: Grafana's admin password is generated with `@pulumi/random` into a
 * Kubernetes Secret (`grafana.admin.existingSecret`), and the alert webhook URL goes into a Secret
 * that Alertmanager mounts and reads from a file (`*_file` fields of its configuration).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  ADD_ON_POLICY_COMPONENT,
  type ClusterNetwork,
  DEFAULT_CLUSTER_NETWORK,
  isolateAddOnNamespace,
} from "./addon-network";
import { monitoringWorkloads } from "./addon-workloads";
import { dashboardFileName, DEFAULT_DATASOURCE_UID, platformOverviewDashboard } from "./dashboards";
import { DataStoreMonitoring, type DataStoreMonitoringArgs } from "./DataStoreMonitoring";
import {
  childName,
  ComponentArgsError,
  domainKey,
  labelDomainProblem,
  memoryBytes,
  podSecurityExemptionAnnotation,
  providerProblems,
  resourceProblems,
  stageProblem,
  standardLabels,
  statefulOptions,
  typeToken,
  withDependsOn,
  type ContainerResources,
  type Dependency,
  type LabelDomainArgs,
  type Stage,
} from "./lib";
import { POD_IDENTITY_LABEL_KEYS, type MonitoredService } from "./metrics";
import { scheduledJobRuleGroups, type MonitoredScheduledJob } from "./monitoring-rules";
import {
  createOperatorStack,
  MONITORING_IMAGES,
  OPERATOR_MANIFESTS_METRICS_PORT,
  operatorManifestsProblems,
} from "./prometheus-operator";
import {
  GRAFANA_FOLDER_ANNOTATION,
  ServiceMonitoring,
  type ServiceMonitoringArgs,
} from "./ServiceMonitoring";

/** Where the kube-prometheus-stack chart comes from. */
export interface ObservabilityChart {
  /** Chart version, pinned. Example: `89.2.0`. Required. */
  version: string;
  /**
   * `repository` fetches `kube-prometheus-stack` from `repository`; `localPath` installs the chart at
   * `path` (offline). `skipped` is rejected: a stack without its chart cannot be created.
   */
  source: "repository" | "localPath" | "skipped";
  /** Chart directory or `.tgz` on disk; required with `source: "localPath"`. */
  path?: string;
  /** Helm repository URL. Default `https://prometheus-community.github.io/helm-charts`. */
  repository?: string;
}

export type AlertReceiver = "none" | "slack" | "pagerduty" | "webhook";

export interface ObservabilityStackArgs extends LabelDomainArgs {
  /**
   * The pinned kube-prometheus-stack chart and where to get it. Required unless `operatorManifests`
   * is given (exactly one of the two).
   * @example { version: "89.2.0", source: "repository" }
   */
  chart?: ObservabilityChart;
  /**
   * Install without the chart, for clusters that cannot fetch it (the offline local stack):
   * prometheus-operator from its release manifests at `path` (laid out by
   * `scripts/engine/toolchain.sh monitoring`), and the Prometheus and Alertmanager resources the
   * chart would render from the same values, at the same versions. Grafana, kube-state-metrics,
   * node-exporter and the chart's default rules are not installed (docs/monitoring.md).
   * @default undefined (install the chart)
   * @example { path: "/home/me/.cache/platform-toolchain/prometheus-operator-v0.93.1/manifests" }
   */
  operatorManifests?: { path: string };
  /** Namespace to create and install into. Default `monitoring`. */
  namespace?: string;
  /**
   * Namespaces (besides its own) whose ServiceMonitors, PodMonitors, Probes, ScrapeConfigs and
   * PrometheusRules Prometheus reads, selected by their `kubernetes.io/metadata.name` label (which
   * the API server sets on every namespace). `monitorService` rejects a service in any other
   * namespace. Default: every namespace (objects are still selected by the stack's labels).
   * Example: `["ecommerce", "fintech"]`.
   */
  monitoredNamespaces?: string[];
  /**
   * Where the nodes and the API server are, for the namespace's NetworkPolicies (default deny, then
   * each chart workload's flows: see docs/connectivity.md). Default: the private ranges, API server
   * on 443 and 6443. On EKS pass the cluster's private subnets and `[443]`.
   * @example { cidrs: ["10.30.0.0/19"], apiServerPorts: [443] }
   */
  clusterNetwork?: ClusterNetwork;
  /** Prometheus scrape interval in seconds (5..300). Default 15. */
  scrapeIntervalSeconds?: number;
  /** Rule evaluation interval in seconds (5..300). Default: the scrape interval. */
  evaluationIntervalSeconds?: number;
  /** Days Prometheus keeps samples. Default 15. */
  retentionDays?: number;
  /**
   * Prometheus volume size per replica, e.g. `100Gi`. Required. Prometheus also stops at 85 % of it
   * (`retentionSize`), so a full disk never stops ingestion before the retention time is reached.
   */
  prometheusStorageSize: string;
  /** Grafana volume size (SQLite database, plugins), e.g. `10Gi`. Required. */
  grafanaStorageSize: string;
  /** Alertmanager volume size (silences, notification log). Default `1Gi`. */
  alertmanagerStorageSize?: string;
  /** StorageClass for every volume. Default: the cluster's default StorageClass. */
  storageClassName?: string;
  /** Prometheus replicas (each scrapes everything). Default 1. */
  prometheusReplicas?: number;
  /** Alertmanager replicas (they gossip to deduplicate notifications). Default 1. */
  alertmanagerReplicas?: number;
  /** Prometheus container resources. Default requests 250m/1Gi, limits 1 CPU/2Gi. */
  prometheusResources?: ContainerResources;
  /** Grafana container resources. Default requests 250m/128Mi, limits 1 CPU/512Mi (the trading platform's figures). */
  grafanaResources?: ContainerResources;
  /** Alertmanager container resources. Default requests 50m/64Mi, limits 200m/256Mi. */
  alertmanagerResources?: ContainerResources;
  /**
   * Where alerts go: `slack` (incoming-webhook URL), `pagerduty` (the URL of a PagerDuty integration
   * that accepts Alertmanager's webhook payload), `webhook` (any receiver of Alertmanager's JSON
   * webhook payload: an in-house pager bridge, or the local stack's alert sink), or `none` (alerts
   * are evaluated and visible in Alertmanager, but sent nowhere). Default `none`.
   */
  alertReceiver?: AlertReceiver;
  /** The receiver's webhook URL, as a secret. Required unless `alertReceiver` is `none`. */
  alertWebhookUrl?: pulumi.Input<string>;
  /**
   * Scrape kube-scheduler, kube-controller-manager, etcd and kube-proxy. Default false: managed
   * control planes (EKS) do not expose them, and scraping them would only raise TargetDown alerts.
   */
  scrapeControlPlane?: boolean;
  /** Stage label (`local`, `staging`, `production`) put on the objects. Default: none. */
  stage?: Stage;
  /** Protect the release and keep it when the stack is destroyed (production). Default false. */
  protect?: boolean;
}

/** What `monitorService` needs per service; the stack supplies labels, datasource and stage. */
export type MonitorServiceArgs = Omit<
  ServiceMonitoringArgs,
  "monitorLabels" | "dashboardLabels" | "datasourceUid" | "stage" | "labelDomain"
>;

export const KUBE_PROMETHEUS_STACK_CHART = "kube-prometheus-stack";
export const PROMETHEUS_COMMUNITY_REPOSITORY = "https://prometheus-community.github.io/helm-charts";
/** Label key whose value (the stack's name) Prometheus selects monitors, rules and namespaces by. */
export const monitoringLabelKey = (labelDomain?: string): string => domainKey(labelDomain, "monitoring");
/** Label key whose value (the stack's name) Grafana's sidecar selects dashboard ConfigMaps by. */
export const dashboardLabelKey = (labelDomain?: string): string =>
  domainKey(labelDomain, "grafana-dashboard");
const POD_SECURITY_EXEMPTION_REASON =
  "prometheus-node-exporter needs hostNetwork, hostPID and read-only hostPath mounts of /, /proc and /sys to report node metrics; Pod Security baseline forbids them";
/** The images every stack's monitoring runs (pinned in the chart values; built locally). */
export { MONITORING_IMAGES, monitoringImageRef } from "./prometheus-operator";
/** Labels of every Prometheus server pod (defined in lib, where the data stores' policies use them too). */
export { PROMETHEUS_POD_LABELS } from "./lib";
/** Labels of the chart's Grafana pods (a monitoring-namespace pod that must not be admitted to scrape). */
export const GRAFANA_POD_LABELS: Readonly<Record<string, string>> = { "app.kubernetes.io/name": "grafana" };
/** Key of the alert webhook URL inside its Secret. */
export const WEBHOOK_SECRET_KEY = "url";

/** The defaults of the args below, exported for stacks that adjust one figure of them (a request ceiling). */
export const OBSERVABILITY_DEFAULTS = {
  namespace: "monitoring",
  scrapeIntervalSeconds: 15,
  retentionDays: 15,
  alertmanagerStorageSize: "1Gi",
  prometheusResources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
  grafanaResources: { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  alertmanagerResources: {
    requests: { cpu: "50m", memory: "64Mi" },
    limits: { cpu: "200m", memory: "256Mi" },
  },
} as const satisfies Partial<Record<keyof ObservabilityStackArgs, unknown>>;

export class ObservabilityStack extends pulumi.ComponentResource {
  /** The monitoring namespace's name. */
  public readonly namespace: pulumi.Output<string>;
  /** Labels every ServiceMonitor, PodMonitor and PrometheusRule must carry to be selected. */
  public readonly selectorLabels: pulumi.Output<Record<string, string>>;
  /** Labels a ConfigMap must carry for Grafana's sidecar to load the dashboards in it. */
  public readonly dashboardLabels: pulumi.Output<Record<string, string>>;
  /** Name of the Secret holding Grafana's admin user (`admin-user`) and password (`admin-password`). */
  public readonly grafanaAdminSecretName: pulumi.Output<string>;
  /** The Helm release; undefined when installed from `operatorManifests`. */
  public readonly release: k8s.helm.v3.Release | undefined;
  /** What installs the monitoring CRDs and servers: depend on these for anything that needs them. */
  public readonly installed: Dependency[];
  /** In-cluster URL of Grafana. */
  public readonly grafanaUrl: pulumi.Output<string>;
  /** In-cluster URL of Prometheus. */
  public readonly prometheusUrl: pulumi.Output<string>;
  /** In-cluster URL of Alertmanager. */
  public readonly alertmanagerUrl: pulumi.Output<string>;

  private readonly plainSelectorLabels: Record<string, string>;
  private readonly plainDashboardLabels: Record<string, string>;
  private readonly namespaceName: string;
  private readonly grafanaName: string;
  private readonly monitoredNamespaces: readonly string[] | undefined;
  private readonly stage: Stage | undefined;
  private readonly labelDomain: string | undefined;
  /** Services registered through `monitorService`, by platform then service name. */
  private readonly monitored = new Map<string, Map<string, MonitoredService>>();
  /** Namespaces whose dashboard ConfigMaps Grafana's sidecar may already read (a Role each). */
  private readonly dashboardReaders = new Set<string>();

  constructor(name: string, args: ObservabilityStackArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = [...providerProblems(opts, "kubernetes"), ...observabilityStackProblems(name, args)];
    if (problems.length > 0) throw new ComponentArgsError("ObservabilityStack", name, problems);
    super(typeToken("ObservabilityStack"), name, {}, opts);

    const spec = normalize(name, args);
    this.namespaceName = spec.namespaceName;
    this.grafanaName = `${name}-grafana`;
    this.monitoredNamespaces = args.monitoredNamespaces;
    this.stage = args.stage;
    this.labelDomain = args.labelDomain;
    this.plainSelectorLabels = spec.selectorLabels;
    this.plainDashboardLabels = spec.dashboardLabels;

    const namespace = createNamespace(this, spec);
    const grafanaSecret = createGrafanaAdminSecret(this, spec, namespace);
    const webhookSecret = createWebhookSecret(this, spec, namespace);
    this.release = args.operatorManifests
      ? undefined
      : createRelease(this, spec, namespace, grafanaSecret, webhookSecret);
    this.installed = this.release
      ? [this.release]
      : createOperatorStack(this, {
          name,
          namespace: namespace.metadata.name,
          namespaceName: spec.namespaceName,
          manifestsPath: (args.operatorManifests as { path: string }).path,
          values: kubePrometheusStackValues(valuesInput(spec, webhookSecret !== undefined)),
          labels: spec.labels,
          selectorLabels: spec.selectorLabels,
        });
    isolateAddOnNamespace(
      childName(name, "ns"),
      namespace.metadata.name,
      monitoringWorkloads(
        name,
        spec.namespaceName,
        webhookSecret !== undefined,
        args.operatorManifests ? OPERATOR_MANIFESTS_METRICS_PORT : undefined,
      ),
      args.clusterNetwork ?? DEFAULT_CLUSTER_NETWORK,
      spec.labels(ADD_ON_POLICY_COMPONENT),
      { parent: this },
      args.labelDomain,
    );

    const host = (service: string) => `${service}.${spec.namespaceName}.svc.cluster.local`;
    this.namespace = namespace.metadata.name;
    this.selectorLabels = pulumi.output(this.plainSelectorLabels);
    this.dashboardLabels = pulumi.output(this.plainDashboardLabels);
    this.grafanaAdminSecretName = grafanaSecret.metadata.name;
    // Service names follow from the release name: `<fullnameOverride>-prometheus` etc.; Grafana's Service listens on 80.
    // The URLs resolve once what installs the servers exists, so whoever reads one waits for them.
    const installedUrns = pulumi.output(
      this.installed.map((d) =>
        pulumi.Resource.isInstance(d) ? d.urn : d.apply((rs) => pulumi.all(rs.map((r) => r.urn))),
      ),
    );
    const once = (url: string) => installedUrns.apply(() => url);
    this.grafanaUrl = once(`http://${host(`${name}-grafana`)}`);
    this.prometheusUrl = once(`http://${host(`${name}-prometheus`)}:9090`);
    this.alertmanagerUrl = once(`http://${host(`${name}-alertmanager`)}:9093`);
    this.registerOutputs({
      namespace: this.namespace,
      selectorLabels: this.selectorLabels,
      dashboardLabels: this.dashboardLabels,
      grafanaAdminSecretName: this.grafanaAdminSecretName,
      grafanaUrl: this.grafanaUrl,
      prometheusUrl: this.prometheusUrl,
      alertmanagerUrl: this.alertmanagerUrl,
    });
  }

  /**
   * Monitors the data stores of one namespace: a DataStoreMonitoring (volume and StatefulSet alerts,
   * and per CloudNativePG cluster a PodMonitor and its backup, archiving, lag, volume and instance
   * alerts) carrying this stack's labels, whose children wait for the Helm release. Named
   * `<platform>-datastores-monitoring`.
   */
  monitorDataStores(
    args: Omit<DataStoreMonitoringArgs, "monitorLabels" | "stage" | "labelDomain">,
    opts?: pulumi.ComponentResourceOptions,
  ): DataStoreMonitoring {
    if (
      this.monitoredNamespaces &&
      args.namespace !== this.namespaceName &&
      !this.monitoredNamespaces.includes(args.namespace)
    )
      throw new ComponentArgsError("ObservabilityStack", this.namespaceName, [
        `monitorDataStores: namespace "${args.namespace}" is not read by Prometheus (monitoredNamespaces: ${this.monitoredNamespaces.join(", ")})`,
      ]);
    return new DataStoreMonitoring(
      childName(`${args.platform}-datastores`, "monitoring"),
      {
        ...args,
        monitorLabels: this.plainSelectorLabels,
        ...(this.stage ? { stage: this.stage } : {}),
        ...(this.labelDomain ? { labelDomain: this.labelDomain } : {}),
      },
      { parent: this, ...opts, dependsOn: withDependsOn(opts?.dependsOn, ...this.installed) },
    );
  }

  /**
   * Monitors one service: a ServiceMonitoring (ServiceMonitor, PrometheusRule, dashboard) carrying
   * this stack's labels, whose children wait for the Helm release. Pass `{ parent: <MicroService> }`
   * so it sits under (and takes its provider from) the service; without a parent it sits under the stack.
   * Named `<platform>-<serviceName>-monitoring`.
   */
  monitorService(args: MonitorServiceArgs, opts?: pulumi.ComponentResourceOptions): ServiceMonitoring {
    const services = this.monitored.get(args.platform) ?? new Map<string, MonitoredService>();
    const problems: string[] = [];
    if (services.has(args.serviceName))
      problems.push(`monitorService: ${args.platform}/${args.serviceName} is already monitored`);
    if (
      this.monitoredNamespaces &&
      args.namespace !== this.namespaceName &&
      !this.monitoredNamespaces.includes(args.namespace)
    )
      problems.push(
        `monitorService: ${args.platform}/${args.serviceName} runs in namespace "${args.namespace}", which Prometheus does not read (monitoredNamespaces: ${this.monitoredNamespaces.join(", ")})`,
      );
    if (problems.length > 0) throw new ComponentArgsError("ObservabilityStack", this.namespaceName, problems);
    this.grantDashboardRead(args.namespace, opts);
    const monitoring = new ServiceMonitoring(
      childName(`${args.platform}-${args.serviceName}`, "monitoring"),
      {
        ...args,
        monitorLabels: this.plainSelectorLabels,
        dashboardLabels: this.plainDashboardLabels,
        datasourceUid: DEFAULT_DATASOURCE_UID,
        ...(this.stage ? { stage: this.stage } : {}),
        ...(this.labelDomain ? { labelDomain: this.labelDomain } : {}),
      },
      { parent: this, ...opts, dependsOn: withDependsOn(opts?.dependsOn, ...this.installed) },
    );
    services.set(args.serviceName, monitoring.target);
    this.monitored.set(args.platform, services);
    return monitoring;
  }

  /**
   * Alerts on one ScheduledJob's runs (`ScheduledJobFailed`: a run failed and none has succeeded
   * since; `ScheduledJobMissed`: a due run has not started within its starting deadline): a PrometheusRule carrying this stack's labels, in the job's namespace, waiting for the
   * Helm release. A CronJob has no port, so there is nothing to scrape: the rules read
   * kube-state-metrics' Job and CronJob series. Named `<platform>-<serviceName>-job-rules`.
   */
  monitorScheduledJob(
    args: MonitoredScheduledJob,
    opts?: pulumi.CustomResourceOptions,
  ): k8s.apiextensions.CustomResource {
    if (
      this.monitoredNamespaces &&
      args.namespace !== this.namespaceName &&
      !this.monitoredNamespaces.includes(args.namespace)
    )
      throw new ComponentArgsError("ObservabilityStack", this.namespaceName, [
        `monitorScheduledJob: ${args.platform}/${args.serviceName} runs in namespace "${args.namespace}", which Prometheus does not read (monitoredNamespaces: ${this.monitoredNamespaces.join(", ")})`,
      ]);
    return new k8s.apiextensions.CustomResource(
      childName(`${args.platform}-${args.serviceName}`, "job-rules"),
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: {
          namespace: args.namespace,
          labels: {
            ...standardLabels({
              name: args.serviceName,
              component: "monitoring",
              platform: args.platform,
              stage: this.stage,
              labelDomain: this.labelDomain,
            }),
            ...this.plainSelectorLabels,
          },
        },
        spec: { groups: scheduledJobRuleGroups(args) },
      },
      { parent: this, ...opts, dependsOn: withDependsOn(opts?.dependsOn, ...this.installed) },
    );
  }

  /**
   * One overview dashboard for a platform: every listed service's golden signals side by side.
   * `services` defaults to every service of the platform registered with `monitorService`; each
   * name must have been registered. Returns the dashboard's ConfigMap (in the monitoring namespace).
   */
  addPlatformOverview(
    platform: string,
    services?: string[],
    opts?: pulumi.CustomResourceOptions,
  ): k8s.core.v1.ConfigMap {
    const registered = this.monitored.get(platform) ?? new Map<string, MonitoredService>();
    const names = services ?? [...registered.keys()];
    const problems = names
      .filter((n) => !registered.has(n))
      .map((n) => `addPlatformOverview: ${platform}/${n} was not registered with monitorService`);
    if (names.length === 0)
      problems.push(`addPlatformOverview: no service of platform "${platform}" is monitored`);
    if (problems.length > 0) throw new ComponentArgsError("ObservabilityStack", this.namespaceName, problems);
    const dashboard = platformOverviewDashboard(
      platform,
      names.map((n) => registered.get(n) as MonitoredService),
      DEFAULT_DATASOURCE_UID,
    );
    return new k8s.core.v1.ConfigMap(
      childName(platform, "overview-dashboard"),
      {
        metadata: {
          namespace: this.namespace,
          labels: {
            ...standardLabels({
              name: `${platform}-overview`,
              component: "monitoring",
              platform,
              stage: this.stage,
              labelDomain: this.labelDomain,
            }),
            ...this.plainDashboardLabels,
          },
          annotations: { [GRAFANA_FOLDER_ANNOTATION]: platform },
        },
        data: { [dashboardFileName(dashboard)]: JSON.stringify(dashboard, null, 2) },
      },
      { parent: this, ...opts },
    );
  }

  /**
   * With `monitoredNamespaces`, Grafana's RBAC is namespaced (the chart's Role: ConfigMaps and
   * Secrets of the monitoring namespace only) and its sidecar reads dashboards only in the monitored
   * namespaces. Each of those gets a Role letting Grafana's service account read ConfigMaps and
   * nothing else (`<namespace>-grafana-dashboards`), made with the first service monitored there.
   */
  private grantDashboardRead(namespace: string, opts: pulumi.ComponentResourceOptions | undefined): void {
    if (!this.monitoredNamespaces || namespace === this.namespaceName || this.dashboardReaders.has(namespace))
      return;
    this.dashboardReaders.add(namespace);
    const name = childName(namespace, "grafana-dashboards");
    const labels = standardLabels({
      name,
      component: "monitoring",
      stage: this.stage,
      labelDomain: this.labelDomain,
    });
    // The namespace is the monitored service's: wait for the service (its parent), which waits for it.
    const options: pulumi.CustomResourceOptions = {
      ...opts,
      parent: this,
      dependsOn: withDependsOn(opts?.dependsOn, ...(opts?.parent ? [opts.parent] : [])),
    };
    const role = new k8s.rbac.v1.Role(
      name,
      {
        metadata: { name, namespace, labels },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
      },
      options,
    );
    new k8s.rbac.v1.RoleBinding(
      name,
      {
        metadata: { name, namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [
          // The chart names Grafana's service account after its fullname.
          { kind: "ServiceAccount", name: this.grafanaName, namespace: this.namespaceName },
        ],
      },
      options,
    );
  }
}

/** The args with the defaults the steps share applied, and the stack's labels. */
interface StackSpec {
  name: string;
  args: ObservabilityStackArgs;
  namespaceName: string;
  receiver: AlertReceiver;
  selectorLabels: Record<string, string>;
  dashboardLabels: Record<string, string>;
  /** Standard labels of the stack's objects of one component. */
  labels: (component: string) => Record<string, string>;
}

function normalize(name: string, args: ObservabilityStackArgs): StackSpec {
  const stackLabels = observabilityLabels(name, args.labelDomain);
  return {
    name,
    args,
    namespaceName: args.namespace ?? OBSERVABILITY_DEFAULTS.namespace,
    receiver: args.alertReceiver ?? "none",
    selectorLabels: stackLabels.selectorLabels,
    dashboardLabels: stackLabels.dashboardLabels,
    labels: (component: string) =>
      standardLabels({ name, component, stage: args.stage, labelDomain: args.labelDomain }),
  };
}

function createNamespace(parent: pulumi.Resource, spec: StackSpec): k8s.core.v1.Namespace {
  // node-exporter runs with hostNetwork, hostPID and hostPath mounts of /, /proc and /sys: Pod
  // Security "baseline" forbids all three, so the namespace must enforce "privileged". Audit still
  // reports anything beyond "baseline", so a second privileged workload here does not go unnoticed.
  // The exemption annotation states the reason where the platform policy pack looks for it.
  return new k8s.core.v1.Namespace(
    childName(spec.name, "namespace"),
    {
      metadata: {
        name: spec.namespaceName,
        annotations: {
          [podSecurityExemptionAnnotation(spec.args.labelDomain)]: POD_SECURITY_EXEMPTION_REASON,
        },
        labels: {
          ...spec.labels("monitoring"),
          "pod-security.kubernetes.io/enforce": "privileged",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/audit": "baseline",
          "pod-security.kubernetes.io/audit-version": "latest",
        },
      },
    },
    { parent },
  );
}

/** Grafana's admin user and a generated password, in the Secret the chart's `admin.existingSecret` names. */
function createGrafanaAdminSecret(
  parent: pulumi.Resource,
  spec: StackSpec,
  namespace: k8s.core.v1.Namespace,
): k8s.core.v1.Secret {
  const grafanaPassword = new random.RandomPassword(
    childName(spec.name, "grafana-admin"),
    { length: 32, special: false },
    { parent },
  );
  return new k8s.core.v1.Secret(
    childName(spec.name, "grafana-admin"),
    {
      metadata: {
        name: childName(spec.name, "grafana-admin"),
        namespace: namespace.metadata.name,
        labels: spec.labels("grafana"),
      },
      type: "Opaque",
      stringData: { "admin-user": "admin", "admin-password": pulumi.secret(grafanaPassword.result) },
    },
    { parent },
  );
}

/** The alert webhook URL, in a Secret Alertmanager mounts; none with receiver `none`. */
function createWebhookSecret(
  parent: pulumi.Resource,
  spec: StackSpec,
  namespace: k8s.core.v1.Namespace,
): k8s.core.v1.Secret | undefined {
  if (spec.receiver === "none") return undefined;
  const webhookSecretName = childName(spec.name, "alert-webhook");
  return new k8s.core.v1.Secret(
    webhookSecretName,
    {
      metadata: {
        name: webhookSecretName,
        namespace: namespace.metadata.name,
        labels: spec.labels("alertmanager"),
      },
      type: "Opaque",
      stringData: {
        [WEBHOOK_SECRET_KEY]: pulumi.secret(spec.args.alertWebhookUrl as pulumi.Input<string>),
      },
    },
    { parent },
  );
}

/** The kube-prometheus-stack release, installed once the Secrets its values name exist. */
function createRelease(
  parent: pulumi.Resource,
  spec: StackSpec,
  namespace: k8s.core.v1.Namespace,
  grafanaSecret: k8s.core.v1.Secret,
  webhookSecret: k8s.core.v1.Secret | undefined,
): k8s.helm.v3.Release {
  const { name, args } = spec;
  const chart = args.chart as ObservabilityChart;
  const local = chart.source === "localPath";
  return new k8s.helm.v3.Release(
    childName(name, "release"),
    {
      // A fixed release name (with fullnameOverride) keeps the chart's object and Service names predictable.
      name,
      namespace: namespace.metadata.name,
      chart: local ? (chart.path as string) : KUBE_PROMETHEUS_STACK_CHART,
      ...(local
        ? {}
        : {
            version: chart.version,
            repositoryOpts: { repo: chart.repository ?? PROMETHEUS_COMMUNITY_REPOSITORY },
          }),
      createNamespace: false,
      skipCrds: false,
      cleanupOnFail: true,
      maxHistory: 5,
      // The first install pulls images and binds volumes for several StatefulSets.
      timeout: 900,
      values: kubePrometheusStackValues(valuesInput(spec, webhookSecret !== undefined)),
    },
    {
      parent,
      dependsOn: [grafanaSecret, ...(webhookSecret ? [webhookSecret] : [])],
      ...statefulOptions(args.protect ?? false),
    },
  );
}

/** The chart values' inputs, every default applied. */
function valuesInput(spec: StackSpec, hasWebhookSecret: boolean): KubePrometheusStackValuesInput {
  const { name, args } = spec;
  return {
    name,
    namespace: spec.namespaceName,
    monitoredNamespaces: args.monitoredNamespaces,
    selectorLabels: spec.selectorLabels,
    dashboardLabels: spec.dashboardLabels,
    grafanaAdminSecretName: childName(name, "grafana-admin"),
    alertReceiver: spec.receiver,
    webhookSecretName: hasWebhookSecret ? childName(name, "alert-webhook") : undefined,
    scrapeIntervalSeconds: args.scrapeIntervalSeconds ?? OBSERVABILITY_DEFAULTS.scrapeIntervalSeconds,
    evaluationIntervalSeconds:
      args.evaluationIntervalSeconds ??
      args.scrapeIntervalSeconds ??
      OBSERVABILITY_DEFAULTS.scrapeIntervalSeconds,
    retentionDays: args.retentionDays ?? OBSERVABILITY_DEFAULTS.retentionDays,
    prometheusStorageSize: args.prometheusStorageSize,
    grafanaStorageSize: args.grafanaStorageSize,
    alertmanagerStorageSize: args.alertmanagerStorageSize ?? OBSERVABILITY_DEFAULTS.alertmanagerStorageSize,
    storageClassName: args.storageClassName,
    prometheusReplicas: args.prometheusReplicas ?? 1,
    alertmanagerReplicas: args.alertmanagerReplicas ?? 1,
    prometheusResources: args.prometheusResources ?? OBSERVABILITY_DEFAULTS.prometheusResources,
    grafanaResources: args.grafanaResources ?? OBSERVABILITY_DEFAULTS.grafanaResources,
    alertmanagerResources: args.alertmanagerResources ?? OBSERVABILITY_DEFAULTS.alertmanagerResources,
    scrapeControlPlane: args.scrapeControlPlane ?? false,
  };
}

/** Every problem with the args, so one error lists them all. */
export function observabilityStackProblems(name: string, args: ObservabilityStackArgs): string[] {
  const problems: string[] = [];
  // The chart truncates its full name to 26 characters; a longer name would change every Service name.
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 26)
    problems.push(
      `name "${name}" must be a DNS label of at most 26 characters (the chart truncates longer names)`,
    );
  const domainProblem = labelDomainProblem(args.labelDomain);
  if (domainProblem) problems.push(domainProblem);
  const stage = stageProblem(args.stage);
  if (stage) problems.push(stage);
  if (args.namespace !== undefined && !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(args.namespace))
    problems.push(`namespace "${args.namespace}" is not a DNS label`);
  for (const ns of args.monitoredNamespaces ?? []) {
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(ns))
      problems.push(`monitoredNamespaces: "${ns}" is not a DNS label`);
  }
  problems.push(...installProblems(args));
  const seconds = (key: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 5 && value <= 300))
      problems.push(`${key} must be a whole number of seconds from 5 to 300, found ${value}`);
  };
  seconds("scrapeIntervalSeconds", args.scrapeIntervalSeconds);
  seconds("evaluationIntervalSeconds", args.evaluationIntervalSeconds);
  if (args.retentionDays !== undefined && !(Number.isInteger(args.retentionDays) && args.retentionDays >= 1))
    problems.push(`retentionDays must be a whole number of at least 1, found ${args.retentionDays}`);
  for (const [key, size] of [
    ["prometheusStorageSize", args.prometheusStorageSize],
    ["grafanaStorageSize", args.grafanaStorageSize],
    ["alertmanagerStorageSize", args.alertmanagerStorageSize],
  ] as const) {
    if (size !== undefined && !/^[0-9]+(Mi|Gi|Ti)$/.test(size))
      problems.push(`${key} must be a size such as 20Gi, found "${size}"`);
  }
  for (const [key, count] of [
    ["prometheusReplicas", args.prometheusReplicas],
    ["alertmanagerReplicas", args.alertmanagerReplicas],
  ] as const) {
    if (count !== undefined && !(Number.isInteger(count) && count >= 1))
      problems.push(`${key} must be a whole number of at least 1, found ${count}`);
  }
  for (const [key, r] of [
    ["prometheusResources", args.prometheusResources],
    ["grafanaResources", args.grafanaResources],
    ["alertmanagerResources", args.alertmanagerResources],
  ] as const) {
    if (r) problems.push(...resourceProblems(key, r));
  }
  const receiver = args.alertReceiver ?? "none";
  if (!["none", "slack", "pagerduty", "webhook"].includes(receiver))
    problems.push(
      `alertReceiver must be "none", "slack", "pagerduty" or "webhook", found ${JSON.stringify(receiver)}`,
    );
  if (receiver !== "none" && args.alertWebhookUrl === undefined)
    problems.push(`alertWebhookUrl (a secret) is required with alertReceiver "${receiver}"`);
  if (receiver === "none" && args.alertWebhookUrl !== undefined)
    problems.push(
      'alertWebhookUrl is given but alertReceiver is "none"; choose "slack" or "pagerduty", or drop the URL',
    );
  return problems;
}

/** Plain inputs of the chart values (every default already applied). */
export interface KubePrometheusStackValuesInput {
  name: string;
  /** The stack's own namespace (always read). */
  namespace: string;
  /** Other namespaces to read; undefined: every namespace. */
  monitoredNamespaces: readonly string[] | undefined;
  selectorLabels: Record<string, string>;
  dashboardLabels: Record<string, string>;
  grafanaAdminSecretName: string;
  alertReceiver: AlertReceiver;
  /** Secret holding the webhook URL under `WEBHOOK_SECRET_KEY`; absent with receiver `none`. */
  webhookSecretName: string | undefined;
  scrapeIntervalSeconds: number;
  evaluationIntervalSeconds: number;
  retentionDays: number;
  prometheusStorageSize: string;
  grafanaStorageSize: string;
  alertmanagerStorageSize: string;
  storageClassName: string | undefined;
  prometheusReplicas: number;
  alertmanagerReplicas: number;
  prometheusResources: ContainerResources;
  grafanaResources: ContainerResources;
  alertmanagerResources: ContainerResources;
  scrapeControlPlane: boolean;
}

/** The chart values. Plain data, no secret: secrets are referenced by Secret name only. */
export function kubePrometheusStackValues(v: KubePrometheusStackValuesInput): Record<string, unknown> {
  return {
    fullnameOverride: v.name,
    // commonLabels reach every object the chart itself renders, including its own ServiceMonitors
    // (kubelet/cAdvisor, operator, Prometheus, Alertmanager) and its default PrometheusRules, so the
    // explicit selectors below still pick them up.
    commonLabels: v.selectorLabels,
    crds: { enabled: true },
    defaultRules: {
      create: true,
      ...(v.scrapeControlPlane
        ? {}
        : {
            rules: {
              etcd: false,
              kubeControllerManager: false,
              kubeSchedulerAlerting: false,
              kubeSchedulerRecording: false,
              kubeProxy: false,
            },
          }),
    },
    ...(v.scrapeControlPlane
      ? {}
      : {
          kubeControllerManager: { enabled: false },
          kubeScheduler: { enabled: false },
          kubeEtcd: { enabled: false },
          kubeProxy: { enabled: false },
        }),
    // Every image pinned here, so staging, production and the local operator route run the same versions.
    prometheusOperator: {
      image: { ...MONITORING_IMAGES.prometheusOperator },
      resources: requestsAndLimits("100m", "128Mi", "500m", "256Mi"),
      prometheusConfigReloader: {
        image: { ...MONITORING_IMAGES.prometheusConfigReloader },
        resources: requestsAndLimits("10m", "32Mi", "100m", "64Mi"),
      },
    },
    prometheus: prometheusValues(v),
    alertmanager: alertmanagerValues(v),
    grafana: grafanaValues(v),
    "kube-state-metrics": {
      // Publishes the pod identity labels on kube_pod_labels, which joins container metrics to services.
      metricLabelsAllowlist: [`pods=[${POD_IDENTITY_LABEL_KEYS.join(",")}]`],
      resources: requestsAndLimits("50m", "64Mi", "200m", "256Mi"),
      prometheus: { monitor: { enabled: true, additionalLabels: v.selectorLabels } },
    },
    "prometheus-node-exporter": {
      resources: requestsAndLimits("50m", "32Mi", "200m", "64Mi"),
      prometheus: { monitor: { enabled: true, additionalLabels: v.selectorLabels } },
    },
  };
}

function prometheusValues(v: KubePrometheusStackValuesInput): Record<string, unknown> {
  const selector = { matchLabels: v.selectorLabels };
  const namespaceSelector = v.monitoredNamespaces
    ? {
        matchExpressions: [
          {
            key: "kubernetes.io/metadata.name",
            operator: "In",
            values: [...new Set([v.namespace, ...v.monitoredNamespaces])].sort(),
          },
        ],
      }
    : {};
  return {
    prometheusSpec: {
      image: { ...MONITORING_IMAGES.prometheus },
      replicas: v.prometheusReplicas,
      scrapeInterval: `${v.scrapeIntervalSeconds}s`,
      evaluationInterval: `${v.evaluationIntervalSeconds}s`,
      retention: `${v.retentionDays}d`,
      retentionSize: retentionSize(v.prometheusStorageSize),
      resources: v.prometheusResources,
      storageSpec: volumeClaim(v.prometheusStorageSize, v.storageClassName),
      // Explicit selection: exactly the objects carrying the stack's labels, in the monitored namespaces.
      serviceMonitorSelectorNilUsesHelmValues: false,
      serviceMonitorSelector: selector,
      serviceMonitorNamespaceSelector: namespaceSelector,
      podMonitorSelectorNilUsesHelmValues: false,
      podMonitorSelector: selector,
      podMonitorNamespaceSelector: namespaceSelector,
      ruleSelectorNilUsesHelmValues: false,
      ruleSelector: selector,
      ruleNamespaceSelector: namespaceSelector,
      probeSelectorNilUsesHelmValues: false,
      probeSelector: selector,
      probeNamespaceSelector: namespaceSelector,
      scrapeConfigSelectorNilUsesHelmValues: false,
      scrapeConfigSelector: selector,
      scrapeConfigNamespaceSelector: namespaceSelector,
    },
  };
}

function alertmanagerValues(v: KubePrometheusStackValuesInput): Record<string, unknown> {
  return {
    alertmanagerSpec: {
      image: { ...MONITORING_IMAGES.alertmanager },
      replicas: v.alertmanagerReplicas,
      resources: v.alertmanagerResources,
      storage: volumeClaim(v.alertmanagerStorageSize, v.storageClassName),
      // Mounted at /etc/alertmanager/secrets/<name>/; the configuration reads the URL from there.
      secrets: v.webhookSecretName ? [v.webhookSecretName] : [],
    },
    config: alertmanagerConfig(v.alertReceiver, v.webhookSecretName),
  };
}

function grafanaValues(v: KubePrometheusStackValuesInput): Record<string, unknown> {
  const [labelKey, labelValue] = Object.entries(v.dashboardLabels)[0] as [string, string];
  return {
    enabled: true,
    fullnameOverride: `${v.name}-grafana`,
    // Namespaced RBAC when the namespaces to read are known: the chart's ClusterRole would let the
    // sidecar read every Secret in the cluster. The monitored namespaces get ConfigMap-only Roles.
    ...(v.monitoredNamespaces ? { rbac: { namespaced: true } } : {}),
    admin: {
      existingSecret: v.grafanaAdminSecretName,
      userKey: "admin-user",
      passwordKey: "admin-password",
    },
    persistence: {
      enabled: true,
      type: "pvc",
      size: v.grafanaStorageSize,
      accessModes: ["ReadWriteOnce"],
      ...(v.storageClassName ? { storageClassName: v.storageClassName } : {}),
    },
    // A ReadWriteOnce volume cannot be attached to the old and the new pod at once.
    deploymentStrategy: { type: "Recreate" },
    resources: v.grafanaResources,
    "grafana.ini": {
      analytics: { check_for_updates: false, reporting_enabled: false },
      users: { allow_sign_up: false },
      "auth.anonymous": { enabled: false },
    },
    sidecar: {
      resources: requestsAndLimits("50m", "64Mi", "200m", "128Mi"),
      dashboards: {
        enabled: true,
        label: labelKey,
        labelValue,
        searchNamespace: v.monitoredNamespaces ? [v.namespace, ...v.monitoredNamespaces] : "ALL",
        // Dashboards are ConfigMaps: the sidecar never lists Secrets for them.
        resource: "configmap",
        folderAnnotation: GRAFANA_FOLDER_ANNOTATION,
        provider: { foldersFromFilesStructure: true },
      },
      datasources: { enabled: true, defaultDatasourceEnabled: true, uid: DEFAULT_DATASOURCE_UID },
    },
    serviceMonitor: { enabled: true, labels: v.selectorLabels },
  };
}

/** A StatefulSet's volume claim template (the chart's `storageSpec` / `storage`). */
function volumeClaim(size: string, storageClassName: string | undefined) {
  return {
    volumeClaimTemplate: {
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: size } },
        ...(storageClassName ? { storageClassName } : {}),
      },
    },
  };
}

function requestsAndLimits(
  cpu: string,
  memory: string,
  cpuLimit: string,
  memoryLimit: string,
): ContainerResources {
  return { requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } };
}

/** Receiver names in the Alertmanager configuration. */
export const RECEIVER_NAMES = {
  none: "null",
  slack: "slack",
  pagerduty: "pagerduty",
  webhook: "webhook",
} as const satisfies Record<AlertReceiver, string>;

/**
 * Alertmanager's configuration: critical and warning alerts go to the receiver (critical repeated
 * hourly, warning every 4 hours), everything else (info, the chart's Watchdog) to the null receiver.
 * The webhook URL is read from the mounted Secret (`api_url_file` / `url_file`), never inlined.
 */
export function alertmanagerConfig(
  receiver: AlertReceiver,
  webhookSecretName: string | undefined,
): Record<string, unknown> {
  const target = RECEIVER_NAMES[receiver];
  const urlFile = webhookSecretName
    ? `/etc/alertmanager/secrets/${webhookSecretName}/${WEBHOOK_SECRET_KEY}`
    : undefined;
  const receivers: Record<string, unknown>[] = [{ name: RECEIVER_NAMES.none }];
  if (receiver === "slack" && urlFile)
    receivers.push({
      name: RECEIVER_NAMES.slack,
      slack_configs: [
        {
          api_url_file: urlFile,
          send_resolved: true,
          title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})",
          text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\n{{ end }}",
        },
      ],
    });
  if ((receiver === "pagerduty" || receiver === "webhook") && urlFile)
    receivers.push({
      name: RECEIVER_NAMES[receiver],
      webhook_configs: [{ url_file: urlFile, send_resolved: true }],
    });
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: RECEIVER_NAMES.none,
      group_by: ["alertname", "namespace", "service"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "12h",
      routes: [
        { receiver: RECEIVER_NAMES.none, matchers: ['alertname=~"Watchdog|InfoInhibitor"'] },
        { receiver: target, matchers: ['severity="critical"'], repeat_interval: "1h" },
        { receiver: target, matchers: ['severity="warning"'], repeat_interval: "4h" },
      ],
    },
    inhibit_rules: [
      // A critical alert silences the warning of the same alert in the same namespace.
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: ["namespace", "alertname"],
      },
    ],
    receivers,
    templates: ["/etc/alertmanager/config/*.tmpl"],
  };
}

/** Prometheus' size-based retention: 85 % of the volume, in Prometheus' binary units (MB = MiB). */
export function retentionSize(volume: string): string {
  return `${Math.floor((memoryBytes(volume) * 0.85) / 2 ** 20)}MB`;
}

/** Labels the stack's objects carry, for code that needs them before the stack exists (plain data). */
export function observabilityLabels(
  stackName: string,
  labelDomain?: string,
): {
  selectorLabels: Record<string, string>;
  dashboardLabels: Record<string, string>;
} {
  return {
    selectorLabels: { [monitoringLabelKey(labelDomain)]: stackName },
    dashboardLabels: { [dashboardLabelKey(labelDomain)]: stackName },
  };
}

/** Where the stack comes from: exactly one of `chart` and `operatorManifests`, each well-formed. */
function installProblems(args: ObservabilityStackArgs): string[] {
  const { chart, operatorManifests } = args;
  if (chart && operatorManifests)
    return [
      "chart and operatorManifests are mutually exclusive: give the chart, or the operator's manifests where the chart can't be had",
    ];
  if (operatorManifests) return operatorManifestsProblems(operatorManifests.path);
  if (!chart) return ["chart is required (or operatorManifests, where the chart can't be had)"];
  const problems: string[] = [];
  if (!/^v?[0-9]+\.[0-9]+\.[0-9]+$/.test(chart.version))
    problems.push(`chart.version "${chart.version}" is not a pinned version such as 89.2.0`);
  if (chart.source === "skipped")
    problems.push(
      'chart.source is "skipped": there is no chart to install; leave the ObservabilityStack out instead',
    );
  if (chart.source === "localPath" && !chart.path)
    problems.push('chart.path is required with chart.source "localPath"');
  if (chart.source === "repository" && chart.path)
    problems.push('chart.path is only used with chart.source "localPath"');
  return problems;
}
