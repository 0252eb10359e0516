/**
 * Checks shared by the data-service tests (ManagedPostgres, RedisCache, MessageBroker): running one
 * under mocks, secrecy of every generated credential across a whole run, validation of rendered
 * Kubernetes objects against the Kubernetes schemas, the policy pack's findings, the parts of the
 * contract every data service keeps the same way (disruption budget, credentials revision,
 * protection), and the exact message of a ComponentArgsError.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";
import type { DataServiceOutputs } from "../components/data-service";
import { evaluate, imagesDigestPinnedInProduction, type RuleResource, type Stage } from "../policy/rules";
import {
  byName,
  byType,
  isSecretValue,
  reveal,
  runProgram,
  type RecordedResource,
  type RunResult,
} from "./harness";
import { validateKubernetesObject } from "./validate";

/**
 * Runs one data service under an explicit Kubernetes provider and exports its contract as the
 * stack's outputs (`bootstrapUrn` for the Job). With `namespace` (the default), it first creates the
 * service's namespace (Pod Security "restricted") and passes it as the component's `dependsOn`.
 */
export async function runDataService<A extends { namespace: pulumi.Input<string> }>(
  create: (name: string, args: A, opts: pulumi.ComponentResourceOptions) => DataServiceOutputs,
  name: string,
  args: A,
  options: { namespace?: boolean } = {},
): Promise<RunResult> {
  return runProgram(() => {
    const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
    const ns =
      (options.namespace ?? true)
        ? new k8s.core.v1.Namespace(
            "ns",
            {
              metadata: {
                name: args.namespace,
                labels: { "pod-security.kubernetes.io/enforce": "restricted" },
              },
            },
            { provider },
          )
        : undefined;
    // These tests are about the store alone: its consumers are read by no MicroService of the run.
    const alone = withConsumersElsewhere(args);
    const service = create(name, alone, { provider, ...(ns ? { dependsOn: [ns] } : {}) });
    return {
      host: service.host,
      port: service.port,
      tls: service.tls,
      connectionSecretNames: service.connectionSecretNames,
      egressPeer: service.egressPeer,
      bootstrapUrn: service.bootstrap.urn,
    };
  });
}

/** `args` with each consumer marked as used elsewhere (the store's tests construct no MicroService). */
export function withConsumersElsewhere<A>(args: A): A {
  const consumers = (args as { consumers?: unknown }).consumers;
  if (!Array.isArray(consumers)) return args;
  return {
    ...args,
    consumers: consumers.map((c: object) => ({ elsewhere: "a service outside this test", ...c })),
  };
}

/** The bootstrap Job of a run (each data service has exactly one). */
export const bootstrapJobOf = (r: RunResult): RecordedResource => byType(r, "kubernetes:batch/v1:Job")[0]!;

/** The value the RandomPassword `name` generated, revealed. */
export const generatedPassword = (r: RunResult, name: string): string =>
  reveal(byName(r, "random:index/randomPassword:RandomPassword", name).state.result) as string;

/** Fails if any password the run generated appears, revealed, anywhere in the inputs of `resources`. */
export function expectNoGeneratedPasswordIn(r: RunResult, ...resources: RecordedResource[]): void {
  const passwords = byType(r, "random:index/randomPassword:RandomPassword");
  expect(passwords.length).toBeGreaterThan(0);
  for (const resource of resources) {
    const rendered = JSON.stringify(reveal(resource.inputs));
    for (const p of passwords)
      expect(rendered, resource.name).not.toContain(reveal(p.state.result) as string);
  }
}

/**
 * The in-cluster server's PodDisruptionBudget `<name>-pdb`: labelled like the StatefulSet (`labels`
 * among them), selecting exactly its pods, and never blocking a node drain (one replica: only
 * maxUnavailable 1 lets a drain evict it). The policy pack passes on every stage, and without the
 * budget its coverage rule fails the StatefulSet. Returns the budget.
 */
