/**
 * Worker: a long-running workload that serves no port (a queue consumer, a poller, an ingestion
 * loop), deployed exactly as a MicroService is: the same steps build its ServiceAccount, ConfigMap,
 * migration, hardened Deployment, autoscaling, disruption budget and NetworkPolicy. What differs:
 *
 * - no serving port, so no Service to call it by and no `endpoint`: nothing can name it in `calls`
 *   (a written-out endpoint to it is refused by the platform scope), and its NetworkPolicy admits
 *   nothing but the metrics scrapes declared in `ingressFrom`;
 * - health by a command (`health.exec`) or by an HTTP GET on the metrics port, which is also what
 *   Prometheus scrapes; a worker with a metrics port gets a Service carrying only that port
 *   (`<serviceName>-metrics`), for a ServiceMonitor to select;
 * - `autoscaling.queue` scales it on the depth of a RabbitMQ queue through KEDA (see
 *   queue-scaling.ts) instead of the CPU/memory HPA;
 * - `singleton` needs no volume: a worker that must never run twice (a poller, an ordered consumer)
 *   runs one replica in production with its reason recorded, and is replaced rather than rolled so
 *   two never overlap.
 *
 * A sibling rather than a mode of MicroService, because a MicroService's contract is its port: its
 * `endpoint`, `url` and `service` are what callers use, and a worker has none of them. As its own
 * type, a worker cannot be passed where an endpoint is expected, and its outputs hold no value that
 * would be undefined.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { ComponentArgsError, providerProblems, shown, splitDependsOn, typeToken } from "./lib";
import { checksBeforeChildren } from "./platform-scope";
import {
  buildWorkload,
  scopeFacts,
  workloadProblems,
  type MicroServiceArgs,
  type WorkloadArgs,
} from "./MicroService";
import { queueScalingProblems, type QueueScaling } from "./queue-scaling";
import { outputProblems, useEntries } from "./workload-relations";
import type { ProbeTiming } from "./lib";

export interface WorkerArgs extends Omit<
  MicroServiceArgs,
  | "port"
  | "protocol"
  | "metrics"
  | "health"
  | "callers"
  | "ingressFrom"
  | "persistence"
  | "protect"
  | "autoscaling"
  | "singleton"
  | "component"
> {
  /** Value of `app.kubernetes.io/component`. Default: `"worker"`. Example: `"queue-consumer"`. */
  component?: string;
  /**
   * The port and path Prometheus scrapes (HTTP). The health probes use this port too unless
   * `health.exec` is set. Default: none (no metrics, no Service; then `health.exec` is required).
   * Example: `{ port: 9106 }` or `{ port: 9106, path: "/prometheus" }` (path default `/metrics`).
   */
  metrics?: { port: number; path?: string };
  /**
   * How the kubelet checks the worker. `exec`: a command run in the container, healthy when it exits
   * 0 (plain data, no shell unless the command names one); otherwise an HTTP GET on the metrics port
   * at `path`. One of `exec` or `metrics` is required. Timings as MicroService's.
   * Default: `{ path: "/health" }` on the metrics port. Example: `{ exec: ["/app/healthcheck"] }`.
   */
  health?: {
    exec?: string[];
    path?: string;
    startup?: ProbeTiming;
    liveness?: ProbeTiming;
    readiness?: ProbeTiming;
  };
  /**
   * Namespaces (optionally only some of their pods) admitted to the metrics port: the monitoring
   * stack. Nothing else is ever admitted. Default: `[]`.
   * Example: `[{ namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } }]`.
   */
  ingressFrom?: { namespace: string; podLabels?: Record<string, string> }[];
  /**
   * Autoscaling within `replicas` (only when `max > min`): CPU and memory targets in percent of the
   * requests, and optionally a queue whose depth scales the worker through KEDA (a ScaledObject
   * replaces the HPA; KEDA must be installed in the cluster).
   * Default: `{ cpuUtilization: 70, memoryUtilization: 80 }`, no queue.
   * Example: `{ queue: { broker, queueName: "notifications", messagesPerReplica: 50 } }`.
   */
  autoscaling?: { cpuUtilization?: number; memoryUtilization?: number; queue?: QueueScaling };
  /**
   * A worker that must never run twice (a poller that would fetch twice, a consumer that must keep
   * order): `replicas: { min: 1, max: 1 }` in any stage, production included, with the reason on
   * the Deployment (annotation `<labelDomain>/singleton-reason`). Its Deployment is replaced, not
   * rolled (`Recreate`): a short gap on each rollout instead of two copies at once. No volume needed.
   * Default: none. Example: `{ reason: "the market feed allows one session per account" }`.
   */
  singleton?: { reason: string };
}

