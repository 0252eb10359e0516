/**
 * CloudWatch alarms for the AWS-managed data stores, as plain data (like datastore-rules.ts is for
 * Prometheus), and the one helper that turns them into `aws.cloudwatch.MetricAlarm`s routed to the
 * stack's AlertTopic. The same five questions as the in-cluster stores' rules, answered with what
 * each AWS service publishes:
 *
 * | question | RDS for PostgreSQL | ElastiCache (per node) | Amazon MQ for RabbitMQ |
 * | --- | --- | --- | --- |
 * | instance down | no CPUUtilization datapoint | no EngineCPUUtilization datapoint | no ExchangeCount datapoint |
 * | volume above 80 % | FreeStorageSpace under 20 % of the allocated storage | DatabaseMemoryUsagePercentage over 80 | RabbitMQMemUsed over 80 % of RabbitMQMemLimit; RabbitMQDiskFree under twice RabbitMQDiskFreeLimit |
 * | replication lag | none: the component makes no read replicas, and a Multi-AZ standby replicates synchronously (no lag metric) | ReplicationLag on the replicas | none (quorum queues replicate inside the cluster; no metric) |
 * | backup too old | no metric (RDS takes automated backups in its window; LatestRestorableTime is an API field, not a metric) | no metric (ElastiCache takes daily snapshots in its window) | not applicable (Amazon MQ keeps no message backups) |
 * | WAL archiving | managed by RDS, no metric | not applicable | not applicable |
 *
 * "Down" alarms treat missing data as breaching: a stopped or failed instance stops publishing.
 * Threshold alarms treat it as not breaching, so the down alarm alone speaks for an absent instance.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { childName } from "./lib";

/**
 * How sensitive a store's alarms are. Per stage (config/profiles.ts): staging waits longer before it
 * notifies, so a restart during a deploy does not page anyone.
 */
export interface DataStoreAlarmArgs {
  /** The SNS topic every alarm notifies (AlertTopic.topicArn), on ALARM and back to OK. */
  topicArn: pulumi.Input<string>;
  /** Minutes a condition must hold before the alarm fires (one-minute periods), 1–60. Default `5`. */
  sustainMinutes?: number;
  /** Replica lag, in seconds, that alarms (ElastiCache replicas), 1–3600. Default `60`. */
  replicationLagSeconds?: number;
  /** Share of storage or memory in use that alarms, in percent, 50–99. Default `80`. */
  usagePercent?: number;
}

export type ResolvedAlarmArgs = Required<Omit<DataStoreAlarmArgs, "topicArn">>;

export const ALARM_DEFAULTS: ResolvedAlarmArgs = {
  sustainMinutes: 5,
  replicationLagSeconds: 60,
  usagePercent: 80,
};

/** Fills the defaults. */
export function resolveAlarmArgs(args: DataStoreAlarmArgs): ResolvedAlarmArgs {
  return {
    sustainMinutes: args.sustainMinutes ?? ALARM_DEFAULTS.sustainMinutes,
    replicationLagSeconds: args.replicationLagSeconds ?? ALARM_DEFAULTS.replicationLagSeconds,
    usagePercent: args.usagePercent ?? ALARM_DEFAULTS.usagePercent,
  };
}

/** Problems with `alarms` (under `where`, e.g. `alarms`), and with it on a backend that has no CloudWatch. */
export function alarmArgProblems(backend: string, alarms: DataStoreAlarmArgs | undefined): string[] {
  if (!alarms) return [];
  const problems: string[] = [];
  if (backend !== "aws")
    problems.push(
      `alarms: only with backend "aws" (CloudWatch watches AWS-managed stores; in-cluster stores are watched by Prometheus through DataStoreMonitoring), found backend "${backend}"`,
    );
  const r = resolveAlarmArgs(alarms);
  const whole = (key: string, value: number, min: number, max: number, unit: string) => {
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(
        `alarms.${key}: expected a whole number of ${unit} from ${min} to ${max}, found ${value}`,
      );
  };
  whole("sustainMinutes", r.sustainMinutes, 1, 60, "minutes");
  whole("replicationLagSeconds", r.replicationLagSeconds, 1, 3600, "seconds");
  whole("usagePercent", r.usagePercent, 50, 99, "percent");
  return problems;
}

type Comparison =
  | "GreaterThanThreshold"
  | "GreaterThanOrEqualToThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold";

