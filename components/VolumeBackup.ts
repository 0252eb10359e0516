/**
 * VolumeBackup: AWS Backup for the EBS volumes the operator does not back up (ChromaDB, Prometheus,
 * Grafana, Alertmanager, any StatefulSet volume). A backup vault encrypted with its own KMS key, a
 * daily plan keeping recovery points for the stage's retention, and a selection of every EBS volume
 * carrying `volumeBackupTag(labelDomain)`, which KubernetesCluster's StorageClass puts on every volume it
 * provisions. RDS and ElastiCache keep their own backups; CloudNativePG's volumes are tagged too
 * (crash-consistent snapshots on top of its WAL archive).
 *
 * The vault is locked (AWS Backup Vault Lock): no recovery point can be deleted, by anyone, before
 * `retentionDays`, nor be kept past `VAULT_LOCK_MAX_RETENTION_DAYS`. With `protect` the lock is in
 * compliance mode: after `VAULT_LOCK_CHANGEABLE_DAYS` it can no longer be changed or removed, not
 * even by the account's root user. Without it, the lock is in governance mode, which an IAM principal
 * allowed `backup:DeleteBackupVaultLockConfiguration` can lift (staging, tests).
 *
 * With `alarms`, the stack hears of a backup that did not happen: an EventBridge rule sends every
 * backup job of the vault that ends FAILED, ABORTED or EXPIRED to the alert topic, and a CloudWatch
 * alarm fires when no job has completed for `maxAgeHours` (the newest recovery point is too old,
 * whatever the reason: the plan stopped, the selection matches nothing, jobs never start).
 *
 * @example
 * new VolumeBackup("volume-backup", { retentionDays: 35, protect: true, tags: { owner: "platform-team" } });
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  childName,
  ComponentArgsError,
  labelDomainProblem,
  statefulOptions,
  typeToken,
  volumeBackupTag,
  type LabelDomainArgs,
} from "./lib";

export interface VolumeBackupArgs extends LabelDomainArgs {
  /** Days a recovery point is kept (AWS Backup `deleteAfter`). Default `7`. */
  retentionDays?: number;
  /** When the daily backup starts, an AWS Backup cron expression (UTC). Default `"cron(0 3 * * ? *)"` (03:00). */
  schedule?: string;
  /** `protect` + `retainOnDelete` on the vault and its key (recovery points die with them). Default `false`. */
  protect?: boolean;
  /** Tags on every AWS resource. Default `{}`. */
  tags?: Record<string, string>;
  /** Alerts on failed jobs and on a newest recovery point older than `maxAgeHours`. Default: none. */
  alarms?: VolumeBackupAlarmArgs;
}

export interface VolumeBackupAlarmArgs {
  /** The SNS topic (AlertTopic.topicArn) failed jobs and the age alarm notify. */
  topicArn: pulumi.Input<string>;
  /**
   * Hours without a completed backup job before the age alarm fires, 2–168 (CloudWatch evaluates at
   * most 7 days). Default `32`: the daily schedule's 24 h, its 1 h start window and 6 h completion
   * window, and an hour's margin.
   */
  maxAgeHours?: number;
}

/** The longest a locked vault lets a recovery point be kept (a plan asking for longer fails its jobs). */
export const VAULT_LOCK_MAX_RETENTION_DAYS = 365;
/** Days a compliance-mode lock can still be changed or removed after it is set (the AWS minimum is 3). */
export const VAULT_LOCK_CHANGEABLE_DAYS = 3;

/** Backup job states that mean no recovery point was made. */
export const FAILED_BACKUP_JOB_STATES = ["FAILED", "ABORTED", "EXPIRED"] as const;

export class VolumeBackup extends pulumi.ComponentResource {
  /** The vault's name (where recovery points are listed and restored from). */
  public readonly vaultName: pulumi.Output<string>;
  /** The plan's id. */
  public readonly planId: pulumi.Output<string>;
  /** The tag (`key=value`) a volume must carry to be backed up. */
  public readonly selectionTag: string;

  constructor(name: string, args: VolumeBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    const retentionDays = args.retentionDays ?? 7;
    const schedule = args.schedule ?? "cron(0 3 * * ? *)";
    const problems: string[] = [];
    if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 36500)
      problems.push(`retentionDays: expected a whole number of days from 1 to 36500, found ${retentionDays}`);
    if (!/^cron\(\S+( \S+){5}\)$/.test(schedule))
      problems.push(
        `schedule: expected an AWS Backup cron expression such as "cron(0 3 * * ? *)", found "${schedule}"`,
      );
    const maxAgeHours = args.alarms?.maxAgeHours ?? 32;
    if (args.alarms && (!Number.isInteger(maxAgeHours) || maxAgeHours < 2 || maxAgeHours > 168))
      problems.push(
        `alarms.maxAgeHours: expected a whole number of hours from 2 to 168 (CloudWatch evaluates at most 7 days), found ${maxAgeHours}`,
      );
    const domainProblem = labelDomainProblem(args.labelDomain);
    if (domainProblem) problems.push(domainProblem);
    if (problems.length > 0) throw new ComponentArgsError("VolumeBackup", name, problems);
    const backupTag = volumeBackupTag(args.labelDomain);
    super(typeToken("VolumeBackup"), name, {}, opts);
    const protect = args.protect ?? false;
    const tags = (suffix: string) => ({ ...args.tags, Name: childName(name, suffix) });