/** A hardened Deployment that serves no port: health by command or metrics port; may scale on a queue. */
export class Worker extends pulumi.ComponentResource {
  /** Name of the Deployment (and of every other object the worker owns). */
  public readonly serviceName: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  /** Labels selecting the worker's pods (for monitors and policies). */
  public readonly selectorLabels: pulumi.Output<Record<string, string>>;
  /** Port Prometheus scrapes, or undefined without metrics. */
  public readonly metricsPort: pulumi.Output<number | undefined>;
  /** Path Prometheus scrapes, or undefined without metrics. */
  public readonly metricsPath: pulumi.Output<string | undefined>;
  /** `metrics` (the metrics Service's port name), or undefined without metrics. */
  public readonly metricsPortName: pulumi.Output<string | undefined>;
  public readonly workload: k8s.apps.v1.Deployment;
  /** The Service carrying only the metrics port (`<serviceName>-metrics`), when there are metrics. */
  public readonly metricsService?: k8s.core.v1.Service;
  public readonly serviceAccount: k8s.core.v1.ServiceAccount;
  public readonly configMap: k8s.core.v1.ConfigMap;
  public readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  /** Per service called, the NetworkPolicy in its namespace that admits this worker. */
  public readonly callerAdmissions: k8s.networking.v1.NetworkPolicy[];
  public readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;
  /** The CPU/memory HPA, when the worker scales and has no queue. */
  public readonly autoscaler?: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  /** KEDA's ScaledObject and TriggerAuthentication, when it scales on a queue. */
  public readonly scaledObject?: k8s.apiextensions.CustomResource;
  public readonly triggerAuthentication?: k8s.apiextensions.CustomResource;
  public readonly migrationJob?: k8s.batch.v1.Job;

  constructor(name: string, args: WorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    const { options, dependsOn } = splitDependsOn(opts);
    const problems = [...providerProblems(opts, "kubernetes"), ...workerProblems(name, args)];
    if (problems.length > 0) throw new ComponentArgsError("Worker", name, problems);
    super(typeToken("Worker"), name, {}, options);

    const workload = workloadArgs(args);
    const facts = scopeFacts(name, workload, "Worker");
    const gate = checksBeforeChildren("Worker", name, facts, () =>
      outputProblems(args.serviceName ?? name, args),
    );
    const built = buildWorkload(name, workload, dependsOn, this, gate);
    facts.output = built.spec.ns;
    this.serviceAccount = built.serviceAccount;
    this.configMap = built.configMap;
    this.migrationJob = built.migrationJob;
    this.networkPolicy = built.networkPolicy;
    this.callerAdmissions = built.callerAdmissions;
    this.metricsService = built.service;
    this.workload = built.workload as k8s.apps.v1.Deployment;
    this.autoscaler = built.autoscaler;
    this.scaledObject = built.queueScaling?.scaledObject;
    this.triggerAuthentication = built.queueScaling?.triggerAuthentication;
    this.podDisruptionBudget = built.podDisruptionBudget;

    this.serviceName = pulumi.output(built.spec.serviceName);
    this.namespace = built.spec.ns;
    this.selectorLabels = pulumi.output(built.spec.selector);
    this.metricsPort = pulumi.output(args.metrics?.port);
    this.metricsPath = pulumi.output(args.metrics ? (args.metrics.path ?? "/metrics") : undefined);
    this.metricsPortName = pulumi.output(args.metrics ? "metrics" : undefined);
    this.registerOutputs({
      serviceName: this.serviceName,
      namespace: this.namespace,
      selectorLabels: this.selectorLabels,
      metricsPort: this.metricsPort,
      metricsPath: this.metricsPath,
      metricsPortName: this.metricsPortName,
    });
  }
}

