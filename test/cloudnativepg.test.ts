/**
 * ManagedPostgres on CloudNativePG: the Cluster (validated against the operator's CRD schemas), its
 * backup bucket and role (the role may touch exactly where the Cluster writes and restores from),
 * TLS that consumers verify, the recovery bootstrap a restore renders, and bad input.
 */
import { PROMETHEUS_POD_LABELS } from "../components/lib";
import { describe, expect, it } from "vitest";
import { ManagedPostgres, type ManagedPostgresArgs } from "../components/ManagedPostgres";
import { PostgresOperator } from "../components/PostgresOperator";
import { LIFECYCLE_MARGIN_DAYS, POSTGRES_CA_FILE } from "../components/cloudnativepg";
import {
  byName,
  byType,
  onCluster,
  readStackConfig,
  reveal,
  runProgram,
  runStack,
  STAND_IN_KUBERNETES,
  type RecordedResource,
  type RunResult,
} from "./harness";
import {
  argsErrorMessage,
  bootstrapJobOf,
  envOf as env,
  expectValidObjectsAndSecretPasswords,
  firstContainer as container,
  jobSpec,
  metadataOf,
  networkPolicySpec,
  peerNames,
  runDataService,
  secretData,
  thrownMessage,
} from "./dataServiceChecks";

const consumers = [{ service: "trading-app", namespace: "trading", database: "trading" }];
const OIDC_ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123";
const OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123";
const base: ManagedPostgresArgs = {
  backend: "inCluster",
  namespace: "trading",
  platform: "trading",
  stage: "production",
  protect: true,
  consumers,
  extensions: ["timescaledb", "pg_stat_statements"],
  storageSize: "50Gi",
  cloudNativePg: {
    instances: 3,
    synchronousReplication: true,
    backupRetentionDays: 30,
    oidcProviderArn: OIDC_ARN,
    oidcIssuerUrl: OIDC_ISSUER,
    tags: { owner: "platform-team" },
  },
};

const run = (args: ManagedPostgresArgs, name = "trading-postgres"): Promise<RunResult> =>
  runDataService((n, a, o) => new ManagedPostgres(n, a, o), name, args);