    const key = new aws.kms.Key(
      childName(name, "kms"),
      {
        description: `AWS Backup vault ${name}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: tags("kms"),
      },
      { parent: this, ...statefulOptions(protect) },
    );
    const vault = new aws.backup.Vault(
      childName(name, "vault"),
      { kmsKeyArn: key.arn, forceDestroy: false, tags: tags("vault") },
      { parent: this, ...statefulOptions(protect) },
    );
    // Recovery points can be deleted neither early (ransomware, a compromised admin) nor kept forever.
    new aws.backup.VaultLockConfiguration(
      childName(name, "vault-lock"),
      {
        backupVaultName: vault.name,
        minRetentionDays: retentionDays,
        maxRetentionDays: Math.max(retentionDays, VAULT_LOCK_MAX_RETENTION_DAYS),
        ...(protect ? { changeableForDays: VAULT_LOCK_CHANGEABLE_DAYS } : {}),
      },
      { parent: this, ...statefulOptions(protect) },
    );
    const plan = new aws.backup.Plan(
      childName(name, "plan"),
      {
        rules: [
          {
            ruleName: "daily",
            targetVaultName: vault.name,
            schedule,
            startWindow: 60,
            completionWindow: 360,
            lifecycle: { deleteAfter: retentionDays },
            recoveryPointTags: tags("recovery-point"),
          },
        ],
        tags: tags("plan"),
      },
      { parent: this },
    );
    const role = this.serviceRole(name, tags("role"));
    new aws.backup.Selection(
      childName(name, "volumes"),
      {
        planId: plan.id,
        iamRoleArn: role.arn,
        // EBS volumes only, and only those the platform's StorageClass tagged.
        resources: ["arn:*:ec2:*:*:volume/*"],
        selectionTags: [{ type: "STRINGEQUALS", key: backupTag.key, value: backupTag.value }],
      },
      { parent: this },
    );
    if (args.alarms) this.alerts(name, vault, args.alarms.topicArn, maxAgeHours, tags);
    this.vaultName = vault.name;
    this.planId = plan.id;
    this.selectionTag = `${backupTag.key}=${backupTag.value}`;
    this.registerOutputs({ vaultName: this.vaultName, planId: this.planId, selectionTag: this.selectionTag });
  }

  /**
   * Failed jobs through EventBridge (`Backup Job State Change`, this vault, a failed state) to the
   * topic, and the age alarm: `NumberOfBackupJobsCompleted` of the vault below 1 in every hour of
   * `maxAgeHours`, an hour without jobs (no datapoint) counting as breaching.
   */
  private alerts(
    name: string,
    vault: aws.backup.Vault,
    topicArn: pulumi.Input<string>,
    maxAgeHours: number,
    tags: (suffix: string) => Record<string, string>,
  ): void {
    const rule = new aws.cloudwatch.EventRule(
      childName(name, "job-failed"),
      {
        description: `AWS Backup jobs of vault ${name} that made no recovery point`,
        eventPattern: vault.name.apply((vaultName) =>
          JSON.stringify({
            source: ["aws.backup"],
            "detail-type": ["Backup Job State Change"],
            detail: { state: [...FAILED_BACKUP_JOB_STATES], backupVaultName: [vaultName] },
          }),
        ),
        tags: tags("job-failed"),
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      childName(name, "job-failed"),
      { rule: rule.name, arn: topicArn },
      { parent: this },
    );
    new aws.cloudwatch.MetricAlarm(
      childName(name, "alarm-too-old"),
      {
        alarmDescription: `${name}: no AWS Backup job of vault ${name} completed in ${maxAgeHours} h: the newest recovery point is too old (plan stopped, no volume carries the backup tag, or jobs keep failing).`,
        namespace: "AWS/Backup",
        metricName: "NumberOfBackupJobsCompleted",
        dimensions: { BackupVaultName: vault.name },
        statistic: "Sum",
        period: 3600,
        evaluationPeriods: maxAgeHours,
        datapointsToAlarm: maxAgeHours,
        comparisonOperator: "LessThanThreshold",
        threshold: 1,
        treatMissingData: "breaching",
        alarmActions: [topicArn],
        okActions: [topicArn],
        tags: tags("alarm-too-old"),
      },
      { parent: this },
    );
  }

  /** The role AWS Backup assumes to snapshot and restore volumes (AWS's managed policies for both). */
  private serviceRole(name: string, tags: Record<string, string>): aws.iam.Role {
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const role = new aws.iam.Role(
      childName(name, "role"),
      {
        description: `AWS Backup for ${name}`,
        // Only AWS Backup acting for this account (no confused deputy through another account's vault).
        assumeRolePolicy: account.apply((accountId) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Service: "backup.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
              },
            ],
          }),
        ),
        tags,
      },
      { parent: this },
    );
    for (const [suffix, policy] of [
      ["backup", "AWSBackupServiceRolePolicyForBackup"],
      ["restore", "AWSBackupServiceRolePolicyForRestores"],
    ] as const)
      new aws.iam.RolePolicyAttachment(
        childName(name, suffix),
        {
          role: role.name,
          policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/${policy}`,
        },
        { parent: this },
      );
    return role;
  }
}
