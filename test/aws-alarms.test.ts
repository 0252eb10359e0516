/**
 * Monitoring of the AWS-managed stores and of AWS Backup: the CloudWatch alarms each store's aws
 * backend creates (on the real identifiers of what it created, with thresholds computed from its
 * sizes), the AWS Backup failed-job rule and age alarm, the one topic they all notify, the forwarder
 * that carries notifications to the alert webhook (run here, in a VM, with a fake webhook), and the
 * stacks: staging and production watch every AWS store at their stage's sensitivity, local creates none
 * of it.
 */
import * as vm from "node:vm";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ALERT_FORWARDER_SOURCE } from "../components/alert-forwarder";
import { AlertTopic } from "../components/AlertTopic";
import { ManagedPostgres, type ManagedPostgresArgs } from "../components/ManagedPostgres";
import { MessageBroker } from "../components/MessageBroker";
import { RedisCache } from "../components/RedisCache";
import { VolumeBackup } from "../components/VolumeBackup";
import { argsErrorMessage, runDataService, thrownMessage } from "./dataServiceChecks";
import {
  byType,
  reveal,
  runProgram,
  runStack,
  STAND_IN_KUBERNETES,
  type RecordedResource,
  type RunResult,
} from "./harness";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:alerts";
const awsNetwork = {
  vpcId: "vpc-0abc",
  subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
  subnetCidrs: ["10.30.0.0/16"],
  allowedSecurityGroupIds: ["sg-0cluster"],
};
const consumers = [{ service: "order-service", namespace: "ecommerce", database: "orders_db" }];

interface Alarm {
  namespace?: string;
  metricName?: string;
  statistic?: string;
  dimensions?: Record<string, string>;
  metricQueries?: {
    id: string;
    expression?: string;
    returnData: boolean;
    metric?: { metricName: string; stat: string; dimensions: Record<string, string> };
  }[];
  comparisonOperator: string;
  threshold: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  period?: number;
  treatMissingData: string;
  alarmActions: string[];
  okActions: string[];
}
/** Alarms of a run by their suffix after `<store>-alarm-`. */
const alarmsOf = (r: RunResult, store: string): Record<string, Alarm> =>
  Object.fromEntries(
    byType(r, ALARM)
      .filter((a) => a.name.startsWith(`${store}-alarm-`))
      .map((a) => [a.name.slice(`${store}-alarm-`.length), reveal(a.inputs) as Alarm]),
  );
