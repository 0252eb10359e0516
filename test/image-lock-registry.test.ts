/**
 * The image lock against a real registry: distribution v3 (the reference OCI registry, built from its
 * Go module by scripts/install-registry.sh) on a random localhost port, with filesystem storage and
 * token authentication, so every request takes the bearer-token flow ghcr.io and Docker Hub use: a
 * 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, a token from the realm, the request
 * again. The token service is written here (a few lines: the registry trusts its certificate);
 * images are pushed with crane (go-containerregistry), and crane's own `digest` is the expected value.
 *
 * The production stack is locked against it with every registry mirrored to it, then one image is
 * changed: `--check` must find exactly that one stale, the re-lock must change exactly that entry,
 * and the program must deploy `tag@digest` from the lock everywhere an image is named (workloads,
 * the CloudNativePG Cluster, every chart slot). An image missing from the registry fails the lock,
 * naming it, and nothing is written.
 *
 * Skipped, with the reason, when the tools cannot be built (no Go, no module proxy) unless
 * PLATFORM_REQUIRE_REGISTRY=1 (CI) makes that a failure.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imagesInResource, serializeImageLock, type ImageLock } from "../config/image-lock";
import { lockDiff, lockProblems, lockStack, type StackImage } from "../scripts/image-lock/lock";
import { renderStackImages } from "../scripts/image-lock/cli";
import { RegistryClient } from "../scripts/image-lock/registry";
import { REPO_ROOT, runStack } from "./harness";

const required = process.env.PLATFORM_REQUIRE_REGISTRY === "1";
const install = spawnSync("bash", [path.join(REPO_ROOT, "scripts/install-registry.sh")], {
  encoding: "utf8",
  timeout: 900_000,
});
const [registryBin = "", crane = ""] = install.status === 0 ? install.stdout.trim().split("\n") : [];
const haveTools = install.status === 0 && existsSync(registryBin) && existsSync(crane);
const why = `the registry or crane could not be built (scripts/install-registry.sh):\n${install.stderr}`;
if (!haveTools && !required) console.warn(`skipping: ${why}`);

let work = "";
let registry: ChildProcess | undefined;
let tokenServer: ChildProcess | undefined;
let tokenLog = "";
let host = "";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A token service as distribution's token auth expects: ES256 JWTs granting the scopes asked for,
 * signed by a key whose certificate (in the `x5c` header) the registry trusts. It runs as its own
 * process, so that this one can block on a child (the CLI) without starving it; it logs each
 * request's query to `log`.
 */
const TOKEN_SERVER = `
const { createServer } = require("node:http");
const { createHash, createPrivateKey, sign } = require("node:crypto");
const { appendFileSync, readFileSync } = require("node:fs");
const [keyFile, certDerB64, service, log] = process.argv.slice(1);
const key = createPrivateKey(readFileSync(keyFile, "utf8"));
const b64url = (b) => Buffer.from(b).toString("base64url");
const server = createServer((req, res) => {
  const url = new URL(req.url || "/", "http://x");
  appendFileSync(log, url.search + "\\n");
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "ES256", typ: "JWT", x5c: [certDerB64] };
  const claims = {
    iss: "lock-test-issuer", sub: "anonymous", aud: url.searchParams.get("service") || service,
    exp: now + 300, nbf: now - 10, iat: now,
    jti: createHash("sha256").update(String(now) + Math.random()).digest("hex"),
    access: url.searchParams.getAll("scope").flatMap((s) => {
      const [type, name, actions] = s.split(":");
      return type && name && actions ? [{ type, name, actions: actions.split(",") }] : [];
    }),
  };
  const input = b64url(JSON.stringify(header)) + "." + b64url(JSON.stringify(claims));
  const signature = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ token: input + "." + b64url(signature) }));
});
server.listen(0, "localhost", () => console.log(server.address().port));
`;

