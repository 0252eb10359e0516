/**
 * AlertTopic: where the stack's AWS-side alerts go. One SNS topic per stack that the data stores'
 * CloudWatch alarms (ManagedPostgres, RedisCache, MessageBroker with backend `aws`) and VolumeBackup's
 * EventBridge rule publish to, encrypted with a key of its own, and, when the stack has an alert
 * webhook, a forwarder that posts every notification to the same receiver Alertmanager uses.
 *
 * Why its own key, not `alias/aws/sns`: an AWS managed key's policy cannot be changed, and CloudWatch
 * and EventBridge may only publish to an encrypted topic whose key policy lets them use the key. With
 * `alias/aws/sns` every alarm notification would be dropped. The key admits exactly those two
 * services (CloudWatch limited to this account's alarms; EventBridge cannot carry source conditions
 * in a KMS policy, AWS documents).
 *
 * Without a webhook (`alertReceiver` `none`) the topic has no subscription: alarms still change state
 * in CloudWatch, and anyone may subscribe to `topicArn` (e-mail, AWS Chatbot, a PagerDuty CloudWatch
 * integration).
 *
 * @example
 * const alerts = new AlertTopic("alerts", { receiver: "slack", webhookUrl: secretUrl, tags });
 * new ManagedPostgres("ecommerce-postgres", { ..., alarms: { topicArn: alerts.topicArn } });
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ALERT_FORWARDER_SOURCE } from "./alert-forwarder";
import { childName, ComponentArgsError, statefulOptions, typeToken } from "./lib";

/** Receivers AlertTopic can forward to (ObservabilityStack's, `none` aside). */
export type AlertTopicReceiver = "none" | "slack" | "pagerduty" | "webhook";

export interface AlertTopicArgs {
  /**
   * Where notifications go, as for Alertmanager: `slack`, or Alertmanager's webhook payload
   * (`pagerduty`, `webhook`), or nowhere (`none`). Default `"none"`. */
  receiver?: AlertTopicReceiver;
  /** The receiver's webhook URL, as a secret (ObservabilityStack's `alertWebhookUrl`). Required unless `receiver` is `none`. */
  webhookUrl?: pulumi.Input<string>;
  /** Days the forwarder's log is kept. Default `30`. */
  logRetentionDays?: number;
  /**
   * `protect` + `retainOnDelete` on the key (production): a key scheduled for deletion silently stops
   * every notification. Default `false`.
   */
  protect?: boolean;
  /** Tags on every AWS resource. Default `{}`. */
  tags?: Record<string, string>;
}

/** The forwarder's runtime (global fetch). */
export const ALERT_FORWARDER_RUNTIME = "nodejs22.x";

export class AlertTopic extends pulumi.ComponentResource {
  /** The topic alarms and rules publish to. */
  public readonly topicArn: pulumi.Output<string>;
  /** The key encrypting it. */
  public readonly keyArn: pulumi.Output<string>;
  /** `webhook` when notifications are forwarded to the receiver, `none` when the topic has no subscriber. */
  public readonly delivery: "webhook" | "none";

  constructor(name: string, args: AlertTopicArgs, opts?: pulumi.ComponentResourceOptions) {
    const receiver = args.receiver ?? "none";
    const logRetentionDays = args.logRetentionDays ?? 30;
    const problems: string[] = [];
    if (!["none", "slack", "pagerduty", "webhook"].includes(receiver))
      problems.push(
        `receiver: expected "none", "slack", "pagerduty" or "webhook", found ${JSON.stringify(receiver)}`,
      );
    if (receiver !== "none" && args.webhookUrl === undefined)
      problems.push(`webhookUrl: required with receiver "${receiver}" (a secret)`);
    if (receiver === "none" && args.webhookUrl !== undefined)
      problems.push(
        'webhookUrl: given but receiver is "none"; choose "slack" or "pagerduty", or drop the URL',
      );
    if (
      ![1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653].includes(logRetentionDays)
    )
      problems.push(
        `logRetentionDays: expected a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...), found ${logRetentionDays}`,
      );
    if (problems.length > 0) throw new ComponentArgsError("AlertTopic", name, problems);
    super(typeToken("AlertTopic"), name, {}, opts);
    const tags = (suffix: string) => ({ ...args.tags, Name: childName(name, suffix) });

    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const key = new aws.kms.Key(
      childName(name, "kms"),
      {
        description: `SNS topic ${name}: CloudWatch alarms and EventBridge rules publish here`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi
          .all([identity.accountId, partition])
          .apply(([account, part]) => JSON.stringify(alertKeyPolicy(account, part))),
        tags: tags("kms"),
      },
      { parent: this, ...statefulOptions(args.protect ?? false) },
    );
    const topic = new aws.sns.Topic(
      childName(name, "topic"),
      { kmsMasterKeyId: key.arn, tags: tags("topic") },
      { parent: this },
    );
    new aws.sns.TopicPolicy(
      childName(name, "topic-policy"),
      {
        arn: topic.arn,
        policy: pulumi
          .all([topic.arn, identity.accountId, partition])
          .apply(([arn, account, part]) => JSON.stringify(alertTopicPolicy(arn, account, part))),
      },
      { parent: this },
    );
    this.delivery = receiver === "none" ? "none" : "webhook";
    if (receiver !== "none")
      this.forwarder(name, receiver, args.webhookUrl!, topic, key, logRetentionDays, tags);

    this.topicArn = topic.arn;
    this.keyArn = key.arn;
    this.registerOutputs({ topicArn: this.topicArn, keyArn: this.keyArn, delivery: this.delivery });
  }

