/**
 * The rules checkable at preview that relate resources to each other's run-time behaviour: route
 * uniqueness, quota fit and declared external egress, each on a passing and a failing fixture.
 */
import { describe, expect, it } from "vitest";
import { NON_PUBLIC_IPV4_CIDRS } from "../components/lib";
import { evaluate, type RuleResource } from "./rules";
import { externalEgressDeclared, quotaFit, routesUnique } from "./flow-rules";

const urn = (type: string, name: string) => `urn:pulumi:production::platform::${type}::${name}`;
const res = (type: string, name: string, props: Record<string, unknown>): RuleResource => ({
  type,
  name,
  urn: urn(type, name),
  props,
});
const ctx = { stage: "production" as const };

describe("gateway-routes-unique", () => {
  const HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
  const route = (namespace: string, name: string, hostname: string, prefix: string) =>
    res(HTTP_ROUTE, `${namespace}-${name}`, {
      metadata: { name, namespace },
      spec: {
        parentRefs: [{ name: "gateway", namespace: "envoy-gateway-system", sectionName: "https" }],
        hostnames: [hostname],
        rules: [
          { matches: [{ path: { type: "PathPrefix", value: prefix } }], backendRefs: [{ name, port: 8000 }] },
        ],
      },
    });

  it("passes per-platform hostnames", () => {
    const resources = [
      route("fintech", "backend-api", "fintech.platform.example.com", "/"),
      route("trading", "trading-api", "trading.platform.example.com", "/"),
    ];
    expect(evaluate(resources, ctx, [routesUnique])).toEqual([]);
  });

  it("fails two platforms claiming the same hostname and prefix, on the second route", () => {
    const resources = [
      route("fintech", "backend-api", "platform.example.com", "/"),
      route("trading", "trading-api", "platform.example.com", "/"),
    ];
    expect(evaluate(resources, ctx, [routesUnique])).toEqual([
      {
        rule: "gateway-routes-unique",
        urn: urn(HTTP_ROUTE, "trading-trading-api"),
        message:
          "fintech/HTTPRoute/backend-api and trading/HTTPRoute/trading-api both claim platform.example.com PathPrefix / on listener envoy-gateway-system/gateway/https (to fintech/backend-api:8000 and trading/trading-api:8000): one of them is unreachable. Give each platform its own hostname or distinct prefixes.",
      },
    ]);
  });
});

describe("k8s-quota-fits-rollout", () => {
  const quota = (cpu: string) =>
    res("kubernetes:core/v1:ResourceQuota", "shop-quota", {
      metadata: { name: "platform-quota", namespace: "shop" },
      spec: {
        hard: {
          "requests.cpu": cpu,
          "requests.memory": "8Gi",
          "limits.cpu": "16",
          "limits.memory": "32Gi",
          pods: "50",
        },
      },
    });
  const container = {
    name: "app",
    resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  };
  const deployment = res("kubernetes:apps/v1:Deployment", "api", {
    metadata: { name: "api", namespace: "shop" },
    spec: {
      strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
      template: {
        metadata: { labels: { "app.kubernetes.io/instance": "api" } },
        spec: { containers: [container] },
      },
    },
  });
  const hpa = res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "api", {
    metadata: { name: "api", namespace: "shop" },
    spec: { scaleTargetRef: { kind: "Deployment", name: "api" }, minReplicas: 3, maxReplicas: 6 },
  });
  const job = res("kubernetes:batch/v1:Job", "migrate", {
    metadata: { name: "api-migrate", namespace: "shop" },
    spec: {
      template: {
        metadata: { labels: { "app.kubernetes.io/instance": "api-migration" } },
        spec: { containers: [container] },
      },
    },
  });

  it("passes when 3 replicas + 1 surge pod + the Job fit (2.5 CPU)", () => {
    expect(evaluate([quota("2500m"), deployment, hpa, job], ctx, [quotaFit])).toEqual([]);
  });

  it("fails when the rollout's surge and the Job push requests past the quota", () => {
    expect(evaluate([quota("2"), deployment, hpa, job], ctx, [quotaFit])).toEqual([
      {
        rule: "k8s-quota-fits-rollout",
        urn: urn("kubernetes:core/v1:ResourceQuota", "shop-quota"),
        message:
          "namespace shop: minimum replicas + largest rollout surge + Jobs need requests.cpu 2500m > quota 2",
      },
    ]);
  });
});

describe("k8s-external-egress-declared", () => {
  const PUBLIC = { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_IPV4_CIDRS] };
  const policy = (annotations: Record<string, string>, egress: unknown[]) =>
    res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "payments", {
      metadata: { name: "payment-service", namespace: "shop", annotations },
      spec: { podSelector: {}, policyTypes: ["Egress"], egress },
    });
  const check = (r: RuleResource) => externalEgressDeclared.check(r, ctx);

  it("passes declared public egress on the declared port, and private egress (a VPC subnet) without a declaration", () => {
    expect(
      check(
        policy({ "platform.example.com/external-egress": "api.stripe.com:443" }, [
          { to: [{ ipBlock: PUBLIC }], ports: [{ protocol: "TCP", port: 443 }] },
        ]),
      ),
    ).toEqual([]);
    expect(
      check(policy({}, [{ to: [{ ipBlock: { cidr: "10.30.0.0/19" } }], ports: [{ port: 5432 }] }])),
    ).toEqual([]);
  });

  it("fails undeclared public egress, undeclared ports, all ports, and a block that keeps the metadata range", () => {
    expect(check(policy({}, [{ to: [{ ipBlock: PUBLIC }], ports: [{ port: 443 }] }]))).toEqual([
      'NetworkPolicy "payment-service" allows egress to public addresses (0.0.0.0/0) without declaring the endpoints: set platform.example.com/external-egress (host:port) from the service\'s catalog entry.',
    ]);
    const declared = { "platform.example.com/external-egress": "api.stripe.com:443" };
    expect(
      check(policy(declared, [{ to: [{ ipBlock: PUBLIC }], ports: [{ port: 443 }, { port: 80 }] }])),
    ).toEqual([
      'NetworkPolicy "payment-service" opens port 80 to public addresses, but declares only api.stripe.com:443.',
    ]);
    expect(check(policy(declared, [{ to: [{ ipBlock: PUBLIC }] }]))).toEqual([
      'NetworkPolicy "payment-service" allows egress to public addresses on every port; open only the declared ports.',
    ]);
    expect(
      check(
        policy(declared, [
          { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }], ports: [{ port: 443 }] },
        ]),
      ),
    ).toEqual([
      'NetworkPolicy "payment-service" allows 0.0.0.0/0 without excluding 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/3 (private, link-local and metadata ranges).',
    ]);
  });
});
