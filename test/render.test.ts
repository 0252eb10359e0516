/**
 * The offline render: deterministic, secrets never in any rendered file, every Kubernetes object
 * valid against its API schema, and a summary with the resource count and the longest chain.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { chartImagesOf } from "../components/chart-images";
import { renderRun, summaryLine, longestDependencyChain, SECRET_PLACEHOLDER } from "../scripts/render-lib";
import { isSecretValue, runProgram, runStack, stackSettings, type RunResult } from "./harness";
import { validateKubernetesObject } from "./validate";
import { parseAllDocuments } from "yaml";

const STACKS = ["local", "staging", "production"] as const;

/**
 * Every generated secret value of the run: what @pulumi/random produced as a secret (passwords, tokens, keys).
 * (Strings that merely sit inside a secret object, such as a host name next to a password, are not
 * secret themselves and may legitimately appear elsewhere.)
 */
function secretStrings(run: RunResult): string[] {
  const found = new Set<string>();
  for (const r of run.resources) {
    if (!r.type.startsWith("random:")) continue;
    for (const key of ["result", "bcryptHash", "hex", "b64Std", "b64Url"]) {
      // Only values the engine marks secret (passwords, tokens); a RandomId used as a revision
      // marker is deliberately public.
      const v = r.state[key];
      if (isSecretValue(v) && typeof v.value === "string" && v.value.length >= 8) found.add(v.value);
    }
  }
  return [...found];
}

