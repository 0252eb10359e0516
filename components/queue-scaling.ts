/**
 * Scaling a queue consumer on the depth of its queue, through KEDA: a `ScaledObject` takes the place
 * of the HorizontalPodAutoscaler (KEDA creates and owns the HPA itself; two autoscalers on one
 * Deployment would fight), with the RabbitMQ queue-length trigger plus the CPU and memory targets
 * every other workload has. The broker's address and credentials come from the consumer's own
 * connection Secret through a `TriggerAuthentication`, so nothing secret is written into either
 * object: KEDA reads the Secret in the workload's namespace, as the pods do.
 *
 * The same trigger covers both MessageBroker backends: in-cluster RabbitMQ (`amqp://`) and Amazon MQ
 * for RabbitMQ (`amqps://`); the URL in the Secret says which.
 *
 * KEDA's operator polls the queue's length over AMQP from its own namespace. For an in-cluster
 * broker, the consumer that states the scaling also owns an additive NetworkPolicy in the broker's
 * namespace admitting the operator's pods on the broker's port (as a caller owns its admission to a
 * callee). Amazon MQ admits the cluster's security group, which the operator's pods share already.
 * KEDA itself (its operator and CRDs) is not installed here.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { childName, isDataService, selectorLabels, shown } from "./lib";
import type { DataServiceForConsumers } from "./MicroService";

export const KEDA_API_VERSION = "keda.sh/v1alpha1";

/** A queue whose depth sets the replica count. */
export interface QueueScaling {
  /**
   * The MessageBroker the queue lives on: the object itself, which this workload must also list in
   * `uses` (its connection Secret is what KEDA authenticates with). Example: `broker`.
   */
  broker: DataServiceForConsumers;
  /** Name of the queue. Example: `"notifications"`. */
  queueName: string;
  /**
   * Ready messages per replica: KEDA sizes the workload so that each replica has about this many
   * waiting (`ceil(depth / messagesPerReplica)`), within `replicas.min` and `replicas.max`.
   * Default: `20`. Example: `50`.
   */
  messagesPerReplica?: number;
  /** How often KEDA reads the queue's length, in seconds. Default: `30`. */
  pollingIntervalSeconds?: number;
  /**
   * Where KEDA's operator runs, for its admission to an in-cluster broker. Default: its Helm chart's
   * `{ namespace: "keda", podLabels: { "app.kubernetes.io/name": "keda-operator" } }`.
   * Example: `{ namespace: "autoscaling", podLabels: { "app.kubernetes.io/name": "keda-operator" } }`.
   */
  operator?: { namespace: string; podLabels: Record<string, string> };
}

/** KEDA's operator as its Helm chart installs it. */
export const KEDA_OPERATOR = {
  namespace: "keda",
  podLabels: { "app.kubernetes.io/name": "keda-operator" },
} as const;

/** What a ScaledObject is built from. */
export interface ScaledObjectSpec {
  name: string;
  serviceName: string;
  meta: (name: string) => {
    name: pulumi.Input<string>;
    namespace: pulumi.Input<string>;
    labels: Record<string, pulumi.Input<string>>;
  };
  replicas: { min: number; max: number };
  cpuUtilization: number;
  memoryUtilization: number;
  queue: QueueScaling;
  /** Name of the Secret holding the broker's URL for this consumer, and its key. */
  secret: { name: string; key: string };
  labels: Record<string, pulumi.Input<string>>;
  child: pulumi.CustomResourceOptions;
}

/**
 * The TriggerAuthentication (the broker URL from the consumer's Secret) and the ScaledObject. The
 * floor is `replicas.min`, never zero: a scaled-to-zero consumer would leave the PodDisruptionBudget,
 * the production replica floor and the ServiceDown alert meaning nothing.
 */
export function createQueueScaling(spec: ScaledObjectSpec): {
  triggerAuthentication: k8s.apiextensions.CustomResource;
  scaledObject: k8s.apiextensions.CustomResource;
  operatorAdmission?: k8s.networking.v1.NetworkPolicy;
} {
  const operatorAdmission = createOperatorAdmission(spec);
  const authName = childName(spec.serviceName, "queue");
  const triggerAuthentication = new k8s.apiextensions.CustomResource(
    childName(spec.name, "trigger-auth"),
    {
      apiVersion: KEDA_API_VERSION,
      kind: "TriggerAuthentication",
      metadata: spec.meta(authName),
      spec: { secretTargetRef: [{ parameter: "host", name: spec.secret.name, key: spec.secret.key }] },
    },
    spec.child,
  );
  const utilization = (type: "cpu" | "memory", value: number) => ({
    type,
    metricType: "Utilization",
    metadata: { value: String(value) },
  });
  const scaledObject = new k8s.apiextensions.CustomResource(
    childName(spec.name, "scaledobject"),
    {
      apiVersion: KEDA_API_VERSION,
      kind: "ScaledObject",
      metadata: spec.meta(spec.serviceName),
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: spec.serviceName },
        minReplicaCount: spec.replicas.min,
        maxReplicaCount: spec.replicas.max,
        pollingInterval: spec.queue.pollingIntervalSeconds ?? 30,
        // The HPA KEDA creates scales down only after five calm minutes, as the platform's own do.
        advanced: {
          horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } },
        },
        triggers: [
          {
            type: "rabbitmq",
            metadata: {
              protocol: "amqp",
              mode: "QueueLength",
              value: String(spec.queue.messagesPerReplica ?? 20),
              queueName: spec.queue.queueName,
            },
            authenticationRef: { name: authName },
          },
          utilization("cpu", spec.cpuUtilization),
          utilization("memory", spec.memoryUtilization),
        ],
      },
    },
    { ...spec.child, dependsOn: [triggerAuthentication, ...(operatorAdmission ? [operatorAdmission] : [])] },
  );
  return { triggerAuthentication, scaledObject, operatorAdmission };
}

