/**
 * Capacity: quotas admit minimum replicas + the largest rollout's surge + Jobs, node groups hold
 * minimum replicas + add-ons + DaemonSets at their minimum size, and the program refuses a stack that
 * does not fit before it registers anything. The plan's demand (what the refusal is computed from)
 * is held equal to the demand of the rendered objects.
 */
import { describe, expect, it } from "vitest";
import { allocatable, clusterFit, namespaceFit, surgePods, type WorkloadDemand } from "../analysis/capacity";
import { plannedDemand } from "../analysis/demand";
import { renderedDemand } from "../analysis/workloads";
import { analyseCapacity } from "../analysis/stack";
import { planCatalog } from "../config/plan";
import { kubernetesObject } from "../scripts/render-lib";
import { runStack, stackSettings } from "./harness";

const Mi = 2 ** 20;
const workload = (
  id: string,
  kind: WorkloadDemand["kind"],
  cpu: number,
  memMi: number,
  min = 1,
  max = min,
  surge = 0,
): WorkloadDemand => ({
  id: `ns/${id}`,
  namespace: "ns",
  kind,
  requests: { cpu, memory: memMi * Mi },
  limits: { cpu: cpu * 2, memory: memMi * 2 * Mi },
  replicas: { min, max },
  surge: { min: surge, max: surge },
});
const quota = (cpu: number, memMi: number, pods: number) => ({
  requests: { cpu, memory: memMi * Mi },
  limits: { cpu: 1_000_000, memory: 2 ** 50 },
  pods,
});

describe("capacity model", () => {
  it("rounds a percentage surge up, as the Deployment controller does", () => {
    expect(surgePods("25%", 1)).toBe(1);
    expect(surgePods("25%", 4)).toBe(1);
    expect(surgePods("25%", 5)).toBe(2);
    expect(surgePods(2, 10)).toBe(2);
    expect(surgePods(undefined, 8)).toBe(2);
  });

  it("a quota must admit minimum replicas + the largest surge (one rollout) + every Job", () => {
    const ws = [
      workload("api", "Deployment", 500, 256, 2, 4, 1),
      workload("worker", "Deployment", 200, 128, 3, 3, 1),
      workload("migrate", "Job", 100, 64),
    ];
    // 2×500 + 3×200 + the larger surge (500) + 100 = 2200m; pods 2 + 3 + 1 + 1 = 7.
    const fit = namespaceFit("ns", ws, quota(2200, 4096, 7));
    expect(fit.atMin.requests.cpu).toBe(2200);
    expect(fit.atMin.pods).toBe(7);
    expect(fit.problems).toEqual([]);
    expect(namespaceFit("ns", ws, quota(2199, 4096, 7)).problems).toEqual([
      "namespace ns: minimum replicas + largest rollout surge + Jobs need requests.cpu 2200m > quota 2199m",
    ]);
    expect(namespaceFit("ns", ws, quota(2200, 4096, 6)).problems).toEqual([
      "namespace ns: minimum replicas + largest rollout surge + Jobs need pods 7 > quota 6",
    ]);
    // At HPA maxima (api 4): 4×500 + 600 + 500 + 100 = 3200m > 2200m, stated as a cap.
    expect(fit.caps).toEqual([
      "namespace ns: HPA maxima capped by the quota (requests.cpu 3200m > quota 2200m)",
      "namespace ns: HPA maxima capped by the quota (pods 9 > quota 7)",
    ]);
  });

  it("EKS allocatable follows the AMI's reservation formula", () => {
    // m5.large: 2000m − (60 + 10) = 1930m; 8 GiB − (255 + 11×29 + 100) MiB = 7518 MiB; 29 pods.
    expect(allocatable("m5.large")).toEqual({ cpu: 1930, memory: 7518 * Mi, pods: 29 });
    expect(allocatable("x9.huge")).toBeUndefined();
  });

  it("node groups at minimum size hold steady state, add-ons and a DaemonSet per node; a tainted group holds only DaemonSets", () => {
    const ws = [
      workload("api", "Deployment", 1000, 1024, 3, 6, 1),
      workload("dns", "addon", 100, 70, 2),
      workload("agent", "DaemonSet", 100, 50),
      workload("migrate", "Job", 500, 256),
    ];
    const group = { name: "general", instanceTypes: ["m5.large"], minSize: 2, maxSize: 4 };
    // 3000 + 200 + 2×100 = 3400m ≤ 2×1930 = 3860m (Jobs and surge wait for the autoscaler).
    const fit = clusterFit(ws, [group]);
    expect(fit.atMin.requested.requests.cpu).toBe(3400);
    expect(fit.problems).toEqual([]);
    expect(clusterFit(ws, [{ ...group, minSize: 1 }]).problems).toEqual([
      "node groups at minimum size: CPU requests 3300m > allocatable 1930m",
    ]);
    const tainted = clusterFit(ws, [
      group,
      { ...group, name: "memory", taints: [{ key: "pool", effect: "NoSchedule" }] },
    ]);
    expect(tainted.atMin.capacity.cpu).toBe(3860);
    expect(tainted.problems[0]).toMatch(
      /node group memory: tainted \(pool\) and no platform workload tolerates it/,
    );
    expect(clusterFit(ws, [{ ...group, instanceTypes: ["x9.huge"] }]).problems[0]).toMatch(
      /instance type x9.huge is not in the capacity model/,
    );
  });
});

