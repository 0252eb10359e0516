/**
 * Catalog isolation at the AWS stores (analysis/aws-stores.ts), proven on what the program renders:
 * NetworkPolicy cannot tell one catalog's RDS from another's (same subnets), so the stores' security
 * groups must. Every pod that uses a store reaches it through both gates, and no pod of another
 * catalog reaches it; the check is not vacuous (stores admitting the node group, as before, leak).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { analyseConnectivity, type ConnectivityAnalysis } from "../analysis/stack";
import {
  awsStores,
  checkStoreIsolation,
  podSecurityGroups,
  securityGroupPolicies,
  storeVerdict,
  type AwsStore,
  type SecurityGroupPolicy,
} from "../analysis/aws-stores";
import { dataEndpoint, plannedDataServices } from "../analysis/intent";
import { kubernetesObject } from "../scripts/render-lib";
import { byType, runStack, stackSettings } from "./harness";
import { validateKubernetesObject } from "./validate";

const STACKS = ["staging", "production"] as const;
interface Judged {
  connectivity: ConnectivityAnalysis;
  policies: SecurityGroupPolicy[];
  nodeGroups: string[];
  stores: AwsStore[];
}
const judged = new Map<string, Judged>();

beforeAll(async () => {
  for (const stack of STACKS) {
    const run = await runStack(stack);
    const objects = run.resources.map(kubernetesObject).filter((o): o is Record<string, unknown> => !!o);
    const eks = byType(run, "aws:eks/cluster:Cluster")[0];
    const clusterGroup = (eks?.state.vpcConfig as { clusterSecurityGroupId: string }).clusterSecurityGroupId;
    judged.set(stack, {
      connectivity: analyseConnectivity(stackSettings(stack), objects),
      policies: securityGroupPolicies(objects),
      nodeGroups: [clusterGroup],
      stores: awsStores(run.resources),
    });
  }
}, 120_000);

const check = (stack: string, stores?: AwsStore[]) => {
  const j = judged.get(stack) as Judged;
  return checkStoreIsolation(
    stackSettings(stack),
    j.connectivity.plans,
    j.connectivity.model,
    j.policies,
    j.nodeGroups,
    stores ?? j.stores,
  );
};

describe.each(STACKS)("%s: the AWS stores admit their own catalog only", (stack) => {
  it("finds every planned AWS store (RDS, ElastiCache, Amazon MQ) among the rendered resources", () => {
    const j = judged.get(stack) as Judged;
    const planned = j.connectivity.plans.flatMap((p) =>
      plannedDataServices(stackSettings(stack), p)
        .filter((d) => d.backend === "aws")
        .map((d) => d.name),
    );
    expect(planned.sort()).toEqual(
      [
        "ecommerce-postgres",
        "ecommerce-rabbitmq",
        "ecommerce-redis",
        "fintech-postgres",
        "fintech-redis",
        "trading-redis",
      ].sort(),
    );
    expect(j.stores.map((s) => s.name).sort()).toEqual(planned.sort());
  });

  it("every consumer, migration and bootstrap Job reaches its own stores; no pod of another catalog reaches them", () => {
    const report = check(stack);
    expect(report.missingStores).toEqual([]);
    expect(report.blocked).toEqual([]);
    expect(report.leaks).toEqual([]);
    expect(report.checked).toBeGreaterThan(250);
  });

  it("a fintech pod is refused by ecommerce's RDS security group, though NetworkPolicy lets it into the subnet", () => {
    const j = judged.get(stack) as Judged;
    const settings = stackSettings(stack);
    const pod = j.connectivity.model.pods.find((p) => p.id === "fintech/backend-api");
    const store = j.stores.find((s) => s.name === "ecommerce-postgres");
    const plan = j.connectivity.plans.find((p) => p.catalog.name === "ecommerce");
    expect(pod && store && plan).toBeTruthy();
    const planned = plannedDataServices(settings, plan!).find((d) => d.name === "ecommerce-postgres")!;
    const verdict = storeVerdict(
      j.connectivity.model,
      j.policies,
      j.nodeGroups,
      pod!,
      store!,
      dataEndpoint(settings, planned) as never,
      5432,
    );
    expect(verdict).toEqual({ allowed: false, networkPolicy: true, securityGroup: false });
    expect(podSecurityGroups(pod!, j.policies, j.nodeGroups)).toEqual([
      expect.stringMatching(/^fintech-store-clients-/),
      j.nodeGroups[0],
    ]);
  });

  it("is not vacuous: stores admitting the node security group (every pod's) leak across catalogs", () => {
    const j = judged.get(stack) as Judged;
    const open = j.stores.map((s) => ({ name: s.name, admits: () => j.nodeGroups }));
    const leaks = check(stack, open).leaks;
    expect(leaks).toContain("fintech/backend-api -> ecommerce-postgres (AWS):5432 is allowed");
    expect(leaks).toContain("ecommerce/order-service -> fintech-postgres (AWS):5432 is allowed");
  });
});

describe("the SecurityGroupPolicy as the VPC resource controller reads it", () => {
  it("is judged by the controller's own CRD, which refuses a malformed policy", async () => {
    const policy = {
      apiVersion: "vpcresources.k8s.aws/v1beta1",
      kind: "SecurityGroupPolicy",
      metadata: { name: "shop-store-clients", namespace: "shop" },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "api" } },
        securityGroups: { groupIds: ["sg-0123456789abcdef0"] },
      },
    };
    await expect(validateKubernetesObject(policy)).resolves.toBeUndefined();
    await expect(
      validateKubernetesObject({ ...policy, spec: { ...policy.spec, securityGroups: { groupIds: "sg-1" } } }),
    ).rejects.toThrow(
      /SecurityGroupPolicy shop\/shop-store-clients is invalid: \/spec\/securityGroups\/groupIds must be array/,
    );
  });
});
