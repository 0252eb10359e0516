/**
 * The second gate in front of the AWS data stores: security groups. NetworkPolicy can address RDS,
 * ElastiCache and Amazon MQ only as the private subnets they share, so a pod admitted to 5432 there
 * reaches every catalog's RDS instance as far as NetworkPolicy goes. What keeps catalogs apart is the
 * stores' security groups: each admits only its catalog's store-clients group, which the VPC CNI puts
 * on the pods a SecurityGroupPolicy of that catalog selects (security groups for pods). A pod no
 * policy selects carries its node's groups.
 *
 * A flow from a pod to an AWS store is allowed when both gates let it through: the NetworkPolicy
 * model (`flowVerdict` to the store's address) and a security group the pod carries among those the
 * store admits on the port. `checkStoreIsolation` holds a stack against its plan: every pod that uses
 * a store (consumers, their migration Jobs, the store's bootstrap Job) reaches it, and no pod outside
 * the store's catalog does.
 */
import { LABEL } from "../components/lib";
import { selectorMatches } from "../policy/rules";
import { type CatalogPlan } from "../config/plan";
import { type PlatformSettings } from "../config/settings";
import { list as arr, obj, text } from "./plain";
import { DATA_PORTS, dataEndpoint, plannedDataServices, type PlannedDataService } from "./intent";
import { flowVerdict, type ClusterModel, type Endpoint, type Pod } from "./network-policy";
import { type KubernetesObject } from "./workloads";

/** A rendered SecurityGroupPolicy (vpcresources.k8s.aws/v1beta1), reduced to what the VPC CNI reads. */
export interface SecurityGroupPolicy {
  name: string;
  namespace: string;
  podSelector: unknown;
  groupIds: string[];
}

export function securityGroupPolicies(objects: readonly KubernetesObject[]): SecurityGroupPolicy[] {
  return objects
    .filter(
      (o) => o.kind === "SecurityGroupPolicy" && String(o.apiVersion).startsWith("vpcresources.k8s.aws/"),
    )
    .map((o) => {
      const metadata = obj(o.metadata);
      const spec = obj(o.spec);
      // A service-account selector would need the pods' service accounts; none is rendered.
      if (spec.serviceAccountSelector !== undefined)
        throw new Error(`SecurityGroupPolicy ${text(metadata.name)}: serviceAccountSelector is not modelled`);
      return {
        name: text(metadata.name),
        namespace: text(metadata.namespace, "default"),
        podSelector: spec.podSelector,
        groupIds: arr(obj(spec.securityGroups).groupIds).map(String),
      };
    });
}

/** The security groups a pod carries: every policy of its namespace that selects it, else its node's. */
export function podSecurityGroups(
  pod: Pod,
  policies: readonly SecurityGroupPolicy[],
  nodeGroups: readonly string[],
): string[] {
  const matching = policies.filter(
    (p) => p.namespace === pod.namespace && selectorMatches(p.podSelector, pod.labels),
  );
  return matching.length > 0 ? [...new Set(matching.flatMap((p) => p.groupIds))] : [...nodeGroups];
}

/** A security group as the program creates it: its id and its TCP ingress from other groups. */
export interface SecurityGroupRules {
  id: string;
  ingress: { fromPort: number; toPort: number; securityGroups: string[] }[];
}

/** An AWS store: its name (`<catalog>-<kind>`) and the groups it admits, per port. */
export interface AwsStore {
  name: string;
  admits: (port: number) => string[];
}

/** The resource types of the AWS stores, the suffix of their Pulumi name, and their group input. */
const STORE_TYPES: Record<string, { suffix: string; groups: string }> = {
  "aws:rds/instance:Instance": { suffix: "-db", groups: "vpcSecurityGroupIds" },
  "aws:elasticache/replicationGroup:ReplicationGroup": { suffix: "-cache", groups: "securityGroupIds" },
  "aws:mq/broker:Broker": { suffix: "-broker", groups: "securityGroups" },
};

