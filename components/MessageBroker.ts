/**
 * MessageBroker: RabbitMQ with one contract and two backends. `aws` is Amazon MQ for RabbitMQ
 * (private, a cluster across three zones or a single instance); `inCluster` is a single-replica
 * StatefulSet of the official image with the management plugin (the local stack). Either way a
 * bootstrap Job in the cluster declares the exchanges and one user per consumer (with its own
 * generated password) through the management HTTP API, and every consumer gets a connection Secret
 * in its own namespace with `RABBITMQ_URL` and its parts.
 *
 * @example
 * const broker = new MessageBroker("ecommerce-rabbitmq", {
 *   backend: "aws",
 *   namespace: "ecommerce",
 *   exchanges: ["ecommerce_events"],
 *   consumers: [{ service: "order-service", namespace: "ecommerce" }],
 *   deploymentMode: "CLUSTER_MULTI_AZ",
 *   aws: { vpcId, subnetIds: privateSubnetIds, subnetCidrs: privateSubnetCidrs, allowedSecurityGroupIds: [nodeSecurityGroupId] },
 * }, { provider: k8sProvider });
 * // broker.connectionSecretNames["order-service"] → Secret with RABBITMQ_URL, host, port, username, password, vhost, tls
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import type { DataServiceForConsumers } from "./MicroService";
import * as pulumi from "@pulumi/pulumi";
import type * as random from "@pulumi/random";
import {
  CLIENT_JOB_RESOURCES,
  awsTags,
  backendEgressPeer,
  bootstrapJob,
  childOptions,
  consumerNamespaces,
  dataServiceGate,
  clientSecurityGroup,
  connectionSecrets,
  consumerPasswordEnv,
  consumerPasswordKey,
  contractOutputs,
  credentialsData,
  credentialsRevision,
  credentialsSecret,
  generateCredentials,
  inClusterServer,
  mapInput,
  type GeneratedCredentials,
  labelsFor,
  sharedArgProblems,
  type ChildOptions,
  type LabelsFor,
  backendOnlyArgProblems,
  type BackendOnlyArgs,
} from "./data-service";
import {
  alarmArgProblems,
  amazonMqAlarms,
  createAlarms,
  resolveAlarmArgs,
  type DataStoreAlarmArgs,
} from "./aws-alarms";
import {
  ComponentArgsError,
  childName,
  memoryBytes,
  splitDependsOn,
  stableHash,
  standardProbes,
  statefulOptions,
  typeToken,
  type ContainerResources,
  type DataServiceAwsArgs,
  type DataServiceBackend,
  type DataServiceConsumer,
  type EgressPeer,
  domainKey,
  imageReferenceProblem,
  type LabelDomainArgs,
  type Stage,
} from "./lib";

/**
 * Args only one backend reads: each is an error with the other backend, which would ignore it.
 * Amazon MQ runs its own image on its instance type; the StatefulSet runs `image` with a volume and
 * container resources. The bootstrap Job runs `bootstrapImage` on both.
 */
const BACKEND_ONLY_ARGS: BackendOnlyArgs = {
  aws: { readBy: "Amazon MQ", args: ["instanceType", "deploymentMode"] },
  inCluster: { readBy: "the StatefulSet", args: ["storageSize", "storageClassName", "resources", "image"] },
};

/** RabbitMQ versions both backends offer, with the pinned in-cluster image of each (UID 999). */
export const RABBITMQ_IMAGES: Record<string, string> = { "3.13": "rabbitmq:3.13.7-management" };
export type BrokerDeploymentMode = "SINGLE_INSTANCE" | "CLUSTER_MULTI_AZ";

export interface MessageBrokerArgs extends LabelDomainArgs {
  /** `aws` (Amazon MQ for RabbitMQ) or `inCluster` (StatefulSet). Example: `"aws"`. */
  backend: DataServiceBackend;
  /**
   * Namespace of the in-cluster server, the bootstrap Job and its credentials Secret. Pass the
   * namespace's Output (`PlatformNamespace.name`) so every child waits for the namespace through
   * it; a plain name is checked before anything is created (put the Namespace in `dependsOn` when
   * the same program creates it). Example: `"ecommerce"` or `ns.name`.
   */
  namespace: pulumi.Input<string>;
  /** Platform label value. Example: `"ecommerce"`. */
  platform?: string;
  /**
   * Stage label value (`<labelDomain>/stage`), one of `STAGES`. Default: none (no stage label).
   * Example: `"production"`.
   */
  stage?: Stage;
  /** `protect` + `retainOnDelete` on the stateful child (broker or StatefulSet). Default `false`. */
  protect?: boolean;
  /** RabbitMQ major.minor version (see RABBITMQ_IMAGES); Amazon MQ applies patches automatically. Default `"3.13"`. */
  engineVersion?: string;
  /** Durable topic exchanges declared on the default vhost. Default `[]`. Example: `["ecommerce_events"]`. */
  exchanges?: string[];
  /** Consumers: each gets its own user (full rights on the default vhost) and a connection Secret. */
  consumers: DataServiceConsumer[];

