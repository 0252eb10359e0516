/**
 * IngressGateway: the platform's public entry point, on the Gateway API (ingress-nginx is retired).
 *
 * Installs Envoy Gateway (the Gateway API implementation, with the Gateway API CRDs) and cert-manager
 * from their Helm charts at pinned versions, then creates:
 * - a ClusterIssuer: ACME (HTTP-01 answered through this Gateway) or a self-signed CA chain;
 * - a Certificate for the domain, issued by that ClusterIssuer into the Secret the HTTPS listener serves;
 * - an EnvoyProxy (proxy replicas, zone spread, PDB; on AWS an internet-facing NLB with IP targets
 *   that preserves client IPs), a GatewayClass pointing at it, and a Gateway with an HTTPS listener
 *   (TLS terminates at the Gateway) open to routes from namespaces matching `routeNamespaceSelector`,
 *   plus an HTTP listener whose only route redirects to HTTPS;
 * - for per-client-IP rate limits, a small in-namespace Redis for Envoy Gateway's global rate limiter.
 *
 * `addRoutes(service, args)` then publishes a service: an HTTPRoute (GRPCRoute for gRPC) in the
 * service's namespace, a SecurityPolicy validating JWTs against the issuer's in-cluster JWKS (exempt
 * prefixes get their own route without it), and a BackendTrafficPolicy for its rate limit.
 *
 * `opts.dependsOn` holds back only what makes the proxy's LoadBalancer Service exist (the Envoy
 * Gateway release, the EnvoyProxy and the Gateway): on EKS, pass the AWS Load Balancer Controller
 * (`KubernetesCluster.loadBalancerController`) so the NLB has a controller when the Service appears,
 * and so that on destroy the Gateway goes before the controller that must delete its NLB.
 *
 * Rate limits are global (shared by all proxy replicas, counted in Redis), per client IP: Envoy
 * Gateway's local limiter counts per replica (3 replicas would allow 3x the budget) and does not key
 * buckets per client IP. Envoy Gateway limits are fixed windows of one Second/Minute/Hour/Day, so a
 * window that is not a whole unit is converted (`rateLimitRule`): the largest unit not longer than the
 * window that still allows at least one request, with the budget scaled down and rounded down, so the
 * limit is never more permissive than asked (100 per 900 s becomes 6 per Minute: at most 90 per
 * 15 minutes, bursts capped at 6 a minute). A window of exactly one unit is kept as is.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  ADD_ON_POLICY_COMPONENT,
  type ClusterNetwork,
  DEFAULT_CLUSTER_NETWORK,
  isolateAddOnNamespace,
  type NamespaceSelector,
} from "./addon-network";
import { chartImageValues, mergeValues } from "./chart-images";
import { certManagerWorkloads, gatewayWorkloads } from "./addon-workloads";
import {
  chartProblems,
  chartRef,
  childName,
  ComponentArgsError,
  domainKey,
  type HelmChartSource,
  imageReferenceProblem,
  labelDomainProblem,
  platformLabelKey,
  podSecurityExemptionAnnotation,
  providerProblems,
  secretKeyFile,
  stableHash,
  URL_SAFE_PASSWORD,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  scratchVolumes,
  selectorLabels,
  serviceHost,
  splitDependsOn,
  stageProblem,
  standardLabels,
  standardProbes,
  typeToken,
  type LabelDomainArgs,
  type PlatformLabels,
  type Stage,
  withDependsOn,
} from "./lib";

/** Where a third-party Helm chart comes from (defined in lib.ts, shared with KubernetesCluster). */
export type { HelmChartSource } from "./lib";

export interface IngressGatewayArgs extends LabelDomainArgs {
  /**
   * Public DNS name the Gateway serves; routes are published under it (path-based). Point it (CNAME
   * or alias) at `address` once deployed.
   * @example "shop.example.com"
   */
  domain: string;
  /**
   * Further DNS names on the certificate (and accepted by the HTTPS listener). Wildcards only with
   * the `selfSigned` issuer (ACME HTTP-01 cannot validate a wildcard).
   * @default []
   * @example ["api.shop.example.com"]
   */
  additionalHostnames?: string[];
  /**
   * Certificate issuance. `acme` (staging, production): Let's Encrypt (or `acmeServer`) with HTTP-01
   * solved through this Gateway; needs `acmeEmail`. `selfSigned` (local): a self-signed root CA issues
   * the certificate; `acmeEmail` / `acmeServer` must be left out.
   * @example { issuer: "acme", acmeEmail: "platform@example.com" }
   */
  tls: {
    issuer: "acme" | "selfSigned";
    /** ACME account e-mail (expiry notices). Required for `acme`. */
    acmeEmail?: string;
    /**
     * ACME directory.
     * @default "https://acme-v02.api.letsencrypt.org/directory"
     */
    acmeServer?: string;
  };
  /**
   * Envoy Gateway chart (`oci://docker.io/envoyproxy/gateway-helm`), pinned. The Helm values and
   * objects this component writes are checked against `ENVOY_GATEWAY_CHART_VERSION`.
   * @example { version: ENVOY_GATEWAY_CHART_VERSION, source: "repository" }
   */
  envoyGatewayChart: HelmChartSource;
  /**
   * cert-manager chart (`cert-manager` from https://charts.jetstack.io), pinned. The Helm values
   * this component writes are checked against `CERT_MANAGER_CHART_VERSION`.
   * @example { version: CERT_MANAGER_CHART_VERSION, source: "repository" }
   */
  certManagerChart: HelmChartSource;
  /**
   * How the proxy Service is exposed. `nlb`: an internet-facing AWS Network Load Balancer with IP
   * targets and client IP preservation (needs the AWS Load Balancer Controller in the cluster:
   * KubernetesCluster installs it on EKS; pass it in `opts.dependsOn`).
   * `default`: a plain `LoadBalancer` Service, as the cluster provides it (kind, k3d, minikube tunnel).
   * `clusterIP`: no external address, for a cluster with no load balancer provider (the embedded
   * local cluster): the Gateway's address is the Service's cluster IP; reach it with
   * `kubectl port-forward`. Without a provider a `LoadBalancer` Service never gets an address, and
   * the Gateway waits for one.
   * @default "default"
   * @example "nlb"
   */
  loadBalancer?: "nlb" | "default" | "clusterIP";
  /**
   * Envoy proxy replicas (the public entry point), spread across zones; a PDB keeps all but one up.
   * @default 2
   * @example 3
   */
  proxyReplicas?: number;
  /**
   * Replicas of the Envoy Gateway and cert-manager controllers (leader-elected).
   * @default 2
   * @example 1
   */
  controllerReplicas?: number;
  /**
   * Namespaces whose routes may attach to the HTTPS listener.
   * @default namespaces carrying the `<labelDomain>/platform` label
   * @example { matchLabels: { "platform.acme.io/platform": "ecommerce" } }
   */
  routeNamespaceSelector?: {
    matchLabels?: Record<string, string>;
    matchExpressions?: {
      key: string;
      operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
      values?: string[];
    }[];
  };
  /**
   * Run the global rate limiter (a Redis for its counters), needed by `addRoutes(..., { rateLimit })`.
   * @default true
   */
  rateLimiting?: boolean;
  /**
   * Image of the rate limiter's Redis (counters only: no persistence, no credentials, reachable only
   * from the gateway namespace). The official Alpine image or one built the same way (UID 999), e.g.
   * the default pinned by digest: `"redis:7.4.5-alpine@sha256:<digest>"`.
   * @default RATE_LIMIT_REDIS_IMAGE ("redis:7.4.5-alpine")
   */
  rateLimitRedisImage?: string;
  /**
   * Namespace of Envoy Gateway, its proxies and the Gateway.
   * @default "envoy-gateway-system"
   */
  namespace?: string;
  /**
   * Namespace of cert-manager (also holds the self-signed CA and the ACME account key).
   * @default "cert-manager"
   */
  certManagerNamespace?: string;
  /**
   * Where the nodes and the API server are, for the add-on namespaces' NetworkPolicies (default deny,
   * then each chart workload's flows: see docs/connectivity.md). Default: the private ranges, API
   * server on 443 and 6443. On EKS pass the cluster's private subnets and `[443]`.
   * @example { cidrs: ["10.30.0.0/19"], apiServerPorts: [443] }
   */
  clusterNetwork?: ClusterNetwork;
  /**
   * Stage label for what this component creates.
   * @example { stage: "production" }
   */
  labels?: PlatformLabels;
}

