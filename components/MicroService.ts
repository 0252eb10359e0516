/**
 * MicroService: one ComponentResource that turns a service description into a complete, hardened
 * Kubernetes workload — the way every service of every platform is deployed.
 *
 * What it creates (all in `namespace`, all labelled with the recommended `app.kubernetes.io/*` set):
 * - a ServiceAccount of its own (API token not mounted unless asked for);
 * - a ConfigMap with the plain settings and the URLs of the services it calls;
 * - the workload: a Deployment, or a StatefulSet with one volume per replica when `persistence` is set;
 * - a Service (ClusterIP, or headless for a StatefulSet) with named ports;
 * - a HorizontalPodAutoscaler (autoscaling/v2) when the replica range allows scaling;
 * - a PodDisruptionBudget (policy/v1) that never blocks a node drain;
 * - a NetworkPolicy: in only from declared callers, out only to the services it calls, the data
 *   services it uses and DNS (the namespace denies everything else, see PlatformNamespace);
 * - per service it calls, an additive NetworkPolicy in the callee's namespace admitting this one;
 * - optionally a migration Job that must succeed before the workload rolls out.
 *
 * Relations are stated once, by the side that has them (`calls`, `uses`), with objects rather than
 * names; that side creates what the relation needs on both ends.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
  ComponentArgsError,
  childName,
  egressPolicyMetadata,
  dnsEgressRule,
  domainKey,
  egressPeerRule,
  externalEgressRules,
  gated,
  imageReferenceProblem,
  ipv4CidrProblem,
  LABEL,
  labelDomainProblem,
  namespaceInputProblem,
  labelValue,
  podPeer,
  providerProblems,
  resourceProblems,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  scratchVolumes,
  secretKeyFile,
  selectorLabels,
  serviceHost,
  shown,
  splitDependsOn,
  stableHash,
  standardLabels,
  standardProbes,
  statefulOptions,
  stageProblem,
  typeToken,
  withDependsOn,
  type ContainerResources,
  type EgressPeer,
  type ExternalEgress,
  type Gate,
  type LabelDomainArgs,
  type ProbeTiming,
  type Stage,
} from "./lib";
import { amountsOf, surgePods } from "./capacity";
import { createQueueScaling, queueScalingProblems, type QueueScaling } from "./queue-scaling";
import { checksBeforeChildren, type ServiceFacts } from "./platform-scope";
import { EnvClaims, outputProblems, useEntries, useProblems } from "./workload-relations";

/** @deprecated Use `Stage` (one stage type for every component). */
export type MicroServiceStage = Stage;
export type MicroServiceProtocol = "http" | "grpc";

/**
 * How to reach a service: plain data, so it can also describe a service of another stack (from a
 * StackReference, or written out). `MicroService.endpoint` is this for a service of this stack.
 */
export interface ServiceEndpoint {
  /** Service name (its Kubernetes Service and pod `app.kubernetes.io/name`). Example: `"python-risk-engine"`. */
  name: string;
  /** Namespace of the service. Example: `"trading"` or `ns.name`. */
  namespace: pulumi.Input<string>;
  /** Port it serves on. Example: `8000`. */
  port: number;
  /** `http` gets an `http://` URL, `grpc` a bare `host:port` target. */
  protocol: MicroServiceProtocol;
  /**
   * What a caller's workload and migration wait for before they start: the callee's workload (a
   * Deployment or StatefulSet is created only once it is ready). Set on `MicroService.endpoint`;
   * omitted for a service of another stack, which is deployed on its own schedule. Default: none.
   */
  ready?: pulumi.Resource;
}

/** A service this one calls. */
export interface MicroServiceCall {
  /** The callee. Example: `riskEngine.endpoint`, or `{ name: "ledger", namespace: "payments", port: 8080, protocol: "http" }`. */
  endpoint: ServiceEndpoint;
  /** Env var that receives the callee's URL (through the ConfigMap). Example: `"RISK_ENGINE_URL"`. */
  env: string;
  /**
   * Whether this service creates the NetworkPolicy in the callee's namespace that admits it. Set
   * `false` when the callee belongs to another team, whose namespace this stack has no rights in:
   * that team then admits this service itself (the callee's `callers`, or a policy of its own),
   * and until it does the call is refused by the callee's default deny. This service's egress and
   * URL are unchanged. Default: `true`.
   */
  admission?: boolean;
}

/**
 * A data service used under an env var name of this service's choosing: for two stores of one kind
 * (two databases: `DATABASE_URL` cannot hold both), or a name the application already reads.
 */
export interface MicroServiceUse {
  /** The data service. Example: `eventsDb`. */
  store: DataServiceForConsumers;
  /** Env var that receives the connection URL (from the store's Secret key `connectionEnv`). Example: `"EVENTS_DATABASE_URL"`. */
  env: string;
}

/**
 * What a data service offers the services that use it. ManagedPostgres, RedisCache and MessageBroker
 * all provide it, whatever their backend, so a consumer is written the same way against each.
 */
export interface DataServiceForConsumers {
  /** Env var the connection URL goes to, the key of that name in each consumer's Secret. Example: `"DATABASE_URL"`. */
  readonly connectionEnv: string;
  /** Connection Secret per consumer service name (in the consumer's namespace). */
  readonly connectionSecretNames: Record<string, string>;
  /** Namespace of each consumer's connection Secret, by consumer service name: the consumer must run there. */
  readonly consumerNamespaces: Record<string, pulumi.Input<string>>;
  /** How consumers reach the server, for their egress NetworkPolicy (its namespace may be an Output). */
  readonly egressPeer: EgressPeer<pulumi.Input<string>>;
  /** A single key of a Secret to mount as a file: the server's CA, which the URL names. Default: none. */
  readonly serverCa?: { secretName: string; key: string; mountPath: string };
  /** What consumers' workloads and migrations wait for: the server up, their roles and their Secrets in place. */
  readonly ready: pulumi.Resource;
}

/** Traffic allowed in from another namespace (the gateway, the monitoring stack). */
export interface MicroServiceIngressFrom {
  /** Source namespace. Example: `"envoy-gateway-system"`. */
  namespace: string;
  /** Only pods with these labels in that namespace. Default: every pod of the namespace. Example: `{ "app.kubernetes.io/name": "prometheus" }`. */
  podLabels?: Record<string, string>;
  /** Which port they may reach: the service port or the metrics port. */
  port: "service" | "metrics";
}

/** Egress to something that is neither a MicroService nor a data service component: pods by name, or address ranges. */
export type MicroServiceEgress =
  | {
      /** Pods of a workload labelled with `selectorLabels(name)`. Example: `{ name: "postgres", namespace: "data" }` (namespace default: this service's). */
      pod: { name: string; namespace?: string };
      /** TCP port. Example: `5432`. */
      port: number;
    }
  | {
      /** IPv4 CIDR blocks (for example the private subnets of an RDS instance). Example: `["10.30.0.0/19"]`. */
      cidrs: string[];
      /** TCP port. Example: `6379`. */
      port: number;
    };

/**
 * Name of the port Prometheus scrapes: `metrics` when metrics have their own port, else the service
 * port's name (the protocol). Undefined when metrics are off. Exported so callers that build
 * ServiceMonitors before the component's Outputs resolve use the same rule.
 */
export function metricsPortNameFor(
  args: Pick<MicroServiceArgs, "port" | "protocol" | "metrics">,
): string | undefined {
  if (args.metrics?.enabled === false) return undefined;
  const port = args.metrics?.port ?? args.port;
  return port !== args.port ? "metrics" : args.protocol;
}

/** Annotation carrying why a production StatefulSet runs a single replica (see `singleton`). */
export const singletonAnnotation = (labelDomain?: string): string =>
  domainKey(labelDomain, "singleton-reason");

