/**
 * PostgresOperator: the CloudNativePG operator, from its Helm chart at a pinned version, in its own
 * namespace (`cnpg-system`). ManagedPostgres's in-cluster servers run on it in staging and production
 * (`cloudNativePg`): HA with automated failover, continuous backup to S3, point-in-time restore.
 *
 * Pass the component in the `dependsOn` of every ManagedPostgres that uses the operator: its `Cluster`
 * needs the CRDs and the operator's admission webhooks.
 *
 * @example
 * const operator = new PostgresOperator("postgres-operator", {
 *   chart: { version: CLOUDNATIVE_PG_CHART_VERSION, source: "repository" },
 * }, { provider: k8sProvider });
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  ADD_ON_POLICY_COMPONENT,
  type ClusterNetwork,
  DEFAULT_CLUSTER_NETWORK,
  isolateAddOnNamespace,
} from "./addon-network";
import { chartImageValues } from "./chart-images";
import { cnpgOperatorWorkloads } from "./addon-workloads";
import { CNPG_OPERATOR_NAMESPACE } from "./cloudnativepg";
import {
  chartProblems,
  chartRef,
  childName,
  ComponentArgsError,
  providerProblems,
  splitDependsOn,
  standardLabels,
  typeToken,
  withDependsOn,
  type HelmChartSource,
} from "./lib";

/** The chart repository of CloudNativePG. */
export const CLOUDNATIVE_PG_REPOSITORY = "https://cloudnative-pg.github.io/charts";
/**
 * The pinned chart: `cloudnative-pg` 0.26.1 is operator 1.27.1 (the CRD schemas the tests validate
 * against, @kubernetes-models/cloudnative-pg, are of the same line). Bump both together.
 */
export const CLOUDNATIVE_PG_CHART_VERSION = "0.26.1";

export interface PostgresOperatorArgs {
  /**
   * The operator's chart (`cloudnative-pg` from https://cloudnative-pg.github.io/charts).
   * @example { version: "0.26.1", source: "repository" }
   */
  chart: HelmChartSource;
  /** Operator replicas (leader election; a drain never leaves clusters without one). Default `2`. */
  replicas?: number;
  /**
   * Where the nodes and the API server are, for `cnpg-system`'s NetworkPolicies (default deny, then
   * the operator's flows: see docs/connectivity.md). Default: the private ranges, API server on 443
   * and 6443. On EKS pass the cluster's private subnets and `[443]`.
   * @example { cidrs: ["10.30.0.0/19"], apiServerPorts: [443] }
   */
  clusterNetwork?: ClusterNetwork;
}

export class PostgresOperator extends pulumi.ComponentResource {
  /** Namespace the operator runs in (ManagedPostgres's NetworkPolicies admit it). */
  public readonly namespace: string;
  /** The operator's Helm release: a Cluster waits for it (its CRDs and webhooks). */
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: PostgresOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    const replicas = args.replicas ?? 2;
    const problems = [
      ...providerProblems(opts, "kubernetes"),
      ...chartProblems("chart", args.chart, "leave the PostgresOperator out"),
    ];
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5)
      problems.push(`replicas: expected a whole number from 1 to 5, found ${replicas}`);
    if (problems.length > 0) throw new ComponentArgsError("PostgresOperator", name, problems);
    const { options, dependsOn } = splitDependsOn(opts);
    super(typeToken("PostgresOperator"), name, {}, options);

    this.namespace = CNPG_OPERATOR_NAMESPACE;
    this.release = new k8s.helm.v3.Release(
      childName(name, "chart"),
      {
        name: "cloudnative-pg",
        namespace: CNPG_OPERATOR_NAMESPACE,
        createNamespace: true,
        ...chartRef(args.chart, "cloudnative-pg", CLOUDNATIVE_PG_REPOSITORY),
        values: operatorValues(replicas),
        timeout: 600,
        maxHistory: 10,
        cleanupOnFail: true,
      },
      { parent: this, dependsOn: withDependsOn(dependsOn) },
    );
    // The chart creates the namespace, so its Pod Security labels and policies follow the release.
    // Enforce "baseline" (no privileged, host namespaces or host paths); warn and audit "restricted",
    // which the operator's pods meet by the chart's security contexts but nobody here has run them.
    new k8s.core.v1.NamespacePatch(
      childName(name, "pod-security"),
      {
        metadata: {
          name: CNPG_OPERATOR_NAMESPACE,
          labels: {
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "latest",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "latest",
          },
        },
      },
      { parent: this, dependsOn: [this.release] },
    );
    isolateAddOnNamespace(
      childName(name, "ns"),
      CNPG_OPERATOR_NAMESPACE,
      cnpgOperatorWorkloads(),
      args.clusterNetwork ?? DEFAULT_CLUSTER_NETWORK,
      standardLabels({ name, component: ADD_ON_POLICY_COMPONENT }),
      { parent: this, dependsOn: [this.release] },
    );
    this.registerOutputs({ namespace: this.namespace, release: this.release });
  }
}

/** Chart values: replicas with a budget, resources, CRDs installed and kept on uninstall. */
function operatorValues(replicas: number): Record<string, unknown> {
  return {
    // The operator's image, stated so that the render lists it and a lock can pin it.
    ...chartImageValues("cloudnative-pg"),
    replicaCount: replicas,
    crds: { create: true },
    resources: {
      requests: { cpu: "100m", memory: "200Mi" },
      limits: { cpu: "500m", memory: "500Mi" },
    },
    // The operator's own metrics; the database clusters are scraped through ManagedPostgres's PodMonitor.
    monitoring: { podMonitorEnabled: false },
  };
}
