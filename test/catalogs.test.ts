/**
 * The service catalogs: each loads, carries the facts of the platform brief (ports, protocols,
 * dependency edges, data needs, secrets, resource figures), and a broken catalog is rejected with a
 * message that names the problem exactly.
 */
import { describe, expect, it } from "vitest";
import {
  CATALOGS,
  CatalogError,
  loadCatalog,
  type Catalog,
  type CatalogInput,
  type ServiceSpecInput,
} from "../services";

const edges = (catalog: Catalog) =>
  Object.fromEntries(catalog.services.map((s) => [s.name, [...s.dependsOn].sort()]));
const service = (catalog: Catalog, name: string) => {
  const found = catalog.services.find((s) => s.name === name);
  if (!found) throw new Error(`no service ${name} in ${catalog.name}`);
  return found;
};

describe("catalogs load", () => {
  it.each(Object.keys(CATALOGS) as (keyof typeof CATALOGS)[])("%s", (name) => {
    const catalog = loadCatalog(CATALOGS[name]);
    expect(catalog.name).toBe(name);
    expect(catalog.namespace).toBe(name);
    expect(catalog.services.length).toBeGreaterThan(0);
  });
});

describe("fintech catalog", () => {
  const fintech = loadCatalog(CATALOGS.fintech);

  it("has the dependency edges of the brief: market-data first, risk after it, portfolio after risk, backend-api after all four, ai standalone", () => {
    expect(edges(fintech)).toEqual({
      "market-data-ingestion": [],
      "python-risk-engine": ["market-data-ingestion"],
      "portfolio-simulation": ["python-risk-engine"],
      "ai-microservice-engine": [],
      "backend-api": [
        "ai-microservice-engine",
        "market-data-ingestion",
        "portfolio-simulation",
        "python-risk-engine",
      ],
    });
  });

  it("gives backend-api its dependencies' URLs under the brief's names", () => {
    expect(service(fintech, "backend-api").dependencyEnv).toEqual({
      "python-risk-engine": "RISK_ENGINE_URL",
      "portfolio-simulation": "PORTFOLIO_SERVICE_URL",
      "market-data-ingestion": "MARKET_DATA_URL",
      "ai-microservice-engine": "AI_ENGINE_URL",
    });
  });

  it("runs the brief's ports over HTTP with /health, PostgreSQL and Redis allkeys-lru, and the public rate limit", () => {
    expect(
      Object.fromEntries(fintech.services.map((s) => [s.name, [s.port, s.protocol, s.health.livenessPath]])),
    ).toEqual({
      "backend-api": [3000, "http", "/health"],
      "python-risk-engine": [8000, "http", "/health"],
      "portfolio-simulation": [8001, "http", "/health"],
      "market-data-ingestion": [8002, "http", "/health"],
      "ai-microservice-engine": [8003, "http", "/health"],
    });
    expect(fintech.data.postgres).toBeDefined();
    expect(fintech.data.redis?.maxmemoryPolicy).toBe("allkeys-lru");
    const api = service(fintech, "backend-api");
    expect(api.expose?.rateLimit).toEqual({ requests: 100, perSeconds: 15 * 60 });
    expect(Object.keys(api.secretEnv).sort()).toEqual(["JWT_SECRET", "SERVICE_API_KEY"]);
    for (const s of fintech.services)
      expect(s.secretEnv.SERVICE_API_KEY, s.name).toEqual({
        source: "generated",
        id: "service-api-key",
        length: 48,
      });
  });
});

describe("ecommerce catalog", () => {
  const ecommerce = loadCatalog(CATALOGS.ecommerce);

  it("starts core services first, business services after them, and the gateway last", () => {
    expect(edges(ecommerce)).toEqual({
      "user-service": [],
      "product-service": [],
      "inventory-service": [],
      "order-service": ["inventory-service", "product-service", "user-service"],
      "payment-service": ["order-service"],
      "notification-service": ["user-service"],
      "api-gateway": [
        "inventory-service",
        "notification-service",
        "order-service",
        "payment-service",
        "product-service",
        "user-service",
      ],
    });
  });

  it("runs an HTTP gateway on 8000 and six gRPC services on 9001-9006, each with its own database", () => {
    expect(
      Object.fromEntries(
        ecommerce.services.map((s) => [s.name, [s.port, s.protocol, s.uses.postgres?.database]]),
      ),
    ).toEqual({
      "api-gateway": [8000, "http", undefined],
      "user-service": [9001, "grpc", "users_db"],
      "product-service": [9002, "grpc", "products_db"],
      "inventory-service": [9003, "grpc", "inventory_db"],
      "order-service": [9004, "grpc", "orders_db"],
      "payment-service": [9005, "grpc", "payments_db"],
      "notification-service": [9006, "grpc", "notifications_db"],
    });
    expect(ecommerce.data.broker?.exchanges).toEqual(["ecommerce_events"]);
    // gRPC ports do not serve Prometheus' HTTP/1.1 scrape: every gRPC service names a metrics port.
    for (const s of ecommerce.services.filter((x) => x.protocol === "grpc"))
      expect(s.metrics.port, s.name).toBeDefined();
  });

  it("carries the brief's secrets and token lifetimes", () => {
    expect(service(ecommerce, "user-service").env).toMatchObject({
      JWT_EXPIRATION: "24h",
      REFRESH_TOKEN_EXPIRATION: "168h",
    });
    expect(service(ecommerce, "user-service").secretEnv.JWT_SECRET).toEqual({
      source: "generated",
      id: "jwt-secret",
      length: 64,
    });
    expect(Object.keys(service(ecommerce, "payment-service").secretEnv).sort()).toEqual([
      "STRIPE_API_KEY",
      "STRIPE_WEBHOOK_SECRET",
    ]);
    expect(Object.keys(service(ecommerce, "notification-service").secretEnv)).toEqual(["SENDGRID_API_KEY"]);
    expect(service(ecommerce, "notification-service").env.EMAIL_FROM).toBeDefined();
  });
});

