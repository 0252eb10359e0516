/**
 * Every stack's gateway through Envoy Gateway's own translator: `egctl x translate` (built from the
 * github.com/envoyproxy/gateway module at the pinned version by scripts/install-egctl.sh) runs the
 * controller's Gateway API → IR → xDS translation on the objects the local, staging and production
 * stacks render, with no cluster and no Envoy. It first validates each object against the CRDs it
 * embeds (schemas and CEL rules), then returns the objects with the status the controller would
 * write, and the xDS (listeners, routes, clusters) it would serve the proxies.
 *
 * Asserted per stack: the GatewayClass, every Gateway listener, HTTPRoute, GRPCRoute,
 * SecurityPolicy, BackendTrafficPolicy, ClientTrafficPolicy and the EnvoyProxy come back Accepted
 * (and ResolvedRefs where the type has it) with no Warning; every field we set survives the
 * controller's decoding (none ignored); the xDS serves each published hostname and path prefix,
 * validates JWTs where a route asks for it and sends the rate-limited routes' per-client-IP
 * descriptors. A route to a wrong backend port, one to a missing Service, and a policy with a
 * deprecated field must be reported: the judge is not vacuous. A gateway of the component alone
 * puts a GRPCRoute through the same checks (no stack publishes gRPC).
 *
 * What the controller would find in the cluster is given as the API server would hold it: the
 * rendered Namespaces and Services, each Service with a cluster IP, and the Gateway's TLS Secret as
 * cert-manager would issue it from our Certificate (made here with openssl). Nothing else is added
 * (egctl's --add-missing-resources would invent any Service a route names, and hide a broken
 * reference). Where egctl cannot do what the controller does (namespace labels, the Gateway's own
 * conditions, the rate limit service's cluster), docs/gateway.md says how the test makes up for it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@pulumi/kubernetes";
import {
  CERT_MANAGER_CHART_VERSION,
  ENVOY_GATEWAY_CHART_VERSION,
  IngressGateway,
} from "../components/IngressGateway";
import { platformLabelKey } from "../components/lib";
import { kubernetesObject } from "../scripts/render-lib";
import { REPO_ROOT, runProgram, runStack, type RunResult } from "./harness";
import { gatewayStackConfig } from "./upstream-charts";
import { selectorMatches } from "../policy/rules";
import type { LabelSelector } from "../analysis/network-policy";

/** JSON as egctl and the render hold it; read through the shapes below. */
type Obj = Record<string, unknown>;

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Meta {
  name: string;
  namespace?: string;
}
interface KubeObject extends Obj {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec?: Obj;
  status?: Obj;
}
interface RouteSpec {
  parentRefs: (Meta & { sectionName?: string })[];
  hostnames?: string[];
  rules: { matches?: { path?: { value: string } }[]; backendRefs?: (Meta & { port?: number })[] }[];
}
interface GatewaySpec {
  listeners: {
    name: string;
    tls?: { certificateRefs?: Meta[] };
    allowedRoutes?: { namespaces?: { from?: string; selector?: LabelSelector } };
  }[];
}
interface PolicySpec {
  targetRefs: Meta[];
  jwt?: { providers: { issuer: string; remoteJWKS: { uri: string } }[] };
  rateLimit?: { global?: unknown };
}

