/**
 * The image lock's parts without a registry: how a Docker Hub reference is asked for (host,
 * `library/`, Accept, the bearer challenge answered), how each chart style carries a digest, how a
 * lock file is judged, and how the program pins the images of each kind of resource. The real
 * registry proof is test/image-lock-registry.test.ts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { chartImagesOf, chartImageValues, chartNameOf, pinChartImages } from "../components/chart-images";
import { imagesInResource, pinResourceImages, readImageLock } from "../config/image-lock";
import { lockDiff } from "../scripts/image-lock/lock";
import {
  apiHost,
  MANIFEST_MEDIA_TYPES,
  parseChallenge,
  RegistryClient,
} from "../scripts/image-lock/registry";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

describe("asking a registry", () => {
  it("sends Docker Hub references to registry-1.docker.io with library/, unless a mirror is given", () => {
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("ghcr.io")).toBe("ghcr.io");
    expect(apiHost("docker.io", { "docker.io": "mirror.example:5000" })).toBe("mirror.example:5000");
    expect(apiHost("quay.io", { "*": "127.0.0.1:5000" })).toBe("127.0.0.1:5000");
  });

  it("parses the bearer challenge registries send", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/redis:pull",
      },
    });
  });

  it("answers a 401 with an anonymous token from the realm, then HEADs with every manifest type accepted", async () => {
    const calls: { url: string; method: string; headers: Record<string, string> }[] = [];
    const respond = (input: string | URL, init?: RequestInit): Response => {
      const url = String(input);
      const headers = (init?.headers ?? {}) as Record<string, string>;
      calls.push({ url, method: init?.method ?? "GET", headers });
      if (url.startsWith("https://auth.docker.io/token"))
        return new Response(JSON.stringify({ token: "anon" }), { status: 200 });
      if (!headers.Authorization)
        return new Response(null, {
          status: 401,
          headers: {
            "www-authenticate":
              'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull"',
          },
        });
      return new Response(null, {
        status: 200,
        headers: {
          "docker-content-digest": D1,
          "content-type": "application/vnd.docker.distribution.manifest.v2+json",
        },
      });
    };
    const fakeFetch = ((input: string | URL, init?: RequestInit) =>
      Promise.resolve(respond(input, init))) as typeof fetch;
    const resolved = await new RegistryClient({ fetch: fakeFetch }).resolve("redis:7.4.5-alpine");
    expect(resolved).toEqual({
      repository: "docker.io/library/redis",
      tag: "7.4.5-alpine",
      digest: D1,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      platforms: ["single manifest"],
    });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "HEAD https://registry-1.docker.io/v2/library/redis/manifests/7.4.5-alpine",
      "GET https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fredis%3Apull",
      "HEAD https://registry-1.docker.io/v2/library/redis/manifests/7.4.5-alpine",
    ]);
    expect(calls[0]?.headers.Accept?.split(", ")).toEqual([...MANIFEST_MEDIA_TYPES]);
    expect(calls[2]?.headers.Authorization).toBe("Bearer anon");
  });

  it("refuses a token realm over plain http from a registry asked over https", async () => {
    const fakeFetch = (() =>
      Promise.resolve(
        new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Bearer realm="http://evil.example/token",service="x"' },
        }),
      )) as unknown as typeof fetch;
    await expect(
      new RegistryClient({ fetch: fakeFetch }).resolve("ghcr.io/acme-shop/api:1.0.0"),
    ).rejects.toThrow(
      "ghcr.io/acme-shop/api: the registry's token realm http://evil.example is not https; refusing to fetch a token over plain http",
    );
  });
});

describe("chart image slots", () => {
  it("names charts however a Release gives them", () => {
    expect(chartNameOf("oci://docker.io/envoyproxy/gateway-helm")).toBe("gateway-helm");
    expect(chartNameOf("./charts/cluster-autoscaler-9.50.0.tgz")).toBe("cluster-autoscaler");
    expect(chartNameOf("/cache/cert-manager/deploy/charts/cert-manager/")).toBe("cert-manager");
  });

  it("carries a digest in each chart's own way", () => {
    const digestOf = () => D1;
    const hex = D1.slice("sha256:".length);
    expect(pinChartImages("cert-manager", chartImageValues("cert-manager"), digestOf).webhook).toEqual({
      image: { repository: "quay.io/jetstack/cert-manager-webhook", tag: "v1.21.2", digest: D1 },
    });
    expect(
      (
        pinChartImages("gateway-helm", chartImageValues("gateway-helm"), digestOf).global as {
          images: { ratelimit: { image: string } };
        }
      ).images.ratelimit.image,
    ).toBe(`docker.io/envoyproxy/ratelimit:8fe6ea42@${D1}`);
    expect(pinChartImages("cloudnative-pg", chartImageValues("cloudnative-pg"), digestOf).image).toEqual({
      repository: "ghcr.io/cloudnative-pg/cloudnative-pg",
      tag: `1.27.1@${D1}`,
    });
    const kps = {
      prometheus: {
        prometheusSpec: {
          image: { registry: "quay.io", repository: "prometheus/prometheus", tag: "v3.13.1" },
        },
      },
    };
    const pinned = pinChartImages("kube-prometheus-stack", kps, digestOf);
    expect(pinned.prometheus).toEqual({
      prometheusSpec: {
        image: { registry: "quay.io", repository: "prometheus/prometheus", tag: "v3.13.1", sha: hex },
      },
    });
    // Read back, every style yields the same image and digest.
    expect(chartImagesOf("kube-prometheus-stack", pinned).find((i) => i.image)).toMatchObject({
      image: "quay.io/prometheus/prometheus:v3.13.1",
      digest: D1,
    });
  });
});

describe("a lock file", () => {
  it("is refused with every problem, naming the file and the entry", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lock-file-"));
    const file = path.join(dir, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        stack: "production",
        images: { "a:1": { digest: "sha256:abc" }, [`b:1@${D1}`]: { digest: D1 } },
      }),
    );
    process.env.PLATFORM_IMAGE_LOCK = file;
    try {
      expect(() => readImageLock("production", dir)).toThrow(
        [
          "Invalid image lock (3 problems); nothing was created:",
          `  - ${file}: version: expected 1, found 2`,
          `  - ${file}: images["a:1"].digest: expected "sha256:" and 64 hex digits, found "sha256:abc"`,
          `  - ${file}: images["b:1@${D1}"]: the key is a tag reference, without a digest`,
        ].join("\n"),
      );
    } finally {
      delete process.env.PLATFORM_IMAGE_LOCK;
    }
    expect(readImageLock("production", dir)).toBeUndefined();
  });

  it("diffs to the entries whose digest changed, came or went", () => {
    const entry = (digest: string) => ({
      repository: "r",
      tag: "t",
      digest,
      mediaType: "m",
      platforms: [],
      resolvedAt: "2026-01-01T00:00:00.000Z",
    });
    const before = {
      version: 1 as const,
      stack: "s",
      images: { "a:1": entry(D1), "b:1": entry(D1), "c:1": entry(D1) },
    };
    const after = {
      version: 1 as const,
      stack: "s",
      images: { "a:1": entry(D1), "b:1": entry(D2), "d:1": entry(D2) },
    };
    expect(lockDiff(before, after)).toEqual([
      { image: "b:1", old: D1, new: D2 },
      { image: "c:1", old: D1 },
      { image: "d:1", new: D2 },
    ]);
  });
});

describe("pinning a resource's images", () => {
  const digestOf = (image: string) => (image === "redis:7" ? D1 : undefined);

  it("pins containers, init containers and the config reloader flag, and leaves unknown or pinned images alone", () => {
    const job = {
      spec: {
        template: {
          spec: {
            initContainers: [{ name: "wait", image: "redis:7" }],
            containers: [
              { name: "a", image: "redis:7", args: ["--prometheus-config-reloader=redis:7", "--x"] },
              { name: "b", image: "other:1" },
              { name: "c", image: `redis:7@${D2}` },
            ],
          },
        },
      },
    };
    const pinned = pinResourceImages("kubernetes:batch/v1:Job", job, digestOf);
    expect(imagesInResource("kubernetes:batch/v1:Job", pinned)).toEqual([
      { image: "redis:7", digest: D1, where: 'container "wait"' },
      { image: "redis:7", digest: D1, where: 'container "a"' },
      { image: "redis:7", digest: D1, where: 'container "a" --prometheus-config-reloader=' },
      { image: "other:1", where: 'container "b"' },
      { image: "redis:7", digest: D2, where: 'container "c"' },
    ]);
    expect(job.spec.template.spec.containers[0]?.image).toBe("redis:7"); // the input is not edited
    expect(pinResourceImages("kubernetes:batch/v1:Job", pinned, digestOf)).toBe(pinned);
  });

  it("pins the CloudNativePG Cluster's imageName", () => {
    const cluster = { spec: { imageName: "redis:7", instances: 3 } };
    expect(pinResourceImages("kubernetes:postgresql.cnpg.io/v1:Cluster", cluster, digestOf)).toEqual({
      spec: { imageName: `redis:7@${D1}`, instances: 3 },
    });
  });
});