function startTokenServer(keyFile: string, certDer: Buffer, service: string): Promise<number> {
  tokenLog = path.join(work, "token-requests.log");
  writeFileSync(tokenLog, "");
  tokenServer = spawn(
    process.execPath,
    ["-e", TOKEN_SERVER, keyFile, certDer.toString("base64"), service, tokenLog],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    tokenServer!.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    tokenServer!.once("exit", (code) => reject(new Error(`the token service exited (${code})`)));
  });
}

const tokenRequests = (): string[] => readFileSync(tokenLog, "utf8").split("\n").filter(Boolean);

async function startRegistry(): Promise<void> {
  work = mkdtempSync(path.join(tmpdir(), "image-lock-registry-"));
  const keyFile = path.join(work, "token.key");
  const certFile = path.join(work, "token.crt");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=lock-test-token",
  ], { stdio: "ignore" }); // prettier-ignore
  const certDer = execFileSync("openssl", ["x509", "-in", certFile, "-outform", "DER"]);
  const service = "lock-test-registry";
  const tokenPort = await startTokenServer(keyFile, certDer, service);
  const port = await freePort();
  host = `127.0.0.1:${port}`;
  const config = path.join(work, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log: { level: error }",
      `storage: { filesystem: { rootdirectory: ${path.join(work, "data")} }, delete: { enabled: true } }`,
      `http: { addr: ${host} }`,
      "auth:",
      "  token:",
      `    realm: http://localhost:${tokenPort}/token`,
      `    service: ${service}`,
      "    issuer: lock-test-issuer",
      `    rootcertbundle: ${certFile}`,
      "",
    ].join("\n"),
  );
  registry = spawn(registryBin, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  registry.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.status === 401,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the registry did not answer on ${host}:\n${stderr}`);
}

/** The path an image has in the local registry: its repository under the mirror (docker.io/library kept). */
function localRef(image: string): string {
  const noDigest = image.split("@")[0]!;
  const [first = "", ...rest] = noDigest.split("/");
  const hasRegistry = rest.length > 0 && (/[.:]/.test(first) || first === "localhost");
  const pathPart = hasRegistry ? rest.join("/") : noDigest;
  const withLibrary = !hasRegistry && !pathPart.includes("/") ? `library/${pathPart}` : pathPart;
  return `${host}/${withLibrary}`;
}

/**
 * crane, asynchronously: the token service runs in this process, so a blocking call would deadlock.
 */
async function craneRun(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(crane, args, { encoding: "utf8", timeout: 60_000 });
  return stdout.trim();
}

/** Pushes a one-layer image whose content is `content`; returns crane's digest of it. */
async function pushImage(image: string, content: string): Promise<string> {
  const dir = mkdtempSync(path.join(work, "layer-"));
  writeFileSync(path.join(dir, "content.txt"), content);
  const tar = path.join(dir, "layer.tar");
  execFileSync("tar", ["-cf", tar, "-C", dir, "content.txt"]);
  const ref = localRef(image);
  await craneRun("append", "--oci-empty-base", "-f", tar, "-t", ref);
  return craneRun("digest", ref);
}

/** Pushes an index of two platform images under `image`; returns crane's digest of the index. */
async function pushIndex(image: string, content: string): Promise<string> {
  const ref = localRef(image);
  const manifests: string[] = [];
  for (const platform of ["linux/amd64", "linux/arm64"]) {
    const arch = platform.split("/")[1]!;
    await pushImage(`${image}-${arch}`, `${content} ${platform}`);
    await craneRun("mutate", `${ref}-${arch}`, "--set-platform", platform, "-t", `${ref}-${arch}`);
    manifests.push(`${ref}-${arch}`);
  }
  await craneRun("index", "append", ...manifests.flatMap((m) => ["-m", m]), "-t", ref);
  return craneRun("digest", ref);
}

const STACK = "production";
let images: StackImage[] = [];
const expected = new Map<string, string>();
const INDEX_IMAGE = "redis:7.4.5-alpine";
const client = () => new RegistryClient({ mirrors: { "*": host } });

describe.skipIf(!haveTools && !required)(
  "the image lock against a real registry (distribution v3, token auth)",
  () => {
    beforeAll(async () => {
      if (!haveTools) throw new Error(why);
      await startRegistry();
      images = await renderStackImages(STACK, REPO_ROOT);
      for (const { image } of images)
        expected.set(
          image,
          image === INDEX_IMAGE ? await pushIndex(image, image) : await pushImage(image, image),
        );
    }, 300_000);

    afterAll(() => {
      registry?.kill();
      tokenServer?.kill();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it("the stack's images include every kind: catalog services, data-service Jobs, the CloudNativePG image and every chart slot", () => {
      const names = images.map((i) => i.image);
      expect(names).toContain("ghcr.io/acme-shop/user-service:1.0.0");
      expect(names).toContain("timescale/timescaledb-ha:pg15.14-ts2.21.3");
      expect(images.find((i) => i.image === "timescale/timescaledb-ha:pg15.14-ts2.21.3")?.usedBy).toContain(
        "Cluster trading/trading-postgres",
      );
      expect(names).toContain("quay.io/jetstack/cert-manager-webhook:v1.21.2");
      expect(names).toContain("docker.io/envoyproxy/ratelimit:8fe6ea42");
      expect(names).toContain("quay.io/prometheus/prometheus:v3.13.1");
      expect(names).toContain("ghcr.io/cloudnative-pg/cloudnative-pg:1.27.1");
      expect(names.some((n) => n.startsWith("registry.k8s.io/autoscaling/cluster-autoscaler:"))).toBe(true);
    });

    let lock: ImageLock;
    it("locks every image to the digest crane reports, through the bearer-token flow", async () => {
      const before = tokenRequests().length;
      lock = await lockStack(STACK, images, client(), undefined, new Date("2026-01-01T00:00:00Z"));
      expect(Object.keys(lock.images).sort()).toEqual(images.map((i) => i.image).sort());
      for (const [image, entry] of Object.entries(lock.images))
        expect(entry.digest, image).toBe(expected.get(image));
      expect(tokenRequests().length).toBeGreaterThan(before);
      expect(tokenRequests().at(-1)).toMatch(/scope=repository%3A[^&]+%3Apull/);
      const index = lock.images[INDEX_IMAGE]!;
      expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
      expect(index.platforms).toEqual(["linux/amd64", "linux/arm64"]);
      expect(index.repository).toBe("docker.io/library/redis");
      expect(lock.images["ghcr.io/acme-shop/user-service:1.0.0"]!.mediaType).toBe(
        "application/vnd.oci.image.manifest.v1+json",
      );
      expect(await lockProblems(STACK, lock, images, client())).toEqual([]);
    });

    it("a changed image: --check names exactly it as stale, and the re-lock changes exactly its entry", async () => {
      const changed = "ghcr.io/acme-fintech/backend-api:2.3.0";
      const newDigest = await pushImage(changed, `${changed} rebuilt`);
      expect(newDigest).not.toBe(expected.get(changed));
      const problems = await lockProblems(STACK, lock, images, client());
      expect(problems.filter((p) => p.startsWith("stale:"))).toEqual([
        `stale: ${changed} is locked at ${expected.get(changed)} but the registry now serves ${newDigest}`,
      ]);
      expect(problems).toHaveLength(2); // the stale entry and how to fix it
      const relocked = await lockStack(STACK, images, client(), lock, new Date("2026-02-01T00:00:00Z"));
      expect(lockDiff(lock, relocked)).toEqual([
        { image: changed, old: expected.get(changed), new: newDigest },
      ]);
      // Only the moved entry gets a new resolvedAt, so the file's diff is that entry alone.
      const before = serializeImageLock(lock).split("\n");
      const after = serializeImageLock(relocked).split("\n");
      const differing = after.filter((line, i) => line !== before[i]);
      expect(differing).toEqual([
        `      "digest": "${newDigest}",`,
        '      "resolvedAt": "2026-02-01T00:00:00.000Z",',
      ]);
      lock = relocked;
    });

    it("the program deploys every image as tag@digest from the lock: workloads, the CloudNativePG Cluster, chart values", async () => {
      const file = path.join(work, "production.lock.json");
      writeFileSync(file, serializeImageLock(lock));
      process.env.PLATFORM_IMAGE_LOCK = file;
      try {
        const run = await runStack(STACK);
        const found = run.resources.flatMap((r) => imagesInResource(r.type, r.inputs));
        expect(found.length).toBeGreaterThan(images.length);
        for (const f of found) expect(f.digest, `${f.image} (${f.where})`).toBe(lock.images[f.image]?.digest);
        const cluster = run.resources.find((r) => r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster")!;
        const cnpgImage = "timescale/timescaledb-ha:pg15.14-ts2.21.3";
        expect((cluster.inputs as { spec: { imageName: string } }).spec.imageName).toBe(
          `${cnpgImage}@${lock.images[cnpgImage]!.digest}`,
        );
        const certManager = run.resources.find(
          (r) =>
            r.type === "kubernetes:helm.sh/v3:Release" &&
            (r.inputs as { name: string }).name === "cert-manager",
        )!;
        const webhook = (certManager.inputs as { values: { webhook: { image: Record<string, string> } } })
          .values.webhook.image;
        expect(webhook).toEqual({
          repository: "quay.io/jetstack/cert-manager-webhook",
          tag: "v1.21.2",
          digest: lock.images["quay.io/jetstack/cert-manager-webhook:v1.21.2"]!.digest,
        });
        expect(run.warnings.filter((w) => w.includes("is not in the image lock"))).toEqual([]);
      } finally {
        delete process.env.PLATFORM_IMAGE_LOCK;
      }
    }, 120_000);

    it("an image missing from the registry fails the lock, naming it; nothing is returned", async () => {
      const missing: StackImage = { image: "ghcr.io/acme-shop/not-pushed:9.9.9", usedBy: ["Deployment x/y"] };
      await expect(lockStack(STACK, [...images, missing], client(), lock, new Date())).rejects.toThrow(
        `ghcr.io/acme-shop/not-pushed:9.9.9 (${host}/acme-shop/not-pushed:9.9.9): not found in the registry (no such repository or tag)`,
      );
    });

    it("the lock command writes the lock beside the stack file and --check passes, then fails on a missing image", async () => {
      const dir = path.join(work, "stackdir");
      mkdirSync(dir);
      writeFileSync(
        path.join(dir, `Pulumi.${STACK}.yaml`),
        readFileSync(path.join(REPO_ROOT, `Pulumi.${STACK}.yaml`)),
      );
      // Asynchronously: the token service answers from this process.
      const cli = (...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> =>
        new Promise((resolve) => {
          execFile(
            process.execPath,
            [
              path.join(REPO_ROOT, "node_modules/tsx/dist/cli.mjs"),
              path.join(REPO_ROOT, "scripts/image-lock/cli.ts"),
              ...["lock", "--stack", STACK, "--dir", dir, "--registry-mirror", `*=${host}`, ...args],
            ],
            { encoding: "utf8", cwd: REPO_ROOT, timeout: 120_000 },
            (error, stdout, stderr) =>
              resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          );
        });
      const locked = await cli();
      expect(locked.status, locked.stderr).toBe(0);
      const file = path.join(dir, `Pulumi.${STACK}.images.lock.json`);
      const written = JSON.parse(readFileSync(file, "utf8")) as ImageLock;
      expect(Object.keys(written.images)).toHaveLength(images.length);
      expect((await cli("--check")).status).toBe(0);
      delete written.images["ghcr.io/acme-shop/user-service:1.0.0"];
      writeFileSync(file, serializeImageLock(written));
      const check = await cli("--check", "--offline");
      expect(check.status).toBe(1);
      expect(check.stderr).toContain(
        "missing: ghcr.io/acme-shop/user-service:1.0.0 (run by Deployment ecommerce/user-service",
      );
      expect(check.stderr).toContain("run npm run images -- lock --stack production");
    }, 300_000);
  },
);
