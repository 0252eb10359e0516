/**
 * Where the capacity model's workload demand comes from:
 * - `plannedDemand`: the application namespaces from the plan (services, migration Jobs, in-cluster
 *   data servers, bootstrap Jobs), known before anything is registered;
 * - `renderedDemand` (analysis/workloads.ts): rendered objects, what the policy pack sees;
 * - `systemAddOns`: what charts and EKS add-ons run besides (never rendered as objects), with the
 *   requests their charts or our Helm values set, or an estimate where the upstream default sets none.
 */
import { type ContainerResources } from "../components/lib";
import { CLIENT_JOB_RESOURCES } from "../components/data-service";
import {
  BROKER_DEFAULT_RESOURCES,
  POSTGRES_BOOTSTRAP_RESOURCES,
  POSTGRES_DEFAULT_RESOURCES,
  REDIS_DEFAULT_RESOURCES,
} from "../components";
import { childName } from "../components/lib";
import { capCpuRequest, type CatalogPlan } from "../config/plan";
import { type PlatformSettings } from "../config/settings";
import { amountsOf, surgePods, type WorkloadDemand } from "./capacity";
import { plannedDataServices } from "./intent";

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
/**
 * A data store's server container resources: the catalog's, else the component's default, with the
 * stage's CPU request ceiling applied. The composition root passes exactly this to the component.
 */
export function dataStoreServerResources(
  kind: "postgres" | "redis" | "rabbitmq",
  catalogResources: ContainerResources | undefined,
  settings: PlatformSettings,
): ContainerResources {
  const componentDefault = {
    postgres: POSTGRES_DEFAULT_RESOURCES,
    redis: REDIS_DEFAULT_RESOURCES,
    rabbitmq: BROKER_DEFAULT_RESOURCES,
  }[kind];
  return capCpuRequest(catalogResources ?? componentDefault, settings.profile.cpuRequestCeiling);
}

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
      const server = dataStoreServerResources(d.kind, catalogResources, settings);
      // In-cluster PostgreSQL on an AWS stack runs on CloudNativePG: the Cluster's instances.
      const instances =
        d.kind === "postgres" && settings.database.operator.enabled
          ? settings.database.operator.instances
          : 1;
      if (d.backend === "inCluster") demand.push(fixed(d.name, ns, "StatefulSet", server, instances));
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
  if (settings.database.operator.enabled)
    out.push(fixed("cloudnative-pg", "cnpg-system", "addon", r("100m", "200Mi"))); // estimate: the chart sets none
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
