/**
 * What ManagedPostgres, RedisCache and MessageBroker build the same way: the contract consumers see,
 * the generated credentials and the revision that reruns a bootstrap when one is replaced, the
 * bootstrap Job, the connection Secrets, the in-cluster server's Kubernetes objects and the AWS
 * network placement. Plain functions, not a ComponentResource: every resource stays a direct child of
 * the component that calls them, under the name (and so the URN) it always had. What differs per
 * engine (images, config, scripts, ports, the managed AWS service itself) stays in the component.
 *
 * Internal to the library: nothing here is exported from the package entry point.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  URL_SAFE_PASSWORD,
  childName,
  consumerPeer,
  dataServiceArgProblems,
  dataServiceIngressRules,
  dnsEgressRule,
  domainKey,
  egressPeerRule,
  labelDomainProblem,
  oneShotJobSpec,
  podPeer,
  providerProblems,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  scratchVolumes,
  selectorLabels,
  serviceHost,
  stageProblem,
  standardLabels,
  statefulOptions,
  withDependsOn,
  gated,
  namespaceValueProblem,
  registerDataService,
  type ContainerResources,
  type DataServiceAwsArgs,
  type DataServiceBackend,
  type DataServiceConsumer,
  type EgressPeer,
  type LabelDomainArgs,
  type PlatformLabels,
  type Gate,
  type Stage,
} from "./lib";
import { checksBeforeChildren, settled, type StoreFacts } from "./platform-scope";

// ---------------------------------------------------------------------------------------------------
// The contract and the constructor preamble
// ---------------------------------------------------------------------------------------------------

/**
 * The outputs every data service has, whatever the engine and backend: consumers read the same
 * fields from each, so a catalog can swap a backend without touching its consumers.
 */
export interface DataServiceOutputs {
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  tls: pulumi.Output<boolean>;
  bootstrap: k8s.batch.v1.Job;
  connectionSecretNames: Record<string, string>;
  egressPeer: EgressPeer<pulumi.Input<string>>;
}

/** The component's outputs to register: exactly the contract, so the three register the same keys. */
export function contractOutputs(component: DataServiceOutputs): pulumi.Inputs {
  return {
    host: component.host,
    port: component.port,
    tls: component.tls,
    bootstrap: component.bootstrap,
    connectionSecretNames: component.connectionSecretNames,
    egressPeer: component.egressPeer,
  };
}

/**
 * The args every data service takes under the same names (each component documents them for its
 * engine). Structural: a component's own args type satisfies it without extending it.
 */
export interface DataServiceArgs {
  backend: DataServiceBackend;
  namespace: pulumi.Input<string>;
  platform?: string;
  stage?: Stage;
  protect?: boolean;
  consumers: readonly DataServiceConsumer[];
  aws?: DataServiceAwsArgs;
  storageSize?: string;
  storageClassName?: string;
  resources?: ContainerResources;
  image?: string;
  labelDomain?: string;
}

/**
 * Problems with the Kubernetes provider and the shared args (see `dataServiceArgProblems`), checked
 * the same way by every component and reported with its own, all at once.
 */
export function sharedArgProblems(
  name: string,
  args: DataServiceArgs,
  opts: pulumi.ComponentResourceOptions | undefined,
): string[] {
  return providerProblems(opts, "kubernetes").concat(
    dataServiceArgProblems({
      name,
      backend: args.backend,
      namespace: args.namespace,
      consumers: args.consumers,
      aws: args.aws,
      resources: args.resources,
      storageSize: args.storageSize,
      image: args.image,
    }),
    stageProblem(args.stage) ?? [],
    labelDomainProblem(args.labelDomain) ?? [],
  );
}

/** Per backend, the args only it reads and what reads them there (named in the message). */
export type BackendOnlyArgs = Record<DataServiceBackend, { readBy: string; args: readonly string[] }>;

/**
 * Args that only the other backend reads, given with `backend`: one problem each, naming the arg and
 * the backend that reads it (the chosen backend would silently ignore them). Nothing for an unknown
 * backend, which is reported on its own.
 */
