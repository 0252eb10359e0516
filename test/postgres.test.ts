/**
 * ManagedPostgres: both backends from the recorded resources, the bootstrap Job and its ordering,
 * connection Secrets, secrecy of every password, protection, and each bad input's exact message.
 */
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { POSTGRES_CA_FILE } from "../components/cloudnativepg";
import {
  ManagedPostgres,
  POSTGRES_DEFAULT_RESOURCES,
  type ManagedPostgresArgs,
} from "../components/ManagedPostgres";
import {
  byName,
  byType,
  reveal,
  STAND_IN_KUBERNETES,
  type RecordedResource,
  type RunResult,
} from "./harness";
import {
  SHARED_ARG_CASES,
  argsErrorMessage,
  bootstrapJobOf,
  envOf as env,
  expectCredentialsRevision,
  expectDrainableDisruptionBudget,
  expectProtectedAndRetained,
  expectValidInClusterObjects,
  expectValidObjectsAndSecretPasswords,
  firstContainer as container,
  generatedPassword,
  invalidKubernetesObjects,
  jobSpec,
  kubernetesObjects,
  metadataOf,
  networkPolicySpec,
  peerNames,
  podSpec,
  runDataService,
  secretData,
  serviceSpec,
  statefulSetSpec,
  thrownMessage,
  unmarkedSecrets,
} from "./dataServiceChecks";

const ecommerceConsumers = [
  { service: "user-service", namespace: "ecommerce", database: "users_db" },
  { service: "order-service", namespace: "ecommerce", database: "orders_db" },
  { service: "reporting", namespace: "analytics", database: "orders_db" },
];
const awsNetwork = {
  vpcId: "vpc-0abc",
  subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
  subnetCidrs: ["10.30.0.0/16"],
  allowedSecurityGroupIds: ["sg-0cluster"],
  allowedCidrs: ["10.30.64.0/18"],
  tags: { owner: "platform-team" },
};

/** Runs the component; only with `dependsOnNamespace` does it depend on a namespace of its own. */
const run = (
  name: string,
  args: ManagedPostgresArgs,
  opts: { dependsOnNamespace?: boolean } = {},
): Promise<RunResult> =>
  runDataService((n, a, o) => new ManagedPostgres(n, a, o), name, args, {
    namespace: opts.dependsOnNamespace ?? false,
  });

const jobScript = (r: RecordedResource): string => container(r).command[2]!;