/** A service published through the Gateway (`addRoutes`). */
export interface GatewayRouteArgs {
  /** Namespace of the service (it must match `routeNamespaceSelector`). @example "ecommerce" */
  namespace: string;
  /**
   * Hostname the routes answer on: `domain` or one of `additionalHostnames` (the certificate covers
   * only those). Give each platform its own so that two platforms can both serve `/`.
   * @default the gateway's `domain`
   * @example "fintech.platform.example.com"
   */
  hostname?: string;
  /** Service port the Gateway forwards to. @example 8000 */
  port: number;
  /**
   * `http` creates an HTTPRoute, `grpc` a GRPCRoute.
   * @default "http"
   */
  protocol?: "http" | "grpc";
  /**
   * Path prefixes routed to the service (`http`). For `grpc` leave out (all gRPC services) or use `grpcServices`.
   * @example ["/api/v1/users", "/api/v1/orders"]
   */
  pathPrefixes?: string[];
  /**
   * Fully-qualified gRPC services routed (`grpc` only).
   * @default every gRPC service on the hostname
   * @example ["shop.user.v1.UserService"]
   */
  grpcServices?: string[];
  /**
   * Validate a JWT before forwarding. The issuer's JSON Web Key Set is fetched in-cluster from
   * `http://<issuerService>.<issuerNamespace>.svc.cluster.local:<issuerPort><jwksPath>`. Requests under
   * `exemptPathPrefixes` (login, registration, webhooks) are routed without validation.
   */
  jwt?: {
    /** Expected `iss` claim. @example "https://shop.example.com" */
    issuer: string;
    /** Service publishing the JWKS. @example "user-service" */
    issuerService: string;
    /** Its HTTP port serving the JWKS. @example 9001 */
    issuerPort: number;
    /** Namespace of the issuer service. @default the route's namespace */
    issuerNamespace?: string;
    /** Path of the JWKS. @example "/.well-known/jwks.json" */
    jwksPath: string;
    /** Expected `aud` values. @default not checked */
    audiences?: string[];
    /** Prefixes (each under one of `pathPrefixes`) served without a token. @default [] */
    exemptPathPrefixes?: string[];
  };
  /**
   * Requests allowed per client IP per window (see the module notes on window conversion).
   * @example { requests: 100, perSeconds: 900 }
   */
  rateLimit?: { requests: number; perSeconds: number };
}

export const ENVOY_GATEWAY_CHART = "oci://docker.io/envoyproxy/gateway-helm";
export const CERT_MANAGER_REPOSITORY = "https://charts.jetstack.io";
/**
 * The pinned Envoy Gateway chart: the `gateway-helm` release of the same version as the controller,
 * whose Go module (github.com/envoyproxy/gateway) ships the chart, the CRDs and `egctl` that the
 * tests check our values and objects against. Bump with the CRD adaptations its release notes ask for.
 */
export const ENVOY_GATEWAY_CHART_VERSION = "v1.9.1";
/**
 * The pinned cert-manager chart, whose sources (values.yaml, values.schema.json, templates) ship in
 * the github.com/cert-manager/cert-manager module of the same version that the tests read.
 */
export const CERT_MANAGER_CHART_VERSION = "v1.21.2";
const LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";
const GATEWAY_API = "gateway.networking.k8s.io";
const DNS_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const REDIS_PORT = 6379;
/** The rate limiter's Redis when `rateLimitRedisImage` is not given. */
export const RATE_LIMIT_REDIS_IMAGE = "redis:7.4.5-alpine";
const REDIS_UID = 999;

/** NLB annotations for the AWS Load Balancer Controller. */
export const NLB_SERVICE_ANNOTATIONS: Readonly<Record<string, string>> = {
  "service.beta.kubernetes.io/aws-load-balancer-type": "external",
  "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
  "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
  // Envoy must see the client's address: rate limits are per client IP.
  "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true",
  "service.beta.kubernetes.io/aws-load-balancer-attributes": "load_balancing.cross_zone.enabled=true",
};

export class IngressGateway extends pulumi.ComponentResource {
  /** The Gateway's address (the NLB hostname on AWS): point the domain's DNS record at it. */
  public readonly address: pulumi.Output<string>;
  /** Public URLs, keyed `<namespace>/<service><prefix>` ("/" prefixes keyed `<namespace>/<service>`); filled by `addRoutes`. */
  public readonly urls: Record<string, string> = {};
  /** Namespace of the Gateway and its Envoy proxies (admit it in NetworkPolicies of exposed services). */
  public readonly gatewayNamespace: string;
  /** Name of the Gateway. */
  public readonly gatewayName: string;
  /** Name of the ClusterIssuer that issues the Gateway's certificate. */
  public readonly clusterIssuerName: string;
  /** Pod labels of the Envoy proxies (NetworkPolicy peers for exposed services). */
  public readonly proxyPodLabels: Record<string, string>;
  /** The domain routes are published under. */
  public readonly domain: string;

  private readonly componentName: string;
  private readonly rateLimiting: boolean;
  private readonly stage: Stage | undefined;
  private readonly labelDomain: string | undefined;
  private readonly routed = new Set<string>();
  /** Hostnames the certificate covers (routes may answer only on these). */
  private readonly hostnames: readonly string[];
  /** `<hostname> <match>` → the service that claimed it: a second claim is an error, not a silent shadow. */
  private readonly claims = new Map<string, string>();
  private readonly ready: pulumi.Resource[];

