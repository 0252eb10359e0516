/**
 * Every container image a stack runs, for review: registry, whether it is pinned by digest, and whether
 * its namespace is a vetted publisher. The render lists them in `images.md` and counts them in the
 * summary, so a pull request that adds an unpinned image or one from an unknown account shows it.
 *
 * "Personal namespace": offline we cannot ask a registry whether an account is a person or an
 * organisation, so the repository keeps the list of publishers it has vetted (below); an image from
 * any other namespace is flagged for a reviewer to look at, never silently accepted.
 */
import { CHART_IMAGES_NOT_STATED, chartNameOf } from "../components/chart-images";
import { HELM_RELEASE_TYPES, imagesInResource } from "../config/image-lock";
import { IMAGE_ROLES, IMAGE_ROLE_NAMES, imageConfigKey } from "../config/images";
import type { ImagesConfig } from "../config/schema";
import { isDigestPinned, parseImageReference } from "../policy/rules";
import { CATALOGS } from "../services";

/**
 * Namespaces (`registry/namespace`) whose images this platform has vetted: official Docker Hub images,
 * upstream projects' own organisations, and our teams' organisations.
 */
export const VETTED_IMAGE_NAMESPACES: readonly string[] = [
  "docker.io/library", // Docker Official Images (postgres, redis, rabbitmq)
  "docker.io/timescale", // Timescale, Inc. (TimescaleDB)
  "docker.io/chromadb", // Chroma (ChromaDB)
  "docker.io/curlimages", // the curl project's official image
  "docker.io/envoyproxy", // Envoy Gateway, Envoy and its rate limit service (the charts' images)
  "quay.io/jetstack", // cert-manager
  "quay.io/prometheus", // Prometheus, Alertmanager
  "quay.io/prometheus-operator", // prometheus-operator and its config reloader
  "ghcr.io/cloudnative-pg", // the CloudNativePG operator
  "registry.k8s.io/autoscaling", // Kubernetes SIG Autoscaling (Cluster Autoscaler)
  "public.ecr.aws/eks", // AWS (the Load Balancer Controller)
  "ghcr.io/acme-shop", // e-commerce team
  "ghcr.io/acme-fintech", // fintech team
  "ghcr.io/maricusco", // trading team (Maricusco)
];

export interface ImageUse {
  image: string;
  registry: string;
  /** `registry/first path segment`: the account or organisation that publishes the image. */
  namespace: string;
  pinned: boolean;
  vetted: boolean;
  /** `Kind namespace/name` of every workload running it, sorted. */
  usedBy: string[];
  /** The stack config keys that set (and so pin) this image, sorted; empty when none is known. */
  pinKeys: string[];
}

interface WorkloadResource {
  type: string;
  /** Pulumi name, shown when the object's own name is computed at deploy time. */
  name: string;
  inputs: unknown;
}

/** `registry/repository` of a reference, without tag or digest (`docker.io/library/redis`). */
function repositoryOf(image: string): string {
  const ref = parseImageReference(image);
  return `${ref.registry}/${ref.repository}`;
}

/**
 * The stack config keys that set an image: `platform:images.<role>` for a data service's or Job's
 * image (the value the stack gives the role, or the repository of the role's defaults), and
 * `platform:services.<catalog>/<service>.imageTag` for a catalog service's (its repository).
 */
export function pinKeysOf(image: string, configured: ImagesConfig = {}): string[] {
  const repository = repositoryOf(image);
  const keys = new Set<string>();
  for (const role of IMAGE_ROLE_NAMES) {
    const given = configured[role];
    const defaults = given ? [given, ...IMAGE_ROLES[role].defaults] : IMAGE_ROLES[role].defaults;
    if (given === image || defaults.some((d) => repositoryOf(d) === repository))
      keys.add(imageConfigKey(role));
  }
  for (const catalog of Object.values(CATALOGS)) {
    for (const svc of catalog.services) {
      if (repositoryOf(svc.image.repository) === repository)
        keys.add(`platform:services.${catalog.name}/${svc.name}.imageTag`);
    }
  }
  return [...keys].sort();
}

/**
 * Every image the stack runs, sorted by reference: containers and init containers of every workload,
 * the images custom resources name (the CloudNativePG Cluster's `imageName`, Prometheus and
 * Alertmanager's `image`) and every image slot of our Helm releases (components/chart-images.ts).
 * `configured`: the stack's `platform:images`, so an image the stack sets from another repository (a
 * mirror) is still traced to its key.
 */