/** One alarm, as data. Either one metric (`metric`) or a math `expression` over named `metrics`. */
export interface AlarmSpec {
  /** Child name suffix: `<store>-alarm-<suffix>`. */
  suffix: string;
  description: string;
  namespace: string;
  dimensions: Record<string, pulumi.Input<string>>;
  /** A single metric and its statistic. */
  metric?: { name: string; statistic: "Average" | "Minimum" | "Maximum" | "Sum" | "SampleCount" };
  /** Or: metrics by id and a math expression over them (which the alarm watches). */
  metrics?: Record<string, { name: string; statistic: "Average" | "Minimum" | "Maximum" }>;
  expression?: string;
  periodSeconds: number;
  evaluationPeriods: number;
  comparison: Comparison;
  threshold: number;
  treatMissingData: "breaching" | "notBreaching" | "missing";
}

const GIB = 1024 ** 3;

/** RDS for PostgreSQL: down, storage. See the table above for replication and backups. */
export function rdsAlarms(
  t: { identifier: pulumi.Input<string>; allocatedStorageGb: number },
  a: ResolvedAlarmArgs,
): AlarmSpec[] {
  const dimensions = { DBInstanceIdentifier: t.identifier };
  const freeShare = (100 - a.usagePercent) / 100;
  return [
    {
      suffix: "down",
      description: `RDS instance down: no CPUUtilization datapoint for ${a.sustainMinutes} minutes (stopped, failed or unreachable). A Multi-AZ failover shows as a short gap; check the RDS events.`,
      namespace: "AWS/RDS",
      dimensions,
      metric: { name: "CPUUtilization", statistic: "SampleCount" },
      periodSeconds: 60,
      evaluationPeriods: a.sustainMinutes,
      comparison: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    },
    {
      // RDS sizes storage in GiB. Storage autoscaling grows the volume past the allocation: the
      // threshold stays at the share of the allocation, a floor that keeps the alarm meaningful.
      suffix: "storage",
      description: `RDS storage above ${a.usagePercent} %: FreeStorageSpace under ${100 - a.usagePercent} % of the ${t.allocatedStorageGb} GiB allocated, for ${a.sustainMinutes} minutes. Storage autoscaling grows it up to maxAllocatedStorageGb; raise that (or allocatedStorageGb) before PostgreSQL stops on a full disk.`,
      namespace: "AWS/RDS",
      dimensions,
      metric: { name: "FreeStorageSpace", statistic: "Minimum" },
      periodSeconds: 60,
      evaluationPeriods: a.sustainMinutes,
      comparison: "LessThanThreshold",
      threshold: Math.round(t.allocatedStorageGb * GIB * freeShare),
      treatMissingData: "notBreaching",
    },
  ];
}

/**
 * ElastiCache (cluster mode off): per member cluster `<replicationGroupId>-00<n>` (ElastiCache names
 * them so), since the primary moves on failover: down, memory, and replication lag when there are
 * replicas (only replicas publish ReplicationLag, so the primary's alarm stays quiet).
 */
export function elastiCacheAlarms(
  t: { replicationGroupId: pulumi.Output<string>; nodes: number },
  a: ResolvedAlarmArgs,
): AlarmSpec[] {
  const specs: AlarmSpec[] = [];
  for (let n = 1; n <= t.nodes; n++) {
    const member = t.replicationGroupId.apply((id) => `${id}-${String(n).padStart(3, "0")}`);
    const dimensions = { CacheClusterId: member };
    specs.push(
      {
        suffix: `node-${n}-down`,
        description: `ElastiCache node ${n} down: no EngineCPUUtilization datapoint for ${a.sustainMinutes} minutes.`,
        namespace: "AWS/ElastiCache",
        dimensions,
        metric: { name: "EngineCPUUtilization", statistic: "SampleCount" },
        periodSeconds: 60,
        evaluationPeriods: a.sustainMinutes,
        comparison: "LessThanThreshold",
        threshold: 1,
        treatMissingData: "breaching",
      },
      {
        suffix: `node-${n}-memory`,
        description: `ElastiCache node ${n} memory above ${a.usagePercent} % of maxmemory for ${a.sustainMinutes} minutes: keys are being evicted (or writes refused with noeviction). Use a larger nodeType.`,
        namespace: "AWS/ElastiCache",
        dimensions,
        metric: { name: "DatabaseMemoryUsagePercentage", statistic: "Maximum" },
        periodSeconds: 60,
        evaluationPeriods: a.sustainMinutes,
        comparison: "GreaterThanThreshold",
        threshold: a.usagePercent,
        treatMissingData: "notBreaching",
      },
    );
    if (t.nodes > 1)
      specs.push({
        suffix: `node-${n}-replication-lag`,
        description: `ElastiCache node ${n} is a replica more than ${a.replicationLagSeconds} s behind the primary for ${a.sustainMinutes} minutes: a failover to it would lose those writes.`,
        namespace: "AWS/ElastiCache",
        dimensions,
        metric: { name: "ReplicationLag", statistic: "Maximum" },
        periodSeconds: 60,
        evaluationPeriods: a.sustainMinutes,
        comparison: "GreaterThanThreshold",
        threshold: a.replicationLagSeconds,
        treatMissingData: "notBreaching",
      });
  }
  return specs;
}

