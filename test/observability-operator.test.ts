/**
 * ObservabilityStack without its chart (`operatorManifests`): prometheus-operator from its own
 * release manifests (the real ones, from the operator's Go module at the version the chart ships),
 * and the Prometheus and Alertmanager resources made from the very values the chart receives in
 * staging and production. Asserted: the same selectors, intervals, retention, storage, images and
 * Alertmanager routes as the chart route; the operator moved into the stack's namespace with the
 * pinned images; monitoring objects wait for the install; and the mutually exclusive args.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { beforeAll, describe, expect, it } from "vitest";
import { STAGE_PROFILES } from "../config/profiles";
import { CHART_VERSIONS } from "../config/settings";
import { selectorLabels } from "../components/lib";
import {
  alertmanagerConfig,
  ObservabilityStack,
  type ObservabilityStackArgs,
} from "../components/ObservabilityStack";
import {
  MONITORING_IMAGES,
  monitoringImageRef,
  OPERATOR_MANIFEST_DIRS,
} from "../components/prometheus-operator";
import { byType, reveal, runProgram, type RecordedResource, type RunResult } from "./harness";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";

const OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator";

/** The versions the local engine builds, read from the one file that states them. */
function engineVersion(key: string): string {
  const text = readFileSync(path.join(__dirname, "..", "scripts", "engine", "versions.env"), "utf8");
  const found = new RegExp(`^${key}=(\\S+)$`, "m").exec(text)?.[1];
  if (!found) throw new Error(`scripts/engine/versions.env states no ${key}`);
  return found;
}

/**
 * Problems of a custom resource against the CRD the operator's release ships (its openAPIV3Schema):
 * the API server's own check, which a field the operator does not know fails.
 */
function crdSchemaProblems(manifests: string, plural: string, object: Record<string, unknown>): string[] {
  const file = path.join(manifests, OPERATOR_MANIFEST_DIRS.crds, `monitoring.coreos.com_${plural}.yaml`);
  const crd = parseYaml(readFileSync(file, "utf8")) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
  };
  const version = crd.spec.versions.find((v) => v.name === "v1");
  if (!version) return [`${file} has no v1 version`];
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(
    version.schema.openAPIV3Schema,
  );
  return validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}

/** The operator's release manifests, laid out as `toolchain.sh monitoring` lays them out. */
function operatorManifests(): string {
  const version = engineVersion("PROMETHEUS_OPERATOR_VERSION");
  const download = spawnSync("go", ["mod", "download", "-json", `${OPERATOR_MODULE}@${version}`], {
    cwd: tmpdir(),
    encoding: "utf8",
    env: { ...process.env, GOFLAGS: "-mod=mod" },
  });
  const dir = /"Dir": "([^"]+)"/.exec(download.stdout)?.[1];
  if (!dir)
    throw new Error(
      `go mod download ${OPERATOR_MODULE}@${version} failed: ${download.stdout}${download.stderr}`,
    );
  const layout = mkdtempSync(path.join(tmpdir(), "operator-manifests-"));
  symlinkSync(
    path.join(dir, "example", "prometheus-operator-crd"),
    path.join(layout, OPERATOR_MANIFEST_DIRS.crds),
  );
  symlinkSync(
    path.join(dir, "example", "rbac", "prometheus-operator"),
    path.join(layout, OPERATOR_MANIFEST_DIRS.operator),
  );
  return layout;
}

const T = {
  release: "kubernetes:helm.sh/v3:Release",
  crd: "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
  deployment: "kubernetes:apps/v1:Deployment",
  clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  prometheus: "kubernetes:monitoring.coreos.com/v1:Prometheus",
  alertmanager: "kubernetes:monitoring.coreos.com/v1:Alertmanager",
  serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  secret: "kubernetes:core/v1:Secret",
  service: "kubernetes:core/v1:Service",
} as const;

const WEBHOOK_URL = "http://alert-sink.monitoring.svc:8080/alerts";
const BASE: ObservabilityStackArgs = {
  prometheusStorageSize: STAGE_PROFILES.staging.observability.prometheusStorageSize,
  grafanaStorageSize: STAGE_PROFILES.staging.observability.grafanaStorageSize,
  stage: "staging",
  monitoredNamespaces: ["ecommerce"],
  alertReceiver: "pagerduty",
  alertWebhookUrl: WEBHOOK_URL,
};

function program(args: Partial<ObservabilityStackArgs>) {
  return () => {
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    const stack = new ObservabilityStack("observability", { ...BASE, ...args }, { providers: [provider] });
    stack.monitorService(
      {
        serviceName: "order-service",
        namespace: "ecommerce",
        platform: "ecommerce",
        protocol: "http",
        metricsPortName: "metrics",
        metricsPath: "/metrics",
        selectorLabels: selectorLabels("order-service"),
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
      },
      {},
    );
    return { prometheusUrl: stack.prometheusUrl, alertmanagerUrl: stack.alertmanagerUrl };
  };
}

const spec = (r: RecordedResource | undefined) => (r?.inputs.spec ?? {}) as Record<string, unknown>;