export function imageUses(resources: readonly WorkloadResource[], configured: ImagesConfig = {}): ImageUse[] {
  const uses = new Map<string, Set<string>>();
  for (const r of resources) {
    const inputs = r.inputs as { metadata?: { name?: string; namespace?: string }; name?: string };
    for (const found of imagesInResource(r.type, r.inputs)) {
      const image = found.digest ? `${found.image}@${found.digest}` : found.image;
      const owner = HELM_RELEASE_TYPES.includes(r.type)
        ? `Release ${inputs.name ?? r.name} (${found.where})`
        : `${r.type.split(":").pop()} ${inputs.metadata?.namespace ?? "default"}/${inputs.metadata?.name ?? r.name}`;
      const set = uses.get(image) ?? new Set<string>();
      set.add(owner);
      uses.set(image, set);
    }
  }
  return [...uses.keys()].sort().map((image) => {
    const ref = parseImageReference(image);
    const namespace = `${ref.registry}/${ref.repository.split("/")[0] ?? ""}`;
    return {
      image,
      registry: ref.registry,
      namespace,
      pinned: isDigestPinned(image),
      vetted: VETTED_IMAGE_NAMESPACES.includes(namespace),
      usedBy: [...(uses.get(image) ?? [])].sort(),
      pinKeys: pinKeysOf(image, configured),
    };
  });
}

/** `chart: values keys` of images the stack's charts run that their values do not state (so not listed). */
export function unstatedChartImages(resources: readonly WorkloadResource[]): string[] {
  const charts = new Set(
    resources
      .filter((r) => HELM_RELEASE_TYPES.includes(r.type))
      .map((r) => (r.inputs as { chart?: unknown }).chart)
      .filter((c): c is string => typeof c === "string")
      .map(chartNameOf),
  );
  return [...charts]
    .sort()
    .filter((c) => CHART_IMAGES_NOT_STATED[c])
    .map((c) => `${c}: ${(CHART_IMAGES_NOT_STATED[c] ?? []).map((k) => `values.${k}`).join(", ")}`);
}

/** One line for the summary: how many images, how many pinned, how many from unvetted namespaces. */
export function imageSummaryLine(uses: readonly ImageUse[]): string {
  const pinned = uses.filter((u) => u.pinned).length;
  const unvetted = uses.filter((u) => !u.vetted).length;
  return `images: ${uses.length} (${pinned} pinned by digest, ${uses.length - pinned} by tag only; ${unvetted} from an unvetted namespace)`;
}

export function imagesMarkdown(
  stack: string,
  uses: readonly ImageUse[],
  unstated: readonly string[] = [],
): string {
  const lines = [
    `# Container images: ${stack}`,
    "",
    imageSummaryLine(uses),
    "",
    "| image | registry | pinned | publisher | used by | config key |",
    "|---|---|---|---|---|---|",
    ...uses.map(
      (u) =>
        `| \`${u.image}\` | ${u.registry} | ${u.pinned ? "digest" : "**tag only**"} | ${u.vetted ? u.namespace : `**${u.namespace}: not vetted (personal namespace?)**`} | ${u.usedBy.join("<br>")} | ${pinKeysCell(u.pinKeys)} |`,
    ),
    "",
    `Pin every tag-only image at once with the stack's image lock: \`npm run images -- lock --stack ${stack}\` writes \`Pulumi.${stack}.images.lock.json\`, and the program deploys each image as \`tag@sha256:…\` from it (docs/delivery.md, "Pinning production images"). The config key can pin one image instead: \`platform:images.<role>: <image>@sha256:<digest>\` or \`platform:services.<catalog>/<service>.imageTag: sha256:<digest>\`.`,
    "",
    ...(unstated.length
      ? [
          "Images the charts run that their values do not state, so neither this list nor the lock sees them:",
          "",
          ...unstated.map((u) => `- ${u}`),
          "",
        ]
      : []),
  ];
  return lines.join("\n");
}

function pinKeysCell(keys: readonly string[]): string {
  return keys.length ? keys.map((k) => `\`${k}\``).join("<br>") : "— (no config key)";
}
