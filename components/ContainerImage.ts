/**
 * ContainerImage: builds a service's image from a build context with BuildKit (`@pulumi/docker-build`,
 * the provider Pulumi recommends for anything related to `docker build`) and, on AWS, pushes it to an
 * ECR repository of its own. The workload then runs the pushed digest, never a movable tag.
 *
 * What it creates:
 * - `registry: "ecr"`: an ECR repository (scan on push, immutable tags, AES256 encryption), its
 *   lifecycle policy, and the image build that pushes `<repositoryUrl>:<imageTag>` with credentials
 *   from `aws.ecr.getAuthorizationTokenOutput` (held in memory by the provider, never written to disk);
 *   `imageRef` is `<repositoryUrl>@<digest>`.
 * - `registry: "none"` (a local stack without a registry): the build only, loaded into the local
 *   Docker daemon, nothing pushed; `imageRef` is the local tag `<repositoryName>:<imageTag>`.
 *   Limitation: the local cluster must be able to see that image (Docker Desktop's Kubernetes shares
 *   the daemon's images; kind needs `kind load docker-image <ref>`, k3d `k3d image import <ref>`),
 *   and a digest cannot be used because a loaded image has no registry digest.
 *
 * Encryption is AES256 (ECR-managed keys) rather than KMS: images carry no secrets on this platform
 * (secrets only ever reach pods through Kubernetes Secrets), a customer key would add per-pull KMS
 * requests, a key policy to keep in step with the node roles, and cost, and the encryption type of an
 * ECR repository can never change after creation (changing it replaces the repository and loses its
 * images), so the cheap, always-available choice is the safe default.
 */
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { ComponentArgsError, childName, statefulOptions, typeToken } from "./lib";

export type ContainerImagePlatform = "linux/amd64" | "linux/arm64";

export interface ContainerImageArgs {
  /**
   * Repository the image is published as: the ECR repository's name with `ecr`, the local image name
   * with `none`. Lowercase path segments separated by `/` (ECR's rule), 2 to 256 characters.
   * @example "fintech/backend-api"
   */
  repositoryName: string;
  /**
   * Tag the build is published under (a version, never `latest`). ECR tags are immutable here, so a
   * changed build needs a new tag: pushing different content under an existing tag fails the update
   * rather than silently replacing what is running. The workload runs the digest either way.
   * @example "2.3.0"
   */
  imageTag: string;
  /**
   * Build context: a directory, relative to the Pulumi project directory (where `pulumi up` runs) or
   * absolute. Kept as given, so state does not depend on the machine that ran the build.
   * @example "apps/backend-api"
   */
  context: string;
  /**
   * Dockerfile. A relative path is relative to `context` and must stay inside it; an absolute path
   * may be anywhere.
   * @default "Dockerfile" (in the context)
   * @example "docker/Dockerfile.prod"
   */
  dockerfile?: string;
  /**
   * Build arguments (`--build-arg`). Not for secrets: build arguments stay in the image's history and
   * in Pulumi state, so names that look like credentials are rejected.
   * @default {}
   * @example { NODE_VERSION: "20" }
   */
  buildArgs?: Record<string, string>;
  /**
   * Target platform. The EKS node groups of this platform are x86 (m5/r5), hence the default.
   * @default "linux/amd64"
   * @example "linux/arm64"
   */
  platform?: ContainerImagePlatform;
  /**
   * Where the image goes: `ecr` (an ECR repository per image, pushed) or `none` (build and load into
   * the local Docker daemon only; for local stacks without a registry).
   * @example "ecr"
   */
  registry: "ecr" | "none";
  /**
   * Tags put on the ECR repository (`ecr` only; ignored with `none`).
   * @default {}
   * @example { project: "microservices-platform", stack: "production" }
   */
  tags?: Record<string, string>;
  /**
   * Pulumi `protect` + `retainOnDelete` on the ECR repository, which holds every pushed image
   * (`ecr` only). The repository is never force-deleted: deleting one that still holds images fails.
   * @default false
   * @example true
   */
  protect?: boolean;
  /**
   * How many images the lifecycle policy keeps, newest first (`ecr` only). Keep more than the
   * rollbacks you may need: an image that is expired cannot be pulled again.
   * @default 30
   * @example 50
   */
  keepImages?: number;
  /**
   * Days after which untagged images (superseded pushes, failed builds) expire (`ecr` only).
   * @default 7
   * @example 14
   */
  untaggedExpiryDays?: number;
  /**
   * Run this already-pushed digest instead of building (a pin or a rollback): nothing is built or
   * pushed, the repository and its lifecycle policy stay, and `imageRef` is
   * `<repositoryUrl>@<pinnedDigest>` (with `none`: `<repositoryName>@<pinnedDigest>`, which the local
   * cluster must be able to pull).
   * @default none (build)
   * @example "sha256:4f1c…" (64 hex digits)
   */
  pinnedDigest?: string;
}