export function expectDrainableDisruptionBudget(
  r: RunResult,
  name: string,
  namespace: string,
  labels: Record<string, string>,
): RecordedResource {
  const sts = byName(r, "kubernetes:apps/v1:StatefulSet", name);
  const pdb = byName(r, "kubernetes:policy/v1:PodDisruptionBudget", `${name}-pdb`);
  expect(metadataOf(pdb)).toEqual({ name: `${name}-pdb`, namespace, labels: metadataOf(sts).labels });
  expect(metadataOf(pdb).labels).toMatchObject(labels);
  expect(pdbSpec(pdb)).toEqual({
    selector: { matchLabels: statefulSetSpec(sts).selector.matchLabels },
    maxUnavailable: 1,
    unhealthyPodEvictionPolicy: "AlwaysAllow",
  });
  expect(statefulSetSpec(sts).template.metadata.labels).toMatchObject(pdbSpec(pdb).selector.matchLabels);
  expect(statefulSetSpec(sts).replicas).toBe(1);
  for (const stage of ["local", "staging"] as const) expect(policyFindings(r, stage), stage).toEqual([]);
  // Production holds a data store to more than a drainable budget: a single unreplicated, unbacked
  // StatefulSet (the local stack's backend) is refused there, by the data-store rules and only them.
  const production = policyFindings(r, "production");
  expect(
    production.every((f) => f.startsWith("[data-production-")),
    production.join("\n"),
  ).toBe(true);
  expect(production).toContain(
    `[data-production-replicas] StatefulSet "${namespace}/${name}" is a single-replica data store in production without a recorded reason (annotation platform.example.com/singleton-reason).`,
  );
  expect(policyFindings(r, "local", [{ type: pdb.type, name: pdb.name }])).toEqual([
    `[k8s-pdb-coverage] StatefulSet "${namespace}/${name}" is not covered by a PodDisruptionBudget (none in namespace "${namespace}" selects its pod labels).`,
  ]);
  return pdb;
}

/**
 * The credentials revision `<name>-credentials-revision`: its keepers are secret in state, its hex
 * is 8 random hex digits, and the bootstrap Job's pod template carries exactly that hex (so a new
 * password replaces the Job); the Job is auto-named and holds no password. Returns the revision and
 * its hex, for the keepers (which differ per engine) and any other pod template carrying it.
 */
export function expectCredentialsRevision(
  r: RunResult,
  name: string,
): { revision: RecordedResource; hex: string } {
  const revision = byName(r, "random:index/randomId:RandomId", `${name}-credentials-revision`);
  expect(revision.state.keepers).toMatchObject({ secret: true });
  expect(revision.additionalSecretOutputs).toEqual(["keepers"]);
  const hex = revision.state.hex as string;
  expect(hex).toMatch(/^[0-9a-f]{8}$/);
  const job = bootstrapJobOf(r);
  expect(jobSpec(job).template.metadata.annotations).toEqual({
    "microservices-platform/credentials-revision": hex,
  });
  expect(job.dependencies).toContain(revision.urn);
  // Auto-named, so the replacement is created before the old Job is deleted.
  expect(metadataOf(job).name).toBeUndefined();
  expectNoGeneratedPasswordIn(r, job);
  return { revision, hex };
}

/**
 * An in-cluster run: every Kubernetes object uses the run's provider and is valid (the Job, the
 * StatefulSet and its PodDisruptionBudget among them), and every generated password stays secret.
 */
export async function expectValidInClusterObjects(r: RunResult): Promise<void> {
  const provider = byType(r, "pulumi:providers:kubernetes")[0]!;
  for (const k of kubernetesObjects(r)) expect(k.provider.startsWith(`${provider.urn}::`)).toBe(true);
  expect(kubernetesObjects(r).map((k) => k.type)).toEqual(
    expect.arrayContaining([
      "kubernetes:batch/v1:Job",
      "kubernetes:apps/v1:StatefulSet",
      "kubernetes:policy/v1:PodDisruptionBudget",
    ]),
  );
  await expectValidObjectsAndSecretPasswords(r);
}

