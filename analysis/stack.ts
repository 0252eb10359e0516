/**
 * The analyses of one rendered stack, in one place for the tests, the render and the policy pack:
 * the connectivity model built from the rendered objects, checked against the intent derived from the
 * stack's settings and catalog plans.
 */
import { NAMESPACE_QUOTA_DEFAULTS } from "../components/PlatformNamespace";
import { subnetCidr } from "../components/lib";
import { planCatalog, type CatalogPlan } from "../config/plan";
import { amountsOf, clusterFit, namespaceFit, type ClusterFit, type NamespaceFit } from "./capacity";
import { plannedDemand, systemAddOns } from "./demand";
import { type PlatformSettings } from "../config/settings";
import { clusterModel, type KubernetesObject } from "./cluster-model";
import { checkIntent, stackIntent, type Intent, type IntentReport } from "./intent";
import { type ClusterModel } from "./network-policy";

export interface ConnectivityAnalysis {
  plans: CatalogPlan[];
  intent: Intent;
  model: ClusterModel;
  report: IntentReport;
}

export function analyseConnectivity(
  settings: PlatformSettings,
  objects: readonly KubernetesObject[],
): ConnectivityAnalysis {
  const plans = settings.catalogs.map((c) => planCatalog(settings, c));
  const intent = stackIntent(settings, plans);
  const model = clusterModel(objects, intent.knownPods, podCidrOf(settings));
  return { plans, intent, model, report: checkIntent(model, intent) };
}

/**
 * Where the stack's pods take their addresses: on EKS the VPC CNI draws them from the node (private)
 * subnets, the same subnets as the AWS data stores; on an existing cluster, the local real node's pod
 * range (scripts/engine/node.sh).
 */
export function podCidrOf(settings: PlatformSettings): string {
  return settings.cluster.provider === "aws" ? subnetCidr(settings.network.cidr, 3, 0) : LOCAL_POD_CIDR;
}

/** The pod range of the local real node (its kubelet's podCIDR). */
export const LOCAL_POD_CIDR = "10.204.0.0/24";

export interface CapacityAnalysis {
  namespaces: NamespaceFit[];
  /** Undefined on an existing cluster (its nodes are not this program's to size). */
  cluster?: ClusterFit;
  /** Everything that does not fit at minimum: the stack must not deploy. */
  problems: string[];
  /** What HPA maxima cannot reach (quota or node-group maximum): stated, not an error. */
  caps: string[];
}

/** Capacity of a stack from its plan: known before anything is registered. */
export function analyseCapacity(settings: PlatformSettings, plans: readonly CatalogPlan[]): CapacityAnalysis {
  const demand = plannedDemand(settings, plans);
  const q = NAMESPACE_QUOTA_DEFAULTS[settings.stage];
  const quota = { ...amountsOf(q), pods: q.pods };
  const namespaces = plans.map((p) => namespaceFit(p.namespace, demand, quota));
  const cluster =
    settings.cluster.provider === "aws"
      ? clusterFit(
          [...demand, ...systemAddOns(settings)],
          Object.entries(settings.cluster.nodeGroups).map(([name, g]) => ({ name, ...g })),
        )
      : undefined;
  return {
    namespaces,
    ...(cluster ? { cluster } : {}),
    problems: [...namespaces.flatMap((n) => n.problems), ...(cluster?.problems ?? [])],
    caps: [...namespaces.flatMap((n) => n.caps), ...(cluster?.caps ?? [])],
  };
}

/** A stack whose workloads do not fit its quotas or node groups at minimum: nothing is created. */
export class CapacityError extends Error {
  constructor(
    readonly stackFile: string,
    readonly problems: string[],
  ) {
    super(
      `The stack in ${stackFile} does not fit (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        "\n  Raise platform:cluster.nodeGroups.<group>.minSize (or its instance type), or lower replicas or resources with platform:services.<catalog>/<service>.",
    );
    this.name = "CapacityError";
  }
}

/** Throws CapacityError, listing every problem, when the planned stack does not fit at minimum. */
export function assertCapacity(settings: PlatformSettings, plans: readonly CatalogPlan[]): CapacityAnalysis {
  const capacity = analyseCapacity(settings, plans);
  if (capacity.problems.length > 0 && settings.enforceCapacity)
    throw new CapacityError(settings.stackFile, capacity.problems);
  return capacity;
}
