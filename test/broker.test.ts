/**
 * MessageBroker: both backends from the recorded resources, the exchange/user bootstrap Job and its
 * ordering, connection Secrets, secrecy of every password, protection, and each bad input's message.
 */
import { describe, expect, it } from "vitest";
import {
  BROKER_DEFAULT_RESOURCES,
  MessageBroker,
  RABBITMQ_IMAGES,
  type MessageBrokerArgs,
} from "../components/MessageBroker";
import { byName, byType, reveal, STAND_IN_KUBERNETES, type RunResult } from "./harness";
import {
  SHARED_ARG_CASES,
  argsErrorMessage,
  bootstrapJobOf as job,
  envOf as env,
  expectCredentialsRevision,
  expectDrainableDisruptionBudget,
  expectValidInClusterObjects,
  expectValidObjectsAndSecretPasswords,
  firstContainer as container,
  generatedPassword as password,
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
  { service: "order-service", namespace: "ecommerce" },
  { service: "notification-service", namespace: "ecommerce" },
];
const awsNetwork = {
  vpcId: "vpc-0abc",
  subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
  subnetCidrs: ["10.30.0.0/16"],
  allowedSecurityGroupIds: ["sg-0cluster"],
};

const run = (name: string, args: MessageBrokerArgs): Promise<RunResult> =>
  runDataService((n, a, o) => new MessageBroker(n, a, o), name, args);

