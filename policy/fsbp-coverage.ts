/**
 * How much of AWS Security Hub's Foundational Security Best Practices (FSBP) the platform-baseline
 * pack checks: every Security Hub control that evaluates a resource type the staging and
 * production stacks create, with the rules that check it or why none does. Data only; the pack
 * does not load it. test/fsbp-coverage.test.ts keeps it true against the stacks and the rules.
 *
 * Control IDs and titles are AWS's, from the Security Hub controls reference as published in the
 * user guide's source (`REFERENCE`), except where an entry names a newer AWS page (`source`).
 * Controls AWS added after that snapshot (Amazon MQ, AWS Backup, later EKS/RDS/S3 controls) are
 * not listed: see docs/fsbp-coverage.md.
 */

/** The Security Hub controls reference the IDs and titles come from. */
export const REFERENCE =
  "https://github.com/awsdocs/aws-security-hub-user-guide/blob/bda5bf7ddbdf498557b2ac6a538577528004e6d5/doc_source/securityhub-controls-reference.md";

interface ControlBase {
  /** Security control ID, as AWS writes it (`RDS.3`). */
  id: string;
  /** Security control title, as AWS writes it. */
  title: string;
  /** The Pulumi resource types (`aws:…`) of ours the control evaluates. */
  resourceTypes: readonly string[];
  /** The AWS page the ID and title come from, when not `REFERENCE`. */
  source?: string;
}

/** A control one or more pack rules check; `gap` says what the control asks that the rules do not. */
export interface CheckedControl extends ControlBase {
  rules: readonly string[];
  gap?: string;
}

/** A control no pack rule checks, and why. */
export interface UncheckedControl extends ControlBase {
  rules: null;
  reason: string;
}

export type FsbpControl = CheckedControl | UncheckedControl;

const T = {
  eksCluster: "aws:eks/cluster:Cluster",
  cacheGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  cacheSubnetGroup: "aws:elasticache/subnetGroup:SubnetGroup",
  rdsInstance: "aws:rds/instance:Instance",
  rdsSubnetGroup: "aws:rds/subnetGroup:SubnetGroup",
  vpc: "aws:ec2/vpc:Vpc",
  flowLog: "aws:ec2/flowLog:FlowLog",
  defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  subnet: "aws:ec2/subnet:Subnet",
  eip: "aws:ec2/eip:Eip",
  vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  kmsKey: "aws:kms/key:Key",
  bucket: "aws:s3/bucket:Bucket",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  bucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketLogging: "aws:s3/bucketLogging:BucketLogging",
  bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
  bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketOwnership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  snsTopic: "aws:sns/topic:Topic",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
} as const;

const NOT_YET = "not checked yet";
const PRODUCTION_ONLY = "production only; staging is not checked";

