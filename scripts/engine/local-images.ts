/**
 * `tsx scripts/engine/local-images.ts [stack]`: the images a stack's pods run, each with the local
 * recipe that stands in for it on the real node (scripts/engine/images.sh builds them), as JSON.
 *
 * The list comes from the program itself (the stack run under the mock harness), so a new image in
 * the program is either mapped here or fails loudly, never silently pulled. Catalog services run the
 * stand-in (tools/standin), configured from the ports and probes their own pod spec declares: the
 * image answers exactly what the Deployment or StatefulSet expects of the real service.
 */
import { runStack } from "../../test/harness";
import { kubernetesObject } from "../render-lib";
import { CATALOGS } from "../../services";
import { REAL_NODE_CONFIG } from "./real-node-config";

export type Recipe = "postgres" | "redis" | "rabbitmq" | "curl" | "standin" | "binary";

export interface StandinPort {
  name: string;
  port: number;
  protocol: "grpc" | "http";
  healthPath?: string;
}

export interface StandinConfig {
  service: string;
  namespace: string;
  ports: StandinPort[];
  dataDir?: string;
}

export interface LocalImage {
  /** The reference exactly as the pod spec names it (the kubelet normalises `postgres:…` to docker.io/library). */
  ref: string;
  recipe: Recipe;
  /** The image's user, as the pod runs it (the recipe creates a user with this UID). */
  uid?: number;
  standin?: StandinConfig;
  /** With recipe `binary`: the toolchain binary the image holds (scripts/engine/toolchain.sh monitoring). */
  binary?: MonitoringBinary;
}

/** Binaries toolchain.sh builds from their modules at the versions the program pins. */
export type MonitoringBinary =
  | "prometheus-operator"
  | "prometheus-config-reloader"
  | "prometheus"
  | "alertmanager"
  | "envoy-gateway"
  | CertManagerBinary;
type CertManagerBinary =
  `cert-manager-${"controller" | "webhook" | "cainjector" | "acmesolver" | "startupapicheck"}`;

interface Container {
  image: string;
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: { runAsUser?: number };
}
interface Probe {
  grpc?: { port: number };
  httpGet?: { path?: string; port: number | string };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: { runAsUser?: number };
}

const DATA_STORE_RECIPES: [RegExp, Recipe][] = [
  [/^(docker\.io\/)?(library\/)?postgres:/, "postgres"],
  [/^(docker\.io\/)?timescale\/timescaledb:/, "postgres"],
  [/^(docker\.io\/)?(library\/)?redis:/, "redis"],
  [/^(docker\.io\/)?(library\/)?rabbitmq:/, "rabbitmq"],
  [/^(docker\.io\/)?curlimages\/curl:/, "curl"],
];

/**
 * The monitoring stack's images, each one static binary built from its Go module at exactly the
 * version in the reference (the image tag is checked against the binary by images.sh).
 */
const MONITORING_BINARIES: [RegExp, MonitoringBinary][] = [
  [/^quay\.io\/prometheus-operator\/prometheus-operator:/, "prometheus-operator"],
  [/^quay\.io\/prometheus-operator\/prometheus-config-reloader:/, "prometheus-config-reloader"],
  [/^quay\.io\/prometheus\/prometheus:/, "prometheus"],
  [/^quay\.io\/prometheus\/alertmanager:/, "alertmanager"],
];

/**
 * Images a Helm release of ours runs, by its chart (a repository name or a path on disk) and version:
 * the chart's defaults, which our values leave alone. Envoy Gateway's data plane (Envoy, C++) is not
 * among them: it cannot be built here, so the proxy pods the controller makes do not start
 * (docs/gateway.md).
 */
const CHART_IMAGES: [RegExp, (version: string) => [string, MonitoringBinary][]][] = [
  [/gateway-helm/, (v) => [[`docker.io/envoyproxy/gateway:${v}`, "envoy-gateway"]]],
  [
    /(^|\/)cert-manager(-v[0-9.]+)?$/,
    (v) =>
      (["controller", "webhook", "cainjector", "acmesolver", "startupapicheck"] as const).map((c) => [
        `quay.io/jetstack/cert-manager-${c}:${v}`,
        `cert-manager-${c}` as const,
      ]),
  ],
];

function chartImages(object: {
  type: string;
  inputs: Record<string, unknown>;
}): [string, MonitoringBinary][] {
  if (object.type !== "kubernetes:helm.sh/v3:Release") return [];
  const { chart, version } = object.inputs as { chart?: string; version?: string };
  const images = CHART_IMAGES.find(([pattern]) => pattern.test(chart ?? ""))?.[1];
  return images && version ? images(version) : [];
}

/**
 * Images the operator runs that no pod spec of ours names: Prometheus and Alertmanager (their
 * resources' `spec.image`) and the config reloader (the operator's `--prometheus-config-reloader`).
 */