export interface MicroServiceArgs extends LabelDomainArgs {
  /**
   * Namespace to deploy into. Pass the namespace's Output (for example `PlatformNamespace.name`) so
   * that every child waits for the namespace to exist: the component's `dependsOn` holds back only
   * the workload and the migration (see the class doc). Example: `ns.name` or `"fintech"`.
   */
  namespace: pulumi.Input<string>;
  /**
   * Kubernetes name of the Service, workload and every other object. Default: the component's name.
   * Set it when two stacks' component names would collide. Example: `"backend-api"`.
   */
  serviceName?: string;
  /** Platform/catalog the service belongs to (label `app.kubernetes.io/part-of`). Default: none (`platform`). Example: `"fintech"`. */
  platform?: string;
  /**
   * Stage profile. `production` requires `replicas.max` ≥ 2; `local` relaxes zone spreading (see
   * `zoneSpread`). Default: none (production-grade behaviour, no stage label). Example: `"staging"`.
   */
  stage?: Stage;
  /** Value of `app.kubernetes.io/component`. Default: `"server"`. Example: `"vector-store"`. */
  component?: string;
  /**
   * Full, pinned image reference: `repository:tag` or `repository@sha256:<digest>`. Empty, untagged
   * and `:latest` references are rejected because they deploy different code from the same program.
   * Building images is not this component's job: pass the reference a build produced, for example
   * `ContainerImage.imageRef` (an Output). A plain string is checked before anything is created; an
   * Output once its value is known, before any child registers (the children wait for the check), with
   * the same message. Example: `"ghcr.io/acme-fintech/backend-api:2.3.0"` or `image.imageRef`.
   */
  image: pulumi.Input<string>;
  /** Port the container serves on (1024–65535: the container runs without privileges). Example: `3000`. */
  port: number;
  /** `http` (HTTP probes on the health paths) or `grpc` (gRPC health-protocol probes on `port`). */
  protocol: MicroServiceProtocol;
  /**
   * Where Prometheus scrapes. Default: `{ enabled: true, path: "/metrics" }` on the service port.
   * A gRPC service must name a separate HTTP `port`. Example: `{ enabled: true, port: 9101 }`.
   */
  metrics?: { enabled: boolean; port?: number; path?: string };
  /**
   * Probe paths and timings. Paths apply to HTTP services only (gRPC probes use the health protocol,
   * which has no path). Default: every probe on `/health`, timings from `standardProbes`.
   * Example: `{ livenessPath: "/healthz", readinessPath: "/ready", startup: { failureThreshold: 120 } }`.
   */
  health?: {
    livenessPath?: string;
    readinessPath?: string;
    startupPath?: string;
    startup?: ProbeTiming;
    liveness?: ProbeTiming;
    readiness?: ProbeTiming;
  };
  /**
   * Replica range. `max > min` creates an HPA and leaves `replicas` off the workload so the two never
   * fight; `min === max` fixes the count. min > max is an error, and so is max < 2 in production.
   * Example: `{ min: 2, max: 10 }`.
   */
  replicas: { min: number; max: number };
  /**
   * HPA targets in percent of the container requests, and optionally a queue whose depth also scales
   * the service (a queue consumer that serves a port too): then a KEDA ScaledObject with the queue
   * trigger and these targets replaces the HPA (KEDA must be installed; see `Worker` and
   * docs/library.md). Default: `{ cpuUtilization: 70, memoryUtilization: 80 }`, no queue.
   * Example: `{ queue: { broker, queueName: "notifications" } }`.
   */
  autoscaling?: { cpuUtilization?: number; memoryUtilization?: number; queue?: QueueScaling };
  /** Requests and limits of the container (requests may not exceed limits). Example: `{ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } }`. */
  resources: ContainerResources;
  /** Plain settings, delivered through a ConfigMap (never secrets). Default: `{}`. Example: `{ LOG_LEVEL: "info" }`. */
  env?: Record<string, string>;
  /**
   * Secret settings, delivered only as `secretKeyRef` to existing Secrets (pass `secret.metadata.name`
   * to make the workload wait for the Secret). Default: `{}`.
   * Example: `{ JWT_SECRET: { secretName: "fintech-jwt-secret", key: "value" } }`.
   */
  secretEnv?: Record<string, { secretName: pulumi.Input<string>; key: string }>;
  /**
   * Single keys of Secrets mounted read-only as files (`<mountPath>/<key>`), in the workload and its
   * migration Job: only the named key is projected, never the rest of the Secret. Default: `[]`.
   * Example: `[{ secretName: "trading-postgres-ca", key: "ca.crt", mountPath: "/etc/platform/postgres-ca" }]`
   * (a database's CA, which the DATABASE_URL's `sslrootcert` names).
   */
  secretFiles?: { secretName: string; key: string; mountPath: string }[];
  /**
   * Services this one calls, stated once here: each call gives the URL env var, this service's egress
   * rule, an additive NetworkPolicy in the callee's namespace that admits this service's pods on the
   * callee's port, and the start order (the workload and migration wait for the callee's workload).
   * Pass `callee.endpoint` for a MicroService of this stack, or a `ServiceEndpoint` literal for one in
   * another stack. Default: `[]`. Example: `[{ endpoint: riskEngine.endpoint, env: "RISK_ENGINE_URL" }]`.
   */
  calls?: MicroServiceCall[];
  /**
   * Data services this one uses, stated once here: each gives its connection Secret as an env var
   * (`connectionEnv`: `DATABASE_URL`, `REDIS_URL`, `RABBITMQ_URL`), the server's CA file when it has
   * one, the egress rule, and the start order (the workload and migration wait for the store's `ready`
   * gate). The store must list this service among its `consumers`, in this service's namespace (that
   * is where its role, Secret and ingress rule come from); anything else is an error naming both.
   * Pass the store object itself: a copy or a literal is refused. `{ store, env }` delivers the URL
   * under another env var name, so a service can use two stores of one kind. Default: `[]`.
   * Example: `[ordersDb, sessionCache, { store: eventsDb, env: "EVENTS_DATABASE_URL" }]`.
   */
  uses?: (DataServiceForConsumers | MicroServiceUse)[];
  /**
   * Callers in the same namespace admitted on the service port by name, for callers that live in
   * another stack (callers in this stack state the call themselves, with `calls`). Default: `[]`.
   * Example: `["backend-api"]`.
   */
  callers?: string[];
  /** Other namespaces allowed in (gateway on the service port, monitoring on the metrics port). Default: `[]`. */
  ingressFrom?: MicroServiceIngressFrom[];
  /**
   * Other destinations this one reaches (in-cluster pods or CIDRs) that are neither a MicroService
   * (`calls`) nor a data service component (`uses`). DNS is always allowed. Default: `[]`.
   */
  egress?: MicroServiceEgress[];
  /**
   * Endpoints outside the cluster the service calls, with why. Each declared port is opened to public
   * addresses only (never private, link-local or metadata ranges: see `externalEgressRules`), and the
   * hosts are recorded on the NetworkPolicy (annotation `<labelDomain>/external-egress`). Not
   * given to the migration Job. Default: `[]` (no egress beyond the cluster).
   * Example: `[{ host: "api.stripe.com", port: 443, reason: "card payments" }]`.
   */
  externalEgress?: ExternalEgress[];
  /**
   * A volume per replica, which makes the workload a StatefulSet behind a headless Service. Such a
   * workload is not autoscaled (`replicas.min` must equal `replicas.max`): scaling in would strand a
   * replica's volume and data. Default: none (a Deployment). Example: `{ size: "10Gi", mountPath: "/chroma/chroma" }`.
   */
  persistence?: { size: string; mountPath: string; storageClassName?: string };
  /**
   * Explicit opt-out of the production replica floor for a single-writer store that cannot run a
   * second replica (each replica would hold its own, diverging copy). Needs `persistence` and
   * `replicas: { min: 1, max: 1 }`; the reason is recorded on the workload as the annotation
   * `<labelDomain>/singleton-reason`, so reviewers and policy see why. Default: none.
   * Example: `{ reason: "ChromaDB runs as a single-node server" }`.
   */
  singleton?: { reason: string };
  /**
   * Pulumi `protect` + `retainOnDelete` on the StatefulSet (its volumes are kept by the StatefulSet's
   * retention policy either way). Ignored without `persistence`, so a stage profile's flag can be passed
   * to every service. Default: `false`. Example: `true` in production.
   */
  protect?: boolean;
  /** Writable directories (emptyDir) under the read-only root filesystem. Default: `["/tmp"]`. Example: `["/tmp", "/app/.cache"]`. */
  writablePaths?: string[];
  /** Non-root UID and GID the container runs as. Default: `1000`. Example: `65532`. */
  runAsUser?: number;
  /** Mount a Kubernetes API token (only for services that call the API). Default: `false`. */
  automountServiceAccountToken?: boolean;
  /**
   * Migration run as a Job before the workload rolls out, with the container's image, settings and
   * secrets. The Job is named after a hash of image and command, so each new release runs it once.
   * Default: none. Example: `{ command: ["alembic", "upgrade", "head"], timeoutSeconds: 600 }`.
   */
  migration?: { command: string[]; timeoutSeconds?: number };
  /**
   * Zone spreading. `required` keeps replicas out of an over-full zone (DoNotSchedule); `preferred`
   * only tries (ScheduleAnyway), which single-zone clusters need. Node spreading is always preferred.
   * Default: `preferred` on `local`, `required` otherwise.
   */
  zoneSpread?: "required" | "preferred";
  /**
   * Graceful shutdown: the preStop hook sleeps `drainSeconds` so endpoints and load balancers stop
   * sending traffic before SIGTERM; the pod then has the rest of `gracePeriodSeconds` to finish.
   * Default: `{ drainSeconds: 5, gracePeriodSeconds: 30 }`.
   */
  shutdown?: { drainSeconds?: number; gracePeriodSeconds?: number };
}