export const FSBP_CONTROLS: readonly FsbpControl[] = [
  // ---- EKS ----
  {
    id: "EKS.1",
    title: "EKS cluster endpoints should not be publicly accessible",
    source: "https://docs.aws.amazon.com/securityhub/latest/userguide/eks-controls.html#eks-1",
    resourceTypes: [T.eksCluster],
    rules: ["aws-eks-hardened"],
    gap: "the rule accepts a public endpoint limited to listed CIDRs (never 0.0.0.0/0); EKS.1 fails any public endpoint",
  },
  {
    id: "EKS.2",
    title: "EKS clusters should run on a supported Kubernetes version",
    resourceTypes: [T.eksCluster],
    rules: null,
    reason: `${NOT_YET}: needs EKS's support calendar, which moves with time`,
  },
  // ---- ElastiCache ----
  {
    id: "ElastiCache.1",
    title: "ElastiCache (Redis OSS) clusters should have automatic backups enabled",
    source:
      "https://docs.aws.amazon.com/securityhub/latest/userguide/elasticache-controls.html#elasticache-1",
    resourceTypes: [T.cacheGroup],
    rules: ["data-production-backup"],
    gap: `${PRODUCTION_ONLY} (snapshotRetentionLimit at least 1)`,
  },
  {
    id: "ElastiCache.2",
    title: "ElastiCache for Redis cache clusters should have auto minor version upgrades enabled",
    resourceTypes: [T.cacheGroup],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "ElastiCache.3",
    title: "ElastiCache replication groups should have automatic failover enabled",
    resourceTypes: [T.cacheGroup],
    rules: ["aws-elasticache-production-failover"],
    gap: PRODUCTION_ONLY,
  },
  {
    id: "ElastiCache.4",
    title: "ElastiCache replication groups should have encryption-at-rest enabled",
    resourceTypes: [T.cacheGroup],
    rules: ["aws-elasticache-encryption-auth"],
  },
  {
    id: "ElastiCache.5",
    title: "ElastiCache replication groups should have encryption-in-transit enabled",
    resourceTypes: [T.cacheGroup],
    rules: ["aws-elasticache-encryption-auth"],
  },
  {
    id: "ElastiCache.6",
    title: "ElastiCache replication groups of earlier Redis versions should have Redis AUTH enabled",
    resourceTypes: [T.cacheGroup],
    rules: ["aws-elasticache-encryption-auth"],
  },
  {
    id: "ElastiCache.7",
    title: "ElastiCache clusters should not use the default subnet group",
    resourceTypes: [T.cacheGroup, T.cacheSubnetGroup],
    rules: null,
    reason: NOT_YET,
  },
  // ---- RDS (instances; the stacks create no Aurora cluster) ----
  {
    id: "RDS.2",
    title:
      "RDS DB Instances should prohibit public access, as determined by the PubliclyAccessible configuration",
    resourceTypes: [T.rdsInstance],
    rules: ["aws-rds-not-public"],
  },
  {
    id: "RDS.3",
    title: "RDS DB instances should have encryption at-rest enabled",
    resourceTypes: [T.rdsInstance],
    rules: ["aws-rds-storage-encrypted"],
  },
  {
    id: "RDS.5",
    title: "RDS DB instances should be configured with multiple Availability Zones",
    resourceTypes: [T.rdsInstance],
    rules: ["aws-rds-production-resilience"],
    gap: PRODUCTION_ONLY,
  },
  {
    id: "RDS.6",
    title: "Enhanced monitoring should be configured for RDS DB instances",
    resourceTypes: [T.rdsInstance],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "RDS.8",
    title: "RDS DB instances should have deletion protection enabled",
    resourceTypes: [T.rdsInstance],
    rules: ["aws-rds-production-resilience"],
    gap: PRODUCTION_ONLY,
  },
  {
    id: "RDS.9",
    title: "Database logging should be enabled",
    resourceTypes: [T.rdsInstance],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "RDS.10",
    title: "IAM authentication should be configured for RDS instances",
    resourceTypes: [T.rdsInstance],
    rules: ["aws-rds-iam-auth"],
  },
  {
    id: "RDS.11",
    title: "RDS instances should have automatic backups enabled",
    resourceTypes: [T.rdsInstance],
    rules: ["aws-rds-backup-retention"],
  },
  {
    id: "RDS.13",
    title: "RDS automatic minor version upgrades should be enabled",
    resourceTypes: [T.rdsInstance],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "RDS.17",
    title: "RDS DB instances should be configured to copy tags to snapshots",
    resourceTypes: [T.rdsInstance],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "RDS.18",
    title: "RDS instances should be deployed in a VPC",
    resourceTypes: [T.rdsInstance, T.rdsSubnetGroup],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "RDS.23",
    title: "RDS instances should not use a database engine default port",
    resourceTypes: [T.rdsInstance],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "RDS.25",
    title: "RDS database instances should use a custom administrator username",
    resourceTypes: [T.rdsInstance],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "RDS.26",
    title: "RDS DB instances should be covered by a backup plan",
    resourceTypes: [T.rdsInstance],
    rules: null,
    reason: `${NOT_YET}: data-production-backup asks AWS Backup for StatefulSet volumes only; RDS is held to its automated backups (RDS.11)`,
  },
  // ---- EC2 / VPC ----
  {
    id: "EC2.2",
    title: "The VPC default security group should not allow inbound and outbound traffic",
    resourceTypes: [T.vpc, T.defaultSecurityGroup],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "EC2.6",
    title: "VPC flow logging should be enabled in all VPCs",
    resourceTypes: [T.vpc, T.flowLog],
    rules: ["aws-vpc-flow-logs"],
  },
  {
    id: "EC2.10",
    title: "Amazon EC2 should be configured to use VPC endpoints that are created for the Amazon EC2 service",
    resourceTypes: [T.vpc, T.vpcEndpoint],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "EC2.12",
    title: "Unused EC2 EIPs should be removed",
    resourceTypes: [T.eip],
    rules: null,
    reason: "runtime state (whether the address is attached), not configuration a preview sees",
  },
  {
    id: "EC2.13",
    title: "Security groups should not allow ingress from 0.0.0.0/0 to port 22",
    resourceTypes: [T.securityGroup, T.ingressRule],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "EC2.14",
    title: "Ensure no security groups allow ingress from 0.0.0.0/0 to port 3389",
    resourceTypes: [T.securityGroup, T.ingressRule],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "EC2.15",
    title: "EC2 subnets should not automatically assign public IP addresses",
    resourceTypes: [T.subnet],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "EC2.18",
    title: "Security groups should only allow unrestricted incoming traffic for authorized ports",
    resourceTypes: [T.securityGroup, T.ingressRule],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "EC2.19",
    title: "Security groups should not allow unrestricted access to ports with high risk",
    resourceTypes: [T.securityGroup, T.ingressRule],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "EC2.22",
    title: "Unused EC2 security groups should be removed",
    resourceTypes: [T.securityGroup],
    rules: null,
    reason: "runtime state (whether anything uses the group), not configuration a preview sees",
  },
  {
    id: "EC2.25",
    title: "EC2 launch templates should not assign public IPs to network interfaces",
    resourceTypes: [T.launchTemplate],
    rules: null,
    reason: NOT_YET,
  },
  // ---- IAM / KMS ----
  {
    id: "KMS.2",
    title: "IAM principals should not have IAM inline policies that allow decryption actions on all KMS keys",
    resourceTypes: [T.role, T.rolePolicy],
    rules: null,
    reason: `${NOT_YET} by a pack rule (test/parliament.test.ts lints the policy documents, which is not this check)`,
  },
  {
    id: "KMS.3",
    title: "AWS KMS keys should not be deleted unintentionally",
    resourceTypes: [T.kmsKey],
    rules: null,
    reason: "runtime state (a key scheduled for deletion), not configuration a preview sees",
  },
  {
    id: "KMS.4",
    title: "AWS KMS key rotation should be enabled",
    resourceTypes: [T.kmsKey],
    rules: ["aws-kms-key-rotation"],
  },
  // ---- S3 ----
  {
    id: "S3.2",
    title: "S3 buckets should prohibit public read access",
    resourceTypes: [T.bucket, T.bucketPolicy, T.bucketPublicAccessBlock],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.3",
    title: "S3 buckets should prohibit public write access",
    resourceTypes: [T.bucket, T.bucketPolicy, T.bucketPublicAccessBlock],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.4",
    title: "S3 buckets should have server-side encryption enabled",
    resourceTypes: [T.bucket, T.bucketEncryption],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.5",
    title: "S3 buckets should require requests to use Secure Socket Layer",
    resourceTypes: [T.bucket, T.bucketPolicy],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.6",
    title: "S3 permissions granted to other AWS accounts in bucket policies should be restricted",
    resourceTypes: [T.bucketPolicy],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.7",
    title: "S3 buckets should have cross-Region replication enabled",
    resourceTypes: [T.bucket],
    rules: null,
    reason: `${NOT_YET}: the stacks replicate no bucket`,
  },
  {
    id: "S3.8",
    title: "S3 Block Public Access setting should be enabled at the bucket-level",
    resourceTypes: [T.bucket, T.bucketPublicAccessBlock],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.9",
    title: "S3 bucket server access logging should be enabled",
    resourceTypes: [T.bucket, T.bucketLogging],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.10",
    title: "S3 buckets with versioning enabled should have lifecycle policies configured",
    resourceTypes: [T.bucketVersioning, T.bucketLifecycle],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.11",
    title: "S3 buckets should have event notifications enabled",
    resourceTypes: [T.bucket],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.12",
    title: "S3 access control lists (ACLs) should not be used to manage user access to buckets",
    resourceTypes: [T.bucket, T.bucketOwnership],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.13",
    title: "S3 buckets should have lifecycle policies configured",
    resourceTypes: [T.bucket, T.bucketLifecycle],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "S3.14",
    title: "S3 buckets should use versioning",
    resourceTypes: [T.bucket, T.bucketVersioning],
    rules: null,
    reason: NOT_YET,
  },
  // ---- SNS ----
  {
    id: "SNS.1",
    title: "SNS topics should be encrypted at-rest using AWS KMS",
    resourceTypes: [T.snsTopic],
    rules: ["aws-sns-encrypted"],
  },
  {
    id: "SNS.2",
    title: "Logging of delivery status should be enabled for notification messages sent to a topic",
    resourceTypes: [T.snsTopic],
    rules: null,
    reason: NOT_YET,
  },
  // ---- CloudWatch ----
  {
    id: "CloudWatch.15",
    title: "CloudWatch alarms should have an action configured for the ALARM state",
    resourceTypes: [T.metricAlarm],
    rules: null,
    reason: `${NOT_YET}: data-production-alarms asks each store for one alarm with an action, not every alarm`,
  },
  {
    id: "CloudWatch.16",
    title: "CloudWatch log groups should be retained for at least 1 year",
    resourceTypes: [T.logGroup],
    rules: null,
    reason: NOT_YET,
  },
  {
    id: "CloudWatch.17",
    title: "CloudWatch alarm actions should be activated",
    resourceTypes: [T.metricAlarm],
    rules: null,
    reason: NOT_YET,
  },
];

