/**
 * Alerting rules for the data stores, as plain data (like the services' rules in monitoring-rules.ts),
 * so `promtool check rules` and `promtool test rules` run on exactly what the PrometheusRule objects
 * carry.
 *
 * - A CloudNativePG cluster: last base backup too old, WAL archiving failing, replication lag, a
 *   volume above 80 %, fewer instances up than it should run. Its series come from the operator's
 *   exporter (`cnpg_*`, scraped by DataStoreMonitoring's PodMonitor, which adds the `cluster` label)
 *   and the kubelet's volume statistics.
 * - Every other volume of a namespace (ChromaDB, in-cluster Redis, RabbitMQ, the StatefulSet
 *   PostgreSQL of the local stack): above 80 %, and a StatefulSet with fewer ready replicas than it
 *   should have.
 */
import type { AlertingRule, RuleGroup, Severity } from "./monitoring-rules";

/** Thresholds, in one place. */
export const DATASTORE_THRESHOLDS = {
  /** Share of a volume in use: above 80 % for 10 minutes → warning. */
  volumeUsage: { above: 0.8, for: "10m", severity: "warning" },
  /** Replica replay lag in seconds: above 60 s for 5 minutes → warning. */
  replicationLagSeconds: { above: 60, for: "5m", severity: "warning" },
  /** WAL archiving: a failure more recent than the last success, for 5 minutes → critical. */
  walArchiving: { for: "5m", severity: "critical" },
  /** Instances or replicas down for 5 minutes → critical. */
  instanceDown: { for: "5m", severity: "critical" },
  /** Last base backup older than the schedule allows, for 10 minutes → critical. */
  backupAge: { for: "10m", severity: "critical" },
} as const satisfies Record<string, { severity: Severity; for: string; above?: number }>;

export const DATASTORE_ALERT_NAMES = {
  backupTooOld: "PostgresBackupTooOld",
  walArchivingFailing: "PostgresWALArchivingFailing",
  replicationLag: "PostgresReplicationLagHigh",
  postgresVolume: "PostgresVolumeAbove80Percent",
  postgresInstanceDown: "PostgresInstanceDown",
  volume: "DataVolumeAbove80Percent",
  statefulSetDown: "DataStoreReplicasDown",
} as const;

/** A CloudNativePG cluster, as its alerts see it. */
export interface PostgresClusterTarget {
  /** The store's name (ManagedPostgres's), in alert labels. */
  store: string;
  /** The Cluster's Kubernetes name (pods `<clusterName>-<n>`, volumes likewise). */
  clusterName: string;
  namespace: string;
  platform: string;
  /** Instances the cluster runs; fewer up is an alert. */
  instances: number;
  /** A base backup older than this (hours) is an alert: the schedule's interval plus a margin. */
  backupMaxAgeHours: number;
}