type ClusterSpec = {
  instances: number;
  imageName: string;
  postgresUID: number;
  affinity: { topologyKey: string; podAntiAffinityType: string; enablePodAntiAffinity: boolean };
  enablePDB: boolean;
  inheritedMetadata: { labels: Record<string, string> };
  postgresql: {
    pg_hba: string[];
    shared_preload_libraries?: string[];
    synchronous?: { method: string; number: number; dataDurability: string };
  };
  bootstrap: {
    initdb?: Record<string, unknown>;
    recovery?: { source: string; recoveryTarget?: { targetTime?: string } };
  };
  externalClusters?: { name: string; barmanObjectStore: { destinationPath: string; serverName?: string } }[];
  backup: {
    retentionPolicy: string;
    barmanObjectStore: { destinationPath: string; serverName?: string; s3Credentials: unknown };
  };
  serviceAccountTemplate: { metadata: { annotations: Record<string, string> } };
};
const clusterOf = (r: RunResult) => byType(r, "kubernetes:postgresql.cnpg.io/v1:Cluster")[0]!;
const specOf = (c: RecordedResource) => reveal(c.inputs.spec) as ClusterSpec;
const json = (r: RecordedResource, key: string) => JSON.parse(String(reveal(r.inputs[key]))) as PolicyDoc;
type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type PolicyDoc = { Statement: Statement[] };
const actions = (s: Statement) => [s.Action].flat();
const resources = (s: Statement) => [s.Resource].flat();
/** Whether an IAM resource pattern (`*` wildcards) matches an ARN. */
const arnMatches = (pattern: string, arn: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(arn);
/** Whether the identity policy allows `action` on `arn` (Allow statements; conditions ignored). */
const grants = (doc: PolicyDoc, effect: "Allow" | "Deny", action: string, arn: string) =>
  doc.Statement.some(
    (s) => s.Effect === effect && actions(s).includes(action) && resources(s).some((p) => arnMatches(p, arn)),
  );
/** As IAM decides within one policy: an explicit Deny wins over any Allow. */
const allows = (doc: PolicyDoc, action: string, arn: string) =>
  grants(doc, "Allow", action, arn) && !grants(doc, "Deny", action, arn);
/** `s3://bucket/path` → the object ARN prefix `arn:aws:s3:::bucket/path`. */
const s3Arn = (url: string) => `arn:aws:s3:::${url.replace(/^s3:\/\//, "")}`;

describe("ManagedPostgres on CloudNativePG", () => {
  let result: RunResult;
  const get = async () => (result ??= await run(base));

  it("runs 3 instances of the pinned TimescaleDB image, one per zone, with synchronous replication and operator-managed PDBs", async () => {
    const r = await get();
    const cluster = clusterOf(r);
    expect(metadataOf(cluster)).toMatchObject({ name: "trading-postgres", namespace: "trading" });
    const spec = specOf(cluster);
    expect(spec.instances).toBe(3);
    expect(spec.imageName).toMatch(/^timescale\/timescaledb-ha:pg16\.[0-9]+-ts2\.21\.3$/);
    expect(spec.postgresUID).toBe(1000);
    expect(spec.affinity).toEqual({
      enablePodAntiAffinity: true,
      topologyKey: "topology.kubernetes.io/zone",
      podAntiAffinityType: "required",
    });
    expect(spec.enablePDB).toBe(true);
    expect(spec.postgresql.synchronous).toEqual({ method: "any", number: 1, dataDurability: "required" });
    expect(spec.postgresql.shared_preload_libraries).toEqual(["timescaledb", "pg_stat_statements"]);
    // Pods carry our selector labels: consumers' egress rules reach them.
    expect(spec.inheritedMetadata.labels).toMatchObject({
      "app.kubernetes.io/name": "trading-postgres",
      "app.kubernetes.io/instance": "trading-postgres",
    });
    // Without a restore: a fresh cluster.
    expect(spec.bootstrap.initdb).toMatchObject({ owner: "platform_admin", dataChecksums: true });
    expect(spec.bootstrap.recovery).toBeUndefined();
    expect(spec.externalClusters).toBeUndefined();
  });

  it("renders objects the operator's CRD schemas and Kubernetes accept, and keeps every password secret", async () => {
    const r = await get();
    expect(byType(r, "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup")).toHaveLength(1);
    await expectValidObjectsAndSecretPasswords(r);
  });

  it("rejects plain-text connections and gives consumers a verify-full URL with the server's CA", async () => {
    const r = await get();
    expect(specOf(clusterOf(r)).postgresql.pg_hba).toContain("hostnossl all all all reject");
    const data = secretData(
      byName(r, "kubernetes:core/v1:Secret", "trading-postgres-trading-app-connection"),
    );
    const url = new URL(data.DATABASE_URL!);
    expect(url.hostname).toBe("trading-postgres-rw.trading.svc");
    expect(url.searchParams.get("sslmode")).toBe("verify-full");
    expect(url.searchParams.get("sslrootcert")).toBe(POSTGRES_CA_FILE);
    expect(data.sslmode).toBe("verify-full");
    expect(reveal(r.outputs)).toMatchObject({ tls: true, host: "trading-postgres-rw.trading.svc" });
  });

  it("runs the bootstrap Job over verified TLS with only the CA certificate mounted (not the CA key)", async () => {
    const r = await get();
    const job = bootstrapJobOf(r);
    const c = container(job);
    expect(env(c)).toMatchObject({ PGSSLMODE: "verify-full", PGSSLROOTCERT: POSTGRES_CA_FILE });
    const volumes = jobSpec(job).template.spec.volumes;
    const ca = volumes.find((v) => v.secret)!;
    expect(ca.secret).toEqual({
      secretName: "trading-postgres-ca",
      items: [{ key: "ca.crt", path: "ca.crt" }],
    });
    const mount = c.volumeMounts.find((m) => m.name === ca.name)!;
    expect(`${mount.mountPath}/ca.crt`).toBe(POSTGRES_CA_FILE);
    expect(job.dependencies).toContain(clusterOf(r).urn);
  });

  it("archives to a KMS-encrypted, versioned, private, TLS-only bucket whose lifecycle, not barman, expires backups past the window", async () => {
    const r = await get();
    const bucket = byName(r, "aws:s3/bucket:Bucket", "trading-postgres-backups");
    const key = byName(r, "aws:kms/key:Key", "trading-postgres-backup-kms");
    const bucketName = String(bucket.state.bucket);
    expect(key.inputs.enableKeyRotation).toBe(true);
    const sse = byName(
      r,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "trading-postgres-backups",
    );
    expect(sse.inputs.rules).toEqual([
      {
        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.state.arn },
        bucketKeyEnabled: true,
      },
    ]);
    const versioning = byType(r, "aws:s3/bucketVersioning:BucketVersioning")[0]!;
    expect(versioning.inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    const block = byName(
      r,
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "trading-postgres-backups",
    );
    for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
      expect(block.inputs[flag]).toBe(true);
    // Plain HTTP is denied for everyone, on the bucket and its objects.
    const policy = json(byName(r, "aws:s3/bucketPolicy:BucketPolicy", "trading-postgres-backups"), "policy");
    const deny = policy.Statement.find((s) => s.Effect === "Deny")!;
    expect(deny.Principal).toBe("*");
    expect(deny.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    expect(resources(deny)).toEqual([`arn:aws:s3:::${bucketName}`, `arn:aws:s3:::${bucketName}/*`]);
    // Lifecycle, not barman (whose role may not delete), enforces retention: objects and overwritten
    // versions outlive the 30-day window by the margin.
    const lifecycle = byName(
      r,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "trading-postgres-backups",
    );
    const [rule] = lifecycle.inputs.rules as {
      expiration: { days: number };
      noncurrentVersionExpiration: { noncurrentDays: number };
      status: string;
    }[];
    expect(specOf(clusterOf(r)).backup.retentionPolicy).toBeUndefined();
    expect(rule!.status).toBe("Enabled");
    expect(rule!.expiration.days).toBe(30 + LIFECYCLE_MARGIN_DAYS);
    expect(rule!.expiration.days).toBeGreaterThan(30);
    expect(rule!.noncurrentVersionExpiration.noncurrentDays).toBe(30 + LIFECYCLE_MARGIN_DAYS);
    // Every version is locked in compliance mode (production) until the lifecycle may expire it.
    const lock = byName(
      r,
      "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
      "trading-postgres-backups",
    );
    expect(lock.inputs).toMatchObject({
      bucket: bucketName,
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode: "COMPLIANCE", days: rule!.expiration.days } },
    });
    expect(lock.dependencies).toContain(versioning.urn);
    // As stateful as the data.
    expect(bucket.protect).toBe(true);
    expect(key.protect).toBe(true);
    expect(clusterOf(r).protect).toBe(true);
  });

  it("logs every access to the backup bucket into a private, TLS-only log bucket only S3's logging service writes to", async () => {
    const r = await get();
    const backups = byName(r, "aws:s3/bucket:Bucket", "trading-postgres-backups");
    const logs = byName(r, "aws:s3/bucket:Bucket", "trading-postgres-backup-logs");
    const logging = byType(r, "aws:s3/bucketLogging:BucketLogging");
    expect(logging).toHaveLength(1);
    expect(logging[0]!.inputs).toMatchObject({
      bucket: backups.state.bucket,
      targetBucket: logs.state.bucket,
      targetPrefix: "trading-postgres/",
    });
    const policy = json(
      byName(r, "aws:s3/bucketPolicy:BucketPolicy", "trading-postgres-backup-logs"),
      "policy",
    );
    const write = policy.Statement.find((st) => st.Effect === "Allow")!;
    expect(write.Principal).toEqual({ Service: "logging.s3.amazonaws.com" });
    expect(actions(write)).toEqual(["s3:PutObject"]);
    expect(write.Condition).toEqual({
      ArnLike: { "aws:SourceArn": backups.state.arn },
      StringEquals: { "aws:SourceAccount": expect.stringMatching(/^[0-9]{12}$/) },
    });
    expect(policy.Statement.find((st) => st.Effect === "Deny")!.Condition).toEqual({
      Bool: { "aws:SecureTransport": "false" },
    });
    const block = byType(r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").find(
      (b) => b.name === "trading-postgres-backup-logs",
    )!;
    expect(block.inputs).toMatchObject({ blockPublicAcls: true, restrictPublicBuckets: true });
    expect([logs.protect, logs.retainOnDelete]).toEqual([true, true]);
  });

  it("gives the cluster's service account (IRSA) a role that may write exactly where the Cluster archives", async () => {
    const r = await get();
    const spec = specOf(clusterOf(r));
    const role = byName(r, "aws:iam/role:Role", "trading-postgres-backup");
    expect(spec.serviceAccountTemplate.metadata.annotations["eks.amazonaws.com/role-arn"]).toBe(
      role.state.arn,
    );
    const trust = json(role, "assumeRolePolicy");
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0]!.Principal).toEqual({ Federated: OIDC_ARN });
    expect(trust.Statement[0]!.Condition).toEqual({
      StringEquals: {
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub": "system:serviceaccount:trading:trading-postgres",
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud": "sts.amazonaws.com",
      },
    });
    const access = json(byName(r, "aws:iam/rolePolicy:RolePolicy", "trading-postgres-backup"), "policy");
    const destination = spec.backup.barmanObjectStore.destinationPath;
    expect(destination).toMatch(/^s3:\/\/trading-postgres-backups-[0-9a-f]+\/trading$/);
    expect(spec.backup.barmanObjectStore.s3Credentials).toEqual({ inheritFromIAMRole: true });
    const wal = `${s3Arn(destination)}/trading-postgres/wals/0000000100000000/000000010000000000000001.gz`;
    for (const action of ["s3:PutObject", "s3:GetObject"]) expect(allows(access, action, wal)).toBe(true);
    // A compromised instance cannot erase its backups, nor loosen what keeps them.
    for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion"])
      expect(grants(access, "Deny", action, wal), action).toBe(true);
    const bucketArn = s3Arn(destination).replace(/\/trading$/, "");
    for (const action of [
      "s3:PutLifecycleConfiguration",
      "s3:PutBucketVersioning",
      "s3:PutBucketPolicy",
      "s3:PutBucketObjectLockConfiguration",
    ])
      expect(grants(access, "Deny", action, bucketArn), action).toBe(true);
    for (const action of ["s3:PutObjectRetention", "s3:BypassGovernanceRetention"])
      expect(grants(access, "Deny", action, wal), action).toBe(true);
    // Nothing outside its prefix, and no other bucket.
    const bucketName = destination.replace(/^s3:\/\//, "").split("/")[0]!;
    expect(allows(access, "s3:GetObject", `arn:aws:s3:::${bucketName}/ecommerce/x`)).toBe(false);
    expect(allows(access, "s3:GetObject", "arn:aws:s3:::someone-else/trading/x")).toBe(false);
    const list = access.Statement.find((s) => actions(s).includes("s3:ListBucket"))!;
    expect(list.Condition).toEqual({ StringLike: { "s3:prefix": ["trading", "trading/*"] } });
    const key = byName(r, "aws:kms/key:Key", "trading-postgres-backup-kms");
    expect(allows(access, "kms:GenerateDataKey", String(key.state.arn))).toBe(true);
    expect(allows(access, "kms:Decrypt", String(key.state.arn))).toBe(true);
  });

  it("waits for the bucket's configuration and the role's policy before creating the Cluster", async () => {
    const r = await get();
    const deps = clusterOf(r).dependencies;
    for (const type of [
      "aws:s3/bucketPolicy:BucketPolicy",
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "aws:s3/bucketLogging:BucketLogging",
    ])
      expect(deps).toContain(byName(r, type, "trading-postgres-backups").urn);
    expect(deps).toContain(byName(r, "aws:iam/rolePolicy:RolePolicy", "trading-postgres-backup").urn);
  });

  it("admits consumers, the bootstrap Job, the other instances, the operator and Prometheus, and nothing else", async () => {
    const r = await get();
    const policy = networkPolicySpec(
      byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "trading-postgres"),
    );
    const byPort = (port: number) =>
      policy.ingress.filter((rule) => rule.ports.some((p) => p.port === port)).flatMap((rule) => rule.from);
    expect(peerNames(byPort(5432))).toEqual([
      "trading/trading-app",
      "trading/trading-postgres-bootstrap",
      // Its own pods (replication), in its own namespace.
      "/trading-postgres",
    ]);
    // The status endpoint: the operator's pods in cnpg-system, not every pod there.
    expect(byPort(8000).filter((p) => p.namespaceSelector)).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cnpg-system" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "cloudnative-pg" } },
      },
    ]);
    // The exporter: Prometheus's pods in monitoring, not the whole namespace (Grafana, Alertmanager).
    expect(byPort(9187)).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
        podSelector: { matchLabels: { ...PROMETHEUS_POD_LABELS } },
      },
    ]);
  });

  it("schedules a daily base backup of this cluster, the first as soon as it is ready", async () => {
    const r = await get();
    const sb = byType(r, "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup")[0]!;
    expect(reveal(sb.inputs.spec)).toEqual({
      schedule: "0 0 2 * * *",
      cluster: { name: "trading-postgres" },
      method: "barmanObjectStore",
      immediate: true,
      backupOwnerReference: "self",
    });
    expect(sb.dependencies).toContain(clusterOf(r).urn);
  });

  it("staging's shape: 2 asynchronous instances of the plain CloudNativePG image", async () => {
    const r = await run({
      ...base,
      stage: "staging",
      protect: false,
      extensions: ["pgcrypto"],
      cloudNativePg: {
        ...base.cloudNativePg!,
        instances: 2,
        synchronousReplication: false,
        backupRetentionDays: 7,
      },
    });
    const spec = specOf(clusterOf(r));
    expect(spec.instances).toBe(2);
    expect(spec.postgresql.synchronous).toBeUndefined();
    expect(spec.imageName).toMatch(/^ghcr\.io\/cloudnative-pg\/postgresql:16\.[0-9]+-system-bookworm$/);
    expect(spec.postgresUID).toBe(26);
    expect(spec.backup.retentionPolicy).toBeUndefined();
    expect(byName(r, "aws:s3/bucket:Bucket", "trading-postgres-backups").protect).toBe(false);
    // Unprotected: governance mode, which a privileged principal can bypass (staging can be torn down).
    expect(
      byName(
        r,
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "trading-postgres-backups",
      ).inputs.rule,
    ).toEqual({ defaultRetention: { mode: "GOVERNANCE", days: 7 + LIFECYCLE_MARGIN_DAYS } });
  });
});