/**
 * What the shared workload steps build from: a MicroService's args, or a Worker's (no serving port;
 * health by a command or on the metrics port; may scale on a queue's depth). Not part of the
 * public contract: each component validates its own args before they get here.
 * @internal
 */
export interface WorkloadArgs extends Omit<MicroServiceArgs, "port" | "protocol" | "health"> {
  port?: number;
  protocol?: MicroServiceProtocol;
  health?: MicroServiceArgs["health"] & { exec?: string[] };
}

/** What `buildWorkload` creates, for the component that owns it to expose. @internal */
export interface BuiltWorkload {
  spec: Spec;
  serviceAccount: k8s.core.v1.ServiceAccount;
  configMap: k8s.core.v1.ConfigMap;
  migrationJob?: k8s.batch.v1.Job;
  networkPolicy: k8s.networking.v1.NetworkPolicy;
  callerAdmissions: k8s.networking.v1.NetworkPolicy[];
  service?: k8s.core.v1.Service;
  workload: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet;
  autoscaler?: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  queueScaling?: ReturnType<typeof createQueueScaling>;
  podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;
}

/**
 * A hardened microservice workload with its Service, autoscaling, disruption budget, network policy,
 * configuration and migration.
 *
 * Ordering contract: `opts.dependsOn`, the `ready` gates of the data services in `uses` and of the
 * endpoints in `calls` hold back only the migration Job and the workload. The component registers
 * itself without them and hands them to exactly those two children, so the ServiceAccount,
 * ConfigMap, Service, PDB, HPA and NetworkPolicies are created in parallel with the things this
 * service waits for. (Pulumi's Node SDK does not pass a component's `dependsOn` to its children
 * anyway; the point is that it reaches the two that need it.) Conversely, anything that depends ON a
 * MicroService waits for all its children, including a healthy rollout.
 *
 * Inside the component, the workload waits for what its pods need to start (ConfigMap and
 * ServiceAccount through their names, its NetworkPolicy and the migration explicitly); the Job waits
 * for its own NetworkPolicy. Pass `namespace` (and Secret names) as Outputs so every child that
 * needs them waits for them without widening `dependsOn`.
 */
export class MicroService extends pulumi.ComponentResource {
  /** Name of the Kubernetes Service (also the workload's). */
  public readonly serviceName: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  /** In-cluster URL: `http://<svc>.<ns>.svc.cluster.local:<port>` (HTTP) or `<svc>.<ns>.svc.cluster.local:<port>` (gRPC target). */
  public readonly url: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** What another service passes in `calls` to call this one (its `ready` is this service's workload). */
  public readonly endpoint: ServiceEndpoint;
  /** Port Prometheus scrapes, or undefined when metrics are disabled. */
  public readonly metricsPort: pulumi.Output<number | undefined>;
  /** Path Prometheus scrapes, or undefined when metrics are disabled. */
  public readonly metricsPath: pulumi.Output<string | undefined>;
  /** Name of the Service port that serves metrics (`metrics`, or `http` when shared with the service port); undefined when disabled. */
  public readonly metricsPortName: pulumi.Output<string | undefined>;
  /** Labels selecting this service's pods (for ServiceMonitors and other NetworkPolicies). */
  public readonly selectorLabels: pulumi.Output<Record<string, string>>;
  public readonly workloadKind: pulumi.Output<"Deployment" | "StatefulSet">;
  public readonly workload: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet;
  public readonly service: k8s.core.v1.Service;
  public readonly serviceAccount: k8s.core.v1.ServiceAccount;
  public readonly configMap: k8s.core.v1.ConfigMap;
  public readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  /** Per service called, the NetworkPolicy in its namespace that admits this one. */
  public readonly callerAdmissions: k8s.networking.v1.NetworkPolicy[];
  public readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;
  /** The HPA, when `replicas.max > replicas.min` on a Deployment without `autoscaling.queue`. */
  public readonly autoscaler?: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  /** KEDA's ScaledObject and TriggerAuthentication, when it scales on `autoscaling.queue`. */
  public readonly scaledObject?: k8s.apiextensions.CustomResource;
  public readonly triggerAuthentication?: k8s.apiextensions.CustomResource;
  /** The migration Job, when `migration` is set. */
  public readonly migrationJob?: k8s.batch.v1.Job;

  constructor(name: string, args: MicroServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const { options, dependsOn } = splitDependsOn(opts);
    const problems = [...providerProblems(opts, "kubernetes"), ...microServiceProblems(name, args)];
    if (problems.length > 0) throw new ComponentArgsError("MicroService", name, problems);
    super(typeToken("MicroService"), name, {}, options);

    const facts = scopeFacts(name, args, "MicroService");
    const gate = checksBeforeChildren("MicroService", name, facts, () =>
      outputProblems(args.serviceName ?? name, args),
    );
    const built = buildWorkload(name, args, dependsOn, this, gate);
    const spec = built.spec;
    facts.output = spec.ns;
    this.serviceAccount = built.serviceAccount;
    this.configMap = built.configMap;
    this.migrationJob = built.migrationJob;
    this.networkPolicy = built.networkPolicy;
    this.callerAdmissions = built.callerAdmissions;
    this.service = built.service!;
    this.workload = built.workload;
    this.autoscaler = built.autoscaler;
    this.scaledObject = built.queueScaling?.scaledObject;
    this.triggerAuthentication = built.queueScaling?.triggerAuthentication;
    this.podDisruptionBudget = built.podDisruptionBudget;

    this.serviceName = pulumi.output(spec.serviceName);
    this.namespace = spec.ns;
    this.url = dependencyUrl({ name: spec.serviceName, port: args.port, protocol: args.protocol }, spec.ns);
    this.port = pulumi.output(args.port);
    this.endpoint = {
      name: spec.serviceName,
      namespace: spec.ns,
      port: args.port,
      protocol: args.protocol,
      ready: this.workload,
    };
    this.metricsPort = pulumi.output(spec.metrics?.port);
    this.metricsPath = pulumi.output(spec.metrics?.path);
    this.metricsPortName = pulumi.output(metricsPortNameFor(args));
    this.selectorLabels = pulumi.output(spec.selector);
    this.workloadKind = pulumi.output(spec.persistence ? ("StatefulSet" as const) : ("Deployment" as const));
    this.registerOutputs({
      serviceName: this.serviceName,
      namespace: this.namespace,
      url: this.url,
      port: this.port,
      metricsPort: this.metricsPort,
      metricsPath: this.metricsPath,
      metricsPortName: this.metricsPortName,
      selectorLabels: this.selectorLabels,
      workloadKind: this.workloadKind,
    });
  }
}

/**
 * The steps every long-running workload takes, MicroService's and Worker's alike: ServiceAccount,
 * ConfigMap, migration, NetworkPolicies, Service (the serving port, and the metrics port when it is
 * separate: none at all for a worker without metrics), the workload, its autoscaling (an HPA, or a
 * KEDA ScaledObject when it scales on a queue) and its disruption budget. Only valid args get here.
 * @internal
 */
export function buildWorkload(
  name: string,
  args: WorkloadArgs,
  dependsOn: pulumi.ComponentResourceOptions["dependsOn"],
  parent: pulumi.ComponentResource,
  gate: Gate,
): BuiltWorkload {
  const spec = normalize(name, args, dependsOn, parent, gate);
  const serviceAccount = createServiceAccount(spec);
  const settings = configData(spec);
  const configMap = createConfig(spec, settings);
  const pod = podEnvironment(spec, configMap, settings);
  const migrationJob = spec.migration ? createMigration(spec, pod, serviceAccount) : undefined;
  const networkPolicy = createNetworkPolicy(spec, pod);
  const callerAdmissions = createCallerAdmissions(spec);
  const service = spec.port !== undefined || spec.metrics ? createService(spec) : undefined;
  const workload = createWorkload(spec, pod, {
    serviceAccount,
    service,
    waitFor: [networkPolicy, ...(migrationJob ? [migrationJob] : [])],
  });
  const queue = spec.autoscaled ? spec.queue : undefined;
  return {
    spec,
    serviceAccount,
    configMap,
    migrationJob,
    networkPolicy,
    callerAdmissions,
    service,
    workload,
    autoscaler: spec.autoscaled && !queue ? createAutoscaling(spec) : undefined,
    queueScaling: queue
      ? createQueueScaling({
          ...spec,
          queue,
          secret: {
            name: queue.broker.connectionSecretNames[spec.serviceName]!,
            key: queue.broker.connectionEnv,
          },
        })
      : undefined,
    podDisruptionBudget: createDisruptionBudget(spec),
  };
}

/** In-cluster address of a service: an `http://` URL for HTTP, a bare `host:port` target for gRPC. */
export function dependencyUrl(
  d: { name: string; port: number; protocol: MicroServiceProtocol },
  namespace: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.output(namespace).apply((ns) => {
    const address = `${serviceHost(d.name, ns)}:${d.port}`;
    return d.protocol === "http" ? `http://${address}` : address;
  });
}

// ---------------------------------------------------------------------------------------------------
// The steps
// ---------------------------------------------------------------------------------------------------

/** Everything the steps share: args with defaults applied, labels, the relations resolved. */
type Spec = ReturnType<typeof normalize>;
/** What the workload and the migration Job share: settings, secrets, volumes, egress. */
type PodEnvironment = ReturnType<typeof podEnvironment>;

/** The args with every default applied, plus the labels, metadata and relations every step uses. */
function normalize(
  name: string,
  args: WorkloadArgs,
  dependsOn: pulumi.ComponentResourceOptions["dependsOn"],
  parent: pulumi.ComponentResource,
  gate: Gate,
) {
  const c = resolve(name, args);
  const ns = pulumi.output(args.namespace);
  const labels = standardLabels({
    name: c.serviceName,
    component: c.component,
    platform: args.platform,
    stage: args.stage,
    labelDomain: args.labelDomain,
  });
  const meta = (
    objectName: pulumi.Input<string>,
    objectLabels: Record<string, pulumi.Input<string>> = labels,
  ) => ({
    name: objectName,
    namespace: ns,
    labels: objectLabels,
  });
  // What the workload and migration wait for: the caller's dependsOn, then the relations' gates.
  const gates = [
    ...c.uses.map((use) => use.store.ready),
    ...c.calls.flatMap((call) => (call.endpoint.ready ? [call.endpoint.ready] : [])),
  ];
  return {
    ...c,
    name,
    labelDomain: args.labelDomain,
    singleton: args.singleton,
    ns,
    labels,
    // The version label changes with every release, so only objects that change with the image carry it.
    versionedLabels: { ...labels, [LABEL.version]: c.version },
    selector: selectorLabels(c.serviceName),
    meta,
    waitFor: (...own: pulumi.Resource[]) => gated(withDependsOn(dependsOn, ...gates, ...own), gate),
    child: { parent, dependsOn: gated([], gate) } as pulumi.CustomResourceOptions,
  };
}

function createServiceAccount(spec: Spec): k8s.core.v1.ServiceAccount {
  return new k8s.core.v1.ServiceAccount(
    childName(spec.name, "sa"),
    { metadata: spec.meta(spec.serviceName), automountServiceAccountToken: spec.automountToken },
    spec.child,
  );
}

/** The plain settings and the URL of every service called: what the ConfigMap holds. */
function configData(spec: Spec): pulumi.Output<Record<string, string>> {
  return pulumi
    .output(
      spec.calls.map((call) => ({
        env: call.env,
        url: dependencyUrl(call.endpoint, call.endpoint.namespace),
      })),
    )
    .apply((urls) => ({ ...spec.env, ...Object.fromEntries(urls.map((u) => [u.env, u.url])) }));
}

function createConfig(spec: Spec, data: pulumi.Output<Record<string, string>>): k8s.core.v1.ConfigMap {
  return new k8s.core.v1.ConfigMap(
    childName(spec.name, "env"),
    { metadata: spec.meta(childName(spec.serviceName, "env")), data },
    spec.child,
  );
}

/** Settings, secrets, files, scratch space and egress: shared by the workload and the migration Job. */
function podEnvironment(
  spec: Spec,
  configMap: k8s.core.v1.ConfigMap,
  settings: pulumi.Output<Record<string, string>>,
) {
  const connectionEnv = Object.fromEntries(
    spec.uses.map(({ store, env }) => [
      env,
      { secretName: store.connectionSecretNames[spec.serviceName]!, key: store.connectionEnv },
    ]),
  );
  const secretEnv: k8s.types.input.core.v1.EnvVar[] = Object.entries({
    ...spec.secretEnv,
    ...connectionEnv,
  }).map(([envName, ref]) => ({
    name: envName,
    valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } },
  }));
  const scratch = scratchVolumes(spec.writablePaths);
  const files = secretFileVolumes([
    ...spec.secretFiles,
    ...spec.uses.flatMap(({ store }) => (store.serverCa ? [store.serverCa] : [])),
  ]);
  return {
    envFrom: [{ configMapRef: { name: configMap.metadata.name } }] as k8s.types.input.core.v1.EnvFromSource[],
    secretEnv,
    volumes: [...scratch.volumes, ...files.volumes],
    scratchMounts: scratch.mounts,
    fileMounts: files.mounts,
    egressRules: podEgressRules(spec),
    // ConfigMap edits do not restart pods by themselves; a changed checksum rolls them.
    configChecksum: settings.apply(stableHash),
  };
}