function operatorRunImages(object: Record<string, unknown>): string[] {
  if (object.kind === "Prometheus" || object.kind === "Alertmanager") {
    const image = (object.spec as { image?: string } | undefined)?.image;
    return image ? [image] : [];
  }
  const spec = podSpecOf(object);
  return (spec?.containers ?? [])
    .flatMap((c) => (c as { args?: string[] }).args ?? [])
    .filter((a) => a.startsWith("--prometheus-config-reloader="))
    .map((a) => a.slice("--prometheus-config-reloader=".length));
}

function podSpecOf(object: Record<string, unknown>): PodSpec | undefined {
  const kind = object.kind;
  if (kind !== "Deployment" && kind !== "StatefulSet" && kind !== "Job") return undefined;
  const spec = object.spec as { template?: { spec?: PodSpec } } | undefined;
  return spec?.template?.spec;
}

function standinConfig(service: string, namespace: string, container: Container): StandinConfig {
  const probes = [container.readinessProbe, container.startupProbe, container.livenessProbe].filter(
    (p): p is Probe => p !== undefined,
  );
  const ports = (container.ports ?? []).map((p): StandinPort => {
    const name = p.name ?? String(p.containerPort);
    const grpc = probes.some((probe) => probe.grpc?.port === p.containerPort);
    const http = probes.find(
      (probe) => probe.httpGet && (probe.httpGet.port === name || probe.httpGet.port === p.containerPort),
    );
    if (grpc) return { name, port: p.containerPort, protocol: "grpc" };
    return {
      name,
      port: p.containerPort,
      protocol: "http",
      ...(http?.httpGet?.path ? { healthPath: http.httpGet.path } : {}),
    };
  });
  const data = container.volumeMounts?.find((m) => m.name === "data");
  return { service, namespace, ports, ...(data ? { dataDir: data.mountPath } : {}) };
}

/** The images `stack` runs, with `config` over its stack file. */
export async function localImages(
  stack = "local",
  config: Record<string, unknown> = {},
): Promise<LocalImage[]> {
  const run = await runStack(stack, { config });
  const serviceImages = new Map<string, string>();
  for (const catalog of Object.values(CATALOGS)) {
    for (const svc of catalog.services) serviceImages.set(svc.image.repository, svc.name);
  }
  const images = new Map<string, LocalImage>();
  const unknown: string[] = [];
  for (const resource of run.resources) {
    for (const [ref, binary] of chartImages(resource)) images.set(ref, { ref, recipe: "binary", binary });
    const object = kubernetesObject(resource);
    for (const ref of object ? operatorRunImages(object) : []) {
      const binary = MONITORING_BINARIES.find(([pattern]) => pattern.test(ref))?.[1];
      if (binary) images.set(ref, { ref, recipe: "binary", binary });
      else unknown.push(`${ref} (run by prometheus-operator)`);
    }
    const spec = object && podSpecOf(object);
    if (!spec || !object) continue;
    const metadata = object.metadata as { name?: string; namespace?: string };
    const isJob = object.kind === "Job";
    for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
      const ref = container.image;
      const uid = container.securityContext?.runAsUser ?? spec.securityContext?.runAsUser;
      const repository = ref.replace(/[:@].*$/, "");
      const service = serviceImages.get(repository);
      if (service) {
        // A migration Job runs the service's own image: the Deployment/StatefulSet states its ports.
        if (isJob) {
          if (!images.has(ref)) images.set(ref, { ref, recipe: "standin", ...(uid ? { uid } : {}) });
          continue;
        }
        images.set(ref, {
          ref,
          recipe: "standin",
          ...(uid ? { uid } : {}),
          standin: standinConfig(service, metadata.namespace ?? "default", container),
        });
        continue;
      }
      const binary = MONITORING_BINARIES.find(([pattern]) => pattern.test(ref))?.[1];
      if (binary) {
        images.set(ref, { ref, recipe: "binary", binary });
        continue;
      }
      const recipe = DATA_STORE_RECIPES.find(([pattern]) => pattern.test(ref))?.[1];
      if (!recipe) {
        unknown.push(`${metadata.namespace}/${metadata.name}: ${ref}`);
        continue;
      }
      const existing = images.get(ref);
      const uids = new Set([...(existing?.uid ? [existing.uid] : []), ...(uid ? [uid] : [])]);
      if (uids.size > 1) unknown.push(`${ref}: run as UIDs ${[...uids].join(", ")}; one image has one user`);
      images.set(ref, { ref, recipe, ...(uid ? { uid } : {}) });
    }
  }
  if (unknown.length > 0) {
    throw new Error(
      `stack "${stack}" runs images with no local recipe (map them in scripts/engine/local-images.ts):\n  ${unknown.join("\n  ")}`,
    );
  }
  return [...images.values()].sort((a, b) => a.ref.localeCompare(b.ref));
}

if (require.main === module) {
  // The plan is the real node's (images.sh): the stack as it runs there.
  localImages(process.argv[2] ?? "local", REAL_NODE_CONFIG)
    .then((images) => process.stdout.write(`${JSON.stringify(images, null, 2)}\n`))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