/**
 * Amazon MQ for RabbitMQ, by broker name: down, memory against RabbitMQ's own limit (past it,
 * RabbitMQ blocks every publisher), and free disk against its free-disk limit (Amazon MQ publishes no
 * disk size, so "80 % full" is stated as free space under twice the level at which RabbitMQ blocks
 * publishers).
 */
export function amazonMqAlarms(t: { brokerName: pulumi.Input<string> }, a: ResolvedAlarmArgs): AlarmSpec[] {
  const dimensions = { Broker: t.brokerName };
  return [
    {
      suffix: "down",
      description: `Amazon MQ broker down: no ExchangeCount datapoint for ${a.sustainMinutes} minutes.`,
      namespace: "AWS/AmazonMQ",
      dimensions,
      metric: { name: "ExchangeCount", statistic: "SampleCount" },
      periodSeconds: 60,
      evaluationPeriods: a.sustainMinutes,
      comparison: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    },
    {
      suffix: "memory",
      description: `Amazon MQ memory above ${a.usagePercent} % of RabbitMQ's memory limit for ${a.sustainMinutes} minutes; at 100 % RabbitMQ blocks every publisher. Drain queues or use a larger instanceType.`,
      namespace: "AWS/AmazonMQ",
      dimensions,
      metrics: {
        used: { name: "RabbitMQMemUsed", statistic: "Maximum" },
        limit: { name: "RabbitMQMemLimit", statistic: "Minimum" },
      },
      expression: "100 * used / limit",
      periodSeconds: 60,
      evaluationPeriods: a.sustainMinutes,
      comparison: "GreaterThanThreshold",
      threshold: a.usagePercent,
      treatMissingData: "notBreaching",
    },
    {
      suffix: "disk",
      description: `Amazon MQ free disk under twice RabbitMQ's free-disk limit for ${a.sustainMinutes} minutes; at the limit RabbitMQ blocks every publisher. Drain queues (messages are piling up).`,
      namespace: "AWS/AmazonMQ",
      dimensions,
      metrics: {
        free: { name: "RabbitMQDiskFree", statistic: "Minimum" },
        limit: { name: "RabbitMQDiskFreeLimit", statistic: "Maximum" },
      },
      expression: "free / limit",
      periodSeconds: 60,
      evaluationPeriods: a.sustainMinutes,
      comparison: "LessThanThreshold",
      threshold: 2,
      treatMissingData: "notBreaching",
    },
  ];
}

/**
 * The alarms, `<name>-alarm-<suffix>`, notifying `topicArn` when they fire and when they recover.
 * Alarm names are auto-named from the child name (unique per account and region across stacks).
 */
export function createAlarms(
  name: string,
  specs: readonly AlarmSpec[],
  topicArn: pulumi.Input<string>,
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm[] {
  return specs.map((s) => {
    const child = childName(name, `alarm-${s.suffix}`);
    const common = {
      alarmDescription: `${name}: ${s.description}`,
      comparisonOperator: s.comparison,
      threshold: s.threshold,
      evaluationPeriods: s.evaluationPeriods,
      datapointsToAlarm: s.evaluationPeriods,
      treatMissingData: s.treatMissingData,
      alarmActions: [topicArn],
      okActions: [topicArn],
      tags: { ...tags, Name: child },
    };
    const source = s.metric
      ? {
          namespace: s.namespace,
          metricName: s.metric.name,
          statistic: s.metric.statistic,
          period: s.periodSeconds,
          dimensions: s.dimensions,
        }
      : {
          metricQueries: [
            ...Object.entries(s.metrics ?? {}).map(([id, m]) => ({
              id,
              metric: {
                namespace: s.namespace,
                metricName: m.name,
                stat: m.statistic,
                period: s.periodSeconds,
                dimensions: s.dimensions,
              },
              returnData: false,
            })),
            { id: "value", expression: s.expression, label: s.suffix, returnData: true },
          ],
        };
    return new aws.cloudwatch.MetricAlarm(child, { ...common, ...source }, opts);
  });
}
