/**
 * Offline render — our `helm template`. Turns a harness run into what reviewers, policy checks and
 * PR diffs read:
 *  - every Kubernetes object as YAML, `metadata.name`/`namespace` resolved, grouped into one file
 *    per namespace and owning component;
 *  - `inventory.json`: every resource with type, name, parent, dependencies and inputs, secrets
 *    shown as `[secret]`;
 *  - `summary.txt`: resource count, the longest dependency chain, and every container image with its
 *    registry and whether it is pinned by digest;
 *  - the review views of scripts/views.ts (cost, diagrams, images).
 * Deterministic: sorted keys, sorted files, sorted resources, stable mock ids.
 */
import { stringify } from "yaml";
import { isSecretValue, UNKNOWN, type RecordedResource, type RunResult } from "../test/harness";
import { dependencyEdges, indexByUrn, owningComponent, withoutId } from "./resource-graph";
import { imageSummaryLine, imageUses, type ImageUse } from "./images";
import { renderViews, type RenderContext } from "./views";
import { stackReport } from "./stack-report";

export const SECRET_PLACEHOLDER = "[secret]";

export interface RenderedStack {
  /** Relative path → file content. */
  files: Map<string, string>;
  inventory: InventoryEntry[];
  summary: RenderSummary;
}

export interface InventoryEntry {
  type: string;
  name: string;
  urn: string;
  parent: string;
  provider: string;
  dependencies: string[];
  protect: boolean;
  retainOnDelete: boolean;
  inputs: unknown;
}

export interface RenderSummary {
  stack: string;
  resourceCount: number;
  kubernetesObjectCount: number;
  /** Custom resources along the longest dependency chain, first to last. */
  longestChain: string[];
}

/** Replaces every secret by `[secret]`, recursively. */
export function redact(value: unknown): unknown {
  if (isSecretValue(value)) return SECRET_PLACEHOLDER;
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
  return value;
}

/**
 * `kubernetes:apps/v1:Deployment` → { apiVersion: "apps/v1", kind: "Deployment" }. A Pulumi patch
 * resource (`kubernetes:core/v1:NamespacePatch`) applies a partial object of the kind it patches
 * (server-side apply), so it renders as that kind.
 */
export function kubernetesKind(type: string): { apiVersion: string; kind: string } | undefined {
  const match = /^kubernetes:([^:]+):([^:]+?)(?:Patch)?$/.exec(type);
  if (!match || type.startsWith("kubernetes:helm.sh/")) return undefined;
  const [, groupVersion = "", kind = ""] = match;
  const [group, version] = groupVersion.split("/");
  if (!version) return undefined;
  return { apiVersion: group === "core" ? version : `${group}/${version}`, kind };
}

/** Rebuilds the Kubernetes object a resource applies, names resolved, secrets redacted. */
export function kubernetesObject(r: RecordedResource): Record<string, unknown> | undefined {
  const kind = kubernetesKind(r.type);
  if (!kind) return undefined;
  const inputs = redact(r.inputs) as Record<string, unknown>;
  const resolved = (redact(r.state.metadata) ?? {}) as Record<string, unknown>;
  const metadata = { ...((inputs.metadata as Record<string, unknown> | undefined) ?? {}) };
  if (resolved.name) metadata.name = resolved.name;
  // A Namespace is cluster-scoped (a NamespacePatch's recorded state may still carry one).
  if (resolved.namespace && kind.kind !== "Namespace") metadata.namespace = resolved.namespace;
  const object: Record<string, unknown> = { ...inputs, ...kind, metadata };
  if (kind.kind === "Secret") {
    // Secret payloads never reach a rendered file, whatever their secrecy marking. Key names are not
    // secret: a reviewer checks every secretKeyRef against them.
    for (const field of ["data", "stringData"]) {
      const keys = secretPayloadKeys(r.inputs[field]);
      if (keys) object[field] = Object.fromEntries(keys.map((k) => [k, SECRET_PLACEHOLDER]));
    }
  }
  return object;
}

/**
 * The key names of a Secret's `data`/`stringData`, looking through a secret marking of the whole map
 * (`stringData: pulumi.secret({...})` arrives as one secret value). Undefined when the field is absent;
 * an empty list when its keys are unknown (a payload still computing in a preview).
 */
export function secretPayloadKeys(payload: unknown): string[] | undefined {
  if (payload === undefined) return undefined;
  const map = isSecretValue(payload) ? payload.value : payload;
  return map && typeof map === "object" && !Array.isArray(map) ? Object.keys(map).sort() : [];
}

const KIND_ORDER = [
  "Namespace",
  "ResourceQuota",
  "LimitRange",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "PersistentVolumeClaim",
  "StorageClass",
  "Service",
  "Job",
  "Deployment",
  "StatefulSet",
  "HorizontalPodAutoscaler",
  "PodDisruptionBudget",
  "NetworkPolicy",
];

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
}

/**
 * Renders a run. With the stack's `settings` in the context, the analyses (routes, capacity,
 * connectivity and its graph: scripts/stack-report.ts) are added to the summary and as files.
 */