describe("MessageBroker, inCluster backend", () => {
  const args: MessageBrokerArgs = {
    backend: "inCluster",
    namespace: "ecommerce",
    platform: "ecommerce",
    stage: "local",
    exchanges: ["ecommerce_events"],
    consumers,
    storageSize: "1Gi",
  };
  let result: RunResult;
  const get = async () => (result ??= await run("shop-mq", args));

  it("runs RabbitMQ with the management plugin, persistence and generated admin credentials from mounted config", async () => {
    const r = await get();
    const sts = byName(r, "kubernetes:apps/v1:StatefulSet", "shop-mq");
    const c = container(sts);
    expect(c.image).toBe("rabbitmq:3.13.7-management");
    expect(c.ports).toEqual([
      { name: "amqp", containerPort: 5672 },
      { name: "management", containerPort: 15672 },
    ]);
    const data = byName(r, "kubernetes:core/v1:ConfigMap", "shop-mq-config").inputs.data as Record<
      string,
      string
    >;
    expect(data.enabled_plugins).toBe("[rabbitmq_management,rabbitmq_prometheus].\n");
    expect(data["10-platform.conf"]).toContain("listeners.tcp.default = 5672\nmanagement.tcp.port = 15672\n");
    expect(data["10-platform.conf"]).toContain(`total_memory_available_override_value = ${1024 ** 3}\n`);
    const credentials = secretData(byName(r, "kubernetes:core/v1:Secret", "shop-mq-credentials"));
    const admin = password(r, "shop-mq-admin-password");
    expect(credentials["20-credentials.conf"]).toBe(
      `default_user = platform_admin\ndefault_pass = ${admin}\n`,
    );
    const config = podSpec(sts).volumes.find((v) => v.name === "config")!;
    expect(config.projected.sources).toEqual([
      {
        configMap: {
          name: "shop-mq-config",
          items: [
            { key: "10-platform.conf", path: "conf.d/10-platform.conf" },
            { key: "enabled_plugins", path: "enabled_plugins" },
          ],
        },
      },
      {
        secret: {
          name: "shop-mq-credentials",
          items: [{ key: "20-credentials.conf", path: "conf.d/20-credentials.conf" }],
        },
      },
    ]);
    expect(Object.fromEntries(c.volumeMounts.map((m) => [m.mountPath, m.name]))).toEqual({
      "/var/lib/rabbitmq": "data",
      "/etc/rabbitmq": "config",
      "/tmp": "scratch-0",
      "/var/log/rabbitmq": "scratch-1",
    });
    expect(c.startupProbe.exec.command).toEqual(["rabbitmq-diagnostics", "-q", "ping"]);
    expect(c.livenessProbe.exec.command).toEqual(["rabbitmq-diagnostics", "-q", "ping"]);
    expect(c.readinessProbe.exec.command).toEqual(["rabbitmq-diagnostics", "-q", "check_port_connectivity"]);
    expect(c.livenessProbe.timeoutSeconds).toBe(15);
    expect(c.env).toBeUndefined();
    expect(podSpec(sts).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, fsGroup: 999 });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(statefulSetSpec(sts).volumeClaimTemplates[0]!.spec.resources.requests).toEqual({ storage: "1Gi" });
    expect(c.resources).toEqual({
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { cpu: "1", memory: "1Gi" },
    });
  });

  it("admits consumers on AMQP and only its bootstrap Job on the management port", async () => {
    const r = await get();
    expect(serviceSpec(byName(r, "kubernetes:core/v1:Service", "shop-mq")).clusterIP).toBe("None");
    const policy = networkPolicySpec(byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "shop-mq"));
    expect(policy.ingress.map((rule) => [peerNames(rule.from), rule.ports])).toEqual([
      [["ecommerce/order-service", "ecommerce/notification-service"], [{ protocol: "TCP", port: 5672 }]],
      [["ecommerce/shop-mq-bootstrap"], [{ protocol: "TCP", port: 15672 }]],
    ]);
    const jobPolicy = networkPolicySpec(
      byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "shop-mq-bootstrap"),
    );
    expect(peerNames(jobPolicy.egress[0]!.to)).toEqual(["ecommerce/shop-mq"]);
    expect(jobPolicy.egress[0]!.ports).toEqual([{ protocol: "TCP", port: 15672 }]);
  });

  it("declares the exchanges and one user per consumer through the management API, after the server", async () => {
    const r = await get();
    const j = job(r);
    expect(j.dependencies).toEqual(
      expect.arrayContaining([
        byName(r, "kubernetes:apps/v1:StatefulSet", "shop-mq").urn,
        byName(r, "kubernetes:core/v1:Namespace", "ns").urn,
      ]),
    );
    expect(r.outputs.bootstrapUrn).toBe(j.urn);
    const c = container(j);
    expect(c.image).toBe("curlimages/curl:8.16.0");
    const script = c.command[2]!;
    expect(script).toContain(
      `api -X PUT -H 'content-type: application/json' --data '{"type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}' "$MANAGEMENT_URL/api/exchanges/%2F/ecommerce_events"`,
    );
    expect(script).toContain(
      `printf '{"password":"%s","tags":""}' "$PASSWORD_ORDER_SERVICE" | api -X PUT -H 'content-type: application/json' --data-binary @- "$MANAGEMENT_URL/api/users/order-service"`,
    );
    expect(script).toContain(`"$MANAGEMENT_URL/api/permissions/%2F/notification-service"`);
    expect(script).toContain("--config /etc/broker/curlrc");
    expect(env(c)).toMatchObject({
      MANAGEMENT_URL: "http://shop-mq.ecommerce.svc.cluster.local:15672",
      PASSWORD_ORDER_SERVICE: {
        secretKeyRef: { name: "shop-mq-credentials", key: "PASSWORD_ORDER_SERVICE" },
      },
    });
    expect(secretData(byName(r, "kubernetes:core/v1:Secret", "shop-mq-credentials")).curlrc).toBe(
      `user = "platform_admin:${password(r, "shop-mq-admin-password")}"\n`,
    );
    expect(podSpec(j).securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 100,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("covers the StatefulSet with a PodDisruptionBudget that never blocks a node drain", async () => {
    expectDrainableDisruptionBudget(await get(), "shop-mq", "ecommerce", {
      "app.kubernetes.io/name": "shop-mq",
      "app.kubernetes.io/component": "message-broker",
      "microservices-platform/stage": "local",
    });
  });

  it("reruns the bootstrap Job when a password is replaced, with no secret in the Job", async () => {
    const r = await get();
    const { revision } = expectCredentialsRevision(r, "shop-mq");
    expect(revision.inputs.keepers).toEqual({
      password: { secret: true, value: password(r, "shop-mq-admin-password") },
      PASSWORD_ORDER_SERVICE: { secret: true, value: password(r, "shop-mq-order-service-password") },
      PASSWORD_NOTIFICATION_SERVICE: {
        secret: true,
        value: password(r, "shop-mq-notification-service-password"),
      },
    });
  });

  it("exports the shared contract and writes RABBITMQ_URL per consumer with its own user", async () => {
    const r = await get();
    expect(reveal(r.outputs)).toMatchObject({
      host: "shop-mq.ecommerce.svc.cluster.local",
      port: 5672,
      tls: false,
      connectionSecretNames: {
        "order-service": "order-service-shop-mq",
        "notification-service": "notification-service-shop-mq",
      },
      egressPeer: { pod: { name: "shop-mq", namespace: "ecommerce" }, port: 5672 },
    });
    const secret = byName(r, "kubernetes:core/v1:Secret", "shop-mq-order-service-connection");
    expect(metadataOf(secret)).toMatchObject({ name: "order-service-shop-mq", namespace: "ecommerce" });
    const pw = password(r, "shop-mq-order-service-password");
    expect(secretData(secret)).toEqual({
      RABBITMQ_URL: `amqp://order-service:${pw}@shop-mq.ecommerce.svc.cluster.local:5672/%2F`,
      host: "shop-mq.ecommerce.svc.cluster.local",
      port: "5672",
      username: "order-service",
      password: pw,
      vhost: "/",
      tls: "false",
    });
  });

  it("inherits the provider, renders valid objects and keeps every password secret", async () => {
    await expectValidInClusterObjects(await get());
  });

  it("protects the StatefulSet when asked", async () => {
    const r = await run("prod-mq", { ...args, protect: true });
    expect(
      kubernetesObjects(r)
        .filter((k) => k.protect)
        .map((k) => [k.name, k.retainOnDelete]),
    ).toEqual([["prod-mq", true]]);
    expect(await invalidKubernetesObjects(r)).toEqual([]);
  });
});

describe("MessageBroker, aws backend", () => {
  const args: MessageBrokerArgs = {
    backend: "aws",
    namespace: "ecommerce",
    platform: "ecommerce",
    stage: "production",
    protect: true,
    exchanges: ["ecommerce_events"],
    consumers,
    instanceType: "mq.m5.large",
    deploymentMode: "CLUSTER_MULTI_AZ",
    aws: { ...awsNetwork, tags: { owner: "platform-team" } },
  };
  let result: RunResult;
  const get = async () => (result ??= await run("shop-mq", args));

  it("creates a private Amazon MQ RabbitMQ cluster with generated admin credentials", async () => {
    const r = await get();
    const broker = byName(r, "aws:mq/broker:Broker", "shop-mq-broker");
    expect(broker.inputs).toMatchObject({
      engineType: "RabbitMQ",
      engineVersion: "3.13",
      autoMinorVersionUpgrade: true,
      hostInstanceType: "mq.m5.large",
      deploymentMode: "CLUSTER_MULTI_AZ",
      publiclyAccessible: false,
      subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
      securityGroups: [expect.stringMatching(/^shop-mq-sg-[0-9a-f]{8}$/)],
      logs: { general: true },
      tags: { owner: "platform-team", Name: "shop-mq-broker" },
    });
    const users = broker.inputs.users as { username: string; password: unknown }[];
    expect(users).toHaveLength(1);
    expect(users[0]!.username).toBe("platform_admin");
    expect(users[0]!.password).toEqual({ secret: true, value: password(r, "shop-mq-admin-password") });
    expect([broker.protect, broker.retainOnDelete]).toEqual([true, true]);
    expect(r.resources.filter((x) => x.protect).map((x) => x.name)).toEqual(["shop-mq-broker"]);
    const sg = byName(r, "aws:ec2/securityGroup:SecurityGroup", "shop-mq-sg");
    expect((sg.inputs.ingress as { fromPort: number }[]).map((i) => i.fromPort)).toEqual([5671, 443]);
  });

  it("exports the AMQPS endpoint host with TLS and builds amqps:// URLs", async () => {
    const r = await get();
    const broker = byName(r, "aws:mq/broker:Broker", "shop-mq-broker");
    const endpoint = (broker.state.instances as { endpoints: string[] }[])[0]!.endpoints[0]!;
    const host = endpoint.replace(/^amqps:\/\//, "").replace(/:5671$/, "");
    expect(host).toMatch(/^b-[0-9a-f-]+\.mq\.eu-west-1\.amazonaws\.com$/);
    expect(reveal(r.outputs)).toMatchObject({
      host,
      port: 5671,
      tls: true,
      egressPeer: { cidrs: ["10.30.0.0/16"], port: 5671 },
    });
    const data = secretData(
      byName(r, "kubernetes:core/v1:Secret", "shop-mq-notification-service-connection"),
    );
    expect(data.RABBITMQ_URL).toBe(
      `amqps://notification-service:${password(r, "shop-mq-notification-service-password")}@${host}:5671/%2F`,
    );
    expect(byType(r, "kubernetes:apps/v1:StatefulSet")).toEqual([]);
  });

  it("bootstraps Amazon MQ through its HTTPS management API from inside the cluster, after the broker", async () => {
    const r = await get();
    const j = job(r);
    const broker = byName(r, "aws:mq/broker:Broker", "shop-mq-broker");
    expect(j.dependencies).toContain(broker.urn);
    const revision = byName(r, "random:index/randomId:RandomId", "shop-mq-credentials-revision");
    expect(jobSpec(j).template.metadata.annotations).toEqual({
      "microservices-platform/credentials-revision": revision.state.hex,
    });
    expect(String(env(container(j)).MANAGEMENT_URL)).toMatch(
      /^https:\/\/b-[0-9a-f-]+\.mq\.eu-west-1\.amazonaws\.com$/,
    );
    const policy = networkPolicySpec(
      byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "shop-mq-bootstrap"),
    );
    expect(policy.egress[0]).toEqual({
      to: [{ ipBlock: { cidr: "10.30.0.0/16" } }],
      ports: [{ protocol: "TCP", port: 443 }],
    });
  });

  it("keeps every password secret and renders valid Kubernetes objects", async () => {
    await expectValidObjectsAndSecretPasswords(await get());
  });

  it("runs the bootstrap Job on curlimages/curl, or on the bootstrapImage given (e.g. pinned by digest)", async () => {
    expect(container(job(await get())).image).toBe("curlimages/curl:8.16.0");
    const pinned = `curlimages/curl:8.16.0@sha256:${"0".repeat(64)}`;
    const r = await run("pinned-mq", { ...args, bootstrapImage: pinned });
    expect(container(job(r)).image).toBe(pinned);
  });

  it("places a single instance in one subnet", async () => {
    const r = await run("stg-mq", { ...args, protect: false, deploymentMode: "SINGLE_INSTANCE" });
    const broker = byName(r, "aws:mq/broker:Broker", "stg-mq-broker");
    expect(broker.inputs).toMatchObject({ deploymentMode: "SINGLE_INSTANCE", subnetIds: ["subnet-a"] });
    expect(broker.protect).toBe(false);
  });
});

describe("MessageBroker, bad input", () => {
  const base: MessageBrokerArgs = { backend: "aws", namespace: "ecommerce", consumers, aws: awsNetwork };
  const message = (args: Partial<MessageBrokerArgs>) =>
    thrownMessage(() => new MessageBroker("mq", { ...base, ...args }, STAND_IN_KUBERNETES));
  const expected = (...problems: string[]) => argsErrorMessage("MessageBroker", "mq", problems);

  it.each([
    [
      { instanceType: "cache.t3.micro" },
      'instanceType: expected an Amazon MQ instance type such as "mq.m5.large", found "cache.t3.micro"',
    ],
    [
      { instanceType: "mq.t3.micro", deploymentMode: "CLUSTER_MULTI_AZ" },
      'deploymentMode: "CLUSTER_MULTI_AZ" needs an mq.m5 or larger instance type (mq.t3.micro runs as a single instance only)',
    ],
    [
      { deploymentMode: "ACTIVE_STANDBY_MULTI_AZ" as never },
      'deploymentMode: expected "SINGLE_INSTANCE" or "CLUSTER_MULTI_AZ", found "ACTIVE_STANDBY_MULTI_AZ"',
    ],
    [{ engineVersion: "3.12" }, 'engineVersion: expected one of "3.13", found "3.12"'],
    [
      { exchanges: ["amq.topic"] },
      'exchanges[0]: expected a name of letters, digits, "-", "_", "." or ":" that does not start with "amq." (reserved), found "amq.topic"',
    ],
    [{ exchanges: ["events", "events"] }, 'exchanges[1]: "events" is listed more than once'],
    [
      { consumers: [{ service: "guest", namespace: "ecommerce" }] },
      'consumers[0].service: "guest" is a reserved RabbitMQ user name',
    ],
    ...SHARED_ARG_CASES,
    [
      { backend: "inCluster", aws: undefined, image: "rabbitmq" },
      'image: image "rabbitmq" has no tag; pin a version or a digest',
    ],
    [
      { namespace: "E-Commerce" },
      'namespace must be a namespace name (a DNS label of at most 63 characters, such as "shop"), found "E-Commerce"',
    ],
    [
      { bootstrapImage: "curlimages/curl:latest" },
      'bootstrapImage: image "curlimages/curl:latest" is not reproducible; pin a version or a digest',
    ],
  ] as [Partial<MessageBrokerArgs>, string][])("rejects %j", (args, problem) => {
    expect(message(args)).toBe(expected(problem));
  });

  it("refuses, by name, every arg only Amazon MQ reads when the backend is inCluster (it would be ignored)", () => {
    expect(
      message({
        backend: "inCluster",
        aws: undefined,
        instanceType: "mq.t3.micro",
        deploymentMode: "CLUSTER_MULTI_AZ",
      }),
    ).toBe(
      expected(
        'instanceType: applies only to backend "aws" (Amazon MQ); remove it with backend "inCluster"',
        'deploymentMode: applies only to backend "aws" (Amazon MQ); remove it with backend "inCluster"',
      ),
    );
  });

  it("reports a missing Kubernetes provider together with the args' problems, all at once", () => {
    expect(thrownMessage(() => new MessageBroker("mq", { ...base, exchanges: ["amq.x"] }))).toBe(
      expected(
        "no Kubernetes provider: pass { provider } or { providers: { kubernetes } } (components never fall back to the ambient default provider)",
        'exchanges[0]: expected a name of letters, digits, "-", "_", "." or ":" that does not start with "amq." (reserved), found "amq.x"',
      ),
    );
  });

  it("refuses, by name, every arg only the StatefulSet reads when the backend is aws (Amazon MQ runs its own image)", () => {
    expect(
      message({
        storageSize: "2Gi",
        storageClassName: "gp3",
        resources: BROKER_DEFAULT_RESOURCES,
        image: RABBITMQ_IMAGES["3.13"]!,
      }),
    ).toBe(
      expected(
        ...["storageSize", "storageClassName", "resources", "image"].map(
          (arg) =>
            `${arg}: applies only to backend "inCluster" (the StatefulSet); remove it with backend "aws"`,
        ),
      ),
    );
  });
});