export function backendOnlyArgProblems(
  backend: DataServiceBackend,
  args: object,
  only: BackendOnlyArgs,
): string[] {
  if (backend !== "aws" && backend !== "inCluster") return [];
  const other: DataServiceBackend = backend === "aws" ? "inCluster" : "aws";
  return only[other].args
    .filter((key) => (args as Record<string, unknown>)[key] !== undefined)
    .map(
      (key) =>
        `${key}: applies only to backend "${other}" (${only[other].readBy}); remove it with backend "${backend}"`,
    );
}

/** A daily UTC window such as `02:00-03:00` (RDS backups, ElastiCache snapshots). */
export const DAILY_WINDOW = /^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$/;
/** A weekly UTC window such as `sun:04:00-sun:05:00` (maintenance). */
export const WEEKLY_WINDOW =
  /^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** Labels for a child, by its `app.kubernetes.io/component` and an optional name suffix (`bootstrap`). */
export type LabelsFor = (component: string, suffix?: string) => Record<string, string>;

/**
 * The standard labels of the service's objects: named after the service (or `<name>-<suffix>`, so
 * the bootstrap Job's pods are selected apart from the server's), versioned by the engine.
 */
export function labelsFor(name: string, version: string, args: PlatformLabels & LabelDomainArgs): LabelsFor {
  return (component, suffix) =>
    standardLabels({
      name: suffix ? childName(name, suffix) : name,
      component,
      version,
      platform: args.platform,
      stage: args.stage,
      labelDomain: args.labelDomain,
    });
}

/** Options for a child: `extra` options, and `own` dependencies on top of the component's. */
export type ChildOptions = (
  extra?: pulumi.CustomResourceOptions,
  ...own: pulumi.Resource[]
) => pulumi.CustomResourceOptions;

/**
 * Options for the component's children. A component registered with `splitDependsOn`'s options is
 * not waited on by the SDK, so its own `dependsOn` (e.g. its namespace) is handed to every child here.
 */
export function childOptions(
  parent: pulumi.Resource,
  dependsOn: pulumi.ComponentResourceOptions["dependsOn"],
  gate?: Gate,
): ChildOptions {
  if (gate) GATES.set(parent, gate);
  return (extra = {}, ...own) => ({
    parent,
    dependsOn: gated(withDependsOn(dependsOn, ...own), gate),
    ...extra,
  });
}

/** Each data service's gate, for the children that take only `parent` (see `parentOnly`). */
const GATES = new WeakMap<pulumi.Resource, Gate>();

/**
 * Options of a child that waits for none of the component's dependencies (generated credentials):
 * its parent, and the component's gate, which adds no dependency but holds it back with the rest
 * until the component's checks pass.
 */
export function parentOnly(parent: pulumi.Resource): pulumi.CustomResourceOptions {
  const gate = GATES.get(parent);
  return gate ? { parent, dependsOn: gated([], gate) } : { parent };
}

/**
 * Joins the program's platform scope (platform-scope.ts) and marks `component` as a data service
 * `MicroService.uses` accepts. Returns the gate every child carries: it opens once the namespace
 * Outputs (the store's and each consumer's) resolve to valid names and the cross-component checks
 * pass (every consumer is used by a MicroService of the program, or says where it is used).
 */
export function dataServiceGate(
  kind: StoreFacts["kind"],
  name: string,
  component: object,
  args: Pick<DataServiceArgs, "namespace" | "consumers">,
): Gate {
  registerDataService(component);
  const namespaces: [string, pulumi.Input<string>][] = [
    ["namespace", args.namespace],
    ...args.consumers.map((c, i): [string, pulumi.Input<string>] => [
      `consumers[${i}].namespace`,
      c.namespace,
    ]),
  ];
  return checksBeforeChildren(
    kind,
    name,
    { kind, name, store: component, consumers: args.consumers },
    async () => {
      const problems: string[] = [];
      for (const [key, value] of namespaces) {
        if (!pulumi.Output.isInstance(value)) continue;
        const known = await settled(value);
        const problem = known === undefined ? undefined : namespaceValueProblem(key, known);
        if (problem) problems.push(problem);
      }
      return problems;
    },
  );
}

/** Consumer service name → the namespace its Secret goes to (what `MicroService.uses` checks against). */
export function consumerNamespaces(
  consumers: readonly DataServiceConsumer[],
): Record<string, pulumi.Input<string>> {
  return Object.fromEntries(consumers.map((c) => [c.service, c.namespace]));
}