describe.each(["local", "staging", "production"])("%s: capacity", (stack) => {
  it("fits at minimum, and the plan's demand is what the render contains", async () => {
    const settings = stackSettings(stack);
    const plans = settings.catalogs.map((c) => planCatalog(settings, c));
    const capacity = analyseCapacity(settings, plans);
    expect(capacity.problems).toEqual([]);
    expect(capacity.cluster === undefined).toBe(stack === "local");
    const run = await runStack(stack);
    const objects = run.resources.map(kubernetesObject).filter((o): o is Record<string, unknown> => !!o);
    const appNamespaces = new Set(plans.map((p) => p.namespace));
    const rendered = renderedDemand(objects).filter((w) => appNamespaces.has(w.namespace));
    expect(rendered.length).toBeGreaterThan(10);
    expect(plannedDemand(settings, plans)).toEqual(rendered);
  }, 60_000);
});

describe("a stack that does not fit", () => {
  it("is refused before any resource is registered, naming what does not fit", async () => {
    const registered: string[] = [];
    const base = stackSettings("staging");
    const cluster = {
      provider: "aws",
      kubernetesVersion: "1.33",
      adminRoleArns: ["arn:aws:iam::123456789012:role/platform-admins"],
      deployRoleArn: "arn:aws:iam::123456789012:role/deployer",
      nodeGroups: { general: { instanceTypes: ["m5.large"], minSize: 2, maxSize: 4 } },
    };
    expect(base.cluster.provider).toBe("aws");
    await expect(
      runStack("staging", { config: { "platform:cluster": cluster } }).catch(
        (e: Error & { recorded?: { type: string }[] }) => {
          registered.push(...(e.recorded ?? []).map((r) => r.type));
          throw e;
        },
      ),
    ).rejects.toThrow(
      /Pulumi\.staging\.yaml does not fit \(\d+ problems?\); nothing was created:\n  - node groups at minimum size: CPU requests .* > allocatable 3860m/,
    );
    expect(registered.filter((t) => t !== "pulumi:pulumi:Stack")).toEqual([]);
    // The explicit opt-out deploys it anyway (the render still reports what does not fit).
    const optedOut = await runStack("staging", {
      config: { "platform:cluster": cluster, "platform:capacity": { enforce: false } },
    });
    expect(optedOut.resources.length).toBeGreaterThan(100);
  }, 60_000);
});
