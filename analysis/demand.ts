/**
 * Where the capacity model's workload demand comes from:
 * - `plannedDemand`: the application namespaces from the plan (services, migration Jobs, in-cluster
 *   data servers, bootstrap Jobs), known before anything is registered;
 * - `renderedDemand`: any rendered objects (Deployments, StatefulSets, Jobs, DaemonSets with their
 *   HPAs), what the policy pack and the render see;
 * - `systemAddOns`: what charts and EKS add-ons run besides (never rendered as objects), with the
 *   requests their charts or our Helm values set, or an estimate where the upstream default sets none.
 */
import { cpuMillis, memoryBytes, type ContainerResources } from "../components/lib";
import { CLIENT_JOB_RESOURCES } from "../components/data-service";
import {
  BROKER_DEFAULT_RESOURCES,
  POSTGRES_BOOTSTRAP_RESOURCES,
  POSTGRES_DEFAULT_RESOURCES,
  REDIS_DEFAULT_RESOURCES,
} from "../components";
import { childName } from "../components/lib";
import { type CatalogPlan } from "../config/plan";
import { type PlatformSettings } from "../config/settings";
import { amountsOf, surgePods, type Amount, type WorkloadDemand } from "./capacity";
import { plannedDataServices } from "./intent";
import { podTemplateOf, type KubernetesObject } from "./cluster-model";

const fixed = (
  id: string,
  namespace: string,
  kind: WorkloadDemand["kind"],
  r: ContainerResources,
  replicas = 1,
  surge = 0,
): WorkloadDemand => ({
  id: `${namespace}/${id}`,
  namespace,
  kind,
  ...amountsOf(r),
  replicas: { min: replicas, max: replicas },
  surge: { min: surge, max: surge },
});