describe("ManagedPostgres on CloudNativePG: point-in-time restore", () => {
  const restore = { from: "trading-postgres", targetTime: "2026-11-30T09:15:00Z" };
  let result: RunResult;
  const get = async () => (result ??= await run({ ...base, restore }));

  it("bootstraps a new cluster from the archive, replaying WAL up to the target time", async () => {
    const r = await get();
    const spec = specOf(clusterOf(r));
    expect(spec.bootstrap.initdb).toBeUndefined();
    expect(spec.bootstrap.recovery).toEqual({
      source: "origin",
      recoveryTarget: { targetTime: "2026-11-30T09:15:00Z" },
    });
    expect(spec.externalClusters).toHaveLength(1);
    const origin = spec.externalClusters![0]!;
    expect(origin.name).toBe("origin");
    expect(origin.barmanObjectStore.serverName).toBe("trading-postgres");
    // The same bucket and prefix the cluster archives to, so the role can read it.
    expect(origin.barmanObjectStore.destinationPath).toBe(spec.backup.barmanObjectStore.destinationPath);
    await expectValidObjectsAndSecretPasswords(r);
  });

  it("archives the restored cluster under a new name, so it never writes into the archive it restores from", async () => {
    const r = await get();
    const cluster = clusterOf(r);
    const name = metadataOf(cluster).name;
    expect(name).toMatch(/^trading-postgres-r[0-9a-f]{6}$/);
    expect(specOf(cluster).backup.barmanObjectStore.serverName ?? name).not.toBe(restore.from);
    expect(reveal(r.outputs)).toMatchObject({ host: `${name}-rw.trading.svc` });
    // The role trusts the new cluster's service account and may read the origin's archive.
    const role = byName(r, "aws:iam/role:Role", "trading-postgres-backup");
    const trust = JSON.stringify(json(role, "assumeRolePolicy"));
    expect(trust).toContain(`system:serviceaccount:trading:${name}`);
    const access = json(byName(r, "aws:iam/rolePolicy:RolePolicy", "trading-postgres-backup"), "policy");
    const base = specOf(cluster).externalClusters![0]!.barmanObjectStore.destinationPath;
    expect(
      allows(access, "s3:GetObject", `${s3Arn(base)}/trading-postgres/base/20261130T020000/data.tar.gz`),
    ).toBe(true);
    // The CA consumers mount follows the new cluster.
    const ca = jobSpec(bootstrapJobOf(r)).template.spec.volumes.find((v) => v.secret)!;
    expect(ca.secret.secretName).toBe(`${name}-ca`);
  });

  it("another target time is another cluster name; without targetTime it replays the whole archive", async () => {
    const later = await run({ ...base, restore: { ...restore, targetTime: "2026-11-30T10:00:00+01:00" } });
    const first = metadataOf(clusterOf(await get())).name;
    expect(metadataOf(clusterOf(later)).name).not.toBe(first);
    const whole = await run({ ...base, restore: { from: "trading-postgres" } });
    expect(specOf(clusterOf(whole)).bootstrap.recovery).toEqual({ source: "origin" });
  });
});