/** The value at `keys` below `value`, or undefined. */
const at = (value: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>(
    (o, k) => (o !== null && typeof o === "object" ? (o as Record<string | number, unknown>)[k] : undefined),
    value,
  );
const list = <T = Obj>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
const routeSpec = (o: KubeObject): RouteSpec => o.spec as unknown as RouteSpec;
const policySpec = (o: KubeObject): PolicySpec => o.spec as unknown as PolicySpec;

const STACKS = ["local", "staging", "production"] as const;
const GATEWAY_KINDS = new Set([
  "GatewayClass",
  "Gateway",
  "HTTPRoute",
  "GRPCRoute",
  "SecurityPolicy",
  "BackendTrafficPolicy",
  "ClientTrafficPolicy",
  "EnvoyProxy",
]);
/** The output's list of each kind (egctl prints its `Resources`). */
const OUTPUT_LISTS: Record<string, string> = {
  Gateway: "gateways",
  HTTPRoute: "httpRoutes",
  GRPCRoute: "grpcRoutes",
  SecurityPolicy: "securityPolicies",
  BackendTrafficPolicy: "backendTrafficPolicies",
  ClientTrafficPolicy: "clientTrafficPolicies",
};

let egctl = "";
let workDir = "";

beforeAll(() => {
  const t0 = Date.now();
  const install = spawnSync(
    "bash",
    [path.join(REPO_ROOT, "scripts/install-egctl.sh"), ENVOY_GATEWAY_CHART_VERSION],
    { encoding: "utf8" },
  );
  if (install.status !== 0)
    throw new Error(
      `egctl ${ENVOY_GATEWAY_CHART_VERSION} is not installed and could not be built (scripts/install-egctl.sh):\n${install.stderr}`,
    );
  egctl = install.stdout.trim();
  workDir = mkdtempSync(path.join(tmpdir(), "egctl-translate-"));
  console.log(`egctl ready in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${egctl}`);
}, 3_600_000);

/** The stack's gateway objects, Namespaces and Services, as the controller would read them. */
async function gatewayInput(stack: string): Promise<KubeObject[]> {
  return controllerView(await runStack(stack, { config: gatewayStackConfig(stack) }));
}

/** A run's gateway objects, Namespaces and Services, and the Secrets cert-manager would issue. */
function controllerView(run: RunResult): KubeObject[] {
  const objects = run.resources
    .map((r) => kubernetesObject(r) as KubeObject | undefined)
    .filter((o): o is KubeObject => o !== undefined);
  const gateway = objects.filter((o) => GATEWAY_KINDS.has(o.kind));
  const namespaces = objects.filter((o) => o.kind === "Namespace");
  // The API server gives every Service a cluster IP; Envoy Gateway routes to it.
  const services = objects
    .filter((o) => o.kind === "Service")
    .map((o, i) => ({
      ...o,
      spec: {
        ...o.spec,
        clusterIP: at(o, "spec", "clusterIP") ?? `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      },
    }));
  const certificates = objects.filter((o) => o.kind === "Certificate");
  return [...namespaces, ...services, ...gateway, ...tlsSecrets(gateway, certificates)];
}

/**
 * The input as egctl can judge it. Its file loader keeps a Namespace's name and drops its labels
 * (internal/gatewayapi/resource/load.go), so a listener admitting routes by namespace `Selector`
 * would admit none: such a listener is handed over as `from: All`, after
 * `namespaceSelectorProblems` has evaluated the selector on the rendered namespaces' labels.
 */
function egctlView(input: KubeObject[]): KubeObject[] {
  return input.map((o) => {
    if (o.kind !== "Gateway") return o;
    const copy = structuredClone(o);
    for (const l of (copy.spec as unknown as GatewaySpec).listeners)
      if (l.allowedRoutes?.namespaces?.from === "Selector") l.allowedRoutes.namespaces = { from: "All" };
    return copy;
  });
}

/**
 * What the listeners' namespace selectors get wrong on the rendered namespaces' labels: each
 * listener that admits by `Selector` must admit exactly the namespaces of the routes attached to it.
 */
function namespaceSelectorProblems(input: KubeObject[]): string[] {
  const labels = new Map(
    input
      .filter((o) => o.kind === "Namespace")
      .map((n) => [
        n.metadata.name,
        {
          ...((at(n, "metadata", "labels") ?? {}) as Record<string, string>),
          "kubernetes.io/metadata.name": n.metadata.name,
        },
      ]),
  );
  const problems: string[] = [];
  for (const gw of input.filter((o) => o.kind === "Gateway"))
    for (const listener of (gw.spec as unknown as GatewaySpec).listeners) {
      const allowed = listener.allowedRoutes?.namespaces;
      if (allowed?.from !== "Selector") continue;
      const admitted = [...labels]
        .filter(([, nsLabels]) => selectorMatches(allowed.selector ?? {}, nsLabels))
        .map(([name]) => name)
        .sort();
      const attached = input.filter(
        (o) =>
          o.kind.endsWith("Route") && routeSpec(o).parentRefs.some((p) => p.sectionName === listener.name),
      );
      const wanted = [...new Set(attached.map((o) => o.metadata.namespace ?? "default"))].sort();
      if (JSON.stringify(admitted) !== JSON.stringify(wanted))
        problems.push(
          `${id(gw)} listener ${listener.name} admits routes from ${admitted.join(", ")}; its routes are in ${wanted.join(", ")}`,
        );
    }
  return problems;
}

/**
 * For each certificate reference of a Gateway listener, the Secret cert-manager would issue from the
 * stack's Certificate of that Secret: a certificate for its DNS names.
 */
function tlsSecrets(gatewayObjects: KubeObject[], certificates: KubeObject[]): KubeObject[] {
  const secrets: KubeObject[] = [];
  for (const gw of gatewayObjects.filter((o) => o.kind === "Gateway")) {
    const namespace = gw.metadata.namespace ?? "default";
    for (const listener of (gw.spec as unknown as GatewaySpec).listeners) {
      for (const ref of listener.tls?.certificateRefs ?? []) {
        const secretNamespace = ref.namespace ?? namespace;
        const certificate = certificates.find(
          (c) => at(c, "spec", "secretName") === ref.name && c.metadata.namespace === secretNamespace,
        );
        if (!certificate) throw new Error(`no Certificate issues the Secret ${secretNamespace}/${ref.name}`);
        const { cert, key } = selfSignedCertificate(list<string>(at(certificate, "spec", "dnsNames")));
        secrets.push({
          apiVersion: "v1",
          kind: "Secret",
          type: "kubernetes.io/tls",
          metadata: { name: ref.name, namespace: secretNamespace },
          data: {
            "tls.crt": Buffer.from(cert).toString("base64"),
            "tls.key": Buffer.from(key).toString("base64"),
          },
        });
      }
    }
  }
  return secrets;
}

function selfSignedCertificate(dnsNames: string[]): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(workDir, "tls-"));
  execFileSync(
    "openssl",
    [
      ...[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
      ],
      ...["-subj", `/CN=${dnsNames[0] ?? "localhost"}`],
      ...["-addext", `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(",")}`],
      ...["-keyout", path.join(dir, "tls.key"), "-out", path.join(dir, "tls.crt")],
    ],
    { stdio: "ignore" },
  );
  return {
    cert: readFileSync(path.join(dir, "tls.crt"), "utf8"),
    key: readFileSync(path.join(dir, "tls.key"), "utf8"),
  };
}

interface Translation {
  /** The objects with the status the controller would write, by `Kind namespace/name`. */
  objects: Map<string, KubeObject>;
  /** xDS config dump per Gateway (`<namespace>/<name>`). */
  xds: Record<string, Obj>;
  seconds: number;
}

/** `egctl x translate --from gateway-api --to gateway-api,xds` on `objects`; throws with egctl's error. */
function translate(name: string, objects: KubeObject[]): Translation {
  const file = path.join(workDir, `${name}.yaml`);
  writeFileSync(file, objects.map((o) => stringify(o)).join("---\n"));
  const t0 = Date.now();
  const args = ["x", "translate", "--from", "gateway-api", "--to", "gateway-api,xds"];
  const out = spawnSync(egctl, [...args, "--type", "all", "-o", "json", "-f", file], {
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  const seconds = (Date.now() - t0) / 1000;
  if (out.status !== 0) throw new Error(`egctl x translate failed on ${file}:\n${out.stderr}${out.stdout}`);
  const result = JSON.parse(out.stdout) as Obj;
  return { objects: echoedObjects(result), xds: (result.xds ?? {}) as Record<string, Obj>, seconds };
}

const id = (o: { kind: string; metadata: Meta }): string =>
  `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** Every object of the kinds egctl reports on, from its output, by `Kind namespace/name`. */
function echoedObjects(result: Obj): Map<string, KubeObject> {
  const out = new Map<string, KubeObject>();
  const add = (kind: string, o: unknown) => {
    const object = { ...(o as KubeObject), kind };
    out.set(id(object), object);
  };
  for (const [kind, key] of Object.entries(OUTPUT_LISTS)) for (const o of list(result[key])) add(kind, o);
  if (result.gatewayClass) add("GatewayClass", result.gatewayClass);
  if (result.envoyProxyForGatewayClass) add("EnvoyProxy", result.envoyProxyForGatewayClass);
  return out;
}

/** Conditions that are not as they must be for an object of its kind. */
function statusProblems(o: KubeObject): string[] {
  const problems: string[] = [];
  const expectTrue = (where: string, conditions: unknown, types: string[]) => {
    const cs = list<Condition>(conditions);
    for (const type of types) {
      const c = cs.find((x) => x.type === type);
      if (c?.status !== "True")
        problems.push(`${where}: ${type} is ${c ? `${c.status} (${c.reason}: ${c.message})` : "missing"}`);
    }
    for (const c of cs)
      if (c.type === "Warning" || (c.type === "Conflicted" && c.status === "True"))
        problems.push(`${where}: ${c.type} ${c.reason}: ${c.message}`);
  };
  const name = id(o);
  // An invalid EnvoyProxy also makes its GatewayClass not Accepted (InvalidParameters).
  if (o.kind === "GatewayClass") expectTrue(name, at(o, "status", "conditions"), ["Accepted"]);
  else if (o.kind === "Gateway") {
    // The Gateway's own Accepted/Programmed are written by the Kubernetes provider once the proxy
    // Service exists; the translator writes only a refusal (Accepted False), which must be absent.
    for (const c of list<Condition>(at(o, "status", "conditions")))
      if (c.status !== "True") problems.push(`${name}: ${c.type} is ${c.status} (${c.reason}: ${c.message})`);
    const listeners = list(at(o, "status", "listeners"));
    for (const l of listeners)
      expectTrue(`${name} listener ${String(l.name)}`, l.conditions, [
        "Accepted",
        "ResolvedRefs",
        "Programmed",
      ]);
    const declared = (o.spec as unknown as GatewaySpec).listeners.length;
    if (listeners.length !== declared)
      problems.push(`${name}: status for ${listeners.length} of ${declared} listeners`);
  } else if (o.kind.endsWith("Route")) {
    const parents = list(at(o, "status", "parents"));
    const declared = routeSpec(o).parentRefs.length;
    if (parents.length !== declared)
      problems.push(`${name}: status for ${parents.length} of ${declared} parents`);
    for (const p of parents)
      expectTrue(`${name} on ${String(at(p, "parentRef", "name"))}`, p.conditions, [
        "Accepted",
        "ResolvedRefs",
      ]);
  } else {
    const ancestors = list(at(o, "status", "ancestors"));
    if (ancestors.length === 0) problems.push(`${name}: no ancestor status (attached to nothing)`);
    for (const a of ancestors)
      expectTrue(`${name} on ${String(at(a, "ancestorRef", "name"))}`, a.conditions, ["Accepted"]);
  }
  return problems;
}

/** Fields of `given` that `echoed` lacks or holds another value for (what the controller ignored). */
function ignoredFields(given: unknown, echoed: unknown, where = "spec"): string[] {
  if (Array.isArray(given)) return given.flatMap((g, i) => ignoredFields(g, at(echoed, i), `${where}[${i}]`));
  if (given !== null && typeof given === "object")
    return Object.entries(given).flatMap(([k, v]) => ignoredFields(v, at(echoed, k), `${where}.${k}`));
  return given === echoed
    ? []
    : [`${where}: gave ${JSON.stringify(given)}, the controller holds ${JSON.stringify(echoed)}`];
}

/** The typed configs of a config dump whose `@type` ends with `type`. */
const dumpConfigs = (dump: Obj, type: string): Obj[] =>
  list(dump.configs).filter((c) => String(c["@type"]).endsWith(type));

const routeConfigs = (dump: Obj): Obj[] =>
  dumpConfigs(dump, "RoutesConfigDump").flatMap((c) =>
    list(c.dynamicRouteConfigs).map((r) => r.routeConfig as Obj),
  );

const allRoutes = (dump: Obj): Obj[] =>
  routeConfigs(dump).flatMap((rc) => list(rc.virtualHosts).flatMap((vh) => list(vh.routes)));

const listeners = (dump: Obj): Obj[] =>
  dumpConfigs(dump, "ListenersConfigDump").flatMap((c) =>
    list(c.dynamicListeners).map((l) => at(l, "activeState", "listener") as Obj),
  );

/** Every HTTP filter of every listener's HTTP connection managers. */
const httpFilters = (dump: Obj): Obj[] =>
  listeners(dump).flatMap((l) =>
    [...list(l.filterChains), ...(l.defaultFilterChain ? [l.defaultFilterChain as Obj] : [])].flatMap((fc) =>
      list(fc.filters).flatMap((f) => list(at(f, "typedConfig", "httpFilters"))),
    ),
  );

const clusterNames = (dump: Obj): string[] =>
  dumpConfigs(dump, "ClustersConfigDump").flatMap((c) =>
    list(c.dynamicActiveClusters).map((d) => String(at(d, "cluster", "name"))),
  );

/** The xDS routes Envoy Gateway made from one route object (named `<kind>/<namespace>/<name>/rule/...`). */
const routesOf = (dump: Obj, route: { kind: string; metadata: Meta }): Obj[] =>
  allRoutes(dump).filter((r) =>
    String(r.name).startsWith(
      `${route.kind.toLowerCase()}/${route.metadata.namespace}/${route.metadata.name}/`,
    ),
  );

/** The routes of a hostname's virtual host. */
const virtualHostRoutes = (dump: Obj, hostname: string): Obj[] =>
  routeConfigs(dump).flatMap((rc) =>
    list(rc.virtualHosts)
      .filter((vh) => list<string>(vh.domains).includes(hostname))
      .flatMap((vh) => list(vh.routes)),
  );

const matchedPrefix = (route: Obj): unknown =>
  at(route, "match", "pathSeparatedPrefix") ?? at(route, "match", "prefix") ?? at(route, "match", "path");

describe.each(STACKS)("egctl x translate on the %s render", (stack) => {
  let input: KubeObject[];
  let result: Translation;

  beforeAll(async () => {
    input = await gatewayInput(stack);
    result = translate(stack, egctlView(input));
    console.log(`${stack}: ${input.length} objects translated by egctl in ${result.seconds.toFixed(1)}s`);
  }, 600_000);

  it("accepts every Gateway, route and policy (ResolvedRefs where the type has it), with no warning", () => {
    const given = input.filter((o) => GATEWAY_KINDS.has(o.kind));
    const problems = given.flatMap((o) => {
      const back = result.objects.get(id(o));
      if (!back) return [`${id(o)}: not in egctl's output`];
      return statusProblems(back);
    });
    expect(problems).toEqual([]);
    const kinds = new Set(given.map((o) => o.kind));
    for (const kind of [
      "GatewayClass",
      "Gateway",
      "HTTPRoute",
      "SecurityPolicy",
      "BackendTrafficPolicy",
      "EnvoyProxy",
    ])
      expect(kinds, `${stack} renders a ${kind}`).toContain(kind);
  });

  it("admits, on each listener selecting namespaces, exactly the namespaces of its routes", () => {
    expect(namespaceSelectorProblems(input)).toEqual([]);
    // The judge: a selector no namespace carries admits none of the routes.
    const unlabelled = structuredClone(input);
    for (const gw of unlabelled.filter((o) => o.kind === "Gateway"))
      for (const l of (gw.spec as unknown as GatewaySpec).listeners)
        if (l.allowedRoutes?.namespaces?.from === "Selector")
          l.allowedRoutes.namespaces.selector = { matchLabels: { "example.com/no-such-label": "x" } };
    expect(namespaceSelectorProblems(unlabelled).length).toBeGreaterThan(0);
  });

  it("keeps every field we set (the controller's decoding ignores none)", () => {
    const problems = egctlView(input)
      .filter((o) => GATEWAY_KINDS.has(o.kind))
      .flatMap((o) => ignoredFields(o.spec, result.objects.get(id(o))?.spec).map((p) => `${id(o)}: ${p}`));
    expect(problems).toEqual([]);
  });

  it("serves each published hostname and path prefix, and each backend, in xDS", () => {
    const gateways = input.filter((o) => o.kind === "Gateway");
    expect(Object.keys(result.xds).sort()).toEqual(
      gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`).sort(),
    );
    for (const g of gateways) {
      const dump = result.xds[`${g.metadata.namespace}/${g.metadata.name}`]!;
      // Envoy Gateway maps privileged ports up by 10000 (the proxy runs unprivileged).
      const ports = listeners(dump).map((l) => Number(at(l, "address", "socketAddress", "portValue")));
      expect(ports).toEqual(expect.arrayContaining([10080, 10443]));
      const clusters = clusterNames(dump);
      for (const route of input.filter((o) => o.kind === "HTTPRoute" || o.kind === "GRPCRoute")) {
        const spec = routeSpec(route);
        for (const host of spec.hostnames ?? []) {
          const routes = virtualHostRoutes(dump, host).filter((r) => routesOf(dump, route).includes(r));
          expect(routes.length, `${id(route)} on ${host}`).toBeGreaterThan(0);
          if (route.kind === "HTTPRoute") {
            const prefixes = spec.rules.flatMap((rule) => (rule.matches ?? []).map((m) => m.path?.value));
            expect(routes.map(matchedPrefix).sort(), `${id(route)} prefixes on ${host}`).toEqual(
              prefixes.sort(),
            );
          }
        }
        // Each rule with backends forwards to a cluster of its own.
        for (const r of routesOf(dump, route).filter((x) => at(x, "route", "cluster")))
          expect(clusters, `${String(r.name)}`).toContain(at(r, "route", "cluster"));
      }
      // The HTTP listener only redirects to HTTPS.
      const redirect = input.find(
        (o) => o.kind === "HTTPRoute" && routeSpec(o).parentRefs[0]?.sectionName === "http",
      )!;
      expect(routesOf(dump, redirect).map((r) => at(r, "redirect", "schemeRedirect"))).toEqual(["https"]);
    }
  });

  it("validates JWTs on the routes whose SecurityPolicy asks for it, against the issuer's JWKS", () => {
    const policies = input.filter((o) => o.kind === "SecurityPolicy" && policySpec(o).jwt);
    expect(policies.length).toBeGreaterThan(0);
    for (const dump of Object.values(result.xds)) {
      const jwt = httpFilters(dump).find((f) => f.name === "envoy.filters.http.jwt_authn");
      expect(jwt, "the jwt_authn filter").toBeDefined();
      const providers = Object.values((at(jwt, "typedConfig", "providers") ?? {}) as Record<string, Obj>);
      for (const policy of policies) {
        for (const p of policySpec(policy).jwt!.providers)
          expect(providers.map((x) => [x.issuer, at(x, "remoteJwks", "httpUri", "uri")])).toContainEqual([
            p.issuer,
            p.remoteJWKS.uri,
          ]);
        for (const target of policySpec(policy).targetRefs) {
          const route = input.find(
            (o) =>
              o.kind.endsWith("Route") &&
              o.metadata.name === target.name &&
              o.metadata.namespace === policy.metadata.namespace,
          )!;
          const protectedRoutes = routesOf(dump, route);
          expect(protectedRoutes.length).toBeGreaterThan(0);
          for (const r of protectedRoutes)
            expect(Object.keys((r.typedPerFilterConfig ?? {}) as Obj), `${String(r.name)}`).toContain(
              "envoy.filters.http.jwt_authn",
            );
          // The JWT-exempt prefixes' route (`<name>-public`) carries no JWT requirement.
          const exempt = input.find(
            (o) =>
              o.kind === "HTTPRoute" &&
              o.metadata.name === `${target.name}-public` &&
              o.metadata.namespace === policy.metadata.namespace,
          );
          for (const r of exempt ? routesOf(dump, exempt) : [])
            expect(Object.keys((r.typedPerFilterConfig ?? {}) as Obj), `${String(r.name)}`).not.toContain(
              "envoy.filters.http.jwt_authn",
            );
        }
      }
    }
  });

  it("sends the rate-limited routes' per-client-IP descriptors to the global rate limit service", () => {
    const policies = input.filter(
      (o) => o.kind === "BackendTrafficPolicy" && policySpec(o).rateLimit?.global,
    );
    expect(policies.length).toBeGreaterThan(0);
    for (const dump of Object.values(result.xds)) {
      const filter = httpFilters(dump).find((f) => f.name === "envoy.filters.http.ratelimit");
      // The cluster itself the controller builds from its own client certificate and the rate limit
      // Service it runs; egctl has neither (docs/gateway.md), so only the reference is asserted.
      expect(at(filter, "typedConfig", "rateLimitService", "grpcService", "envoyGrpc", "clusterName")).toBe(
        "ratelimit_cluster",
      );
      for (const policy of policies)
        for (const target of policySpec(policy).targetRefs) {
          const route = input.find(
            (o) =>
              o.kind.endsWith("Route") &&
              o.metadata.name === target.name &&
              o.metadata.namespace === policy.metadata.namespace,
          )!;
          const routes = routesOf(dump, route);
          expect(routes.length).toBeGreaterThan(0);
          for (const r of routes) {
            const limits = list(
              at(r, "typedPerFilterConfig", "envoy.filters.http.ratelimit", "rateLimits"),
            ).concat(list(at(r, "route", "rateLimits")));
            const actions = limits.flatMap((l) => list(l.actions));
            // One bucket per client address: the descriptor carries the downstream address.
            expect(
              actions.map((a) => [
                at(a, "remoteAddressMatch", "descriptorKey"),
                at(a, "remoteAddressMatch", "descriptorValue"),
              ]),
              `${String(r.name)} rate-limit descriptors`,
            ).toContainEqual(["remote_address", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"]);
          }
        }
    }
  });

  if (stack === "production") {
    it("reports a route to a wrong backend port, and one to a missing Service, as not ResolvedRefs", () => {
      const route = input.find(
        (o) => o.kind === "HTTPRoute" && routeSpec(o).parentRefs[0]?.sectionName === "https",
      )!;
      const backend = routeSpec(route).rules[0]!.backendRefs![0]!;
      const wrongPort = structuredClone(input);
      routeSpec(wrongPort.find((o) => id(o) === id(route))!).rules[0]!.backendRefs![0]!.port = 1;
      const missing = input.filter(
        (o) =>
          !(
            o.kind === "Service" &&
            o.metadata.name === backend.name &&
            o.metadata.namespace === route.metadata.namespace
          ),
      );
      const usesBackend = (o: KubeObject) =>
        o.kind.endsWith("Route") &&
        o.metadata.namespace === route.metadata.namespace &&
        routeSpec(o).rules.some((rule) => (rule.backendRefs ?? []).some((b) => b.name === backend.name));
      for (const [label, objects, affected] of [
        ["wrong port", wrongPort, [id(route)]],
        ["missing Service", missing, input.filter(usesBackend).map(id)],
      ] as const) {
        const broken = translate(`broken-${label.replace(/ /g, "-")}`, egctlView(objects));
        for (const name of affected) {
          const back = broken.objects.get(name)!;
          const resolved = list<Condition>(at(back, "status", "parents", 0, "conditions")).find(
            (c) => c.type === "ResolvedRefs",
          );
          expect(resolved?.status, `${label}: ${name} ${JSON.stringify(resolved)}`).toBe("False");
          console.log(`${label}: ${name} ResolvedRefs False (${resolved?.reason}: ${resolved?.message})`);
        }
        // Nothing else is reported: every other object keeps its status.
        const others = input.filter((o) => GATEWAY_KINDS.has(o.kind) && !affected.includes(id(o)));
        expect(others.flatMap((o) => statusProblems(broken.objects.get(id(o))!))).toEqual([]);
      }
    });

    it("reports a policy using a field the controller deprecates with a Warning", () => {
      const policy = input.find((o) => o.kind === "BackendTrafficPolicy")!;
      const deprecated = structuredClone(input);
      const spec = deprecated.find((o) => id(o) === id(policy))!.spec!;
      // `targetRef` (one target) is the deprecated spelling of `targetRefs`.
      spec.targetRef = (spec.targetRefs as Obj[])[0];
      delete spec.targetRefs;
      const back = translate("deprecated-field", egctlView(deprecated)).objects.get(id(policy))!;
      const problems = statusProblems(back);
      expect(problems.some((p) => p.includes("Warning") && p.includes("spec.targetRef"))).toBe(true);
      console.log(problems.join("\n"));
    });
  }
});

/**
 * No stack publishes a gRPC service, so a gateway of the component alone publishes one (with the
 * Namespace and Service it routes to) to put a GRPCRoute through the translator.
 */
describe("egctl x translate on a gateway publishing a gRPC service", () => {
  let input: KubeObject[];
  let result: Translation;

  beforeAll(async () => {
    const run = await runProgram(
      () => {
        const provider = new k8s.Provider("cluster-k8s", { kubeconfig: "{}" });
        const opts = { provider };
        new k8s.core.v1.Namespace(
          "shop",
          { metadata: { name: "shop", labels: { [platformLabelKey()]: "shop" } } },
          opts,
        );
        new k8s.core.v1.Service(
          "orders",
          {
            metadata: { name: "orders", namespace: "shop" },
            spec: {
              selector: { app: "orders" },
              ports: [{ name: "grpc", port: 9004, appProtocol: "kubernetes.io/h2c" }],
            },
          },
          opts,
        );
        const gateway = new IngressGateway(
          "edge",
          {
            domain: "shop.example.com",
            tls: { issuer: "selfSigned" },
            envoyGatewayChart: { version: ENVOY_GATEWAY_CHART_VERSION, source: "repository" },
            certManagerChart: { version: CERT_MANAGER_CHART_VERSION, source: "repository" },
          },
          { providers: { kubernetes: provider } },
        );
        gateway.addRoutes("orders", {
          namespace: "shop",
          port: 9004,
          protocol: "grpc",
          grpcServices: ["shop.order.v1.OrderService"],
        });
        return {};
      },
      { stack: "local" },
    );
    input = controllerView(run);
    result = translate("grpc", egctlView(input));
  }, 600_000);

  it("accepts the GRPCRoute (ResolvedRefs) and routes the gRPC service to its backend in xDS", () => {
    const route = input.find((o) => o.kind === "GRPCRoute")!;
    expect(route).toBeDefined();
    expect(namespaceSelectorProblems(input)).toEqual([]);
    const problems = input
      .filter((o) => GATEWAY_KINDS.has(o.kind))
      .flatMap((o) => {
        const back = result.objects.get(id(o));
        return back ? statusProblems(back) : [`${id(o)}: not in egctl's output`];
      });
    expect(problems).toEqual([]);
    const dump = Object.values(result.xds)[0]!;
    const routes = routesOf(dump, route);
    expect(routes.length).toBeGreaterThan(0);
    for (const r of routes) {
      // gRPC calls are POSTs to /<service>/<method>.
      expect(matchedPrefix(r)).toBe("/shop.order.v1.OrderService");
      expect(clusterNames(dump)).toContain(at(r, "route", "cluster"));
    }
  });
});