  // --- aws backend: each is an error with backend inCluster ---
  /** Amazon MQ instance type (the `mq.` family). Default `"mq.m5.large"`. */
  instanceType?: string;
  /** `CLUSTER_MULTI_AZ` (three nodes across zones) or `SINGLE_INSTANCE`. Default `"SINGLE_INSTANCE"`. */
  deploymentMode?: BrokerDeploymentMode;
  /** Network placement; required with backend `aws`, forbidden otherwise. */
  aws?: DataServiceAwsArgs;
  /**
   * CloudWatch alarms (instance down, storage above the usage share of RabbitMQ's memory limit, free disk near its limit), notifying
   * `alarms.topicArn` (AlertTopic). Only with backend `aws`; in-cluster stores are watched by
   * Prometheus (DataStoreMonitoring). Default: none.
   */
  alarms?: DataStoreAlarmArgs;

  // --- inCluster backend: each is an error with backend aws ---
  /** Persistent volume size (messages and definitions). Default `"2Gi"`. */
  storageSize?: string;
  /** StorageClass of the volume. Default: the cluster's default class. */
  storageClassName?: string;
  /** Container resources of the server. Default requests 250m/512Mi, limits 1/1Gi. */
  resources?: ContainerResources;
  /** Server image; must be a `-management` build of the official image. Default: pinned per `engineVersion`. */
  image?: string;

  // --- both backends ---
  /**
   * Image of the bootstrap Job, which declares exchanges and consumer users through the management API
   * with curl: it must carry `/bin/sh`, curl and a CA bundle, and runs as UID 100. Default
   * BROKER_BOOTSTRAP_IMAGE (`curlimages/curl`). Example, the default pinned by digest:
   * `"curlimages/curl:8.16.0@sha256:<digest>"`.
   */
  bootstrapImage?: string;
}