/**
 * The migration: same image, settings and secrets, no ports, no probes; only DNS and the data
 * services out. Its pods are a different instance, so the Service never routes to them.
 */
function createMigration(
  spec: Spec,
  pod: PodEnvironment,
  serviceAccount: k8s.core.v1.ServiceAccount,
): k8s.batch.v1.Job {
  const migration = spec.migration!;
  const instance = childName(spec.serviceName, "migration");
  const migrationSelector = { [LABEL.name]: spec.serviceName, [LABEL.instance]: instance };
  const migrationLabels = { ...spec.versionedLabels, ...migrationSelector, [LABEL.component]: "migration" };
  const migrationPolicy = new k8s.networking.v1.NetworkPolicy(
    childName(spec.name, "migration-netpol"),
    {
      metadata: spec.meta(instance, migrationLabels),
      // No `ingress` key at all: policyTypes Ingress with no rules already denies everything, and
      // the API server drops an empty list, so sending `[]` would show as a change on every apply.
      spec: {
        podSelector: { matchLabels: migrationSelector },
        policyTypes: ["Ingress", "Egress"],
        egress: [dnsEgressRule(), ...pod.egressRules],
      },
    },
    spec.child,
  );
  return new k8s.batch.v1.Job(
    childName(spec.name, "migrate"),
    {
      metadata: spec.meta(migration.jobName, migrationLabels),
      spec: {
        // No ttlSecondsAfterFinished: a Job the cluster deletes by itself would show up as drift.
        backoffLimit: 2,
        activeDeadlineSeconds: migration.timeoutSeconds,
        template: {
          metadata: { labels: migrationLabels },
          spec: {
            restartPolicy: "Never",
            serviceAccountName: serviceAccount.metadata.name,
            automountServiceAccountToken: spec.automountToken,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurityContext(spec.runAsUser),
            containers: [
              {
                name: "migrate",
                image: spec.image,
                imagePullPolicy: "IfNotPresent",
                command: migration.command,
                envFrom: pod.envFrom,
                env: pod.secretEnv,
                resources: spec.resources,
                securityContext: restrictedContainerSecurityContext(spec.runAsUser),
                volumeMounts: [...pod.scratchMounts, ...pod.fileMounts],
                terminationMessagePolicy: "FallbackToLogsOnError",
              },
            ],
            volumes: pod.volumes,
          },
        },
      },
    },
    {
      ...spec.child,
      dependsOn: spec.waitFor(migrationPolicy),
      // Pulumi waits for the Job to succeed; give it as long as the Job may run (its default is 10 minutes).
      customTimeouts: { create: migration.awaitTimeout, update: migration.awaitTimeout },
    },
  );
}

/**
 * A pod peer for `name`'s pods in `peerNamespace`, seen from a policy in `policyNamespace`: the pod
 * selector alone when both are the same namespace, else with the namespace selector.
 */
function podPeerFrom(
  name: string,
  peerNamespace: pulumi.Input<string>,
  policyNamespace: pulumi.Input<string>,
): pulumi.Output<k8s.types.input.networking.v1.NetworkPolicyPeer> {
  return pulumi
    .all([peerNamespace, policyNamespace])
    .apply(([peer, own]) => podPeer(name, peer === own ? undefined : peer));
}