  constructor(name: string, args: IngressGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    // Every problem is reported before anything (even this component) is registered.
    const spec = normalize(name, args, providerProblems(opts, "kubernetes"));
    // `opts.dependsOn` (e.g. the AWS Load Balancer Controller that must serve the proxy's NLB) holds
    // back what makes the proxy Service exist: Envoy Gateway, the EnvoyProxy and the Gateway. The
    // controllers' namespaces, cert-manager and the issuers do not wait for it.
    const { options, dependsOn: external } = splitDependsOn(opts);
    super(typeToken("IngressGateway"), name, {}, options);
    this.componentName = name;
    this.domain = args.domain;
    this.hostnames = spec.hostnames;
    this.rateLimiting = spec.rateLimiting;
    this.stage = spec.stage;
    this.labelDomain = spec.labelDomain;
    this.gatewayNamespace = spec.namespace;
    this.gatewayName = name;
    this.clusterIssuerName = spec.issuerName;
    this.proxyPodLabels = envoyProxyPodLabels(name, spec.namespace);

    const ns = createNamespaces(spec, this);
    isolateGatewayNamespaces(spec, ns, this);
    const redis = spec.rateLimiting ? createRateLimitRedis(spec, ns.gateway, this) : [];
    const envoyGateway = installEnvoyGateway(spec, ns.gateway, withDependsOn(external, ...redis), this);
    const certManager = installCertManager(spec, ns.certManager, envoyGateway, this);
    const issuer = createIssuer(spec, certManager, ns.certManager, this);
    const certificate = createCertificate(spec, issuer, ns.gateway, this);
    const proxy = createEnvoyProxy(spec, withDependsOn(external, envoyGateway), this);
    const gatewayClass = createGatewayClass(spec, [envoyGateway, proxy], this);
    // The Gateway must not wait for the certificate: ACME HTTP-01 is answered through this Gateway.
    const gateway = createGateway(spec, withDependsOn(external, gatewayClass, ns.gateway), this);
    const redirect = createHttpsRedirect(spec, gateway, this);
    this.ready = [gateway, certificate, redirect];

    this.address = (
      gateway as unknown as { status: pulumi.Output<{ addresses?: { value?: string }[] } | undefined> }
    ).status.apply((s) => s?.addresses?.[0]?.value ?? "");
    this.registerOutputs({
      address: this.address,
      gatewayNamespace: this.gatewayNamespace,
      gatewayName: this.gatewayName,
      clusterIssuerName: this.clusterIssuerName,
    });
  }

  /**
   * Publishes `serviceName` through the Gateway: its route(s) in its namespace, JWT validation and the
   * rate limit. Returns the public URLs it added (also merged into `urls`).
   */
  public addRoutes(
    serviceName: string,
    args: GatewayRouteArgs,
    opts?: { dependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]> },
  ): Record<string, string> {
    const hostname = args.hostname ?? this.domain;
    this.claimRoutes(serviceName, hostname, args);
    const target: RouteTarget = {
      gateway: this.componentName,
      gatewayNamespace: this.gatewayNamespace,
      serviceName,
      namespace: args.namespace,
      hostname,
      base: childName(this.componentName, `${args.namespace}-${serviceName}`),
      labels: componentLabels(serviceName, "route", this.stage, this.labelDomain),
      options: {
        parent: this,
        dependsOn: pulumi.output(opts?.dependsOn ?? []).apply((d) => [...d, ...this.ready]),
      },
    };
    const routes = createRoutes(target, args);
    if (args.jwt) createJwtPolicy(target, args.jwt, routes[0] as PublishedRoute);
    if (args.rateLimit) createRateLimitPolicy(target, args.rateLimit, routes);

    const added = routeUrls(target, args);
    Object.assign(this.urls, added);
    return added;
  }

  /** Checks the route args and that no other service holds its claims, then records them. */
  private claimRoutes(serviceName: string, hostname: string, args: GatewayRouteArgs): void {
    const claims = routeClaims(hostname, args);
    const problems = routeArgProblems(serviceName, args, {
      rateLimiting: this.rateLimiting,
      routed: this.routed,
      hostnames: this.hostnames,
      claimed: claims.flatMap((c) => {
        const owner = this.claims.get(c);
        return owner ? [`${c} is already routed to ${owner}`] : [];
      }),
    });
    if (problems.length > 0)
      throw new ComponentArgsError("IngressGateway", `${this.componentName}/${serviceName}`, problems);
    this.routed.add(`${args.namespace}/${serviceName}`);
    for (const c of claims) this.claims.set(c, `${args.namespace}/${serviceName}`);
  }
}

/** The args with defaults applied and the names derived from them, once every arg checks out. */
interface GatewaySpec {
  name: string;
  args: IngressGatewayArgs;
  /** The domain, then `additionalHostnames`: what the certificate covers. */
  hostnames: string[];
  namespace: string;
  certManagerNamespace: string;
  proxyReplicas: number;
  controllerReplicas: number;
  rateLimiting: boolean;
  stage: Stage | undefined;
  labelDomain: string | undefined;
  issuerName: string;
  tlsSecretName: string;
  /** The rate limiter's Redis: its name, the URL Envoy Gateway reaches it at, and its credentials' Secret. */
  redis: { name: string; url: string; authSecret: string; image: string };
}

/** Checks every arg (throws ComponentArgsError listing every problem), then applies the defaults. */
function normalize(name: string, args: IngressGatewayArgs, optionProblems: string[]): GatewaySpec {
  const problems = [...optionProblems, ...gatewayArgProblems(name, args)];
  if (problems.length > 0) throw new ComponentArgsError("IngressGateway", name, problems);
  const namespace = args.namespace ?? "envoy-gateway-system";
  const redisName = `${name}-ratelimit-redis`;
  return {
    name,
    args,
    hostnames: [args.domain, ...(args.additionalHostnames ?? [])],
    namespace,
    certManagerNamespace: args.certManagerNamespace ?? "cert-manager",
    proxyReplicas: args.proxyReplicas ?? 2,
    controllerReplicas: args.controllerReplicas ?? 2,
    rateLimiting: args.rateLimiting ?? true,
    stage: args.labels?.stage,
    labelDomain: args.labelDomain,
    issuerName: `${name}-${args.tls.issuer === "acme" ? "acme" : "selfsigned"}`,
    tlsSecretName: `${name}-tls`,
    redis: {
      name: redisName,
      url: `${serviceHost(redisName, namespace)}:${REDIS_PORT}`,
      authSecret: childName(redisName, "auth"),
      image: args.rateLimitRedisImage ?? RATE_LIMIT_REDIS_IMAGE,
    },
  };
}

function componentLabels(
  name: string,
  component: string,
  stage: Stage | undefined,
  labelDomain: string | undefined,
): Record<string, string> {
  return standardLabels({ name, component, ...(stage ? { stage } : {}), labelDomain });
}

/** Labels of the gateway's own objects, by component. */
function gatewayLabels(spec: GatewaySpec, component: string): Record<string, string> {
  return componentLabels(spec.name, component, spec.stage, spec.labelDomain);
}

/** The namespaces of Envoy Gateway and cert-manager, both third-party controllers. */
function createNamespaces(
  spec: GatewaySpec,
  parent: pulumi.Resource,
): { gateway: k8s.core.v1.Namespace; certManager: k8s.core.v1.Namespace } {
  const namespace = (nsName: string, suffix: string, exemption: string) =>
    new k8s.core.v1.Namespace(
      childName(spec.name, suffix),
      {
        metadata: {
          name: nsName,
          annotations: { [podSecurityExemptionAnnotation(spec.labelDomain)]: exemption },
          labels: {
            ...gatewayLabels(spec, suffix),
            // Third-party controllers: enforce baseline, report anything short of restricted.
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
          },
        },
      },
      { parent },
    );
  return {
    gateway: namespace(
      spec.namespace,
      "gateway-ns",
      "Envoy Gateway's controller and proxies come from the upstream chart and EnvoyProxy defaults, which are not guaranteed to meet restricted; enforced at baseline, restricted violations warned and audited.",
    ),
    certManager: namespace(
      spec.certManagerNamespace,
      "cert-manager-ns",
      "cert-manager comes from the upstream chart, which is not guaranteed to meet restricted; enforced at baseline, restricted violations warned and audited.",
    ),
  };
}

