/**
 * @pulumi/aws data services: RDS, ElastiCache, Amazon MQ and their security groups, subnet groups and
 * parameter groups, with the endpoint outputs consumers read. Names the provider would auto-generate
 * (`<logical name>-<7 hex>`) are generated the same way here, so endpoints look like the real thing.
 */
import { MOCK_ACCOUNT, MOCK_REGION, stableHex } from "./common";
import { type MockDomain } from "./types";

const arn = (service: string, resource: string) =>
  `arn:aws:${service}:${MOCK_REGION}:${MOCK_ACCOUNT}:${resource}`;
/** The physical name the provider would choose: the given one, or the logical name plus a random suffix. */
const physical = (name: string, given: unknown) =>
  typeof given === "string" && given !== "" ? given : `${name}-${stableHex(`autoname/${name}`, 7)}`;

export const awsDataMocks: MockDomain = {
  resources: {
    // The id itself is the registry's generic mock id (`<logical name>-<hex>`).
    // S3 bucket names are global: an auto-named bucket gets the logical name plus a random suffix.
    "aws:s3/bucket:Bucket": ({ name, inputs }) => {
      const bucket = physical(name, inputs.bucket);
      return { bucket, arn: `arn:aws:s3:::${bucket}`, region: MOCK_REGION };
    },
    "aws:backup/vault:Vault": ({ name, inputs }) => {
      const vaultName = physical(name, inputs.name);
      return { name: vaultName, arn: arn("backup", `backup-vault:${vaultName}`), recoveryPoints: 0 };
    },
    "aws:backup/plan:Plan": ({ name }) => ({
      arn: arn("backup", `backup-plan:${stableHex(name, 8)}-0000-4000-8000-${stableHex(name, 12)}`),
      version: stableHex(`${name}-version`, 32),
    }),
    // Alerts: the topic, the forwarder, alarms and EventBridge rules (auto-named like the provider).
    "aws:sns/topic:Topic": ({ name, inputs }) => {
      const topicName = physical(name, inputs.name);
      return { name: topicName, arn: arn("sns", topicName) };
    },
    "aws:sns/topicSubscription:TopicSubscription": ({ name, inputs }) => ({
      arn: `${String(inputs.topic)}:${stableHex(`sub/${name}`, 8)}-0000-4000-8000-${stableHex(`sub/${name}`, 12)}`,
    }),
    "aws:lambda/function:Function": ({ name, inputs }) => {
      const functionName = physical(name, inputs.name);
      return { name: functionName, arn: arn("lambda", `function:${functionName}`), version: "$LATEST" };
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": ({ name, inputs }) => {
      const alarmName = physical(name, inputs.name);
      return { name: alarmName, arn: arn("cloudwatch", `alarm:${alarmName}`) };
    },
    "aws:cloudwatch/eventRule:EventRule": ({ name, inputs }) => {
      const ruleName = physical(name, inputs.name);
      return { name: ruleName, arn: arn("events", `rule/${ruleName}`) };
    },
    "aws:ec2/securityGroup:SecurityGroup": ({ name, inputs }) => ({
      arn: arn("ec2", `security-group/sg-${stableHex(`sg/${name}`, 17)}`),
      name: physical(name, inputs.name),
      ownerId: MOCK_ACCOUNT,
      egress: inputs.egress ?? [],
    }),

    // RDS
    "aws:rds/subnetGroup:SubnetGroup": ({ name, inputs }) => {
      const groupName = physical(name, inputs.name);
      return {
        name: groupName,
        arn: arn("rds", `subgrp:${groupName}`),
        vpcId: `vpc-${stableHex("vpc", 17)}`,
      };
    },
    "aws:rds/parameterGroup:ParameterGroup": ({ name, inputs }) => {
      const groupName = physical(name, inputs.name);
      return { name: groupName, arn: arn("rds", `pg:${groupName}`) };
    },
    "aws:rds/instance:Instance": ({ name, inputs }) => {
      const identifier = physical(name, inputs.identifier);
      const port = Number(inputs.port ?? 5432);
      const address = `${identifier}.c${stableHex(`rds/${MOCK_ACCOUNT}`, 11)}.${MOCK_REGION}.rds.amazonaws.com`;
      return {
        identifier,
        address,
        endpoint: `${address}:${port}`,
        port,
        arn: arn("rds", `db:${identifier}`),
        resourceId: `db-${stableHex(`rds/${name}`, 26).toUpperCase()}`,
        hostedZoneId: "Z29XKXDKYMONMX",
        engineVersionActual:
          inputs.engineVersion === "15" ? "15.14" : inputs.engineVersion === "17" ? "17.6" : "16.10",
        status: "available",
      };
    },

    // ElastiCache
    "aws:elasticache/subnetGroup:SubnetGroup": ({ name, inputs }) => {
      const groupName = physical(name, inputs.name);
      return { name: groupName, arn: arn("elasticache", `subnetgroup:${groupName}`) };
    },
    "aws:elasticache/parameterGroup:ParameterGroup": ({ name, inputs }) => {
      const groupName = physical(name, inputs.name);
      return { name: groupName, arn: arn("elasticache", `parametergroup:${groupName}`) };
    },
    "aws:elasticache/replicationGroup:ReplicationGroup": ({ name, inputs }) => {
      const groupId = physical(name, inputs.replicationGroupId);
      const suffix = `${stableHex(`ec/${MOCK_ACCOUNT}`, 6)}.${MOCK_REGION.replace(/-(\w)\w+-/, "$1")}.cache.amazonaws.com`;
      return {
        replicationGroupId: groupId,
        arn: arn("elasticache", `replicationgroup:${groupId}`),
        primaryEndpointAddress: `master.${groupId}.${suffix}`,
        readerEndpointAddress: `replica.${groupId}.${suffix}`,
        port: Number(inputs.port ?? 6379),
        engineVersionActual: inputs.engine === "valkey" ? "8.0.1" : "7.1.0",
        memberClusters: Array.from(
          { length: Number(inputs.numCacheClusters ?? 1) },
          (_, i) => `${groupId}-00${i + 1}`,
        ),
      };
    },

    // Amazon MQ
    "aws:mq/broker:Broker": ({ name, inputs }) => {
      const brokerId = `b-${stableHex(`mq/${name}`, 8)}-${stableHex(`mq/${name}`, 12).slice(8, 12)}-4${stableHex(`mq/${name}/2`, 3)}-8${stableHex(`mq/${name}/3`, 3)}-${stableHex(`mq/${name}/4`, 12)}`;
      const host = `${brokerId}.mq.${MOCK_REGION}.amazonaws.com`;
      return {
        brokerName: physical(name, inputs.brokerName),
        arn: arn("mq", `broker:${physical(name, inputs.brokerName)}:${brokerId}`),
        instances: [{ consoleUrl: `https://${host}`, endpoints: [`amqps://${host}:5671`], ipAddress: "" }],
      };
    },
  },
  invokes: {},
};