const DEFAULT_KEEP_IMAGES = 30;
const DEFAULT_UNTAGGED_EXPIRY_DAYS = 7;

/**
 * A container image built from source: an ECR repository with its lifecycle policy and a BuildKit
 * build pushed to it on AWS, or a local build without a registry. `imageRef` is what a MicroService's
 * `image` takes.
 */
export class ContainerImage extends pulumi.ComponentResource {
  /** What a workload runs: `<repositoryUrl>@<digest>` (ecr), the local tag (none), or the pinned digest. */
  public readonly imageRef: pulumi.Output<string>;
  /** `<registry host>/<repositoryName>` (ecr) or `repositoryName` (none). */
  public readonly repositoryUrl: pulumi.Output<string>;
  /** Digest of the pushed image (ecr), the pinned digest, or undefined for a local build. */
  public readonly digest: pulumi.Output<string | undefined>;
  /** The ECR repository (`ecr` only). */
  public readonly repository?: aws.ecr.Repository;
  /** The ECR lifecycle policy (`ecr` only). */
  public readonly lifecyclePolicy?: aws.ecr.LifecyclePolicy;
  /** The build (absent when `pinnedDigest` is set). */
  public readonly image?: dockerBuild.Image;

  constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = containerImageProblems(args);
    if (problems.length > 0) throw new ComponentArgsError("ContainerImage", name, problems);
    super(typeToken("ContainerImage"), name, {}, opts);
    const child = { parent: this };
    const build = {
      context: { location: args.context },
      dockerfile: { location: dockerfilePath(args.context, args.dockerfile) },
      platforms: [args.platform ?? "linux/amd64"],
      ...(args.buildArgs && Object.keys(args.buildArgs).length > 0 ? { buildArgs: args.buildArgs } : {}),
    };

    if (args.registry === "ecr") {
      this.repository = new aws.ecr.Repository(
        childName(name, "repo"),
        {
          name: args.repositoryName,
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "AES256" }],
          forceDelete: false,
          tags: { ...(args.tags ?? {}), Name: args.repositoryName },
        },
        { ...child, ...statefulOptions(args.protect ?? false) },
      );
      this.lifecyclePolicy = new aws.ecr.LifecyclePolicy(
        childName(name, "lifecycle"),
        {
          repository: this.repository.name,
          policy: JSON.stringify(
            ecrLifecyclePolicy(
              args.keepImages ?? DEFAULT_KEEP_IMAGES,
              args.untaggedExpiryDays ?? DEFAULT_UNTAGGED_EXPIRY_DAYS,
            ),
          ),
        },
        child,
      );
      const repositoryUrl = this.repository.repositoryUrl;
      this.repositoryUrl = repositoryUrl;
      if (args.pinnedDigest) {
        this.digest = pulumi.output(args.pinnedDigest);
        this.imageRef = pulumi.interpolate`${repositoryUrl}@${args.pinnedDigest}`;
      } else {
        const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, child);
        this.image = new dockerBuild.Image(
          childName(name, "image"),
          {
            ...build,
            tags: [pulumi.interpolate`${repositoryUrl}:${args.imageTag}`],
            push: true,
            registries: [
              {
                address: repositoryUrl.apply((url) => url.split("/")[0] ?? url),
                username: auth.userName,
                password: pulumi.secret(auth.password),
              },
            ],
          },
          child,
        );
        this.digest = this.image.digest;
        this.imageRef = pulumi.all([repositoryUrl, this.image.digest]).apply(([url, digest]) => {
          // An empty digest means nothing reached the registry; a workload must never run a guess.
          if (!/^sha256:[a-f0-9]{64}$/.test(digest ?? ""))
            throw new Error(
              `ContainerImage "${name}": the build of ${url}:${args.imageTag} reported no pushed digest (found ${JSON.stringify(digest)})`,
            );
          return `${url}@${digest}`;
        });
      }
    } else {
      this.repositoryUrl = pulumi.output(args.repositoryName);
      if (args.pinnedDigest) {
        this.digest = pulumi.output(args.pinnedDigest);
        this.imageRef = pulumi.output(`${args.repositoryName}@${args.pinnedDigest}`);
      } else {
        const localTag = `${args.repositoryName}:${args.imageTag}`;
        this.image = new dockerBuild.Image(
          childName(name, "image"),
          { ...build, tags: [localTag], push: false, load: true },
          child,
        );
        this.digest = pulumi.output<string | undefined>(undefined);
        // The local tag is known before the build; tie it to the build so dependents wait for it.
        this.imageRef = this.image.ref.apply(() => localTag);
      }
    }

    this.registerOutputs({ imageRef: this.imageRef, repositoryUrl: this.repositoryUrl, digest: this.digest });
  }
}