/** The Envoy Gateway release (Helm values carry no secrets). */
function installEnvoyGateway(
  spec: GatewaySpec,
  gatewayNs: k8s.core.v1.Namespace,
  dependsOn: pulumi.Input<pulumi.Resource>[],
  parent: pulumi.Resource,
): k8s.helm.v3.Release {
  const values: Record<string, unknown> = {
    // Every image the chart runs, stated so that the render lists it and a lock can pin it.
    ...chartImageValues("gateway-helm"),
    deployment: { replicas: spec.controllerReplicas },
    podDisruptionBudget: { minAvailable: spec.controllerReplicas > 1 ? 1 : 0 },
    ...(spec.rateLimiting
      ? {
          config: {
            envoyGateway: {
              rateLimit: { backend: { type: "Redis", redis: { url: spec.redis.url } } },
              // The rate limit service authenticates to Redis with the generated password (a reference:
              // the values carry no secret).
              provider: {
                kubernetes: {
                  rateLimitDeployment: {
                    container: {
                      env: [
                        {
                          name: "REDIS_AUTH",
                          valueFrom: { secretKeyRef: { name: spec.redis.authSecret, key: "password" } },
                        },
                      ],
                    },
                  },
                },
              },
            },
          },
        }
      : {}),
  };
  return new k8s.helm.v3.Release(
    childName(spec.name, "envoy-gateway"),
    {
      name: "envoy-gateway",
      namespace: gatewayNs.metadata.name,
      ...chartRef(spec.args.envoyGatewayChart, ENVOY_GATEWAY_CHART),
      values,
      timeout: 600,
      maxHistory: 10,
      cleanupOnFail: true,
    },
    { parent, dependsOn },
  );
}

/** The cert-manager release (Helm values carry no secrets). */
function installCertManager(
  spec: GatewaySpec,
  certManagerNs: k8s.core.v1.Namespace,
  envoyGateway: k8s.helm.v3.Release,
  parent: pulumi.Resource,
): k8s.helm.v3.Release {
  const replicas = spec.controllerReplicas;
  // The chart has one budget per Deployment; with one replica a budget would block every drain.
  const podDisruptionBudget = replicas > 1 ? { enabled: true, minAvailable: 1 } : { enabled: false };
  // Every image the chart runs, stated so that the render lists it and a lock can pin it.
  const values: Record<string, unknown> = mergeValues(chartImageValues("cert-manager"), {
    crds: { enabled: true, keep: true },
    replicaCount: replicas,
    podDisruptionBudget,
    webhook: { replicaCount: replicas, podDisruptionBudget },
    cainjector: { replicaCount: replicas, podDisruptionBudget },
    // The ACME HTTP-01 solver answers through the Gateway (gatewayHTTPRoute) only with Gateway API support on.
    config: {
      apiVersion: "controller.config.cert-manager.io/v1alpha1",
      kind: "ControllerConfiguration",
      gatewayAPI: { enabled: true },
    },
    prometheus: { enabled: true },
  });
  return new k8s.helm.v3.Release(
    childName(spec.name, "cert-manager"),
    {
      name: "cert-manager",
      namespace: certManagerNs.metadata.name,
      ...chartRef(spec.args.certManagerChart, "cert-manager", CERT_MANAGER_REPOSITORY),
      values,
      timeout: 600,
      maxHistory: 10,
      cleanupOnFail: true,
    },
    // cert-manager discovers the Gateway API at start-up: its CRDs (from Envoy Gateway) must exist first.
    { parent, dependsOn: [envoyGateway] },
  );
}

/** The ClusterIssuer of the Gateway's certificate: ACME, or a CA chain rooted in a self-signed issuer. */
function createIssuer(
  spec: GatewaySpec,
  certManager: k8s.helm.v3.Release,
  certManagerNs: k8s.core.v1.Namespace,
  parent: pulumi.Resource,
): k8s.apiextensions.CustomResource {
  return spec.args.tls.issuer === "acme"
    ? createAcmeIssuer(spec, certManager, parent)
    : createSelfSignedIssuer(spec, certManager, certManagerNs, parent);
}

function createAcmeIssuer(
  spec: GatewaySpec,
  certManager: k8s.helm.v3.Release,
  parent: pulumi.Resource,
): k8s.apiextensions.CustomResource {
  const { name, issuerName } = spec;
  return new k8s.apiextensions.CustomResource(
    childName(name, "issuer"),
    {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: issuerName, labels: gatewayLabels(spec, "issuer") },
      spec: {
        acme: {
          server: spec.args.tls.acmeServer ?? LETSENCRYPT,
          email: spec.args.tls.acmeEmail,
          privateKeySecretRef: { name: `${issuerName}-account` },
          solvers: [
            {
              http01: {
                gatewayHTTPRoute: {
                  parentRefs: [
                    {
                      group: GATEWAY_API,
                      kind: "Gateway",
                      name,
                      namespace: spec.namespace,
                      sectionName: "http",
                    },
                  ],
                },
              },
            },
          ],
        },
      },
    },
    { parent, dependsOn: [certManager] },
  );
}

function createSelfSignedIssuer(
  spec: GatewaySpec,
  certManager: k8s.helm.v3.Release,
  certManagerNs: k8s.core.v1.Namespace,
  parent: pulumi.Resource,
): k8s.apiextensions.CustomResource {
  const { name } = spec;
  const labels = gatewayLabels(spec, "issuer");
  const bootstrap = new k8s.apiextensions.CustomResource(
    childName(name, "selfsigned-bootstrap"),
    {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: `${name}-selfsigned-bootstrap`, labels },
      spec: { selfSigned: {} },
    },
    { parent, dependsOn: [certManager] },
  );
  const caSecret = `${name}-root-ca`;
  const ca = new k8s.apiextensions.CustomResource(
    childName(name, "root-ca"),
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: caSecret, namespace: spec.certManagerNamespace, labels },
      spec: {
        isCA: true,
        commonName: `${name} root CA`,
        secretName: caSecret,
        duration: "87600h",
        privateKey: { algorithm: "ECDSA", size: 256 },
        issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: `${name}-selfsigned-bootstrap` },
      },
    },
    { parent, dependsOn: [bootstrap, certManagerNs] },
  );
  return new k8s.apiextensions.CustomResource(
    childName(name, "issuer"),
    {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: spec.issuerName, labels },
      spec: { ca: { secretName: caSecret } },
    },
    { parent, dependsOn: [ca] },
  );
}

/** The certificate for the domain and `additionalHostnames`, into the Secret the HTTPS listener serves. */
function createCertificate(
  spec: GatewaySpec,
  issuer: k8s.apiextensions.CustomResource,
  gatewayNs: k8s.core.v1.Namespace,
  parent: pulumi.Resource,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    childName(spec.name, "certificate"),
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: {
        name: `${spec.name}-tls`,
        namespace: spec.namespace,
        labels: gatewayLabels(spec, "certificate"),
      },
      spec: {
        secretName: spec.tlsSecretName,
        dnsNames: spec.hostnames,
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: spec.issuerName },
      },
    },
    { parent, dependsOn: [issuer, gatewayNs] },
  );
}

