/**
 * IngressGateway: Envoy Gateway + cert-manager releases (chart, version, values), issuers per stage,
 * the Gateway with its HTTPS listener and HTTP redirect, the NLB on AWS, routes per exposed service
 * with JWT validation and per-client-IP rate limits, outputs, explicit provider, and arg errors.
 * Every rendered object is validated against its real schema (Gateway API, Envoy Gateway, cert-manager).
 */
import { describe, expect, it } from "vitest";
import * as k8s from "@pulumi/kubernetes";
import {
  byType,
  onCluster,
  reveal,
  runProgram,
  runStack,
  STAND_IN_KUBERNETES,
  type RecordedResource,
  type RunResult,
} from "./harness";
import {
  CERT_MANAGER_CHART_VERSION,
  ENVOY_GATEWAY_CHART_VERSION,
  type GatewayRouteArgs,
  IngressGateway,
  type IngressGatewayArgs,
  NLB_SERVICE_ANNOTATIONS,
  rateLimitRule,
} from "../components/IngressGateway";
import { ComponentArgsError } from "../components/lib";
import { validateKubernetesObject } from "./validate";

/** The value a RandomPassword generated in a run. */
const generated = (run: RunResult, name: string): string =>
  reveal(
    byType(run, "random:index/randomPassword:RandomPassword").find((r) => r.name === name)!.state.result,
  ) as string;

const PRODUCTION: IngressGatewayArgs = {
  domain: "platform.example.com",
  tls: { issuer: "acme", acmeEmail: "platform@example.com" },
  envoyGatewayChart: { version: ENVOY_GATEWAY_CHART_VERSION, source: "repository" },
  certManagerChart: { version: CERT_MANAGER_CHART_VERSION, source: "repository" },
  loadBalancer: "nlb",
  proxyReplicas: 3,
  controllerReplicas: 2,
  labels: { stage: "production" },
};
const LOCAL: IngressGatewayArgs = {
  domain: "platform.localtest.me",
  tls: { issuer: "selfSigned" },
  envoyGatewayChart: {
    version: ENVOY_GATEWAY_CHART_VERSION,
    source: "localPath",
    path: "./charts/gateway-helm",
  },
  certManagerChart: {
    version: CERT_MANAGER_CHART_VERSION,
    source: "localPath",
    path: "./charts/cert-manager.tgz",
  },
  proxyReplicas: 1,
  controllerReplicas: 1,
};
const ECOMMERCE: GatewayRouteArgs = {
  namespace: "ecommerce",
  port: 8000,
  pathPrefixes: ["/api/v1/users", "/api/v1/orders", "/api/v1/payments"],
  jwt: {
    issuer: "https://shop.example.com",
    issuerService: "user-service",
    issuerPort: 9001,
    jwksPath: "/.well-known/jwks.json",
    exemptPathPrefixes: ["/api/v1/users/login", "/api/v1/payments/webhook"],
  },
};
const FINTECH: GatewayRouteArgs = {
  namespace: "fintech",
  port: 3000,
  pathPrefixes: ["/"],
  rateLimit: { requests: 100, perSeconds: 900 },
};

async function build(
  args: IngressGatewayArgs,
  stack: string,
  routes: [string, GatewayRouteArgs][] = [],
): Promise<RunResult & { urls: Record<string, string> }> {
  let urls: Record<string, string> = {};
  const run = await runProgram(
    () => {
      const provider = new k8s.Provider("cluster-k8s", { kubeconfig: "{}" });
      const gw = new IngressGateway("edge", args, { providers: { kubernetes: provider } });
      for (const [service, route] of routes) gw.addRoutes(service, route);
      urls = gw.urls;
      return { address: gw.address, gatewayNamespace: gw.gatewayNamespace, gatewayName: gw.gatewayName };
    },
    { stack },
  );
  return { ...run, urls };
}

interface ProxySpec {
  provider: {
    kubernetes: {
      envoyService: { type: string; annotations?: Record<string, string> };
      envoyDeployment: { replicas: number; pod: { topologySpreadConstraints: { topologyKey: string }[] } };
      envoyPDB: unknown;
    };
  };
}