/**
 * How consumers reach the service, for their egress NetworkPolicy: the AWS service's subnets, or the
 * in-cluster server's pods in its namespace (of the namespace's type: plain data for a string).
 */
export function backendEgressPeer<Namespace extends pulumi.Input<string>>(
  backend: DataServiceBackend,
  name: string,
  args: { namespace: Namespace; aws?: DataServiceAwsArgs },
  port: number,
): EgressPeer<Namespace> {
  return backend === "aws"
    ? { cidrs: [...(args.aws?.subnetCidrs ?? [])], port }
    : { pod: { name, namespace: args.namespace }, port };
}

/**
 * A string built from a value that may be an Output: built at once from a plain value, so it stays
 * plain data (a namespace given as a string), or through `apply` from an Output or a Promise, so it
 * waits for the value (a namespace given as `PlatformNamespace.name`).
 */
export function mapInput(
  value: pulumi.Input<string>,
  build: (plain: string) => string,
): pulumi.Input<string> {
  return typeof value === "string" ? build(value) : pulumi.output(value).apply(build);
}

/** `mapInput` for a list: built at once when every value is plain, else once all are known. */
export function mapInputs(
  values: readonly pulumi.Input<string>[],
  build: (plain: string[]) => string,
): pulumi.Input<string> {
  const plain = values.filter((v): v is string => typeof v === "string");
  return plain.length === values.length ? build(plain) : pulumi.all([...values]).apply(build);
}

// ---------------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------------

/** A generated credential (`<name>-<suffix>`), under the component, never special characters. */
export function generatedPassword(
  name: string,
  suffix: string,
  parent: pulumi.Resource,
): random.RandomPassword {
  return new random.RandomPassword(childName(name, suffix), URL_SAFE_PASSWORD, parentOnly(parent));
}

/** An admin password and one password per consumer, generated and kept as Pulumi secrets. */
export interface GeneratedCredentials {
  /** `<name>-admin-password`. */
  admin: random.RandomPassword;
  /** Consumer service → `<name>-<service>-password`. */
  consumers: Map<string, random.RandomPassword>;
  /**
   * Every password under its credentials-Secret key: `password` for the admin, `consumerPasswordKey`
   * per consumer. The credentials Secret holds these keys and the revision's keepers are these values.
   */
  byKey: Record<string, pulumi.Output<string>>;
}

/** The admin's password and one per consumer (ManagedPostgres roles, MessageBroker users), in this order. */
export function generateCredentials(
  name: string,
  consumers: readonly DataServiceConsumer[],
  parent: pulumi.Resource,
): GeneratedCredentials {
  const admin = generatedPassword(name, "admin-password", parent);
  const perConsumer = new Map(
    consumers.map((c) => [c.service, generatedPassword(name, `${c.service}-password`, parent)]),
  );
  return {
    admin,
    consumers: perConsumer,
    byKey: {
      password: admin.result,
      ...Object.fromEntries(
        consumers.map((c) => [consumerPasswordKey(c.service), perConsumer.get(c.service)!.result]),
      ),
    },
  };
}

/**
 * The credentials Secret's `stringData`, built from every password by key once all are known (one
 * Output, secret because the passwords are).
 */
export function credentialsData(
  passwords: GeneratedCredentials,
  build: (byKey: Record<string, string>) => Record<string, string>,
): pulumi.Output<Record<string, string>> {
  const keys = Object.keys(passwords.byKey);
  return pulumi
    .all(Object.values(passwords.byKey))
    .apply((values) => build(Object.fromEntries(keys.map((k, i) => [k, values[i]!]))));
}

/**
 * Env var (and credentials Secret key) holding a consumer's password: `PASSWORD_<SERVICE>`, dashes
 * as underscores, so it is a valid environment variable name.
 */
export function consumerPasswordKey(service: string): string {
  return `PASSWORD_${service.replace(/-/g, "_").toUpperCase()}`;
}

/** An env var read from a key of a Secret, so the value never appears in the pod spec. */
export function secretKeyEnv(
  envName: string,
  secret: k8s.core.v1.Secret,
  key: string,
): k8s.types.input.core.v1.EnvVar {
  return { name: envName, valueFrom: { secretKeyRef: { name: secret.metadata.name, key } } };
}