describe("ManagedPostgres on CloudNativePG: bad input", () => {
  const message = (args: Partial<ManagedPostgresArgs>) =>
    thrownMessage(() => new ManagedPostgres("pg", { ...base, ...args }, STAND_IN_KUBERNETES));
  const expected = (...problems: string[]) => argsErrorMessage("ManagedPostgres", "pg", problems);

  it("reports every CloudNativePG and restore problem at once", () => {
    expect(
      message({
        cloudNativePg: {
          ...base.cloudNativePg!,
          instances: 2,
          synchronousReplication: true,
          backupRetentionDays: 0,
          backupSchedule: "0 2 * * *",
        },
        restore: { from: "Trading DB", targetTime: "yesterday" },
      }),
    ).toBe(
      expected(
        "cloudNativePg.synchronousReplication: needs at least 3 instances (with 2, losing the one standby would stop every write); found instances 2",
        "cloudNativePg.backupRetentionDays: expected a whole number of days from 1 to 3650, found 0",
        'cloudNativePg.backupSchedule: expected a six-field cron schedule (seconds first) such as "0 0 2 * * *", found "0 2 * * *"',
        'restore.from: expected the server name of an archive in the bucket (a DNS label such as "trading-postgres"), found "Trading DB"',
        'restore.targetTime: expected an RFC 3339 instant with offset such as "2026-11-30T09:15:00Z", found "yesterday"',
      ),
    );
  });

  it("refuses a restore the backend cannot do, instead of creating an empty database", () => {
    expect(message({ cloudNativePg: undefined, restore: { from: "pg" } })).toBe(
      expected("restore: needs cloudNativePg (the StatefulSet server has no backups to restore from)"),
    );
    const aws = thrownMessage(
      () =>
        new ManagedPostgres(
          "pg",
          {
            backend: "aws",
            namespace: "trading",
            consumers,
            aws: {
              vpcId: "vpc-1",
              subnetIds: ["s-1"],
              subnetCidrs: ["10.0.0.0/16"],
              allowedCidrs: ["10.0.0.0/16"],
            },
            cloudNativePg: base.cloudNativePg!,
            restore: { from: "pg", targetTime: "2026-02-30T00:00:00Z" },
          },
          STAND_IN_KUBERNETES,
        ),
    );
    expect(aws).toBe(
      expected(
        'cloudNativePg: only with backend "inCluster" (it runs the server in the cluster), found backend "aws"',
        'restore: not offered by backend "aws" (restore an RDS instance with its own point-in-time restore, see docs/restore.md)',
        'restore.targetTime: expected an RFC 3339 instant with offset such as "2026-11-30T09:15:00Z", found "2026-02-30T00:00:00Z"',
      ),
    );
  });

  it("creates nothing when the args are bad", async () => {
    await expect(
      runProgram(
        () =>
          new ManagedPostgres("pg", { ...base, restore: { from: "pg", targetTime: "soon" } }, onCluster()),
      ),
    ).rejects.toThrow(/restore\.targetTime/);
  });
});

