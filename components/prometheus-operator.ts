/**
 * The monitoring stack without its chart: prometheus-operator installed from its own release
 * manifests, and the Prometheus and Alertmanager resources kube-prometheus-stack renders, made here
 * from the same values (`kubePrometheusStackValues`).
 *
 * For clusters that cannot fetch the kube-prometheus-stack chart (the offline local stack). The
 * operator, Prometheus and Alertmanager run at the versions the chart runs in staging and
 * production, with the same selectors, retention, scrape and evaluation intervals, Alertmanager
 * routes and Secrets; what differs is listed in docs/monitoring.md: no Grafana, kube-state-metrics,
 * node-exporter or default rules, which the chart brings and which are not served here.
 *
 * The release manifests are a directory laid out as the operator's module ships them
 * (`scripts/engine/toolchain.sh monitoring` copies them next to the binaries):
 * `prometheus-operator-crd/*.yaml` (the CRDs) and `prometheus-operator/*.yaml` (its ServiceAccount,
 * RBAC, Deployment, Service and ServiceMonitor, for namespace `default`, moved to ours here).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { parseAllDocuments } from "yaml";
import { monitoringPodLabels } from "./addon-workloads";
import { childName, withDependsOn, type Dependency } from "./lib";

/** The images kube-prometheus-stack runs in every stack, pinned in the chart values (one place). */
export const MONITORING_IMAGES = {
  prometheusOperator: {
    registry: "quay.io",
    repository: "prometheus-operator/prometheus-operator",
    tag: "v0.93.1",
  },
  prometheusConfigReloader: {
    registry: "quay.io",
    repository: "prometheus-operator/prometheus-config-reloader",
    tag: "v0.93.1",
  },
  prometheus: { registry: "quay.io", repository: "prometheus/prometheus", tag: "v3.13.1" },
  alertmanager: { registry: "quay.io", repository: "prometheus/alertmanager", tag: "v0.33.1" },
} as const;

/** `registry/repository:tag` of one of MONITORING_IMAGES. */
export function monitoringImageRef(image: { registry: string; repository: string; tag: string }): string {
  return `${image.registry}/${image.repository}:${image.tag}`;
}

/** Where the operator of the release manifests serves its metrics (plain http; the chart's serves https on 10250). */
export const OPERATOR_MANIFESTS_METRICS_PORT = 8080;

/** The subdirectories of an operator manifests directory, and the files each must hold. */
export const OPERATOR_MANIFEST_DIRS = {
  crds: "prometheus-operator-crd",
  operator: "prometheus-operator",
} as const;

/** Problems with an operator manifests directory (missing directory or files), for the args check. */
export function operatorManifestsProblems(dir: string): string[] {
  const problems: string[] = [];
  for (const sub of Object.values(OPERATOR_MANIFEST_DIRS)) {
    const full = path.join(dir, sub);
    if (!fs.existsSync(full) || manifestFiles(full).length === 0)
      problems.push(
        `operatorManifests.path "${dir}" has no YAML files in ${sub}/ (run scripts/engine/toolchain.sh monitoring, which lays them out)`,
      );
  }
  return problems;
}

/** What the chart's templates would make of the values, as the operator route creates it. */
export interface OperatorStackInput {
  /** The stack's name: the chart's fullnameOverride. */
  name: string;
  namespace: pulumi.Input<string>;
  namespaceName: string;
  manifestsPath: string;
  /** `kubePrometheusStackValues(...)`, exactly as the chart would receive it. */
  values: Record<string, unknown>;
  /** Labels of every object made here. */
  labels: (component: string) => Record<string, string>;
  selectorLabels: Record<string, string>;
}

/** Installs the operator, then Prometheus and Alertmanager; returns what monitoring objects must wait for. */
export function createOperatorStack(parent: pulumi.Resource, input: OperatorStackInput): Dependency[] {
  const crds = createCrds(parent, input);
  const operator = createOperator(parent, input, crds);
  const prometheus = createPrometheus(parent, input, crds);
  const alertmanager = createAlertmanager(parent, input, crds);
  return [...crds, ...operator, ...prometheus, ...alertmanager];
}

