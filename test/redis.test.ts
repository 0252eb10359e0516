/**
 * RedisCache: both backends from the recorded resources, the readiness bootstrap Job and its
 * ordering, connection Secrets, secrecy of the auth token, protection, and each bad input's message.
 */
import { describe, expect, it } from "vitest";
import { REDIS_DEFAULT_RESOURCES, RedisCache, type RedisCacheArgs } from "../components/RedisCache";
import { byName, byType, reveal, STAND_IN_KUBERNETES, type RunResult } from "./harness";
import {
  SHARED_ARG_CASES,
  argsErrorMessage,
  bootstrapJobOf as job,
  envOf as env,
  expectCredentialsRevision,
  expectDrainableDisruptionBudget,
  expectNoGeneratedPasswordIn,
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
} from "./dataServiceChecks";

const consumers = [
  { service: "backend-api", namespace: "fintech" },
  { service: "python-risk-engine", namespace: "fintech" },
  { service: "batch-reports", namespace: "reports" },
];
const awsNetwork = {
  vpcId: "vpc-0abc",
  subnetIds: ["subnet-a", "subnet-b"],
  subnetCidrs: ["10.20.0.0/19", "10.20.32.0/19"],
  allowedSecurityGroupIds: ["sg-0cluster"],
};

const run = (name: string, args: RedisCacheArgs): Promise<RunResult> =>
  runDataService((n, a, o) => new RedisCache(n, a, o), name, args);
const token = (r: RunResult, name: string) => generatedPassword(r, `${name}-auth-token`);

