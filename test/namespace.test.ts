/**
 * PlatformNamespace, asserted from the recorded resources: PSS restricted labels, quota per stage,
 * container defaults, default-deny networking with DNS allowed, protection, schema validity, and the
 * exact message of every rejected argument.
 */
import { describe, expect, it } from "vitest";
import { onCluster, runProgram, STAND_IN_KUBERNETES, type RecordedResource, type RunResult } from "./harness";
import { validateKubernetesObject } from "./validate";
import { PlatformNamespace, type PlatformNamespaceArgs } from "../components/PlatformNamespace";
import { ComponentArgsError } from "../components/lib";

const T = {
  namespace: "kubernetes:core/v1:Namespace",
  quota: "kubernetes:core/v1:ResourceQuota",
  limitRange: "kubernetes:core/v1:LimitRange",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
} as const;

async function render(args: PlatformNamespaceArgs, name = "fintech"): Promise<RunResult> {
  return runProgram(() => {
    const ns = new PlatformNamespace(name, args, onCluster());
    return { name: ns.name };
  });
}

function only(run: RunResult, type: string, name?: string): RecordedResource {
  const found = run.resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${type}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0]!;
}
/** The Kubernetes objects of a run (not the run's provider). */
const kubernetesObjects = (run: RunResult) =>
  run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
const spec = (r: RecordedResource) => r.inputs.spec as Record<string, unknown>;
const labels = (r: RecordedResource) => (r.inputs.metadata as { labels: Record<string, string> }).labels;
const hard = (run: RunResult) => (spec(only(run, T.quota)) as { hard: Record<string, string> }).hard;

describe("PlatformNamespace", () => {
  it("labels the namespace for Pod Security Standards restricted (enforce, audit, warn) with a version", async () => {
    const run = await render({ platform: "fintech", stage: "production", podSecurityVersion: "v1.33" });
    const ns = only(run, T.namespace);
    expect(ns.inputs.metadata).toMatchObject({ name: "fintech" });
    expect(labels(ns)).toEqual({
      "app.kubernetes.io/name": "fintech",
      "app.kubernetes.io/instance": "fintech",
      "app.kubernetes.io/component": "namespace",
      "app.kubernetes.io/part-of": "fintech",
      "app.kubernetes.io/managed-by": "pulumi",
      "microservices-platform/platform": "fintech",
      "microservices-platform/stage": "production",
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "v1.33",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "v1.33",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "v1.33",
    });
    expect(run.outputs.name).toBe("fintech");
  });

  it("follows the cluster's PSS version unless pinned, and may name the namespace apart from the component", async () => {
    const run = await render({ name: "shop" }, "ecommerce-namespace");
    expect(only(run, T.namespace).inputs.metadata).toMatchObject({ name: "shop" });
    expect(labels(only(run, T.namespace))["pod-security.kubernetes.io/enforce-version"]).toBe("latest");
    for (const r of kubernetesObjects(run).filter((x) => x.type !== T.namespace))
      expect(r.inputs.metadata).toMatchObject({ namespace: "shop" });
    expect(run.outputs.name).toBe("shop");
  });

  it.each([
    ["local", { cpu: "4", memory: "8Gi" }, { cpu: "16", memory: "32Gi" }, "50"],
    ["staging", { cpu: "16", memory: "32Gi" }, { cpu: "32", memory: "64Gi" }, "150"],
    ["production", { cpu: "64", memory: "128Gi" }, { cpu: "128", memory: "256Gi" }, "400"],
  ] as const)(
    "sizes the ResourceQuota for %s and allows no LoadBalancer or NodePort Services",
    async (stage, requests, limits, pods) => {
      const run = await render({ stage });
      expect(hard(run)).toMatchObject({
        "requests.cpu": requests.cpu,
        "requests.memory": requests.memory,
        "limits.cpu": limits.cpu,
        "limits.memory": limits.memory,
        pods,
        "services.loadbalancers": "0",
        "services.nodeports": "0",
      });
    },
  );

  it("lets the caller override single quota fields", async () => {
    const run = await render({
      stage: "staging",
      quota: { pods: 60, loadBalancers: 1, requestsStorage: "2Ti" },
    });
    expect(hard(run)).toEqual({
      "requests.cpu": "16",
      "requests.memory": "32Gi",
      "limits.cpu": "32",
      "limits.memory": "64Gi",
      pods: "60",
      persistentvolumeclaims: "20",
      "requests.storage": "2Ti",
      "services.loadbalancers": "1",
      "services.nodeports": "0",
    });
  });

  it("gives containers default requests and limits through a LimitRange", async () => {
    const run = await render({});
    expect(spec(only(run, T.limitRange))).toEqual({
      limits: [
        {
          type: "Container",
          defaultRequest: { cpu: "100m", memory: "128Mi" },
          default: { cpu: "500m", memory: "512Mi" },
        },
      ],
    });
    const custom = await render({
      containerDefaults: {
        requests: { cpu: "50m", memory: "64Mi" },
        limits: { cpu: "250m", memory: "256Mi" },
      },
    });
    expect(spec(only(custom, T.limitRange))).toEqual({
      limits: [
        {
          type: "Container",
          defaultRequest: { cpu: "50m", memory: "64Mi" },
          default: { cpu: "250m", memory: "256Mi" },
        },
      ],
    });
  });

  it("denies all ingress and egress by default and allows DNS out for every pod", async () => {
    const run = await render({});
    expect(spec(only(run, T.networkPolicy, "fintech-default-deny"))).toEqual({
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
    });
    expect(spec(only(run, T.networkPolicy, "fintech-allow-dns"))).toEqual({
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });
  });

  it("creates every namespaced object after the Namespace and labels it", async () => {
    const run = await render({ platform: "fintech", stage: "staging" });
    const ns = only(run, T.namespace);
    const others = kubernetesObjects(run).filter((r) => r.type !== T.namespace);
    expect(others.map((r) => r.type).sort()).toEqual(
      [T.limitRange, T.networkPolicy, T.networkPolicy, T.quota].sort(),
    );
    for (const r of others) {
      expect(r.dependencies, r.name).toContain(ns.urn);
      expect(labels(r), r.name).toMatchObject({
        "app.kubernetes.io/part-of": "fintech",
        "microservices-platform/stage": "staging",
      });
    }
  });

  it("protects the Namespace (and keeps it on destroy) only when asked", async () => {
    const kept = only(await render({ protect: true }), T.namespace);
    expect([kept.protect, kept.retainOnDelete]).toEqual([true, true]);
    const plain = only(await render({}), T.namespace);
    expect([plain.protect, plain.retainOnDelete]).toEqual([false, false]);
  });

  it("renders objects that validate against the Kubernetes API schema", async () => {
    const run = await render({ platform: "trading", stage: "local" });
    const objects = kubernetesObjects(run);
    expect(objects).toHaveLength(5);
    for (const r of objects) await validateKubernetesObject(r.inputs);
  });
});