/**
 * A manifest file's objects, each waiting for `dependsOn`; returns them as resources to wait for
 * (known only once the file is decoded). A ConfigFile's own `dependsOn` would order the component
 * alone: its objects are registered without it, so the option is given to each of them.
 */
function configFile(
  name: string,
  args: k8s.yaml.ConfigFileOpts,
  parent: pulumi.Resource,
  dependsOn: Dependency[] = [],
): Dependency {
  const waitForDependencies: pulumi.ResourceTransformation = ({ props, opts }) => ({
    props,
    opts: { ...opts, dependsOn: withDependsOn(opts.dependsOn, ...dependsOn) },
  });
  const file = new k8s.yaml.ConfigFile(name, args, {
    parent,
    transformations: dependsOn.length > 0 ? [waitForDependencies] : [],
  });
  return file.resources.apply((byKey) => Object.values(byKey));
}

function manifestFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The CRDs, as the resources each file holds (known once the file is decoded). */
function createCrds(parent: pulumi.Resource, input: OperatorStackInput): Dependency[] {
  return manifestFiles(path.join(input.manifestsPath, OPERATOR_MANIFEST_DIRS.crds)).map((file) =>
    configFile(childName(input.name, `crd-${path.basename(file, ".yaml")}`), { file }, parent),
  );
}

/** The operator's own objects, moved from `default` to the stack's namespace, with the chart's settings. */
function createOperator(
  parent: pulumi.Resource,
  input: OperatorStackInput,
  crds: Dependency[],
): Dependency[] {
  const operatorValues = (input.values.prometheusOperator ?? {}) as { resources?: unknown };
  const reloader = monitoringImageRef(MONITORING_IMAGES.prometheusConfigReloader);
  const operatorPodLabels = monitoringPodLabels(input.name).operator;
  const moveToNamespace = (obj: ManifestObject) => {
    if (obj.kind !== "ClusterRole" && obj.kind !== "ClusterRoleBinding")
      obj.metadata.namespace = input.namespaceName;
    for (const subject of obj.kind === "ClusterRoleBinding" ? (obj.subjects ?? []) : [])
      subject.namespace = input.namespaceName;
    if (obj.kind === "ServiceMonitor")
      obj.metadata.labels = { ...obj.metadata.labels, ...input.selectorLabels };
    const template = obj.kind === "Deployment" ? obj.spec?.template : undefined;
    // The chart's operator pod labels too, so the namespace's policies (addon-workloads.ts) admit
    // the same pod whichever route installed it.
    if (template)
      template.metadata = {
        ...template.metadata,
        labels: { ...template.metadata?.labels, ...operatorPodLabels },
      };
    const container = template?.spec?.containers?.[0];
    if (!container) return;
    container.image = monitoringImageRef(MONITORING_IMAGES.prometheusOperator);
    container.args = (container.args ?? []).map((a) =>
      a.startsWith("--prometheus-config-reloader=") ? `--prometheus-config-reloader=${reloader}` : a,
    );
    if (operatorValues.resources) container.resources = operatorValues.resources;
    // The release manifests set no probes; the chart probes /healthz, as every workload of ours is.
    const healthz = {
      httpGet: { path: "/healthz", port: OPERATOR_MANIFESTS_METRICS_PORT },
      periodSeconds: 10,
    };
    container.startupProbe = { ...healthz, periodSeconds: 2, failureThreshold: 60 };
    container.readinessProbe = healthz;
    container.livenessProbe = { ...healthz, failureThreshold: 6 };
  };
  const create = (file: string, dependsOn: Dependency[]) =>
    configFile(
      childName(
        input.name,
        `operator-${path.basename(file, ".yaml").replace(/^prometheus-operator-?/, "") || "deployment"}`,
      ),
      { file, transformations: [(obj) => moveToNamespace(obj as ManifestObject)] },
      parent,
      dependsOn,
    );
  // The operator checks its CRDs and its own permissions once, at start, and runs without the
  // controllers it could not confirm (still healthy, never retrying): its pod must not start before
  // its ServiceAccount, ClusterRole and binding exist.
  const files = manifestFiles(path.join(input.manifestsPath, OPERATOR_MANIFEST_DIRS.operator));
  const runsOperator = (file: string) => manifestKinds(file).includes("Deployment");
  const access = files.filter((f) => !runsOperator(f)).map((file) => create(file, crds));
  const deployment = files.filter(runsOperator).map((file) => create(file, [...crds, ...access]));
  return [...access, ...deployment];
}