/** Every generated password stays secret and every Kubernetes object is valid. */
export async function expectValidObjectsAndSecretPasswords(r: RunResult): Promise<void> {
  expect(unmarkedSecrets(r)).toEqual([]);
  expect(await invalidKubernetesObjects(r)).toEqual([]);
}

/** Exactly `names` are protected, and exactly they are retained on delete. */
export function expectProtectedAndRetained(r: RunResult, names: string[]): void {
  const where = (flag: (x: RecordedResource) => boolean) =>
    r.resources
      .filter(flag)
      .map((x) => x.name)
      .sort();
  expect(where((x) => x.protect)).toEqual([...names].sort());
  expect(where((x) => x.retainOnDelete)).toEqual([...names].sort());
}

/**
 * Args problems every data service reports the same way (from the shared validation), for each
 * component's table of bad input: its base args have backend "aws" and valid `aws` placement.
 */
export const SHARED_ARG_CASES: [Record<string, unknown>, string][] = [
  [
    { aws: undefined },
    'aws: required when backend is "aws" (vpcId, subnetIds, subnetCidrs and who may connect)',
  ],
  [
    { backend: "inCluster" },
    'aws: must be omitted when backend is "inCluster" (it places an AWS-managed service; nothing would read it)',
  ],
  [{ stage: "prod" }, 'stage must be one of "local", "staging", "production", found "prod"'],
];

/**
 * Every place a generated value (a RandomPassword's `result`) appears in a run outside a
 * `{ secret: true }` marker: resource inputs, resource state and stack outputs. Returns paths such as
 * `kubernetes:core/v1:Secret pg-user-service-connection inputs.stringData.DATABASE_URL`; empty when
 * every credential stayed secret. Fails if the run generated nothing (the check would prove nothing).
 */
export function unmarkedSecrets(run: RunResult): string[] {
  const generated = run.resources
    .filter((r) => r.type === "random:index/randomPassword:RandomPassword")
    .map((r) => reveal(r.state.result))
    .filter((v): v is string => typeof v === "string" && v.length > 0);
  if (generated.length === 0) throw new Error("unmarkedSecrets: the run generated no passwords");
  const found: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (isSecretValue(value)) return;
    if (typeof value === "string") {
      if (generated.some((g) => value.includes(g))) found.push(path);
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === "object")
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  for (const r of run.resources) {
    walk(r.inputs, `${r.type} ${r.name} inputs`);
    walk(r.state, `${r.type} ${r.name} state`);
  }
  walk(run.outputs, "stack outputs");
  return found;
}

/** `apiVersion` and `kind` from a Pulumi Kubernetes type token (`kubernetes:apps/v1:StatefulSet`). */
export function apiVersionKind(type: string): { apiVersion: string; kind: string } {
  const match = /^kubernetes:([^:]+):(\w+)$/.exec(type);
  if (!match) throw new Error(`not a Kubernetes type token: ${type}`);
  const groupVersion = match[1]!;
  return {
    apiVersion: groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion,
    kind: match[2]!,
  };
}

/**
 * Validates every Kubernetes object a run registered against the Kubernetes API schemas (apiVersion
 * and kind from the type token); returns one message per invalid object. Secrets are revealed for
 * validation only.
 */
