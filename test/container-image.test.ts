/**
 * ContainerImage (build from source) and the build path through the program: the ECR repository
 * (scan on push, immutable tags, encryption), its lifecycle policy, the push with ECR credentials and
 * the digest reference; the registry-less local build; every rejected argument; a MicroService fed
 * the built reference as an Output; and a catalog service with `build` deployed by the real index.ts.
 */
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import {
  byName,
  byType,
  isSecretValue,
  onCluster,
  runProgram,
  runStack,
  STAND_IN_KUBERNETES,
  type RecordedResource,
  type RunResult,
} from "./harness";
import { MOCK_ECR_REGISTRY, mockImageDigest } from "../components/testing/mocks/images";
import { validateKubernetesObject } from "./validate";
import {
  ContainerImage,
  containerImageProblems,
  ecrLifecyclePolicy,
  type ContainerImageArgs,
} from "../components/ContainerImage";
import { MicroService, type MicroServiceArgs } from "../components/MicroService";
import { ComponentArgsError } from "../components/lib";
import { fintech } from "../services/fintech";
import { loadCatalog, type CatalogInput } from "../services";
import { resolveSettings } from "../config/settings";
import { planCatalog } from "../config/plan";

const T = {
  component: "platform:index:ContainerImage",
  repository: "aws:ecr/repository:Repository",
  lifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  image: "docker-build:index:Image",
  auth: "aws:ecr/getAuthorizationToken:getAuthorizationToken",
  deployment: "kubernetes:apps/v1:Deployment",
  microService: "platform:index:MicroService",
} as const;

const ARGS: ContainerImageArgs = {
  repositoryName: "fintech/backend-api",
  imageTag: "2.4.0",
  context: "apps/backend-api",
  registry: "ecr",
  tags: { project: "microservices-platform", stack: "production" },
};
const REPO_URL = `${MOCK_ECR_REGISTRY}/fintech/backend-api`;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

async function render(args: ContainerImageArgs, name = "backend-api-image"): Promise<RunResult> {
  return runProgram(() => {
    const image = new ContainerImage(name, args);
    return { imageRef: image.imageRef, repositoryUrl: image.repositoryUrl, digest: image.digest };
  });
}

function rejection(args: ContainerImageArgs, name = "img"): string {
  try {
    new ContainerImage(name, args);
  } catch (error) {
    expect(error).toBeInstanceOf(ComponentArgsError);
    return (error as Error).message;
  }
  throw new Error("the args were accepted");
}

