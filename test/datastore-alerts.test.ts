/**
 * The data stores' alerting rules, checked by Prometheus' own tool like the services' rules
 * (alert-rules.test.ts): `promtool check rules`, then `promtool test rules` cases showing each alert
 * fires past its threshold and stays silent short of it (or for another store's series). Then the
 * DataStoreMonitoring objects themselves, validated against the Prometheus Operator's schemas, and the
 * production stack: every catalog's stores are watched. promtool is required, never skipped.
 */
import { describe, expect, it } from "vitest";
import { DataStoreMonitoring } from "../components/DataStoreMonitoring";
import {
  DATASTORE_ALERT_NAMES as A,
  namespaceVolumeRuleGroups,
  postgresClusterRuleGroups,
} from "../components/datastore-rules";
import type { RuleGroup } from "../components/monitoring-rules";
import { invalidKubernetesObjects, thrownMessage, argsErrorMessage } from "./dataServiceChecks";
import { byType, onCluster, reveal, runProgram, runStack, STAND_IN_KUBERNETES } from "./harness";
import { series, usePromtool } from "./promtool";

const tool = usePromtool("datastore-rules-");
const promtool = (args: string[]) => tool.run(args);
const writeRules = (file: string, groups: RuleGroup[]) => tool.writeRules(file, groups);

const NS = "trading";
const CLUSTER = "trading-postgres";
const target = {
  store: "trading-postgres",
  clusterName: CLUSTER,
  namespace: NS,
  platform: "trading",
  instances: 3,
  // One hour keeps the unit tests short; production passes 26.
  backupMaxAgeHours: 1,
};
const pg = (pod: string) => ({ namespace: NS, cluster: CLUSTER, pod });
const pvcSeries = (pvc: string, usedPercent: number) => [
  {
    series: series("kubelet_volume_stats_used_bytes", { namespace: NS, persistentvolumeclaim: pvc }),
    values: `${usedPercent}x60`,
  },
  {
    series: series("kubelet_volume_stats_capacity_bytes", { namespace: NS, persistentvolumeclaim: pvc }),
    values: "100x60",
  },
];
const collectorUp = (pods: string[]) =>
  pods.map((pod) => ({ series: series("cnpg_collector_up", pg(pod)), values: "1x60" }));

interface Case {
  title: string;
  alert: string;
  evalTime: string;
  inputs: { series: string; values: string }[];
  /** `description` only where it carries a template (expanded by Prometheus). */
  fires?: { extraLabels?: Record<string, string>; summary: string; description?: string };
}