export async function invalidKubernetesObjects(run: RunResult): Promise<string[]> {
  const problems: string[] = [];
  for (const r of kubernetesObjects(run)) {
    try {
      await validateKubernetesObject({
        ...(reveal(r.inputs) as Record<string, unknown>),
        ...apiVersionKind(r.type),
      });
    } catch (error) {
      problems.push(`${r.type} ${r.name}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** The Kubernetes objects of a run (not providers, not Helm releases). */
export function kubernetesObjects(run: RunResult): RecordedResource[] {
  return run.resources.filter(
    (r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh"),
  );
}

/**
 * The policy pack's findings (`[rule] message`) for the custom resources of a run, presented as the
 * pack sees them (props = inputs merged with outputs, secrets unwrapped). `omit` drops resources by
 * type and name first, to prove a finding appears without them. Digest pinning is left out (see below).
 */
export function policyFindings(
  run: RunResult,
  stage: Stage,
  omit: { type: string; name: string }[] = [],
): string[] {
  const resources: RuleResource[] = run.resources
    .filter((r) => r.custom && !omit.some((o) => o.type === r.type && o.name === r.name))
    .map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: {
        ...(reveal(r.inputs) as Record<string, unknown>),
        ...(reveal(r.state) as Record<string, unknown>),
      },
      dependencies: r.dependencies,
    }));
  // Digest pinning is the stack's choice (components ship tag-pinned default images and take an
  // `image` arg); test/policy-stacks.test.ts holds the stacks to it.
  return evaluate(resources, { stage })
    .filter((f) => f.rule !== imagesDigestPinnedInProduction.name)
    .map((f) => `[${f.rule}] ${f.message}`);
}

/** The message of the error `construct` throws (fails the test when it throws nothing). */
export function thrownMessage(construct: () => unknown): string {
  try {
    construct();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the constructor to throw");
}

/** The exact ComponentArgsError message for `problems`. */
export function argsErrorMessage(component: string, name: string, problems: string[]): string {
  return `${component} "${name}": invalid arguments (${problems.length}):\n${problems.map((p) => `  - ${p}`).join("\n")}`;
}

// Typed views of recorded Kubernetes inputs (they have the shape of the objects' output types).
export type Container = k8s.types.output.core.v1.Container;
export const metadataOf = (r: RecordedResource) => r.inputs.metadata as k8s.types.output.meta.v1.ObjectMeta;
export const statefulSetSpec = (r: RecordedResource) =>
  (r.inputs as { spec: k8s.types.output.apps.v1.StatefulSetSpec }).spec;
export const jobSpec = (r: RecordedResource) =>
  (r.inputs as { spec: k8s.types.output.batch.v1.JobSpec }).spec;
export const serviceSpec = (r: RecordedResource) =>
  (r.inputs as { spec: k8s.types.output.core.v1.ServiceSpec }).spec;
export const networkPolicySpec = (r: RecordedResource) =>
  (r.inputs as { spec: k8s.types.output.networking.v1.NetworkPolicySpec }).spec;
export const pdbSpec = (r: RecordedResource) =>
  (r.inputs as { spec: k8s.types.output.policy.v1.PodDisruptionBudgetSpec }).spec;
/** The pod spec of a workload (StatefulSet, Job). */
export const podSpec = (r: RecordedResource) =>
  (r.inputs as { spec: { template: k8s.types.output.core.v1.PodTemplateSpec } }).spec.template.spec;
export const firstContainer = (r: RecordedResource): Container => podSpec(r).containers[0]!;
/** A container's env as name → value (plain) or valueFrom (references). */
export const envOf = (c: Container): Record<string, unknown> =>
  Object.fromEntries(c.env.map((e) => [e.name, e.value ?? e.valueFrom]));
/** A Secret's stringData, revealed. */
export const secretData = (r: RecordedResource) => reveal(r.inputs.stringData) as Record<string, string>;
/** `namespace/name` of each NetworkPolicy peer (pod selector by name, namespace selector by name). */
export const peerNames = (peers: k8s.types.output.networking.v1.NetworkPolicyPeer[]): string[] =>
  peers.map(
    (f) =>
      `${f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] ?? ""}/${f.podSelector?.matchLabels?.["app.kubernetes.io/name"] ?? ""}`,
  );
