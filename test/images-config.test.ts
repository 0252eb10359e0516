/**
 * `platform:images` reaches the pods: a stack that pins every data-service role runs, in every data
 * store's server, bootstrap Job, CloudNativePG Cluster and the gateway's rate-limit Redis, exactly the
 * pin of the role whose default it ran before, as the same user. Checked on the three stack shapes
 * that together use every role (the digests are synthetic: test/image-pins.ts). The render traces each
 * image back to its key (pinKeysOf), and docs/delivery.md's pinning commands match production's
 * tag-only images one for one.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { IMAGE_ROLES, IMAGE_ROLE_NAMES, type ImageRole } from "../config/images";
import { imageUses, pinKeysOf } from "../scripts/images";
import { everyRolePinned } from "./image-pins";
import { REPO_ROOT, reveal, runStack, type RunResult } from "./harness";

const POD_SPEC_PATHS: Record<string, string[]> = {
  "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
  "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
  "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
};
const CNPG_CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster";

interface PodSpec {
  securityContext?: { runAsUser?: number };
  containers: { name: string; image: string; securityContext?: { runAsUser?: number } }[];
}

/** `Kind name/container` → image and user, for every workload that runs a role's image (data stores and their Jobs). */
function dataStoreImages(run: RunResult, roleImages: ReadonlySet<string>): Record<string, string> {
  const found: Record<string, string> = {};
  for (const r of run.resources) {
    const inputs = reveal(r.inputs) as Record<string, unknown>;
    if (r.type === CNPG_CLUSTER) {
      const image = (inputs.spec as { imageName: string }).imageName;
      found[`Cluster ${r.name}`] = image;
      continue;
    }
    const path = POD_SPEC_PATHS[r.type];
    if (!path) continue;
    const pod = path.reduce<unknown>(
      (node, key) => (node as Record<string, unknown>)[key],
      inputs,
    ) as PodSpec;
    for (const c of pod.containers) {
      if (!roleImages.has(c.image.split("@")[0] ?? "")) continue;
      const user = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
      found[`${r.type.split(":").pop()} ${r.name}/${c.name}`] = `${c.image} as ${user}`;
    }
  }
  return found;
}

const pins = everyRolePinned();
const defaults = new Map<string, ImageRole>(
  IMAGE_ROLE_NAMES.flatMap((role) => IMAGE_ROLES[role].defaults.map((d): [string, ImageRole] => [d, role])),
);
/** The pinned run's expected value: each default image replaced by its role's pin, the user unchanged. */
const pinnedExpectation = (unpinned: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(unpinned).map(([where, value]) => {
      const [image = "", ...rest] = value.split(" ");
      const role = defaults.get(image);
      return [where, [role ? pins[role] : `no role for ${image}`, ...rest].join(" ")];
    }),
  );
const rolesIn = (images: Record<string, string>) =>
  [...new Set(Object.values(images).map((v) => defaults.get(v.split(" ")[0] ?? "")))].sort();

// Every role's default and pin repository, matched without tag or digest.
const roleRepositories = new Set([
  ...defaults.keys(),
  ...Object.values(pins).map((p) => p.split("@")[0] ?? ""),
]);

const VARIANTS: { stack: string; shape: string; config: Record<string, unknown>; roles: ImageRole[] }[] = [
  {
    stack: "production",
    shape: "RDS, ElastiCache and Amazon MQ bootstraps, TimescaleDB on CloudNativePG, the gateway's Redis",
    config: {},
    roles: ["cloudnativepgTimescaledb", "curl", "postgres", "redis"],
  },
  {
    stack: "staging",
    shape: "PostgreSQL without TimescaleDB on CloudNativePG, Valkey caches",
    config: {
      "platform:database": {
        byCatalog: { trading: { backend: "inCluster" }, fintech: { backend: "inCluster" } },
      },
      "platform:cache": { engine: "valkey" },
    },
    roles: ["cloudnativepg", "cloudnativepgTimescaledb", "curl", "postgres", "redis", "valkey"],
  },
  {
    stack: "local",
    shape: "StatefulSets: PostgreSQL, TimescaleDB (UID 70), Redis, RabbitMQ",
    // Without the local stack's omitExtensions the trading database runs the TimescaleDB image.
    config: { "platform:database": undefined },
    roles: ["curl", "postgres", "rabbitmq", "redis", "timescaledb"],
  },
];