describe("PostgresOperator", () => {
  it("installs the pinned CloudNativePG chart into cnpg-system with two replicas", async () => {
    const r = await runProgram(
      () =>
        new PostgresOperator(
          "postgres-operator",
          { chart: { version: "0.26.1", source: "repository" } },
          onCluster(),
        ),
    );
    const release = byType(r, "kubernetes:helm.sh/v3:Release")[0]!;
    expect(release.inputs).toMatchObject({
      chart: "cloudnative-pg",
      version: "0.26.1",
      namespace: "cnpg-system",
      repositoryOpts: { repo: "https://cloudnative-pg.github.io/charts" },
    });
    expect((release.inputs.values as { replicaCount: number }).replicaCount).toBe(2);
    // cnpg-system gets Pod Security labels once the chart has made it: baseline enforced, restricted reported.
    const patch = byType(r, "kubernetes:core/v1:NamespacePatch")[0]!;
    expect(patch.inputs.metadata).toMatchObject({
      name: "cnpg-system",
      labels: {
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      },
    });
    expect(patch.dependencies).toContain(release.urn);
  });

  it("rejects an unpinned chart and a replica count out of range, together", () => {
    expect(
      thrownMessage(
        () =>
          new PostgresOperator(
            "op",
            { chart: { version: "latest", source: "repository" }, replicas: 0 },
            STAND_IN_KUBERNETES,
          ),
      ),
    ).toBe(
      argsErrorMessage("PostgresOperator", "op", [
        'chart.version: a pinned chart version such as v1.5.4, found "latest"',
        "replicas: expected a whole number from 1 to 5, found 0",
      ]),
    );
  });
});

