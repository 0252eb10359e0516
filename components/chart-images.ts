/**
 * The images our Helm charts run, and the values keys that choose them, per chart.
 *
 * A chart picks its images from its own defaults unless the values say otherwise, and the render
 * (Pulumi's `helm.v3.Release`, which templates the chart at deploy time) never shows them. So every
 * chart we install states each image it runs in its values (`chartImageValues`), at the tag the chart
 * version defaults to: the render then lists every image (scripts/images.ts), a lock can pin each one
 * by digest through the chart's own key (`pinChartImages`), and the production policy can refuse a
 * slot that is not pinned (policy/rules.ts).
 *
 * Slot styles, after each chart's templates:
 * - `reference`: the value is a whole reference string (Envoy Gateway's `global.images.*.image`);
 *   pinned as `repo:tag@sha256:…`, which the chart's helpers split at the first ":" and keep.
 * - `digest`: `{ repository, tag, digest }`; the chart renders `repository:tag@digest` (cert-manager).
 * - `sha`: `{ registry, repository, tag, sha }`; the chart renders `registry/repository:tag@sha256:<sha>`
 *   with `sha` the bare hex (kube-prometheus-stack).
 * - `tag`: `{ repository, tag }` and no digest key; the chart renders `repository:tag`, so the tag
 *   carries the digest (`tag@sha256:…`) (CloudNativePG, Cluster Autoscaler, AWS Load Balancer Controller).
 */

export type ChartImageStyle = "reference" | "digest" | "sha" | "tag";

export interface ChartImageSlot {
  /** Path of the image value in the chart's values, e.g. `["webhook", "image"]`. */
  path: readonly string[];
  style: ChartImageStyle;
  /**
   * The image the chart version runs there by default, which our values state. Undefined where our
   * values set the slot themselves (kube-prometheus-stack's images, from MONITORING_IMAGES; the
   * autoscaler's tag, which follows the Kubernetes version).
   */
  image?: string;
  /** What runs it. */
  runs: string;
}

/** Chart name (the chart's own name, as `helm.v3.Release.chart` or its path ends) → its image slots. */
export const CHART_IMAGES: Readonly<Record<string, readonly ChartImageSlot[]>> = {
  "gateway-helm": [
    {
      path: ["global", "images", "envoyGateway", "image"],
      style: "reference",
      image: "docker.io/envoyproxy/gateway:v1.9.1",
      runs: "the Envoy Gateway controller and its certgen Job",
    },
    {
      path: ["global", "images", "ratelimit", "image"],
      style: "reference",
      image: "docker.io/envoyproxy/ratelimit:8fe6ea42",
      runs: "the global rate limit service",
    },
    {
      path: ["global", "images", "envoyProxy", "image"],
      style: "reference",
      image: "docker.io/envoyproxy/envoy:distroless-v1.39.1",
      runs: "the Envoy proxies of every Gateway (the controller's built-in default otherwise)",
    },
  ],
  "cert-manager": [
    ...(
      [
        [["image"], "cert-manager-controller", "the controller"],
        [["webhook", "image"], "cert-manager-webhook", "the webhook"],
        [["cainjector", "image"], "cert-manager-cainjector", "the CA injector"],
        [["acmesolver", "image"], "cert-manager-acmesolver", "the ACME HTTP-01 solver pods"],
        [["startupapicheck", "image"], "cert-manager-startupapicheck", "the post-install API check Job"],
      ] as const
    ).map(([path, name, runs]): ChartImageSlot => ({
      path,
      style: "digest",
      image: `quay.io/jetstack/${name}:v1.21.2`,
      runs,
    })),
  ],
  "kube-prometheus-stack": [
    { path: ["prometheusOperator", "image"], style: "sha", runs: "prometheus-operator" },
    {
      path: ["prometheusOperator", "prometheusConfigReloader", "image"],
      style: "sha",
      runs: "the config reloader beside Prometheus and Alertmanager",
    },
    { path: ["prometheus", "prometheusSpec", "image"], style: "sha", runs: "Prometheus" },
    { path: ["alertmanager", "alertmanagerSpec", "image"], style: "sha", runs: "Alertmanager" },
  ],
  "cloudnative-pg": [
    {
      path: ["image"],
      style: "tag",
      image: "ghcr.io/cloudnative-pg/cloudnative-pg:1.27.1",
      runs: "the CloudNativePG operator",
    },
  ],
  "cluster-autoscaler": [{ path: ["image"], style: "tag", runs: "the Cluster Autoscaler" }],
  "aws-load-balancer-controller": [
    {
      path: ["image"],
      style: "tag",
      image: "public.ecr.aws/eks/aws-load-balancer-controller:v2.13.4",
      runs: "the AWS Load Balancer Controller",
    },
  ],
};