const postgresCases: Case[] = [
  {
    title: "a base backup 75 minutes old fires (limit 1h, held 10m)",
    alert: A.backupTooOld,
    evalTime: "85m",
    inputs: [
      {
        series: series("cnpg_collector_last_available_backup_timestamp", pg(`${CLUSTER}-1`)),
        values: "600x100",
      },
    ],
    fires: { summary: `${CLUSTER}: last base backup is 1h 15m 0s old` },
  },
  {
    title: "a base backup 55 minutes old stays silent",
    alert: A.backupTooOld,
    evalTime: "85m",
    inputs: [
      {
        series: series("cnpg_collector_last_available_backup_timestamp", pg(`${CLUSTER}-1`)),
        values: "1800x100",
      },
    ],
  },
  {
    title: "no backup at all (timestamp 0) fires",
    alert: A.backupTooOld,
    evalTime: "75m",
    inputs: [
      {
        series: series("cnpg_collector_last_available_backup_timestamp", pg(`${CLUSTER}-1`)),
        values: "0x100",
      },
    ],
    fires: { summary: `${CLUSTER}: last base backup is 1h 15m 0s old` },
  },
  {
    title: "a WAL archive failure after the last success, for 5m, fires",
    alert: A.walArchivingFailing,
    evalTime: "10m",
    inputs: [
      { series: series("cnpg_pg_stat_archiver_last_failed_time", pg(`${CLUSTER}-1`)), values: "500x20" },
      { series: series("cnpg_pg_stat_archiver_last_archived_time", pg(`${CLUSTER}-1`)), values: "400x20" },
    ],
    fires: {
      extraLabels: { pod: `${CLUSTER}-1` },
      summary: `${CLUSTER}: WAL archiving to S3 is failing on ${CLUSTER}-1`,
    },
  },
  {
    title: "an old failure followed by a success stays silent",
    alert: A.walArchivingFailing,
    evalTime: "10m",
    inputs: [
      { series: series("cnpg_pg_stat_archiver_last_failed_time", pg(`${CLUSTER}-1`)), values: "500x20" },
      { series: series("cnpg_pg_stat_archiver_last_archived_time", pg(`${CLUSTER}-1`)), values: "600x20" },
    ],
  },
  {
    title: "a replica 90 s behind for 5m fires",
    alert: A.replicationLag,
    evalTime: "10m",
    inputs: [
      { series: series("cnpg_pg_replication_lag", pg(`${CLUSTER}-2`)), values: "90x20" },
      { series: series("cnpg_pg_replication_lag", pg(`${CLUSTER}-3`)), values: "1x20" },
    ],
    fires: {
      extraLabels: { pod: `${CLUSTER}-2` },
      summary: `${CLUSTER}: replica ${CLUSTER}-2 is 1m 30s behind`,
    },
  },
  {
    title: "replicas 30 s behind stay silent",
    alert: A.replicationLag,
    evalTime: "10m",
    inputs: [{ series: series("cnpg_pg_replication_lag", pg(`${CLUSTER}-2`)), values: "30x20" }],
  },
  {
    title: "a cluster volume 85 % full for 10m fires",
    alert: A.postgresVolume,
    evalTime: "15m",
    inputs: pvcSeries(`${CLUSTER}-2`, 85),
    fires: {
      extraLabels: { persistentvolumeclaim: `${CLUSTER}-2` },
      summary: `${CLUSTER}: volume ${CLUSTER}-2 is 85% full`,
    },
  },
  {
    title: "a cluster volume 75 % full stays silent, whatever another store's volume does",
    alert: A.postgresVolume,
    evalTime: "15m",
    inputs: [...pvcSeries(`${CLUSTER}-2`, 75), ...pvcSeries("data-trading-chromadb-0", 95)],
  },
  {
    title: "2 of 3 instances up for 5m fires",
    alert: A.postgresInstanceDown,
    evalTime: "10m",
    inputs: collectorUp([`${CLUSTER}-1`, `${CLUSTER}-2`]),
    fires: { summary: `${CLUSTER}: fewer than 3 PostgreSQL instances are up` },
  },
  {
    title: "every instance gone (no series at all) fires",
    alert: A.postgresInstanceDown,
    evalTime: "10m",
    inputs: collectorUp([]).concat([{ series: series("up", { job: "other" }), values: "1x20" }]),
    fires: { summary: `${CLUSTER}: fewer than 3 PostgreSQL instances are up` },
  },
  {
    title: "3 of 3 instances up stays silent",
    alert: A.postgresInstanceDown,
    evalTime: "10m",
    inputs: collectorUp([`${CLUSTER}-1`, `${CLUSTER}-2`, `${CLUSTER}-3`]),
  },
];