/** The kinds a manifest file holds. */
function manifestKinds(file: string): string[] {
  return parseAllDocuments(fs.readFileSync(file, "utf8")).map(
    (doc) => (doc.toJS() as { kind?: string } | null)?.kind ?? "",
  );
}

/** The parts of the operator's manifests that are moved or pinned (a yaml.ConfigFile transformation edits them in place). */
interface ManifestObject {
  kind: string;
  metadata: { namespace?: string; labels?: Record<string, string> };
  subjects?: { namespace?: string }[];
  spec?: {
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: {
        containers?: {
          image?: string;
          args?: string[];
          resources?: unknown;
          startupProbe?: unknown;
          readinessProbe?: unknown;
          livenessProbe?: unknown;
        }[];
      };
    };
  };
}

interface PrometheusSpecValues extends Record<string, unknown> {
  storageSpec?: unknown;
  image?: { registry: string; repository: string; tag: string };
}

/**
 * The Prometheus resource kube-prometheus-stack's `templates/prometheus/prometheus.yaml` renders from
 * `prometheus.prometheusSpec`: the same fields, the chart's defaults for what our values leave out.
 */
export function prometheusResourceSpec(
  name: string,
  namespaceName: string,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const spec = { ...((values.prometheus as { prometheusSpec: PrometheusSpecValues }).prometheusSpec ?? {}) };
  const { storageSpec, image, ...rest } = spec;
  const fields = Object.fromEntries(
    Object.entries(rest).filter(([key]) => !key.endsWith("NilUsesHelmValues")),
  );
  return {
    ...fields,
    ...(image ? { image: `${image.registry}/${image.repository}:${image.tag}`, version: image.tag } : {}),
    ...(storageSpec ? { storage: storageSpec } : {}),
    alerting: {
      alertmanagers: [
        { namespace: namespaceName, name: `${name}-alertmanager`, port: "http-web", apiVersion: "v2" },
      ],
    },
    externalUrl: `http://${name}-prometheus.${namespaceName}:9090`,
    serviceAccountName: `${name}-prometheus`,
    portName: "http-web",
    listenLocal: false,
    enableAdminAPI: false,
    securityContext: CHART_POD_SECURITY_CONTEXT,
  };
}

/** The Alertmanager resource the chart's `templates/alertmanager/alertmanager.yaml` renders. */
export function alertmanagerResourceSpec(
  name: string,
  namespaceName: string,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const spec = {
    ...((values.alertmanager as { alertmanagerSpec: PrometheusSpecValues }).alertmanagerSpec ?? {}),
  };
  const { image, ...rest } = spec;
  return {
    ...rest,
    ...(image ? { image: `${image.registry}/${image.repository}:${image.tag}`, version: image.tag } : {}),
    externalUrl: `http://${name}-alertmanager.${namespaceName}:9093`,
    serviceAccountName: `${name}-alertmanager`,
    portName: "http-web",
    listenLocal: false,
    securityContext: CHART_POD_SECURITY_CONTEXT,
  };
}

/** kube-prometheus-stack's default pod security context for Prometheus and Alertmanager. */
const CHART_POD_SECURITY_CONTEXT = {
  runAsGroup: 2000,
  runAsNonRoot: true,
  runAsUser: 1000,
  fsGroup: 2000,
  seccompProfile: { type: "RuntimeDefault" },
};