describe("ManagedPostgres, inCluster backend", () => {
  const args: ManagedPostgresArgs = {
    backend: "inCluster",
    namespace: "ecommerce",
    platform: "ecommerce",
    stage: "local",
    consumers: ecommerceConsumers,
    databases: ["ecommerce"],
    extensions: ["pg_stat_statements", "pgcrypto"],
    storageSize: "2Gi",
    resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
  };
  let result: RunResult;
  const get = async () => (result ??= await run("shop-pg", args, { dependsOnNamespace: true }));

  it("runs the pinned official image as a hardened single-replica StatefulSet with a volume claim", async () => {
    const r = await get();
    const sts = byName(r, "kubernetes:apps/v1:StatefulSet", "shop-pg");
    const spec = statefulSetSpec(sts);
    expect(spec.replicas).toBe(1);
    expect(spec.serviceName).toBe("shop-pg");
    expect(spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "shop-pg",
      "app.kubernetes.io/instance": "shop-pg",
    });
    expect(spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: "data", labels: spec.selector.matchLabels },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } } },
      },
    ]);
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: "Delete",
      whenScaled: "Retain",
    });
    const pod = podSpec(sts);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 999,
      fsGroup: 999,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const c = container(sts);
    expect(c.image).toBe("postgres:16.10-bookworm");
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      runAsUser: 999,
    });
    expect(c.resources).toEqual(args.resources);
    expect(c.args).toEqual(["-c", "shared_preload_libraries=pg_stat_statements"]);
    const e = env(c);
    expect(e.PGDATA).toBe("/var/lib/postgresql/data/pgdata");
    expect(e.POSTGRES_USER).toBe("platform_admin");
    expect(e.POSTGRES_PASSWORD).toEqual({ secretKeyRef: { name: "shop-pg-credentials", key: "password" } });
    // Writable paths under the read-only root: the data volume, the socket directory and /tmp.
    const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.mountPath, m.name]));
    expect(mounts).toEqual({
      "/var/lib/postgresql/data": "data",
      "/var/run/postgresql": "scratch-0",
      "/tmp": "scratch-1",
    });
    expect(pod.volumes.map((v) => Object.keys(v).sort().join(","))).toEqual([
      "emptyDir,name",
      "emptyDir,name",
    ]);
    const isReady = ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", "platform_admin", "-d", "postgres"];
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe])
      expect(probe.exec.command).toEqual(isReady);
    expect(c.lifecycle.preStop.exec.command).toEqual([
      "pg_ctl",
      "stop",
      "-m",
      "fast",
      "-D",
      "/var/lib/postgresql/data/pgdata",
    ]);
    expect(sts.protect).toBe(false);
    expect(sts.retainOnDelete).toBe(false);
  });

  it("serves through a headless Service and admits only consumers and its bootstrap Job", async () => {
    const r = await get();
    const svc = byName(r, "kubernetes:core/v1:Service", "shop-pg");
    expect(serviceSpec(svc)).toEqual({
      clusterIP: "None",
      selector: { "app.kubernetes.io/name": "shop-pg", "app.kubernetes.io/instance": "shop-pg" },
      ports: [{ name: "postgres", port: 5432, targetPort: "postgres" }],
    });
    const policy = networkPolicySpec(byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "shop-pg"));
    expect(policy.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.ingress).toHaveLength(1);
    expect(policy.ingress[0]!.ports).toEqual([{ protocol: "TCP", port: 5432 }]);
    expect(peerNames(policy.ingress[0]!.from)).toEqual([
      "ecommerce/user-service",
      "ecommerce/order-service",
      "analytics/reporting",
      "ecommerce/shop-pg-bootstrap",
    ]);
    // Egress only to DNS: the server initiates nothing.
    expect(policy.egress).toHaveLength(1);
    expect(policy.egress[0]!.ports).toEqual([
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ]);
  });

  it("covers the StatefulSet with a PodDisruptionBudget that never blocks a node drain", async () => {
    const pdb = expectDrainableDisruptionBudget(await get(), "shop-pg", "ecommerce", {
      "app.kubernetes.io/name": "shop-pg",
      "app.kubernetes.io/component": "database",
      "microservices-platform/stage": "local",
    });
    expect(pdb.protect).toBe(false);
  });

  it("exports the same contract as the aws backend, with in-cluster values", async () => {
    const r = await get();
    expect(reveal(r.outputs)).toMatchObject({
      host: "shop-pg.ecommerce.svc.cluster.local",
      port: 5432,
      tls: false,
      connectionSecretNames: {
        "user-service": "user-service-shop-pg",
        "order-service": "order-service-shop-pg",
        reporting: "reporting-shop-pg",
      },
      egressPeer: { pod: { name: "shop-pg", namespace: "ecommerce" }, port: 5432 },
    });
  });

  it("writes one connection Secret per consumer, in the consumer's namespace, with DATABASE_URL and its parts", async () => {
    const r = await get();
    const secret = byName(r, "kubernetes:core/v1:Secret", "shop-pg-reporting-connection");
    expect(metadataOf(secret)).toMatchObject({ name: "reporting-shop-pg", namespace: "analytics" });
    expect(secret.inputs.stringData).toMatchObject({ secret: true });
    const data = secretData(secret);
    const password = generatedPassword(r, "shop-pg-reporting-password");
    expect(data).toEqual({
      DATABASE_URL: `postgresql://reporting:${password}@shop-pg.ecommerce.svc.cluster.local:5432/orders_db?sslmode=disable`,
      host: "shop-pg.ecommerce.svc.cluster.local",
      port: "5432",
      username: "reporting",
      password,
      database: "orders_db",
      sslmode: "disable",
    });
    // Each consumer has its own password.
    const passwords = byType(r, "random:index/randomPassword:RandomPassword").map((p) =>
      reveal(p.state.result),
    );
    expect(new Set(passwords).size).toBe(4);
    expect(
      byType(r, "random:index/randomPassword:RandomPassword").every(
        (p) => p.inputs.length === 32 && p.inputs.special === false,
      ),
    ).toBe(true);
  });

  it("bootstraps databases, owner roles, login roles and extensions idempotently from inside the cluster", async () => {
    const r = await get();
    const job = bootstrapJobOf(r);
    const script = jobScript(job);
    expect(container(job).command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(script).toContain("until pg_isready -q");
    expect(script).toContain("psql -v ON_ERROR_STOP=1 --no-psqlrc -f - <<'SQL'");
    for (const db of ["ecommerce", "orders_db", "users_db"]) {
      expect(script).toContain(
        `SELECT 'CREATE ROLE ${db}_owner NOLOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${db}_owner')\\gexec`,
      );
      expect(script).toContain(
        `SELECT 'CREATE DATABASE ${db} OWNER ${db}_owner' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')\\gexec`,
      );
      expect(script).toContain(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC;`);
      expect(script).toContain(
        `\\connect ${db}\nCREATE EXTENSION IF NOT EXISTS "pg_stat_statements";\nCREATE EXTENSION IF NOT EXISTS "pgcrypto";\n\\connect postgres`,
      );
    }
    expect(script).toContain(
      [
        "SELECT 'CREATE ROLE reporting LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reporting')\\gexec",
        "\\getenv role_password PASSWORD_REPORTING",
        "ALTER ROLE reporting WITH LOGIN PASSWORD :'role_password';",
        "GRANT orders_db_owner TO reporting;",
        "ALTER ROLE reporting SET role = 'orders_db_owner';",
      ].join("\n"),
    );
    expect(script).toContain("ALTER ROLE user_service SET role = 'users_db_owner';");
    const e = env(container(job));
    expect(e).toMatchObject({
      PGHOST: "shop-pg.ecommerce.svc.cluster.local",
      PGPORT: "5432",
      PGUSER: "platform_admin",
      PGSSLMODE: "disable",
    });
    expect(e.PGPASSWORD).toEqual({ secretKeyRef: { name: "shop-pg-credentials", key: "password" } });
    expect(e.PASSWORD_ORDER_SERVICE).toEqual({
      secretKeyRef: { name: "shop-pg-credentials", key: "PASSWORD_ORDER_SERVICE" },
    });
    const credentials = secretData(byName(r, "kubernetes:core/v1:Secret", "shop-pg-credentials"));
    expect(Object.keys(credentials).sort()).toEqual([
      "PASSWORD_ORDER_SERVICE",
      "PASSWORD_REPORTING",
      "PASSWORD_USER_SERVICE",
      "password",
      "username",
    ]);
  });

  it("runs the bootstrap Job after the server, restricted, and lets it reach only the server and DNS", async () => {
    const r = await get();
    const job = bootstrapJobOf(r);
    const sts = byName(r, "kubernetes:apps/v1:StatefulSet", "shop-pg");
    const credentials = byName(r, "kubernetes:core/v1:Secret", "shop-pg-credentials");
    const ns = byName(r, "kubernetes:core/v1:Namespace", "ns");
    expect(job.dependencies).toEqual(expect.arrayContaining([sts.urn, credentials.urn, ns.urn]));
    expect(r.outputs.bootstrapUrn).toBe(job.urn);
    // The component's dependsOn reaches every child, not only the component.
    for (const child of kubernetesObjects(r).filter((k) => k.name !== "ns"))
      expect(child.dependencies).toContain(ns.urn);
    const spec = jobSpec(job);
    expect(spec.backoffLimit).toBe(6);
    expect(spec.template.spec.restartPolicy).toBe("Never");
    expect(spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 999,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container(job).securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(container(job).image).toBe("postgres:16.10-bookworm");
    const policy = networkPolicySpec(
      byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "shop-pg-bootstrap"),
    );
    expect(policy.podSelector.matchLabels["app.kubernetes.io/name"]).toBe("shop-pg-bootstrap");
    expect(spec.template.metadata.labels["app.kubernetes.io/name"]).toBe("shop-pg-bootstrap");
    expect(policy.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.ingress).toBeUndefined();
    expect(policy.egress[0]).toEqual({
      to: [
        {
          podSelector: {
            matchLabels: { "app.kubernetes.io/name": "shop-pg", "app.kubernetes.io/instance": "shop-pg" },
          },
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ecommerce" } },
        },
      ],
      ports: [{ protocol: "TCP", port: 5432 }],
    });
  });

  it("reruns the bootstrap Job when a password is replaced, with no secret in the Job", async () => {
    const r = await get();
    // The Job's pod template carries the revision (a template change replaces a Job), plain and random.
    const { revision } = expectCredentialsRevision(r, "shop-pg");
    const password = (name: string) => generatedPassword(r, `shop-pg-${name}-password`);
    // The keepers are the passwords themselves (a replaced RandomPassword keeps its URN, and its id is
    // a constant), under the credentials Secret's keys, secret in the inputs and in the state.
    expect(reveal(revision.inputs.keepers)).toEqual({
      password: password("admin"),
      PASSWORD_USER_SERVICE: password("user-service"),
      PASSWORD_ORDER_SERVICE: password("order-service"),
      PASSWORD_REPORTING: password("reporting"),
    });
    for (const value of Object.values(revision.inputs.keepers as Record<string, unknown>))
      expect(value).toMatchObject({ secret: true });
    expect(revision.dependencies).toEqual(
      byType(r, "random:index/randomPassword:RandomPassword")
        .map((p) => p.urn)
        .sort(),
    );
  });

  it("inherits the Kubernetes provider, renders valid Kubernetes objects and keeps every password secret", async () => {
    await expectValidInClusterObjects(await get());
  });

  it("uses the TimescaleDB image, its UID and preloads the extension when timescaledb is requested", async () => {
    const r = await run("trading-pg", {
      backend: "inCluster",
      namespace: "trading",
      engineVersion: "15",
      extensions: ["timescaledb", "pg_stat_statements"],
      consumers: [{ service: "trading-api", namespace: "trading", database: "trading" }],
    });
    const sts = byName(r, "kubernetes:apps/v1:StatefulSet", "trading-pg");
    expect(container(sts).image).toBe("timescale/timescaledb:2.21.3-pg15");
    expect(container(sts).args).toEqual(["-c", "shared_preload_libraries=timescaledb,pg_stat_statements"]);
    expect(podSpec(sts).securityContext.runAsUser).toBe(70);
    const job = bootstrapJobOf(r);
    expect(container(job).image).toBe("timescale/timescaledb:2.21.3-pg15");
    expect(jobScript(job)).toContain('\\connect trading\nCREATE EXTENSION IF NOT EXISTS "timescaledb";');
    expect(await invalidKubernetesObjects(r)).toEqual([]);
  });

  it("protects the StatefulSet and keeps its volume when protect is set", async () => {
    const r = await run("prod-pg", { ...args, protect: true });
    const sts = byName(r, "kubernetes:apps/v1:StatefulSet", "prod-pg");
    expect([sts.protect, sts.retainOnDelete]).toEqual([true, true]);
    expect(statefulSetSpec(sts).persistentVolumeClaimRetentionPolicy.whenDeleted).toBe("Retain");
    // Only the stateful child is protected: Secrets, policies, the PDB and the Job stay replaceable.
    expect(
      kubernetesObjects(r)
        .filter((k) => k.protect)
        .map((k) => k.name),
    ).toEqual(["prod-pg"]);
    expect(await invalidKubernetesObjects(r)).toEqual([]);
  });
});

describe("ManagedPostgres, aws backend", () => {
  const args: ManagedPostgresArgs = {
    backend: "aws",
    namespace: "ecommerce",
    platform: "ecommerce",
    stage: "production",
    protect: true,
    engineVersion: "15",
    consumers: ecommerceConsumers.slice(0, 2),
    extensions: ["pg_stat_statements", "vector"],
    instanceClass: "db.r6g.large",
    allocatedStorageGb: 100,
    maxAllocatedStorageGb: 1000,
    backupRetentionDays: 30,
    multiAz: true,
    deletionProtection: true,
    aws: awsNetwork,
  };
  let result: RunResult;
  const get = async () => (result ??= await run("shop-pg", args));

  it("creates an RDS instance with every production property", async () => {
    const r = await get();
    const db = byName(r, "aws:rds/instance:Instance", "shop-pg-db");
    const kms = byName(r, "aws:kms/key:Key", "shop-pg-kms");
    const subnets = byName(r, "aws:rds/subnetGroup:SubnetGroup", "shop-pg-subnets");
    const params = byName(r, "aws:rds/parameterGroup:ParameterGroup", "shop-pg-params");
    expect(db.inputs).toMatchObject({
      engine: "postgres",
      engineVersion: "15",
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      instanceClass: "db.r6g.large",
      username: "platform_admin",
      port: 5432,
      publiclyAccessible: false,
      storageType: "gp3",
      allocatedStorage: 100,
      maxAllocatedStorage: 1000,
      storageEncrypted: true,
      kmsKeyId: kms.state.arn,
      backupRetentionPeriod: 30,
      backupWindow: "02:00-03:00",
      maintenanceWindow: "sun:04:00-sun:05:00",
      multiAz: true,
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: expect.stringMatching(/^shop-pg-final-[0-9a-f]{8}$/),
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: kms.state.arn,
      performanceInsightsRetentionPeriod: 7,
      iamDatabaseAuthenticationEnabled: true,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      copyTagsToSnapshot: true,
      dbSubnetGroupName: subnets.state.name,
      vpcSecurityGroupIds: [expect.stringMatching(/^shop-pg-sg-[0-9a-f]{8}$/)],
      parameterGroupName: params.state.name,
      tags: { owner: "platform-team", Name: "shop-pg-db" },
    });
    expect(db.inputs.password).toMatchObject({ secret: true });
    expect(kms.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(subnets.inputs.subnetIds).toEqual(["subnet-a", "subnet-b", "subnet-c"]);
    expect(params.inputs).toMatchObject({
      family: "postgres15",
      parameters: [
        { name: "rds.force_ssl", value: "1" },
        { name: "log_min_duration_statement", value: "1000" },
      ],
    });
  });

  it("names the final snapshot uniquely per instance, so a second delete cannot collide", async () => {
    const r = await get();
    const db = byName(r, "aws:rds/instance:Instance", "shop-pg-db");
    const suffix = byName(r, "random:index/randomId:RandomId", "shop-pg-final-snapshot-suffix");
    expect(db.inputs.finalSnapshotIdentifier).toBe(`shop-pg-final-${String(suffix.state.hex)}`);
    expect(db.dependencies).toContain(suffix.urn);
    // RDS snapshot identifiers: a letter first, then letters, digits and single hyphens, at most 255.
    expect(db.inputs.finalSnapshotIdentifier).toMatch(/^[a-z](?!.*--)[a-z0-9-]{0,253}[a-z0-9]$/);
    // A new suffix with every input change that replaces the instance (its engine, master user, encryption, key).
    expect(suffix.inputs).toEqual({
      byteLength: 4,
      keepers: {
        engine: "postgres",
        username: "platform_admin",
        storageEncrypted: "true",
        kmsKeyId: byName(r, "aws:kms/key:Key", "shop-pg-kms").state.arn,
      },
    });
    expect(db.inputs).toMatchObject({
      engine: "postgres",
      username: "platform_admin",
      storageEncrypted: true,
    });
  });

  it("admits only the cluster's workloads on 5432", async () => {
    const r = await get();
    const sg = byName(r, "aws:ec2/securityGroup:SecurityGroup", "shop-pg-sg");
    expect(sg.inputs).toMatchObject({ vpcId: "vpc-0abc" });
    expect(sg.inputs.egress).toBeUndefined();
    expect(sg.inputs.ingress).toEqual([
      {
        protocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        securityGroups: ["sg-0cluster"],
        description: "clients on 5432 (security groups)",
      },
      {
        protocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        cidrBlocks: ["10.30.64.0/18"],
        description: "clients on 5432 (CIDRs)",
      },
    ]);
  });

  it("protects and retains the instance and its KMS key, and nothing else", async () => {
    expectProtectedAndRetained(await get(), ["shop-pg-db", "shop-pg-kms"]);
  });

  it("exports the RDS endpoint with TLS and the subnets as the egress peer", async () => {
    const r = await get();
    const db = byName(r, "aws:rds/instance:Instance", "shop-pg-db");
    expect(db.state.address).toMatch(
      /^shop-pg-db-[0-9a-f]{7}\.c[0-9a-f]{11}\.eu-west-1\.rds\.amazonaws\.com$/,
    );
    expect(reveal(r.outputs)).toMatchObject({
      host: db.state.address,
      port: 5432,
      tls: true,
      connectionSecretNames: {
        "user-service": "user-service-shop-pg",
        "order-service": "order-service-shop-pg",
      },
      egressPeer: { cidrs: ["10.30.0.0/16"], port: 5432 },
    });
    const data = secretData(byName(r, "kubernetes:core/v1:Secret", "shop-pg-order-service-connection"));
    expect(data.DATABASE_URL).toBe(
      `postgresql://order_service:${data.password}@${String(db.state.address)}:5432/orders_db?sslmode=verify-full&sslrootcert=${POSTGRES_CA_FILE}`,
    );
    expect(data.sslmode).toBe("verify-full");
  });

  it("gives clients the RDS CA bundle to verify the server with (verify-full), mounted key by key", async () => {
    const r = await get();
    const ca = byName(r, "kubernetes:core/v1:Secret", "shop-pg-rds-ca");
    expect(metadataOf(ca)).toMatchObject({ name: "shop-pg-rds-ca", namespace: "ecommerce" });
    const bundle = (reveal(ca.inputs.stringData) as Record<string, string>)["ca.crt"]!;
    // Real X.509 certificates, every one of them, among them the CA the instance is pinned to.
    const pems = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    expect(pems.length).toBeGreaterThan(20);
    const subjects = pems.map((pem) => new X509Certificate(pem).subject);
    const db = byName(r, "aws:rds/instance:Instance", "shop-pg-db");
    expect(db.inputs.caCertIdentifier).toBe("rds-ca-rsa2048-g1");
    expect(subjects.some((subject) => subject.includes("CN=Amazon RDS eu-west-1 Root CA RSA2048 G1"))).toBe(
      true,
    );
    expect(reveal(r.outputs)).toMatchObject({ tls: true });
    // The bootstrap Job verifies too, and waits for the bundle.
    const job = bootstrapJobOf(r);
    expect(env(container(job))).toMatchObject({ PGSSLMODE: "verify-full", PGSSLROOTCERT: POSTGRES_CA_FILE });
    expect(jobSpec(job).template.spec.volumes.find((v) => v.secret)?.secret).toEqual({
      secretName: "shop-pg-rds-ca",
      items: [{ key: "ca.crt", path: "ca.crt" }],
    });
    expect(job.dependencies).toContain(ca.urn);
  });

  it("bootstraps the RDS instance from a Job in the cluster, after the instance, over TLS", async () => {
    const r = await get();
    const db = byName(r, "aws:rds/instance:Instance", "shop-pg-db");
    const job = bootstrapJobOf(r);
    expect(job.dependencies).toContain(db.urn);
    expect(container(job).image).toBe("postgres:15.14-bookworm");
    expect(env(container(job))).toMatchObject({
      PGHOST: db.state.address,
      PGPORT: "5432",
      PGSSLMODE: "verify-full",
    });
    expect(jobScript(job)).toContain('CREATE EXTENSION IF NOT EXISTS "vector";');
    // A replaced password (the RDS master password included) reruns it.
    const revision = byName(r, "random:index/randomId:RandomId", "shop-pg-credentials-revision");
    expect(jobSpec(job).template.metadata.annotations["microservices-platform/credentials-revision"]).toBe(
      revision.state.hex,
    );
    expect(Object.keys(reveal(revision.inputs.keepers) as object).sort()).toEqual([
      "PASSWORD_ORDER_SERVICE",
      "PASSWORD_USER_SERVICE",
      "password",
    ]);
    const policy = networkPolicySpec(
      byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "shop-pg-bootstrap"),
    );
    expect(policy.egress[0]).toEqual({
      to: [{ ipBlock: { cidr: "10.30.0.0/16" } }],
      ports: [{ protocol: "TCP", port: 5432 }],
    });
    // No in-cluster server objects on this backend.
    expect(byType(r, "kubernetes:apps/v1:StatefulSet")).toEqual([]);
    expect(byType(r, "kubernetes:core/v1:Service")).toEqual([]);
  });

  it("keeps every password secret and renders valid Kubernetes objects", async () => {
    await expectValidObjectsAndSecretPasswords(await get());
  });

  it("leaves Performance Insights off on classes that lack it, and skips the final snapshot unless protected", async () => {
    const r = await run("small-pg", {
      ...args,
      protect: false,
      instanceClass: "db.t4g.micro",
      allocatedStorageGb: 20,
      maxAllocatedStorageGb: 22,
    });
    const i = byName(r, "aws:rds/instance:Instance", "small-pg-db").inputs;
    expect(i.performanceInsightsEnabled).toBe(false);
    expect(i.performanceInsightsKmsKeyId).toBeUndefined();
    expect(i.skipFinalSnapshot).toBe(true);
    expect(i.finalSnapshotIdentifier).toBeUndefined();
    expect(byType(r, "random:index/randomId:RandomId").map((x) => x.name)).toEqual([
      "small-pg-credentials-revision",
    ]);
    expect(r.resources.filter((x) => x.protect)).toEqual([]);
  });
});

