/**
 * ScheduledJob: work that runs on a schedule and exits (a nightly risk run, a report, a cleanup), as
 * a Kubernetes CronJob hardened like every MicroService: its own ServiceAccount (no API token), a
 * ConfigMap with its settings, the restricted pod and container security context, a read-only root
 * filesystem, requests and limits, and a NetworkPolicy that admits nothing in and lets out only DNS,
 * the data services it uses and the external endpoints it declares.
 *
 * Overlapping runs are refused by default (`concurrencyPolicy: Forbid`), a run that cannot start in
 * time is skipped rather than piling up (`startingDeadlineSeconds`), and every run has a deadline
 * (`activeDeadlineSeconds`), so a hung run cannot hold its resources until the next one.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
  ComponentArgsError,
  childName,
  egressPolicyMetadata,
  dnsEgressRule,
  egressPeerRule,
  externalEgressRules,
  gated,
  imageReferenceProblem,
  labelDomainProblem,
  namespaceInputProblem,
  providerProblems,
  resourceProblems,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  scratchVolumes,
  secretKeyFile,
  shown,
  splitDependsOn,
  stageProblem,
  standardLabels,
  typeToken,
  withDependsOn,
  type ContainerResources,
  type ExternalEgress,
  type LabelDomainArgs,
  type Stage,
} from "./lib";
import { amountsOf } from "./capacity";
import { checksBeforeChildren, type ServiceFacts } from "./platform-scope";
import type { DataServiceForConsumers, MicroServiceUse } from "./MicroService";
import { EnvClaims, outputProblems, useEntries, useProblems } from "./workload-relations";

export interface ScheduledJobArgs extends LabelDomainArgs {
  /** Namespace to run in; pass `PlatformNamespace.name`. Example: `ns.name` or `"trading"`. */
  namespace: pulumi.Input<string>;
  /** Kubernetes name of the CronJob and its other objects, and its consumer name in stores. Default: the component's name. Example: `"risk-report"`. */
  serviceName?: string;
  /** Platform/catalog label (`app.kubernetes.io/part-of`). Default: none. Example: `"trading"`. */
  platform?: string;
  /** Stage label. Default: none. Example: `"production"`. */
  stage?: Stage;
  /** Pinned image reference (`repo:tag` or a digest); `:latest` and untagged are refused. Example: `"ghcr.io/acme/risk:2.1.0"`. */
  image: pulumi.Input<string>;
  /** Command to run. Default: the image's entrypoint. Example: `["python", "-m", "risk.nightly"]`. */
  command?: string[];
  /** Cron schedule, five fields. Example: `"30 2 * * *"` (02:30 every day). */
  schedule: string;
  /** IANA time zone of `schedule`. Default: the controller's (UTC on managed clusters). Example: `"Europe/London"`. */
  timeZone?: string;
  /** What a run due while the previous one still runs does: `Forbid` (skip it), `Replace` or `Allow`. Default: `"Forbid"`. */
  concurrencyPolicy?: "Forbid" | "Replace" | "Allow";
  /** Finished runs kept for inspection. Default: `{ successful: 3, failed: 3 }`. Example: `{ successful: 1, failed: 5 }`. */
  history?: { successful?: number; failed?: number };
  /** A run that cannot start within this many seconds of its time is skipped. Default: `300`. */
  startingDeadlineSeconds?: number;
  /** The deadline of one run, retries included (60 to 86400 s). Example: `3600`. */
  activeDeadlineSeconds: number;
  /** Retries of a failed run within the deadline. Default: `2`. */
  backoffLimit?: number;
  /** Requests and limits of the container. Example: `{ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } }`. */
  resources: ContainerResources;
  /** Plain settings (a ConfigMap; never secrets). Default: `{}`. */
  env?: Record<string, string>;
  /** Secret settings as `secretKeyRef`s. Default: `{}`. Example: `{ API_KEY: { secretName: "risk-api", key: "value" } }`. */
  secretEnv?: Record<string, { secretName: pulumi.Input<string>; key: string }>;
  /**
   * Data services it uses, as MicroService's `uses`: the connection Secret, the CA file, the egress,
   * and the CronJob waits for each store's `ready`. The store must list it among its consumers.
   * Default: `[]`. Example: `[riskDb]`.
   */
  uses?: (DataServiceForConsumers | MicroServiceUse)[];
  /** Endpoints outside the cluster it calls, with why (public addresses only). Default: `[]`. */
  externalEgress?: ExternalEgress[];
  /** Writable directories (emptyDir) under the read-only root filesystem. Default: `["/tmp"]`. */
  writablePaths?: string[];
  /** Non-root UID and GID. Default: `1000`. */
  runAsUser?: number;
}

