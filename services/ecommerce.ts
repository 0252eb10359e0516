/**
 * E-commerce platform (seed 001): an HTTP api-gateway in front of six gRPC services, one PostgreSQL
 * database per service, Redis, and RabbitMQ with the `ecommerce_events` exchange.
 *
 * Start order (expressed as `dependsOn`): data services → core (user, product, inventory) →
 * business (order, payment, notification) → api-gateway.
 */
import { type CatalogInput } from "./schema";

const image = (name: string) => ({ repository: `ghcr.io/acme-shop/${name}`, tag: "1.0.0" });
const grpcResources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "512Mi" },
};
const jwtSecret = { source: "generated", id: "jwt-secret", length: 64 } as const;

export const ecommerce: CatalogInput = {
  name: "ecommerce",
  title: "E-commerce platform",
  namespace: "ecommerce",
  data: {
    postgres: { database: "ecommerce", extensions: [] },
    redis: { maxmemoryPolicy: "volatile-lru" },
    broker: { exchanges: ["ecommerce_events"] },
  },
  services: [
    {
      name: "user-service",
      description: "Accounts, authentication and JWT issuance.",
      image: image("user-service"),
      port: 9001,
      protocol: "grpc",
      metrics: { port: 9101 },
      env: {
        JWT_EXPIRATION: "24h",
        REFRESH_TOKEN_EXPIRATION: "168h",
        JWKS_HTTP_PORT: "9101",
        LOG_LEVEL: "info",
      },
      secretEnv: { JWT_SECRET: jwtSecret },
      uses: { postgres: { database: "users_db" }, redis: true, broker: true },
      resources: grpcResources,
      migration: { command: ["migrate", "-path", "/migrations", "-database", "$(DATABASE_URL)", "up"] },
    },
    {
      name: "product-service",
      description: "Product catalogue and search.",
      image: image("product-service"),
      port: 9002,
      protocol: "grpc",
      metrics: { port: 9102 },
      env: { LOG_LEVEL: "info" },
      uses: { postgres: { database: "products_db" }, redis: true },
      resources: grpcResources,
      migration: { command: ["migrate", "-path", "/migrations", "-database", "$(DATABASE_URL)", "up"] },
    },
    {
      name: "inventory-service",
      description: "Stock levels and reservations.",
      image: image("inventory-service"),
      port: 9003,
      protocol: "grpc",
      metrics: { port: 9103 },
      env: { LOG_LEVEL: "info" },
      uses: { postgres: { database: "inventory_db" }, redis: true, broker: true },
      resources: grpcResources,
      migration: { command: ["migrate", "-path", "/migrations", "-database", "$(DATABASE_URL)", "up"] },
    },
    {
      name: "order-service",
      description: "Order lifecycle; reserves stock and publishes order events.",
      image: image("order-service"),
      port: 9004,
      protocol: "grpc",
      metrics: { port: 9104 },
      env: { LOG_LEVEL: "info" },
      dependsOn: ["user-service", "product-service", "inventory-service"],
      uses: { postgres: { database: "orders_db" }, redis: true, broker: true },
      resources: grpcResources,
      migration: { command: ["migrate", "-path", "/migrations", "-database", "$(DATABASE_URL)", "up"] },
    },
    {
      name: "payment-service",
      description: "Payments through Stripe; receives Stripe webhooks.",
      image: image("payment-service"),
      port: 9005,
      protocol: "grpc",
      metrics: { port: 9105 },
      env: { LOG_LEVEL: "info" },
      externalEgress: [
        { host: "api.stripe.com", port: 443, reason: "creates and confirms card payments (Stripe API)" },
      ],
      secretEnv: {
        STRIPE_API_KEY: { source: "external", id: "stripe-api-key" },
        STRIPE_WEBHOOK_SECRET: { source: "external", id: "stripe-webhook-secret" },
      },
      dependsOn: ["order-service"],
      uses: { postgres: { database: "payments_db" }, broker: true },
      resources: grpcResources,
      migration: { command: ["migrate", "-path", "/migrations", "-database", "$(DATABASE_URL)", "up"] },
    },
    {
      name: "notification-service",
      description: "E-mail notifications through SendGrid, driven by broker events.",
      image: image("notification-service"),
      port: 9006,
      protocol: "grpc",
      metrics: { port: 9106 },
      env: { EMAIL_FROM: "noreply@shop.example.com", LOG_LEVEL: "info" },
      externalEgress: [{ host: "api.sendgrid.com", port: 443, reason: "sends e-mail (SendGrid v3 API)" }],
      secretEnv: { SENDGRID_API_KEY: { source: "external", id: "sendgrid-api-key" } },
      dependsOn: ["user-service"],
      uses: { postgres: { database: "notifications_db" }, broker: true },
      resources: grpcResources,
      migration: { command: ["migrate", "-path", "/migrations", "-database", "$(DATABASE_URL)", "up"] },
    },
    {
      name: "api-gateway",
      description: "Public HTTP API; translates /api/v1/<area> calls into gRPC.",
      image: image("api-gateway"),
      port: 8000,
      protocol: "http",
      entryPoint: true,
      // Metrics on a port of their own: Prometheus never gets to the API port, which only the gateway reaches.
      metrics: { port: 9100 },
      env: { LOG_LEVEL: "info", METRICS_PORT: "9100" },
      secretEnv: { JWT_SECRET: jwtSecret },
      dependsOn: [
        "user-service",
        "product-service",
        "inventory-service",
        "order-service",
        "payment-service",
        "notification-service",
      ],
      uses: { redis: true },
      expose: {
        pathPrefixes: [
          "/api/v1/users",
          "/api/v1/products",
          "/api/v1/inventory",
          "/api/v1/orders",
          "/api/v1/payments",
          "/api/v1/notifications",
        ],
        jwt: {
          issuer: "https://shop.example.com",
          issuerService: "user-service",
          jwksPath: "/.well-known/jwks.json",
          exemptPathPrefixes: [
            "/api/v1/users/login",
            "/api/v1/users/register",
            "/api/v1/users/refresh",
            "/api/v1/payments/webhook",
          ],
        },
      },
      resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    },
  ],
};