describe.each(STACKS)("render of the %s stack", (stack) => {
  it("is byte-identical across two runs", async () => {
    const a = renderRun(stack, await runStack(stack));
    const b = renderRun(stack, await runStack(stack));
    expect([...a.files.keys()]).toEqual([...b.files.keys()]);
    for (const [file, content] of a.files) expect(b.files.get(file), file).toBe(content);
  });

  it("never contains a secret value, and does contain the placeholder where secrets were", async () => {
    const run = await runStack(stack);
    const secrets = secretStrings(run);
    expect(secrets.length, "the stack generates secrets").toBeGreaterThan(0);
    const rendered = renderRun(stack, run);
    for (const [file, content] of rendered.files) {
      for (const secret of secrets) expect(content.includes(secret), `${file} leaks a secret`).toBe(false);
    }
    // Where a resource's inputs hold a secret, the inventory shows the placeholder instead.
    const secretInputs = run.resources.some((r) => JSON.stringify(r.inputs).includes('"secret":true'));
    if (secretInputs) expect(rendered.files.get("inventory.json")).toContain(SECRET_PLACEHOLDER);
  });

  it("renders only Kubernetes objects that validate against their API schemas", async () => {
    const rendered = renderRun(stack, await runStack(stack));
    let count = 0;
    for (const [file, content] of rendered.files) {
      if (!file.startsWith("manifests/")) continue;
      for (const doc of parseAllDocuments(content)) {
        const object = doc.toJS() as Record<string, unknown>;
        await validateKubernetesObject(object);
        const metadata = object.metadata as { name?: string; namespace?: string };
        expect(metadata.name, file).toBeTruthy();
        if (object.kind !== "Namespace" && !file.startsWith("manifests/_cluster/"))
          expect(file).toContain(`manifests/${metadata.namespace}/`);
        count++;
      }
    }
    expect(count).toBe(rendered.summary.kubernetesObjectCount);
    expect(count).toBeGreaterThan(0);
  });

  it("sends no empty NetworkPolicy rule list (the API server drops it: a diff on every apply)", async () => {
    const run = await runStack(stack);
    const policies = run.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(policies.length).toBeGreaterThan(0);
    for (const p of policies) {
      const spec = p.inputs.spec as { ingress?: unknown[]; egress?: unknown[] };
      expect(spec.ingress === undefined || spec.ingress.length > 0, `${p.name} ingress`).toBe(true);
      expect(spec.egress === undefined || spec.egress.length > 0, `${p.name} egress`).toBe(true);
    }
  });

  it("summarises the resource count and the longest dependency chain", async () => {
    const run = await runStack(stack);
    const { summary, files } = renderRun(stack, run);
    expect(summary.resourceCount).toBe(run.resources.length);
    expect(files.get("summary.txt")?.split("\n")[0]).toBe(summaryLine(summary));
    // Then every image the stack runs, each with its registry and whether a digest pins it: the
    // workloads' containers (and the config reloader the operator's flag names), the images custom
    // resources name, and the image slots of the Helm releases.
    const images = new Set<string>();
    const reloaderFlag = "--prometheus-config-reloader=";
    for (const r of run.resources) {
      const pod = (r.inputs.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template
        ?.spec;
      for (const c of [
        ...((pod?.containers as { image?: string; args?: string[] }[]) ?? []),
        ...((pod?.initContainers as { image?: string; args?: string[] }[]) ?? []),
      ]) {
        if (c.image) images.add(c.image);
        for (const a of c.args ?? [])
          if (a.startsWith(reloaderFlag)) images.add(a.slice(reloaderFlag.length));
      }
      const spec = r.inputs.spec as { imageName?: string; image?: string } | undefined;
      if (r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster" && spec?.imageName)
        images.add(spec.imageName);
      if (/^kubernetes:monitoring.coreos.com\/v1:(Prometheus|Alertmanager)$/.test(r.type) && spec?.image)
        images.add(spec.image);
      if (r.type === "kubernetes:helm.sh/v3:Release")
        for (const slot of chartImagesOf(String(r.inputs.chart), r.inputs.values))
          if (slot.image) images.add(slot.image);
    }
    expect(images.size).toBeGreaterThan(3);
    const listed = (files.get("summary.txt") ?? "").split("\n").slice(2).filter(Boolean);
    expect(listed.map((l) => l.trim().split("  ")[0]).sort()).toEqual([...images].sort());
    for (const line of listed) expect(line).toMatch(/ {2}registry \S+, (pinned by digest|tag only)/);
    expect(summaryLine(summary)).toMatch(
      new RegExp(
        `^${stack}: ${run.resources.length} resources \\(\\d+ Kubernetes objects\\); longest dependency chain: \\d+ \\(`,
      ),
    );
  });
});

describe("render with the stack's analyses", () => {
  it("adds the route table, capacity at minimum and maximum, the connectivity verdict and its Mermaid graph", async () => {
    const rendered = renderRun("production", await runStack("production"), {
      settings: stackSettings("production"),
    });
    const summary = rendered.files.get("summary.txt") ?? "";
    expect(summary.split("\n")[0]).toBe(summaryLine(rendered.summary));
    expect(summary).toMatch(
      /https +fintech\.platform\.example\.com +PathPrefix \/ +fintech\/backend-api:3000/,
    );
    // 6 general m5.large + 1 memory r5.large at minimum, each 1930m allocatable: 7 × 1930m.
    expect(summary).toMatch(/cluster at minimum size: requested CPU \d+m, .* of CPU 13510m/);
    expect(summary).toMatch(/cluster at maximum size: requested/);
    // One known open leak: the Amazon MQ bootstrap Job can reach the EKS API (test/connectivity.test.ts KNOWN_OPEN).
    expect(summary).toMatch(/Connectivity: \d+ intended flows, 0 blocked; \d+ must-not rules, 1 leaks/);
    const graph = rendered.files.get("connectivity.md") ?? "";
    expect(graph).toContain("```mermaid\nflowchart LR");
    expect(graph).toContain("ecommerce_payment_service -->|443| external_api_stripe_com");
    expect(graph).toContain("envoy_gateway_system_envoy_proxy -->|3000| fintech_backend_api");
    // Prometheus reaches metrics ports, never an entry service's API port.
    expect(graph).toContain("monitoring_prometheus -->|9464| fintech_backend_api");
    expect(graph).not.toMatch(/monitoring_prometheus -->\|[^|]*\b3000\b[^|]*\| fintech_backend_api/);
  }, 60_000);
});

describe("longest dependency chain", () => {
  const r = (name: string, dependencies: string[] = [], provider = "") => ({
    type: "t",
    name,
    urn: name,
    parent: "",
    custom: true,
    inputs: {},
    state: {},
    dependencies,
    provider,
    protect: false,
    retainOnDelete: false,
    deleteBeforeReplace: false,
    ignoreChanges: [],
    additionalSecretOutputs: [],
    aliases: [],
    version: "",
  });
  it("follows dependencies and provider edges, not parallel branches", () => {
    const resources = [r("a"), r("b", ["a"]), r("c", ["b"]), r("d", ["a"]), r("e", [], "c::id")];
    expect(longestDependencyChain(resources)).toEqual(["a", "b", "c", "e"]);
  });

  it("counts a component's dependencies for its children (they register after the component)", () => {
    const component = { ...r("comp", ["e"]), custom: false };
    const child = { ...r("child"), parent: "comp" };
    const resources = [r("a"), r("b", ["a"]), r("c", ["b"]), r("e", [], "c::id"), component, child];
    expect(longestDependencyChain(resources)).toEqual(["a", "b", "c", "e", "child"]);
  });
});

describe("mock harness", () => {
  it("fails loudly on an invoke nobody mocked", async () => {
    await expect(
      runProgram(() => pulumi.runtime.invoke("aws:ec2/getVpc:getVpc", { default: true })),
    ).rejects.toThrow('Unmocked invoke "aws:ec2/getVpc:getVpc"');
  });

  it("records parent, dependencies and options as the engine receives them", async () => {
    class Thing extends pulumi.CustomResource {
      constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        super("test:index:Thing", name, props, opts);
      }
    }
    const run = await runProgram(() => {
      const parent = new pulumi.ComponentResource("platform:index:Probe", "probe");
      const first = new Thing("first", { size: 1 }, { parent });
      const second = new Thing("second", { size: first.id }, { parent, protect: true, retainOnDelete: true });
      new Thing("third", { secret: pulumi.secret("s3cret-value") }, { dependsOn: [parent] });
      return { out: second.id };
    });
    const first = run.resources.find((x) => x.name === "first")!;
    const second = run.resources.find((x) => x.name === "second")!;
    const third = run.resources.find((x) => x.name === "third")!;
    expect(second.parent).toBe(run.resources.find((x) => x.name === "probe")!.urn);
    expect(second.dependencies).toEqual([first.urn]);
    expect(second).toMatchObject({ protect: true, retainOnDelete: true });
    // Depending on a component means depending on its children.
    expect(third.dependencies).toEqual([first.urn, second.urn].sort());
    expect(third.inputs.secret).toEqual({ secret: true, value: "s3cret-value" });
  });
});
