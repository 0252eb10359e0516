/**
 * Monitoring wired by construction, on the real program (`index.ts`) for every stack: each
 * metrics-enabled service of the three catalogs gets a ServiceMonitor, a PrometheusRule and a
 * dashboard carrying exactly the labels the stack's Prometheus and Grafana sidecar select; the
 * ServiceMonitor finds the service's Service and its metrics port; every rule group passes promtool;
 * and turning observability off removes every monitoring object and nothing else.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DATASOURCE_UID } from "../components/dashboards";
import { selectorLabels } from "../components/lib";
import { CATALOGS, loadCatalog } from "../services";
import { byType, isSecretValue, runStack, type RecordedResource, type RunResult } from "./harness";
import {
  dashboardProblems,
  dashboardQueries,
  promtoolCheckRules,
  queryScopeProblems,
  requirePromtool,
} from "./observability-checks";

const T = {
  stack: "platform:index:ObservabilityStack",
  monitoring: "platform:index:ServiceMonitoring",
  dataStoreMonitoring: "platform:index:DataStoreMonitoring",
  podMonitor: "kubernetes:monitoring.coreos.com/v1:PodMonitor",
  release: "kubernetes:helm.sh/v3:Release",
  service: "kubernetes:core/v1:Service",
  configMap: "kubernetes:core/v1:ConfigMap",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
} as const;

/** The local stack leaves Helm charts out unless one is on disk; point it at a path so it gets the stack. */
// A chart path must exist (a missing one is refused): an empty directory stands in for the chart.
const LOCAL_CHART = {
  "platform:observability": { chart: { path: mkdtempSync(path.join(tmpdir(), "kube-prometheus-stack-")) } },
};
const STACKS = ["local", "staging", "production"] as const;
const overridesFor = (stack: (typeof STACKS)[number]) => (stack === "local" ? LOCAL_CHART : {});

const catalogs = Object.values(CATALOGS).map(loadCatalog);
const monitoredServices = catalogs.flatMap((c) =>
  c.services.filter((s) => s.metrics.enabled).map((s) => ({ catalog: c, spec: s })),
);
const unmonitoredServices = catalogs.flatMap((c) =>
  c.services.filter((s) => !s.metrics.enabled).map((s) => ({ catalog: c, spec: s })),
);

type Json = ReturnType<typeof JSON.parse>;

/** Dotted paths of every defined leaf of the stack outputs (a secret is a leaf), sorted. */
function outputPaths(value: unknown, prefix = ""): string[] {
  if (value === undefined) return [];
  if (value === null || typeof value !== "object" || Array.isArray(value) || isSecretValue(value))
    return [prefix];
  return Object.entries(value)
    .flatMap(([k, v]) => outputPaths(v, prefix ? `${prefix}.${k}` : k))
    .sort();
}
const meta = (r: RecordedResource) =>
  r.inputs.metadata as { name?: string; namespace?: string; labels?: Record<string, string> };
const contains = (labels: Record<string, string> | undefined, wanted: Record<string, string>) =>
  Object.entries(wanted).every(([k, v]) => labels?.[k] === v);