describe("RedisCache, inCluster backend", () => {
  const args: RedisCacheArgs = {
    backend: "inCluster",
    namespace: "fintech",
    platform: "fintech",
    stage: "local",
    maxmemoryPolicy: "allkeys-lru",
    maxmemoryMb: 192,
    consumers,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    storageSize: "1Gi",
  };
  let result: RunResult;
  const get = async () => (result ??= await run("fin-redis", args));

  it("runs redis with password auth, append-only persistence and maxmemory from a mounted config", async () => {
    const r = await get();
    const conf = (
      byName(r, "kubernetes:core/v1:ConfigMap", "fin-redis-config").inputs.data as Record<string, string>
    )["redis.conf"];
    expect(conf).toBe(
      [
        "bind * -::*",
        "port 6379",
        "dir /data",
        "appendonly yes",
        "appendfsync everysec",
        "maxmemory 192mb",
        "maxmemory-policy allkeys-lru",
        "include /etc/redis/auth/auth.conf",
        "",
      ].join("\n"),
    );
    const credentials = secretData(byName(r, "kubernetes:core/v1:Secret", "fin-redis-credentials"));
    expect(credentials["auth.conf"]).toBe(`requirepass ${token(r, "fin-redis")}\n`);
    const sts = byName(r, "kubernetes:apps/v1:StatefulSet", "fin-redis");
    const c = container(sts);
    expect(c.image).toBe("redis:7.4.5-alpine");
    expect(c.command).toEqual(["redis-server", "/etc/redis/conf/redis.conf"]);
    expect(c.resources).toEqual(args.resources);
    expect(env(c).REDISCLI_AUTH).toEqual({
      secretKeyRef: { name: "fin-redis-credentials", key: "password" },
    });
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe])
      expect(probe.exec.command).toEqual(["/bin/sh", "-c", "redis-cli ping | grep -q PONG"]);
    expect(Object.fromEntries(c.volumeMounts.map((m) => [m.mountPath, m.name]))).toEqual({
      "/data": "data",
      "/etc/redis/conf": "config",
      "/etc/redis/auth": "auth",
      "/tmp": "scratch-0",
    });
    const pod = podSpec(sts);
    expect(pod.volumes.find((v) => v.name === "auth")?.secret).toEqual({
      secretName: "fin-redis-credentials",
      items: [{ key: "auth.conf", path: "auth.conf" }],
    });
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 999,
      fsGroup: 999,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    const spec = statefulSetSpec(sts);
    expect(spec.replicas).toBe(1);
    expect(spec.volumeClaimTemplates[0]!.spec.resources.requests).toEqual({ storage: "1Gi" });
    expect(spec.template.metadata.annotations["microservices-platform/config-hash"]).toMatch(
      /^[0-9a-f]{16}$/,
    );
    expect([sts.protect, sts.retainOnDelete]).toEqual([false, false]);
  });

  it("serves through a headless Service and admits only consumers and its bootstrap Job", async () => {
    const r = await get();
    expect(serviceSpec(byName(r, "kubernetes:core/v1:Service", "fin-redis"))).toMatchObject({
      clusterIP: "None",
      ports: [{ name: "redis", port: 6379, targetPort: "redis" }],
    });
    const policy = networkPolicySpec(byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "fin-redis"));
    expect(policy.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(peerNames(policy.ingress[0]!.from)).toEqual([
      "fintech/backend-api",
      "fintech/python-risk-engine",
      "reports/batch-reports",
      "fintech/fin-redis-bootstrap",
    ]);
    expect(policy.ingress[0]!.ports).toEqual([{ protocol: "TCP", port: 6379 }]);
  });

  it("covers the StatefulSet with a PodDisruptionBudget that never blocks a node drain", async () => {
    expectDrainableDisruptionBudget(await get(), "fin-redis", "fintech", {
      "app.kubernetes.io/name": "fin-redis",
      "app.kubernetes.io/component": "cache",
      "microservices-platform/platform": "fintech",
    });
  });

  it("restarts the server and reruns the readiness Job when the auth token is replaced, with no secret in either", async () => {
    const r = await get();
    // redis reads requirepass only at start: the server's pod template changes with the token, and so
    // does the Job's (a template change replaces a Job; it is auto-named, so the new one comes first).
    const { revision, hex } = expectCredentialsRevision(r, "fin-redis");
    expect(revision.inputs.keepers).toEqual({ password: { secret: true, value: token(r, "fin-redis") } });
    const sts = byName(r, "kubernetes:apps/v1:StatefulSet", "fin-redis");
    expect(statefulSetSpec(sts).template.metadata.annotations).toEqual({
      "microservices-platform/config-hash": expect.stringMatching(/^[0-9a-f]{16}$/),
      "microservices-platform/credentials-revision": hex,
    });
    expectNoGeneratedPasswordIn(r, sts);
  });

  it("exports the shared contract and writes REDIS_URL per consumer, in the consumer's namespace", async () => {
    const r = await get();
    expect(reveal(r.outputs)).toMatchObject({
      host: "fin-redis.fintech.svc.cluster.local",
      port: 6379,
      tls: false,
      connectionSecretNames: {
        "backend-api": "backend-api-fin-redis",
        "python-risk-engine": "python-risk-engine-fin-redis",
        "batch-reports": "batch-reports-fin-redis",
      },
      egressPeer: { pod: { name: "fin-redis", namespace: "fintech" }, port: 6379 },
    });
    const secret = byName(r, "kubernetes:core/v1:Secret", "fin-redis-batch-reports-connection");
    expect(metadataOf(secret)).toMatchObject({ name: "batch-reports-fin-redis", namespace: "reports" });
    expect(secret.inputs.stringData).toMatchObject({ secret: true });
    const pw = token(r, "fin-redis");
    expect(secretData(secret)).toEqual({
      REDIS_URL: `redis://:${pw}@fin-redis.fintech.svc.cluster.local:6379/0`,
      host: "fin-redis.fintech.svc.cluster.local",
      port: "6379",
      password: pw,
      tls: "false",
    });
  });

  it("runs a restricted readiness Job after the server that reaches only the server and DNS", async () => {
    const r = await get();
    const j = job(r);
    const sts = byName(r, "kubernetes:apps/v1:StatefulSet", "fin-redis");
    expect(j.dependencies).toEqual(
      expect.arrayContaining([
        sts.urn,
        byName(r, "kubernetes:core/v1:Secret", "fin-redis-credentials").urn,
        byName(r, "kubernetes:core/v1:Namespace", "ns").urn,
      ]),
    );
    expect(r.outputs.bootstrapUrn).toBe(j.urn);
    const c = container(j);
    expect(c.command[2]).toContain('reply=$(redis-cli -h "$CACHE_HOST" -p "$CACHE_PORT" ping 2>&1) || true');
    expect(c.command[2]).not.toContain("--tls");
    expect(env(c)).toMatchObject({ CACHE_HOST: "fin-redis.fintech.svc.cluster.local", CACHE_PORT: "6379" });
    expect(podSpec(j).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999 });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    const policy = networkPolicySpec(
      byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "fin-redis-bootstrap"),
    );
    expect(peerNames(policy.egress[0]!.to)).toEqual(["fintech/fin-redis"]);
  });

  it("inherits the provider, renders valid objects and keeps the password secret everywhere", async () => {
    const r = await get();
    await expectValidInClusterObjects(r);
    // The password is only ever referenced from the Secret, never in a ConfigMap or an env value.
    const cm = JSON.stringify(byName(r, "kubernetes:core/v1:ConfigMap", "fin-redis-config").inputs);
    expect(cm).not.toContain(token(r, "fin-redis"));
  });

  it("runs valkey with its own binaries when asked, and protects the StatefulSet", async () => {
    const r = await run("val", { ...args, engine: "valkey", protect: true });
    const sts = byName(r, "kubernetes:apps/v1:StatefulSet", "val");
    expect(container(sts).image).toBe("valkey/valkey:8.1.3-alpine");
    expect(container(sts).command).toEqual(["valkey-server", "/etc/redis/conf/redis.conf"]);
    expect(container(job(r)).command[2]).toContain("valkey-cli");
    expect([sts.protect, sts.retainOnDelete]).toEqual([true, true]);
    expect(statefulSetSpec(sts).persistentVolumeClaimRetentionPolicy.whenDeleted).toBe("Retain");
    expect(
      kubernetesObjects(r)
        .filter((k) => k.protect)
        .map((k) => k.name),
    ).toEqual(["val"]);
    expect(await invalidKubernetesObjects(r)).toEqual([]);
  });
});