const kindOf = (r: RecordedResource) => r.type.split(":").pop() as string;
const objects = (run: RunResult, kind: string) =>
  run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && kindOf(r) === kind);
const objectNamed = (run: RunResult, kind: string, name: string) => {
  const found = objects(run, kind).find((r) => (r.inputs.metadata as { name?: string }).name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name}: ${objects(run, kind)
        .map((r) => (r.inputs.metadata as { name?: string }).name)
        .join(", ")}`,
    );
  return found;
};
const release = (run: RunResult, name: string) =>
  byType(run, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === name) as RecordedResource;
const asObject = (r: RecordedResource) => {
  const [, apiVersion] = r.type.split(":");
  return { ...r.inputs, apiVersion: String(apiVersion).replace(/^core\//, ""), kind: kindOf(r) };
};

describe("IngressGateway (production profile)", () => {
  let run: Awaited<ReturnType<typeof build>>;
  it("installs Envoy Gateway and cert-manager from their charts at the pinned versions", async () => {
    run = await build(PRODUCTION, "production", [
      ["api-gateway", ECOMMERCE],
      ["backend-api", FINTECH],
    ]);
    const eg = release(run, "envoy-gateway");
    expect(eg.inputs).toMatchObject({
      chart: "oci://docker.io/envoyproxy/gateway-helm",
      version: ENVOY_GATEWAY_CHART_VERSION,
      namespace: "envoy-gateway-system",
    });
    expect(eg.inputs.repositoryOpts).toBeUndefined();
    expect(eg.inputs.values).toMatchObject({
      deployment: { replicas: 2 },
      config: {
        envoyGateway: {
          rateLimit: {
            backend: {
              type: "Redis",
              redis: { url: "edge-ratelimit-redis.envoy-gateway-system.svc.cluster.local:6379" },
            },
          },
        },
      },
    });
    const cm = release(run, "cert-manager");
    expect(cm.inputs).toMatchObject({
      chart: "cert-manager",
      version: CERT_MANAGER_CHART_VERSION,
      repositoryOpts: { repo: "https://charts.jetstack.io" },
      namespace: "cert-manager",
    });
    expect(cm.inputs.values).toMatchObject({
      crds: { enabled: true },
      config: { kind: "ControllerConfiguration", gatewayAPI: { enabled: true } },
      replicaCount: 2,
      // Each of the three Deployments has its own budget in the chart.
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      webhook: { replicaCount: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } },
      cainjector: { replicaCount: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } },
    });
    // The deprecated spelling of the switch is gone (cert-manager 1.21 reads gatewayAPI.enabled).
    expect(cm.inputs.values).not.toHaveProperty("config.enableGatewayAPI");
    // cert-manager starts after the Gateway API CRDs exist.
    expect(cm.dependencies).toContain(eg.urn);
  });

  it("keeps secrets out of Helm values (a secretKeyRef names a Secret, it holds no value)", () => {
    const generatedValues = byType(run, "random:index/randomPassword:RandomPassword").map(
      (r) => reveal(r.state.result) as string,
    );
    expect(generatedValues.length).toBeGreaterThan(0);
    for (const r of byType(run, "kubernetes:helm.sh/v3:Release")) {
      const values = JSON.stringify(r.inputs.values, (key, v: unknown) =>
        key === "secretKeyRef" ? "[ref]" : v,
      );
      expect(values).not.toMatch(/"secret"\s*:\s*true|password|apikey|token/i);
      for (const g of generatedValues) expect(values).not.toContain(g);
    }
  });

  it("issues the Gateway certificate from an ACME ClusterIssuer solving HTTP-01 through the Gateway's HTTP listener", async () => {
    const issuer = objectNamed(run, "ClusterIssuer", "edge-acme");
    expect(issuer.inputs.spec).toMatchObject({
      acme: {
        server: "https://acme-v02.api.letsencrypt.org/directory",
        email: "platform@example.com",
        solvers: [
          {
            http01: {
              gatewayHTTPRoute: {
                parentRefs: [
                  { kind: "Gateway", name: "edge", namespace: "envoy-gateway-system", sectionName: "http" },
                ],
              },
            },
          },
        ],
      },
    });
    const cert = objectNamed(run, "Certificate", "edge-tls");
    expect(cert.inputs).toMatchObject({
      metadata: { namespace: "envoy-gateway-system" },
      spec: {
        secretName: "edge-tls",
        dnsNames: ["platform.example.com"],
        issuerRef: { kind: "ClusterIssuer", name: "edge-acme" },
      },
    });
    await validateKubernetesObject(asObject(issuer));
    await validateKubernetesObject(asObject(cert));
  });

  it("creates a Gateway with an HTTPS listener serving that certificate to platform namespaces, and HTTP only redirecting", async () => {
    const gateway = objectNamed(run, "Gateway", "edge");
    const spec = gateway.inputs.spec as { gatewayClassName: string; listeners: Record<string, unknown>[] };
    const https = spec.listeners.find((l) => l.name === "https");
    const http = spec.listeners.find((l) => l.name === "http");
    expect(https).toMatchObject({
      protocol: "HTTPS",
      port: 443,
      tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: "edge-tls" }] },
      allowedRoutes: {
        namespaces: {
          from: "Selector",
          selector: { matchExpressions: [{ key: "microservices-platform/platform", operator: "Exists" }] },
        },
      },
    });
    expect(http).toMatchObject({
      protocol: "HTTP",
      port: 80,
      allowedRoutes: { namespaces: { from: "Same" } },
    });
    const redirect = objectNamed(run, "HTTPRoute", "edge-https-redirect");
    expect(redirect.inputs.spec).toEqual({
      parentRefs: [
        {
          group: "gateway.networking.k8s.io",
          kind: "Gateway",
          name: "edge",
          namespace: "envoy-gateway-system",
          sectionName: "http",
        },
      ],
      rules: [
        { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
      ],
    });
    const gatewayClass = objectNamed(run, "GatewayClass", spec.gatewayClassName);
    expect(gatewayClass.inputs.spec).toMatchObject({
      controllerName: "gateway.envoyproxy.io/gatewayclass-controller",
      parametersRef: {
        group: "gateway.envoyproxy.io",
        kind: "EnvoyProxy",
        name: "edge-proxy",
        namespace: "envoy-gateway-system",
      },
    });
    for (const r of [gateway, redirect, gatewayClass]) await validateKubernetesObject(asObject(r));
  });

  it("exposes the Envoy proxies through an internet-facing NLB with IP targets, replicated and spread across zones", async () => {
    const proxy = objectNamed(run, "EnvoyProxy", "edge-proxy");
    const kube = (proxy.inputs.spec as ProxySpec).provider.kubernetes;
    expect(kube.envoyService).toEqual({ type: "LoadBalancer", annotations: { ...NLB_SERVICE_ANNOTATIONS } });
    expect(kube.envoyService.annotations).toMatchObject({
      "service.beta.kubernetes.io/aws-load-balancer-type": "external",
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    });
    expect(kube.envoyDeployment.replicas).toBe(3);
    expect(kube.envoyDeployment.pod.topologySpreadConstraints[0]?.topologyKey).toBe(
      "topology.kubernetes.io/zone",
    );
    expect(kube.envoyPDB).toEqual({ maxUnavailable: 1 });
    await validateKubernetesObject(asObject(proxy));
  });

  it("routes e-commerce prefixes to the api-gateway behind JWT validation, with exempt prefixes on a route of their own", async () => {
    const protectedRoute = objectNamed(run, "HTTPRoute", "api-gateway");
    const publicRoute = objectNamed(run, "HTTPRoute", "api-gateway-public");
    const parentRefs = [
      {
        group: "gateway.networking.k8s.io",
        kind: "Gateway",
        name: "edge",
        namespace: "envoy-gateway-system",
        sectionName: "https",
      },
    ];
    const backendRefs = [{ group: "", kind: "Service", name: "api-gateway", port: 8000 }];
    expect(protectedRoute.inputs).toMatchObject({
      metadata: { namespace: "ecommerce" },
      spec: {
        parentRefs,
        hostnames: ["platform.example.com"],
        rules: [
          {
            matches: ECOMMERCE.pathPrefixes?.map((value) => ({ path: { type: "PathPrefix", value } })),
            backendRefs,
          },
        ],
      },
    });
    expect(publicRoute.inputs.spec).toMatchObject({
      parentRefs,
      rules: [
        {
          matches: ECOMMERCE.jwt?.exemptPathPrefixes?.map((value) => ({
            path: { type: "PathPrefix", value },
          })),
          backendRefs,
        },
      ],
    });
    const policy = objectNamed(run, "SecurityPolicy", "api-gateway-jwt");
    expect(policy.inputs).toMatchObject({
      metadata: { namespace: "ecommerce" },
      spec: {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "api-gateway" }],
        jwt: {
          providers: [
            {
              name: "user-service",
              issuer: "https://shop.example.com",
              remoteJWKS: {
                uri: "http://user-service.ecommerce.svc.cluster.local:9001/.well-known/jwks.json",
              },
            },
          ],
        },
      },
    });
    // Exactly one SecurityPolicy, and it does not target the exempt route.
    expect(objects(run, "SecurityPolicy")).toHaveLength(1);
    expect(JSON.stringify(policy.inputs.spec)).not.toContain("api-gateway-public");
    for (const r of [protectedRoute, publicRoute, policy]) await validateKubernetesObject(asObject(r));
  });

  it("rate limits fintech at 100 requests per 15 minutes per client IP as a global limit of 6 per minute", async () => {
    const policy = objectNamed(run, "BackendTrafficPolicy", "backend-api-rate-limit");
    expect(policy.inputs).toMatchObject({
      metadata: { namespace: "fintech" },
      spec: {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "backend-api" }],
        rateLimit: {
          global: {
            rules: [
              {
                clientSelectors: [{ sourceCIDR: { type: "Distinct", value: "0.0.0.0/0" } }],
                limit: { requests: 6, unit: "Minute" },
              },
            ],
          },
        },
      },
    });
    // The 1.9 CRD marks `rateLimit.type` deprecated: `global` alone says it.
    expect(policy.inputs).not.toHaveProperty("spec.rateLimit.type");
    expect(objects(run, "BackendTrafficPolicy")).toHaveLength(1);
    await validateKubernetesObject(asObject(policy));
    const redis = run.resources.filter(
      (r) => (r.inputs.metadata as { name?: string } | undefined)?.name === "edge-ratelimit-redis",
    );
    expect(redis.map(kindOf).sort()).toEqual([
      "Deployment",
      "NetworkPolicy",
      "PodDisruptionBudget",
      "Service",
    ]);
    for (const r of redis) await validateKubernetesObject(asObject(r));
    const deployment = redis.find((r) => kindOf(r) === "Deployment") as RecordedResource;
    const container = (
      deployment.inputs.spec as {
        template: {
          spec: {
            containers: {
              securityContext: unknown;
              command: string[];
              env: { name: string; valueFrom: unknown }[];
              volumeMounts: { name: string; mountPath: string }[];
            }[];
          };
        };
      }
    ).template.spec.containers[0]!;
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    // Protected mode on, a generated password required, nothing persisted: all in a Secret-held config.
    expect(container.command).toEqual(["redis-server", "/etc/redis/redis.conf"]);
    const auth = run.resources.find(
      (r) => (r.inputs.metadata as { name?: string } | undefined)?.name === "edge-ratelimit-redis-auth",
    )!;
    expect(auth.inputs.stringData).toMatchObject({ secret: true });
    const { password, "redis.conf": conf } = reveal(auth.inputs.stringData) as Record<string, string>;
    expect(password).toBe(generated(run, "edge-ratelimit-redis-password"));
    const lines = conf!.split("\n");
    expect(lines).toEqual(
      expect.arrayContaining(["protected-mode yes", `requirepass ${password}`, 'save ""', "appendonly no"]),
    );
    expect(lines).not.toContain("protected-mode no");
    expect(container.env).toEqual([
      {
        name: "REDISCLI_AUTH",
        valueFrom: { secretKeyRef: { name: "edge-ratelimit-redis-auth", key: "password" } },
      },
    ]);
    expect(container.volumeMounts).toContainEqual({
      name: "config",
      mountPath: "/etc/redis",
      readOnly: true,
    });
    // The rate limit service authenticates with the same Secret's password, by reference.
    expect(
      (release(run, "envoy-gateway").inputs.values as { config: { envoyGateway: { provider: unknown } } })
        .config.envoyGateway.provider,
    ).toEqual({
      kubernetes: {
        rateLimitDeployment: {
          container: {
            env: [
              {
                name: "REDIS_AUTH",
                valueFrom: { secretKeyRef: { name: "edge-ratelimit-redis-auth", key: "password" } },
              },
            ],
          },
        },
      },
    });
    // A drain may evict the single replica (the limiter fails open while it restarts).
    const pdb = redis.find((r) => kindOf(r) === "PodDisruptionBudget")!;
    expect(pdb.inputs.spec).toMatchObject({
      maxUnavailable: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": "edge-ratelimit-redis" } },
    });
    expect(JSON.stringify(release(run, "envoy-gateway").inputs.values)).not.toContain(password!);
    expect(release(run, "envoy-gateway").dependencies).toEqual(
      expect.arrayContaining(redis.map((r) => r.urn)),
    );
  });

  it("outputs the Gateway address and a public URL per route", () => {
    expect(run.outputs.address).toMatch(/\.elb\.eu-west-1\.amazonaws\.com$/);
    expect(run.outputs).toMatchObject({ gatewayNamespace: "envoy-gateway-system", gatewayName: "edge" });
    expect(run.urls).toEqual({
      "ecommerce/api-gateway/api/v1/users": "https://platform.example.com/api/v1/users",
      "ecommerce/api-gateway/api/v1/orders": "https://platform.example.com/api/v1/orders",
      "ecommerce/api-gateway/api/v1/payments": "https://platform.example.com/api/v1/payments",
      "fintech/backend-api": "https://platform.example.com/",
    });
  });

  it("deploys every Kubernetes object through the provider it was given, never a default one", () => {
    const provider = byType(run, "pulumi:providers:kubernetes")[0] as RecordedResource;
    const kubernetes = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    expect(kubernetes.length).toBeGreaterThan(15);
    for (const r of kubernetes)
      expect(r.provider.startsWith(`${provider.urn}::`), `${r.type} ${r.name}`).toBe(true);
  });
});

describe("IngressGateway (local profile)", () => {
  it("issues from a self-signed CA chain, installs charts from local paths and uses a plain LoadBalancer", async () => {
    const run = await build(LOCAL, "local", [
      ["app", { namespace: "trading", port: 8000, pathPrefixes: ["/"] }],
    ]);
    const bootstrap = objectNamed(run, "ClusterIssuer", "edge-selfsigned-bootstrap");
    expect(bootstrap.inputs.spec).toEqual({ selfSigned: {} });
    const ca = objectNamed(run, "Certificate", "edge-root-ca");
    expect(ca.inputs).toMatchObject({
      metadata: { namespace: "cert-manager" },
      spec: { isCA: true, secretName: "edge-root-ca", issuerRef: { name: "edge-selfsigned-bootstrap" } },
    });
    const issuer = objectNamed(run, "ClusterIssuer", "edge-selfsigned");
    expect(issuer.inputs.spec).toEqual({ ca: { secretName: "edge-root-ca" } });
    expect(objectNamed(run, "Certificate", "edge-tls").inputs.spec).toMatchObject({
      issuerRef: { name: "edge-selfsigned" },
    });
    for (const r of [bootstrap, ca, issuer]) await validateKubernetesObject(asObject(r));

    expect(release(run, "envoy-gateway").inputs).toMatchObject({
      chart: "./charts/gateway-helm",
      version: ENVOY_GATEWAY_CHART_VERSION,
    });
    expect(release(run, "cert-manager").inputs.chart).toBe("./charts/cert-manager.tgz");
    // One controller replica: no budgets (one would block every drain), and no minAvailable left idle.
    const oneReplica = { enabled: false };
    expect(release(run, "cert-manager").inputs.values).toMatchObject({
      podDisruptionBudget: oneReplica,
      webhook: { podDisruptionBudget: oneReplica },
      cainjector: { podDisruptionBudget: oneReplica },
    });
    expect(release(run, "cert-manager").inputs.values).not.toHaveProperty("podDisruptionBudget.minAvailable");
    expect(release(run, "cert-manager").inputs.repositoryOpts).toBeUndefined();
    const proxy = objectNamed(run, "EnvoyProxy", "edge-proxy");
    expect((proxy.inputs.spec as ProxySpec).provider.kubernetes.envoyService).toEqual({
      type: "LoadBalancer",
    });
    expect(objects(run, "BackendTrafficPolicy")).toHaveLength(0);
    expect(objects(run, "SecurityPolicy")).toHaveLength(0);
  });

  it("exposes the proxies on a cluster IP where the cluster has no load balancer provider", async () => {
    const run = await build({ ...LOCAL, loadBalancer: "clusterIP" }, "local", [
      ["app", { namespace: "trading", port: 8000, pathPrefixes: ["/"] }],
    ]);
    const proxy = objectNamed(run, "EnvoyProxy", "edge-proxy");
    // A LoadBalancer Service would never get an address there, and the Gateway waits for one.
    expect((proxy.inputs.spec as ProxySpec).provider.kubernetes.envoyService).toEqual({ type: "ClusterIP" });
    await validateKubernetesObject(asObject(proxy));
    expect(
      () => new IngressGateway("edge", { ...LOCAL, loadBalancer: "none" as "default" }, STAND_IN_KUBERNETES),
    ).toThrow('loadBalancer: "nlb", "default" or "clusterIP", found "none"');
  });

  it("routes a gRPC service with a GRPCRoute", async () => {
    const run = await build(LOCAL, "local", [
      [
        "orders",
        {
          namespace: "ecommerce",
          port: 9004,
          protocol: "grpc",
          grpcServices: ["shop.order.v1.OrderService"],
        },
      ],
    ]);
    const route = objectNamed(run, "GRPCRoute", "orders");
    expect(route.inputs.spec).toMatchObject({
      rules: [
        {
          matches: [{ method: { type: "Exact", service: "shop.order.v1.OrderService" } }],
          backendRefs: [{ name: "orders", port: 9004 }],
        },
      ],
    });
    await validateKubernetesObject(asObject(route));
    expect(run.urls).toEqual({ "ecommerce/orders": "https://platform.localtest.me/" });
  });
});

describe("rateLimitRule (window conversion, never more permissive than asked)", () => {
  it("keeps whole-unit windows and scales others down to the largest unit that still allows a request", () => {
    expect(rateLimitRule({ requests: 100, perSeconds: 60 })).toEqual({ requests: 100, unit: "Minute" });
    expect(rateLimitRule({ requests: 5000, perSeconds: 86400 })).toEqual({ requests: 5000, unit: "Day" });
    expect(rateLimitRule({ requests: 100, perSeconds: 900 })).toEqual({ requests: 6, unit: "Minute" });
    expect(rateLimitRule({ requests: 10, perSeconds: 7200 })).toEqual({ requests: 5, unit: "Hour" });
    // Fewer requests than the window allows per minute: the next longer unit with the whole budget.
    expect(rateLimitRule({ requests: 1, perSeconds: 900 })).toEqual({ requests: 1, unit: "Hour" });
  });
});

describe("IngressGateway arg errors", () => {
  const bad = (args: Partial<IngressGatewayArgs>) => () =>
    new IngressGateway("edge", { ...PRODUCTION, ...args }, STAND_IN_KUBERNETES);

  it("rejects ACME without an e-mail, wildcards with HTTP-01, and ACME fields on a self-signed issuer", () => {
    expect(bad({ tls: { issuer: "acme" } })).toThrow(ComponentArgsError);
    expect(bad({ tls: { issuer: "acme" } })).toThrow(/tls\.acmeEmail: required when tls\.issuer is "acme"/);
    expect(bad({ additionalHostnames: ["*.platform.example.com"] })).toThrow(
      /ACME HTTP-01 cannot validate wildcards/,
    );
    expect(bad({ tls: { issuer: "selfSigned", acmeEmail: "a@b.co" } })).toThrow(
      /tls\.acmeEmail: no value when tls\.issuer is "selfSigned"/,
    );
  });

  it("rejects unpinned or contradictory chart sources and a bad domain", () => {
    expect(bad({ envoyGatewayChart: { version: "latest", source: "repository" } })).toThrow(
      /envoyGatewayChart\.version: a pinned chart version/,
    );
    expect(bad({ certManagerChart: { version: CERT_MANAGER_CHART_VERSION, source: "localPath" } })).toThrow(
      /certManagerChart\.path: required when source is "localPath"/,
    );
    expect(
      bad({ certManagerChart: { version: CERT_MANAGER_CHART_VERSION, source: "repository", path: "./x" } }),
    ).toThrow(/certManagerChart\.path: no value when source is "repository"/);
    expect(bad({ domain: "not a domain" })).toThrow(/domain: a DNS name/);
    expect(bad({ proxyReplicas: 0 })).toThrow(/proxyReplicas: a whole number from 1 to 50/);
  });

  it("rejects a rate-limit Redis image that is not pinned", () => {
    expect(bad({ rateLimitRedisImage: "redis:latest" })).toThrow(
      'rateLimitRedisImage: image "redis:latest" is not reproducible; pin a version or a digest',
    );
    expect(bad({ rateLimitRedisImage: "redis@sha256:abc" })).toThrow(
      'rateLimitRedisImage: image digest "sha256:abc" is not a sha256 digest of 64 hex digits',
    );
  });

  it("rejects bad routes: exempt prefixes outside the routed ones, duplicates, gRPC paths, rate limits without the limiter", async () => {
    const messages: string[] = [];
    await runProgram(() => {
      const gw = new IngressGateway("edge", { ...PRODUCTION, rateLimiting: false }, onCluster());
      const attempt = (service: string, args: GatewayRouteArgs) => {
        try {
          gw.addRoutes(service, args);
        } catch (e) {
          expect(e).toBeInstanceOf(ComponentArgsError);
          messages.push((e as Error).message);
        }
      };
      attempt("api-gateway", {
        ...ECOMMERCE,
        jwt: { ...(ECOMMERCE.jwt as NonNullable<GatewayRouteArgs["jwt"]>), exemptPathPrefixes: ["/health"] },
      });
      attempt("backend-api", FINTECH);
      attempt("orders", { namespace: "ecommerce", port: 9004, protocol: "grpc", pathPrefixes: ["/api"] });
      gw.addRoutes("app", { namespace: "trading", port: 8000 });
      attempt("app", { namespace: "trading", port: 8000 });
    });
    expect(messages).toHaveLength(4);
    expect(messages[0]).toMatch(/"\/health" is under none of the routed prefixes/);
    expect(messages[1]).toMatch(/rateLimit: the gateway was created with rateLimiting false/);
    expect(messages[2]).toMatch(/gRPC routes match gRPC services, not paths/);
    expect(messages[3]).toMatch(/trading\/app already has routes on this Gateway/);
  });
});

describe("IngressGateway hostnames", () => {
  it("routes answer on their own hostname; one the certificate lacks, or a hostname+path another service holds, is rejected", async () => {
    const messages: string[] = [];
    const run = await runProgram(() => {
      const gw = new IngressGateway(
        "edge",
        {
          ...PRODUCTION,
          additionalHostnames: ["fintech.platform.example.com", "trading.platform.example.com"],
        },
        onCluster(),
      );
      gw.addRoutes("backend-api", {
        namespace: "fintech",
        port: 3000,
        hostname: "fintech.platform.example.com",
      });
      gw.addRoutes("trading-api", {
        namespace: "trading",
        port: 8000,
        hostname: "trading.platform.example.com",
      });
      for (const [service, args] of [
        ["other-api", { namespace: "fintech", port: 3001, hostname: "fintech.platform.example.com" }],
        ["shop-api", { namespace: "shop", port: 8000, hostname: "shop.platform.example.com" }],
      ] as const)
        try {
          gw.addRoutes(service, args);
        } catch (e) {
          messages.push((e as Error).message);
        }
    });
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(
      /fintech\.platform\.example\.com \/ is already routed to fintech\/backend-api/,
    );
    expect(messages[1]).toMatch(
      /hostname: one the certificate covers .* found "shop\.platform\.example\.com"/,
    );
    const hostnames = objects(run, "HTTPRoute")
      .filter((r) => (r.inputs.metadata as { namespace: string }).namespace !== "envoy-gateway-system")
      .map((r) => (r.inputs.spec as { hostnames: string[] }).hostnames);
    expect(hostnames).toEqual([["fintech.platform.example.com"], ["trading.platform.example.com"]]);
    const cert = objects(run, "Certificate").find(
      (c) => (c.inputs.metadata as { name: string }).name === "edge-tls",
    );
    expect((cert?.inputs.spec as { dnsNames: string[] }).dnsNames).toEqual([
      "platform.example.com",
      "fintech.platform.example.com",
      "trading.platform.example.com",
    ]);
  });
});

describe("IngressGateway namespaces", () => {
  it("state why the third-party namespaces enforce baseline rather than restricted", async () => {
    const run = await build(LOCAL, "local");
    const namespaces = objects(run, "Namespace");
    expect(namespaces.map((n) => (n.inputs.metadata as { name: string }).name).sort()).toEqual([
      "cert-manager",
      "envoy-gateway-system",
    ]);
    for (const ns of namespaces) {
      const metadata = ns.inputs.metadata as {
        labels: Record<string, string>;
        annotations: Record<string, string>;
      };
      expect(metadata.labels).toMatchObject({
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/warn": "restricted",
      });
      expect(metadata.labels["microservices-platform/platform"]).toBeUndefined();
      expect(metadata.annotations["microservices-platform/pod-security-exemption"]).toMatch(/upstream chart/);
    }
  });
});

describe("IngressGateway dependsOn (the AWS Load Balancer Controller on EKS)", () => {
  it("holds back what makes the proxy's LoadBalancer Service exist, not cert-manager", async () => {
    const run = await runProgram(
      () => {
        const provider = new k8s.Provider("cluster-k8s", { kubeconfig: "{}" });
        const controller = new k8s.helm.v3.Release(
          "lb-controller",
          { chart: "aws-load-balancer-controller", version: "1.13.4", namespace: "kube-system" },
          { provider },
        );
        const gw = new IngressGateway("edge", PRODUCTION, {
          providers: { kubernetes: provider },
          dependsOn: [controller],
        });
        gw.addRoutes("backend-api", FINTECH);
        return { controller: controller.urn };
      },
      { stack: "production" },
    );
    const controllerUrn = run.outputs.controller as string;
    expect(controllerUrn).toContain("lb-controller");
    for (const held of [
      release(run, "envoy-gateway"),
      objectNamed(run, "EnvoyProxy", "edge-proxy"),
      objectNamed(run, "Gateway", "edge"),
    ])
      expect(held.dependencies, held.name).toContain(controllerUrn);
    for (const free of [release(run, "cert-manager"), ...objects(run, "Namespace")])
      expect(free.dependencies, free.name).not.toContain(controllerUrn);
    // The component itself is registered without it (the SDK would not pass it on to children anyway).
    const component = run.resources.find((r) => r.type === "platform:index:IngressGateway");
    expect(component?.dependencies).toEqual([]);
  });

  it("waits for the cluster's controller in the production stack, and has none to wait for locally", async () => {
    const production = await runStack("production");
    const controller = byType(production, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.inputs.chart === "aws-load-balancer-controller",
    ) as RecordedResource;
    expect(controller.inputs.namespace).toBe("kube-system");
    const proxy = byType(production, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy")[0];
    expect(proxy?.dependencies).toContain(controller.urn);
    const local = await runStack("local");
    expect(
      byType(local, "kubernetes:helm.sh/v3:Release").filter((r) =>
        String(r.inputs.chart).includes("aws-load-balancer-controller"),
      ),
    ).toEqual([]);
  });
});
