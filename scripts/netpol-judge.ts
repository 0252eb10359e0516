/**
 * An independent judge of the connectivity model: cyclonus (github.com/mattfenwick/cyclonus, built by
 * scripts/install-cyclonus.sh), a NetworkPolicy engine nobody here wrote, is asked about the same
 * (source, destination, port) keys as `analysis/network-policy.ts`, and the two verdicts are compared.
 *
 * cyclonus reads policies as the API server stores them, after defaulting, and panics on a policy
 * without `policyTypes`; `apiServerDefaults` applies the upstream defaulting
 * (SetDefaults_NetworkPolicy in k8s.io/kubernetes pkg/apis/networking/v1) written out here on
 * purpose, not through the model's own `networkPolicyTypes`, so that a misreading in the model shows.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  flowVerdict,
  namespaceLabels,
  type ClusterModel,
  type Endpoint,
  type ExternalEndpoint,
  type PolicySpec,
  type Protocol,
} from "../analysis/network-policy";
import { INTERNET_IP, METADATA_SERVICE } from "../analysis/intent";
import { REPO_ROOT } from "../test/harness";

/**
 * Where cyclonus v0.5.6 reads Kubernetes differently, by name: each is kept out of the inputs, and
 * `assertNoKnownMisreading` refuses a model that would hit one, so nothing is silenced.
 */
export const KNOWN_MISREADINGS = {
  "cyclonus-notin-absent-key":
    "cyclonus v0.5.6 (pkg/kube/labelselector.go) does not match a NotIn expression on an object without the key; " +
    "Kubernetes does (apimachinery labels.Requirement.Matches: NotIn is true when the key is absent)",
} as const;

/** Throws when a policy's NotIn expression names a key some pod or namespace lacks (`cyclonus-notin-absent-key`). */
export function assertNoKnownMisreading(model: ClusterModel): void {
  const keys = model.policies.flatMap((p) => {
    const selectors = [
      p.spec.podSelector,
      ...[
        ...(p.spec.ingress ?? []).flatMap((r) => r.from ?? []),
        ...(p.spec.egress ?? []).flatMap((r) => r.to ?? []),
      ].flatMap((peer) => [peer.podSelector, peer.namespaceSelector]),
    ];
    return selectors.flatMap((s) =>
      (s?.matchExpressions ?? []).filter((e) => e.operator === "NotIn").map((e) => e.key),
    );
  });
  const labelSets = [
    ...model.pods.map((p) => p.labels),
    ...[...model.namespaces.keys()].map((n) => namespaceLabels(model, n)),
  ];
  const missing = [...new Set(keys)].filter((k) => labelSets.some((l) => !(k in l)));
  if (missing.length > 0)
    throw new Error(
      `netpol-judge: NotIn on ${missing.map((k) => `"${k}"`).join(", ")}, which some pods or namespaces lack: ` +
        `cyclonus-notin-absent-key (${KNOWN_MISREADINGS["cyclonus-notin-absent-key"]})`,
    );
}

/** Ports asked of every external address: DNS, HTTP(S), and the data stores' ports. */
export const EXTERNAL_PORTS = [53, 80, 443, 5432, 5671, 6379, 8000] as const;

/** The externals of a stack's matrix: the internet, the instance metadata service, and every external an intended flow names. */
export function stackExternals(intended: readonly { to: TrafficKey["to"] }[]): ExternalEndpoint[] {
  const externals = new Map<string, ExternalEndpoint>([
    [INTERNET_IP, { ip: INTERNET_IP, name: "the internet" }],
    [METADATA_SERVICE.ip, METADATA_SERVICE],
  ]);
  for (const f of intended) if ("external" in f.to) externals.set(f.to.external.ip, f.to.external);
  return [...externals.values()];
}

/** One question: may `from` open `port`/`protocol` to `to`? Pod ids or external endpoints. */
export interface TrafficKey {
  from: string;
  to: { pod: string } | { external: ExternalEndpoint };
  port: number;
  protocol: Protocol;
}

/** A key on which the two engines disagree. */
export interface Disagreement {
  key: string;
  model: boolean;
  cyclonus: boolean;
}

