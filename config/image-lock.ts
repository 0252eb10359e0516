/**
 * The image lock of a stack: `Pulumi.<stack>.images.lock.json` beside the stack file, written by
 * `npm run images -- lock --stack <stack>` (scripts/image-lock/), committed and reviewed. It maps
 * every image reference the stack runs, as the catalogs, components and charts name it
 * (`redis:7.4.5-alpine`), to the sha256 digest the registry served for it.
 *
 * The program applies it to every resource it registers (`pinResourceImages`, through a stack
 * transform in index.ts): containers and init containers of every workload, the CloudNativePG
 * Cluster's `imageName`, Prometheus and Alertmanager's `image`, the operator's config-reloader flag,
 * and every image slot of our Helm releases (components/chart-images.ts). A reference becomes
 * `repo:tag@sha256:…`: the tag stays for people, the digest is what the node pulls.
 *
 * A stack without a lock deploys exactly what it names (tags); production's policy then refuses it
 * and says how to lock. The module is plain data and functions: it imports nothing from Pulumi.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { chartImagesOf, pinChartImages } from "../components/chart-images";

export interface LockedImage {
  /** `registry/repository` as the registry is asked (`docker.io/library/redis`). */
  repository: string;
  tag: string;
  /** The manifest (or index) digest the tag resolved to. */
  digest: string;
  /** Media type of what the digest names (an OCI index / Docker manifest list, or one manifest). */
  mediaType: string;
  /** `os/architecture[/variant]` of each manifest of an index; one entry for a single manifest. */
  platforms: string[];
  /** When the tag was resolved to this digest (kept while the digest stays the same). */
  resolvedAt: string;
}

export interface ImageLock {
  /** Format version of the file. */
  version: 1;
  stack: string;
  /** Reference as the stack names it → its lock entry; keys sorted. */
  images: Record<string, LockedImage>;
}

export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Where a stack's lock lives: beside its stack file. */
export function imageLockPath(stack: string, dir: string): string {
  return path.join(dir, `Pulumi.${stack}.images.lock.json`);
}

/** Problems with a lock file's content, each naming the file and the entry. */
export function imageLockProblems(lock: unknown, file: string): string[] {
  const problems: string[] = [];
  const l = lock as Partial<ImageLock> | null;
  if (!l || typeof l !== "object") return [`${file}: expected a JSON object, found ${JSON.stringify(lock)}`];
  if (l.version !== 1) problems.push(`${file}: version: expected 1, found ${JSON.stringify(l.version)}`);
  if (!l.images || typeof l.images !== "object")
    return [...problems, `${file}: images: expected an object of image → entry`];
  for (const [ref, entry] of Object.entries(l.images)) {
    const digest = (entry as Partial<LockedImage> | null)?.digest;
    if (typeof digest !== "string" || !SHA256_DIGEST.test(digest))
      problems.push(
        `${file}: images["${ref}"].digest: expected "sha256:" and 64 hex digits, found ${JSON.stringify(digest)}`,
      );
    if (ref.includes("@"))
      problems.push(`${file}: images["${ref}"]: the key is a tag reference, without a digest`);
  }
  return problems;
}

/**
 * The stack's lock, or undefined when it has none. `PLATFORM_IMAGE_LOCK` names another file, or
 * `none` to deploy without one (the lock command renders the stack that way to see its tags).
 */