/** A CronJob with the hardening and relations of a MicroService, for work that runs and exits. */
export class ScheduledJob extends pulumi.ComponentResource {
  public readonly serviceName: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  public readonly cronJob: k8s.batch.v1.CronJob;
  public readonly serviceAccount: k8s.core.v1.ServiceAccount;
  public readonly configMap: k8s.core.v1.ConfigMap;
  public readonly networkPolicy: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: ScheduledJobArgs, opts?: pulumi.ComponentResourceOptions) {
    const { options, dependsOn } = splitDependsOn(opts);
    const problems = [...providerProblems(opts, "kubernetes"), ...scheduledJobProblems(name, args)];
    if (problems.length > 0) throw new ComponentArgsError("ScheduledJob", name, problems);
    super(typeToken("ScheduledJob"), name, {}, options);

    const serviceName = args.serviceName ?? name;
    const gate = checksBeforeChildren("ScheduledJob", name, scopeFacts(name, args), () =>
      outputProblems(serviceName, args),
    );
    const spec = normalize(name, args, this, gate);
    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      childName(name, "sa"),
      { metadata: spec.meta(serviceName), automountServiceAccountToken: false },
      spec.child,
    );
    this.configMap = new k8s.core.v1.ConfigMap(
      childName(name, "env"),
      { metadata: spec.meta(childName(serviceName, "env")), data: spec.env },
      spec.child,
    );
    this.networkPolicy = createNetworkPolicy(spec);
    this.cronJob = createCronJob(spec, this.serviceAccount, this.configMap, {
      dependsOn: gated(
        withDependsOn(dependsOn, ...spec.uses.map((u) => u.store.ready), this.networkPolicy),
        gate,
      ),
    });
    this.serviceName = pulumi.output(serviceName);
    this.namespace = spec.ns;
    this.registerOutputs({ serviceName: this.serviceName, namespace: this.namespace });
  }
}

type Spec = ReturnType<typeof normalize>;

function normalize(
  name: string,
  args: ScheduledJobArgs,
  parent: ScheduledJob,
  gate: Promise<pulumi.Resource[]>,
) {
  const serviceName = args.serviceName ?? name;
  const ns = pulumi.output(args.namespace);
  const labels = standardLabels({
    name: serviceName,
    component: "scheduled-job",
    platform: args.platform,
    stage: args.stage,
    labelDomain: args.labelDomain,
  });
  const image =
    typeof args.image === "string" ? args.image.trim() : pulumi.output(args.image).apply((i) => i.trim());
  return {
    name,
    serviceName,
    ns,
    labels,
    // The pods' own selector: the CronJob's Jobs label their pods with it.
    selector: { "app.kubernetes.io/name": serviceName, "app.kubernetes.io/instance": serviceName },
    labelDomain: args.labelDomain,
    image,
    command: args.command,
    schedule: args.schedule,
    timeZone: args.timeZone,
    concurrencyPolicy: args.concurrencyPolicy ?? "Forbid",
    successful: args.history?.successful ?? 3,
    failed: args.history?.failed ?? 3,
    startingDeadlineSeconds: args.startingDeadlineSeconds ?? 300,
    activeDeadlineSeconds: args.activeDeadlineSeconds,
    backoffLimit: args.backoffLimit ?? 2,
    resources: args.resources,
    env: args.env ?? {},
    secretEnv: args.secretEnv ?? {},
    uses: useEntries(args.uses),
    externalEgress: args.externalEgress ?? [],
    writablePaths: args.writablePaths ?? ["/tmp"],
    runAsUser: args.runAsUser ?? 1000,
    meta: (objectName: string) => ({ name: objectName, namespace: ns, labels }),
    child: { parent, dependsOn: gated([], gate) } as pulumi.CustomResourceOptions,
  };
}