/** Each consumer's password as `PASSWORD_<SERVICE>` in the bootstrap, for the users or roles it sets up. */
export function consumerPasswordEnv(
  credentials: k8s.core.v1.Secret,
  consumers: readonly DataServiceConsumer[],
): k8s.types.input.core.v1.EnvVar[] {
  return consumers.map((c) =>
    secretKeyEnv(consumerPasswordKey(c.service), credentials, consumerPasswordKey(c.service)),
  );
}

/**
 * The Secret `<name>-credentials` in the service's namespace: what the server (in-cluster) and the
 * bootstrap Job read the generated passwords from.
 */
export function credentialsSecret(
  name: string,
  namespace: pulumi.Input<string>,
  labels: Record<string, string>,
  stringData: pulumi.Input<Record<string, pulumi.Input<string>>>,
  child: ChildOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    childName(name, "credentials"),
    { metadata: { name: childName(name, "credentials"), namespace, labels }, stringData },
    child(),
  );
}

/**
 * Pod-template annotation carrying the credentials revision (see `credentialsRevision`). A Job is
 * replaced when its pod template changes, so the bootstrap reruns; a server that reads a credential
 * only at start restarts when it carries it too.
 */
export const credentialsRevisionAnnotation = (labelDomain?: string): string =>
  domainKey(labelDomain, "credentials-revision");

/**
 * A RandomId (`<name>-credentials-revision`) whose `hex` changes exactly when a generated password is
 * replaced. A bootstrap sets passwords only when it runs, so replacing one must replace the Job; but
 * nothing non-secret about a RandomPassword changes when it is replaced (its URN is stable and its id
 * a constant), so the keepers hold the passwords themselves, kept secret in state
 * (`additionalSecretOutputs`). The hex is random, not derived from them: it reveals only that the
 * credentials changed.
 */
export function credentialsRevision(
  name: string,
  keepers: Record<string, pulumi.Input<string>>,
  parent: pulumi.Resource,
): random.RandomId {
  return new random.RandomId(
    childName(name, "credentials-revision"),
    { byteLength: 4, keepers },
    { ...parentOnly(parent), additionalSecretOutputs: ["keepers"] },
  );
}

// ---------------------------------------------------------------------------------------------------
// Bootstrap Job and connection Secrets
// ---------------------------------------------------------------------------------------------------

/**
 * The bootstrap: a NetworkPolicy letting its pods reach only `reach` and DNS, and a one-shot Job
 * (`<name>-bootstrap`) that waits for the server, then proves or sets up what consumers need. The Job
 * is auto-named, so a replacement is created before the old Job is deleted; any change to its pod
 * template replaces it (a new script or image, and a new credentials `revision`, rerun it). It runs
 * after `after` (the server and the credentials Secret) and the component's own dependencies.
 */
export function bootstrapJob(
  args: {
    name: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    /** What the Job connects to (the server's peer, on the port the bootstrap uses). */
    reach: EgressPeer<pulumi.Input<string>>;
    revision: pulumi.Output<string>;
    /** Prefix of the revision annotation's key (the component's `labelDomain`). */
    labelDomain?: string;
    /** The Job spec; `labels` are set here. */
    job: Omit<Parameters<typeof oneShotJobSpec>[0], "labels">;
    after: pulumi.Resource[];
  },
  child: ChildOptions,
): k8s.batch.v1.Job {
  const { name, namespace, labels } = args;
  const jobPolicy = new k8s.networking.v1.NetworkPolicy(
    childName(name, "bootstrap"),
    {
      metadata: { name: childName(name, "bootstrap"), namespace, labels },
      spec: {
        podSelector: { matchLabels: selectorLabels(childName(name, "bootstrap")) },
        policyTypes: ["Ingress", "Egress"],
        egress: [egressPeerRule(args.reach), dnsEgressRule()],
      },
    },
    child(),
  );
  const jobSpec = oneShotJobSpec({ labels, ...args.job });
  return new k8s.batch.v1.Job(
    childName(name, "bootstrap"),
    {
      metadata: { namespace, labels },
      // oneShotJobSpec returns plain objects; only the template's metadata is added to.
      spec: {
        ...jobSpec,
        template: {
          ...(jobSpec.template as k8s.types.input.core.v1.PodTemplateSpec),
          metadata: {
            labels,
            annotations: { [credentialsRevisionAnnotation(args.labelDomain)]: args.revision },
          },
        },
      },
    },
    child({}, ...args.after, jobPolicy),
  );
}

