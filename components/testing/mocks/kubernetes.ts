/**
 * @pulumi/kubernetes: objects get their server-side defaults that other resources read back
 * (auto-generated metadata.name, namespace, a Service's clusterIP, a LoadBalancer's hostname).
 */
import { parseAllDocuments } from "yaml";

/**
 * The YAML documents of a file, as the provider's decode returns them (empty documents dropped).
 * Parsed once per text and process: the operator's CRDs are megabytes, and a test file runs the
 * same stack several times. A fresh copy each call, since ConfigFile transformations edit in place.
 */
const decoded = new Map<string, string>();
function decodeYaml(text: string): unknown[] {
  let json = decoded.get(text);
  if (json === undefined) {
    json = JSON.stringify(
      parseAllDocuments(text)
        .map((doc) => doc.toJSON() as unknown)
        .filter((obj) => obj !== null && obj !== undefined),
    );
    decoded.set(text, json);
  }
  return JSON.parse(json) as unknown[];
}
import { stableHex } from "./common";
import { type MockDomain, type ResourceMock } from "./types";

const CLUSTER_SCOPED = new Set([
  "kubernetes:core/v1:Namespace",
  "kubernetes:storage.k8s.io/v1:StorageClass",
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
  "kubernetes:cert-manager.io/v1:ClusterIssuer",
  "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
]);

/** Applied to every `kubernetes:` object type: resolves metadata like the API server would. */
export const kubernetesObject: ResourceMock = ({ type, name, inputs }) => {
  const metadata = { ...((inputs.metadata as Record<string, unknown> | undefined) ?? {}) };
  // Pulumi auto-names objects without metadata.name: <logical name>-<8 random chars>.
  if (!metadata.name) metadata.name = `${name}-${stableHex(name, 8)}`;
  if (!CLUSTER_SCOPED.has(type) && !metadata.namespace) metadata.namespace = "default";
  metadata.uid = `${stableHex(`${type}/${name}`, 8)}-0000-4000-8000-${stableHex(name, 12)}`;
  const out: Record<string, unknown> = { ...inputs, metadata };
  if (type === "kubernetes:core/v1:Service") {
    const spec = { ...((inputs.spec as Record<string, unknown> | undefined) ?? {}) };
    if (spec.clusterIP !== "None")
      spec.clusterIP = `10.96.${parseInt(stableHex(name, 2), 16)}.${parseInt(stableHex(`${name}x`, 2), 16)}`;
    out.spec = spec;
    if (spec.type === "LoadBalancer")
      out.status = {
        loadBalancer: { ingress: [{ hostname: `${stableHex(name, 16)}.elb.eu-west-1.amazonaws.com` }] },
      };
  }
  return out;
};

export const kubernetesMocks: MockDomain = {
  resources: {
    "pulumi:providers:kubernetes": ({ inputs }) => ({ ...inputs }),
    // Envoy Gateway publishes the proxy's load balancer address in the Gateway's status.
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": ({ name }) => ({
      status: {
        addresses: [
          { type: "Hostname", value: `${stableHex(`${name}-lb`, 16)}.elb.eu-west-1.amazonaws.com` },
        ],
      },
    }),
    "kubernetes:helm.sh/v3:Release": ({ name, inputs }) => ({
      ...inputs,
      name: inputs.name ?? `${name}-${stableHex(name, 8)}`,
      status: {
        name: inputs.name ?? name,
        namespace: inputs.namespace ?? "default",
        status: "deployed",
        version: inputs.version,
        chart: inputs.chart,
        revision: 1,
      },
    }),
  },
  invokes: {
    // yaml.ConfigFile hands the file's text to the provider to split into objects; the provider
    // parses it as YAML documents and drops empty ones, which is what this does.
    "kubernetes:yaml:decode": (args) => ({ result: decodeYaml(String(args.inputs.text)) }),
  },
};