describe("ContainerImage on ECR", () => {
  it("creates a scan-on-push, immutable, AES256-encrypted repository that is never force-deleted", async () => {
    const run = await render({ ...ARGS, protect: true });
    const repo = byName(run, T.repository, "backend-api-image-repo");
    expect(repo.inputs).toMatchObject({
      name: "fintech/backend-api",
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "AES256" }],
      forceDelete: false,
      tags: { project: "microservices-platform", stack: "production", Name: "fintech/backend-api" },
    });
    expect([repo.protect, repo.retainOnDelete]).toEqual([true, true]);
    expect(repo.parent).toBe(byType(run, T.component)[0]?.urn);
  });

  it("is not protected by default", async () => {
    const repo = byType(await render(ARGS), T.repository)[0];
    expect([repo?.protect, repo?.retainOnDelete]).toEqual([false, false]);
  });

  it("attaches a lifecycle policy: untagged images expire after N days, only the newest keepImages stay", async () => {
    const run = await render({ ...ARGS, keepImages: 50, untaggedExpiryDays: 14 });
    const policy = byName(run, T.lifecycle, "backend-api-image-lifecycle");
    expect(policy.inputs.repository).toBe("fintech/backend-api");
    expect(policy.dependencies).toContain(byType(run, T.repository)[0]?.urn);
    const parsed = JSON.parse(String(policy.inputs.policy)) as { rules: Record<string, unknown>[] };
    expect(parsed).toEqual({
      rules: [
        {
          rulePriority: 1,
          description: "Expire untagged images after 14 days",
          selection: {
            tagStatus: "untagged",
            countType: "sinceImagePushed",
            countUnit: "days",
            countNumber: 14,
          },
          action: { type: "expire" },
        },
        {
          rulePriority: 2,
          description: "Keep the newest 50 images",
          selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 50 },
          action: { type: "expire" },
        },
      ],
    });
    // ECR requires the `any` rule to be evaluated last, and reorders rules by priority (a perpetual
    // diff if they were not sorted): priorities ascend and `any` has the highest.
    const priorities = parsed.rules.map((r) => r.rulePriority as number);
    expect(priorities).toEqual([...priorities].sort((a, b) => a - b));
    expect((parsed.rules.at(-1)?.selection as { tagStatus: string }).tagStatus).toBe("any");
  });

  it("defaults: keep 30 images, untagged for 7 days", () => {
    expect(
      ecrLifecyclePolicy(30, 7).rules.map((r) => (r.selection as { countNumber: number }).countNumber),
    ).toEqual([7, 30]);
  });

  it("builds for linux/amd64 from the context and pushes <repositoryUrl>:<tag> with ECR credentials kept secret", async () => {
    const run = await render({
      ...ARGS,
      dockerfile: "docker/Dockerfile.prod",
      buildArgs: { NODE_VERSION: "20" },
    });
    const image = byName(run, T.image, "backend-api-image-image");
    expect(image.inputs).toMatchObject({
      context: { location: "apps/backend-api" },
      dockerfile: { location: "apps/backend-api/docker/Dockerfile.prod" },
      platforms: ["linux/amd64"],
      buildArgs: { NODE_VERSION: "20" },
      tags: [`${REPO_URL}:2.4.0`],
      push: true,
    });
    const registries = image.inputs.registries as { address: string; username: string; password: unknown }[];
    expect(registries).toHaveLength(1);
    expect(registries[0]?.address).toBe(MOCK_ECR_REGISTRY);
    expect(registries[0]?.username).toBe("AWS");
    expect(isSecretValue(registries[0]?.password)).toBe(true);
    // The token is looked up for the repository's own registry.
    const auth = run.invokes.filter((i) => i.token === T.auth);
    expect(auth).toHaveLength(1);
    expect(auth[0]?.args.registryId).toBe("123456789012");
    // The build waits for the repository it pushes to.
    expect(image.dependencies).toContain(byType(run, T.repository)[0]?.urn);
  });

  it("builds arm64 when asked, with the Dockerfile in the context by default", async () => {
    const image = byType(await render({ ...ARGS, platform: "linux/arm64" }), T.image)[0];
    expect(image?.inputs.platforms).toEqual(["linux/arm64"]);
    expect(image?.inputs.dockerfile).toEqual({ location: "apps/backend-api/Dockerfile" });
  });

  it("exposes imageRef = <repositoryUrl>@<pushed digest>, never a tag", async () => {
    const run = await render(ARGS);
    const image = byType(run, T.image)[0];
    const digest = image?.state.digest as string;
    expect(digest).toMatch(DIGEST_RE);
    expect(digest).toBe(mockImageDigest("backend-api-image-image", [`${REPO_URL}:2.4.0`]));
    expect(run.outputs).toEqual({ imageRef: `${REPO_URL}@${digest}`, repositoryUrl: REPO_URL, digest });
  });

  it("with pinnedDigest keeps the repository and its policy, builds nothing, and runs the pinned digest", async () => {
    const pinned = `sha256:${"c".repeat(64)}`;
    const run = await render({ ...ARGS, pinnedDigest: pinned });
    expect(byType(run, T.repository)).toHaveLength(1);
    expect(byType(run, T.lifecycle)).toHaveLength(1);
    expect(byType(run, T.image)).toHaveLength(0);
    expect(run.invokes.filter((i) => i.token === T.auth)).toHaveLength(0);
    expect(run.outputs.imageRef).toBe(`${REPO_URL}@${pinned}`);
  });
});

