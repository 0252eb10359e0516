/**
 * Validates rendered Kubernetes objects against real API schemas: the `kubernetes-models` packages
 * (generated from the Kubernetes OpenAPI spec and each project's CRDs) by apiVersion/kind.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import { securityGroupPolicyCrd } from "./upstream-charts";

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
type CrdSource = "keda" | "vpc-resource-controller";

const CRD_JUDGED: Record<string, { file: string; why: string; source?: CrdSource }> = {
  "monitoring.coreos.com/v1 Prometheus": {
    file: "monitoring.coreos.com_prometheuses.yaml",
    why: "@kubernetes-models/prometheus-operator 6.0.0 requires storage.volumeClaimTemplate.apiVersion and kind, and refuses every value for them; the CRD, which the API server applies, requires neither",
  },
  "monitoring.coreos.com/v1 Alertmanager": {
    file: "monitoring.coreos.com_alertmanagers.yaml",
    why: "@kubernetes-models/prometheus-operator 6.0.0 requires storage.volumeClaimTemplate.apiVersion and kind, and refuses every value for them; the CRD, which the API server applies, requires neither",
  },
  "keda.sh/v1alpha1 ScaledObject": {
    file: "keda.sh_scaledobjects.yaml",
    why: "no kubernetes-models package for KEDA; its own CRD, from its Go module",
    source: "keda",
  },
  "keda.sh/v1alpha1 TriggerAuthentication": {
    file: "keda.sh_triggerauthentications.yaml",
    why: "no kubernetes-models package for KEDA; its own CRD, from its Go module",
    source: "keda",
  },
  "vpcresources.k8s.aws/v1beta1 SecurityGroupPolicy": {
    file: "vpcresources.k8s.aws_securitygrouppolicies.yaml",
    why: "no kubernetes-models package covers the VPC resource controller; its own CRD, from its Go module",
    source: "vpc-resource-controller",
  },
};

/**
 * The KEDA release whose CRDs judge ScaledObjects and TriggerAuthentications. Its chart cannot be
 * fetched here, but its Go module is served by the module proxy, and the module carries the CRDs
 * the chart installs (config/crd/bases).
 */
export const KEDA_MODULE = "github.com/kedacore/keda/v2@v2.20.2";

let kedaDir: string | undefined;
/** The KEDA module's directory in the Go module cache, downloaded on first use. */
function kedaCrdDir(): string {
  kedaDir ??= (
    JSON.parse(
      execFileSync("go", ["mod", "download", "-json", KEDA_MODULE], {
        encoding: "utf8",
        env: { ...process.env, GOFLAGS: "-mod=mod" },
      }),
    ) as { Dir: string }
  ).Dir;
  return path.join(kedaDir, "config", "crd", "bases");
}

function crdPath(file: string, source?: CrdSource): string | string[] {
  if (source === "keda") return path.join(kedaCrdDir(), file);
  if (source === "vpc-resource-controller") return securityGroupPolicyCrd();
  const dir = path.join(__dirname, "..", ".cache", "monitoring");
  const [release] = existsSync(dir)
    ? readdirSync(dir).filter((d) => d.startsWith("prometheus-operator-"))
    : [];
  if (!release)
    return [`no operator manifests under ${dir} (run scripts/engine/toolchain.sh operator-manifests)`];
  return path.join(dir, release, "prometheus-operator-crd", file);
}

function crdProblems(object: Record<string, unknown>, file: string, source?: CrdSource): string[] {
  const where = crdPath(file, source);
  if (Array.isArray(where)) return where;
  const crd = parseYaml(readFileSync(where, "utf8")) as {
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
    const problems = crdProblems(object, judged.file, judged.source);
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