/** The service pods' own policy: in from declared callers, out to DNS, callees, data services and declared endpoints. */
function createNetworkPolicy(spec: Spec, pod: PodEnvironment): k8s.networking.v1.NetworkPolicy {
  const portRule = (from: k8s.types.input.networking.v1.NetworkPolicyPeer[], port: number) => ({
    from,
    ports: [{ protocol: "TCP", port }],
  });
  const servicePort = spec.port;
  const ingressRules: k8s.types.input.networking.v1.NetworkPolicyIngressRule[] = [
    ...(spec.callers.length > 0 && servicePort !== undefined
      ? [
          portRule(
            spec.callers.map((caller) => podPeer(caller)),
            servicePort,
          ),
        ]
      : []),
    // A worker has no service port: its `ingressFrom` entries are all for the metrics port.
    ...spec.ingressFrom.map((i) =>
      portRule(
        [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": i.namespace } },
            ...(i.podLabels ? { podSelector: { matchLabels: i.podLabels } } : {}),
          },
        ],
        (i.port === "metrics" ? (spec.metrics?.port ?? servicePort) : servicePort)!,
      ),
    ),
  ];
  const calleeRules = spec.calls.map(({ endpoint }) => ({
    to: [podPeerFrom(endpoint.name, endpoint.namespace, spec.ns)],
    ports: [{ protocol: "TCP", port: endpoint.port }],
  }));
  return new k8s.networking.v1.NetworkPolicy(
    childName(spec.name, "netpol"),
    {
      metadata: egressPolicyMetadata(spec.meta(spec.serviceName), spec.externalEgress, spec.labelDomain),
      spec: {
        podSelector: { matchLabels: spec.selector },
        policyTypes: ["Ingress", "Egress"],
        // Omitted when empty (deny all in): the API server drops an empty list, which would
        // otherwise be a perpetual diff.
        ...(ingressRules.length > 0 ? { ingress: ingressRules } : {}),
        egress: [
          dnsEgressRule(),
          ...calleeRules,
          ...pod.egressRules,
          ...externalEgressRules(spec.externalEgress),
        ],
      },
    },
    spec.child,
  );
}

/** The egress rules to declared endpoints and used data services (the Job's as well as the pods'). */
function podEgressRules(spec: Spec): k8s.types.input.networking.v1.NetworkPolicyEgressRule[] {
  return [
    ...spec.egress.map((e) =>
      "cidrs" in e
        ? { to: e.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: e.port }] }
        : { to: [podPeer(e.pod.name, e.pod.namespace)], ports: [{ protocol: "TCP", port: e.port }] },
    ),
    ...spec.uses.map(({ store }) => egressPeerRule(store.egressPeer)),
  ];
}

/**
 * The callee's half of each call: an additive NetworkPolicy in the callee's namespace that admits
 * this service's pods on the callee's port. Policies add up, so it opens exactly this flow in the
 * callee's default-deny namespace; it belongs to (and is deleted with) the caller.
 */
function createCallerAdmissions(spec: Spec): k8s.networking.v1.NetworkPolicy[] {
  return spec.calls
    .filter((call) => call.admission !== false)
    .map(
      ({ endpoint }) =>
        new k8s.networking.v1.NetworkPolicy(
          childName(spec.name, `admit-to-${endpoint.name}`),
          {
            metadata: {
              name: `${endpoint.name}-from-${spec.serviceName}`,
              namespace: endpoint.namespace,
              labels: spec.labels,
            },
            spec: {
              podSelector: { matchLabels: selectorLabels(endpoint.name) },
              policyTypes: ["Ingress"],
              ingress: [
                {
                  from: [podPeerFrom(spec.serviceName, spec.ns, endpoint.namespace)],
                  ports: [{ protocol: "TCP", port: endpoint.port }],
                },
              ],
            },
          },
          spec.child,
        ),
    );
}

/** The Service's ports: the service port by protocol name, and `metrics` when it is separate. */
function servicePorts(spec: Spec): k8s.types.input.core.v1.ServicePort[] {
  return [
    // appProtocol tells Gateway API implementations to speak HTTP/2 cleartext to a gRPC backend.
    ...(spec.port !== undefined && spec.protocol
      ? [
          {
            name: spec.protocol,
            port: spec.port,
            targetPort: spec.protocol,
            protocol: "TCP",
            appProtocol: spec.protocol === "grpc" ? "kubernetes.io/h2c" : "http",
          },
        ]
      : []),
    ...(spec.metrics?.separate
      ? [
          {
            name: "metrics",
            port: spec.metrics.port,
            targetPort: "metrics",
            protocol: "TCP",
            appProtocol: "http",
          },
        ]
      : []),
  ];
}

/**
 * ClusterIP for a Deployment; headless (stable pod names) for a StatefulSet. A worker's carries only
 * its metrics port, for monitoring, and is named `<service>-metrics` so nobody mistakes it for an
 * address to call.
 */
function createService(spec: Spec): k8s.core.v1.Service {
  const ports = servicePorts(spec);
  return new k8s.core.v1.Service(
    childName(spec.name, "svc"),
    {
      metadata: spec.meta(
        spec.port === undefined ? childName(spec.serviceName, "metrics") : spec.serviceName,
      ),
      spec: spec.persistence
        ? { clusterIP: "None", selector: spec.selector, ports, publishNotReadyAddresses: false }
        : { type: "ClusterIP", selector: spec.selector, ports },
    },
    spec.child,
  );
}

/** The service's container: ports, probes, settings, secrets, hardening and a drain before SIGTERM. */
function serviceContainer(spec: Spec, pod: PodEnvironment): k8s.types.input.core.v1.Container {
  const ports: k8s.types.input.core.v1.ContainerPort[] = [
    ...(spec.port !== undefined && spec.protocol
      ? [{ name: spec.protocol, containerPort: spec.port, protocol: "TCP" }]
      : []),
    ...(spec.metrics?.separate
      ? [{ name: "metrics", containerPort: spec.metrics.port, protocol: "TCP" }]
      : []),
  ];
  const probes = standardProbes({
    check: probeCheck(spec),
    startupPath: spec.health.startupPath,
    readinessPath: spec.health.readinessPath,
    startup: spec.health.startup,
    liveness: spec.health.liveness,
    readiness: spec.health.readiness,
  });
  return {
    name: spec.serviceName,
    image: spec.image,
    imagePullPolicy: "IfNotPresent",
    ports,
    envFrom: pod.envFrom,
    env: pod.secretEnv,
    resources: spec.resources,
    securityContext: restrictedContainerSecurityContext(spec.runAsUser),
    ...probes,
    // The sleep action needs no shell or `sleep` binary in the image (distroless images have neither).
    lifecycle: { preStop: { sleep: { seconds: spec.drainSeconds } } },
    volumeMounts: [
      ...pod.scratchMounts,
      ...(spec.persistence ? [{ name: DATA_VOLUME, mountPath: spec.persistence.mountPath }] : []),
      ...pod.fileMounts,
    ],
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
}

/**
 * How the probes ask: the gRPC health protocol or an HTTP GET on the service port; for a worker, its
 * command (`health.exec`) or an HTTP GET on its metrics port.
 */
function probeCheck(spec: Spec): Parameters<typeof standardProbes>[0]["check"] {
  if (spec.health.exec) return { exec: { command: spec.health.exec } };
  if (spec.port === undefined) return { http: { path: spec.health.livenessPath, port: "metrics" } };
  return spec.protocol === "grpc"
    ? { grpc: { port: spec.port } }
    : { http: { path: spec.health.livenessPath, port: spec.protocol! } };
}

/** The volume claim template's (and the container mount's) name in a StatefulSet. */
const DATA_VOLUME = "data";

function podTemplate(
  spec: Spec,
  pod: PodEnvironment,
  serviceAccount: k8s.core.v1.ServiceAccount,
): k8s.types.input.core.v1.PodTemplateSpec {
  return {
    metadata: {
      labels: spec.versionedLabels,
      annotations: {
        [domainKey(spec.labelDomain, "config-checksum")]: pod.configChecksum,
        "kubectl.kubernetes.io/default-container": spec.serviceName,
      },
    },
    spec: {
      serviceAccountName: serviceAccount.metadata.name,
      automountServiceAccountToken: spec.automountToken,
      // Service links inject a variable per Service of the namespace: noise that can shadow real settings.
      enableServiceLinks: false,
      securityContext: restrictedPodSecurityContext(spec.runAsUser),
      terminationGracePeriodSeconds: spec.gracePeriodSeconds,
      containers: [serviceContainer(spec, pod)],
      volumes: pod.volumes,
      ...(spec.replicas.max > 1
        ? { topologySpreadConstraints: spreadConstraints(spec.selector, spec.zoneSpread, !spec.persistence) }
        : {}),
    },
  };
}

/** A StatefulSet with a volume per replica when `persistence` is set, else a zero-downtime Deployment. */
function createWorkload(
  spec: Spec,
  pod: PodEnvironment,
  deps: {
    serviceAccount: k8s.core.v1.ServiceAccount;
    service?: k8s.core.v1.Service;
    waitFor: pulumi.Resource[];
  },
): k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet {
  const template = podTemplate(spec, pod, deps.serviceAccount);
  const fixedReplicas = spec.autoscaled ? {} : { replicas: spec.replicas.min };
  const dependsOn = spec.waitFor(...deps.waitFor);
  if (!spec.persistence)
    return new k8s.apps.v1.Deployment(
      childName(spec.name, "deploy"),
      {
        metadata: {
          ...spec.meta(spec.serviceName, spec.versionedLabels),
          ...singletonMetadata(spec),
        },
        spec: {
          ...fixedReplicas,
          selector: { matchLabels: spec.selector },
          // Zero downtime: a new pod must be ready before an old one goes. A singleton worker is the
          // exception: two of it must never run at once, so the old pod stops before the new starts.
          strategy: spec.singleton
            ? { type: "Recreate" }
            : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
          progressDeadlineSeconds: 600,
          revisionHistoryLimit: 5,
          template,
        },
      },
      { ...spec.child, dependsOn },
    );
  return new k8s.apps.v1.StatefulSet(
    childName(spec.name, "sts"),
    {
      metadata: { ...spec.meta(spec.serviceName, spec.versionedLabels), ...singletonMetadata(spec) },
      spec: {
        ...fixedReplicas,
        serviceName: deps.service!.metadata.name,
        selector: { matchLabels: spec.selector },
        podManagementPolicy: "OrderedReady",
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
        revisionHistoryLimit: 5,
        // Volumes hold the data; deleting or scaling the StatefulSet must never delete them.
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        template,
        volumeClaimTemplates: [
          {
            metadata: { name: DATA_VOLUME, labels: spec.labels },
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: spec.persistence.size } },
              ...(spec.persistence.storageClassName
                ? { storageClassName: spec.persistence.storageClassName }
                : {}),
            },
          },
        ],
      },
    },
    { ...spec.child, dependsOn, ...statefulOptions(spec.protect) },
  );
}