describe("RedisCache, aws backend", () => {
  const args: RedisCacheArgs = {
    backend: "aws",
    namespace: "fintech",
    platform: "fintech",
    stage: "production",
    protect: true,
    maxmemoryPolicy: "allkeys-lru",
    consumers: consumers.slice(0, 2),
    nodeType: "cache.r7g.large",
    replicasPerShard: 2,
    snapshotRetentionDays: 7,
    aws: { ...awsNetwork, tags: { owner: "platform-team" } },
  };
  let result: RunResult;
  const get = async () => (result ??= await run("fin-redis", args));

  it("creates an encrypted, authenticated replication group that fails over across zones", async () => {
    const r = await get();
    const group = byName(r, "aws:elasticache/replicationGroup:ReplicationGroup", "fin-redis-cache");
    const kms = byName(r, "aws:kms/key:Key", "fin-redis-kms");
    const params = byName(r, "aws:elasticache/parameterGroup:ParameterGroup", "fin-redis-params");
    const subnets = byName(r, "aws:elasticache/subnetGroup:SubnetGroup", "fin-redis-subnets");
    expect(group.inputs).toMatchObject({
      engine: "redis",
      engineVersion: "7.1",
      autoMinorVersionUpgrade: true,
      nodeType: "cache.r7g.large",
      port: 6379,
      numCacheClusters: 3,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      parameterGroupName: params.state.name,
      subnetGroupName: subnets.state.name,
      securityGroupIds: [expect.stringMatching(/^fin-redis-sg-[0-9a-f]{8}$/)],
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      kmsKeyId: kms.state.arn,
      snapshotRetentionLimit: 7,
      snapshotWindow: "03:00-04:00",
      maintenanceWindow: "sun:05:00-sun:06:00",
      finalSnapshotIdentifier: expect.stringMatching(/^fin-redis-final-[0-9a-f]{8}$/),
      tags: { owner: "platform-team", Name: "fin-redis-cache" },
    });
    expect(group.inputs.authToken).toMatchObject({ secret: true });
    expect(params.inputs).toMatchObject({
      family: "redis7",
      parameters: [{ name: "maxmemory-policy", value: "allkeys-lru" }],
    });
    expect(subnets.inputs.subnetIds).toEqual(["subnet-a", "subnet-b"]);
    const sg = byName(r, "aws:ec2/securityGroup:SecurityGroup", "fin-redis-sg");
    expect(sg.inputs.ingress).toEqual([
      {
        protocol: "tcp",
        fromPort: 6379,
        toPort: 6379,
        securityGroups: ["sg-0cluster"],
        description: "clients on 6379 (security groups)",
      },
    ]);
  });

  it("names the final snapshot uniquely per replication group, so a second delete cannot collide", async () => {
    const r = await get();
    const group = byName(r, "aws:elasticache/replicationGroup:ReplicationGroup", "fin-redis-cache");
    const suffix = byName(r, "random:index/randomId:RandomId", "fin-redis-final-snapshot-suffix");
    expect(group.inputs.finalSnapshotIdentifier).toBe(`fin-redis-final-${String(suffix.state.hex)}`);
    expect(group.dependencies).toContain(suffix.urn);
    // A new suffix with every input change that replaces the group.
    expect(suffix.inputs).toEqual({
      byteLength: 4,
      keepers: {
        engine: "redis",
        engineVersion: "7.1",
        port: "6379",
        atRestEncryptionEnabled: "true",
        kmsKeyId: byName(r, "aws:kms/key:Key", "fin-redis-kms").state.arn,
        subnetGroupName: byName(r, "aws:elasticache/subnetGroup:SubnetGroup", "fin-redis-subnets").state.name,
      },
    });
    // The readiness Job reruns on a new auth token on this backend too.
    const revision = byName(r, "random:index/randomId:RandomId", "fin-redis-credentials-revision");
    expect(jobSpec(job(r)).template.metadata.annotations).toEqual({
      "microservices-platform/credentials-revision": revision.state.hex,
    });
  });

  it("protects and retains the replication group and its key, and nothing else", async () => {
    expectProtectedAndRetained(await get(), ["fin-redis-cache", "fin-redis-kms"]);
  });

  it("exports the primary endpoint with TLS, rediss:// URLs and the subnets as egress peer", async () => {
    const r = await get();
    const group = byName(r, "aws:elasticache/replicationGroup:ReplicationGroup", "fin-redis-cache");
    const host = group.state.primaryEndpointAddress as string;
    expect(host).toMatch(/^master\.fin-redis-cache-[0-9a-f]{7}\.[0-9a-f]{6}\.euw1\.cache\.amazonaws\.com$/);
    expect(reveal(r.outputs)).toMatchObject({
      host,
      port: 6379,
      tls: true,
      egressPeer: { cidrs: ["10.20.0.0/19", "10.20.32.0/19"], port: 6379 },
    });
    const data = secretData(byName(r, "kubernetes:core/v1:Secret", "fin-redis-backend-api-connection"));
    expect(data.REDIS_URL).toBe(`rediss://:${token(r, "fin-redis")}@${host}:6379/0`);
    expect(data.tls).toBe("true");
    // The in-cluster server's objects do not exist on this backend.
    expect(byType(r, "kubernetes:apps/v1:StatefulSet")).toEqual([]);
    expect(byType(r, "kubernetes:core/v1:ConfigMap")).toEqual([]);
  });

  it("checks the cache over verified TLS from inside the cluster after the group exists", async () => {
    const r = await get();
    const j = job(r);
    expect(j.dependencies).toContain(
      byName(r, "aws:elasticache/replicationGroup:ReplicationGroup", "fin-redis-cache").urn,
    );
    expect(container(j).command[2]).toContain(
      'redis-cli -h "$CACHE_HOST" -p "$CACHE_PORT" --tls --cacert /etc/ssl/certs/ca-certificates.crt ping',
    );
    const policy = networkPolicySpec(
      byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "fin-redis-bootstrap"),
    );
    expect(policy.egress[0]).toEqual({
      to: [{ ipBlock: { cidr: "10.20.0.0/19" } }, { ipBlock: { cidr: "10.20.32.0/19" } }],
      ports: [{ protocol: "TCP", port: 6379 }],
    });
  });

  it("keeps the auth token secret and renders valid Kubernetes objects", async () => {
    await expectValidObjectsAndSecretPasswords(await get());
  });

  it("uses a valkey parameter family, and no failover without replicas", async () => {
    const r = await run("small", {
      ...args,
      protect: false,
      engine: "valkey",
      replicasPerShard: 0,
      snapshotRetentionDays: 0,
    });
    const group = byName(r, "aws:elasticache/replicationGroup:ReplicationGroup", "small-cache");
    expect(group.inputs).toMatchObject({
      engine: "valkey",
      engineVersion: "8.0",
      numCacheClusters: 1,
      automaticFailoverEnabled: false,
      multiAzEnabled: false,
      snapshotRetentionLimit: 0,
    });
    expect(group.inputs.finalSnapshotIdentifier).toBeUndefined();
    expect(byType(r, "random:index/randomId:RandomId").map((x) => x.name)).toEqual([
      "small-credentials-revision",
    ]);
    expect(byName(r, "aws:elasticache/parameterGroup:ParameterGroup", "small-params").inputs.family).toBe(
      "valkey8",
    );
  });
});

