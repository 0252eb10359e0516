/**
 * Workload objects as rendered (or as the policy pack sees them): their pod templates, and their
 * demand for the capacity model (`renderedDemand`). Imports nothing but plain helpers, so the policy
 * pack can load it without the component library.
 */
import { type Obj, obj, list, text } from "./plain";
import { cpuMillis, memoryBytes } from "../components/lib";
import { surgePods, type Amount, type WorkloadDemand } from "./capacity";

/** A Kubernetes object as rendered (`apiVersion`, `kind`, `metadata`, `spec`...). */
export type KubernetesObject = Record<string, unknown>;

const quantity = (v: unknown): string => (typeof v === "number" ? String(v) : text(v));

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
    case "Cluster":
      return object.apiVersion === CNPG_CLUSTER_API ? cnpgInstanceTemplate(object) : undefined;
    default:
      return undefined;
  }
}

const CNPG_CLUSTER_API = "postgresql.cnpg.io/v1";

/**
 * The instance pods a CloudNativePG `Cluster` has the operator run: its inherited labels plus the
 * operator's own, one postgres container with the Cluster's resources on 5432 (the operator's
 * contract; the pods themselves are never rendered).
 */
function cnpgInstanceTemplate(object: KubernetesObject): { metadata: Obj; spec: Obj } {
  const spec = obj(object.spec);
  return {
    metadata: {
      labels: {
        ...obj(obj(spec.inheritedMetadata).labels),
        "cnpg.io/cluster": text(obj(object.metadata).name),
        "cnpg.io/podRole": "instance",
      },
    },
    spec: {
      containers: [
        {
          name: "postgres",
          resources: obj(spec.resources),
          ports: [{ name: "postgresql", containerPort: 5432, protocol: "TCP" }],
        },
      ],
    },
  };
}

/** Requests and limits of a pod template: its containers summed (init containers run before, one at a time). */
function podAmounts(spec: Obj): { requests: Amount; limits: Amount } {
  const sum = { requests: { cpu: 0, memory: 0 }, limits: { cpu: 0, memory: 0 } };
  for (const c of list(spec.containers)) {
    const r = obj(obj(c).resources);
    for (const kind of ["requests", "limits"] as const) {
      const q = obj(r[kind]);
      sum[kind].cpu += q.cpu === undefined ? 0 : cpuMillis(quantity(q.cpu));
      sum[kind].memory += q.memory === undefined ? 0 : memoryBytes(quantity(q.memory));
    }
  }
  return sum;
}

/**
 * Demand of rendered workload objects; a Deployment or StatefulSet an HPA or a KEDA ScaledObject
 * targets scales in its range (KEDA's defaults when a count is left out: 0 to 100).
 */
export function renderedDemand(objects: readonly KubernetesObject[]): WorkloadDemand[] {
  const hpas = new Map<string, { min: number; max: number }>();
  const whole = (v: unknown, fallback: number) => (typeof v === "number" ? v : fallback);
  for (const o of objects) {
    const spec = obj(o.spec);
    const target = obj(spec.scaleTargetRef);
    const key = `${text(obj(o.metadata).namespace)}/${text(target.kind, "Deployment")}/${text(target.name)}`;
    if (o.kind === "HorizontalPodAutoscaler")
      hpas.set(key, { min: whole(spec.minReplicas, 1), max: whole(spec.maxReplicas, 1) });
    else if (o.kind === "ScaledObject" && String(o.apiVersion).startsWith("keda.sh/"))
      hpas.set(key, { min: whole(spec.minReplicaCount, 0), max: whole(spec.maxReplicaCount, 100) });
  }
  const demand: WorkloadDemand[] = [];
  for (const o of objects) {
    const kind = o.kind;
    const cnpg = kind === "Cluster" && o.apiVersion === CNPG_CLUSTER_API;
    // A CronJob counts as the Job it starts: one run at a time (ScheduledJob forbids overlaps by default).
    const job = kind === "Job" || kind === "CronJob";
    if (kind !== "Deployment" && kind !== "StatefulSet" && !job && kind !== "DaemonSet" && !cnpg) continue;
    const metadata = obj(o.metadata);
    const namespace = text(metadata.namespace, "default");
    const spec = obj(o.spec);
    const template = podTemplateOf(o) ?? {};
    const labels = obj(obj(template.metadata).labels);
    const name = text(labels["app.kubernetes.io/instance"], text(metadata.name));
    const hpa = hpas.get(`${namespace}/${kind}/${text(metadata.name)}`);
    const count =
      typeof spec.replicas === "number"
        ? spec.replicas
        : typeof spec.instances === "number"
          ? spec.instances
          : 1;
    const replicas = job || kind === "DaemonSet" ? { min: 1, max: 1 } : (hpa ?? { min: count, max: count });
    const maxSurge = obj(obj(spec.strategy).rollingUpdate).maxSurge as string | number | undefined;
    demand.push({
      id: `${namespace}/${name}`,
      namespace,
      // The operator runs a Cluster's instances as pods it owns, like a StatefulSet's.
      kind: kind === "Cluster" ? "StatefulSet" : kind === "CronJob" ? "Job" : kind,
      ...podAmounts(obj(template.spec)),
      replicas,
      // A Recreate Deployment stops its old pods before starting new ones: no surge.
      surge:
        kind === "Deployment" && obj(spec.strategy).type !== "Recreate"
          ? { min: surgePods(maxSurge, replicas.min), max: surgePods(maxSurge, replicas.max) }
          : { min: 0, max: 0 },
    });
  }
  return demand.sort((a, b) => a.id.localeCompare(b.id));
}