/**
 * The ECR lifecycle policy: untagged images expire after `untaggedDays`, and only the newest `keep`
 * images are kept. Rules are in ascending priority (ECR reorders them otherwise, which Pulumi would
 * show as a diff on every run); the `any` rule must have the highest priority number.
 */
export function ecrLifecyclePolicy(keep: number, untaggedDays: number): { rules: Record<string, unknown>[] } {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images after ${untaggedDays} days`,
        selection: {
          tagStatus: "untagged",
          countType: "sinceImagePushed",
          countUnit: "days",
          countNumber: untaggedDays,
        },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `Keep the newest ${keep} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  };
}

/** ECR repository names: lowercase path segments (`a-z0-9` joined by `.`, `_` or `-`), slash-separated. */
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const BUILD_ARG = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_LIKE_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIALS?)$/i;
const PLATFORMS: readonly string[] = ["linux/amd64", "linux/arm64"];

/** The Dockerfile path handed to the build: relative ones are resolved against the context. */
function dockerfilePath(context: string, dockerfile: string | undefined): string {
  const file = dockerfile ?? "Dockerfile";
  return path.isAbsolute(file) ? file : path.join(context, file);
}

const isWholeIn = (n: unknown, min: number, max: number): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;

/** Every problem with the args, in one list (nothing is created when it is not empty). */
export function containerImageProblems(args: ContainerImageArgs): string[] {
  const p: string[] = [];
  const repo = args.repositoryName ?? "";
  if (!REPOSITORY_NAME.test(repo) || repo.length < 2 || repo.length > 256)
    p.push(
      `repositoryName must be 2 to 256 characters of lowercase path segments such as "fintech/backend-api", found ${JSON.stringify(args.repositoryName)}`,
    );
  if (args.imageTag === "latest")
    p.push('imageTag "latest" is not reproducible; give a version such as "2.3.0"');
  else if (!IMAGE_TAG.test(args.imageTag ?? ""))
    p.push(`imageTag must be a Docker tag such as "2.3.0", found ${JSON.stringify(args.imageTag)}`);

  const context = (args.context ?? "").trim();
  if (context === "")
    p.push('context is empty; give the build context directory, such as "apps/backend-api"');
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(context))
    p.push(`context must be a local directory, found the URL "${context}"`);
  if (args.dockerfile !== undefined) {
    if (args.dockerfile.trim() === "") p.push('dockerfile is empty; leave it out for "<context>/Dockerfile"');
    else if (!path.isAbsolute(args.dockerfile) && context !== "") {
      const relative = path.relative(path.resolve(context), path.resolve(context, args.dockerfile));
      if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative))
        p.push(
          `dockerfile "${args.dockerfile}" is outside the context "${context}" (a relative dockerfile is resolved against the context; give an absolute path for a Dockerfile elsewhere)`,
        );
    }
  }
  for (const [key, value] of Object.entries(args.buildArgs ?? {})) {
    if (!BUILD_ARG.test(key)) p.push(`buildArgs: "${key}" is not a valid build argument name`);
    else if (SECRET_LIKE_NAME.test(key))
      p.push(
        `buildArgs.${key} looks like a credential; build arguments stay in the image history and in Pulumi state`,
      );
    if (typeof value !== "string") p.push(`buildArgs.${key} must be a string, found ${typeof value}`);
  }
  if (args.platform !== undefined && !PLATFORMS.includes(args.platform))
    p.push(`platform must be "linux/amd64" or "linux/arm64", found ${JSON.stringify(args.platform)}`);
  if (args.registry !== "ecr" && args.registry !== "none")
    p.push(`registry must be "ecr" or "none", found ${JSON.stringify(args.registry)}`);
  if (args.keepImages !== undefined && !isWholeIn(args.keepImages, 1, 1000))
    p.push(`keepImages must be a whole number from 1 to 1000, found ${String(args.keepImages)}`);
  if (args.untaggedExpiryDays !== undefined && !isWholeIn(args.untaggedExpiryDays, 1, 365))
    p.push(
      `untaggedExpiryDays must be a whole number from 1 to 365, found ${String(args.untaggedExpiryDays)}`,
    );
  for (const [key, value] of Object.entries(args.tags ?? {})) {
    if (key.length < 1 || key.length > 128 || key.toLowerCase().startsWith("aws:"))
      p.push(`tags: "${key}" is not a usable AWS tag key (1 to 128 characters, not starting with "aws:")`);
    if (value.length > 256) p.push(`tags.${key}: value longer than 256 characters`);
  }
  if (args.pinnedDigest !== undefined && !DIGEST.test(args.pinnedDigest))
    p.push(`pinnedDigest "${args.pinnedDigest}" is not a sha256 digest of 64 hex digits`);
  return p;
}