const UID = 999;
const ADMIN_USER = "platform_admin";
const PORTS = { amqp: 5672, amqps: 5671, management: 15672, https: 443 } as const;
/** curl for the management API (UID 100 in the image; it carries a CA bundle for Amazon MQ's certificate). */
export const BROKER_BOOTSTRAP_IMAGE = "curlimages/curl:8.16.0";
const CURL_UID = 100;
const EXCHANGE = /^[A-Za-z0-9_.:-]{1,255}$/;
/** Server container resources when `resources` is not given (in-cluster backend). */
export const BROKER_DEFAULT_RESOURCES: ContainerResources = {
  requests: { cpu: "250m", memory: "512Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};

/**
 * RabbitMQ for its consumers (see the module documentation). `Namespace` is the type of
 * `args.namespace`, which `egressPeer` carries.
 */
export class MessageBroker<Namespace extends pulumi.Input<string> = string>
  extends pulumi.ComponentResource
  implements DataServiceForConsumers
{
  /** Hostname consumers connect to (Amazon MQ endpoint or the headless Service's DNS name). */
  public readonly host: pulumi.Output<string>;
  /** AMQP port: 5671 (AMQPS) on Amazon MQ, 5672 in-cluster. */
  public readonly port: pulumi.Output<number>;
  /** Whether connections use TLS (`amqps://`): always on Amazon MQ, off in-cluster. */
  public readonly tls: pulumi.Output<boolean>;
  /** The Job that declares exchanges and users: consumers' workloads depend on it. */
  public readonly bootstrap: k8s.batch.v1.Job;
  /** Consumer service name → Secret (in its namespace) with RABBITMQ_URL and its parts. */
  public readonly connectionSecretNames: Record<string, string>;
  /** Consumer service name → the namespace its connection Secret is in (`MicroService.uses` checks its own against it). */
  public readonly consumerNamespaces: Record<string, pulumi.Input<string>>;
  /**
   * How consumers reach the broker, for their egress NetworkPolicy: plain data when `namespace` is a
   * string; with an Output namespace, `pod.namespace` is that Output.
   */
  public readonly egressPeer: EgressPeer<Namespace>;
  /** Env var (and Secret key) a consumer's connection URL is delivered in: what `MicroService.uses` sets. */
  public readonly connectionEnv = "RABBITMQ_URL";
  /**
   * What a consumer waits for before it starts: the whole component, so the server, the bootstrap
   * (roles, databases or vhost and exchanges) and every connection Secret, the consumer's own
   * included (a component in `dependsOn` stands for all its children).
   */
  public readonly ready: pulumi.Resource;

  constructor(
    name: string,
    args: MessageBrokerArgs & { namespace: Namespace },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    // Validate before registering anything: bad args or no Kubernetes provider create nothing, not
    // even the component.
    const p = resolve(name, args, opts);
    const { options, dependsOn } = splitDependsOn(opts);
    super(typeToken("MessageBroker"), name, {}, options);
    const labels = labelsFor(name, p.engineVersion, args);
    const child = childOptions(this, dependsOn, dataServiceGate("MessageBroker", name, this, args));

    const credentials = brokerCredentials(name, args, labels, this, child);
    const server =
      p.backend === "aws"
        ? this.amazonMq(name, args, p, credentials.passwords.admin, child)
        : this.statefulSet(name, args, p, credentials.secret, labels, child);
    this.host = server.host;
    this.port = pulumi.output(p.amqpPort);
    this.tls = pulumi.output(p.tls);
    this.egressPeer = backendEgressPeer(p.backend, name, args, p.amqpPort);
    // The bootstrap talks to the management API, not AMQP: its egress goes to the management port.
    const reach = { ...this.egressPeer, port: p.managementPort };
    this.bootstrap = brokerBootstrap(name, args, p, server, credentials, labels, reach, child);
    this.connectionSecretNames = brokerConnectionSecrets(name, args, p, server, credentials, labels, child);

    this.consumerNamespaces = consumerNamespaces(args.consumers);
    this.ready = this;
    this.registerOutputs(contractOutputs(this));
  }

  /** Amazon MQ for RabbitMQ in private subnets, reachable only from the allowed clients. */
  private amazonMq(
    name: string,
    args: MessageBrokerArgs,
    p: Resolved,
    adminPassword: random.RandomPassword,
    child: ChildOptions,
  ): Server {
    const net = args.aws!;
    const tags = awsTags(name, net);
    const securityGroup = clientSecurityGroup(
      name,
      `AMQPS and management API clients of ${name}`,
      net,
      [PORTS.amqps, PORTS.https],
      tags,
      child,
    );
    const broker = new aws.mq.Broker(
      childName(name, "broker"),
      {
        engineType: "RabbitMQ",
        engineVersion: p.engineVersion,
        // Required for RabbitMQ 3.13 and later: Amazon MQ applies patch versions itself.
        autoMinorVersionUpgrade: true,
        hostInstanceType: p.instanceType,
        deploymentMode: p.deploymentMode,
        publiclyAccessible: false,
        // A single instance lives in exactly one subnet; a cluster spreads over the zones of all of them.
        subnetIds: pulumi
          .output(net.subnetIds)
          .apply((ids) => (p.deploymentMode === "SINGLE_INSTANCE" ? ids.slice(0, 1) : ids)),
        securityGroups: [securityGroup.id],
        users: [{ username: ADMIN_USER, password: adminPassword.result }],
        logs: { general: true },
        maintenanceWindowStartTime: { dayOfWeek: "SUNDAY", timeOfDay: "03:00", timeZone: "UTC" },
        tags: tags("broker"),
      },
      child(statefulOptions(p.protect)),
    );
    if (args.alarms)
      createAlarms(
        name,
        amazonMqAlarms({ brokerName: broker.brokerName }, resolveAlarmArgs(args.alarms)),
        args.alarms.topicArn,
        net.tags ?? {},
        child(),
      );
    // endpoints[0] is `amqps://<broker-id>.mq.<region>.amazonaws.com:5671`; a cluster has one endpoint.
    const host = broker.instances.apply((instances) => {
      const endpoint = instances[0]?.endpoints[0];
      if (!endpoint) throw new Error(`${name}: Amazon MQ returned no endpoint`);
      return new URL(endpoint).hostname;
    });
    return { host, managementUrl: pulumi.interpolate`https://${host}`, resource: broker };
  }

  /** The in-cluster server (see inClusterServer): the official image with the management plugin. */
  private statefulSet(
    name: string,
    args: MessageBrokerArgs,
    p: Resolved,
    credentials: k8s.core.v1.Secret,
    labels: LabelsFor,
    child: ChildOptions,
  ): Server {
    const serverLabels = labels("message-broker");
    const conf = [
      `listeners.tcp.default = ${PORTS.amqp}`,
      `management.tcp.port = ${PORTS.management}`,
      "loopback_users.guest = true",
      "log.console = true",
      "log.console.level = info",
      "log.file = false",
      // RabbitMQ sizes its memory alarm from the host's memory unless told the container's limit.
      `total_memory_available_override_value = ${memoryBytes(p.resources.limits.memory)}`,
      "vm_memory_high_watermark.relative = 0.6",
      "",
    ].join("\n");
    const plugins = "[rabbitmq_management,rabbitmq_prometheus].\n";
    const config = new k8s.core.v1.ConfigMap(
      childName(name, "config"),
      {
        metadata: { name: childName(name, "config"), namespace: args.namespace, labels: serverLabels },
        data: { "10-platform.conf": conf, enabled_plugins: plugins },
      },
      child(),
    );
    const diagnostics = (check: string) => ({ exec: { command: ["rabbitmq-diagnostics", "-q", check] } });
    // The diagnostics CLI boots an Erlang VM per call: give it time, and probe less often.
    const probes = standardProbes({
      check: diagnostics("ping"),
      liveness: { timeoutSeconds: 15, periodSeconds: 30 },
      readiness: { timeoutSeconds: 15, periodSeconds: 10 },
      startup: { timeoutSeconds: 15, periodSeconds: 10, failureThreshold: 30 },
    });
    const server = inClusterServer(
      name,
      args,
      p,
      {
        labels: serverLabels,
        ports: [
          { name: "amqp", port: PORTS.amqp },
          { name: "management", port: PORTS.management },
        ],
        // Only the bootstrap Job uses the management API.
        admit: { consumers: PORTS.amqp, bootstrap: PORTS.management },
        uid: UID,
        podAnnotations: { [domainKey(args.labelDomain, "config-hash")]: stableHash({ conf, plugins }) },
        // Time to close connections and flush queues; the node name (and so its data) follows the pod's stable hostname.
        terminationGracePeriodSeconds: 60,
        dataMountPath: "/var/lib/rabbitmq",
        scratchPaths: ["/tmp", "/var/log/rabbitmq"],
        volumes: [
          {
            name: "config",
            projected: {
              sources: [
                {
                  configMap: {
                    name: config.metadata.name,
                    items: [
                      { key: "10-platform.conf", path: "conf.d/10-platform.conf" },
                      { key: "enabled_plugins", path: "enabled_plugins" },
                    ],
                  },
                },
                {
                  secret: {
                    name: credentials.metadata.name,
                    items: [{ key: "20-credentials.conf", path: "conf.d/20-credentials.conf" }],
                  },
                },
              ],
            },
          },
        ],
        container: {
          name: "rabbitmq",
          image: p.image,
          ...probes,
          readinessProbe: { ...probes.readinessProbe, ...diagnostics("check_port_connectivity") },
          resources: p.resources,
          volumeMounts: [{ name: "config", mountPath: "/etc/rabbitmq", readOnly: true }],
        },
      },
      child,
    );
    return {
      host: pulumi.output(server.host),
      managementUrl: pulumi.output(mapInput(server.host, (host) => `http://${host}:${PORTS.management}`)),
      resource: server.statefulSet,
    };
  }
}

interface Server {
  host: pulumi.Output<string>;
  /** Base URL of the management HTTP API the bootstrap Job calls. */
  managementUrl: pulumi.Output<string>;
  resource: pulumi.Resource;
}

/** The generated passwords, the credentials Secret holding them and their revision. */
interface Credentials {
  passwords: GeneratedCredentials;
  secret: k8s.core.v1.Secret;
  revision: random.RandomId;
}

/**
 * The admin's password and one per consumer user, in the credentials Secret. In-cluster, RabbitMQ
 * applies the admin's `default_pass` only to an empty node: after replacing it the bootstrap's rerun
 * fails (loudly, on authentication) until the broker's admin password matches.
 */
function brokerCredentials(
  name: string,
  args: MessageBrokerArgs,
  labels: LabelsFor,
  parent: pulumi.Resource,
  child: ChildOptions,
): Credentials {
  const passwords = generateCredentials(name, args.consumers, parent);
  const secret = credentialsSecret(
    name,
    args.namespace,
    labels("message-broker"),
    credentialsData(passwords, ({ password: admin, ...users }) => ({
      username: ADMIN_USER,
      password: admin!,
      // Read by the in-cluster server from /etc/rabbitmq/conf.d: the admin never appears in a ConfigMap or env.
      "20-credentials.conf": `default_user = ${ADMIN_USER}\ndefault_pass = ${admin!}\n`,
      // Read by curl (--config), so the admin password is not on the bootstrap's command line.
      curlrc: `user = "${ADMIN_USER}:${admin!}"\n`,
      ...users,
    })),
    child,
  );
  return { passwords, secret, revision: credentialsRevision(name, passwords.byKey, parent) };
}

/**
 * The bootstrap: a NetworkPolicy letting the Job reach the management API, and the Job declaring
 * the exchanges and the consumers' users (`bootstrapScript`).
 */
function brokerBootstrap(
  name: string,
  args: MessageBrokerArgs,
  p: Resolved,
  server: Server,
  credentials: Credentials,
  labels: LabelsFor,
  reach: EgressPeer<pulumi.Input<string>>,
  child: ChildOptions,
): k8s.batch.v1.Job {
  return bootstrapJob(
    {
      name,
      namespace: args.namespace,
      labels: labels("message-broker-bootstrap", "bootstrap"),
      reach,
      revision: credentials.revision.hex,
      labelDomain: args.labelDomain,
      job: {
        uid: CURL_UID,
        container: {
          name: "bootstrap",
          image: p.bootstrapImage,
          command: ["/bin/sh", "-c", bootstrapScript(p, args.consumers)],
          env: [
            { name: "MANAGEMENT_URL", value: server.managementUrl },
            ...consumerPasswordEnv(credentials.secret, args.consumers),
          ],
          volumeMounts: [{ name: "curlrc", mountPath: "/etc/broker", readOnly: true }],
          resources: CLIENT_JOB_RESOURCES,
        },
        volumes: [
          {
            name: "curlrc",
            secret: {
              secretName: credentials.secret.metadata.name,
              items: [{ key: "curlrc", path: "curlrc" }],
            },
          },
        ],
      },
      after: [server.resource, credentials.secret],
    },
    child,
  );
}

/** Each consumer's connection Secret: RABBITMQ_URL with its own user, and the URL's parts. */
function brokerConnectionSecrets(
  name: string,
  args: MessageBrokerArgs,
  p: Resolved,
  server: Server,
  credentials: Credentials,
  labels: LabelsFor,
  child: ChildOptions,
): Record<string, string> {
  return connectionSecrets(
    name,
    args.consumers,
    labels("message-broker"),
    (c) =>
      pulumi
        .all([server.host, credentials.passwords.consumers.get(c.service)!.result])
        .apply(([host, pw]) => ({
          // %2F is the default vhost "/".
          RABBITMQ_URL: `${p.tls ? "amqps" : "amqp"}://${c.service}:${pw}@${host}:${p.amqpPort}/%2F`,
          host,
          port: String(p.amqpPort),
          username: c.service,
          password: pw,
          vhost: "/",
          tls: String(p.tls),
        })),
    child,
    args.labelDomain,
  );
}

interface Resolved {
  backend: DataServiceBackend;
  protect: boolean;
  engineVersion: string;
  exchanges: string[];
  tls: boolean;
  amqpPort: number;
  managementPort: number;
  instanceType: string;
  deploymentMode: BrokerDeploymentMode;
  storageSize: string;
  resources: ContainerResources;
  image: string;
  bootstrapImage: string;
}

function resolve(
  name: string,
  args: MessageBrokerArgs,
  opts: pulumi.ComponentResourceOptions | undefined,
): Resolved {
  const engineVersion = args.engineVersion ?? "3.13";
  const aws = args.backend === "aws";
  const r: Resolved = {
    backend: args.backend,
    protect: args.protect ?? false,
    engineVersion,
    exchanges: args.exchanges ?? [],
    tls: aws,
    amqpPort: aws ? PORTS.amqps : PORTS.amqp,
    managementPort: aws ? PORTS.https : PORTS.management,
    instanceType: args.instanceType ?? "mq.m5.large",
    deploymentMode: args.deploymentMode ?? "SINGLE_INSTANCE",
    storageSize: args.storageSize ?? "2Gi",
    resources: args.resources ?? BROKER_DEFAULT_RESOURCES,
    image: args.image ?? RABBITMQ_IMAGES[engineVersion] ?? "",
    bootstrapImage: args.bootstrapImage ?? BROKER_BOOTSTRAP_IMAGE,
  };

  const problems = sharedArgProblems(name, args, opts);
  problems.push(...backendOnlyArgProblems(args.backend, args, BACKEND_ONLY_ARGS));
  problems.push(...alarmArgProblems(args.backend, args.alarms));
  if (args.bootstrapImage !== undefined) {
    const problem = imageReferenceProblem(args.bootstrapImage);
    if (problem) problems.push(`bootstrapImage: ${problem}`);
  }
  if (!(engineVersion in RABBITMQ_IMAGES))
    problems.push(
      `engineVersion: expected one of ${Object.keys(RABBITMQ_IMAGES)
        .map((v) => `"${v}"`)
        .join(", ")}, found "${engineVersion}"`,
    );
  const seen = new Set<string>();
  r.exchanges.forEach((exchange, i) => {
    if (!EXCHANGE.test(exchange) || exchange.startsWith("amq."))
      problems.push(
        `exchanges[${i}]: expected a name of letters, digits, "-", "_", "." or ":" that does not start with "amq." (reserved), found "${exchange}"`,
      );
    if (seen.has(exchange)) problems.push(`exchanges[${i}]: "${exchange}" is listed more than once`);
    seen.add(exchange);
  });
  args.consumers.forEach((c, i) => {
    // Consumers become RabbitMQ users named after their service; these names are taken.
    if (c.service === "guest" || c.service === ADMIN_USER)
      problems.push(`consumers[${i}].service: "${c.service}" is a reserved RabbitMQ user name`);
  });
  if (aws) {
    if (!/^mq\.[a-z0-9]+\.[a-z0-9]+$/.test(r.instanceType))
      problems.push(
        `instanceType: expected an Amazon MQ instance type such as "mq.m5.large", found "${r.instanceType}"`,
      );
    if (r.deploymentMode !== "SINGLE_INSTANCE" && r.deploymentMode !== "CLUSTER_MULTI_AZ")
      problems.push(
        `deploymentMode: expected "SINGLE_INSTANCE" or "CLUSTER_MULTI_AZ", found "${String(r.deploymentMode)}"`,
      );
    else if (r.deploymentMode === "CLUSTER_MULTI_AZ" && r.instanceType === "mq.t3.micro")
      problems.push(
        'deploymentMode: "CLUSTER_MULTI_AZ" needs an mq.m5 or larger instance type (mq.t3.micro runs as a single instance only)',
      );
  }
  if (problems.length > 0) throw new ComponentArgsError("MessageBroker", name, problems);
  return r;
}

/**
 * Declares exchanges and consumer users through the management HTTP API. Every call is a PUT of the
 * full desired state, so the script can run any number of times: an existing exchange with the same
 * properties is left alone (a conflicting one fails the Job loudly), users get their current
 * password and permissions re-applied. The admin credentials come from the mounted curl config and
 * consumer passwords from the environment (`printf` is a shell builtin), so no secret is in argv.
 */
function bootstrapScript(p: Resolved, consumers: readonly DataServiceConsumer[]): string {
  const json = "-H 'content-type: application/json'";
  const lines = [
    "set -eu",
    `api() { curl --config /etc/broker/curlrc --silent --show-error --fail-with-body --max-time 30 --write-out '\\n' "$@"; }`,
    'until api -o /dev/null "$MANAGEMENT_URL/api/overview"; do echo "waiting for $MANAGEMENT_URL"; sleep 5; done',
  ];
  for (const exchange of p.exchanges) {
    lines.push(
      `echo "exchange ${exchange}"`,
      `api -X PUT ${json} --data '{"type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}' "$MANAGEMENT_URL/api/exchanges/%2F/${exchange}"`,
    );
  }
  for (const c of consumers) {
    lines.push(
      `echo "user ${c.service}"`,
      `printf '{"password":"%s","tags":""}' "$${consumerPasswordKey(c.service)}" | api -X PUT ${json} --data-binary @- "$MANAGEMENT_URL/api/users/${c.service}"`,
      `api -X PUT ${json} --data '{"configure":".*","write":".*","read":".*"}' "$MANAGEMENT_URL/api/permissions/%2F/${c.service}"`,
    );
  }
  return lines.join("\n");
}