export function renderRun(stack: string, run: RunResult, context: RenderContext = {}): RenderedStack {
  const byUrn = indexByUrn(run.resources);
  const groups = new Map<string, { kind: string; name: string; object: Record<string, unknown> }[]>();
  for (const r of run.resources) {
    const object = kubernetesObject(r);
    if (!object) continue;
    const metadata = object.metadata as { name?: string; namespace?: string };
    const namespace =
      metadata.namespace ?? (object.kind === "Namespace" ? String(metadata.name) : "_cluster");
    const file = `manifests/${namespace}/${owningComponent(r, byUrn)}.yaml`;
    const list = groups.get(file) ?? [];
    list.push({ kind: String(object.kind), name: String(metadata.name), object });
    groups.set(file, list);
  }
  const files = new Map<string, string>();
  let kubernetesObjectCount = 0;
  for (const file of [...groups.keys()].sort()) {
    const objects = (groups.get(file) ?? []).sort(
      (a, b) =>
        kindRank(a.kind) - kindRank(b.kind) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
    );
    kubernetesObjectCount += objects.length;
    files.set(file, objects.map((o) => manifestYaml(o.object)).join("---\n"));
  }
  const inventory = inventoryOf(run);
  files.set("inventory.json", `${JSON.stringify(inventory, null, 2)}\n`);
  const summary: RenderSummary = {
    stack,
    resourceCount: run.resources.length,
    kubernetesObjectCount,
    longestChain: longestDependencyChain(run.resources),
  };
  const report = context.settings
    ? stackReport(
        context.settings,
        run.resources.map(kubernetesObject).filter((o): o is Record<string, unknown> => !!o),
      )
    : undefined;
  for (const [file, content] of report?.files ?? []) files.set(file, content);
  files.set(
    "summary.txt",
    summaryText(summary, imageUses(inventory, context.settings?.images), report?.summary ?? []),
  );
  for (const [file, content] of renderViews({ stack, inventory, ...context })) files.set(file, content);
  return { files, inventory, summary };
}

/** Every resource of the run with type, name, parent, dependencies and inputs, secrets as `[secret]`, sorted by URN. */
export function inventoryOf(run: RunResult): InventoryEntry[] {
  return [...run.resources]
    .sort((a, b) => a.urn.localeCompare(b.urn))
    .map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      parent: r.parent,
      provider: withoutId(r.provider),
      dependencies: r.dependencies,
      protect: r.protect,
      retainOnDelete: r.retainOnDelete,
      inputs: sortKeys(redact(r.inputs)),
    }));
}

/**
 * One object as YAML that YAML 1.1 readers (kubectl, kube-score, PyYAML) read back unchanged: the 1.1
 * schema quotes strings such as `no`, `on`, `y` or `0777` that 1.1 would take for booleans or numbers.
 * YAML 1.2 readers read the same text identically.
 */
export function manifestYaml(object: unknown): string {
  return stringify(object, { version: "1.1", sortMapEntries: true, lineWidth: 0 });
}

/**
 * summary.txt: the summary line, then every image the stack runs with its registry and pinning, and
 * for a tag-only image the config key that pins it.
 */
export function summaryText(
  s: RenderSummary,
  images: readonly ImageUse[],
  analyses: readonly string[] = [],
): string {
  const imageLines = images.map(
    (u) =>
      `  ${u.image}  registry ${u.registry}, ${u.pinned ? "pinned by digest" : "tag only"}${u.vetted ? "" : `, unvetted namespace ${u.namespace}`}${!u.pinned && u.pinKeys.length ? `; pin with ${u.pinKeys.join(", ")}` : ""}`,
  );
  return [summaryLine(s), ...analyses, imageSummaryLine(images), ...imageLines, ""].join("\n");
}

export function summaryLine(s: RenderSummary): string {
  const chain = s.longestChain.map((urn) => urn.split("::").pop()).join(" -> ");
  return `${s.stack}: ${s.resourceCount} resources (${s.kubernetesObjectCount} Kubernetes objects); longest dependency chain: ${s.longestChain.length} (${chain})`;
}

/**
 * Longest chain of custom resources through dependency edges (see `dependencyEdges`: dependsOn,
 * property dependencies, providers and ancestors' dependencies).
 */
export function longestDependencyChain(resources: readonly RecordedResource[]): string[] {
  const customUrns = new Set(resources.filter((r) => r.custom).map((r) => r.urn));
  const edges = dependencyEdges(
    resources.map((r) => ({ ...r, providerUrn: withoutId(r.provider) })),
    (r) => customUrns.has(r.urn),
  );
  const memo = new Map<string, string[]>();
  const visiting = new Set<string>();
  const chainTo = (urn: string): string[] => {
    const cached = memo.get(urn);
    if (cached) return cached;
    if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
    visiting.add(urn);
    let best: string[] = [];
    for (const dep of edges.get(urn) ?? []) {
      const candidate = chainTo(dep);
      if (candidate.length > best.length) best = candidate;
    }
    visiting.delete(urn);
    const result = [...best, urn];
    memo.set(urn, result);
    return result;
  };
  let longest: string[] = [];
  for (const urn of [...edges.keys()].sort()) {
    const chain = chainTo(urn);
    if (chain.length > longest.length) longest = chain;
  }
  return longest;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value === UNKNOWN ? UNKNOWN : value;
}