function createPrometheus(
  parent: pulumi.Resource,
  input: OperatorStackInput,
  crds: Dependency[],
): Dependency[] {
  const { name } = input;
  const prometheusName = `${name}-prometheus`;
  const metadata = (component: string, objectName = prometheusName) => ({
    name: objectName,
    namespace: input.namespace,
    labels: { ...input.labels(component), ...input.selectorLabels },
  });
  const account = new k8s.core.v1.ServiceAccount(
    childName(name, "prometheus"),
    { metadata: metadata("prometheus") },
    { parent },
  );
  const role = new k8s.rbac.v1.ClusterRole(
    childName(name, "prometheus"),
    {
      metadata: { name: prometheusName, labels: input.labels("prometheus") },
      rules: [
        {
          apiGroups: [""],
          resources: ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
          verbs: ["get", "list", "watch"],
        },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
        { nonResourceURLs: ["/metrics", "/metrics/cadvisor"], verbs: ["get"] },
      ],
    },
    { parent },
  );
  const binding = new k8s.rbac.v1.ClusterRoleBinding(
    childName(name, "prometheus"),
    {
      metadata: { name: prometheusName, labels: input.labels("prometheus") },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
      subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: input.namespaceName }],
    },
    { parent },
  );
  const prometheus = new k8s.apiextensions.CustomResource(
    childName(name, "prometheus-server"),
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "Prometheus",
      metadata: metadata("prometheus"),
      spec: prometheusResourceSpec(name, input.namespaceName, input.values),
    },
    { parent, dependsOn: withDependsOn(undefined, ...crds, binding) },
  );
  const service = new k8s.core.v1.Service(
    childName(name, "prometheus"),
    {
      metadata: metadata("prometheus"),
      spec: {
        ports: [{ name: "http-web", port: 9090, targetPort: 9090 }],
        selector: { "app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": prometheusName },
      },
    },
    { parent },
  );
  return [account, role, binding, prometheus, service];
}

function createAlertmanager(
  parent: pulumi.Resource,
  input: OperatorStackInput,
  crds: Dependency[],
): Dependency[] {
  const { name } = input;
  const alertmanagerName = `${name}-alertmanager`;
  const metadata = (objectName = alertmanagerName) => ({
    name: objectName,
    namespace: input.namespace,
    labels: { ...input.labels("alertmanager"), ...input.selectorLabels },
  });
  const alertmanagerValues = input.values.alertmanager as { config: Record<string, unknown> };
  const account = new k8s.core.v1.ServiceAccount(
    childName(name, "alertmanager"),
    { metadata: metadata() },
    { parent },
  );
  // The operator reads the configuration from the Secret `alertmanager-<name>`, as the chart writes it.
  const config = new k8s.core.v1.Secret(
    childName(name, "alertmanager-config"),
    {
      metadata: metadata(`alertmanager-${alertmanagerName}`),
      type: "Opaque",
      // JSON is YAML: Alertmanager reads it as the chart's toYaml output, without a YAML library here.
      stringData: { "alertmanager.yaml": JSON.stringify(alertmanagerValues.config, null, 2) },
    },
    { parent },
  );
  const alertmanager = new k8s.apiextensions.CustomResource(
    childName(name, "alertmanager-server"),
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "Alertmanager",
      metadata: metadata(),
      spec: alertmanagerResourceSpec(name, input.namespaceName, input.values),
    },
    { parent, dependsOn: withDependsOn(undefined, ...crds, account, config) },
  );
  const service = new k8s.core.v1.Service(
    childName(name, "alertmanager"),
    {
      metadata: metadata(),
      spec: {
        ports: [{ name: "http-web", port: 9093, targetPort: 9093 }],
        selector: { "app.kubernetes.io/name": "alertmanager", alertmanager: alertmanagerName },
      },
    },
    { parent },
  );
  return [account, config, alertmanager, service];
}