describe("trading catalog", () => {
  const trading = loadCatalog(CATALOGS.trading);

  it("runs the FastAPI app after ChromaDB, which keeps its data on a volume", () => {
    expect(edges(trading)).toEqual({ chromadb: [], "trading-api": ["chromadb"] });
    expect(service(trading, "chromadb").persistence).toBeDefined();
    expect(service(trading, "trading-api").env.UVICORN_WORKERS).toBe("4");
    expect(trading.data.postgres?.extensions).toEqual(["timescaledb"]);
  });

  it("honours the brief's resource figures (limits / requests)", () => {
    expect(service(trading, "trading-api").resources).toEqual({
      limits: { cpu: "2", memory: "4Gi" },
      requests: { cpu: "500m", memory: "512Mi" },
    });
    expect(service(trading, "chromadb").resources).toEqual({
      limits: { cpu: "2", memory: "2Gi" },
      requests: { cpu: "500m", memory: "512Mi" },
    });
    expect(trading.data.postgres?.resources).toEqual({
      limits: { cpu: "2", memory: "2Gi" },
      requests: { cpu: "500m", memory: "512Mi" },
    });
    expect(trading.data.redis?.resources).toEqual({
      limits: { cpu: "1", memory: "1Gi" },
      requests: { cpu: "250m", memory: "256Mi" },
    });
    for (const s of trading.services) expect(s.runAsUser, s.name).toBe(1000);
  });
});