/**
 * One connection Secret per consumer, `<service>-<name>` in the consumer's namespace (so its pods can
 * mount it), labelled with the consumer. Returns consumer service → Secret name.
 */
export function connectionSecrets<C extends DataServiceConsumer>(
  name: string,
  consumers: readonly C[],
  labels: Record<string, string>,
  data: (consumer: C) => pulumi.Input<Record<string, string>>,
  child: ChildOptions,
  labelDomain?: string,
): Record<string, string> {
  const names: Record<string, string> = {};
  for (const c of consumers) {
    const secretName = `${c.service}-${name}`;
    names[c.service] = secretName;
    new k8s.core.v1.Secret(
      childName(name, `${c.service}-connection`),
      {
        metadata: {
          name: secretName,
          namespace: c.namespace,
          labels: { ...labels, [domainKey(labelDomain, "consumer")]: c.service },
        },
        stringData: data(c),
      },
      child(),
    );
  }
  return names;
}

/** Resources for a bootstrap that only runs a small client in a shell loop (redis-cli, curl). */
export const CLIENT_JOB_RESOURCES: ContainerResources = {
  requests: { cpu: "10m", memory: "16Mi" },
  limits: { cpu: "100m", memory: "64Mi" },
};

// ---------------------------------------------------------------------------------------------------
// inCluster backend
// ---------------------------------------------------------------------------------------------------

/** The engine-specific part of an in-cluster server; `inClusterServer` builds the rest. */
export interface InClusterServerSpec {
  labels: Record<string, string>;
  /** Named ports: the Service's port, its target and the container's port carry the same name. */
  ports: { name: string; port: number }[];
  /** The port consumers connect to, and the one the bootstrap Job uses (the same one, but for RabbitMQ). */
  admit: { consumers: number; bootstrap: number };
  /** UID (and GID, fsGroup) of the server process. */
  uid: number;
  podAnnotations: Record<string, pulumi.Input<string>>;
  /**
   * `OrderedReady` is the Kubernetes default; ManagedPostgres sets it explicitly, the others leave it
   * out (either way the same pods), and dropping it would change ManagedPostgres's recorded inputs.
   */
  podManagementPolicy?: string;
  terminationGracePeriodSeconds?: number;
  /** Where the data volume is mounted. */
  dataMountPath: string;
  /** Writable directories under the read-only root filesystem. */
  scratchPaths: string[];
  /** Volumes besides the scratch ones (config, credentials). */
  volumes?: k8s.types.input.core.v1.Volume[];
  /** The server container; its ports and security context are set here, data and scratch mounts are added. */
  container: Omit<k8s.types.input.core.v1.Container, "ports" | "securityContext" | "volumeMounts"> & {
    volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
  };
}

/**
 * The in-cluster backend's server, as the three engines run it: a headless Service, a NetworkPolicy
 * admitting only the consumers and the bootstrap Job (egress to DNS alone: a server initiates
 * nothing), a single-replica StatefulSet under Pod Security "restricted" with one volume claim of
 * `storageSize`, and a PodDisruptionBudget. All are named `<name>` but the budget (`<name>-pdb`);
 * only the StatefulSet is protected when `protect` is set, and then it also keeps its volume when
 * deleted. Returns the Service's DNS name and the StatefulSet (what the bootstrap Job waits for).
 */
export function inClusterServer(
  name: string,
  args: Pick<DataServiceArgs, "namespace" | "consumers" | "storageClassName">,
  resolved: { protect: boolean; storageSize: string },
  spec: InClusterServerSpec,
  child: ChildOptions,
): { host: pulumi.Input<string>; statefulSet: k8s.apps.v1.StatefulSet } {
  const service = headlessService(name, args.namespace, spec, child);
  serverNetworkPolicy(name, args, spec, child);
  const statefulSet = serverStatefulSet(name, args, resolved, spec, service, child);
  serverDisruptionBudget(name, args.namespace, spec.labels, child);
  return { host: mapInput(args.namespace, (ns) => serviceHost(name, ns)), statefulSet };
}