describe("RedisCache, bad input", () => {
  const base: RedisCacheArgs = { backend: "aws", namespace: "fintech", consumers, aws: awsNetwork };
  const message = (args: Partial<RedisCacheArgs>) =>
    thrownMessage(() => new RedisCache("cache", { ...base, ...args }, STAND_IN_KUBERNETES));
  const expected = (...problems: string[]) => argsErrorMessage("RedisCache", "cache", problems);

  it.each([
    [
      { nodeType: "db.t4g.micro" },
      'nodeType: expected an ElastiCache node type such as "cache.r7g.large", found "db.t4g.micro"',
    ],
    [{ replicasPerShard: 6 }, "replicasPerShard: expected a whole number from 0 to 5, found 6"],
    [
      { replicasPerShard: 0, multiAz: true },
      "multiAz: needs replicasPerShard of at least 1 (Multi-AZ fails over to a replica in another zone)",
    ],
    [
      { snapshotRetentionDays: 40 },
      "snapshotRetentionDays: expected a whole number of days from 0 to 35, found 40",
    ],
    [{ engineVersion: "6.2" }, 'engineVersion: expected one of "7.0", "7.1" for redis, found "6.2"'],
    [
      { engine: "valkey", engineVersion: "7.1" },
      'engineVersion: expected one of "7.2", "8.0" for valkey, found "7.1"',
    ],
    [
      { maxmemoryPolicy: "lru" as never },
      'maxmemoryPolicy: expected one of noeviction, allkeys-lru, volatile-lru, allkeys-lfu, volatile-lfu, allkeys-random, volatile-random, volatile-ttl, found "lru"',
    ],
    ...SHARED_ARG_CASES,
    [
      { aws: { ...awsNetwork, allowedSecurityGroupIds: undefined } },
      "aws: expected allowedSecurityGroupIds or allowedCidrs (the security group would admit nobody)",
    ],
    [
      { aws: { ...awsNetwork, allowedCidrs: ["10.0.0.0/33"] } },
      'aws.allowedCidrs[0]: "10.0.0.0/33" is not an IPv4 CIDR block such as 10.0.0.0/16',
    ],
    [
      { backend: "inCluster", aws: undefined, maxmemoryMb: 400 },
      "maxmemoryMb: expected at most 75 % of the memory limit 512Mi (384; an append-only rewrite forks the process), found 400",
    ],
    [
      { backend: "inCluster", aws: undefined, maxmemoryMb: 8 },
      "maxmemoryMb: expected a whole number of MiB, at least 32, found 8",
    ],
    [
      { backend: "inCluster", aws: undefined, storageSize: "0Gi" },
      'storageSize: expected a volume size such as "10Gi", found "0Gi"',
    ],
    [
      { consumers: [consumers[0]!, consumers[0]!] },
      'consumers[1].service: "backend-api" is listed more than once',
    ],
  ] as [Partial<RedisCacheArgs>, string][])("rejects %j", (args, problem) => {
    expect(message(args)).toBe(expected(problem));
  });

  it("refuses, by name, every arg only ElastiCache reads when the backend is inCluster (it would be ignored)", () => {
    expect(
      message({
        backend: "inCluster",
        aws: undefined,
        nodeType: "cache.t4g.micro",
        replicasPerShard: 0,
        multiAz: false,
        snapshotRetentionDays: 0,
        finalSnapshot: false,
        snapshotWindow: "02:00-03:00",
        maintenanceWindow: "sun:04:00-sun:05:00",
      }),
    ).toBe(
      expected(
        ...[
          "nodeType",
          "replicasPerShard",
          "multiAz",
          "snapshotRetentionDays",
          "finalSnapshot",
          "snapshotWindow",
          "maintenanceWindow",
        ].map(
          (arg) => `${arg}: applies only to backend "aws" (ElastiCache); remove it with backend "inCluster"`,
        ),
      ),
    );
  });

  it("refuses, by name, the ElastiCache engine version when the backend is inCluster (the StatefulSet runs CACHE_IMAGES)", () => {
    expect(message({ backend: "inCluster", aws: undefined, engineVersion: "7.1" })).toBe(
      expected(
        'engineVersion: applies only to backend "aws" (ElastiCache); remove it with backend "inCluster"',
      ),
    );
  });

  it("reports a missing Kubernetes provider together with the args' problems, all at once", () => {
    expect(thrownMessage(() => new RedisCache("cache", { ...base, nodeType: "t4g.small" }))).toBe(
      expected(
        "no Kubernetes provider: pass { provider } or { providers: { kubernetes } } (components never fall back to the ambient default provider)",
        'nodeType: expected an ElastiCache node type such as "cache.r7g.large", found "t4g.small"',
      ),
    );
  });

  it("refuses, by name, every arg only the StatefulSet reads when the backend is aws (it would be ignored)", () => {
    expect(
      message({
        maxmemoryMb: 4096,
        storageSize: "1Gi",
        storageClassName: "gp3",
        resources: REDIS_DEFAULT_RESOURCES,
      }),
    ).toBe(
      expected(
        ...["maxmemoryMb", "storageSize", "storageClassName", "resources"].map(
          (arg) =>
            `${arg}: applies only to backend "inCluster" (the StatefulSet); remove it with backend "aws"`,
        ),
      ),
    );
  });
});
