/**
 * Reading a recorded run or a rendered inventory as a graph of our components: which component owns a
 * resource, and lookups by URN. Shared by the render, the cost model and the diagrams, so "owned by"
 * means the same thing in a manifest file name, a cost line and a diagram node.
 */

/** The fields of a resource (recorded or from inventory.json) that ownership needs. */
export interface OwnedResource {
  type: string;
  name: string;
  urn: string;
  parent: string;
}

export const COMPONENT_TYPE_PREFIX = "platform:index:";

/** Label of a component resource: `<Class>-<name>`, e.g. `ManagedPostgres-ecommerce-postgres`. */
export function componentLabel(r: OwnedResource): string {
  return `${r.type.slice(COMPONENT_TYPE_PREFIX.length)}-${r.name}`;
}

/** Nearest ancestor that is one of our components, as `<Class>-<name>`; "stack" when there is none. */
export function owningComponent<T extends OwnedResource>(r: T, byUrn: ReadonlyMap<string, T>): string {
  for (let current = byUrn.get(r.parent); current; current = byUrn.get(current.parent)) {
    if (current.type.startsWith(COMPONENT_TYPE_PREFIX)) return componentLabel(current);
  }
  return "stack";
}

export function indexByUrn<T extends OwnedResource>(resources: readonly T[]): Map<string, T> {
  return new Map(resources.map((r) => [r.urn, r]));
}

/** What dependency edges need of a resource; `providerUrn` without the provider's `::id`. */
export interface DependentResource extends OwnedResource {
  dependencies: readonly string[];
  providerUrn: string;
}

/**
 * Edges between custom resources, each resource to what must exist before it: explicit dependsOn,
 * property dependencies, the provider it uses, and its ancestors' dependencies (a child cannot register
 * before its parent, and a component registers only once its own dependencies exist). Component
 * resources are grouping only: an edge to a component stands for its children, which the SDK already
 * expands. Targets are sorted.
 */
export function dependencyEdges(
  resources: readonly DependentResource[],
  isCustom: (r: DependentResource) => boolean,
): Map<string, string[]> {
  const byUrn = indexByUrn(resources);
  const custom = new Set(resources.filter(isCustom).map((r) => r.urn));
  const edges = new Map<string, string[]>();
  for (const r of resources) {
    if (!custom.has(r.urn)) continue;
    const inherited: string[] = [];
    for (let p = byUrn.get(r.parent); p; p = byUrn.get(p.parent)) inherited.push(...p.dependencies);
    const deps = [...new Set([...r.dependencies, ...inherited, ...(r.providerUrn ? [r.providerUrn] : [])])]
      .filter((d) => custom.has(d) && d !== r.urn)
      .sort();
    edges.set(r.urn, deps);
  }
  return edges;
}

/** `urn::id` → `urn` (the harness records a provider reference with its id). */
export function withoutId(providerReference: string): string {
  return providerReference ? providerReference.split("::").slice(0, -1).join("::") : "";
}