/** The EnvoyProxy: proxy replicas spread over zones, a PDB, and the LoadBalancer Service (an NLB on AWS). */
function createEnvoyProxy(
  spec: GatewaySpec,
  dependsOn: pulumi.Input<pulumi.Resource>[],
  parent: pulumi.Resource,
): k8s.apiextensions.CustomResource {
  const { name } = spec;
  return new k8s.apiextensions.CustomResource(
    childName(name, "proxy"),
    {
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "EnvoyProxy",
      metadata: { name: `${name}-proxy`, namespace: spec.namespace, labels: gatewayLabels(spec, "proxy") },
      spec: {
        provider: {
          type: "Kubernetes",
          kubernetes: {
            envoyDeployment: {
              replicas: spec.proxyReplicas,
              pod: {
                topologySpreadConstraints: [
                  {
                    maxSkew: 1,
                    topologyKey: "topology.kubernetes.io/zone",
                    whenUnsatisfiable: "ScheduleAnyway",
                    labelSelector: { matchLabels: { "gateway.envoyproxy.io/owning-gateway-name": name } },
                  },
                ],
              },
            },
            envoyPDB: { maxUnavailable: 1 },
            envoyService: {
              type: spec.args.loadBalancer === "clusterIP" ? "ClusterIP" : "LoadBalancer",
              ...((spec.args.loadBalancer ?? "default") === "nlb"
                ? { annotations: { ...NLB_SERVICE_ANNOTATIONS } }
                : {}),
            },
          },
        },
      },
    },
    { parent, dependsOn },
  );
}

function createGatewayClass(
  spec: GatewaySpec,
  dependsOn: pulumi.Resource[],
  parent: pulumi.Resource,
): k8s.apiextensions.CustomResource {
  const { name } = spec;
  return new k8s.apiextensions.CustomResource(
    childName(name, "class"),
    {
      apiVersion: `${GATEWAY_API}/v1`,
      kind: "GatewayClass",
      metadata: { name: `${name}-envoy`, labels: gatewayLabels(spec, "gateway") },
      spec: {
        controllerName: "gateway.envoyproxy.io/gatewayclass-controller",
        parametersRef: {
          group: "gateway.envoyproxy.io",
          kind: "EnvoyProxy",
          name: `${name}-proxy`,
          namespace: spec.namespace,
        },
      },
    },
    { parent, dependsOn },
  );
}

/**
 * The Gateway: an HTTPS listener terminating TLS for routes from the namespaces `routeNamespaceSelector`
 * admits, and an HTTP listener for the redirect and ACME challenges.
 */
function createGateway(
  spec: GatewaySpec,
  dependsOn: pulumi.Input<pulumi.Resource>[],
  parent: pulumi.Resource,
): k8s.apiextensions.CustomResource {
  const { name } = spec;
  const namespaces = routeNamespaces(spec);
  return new k8s.apiextensions.CustomResource(
    childName(name, "gateway"),
    {
      apiVersion: `${GATEWAY_API}/v1`,
      kind: "Gateway",
      metadata: {
        name,
        namespace: spec.namespace,
        labels: gatewayLabels(spec, "gateway"),
        // The address is published in status once the proxy Service has a load balancer.
        annotations: { "pulumi.com/waitFor": "jsonpath={.status.addresses[0].value}" },
      },
      spec: {
        gatewayClassName: `${name}-envoy`,
        listeners: [
          {
            name: "https",
            protocol: "HTTPS",
            port: 443,
            tls: {
              mode: "Terminate",
              certificateRefs: [{ group: "", kind: "Secret", name: spec.tlsSecretName }],
            },
            allowedRoutes: {
              namespaces: { from: "Selector", selector: namespaces },
              kinds: [
                { group: GATEWAY_API, kind: "HTTPRoute" },
                { group: GATEWAY_API, kind: "GRPCRoute" },
              ],
            },
          },
          // Plain HTTP serves only the redirect and cert-manager's ACME challenges (same namespace).
          {
            name: "http",
            protocol: "HTTP",
            port: 80,
            allowedRoutes: {
              namespaces: { from: "Same" },
              kinds: [{ group: GATEWAY_API, kind: "HTTPRoute" }],
            },
          },
        ],
      },
      status: undefined,
    },
    { parent, dependsOn },
  );
}

/** The HTTP listener's only route: a permanent redirect to HTTPS. */
function createHttpsRedirect(
  spec: GatewaySpec,
  gateway: k8s.apiextensions.CustomResource,
  parent: pulumi.Resource,
): k8s.apiextensions.CustomResource {
  const { name, namespace } = spec;
  return new k8s.apiextensions.CustomResource(
    childName(name, "https-redirect"),
    {
      apiVersion: `${GATEWAY_API}/v1`,
      kind: "HTTPRoute",
      metadata: { name: `${name}-https-redirect`, namespace, labels: gatewayLabels(spec, "gateway") },
      spec: {
        parentRefs: [{ group: GATEWAY_API, kind: "Gateway", name, namespace, sectionName: "http" }],
        rules: [
          { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
        ],
      },
    },
    { parent, dependsOn: [gateway] },
  );
}

/** Redis's configuration: counters only, nothing persisted, a password required (protected mode on). */
const RATE_LIMIT_REDIS_CONFIG = [
  'save ""',
  "appendonly no",
  "maxmemory 96mb",
  "maxmemory-policy volatile-ttl",
  "protected-mode yes",
];

/**
 * Redis holding the global rate limiter's counters: nothing persisted, a generated password
 * (protected mode stays on), same-namespace access only, and an explicit PodDisruptionBudget.
 *
 * One replica, in every stage, on purpose: the counters are windows of a minute or so, so a
 * replica would only replicate state that is stale by the time a failover finished, and Envoy
 * Gateway's rate limit service speaks to a single Redis URL (a Sentinel setup would need its own
 * HA layer). While the pod restarts, the rate limit filter fails open (requests pass unlimited)
 * and counting resumes on an empty store: a drain costs a few seconds of unlimited traffic, never
 * an outage. The budget (maxUnavailable 1) lets drains proceed.
 */
function createRateLimitRedis(
  spec: GatewaySpec,
  gatewayNs: k8s.core.v1.Namespace,
  parent: pulumi.Resource,
): pulumi.Resource[] {
  const redis = spec.redis;
  const labels = componentLabels(redis.name, "rate-limit-store", spec.stage, spec.labelDomain);
  const meta = { name: redis.name, namespace: spec.namespace, labels };
  const opts = { parent, dependsOn: [gatewayNs] };
  const auth = createRedisAuth(spec, labels, opts);
  const deployment = createRedisDeployment(spec, labels, auth, opts);
  const service = new k8s.core.v1.Service(
    redis.name,
    {
      metadata: meta,
      spec: {
        selector: selectorLabels(redis.name),
        ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis" }],
      },
    },
    opts,
  );
  const policy = new k8s.networking.v1.NetworkPolicy(
    redis.name,
    {
      metadata: meta,
      spec: {
        podSelector: { matchLabels: selectorLabels(redis.name) },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: REDIS_PORT }] }],
        // No `egress` key: policyTypes Egress with no rules denies all out; an empty list would be
        // dropped by the API server and show as a change on every apply.
      },
    },
    opts,
  );
  const budget = new k8s.policy.v1.PodDisruptionBudget(
    childName(redis.name, "pdb"),
    {
      metadata: meta,
      spec: {
        selector: { matchLabels: selectorLabels(redis.name) },
        maxUnavailable: 1,
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      },
    },
    opts,
  );
  return [auth, deployment, service, policy, budget];
}

