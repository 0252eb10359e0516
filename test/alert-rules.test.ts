/**
 * The alerting rules, checked by Prometheus' own tool: `promtool check rules` on every rule group,
 * and `promtool test rules` unit tests showing each alert fires at its threshold and stays silent just
 * below it, for an HTTP and a gRPC service. promtool is required: without it this file fails and
 * says how to install it (scripts/install-promtool.sh), it never skips.
 */
import { describe, expect, it } from "vitest";
import { selectorLabels } from "../components/lib";
import { REQUEST_METRICS, type MonitoredService, type ServiceProtocol } from "../components/metrics";
import {
  ALERT_NAMES,
  ALERT_THRESHOLDS,
  serviceRuleGroups,
  type AlertingRule,
} from "../components/monitoring-rules";
import { CATALOGS, loadCatalog } from "../services";
import { series, usePromtool } from "./promtool";

const tool = usePromtool("alert-rules-");
const promtool = (args: string[]) => tool.run(args);
const writeRules = (file: string, groups: unknown) => tool.writeRules(file, groups);

describe("promtool check rules", () => {
  const catalogs = Object.values(CATALOGS).map(loadCatalog);
  const services: MonitoredService[] = catalogs.flatMap((c) =>
    c.services
      .filter((s) => s.metrics.enabled)
      .map((s) => ({
        serviceName: s.name,
        namespace: c.namespace,
        platform: c.name,
        protocol: s.protocol,
        selectorLabels: selectorLabels(s.name),
      })),
  );

  it("covers every metrics-enabled service of the three catalogs", () => {
    expect(services.length).toBeGreaterThanOrEqual(12);
    expect(new Set(services.map((s) => s.protocol))).toEqual(new Set(["http", "grpc"]));
  });

  it.each(services.map((s) => [`${s.platform}/${s.serviceName}`, s] as const))(
    "%s: its rule group is valid",
    (_id, service) => {
      const file = writeRules(
        `check-${service.platform}-${service.serviceName}.yaml`,
        serviceRuleGroups(service),
      );
      const result = promtool(["check", "rules", file]);
      expect(result.output).toMatch(/SUCCESS: 6 rules found/);
      expect(result.status, result.output).toBe(0);
    },
  );

  it("rejects a broken rule (the check is real)", () => {
    const file = writeRules("broken.yaml", [
      { name: "broken", rules: [{ alert: "Broken", expr: "sum(rate(http_requests_total[5m]) >" }] },
    ]);
    const result = promtool(["check", "rules", file]);
    expect(result.status).not.toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// Unit tests: series at and just around each threshold.

const NS = "shop";
const POD = "checkout-7d9f8-abcde";

function service(protocol: ServiceProtocol): MonitoredService {
  return {
    serviceName: "checkout",
    namespace: NS,
    platform: "shop",
    protocol,
    selectorLabels: selectorLabels("checkout"),
  };
}

/** Labels the ServiceMonitor's podTargetLabels put on the service's own series. */
const appLabels = (name: string) => ({
  namespace: NS,
  app_kubernetes_io_name: name,
  app_kubernetes_io_instance: name,
});
/** kube_pod_labels for a pod of `name` (kube-state-metrics with the stack's allow-list). */
const podLabels = (name: string, pod: string) =>
  series("kube_pod_labels", {
    namespace: NS,
    pod,
    uid: `${pod}-uid`,
    label_app_kubernetes_io_name: name,
    label_app_kubernetes_io_instance: name,
  });

interface Case {
  title: string;
  alert: AlertingRule["alert"];
  evalTime: string;
  inputs: { series: string; values: string }[];
  /** Labels beyond the rule's own (e.g. the pod) when the alert fires; undefined: must stay silent. */
  fires?: { extraLabels?: Record<string, string>; summary: string };
}

function cases(protocol: ServiceProtocol): Case[] {
  const m = REQUEST_METRICS[protocol];
  const ok = protocol === "http" ? "200" : "OK";
  const serverError = protocol === "http" ? "503" : "Internal";
  const clientError = protocol === "http" ? "404" : "NotFound";
  const requests = (outcome: string, perMinute: number, name = "checkout") => ({
    series: series(m.requestsTotal, { ...appLabels(name), [m.outcomeLabel]: outcome }),
    values: `0+${perMinute}x30`,
  });
  // Cumulative bucket counts per minute: p95 interpolates inside the bucket holding the 95th request.
  const buckets = (counts: Record<string, number>) =>
    Object.entries(counts).map(([le, perMinute]) => ({
      series: series(m.durationBucket, { ...appLabels("checkout"), le }),
      values: `0+${perMinute}x30`,
    }));
  const pod = [{ series: podLabels("checkout", POD), values: "1x100" }];
  const otherPod = [{ series: podLabels("inventory", "inventory-5c4b-xyz12"), values: "1x100" }];
  const restarts = (count: number, podName = POD) => ({
    series: series("kube_pod_container_status_restarts_total", {
      namespace: NS,
      pod: podName,
      container: "app",
    }),
    // 30 quiet minutes, `count` restarts one a minute, then quiet: the 1 h window ending at 66m holds them all.
    values: `0x30 ${Array.from({ length: count }, (_, i) => i + 1).join(" ")} ${count}x${66 - count}`,
  });
  const cpu = (coresUsed: number) => [
    {
      series: series("container_cpu_usage_seconds_total", { namespace: NS, pod: POD, container: "app" }),
      values: `0+${coresUsed * 60}x30`,
    },
    // cAdvisor's pod-level aggregate (no container label) must not be counted twice.
    {
      series: series("container_cpu_usage_seconds_total", { namespace: NS, pod: POD }),
      values: `0+${coresUsed * 60}x30`,
    },
    {
      series: series("kube_pod_container_resource_limits", {
        namespace: NS,
        pod: POD,
        container: "app",
        resource: "cpu",
        unit: "core",
      }),
      values: "1x30",
    },
  ];
  const memory = (bytesUsed: number) => [
    {
      series: series("container_memory_working_set_bytes", { namespace: NS, pod: POD, container: "app" }),
      values: `${bytesUsed}x30`,
    },
    {
      series: series("container_memory_working_set_bytes", { namespace: NS, pod: POD }),
      values: `${bytesUsed}x30`,
    },
    {
      series: series("kube_pod_container_resource_limits", {
        namespace: NS,
        pod: POD,
        container: "app",
        resource: "memory",
        unit: "byte",
      }),
      values: "1000000000x30",
    },
  ];
  const up = (values: string, pod = POD) => ({
    series: series("up", { ...appLabels("checkout"), pod, job: "checkout" }),
    values,
  });
  const t = ALERT_THRESHOLDS;
  return [
    {
      title: `every target down for 2m fires (${t.down.severity})`,
      alert: ALERT_NAMES.down,
      evalTime: "5m",
      inputs: [up("1 1 0 0 0 0"), up("1 1 0 0 0 0", "checkout-7d9f8-fghij")],
      fires: { summary: "checkout: no instance answers Prometheus' scrapes" },
    },
    {
      title: "the last target gone for 2m fires: absent is down",
      alert: ALERT_NAMES.down,
      evalTime: "5m",
      inputs: [up("1 1 stale")],
      fires: { summary: "checkout: no instance answers Prometheus' scrapes" },
    },
    {
      title: "one of two targets down stays silent (the service still answers)",
      alert: ALERT_NAMES.down,
      evalTime: "5m",
      inputs: [up("1 1 0 0 0 0"), up("1x5", "checkout-7d9f8-fghij")],
    },
    {
      title: "down for only 1m is still pending",
      alert: ALERT_NAMES.down,
      evalTime: "4m",
      inputs: [up("1 1 1 0 0")],
    },
    {
      title: `error ratio 5.5 % for 5m fires (${t.errorRatio.severity})`,
      alert: ALERT_NAMES.errorRatio,
      evalTime: "10m",
      inputs: [requests(serverError, 55), requests(ok, 945)],
      fires: { summary: "checkout: 5.5% of requests fail" },
    },
    {
      title: "error ratio 5.5 % for only 4m is still pending",
      alert: ALERT_NAMES.errorRatio,
      evalTime: "5m",
      inputs: [requests(serverError, 55), requests(ok, 945)],
    },
    {
      title: "error ratio 4.5 % stays silent (client errors and other services' errors do not count)",
      alert: ALERT_NAMES.errorRatio,
      evalTime: "10m",
      inputs: [
        requests(serverError, 45),
        requests(ok, 655),
        requests(clientError, 300),
        requests(serverError, 1000, "inventory"),
      ],
    },
    {
      title: `p95 latency 2.2 s for 5m fires (${t.latencyP95Seconds.severity})`,
      alert: ALERT_NAMES.latencyP95,
      evalTime: "10m",
      inputs: buckets({ "0.5": 50, "1": 80, "2": 94, "3": 99, "+Inf": 100 }),
      fires: { summary: "checkout: p95 latency is 2.2s" },
    },
    {
      title: "p95 latency 1.8 s stays silent",
      alert: ALERT_NAMES.latencyP95,
      evalTime: "10m",
      inputs: buckets({ "0.5": 50, "1": 87, "2": 97, "3": 100, "+Inf": 100 }),
    },
    {
      title: `6 restarts within 1h fire (${t.restartsPerHour.severity})`,
      alert: ALERT_NAMES.restarts,
      evalTime: "66m",
      inputs: [...pod, restarts(6)],
      fires: { summary: "checkout: 6 container restarts in the last hour" },
    },
    {
      title: "5 restarts within 1h stay silent (another service's restarts do not count)",
      alert: ALERT_NAMES.restarts,
      evalTime: "66m",
      inputs: [...pod, ...otherPod, restarts(5), restarts(20, "inventory-5c4b-xyz12")],
    },
    {
      title: `CPU at 92 % of the limit for 15m fires (${t.saturation.severity})`,
      alert: ALERT_NAMES.cpuSaturation,
      evalTime: "20m",
      inputs: [...pod, ...cpu(0.92)],
      fires: { extraLabels: { pod: POD }, summary: `checkout: pod ${POD} uses 92% of its CPU limit` },
    },
    {
      title: "CPU at 88 % of the limit stays silent",
      alert: ALERT_NAMES.cpuSaturation,
      evalTime: "20m",
      inputs: [...pod, ...cpu(0.88)],
    },
    {
      title: `memory at 92 % of the limit for 15m fires (${t.saturation.severity})`,
      alert: ALERT_NAMES.memorySaturation,
      evalTime: "20m",
      inputs: [...pod, ...memory(920_000_000)],
      fires: { extraLabels: { pod: POD }, summary: `checkout: pod ${POD} uses 92% of its memory limit` },
    },
    {
      title: "memory at 88 % of the limit stays silent",
      alert: ALERT_NAMES.memorySaturation,
      evalTime: "20m",
      inputs: [...pod, ...memory(880_000_000)],
    },
  ];
}

describe.each(["http", "grpc"] as const)("promtool test rules: %s service", (protocol) => {
  const svc = service(protocol);
  const groups = serviceRuleGroups(svc);
  const rules = groups.flatMap((g) => g.rules);
  const ruleFile = `rules-${protocol}.yaml`;

  it("has one rule per alert, each labelled with severity and its service", () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(Object.values(ALERT_NAMES).sort());
    for (const rule of rules)
      expect(rule.labels).toMatchObject({
        service: "checkout",
        namespace: NS,
        platform: "shop",
        severity: expect.stringMatching(/^(critical|warning)$/),
      });
  });

  it.each(cases(protocol).map((c) => [c.title, c] as const))("%s", (_title, c) => {
    writeRules(ruleFile, groups);
    const rule = rules.find((r) => r.alert === c.alert);
    if (!rule) throw new Error(`no rule ${c.alert}`);
    const expected = c.fires
      ? [
          {
            exp_labels: { ...rule.labels, ...c.fires.extraLabels },
            exp_annotations: { ...rule.annotations, summary: c.fires.summary },
          },
        ]
      : [];
    const testFile = `test-${protocol}-${c.alert}-${c.fires ? "fires" : "silent"}-${c.evalTime}.yaml`;
    const result = tool.testAlert(testFile, ruleFile, { ...c, expected });
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS/);
  });

  it("a wrong expectation fails (the unit tests can fail)", () => {
    writeRules(ruleFile, groups);
    const [firing] = cases(protocol).filter((c) => c.fires);
    if (!firing) throw new Error("no firing case");
    const testFile = `test-${protocol}-negative-control.yaml`;
    const result = tool.testAlert(testFile, ruleFile, { ...firing, expected: [] });
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/FAILED/);
  });
});