/** Why a singleton runs one replica, on its workload (nothing for any other workload). */
function singletonMetadata(spec: Spec): { annotations?: Record<string, string> } {
  return spec.singleton
    ? { annotations: { [singletonAnnotation(spec.labelDomain)]: spec.singleton.reason } }
    : {};
}

/** CPU and memory targets; scale up at once, down only after five calm minutes (no flapping after a burst). */
function createAutoscaling(spec: Spec): k8s.autoscaling.v2.HorizontalPodAutoscaler {
  const utilization = (resource: "cpu" | "memory", averageUtilization: number) => ({
    type: "Resource",
    resource: { name: resource, target: { type: "Utilization", averageUtilization } },
  });
  return new k8s.autoscaling.v2.HorizontalPodAutoscaler(
    childName(spec.name, "hpa"),
    {
      metadata: spec.meta(spec.serviceName),
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: spec.serviceName },
        minReplicas: spec.replicas.min,
        maxReplicas: spec.replicas.max,
        metrics: [utilization("cpu", spec.cpuUtilization), utilization("memory", spec.memoryUtilization)],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      },
    },
    spec.child,
  );
}

/**
 * maxUnavailable 1 rather than minAvailable: a drain can always evict one pod (never blocked, even at
 * a single replica), and it stays right when the HPA has scaled above the floor. Unhealthy pods never
 * count against the budget, so a crash-looping pod cannot wedge a node drain.
 */
function createDisruptionBudget(spec: Spec): k8s.policy.v1.PodDisruptionBudget {
  return new k8s.policy.v1.PodDisruptionBudget(
    childName(spec.name, "pdb"),
    {
      metadata: spec.meta(spec.serviceName),
      spec: {
        selector: { matchLabels: spec.selector },
        maxUnavailable: 1,
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      },
    },
    spec.child,
  );
}

/** Spread across zones (required unless told otherwise) and nodes (preferred: a small node group must not strand pods). */
function spreadConstraints(
  selector: Record<string, string>,
  zoneSpread: "required" | "preferred",
  perRevision: boolean,
): k8s.types.input.core.v1.TopologySpreadConstraint[] {
  // Deployments count only pods of the same ReplicaSet, so a rollout's surge pods spread on their own.
  const revision = perRevision ? { matchLabelKeys: ["pod-template-hash"] } : {};
  return [
    {
      topologyKey: "topology.kubernetes.io/zone",
      maxSkew: 1,
      whenUnsatisfiable: zoneSpread === "required" ? "DoNotSchedule" : "ScheduleAnyway",
      labelSelector: { matchLabels: selector },
      ...revision,
    },
    {
      topologyKey: "kubernetes.io/hostname",
      maxSkew: 1,
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: selector },
      ...revision,
    },
  ];
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
/** Setting names that say "I am a credential": those belong in secretEnv. */
const SECRET_LIKE_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIALS?)$/i;
/** A URL with an embedded password (`scheme://user:pass@host`). */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;
const STORAGE_SIZE = /^[0-9]+(Mi|Gi|Ti)$/;
const MAX_SERVICE_NAME = 40;

const isWholeIn = (n: unknown, min: number, max: number): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;

/**
 * Every problem with the args, in one list (nothing is created when it is not empty): the one place
 * MicroService's args are validated, section by section.
 */
export function microServiceProblems(name: string, args: MicroServiceArgs): string[] {
  const queue = args.autoscaling?.queue;
  return workloadProblems(name, args, "MicroService", [
    ...portProblems(args, args.metrics ?? { enabled: true }),
    ...(queue
      ? queueScalingProblems(
          queue,
          args,
          useEntries(args.uses).map((u) => u.store),
        )
      : []),
  ]);
}

/**
 * The checks every workload kind shares, with the kind's own checks of its ports and health
 * (`own`) in their place in the list. @internal
 */
export function workloadProblems(
  name: string,
  args: WorkloadArgs,
  kind: "MicroService" | "Worker",
  own: string[],
): string[] {
  const serviceName = args.serviceName ?? name;
  const metrics = args.metrics ?? { enabled: true };
  const env = new EnvClaims();
  return [
    ...identityProblems(serviceName, args),
    ...own,
    ...probeTimingProblems(args),
    ...replicaProblems(args, kind),
    ...(!args.resources?.requests || !args.resources?.limits
      ? ["resources must give requests and limits for cpu and memory"]
      : resourceProblems("resources", args.resources)),
    ...settingProblems(args, env),
    ...callProblems(serviceName, args, env),
    ...useProblems(serviceName, args, env),
    ...env.problems,
    ...networkProblems(args, metrics),
    ...storageProblems(args),
    ...lifecycleProblems(args),
  ];
}

function identityProblems(serviceName: string, args: WorkloadArgs): string[] {
  const p: string[] = [];
  if (!DNS_LABEL.test(serviceName) || serviceName.length > MAX_SERVICE_NAME)
    p.push(
      `service name "${serviceName}" must be a DNS label of at most ${MAX_SERVICE_NAME} characters (lowercase letters, digits and "-", starting with a letter)`,
    );
  const namespaceProblem = namespaceInputProblem("namespace", args.namespace);
  if (namespaceProblem) p.push(namespaceProblem);
  const badStage = stageProblem(args.stage);
  if (badStage) p.push(badStage);
  if (args.component !== undefined && labelValue(args.component) !== args.component)
    p.push(`component "${args.component}" is not a valid label value`);
  const domainProblem = labelDomainProblem(args.labelDomain);
  if (domainProblem) p.push(domainProblem);
  // An Output (a build's digest) is checked once known, in `checkedImage`.
  if (typeof args.image === "string" || args.image === undefined || args.image === null) {
    const imageProblem = imageReferenceProblem(args.image ?? "");
    if (imageProblem) p.push(imageProblem);
  }
  return p;
}

const unprivilegedPortProblem = (where: string, port: unknown) =>
  isWholeIn(port, 1024, 65535)
    ? []
    : [
        `${where} must be a whole number from 1024 to 65535 (the container runs without privileges), found ${shown(port)}`,
      ];

function portProblems(args: MicroServiceArgs, metrics: NonNullable<MicroServiceArgs["metrics"]>): string[] {
  const p: string[] = [...unprivilegedPortProblem("port", args.port)];
  if (args.protocol !== "http" && args.protocol !== "grpc")
    p.push(`protocol must be "http" or "grpc", found ${JSON.stringify(args.protocol)}`);
  if (metrics.enabled) {
    if (metrics.port !== undefined) p.push(...unprivilegedPortProblem("metrics.port", metrics.port));
    if (metrics.path !== undefined && !metrics.path.startsWith("/"))
      p.push(`metrics.path must start with "/", found "${metrics.path}"`);
    if (args.protocol === "grpc" && (metrics.port === undefined || metrics.port === args.port))
      p.push(
        "metrics.port must be a separate HTTP port for a gRPC service: Prometheus scrapes over HTTP/1.1, which a gRPC port does not serve (or set metrics.enabled to false)",
      );
  }
  for (const key of ["livenessPath", "readinessPath", "startupPath"] as const) {
    const path = args.health?.[key];
    if (path !== undefined && !path.startsWith("/"))
      p.push(`health.${key} must start with "/", found "${path}"`);
  }
  return p;
}