/** The password and the configuration naming it, in one Secret: nothing secret in args or env values. */
function createRedisAuth(
  spec: GatewaySpec,
  labels: Record<string, string>,
  opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
): k8s.core.v1.Secret {
  const redis = spec.redis;
  const password = new random.RandomPassword(childName(redis.name, "password"), URL_SAFE_PASSWORD, {
    parent: opts.parent,
  });
  return new k8s.core.v1.Secret(
    redis.authSecret,
    {
      metadata: { name: redis.authSecret, namespace: spec.namespace, labels },
      stringData: {
        password: password.result,
        "redis.conf": pulumi.interpolate`${RATE_LIMIT_REDIS_CONFIG.join("\n")}\nrequirepass ${password.result}\n`,
      },
    },
    opts,
  );
}

function createRedisDeployment(
  spec: GatewaySpec,
  labels: Record<string, string>,
  auth: k8s.core.v1.Secret,
  opts: pulumi.CustomResourceOptions,
): k8s.apps.v1.Deployment {
  const redis = spec.redis;
  const scratch = scratchVolumes(["/data"], "128Mi");
  const configFile = secretKeyFile("config", {
    secretName: redis.authSecret,
    key: "redis.conf",
    mountPath: "/etc/redis",
  });
  return new k8s.apps.v1.Deployment(
    redis.name,
    {
      metadata: { name: redis.name, namespace: spec.namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: selectorLabels(redis.name) },
        template: {
          // A new configuration restarts the pod (Redis reads it only at start).
          metadata: {
            labels,
            annotations: {
              [domainKey(spec.labelDomain, "config-hash")]: stableHash(RATE_LIMIT_REDIS_CONFIG),
            },
          },
          spec: {
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(REDIS_UID),
            containers: [
              {
                name: "redis",
                image: redis.image,
                command: ["redis-server", "/etc/redis/redis.conf"],
                // redis-cli (the probes) reads the password from REDISCLI_AUTH.
                env: [
                  {
                    name: "REDISCLI_AUTH",
                    valueFrom: { secretKeyRef: { name: auth.metadata.name, key: "password" } },
                  },
                ],
                ports: [{ name: "redis", containerPort: REDIS_PORT }],
                resources: {
                  requests: { cpu: "50m", memory: "64Mi" },
                  limits: { cpu: "250m", memory: "128Mi" },
                },
                securityContext: restrictedContainerSecurityContext(REDIS_UID),
                volumeMounts: [...scratch.mounts, configFile.mount],
                ...standardProbes({ check: { exec: { command: ["redis-cli", "ping"] } } }),
              },
            ],
            volumes: [...scratch.volumes, configFile.volume],
          },
        },
      },
    },
    opts,
  );
}

/** What the objects publishing one service through the Gateway share. */
interface RouteTarget {
  gateway: string;
  gatewayNamespace: string;
  serviceName: string;
  namespace: string;
  hostname: string;
  /** Prefix of the objects' Pulumi names: `<gateway>-<namespace>-<service>`. */
  base: string;
  labels: Record<string, string>;
  options: pulumi.CustomResourceOptions;
}

interface PublishedRoute {
  kind: "HTTPRoute" | "GRPCRoute";
  name: string;
}

/**
 * The service's route on the HTTPS listener: a GRPCRoute, or an HTTPRoute for its prefixes plus one
 * for the JWT-exempt prefixes. Returns them in that order (the first is the one the JWT protects).
 */
function createRoutes(t: RouteTarget, args: GatewayRouteArgs): PublishedRoute[] {
  const parentRefs = [
    {
      group: GATEWAY_API,
      kind: "Gateway",
      name: t.gateway,
      namespace: t.gatewayNamespace,
      sectionName: "https",
    },
  ];
  const backendRefs = [{ group: "", kind: "Service", name: t.serviceName, port: args.port }];
  const routes: PublishedRoute[] = [];
  const route = (suffix: string, routeName: string, kind: PublishedRoute["kind"], rules: unknown[]) => {
    routes.push({ kind, name: routeName });
    new k8s.apiextensions.CustomResource(
      `${t.base}${suffix}`,
      {
        apiVersion: `${GATEWAY_API}/v1`,
        kind,
        metadata: { name: routeName, namespace: t.namespace, labels: t.labels },
        spec: { parentRefs, hostnames: [t.hostname], rules },
      },
      t.options,
    );
  };
  if ((args.protocol ?? "http") === "grpc") {
    const matches = (args.grpcServices ?? []).map((service) => ({ method: { type: "Exact", service } }));
    route("", t.serviceName, "GRPCRoute", [{ ...(matches.length > 0 ? { matches } : {}), backendRefs }]);
  } else {
    const pathMatches = (paths: string[]) => paths.map((value) => ({ path: { type: "PathPrefix", value } }));
    route("", t.serviceName, "HTTPRoute", [
      { matches: pathMatches(args.pathPrefixes ?? ["/"]), backendRefs },
    ]);
    const exempt = args.jwt?.exemptPathPrefixes ?? [];
    // Longer prefixes win across routes of one hostname, so exempt paths bypass the JWT check.
    if (exempt.length > 0)
      route("-public", `${t.serviceName}-public`, "HTTPRoute", [
        { matches: pathMatches(exempt), backendRefs },
      ]);
  }
  return routes;
}

/** JWT validation on the protected route, against the issuer's in-cluster JWKS. */
function createJwtPolicy(
  t: RouteTarget,
  jwt: NonNullable<GatewayRouteArgs["jwt"]>,
  protectedRoute: PublishedRoute,
): void {
  const jwksUri = `http://${serviceHost(jwt.issuerService, jwt.issuerNamespace ?? t.namespace)}:${jwt.issuerPort}${jwt.jwksPath}`;
  new k8s.apiextensions.CustomResource(
    `${t.base}-jwt`,
    {
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "SecurityPolicy",
      metadata: { name: `${t.serviceName}-jwt`, namespace: t.namespace, labels: t.labels },
      spec: {
        targetRefs: [{ group: GATEWAY_API, kind: protectedRoute.kind, name: protectedRoute.name }],
        jwt: {
          providers: [
            {
              name: jwt.issuerService,
              issuer: jwt.issuer,
              ...(jwt.audiences && jwt.audiences.length > 0 ? { audiences: jwt.audiences } : {}),
              remoteJWKS: { uri: jwksUri },
            },
          ],
        },
      },
    },
    t.options,
  );
}

/** The global, per-client-IP rate limit over all of the service's routes. */
function createRateLimitPolicy(
  t: RouteTarget,
  rateLimit: NonNullable<GatewayRouteArgs["rateLimit"]>,
  routes: PublishedRoute[],
): void {
  new k8s.apiextensions.CustomResource(
    `${t.base}-rate-limit`,
    {
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "BackendTrafficPolicy",
      metadata: { name: `${t.serviceName}-rate-limit`, namespace: t.namespace, labels: t.labels },
      spec: {
        targetRefs: routes.map((r) => ({ group: GATEWAY_API, kind: r.kind, name: r.name })),
        rateLimit: {
          global: {
            rules: [
              {
                clientSelectors: [{ sourceCIDR: { type: "Distinct", value: "0.0.0.0/0" } }],
                limit: rateLimitRule(rateLimit),
              },
            ],
          },
        },
      },
    },
    t.options,
  );
}

