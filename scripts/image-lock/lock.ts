/**
 * The lock of a stack: every image its render runs, resolved to a digest (registry.ts), written
 * beside the stack file; the check that a lock still covers the stack and still matches the
 * registries; and the difference between two locks, for review.
 */
import { existsSync, readFileSync } from "node:fs";
import {
  imageLockPath,
  imageLockProblems,
  imagesInResource,
  type ImageLock,
  type LockedImage,
} from "../../config/image-lock";
import type { RegistryClient } from "./registry";

interface RenderedResource {
  type: string;
  name: string;
  inputs: unknown;
}

export interface StackImage {
  /** Tag reference as the stack names it. */
  image: string;
  /** What runs it: `Deployment ns/name`, `Release envoy-gateway (values.global.images.ratelimit.image)`. */
  usedBy: string[];
  /** The digest the stack's own config already pins it by (`platform:images`), if any. */
  pinnedInConfig?: string;
}

function ownerLabel(r: RenderedResource, where: string): string {
  const inputs = r.inputs as { metadata?: { name?: string; namespace?: string }; name?: string };
  const kind = r.type.split(":").pop() ?? r.type;
  if (r.type === "kubernetes:helm.sh/v3:Release") return `Release ${inputs.name ?? r.name} (${where})`;
  return `${kind} ${inputs.metadata?.namespace ?? "default"}/${inputs.metadata?.name ?? r.name}`;
}

/** Every image a render's resources run, sorted, with what runs each. */
export function stackImages(resources: readonly RenderedResource[]): StackImage[] {
  const uses = new Map<string, { usedBy: Set<string>; digest?: string }>();
  for (const r of resources) {
    for (const found of imagesInResource(r.type, r.inputs)) {
      const entry = uses.get(found.image) ?? { usedBy: new Set<string>() };
      entry.usedBy.add(ownerLabel(r, found.where));
      if (found.digest) entry.digest = found.digest;
      uses.set(found.image, entry);
    }
  }
  return [...uses.keys()].sort().map((image) => {
    const e = uses.get(image)!;
    return { image, usedBy: [...e.usedBy].sort(), ...(e.digest ? { pinnedInConfig: e.digest } : {}) };
  });
}

/** The lock file of a stack, or undefined when there is none (throws on a malformed one). */
export function loadLock(stack: string, dir: string): ImageLock | undefined {
  const file = imageLockPath(stack, dir);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
  const problems = imageLockProblems(parsed, file);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return parsed as ImageLock;
}

/**
 * Resolves every image of the stack that its config does not already pin. Every failure is
 * collected and thrown at once, naming each image; nothing is written then. An entry whose digest
 * did not change keeps its `resolvedAt`, so a re-lock diff shows only what moved.
 */
export async function lockStack(
  stack: string,
  images: readonly StackImage[],
  client: RegistryClient,
  previous: ImageLock | undefined,
  now: Date,
): Promise<ImageLock> {
  const failures: string[] = [];
  const entries: Record<string, LockedImage> = {};
  const todo = images.filter((i) => !i.pinnedInConfig);
  // A few at a time: registries rate-limit anonymous clients.
  for (let i = 0; i < todo.length; i += 4) {
    await Promise.all(
      todo.slice(i, i + 4).map(async ({ image }) => {
        try {
          const r = await client.resolve(image);
          const old = previous?.images[image];
          entries[image] = {
            repository: r.repository,
            tag: r.tag,
            digest: r.digest,
            mediaType: r.mediaType,
            platforms: r.platforms,
            resolvedAt: old && old.digest === r.digest ? old.resolvedAt : now.toISOString(),
          };
        } catch (error) {
          failures.push((error as Error).message);
        }
      }),
    );
  }
  if (failures.length > 0)
    throw new Error(
      `Could not lock the images of stack ${stack} (${failures.length} of ${todo.length} failed); the lock was not written:\n${failures
        .sort()
        .map((f) => `  - ${f}`)
        .join("\n")}`,
    );
  return { version: 1, stack, images: entries };
}

export interface LockChange {
  image: string;
  old?: string;
  new?: string;
}

/** Entries added, removed or re-pinned between two locks, sorted by image. */
export function lockDiff(before: ImageLock | undefined, after: ImageLock | undefined): LockChange[] {
  const a = before?.images ?? {};
  const b = after?.images ?? {};
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort()
    .filter((image) => a[image]?.digest !== b[image]?.digest)
    .map((image) => ({
      image,
      ...(a[image] ? { old: a[image].digest } : {}),
      ...(b[image] ? { new: b[image].digest } : {}),
    }));
}

/**
 * Why the lock does not serve the stack: images the stack runs that it misses, entries the stack no
 * longer runs, and (with `client`) tags whose digest moved in the registry since the lock.
 */
export async function lockProblems(
  stack: string,
  lock: ImageLock | undefined,
  images: readonly StackImage[],
  client?: RegistryClient,
): Promise<string[]> {
  const fix = `run npm run images -- lock --stack ${stack}`;
  if (!lock) return [`stack ${stack} has no image lock (Pulumi.${stack}.images.lock.json); ${fix}`];
  const problems: string[] = [];
  const needed = images.filter((i) => !i.pinnedInConfig);
  const names = new Set(needed.map((i) => i.image));
  for (const i of needed)
    if (!lock.images[i.image]) problems.push(`missing: ${i.image} (run by ${i.usedBy.join(", ")})`);
  for (const image of Object.keys(lock.images).sort())
    if (!names.has(image)) problems.push(`unused: ${image} is locked but the stack no longer runs it`);
  if (client) {
    for (const i of needed) {
      const entry = lock.images[i.image];
      if (!entry) continue;
      try {
        const r = await client.resolve(i.image);
        if (r.digest !== entry.digest)
          problems.push(
            `stale: ${i.image} is locked at ${entry.digest} but the registry now serves ${r.digest}`,
          );
      } catch (error) {
        problems.push(`unresolvable: ${(error as Error).message}`);
      }
    }
  }
  return problems.length ? [...problems, fix] : [];
}