describe.each(VARIANTS)("platform:images on $stack ($shape)", ({ stack, config, roles }) => {
  it("replaces each role's default by its pin in every pod spec and Cluster, as the same user", async () => {
    const before = dataStoreImages(await runStack(stack, { config }), roleRepositories);
    expect(rolesIn(before)).toEqual(roles);
    const after = dataStoreImages(
      await runStack(stack, { config: { ...config, "platform:images": pins } }),
      roleRepositories,
    );
    expect(after).toEqual(pinnedExpectation(before));
    // The pins are digests: nothing the roles run is left tag-only.
    expect(Object.values(after).filter((v) => !v.includes("@sha256:"))).toEqual([]);
  });
});

describe("the TimescaleDB StatefulSet keeps its postgres user when pinned", () => {
  it("runs the pinned timescale/timescaledb image as UID 70, not the 999 of an arbitrary override", async () => {
    const run = await runStack("local", {
      config: { "platform:database": undefined, "platform:images": pins },
    });
    const images = dataStoreImages(run, roleRepositories);
    expect(images["StatefulSet trading-postgres/postgres"]).toBe(`${pins.timescaledb} as 70`);
  });
});

describe("pinKeysOf: the config key that sets an image", () => {
  it("names the role for its defaults, a value the stack gives it, and a catalog service's repository", () => {
    expect(pinKeysOf("postgres:15.14-bookworm")).toEqual(["platform:images.postgres"]);
    expect(pinKeysOf("docker.io/library/redis:8.0.0-alpine")).toEqual(["platform:images.redis"]);
    expect(pinKeysOf("timescale/timescaledb-ha:pg15.14-ts2.21.3")).toEqual([
      "platform:images.cloudnativepgTimescaledb",
    ]);
    const mirror = "registry.example.com/mirror/curl:8.16.0";
    expect(pinKeysOf(mirror)).toEqual([]);
    expect(pinKeysOf(mirror, { curl: mirror })).toEqual(["platform:images.curl"]);
    expect(pinKeysOf("ghcr.io/acme-fintech/backend-api:2.3.0")).toEqual([
      "platform:services.fintech/backend-api.imageTag",
    ]);
  });
});

describe("docs/delivery.md pins exactly what holds production back", () => {
  it("has one `pulumi config set` per tag-only production image that has a config key, with its key and its reviewed tag", async () => {
    const run = await runStack("production");
    const unpinned = imageUses(
      run.resources.map((r) => ({ type: r.type, name: r.name, inputs: reveal(r.inputs) })),
    ).filter((u) => !u.pinned);
    // The charts' images have no config key: only the image lock pins them.
    const keyless = unpinned.filter((u) => u.pinKeys.length === 0);
    expect(keyless.length).toBeGreaterThan(0);
    for (const u of keyless)
      expect(
        u.usedBy.every((w) => w.startsWith("Release ")),
        u.image,
      ).toBe(true);
    const expected = unpinned
      .filter((u) => u.pinKeys.length > 0)
      .map((u) => {
        expect(u.pinKeys, u.image).toHaveLength(1);
        const key = u.pinKeys[0] ?? "";
        return `${key} ${key.startsWith("platform:images.") ? `${u.image}@sha256:<digest>` : "sha256:<digest>"}`;
      })
      .sort();
    const doc = readFileSync(path.join(REPO_ROOT, "docs/delivery.md"), "utf8");
    const commands = [
      ...doc.matchAll(/^pulumi config set --stack production --path '([^']+)' '([^']+)'$/gm),
    ].map(
      ([, key = "", value]) =>
        `${key.replace(/^platform:services\["([^"]+)"\]/, "platform:services.$1")} ${value}`,
    );
    expect(commands.sort()).toEqual(expected);
  });
});