/** Nothing in; DNS, the stores used and the declared external endpoints out. */
function createNetworkPolicy(spec: Spec): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    childName(spec.name, "netpol"),
    {
      metadata: egressPolicyMetadata(spec.meta(spec.serviceName), spec.externalEgress, spec.labelDomain),
      spec: {
        podSelector: { matchLabels: spec.selector },
        policyTypes: ["Ingress", "Egress"],
        egress: [
          dnsEgressRule(),
          ...spec.uses.map(({ store }) => egressPeerRule(store.egressPeer)),
          ...externalEgressRules(spec.externalEgress),
        ],
      },
    },
    spec.child,
  );
}

function createCronJob(
  spec: Spec,
  serviceAccount: k8s.core.v1.ServiceAccount,
  configMap: k8s.core.v1.ConfigMap,
  opts: { dependsOn: pulumi.Input<pulumi.Resource>[] },
): k8s.batch.v1.CronJob {
  const scratch = scratchVolumes(spec.writablePaths);
  const files = spec.uses.flatMap(({ store }, i) =>
    store.serverCa ? [secretKeyFile(`store-ca-${i}`, store.serverCa)] : [],
  );
  const env = [
    ...Object.entries(spec.secretEnv).map(([name, ref]) => ({
      name,
      valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } },
    })),
    ...spec.uses.map(({ store, env: name }) => ({
      name,
      valueFrom: {
        secretKeyRef: { name: store.connectionSecretNames[spec.serviceName]!, key: store.connectionEnv },
      },
    })),
  ];
  const podLabels = { ...spec.labels, ...spec.selector };
  return new k8s.batch.v1.CronJob(
    childName(spec.name, "cron"),
    {
      metadata: spec.meta(spec.serviceName),
      spec: {
        schedule: spec.schedule,
        ...(spec.timeZone ? { timeZone: spec.timeZone } : {}),
        concurrencyPolicy: spec.concurrencyPolicy,
        successfulJobsHistoryLimit: spec.successful,
        failedJobsHistoryLimit: spec.failed,
        startingDeadlineSeconds: spec.startingDeadlineSeconds,
        jobTemplate: {
          metadata: { labels: podLabels },
          spec: {
            backoffLimit: spec.backoffLimit,
            activeDeadlineSeconds: spec.activeDeadlineSeconds,
            template: {
              metadata: { labels: podLabels },
              spec: {
                restartPolicy: "Never",
                serviceAccountName: serviceAccount.metadata.name,
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                securityContext: restrictedPodSecurityContext(spec.runAsUser),
                containers: [
                  {
                    name: spec.serviceName,
                    image: spec.image,
                    imagePullPolicy: "IfNotPresent",
                    ...(spec.command ? { command: spec.command } : {}),
                    envFrom: [{ configMapRef: { name: configMap.metadata.name } }],
                    env,
                    resources: spec.resources,
                    securityContext: restrictedContainerSecurityContext(spec.runAsUser),
                    volumeMounts: [...scratch.mounts, ...files.map((f) => f.mount)],
                    terminationMessagePolicy: "FallbackToLogsOnError",
                  },
                ],
                volumes: [...scratch.volumes, ...files.map((f) => f.volume)],
              },
            },
          },
        },
      },
    },
    { ...spec.child, dependsOn: opts.dependsOn },
  );
}

