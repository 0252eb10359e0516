/**
 * Validates rendered Kubernetes objects against real API schemas: the `kubernetes-models` packages
 * (generated from the Kubernetes OpenAPI spec and each project's CRDs) by apiVersion/kind.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";

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

/**
 * Kinds judged by their project's own CRD rather than by `kubernetes-models`, each with the reason.
 * The CRDs are the operator's release manifests at the version the stacks run (laid out by
 * `scripts/engine/toolchain.sh operator-manifests`, which the unit suite's setup runs).
 */
const CRD_JUDGED: Record<string, { file: string; why: string }> = {
  "monitoring.coreos.com/v1 Prometheus": {
    file: "monitoring.coreos.com_prometheuses.yaml",
    why: "@kubernetes-models/prometheus-operator 6.0.0 requires storage.volumeClaimTemplate.apiVersion and kind, and refuses every value for them; the CRD, which the API server applies, requires neither",
  },
  "monitoring.coreos.com/v1 Alertmanager": {
    file: "monitoring.coreos.com_alertmanagers.yaml",
    why: "@kubernetes-models/prometheus-operator 6.0.0 requires storage.volumeClaimTemplate.apiVersion and kind, and refuses every value for them; the CRD, which the API server applies, requires neither",
  },
};

function crdProblems(object: Record<string, unknown>, file: string): string[] {
  const dir = path.join(__dirname, "..", ".cache", "monitoring");
  const [release] = existsSync(dir)
    ? readdirSync(dir).filter((d) => d.startsWith("prometheus-operator-"))
    : [];
  if (!release)
    return [`no operator manifests under ${dir} (run scripts/engine/toolchain.sh operator-manifests)`];
  const crd = parseYaml(readFileSync(path.join(dir, release, "prometheus-operator-crd", file), "utf8")) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
  };
  const version = String(object.apiVersion).split("/")[1];
  const schema = crd.spec.versions.find((v) => v.name === version)?.schema.openAPIV3Schema;
  if (!schema) return [`${file} has no version ${version}`];
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
  return validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}

/** Throws (with the object's identity) when the object does not match its kind's schema. */
export async function validateKubernetesObject(object: Record<string, unknown>): Promise<void> {
  const apiVersion = String(object.apiVersion);
  const kind = String(object.kind);
  const judged = CRD_JUDGED[`${apiVersion} ${kind}`];
  if (judged) {
    const problems = crdProblems(object, judged.file);
    const metadata = object.metadata as { name?: string; namespace?: string } | undefined;
    if (problems.length > 0)
      throw new Error(
        `${kind} ${metadata?.namespace ?? ""}/${metadata?.name ?? ""} is invalid: ${problems.join(", ")}`,
      );
    return;
  }
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