/** The AWS stores among registered resources (type, Pulumi name, id, inputs), with their security groups. */
export function awsStores(
  resources: readonly { type: string; name: string; id?: string; inputs: Record<string, unknown> }[],
): AwsStore[] {
  const groups = new Map<string, SecurityGroupRules>(
    resources
      .filter((r) => r.type === "aws:ec2/securityGroup:SecurityGroup" && r.id)
      .map((r) => [
        r.id as string,
        {
          id: r.id as string,
          ingress: arr(r.inputs.ingress)
            .map(obj)
            .filter((rule) => ["tcp", "6", "-1"].includes(String(rule.protocol)))
            .map((rule) => ({
              fromPort: Number(rule.fromPort),
              toPort: Number(rule.toPort),
              securityGroups: arr(rule.securityGroups).map(String),
            })),
        },
      ]),
  );
  return resources.flatMap((r) => {
    const type = STORE_TYPES[r.type];
    if (!type || !r.name.endsWith(type.suffix)) return [];
    const ids = arr(r.inputs[type.groups]).map(String);
    const admits = (port: number) =>
      ids.flatMap((id) =>
        (groups.get(id)?.ingress ?? [])
          .filter((rule) => rule.fromPort <= port && port <= rule.toPort)
          .flatMap((rule) => rule.securityGroups),
      );
    return [{ name: r.name.slice(0, -type.suffix.length), admits }];
  });
}

export interface StoreIsolationReport {
  /** Pods that use a store but cannot reach it (which gate refused). */
  blocked: string[];
  /** Pods outside a store's catalog that reach it. */
  leaks: string[];
  /** Planned AWS stores with no matching store resource. */
  missingStores: string[];
  /** Pod → store checks made (so a vacuous pass shows). */
  checked: number;
}

/** Whether `pod` reaches `store` on `port` through both gates, and which one refuses if not. */
export function storeVerdict(
  model: ClusterModel,
  policies: readonly SecurityGroupPolicy[],
  nodeGroups: readonly string[],
  pod: Pod,
  store: AwsStore,
  endpoint: Endpoint,
  port: number,
): { allowed: boolean; networkPolicy: boolean; securityGroup: boolean } {
  const networkPolicy = flowVerdict(model, { pod }, endpoint, port).allowed;
  const admitted = new Set(store.admits(port));
  const securityGroup = podSecurityGroups(pod, policies, nodeGroups).some((g) => admitted.has(g));
  return { allowed: networkPolicy && securityGroup, networkPolicy, securityGroup };
}

/** Every planned AWS store against every pod of the model (see the module comment). */
export function checkStoreIsolation(
  settings: PlatformSettings,
  plans: readonly CatalogPlan[],
  model: ClusterModel,
  policies: readonly SecurityGroupPolicy[],
  nodeGroups: readonly string[],
  stores: readonly AwsStore[],
): StoreIsolationReport {
  const report: StoreIsolationReport = { blocked: [], leaks: [], missingStores: [], checked: 0 };
  for (const plan of plans) {
    for (const d of plannedDataServices(settings, plan).filter((s) => s.backend === "aws")) {
      const store = stores.find((s) => s.name === d.name);
      if (!store) {
        report.missingStores.push(d.name);
        continue;
      }
      checkStore(report, { settings, model, policies, nodeGroups }, d, store);
    }
  }
  return report;
}

function checkStore(
  report: StoreIsolationReport,
  ctx: {
    settings: PlatformSettings;
    model: ClusterModel;
    policies: readonly SecurityGroupPolicy[];
    nodeGroups: readonly string[];
  },
  d: PlannedDataService,
  store: AwsStore,
): void {
  const ports = DATA_PORTS[d.kind].aws;
  const endpoint = dataEndpoint(ctx.settings, d) as { external: { ip: string; name: string } };
  const bootstrap = `${d.name}-bootstrap`;
  const verdict = (pod: Pod, port: number) =>
    storeVerdict(ctx.model, ctx.policies, ctx.nodeGroups, pod, store, endpoint, port);
  for (const pod of ctx.model.pods) {
    const appName = pod.labels[LABEL.name] ?? "";
    const uses = pod.namespace === d.namespace && (d.consumers.includes(appName) || appName === bootstrap);
    if (uses) {
      const port = appName === bootstrap ? ports.bootstrap : ports.consumers;
      const v = verdict(pod, port);
      report.checked++;
      if (!v.allowed)
        report.blocked.push(
          `${pod.id} -> ${d.name} (AWS):${port} is refused by its ${v.networkPolicy ? "security groups" : "NetworkPolicy"}`,
        );
      continue;
    }
    if (pod.namespace === d.namespace) continue;
    for (const port of new Set([ports.consumers, ports.bootstrap])) {
      report.checked++;
      if (verdict(pod, port).allowed) report.leaks.push(`${pod.id} -> ${d.name} (AWS):${port} is allowed`);
    }
  }
}
