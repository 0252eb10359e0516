/** The deployment plan: replica floors per stage, URLs of dependencies, callers and start order. */
import { describe, expect, it } from "vitest";
import { planCatalog, planReplicas, startOrder, defaultUrlEnv } from "../config/plan";
import { resolveSettings } from "../config/settings";

function settingsFor(stage: "local" | "staging" | "production", extra: Record<string, string> = {}) {
  const values: Record<string, string> = {
    "platform:stage": stage,
    "platform:catalogs": '["ecommerce","fintech","trading"]',
    ...(stage === "local"
      ? {}
      : {
          "platform:cluster": JSON.stringify({
            provider: "aws",
            adminRoleArns: ["arn:aws:iam::123456789012:role/a"],
            deployRoleArn: "arn:aws:iam::123456789012:role/deployer",
          }),
          "platform:ingress": JSON.stringify({
            domain: "example.com",
            tls: { acmeEmail: "ops@example.com" },
          }),
          "platform:database": JSON.stringify({ byCatalog: { trading: { backend: "inCluster" } } }),
        }),
    ...extra,
  };
  return resolveSettings({ project: "platform", stack: stage, values, secretKeys: new Set() }).settings;
}

const plans = (stage: "local" | "staging" | "production", extra?: Record<string, string>) => {
  const settings = settingsFor(stage, extra);
  return Object.fromEntries(settings.catalogs.map((c) => [c.name, planCatalog(settings, c)]));
};

describe("deployment plan", () => {
  it("fintech: backend-api gets the four URLs under the brief's names", () => {
    const backend = plans("production").fintech?.services.find((s) => s.spec.name === "backend-api");
    expect(backend?.dependencies).toEqual([
      { name: "python-risk-engine", port: 8000, protocol: "http", env: "RISK_ENGINE_URL" },
      { name: "portfolio-simulation", port: 8001, protocol: "http", env: "PORTFOLIO_SERVICE_URL" },
      { name: "market-data-ingestion", port: 8002, protocol: "http", env: "MARKET_DATA_URL" },
      { name: "ai-microservice-engine", port: 8003, protocol: "http", env: "AI_ENGINE_URL" },
    ]);
  });

  it("fintech: callers are the reverse edges", () => {
    const byName = Object.fromEntries(
      (plans("staging").fintech?.services ?? []).map((s) => [s.spec.name, s.callers]),
    );
    expect(byName).toEqual({
      "market-data-ingestion": ["python-risk-engine", "backend-api"],
      "python-risk-engine": ["portfolio-simulation", "backend-api"],
      "portfolio-simulation": ["backend-api"],
      "ai-microservice-engine": ["backend-api"],
      "backend-api": [],
    });
  });

  it("e-commerce: core before business before the gateway", () => {
    const order = plans("local").ecommerce?.startOrder ?? [];
    const at = (n: string) => order.indexOf(n);
    for (const core of ["user-service", "product-service", "inventory-service"]) {
      for (const business of ["order-service", "payment-service", "notification-service"])
        expect(at(core), `${core} < ${business}`).toBeLessThan(at(business));
    }
    expect(order[order.length - 1]).toBe("api-gateway");
    expect(
      startOrder([
        { name: "a", dependsOn: ["b"] },
        { name: "b", dependsOn: [] },
      ]),
    ).toEqual(["b", "a"]);
  });

  it("replica floors follow the stage: production >= 2, public entry points >= 3", () => {
    const production = plans("production");
    for (const plan of Object.values(production)) {
      for (const s of plan.services) {
        if (s.spec.persistence) continue;
        expect(s.replicas.min, s.spec.name).toBeGreaterThanOrEqual(s.spec.entryPoint ? 3 : 2);
        expect(s.replicas.max, s.spec.name).toBeGreaterThanOrEqual(2);
        expect(s.autoscaled).toBe(true);
      }
    }
    const local = plans("local").fintech?.services.find((s) => s.spec.name === "backend-api");
    expect(local?.replicas).toEqual({ min: 1, max: 2 });
    expect(plans("staging").fintech?.services.find((s) => s.spec.name === "backend-api")?.replicas).toEqual({
      min: 2,
      max: 4,
    });
  });

  it("a service with a per-pod volume runs a fixed count and is not autoscaled", () => {
    const chroma = plans("production").trading?.services.find((s) => s.spec.name === "chromadb");
    expect(chroma?.replicas).toEqual({ min: 1, max: 1 });
    expect(chroma?.autoscaled).toBe(false);
  });

  it("stack overrides win: image tag, replicas, resources", () => {
    const overridden = plans("production", {
      "platform:services": JSON.stringify({
        "fintech/backend-api": {
          imageTag: "sha256:" + "a".repeat(64),
          replicas: { min: 4, max: 12 },
          resources: { limits: { cpu: "2", memory: "1Gi" } },
        },
      }),
    }).fintech?.services.find((s) => s.spec.name === "backend-api");
    expect(overridden?.image).toBe(`ghcr.io/acme-fintech/backend-api@sha256:${"a".repeat(64)}`);
    expect(overridden?.replicas).toEqual({ min: 4, max: 12 });
    expect(overridden?.resources).toEqual({
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "2", memory: "1Gi" },
    });
  });

  it("trading: the seed's resource figures are honoured", () => {
    const app = plans("production").trading?.services.find((s) => s.spec.name === "trading-api");
    expect(app?.resources).toEqual({
      requests: { cpu: "500m", memory: "512Mi" },
      limits: { cpu: "2", memory: "4Gi" },
    });
  });

  it("secrets: generated ones shared by id, external ones keyed by catalog and env", () => {
    const ecommerce = plans("production").ecommerce;
    const payment = ecommerce?.services.find((s) => s.spec.name === "payment-service");
    expect(payment?.externalSecrets).toEqual([
      { env: "STRIPE_API_KEY", id: "stripe-api-key", configKey: "ecommerce.STRIPE_API_KEY" },
      {
        env: "STRIPE_WEBHOOK_SECRET",
        id: "stripe-webhook-secret",
        configKey: "ecommerce.STRIPE_WEBHOOK_SECRET",
      },
    ]);
    const jwtUsers = ecommerce?.services
      .filter((s) => s.generatedSecrets.some((g) => g.id === "jwt-secret"))
      .map((s) => s.spec.name);
    expect(jwtUsers).toEqual(["user-service", "api-gateway"]);
    expect(ecommerce?.databases.map((d) => d.database)).toEqual([
      "users_db",
      "products_db",
      "inventory_db",
      "orders_db",
      "payments_db",
      "notifications_db",
    ]);
  });

  it("marks the JWT issuer whose keys the Gateway fetches (e-commerce: user-service)", () => {
    const issuers = (plans("production").ecommerce?.services ?? [])
      .filter((s) => s.jwtIssuer)
      .map((s) => s.spec.name);
    expect(issuers).toEqual(["user-service"]);
    expect((plans("production").fintech?.services ?? []).some((s) => s.jwtIssuer)).toBe(false);
  });

  it("names URL env vars after the dependency by default", () => {
    expect(defaultUrlEnv("order-service")).toBe("ORDER_SERVICE_URL");
  });

  it("planReplicas respects an explicit override even below the profile", () => {
    const settings = settingsFor("staging");
    const spec = settings.catalogs[1]!.services[0]!;
    expect(planReplicas(settings, spec, { min: 3, max: 3 })).toEqual({ min: 3, max: 3 });
  });
});