const volumeCases: Case[] = [
  {
    title: "any volume of the namespace 85 % full for 10m fires",
    alert: A.volume,
    evalTime: "15m",
    inputs: pvcSeries("data-trading-chromadb-0", 85),
    fires: {
      extraLabels: { persistentvolumeclaim: "data-trading-chromadb-0" },
      summary: "Volume data-trading-chromadb-0 is 85% full",
    },
  },
  {
    title: "a volume 75 % full stays silent",
    alert: A.volume,
    evalTime: "15m",
    inputs: pvcSeries("data-trading-chromadb-0", 75),
  },
  {
    title: "a StatefulSet with 0 of 1 replicas ready for 5m fires",
    alert: A.statefulSetDown,
    evalTime: "10m",
    inputs: [
      {
        series: series("kube_statefulset_replicas", { namespace: NS, statefulset: "trading-chromadb" }),
        values: "1x20",
      },
      {
        series: series("kube_statefulset_status_replicas_ready", {
          namespace: NS,
          statefulset: "trading-chromadb",
        }),
        values: "0x20",
      },
    ],
    fires: {
      extraLabels: { statefulset: "trading-chromadb" },
      summary: "trading-chromadb: replicas are down",
      description:
        "StatefulSet trading-chromadb in namespace trading (trading) has had fewer ready replicas than it should for 5m.",
    },
  },
  {
    title: "a StatefulSet with every replica ready stays silent",
    alert: A.statefulSetDown,
    evalTime: "10m",
    inputs: [
      {
        series: series("kube_statefulset_replicas", { namespace: NS, statefulset: "trading-chromadb" }),
        values: "1x20",
      },
      {
        series: series("kube_statefulset_status_replicas_ready", {
          namespace: NS,
          statefulset: "trading-chromadb",
        }),
        values: "1x20",
      },
    ],
  },
];

function runCase(file: string, groups: RuleGroup[], c: Case, expectAlerts?: unknown[]) {
  const ruleFile = writeRules(`${file}.yaml`, groups);
  const rule = groups.flatMap((g) => g.rules).find((r) => r.alert === c.alert);
  if (!rule) throw new Error(`no rule ${c.alert}`);
  const expected =
    expectAlerts ??
    (c.fires
      ? [
          {
            exp_labels: { ...rule.labels, ...c.fires.extraLabels },
            exp_annotations: {
              ...rule.annotations,
              summary: c.fires.summary,
              ...(c.fires.description ? { description: c.fires.description } : {}),
            },
          },
        ]
      : []);
  const testFile = `test-${file}-${c.alert}-${c.title.replace(/[^a-z0-9]+/gi, "-")}.yaml`;
  return tool.testAlert(testFile, ruleFile, { ...c, expected });
}

describe("data store rules: promtool check rules", () => {
  it("the CloudNativePG cluster's and the namespace's rule groups are valid", () => {
    const result = promtool([
      "check",
      "rules",
      writeRules("check-pg.yaml", postgresClusterRuleGroups(target)),
      writeRules("check-volumes.yaml", namespaceVolumeRuleGroups({ namespace: NS, platform: "trading" })),
    ]);
    expect(result.output).toMatch(/SUCCESS: 5 rules found/);
    expect(result.output).toMatch(/SUCCESS: 2 rules found/);
    expect(result.status, result.output).toBe(0);
  });
});

describe("data store rules: promtool test rules", () => {
  const pgGroups = postgresClusterRuleGroups(target);
  it("has the five alerts the issue asks for, each labelled with its store and severity", () => {
    const rules = pgGroups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert).sort()).toEqual(
      [
        A.backupTooOld,
        A.walArchivingFailing,
        A.replicationLag,
        A.postgresVolume,
        A.postgresInstanceDown,
      ].sort(),
    );
    for (const r of rules)
      expect(r.labels).toMatchObject({
        store: "trading-postgres",
        cluster: CLUSTER,
        severity: expect.stringMatching(/^(critical|warning)$/),
      });
  });

  it.each(postgresCases.map((c) => [c.title, c] as const))("postgres: %s", (_t, c) => {
    const result = runCase("pg", pgGroups, c);
    expect(result.status, result.output).toBe(0);
  });

  it.each(volumeCases.map((c) => [c.title, c] as const))("volumes: %s", (_t, c) => {
    const result = runCase("volumes", namespaceVolumeRuleGroups({ namespace: NS, platform: "trading" }), c);
    expect(result.status, result.output).toBe(0);
  });

  it("a wrong expectation fails (the unit tests can fail)", () => {
    const firing = postgresCases.find((c) => c.fires)!;
    const result = runCase("pg-negative", pgGroups, firing, []);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/FAILED/);
  });
});

