/**
 * Checks shared by the data-service tests (ManagedPostgres, RedisCache, MessageBroker): secrecy of
 * every generated credential across a whole run, validation of rendered Kubernetes objects against
 * the Kubernetes schemas, the policy pack's findings, and the exact message of a ComponentArgsError.
 */
import type * as k8s from "@pulumi/kubernetes";
import { evaluate, type RuleResource, type Stage } from "../policy/rules";
import { isSecretValue, reveal, type RecordedResource, type RunResult } from "./harness";
import { validateKubernetesObject } from "./validate";

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
 * type and name first, to prove a finding appears without them.
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
  return evaluate(resources, { stage }).map((f) => `[${f.rule}] ${f.message}`);
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