describe("ContainerImage without a registry (local stacks)", () => {
  it("builds and loads into the local daemon only: no AWS resource, no credentials, no push", async () => {
    const run = await render({ ...ARGS, registry: "none", tags: { ignored: "yes" }, protect: true });
    expect(run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    expect(run.invokes).toEqual([]);
    const image = byType(run, T.image);
    expect(image).toHaveLength(1);
    expect(image[0]?.inputs).toMatchObject({
      tags: ["fintech/backend-api:2.4.0"],
      push: false,
      load: true,
      context: { location: "apps/backend-api" },
    });
    expect(image[0]?.inputs.registries).toBeUndefined();
    expect(run.outputs).toEqual({
      imageRef: "fintech/backend-api:2.4.0",
      repositoryUrl: "fintech/backend-api",
    });
  });
});

describe("ContainerImage rejects bad args with every problem listed", () => {
  it.each<[string, Partial<ContainerImageArgs>, string]>([
    [
      "an empty context",
      { context: "  " },
      'context is empty; give the build context directory, such as "apps/backend-api"',
    ],
    [
      "a URL context",
      { context: "https://github.com/acme/api.git" },
      'context must be a local directory, found the URL "https://github.com/acme/api.git"',
    ],
    [
      "a relative dockerfile outside the context",
      { dockerfile: "../Dockerfile" },
      'dockerfile "../Dockerfile" is outside the context "apps/backend-api" (a relative dockerfile is resolved against the context; give an absolute path for a Dockerfile elsewhere)',
    ],
    [
      "an empty dockerfile",
      { dockerfile: "" },
      'dockerfile is empty; leave it out for "<context>/Dockerfile"',
    ],
    ["keepImages 0", { keepImages: 0 }, "keepImages must be a whole number from 1 to 1000, found 0"],
    ["keepImages 1001", { keepImages: 1001 }, "keepImages must be a whole number from 1 to 1000, found 1001"],
    [
      "fractional keepImages",
      { keepImages: 2.5 },
      "keepImages must be a whole number from 1 to 1000, found 2.5",
    ],
    [
      "untaggedExpiryDays 0",
      { untaggedExpiryDays: 0 },
      "untaggedExpiryDays must be a whole number from 1 to 365, found 0",
    ],
    [
      "an uppercase repository",
      { repositoryName: "Fintech/API" },
      'repositoryName must be 2 to 256 characters of lowercase path segments such as "fintech/backend-api", found "Fintech/API"',
    ],
    [
      "a latest tag",
      { imageTag: "latest" },
      'imageTag "latest" is not reproducible; give a version such as "2.3.0"',
    ],
    ["a bad tag", { imageTag: "v 1" }, 'imageTag must be a Docker tag such as "2.3.0", found "v 1"'],
    [
      "a secret build arg",
      { buildArgs: { NPM_TOKEN: "x" } },
      "buildArgs.NPM_TOKEN looks like a credential; build arguments stay in the image history and in Pulumi state",
    ],
    [
      "a bad build arg name",
      { buildArgs: { "NODE-VERSION": "20" } },
      'buildArgs: "NODE-VERSION" is not a valid build argument name',
    ],
    [
      "an unknown platform",
      { platform: "windows/amd64" as ContainerImageArgs["platform"] },
      'platform must be "linux/amd64" or "linux/arm64", found "windows/amd64"',
    ],
    [
      "an unknown registry",
      { registry: "ghcr" as ContainerImageArgs["registry"] },
      'registry must be "ecr" or "none", found "ghcr"',
    ],
    [
      "an aws: tag",
      { tags: { "aws:owner": "x" } },
      'tags: "aws:owner" is not a usable AWS tag key (1 to 128 characters, not starting with "aws:")',
    ],
    [
      "a short digest pin",
      { pinnedDigest: "sha256:abc" },
      'pinnedDigest "sha256:abc" is not a sha256 digest of 64 hex digits',
    ],
  ])("%s", (_label, overrides, problem) => {
    expect(rejection({ ...ARGS, ...overrides })).toBe(
      `ContainerImage "img": invalid arguments (1):\n  - ${problem}`,
    );
  });

  it("accepts a Dockerfile in a subdirectory of the context, and an absolute one anywhere", () => {
    expect(containerImageProblems({ ...ARGS, dockerfile: "./build/../docker/Dockerfile" })).toEqual([]);
    expect(containerImageProblems({ ...ARGS, dockerfile: "/srv/shared/Dockerfile" })).toEqual([]);
  });

  it("lists every problem at once and registers nothing", async () => {
    const attempt = runProgram(
      () => new ContainerImage("img", { ...ARGS, context: "", keepImages: -1, imageTag: "latest" }),
    );
    await expect(attempt).rejects.toThrow(
      [
        'ContainerImage "img": invalid arguments (3):',
        '  - imageTag "latest" is not reproducible; give a version such as "2.3.0"',
        '  - context is empty; give the build context directory, such as "apps/backend-api"',
        "  - keepImages must be a whole number from 1 to 1000, found -1",
      ].join("\n"),
    );
    const recorded: RunResult["resources"] = [];
    await attempt.catch((e: { recorded?: RunResult["resources"] }) => recorded.push(...(e.recorded ?? [])));
    expect(recorded.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
  });
});

const SERVICE: MicroServiceArgs = {
  namespace: "fintech",
  platform: "fintech",
  stage: "production",
  image: "placeholder",
  port: 3000,
  protocol: "http",
  replicas: { min: 2, max: 4 },
  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  migration: { command: ["node", "dist/migrate.js"] },
};

describe("MicroService fed a built image", () => {
  it("runs the pushed digest: Deployment and migration Job use <repositoryUrl>@<digest>, version label = digest prefix", async () => {
    const run = await runProgram(() => {
      const image = new ContainerImage("backend-api-image", ARGS);
      new MicroService("backend-api", { ...SERVICE, image: image.imageRef }, onCluster());
      return { imageRef: image.imageRef };
    });
    const ref = run.outputs.imageRef as string;
    const digest = byType(run, T.image)[0]?.state.digest as string;
    expect(ref).toBe(`${REPO_URL}@${digest}`);
    const deployment = byName(run, T.deployment, "backend-api-deploy");
    const spec = deployment.inputs.spec as k8s.types.output.apps.v1.DeploymentSpec;
    expect(spec.template.spec.containers[0]?.image).toBe(ref);
    expect(spec.template.metadata.labels["app.kubernetes.io/version"]).toBe(digest.slice(7, 19));
    // The workload waits for the build (its image is the build's output).
    expect(deployment.dependencies).toContain(byType(run, T.image)[0]?.urn);
    const job = byType(run, "kubernetes:batch/v1:Job")[0];
    const jobSpec = job?.inputs.spec as k8s.types.output.batch.v1.JobSpec;
    expect(jobSpec.template.spec.containers[0]?.image).toBe(ref);
    expect((job?.inputs.metadata as { name: string }).name).toMatch(/^backend-api-migrate-[0-9a-f]{8}$/);
    await validateKubernetesObject({ apiVersion: "apps/v1", kind: "Deployment", ...deployment.inputs });
  });

  it("a local build runs the local tag", async () => {
    const run = await runProgram(() => {
      const image = new ContainerImage("backend-api-image", { ...ARGS, registry: "none" });
      new MicroService("backend-api", { ...SERVICE, stage: "local", image: image.imageRef }, onCluster());
    });
    const spec = byType(run, T.deployment)[0]?.inputs.spec as k8s.types.output.apps.v1.DeploymentSpec;
    expect(spec.template.spec.containers[0]?.image).toBe("fintech/backend-api:2.4.0");
  });

  it("an Output that resolves to a bad reference fails with the construction message before any child registers", async () => {
    for (const [ref, message] of [
      [
        "ghcr.io/acme/api:latest",
        'image "ghcr.io/acme/api:latest" is not reproducible; pin a version or a digest',
      ],
      ["", "image is empty"],
    ] as const) {
      const error = (await runProgram(() => {
        new MicroService(
          "backend-api",
          { ...SERVICE, image: pulumi.output(Promise.resolve(ref)) },
          onCluster(),
        );
      }).catch((e: unknown) => e)) as Error & { recorded: RecordedResource[] };
      expect(error).toBeInstanceOf(ComponentArgsError);
      expect(error.message).toContain('MicroService "backend-api": invalid arguments (1):\n  - ' + message);
      // The SDK's serialization wrapper never sees the value: the children wait for the check.
      expect(error.message).not.toContain("serializing");
      expect(error.recorded.filter((r) => r.parent.includes("MicroService"))).toEqual([]);
    }
    const run = await runProgram(() => {
      new MicroService(
        "backend-api",
        { ...SERVICE, image: pulumi.output(` ${REPO_URL}@sha256:${"a".repeat(64)} `) },
        onCluster(),
      );
    });
    const spec = byType(run, T.deployment)[0]?.inputs.spec as k8s.types.output.apps.v1.DeploymentSpec;
    expect(spec.template.spec.containers[0]?.image).toBe(`${REPO_URL}@sha256:${"a".repeat(64)}`);
  });

  it("a plain bad string is still rejected before anything is created", () => {
    expect(() => new MicroService("backend-api", { ...SERVICE, image: "" }, STAND_IN_KUBERNETES)).toThrow(
      'MicroService "backend-api": invalid arguments (1):\n  - image is empty; give a pinned reference such as ghcr.io/acme/api:1.4.2 or ghcr.io/acme/api@sha256:<digest>',
    );
  });
});

/** The fintech catalog with backend-api built from source (the shipped catalogs use published images). */
function fintechWithBuild(
  build: { context: string; dockerfile?: string } = { context: "apps/backend-api" },
): CatalogInput {
  const copy = structuredClone(fintech);
  copy.services = copy.services.map((s) =>
    s.name === "backend-api"
      ? { ...s, image: { repository: "fintech/backend-api", tag: "2.4.0" }, build }
      : s,
  );
  return copy;
}

describe("catalog specs with build", () => {
  it("validate the context (relative, inside the repository) and refuse a digest as the push tag", () => {
    expect(() => loadCatalog(fintechWithBuild())).not.toThrow();
    expect(() => loadCatalog(fintechWithBuild({ context: "../elsewhere" }))).toThrow(
      'service "backend-api" build.context: a directory relative to the repository root, inside it, such as "apps/backend-api" (found "../elsewhere")',
    );
    const digestTag = fintechWithBuild();
    digestTag.services = digestTag.services.map((s) =>
      s.name === "backend-api"
        ? { ...s, image: { repository: "fintech/backend-api", tag: `sha256:${"a".repeat(64)}` } }
        : s,
    );
    expect(() => loadCatalog(digestTag)).toThrow(
      'service "backend-api" image.tag: a tag to push the build under, not a digest (pin a built digest with the stack\'s imageTag override instead)',
    );
  });

  it("plan: the build publishes under the catalog tag, a tag override retags it, a digest override pins it", () => {
    const catalog = loadCatalog(
      fintechWithBuild({ context: "apps/backend-api", dockerfile: "Dockerfile.prod" }),
    );
    const plan = (services: Record<string, unknown>) => {
      const { settings } = resolveSettings({
        project: "platform",
        stack: "local",
        values: {
          "platform:stage": "local",
          "platform:catalogs": '["fintech"]',
          "platform:services": JSON.stringify(services),
        },
        secretKeys: new Set(),
      });
      return planCatalog(settings, catalog).services.find((s) => s.spec.name === "backend-api")?.build;
    };
    expect(plan({})).toEqual({
      repositoryName: "fintech/backend-api",
      imageTag: "2.4.0",
      context: "apps/backend-api",
      dockerfile: "Dockerfile.prod",
    });
    expect(plan({ "fintech/backend-api": { imageTag: "2.4.1" } })?.imageTag).toBe("2.4.1");
    const pinned = `sha256:${"d".repeat(64)}`;
    expect(plan({ "fintech/backend-api": { imageTag: pinned } })).toMatchObject({
      imageTag: "2.4.0",
      pinnedDigest: pinned,
    });
  });
});

describe("the program builds catalog services that give a build context", () => {
  it("production: one ContainerImage on ECR for backend-api, whose Deployment runs the pushed digest", async () => {
    const run = await runStack("production", { catalogs: { fintech: fintechWithBuild() } });
    const images = byType(run, T.component);
    expect(images.map((i) => i.name)).toEqual(["fintech-backend-api-image"]);
    const repo = byType(run, T.repository);
    expect(repo).toHaveLength(1);
    expect(repo[0]?.inputs).toMatchObject({ name: "fintech/backend-api", imageTagMutability: "IMMUTABLE" });
    // The production profile protects stateful resources; the repository holds every pushed image.
    expect(repo[0]?.protect).toBe(true);
    const build = byType(run, T.image)[0];
    expect(build?.inputs).toMatchObject({
      push: true,
      tags: [`${REPO_URL}:2.4.0`],
      context: { location: "apps/backend-api" },
    });
    const digest = build?.state.digest as string;
    expect(digest).toMatch(DIGEST_RE);
    const deployment = byName(run, T.deployment, "fintech-backend-api-deploy");
    const spec = deployment.inputs.spec as k8s.types.output.apps.v1.DeploymentSpec;
    expect(spec.template.spec.containers[0]?.image).toBe(`${REPO_URL}@${digest}`);
    expect(deployment.dependencies).toContain(build?.urn);
    // The other services keep their published images.
    const risk = byName(run, T.deployment, "fintech-python-risk-engine-deploy");
    expect(
      (risk.inputs.spec as k8s.types.output.apps.v1.DeploymentSpec).template.spec.containers[0]?.image,
    ).toBe("ghcr.io/acme-fintech/python-risk-engine:2.3.0");
  });

  it("production with a digest override: the repository stays, nothing is built, the pinned digest runs", async () => {
    const pinned = `sha256:${"e".repeat(64)}`;
    const run = await runStack("production", {
      catalogs: { fintech: fintechWithBuild() },
      config: { "platform:services": { "fintech/backend-api": { imageTag: pinned } } },
    });
    expect(byType(run, T.repository)).toHaveLength(1);
    expect(byType(run, T.image)).toHaveLength(0);
    const spec = byName(run, T.deployment, "fintech-backend-api-deploy").inputs
      .spec as k8s.types.output.apps.v1.DeploymentSpec;
    expect(spec.template.spec.containers[0]?.image).toBe(`${REPO_URL}@${pinned}`);
  });

  it("local: builds into the local daemon, no registry, and the workload runs the local tag", async () => {
    const run = await runStack("local", { catalogs: { fintech: fintechWithBuild() } });
    expect(byType(run, T.repository)).toHaveLength(0);
    const build = byType(run, T.image);
    expect(build.map((b) => b.inputs.push)).toEqual([false]);
    const spec = byName(run, T.deployment, "fintech-backend-api-deploy").inputs
      .spec as k8s.types.output.apps.v1.DeploymentSpec;
    expect(spec.template.spec.containers[0]?.image).toBe("fintech/backend-api:2.4.0");
  });

  it("the shipped catalogs build nothing", async () => {
    const run = await runStack("production");
    expect(byType(run, T.component)).toEqual([]);
    expect(byType(run, T.image)).toEqual([]);
  });
});