/** The public URLs of the service's routes, keyed as `IngressGateway.urls` documents. */
function routeUrls(t: RouteTarget, args: GatewayRouteArgs): Record<string, string> {
  const urls: Record<string, string> = {};
  const keyBase = `${t.namespace}/${t.serviceName}`;
  const prefixes = (args.protocol ?? "http") === "grpc" ? ["/"] : (args.pathPrefixes ?? ["/"]);
  for (const prefix of prefixes) {
    urls[prefix === "/" ? keyBase : `${keyBase}${prefix}`] = `https://${t.hostname}${prefix}`;
  }
  return urls;
}

/** Labels Envoy Gateway puts on the proxy pods of the Gateway `gatewayName` in `namespace`. */
export function envoyProxyPodLabels(gatewayName: string, namespace: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "envoy",
    "gateway.envoyproxy.io/owning-gateway-name": gatewayName,
    "gateway.envoyproxy.io/owning-gateway-namespace": namespace,
  };
}

const UNITS = [
  ["Day", 86400],
  ["Hour", 3600],
  ["Minute", 60],
  ["Second", 1],
] as const;

/**
 * Converts "`requests` per `perSeconds`" to an Envoy Gateway limit (one request count per Second,
 * Minute, Hour or Day), never more permissive than asked: exact when the window is one unit; else the
 * largest unit shorter than the window that still allows a request, budget scaled and rounded down;
 * else (fewer requests than window seconds) the smallest unit longer than the window with the full budget.
 */
export function rateLimitRule(limit: { requests: number; perSeconds: number }): {
  requests: number;
  unit: "Second" | "Minute" | "Hour" | "Day";
} {
  for (const [unit, seconds] of UNITS)
    if (seconds === limit.perSeconds) return { requests: limit.requests, unit };
  for (const [unit, seconds] of UNITS) {
    if (seconds > limit.perSeconds) continue;
    const scaled = Math.floor((limit.requests * seconds) / limit.perSeconds);
    if (scaled >= 1) return { requests: scaled, unit };
  }
  const longer = [...UNITS].reverse().find(([, seconds]) => seconds > limit.perSeconds) ?? UNITS[0];
  return { requests: limit.requests, unit: longer[0] };
}

/** Every problem with IngressGateway's args (the one place they are checked). */
function gatewayArgProblems(name: string, args: IngressGatewayArgs): string[] {
  return [
    ...nameProblems(name, args),
    ...tlsProblems(args),
    ...chartProblems("envoyGatewayChart", args.envoyGatewayChart, "leave the IngressGateway out"),
    ...chartProblems("certManagerChart", args.certManagerChart, "leave the IngressGateway out"),
    ...proxyProblems(args),
    ...namespaceProblems(args),
    ...rateLimiterProblems(args),
  ];
}

/** The component name (it names the Gateway and cluster-wide objects), the domain, the label domain and the stage label. */
function nameProblems(name: string, args: IngressGatewayArgs): string[] {
  const problems: string[] = [];
  if (!DNS_LABEL.test(name) || name.length > 40)
    problems.push(
      `name: a DNS label of at most 40 characters (it names the Gateway and cluster-wide objects), found ${JSON.stringify(name)}`,
    );
  if (!args.domain || !DNS_NAME.test(args.domain) || args.domain.startsWith("*."))
    problems.push(`domain: a DNS name such as shop.example.com, found ${JSON.stringify(args.domain)}`);
  const domainProblem = labelDomainProblem(args.labelDomain);
  if (domainProblem) problems.push(domainProblem);
  const stage = stageProblem(args.labels?.stage, "labels.stage");
  if (stage) problems.push(stage);
  return problems;
}

/** The certificate: the further names it covers and the issuer that can validate them. */
function tlsProblems(args: IngressGatewayArgs): string[] {
  const problems: string[] = [];
  const issuer = args.tls?.issuer;
  for (const [i, host] of (args.additionalHostnames ?? []).entries()) {
    if (!DNS_NAME.test(host))
      problems.push(`additionalHostnames[${i}]: a DNS name, found ${JSON.stringify(host)}`);
    else if (host.startsWith("*.") && issuer === "acme")
      problems.push(
        `additionalHostnames[${i}]: ${host} is a wildcard; ACME HTTP-01 cannot validate wildcards (use explicit names)`,
      );
  }
  if (issuer === "acme") {
    if (!args.tls.acmeEmail)
      problems.push('tls.acmeEmail: required when tls.issuer is "acme" (the ACME account contact)');
    else if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(args.tls.acmeEmail))
      problems.push(`tls.acmeEmail: an e-mail address, found ${JSON.stringify(args.tls.acmeEmail)}`);
    if (args.tls.acmeServer !== undefined && !/^https:\/\/\S+$/.test(args.tls.acmeServer))
      problems.push(
        `tls.acmeServer: an https ACME directory URL, found ${JSON.stringify(args.tls.acmeServer)}`,
      );
  } else if (issuer === "selfSigned") {
    for (const key of ["acmeEmail", "acmeServer"] as const) {
      if (args.tls[key] !== undefined) problems.push(`tls.${key}: no value when tls.issuer is "selfSigned"`);
    }
  } else problems.push(`tls.issuer: "acme" or "selfSigned", found ${JSON.stringify(issuer)}`);
  return problems;
}

/** How the proxies are exposed, and how many of them and of the controllers run. */
function proxyProblems(args: IngressGatewayArgs): string[] {
  const problems: string[] = [];
  if (args.loadBalancer !== undefined && !["nlb", "default", "clusterIP"].includes(args.loadBalancer))
    problems.push(
      `loadBalancer: "nlb", "default" or "clusterIP", found ${JSON.stringify(args.loadBalancer)}`,
    );
  const count = (key: string, value: number | undefined, max: number) => {
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > max))
      problems.push(`${key}: a whole number from 1 to ${max}, found ${String(value)}`);
  };
  count("proxyReplicas", args.proxyReplicas, 50);
  count("controllerReplicas", args.controllerReplicas, 5);
  return problems;
}

/** The controllers' namespaces, and the namespaces whose routes the HTTPS listener admits. */
function namespaceProblems(args: IngressGatewayArgs): string[] {
  const problems: string[] = [];
  for (const key of ["namespace", "certManagerNamespace"] as const) {
    const value = args[key];
    if (value !== undefined && (!DNS_LABEL.test(value) || value.length > 63))
      problems.push(`${key}: a namespace name (DNS label), found ${JSON.stringify(value)}`);
  }
  if (args.namespace !== undefined && args.namespace === args.certManagerNamespace)
    problems.push("certManagerNamespace: a namespace of its own (not the gateway namespace)");
  const selector = args.routeNamespaceSelector;
  if (
    selector &&
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  )
    problems.push(
      "routeNamespaceSelector: at least one label or expression (an empty selector admits routes from every namespace)",
    );
  return problems;
}

/** The rate limiter's Redis image (only with rate limiting on). */
function rateLimiterProblems(args: IngressGatewayArgs): string[] {
  if (args.rateLimitRedisImage === undefined) return [];
  if (args.rateLimiting === false) return ["rateLimitRedisImage: no value when rateLimiting is false"];
  const problem = imageReferenceProblem(args.rateLimitRedisImage);
  return problem ? [`rateLimitRedisImage: ${problem}`] : [];
}