/** A worker's args as the shared workload steps take them: metrics on their own port, no service port. */
function workloadArgs(args: WorkerArgs): WorkloadArgs {
  return {
    ...args,
    component: args.component ?? "worker",
    metrics: args.metrics
      ? { enabled: true, port: args.metrics.port, path: args.metrics.path }
      : { enabled: false },
    health: {
      livenessPath: args.health?.path,
      exec: args.health?.exec,
      startup: args.health?.startup,
      liveness: args.health?.liveness,
      readiness: args.health?.readiness,
    },
    ingressFrom: (args.ingressFrom ?? []).map((i) => ({ ...i, port: "metrics" as const })),
  };
}

/** Args a MicroService has and a Worker must not: each refused with what to do instead. */
const NOT_FOR_WORKERS: Record<string, string> = {
  port: "a Worker serves no port; a workload others call is a MicroService",
  protocol: "a Worker serves no port, so it has no protocol; a workload others call is a MicroService",
  callers: "nothing can call a Worker (it serves no port)",
  persistence:
    "a Worker keeps no volume; a workload with its own data is a MicroService with persistence, or uses a data service",
  protect: "a Worker keeps no volume to protect",
};

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const isWholeIn = (n: unknown, min: number, max: number): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;

/** Every problem with a Worker's args, at once: its own (ports, health, queue), then the shared ones. */
export function workerProblems(name: string, args: WorkerArgs): string[] {
  const own: string[] = [];
  for (const [key, why] of Object.entries(NOT_FOR_WORKERS))
    if ((args as unknown as Record<string, unknown>)[key] !== undefined)
      own.push(`${key} is not an arg of Worker: ${why}`);
  if (args.metrics !== undefined) {
    if (!isWholeIn(args.metrics.port, 1024, 65535))
      own.push(
        `metrics.port must be a whole number from 1024 to 65535 (the container runs without privileges), found ${shown(args.metrics.port)}`,
      );
    if (args.metrics.path !== undefined && !args.metrics.path.startsWith("/"))
      own.push(`metrics.path must start with "/", found ${shown(args.metrics.path)}`);
  }
  const exec = args.health?.exec;
  if (exec !== undefined && (!Array.isArray(exec) || exec.length === 0 || exec.some((c) => c === "")))
    own.push(`health.exec must be a non-empty list of non-empty strings, found ${shown(exec)}`);
  if (exec === undefined && args.metrics === undefined)
    own.push(
      "health: a Worker needs health.exec (a command that exits 0 when healthy) or metrics.port (probed over HTTP at health.path); it has no serving port to probe",
    );
  if (args.health?.path !== undefined) {
    if (!args.health.path.startsWith("/"))
      own.push(`health.path must start with "/", found ${shown(args.health.path)}`);
    if (exec !== undefined) own.push("health.path is not used when health.exec is set; give one of them");
  }
  for (const [i, from] of (args.ingressFrom ?? []).entries()) {
    if (!NAMESPACE_NAME.test(from.namespace ?? ""))
      own.push(`ingressFrom[${i}]: namespace ${shown(from.namespace)} must be a DNS label`);
    if ("port" in from)
      own.push(
        `ingressFrom[${i}]: port is not an arg of a Worker's ingressFrom (only the metrics port is admitted)`,
      );
  }
  if (args.ingressFrom?.length && args.metrics === undefined)
    own.push("ingressFrom admits scrapes of the metrics port, but the Worker has no metrics.port");
  if (args.autoscaling?.queue !== undefined)
    own.push(
      ...queueScalingProblems(
        args.autoscaling.queue,
        args,
        useEntries(args.uses).map((u) => u.store),
      ),
    );
  // ingressFrom is checked above in a Worker's own terms; the shared check would repeat it.
  return workloadProblems(name, { ...workloadArgs(args), ingressFrom: [] }, "Worker", own);
}
