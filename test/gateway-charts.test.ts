/**
 * The gateway against the upstream sources of the versions it pins, read from their Go modules
 * (test/upstream-charts.ts; scripts/go-module-source.sh fetches them):
 * - every Helm value IngressGateway sets, in the local, staging and production stacks, is a value the
 *   chart declares and its templates read (no unknown key, no key without effect), cert-manager's
 *   values pass the chart's values.schema.json, and the free-form `config` values decode into the Go
 *   types their controllers read, with no deprecated field;
 * - every Gateway API, Envoy Gateway and cert-manager object the three stacks render passes its CRD's
 *   OpenAPI schema from those charts, unknown fields rejected (the API server would prune them
 *   silently), and sets no field the CRD marks deprecated.
 * Each judge is also shown a broken input and must reject it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { chartImagesOf, pinChartImages } from "../components/chart-images";
import { ENVOY_GATEWAY_CHART_VERSION } from "../components/IngressGateway";
import { kubernetesObject } from "../scripts/render-lib";
import { byName, REPO_ROOT, runStack, type RunResult } from "./harness";
import {
  certManagerChart,
  certManagerConfigType,
  certManagerCrds,
  CrdValidator,
  envoyGatewayChart,
  envoyGatewayConfigType,
  envoyGatewayCrds,
  gatewayStackConfig,
  goFieldType,
  lookup,
  valuesProblems,
  type ChartSources,
  type PassThrough,
} from "./upstream-charts";

const STACKS = ["local", "staging", "production"] as const;
const RELEASE = "kubernetes:helm.sh/v3:Release";
const GATEWAY_GROUPS = /^(gateway\.networking\.k8s\.io|gateway\.envoyproxy\.io|(acme\.)?cert-manager\.io)\//;

const runs = new Map<string, RunResult>();
let envoyGateway: ChartSources;
let certManager: ChartSources;
let envoyGatewayConfig: PassThrough[];
let certManagerConfig: PassThrough[];
let crds: CrdValidator;

beforeAll(async () => {
  envoyGateway = envoyGatewayChart();
  certManager = certManagerChart();
  envoyGatewayConfig = [{ path: ["config", "envoyGateway"], goType: envoyGatewayConfigType() }];
  certManagerConfig = [{ path: ["config"], goType: certManagerConfigType() }];
  crds = new CrdValidator([...envoyGatewayCrds(), ...certManagerCrds()]);
  for (const stack of STACKS) runs.set(stack, await runStack(stack, { config: gatewayStackConfig(stack) }));
}, 600_000);

const values = (stack: string, release: string): Record<string, unknown> =>
  byName(runs.get(stack)!, RELEASE, `gateway-${release}`).inputs.values as Record<string, unknown>;

describe.each(STACKS)("the %s stack's Helm values", (stack) => {
  it("are all values the Envoy Gateway chart declares and reads; its config decodes into EnvoyGateway", () => {
    expect(valuesProblems(envoyGateway, values(stack, "envoy-gateway"), envoyGatewayConfig)).toEqual([]);
  });

  it("give the rate limit service a container the EnvoyProxy CRD's KubernetesDeploymentSpec accepts", () => {
    // Envoy Gateway decodes `rateLimitDeployment` into the type of EnvoyProxy's `envoyDeployment`, so
    // that field's CRD schema judges what the Go walk leaves opaque (the container's env).
    const type = envoyGatewayConfigType();
    expect(goFieldType(type, ["provider", "kubernetes", "rateLimitDeployment"])).toBe(
      "KubernetesDeploymentSpec",
    );
    const { found, value: deployment } = lookup(values(stack, "envoy-gateway"), [
      ...["config", "envoyGateway", "provider", "kubernetes", "rateLimitDeployment"],
    ]);
    expect(found).toBe(true);
    const field = ["spec", "provider", "kubernetes", "envoyDeployment"];
    expect(crds.fieldProblems("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy", field, deployment)).toEqual([]);
  });

  it("are all values the cert-manager chart declares, its schema accepts and its templates read", () => {
    expect(valuesProblems(certManager, values(stack, "cert-manager"), certManagerConfig)).toEqual([]);
  });

  it("stay so with every chart image pinned by a lock's digest (the keys the charts read for a digest)", () => {
    const digest = `sha256:${"e".repeat(64)}`;
    const eg = pinChartImages("gateway-helm", values(stack, "envoy-gateway"), () => digest);
    const cm = pinChartImages("cert-manager", values(stack, "cert-manager"), () => digest);
    expect(chartImagesOf("gateway-helm", eg).map((i) => i.digest)).toEqual([digest, digest, digest]);
    expect(chartImagesOf("cert-manager", cm).map((i) => i.digest)).toEqual(Array(5).fill(digest));
    expect(valuesProblems(envoyGateway, eg, envoyGatewayConfig)).toEqual([]);
    expect(valuesProblems(certManager, cm, certManagerConfig)).toEqual([]);
  });
});

describe("the egctl wrapper module", () => {
  it("builds egctl from the Envoy Gateway version the chart pins", () => {
    const goMod = readFileSync(path.join(REPO_ROOT, "tools/egctl/go.mod"), "utf8");
    expect(goMod).toMatch(
      new RegExp(`^require github\\.com/envoyproxy/gateway ${ENVOY_GATEWAY_CHART_VERSION}$`, "m"),
    );
  });
});

describe("the values judges", () => {
  it("reject a misspelt key, a key no template reads, a config field the Go type lacks, and a deprecated one", () => {
    const badGateway = {
      deployment: { replica: 2 },
      config: { envoyGateway: { rateLimit: { backend: { type: "Redis", redis: { uri: "redis:6379" } } } } },
    };
    expect(valuesProblems(envoyGateway, badGateway, envoyGatewayConfig)).toEqual([
      `${envoyGateway.name}: deployment.replica is not a value the chart declares`,
      `${envoyGateway.name}: deployment.replica is read by none of the chart's templates (it has no effect)`,
      `${envoyGateway.name}: config.envoyGateway.rateLimit.backend.redis.uri: Go type RateLimitRedisSettings (github.com/envoyproxy/gateway/api/v1alpha1) has no field "uri"`,
    ]);
    // `rbac` is a value only under `global`; the replica count is a number.
    const badCertManager = {
      replicaCount: "two",
      rbac: { create: true },
      config: { apiVersion: "controller.config.cert-manager.io/v1alpha1", enableGatewayAPI: true },
    };
    const problems = valuesProblems(certManager, badCertManager, certManagerConfig);
    expect(problems).toContain(`${certManager.name}: rbac.create is not a value the chart declares`);
    expect(problems).toContain(
      `${certManager.name}: config.enableGatewayAPI: deprecated (its Go doc comment says so)`,
    );
    expect(problems).toContain(`${certManager.name}: values /: unknown field "rbac"`);
    expect(problems.some((p) => p.includes("/replicaCount"))).toBe(true);
  });
});

/** The gateway's objects of a stack's render: Gateway API, Envoy Gateway and cert-manager kinds. */
function gatewayObjects(stack: string): Record<string, unknown>[] {
  return runs
    .get(stack)!
    .resources.map(kubernetesObject)
    .filter(
      (o): o is Record<string, unknown> => o !== undefined && GATEWAY_GROUPS.test(String(o.apiVersion)),
    );
}