/**
 * For an in-cluster broker: an additive NetworkPolicy in the broker's namespace admitting KEDA's
 * operator on the broker's port, owned by (and deleted with) the consumer that scales on it.
 */
function createOperatorAdmission(spec: ScaledObjectSpec): k8s.networking.v1.NetworkPolicy | undefined {
  const peer = spec.queue.broker.egressPeer;
  if (!("pod" in peer)) return undefined;
  const operator = spec.queue.operator ?? KEDA_OPERATOR;
  return new k8s.networking.v1.NetworkPolicy(
    childName(spec.name, "admit-keda"),
    {
      metadata: {
        name: `${peer.pod.name}-from-keda-${spec.serviceName}`,
        namespace: peer.pod.namespace,
        labels: spec.labels,
      },
      spec: {
        podSelector: { matchLabels: selectorLabels(peer.pod.name) },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": operator.namespace } },
                podSelector: { matchLabels: { ...operator.podLabels } },
              },
            ],
            ports: [{ protocol: "TCP", port: peer.port }],
          },
        ],
      },
    },
    spec.child,
  );
}

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUEUE_NAME = /^[-_.:a-zA-Z0-9]{1,255}$/;
const isWholeIn = (n: unknown, min: number, max: number): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;

/**
 * Problems with `autoscaling.queue`: a MessageBroker this workload uses, a queue name, sane figures,
 * and a replica range to scale in.
 */
export function queueScalingProblems(
  queue: QueueScaling,
  args: { uses?: readonly unknown[]; replicas?: { min: number; max: number } },
  usedStores: readonly object[],
): string[] {
  const p: string[] = [];
  const broker = queue.broker as unknown;
  if (!isDataService(broker) || (broker as DataServiceForConsumers).connectionEnv !== "RABBITMQ_URL")
    p.push(
      `autoscaling.queue.broker must be a MessageBroker object (the one in uses), found ${isDataService(broker) ? `a store that provides ${(broker as DataServiceForConsumers).connectionEnv}` : shown(broker)}`,
    );
  else if (!usedStores.includes(broker as object))
    p.push(
      "autoscaling.queue.broker is not in uses: KEDA authenticates with this workload's own connection Secret, which exists only for a broker it uses; add the broker to uses",
    );
  if (typeof queue.queueName !== "string" || !QUEUE_NAME.test(queue.queueName))
    p.push(
      `autoscaling.queue.queueName must be a RabbitMQ queue name (1 to 255 of letters, digits, "-", "_", ".", ":"), found ${shown(queue.queueName)}`,
    );
  if (queue.messagesPerReplica !== undefined && !isWholeIn(queue.messagesPerReplica, 1, 100000))
    p.push(
      `autoscaling.queue.messagesPerReplica must be a whole number from 1 to 100000, found ${shown(queue.messagesPerReplica)}`,
    );
  if (queue.pollingIntervalSeconds !== undefined && !isWholeIn(queue.pollingIntervalSeconds, 5, 3600))
    p.push(
      `autoscaling.queue.pollingIntervalSeconds must be a whole number from 5 to 3600, found ${shown(queue.pollingIntervalSeconds)}`,
    );
  if (queue.operator !== undefined) {
    if (!NAMESPACE_NAME.test(queue.operator.namespace ?? ""))
      p.push(
        `autoscaling.queue.operator.namespace must be a namespace name, found ${shown(queue.operator.namespace)}`,
      );
    if (Object.keys(queue.operator.podLabels ?? {}).length === 0)
      p.push("autoscaling.queue.operator.podLabels is empty: it would admit every pod of that namespace");
  }
  const { min, max } = args.replicas ?? { min: NaN, max: NaN };
  if (min === max)
    p.push(
      `autoscaling.queue needs a replica range to scale in, but replicas.min equals replicas.max (${max}); raise replicas.max`,
    );
  return p;
}