/** The cyclonus binary (built from its Go module into a per-user cache on first use). */
export function cyclonusBinary(): string {
  return execFileSync("bash", [path.join(REPO_ROOT, "scripts/install-cyclonus.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

/** The policy as the API server stores it: `policyTypes` defaulted (Ingress; Egress when egress rules exist). */
export function apiServerDefaults(spec: PolicySpec): PolicySpec {
  if (spec.policyTypes && spec.policyTypes.length > 0) return spec;
  const egressRules = spec.egress ?? [];
  return { ...spec, policyTypes: egressRules.length !== 0 ? ["Ingress", "Egress"] : ["Ingress"] };
}

/** Every pod-to-pod key on each destination's container ports, and every pod to each external on `externalPorts`. */
export function fullMatrix(
  model: ClusterModel,
  externals: readonly ExternalEndpoint[],
  externalPorts: readonly number[],
): TrafficKey[] {
  const keys: TrafficKey[] = [];
  for (const source of model.pods) {
    for (const target of model.pods) {
      if (target === source) continue;
      for (const p of target.ports)
        keys.push({ from: source.id, to: { pod: target.id }, port: p.port, protocol: p.protocol });
    }
    for (const external of externals)
      for (const port of externalPorts)
        keys.push({ from: source.id, to: { external }, port, protocol: "TCP" });
  }
  return keys;
}

export const describeKey = (k: TrafficKey): string =>
  `${k.from} -> ${"pod" in k.to ? k.to.pod : `${k.to.external.name} (${k.to.external.ip})`}:${k.port}/${k.protocol}`;

/** cyclonus's traffic peer for a pod or an external address. */
function trafficPeer(model: ClusterModel, endpoint: Endpoint): Record<string, unknown> {
  if ("external" in endpoint) return { IP: endpoint.external.ip };
  const { pod } = endpoint;
  if (!pod.ip) throw new Error(`netpol-judge: pod ${pod.id} has no address (build the model with a podCidr)`);
  return {
    IP: pod.ip,
    Internal: {
      Namespace: pod.namespace,
      NamespaceLabels: namespaceLabels(model, pod.namespace),
      PodLabels: pod.labels,
    },
  };
}

function endpointOf(model: ClusterModel, to: TrafficKey["to"] | { pod: string }): Endpoint {
  if ("external" in to) return { external: to.external };
  const pod = model.pods.find((p) => p.id === to.pod);
  if (!pod) throw new Error(`netpol-judge: no pod ${to.pod} in the model`);
  return { pod };
}

/**
 * cyclonus's verdict on each key, in order. One process per call: the policies go in as a
 * NetworkPolicyList, the keys as its traffic file (`analyze --mode query-traffic`), and each answer is
 * the footer of the table it prints per traffic ("IS ALLOWED? | true").
 */
export function cyclonusVerdicts(
  binary: string,
  model: ClusterModel,
  keys: readonly TrafficKey[],
): boolean[] {
  const dir = mkdtempSync(path.join(tmpdir(), "netpol-judge-"));
  try {
    const policies = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicyList",
      items: model.policies.map((p) => ({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: p.name, namespace: p.namespace },
        spec: { podSelector: {}, ...apiServerDefaults(p.spec) },
      })),
    };
    const policyDir = path.join(dir, "policies");
    execFileSync("mkdir", ["-p", policyDir]);
    writeFileSync(path.join(policyDir, "policies.json"), JSON.stringify(policies));
    const traffic = keys.map((k) => {
      const destination = endpointOf(model, k.to);
      const portName =
        "pod" in destination
          ? destination.pod.ports.find((c) => c.port === k.port && c.protocol === k.protocol)?.name
          : undefined;
      return {
        Source: trafficPeer(model, endpointOf(model, { pod: k.from })),
        Destination: trafficPeer(model, destination),
        ResolvedPort: k.port,
        ResolvedPortName: portName ?? "",
        Protocol: k.protocol,
      };
    });
    const trafficFile = path.join(dir, "traffic.json");
    writeFileSync(trafficFile, JSON.stringify(traffic));
    const args = [
      "analyze",
      "--mode",
      "query-traffic",
      "--policy-path",
      policyDir,
      "--traffic-path",
      trafficFile,
    ];
    const out = execFileSync(binary, args, { encoding: "utf8", maxBuffer: 1 << 30 });
    const verdicts = [...out.matchAll(/IS ALLOWED\?\s*\|\s*(TRUE|FALSE)/gi)].map(
      (m) => (m[1] ?? "").toLowerCase() === "true",
    );
    if (verdicts.length !== keys.length)
      throw new Error(`netpol-judge: cyclonus answered ${verdicts.length} of ${keys.length} keys`);
    return verdicts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The keys on which the model and cyclonus disagree, with both verdicts. */
export function disagreements(
  binary: string,
  model: ClusterModel,
  keys: readonly TrafficKey[],
): Disagreement[] {
  assertNoKnownMisreading(model);
  const theirs = cyclonusVerdicts(binary, model, keys);
  return keys.flatMap((k, i) => {
    const ours = flowVerdict(
      model,
      endpointOf(model, { pod: k.from }),
      endpointOf(model, k.to),
      k.port,
      k.protocol,
    ).allowed;
    return ours === theirs[i] ? [] : [{ key: describeKey(k), model: ours, cyclonus: theirs[i] ?? false }];
  });
}
