/**
 * The render is what reviewers and their tools read, so it must read back as what the program
 * applies: YAML 1.1 readers (kubectl, kube-score, PyYAML) see the same values as YAML 1.2 readers,
 * and every Secret shows its real key names, so each Secret a pod references can be checked for the
 * key the pod reads.
 */
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { manifestYaml, renderRun, secretPayloadKeys, SECRET_PLACEHOLDER } from "../scripts/render-lib";
import { runStack } from "./harness";

const STACKS = ["local", "staging", "production"] as const;

type K8sObject = {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

/** Every object of every rendered manifest file, read as a YAML 1.1 tool reads it. */
function parseManifests(files: Map<string, string>, version: "1.1" | "1.2"): K8sObject[] {
  return [...files]
    .filter(([file]) => file.startsWith("manifests/"))
    .flatMap(([, content]) => parseAllDocuments(content, { version }).map((d) => d.toJS() as K8sObject));
}

interface SecretReference {
  from: string;
  namespace: string;
  secret: string;
  /** Undefined for a whole-Secret reference (envFrom, a volume without items). */
  key?: string;
}

/** The pod spec of a workload (Deployment, StatefulSet, DaemonSet, Job; CronJob through its job template). */
function podSpec(o: K8sObject): Record<string, unknown> | undefined {
  const spec = o.spec as
    | {
        template?: { spec?: Record<string, unknown> };
        jobTemplate?: { spec?: { template?: { spec?: Record<string, unknown> } } };
      }
    | undefined;
  return spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec;
}

type Container = {
  env?: { valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
  envFrom?: { secretRef?: { name: string; optional?: boolean } }[];
};
type Volume = { secret?: { secretName: string; optional?: boolean; items?: { key: string }[] } };

/** Every non-optional Secret reference a pod template makes: env, envFrom and secret volumes. */
function secretReferences(o: K8sObject): SecretReference[] {
  const pod = podSpec(o);
  if (!pod) return [];
  const namespace = o.metadata.namespace ?? "default";
  const from = `${o.kind}/${namespace}/${o.metadata.name}`;
  const refs: SecretReference[] = [];
  const containers = [
    ...((pod.initContainers as Container[]) ?? []),
    ...((pod.containers as Container[]) ?? []),
  ];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref && !ref.optional) refs.push({ from, namespace, secret: ref.name, key: ref.key });
    }
    for (const e of c.envFrom ?? [])
      if (e.secretRef && !e.secretRef.optional) refs.push({ from, namespace, secret: e.secretRef.name });
  }
  for (const v of (pod.volumes as Volume[]) ?? []) {
    if (!v.secret || v.secret.optional) continue;
    const items = v.secret.items ?? [];
    if (items.length === 0) refs.push({ from, namespace, secret: v.secret.secretName });
    for (const item of items) refs.push({ from, namespace, secret: v.secret.secretName, key: item.key });
  }
  return refs;
}

describe("YAML 1.1 readers", () => {
  it("read every string that 1.1 takes for a boolean, null or number back as the same string", () => {
    const ambiguous = [
      "no",
      "yes",
      "on",
      "off",
      "y",
      "n",
      "No",
      "OFF",
      "~",
      "null",
      "0777",
      "1e3",
      "12:30",
      "0x1F",
      "1_000",
      ".5",
    ];
    const text = manifestYaml({ args: ambiguous, flag: "on" });
    const [doc] = parseAllDocuments(text, { version: "1.1" });
    expect(doc?.toJS()).toEqual({ args: ambiguous, flag: "on" });
  });

  it("keep real booleans and numbers unquoted", () => {
    expect(manifestYaml({ enabled: true, replicas: 3 })).toBe("enabled: true\nreplicas: 3\n");
  });
});

describe("Secret key names", () => {
  it("are read through a secret marking of the whole payload, sorted", () => {
    expect(secretPayloadKeys({ secret: true, value: { b: "x", a: "y" } })).toEqual(["a", "b"]);
    expect(secretPayloadKeys({ a: { secret: true, value: "x" } })).toEqual(["a"]);
    expect(secretPayloadKeys(undefined)).toBeUndefined();
  });
});