/**
 * Controls of the reference for services we use that evaluate nothing the stacks create, and why.
 * Account-wide controls (IAM password policy, root user, CloudTrail, Config, GuardDuty, S3.1, EC2.7)
 * are outside this program and not listed one by one.
 */
export const FSBP_NOT_APPLICABLE: readonly { id: string; title: string; reason: string }[] = [
  { id: "RDS.1", title: "RDS snapshot should be private", reason: "the stacks create no RDS snapshot" },
  {
    id: "RDS.4",
    title: "RDS cluster snapshots and database snapshots should be encrypted at rest",
    reason: "the stacks create no RDS snapshot",
  },
  {
    id: "RDS.7",
    title: "RDS clusters should have deletion protection enabled",
    reason: "the stacks create no RDS cluster (aws-rds-production-resilience would check one)",
  },
  {
    id: "RDS.12",
    title: "IAM authentication should be configured for RDS clusters",
    reason: "the stacks create no RDS cluster (aws-rds-iam-auth would check one)",
  },
  {
    id: "RDS.15",
    title: "RDS DB clusters should be configured for multiple Availability Zones",
    reason: "the stacks create no RDS cluster",
  },
  {
    id: "EC2.3",
    title: "Attached EBS volumes should be encrypted at-rest",
    reason: "the program creates no EBS volume: the EBS CSI driver does, from StorageClasses",
  },
  {
    id: "EC2.8",
    title: "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)",
    reason: "the program creates no EC2 instance: EKS managed node groups do",
  },
  {
    id: "EC2.9",
    title: "EC2 instances should not have a public IPv4 address",
    reason: "the program creates no EC2 instance: EKS managed node groups do",
  },
  {
    id: "IAM.1",
    title: 'IAM policies should not allow full "*" administrative privileges',
    reason: "evaluates customer managed policies; the stacks create inline role policies only",
  },
  {
    id: "IAM.21",
    title: "IAM customer managed policies that you create should not allow wildcard actions for services",
    reason: "evaluates customer managed policies; the stacks create inline role policies only",
  },
  {
    id: "KMS.1",
    title: "IAM customer managed policies should not allow decryption actions on all KMS keys",
    reason: "evaluates customer managed policies; the stacks create inline role policies only",
  },
];