describe("ObservabilityStack from the operator's manifests (no chart)", () => {
  let manifests: string;
  let operatorRun: RunResult;
  let chartRun: RunResult;
  beforeAll(async () => {
    manifests = operatorManifests();
    operatorRun = await runProgram(program({ operatorManifests: { path: manifests } }), { stack: "local" });
    chartRun = await runProgram(
      program({ chart: { version: CHART_VERSIONS.kubePrometheusStack, source: "repository" } }),
      { stack: "staging" },
    );
  }, 400_000);

  it("creates no Helm release, and installs every CRD the operator's release ships", () => {
    expect(byType(operatorRun, T.release)).toHaveLength(0);
    const crds = byType(operatorRun, T.crd).map((c) => (c.inputs.metadata as { name: string }).name);
    expect(crds).toEqual(
      expect.arrayContaining([
        "prometheuses.monitoring.coreos.com",
        "alertmanagers.monitoring.coreos.com",
        "servicemonitors.monitoring.coreos.com",
        "podmonitors.monitoring.coreos.com",
        "prometheusrules.monitoring.coreos.com",
      ]),
    );
  });

  it("runs the operator in the stack's namespace with the images the chart route pins", () => {
    const [deployment] = byType(operatorRun, T.deployment);
    const podSpec = (
      deployment?.inputs.spec as { template: { spec: { containers: Record<string, unknown>[] } } }
    ).template.spec;
    const container = podSpec.containers[0] as { image: string; args: string[] };
    expect((deployment?.inputs.metadata as { namespace: string }).namespace).toBe("monitoring");
    expect(container.image).toBe(monitoringImageRef(MONITORING_IMAGES.prometheusOperator));
    expect(container.args).toContain(
      `--prometheus-config-reloader=${monitoringImageRef(MONITORING_IMAGES.prometheusConfigReloader)}`,
    );
    // The operator's binding must name its ServiceAccount where it now runs, or it has no rights.
    const binding = byType(operatorRun, T.clusterRoleBinding).find(
      (b) => (b.inputs.metadata as { name: string }).name === "prometheus-operator",
    );
    expect(binding?.inputs.subjects).toEqual([
      { kind: "ServiceAccount", name: "prometheus-operator", namespace: "monitoring" },
    ]);
    const values = byType(chartRun, T.release)[0]?.inputs.values as {
      prometheusOperator: { image: unknown; prometheusConfigReloader: { image: unknown } };
    };
    expect(values.prometheusOperator.image).toEqual(MONITORING_IMAGES.prometheusOperator);
    expect(values.prometheusOperator.prometheusConfigReloader.image).toEqual(
      MONITORING_IMAGES.prometheusConfigReloader,
    );
  });

  it("the images are the versions the local engine builds", () => {
    expect(MONITORING_IMAGES.prometheusOperator.tag).toBe(engineVersion("PROMETHEUS_OPERATOR_VERSION"));
    expect(MONITORING_IMAGES.prometheusConfigReloader.tag).toBe(engineVersion("PROMETHEUS_OPERATOR_VERSION"));
    expect(MONITORING_IMAGES.prometheus.tag).toBe(engineVersion("PROMETHEUS_VERSION"));
    expect(MONITORING_IMAGES.alertmanager.tag).toBe(engineVersion("ALERTMANAGER_VERSION"));
  });

  it("makes Prometheus from exactly the chart's prometheusSpec values: selectors, intervals, retention, storage, image", () => {
    const prometheus = byType(operatorRun, T.prometheus)[0];
    const values = byType(chartRun, T.release)[0]?.inputs.values as {
      prometheus: { prometheusSpec: Record<string, unknown> };
    };
    const chartSpec = values.prometheus.prometheusSpec;
    const ours = spec(prometheus);
    for (const key of [
      "replicas",
      "scrapeInterval",
      "evaluationInterval",
      "retention",
      "retentionSize",
      "resources",
      "serviceMonitorSelector",
      "serviceMonitorNamespaceSelector",
      "podMonitorSelector",
      "podMonitorNamespaceSelector",
      "ruleSelector",
      "ruleNamespaceSelector",
      "probeSelector",
      "scrapeConfigSelector",
    ])
      expect(ours[key], key).toEqual(chartSpec[key]);
    expect(ours.storage).toEqual(chartSpec.storageSpec);
    expect(ours.image).toBe(monitoringImageRef(MONITORING_IMAGES.prometheus));
    expect(ours.version).toBe(MONITORING_IMAGES.prometheus.tag);
    expect(Object.keys(ours).filter((k) => k.endsWith("NilUsesHelmValues"))).toEqual([]);
    expect(ours.alerting).toEqual({
      alertmanagers: [
        { namespace: "monitoring", name: "observability-alertmanager", port: "http-web", apiVersion: "v2" },
      ],
    });
    // The selectors name the stack's labels, which every monitoring object carries.
    expect(ours.serviceMonitorSelector).toEqual({
      matchLabels: { "microservices-platform/monitoring": "observability" },
    });
    expect(
      crdSchemaProblems(manifests, "prometheuses", prometheus?.inputs as Record<string, unknown>),
    ).toEqual([]);
    // The judge is not vacuous: a field of the wrong type fails it.
    expect(
      crdSchemaProblems(manifests, "prometheuses", {
        ...prometheus?.inputs,
        spec: { ...ours, replicas: "two" },
      }),
    ).not.toEqual([]);
  });

  it("makes Alertmanager with the chart's routes, the webhook URL only in its mounted Secret", () => {
    const alertmanager = byType(operatorRun, T.alertmanager)[0];
    expect(spec(alertmanager).image).toBe(monitoringImageRef(MONITORING_IMAGES.alertmanager));
    expect(spec(alertmanager).secrets).toEqual(["observability-alert-webhook"]);
    expect(
      crdSchemaProblems(manifests, "alertmanagers", alertmanager?.inputs as Record<string, unknown>),
    ).toEqual([]);
    const config = byType(operatorRun, T.secret).find(
      (s) => (s.inputs.metadata as { name: string }).name === "alertmanager-observability-alertmanager",
    );
    const text = (reveal(config?.inputs.stringData) as Record<string, string>)["alertmanager.yaml"] as string;
    expect(JSON.parse(text)).toEqual(alertmanagerConfig("pagerduty", "observability-alert-webhook"));
    expect(text).not.toContain(WEBHOOK_URL);
    const webhook = byType(operatorRun, T.secret).find(
      (s) => (s.inputs.metadata as { name: string }).name === "observability-alert-webhook",
    );
    expect((reveal(webhook?.inputs.stringData) as Record<string, unknown>).url).toBe(WEBHOOK_URL);
  });

  it("serves Prometheus and Alertmanager under the Service names the chart route uses", () => {
    const services = byType(operatorRun, T.service).map((s) => (s.inputs.metadata as { name: string }).name);
    expect(services).toEqual(
      expect.arrayContaining(["observability-prometheus", "observability-alertmanager"]),
    );
    const prometheusService = byType(operatorRun, T.service).find(
      (s) => (s.inputs.metadata as { name: string }).name === "observability-prometheus",
    );
    expect((prometheusService?.inputs.spec as { selector: Record<string, string> }).selector).toEqual({
      "app.kubernetes.io/name": "prometheus",
      "operator.prometheus.io/name": "observability-prometheus",
    });
  });

  it("a service's monitoring objects wait for the operator's CRDs", () => {
    const monitor = byType(operatorRun, T.serviceMonitor).find(
      (m) => (m.inputs.metadata as { namespace?: string }).namespace === "ecommerce",
    );
    const crd = byType(operatorRun, T.crd).find(
      (c) => (c.inputs.metadata as { name: string }).name === "servicemonitors.monitoring.coreos.com",
    );
    expect(monitor).toBeDefined();
    // Not the ConfigFile component: its CRDs exist only once its file is decoded, and waiting for it
    // would wait for the children registered so far.
    expect(monitor?.dependencies).toContain(crd?.urn);
  });

  it("the operator's pod starts only once its CRDs, ServiceAccount, ClusterRole and binding exist", () => {
    // The operator confirms its CRDs and permissions once, at start: started earlier, it runs without
    // the Prometheus and Alertmanager controllers and still reports healthy.
    const operator = byType(operatorRun, T.deployment).find(
      (d) => (d.inputs.metadata as { name: string }).name === "prometheus-operator",
    );
    const waitedFor = (type: string, name: string) => {
      const dependency = byType(operatorRun, type).find(
        (r) => (r.inputs.metadata as { name: string }).name === name,
      );
      expect(dependency, `${type} ${name}`).toBeDefined();
      return operator?.dependencies.includes(dependency!.urn);
    };
    expect(operator).toBeDefined();
    expect(waitedFor(T.clusterRoleBinding, "prometheus-operator")).toBe(true);
    expect(waitedFor("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "prometheus-operator")).toBe(
      true,
    );
    expect(waitedFor("kubernetes:core/v1:ServiceAccount", "prometheus-operator")).toBe(true);
    expect(waitedFor(T.crd, "prometheuses.monitoring.coreos.com")).toBe(true);
    expect(waitedFor(T.crd, "alertmanagers.monitoring.coreos.com")).toBe(true);
  });

  it("refuses both install routes at once, neither, and a manifests directory without the manifests", async () => {
    const problems = (args: Partial<ObservabilityStackArgs>) =>
      runProgram(program(args)).then(
        () => "",
        (e: unknown) => String(e),
      );
    expect(
      await problems({
        chart: { version: CHART_VERSIONS.kubePrometheusStack, source: "repository" },
        operatorManifests: { path: manifests },
      }),
    ).toContain("chart and operatorManifests are mutually exclusive");
    expect(await problems({})).toContain("chart is required (or operatorManifests");
    expect(await problems({ operatorManifests: { path: "/nonexistent/manifests" } })).toContain(
      'operatorManifests.path "/nonexistent/manifests" has no YAML files in prometheus-operator-crd/',
    );
  });
});