const one = (r: RunResult, type: string): RecordedResource => {
  const found = byType(r, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};

const rds = (args: Partial<ManagedPostgresArgs>) =>
  runDataService((n, a, o) => new ManagedPostgres(n, a, o), "shop-postgres", {
    backend: "aws" as const,
    namespace: "ecommerce",
    consumers,
    aws: awsNetwork,
    ...args,
  });

describe("ManagedPostgres (RDS) alarms", () => {
  it("watch the instance it created: down when it stops reporting, storage below the free share of its allocation", async () => {
    const r = await rds({ allocatedStorageGb: 137, maxAllocatedStorageGb: 200, alarms: { topicArn: TOPIC } });
    const identifier = one(r, "aws:rds/instance:Instance").state.identifier;
    const alarms = alarmsOf(r, "shop-postgres");
    expect(Object.keys(alarms).sort()).toEqual(["down", "storage"]);
    for (const a of Object.values(alarms)) {
      expect(a.namespace).toBe("AWS/RDS");
      expect(a.dimensions).toEqual({ DBInstanceIdentifier: identifier });
      expect([a.alarmActions, a.okActions]).toEqual([[TOPIC], [TOPIC]]);
      // Defaults: five one-minute periods, every one breaching.
      expect([a.period, a.evaluationPeriods, a.datapointsToAlarm]).toEqual([60, 5, 5]);
    }
    expect(alarms.down).toMatchObject({
      metricName: "CPUUtilization",
      statistic: "SampleCount",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
    // 20 % of 137 GiB, in bytes (RDS reports FreeStorageSpace in bytes and sizes storage in GiB).
    expect(alarms.storage).toMatchObject({
      metricName: "FreeStorageSpace",
      statistic: "Minimum",
      comparisonOperator: "LessThanThreshold",
      threshold: 29_420_525_978,
      treatMissingData: "notBreaching",
    });
  });

  it("take the usage share and sustain time from the args", async () => {
    const r = await rds({
      allocatedStorageGb: 137,
      maxAllocatedStorageGb: 200,
      alarms: { topicArn: TOPIC, usagePercent: 90, sustainMinutes: 15 },
    });
    const alarms = alarmsOf(r, "shop-postgres");
    expect(alarms.storage!.threshold).toBe(14_710_262_989);
    expect(alarms.down!.evaluationPeriods).toBe(15);
  });

  it("are not created without `alarms`", async () => {
    expect(byType(await rds({}), ALARM)).toEqual([]);
  });
});

describe("RedisCache (ElastiCache) alarms", () => {
  const cache = (replicasPerShard: number) =>
    runDataService((n, a, o) => new RedisCache(n, a, o), "shop-redis", {
      backend: "aws" as const,
      namespace: "ecommerce",
      consumers: [{ service: "cart", namespace: "ecommerce" }],
      replicasPerShard,
      aws: awsNetwork,
      alarms: { topicArn: TOPIC, replicationLagSeconds: 30 },
    });

  it("watch every member cluster of the group (the primary moves on failover): down, memory, replica lag", async () => {
    const r = await cache(2);
    const members = one(r, "aws:elasticache/replicationGroup:ReplicationGroup").state.memberClusters;
    const alarms = alarmsOf(r, "shop-redis");
    expect(Object.keys(alarms).sort()).toEqual(
      [1, 2, 3].flatMap((n) => [`node-${n}-down`, `node-${n}-memory`, `node-${n}-replication-lag`]).sort(),
    );
    // Each node's alarms name one of the group's real member clusters, all of them covered.
    expect([1, 2, 3].map((n) => alarms[`node-${n}-down`]!.dimensions)).toEqual(
      (members as string[]).map((id) => ({ CacheClusterId: id })),
    );
    expect(alarms["node-2-memory"]).toMatchObject({
      namespace: "AWS/ElastiCache",
      metricName: "DatabaseMemoryUsagePercentage",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 80,
    });
    expect(alarms["node-3-replication-lag"]).toMatchObject({
      metricName: "ReplicationLag",
      threshold: 30,
      // The primary publishes no ReplicationLag: silence there is not an alarm.
      treatMissingData: "notBreaching",
    });
    expect(alarms["node-1-down"]).toMatchObject({
      metricName: "EngineCPUUtilization",
      statistic: "SampleCount",
      treatMissingData: "breaching",
    });
  });

  it("have no replication lag alarm without replicas", async () => {
    expect(Object.keys(alarmsOf(await cache(0), "shop-redis")).sort()).toEqual([
      "node-1-down",
      "node-1-memory",
    ]);
  });
});

describe("MessageBroker (Amazon MQ) alarms", () => {
  it("watch the broker by its name: down, memory against RabbitMQ's limit, free disk against its limit", async () => {
    const r = await runDataService((n, a, o) => new MessageBroker(n, a, o), "shop-rabbitmq", {
      backend: "aws" as const,
      namespace: "ecommerce",
      consumers: [{ service: "order-service", namespace: "ecommerce" }],
      aws: awsNetwork,
      alarms: { topicArn: TOPIC },
    });
    const brokerName = one(r, "aws:mq/broker:Broker").state.brokerName;
    const alarms = alarmsOf(r, "shop-rabbitmq");
    expect(Object.keys(alarms).sort()).toEqual(["disk", "down", "memory"]);
    expect(alarms.down).toMatchObject({
      namespace: "AWS/AmazonMQ",
      dimensions: { Broker: brokerName },
      treatMissingData: "breaching",
    });
    const math = (a: Alarm) =>
      Object.fromEntries(
        a.metricQueries!.map((q) => [
          q.id,
          q.expression ?? `${q.metric!.metricName}/${q.metric!.stat}@${q.metric!.dimensions.Broker}`,
        ]),
      );
    expect(math(alarms.memory!)).toEqual({
      used: `RabbitMQMemUsed/Maximum@${String(brokerName)}`,
      limit: `RabbitMQMemLimit/Minimum@${String(brokerName)}`,
      value: "100 * used / limit",
    });
    expect(alarms.memory).toMatchObject({ comparisonOperator: "GreaterThanThreshold", threshold: 80 });
    expect(math(alarms.disk!).value).toBe("free / limit");
    expect(alarms.disk).toMatchObject({ comparisonOperator: "LessThanThreshold", threshold: 2 });
    // Only the expression is what the alarm watches.
    expect(alarms.memory!.metricQueries!.filter((q) => q.returnData).map((q) => q.id)).toEqual(["value"]);
  });
});

describe("alarms: bad input", () => {
  it("refuses alarms on an in-cluster store and sensitivities out of range, all at once", () => {
    expect(
      thrownMessage(
        () =>
          new RedisCache(
            "cache",
            {
              backend: "inCluster",
              namespace: "fintech",
              consumers: [{ service: "backend-api", namespace: "fintech" }],
              alarms: { topicArn: TOPIC, sustainMinutes: 0, usagePercent: 100, replicationLagSeconds: 1.5 },
            },
            STAND_IN_KUBERNETES,
          ),
      ),
    ).toBe(
      argsErrorMessage("RedisCache", "cache", [
        'alarms: only with backend "aws" (CloudWatch watches AWS-managed stores; in-cluster stores are watched by Prometheus through DataStoreMonitoring), found backend "inCluster"',
        "alarms.sustainMinutes: expected a whole number of minutes from 1 to 60, found 0",
        "alarms.replicationLagSeconds: expected a whole number of seconds from 1 to 3600, found 1.5",
        "alarms.usagePercent: expected a whole number of percent from 50 to 99, found 100",
      ]),
    );
  });
});

describe("VolumeBackup alerts", () => {
  it("send the vault's failed, aborted and expired jobs to the topic through EventBridge", async () => {
    const r = await runProgram(() => new VolumeBackup("vb", { alarms: { topicArn: TOPIC } }));
    const vaultName = one(r, "aws:backup/vault:Vault").state.name;
    const rule = one(r, "aws:cloudwatch/eventRule:EventRule");
    expect(JSON.parse(String(rule.inputs.eventPattern))).toEqual({
      source: ["aws.backup"],
      "detail-type": ["Backup Job State Change"],
      detail: { state: ["FAILED", "ABORTED", "EXPIRED"], backupVaultName: [vaultName] },
    });
    const target = one(r, "aws:cloudwatch/eventTarget:EventTarget");
    expect([target.inputs.rule, target.inputs.arn]).toEqual([rule.state.name, TOPIC]);
  });

  it("alarm when no job of the vault completed for the maximum age, an hour without jobs counting as breaching", async () => {
    const r = await runProgram(
      () => new VolumeBackup("vb", { alarms: { topicArn: TOPIC, maxAgeHours: 50 } }),
    );
    const alarm = reveal(one(r, ALARM).inputs) as Alarm;
    expect(alarm).toMatchObject({
      namespace: "AWS/Backup",
      metricName: "NumberOfBackupJobsCompleted",
      dimensions: { BackupVaultName: one(r, "aws:backup/vault:Vault").state.name },
      statistic: "Sum",
      period: 3600,
      evaluationPeriods: 50,
      datapointsToAlarm: 50,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
      alarmActions: [TOPIC],
    });
    // The default covers the daily schedule plus its start and completion windows.
    const byDefault = await runProgram(() => new VolumeBackup("vb", { alarms: { topicArn: TOPIC } }));
    expect((reveal(one(byDefault, ALARM).inputs) as Alarm).evaluationPeriods).toBe(32);
    expect(byType(await runProgram(() => new VolumeBackup("vb", {})), ALARM)).toEqual([]);
  });

  it("refuses an age CloudWatch cannot evaluate", () => {
    expect(
      thrownMessage(() => new VolumeBackup("vb", { alarms: { topicArn: TOPIC, maxAgeHours: 169 } })),
    ).toBe(
      argsErrorMessage("VolumeBackup", "vb", [
        "alarms.maxAgeHours: expected a whole number of hours from 2 to 168 (CloudWatch evaluates at most 7 days), found 169",
      ]),
    );
  });
});

type Statement = { Sid: string; Principal: unknown; Action: unknown; Condition?: unknown };
const statements = (policy: unknown) =>
  Object.fromEntries(
    (JSON.parse(String(policy)) as { Statement: Statement[] }).Statement.map((s) => [s.Sid, s]),
  );

describe("AlertTopic", () => {
  it("encrypts the topic with its own key that CloudWatch and EventBridge may use, and has no subscriber without a webhook", async () => {
    const r = await runProgram(() => new AlertTopic("alerts", {}));
    const key = one(r, "aws:kms/key:Key");
    const topic = one(r, "aws:sns/topic:Topic");
    expect(topic.inputs.kmsMasterKeyId).toBe(key.state.arn);
    expect(key.inputs.enableKeyRotation).toBe(true);
    const keyPolicy = statements(key.inputs.policy);
    expect(keyPolicy.CloudWatchAlarmsPublish).toMatchObject({
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
    // EventBridge's KMS requests carry no source keys: a condition here would drop every event.
    expect(keyPolicy.EventBridgeRulesPublish).toMatchObject({
      Principal: { Service: "events.amazonaws.com" },
    });
    expect(keyPolicy.EventBridgeRulesPublish!.Condition).toBeUndefined();
    const topicPolicy = one(r, "aws:sns/topicPolicy:TopicPolicy");
    expect(topicPolicy.inputs.arn).toBe(topic.state.arn);
    expect(statements(topicPolicy.inputs.policy).EventBridgeRulesPublish).toMatchObject({
      Principal: { Service: "events.amazonaws.com" },
      Action: "sns:Publish",
    });
    expect(byType(r, "aws:sns/topicSubscription:TopicSubscription")).toEqual([]);
    expect(byType(r, "aws:lambda/function:Function")).toEqual([]);
  });

  it("forwards to the webhook through a function subscribed to the topic, the URL a secret encrypted with the topic's key", async () => {
    const r = await runProgram(
      () =>
        new AlertTopic("alerts", { receiver: "slack", webhookUrl: pulumi.secret("https://hooks.example/x") }),
    );
    const topic = one(r, "aws:sns/topic:Topic");
    const fn = one(r, "aws:lambda/function:Function");
    const subscription = one(r, "aws:sns/topicSubscription:TopicSubscription");
    expect(subscription.inputs).toMatchObject({
      topic: topic.state.arn,
      protocol: "lambda",
      endpoint: fn.state.arn,
    });
    expect(one(r, "aws:lambda/permission:Permission").inputs).toMatchObject({
      principal: "sns.amazonaws.com",
      sourceArn: topic.state.arn,
    });
    expect(fn.inputs.kmsKeyArn).toBe(one(r, "aws:kms/key:Key").state.arn);
    const env = (fn.inputs.environment as { variables: Record<string, unknown> }).variables;
    expect(env.WEBHOOK_URL).toEqual({ secret: true, value: "https://hooks.example/x" });
    expect(env.RECEIVER).toBe("slack");
    // Named per stack (staging and production may share an account), logging where Lambda writes.
    expect(fn.inputs.name).toBe(`alerts-forwarder-${pulumi.getStack()}`);
    expect(one(r, "aws:cloudwatch/logGroup:LogGroup").inputs.name).toBe(
      `/aws/lambda/${String(fn.inputs.name)}`,
    );
    // Undeliverable notifications land in an encrypted dead-letter queue the function may write to.
    const dlq = one(r, "aws:sqs/queue:Queue");
    expect(fn.inputs.deadLetterConfig).toEqual({ targetArn: dlq.state.arn });
    expect(dlq.inputs.kmsMasterKeyId).toBe(one(r, "aws:kms/key:Key").state.arn);
    const policy = JSON.parse(String(one(r, "aws:iam/rolePolicy:RolePolicy").inputs.policy)) as {
      Statement: { Action: string | string[]; Resource: string }[];
    };
    expect(policy.Statement).toContainEqual({
      Effect: "Allow",
      Action: "sqs:SendMessage",
      Resource: dlq.state.arn,
    });
  });

  it("refuses a receiver without a URL and a URL without a receiver", () => {
    expect(thrownMessage(() => new AlertTopic("alerts", { receiver: "pagerduty" }))).toBe(
      argsErrorMessage("AlertTopic", "alerts", ['webhookUrl: required with receiver "pagerduty" (a secret)']),
    );
    expect(thrownMessage(() => new AlertTopic("alerts", { webhookUrl: "https://hooks.example/x" }))).toBe(
      argsErrorMessage("AlertTopic", "alerts", [
        'webhookUrl: given but receiver is "none"; choose "slack" or "pagerduty", or drop the URL',
      ]),
    );
  });
});

/** Runs the deployed forwarder source against one SNS record, with a fake webhook answering `status`. */
async function forward(
  receiver: string,
  message: unknown,
  status = 200,
): Promise<{ url: string; body: Record<string, unknown> }[]> {
  const posts: { url: string; body: Record<string, unknown> }[] = [];
  const module = { exports: {} as { handler?: (event: unknown) => Promise<void> } };
  const fetch = (url: string, init: { body: string }) => {
    posts.push({ url, body: JSON.parse(init.body) as Record<string, unknown> });
    return Promise.resolve({ ok: status < 300, status });
  };
  const env = { WEBHOOK_URL: "https://hooks.example/x", RECEIVER: receiver };
  vm.runInNewContext(ALERT_FORWARDER_SOURCE, { module, exports: module.exports, fetch, process: { env } });
  await module.exports.handler!({
    Records: [
      {
        Sns: {
          Message: typeof message === "string" ? message : JSON.stringify(message),
          Subject: "subject",
          Timestamp: "2026-01-01T00:00:00.000Z",
        },
      },
    ],
  });
  return posts;
}

describe("the alert forwarder", () => {
  const alarm = (state: string) => ({
    AlarmName: "shop-postgres-alarm-storage-1a2b3c4",
    AlarmDescription: "shop-postgres: RDS storage above 80 %",
    NewStateValue: state,
    NewStateReason: "Threshold Crossed",
    StateChangeTime: "2026-01-01T00:00:00.000+0000",
  });

  it("posts a CloudWatch alarm to Slack as text, firing and resolved", async () => {
    const [firing] = await forward("slack", alarm("ALARM"));
    expect(firing!.url).toBe("https://hooks.example/x");
    expect(firing!.body.text).toBe(
      "[FIRING] shop-postgres-alarm-storage-1a2b3c4 (critical)\nshop-postgres-alarm-storage-1a2b3c4 is ALARM\nshop-postgres: RDS storage above 80 %\nThreshold Crossed",
    );
    const [resolved] = await forward("slack", alarm("OK"));
    expect(String(resolved!.body.text)).toMatch(/^\[RESOLVED\] /);
  });

  it("posts a failed AWS Backup job as Alertmanager's webhook payload for pagerduty", async () => {
    const [post] = await forward("pagerduty", {
      source: "aws.backup",
      "detail-type": "Backup Job State Change",
      time: "2026-01-02T03:40:00Z",
      detail: { backupJobId: "job-1", state: "FAILED", backupVaultName: "vb-vault", statusMessage: "denied" },
    });
    expect(post!.body).toMatchObject({
      version: "4",
      status: "firing",
      commonLabels: { alertname: "AwsBackupJobFailed", severity: "critical" },
    });
    const [a] = post!.body.alerts as {
      labels: Record<string, string>;
      annotations: Record<string, string>;
    }[];
    expect(a!.annotations.summary).toBe("AWS Backup job job-1 FAILED (vault vb-vault)");
    expect(a!.annotations.description).toBe("denied");
  });

  it("fails the invocation (so Lambda retries) when the webhook refuses", async () => {
    await expect(forward("slack", alarm("ALARM"), 500)).rejects.toThrow("webhook answered 500");
  });
});

describe("stacks", () => {
  const awsStoreIds = (r: RunResult) => ({
    rds: byType(r, "aws:rds/instance:Instance").map((i) => String(i.state.identifier)),
    caches: byType(r, "aws:elasticache/replicationGroup:ReplicationGroup").flatMap(
      (g) => g.state.memberClusters as string[],
    ),
    brokers: byType(r, "aws:mq/broker:Broker").map((b) => String(b.state.brokerName)),
  });
  const watched = (r: RunResult, key: string, metric: string) =>
    byType(r, ALARM)
      .map((a) => reveal(a.inputs) as Alarm)
      .filter((a) => a.metricName === metric)
      .map((a) => a.dimensions?.[key]);

  it.each([
    ["staging", 15],
    ["production", 5],
  ])(
    "%s: every AWS-managed store is watched for down at its stage's sensitivity, all notifying the stack's topic",
    async (stack, minutes) => {
      const r = await runStack(stack);
      const ids = awsStoreIds(r);
      expect(ids.rds.length).toBeGreaterThan(0);
      expect(watched(r, "DBInstanceIdentifier", "CPUUtilization").sort()).toEqual(ids.rds.sort());
      expect(watched(r, "DBInstanceIdentifier", "FreeStorageSpace").sort()).toEqual(ids.rds.sort());
      expect(watched(r, "CacheClusterId", "EngineCPUUtilization").sort()).toEqual(ids.caches.sort());
      expect(watched(r, "Broker", "ExchangeCount").sort()).toEqual(ids.brokers.sort());
      const topic = one(r, "aws:sns/topic:Topic").state.arn;
      const alarms = byType(r, ALARM).map((a) => reveal(a.inputs) as Alarm);
      for (const a of alarms) expect(a.alarmActions).toEqual([topic]);
      // The store alarms wait the stage's minutes; the backup age alarm counts hours.
      expect(
        new Set(alarms.filter((a) => a.period === 60 || a.metricQueries).map((a) => a.evaluationPeriods)),
      ).toEqual(new Set([minutes]));
      expect(one(r, "aws:cloudwatch/eventTarget:EventTarget").inputs.arn).toBe(topic);
      // No alert webhook in the stack files: nothing subscribes, and the output says so.
      expect(byType(r, "aws:sns/topicSubscription:TopicSubscription")).toEqual([]);
      expect(reveal(r.outputs.platform)).toMatchObject({ alertTopic: topic, alertTopicDelivery: "none" });
    },
  );

  it("production's RDS storage alarms fire below 20 % of the profile's 100 GiB", async () => {
    const r = await runStack("production");
    const thresholds = byType(r, ALARM)
      .map((a) => reveal(a.inputs) as Alarm)
      .filter((a) => a.metricName === "FreeStorageSpace")
      .map((a) => a.threshold);
    expect(new Set(thresholds)).toEqual(new Set([20 * 1024 ** 3]));
  });

  it("with an alert webhook, the topic forwards to the same receiver Alertmanager uses", async () => {
    const r = await runStack("staging", {
      config: {
        "platform:observability": { alertReceiver: "slack" },
        "platform:alertWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX",
      },
      secretKeys: ["platform:alertWebhookUrl"],
    });
    const fn = one(r, "aws:lambda/function:Function");
    expect((fn.inputs.environment as { variables: Record<string, unknown> }).variables).toEqual({
      WEBHOOK_URL: { secret: true, value: "https://hooks.slack.com/services/T000/B000/XXXX" },
      RECEIVER: "slack",
    });
    expect(reveal(r.outputs.platform)).toMatchObject({ alertTopicDelivery: "webhook" });
  });

  it("local (in-cluster stores, Prometheus rules) creates no topic, alarm or rule", async () => {
    const r = await runStack("local");
    const aws = r.resources.filter((x) =>
      /^aws:(sns|cloudwatch\/metricAlarm|cloudwatch\/eventRule|lambda)/.test(x.type),
    );
    expect(aws).toEqual([]);
    expect(byType(r, "platform:index:AlertTopic")).toEqual([]);
  });
});
