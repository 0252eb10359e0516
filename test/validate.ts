/**
 * Validates rendered Kubernetes objects against real API schemas: the `kubernetes-models` packages
 * (generated from the Kubernetes OpenAPI spec and each project's CRDs) by apiVersion/kind.
 */
const PACKAGES: { group: RegExp; module: (group: string, version: string, kind: string) => string }[] = [
  {
    group: /^monitoring\.coreos\.com$/,
    module: (g, v, k) => `@kubernetes-models/prometheus-operator/${g}/${v}/${k}`,
  },
  {
    group: /^gateway\.networking\.k8s\.io$/,
    module: (g, v, k) => `@kubernetes-models/gateway-api/${g}/${v}/${k}`,
  },
  {
    group: /^gateway\.envoyproxy\.io$/,
    module: (g, v, k) => `@kubernetes-models/envoy-gateway/${g}/${v}/${k}`,
  },
  {
    group: /^postgresql\.cnpg\.io$/,
    module: (g, v, k) => `@kubernetes-models/cloudnative-pg/${g}/${v}/${k}`,
  },
  { group: /cert-manager\.io$/, module: (g, v, k) => `@kubernetes-models/cert-manager/${g}/${v}/${k}` },
  { group: /^core$/, module: (_g, v, k) => `kubernetes-models/${v}/${k}` },
  {
    group: /\.k8s\.io$|^apps$|^batch$|^autoscaling$|^policy$/,
    module: (g, v, k) => `kubernetes-models/${g}/${v}/${k}`,
  },
];

export function modelModule(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  const entry = PACKAGES.find((p) => p.group.test(group ?? ""));
  return entry && version ? entry.module(group ?? "", version, kind) : undefined;
}

type Model = new (data: unknown) => { validate(): void };

/** Throws (with the object's identity) when the object does not match its kind's schema. */
export async function validateKubernetesObject(object: Record<string, unknown>): Promise<void> {
  const apiVersion = String(object.apiVersion);
  const kind = String(object.kind);
  const specifier = modelModule(apiVersion, kind);
  if (!specifier) throw new Error(`no schema package for ${apiVersion} ${kind}`);
  const mod = (await import(specifier)) as Record<string, Model>;
  const Ctor = mod[kind];
  if (!Ctor) throw new Error(`${specifier} exports no ${kind}`);
  const metadata = object.metadata as { name?: string; namespace?: string } | undefined;
  try {
    new Ctor(object).validate();
  } catch (error) {
    throw new Error(
      `${kind} ${metadata?.namespace ?? ""}/${metadata?.name ?? ""} is invalid: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