/** The rule group of a CloudNativePG cluster: `<platform>.<store>.postgres`. */
export function postgresClusterRuleGroups(t: PostgresClusterTarget): RuleGroup[] {
  const th = DATASTORE_THRESHOLDS;
  const sel = `namespace="${t.namespace}",cluster="${t.clusterName}"`;
  const pvc = `namespace="${t.namespace}",persistentvolumeclaim=~"${t.clusterName}-[0-9]+(-wal)?"`;
  const labels = (severity: Severity) => ({
    severity,
    platform: t.platform,
    namespace: t.namespace,
    store: t.store,
    cluster: t.clusterName,
  });
  const who = `PostgreSQL ${t.clusterName} (${t.platform}, namespace ${t.namespace})`;
  const rules: AlertingRule[] = [
    {
      alert: DATASTORE_ALERT_NAMES.backupTooOld,
      // No backup at all reports 0: an age of decades, so it fires too.
      expr: `time() - max(cnpg_collector_last_available_backup_timestamp{${sel}}) > ${t.backupMaxAgeHours * 3600}`,
      for: th.backupAge.for,
      labels: labels(th.backupAge.severity),
      annotations: {
        summary: `${t.clusterName}: last base backup is {{ $value | humanizeDuration }} old`,
        description: `The newest base backup of ${who} is older than ${t.backupMaxAgeHours}h: point-in-time restore reaches back less far than promised, and a restore replays more WAL. Check the ScheduledBackup and the Backup objects (docs/restore.md).`,
      },
    },
    {
      alert: DATASTORE_ALERT_NAMES.walArchivingFailing,
      expr: `cnpg_pg_stat_archiver_last_failed_time{${sel}} > cnpg_pg_stat_archiver_last_archived_time{${sel}}`,
      for: th.walArchiving.for,
      labels: labels(th.walArchiving.severity),
      annotations: {
        summary: `${t.clusterName}: WAL archiving to S3 is failing on {{ $labels.pod }}`,
        description: `The last WAL archive attempt of ${who} failed after its last success: committed transactions are not in the backup bucket (the recovery point falls behind) and WAL piles up on the volume. Check the pod's log and the backup role's access to the bucket.`,
      },
    },
    {
      alert: DATASTORE_ALERT_NAMES.replicationLag,
      expr: `max by (pod) (cnpg_pg_replication_lag{${sel}}) > ${th.replicationLagSeconds.above}`,
      for: th.replicationLagSeconds.for,
      labels: labels(th.replicationLagSeconds.severity),
      annotations: {
        summary: `${t.clusterName}: replica {{ $labels.pod }} is {{ $value | humanizeDuration }} behind`,
        description: `A standby of ${who} has been more than ${th.replicationLagSeconds.above}s behind the primary for ${th.replicationLagSeconds.for}: a failover to it would take longer to catch up.`,
      },
    },
    {
      alert: DATASTORE_ALERT_NAMES.postgresVolume,
      expr: `max by (persistentvolumeclaim) (kubelet_volume_stats_used_bytes{${pvc}} / kubelet_volume_stats_capacity_bytes{${pvc}}) > ${th.volumeUsage.above}`,
      for: th.volumeUsage.for,
      labels: labels(th.volumeUsage.severity),
      annotations: {
        summary: `${t.clusterName}: volume {{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full`,
        description: `A volume of ${who} is more than ${th.volumeUsage.above * 100}% full. Grow storage (database.storageSize) before PostgreSQL stops on a full disk.`,
      },
    },
    {
      alert: DATASTORE_ALERT_NAMES.postgresInstanceDown,
      expr: `count(cnpg_collector_up{${sel}} == 1) < ${t.instances} or absent(cnpg_collector_up{${sel}} == 1)`,
      for: th.instanceDown.for,
      labels: labels(th.instanceDown.severity),
      annotations: {
        summary: `${t.clusterName}: fewer than ${t.instances} PostgreSQL instances are up`,
        description: `${who} should run ${t.instances} instances; some have been down for ${th.instanceDown.for}. The operator fails over the primary by itself; a missing standby means less redundancy (and, with synchronous replication, writes wait on the last one).`,
      },
    },
  ];
  return [{ name: `${t.platform}.${t.store}.postgres`, rules }];
}

/** Volumes and StatefulSets of one namespace, as their alerts see them. */
export interface NamespaceVolumesTarget {
  namespace: string;
  platform: string;
}

/** The rule group of a namespace's volumes and StatefulSets: `<platform>.volumes`. */
export function namespaceVolumeRuleGroups(t: NamespaceVolumesTarget): RuleGroup[] {
  const th = DATASTORE_THRESHOLDS;
  const ns = `namespace="${t.namespace}"`;
  const labels = (severity: Severity) => ({ severity, platform: t.platform, namespace: t.namespace });
  return [
    {
      name: `${t.platform}.volumes`,
      rules: [
        {
          alert: DATASTORE_ALERT_NAMES.volume,
          expr: `max by (persistentvolumeclaim) (kubelet_volume_stats_used_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}}) > ${th.volumeUsage.above}`,
          for: th.volumeUsage.for,
          labels: labels(th.volumeUsage.severity),
          annotations: {
            summary: `Volume {{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full`,
            description: `A volume in namespace ${t.namespace} (${t.platform}) is more than ${th.volumeUsage.above * 100}% full. Grow it before its store stops on a full disk.`,
          },
        },
        {
          alert: DATASTORE_ALERT_NAMES.statefulSetDown,
          expr: `max by (statefulset) (kube_statefulset_replicas{${ns}}) > max by (statefulset) (kube_statefulset_status_replicas_ready{${ns}})`,
          for: th.instanceDown.for,
          labels: labels(th.instanceDown.severity),
          annotations: {
            summary: `{{ $labels.statefulset }}: replicas are down`,
            description: `StatefulSet {{ $labels.statefulset }} in namespace ${t.namespace} (${t.platform}) has had fewer ready replicas than it should for ${th.instanceDown.for}.`,
          },
        },
      ],
    },
  ];
}