/** Probe timings: whole seconds (or counts) in range. */
function probeTimingProblems(args: WorkloadArgs): string[] {
  const p: string[] = [];
  for (const probe of ["startup", "liveness", "readiness"] as const) {
    for (const [field, value] of Object.entries(args.health?.[probe] ?? {})) {
      const min = field === "initialDelaySeconds" ? 0 : 1;
      if (!isWholeIn(value, min, 3600))
        p.push(`health.${probe}.${field} must be a whole number from ${min} to 3600, found ${shown(value)}`);
    }
  }
  return p;
}

function replicaProblems(args: WorkloadArgs, kind: "MicroService" | "Worker"): string[] {
  const p: string[] = [];
  const { min, max } = args.replicas ?? { min: NaN, max: NaN };
  if (!isWholeIn(min, 1, 1000))
    p.push(`replicas.min must be a whole number from 1 to 1000, found ${shown(min)}`);
  if (!isWholeIn(max, 1, 1000))
    p.push(`replicas.max must be a whole number from 1 to 1000, found ${shown(max)}`);
  if (min > max) p.push(`replicas.min (${min}) is greater than replicas.max (${max})`);
  if (args.singleton) {
    // A worker holds no state of its own that a second replica would fork; it may be single
    // because two copies must never run at once (a poller, an ordered consumer).
    if (!args.persistence && kind === "MicroService")
      p.push(
        "singleton is only for a workload with persistence (a stateless service can always run a second replica)",
      );
    if (min !== 1 || max !== 1)
      p.push(
        `singleton needs replicas { min: 1, max: 1 }, found { min: ${String(min)}, max: ${String(max)} }`,
      );
    if (!args.singleton.reason?.trim())
      p.push("singleton.reason must say why the workload cannot run a second replica");
  }
  if (args.stage === "production" && max < 2 && !args.singleton)
    p.push(
      `replicas.max is ${max}, but production needs at least 2 (one replica cannot survive a node drain or a zone outage)${kind === "Worker" ? '; a worker that must never run twice sets singleton: { reason: "<why>" } instead' : ""}`,
    );
  for (const key of ["cpuUtilization", "memoryUtilization"] as const) {
    const value = args.autoscaling?.[key];
    if (value !== undefined && !isWholeIn(value, 1, 100))
      p.push(`autoscaling.${key} must be a whole number of percent from 1 to 100, found ${shown(value)}`);
  }
  return p;
}

/** Plain settings not secret-looking, Secret references well formed. */
function settingProblems(args: WorkloadArgs, env: EnvClaims): string[] {
  const p: string[] = [];
  for (const [envName, value] of Object.entries(args.env ?? {})) {
    env.claim(envName, "env");
    if (SECRET_LIKE_NAME.test(envName))
      p.push(
        `env.${envName} looks like a credential; deliver it through secretEnv (a ConfigMap is not secret)`,
      );
    else if (URL_WITH_PASSWORD.test(value))
      p.push(
        `env.${envName} contains a URL with a password; deliver it through secretEnv (a ConfigMap is not secret)`,
      );
  }
  for (const [envName, ref] of Object.entries(args.secretEnv ?? {})) {
    env.claim(envName, "secretEnv");
    if (
      typeof ref.secretName === "string" &&
      (!DNS_SUBDOMAIN.test(ref.secretName) || ref.secretName.length > 253)
    )
      p.push(`secretEnv.${envName}.secretName "${ref.secretName}" is not a valid Secret name`);
    if (!SECRET_KEY.test(ref.key ?? ""))
      p.push(`secretEnv.${envName}.key "${ref.key}" is not a valid Secret key`);
  }
  (args.secretFiles ?? []).forEach((f, i) => {
    if (!DNS_SUBDOMAIN.test(f.secretName) || f.secretName.length > 253)
      p.push(`secretFiles[${i}].secretName "${f.secretName}" is not a valid Secret name`);
    if (!SECRET_KEY.test(f.key ?? "")) p.push(`secretFiles[${i}].key "${f.key}" is not a valid Secret key`);
    if (!/^\/[^\0]*[^/]$/.test(f.mountPath ?? ""))
      p.push(
        `secretFiles[${i}].mountPath: expected an absolute directory such as "/etc/app/ca", found "${f.mountPath}"`,
      );
  });
  return p;
}

/** Each call names a well-formed endpoint, once, and not this service itself. */
function callProblems(serviceName: string, args: WorkloadArgs, env: EnvClaims): string[] {
  const p: string[] = [];
  const earlierNamespace = new Map<string, ServiceEndpoint["namespace"] | undefined>();
  for (const [i, call] of (args.calls ?? []).entries()) {
    const e: Partial<ServiceEndpoint> = call.endpoint ?? {};
    const where = `calls[${i}] ("${e.name}")`;
    env.claim(call.env, `${where} env`);
    if (!call.endpoint) {
      p.push(`calls[${i}]: endpoint is missing (pass the callee's \`endpoint\`)`);
      continue;
    }
    if (!DNS_LABEL.test(e.name ?? "")) p.push(`${where}: endpoint.name must be a DNS label`);
    if (typeof e.namespace === "string" && !NAMESPACE.test(e.namespace))
      p.push(`${where}: endpoint.namespace "${e.namespace}" must be a DNS label`);
    if (e.name === serviceName && e.namespace === args.namespace)
      p.push(`${where}: a service cannot call itself`);
    if (!isWholeIn(e.port, 1, 65535))
      p.push(`${where}: endpoint.port must be a whole number from 1 to 65535, found ${shown(e.port)}`);
    if (e.protocol !== "http" && e.protocol !== "grpc")
      p.push(`${where}: endpoint.protocol must be "http" or "grpc", found ${JSON.stringify(e.protocol)}`);
    // Admission policies are named after the callee, so one name may be called once. The same string
    // or the same Output (one MicroService's namespace) is the same namespace: the call is repeated.
    const name = e.name ?? "";
    if (earlierNamespace.has(name))
      p.push(
        earlierNamespace.get(name) === e.namespace
          ? `${where}: listed twice`
          : `${where}: another call already goes to a service named "${name}"; calls to two services of the same name are not supported (their admission policies would share a name)`,
      );
    else earlierNamespace.set(name, e.namespace);
  }
  return p;
}

/** What the platform scope needs to check this workload against the rest of the program. @internal */
export function scopeFacts(name: string, args: WorkloadArgs, kind: "MicroService" | "Worker"): ServiceFacts {
  const serviceName = args.serviceName ?? name;
  const amounts = amountsOf(args.resources);
  const { min, max } = args.replicas;
  const stateful = Boolean(args.persistence);
  // A singleton Deployment is replaced, not rolled: no surge pod.
  const rolled = !stateful && !args.singleton;
  return {
    kind,
    name,
    serviceName,
    namespace: args.namespace,
    port: args.port,
    calls: (args.calls ?? []).map((call, index) => ({
      index,
      name: call.endpoint.name,
      namespace: call.endpoint.namespace,
      port: call.endpoint.port,
      written: call.endpoint.ready === undefined,
    })),
    callers: args.callers ?? [],
    uses: useEntries(args.uses).map((u) => u.store),
    demand: [
      {
        id: serviceName,
        kind: stateful ? "StatefulSet" : "Deployment",
        ...amounts,
        replicas: { min, max: stateful ? min : max },
        surge: rolled ? { min: surgePods("25%", min), max: surgePods("25%", max) } : { min: 0, max: 0 },
      },
      ...(args.migration
        ? [
            {
              id: `${serviceName}-migration`,
              kind: "Job" as const,
              ...amounts,
              replicas: { min: 1, max: 1 },
              surge: { min: 0, max: 0 },
            },
          ]
        : []),
    ],
  };
}