describe("a broken catalog is rejected with every problem named", () => {
  /** The fintech catalog with `change` applied to a deep copy. */
  const broken = (change: (c: CatalogInput & { services: ServiceSpecInput[] }) => void): CatalogInput => {
    const copy = structuredClone(CATALOGS.fintech) as CatalogInput & { services: ServiceSpecInput[] };
    change(copy);
    return copy;
  };
  const svc = (c: { services: ServiceSpecInput[] }, name: string) => c.services.find((s) => s.name === name)!;
  const rejection = (input: CatalogInput): string => {
    try {
      loadCatalog(input);
    } catch (error) {
      expect(error).toBeInstanceOf(CatalogError);
      return (error as Error).message;
    }
    throw new Error("the catalog was accepted");
  };
  const message = (...problems: string[]) =>
    `Service catalog "fintech" is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`;

  it("an unknown dependency", () => {
    const input = broken((c) => svc(c, "portfolio-simulation").dependsOn!.push("pricing-service"));
    expect(rejection(input)).toBe(
      message(
        'service "portfolio-simulation" depends on "pricing-service", which is not a service of catalog "fintech"',
      ),
    );
  });

  it("a dependency cycle, named along its path", () => {
    const input = broken((c) => {
      svc(c, "market-data-ingestion").dependsOn = ["portfolio-simulation"];
    });
    expect(rejection(input)).toBe(
      message(
        "dependency cycle: market-data-ingestion -> portfolio-simulation -> python-risk-engine -> market-data-ingestion",
      ),
    );
  });

  it("a service depending on itself", () => {
    const input = broken((c) => {
      svc(c, "ai-microservice-engine").dependsOn = ["ai-microservice-engine"];
    });
    expect(rejection(input)).toBe(
      message(
        'service "ai-microservice-engine" depends on itself',
        "dependency cycle: ai-microservice-engine -> ai-microservice-engine",
      ),
    );
  });

  it("a public service scraped on its API port (Prometheus would reach it without the gateway)", () => {
    const input = broken((c) => {
      svc(c, "backend-api").metrics = { enabled: true };
    });
    expect(rejection(input)).toBe(
      message(
        'service "backend-api": a public service must serve metrics on a separate metrics.port (or disable metrics): Prometheus may reach only the metrics port, and the API port only through the gateway, which checks JWTs and rate limits',
      ),
    );
  });

  it("an external endpoint that is not a host name", () => {
    const input = broken((c) => {
      svc(c, "market-data-ingestion").externalEgress = [{ host: "not a host", port: 443, reason: "feeds" }];
    });
    expect(rejection(input)).toContain(
      'service "market-data-ingestion" externalEgress.0.host: a DNS name such as api.stripe.com',
    );
  });

  it("a duplicate name", () => {
    const input = broken((c) => c.services.push({ ...svc(c, "ai-microservice-engine"), port: 8004 }));
    expect(rejection(input)).toBe(message('service "ai-microservice-engine" is declared twice'));
  });

  it("a duplicate port (between the catalog's own services, however many)", () => {
    const two = broken((c) => {
      svc(c, "ai-microservice-engine").port = 8001;
    });
    expect(rejection(two)).toBe(
      message('services "portfolio-simulation" and "ai-microservice-engine" both use port 8001'),
    );
    const three = broken((c) => {
      svc(c, "ai-microservice-engine").port = 8000;
      svc(c, "market-data-ingestion").port = 8000;
    });
    expect(rejection(three)).toBe(
      message(
        'services "market-data-ingestion", "python-risk-engine" and "ai-microservice-engine" all use port 8000',
      ),
    );
  });

  it("a data store with a volume may keep its upstream port, but two plain services on it still clash", () => {
    const input = structuredClone(CATALOGS.trading) as CatalogInput & { services: ServiceSpecInput[] };
    const [chromadb, api] = input.services as [ServiceSpecInput, ServiceSpecInput];
    // The store sits between the two clashing services: the clash must not depend on the order.
    input.services = [
      api,
      chromadb,
      {
        ...api,
        name: "trading-worker",
        dependsOn: [],
        dependencyEnv: {},
        expose: undefined,
        migration: undefined,
      },
    ];
    expect(rejection(input)).toBe(
      'Service catalog "trading" is invalid (1 problem):\n  - services "trading-api" and "trading-worker" both use port 8000',
    );
  });

  it("a data need the catalog lacks", () => {
    const input = broken((c) => {
      svc(c, "market-data-ingestion").uses = { broker: true };
    });
    expect(rejection(input)).toBe(
      message('service "market-data-ingestion" uses a broker, but catalog "fintech" declares no broker'),
    );
    const noRedis = broken((c) => {
      delete c.data.redis;
    });
    expect(rejection(noRedis)).toBe(
      message(
        ...[
          "market-data-ingestion",
          "python-risk-engine",
          "portfolio-simulation",
          "ai-microservice-engine",
          "backend-api",
        ].map((n) => `service "${n}" uses redis, but catalog "fintech" declares no redis`),
      ),
    );
  });

  it("a latest, an empty or a malformed image tag", () => {
    const latest = broken((c) => {
      svc(c, "backend-api").image = { repository: "ghcr.io/acme-fintech/backend-api", tag: "latest" };
    });
    expect(rejection(latest)).toBe(
      message(
        'service "backend-api": image "ghcr.io/acme-fintech/backend-api:latest" is not reproducible; pin a version or a digest',
      ),
    );
    const blank = broken((c) => {
      svc(c, "backend-api").image = { repository: "ghcr.io/acme-fintech/backend-api", tag: " " };
    });
    expect(rejection(blank)).toBe(
      message(
        'service "backend-api": image "ghcr.io/acme-fintech/backend-api:" has an empty tag; pin a version or a digest',
      ),
    );
    const digest = broken((c) => {
      svc(c, "backend-api").image = { repository: "ghcr.io/acme-fintech/backend-api", tag: "sha256:abc" };
    });
    expect(rejection(digest)).toBe(
      message('service "backend-api": image digest "sha256:abc" is not a sha256 digest of 64 hex digits'),
    );
    // The components' own check: a repository MicroService would refuse is refused here, before any resource.
    const upper = broken((c) => {
      svc(c, "backend-api").image = { repository: "ghcr.io/Acme-Fintech/backend-api", tag: "2.3.0" };
    });
    expect(rejection(upper)).toBe(
      message(
        'service "backend-api": image "ghcr.io/Acme-Fintech/backend-api:2.3.0" has no valid repository (lowercase host/path such as ghcr.io/acme/api)',
      ),
    );
  });

  it("a schema violation names the service and the field", () => {
    const input = broken((c) => {
      svc(c, "backend-api").port = 80;
    });
    expect(rejection(input)).toBe(
      message('service "backend-api" port: Too small: expected number to be >=1024 (found 80)'),
    );
  });

  it("lists every problem at once", () => {
    const input = broken((c) => {
      svc(c, "backend-api").image = { repository: "ghcr.io/acme-fintech/backend-api", tag: "latest" };
      svc(c, "portfolio-simulation").dependsOn = ["python-risk-engine", "pricing-service"];
      svc(c, "ai-microservice-engine").port = 8001;
    });
    expect(rejection(input)).toBe(
      message(
        'services "portfolio-simulation" and "ai-microservice-engine" both use port 8001',
        'service "portfolio-simulation" depends on "pricing-service", which is not a service of catalog "fintech"',
        'service "backend-api": image "ghcr.io/acme-fintech/backend-api:latest" is not reproducible; pin a version or a digest',
      ),
    );
  });
});