/** What the platform scope checks it against: a consumer of its stores, one Job pod in its namespace. */
function scopeFacts(name: string, args: ScheduledJobArgs): ServiceFacts {
  const serviceName = args.serviceName ?? name;
  return {
    kind: "ScheduledJob",
    name,
    serviceName,
    namespace: args.namespace,
    calls: [],
    callers: [],
    uses: useEntries(args.uses).map((u) => u.store),
    demand: [
      {
        id: serviceName,
        kind: "Job",
        ...amountsOf(args.resources),
        replicas: { min: 1, max: 1 },
        surge: { min: 0, max: 0 },
      },
    ],
  };
}

const CRON_FIELD = /^(\*|[0-9]+(-[0-9]+)?)(\/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(\/[0-9]+)?)*$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const isWholeIn = (n: unknown, min: number, max: number): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;

/** Every problem with the args, at once (nothing is created when there is one). */
export function scheduledJobProblems(name: string, args: ScheduledJobArgs): string[] {
  const p: string[] = [];
  const serviceName = args.serviceName ?? name;
  // CronJob names get an 11-character suffix per Job (`-<timestamp>`), and Job names are capped at 63.
  if (!DNS_LABEL.test(serviceName) || serviceName.length > 52)
    p.push(
      `service name "${serviceName}" must be a DNS label of at most 52 characters (a CronJob's Jobs add 11)`,
    );
  const namespace = namespaceInputProblem("namespace", args.namespace);
  if (namespace) p.push(namespace);
  for (const problem of [stageProblem(args.stage), labelDomainProblem(args.labelDomain)])
    if (problem) p.push(problem);
  if (typeof args.image === "string" || args.image === undefined) {
    const problem = imageReferenceProblem(args.image ?? "");
    if (problem) p.push(problem);
  }
  const fields = typeof args.schedule === "string" ? args.schedule.trim().split(/\s+/) : [];
  if (fields.length !== 5 || !fields.every((f) => CRON_FIELD.test(f)))
    p.push(
      `schedule must be a cron expression of five fields such as "30 2 * * *", found ${shown(args.schedule)}`,
    );
  if (
    args.concurrencyPolicy !== undefined &&
    !["Forbid", "Replace", "Allow"].includes(args.concurrencyPolicy)
  )
    p.push(
      `concurrencyPolicy must be "Forbid", "Replace" or "Allow", found ${shown(args.concurrencyPolicy)}`,
    );
  for (const [key, value, min, max] of [
    ["activeDeadlineSeconds", args.activeDeadlineSeconds, 60, 86400],
    ["startingDeadlineSeconds", args.startingDeadlineSeconds ?? 300, 10, 86400],
    ["backoffLimit", args.backoffLimit ?? 2, 0, 10],
    ["history.successful", args.history?.successful ?? 3, 0, 100],
    ["history.failed", args.history?.failed ?? 3, 0, 100],
  ] as const)
    if (!isWholeIn(value, min, max))
      p.push(`${key} must be a whole number from ${min} to ${max}, found ${shown(value)}`);
  if (args.command !== undefined && (args.command.length === 0 || args.command.some((c) => c === "")))
    p.push("command must be a non-empty list of non-empty strings");
  p.push(
    ...(!args.resources?.requests || !args.resources?.limits
      ? ["resources must give requests and limits for cpu and memory"]
      : resourceProblems("resources", args.resources)),
  );
  const env = new EnvClaims();
  for (const key of Object.keys(args.env ?? {})) env.claim(key, "env");
  for (const key of Object.keys(args.secretEnv ?? {})) env.claim(key, "secretEnv");
  p.push(...useProblems(serviceName, args, env), ...env.problems);
  if (args.runAsUser !== undefined && !isWholeIn(args.runAsUser, 1, 2147483647))
    p.push(`runAsUser must be a non-root UID (1 to 2147483647), found ${shown(args.runAsUser)}`);
  return p;
}
