/**
 * Rendered Kubernetes objects → the NetworkPolicy model's inputs: one pod per workload template
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod), the namespaces with their
 * labels, and every NetworkPolicy. Workloads that only a Helm chart creates (the Envoy proxies,
 * Prometheus, CoreDNS) are not among the rendered objects: callers add them as `knownPods`.
 */
import { obj, list, text } from "./plain";
import { formatIpv4, LABEL, parseIpv4Cidr } from "../components/lib";
import { podTemplateOf, type KubernetesObject } from "./workloads";
import {
  type ClusterModel,
  type ContainerPort,
  type Pod,
  type Policy,
  type Protocol,
  type ServiceInfo,
} from "./network-policy";

export type { KubernetesObject } from "./workloads";

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

/**
 * The model of a rendered stack, plus the chart workloads the caller knows of. With `podCidr`, every
 * pod gets an address in that block (from its 33rd address on, in id order, so renders stay
 * deterministic), and `ipBlock` rules match pods as the CNI does: on EKS the VPC CNI gives pods
 * addresses from the node subnets, so pass the first private subnet there.
 */
export function clusterModel(
  objects: readonly KubernetesObject[],
  knownPods: readonly Pod[] = [],
  podCidr?: string,
): ClusterModel {
  const namespaces = new Map<string, Record<string, string>>();
  const pods: Pod[] = [];
  const policies: Policy[] = [];
  const services: ServiceInfo[] = [];
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
    else if (object.kind === "Service") {
      const spec = obj(object.spec);
      services.push({
        name: text(metadata.name),
        namespace: text(metadata.namespace, "default"),
        selector: obj(spec.selector) as Record<string, string>,
        ports: list(spec.ports).map((raw) => {
          const p = obj(raw);
          const port = typeof p.port === "number" ? p.port : 0;
          const target = p.targetPort;
          return {
            port,
            targetPort: typeof target === "number" || typeof target === "string" ? target : port,
            protocol: (typeof p.protocol === "string" ? p.protocol : "TCP") as Protocol,
          };
        }),
      });
    } else {
      const pod = podOf(object);
      if (pod) pods.push(pod);
      if (object.kind === "Cluster" && pod) services.push(cnpgReadWriteService(object));
    }
  }
  for (const pod of knownPods) if (!namespaces.has(pod.namespace)) namespaces.set(pod.namespace, {});
  pods.push(...knownPods.map((p) => ({ ...p })));
  pods.sort((a, b) => a.id.localeCompare(b.id));
  if (podCidr !== undefined) assignPodAddresses(pods, podCidr);
  return { namespaces, pods, policies, services };
}

/** The first addresses of a block are left to the things a subnet holds besides pods (gateways, stores). */
const FIRST_POD_ADDRESS = 32;

function assignPodAddresses(pods: Pod[], cidr: string): void {
  const block = parseIpv4Cidr(cidr);
  if (!block) throw new Error(`clusterModel: podCidr "${cidr}" is not an IPv4 CIDR block`);
  const size = 2 ** (32 - block.prefix);
  if (FIRST_POD_ADDRESS + pods.length >= size)
    throw new Error(`clusterModel: podCidr ${cidr} has no room for ${pods.length} pods`);
  pods.forEach((pod, i) => {
    pod.ip = formatIpv4(block.address + FIRST_POD_ADDRESS + i);
  });
}

/**
 * The read-write Service CloudNativePG makes for a Cluster (`<name>-rw`, the address consumers use):
 * the operator's contract, never rendered. It selects the Cluster's instances (the primary, among them).
 */
function cnpgReadWriteService(object: KubernetesObject): ServiceInfo {
  const metadata = obj(object.metadata);
  return {
    name: `${text(metadata.name)}-rw`,
    namespace: text(metadata.namespace, "default"),
    selector: { "cnpg.io/cluster": text(metadata.name) },
    ports: [{ port: 5432, targetPort: 5432, protocol: "TCP" }],
  };
}