/**
 * Images a chart runs that our values do not yet state, so neither the render nor a lock sees them:
 * named here so the images view and the policy say so instead of staying silent.
 */
export const CHART_IMAGES_NOT_STATED: Readonly<Record<string, readonly string[]>> = {
  "kube-prometheus-stack": [
    "grafana.image",
    "grafana.sidecar.image",
    "kube-state-metrics.image",
    "prometheus-node-exporter.image",
    "prometheusOperator.admissionWebhooks.patch.image",
  ],
};

/** The chart's own name from a Release's `chart` (`cert-manager`, `oci://…/gateway-helm`, `./charts/x-1.2.3.tgz`). */
export function chartNameOf(chart: string): string {
  const base = chart.replace(/\/+$/, "").split("/").pop() ?? chart;
  return base.replace(/\.tgz$/, "").replace(/-v?\d+\.\d+\.\d+.*$/, "");
}

function split(reference: string): { repository: string; tag: string } {
  const slash = reference.lastIndexOf("/");
  const colon = reference.indexOf(":", slash + 1);
  return { repository: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

/** The values fragment that states each slot's default image, in the slot's own shape. */
export function chartImageValues(chart: string): Record<string, unknown> {
  let values: Record<string, unknown> = {};
  for (const slot of CHART_IMAGES[chart] ?? []) {
    if (!slot.image) continue;
    const { repository, tag } = split(slot.image);
    const value =
      slot.style === "reference"
        ? slot.image
        : slot.style === "sha"
          ? { registry: repository.split("/")[0], repository: repository.split("/").slice(1).join("/"), tag }
          : { repository, tag };
    values = mergeValues(values, nest(slot.path, value));
  }
  return values;
}

function nest(path: readonly string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `over` merged into `base`, objects recursively (arrays and scalars of `over` win). */
export function mergeValues(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? mergeValues(b, v) : v;
  }
  return out;
}

function at(values: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), values);
}

export interface ChartImage {
  slot: ChartImageSlot;
  /** `values.a.b`, as a reviewer finds it. */
  key: string;
  /** The reference the chart renders (tag form), or undefined when the values do not state it. */
  image?: string;
  /** The digest the values pin, if any. */
  digest?: string;
}

const DIGEST_IN_TAG = /@(sha256:[a-f0-9]{64})$/;

/** Every image slot of a chart with what the values state there. */
export function chartImagesOf(chart: string, values: unknown): ChartImage[] {
  return (CHART_IMAGES[chartNameOf(chart)] ?? []).map((slot) => {
    const key = slot.path.join(".");
    const v = at(values, slot.path);
    if (slot.style === "reference") {
      if (typeof v !== "string" || v === "") return { slot, key };
      const m = DIGEST_IN_TAG.exec(v);
      return { slot, key, image: m ? v.slice(0, m.index) : v, ...(m?.[1] ? { digest: m[1] } : {}) };
    }
    if (!isRecord(v) || typeof v.repository !== "string" || typeof v.tag !== "string") return { slot, key };
    const registry = slot.style === "sha" && typeof v.registry === "string" ? `${v.registry}/` : "";
    const m = DIGEST_IN_TAG.exec(v.tag);
    const tag = m ? v.tag.slice(0, m.index) : v.tag;
    const digest =
      slot.style === "digest" && typeof v.digest === "string" && v.digest
        ? v.digest
        : slot.style === "sha" && typeof v.sha === "string" && v.sha
          ? `sha256:${v.sha}`
          : m?.[1];
    return { slot, key, image: `${registry}${v.repository}:${tag}`, ...(digest ? { digest } : {}) };
  });
}

/**
 * The values with every stated slot whose image `digestOf` knows pinned by that digest, in the
 * slot's style. Slots already pinned, or unknown to `digestOf`, are left as they are.
 */
export function pinChartImages(
  chart: string,
  values: Record<string, unknown>,
  digestOf: (image: string) => string | undefined,
): Record<string, unknown> {
  let out = values;
  for (const found of chartImagesOf(chart, values)) {
    if (!found.image || found.digest) continue;
    const digest = digestOf(found.image);
    if (!digest) continue;
    const { slot } = found;
    const current = at(values, slot.path);
    const pinned =
      slot.style === "reference"
        ? `${found.image}@${digest}`
        : slot.style === "digest"
          ? { ...(current as object), digest }
          : slot.style === "sha"
            ? { ...(current as object), sha: digest.replace(/^sha256:/, "") }
            : { ...(current as object), tag: `${(current as { tag: string }).tag}@${digest}` };
    out = mergeValues(out, nest(slot.path, pinned));
  }
  return out;
}
