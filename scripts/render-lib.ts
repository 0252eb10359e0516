/**
 * Offline render — our `helm template`. Turns a harness run into what reviewers, policy checks and
 * PR diffs read:
 *  - every Kubernetes object as YAML, `metadata.name`/`namespace` resolved, grouped into one file
 *    per namespace and owning component;
 *  - `inventory.json`: every resource with type, name, parent, dependencies and inputs, secrets
 *    shown as `[secret]`;
 *  - a summary line: resource count and the longest dependency chain.
 * Deterministic: sorted keys, sorted files, sorted resources, stable mock ids.
 */
import { stringify } from "yaml";
import { isSecretValue, UNKNOWN, type RecordedResource, type RunResult } from "../test/harness";
import { type PlatformSettings } from "../config/settings";
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

/** `kubernetes:apps/v1:Deployment` → { apiVersion: "apps/v1", kind: "Deployment" }. */
export function kubernetesKind(type: string): { apiVersion: string; kind: string } | undefined {
  const match = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
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
  if (resolved.namespace) metadata.namespace = resolved.namespace;
  const object: Record<string, unknown> = { ...inputs, ...kind, metadata };
  if (kind.kind === "Secret") {
    // Secret payloads never reach a rendered file, whatever their secrecy marking.
    for (const field of ["data", "stringData"]) {
      const payload = object[field] as Record<string, unknown> | undefined;
      if (payload)
        object[field] = Object.fromEntries(Object.keys(payload).map((k) => [k, SECRET_PLACEHOLDER]));
    }
  }
  return object;
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

/** Nearest ancestor that is one of our components (`platform:index:*`), as `<Class>-<name>`. */
function owningComponent(r: RecordedResource, byUrn: Map<string, RecordedResource>): string {
  let current = byUrn.get(r.parent);
  while (current) {
    if (current.type.startsWith("platform:index:"))
      return `${current.type.slice("platform:index:".length)}-${current.name}`;
    current = byUrn.get(current.parent);
  }
  return "stack";
}

/**
 * Renders a run. With the stack's `settings`, the analyses (routes, capacity, connectivity and its
 * graph: scripts/stack-report.ts) are added to the summary and as files.
 */
export function renderRun(stack: string, run: RunResult, settings?: PlatformSettings): RenderedStack {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
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
    files.set(
      file,
      objects.map((o) => stringify(o.object, { sortMapEntries: true, lineWidth: 0 })).join("---\n"),
    );
  }
  const inventory: InventoryEntry[] = [...run.resources]
    .sort((a, b) => a.urn.localeCompare(b.urn))
    .map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      parent: r.parent,
      provider: r.provider.split("::").slice(0, -1).join("::"),
      dependencies: r.dependencies,
      protect: r.protect,
      retainOnDelete: r.retainOnDelete,
      inputs: sortKeys(redact(r.inputs)),
    }));
  files.set("inventory.json", `${JSON.stringify(inventory, null, 2)}\n`);
  const summary: RenderSummary = {
    stack,
    resourceCount: run.resources.length,
    kubernetesObjectCount,
    longestChain: longestDependencyChain(run.resources),
  };
  const report = settings
    ? stackReport(
        settings,
        run.resources.map(kubernetesObject).filter((o): o is Record<string, unknown> => !!o),
      )
    : undefined;
  for (const [file, content] of report?.files ?? []) files.set(file, content);
  files.set("summary.txt", [summaryLine(summary), ...(report?.summary ?? [])].join("\n") + "\n");
  return { files, inventory, summary };
}

export function summaryLine(s: RenderSummary): string {
  const chain = s.longestChain.map((urn) => urn.split("::").pop()).join(" -> ");
  return `${s.stack}: ${s.resourceCount} resources (${s.kubernetesObjectCount} Kubernetes objects); longest dependency chain: ${s.longestChain.length} (${chain})`;
}

/**
 * Longest chain of custom resources through dependency edges: explicit dependsOn, property
 * dependencies, the provider each resource uses, and its ancestors' dependencies (a child cannot
 * register before its parent, and a component registers only once its own dependencies exist).
 * Component resources are grouping only: an edge to a component stands for its children, which the
 * SDK already expands.
 */
export function longestDependencyChain(resources: readonly RecordedResource[]): string[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const custom = new Map(resources.filter((r) => r.custom).map((r) => [r.urn, r]));
  const edges = new Map<string, string[]>();
  for (const r of custom.values()) {
    const providerUrn = r.provider ? r.provider.split("::").slice(0, -1).join("::") : "";
    const inherited: string[] = [];
    for (let p = byUrn.get(r.parent); p; p = byUrn.get(p.parent)) inherited.push(...p.dependencies);
    const deps = [...new Set([...r.dependencies, ...inherited, ...(providerUrn ? [providerUrn] : [])])]
      .filter((d) => custom.has(d) && d !== r.urn)
      .sort();
    edges.set(r.urn, deps);
  }
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
  for (const urn of [...custom.keys()].sort()) {
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
