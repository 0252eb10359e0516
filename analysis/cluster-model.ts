/**
 * Rendered Kubernetes objects → the NetworkPolicy model's inputs: one pod per workload template
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod), the namespaces with their
 * labels, and every NetworkPolicy. Workloads that only a Helm chart creates (the Envoy proxies,
 * Prometheus, CoreDNS) are not among the rendered objects: callers add them as `knownPods`.
 */
import { LABEL } from "../components/lib";
import {
  type ClusterModel,
  type ContainerPort,
  type Pod,
  type Policy,
  type Protocol,
} from "./network-policy";

/** A Kubernetes object as rendered (`apiVersion`, `kind`, `metadata`, `spec`...). */
export type KubernetesObject = Record<string, unknown>;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);

/** The pod template of a workload object, or undefined for other kinds. */
export function podTemplateOf(object: KubernetesObject): { metadata?: Obj; spec?: Obj } | undefined {
  const spec = obj(object.spec);
  switch (object.kind) {
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return obj(spec.template);
    case "CronJob":
      return obj(obj(obj(spec.jobTemplate).spec).template);
    case "Pod":
      return { metadata: obj(object.metadata), spec };
    default:
      return undefined;
  }
}

/** The pod a workload object runs, identified by its namespace and instance label (else its name). */
export function podOf(object: KubernetesObject): Pod | undefined {
  const template = podTemplateOf(object);
  if (!template) return undefined;
  const metadata = obj(object.metadata);
  const namespace = text(metadata.namespace, "default");
  const labels = obj(obj(template.metadata).labels) as Record<string, string>;
  const instance = labels[LABEL.instance] ?? text(metadata.name);
  const ports: ContainerPort[] = list(obj(template.spec).containers).flatMap((c) =>
    list(obj(c).ports).map((p) => {
      const port = obj(p);
      return {
        ...(typeof port.name === "string" ? { name: port.name } : {}),
        port: Number(port.containerPort),
        protocol: (typeof port.protocol === "string" ? port.protocol : "TCP") as Protocol,
      };
    }),
  );
  return { id: `${namespace}/${instance}`, namespace, labels, ports, kind: String(object.kind) };
}

/** The model of a rendered stack, plus the chart workloads the caller knows of. */
export function clusterModel(
  objects: readonly KubernetesObject[],
  knownPods: readonly Pod[] = [],
): ClusterModel {
  const namespaces = new Map<string, Record<string, string>>();
  const pods: Pod[] = [];
  const policies: Policy[] = [];
  for (const object of objects) {
    const metadata = obj(object.metadata);
    if (object.kind === "Namespace")
      namespaces.set(text(metadata.name), obj(metadata.labels) as Record<string, string>);
    else if (object.kind === "NetworkPolicy")
      policies.push({
        name: text(metadata.name),
        namespace: text(metadata.namespace),
        spec: obj(object.spec),
      });
    else {
      const pod = podOf(object);
      if (pod) pods.push(pod);
    }
  }
  for (const pod of knownPods) if (!namespaces.has(pod.namespace)) namespaces.set(pod.namespace, {});
  pods.push(...knownPods);
  pods.sort((a, b) => a.id.localeCompare(b.id));
  return { namespaces, pods, policies };
}