describe.each(STACKS)("%s stack: every metrics-enabled service is monitored", (stack) => {
  let run: RunResult;
  let values: Json;
  beforeAll(async () => {
    requirePromtool();
    run = await runStack(stack, { config: overridesFor(stack) });
    values = byType(run, T.release).find((r) => r.parent.includes(T.stack))?.inputs.values;
  });

  it("runs one ObservabilityStack, and there are monitored services in all three catalogs", () => {
    expect(byType(run, T.stack)).toHaveLength(1);
    expect(values).toBeDefined();
    expect(new Set(monitoredServices.map((s) => s.catalog.name))).toEqual(
      new Set(["ecommerce", "fintech", "trading"]),
    );
  });

  it("one ServiceMonitoring per metrics-enabled service, none for the others", () => {
    const names = byType(run, T.monitoring)
      .map((m) => m.name)
      .sort();
    expect(names).toEqual(monitoredServices.map((s) => `${s.catalog.name}-${s.spec.name}-monitoring`).sort());
    for (const { catalog, spec } of unmonitoredServices)
      expect(names).not.toContain(`${catalog.name}-${spec.name}-monitoring`);
  });

  it("each ServiceMonitor carries the labels Prometheus selects, sits in a namespace Prometheus reads, and finds its Service's metrics port", () => {
    const prometheus = values.prometheus.prometheusSpec;
    const selected: Record<string, string> = prometheus.serviceMonitorSelector.matchLabels;
    const namespaces: string[] =
      prometheus.serviceMonitorNamespaceSelector.matchExpressions?.[0]?.values ?? [];
    for (const { catalog, spec } of monitoredServices) {
      const id = `${catalog.name}/${spec.name}`;
      const sm = byType(run, T.serviceMonitor).find(
        (r) => r.name === `${catalog.name}-${spec.name}-monitoring-servicemonitor`,
      );
      if (!sm) throw new Error(`${id}: no ServiceMonitor`);
      expect(contains(meta(sm).labels, selected), id).toBe(true);
      expect(meta(sm).namespace, id).toBe(catalog.namespace);
      if (prometheus.serviceMonitorNamespaceSelector.matchExpressions)
        expect(namespaces, id).toContain(catalog.namespace);
      const smSpec = sm.inputs.spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
      expect(smSpec.selector.matchLabels, id).toEqual(selectorLabels(spec.name));
      expect(smSpec.endpoints[0]?.path, id).toBe(spec.metrics.path);
      // The Service the ServiceMonitor selects exists in that namespace and has the scraped port.
      const services = byType(run, T.service).filter(
        (s) =>
          meta(s).namespace === catalog.namespace && contains(meta(s).labels, smSpec.selector.matchLabels),
      );
      expect(services.length, `${id}: Services selected`).toBeGreaterThanOrEqual(1);
      const ports = services.flatMap((s) =>
        ((s.inputs.spec as { ports?: { name?: string; port: number }[] }).ports ?? []).map((p) => p),
      );
      const scraped = ports.find((p) => p.name === smSpec.endpoints[0]?.port);
      expect(scraped, `${id}: port ${smSpec.endpoints[0]?.port}`).toBeDefined();
      expect(scraped?.port, id).toBe(spec.metrics.port ?? spec.port);
    }
  });

  it("each PrometheusRule carries the labels Prometheus selects, and every rule group passes promtool check rules", () => {
    const selected: Record<string, string> = values.prometheus.prometheusSpec.ruleSelector.matchLabels;
    const groups: unknown[] = [];
    for (const { catalog, spec } of monitoredServices) {
      const rule = byType(run, T.prometheusRule).find(
        (r) => r.name === `${catalog.name}-${spec.name}-monitoring-rules`,
      );
      if (!rule) throw new Error(`${catalog.name}/${spec.name}: no PrometheusRule`);
      expect(contains(meta(rule).labels, selected), spec.name).toBe(true);
      const ruleGroups = (
        rule.inputs.spec as { groups: { rules: { expr: string; labels: Record<string, string> }[] }[] }
      ).groups;
      for (const r of ruleGroups.flatMap((g) => g.rules)) {
        expect(r.labels.service).toBe(spec.name);
        expect(
          queryScopeProblems(r.expr, {
            serviceName: spec.name,
            namespace: catalog.namespace,
            selectorLabels: selectorLabels(spec.name),
          }),
        ).toEqual([]);
      }
      groups.push(...ruleGroups);
    }
    expect(groups).toHaveLength(monitoredServices.length);
    const check = promtoolCheckRules(groups);
    expect(check.status, check.output).toBe(0);
    expect(check.output).toContain(`SUCCESS: ${monitoredServices.length * 6} rules found`);
  });

  it("each dashboard carries the label Grafana's sidecar selects, is valid and queries only its service; one overview per catalog", () => {
    const sidecar = values.grafana.sidecar.dashboards;
    const dashboardLabel = { [sidecar.label as string]: sidecar.labelValue as string };
    const dashboards = byType(run, T.configMap).filter((c) => contains(meta(c).labels, dashboardLabel));
    for (const { catalog, spec } of monitoredServices) {
      const cm = dashboards.find((c) => c.name === `${catalog.name}-${spec.name}-monitoring-dashboard`);
      if (!cm)
        throw new Error(
          `${catalog.name}/${spec.name}: no dashboard ConfigMap with ${JSON.stringify(dashboardLabel)}`,
        );
      const dashboard = JSON.parse(Object.values(cm.inputs.data as Record<string, string>)[0] as string);
      expect(dashboardProblems(dashboard, DEFAULT_DATASOURCE_UID)).toEqual([]);
      for (const q of dashboardQueries(dashboard))
        expect(
          queryScopeProblems(q.expr, {
            serviceName: spec.name,
            namespace: catalog.namespace,
            selectorLabels: selectorLabels(spec.name),
          }),
          q.panel,
        ).toEqual([]);
    }
    for (const catalog of catalogs) {
      const overview = dashboards.find((c) => c.name === `${catalog.name}-overview-dashboard`);
      if (!overview) throw new Error(`${catalog.name}: no overview dashboard`);
      const dashboard = JSON.parse(
        Object.values(overview.inputs.data as Record<string, string>)[0] as string,
      );
      expect(dashboardProblems(dashboard, DEFAULT_DATASOURCE_UID)).toEqual([]);
      const rows = (dashboard.panels as { type: string; title: string }[])
        .filter((p) => p.type === "row")
        .map((p) => p.title);
      expect(rows).toEqual(
        monitoredServices
          .filter((s) => s.catalog.name === catalog.name)
          .map((s) => s.spec.name)
          .sort(),
      );
    }
    // Dashboard uids are unique across the whole Grafana.
    const uids = dashboards.map(
      (c) => JSON.parse(Object.values(c.inputs.data as Record<string, string>)[0] as string).uid,
    );
    expect(new Set(uids).size).toBe(uids.length);
  });

  it("every monitoring object waits for the kube-prometheus-stack release", () => {
    const release = byType(run, T.release).find((r) => r.parent.includes(T.stack)) as RecordedResource;
    const components = new Set(byType(run, T.monitoring).map((c) => c.urn));
    const children = run.resources.filter((r) => components.has(r.parent));
    expect(children).toHaveLength(monitoredServices.length * 3);
    for (const r of children) expect(r.dependencies, r.name).toContain(release.urn);
  });

  it("Prometheus may reach each monitored service's metrics port through its NetworkPolicy", () => {
    for (const { catalog, spec } of monitoredServices) {
      const metricsPort = spec.metrics.port ?? spec.port;
      const policies = byType(run, T.networkPolicy).filter((p) => meta(p).namespace === catalog.namespace);
      const allowsMonitoring = policies.some((p) => {
        const s = p.inputs.spec as Json;
        if (!contains(s.podSelector?.matchLabels, selectorLabels(spec.name))) return false;
        return (s.ingress ?? []).some(
          (rule: Json) =>
            (rule.from ?? []).some(
              (peer: Json) =>
                peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "monitoring",
            ) &&
            (rule.ports ?? []).some(
              (port: Json) =>
                port.port === metricsPort || port.port === "metrics" || port.port === spec.protocol,
            ),
        );
      });
      expect(allowsMonitoring, `${catalog.name}/${spec.name}`).toBe(true);
    }
  });
});