/** The headless Service `<name>` giving the server its stable DNS name, one named port per spec port. */
function headlessService(
  name: string,
  namespace: pulumi.Input<string>,
  spec: InClusterServerSpec,
  child: ChildOptions,
): k8s.core.v1.Service {
  return new k8s.core.v1.Service(
    name,
    {
      metadata: { name, namespace, labels: spec.labels },
      spec: {
        clusterIP: "None",
        selector: selectorLabels(name),
        ports: spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name })),
      },
    },
    child(),
  );
}

/**
 * The server's NetworkPolicy `<name>`: the consumers and the bootstrap Job in (on one port, or each
 * on its own), DNS alone out.
 */
function serverNetworkPolicy(
  name: string,
  args: Pick<DataServiceArgs, "namespace" | "consumers">,
  spec: InClusterServerSpec,
  child: ChildOptions,
): k8s.networking.v1.NetworkPolicy {
  const { namespace } = args;
  const consumers = args.consumers.map((c) => consumerPeer(c.service, c.namespace));
  const bootstrap = podPeer(childName(name, "bootstrap"), namespace);
  return new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: { name, namespace, labels: spec.labels },
      spec: {
        podSelector: { matchLabels: selectorLabels(name) },
        policyTypes: ["Ingress", "Egress"],
        ingress:
          spec.admit.bootstrap === spec.admit.consumers
            ? [{ from: [...consumers, bootstrap], ports: [{ protocol: "TCP", port: spec.admit.consumers }] }]
            : [
                { from: consumers, ports: [{ protocol: "TCP", port: spec.admit.consumers }] },
                { from: [bootstrap], ports: [{ protocol: "TCP", port: spec.admit.bootstrap }] },
              ],
        egress: [dnsEgressRule()],
      },
    },
    child(),
  );
}

/**
 * The single-replica StatefulSet `<name>` under Pod Security "restricted": the spec's container with
 * the data volume and scratch directories mounted, one volume claim of `storageSize`.
 */
function serverStatefulSet(
  name: string,
  args: Pick<DataServiceArgs, "namespace" | "storageClassName">,
  resolved: { protect: boolean; storageSize: string },
  spec: InClusterServerSpec,
  service: k8s.core.v1.Service,
  child: ChildOptions,
): k8s.apps.v1.StatefulSet {
  const { labels } = spec;
  const scratch = scratchVolumes(spec.scratchPaths);
  return new k8s.apps.v1.StatefulSet(
    name,
    {
      metadata: { name, namespace: args.namespace, labels },
      spec: {
        replicas: 1,
        serviceName: service.metadata.name,
        selector: { matchLabels: selectorLabels(name) },
        ...(spec.podManagementPolicy ? { podManagementPolicy: spec.podManagementPolicy } : {}),
        updateStrategy: { type: "RollingUpdate" },
        // A protected data service keeps its volume even if the StatefulSet itself is deleted.
        persistentVolumeClaimRetentionPolicy: {
          whenDeleted: resolved.protect ? "Retain" : "Delete",
          whenScaled: "Retain",
        },
        template: {
          metadata: { labels, annotations: spec.podAnnotations },
          spec: {
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(spec.uid),
            ...(spec.terminationGracePeriodSeconds !== undefined
              ? { terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds }
              : {}),
            volumes: [...scratch.volumes, ...(spec.volumes ?? [])],
            containers: [
              {
                ...spec.container,
                ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.port })),
                securityContext: restrictedContainerSecurityContext(spec.uid),
                volumeMounts: [
                  { name: "data", mountPath: spec.dataMountPath },
                  ...(spec.container.volumeMounts ?? []),
                  ...scratch.mounts,
                ],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data", labels: selectorLabels(name) },
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...(args.storageClassName ? { storageClassName: args.storageClassName } : {}),
              resources: { requests: { storage: resolved.storageSize } },
            },
          },
        ],
      },
    },
    child(statefulOptions(resolved.protect)),
  );
}

/**
 * The budget `<name>-pdb`. One replica: maxUnavailable 1 lets a node drain evict it (minAvailable 1
 * would block every drain), and an unhealthy pod never counts against the budget.
 */