/** Application namespaces' demand, from the plan. */
export function plannedDemand(settings: PlatformSettings, plans: readonly CatalogPlan[]): WorkloadDemand[] {
  const demand: WorkloadDemand[] = [];
  for (const plan of plans) {
    const ns = plan.namespace;
    for (const svc of plan.services) {
      const { min, max } = svc.replicas;
      const stateful = !!svc.spec.persistence;
      demand.push({
        id: `${ns}/${svc.spec.name}`,
        namespace: ns,
        kind: stateful ? "StatefulSet" : "Deployment",
        ...amountsOf(svc.resources),
        replicas: { min, max },
        surge: stateful
          ? { min: 0, max: 0 }
          : { min: surgePods(undefined, min), max: surgePods(undefined, max) },
      });
      if (svc.spec.migration)
        demand.push(fixed(childName(svc.spec.name, "migration"), ns, "Job", svc.resources));
    }
    for (const d of plannedDataServices(settings, plan)) {
      const catalogResources = plan.catalog.data[d.kind === "rabbitmq" ? "broker" : d.kind]?.resources;
      const server = {
        postgres: POSTGRES_DEFAULT_RESOURCES,
        redis: REDIS_DEFAULT_RESOURCES,
        rabbitmq: BROKER_DEFAULT_RESOURCES,
      }[d.kind];
      if (d.backend === "inCluster")
        demand.push(fixed(d.name, ns, "StatefulSet", catalogResources ?? server));
      demand.push(
        fixed(
          childName(d.name, "bootstrap"),
          ns,
          "Job",
          d.kind === "postgres" ? POSTGRES_BOOTSTRAP_RESOURCES : CLIENT_JOB_RESOURCES,
        ),
      );
    }
  }
  return demand.sort((a, b) => a.id.localeCompare(b.id));
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const quantity = (v: unknown): string => (typeof v === "number" ? String(v) : text(v));

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

/** Demand of rendered workload objects; a Deployment or StatefulSet an HPA targets scales in its range. */
export function renderedDemand(objects: readonly KubernetesObject[]): WorkloadDemand[] {
  const hpas = new Map<string, { min: number; max: number }>();
  for (const o of objects)
    if (o.kind === "HorizontalPodAutoscaler") {
      const spec = obj(o.spec);
      const target = obj(spec.scaleTargetRef);
      hpas.set(`${text(obj(o.metadata).namespace)}/${text(target.kind)}/${text(target.name)}`, {
        min: typeof spec.minReplicas === "number" ? spec.minReplicas : 1,
        max: typeof spec.maxReplicas === "number" ? spec.maxReplicas : 1,
      });
    }
  const demand: WorkloadDemand[] = [];
  for (const o of objects) {
    const kind = o.kind;
    if (kind !== "Deployment" && kind !== "StatefulSet" && kind !== "Job" && kind !== "DaemonSet") continue;
    const metadata = obj(o.metadata);
    const namespace = text(metadata.namespace, "default");
    const spec = obj(o.spec);
    const template = podTemplateOf(o) ?? {};
    const labels = obj(obj(template.metadata).labels);
    const name = text(labels["app.kubernetes.io/instance"], text(metadata.name));
    const hpa = hpas.get(`${namespace}/${kind}/${text(metadata.name)}`);
    const count = typeof spec.replicas === "number" ? spec.replicas : 1;
    const replicas =
      kind === "Job" || kind === "DaemonSet" ? { min: 1, max: 1 } : (hpa ?? { min: count, max: count });
    const maxSurge = obj(obj(spec.strategy).rollingUpdate).maxSurge as string | number | undefined;
    demand.push({
      id: `${namespace}/${name}`,
      namespace,
      kind,
      ...podAmounts(obj(template.spec)),
      replicas,
      surge:
        kind === "Deployment"
          ? { min: surgePods(maxSurge, replicas.min), max: surgePods(maxSurge, replicas.max) }
          : { min: 0, max: 0 },
    });
  }
  return demand.sort((a, b) => a.id.localeCompare(b.id));
}

const r = (cpu: string, memory: string): ContainerResources => ({
  requests: { cpu, memory },
  limits: { cpu, memory },
});

/**
 * Workloads outside the application namespaces. Requests as set by our Helm values (observability,
 * cluster autoscaler) or by the EKS add-on / chart defaults; where an upstream default sets none,
 * an estimate (marked) so the model never counts a running pod as free. Limits are not modelled here
 * (no quota applies to these namespaces).
 */
export function systemAddOns(settings: PlatformSettings): WorkloadDemand[] {
  const controllers = settings.stage === "local" ? 1 : 2;
  const proxies = settings.profile.replicas.publicMin < 2 ? 1 : settings.profile.replicas.publicMin;
  const out: WorkloadDemand[] = [
    fixed("coredns", "kube-system", "addon", r("100m", "70Mi"), 2), // EKS add-on default
    fixed("ebs-csi-controller", "kube-system", "addon", r("60m", "240Mi"), 2), // 6 containers × 10m/40Mi
    fixed("aws-load-balancer-controller", "kube-system", "addon", r("100m", "128Mi"), 2), // estimate
    fixed("cluster-autoscaler", "kube-system", "addon", r("100m", "300Mi")), // our Helm values
    fixed("aws-node", "kube-system", "DaemonSet", r("25m", "0Mi")), // VPC CNI default
    fixed("kube-proxy", "kube-system", "DaemonSet", r("100m", "0Mi")), // EKS add-on default
    fixed("eks-pod-identity-agent", "kube-system", "DaemonSet", r("25m", "32Mi")), // estimate
    fixed("ebs-csi-node", "kube-system", "DaemonSet", r("30m", "120Mi")), // 3 containers × 10m/40Mi
  ];
  if (settings.ingress.enabled)
    out.push(
      fixed("envoy-gateway", "envoy-gateway-system", "addon", r("100m", "256Mi"), controllers), // chart default
      fixed("envoy-proxy", "envoy-gateway-system", "addon", r("100m", "512Mi"), proxies), // EnvoyProxy default
      fixed("envoy-ratelimit", "envoy-gateway-system", "addon", r("100m", "128Mi")), // estimate
      fixed("gateway-ratelimit-redis", "envoy-gateway-system", "addon", r("50m", "64Mi")), // IngressGateway
      fixed("cert-manager", "cert-manager", "addon", r("150m", "192Mi"), controllers), // estimate: 3 controllers × 50m/64Mi
    );
  if (settings.observability.enabled)
    out.push(
      fixed("prometheus", "monitoring", "addon", r("260m", "1056Mi")), // ObservabilityStack values + reloader
      fixed("alertmanager", "monitoring", "addon", r("60m", "96Mi")),
      fixed("grafana", "monitoring", "addon", r("300m", "192Mi")), // with its dashboard sidecar
      fixed("prometheus-operator", "monitoring", "addon", r("100m", "128Mi")),
      fixed("kube-state-metrics", "monitoring", "addon", r("50m", "64Mi")),
      fixed("node-exporter", "monitoring", "DaemonSet", r("50m", "32Mi")),
    );
  return out;
}