describe.each(STACKS)("the %s render read as YAML 1.1", (stack) => {
  it("holds exactly the objects a YAML 1.2 reader sees", async () => {
    const { files } = renderRun(stack, await runStack(stack));
    const as11 = parseManifests(files, "1.1");
    expect(as11.length).toBeGreaterThan(0);
    expect(as11).toEqual(parseManifests(files, "1.2"));
  });

  it("shows each Secret's real key names, every value the placeholder", async () => {
    const run = await runStack(stack);
    const secrets = parseManifests(renderRun(stack, run).files, "1.1").filter((o) => o.kind === "Secret");
    expect(secrets.length).toBeGreaterThan(0);
    const recorded = new Map(
      run.resources
        .filter((r) => r.type === "kubernetes:core/v1:Secret")
        .map((r) => [`${String((r.state.metadata as { name?: string } | undefined)?.name)}`, r]),
    );
    for (const s of secrets) {
      const payload = { ...s.data, ...s.stringData };
      const source = recorded.get(s.metadata.name);
      const expected = [
        ...(secretPayloadKeys(source?.inputs.data) ?? []),
        ...(secretPayloadKeys(source?.inputs.stringData) ?? []),
      ].sort();
      expect(Object.keys(payload).sort(), s.metadata.name).toEqual(expected);
      expect(
        Object.keys(payload).some((k) => /^\d+$/.test(k)),
        `${s.metadata.name} keys`,
      ).toBe(false);
      for (const value of Object.values(payload)) expect(value).toBe(SECRET_PLACEHOLDER);
    }
  });

  it("has, for every Secret key a pod reads, that Secret with that key", async () => {
    const objects = parseManifests(renderRun(stack, await runStack(stack)).files, "1.1");
    const secretKeys = new Map(
      objects
        .filter((o) => o.kind === "Secret")
        .map((o) => [
          `${o.metadata.namespace}/${o.metadata.name}`,
          new Set(Object.keys({ ...o.data, ...o.stringData })),
        ]),
    );
    // A CloudNativePG Cluster's CA is made by the operator, not rendered: `<cluster>-ca` holds ca.crt.
    for (const cluster of objects.filter((o) => o.kind === "Cluster")) {
      secretKeys.set(
        `${cluster.metadata.namespace}/${cluster.metadata.name}-ca`,
        new Set(["ca.crt", "ca.key"]),
      );
    }
    const references = objects.flatMap(secretReferences);
    expect(references.length, "pods reference Secrets").toBeGreaterThan(0);
    const missing = references.filter((ref) => {
      const keys = secretKeys.get(`${ref.namespace}/${ref.secret}`);
      return !keys || (ref.key !== undefined && !keys.has(ref.key));
    });
    expect(missing.map((m) => `${m.from} → ${m.secret}${m.key ? `[${m.key}]` : ""}`)).toEqual([]);
  });
});

describe("the reference check itself", () => {
  it("finds env, envFrom and secret-volume references, and skips optional ones", () => {
    const job: K8sObject = {
      kind: "Job",
      metadata: { name: "j", namespace: "ns" },
      spec: {
        template: {
          spec: {
            containers: [
              {
                env: [
                  { valueFrom: { secretKeyRef: { name: "a", key: "K" } } },
                  { valueFrom: { secretKeyRef: { name: "opt", key: "K", optional: true } } },
                ],
                envFrom: [{ secretRef: { name: "b" } }],
              },
            ],
            volumes: [{ secret: { secretName: "c", items: [{ key: "curlrc" }] } }],
          },
        },
      },
    };
    expect(secretReferences(job)).toEqual([
      { from: "Job/ns/j", namespace: "ns", secret: "a", key: "K" },
      { from: "Job/ns/j", namespace: "ns", secret: "b" },
      { from: "Job/ns/j", namespace: "ns", secret: "c", key: "curlrc" },
    ]);
  });
});