describe("ManagedPostgres, bad input", () => {
  const base: ManagedPostgresArgs = {
    backend: "aws",
    namespace: "ecommerce",
    consumers: ecommerceConsumers,
    aws: awsNetwork,
  };
  const message = (
    args: Partial<ManagedPostgresArgs> | ((b: ManagedPostgresArgs) => ManagedPostgresArgs),
    name = "pg",
  ) =>
    thrownMessage(
      () =>
        new ManagedPostgres(
          name,
          typeof args === "function" ? args(base) : { ...base, ...args },
          STAND_IN_KUBERNETES,
        ),
    );
  const expected = (...problems: string[]) => argsErrorMessage("ManagedPostgres", "pg", problems);

  it.each([
    [
      { instanceClass: "cache.t4g.micro" },
      'instanceClass: expected an RDS instance class such as "db.r6g.large", found "cache.t4g.micro"',
    ],
    [
      { allocatedStorageGb: 10, maxAllocatedStorageGb: 100 },
      "allocatedStorageGb: expected a whole number from 20 (the RDS gp3 minimum) to 65536, found 10",
    ],
    [
      { allocatedStorageGb: 100, maxAllocatedStorageGb: 100 },
      "maxAllocatedStorageGb: expected a whole number from 110 (10 % above allocatedStorageGb, so storage can autoscale) to 65536, found 100",
    ],
    [
      { backupRetentionDays: 3 },
      "backupRetentionDays: expected a whole number of days from 7 to 35, found 3",
    ],
    [
      { backupRetentionDays: 36 },
      "backupRetentionDays: expected a whole number of days from 7 to 35, found 36",
    ],
    [
      { extensions: ["timescaledb"] },
      'extensions: "timescaledb" is not offered by the aws backend (RDS for PostgreSQL has no timescaledb); use backend "inCluster" or drop the extension',
    ],
    [
      { extensions: ["pg_cron"] },
      'extensions: "pg_cron" is not an allowed extension (allowed: timescaledb, pg_stat_statements, pgcrypto, uuid-ossp, citext, hstore, pg_trgm, postgis, vector)',
    ],
    [{ engineVersion: "14" as never }, 'engineVersion: expected one of "15", "16", "17", found "14"'],
    [{ backupWindow: "2am" }, 'backupWindow: expected a UTC window such as "02:00-03:00", found "2am"'],
    ...SHARED_ARG_CASES,
    [
      { aws: { ...awsNetwork, allowedSecurityGroupIds: [], allowedCidrs: [] } },
      "aws: expected allowedSecurityGroupIds or allowedCidrs (the security group would admit nobody)",
    ],
    [
      { aws: { ...awsNetwork, subnetCidrs: ["10.30.1.0/16"] } },
      'aws.subnetCidrs[0]: "10.30.1.0/16" has host bits set; the block starts at 10.30.0.0/16',
    ],
    [
      { consumers: [{ service: "Order_Service", namespace: "ecommerce", database: "orders_db" }] },
      'consumers[0].service: expected a DNS label of at most 40 characters, found "Order_Service"',
    ],
    [
      { consumers: [{ service: "order-service", namespace: "ecommerce", database: "Orders-DB" }] },
      'consumers[0].database: expected a database name matching ^[a-z][a-z0-9_]*$ (not a reserved name), found "Orders-DB"',
    ],
    [
      { consumers: [{ service: "pg-admin", namespace: "ecommerce", database: "admin_db" }] },
      'consumers[0].service: "pg-admin" would become the reserved role name "pg_admin"',
    ],
    [
      { databases: ["template1"] },
      'databases[0]: expected a database name matching ^[a-z][a-z0-9_]*$ (not a reserved name), found "template1"',
    ],
  ] as [Partial<ManagedPostgresArgs>, string][])("rejects %j", (args, problem) => {
    expect(message(args)).toBe(expected(problem));
  });

  it("rejects what the inCluster backend cannot offer or read", () => {
    expect(message({ backend: "inCluster", extensions: ["postgis"] })).toBe(
      expected(
        'aws: must be omitted when backend is "inCluster" (it places an AWS-managed service; nothing would read it)',
        'extensions: "postgis" is not offered by the inCluster backend (the in-cluster images do not carry it); use backend "aws" or drop the extension',
      ),
    );
    expect(
      message({ backend: "inCluster", aws: undefined, storageSize: "2GB", image: "postgres:latest" }),
    ).toBe(
      expected(
        'storageSize: expected a volume size such as "10Gi", found "2GB"',
        'image: image "postgres:latest" is not reproducible; pin a version or a digest',
      ),
    );
    expect(
      message({
        backend: "inCluster",
        aws: undefined,
        resources: { requests: { cpu: "2", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
      }),
    ).toBe(expected("resources: CPU request 2 exceeds its limit 1"));
  });

  it("refuses, by name, every arg only RDS reads when the backend is inCluster (it would be ignored)", () => {
    expect(
      message((b) => ({
        ...b,
        backend: "inCluster",
        aws: undefined,
        instanceClass: "db.r6g.large",
        allocatedStorageGb: 20,
        maxAllocatedStorageGb: 20,
        backupRetentionDays: 1,
        multiAz: false,
        deletionProtection: true,
        finalSnapshot: true,
        backupWindow: "02:00-03:00",
        maintenanceWindow: "sun:04:00-sun:05:00",
      })),
    ).toBe(
      argsErrorMessage(
        "ManagedPostgres",
        "pg",
        [
          "instanceClass",
          "allocatedStorageGb",
          "maxAllocatedStorageGb",
          "backupRetentionDays",
          "multiAz",
          "deletionProtection",
          "finalSnapshot",
          "backupWindow",
          "maintenanceWindow",
        ].map((arg) => `${arg}: applies only to backend "aws" (RDS); remove it with backend "inCluster"`),
      ),
    );
  });

  it("reports a missing Kubernetes provider together with the args' problems, all at once", () => {
    expect(thrownMessage(() => new ManagedPostgres("pg", { ...base, instanceClass: "m5.large" }))).toBe(
      expected(
        "no Kubernetes provider: pass { provider } or { providers: { kubernetes } } (components never fall back to the ambient default provider)",
        'instanceClass: expected an RDS instance class such as "db.r6g.large", found "m5.large"',
      ),
    );
  });

  it("refuses, by name, every arg only the in-cluster server reads when the backend is aws (it would be ignored)", () => {
    expect(
      message({
        storageSize: "10Gi",
        storageClassName: "gp3",
        resources: POSTGRES_DEFAULT_RESOURCES,
        // Both read these: the bootstrap Job runs the image's psql as its postgres user.
        image: "postgres:16.10-bookworm",
        runAsUser: 999,
      }),
    ).toBe(
      argsErrorMessage(
        "ManagedPostgres",
        "pg",
        ["storageSize", "storageClassName", "resources"].map(
          (arg) =>
            `${arg}: applies only to backend "inCluster" (the StatefulSet or CloudNativePG); remove it with backend "aws"`,
        ),
      ),
    );
  });

  it("lists every problem at once, with the component's name", () => {
    expect(
      message(
        (b) => ({
          ...b,
          instanceClass: "m5.large",
          backupRetentionDays: 0,
          consumers: [...b.consumers, b.consumers[0]!],
        }),
        "Bad Name",
      ),
    ).toBe(
      argsErrorMessage("ManagedPostgres", "Bad Name", [
        'name: expected a DNS label of at most 40 characters (it names the Kubernetes objects), found "Bad Name"',
        'consumers[3].service: "user-service" is listed more than once',
        'instanceClass: expected an RDS instance class such as "db.r6g.large", found "m5.large"',
        "backupRetentionDays: expected a whole number of days from 7 to 35, found 0",
      ]),
    );
  });
});

describe("the checks these tests rely on", () => {
  const resource = (
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    state: Record<string, unknown> = {},
  ): RecordedResource => ({
    type,
    name,
    urn: `urn:pulumi:test::p::${type}::${name}`,
    parent: "",
    custom: true,
    inputs,
    state,
    dependencies: [],
    provider: "",
    protect: false,
    retainOnDelete: false,
    deleteBeforeReplace: false,
    ignoreChanges: [],
    additionalSecretOutputs: [],
    aliases: [],
    version: "",
  });
  const password = resource(
    "random:index/randomPassword:RandomPassword",
    "pw",
    { length: 32 },
    { result: { secret: true, value: "mock-0123456789abcdef" } },
  );

  it("finds a generated password outside a secret marker, and only there", () => {
    const leaky: RunResult = {
      resources: [
        password,
        resource("kubernetes:core/v1:ConfigMap", "cm", {
          data: { URL: "postgresql://u:mock-0123456789abcdef@h/db" },
        }),
        resource("kubernetes:core/v1:Secret", "s", {
          stringData: { secret: true, value: { URL: "postgresql://u:mock-0123456789abcdef@h/db" } },
        }),
      ],
      invokes: [],
      outputs: { url: "mock-0123456789abcdef" },
      warnings: [],
    };
    expect(unmarkedSecrets(leaky)).toEqual([
      "kubernetes:core/v1:ConfigMap cm inputs.data.URL",
      "stack outputs.url",
    ]);
  });

  it("rejects a Kubernetes object that breaks its schema", async () => {
    const bad: RunResult = {
      resources: [
        resource("kubernetes:core/v1:Service", "svc", {
          metadata: { name: "svc" },
          spec: { ports: [{ port: "http" }] },
        }),
      ],
      invokes: [],
      outputs: {},
      warnings: [],
    };
    const problems = await invalidKubernetesObjects(bad);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^kubernetes:core\/v1:Service svc: /);
  });
});