/** What a service's routes claim on the HTTPS listener: `<hostname> <path prefix>` or `<hostname> gRPC <service>`. */
export function routeClaims(hostname: string, args: GatewayRouteArgs): string[] {
  if ((args.protocol ?? "http") === "grpc")
    return (args.grpcServices?.length ? args.grpcServices : ["*"]).map((s) => `${hostname} gRPC ${s}`);
  return [...(args.pathPrefixes ?? ["/"]), ...(args.jwt?.exemptPathPrefixes ?? [])].map(
    (p) => `${hostname} ${p}`,
  );
}

/** Every problem with `addRoutes` args (the one place they are checked). */
function routeArgProblems(
  serviceName: string,
  args: GatewayRouteArgs,
  state: {
    rateLimiting: boolean;
    routed: ReadonlySet<string>;
    hostnames: readonly string[];
    /** Claims other services already hold. */
    claimed: string[];
  },
): string[] {
  const prefixes = args.pathPrefixes ?? ["/"];
  return [
    ...state.claimed,
    ...routeTargetProblems(serviceName, args, state),
    ...matchProblems(args),
    ...(args.jwt ? jwtProblems(args.jwt, prefixes) : []),
    ...(args.rateLimit ? rateLimitProblems(args.rateLimit, state.rateLimiting) : []),
  ];
}

/** The hostname, the Service and its port, and that the service has no routes yet. */
function routeTargetProblems(
  serviceName: string,
  args: GatewayRouteArgs,
  state: { routed: ReadonlySet<string>; hostnames: readonly string[] },
): string[] {
  const problems: string[] = [];
  if (args.hostname !== undefined && !state.hostnames.includes(args.hostname))
    problems.push(
      `hostname: one the certificate covers (${state.hostnames.join(", ")}: the domain or additionalHostnames), found ${JSON.stringify(args.hostname)}`,
    );
  if (!DNS_LABEL.test(serviceName))
    problems.push(`serviceName: a Service name (DNS label), found ${JSON.stringify(serviceName)}`);
  if (!DNS_LABEL.test(args.namespace ?? ""))
    problems.push(`namespace: a namespace name, found ${JSON.stringify(args.namespace)}`);
  if (state.routed.has(`${args.namespace}/${serviceName}`))
    problems.push(`${args.namespace}/${serviceName} already has routes on this Gateway`);
  if (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535)
    problems.push(`port: a port from 1 to 65535, found ${String(args.port)}`);
  return problems;
}

/** What the routes match: path prefixes (`http`) or gRPC services (`grpc`), never both. */
function matchProblems(args: GatewayRouteArgs): string[] {
  const problems: string[] = [];
  const prefixes = args.pathPrefixes ?? ["/"];
  if ((args.protocol ?? "http") === "grpc") {
    if (args.pathPrefixes !== undefined && !(prefixes.length === 1 && prefixes[0] === "/"))
      problems.push(
        "pathPrefixes: gRPC routes match gRPC services, not paths (leave pathPrefixes out or use grpcServices)",
      );
    if (args.jwt?.exemptPathPrefixes?.length)
      problems.push("jwt.exemptPathPrefixes: not supported on gRPC routes");
  } else {
    if (args.grpcServices !== undefined) problems.push('grpcServices: only for protocol "grpc"');
    if (prefixes.length === 0) problems.push("pathPrefixes: at least one prefix");
    for (const p of prefixes)
      if (!/^\/[-A-Za-z0-9._~/]*$/.test(p))
        problems.push(`pathPrefixes: "${p}" is not a path prefix such as /api/v1/users`);
  }
  return problems;
}

/** The JWT issuer and its JWKS, and that every exempt prefix is under a routed one. */
function jwtProblems(jwt: NonNullable<GatewayRouteArgs["jwt"]>, prefixes: string[]): string[] {
  const problems: string[] = [];
  if (!jwt.issuer) problems.push("jwt.issuer: required");
  if (!DNS_LABEL.test(jwt.issuerService ?? ""))
    problems.push(`jwt.issuerService: a Service name, found ${JSON.stringify(jwt.issuerService)}`);
  if (!Number.isInteger(jwt.issuerPort) || jwt.issuerPort < 1 || jwt.issuerPort > 65535)
    problems.push(`jwt.issuerPort: a port from 1 to 65535, found ${String(jwt.issuerPort)}`);
  if (!jwt.jwksPath?.startsWith("/"))
    problems.push(
      `jwt.jwksPath: a path such as /.well-known/jwks.json, found ${JSON.stringify(jwt.jwksPath)}`,
    );
  for (const e of jwt.exemptPathPrefixes ?? []) {
    const covered = prefixes.some((p) => p === "/" || e === p || e.startsWith(`${p.replace(/\/$/, "")}/`));
    if (!covered)
      problems.push(
        `jwt.exemptPathPrefixes: "${e}" is under none of the routed prefixes (${prefixes.join(", ")}), so it would not be routed at all`,
      );
  }
  return problems;
}

/** The limit itself, and that the gateway runs the rate limiter it needs. */
function rateLimitProblems(
  rateLimit: NonNullable<GatewayRouteArgs["rateLimit"]>,
  rateLimiting: boolean,
): string[] {
  const problems: string[] = [];
  const { requests, perSeconds } = rateLimit;
  if (!rateLimiting) problems.push("rateLimit: the gateway was created with rateLimiting false");
  if (!Number.isInteger(requests) || requests < 1)
    problems.push(`rateLimit.requests: a whole number ≥ 1, found ${String(requests)}`);
  if (!Number.isInteger(perSeconds) || perSeconds < 1 || perSeconds > 86400)
    problems.push(
      `rateLimit.perSeconds: a whole number of seconds from 1 to 86400, found ${String(perSeconds)}`,
    );
  return problems;
}

/** The namespaces whose routes the HTTPS listener admits (the proxies' upstreams). */
function routeNamespaces(spec: GatewaySpec): NamespaceSelector {
  return (
    spec.args.routeNamespaceSelector ?? {
      matchExpressions: [{ key: platformLabelKey(spec.labelDomain), operator: "Exists" as const }],
    }
  );
}

/** Default deny in the gateway's and cert-manager's namespaces, then each chart workload's flows. */
function isolateGatewayNamespaces(
  spec: GatewaySpec,
  ns: { gateway: k8s.core.v1.Namespace; certManager: k8s.core.v1.Namespace },
  parent: pulumi.Resource,
): void {
  const network = spec.args.clusterNetwork ?? DEFAULT_CLUSTER_NETWORK;
  const labels = gatewayLabels(spec, ADD_ON_POLICY_COMPONENT);
  const redis = spec.rateLimiting ? spec.redis.name : undefined;
  isolateAddOnNamespace(
    childName(spec.name, "gateway-ns"),
    ns.gateway.metadata.name,
    gatewayWorkloads(spec.name, spec.namespace, routeNamespaces(spec), redis),
    network,
    labels,
    { parent },
    spec.labelDomain,
  );
  isolateAddOnNamespace(
    childName(spec.name, "cert-manager-ns"),
    ns.certManager.metadata.name,
    certManagerWorkloads(spec.args.tls.issuer === "acme" ? spec.hostnames : undefined),
    network,
    labels,
    { parent },
    spec.labelDomain,
  );
}