/** AWS resource types the stacks create that no control of the reference evaluates, and why. */
export const TYPES_WITHOUT_CONTROLS: Readonly<Record<string, string>> = {
  "aws:backup/plan:Plan": "AWS Backup controls are newer than the reference and not enumerated",
  "aws:backup/selection:Selection": "AWS Backup controls are newer than the reference and not enumerated",
  "aws:backup/vault:Vault": "AWS Backup controls are newer than the reference and not enumerated",
  "aws:backup/vaultLockConfiguration:VaultLockConfiguration":
    "AWS Backup controls are newer than the reference and not enumerated",
  "aws:mq/broker:Broker": "Amazon MQ controls are newer than the reference and not enumerated",
  "aws:cloudwatch/eventRule:EventRule": "no EventBridge control in the reference",
  "aws:cloudwatch/eventTarget:EventTarget": "no EventBridge control in the reference",
  "aws:ec2/internetGateway:InternetGateway": "no control in the reference",
  "aws:ec2/natGateway:NatGateway": "no control in the reference",
  "aws:ec2/route:Route": "no control in the reference",
  "aws:ec2/routeTable:RouteTable": "no control in the reference",
  "aws:ec2/routeTableAssociation:RouteTableAssociation": "no control in the reference",
  "aws:eks/accessEntry:AccessEntry": "no control in the reference",
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "no control in the reference",
  "aws:eks/addon:Addon": "no control in the reference",
  "aws:eks/nodeGroup:NodeGroup": "no control in the reference",
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": "no control in the reference",
  "aws:elasticache/parameterGroup:ParameterGroup": "no control in the reference",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "no control in the reference",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
    "attaches AWS managed policies; the reference's IAM policy controls evaluate customer managed ones",
  "aws:kms/alias:Alias": "no control in the reference",
  "aws:rds/parameterGroup:ParameterGroup": "no control in the reference",
  "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "no control in the reference",
  "aws:sns/topicPolicy:TopicPolicy": "no control in the reference",
};