describe.each(STACKS)("%s stack: observability off", (stack) => {
  let on: RunResult;
  let off: RunResult;
  beforeAll(async () => {
    on = await runStack(stack, { config: overridesFor(stack) });
    off = await runStack(stack, { config: { "platform:observability": { enabled: false } } });
  });

  /** Every resource registered under the ObservabilityStack, a ServiceMonitoring or a DataStoreMonitoring (at any depth). */
  function monitoringUrns(run: RunResult): Set<string> {
    const roots = run.resources
      .filter((r) => r.type === T.stack || r.type === T.monitoring || r.type === T.dataStoreMonitoring)
      .map((r) => r.urn);
    const found = new Set(roots);
    let grew = true;
    while (grew) {
      grew = false;
      for (const r of run.resources) {
        if (!found.has(r.urn) && found.has(r.parent)) {
          found.add(r.urn);
          grew = true;
        }
      }
    }
    return found;
  }

  it("removes every monitoring object and adds none", () => {
    const onUrns = new Set(on.resources.map((r) => r.urn));
    const offUrns = new Set(off.resources.map((r) => r.urn));
    const monitoring = monitoringUrns(on);
    expect(monitoring.size).toBeGreaterThan(monitoredServices.length * 4);
    expect([...onUrns].filter((u) => !offUrns.has(u)).sort()).toEqual([...monitoring].sort());
    expect([...offUrns].filter((u) => !onUrns.has(u))).toEqual([]);
    for (const type of [
      T.serviceMonitor,
      T.podMonitor,
      T.prometheusRule,
      T.stack,
      T.monitoring,
      T.dataStoreMonitoring,
    ])
      expect(byType(off, type), type).toEqual([]);
  });

  it("changes nothing else but the monitoring namespace's access to metrics ports", () => {
    const offByUrn = new Map(off.resources.map((r) => [r.urn, r]));
    const changed = on.resources
      .filter((r) => offByUrn.has(r.urn))
      .filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(offByUrn.get(r.urn)?.inputs))
      .map((r) => ({ r, before: offByUrn.get(r.urn) as RecordedResource }));
    for (const { r, before } of changed) {
      // The only permitted difference: NetworkPolicy ingress rules from the monitoring namespace.
      expect(r.type, r.name).toBe(T.networkPolicy);
      const strip = (spec: Json) => ({
        ...spec,
        ingress: (spec.ingress ?? []).filter(
          (rule: Json) =>
            !(rule.from ?? []).some(
              (peer: Json) =>
                peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "monitoring",
            ),
        ),
      });
      expect(strip(r.inputs.spec), r.name).toEqual(strip(before.inputs.spec));
    }
    // Stack outputs: only Grafana's disappear.
    const onPaths = outputPaths(on.outputs);
    const offPaths = outputPaths(off.outputs);
    expect(onPaths.filter((p) => !offPaths.includes(p))).toEqual([
      "platform.grafanaAdminSecret",
      "platform.grafanaUrl",
    ]);
    expect(offPaths.filter((p) => !onPaths.includes(p))).toEqual([]);
  });
});