  /**
   * The function subscribed to the topic that posts each notification to the webhook (see
   * alert-forwarder.ts for why not an `https` subscription). The URL is an environment variable
   * encrypted with the topic's key, a secret in Pulumi's state.
   */
  private forwarder(
    name: string,
    receiver: Exclude<AlertTopicReceiver, "none">,
    webhookUrl: pulumi.Input<string>,
    topic: aws.sns.Topic,
    key: aws.kms.Key,
    logRetentionDays: number,
    tags: (suffix: string) => Record<string, string>,
  ): void {
    const parent = { parent: this };
    // Lambda names are per account and region: the stack's name keeps staging's and production's
    // forwarders apart when they share an account.
    const functionName = `${childName(name, "forwarder")}-${pulumi.getStack()}`.slice(0, 64);
    const logGroup = new aws.cloudwatch.LogGroup(
      childName(name, "forwarder-logs"),
      {
        name: `/aws/lambda/${functionName}`,
        retentionInDays: logRetentionDays,
        tags: tags("forwarder-logs"),
      },
      parent,
    );
    const role = new aws.iam.Role(
      childName(name, "forwarder"),
      {
        description: `Alert forwarder of ${name}`,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
        tags: tags("forwarder"),
      },
      parent,
    );
    // Notifications the function could not deliver after Lambda's retries of an asynchronous invocation
    // (SNS invokes asynchronously): kept 14 days, encrypted with the topic's key, for replay by hand.
    const deadLetters = new aws.sqs.Queue(
      childName(name, "forwarder-dlq"),
      {
        kmsMasterKeyId: key.arn,
        messageRetentionSeconds: 14 * 24 * 3600,
        tags: tags("forwarder-dlq"),
      },
      parent,
    );
    // Its own log group, the key of its environment and its dead-letter queue: nothing else.
    const policy = new aws.iam.RolePolicy(
      childName(name, "forwarder"),
      {
        role: role.name,
        policy: pulumi.all([logGroup.arn, key.arn, deadLetters.arn]).apply(([logs, keyArn, dlq]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: `${logs}:*`,
              },
              { Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: keyArn },
              { Effect: "Allow", Action: "sqs:SendMessage", Resource: dlq },
            ],
          }),
        ),
      },
      parent,
    );
    const fn = new aws.lambda.Function(
      childName(name, "forwarder"),
      {
        name: functionName,
        description: `Posts ${name}'s SNS notifications to the ${receiver} webhook`,
        runtime: ALERT_FORWARDER_RUNTIME,
        handler: "index.handler",
        code: new pulumi.asset.AssetArchive({
          "index.js": new pulumi.asset.StringAsset(ALERT_FORWARDER_SOURCE),
        }),
        role: role.arn,
        timeout: 30,
        memorySize: 128,
        kmsKeyArn: key.arn,
        environment: { variables: { WEBHOOK_URL: pulumi.secret(webhookUrl), RECEIVER: receiver } },
        deadLetterConfig: { targetArn: deadLetters.arn },
        tags: tags("forwarder"),
      },
      { parent: this, dependsOn: [logGroup, policy] },
    );
    new aws.lambda.Permission(
      childName(name, "forwarder-invoke"),
      {
        action: "lambda:InvokeFunction",
        function: fn.name,
        principal: "sns.amazonaws.com",
        sourceArn: topic.arn,
      },
      parent,
    );
    new aws.sns.TopicSubscription(
      childName(name, "forwarder"),
      { topic: topic.arn, protocol: "lambda", endpoint: fn.arn },
      parent,
    );
  }
}

/**
 * The topic key's policy: the account administers it through IAM; CloudWatch (this account's alarms
 * only) and EventBridge may encrypt messages for the topic. EventBridge's statement has no source
 * conditions: its KMS requests do not carry them, so a condition would silently drop every event.
 */
export function alertKeyPolicy(account: string, partition: string): Record<string, unknown> {
  const publish = ["kms:GenerateDataKey*", "kms:Decrypt"];
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministersThroughIam",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: publish,
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": account } },
      },
      {
        Sid: "EventBridgeRulesPublish",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: publish,
        Resource: "*",
      },
    ],
  };
}

/** The topic's policy: the account's own principals, and CloudWatch and EventBridge acting for this account. */
export function alertTopicPolicy(
  topicArn: string,
  account: string,
  partition: string,
): Record<string, unknown> {
  const fromAccount = { StringEquals: { "aws:SourceAccount": account } };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountPublishes",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
        Resource: topicArn,
      },
      {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: fromAccount,
      },
      {
        Sid: "EventBridgeRulesPublish",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: fromAccount,
      },
      {
        Sid: "DenyPlainTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}
