/**
 * DataStoreMonitoring: what watches the data stores of one namespace. A PrometheusRule with the
 * volume and StatefulSet alerts of the namespace (`datastore-rules.ts`), and per CloudNativePG cluster
 * a PodMonitor scraping its instances' exporter (adding the `cluster` and `role` labels the rules
 * match on) with the cluster's own alerts: last backup too old, WAL archiving failing, replication
 * lag, volume above 80 %, instances down. The labels that make Prometheus pick them up come in as
 * args (ObservabilityStack's `selectorLabels`).
 *
 * Usually created through `ObservabilityStack.monitorDataStores`, which fills the stack's labels and
 * makes every child wait for the stack's Helm release (the monitoring CRDs).
 *
 * @example
 * new DataStoreMonitoring("trading-datastores", {
 *   namespace: "trading", platform: "trading",
 *   postgresClusters: [{ store: "trading-postgres", clusterName: "trading-postgres", instances: 3, backupMaxAgeHours: 26 }],
 *   monitorLabels: { "platform.example.com/monitoring": "observability" },
 * }, { provider });
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  namespaceVolumeRuleGroups,
  postgresClusterRuleGroups,
  type PostgresClusterTarget,
} from "./datastore-rules";
import {
  childName,
  ComponentArgsError,
  providerProblems,
  splitDependsOn,
  stageProblem,
  standardLabels,
  typeToken,
  withDependsOn,
  type LabelDomainArgs,
  type Stage,
} from "./lib";

export interface DataStoreMonitoringArgs extends LabelDomainArgs {
  /** Namespace of the stores; the monitoring objects are created there too. Example: `"trading"`. */
  namespace: string;
  /** Platform (catalog) label of the alerts. Example: `"trading"`. */
  platform: string;
  /**
   * CloudNativePG clusters in the namespace (ManagedPostgres with `cloudNativePg`): `store` is the
   * ManagedPostgres name, `clusterName` its `backupServerName`. Default `[]`.
   */
  postgresClusters?: Omit<PostgresClusterTarget, "namespace" | "platform">[];
  /** Labels Prometheus selects PodMonitors and PrometheusRules by (ObservabilityStack's `selectorLabels`). */
  monitorLabels: Record<string, string>;
  /** Stage label value. Example: `"production"`. */
  stage?: Stage;
}

export class DataStoreMonitoring extends pulumi.ComponentResource {
  /** Names of the alerts this component defines (for runbooks and routing). */
  public readonly alertNames: string[];

  constructor(name: string, args: DataStoreMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = [...providerProblems(opts, "kubernetes"), ...dataStoreMonitoringProblems(args)];
    if (problems.length > 0) throw new ComponentArgsError("DataStoreMonitoring", name, problems);
    const { options, dependsOn } = splitDependsOn(opts);
    super(typeToken("DataStoreMonitoring"), name, {}, options);
    const child = { parent: this, dependsOn: withDependsOn(dependsOn) };
    const { namespace, platform } = args;
    const labels = {
      ...standardLabels({
        name,
        component: "monitoring",
        platform,
        stage: args.stage,
        labelDomain: args.labelDomain,
      }),
      ...args.monitorLabels,
    };

    const groups = [
      ...namespaceVolumeRuleGroups({ namespace, platform }),
      ...(args.postgresClusters ?? []).flatMap((c) =>
        postgresClusterRuleGroups({ ...c, namespace, platform }),
      ),
    ];
    for (const c of args.postgresClusters ?? []) podMonitor(name, c.clusterName, namespace, labels, child);
    new k8s.apiextensions.CustomResource(
      childName(name, "rules"),
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name, namespace, labels },
        spec: { groups },
      },
      child,
    );
    this.alertNames = groups.flatMap((g) => g.rules.map((r) => r.alert));
    this.registerOutputs({ alertNames: this.alertNames });
  }
}

/**
 * PodMonitor `<clusterName>`: the instances' exporter (port 9187, which CloudNativePG names `metrics`), with
 * the pod's `cnpg.io/cluster` and `cnpg.io/instanceRole` labels copied onto every series.
 */
function podMonitor(
  name: string,
  clusterName: string,
  namespace: string,
  labels: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    childName(name, `${clusterName}-podmonitor`),
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PodMonitor",
      metadata: { name: clusterName, namespace, labels },
      spec: {
        selector: { matchLabels: { "cnpg.io/cluster": clusterName } },
        namespaceSelector: { matchNames: [namespace] },
        podMetricsEndpoints: [
          {
            port: "metrics",
            relabelings: [
              { sourceLabels: ["__meta_kubernetes_pod_label_cnpg_io_cluster"], targetLabel: "cluster" },
              { sourceLabels: ["__meta_kubernetes_pod_label_cnpg_io_instanceRole"], targetLabel: "role" },
            ],
          },
        ],
      },
    },
    opts,
  );
}

function dataStoreMonitoringProblems(args: DataStoreMonitoringArgs): string[] {
  const problems: string[] = [];
  if (Object.keys(args.monitorLabels).length === 0)
    problems.push("monitorLabels is empty: Prometheus would not select the PodMonitors and PrometheusRule");
  const stage = stageProblem(args.stage);
  if (stage) problems.push(stage);
  (args.postgresClusters ?? []).forEach((c, i) => {
    if (!Number.isInteger(c.instances) || c.instances < 1)
      problems.push(
        `postgresClusters[${i}].instances: expected a whole number of at least 1, found ${c.instances}`,
      );
    if (!(c.backupMaxAgeHours > 0))
      problems.push(
        `postgresClusters[${i}].backupMaxAgeHours: expected a positive number of hours, found ${c.backupMaxAgeHours}`,
      );
  });
  return problems;
}