function serverDisruptionBudget(
  name: string,
  namespace: pulumi.Input<string>,
  labels: Record<string, string>,
  child: ChildOptions,
): k8s.policy.v1.PodDisruptionBudget {
  return new k8s.policy.v1.PodDisruptionBudget(
    childName(name, "pdb"),
    {
      metadata: { name: childName(name, "pdb"), namespace, labels },
      spec: {
        selector: { matchLabels: selectorLabels(name) },
        maxUnavailable: 1,
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      },
    },
    child(),
  );
}

// ---------------------------------------------------------------------------------------------------
// aws backend
// ---------------------------------------------------------------------------------------------------

/** Tags of an AWS child: the caller's tags plus `Name: <name>-<suffix>`, so the console shows whose it is. */
export function awsTags(name: string, net: DataServiceAwsArgs): (suffix: string) => Record<string, string> {
  return (suffix) => ({ ...net.tags, Name: childName(name, suffix) });
}

/**
 * The KMS key (`<name>-kms`) encrypting the service's storage and snapshots. As stateful as the data:
 * without the key the data and every snapshot are unreadable, so it is protected with them.
 */
export function encryptionKey(
  name: string,
  description: string,
  tags: (suffix: string) => Record<string, string>,
  protect: boolean,
  child: ChildOptions,
): aws.kms.Key {
  return new aws.kms.Key(
    childName(name, "kms"),
    { description, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags("kms") },
    child(statefulOptions(protect)),
  );
}

/** The args both RDS and ElastiCache subnet groups take. */
type SubnetGroupArgs = {
  description: string;
  subnetIds: pulumi.Input<string[]>;
  tags: Record<string, string>;
};

/**
 * The subnet group (`<name>-subnets`) placing the service in the private subnets. `SubnetGroup` is the
 * engine's class (`aws.rds.SubnetGroup`, `aws.elasticache.SubnetGroup`): same args, other service.
 */
export function privateSubnetGroup<T>(
  SubnetGroup: new (name: string, args: SubnetGroupArgs, opts?: pulumi.CustomResourceOptions) => T,
  name: string,
  net: DataServiceAwsArgs,
  tags: (suffix: string) => Record<string, string>,
  child: ChildOptions,
): T {
  return new SubnetGroup(
    childName(name, "subnets"),
    { description: `Private subnets of ${name}`, subnetIds: net.subnetIds, tags: tags("subnets") },
    child(),
  );
}

/**
 * The security group (`<name>-sg`) admitting the allowed clients on `ports` and nothing else (see
 * `dataServiceIngressRules`).
 */
export function clientSecurityGroup(
  name: string,
  description: string,
  net: DataServiceAwsArgs,
  ports: readonly number[],
  tags: (suffix: string) => Record<string, string>,
  child: ChildOptions,
): aws.ec2.SecurityGroup {
  return new aws.ec2.SecurityGroup(
    childName(name, "sg"),
    { description, vpcId: net.vpcId, ingress: dataServiceIngressRules(net, ports), tags: tags("sg") },
    child(),
  );
}

/**
 * Final snapshot names are unique per account and region, so a fixed one collides the second time a
 * server of this name is deleted (a replacement, or the stack destroyed and deployed again). This
 * RandomId (`<name>-final-snapshot-suffix`) lives as long as the server: a new stack draws a new one,
 * and so does every change of an input that replaces the server (the `keepers`). The deleted server
 * keeps the name it had. Undefined when no final snapshot is taken. Like the generated credentials,
 * its only option is `parent`: it waits for none of the component's dependencies.
 */
export function finalSnapshotSuffix(
  name: string,
  finalSnapshot: boolean,
  keepers: Record<string, pulumi.Input<string>>,
  parent: pulumi.Resource,
): random.RandomId | undefined {
  return finalSnapshot
    ? new random.RandomId(
        childName(name, "final-snapshot-suffix"),
        { byteLength: 4, keepers },
        parentOnly(parent),
      )
    : undefined;
}

/** `finalSnapshotIdentifier: <name>-final-<suffix>` to spread into the server's args, or nothing. */
export function finalSnapshotIdentifier(
  name: string,
  suffix: random.RandomId | undefined,
): { finalSnapshotIdentifier?: pulumi.Output<string> } {
  return suffix
    ? { finalSnapshotIdentifier: pulumi.interpolate`${childName(name, "final")}-${suffix.hex}` }
    : {};
}