describe("PlatformNamespace rejects bad args with every problem listed", () => {
  const rejection = (args: PlatformNamespaceArgs, name = "fintech"): string => {
    try {
      new PlatformNamespace(name, args, STAND_IN_KUBERNETES);
    } catch (error) {
      expect(error).toBeInstanceOf(ComponentArgsError);
      return (error as Error).message;
    }
    throw new Error("the args were accepted");
  };

  it.each<[string, PlatformNamespaceArgs, string[]]>([
    [
      "a name that is not a DNS label",
      { name: "Fin_Tech" },
      ['namespace name "Fin_Tech" must be a DNS label of at most 63 characters'],
    ],
    [
      "a reserved namespace",
      { name: "kube-system" },
      ['namespace name "kube-system" is reserved by Kubernetes'],
    ],
    [
      "an unknown PSS version",
      { podSecurityVersion: "1.33" },
      ['podSecurityVersion must be "latest" or a minor version such as "v1.33", found "1.33"'],
    ],
    [
      "quota requests above limits",
      { quota: { requests: { cpu: "64", memory: "32Gi" } } },
      ["quota: CPU request 64 exceeds its limit 32"],
    ],
    [
      "a negative pod count",
      { quota: { pods: -1 } },
      ["quota.pods must be a whole number of at least 0, found -1"],
    ],
    [
      "a storage size without unit",
      { quota: { requestsStorage: "500" } },
      ['quota.requestsStorage must be a storage size such as "500Gi", found "500"'],
    ],
    [
      "container defaults above their limits",
      {
        containerDefaults: {
          requests: { cpu: "1", memory: "128Mi" },
          limits: { cpu: "500m", memory: "512Mi" },
        },
      },
      ["containerDefaults: CPU request 1 exceeds its limit 500m"],
    ],
    [
      "container defaults above the quota",
      {
        stage: "local",
        containerDefaults: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "17", memory: "1Gi" } },
      },
      [
        "containerDefaults.limits (17 CPU, 1Gi) exceed quota.limits (16 CPU, 32Gi): no pod relying on the defaults could start",
      ],
    ],
  ])("%s", (_label, args, problems) => {
    expect(rejection(args)).toBe(
      `PlatformNamespace "fintech": invalid arguments (${problems.length}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  });
});
