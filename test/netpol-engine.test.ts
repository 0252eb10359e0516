/**
 * The connectivity model against cyclonus, an independent NetworkPolicy engine (scripts/netpol-judge.ts):
 * the two must agree on a seeded corpus of random policy sets and on every stack's full pairwise
 * matrix. `npm run judge:netpol` (scripts/netpol-matrix.ts) prints the same matrix's counts per stack.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { analyseConnectivity } from "../analysis/stack";
import { flowVerdict, type ClusterModel } from "../analysis/network-policy";
import { kubernetesObject } from "../scripts/render-lib";
import {
  apiServerDefaults,
  cyclonusBinary,
  cyclonusVerdicts,
  disagreements,
  EXTERNAL_PORTS,
  fullMatrix,
  stackExternals,
} from "../scripts/netpol-judge";
import { FUZZ_EXTERNALS, FUZZ_EXTERNAL_PORTS, FUZZ_PODS, fuzzCorpus } from "./fixtures/netpol-fuzz";
import { runStack, stackSettings } from "./harness";

let binary = "";
beforeAll(() => {
  binary = cyclonusBinary();
}, 900_000);

describe("the judge is not vacuous", () => {
  const [web, api] = FUZZ_PODS;
  const base = (policies: ClusterModel["policies"]): ClusterModel => ({
    namespaces: new Map([
      ["shop", {}],
      ["data", {}],
      ["ops", {}],
    ]),
    pods: FUZZ_PODS,
    policies,
  });
  const key = { from: web!.id, to: { pod: api!.id }, port: 8080, protocol: "TCP" as const };

  it("cyclonus denies what a deny-all denies and allows what nothing isolates", () => {
    const denyAll = base([
      { name: "deny", namespace: "shop", spec: { podSelector: {}, policyTypes: ["Ingress"] } },
    ]);
    expect(cyclonusVerdicts(binary, denyAll, [key])).toEqual([false]);
    expect(cyclonusVerdicts(binary, base([]), [key])).toEqual([true]);
  });

  it("a model that ignored ipBlock's pod matches, or read egress: [] as deny, would disagree", () => {
    // ipBlock to web's address only: cyclonus allows web -> api:8080 only when api's address is in it.
    const toApi = base([
      {
        name: "out",
        namespace: "shop",
        spec: {
          podSelector: { matchLabels: { app: "web" } },
          policyTypes: ["Egress"],
          egress: [{ to: [{ ipBlock: { cidr: `${api!.ip}/32` } }] }],
        },
      },
    ]);
    expect(cyclonusVerdicts(binary, toApi, [key])).toEqual([true]);
    const withoutAddresses = { ...toApi, pods: FUZZ_PODS.map(({ ip: _ip, ...p }) => p) };
    expect(
      flowVerdict(
        withoutAddresses,
        { pod: withoutAddresses.pods[0]! },
        { pod: withoutAddresses.pods[1]! },
        8080,
      ).allowed,
    ).toBe(false);
    // egress: [] without policyTypes is stored as Ingress-only.
    expect(apiServerDefaults({ podSelector: {}, egress: [] }).policyTypes).toEqual(["Ingress"]);
    const emptyEgress = base([
      { name: "e", namespace: "shop", spec: { podSelector: { matchLabels: { app: "web" } }, egress: [] } },
    ]);
    expect(
      cyclonusVerdicts(binary, emptyEgress, [{ ...key, to: { external: FUZZ_EXTERNALS[0]! }, port: 443 }]),
    ).toEqual([true]);
  });
});

describe("known misreadings are named, not silenced", () => {
  it("cyclonus-notin-absent-key: cyclonus denies what Kubernetes allows, and the judge refuses such a model", () => {
    // A NotIn selector on "role", which web lacks: Kubernetes selects web (the key is absent).
    const model: ClusterModel = {
      namespaces: new Map([
        ["shop", {}],
        ["data", {}],
        ["ops", {}],
      ]),
      pods: FUZZ_PODS,
      policies: [
        {
          name: "in",
          namespace: "shop",
          spec: {
            podSelector: { matchLabels: { app: "api" } },
            policyTypes: ["Ingress"],
            ingress: [
              {
                from: [
                  {
                    podSelector: {
                      matchExpressions: [{ key: "role", operator: "NotIn", values: ["migration"] }],
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
    };
    const key = {
      from: FUZZ_PODS[0]!.id,
      to: { pod: FUZZ_PODS[1]!.id },
      port: 8080,
      protocol: "TCP" as const,
    };
    expect(flowVerdict(model, { pod: FUZZ_PODS[0]! }, { pod: FUZZ_PODS[1]! }, 8080).allowed).toBe(true);
    expect(cyclonusVerdicts(binary, model, [key])).toEqual([false]);
    expect(() => disagreements(binary, model, [key])).toThrow(/cyclonus-notin-absent-key/);
  });
});

describe("a fuzzed corpus of policies", () => {
  it("the model and cyclonus agree on every key of 150 random policy sets", () => {
    const corpus = fuzzCorpus(22, 150);
    let keys = 0;
    const found: string[] = [];
    for (const [i, model] of corpus.entries()) {
      const matrix = fullMatrix(model, FUZZ_EXTERNALS, FUZZ_EXTERNAL_PORTS);
      keys += matrix.length;
      for (const d of disagreements(binary, model, matrix))
        found.push(
          `set ${i} ${JSON.stringify(model.policies)}: ${d.key}: model ${d.model}, cyclonus ${d.cyclonus}`,
        );
    }
    expect(keys).toBeGreaterThan(15_000);
    expect(found.slice(0, 5)).toEqual([]);
  }, 300_000);

  it("the corpus exercises both verdicts and every peer and port form", () => {
    const corpus = fuzzCorpus(22, 150);
    const text = JSON.stringify(corpus.map((m) => m.policies));
    for (const form of [
      "ipBlock",
      "except",
      "namespaceSelector",
      "matchExpressions",
      "endPort",
      '"UDP"',
      '"port":"pg"',
    ])
      expect(text, form).toContain(form);
    expect(
      corpus.some((m) =>
        m.policies.some((p) => p.spec.policyTypes === undefined && p.spec.egress?.length === 0),
      ),
    ).toBe(true);
    let allowed = 0;
    let denied = 0;
    for (const model of corpus)
      for (const k of fullMatrix(model, FUZZ_EXTERNALS, [443]))
        if (
          flowVerdict(
            model,
            { pod: model.pods.find((p) => p.id === k.from)! },
            "pod" in k.to ? { pod: model.pods.find((p) => p.id === (k.to as { pod: string }).pod)! } : k.to,
            k.port,
          ).allowed
        )
          allowed++;
        else denied++;
    expect(allowed).toBeGreaterThan(1000);
    expect(denied).toBeGreaterThan(1000);
  });
});

describe.each(["local", "staging", "production"])("%s: the model and cyclonus agree", (stack) => {
  it("on every key of the full pairwise matrix, and every intended flow", async () => {
    const run = await runStack(stack);
    const objects = run.resources.map(kubernetesObject).filter((o): o is Record<string, unknown> => !!o);
    const { model, intent } = analyseConnectivity(stackSettings(stack), objects);
    const matrix = fullMatrix(model, stackExternals(intent.intended), EXTERNAL_PORTS);
    const intended = intent.intended.map((f) => ({
      from: f.from,
      to: f.to,
      port: f.port,
      protocol: f.protocol,
    }));
    expect(matrix.length).toBeGreaterThan(1000);
    expect(disagreements(binary, model, [...intended, ...matrix])).toEqual([]);
  }, 300_000);
});