export function readImageLock(stack: string, dir: string): ImageLock | undefined {
  const override = process.env.PLATFORM_IMAGE_LOCK;
  if (override === "none") return undefined;
  const file = override ? path.resolve(override) : imageLockPath(stack, dir);
  if (!existsSync(file)) {
    if (override) throw new Error(`PLATFORM_IMAGE_LOCK: no lock file at ${file}`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(
      `${file}: not valid JSON (${(error as Error).message}); re-create it with npm run images -- lock --stack ${stack}`,
    );
  }
  const problems = imageLockProblems(parsed, file);
  if (problems.length > 0)
    throw new Error(
      `Invalid image lock (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  return parsed as ImageLock;
}

/** Deterministic JSON of a lock: keys sorted at every level, two-space indent, final newline. */
export function serializeImageLock(lock: ImageLock): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return `${JSON.stringify(sort(lock), null, 2)}\n`;
}

// ------------------------------------------------------------------------ images in a resource

/** Where a workload kind keeps its pod spec. */
export const WORKLOAD_POD_PATHS: Readonly<Record<string, readonly string[]>> = {
  "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
  "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
  "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
  "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
  "kubernetes:core/v1:Pod": ["spec"],
};

/** Custom resources whose controller runs the image a field names. */
const CUSTOM_RESOURCE_IMAGE_PATHS: Readonly<Record<string, readonly string[]>> = {
  "kubernetes:postgresql.cnpg.io/v1:Cluster": ["spec", "imageName"],
  "kubernetes:monitoring.coreos.com/v1:Prometheus": ["spec", "image"],
  "kubernetes:monitoring.coreos.com/v1:Alertmanager": ["spec", "image"],
};

export const HELM_RELEASE_TYPES: readonly string[] = ["kubernetes:helm.sh/v3:Release"];

/** prometheus-operator's flag naming the config reloader image (the release manifests' route). */
const RELOADER_FLAG = "--prometheus-config-reloader=";

export interface ImageInResource {
  /** The reference without a digest. */
  image: string;
  /** The digest it is pinned by, when it is. */
  digest?: string;
  /** Where it is: `container api`, `spec.imageName`, `values.webhook.image`. */
  where: string;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function at(v: unknown, p: readonly string[]): unknown {
  return p.reduce<unknown>((node, key) => record(node)?.[key], v);
}

function splitDigest(ref: string): { image: string; digest?: string } {
  const i = ref.indexOf("@");
  return i === -1 ? { image: ref } : { image: ref.slice(0, i), digest: ref.slice(i + 1) };
}

interface Container {
  name?: string;
  image?: unknown;
  args?: unknown;
}

function containersOf(pod: unknown): { list: "initContainers" | "containers"; c: Container }[] {
  const p = record(pod);
  return (["initContainers", "containers"] as const).flatMap((list) =>
    Array.isArray(p?.[list]) ? (p[list] as Container[]).map((c) => ({ list, c })) : [],
  );
}

/** Every image a resource's inputs make the cluster run, with where it is named. */
export function imagesInResource(type: string, inputs: unknown): ImageInResource[] {
  const out: ImageInResource[] = [];
  const podPath = WORKLOAD_POD_PATHS[type];
  if (podPath) {
    for (const { c } of containersOf(at(inputs, podPath))) {
      if (typeof c.image === "string")
        out.push({ ...splitDigest(c.image), where: `container "${c.name ?? "?"}"` });
      if (Array.isArray(c.args))
        for (const a of c.args)
          if (typeof a === "string" && a.startsWith(RELOADER_FLAG))
            out.push({
              ...splitDigest(a.slice(RELOADER_FLAG.length)),
              where: `container "${c.name ?? "?"}" ${RELOADER_FLAG}`,
            });
    }
  }
  const crPath = CUSTOM_RESOURCE_IMAGE_PATHS[type];
  if (crPath) {
    const v = at(inputs, crPath);
    if (typeof v === "string") out.push({ ...splitDigest(v), where: crPath.join(".") });
  }
  if (HELM_RELEASE_TYPES.includes(type)) {
    const r = record(inputs);
    if (typeof r?.chart === "string")
      for (const found of chartImagesOf(r.chart, r.values))
        if (found.image)
          out.push({
            image: found.image,
            ...(found.digest ? { digest: found.digest } : {}),
            where: `values.${found.key}`,
          });
  }
  return out;
}

/**
 * The resource's inputs with every image `digestOf` knows pinned by digest (`ref@sha256:…`); the
 * same object when nothing changes. Images already pinned are left alone.
 */
export function pinResourceImages(
  type: string,
  inputs: Record<string, unknown>,
  digestOf: (image: string) => string | undefined,
): Record<string, unknown> {
  const pin = (ref: string): string => {
    if (ref.includes("@")) return ref;
    const d = digestOf(ref);
    return d ? `${ref}@${d}` : ref;
  };
  let changed = false;
  const set = (
    obj: Record<string, unknown>,
    p: readonly string[],
    value: unknown,
  ): Record<string, unknown> => {
    const [head, ...rest] = p;
    if (head === undefined) return obj;
    const next = rest.length === 0 ? value : set(record(obj[head]) ?? {}, rest, value);
    return { ...obj, [head]: next };
  };
  let out = inputs;
  const podPath = WORKLOAD_POD_PATHS[type];
  if (podPath) {
    const pod = record(at(inputs, podPath));
    if (pod) {
      const newPod = { ...pod };
      for (const list of ["initContainers", "containers"] as const) {
        if (!Array.isArray(pod[list])) continue;
        newPod[list] = (pod[list] as Container[]).map((c) => {
          const image = typeof c.image === "string" ? pin(c.image) : c.image;
          const args = Array.isArray(c.args)
            ? c.args.map((a: unknown) =>
                typeof a === "string" && a.startsWith(RELOADER_FLAG)
                  ? RELOADER_FLAG + pin(a.slice(RELOADER_FLAG.length))
                  : a,
              )
            : c.args;
          if (image === c.image && JSON.stringify(args) === JSON.stringify(c.args)) return c;
          changed = true;
          return { ...c, image, ...(args !== undefined ? { args } : {}) };
        });
      }
      if (changed) out = set(out, podPath, newPod);
    }
  }
  const crPath = CUSTOM_RESOURCE_IMAGE_PATHS[type];
  if (crPath) {
    const v = at(inputs, crPath);
    if (typeof v === "string" && pin(v) !== v) {
      out = set(out, crPath, pin(v));
      changed = true;
    }
  }
  if (HELM_RELEASE_TYPES.includes(type) && typeof inputs.chart === "string") {
    const values = record(inputs.values);
    if (values) {
      const pinned = pinChartImages(inputs.chart, values, digestOf);
      if (pinned !== values) {
        out = { ...out, values: pinned };
        changed = true;
      }
    }
  }
  return changed ? out : inputs;
}

/** The lookup a lock gives: reference as named → digest. */
export function lockDigestOf(lock: ImageLock): (image: string) => string | undefined {
  return (image) => lock.images[image]?.digest;
}