describe.each(STACKS)("the %s stack's gateway objects", (stack) => {
  it("pass their CRDs' schemas (unknown fields rejected) and set no deprecated field", () => {
    const objects = gatewayObjects(stack);
    const kinds = new Set(objects.map((o) => String(o.kind)));
    for (const kind of [
      "GatewayClass",
      "Gateway",
      "HTTPRoute",
      "SecurityPolicy",
      "BackendTrafficPolicy",
      "EnvoyProxy",
      "Certificate",
      "ClusterIssuer",
    ])
      expect(kinds, `${stack} renders a ${kind}`).toContain(kind);
    const unknownKinds = objects.filter((o) => !crds.has(String(o.apiVersion), String(o.kind)));
    expect(unknownKinds.map((o) => `${String(o.apiVersion)} ${String(o.kind)}`)).toEqual([]);
    expect(objects.flatMap((o) => crds.problems(o))).toEqual([]);
    expect(objects.flatMap((o) => crds.deprecatedFields(o).map((f) => `${String(o.kind)}: ${f}`))).toEqual(
      [],
    );
  });
});

describe("the CRD judge", () => {
  it("rejects a misspelt field, a wrong type and a deprecated field, naming the object", () => {
    const policy = {
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "BackendTrafficPolicy",
      metadata: { name: "api-rate-limit", namespace: "shop" },
      spec: {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "api" }],
        rateLimit: {
          type: "Global",
          global: { rules: [{ limit: { requests: "six", unit: "Minute" }, clientSelector: [] }] },
        },
      },
    };
    const problems = crds.problems(policy);
    expect(problems).toContain(
      'BackendTrafficPolicy shop/api-rate-limit: /spec/rateLimit/global/rules/0: unknown field "clientSelector"',
    );
    expect(
      problems.some((p) =>
        p.startsWith(
          "BackendTrafficPolicy shop/api-rate-limit: /spec/rateLimit/global/rules/0/limit/requests",
        ),
      ),
    ).toBe(true);
    expect(crds.deprecatedFields(policy)).toEqual(["spec.rateLimit.type"]);
  });
});