describe("DataStoreMonitoring", () => {
  const monitorLabels = { "platform.example.com/monitoring": "observability" };
  it("renders a PodMonitor per cluster (adding the cluster label the rules match on) and one PrometheusRule, all valid", async () => {
    const r = await runProgram(
      () =>
        new DataStoreMonitoring(
          "trading-datastores",
          {
            namespace: NS,
            platform: "trading",
            postgresClusters: [
              { store: "trading-postgres", clusterName: CLUSTER, instances: 3, backupMaxAgeHours: 26 },
            ],
            monitorLabels,
          },
          onCluster(),
        ),
    );
    const [monitor] = byType(r, "kubernetes:monitoring.coreos.com/v1:PodMonitor");
    const spec = reveal(monitor!.inputs.spec) as {
      selector: unknown;
      podMetricsEndpoints: { port: string; relabelings: { targetLabel: string }[] }[];
    };
    expect(spec.selector).toEqual({ matchLabels: { "cnpg.io/cluster": CLUSTER } });
    expect(spec.podMetricsEndpoints[0]!.relabelings.map((x) => x.targetLabel)).toContain("cluster");
    const [rule] = byType(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule");
    for (const obj of [monitor!, rule!])
      expect((obj.inputs.metadata as { labels: Record<string, string> }).labels).toMatchObject(monitorLabels);
    const groups = (reveal(rule!.inputs.spec) as { groups: RuleGroup[] }).groups;
    expect(groups.map((g) => g.name)).toEqual(["trading.volumes", "trading.trading-postgres.postgres"]);
    expect(await invalidKubernetesObjects(r)).toEqual([]);
  });

  it("rejects args Prometheus would ignore or rules could not evaluate, together", () => {
    expect(
      thrownMessage(
        () =>
          new DataStoreMonitoring(
            "m",
            {
              namespace: NS,
              platform: "trading",
              postgresClusters: [{ store: "s", clusterName: "c", instances: 0, backupMaxAgeHours: 0 }],
              monitorLabels: {},
            },
            STAND_IN_KUBERNETES,
          ),
      ),
    ).toBe(
      argsErrorMessage("DataStoreMonitoring", "m", [
        "monitorLabels is empty: Prometheus would not select the PodMonitors and PrometheusRule",
        "postgresClusters[0].instances: expected a whole number of at least 1, found 0",
        "postgresClusters[0].backupMaxAgeHours: expected a positive number of hours, found 0",
      ]),
    );
  });

  it("production watches every catalog's stores, and trading's PostgreSQL cluster with its instance count", async () => {
    const r = await runStack("production");
    const rules = byType(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").filter((x) =>
      x.name.endsWith("-datastores-monitoring-rules"),
    );
    expect(rules.map((x) => x.name).sort()).toEqual([
      "ecommerce-datastores-monitoring-rules",
      "fintech-datastores-monitoring-rules",
      "trading-datastores-monitoring-rules",
    ]);
    const trading = (
      reveal(rules.find((x) => x.name.startsWith("trading"))!.inputs.spec) as { groups: RuleGroup[] }
    ).groups;
    // Nothing waits for monitoring: the stores deploy whether or not Prometheus is up yet.
    const monitoringUrns = new Set(rules.map((x) => x.urn));
    const waiting = r.resources.filter((x) => x.dependencies.some((d) => monitoringUrns.has(d)));
    expect(waiting.map((x) => x.name)).toEqual([]);
    const down = trading.flatMap((g) => g.rules).find((x) => x.alert === A.postgresInstanceDown)!;
    expect(down.expr).toContain("< 3");
    expect(
      byType(r, "kubernetes:monitoring.coreos.com/v1:PodMonitor").map(
        (x) => (x.inputs.metadata as { name: string }).name,
      ),
    ).toEqual(["trading-postgres"]);
  });
});
