/**
 * What ManagedPostgres builds when its in-cluster server runs on the CloudNativePG operator: the S3
 * bucket the operator archives WAL and base backups to (KMS, versioning, public access blocked,
 * TLS-only policy, lifecycle matching retention), the IAM role the database pods assume for it (IRSA,
 * scoped to the bucket and the cluster's prefix), the `Cluster` itself (replicas spread across zones,
 * optional synchronous replication, TLS required, a recovery bootstrap when a restore is asked for),
 * its `ScheduledBackup` and the NetworkPolicy its pods need.
 *
 * Plain functions, not a ComponentResource: every resource stays a direct child of the ManagedPostgres
 * that calls them. Internal to the library: nothing here is exported from the package entry point.
 *
 * Versions: the operator's chart is pinned in PostgresOperator (CloudNativePG 1.27); the `Cluster` uses
 * the in-tree `barmanObjectStore` backup, which that version still supports (the barman-cloud plugin
 * replaces it from 1.28 on: migrate both together).
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type ClusterNetwork, DEFAULT_CLUSTER_NETWORK } from "./addon-network";
import { cnpgOperatorPodLabels } from "./addon-workloads";
import { mapInput, type ChildOptions } from "./data-service";
import {
  childName,
  consumerPeer,
  dnsEgressRule,
  externalEgressAnnotation,
  externalEgressSummary,
  NON_PUBLIC_IPV4_CIDRS,
  podPeer,
  PROMETHEUS_POD_LABELS,
  selectorLabels,
  statefulOptions,
  type ContainerResources,
  type DataServiceConsumer,
  type ExternalEgress,
} from "./lib";

/** Namespace the operator runs in (PostgresOperator installs it there). */
export const CNPG_OPERATOR_NAMESPACE = "cnpg-system";
/** Port of the instance manager's status endpoint (the operator and the other instances call it). */
export const CNPG_STATUS_PORT = 8000;
/** Port of the instances' Prometheus exporter. */
export const CNPG_METRICS_PORT = 9187;
/** Where consumers find the server's CA certificate (the `<cluster>-ca` Secret's `ca.crt`, mounted). */
export const POSTGRES_CA_MOUNT_PATH = "/etc/platform/postgres-ca";
export const POSTGRES_CA_FILE = `${POSTGRES_CA_MOUNT_PATH}/ca.crt`;
/**
 * Days the bucket keeps an object beyond the recovery window. S3's lifecycle, not barman, enforces
 * retention: the database pods' role may not delete (a compromised instance cannot erase its own
 * backups), so the Cluster has no barman `retentionPolicy`. Expiry by age keeps every object younger
 * than the window plus this margin, so a restore to the oldest point of the window still finds the
 * base backup before it as long as base backups are taken at least every LIFECYCLE_MARGIN_DAYS (the
 * default schedule is daily), and the WAL after it.
 */
export const LIFECYCLE_MARGIN_DAYS = 7;

/** CloudNativePG's `Cluster` and `ScheduledBackup`, by their Kubernetes apiVersion. */
export const CNPG_API_VERSION = "postgresql.cnpg.io/v1";

/** Continuous backup of a CloudNativePG cluster (see ManagedPostgresArgs.cloudNativePg). */
export interface CloudNativePgBackupArgs {
  /** Recovery window in days: barman's retention policy. */
  retentionDays: number;
  /** Base backup schedule, six-field cron (seconds first), UTC. */
  schedule: string;
  /** The EKS cluster's IAM OIDC provider ARN (KubernetesCluster.oidcProviderArn), for IRSA. */
  oidcProviderArn: pulumi.Input<string>;
  /** The EKS cluster's OIDC issuer URL (KubernetesCluster.oidcIssuerUrl). */
  oidcIssuerUrl: pulumi.Input<string>;
  /** Tags on every AWS resource. */
  tags: Record<string, string>;
}