describe("the stacks: in-cluster PostgreSQL on CloudNativePG in staging and production, restore as stack config", () => {
  it("production runs trading's database on the operator, and the app mounts the CA its URL verifies with", async () => {
    const r = await runStack("production");
    const release = byType(r, "kubernetes:helm.sh/v3:Release").find(
      (x) => x.name === "postgres-operator-chart",
    )!;
    expect(release.inputs).toMatchObject({ chart: "cloudnative-pg", version: "0.26.1" });
    const cluster = clusterOf(r);
    expect(metadataOf(cluster)).toMatchObject({ name: "trading-postgres", namespace: "trading" });
    expect(specOf(cluster)).toMatchObject({ instances: 3 });
    expect(specOf(cluster).backup.retentionPolicy).toBeUndefined();
    expect(specOf(cluster).postgresql.synchronous).toBeDefined();
    // The Cluster waits for the operator (its CRDs and webhooks).
    expect(cluster.dependencies).toContain(release.urn);
    // No StatefulSet for PostgreSQL any more; RDS for the others.
    expect(byType(r, "kubernetes:apps/v1:StatefulSet").map((x) => x.name)).not.toContain("trading-postgres");
    // The trading API's pods and its migration Job mount only ca.crt of the cluster's CA Secret,
    // where their DATABASE_URL looks.
    type Pod = {
      volumes: { name: string; secret?: unknown }[];
      containers: { volumeMounts: { name: string; mountPath: string }[] }[];
    };
    const podOf = (x: RecordedResource) => (x.inputs.spec as { template: { spec: Pod } }).template.spec;
    const deployment = byType(r, "kubernetes:apps/v1:Deployment").find(
      (x) => metadataOf(x).name === "trading-api",
    )!;
    const migration = byType(r, "kubernetes:batch/v1:Job").find((x) =>
      metadataOf(x).name?.startsWith("trading-api-migrate-"),
    )!;
    for (const workload of [deployment, migration]) {
      const pod = podOf(workload);
      const ca = pod.volumes.find((v) => JSON.stringify(v.secret ?? {}).includes("trading-postgres-ca"))!;
      expect(ca.secret).toEqual({
        secretName: "trading-postgres-ca",
        items: [{ key: "ca.crt", path: "ca.crt" }],
      });
      const mount = pod.containers[0]!.volumeMounts.find((m) => m.name === ca.name)!;
      expect(`${mount.mountPath}/ca.crt`).toBe(POSTGRES_CA_FILE);
    }
    expect(reveal(r.outputs.dataEndpoints)).toMatchObject({
      trading: { postgresEngine: "cloudnativepg", postgresBackupServerName: "trading-postgres" },
      fintech: { postgresEngine: "rds" },
    });
  });

  it("database.byCatalog.trading.restore renders a recovery bootstrap from the named archive at the given time", async () => {
    const { config } = readStackConfig("production");
    const database = config["platform:database"] as { byCatalog: Record<string, Record<string, unknown>> };
    const r = await runStack("production", {
      config: {
        "platform:database": {
          ...database,
          byCatalog: {
            ...database.byCatalog,
            trading: {
              ...database.byCatalog.trading,
              restore: { from: "trading-postgres", targetTime: "2026-11-30T09:15:00Z" },
            },
          },
        },
      },
    });
    const spec = specOf(clusterOf(r));
    expect(spec.bootstrap).toEqual({
      recovery: { source: "origin", recoveryTarget: { targetTime: "2026-11-30T09:15:00Z" } },
    });
    expect(spec.externalClusters![0]!.barmanObjectStore).toMatchObject({ serverName: "trading-postgres" });
    const name = metadataOf(clusterOf(r)).name;
    expect(name).not.toBe("trading-postgres");
    expect(reveal(r.outputs.dataEndpoints)).toMatchObject({ trading: { postgresBackupServerName: name } });
  });

  it("the local stack keeps the StatefulSet and says so, in a warning and in its outputs", async () => {
    const r = await runStack("local");
    expect(byType(r, "kubernetes:postgresql.cnpg.io/v1:Cluster")).toEqual([]);
    expect(byType(r, "kubernetes:apps/v1:StatefulSet").map((x) => x.name)).toContain("trading-postgres");
    expect(
      r.warnings.some((w) =>
        w.includes("runs as a single StatefulSet: no replicas, no failover, no backups"),
      ),
    ).toBe(true);
    expect(reveal(r.outputs.dataEndpoints)).toMatchObject({ trading: { postgresEngine: "statefulSet" } });
  });
});