function networkProblems(args: WorkloadArgs, metrics: NonNullable<MicroServiceArgs["metrics"]>): string[] {
  const p: string[] = [];
  for (const caller of args.callers ?? [])
    if (!DNS_LABEL.test(caller)) p.push(`callers: "${caller}" is not a service name (a DNS label)`);
  for (const [i, from] of (args.ingressFrom ?? []).entries()) {
    if (!NAMESPACE.test(from.namespace ?? ""))
      p.push(`ingressFrom[${i}]: namespace "${from.namespace}" must be a DNS label`);
    if (from.port !== "service" && from.port !== "metrics")
      p.push(`ingressFrom[${i}]: port must be "service" or "metrics", found ${JSON.stringify(from.port)}`);
    if (from.port === "metrics" && !metrics.enabled)
      p.push(`ingressFrom[${i}]: allows the metrics port, but metrics are disabled`);
  }
  for (const [i, e] of (args.egress ?? []).entries()) {
    if (!isWholeIn(e.port, 1, 65535))
      p.push(`egress[${i}]: port must be a whole number from 1 to 65535, found ${shown(e.port)}`);
    if ("cidrs" in e) {
      if (e.cidrs.length === 0) p.push(`egress[${i}]: cidrs is empty`);
      for (const cidr of e.cidrs) {
        const problem = ipv4CidrProblem(cidr);
        if (problem) p.push(`egress[${i}]: ${problem}`);
      }
    } else if (!e.pod || !DNS_LABEL.test(e.pod.name)) p.push(`egress[${i}]: pod.name must be a DNS label`);
    else if (e.pod.namespace !== undefined && !NAMESPACE.test(e.pod.namespace))
      p.push(`egress[${i}]: pod.namespace "${e.pod.namespace}" must be a DNS label`);
  }
  for (const [i, e] of (args.externalEgress ?? []).entries()) {
    if (!DNS_NAME.test(e.host ?? ""))
      p.push(`externalEgress[${i}].host must be a DNS name such as api.stripe.com, found "${e.host}"`);
    if (!isWholeIn(e.port, 1, 65535))
      p.push(`externalEgress[${i}].port must be a whole number from 1 to 65535, found ${shown(e.port)}`);
    if (!e.reason?.trim()) p.push(`externalEgress[${i}].reason must say why the service needs ${e.host}`);
  }
  return p;
}

function storageProblems(args: WorkloadArgs): string[] {
  const p: string[] = [];
  const writable = args.writablePaths ?? ["/tmp"];
  for (const path of writable)
    if (!path.startsWith("/")) p.push(`writablePaths: "${path}" is not an absolute path`);
  if (new Set(writable).size !== writable.length) p.push("writablePaths lists a path twice");
  if (args.persistence) {
    const { size, mountPath } = args.persistence;
    const { min, max } = args.replicas ?? { min: NaN, max: NaN };
    if (!STORAGE_SIZE.test(size))
      p.push(`persistence.size must be a storage size such as "10Gi", found "${size}"`);
    if (!mountPath.startsWith("/")) p.push(`persistence.mountPath "${mountPath}" is not an absolute path`);
    if (writable.includes(mountPath)) p.push(`persistence.mountPath "${mountPath}" is also in writablePaths`);
    if (max > min)
      p.push(
        `replicas.max (${max}) is greater than replicas.min (${min}), but a service with persistence is not autoscaled (scaling in would strand a replica's volume); set them equal`,
      );
  }
  if (args.runAsUser !== undefined && !isWholeIn(args.runAsUser, 1, 2147483647))
    p.push(`runAsUser must be a non-root UID (1 to 2147483647), found ${shown(args.runAsUser)}`);
  return p;
}

function lifecycleProblems(args: WorkloadArgs): string[] {
  const p: string[] = [];
  if (args.migration) {
    if (args.migration.command.length === 0 || args.migration.command.some((part) => part === ""))
      p.push("migration.command must be a non-empty list of non-empty strings");
    const timeout = args.migration.timeoutSeconds;
    if (timeout !== undefined && !isWholeIn(timeout, 60, 86400))
      p.push(`migration.timeoutSeconds must be a whole number from 60 to 86400, found ${shown(timeout)}`);
  }
  const drain = args.shutdown?.drainSeconds ?? 5;
  const grace = args.shutdown?.gracePeriodSeconds ?? 30;
  if (!isWholeIn(drain, 0, 300))
    p.push(`shutdown.drainSeconds must be a whole number from 0 to 300, found ${shown(drain)}`);
  if (!isWholeIn(grace, 1, 3600))
    p.push(`shutdown.gracePeriodSeconds must be a whole number from 1 to 3600, found ${shown(grace)}`);
  else if (drain >= grace)
    p.push(
      `shutdown.drainSeconds (${drain}) must be less than shutdown.gracePeriodSeconds (${grace}), or the app never gets SIGTERM in time to finish`,
    );
  return p;
}

/** Args with every default applied (only called on valid args). */
function resolve(name: string, args: WorkloadArgs) {
  const serviceName = args.serviceName ?? name;
  const metricsArgs = args.metrics ?? { enabled: true };
  const metricsPort = metricsArgs.port ?? args.port;
  const livenessPath = args.health?.livenessPath ?? "/health";
  const image = checkedImage(name, args.image);
  return {
    serviceName,
    component: args.component ?? "server",
    image,
    version: mapImage(image, imageVersion),
    port: args.port,
    protocol: args.protocol,
    // A worker without a metrics port has no metrics to scrape.
    metrics:
      metricsArgs.enabled && metricsPort !== undefined
        ? { port: metricsPort, path: metricsArgs.path ?? "/metrics", separate: metricsPort !== args.port }
        : undefined,
    health: {
      livenessPath,
      readinessPath: args.health?.readinessPath ?? livenessPath,
      startupPath: args.health?.startupPath ?? livenessPath,
      startup: args.health?.startup,
      liveness: args.health?.liveness,
      readiness: args.health?.readiness,
      exec: args.health?.exec,
    },
    replicas: args.replicas,
    queue: args.autoscaling?.queue,
    autoscaled: args.replicas.max > args.replicas.min && !args.persistence,
    cpuUtilization: args.autoscaling?.cpuUtilization ?? 70,
    memoryUtilization: args.autoscaling?.memoryUtilization ?? 80,
    resources: args.resources,
    env: args.env ?? {},
    secretEnv: args.secretEnv ?? {},
    secretFiles: args.secretFiles ?? [],
    calls: args.calls ?? [],
    uses: useEntries(args.uses),
    callers: args.callers ?? [],
    ingressFrom: args.ingressFrom ?? [],
    egress: args.egress ?? [],
    externalEgress: args.externalEgress ?? [],
    persistence: args.persistence,
    protect: args.protect ?? false,
    writablePaths: args.writablePaths ?? ["/tmp"],
    runAsUser: args.runAsUser ?? 1000,
    automountToken: args.automountServiceAccountToken ?? false,
    migration: args.migration
      ? {
          command: args.migration.command,
          timeoutSeconds: args.migration.timeoutSeconds ?? 900,
          awaitTimeout: `${Math.ceil((args.migration.timeoutSeconds ?? 900) / 60) + 1}m`,
          jobName: mapImage(
            image,
            (ref) =>
              `${childName(serviceName, "migrate")}-${stableHash({ image: ref, command: args.migration?.command }).slice(0, 8)}`,
          ),
        }
      : undefined,
    zoneSpread: args.zoneSpread ?? (args.stage === "local" ? "preferred" : "required"),
    drainSeconds: args.shutdown?.drainSeconds ?? 5,
    gracePeriodSeconds: args.shutdown?.gracePeriodSeconds ?? 30,
  };
}

/**
 * The image reference, trimmed: a plain string as is (validated before construction), an Output once
 * known (validated by `outputProblems` before any child registers, so no child sees a bad value).
 */
export function checkedImage(
  // The component's name: no longer needed here (the message comes from the gate), kept so the
  // exported signature stays as it was.
  _name: string,
  image: pulumi.Input<string>,
): string | pulumi.Output<string> {
  if (typeof image === "string") return image.trim();
  // Checked before any child registers (`outputProblems`), so no child ever sees a bad value.
  return pulumi.output(image).apply((ref) => (ref ?? "").trim());
}

/** `fn` of the image reference: plain when the reference is plain, an Output otherwise. */
function mapImage<T>(image: string | pulumi.Output<string>, fn: (ref: string) => T): T | pulumi.Output<T> {
  return typeof image === "string" ? fn(image) : image.apply(fn);
}

/** Value of `app.kubernetes.io/version`: the image tag, or the first 12 hex digits of a digest-only reference. */
function imageVersion(image: string): string {
  const [named = "", digest = ""] = image.split("@");
  const colon = named.lastIndexOf(":");
  const tag = colon > named.lastIndexOf("/") ? named.slice(colon + 1) : undefined;
  return labelValue(tag ?? digest.replace(/^sha256:/, "").slice(0, 12));
}

/** One read-only volume per secret file (`secret-file-<i>`), projecting only its key. */
function secretFileVolumes(files: { secretName: string; key: string; mountPath: string }[]): {
  volumes: k8s.types.input.core.v1.Volume[];
  mounts: k8s.types.input.core.v1.VolumeMount[];
} {
  const each = files.map((f, i) => secretKeyFile(`secret-file-${i}`, f));
  return { volumes: each.map((e) => e.volume), mounts: each.map((e) => e.mount) };
}