/** What the backup store gives the Cluster. */
export interface BackupStore {
  bucket: aws.s3.Bucket;
  /** `s3://<bucket>/<namespace>`: barman writes `<serverName>/base` and `<serverName>/wals` under it. */
  destinationPath: pulumi.Output<string>;
  role: aws.iam.Role;
  /** Resources the Cluster must wait for (bucket configuration, role policy). */
  ready: pulumi.Resource[];
}

/**
 * The backup bucket (`<name>-backups`), its KMS key (`<name>-backup-kms`) and configuration, and the
 * IRSA role (`<name>-backup`) the cluster's service account assumes. The bucket and the key are as
 * stateful as the data: protected with it.
 */
export function backupStore(
  name: string,
  p: { namespace: pulumi.Input<string>; clusterName: string; protect: boolean },
  backup: CloudNativePgBackupArgs,
  child: ChildOptions,
): BackupStore {
  const tags = (suffix: string) => ({ ...backup.tags, Name: childName(name, suffix) });
  const key = new aws.kms.Key(
    childName(name, "backup-kms"),
    {
      description: `Backups (WAL and base backups) of ${name}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      tags: tags("backup-kms"),
    },
    child(statefulOptions(p.protect)),
  );
  const bucket = new aws.s3.Bucket(
    childName(name, "backups"),
    { forceDestroy: false, tags: tags("backups") },
    child(statefulOptions(p.protect)),
  );
  const ownership = new aws.s3.BucketOwnershipControls(
    childName(name, "backups"),
    { bucket: bucket.bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
    child(),
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    childName(name, "backups"),
    {
      bucket: bucket.bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    child(),
  );
  const versioning = new aws.s3.BucketVersioning(
    childName(name, "backups"),
    { bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } },
    child(),
  );
  const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
    childName(name, "backups"),
    {
      bucket: bucket.bucket,
      rules: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
          bucketKeyEnabled: true,
        },
      ],
    },
    child(),
  );
  const retention = backupRetention(name, bucket, versioning, backup.retentionDays, p.protect, child);
  const policy = new aws.s3.BucketPolicy(
    childName(name, "backups"),
    { bucket: bucket.bucket, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
    // A bucket policy is refused while the public access block is being set up.
    child({}, publicAccess),
  );
  const accessLog = backupAccessLog(name, bucket, tags, p.protect, child);
  const role = new aws.iam.Role(
    childName(name, "backup"),
    {
      description: mapInput(p.namespace, (ns) => `Backups of ${name}: ${ns}/${p.clusterName} (IRSA)`),
      assumeRolePolicy: pulumi
        .all([backup.oidcProviderArn, backup.oidcIssuerUrl, p.namespace])
        .apply(([arn, url, ns]) => JSON.stringify(irsaTrustPolicy(arn, url, ns, p.clusterName))),
      tags: tags("backup"),
    },
    child(),
  );
  const rolePolicy = new aws.iam.RolePolicy(
    childName(name, "backup"),
    {
      role: role.name,
      policy: pulumi
        .all([bucket.arn, key.arn, p.namespace])
        .apply(([bucketArn, keyArn, ns]) => JSON.stringify(backupAccessPolicy(bucketArn, keyArn, ns))),
    },
    child(),
  );
  return {
    bucket,
    destinationPath: pulumi.interpolate`s3://${bucket.bucket}/${p.namespace}`,
    role,
    ready: [ownership, publicAccess, versioning, encryption, ...retention, policy, accessLog, rolePolicy],
  };
}

/**
 * What enforces the recovery window, the database being unable to delete: Object Lock on every
 * version, and the lifecycle that expires versions once the lock allows.
 */
function backupRetention(
  name: string,
  bucket: aws.s3.Bucket,
  versioning: aws.s3.BucketVersioning,
  retentionDays: number,
  protect: boolean,
  child: ChildOptions,
): pulumi.Resource[] {
  // Every version is locked (WORM) for the window plus the margin, the age at which the lifecycle
  // expires it: no one, not the bucket's owner either (compliance mode, when protected), deletes or
  // overwrites a backup a restore may need. Governance mode unprotected (staging), which a principal
  // allowed s3:BypassGovernanceRetention can lift. Enabled in place on an existing versioned bucket.
  const objectLock = new aws.s3.BucketObjectLockConfiguration(
    childName(name, "backups"),
    {
      bucket: bucket.bucket,
      objectLockEnabled: "Enabled",
      rule: {
        defaultRetention: {
          mode: protect ? "COMPLIANCE" : "GOVERNANCE",
          days: retentionDays + LIFECYCLE_MARGIN_DAYS,
        },
      },
    },
    child({}, versioning),
  );
  const lifecycle = new aws.s3.BucketLifecycleConfiguration(
    childName(name, "backups"),
    { bucket: bucket.bucket, rules: backupLifecycleRules(retentionDays) },
    child({}, versioning),
  );
  return [objectLock, lifecycle];
}

/** Days the backup bucket's server access logs are kept. */
export const ACCESS_LOG_RETENTION_DAYS = 365;

/**
 * Server access logging of the backup bucket into `<name>-backup-logs`: every read, write and refused
 * delete of a backup is on record. The log bucket is private, TLS-only, SSE-S3 encrypted (S3 delivers
 * access logs only to SSE-S3 buckets), writable only by the S3 logging service for this backup bucket
 * of this account, and keeps logs ACCESS_LOG_RETENTION_DAYS. Returns the logging configuration.
 */
function backupAccessLog(
  name: string,
  bucket: aws.s3.Bucket,
  tags: (suffix: string) => Record<string, string>,
  protect: boolean,
  child: ChildOptions,
): aws.s3.BucketLogging {
  const suffix = "backup-logs";
  const logs = new aws.s3.Bucket(
    childName(name, suffix),
    { forceDestroy: false, tags: tags(suffix) },
    child(statefulOptions(protect)),
  );
  new aws.s3.BucketOwnershipControls(
    childName(name, suffix),
    { bucket: logs.bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
    child(),
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    childName(name, suffix),
    {
      bucket: logs.bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    child(),
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    childName(name, suffix),
    { bucket: logs.bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
    child(),
  );
  new aws.s3.BucketLifecycleConfiguration(
    childName(name, suffix),
    {
      bucket: logs.bucket,
      rules: [
        {
          id: "expire-access-logs",
          status: "Enabled",
          filter: { prefix: "" },
          expiration: { days: ACCESS_LOG_RETENTION_DAYS },
        },
      ],
    },
    child(),
  );
  const account = aws.getCallerIdentityOutput({}, child()).accountId;
  const policy = new aws.s3.BucketPolicy(
    childName(name, suffix),
    {
      bucket: logs.bucket,
      policy: pulumi
        .all([logs.arn, bucket.arn, account])
        .apply(([logsArn, sourceArn, accountId]) =>
          JSON.stringify(accessLogBucketPolicy(logsArn, sourceArn, accountId)),
        ),
    },
    child({}, publicAccess),
  );
  return new aws.s3.BucketLogging(
    childName(name, "backups"),
    { bucket: bucket.bucket, targetBucket: logs.bucket, targetPrefix: `${name}/` },
    child({}, policy),
  );
}

/** The log bucket's policy: TLS only, and only S3's logging service may write, for `sourceArn` only. */
export function accessLogBucketPolicy(logsArn: string, sourceArn: string, accountId: string) {
  const tlsOnly = tlsOnlyBucketPolicy(logsArn);
  return {
    ...tlsOnly,
    Statement: [
      ...tlsOnly.Statement,
      {
        Sid: "S3ServerAccessLogs",
        Effect: "Allow",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `${logsArn}/*`,
        Condition: {
          ArnLike: { "aws:SourceArn": sourceArn },
          StringEquals: { "aws:SourceAccount": accountId },
        },
      },
    ],
  };
}

/**
 * Lifecycle: objects expire LIFECYCLE_MARGIN_DAYS after the retention window. An overwritten version
 * (the role may put, so it may overwrite) is kept as long, so an overwrite cannot shorten the window.
 */
export function backupLifecycleRules(retentionDays: number) {
  return [
    {
      id: "expire-beyond-retention",
      status: "Enabled",
      filter: { prefix: "" },
      expiration: { days: retentionDays + LIFECYCLE_MARGIN_DAYS },
      noncurrentVersionExpiration: { noncurrentDays: retentionDays + LIFECYCLE_MARGIN_DAYS },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    },
  ];
}

/** Bucket policy: every request over plain HTTP is denied, whoever makes it. */
export function tlsOnlyBucketPolicy(bucketArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/**
 * IRSA trust: only the cluster's service account (CloudNativePG names it after the Cluster), through
 * the EKS cluster's OIDC provider, for STS.
 *
 * IRSA rather than EKS Pod Identity (which KubernetesCluster uses for the load balancer controller):
 * barman-cloud inside the database pods resolves credentials with `inheritFromIAMRole`, which the
 * operator documents and tests for IRSA; Pod Identity support for barman is still an open question
 * upstream (cloudnative-pg/plugin-barman-cloud#772, #876).
 */
export function irsaTrustPolicy(
  oidcProviderArn: string,
  oidcIssuerUrl: string,
  namespace: string,
  serviceAccount: string,
) {
  const issuer = oidcIssuerUrl.replace(/^https:\/\//, "");
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  };
}

/**
 * The role's permissions: list, read and write under `<prefix>/` of the bucket, and its key. Deleting
 * objects or versions, and changing what keeps them (lifecycle, versioning, bucket policy), is denied
 * explicitly, so no later grant can add it.
 */
export function backupAccessPolicy(bucketArn: string, keyArn: string, prefix: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListOwnPrefix",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}/*`] } },
      },
      { Sid: "BucketLocation", Effect: "Allow", Action: "s3:GetBucketLocation", Resource: bucketArn },
      {
        Sid: "ObjectsUnderOwnPrefix",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject"],
        Resource: `${bucketArn}/${prefix}/*`,
      },
      {
        Sid: "NeverDeleteBackups",
        Effect: "Deny",
        Action: [
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
          "s3:PutLifecycleConfiguration",
          "s3:PutBucketVersioning",
          "s3:PutBucketObjectLockConfiguration",
          "s3:PutObjectRetention",
          "s3:BypassGovernanceRetention",
          "s3:PutBucketPolicy",
          "s3:DeleteBucketPolicy",
        ],
        Resource: [bucketArn, `${bucketArn}/*`],
      },
      {
        Sid: "BackupKey",
        Effect: "Allow",
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
        Resource: keyArn,
      },
    ],
  };
}

/** A point-in-time restore: which archive to read and up to when. */
export interface PostgresRestore {
  /**
   * Server name of the archive to restore from: the `backupServerName` output of the cluster whose
   * backups to use (the same bucket). Example: `"trading-postgres"`.
   */
  from: string;
  /** Replay WAL up to this instant (RFC 3339 with offset); default: the end of the archive. */
  targetTime?: string;
}

export interface ClusterSpecInput {
  name: string;
  clusterName: string;
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  instances: number;
  synchronousReplication: boolean;
  image: string;
  /** UID/GID of the image's postgres user. */
  uid: number;
  storageSize: string;
  storageClassName?: string;
  resources: ContainerResources;
  preload: string[];
  /** Secret with `username`/`password` of the admin role the bootstrap Job uses. */
  credentialsSecretName: pulumi.Input<string>;
  adminUser: string;
  backup: { destinationPath: pulumi.Input<string>; roleArn: pulumi.Input<string>; retentionDays: number };
  restore?: PostgresRestore;
}

const ZONE = "topology.kubernetes.io/zone";

/**
 * The `Cluster` spec. Instances are spread one per zone (required anti-affinity: each instance's EBS
 * volume lives in its zone anyway), the operator's PodDisruptionBudgets make a drain switch the primary
 * over instead of stopping it, and plain-text connections are rejected in pg_hba.
 */
export function clusterSpec(s: ClusterSpecInput): Record<string, unknown> {
  const barman = (serverName?: string) => ({
    destinationPath: s.backup.destinationPath,
    ...(serverName ? { serverName } : {}),
    s3Credentials: { inheritFromIAMRole: true },
  });
  return {
    description: `${s.name} (managed by Pulumi)`,
    instances: s.instances,
    imageName: s.image,
    postgresUID: s.uid,
    postgresGID: s.uid,
    primaryUpdateStrategy: "unsupervised",
    primaryUpdateMethod: "switchover",
    enablePDB: true,
    // Our labels on the pods too: consumers' egress rules and the NetworkPolicies select them.
    inheritedMetadata: { labels: s.labels },
    affinity: { enablePodAntiAffinity: true, topologyKey: ZONE, podAntiAffinityType: "required" },
    storage: {
      size: s.storageSize,
      ...(s.storageClassName ? { storageClass: s.storageClassName } : {}),
    },
    resources: s.resources,
    postgresql: {
      parameters: {
        log_min_duration_statement: "1000",
        ssl_min_protocol_version: "TLSv1.2",
      },
      ...(s.preload.length > 0 ? { shared_preload_libraries: s.preload } : {}),
      // Before the operator's catch-all `host all all all scram-sha-256`: no plain-text clients.
      pg_hba: ["hostnossl all all all reject"],
      ...(s.synchronousReplication
        ? { synchronous: { method: "any", number: 1, dataDurability: "required" } }
        : {}),
    },
    managed: {
      roles: [
        {
          name: s.adminUser,
          ensure: "present",
          login: true,
          // Creates databases, roles and extensions (TimescaleDB is not a trusted extension).
          superuser: true,
          passwordSecret: { name: s.credentialsSecretName },
        },
      ],
    },
    bootstrap: s.restore
      ? {
          recovery: {
            source: "origin",
            ...(s.restore.targetTime ? { recoveryTarget: { targetTime: s.restore.targetTime } } : {}),
          },
        }
      : {
          initdb: {
            database: s.adminUser,
            owner: s.adminUser,
            secret: { name: s.credentialsSecretName },
            dataChecksums: true,
          },
        },
    ...(s.restore
      ? { externalClusters: [{ name: "origin", barmanObjectStore: barman(s.restore.from) }] }
      : {}),
    // No retentionPolicy: barman would delete expired backups, which the role may not; the bucket's
    // lifecycle expires them instead (backupLifecycleRules).
    backup: {
      barmanObjectStore: {
        ...barman(),
        wal: { compression: "gzip", maxParallel: 4 },
        data: { compression: "gzip", jobs: 2 },
      },
    },
    serviceAccountTemplate: {
      metadata: { annotations: { "eks.amazonaws.com/role-arn": s.backup.roleArn } },
    },
  };
}

/**
 * The Kubernetes name of the Cluster: the component's name, plus a suffix per restore. A restore is a
 * new cluster (its own archive: barman refuses to write into one that holds another timeline's WAL),
 * so it gets a new name and the replacement is created before the old cluster is deleted.
 */
export function clusterNameFor(name: string, restore: PostgresRestore | undefined, hash: string): string {
  return restore ? `${name}-r${hash}` : name;
}

/**
 * The NetworkPolicy of the cluster's pods: consumers and the bootstrap Job in on 5432; the instances
 * among themselves (replication and the status endpoint); the operator's pods on the status endpoint;
 * Prometheus on the exporter. Out: the other instances, DNS, HTTPS to public addresses (S3 and STS,
 * whose addresses are not stable enough for a narrower ipBlock) and the API server (`network`: on EKS
 * the cluster's subnets on 443, which the instance manager watches); never the link-local instance
 * metadata service, never the rest of the private ranges.
 */
export function clusterNetworkPolicy(
  name: string,
  namespace: pulumi.Input<string>,
  labels: Record<string, string>,
  consumers: readonly DataServiceConsumer[],
  port: number,
  child: ChildOptions,
  labelDomain?: string,
  network: ClusterNetwork = DEFAULT_CLUSTER_NETWORK,
): k8s.networking.v1.NetworkPolicy {
  const self = podPeer(name);
  const tcp = (...ports: number[]) => ports.map((p) => ({ protocol: "TCP", port: p }));
  return new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: {
        name,
        namespace,
        labels,
        // The public egress below is for the backups, declared as the catalogs declare theirs.
        annotations: {
          [externalEgressAnnotation(labelDomain)]: externalEgressSummary(CNPG_BACKUP_ENDPOINTS),
        },
      },
      spec: {
        podSelector: { matchLabels: selectorLabels(name) },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              // Every pod of a consumer: its service and its migration Job (issue 12's rule, shared).
              ...consumers.map((c) => consumerPeer(c.service, c.namespace)),
              podPeer(childName(name, "bootstrap"), namespace),
            ],
            ports: tcp(port),
          },
          { from: [self], ports: tcp(port, CNPG_STATUS_PORT) },
          {
            // The operator's pods only, not every pod of its namespace.
            from: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": CNPG_OPERATOR_NAMESPACE },
                },
                podSelector: { matchLabels: cnpgOperatorPodLabels() },
              },
            ],
            ports: tcp(CNPG_STATUS_PORT),
          },
          {
            // Prometheus only, not the rest of the monitoring namespace.
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
                podSelector: { matchLabels: { ...PROMETHEUS_POD_LABELS } },
              },
            ],
            ports: tcp(CNPG_METRICS_PORT),
          },
        ],
        egress: [
          { to: [self], ports: tcp(port, CNPG_STATUS_PORT) },
          dnsEgressRule(),
          // S3 and STS (WAL archive, base backups): public addresses only, as for declared external egress.
          { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_IPV4_CIDRS] } }], ports: tcp(443) },
          // The Kubernetes API (the instance manager watches its Cluster): on EKS its endpoints are
          // the control plane's interfaces in the cluster's subnets. Never link-local: no instance
          // metadata service.
          {
            to: network.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ports: tcp(...network.apiServerPorts),
          },
        ],
      },
    },
    child(),
  );
}

/** What the instances reach outside the cluster: the WAL archive and base backups, with STS for IRSA. */
const CNPG_BACKUP_ENDPOINTS: readonly ExternalEgress[] = [
  { host: "s3.amazonaws.com", port: 443, reason: "WAL archive and base backups (S3)" },
  { host: "sts.amazonaws.com", port: 443, reason: "IRSA credentials for the backups (STS)" },
];

/** The daily base backup (`<clusterName>`); the first one runs as soon as the cluster is ready. */
export function scheduledBackup(
  name: string,
  clusterName: string,
  namespace: pulumi.Input<string>,
  labels: Record<string, string>,
  schedule: string,
  cluster: pulumi.Resource,
  child: ChildOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    childName(name, "scheduled-backup"),
    {
      apiVersion: CNPG_API_VERSION,
      kind: "ScheduledBackup",
      metadata: { name: clusterName, namespace, labels },
      spec: {
        schedule,
        cluster: { name: clusterName },
        method: "barmanObjectStore",
        immediate: true,
        backupOwnerReference: "self",
      },
    },
    child({}, cluster),
  );
}
