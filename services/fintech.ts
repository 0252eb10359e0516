/**
 * Fintech platform (seed 000): a Node backend-api in front of four Python services, PostgreSQL and
 * Redis (allkeys-lru). backend-api receives the other services' URLs; service-to-service calls carry
 * a shared SERVICE_API_KEY; the public API allows 100 requests per 15 minutes per client IP.
 */
import { type CatalogInput } from "./schema";

const image = (name: string) => ({ repository: `ghcr.io/acme-fintech/${name}`, tag: "2.3.0" });
const serviceApiKey = { source: "generated", id: "service-api-key", length: 48 } as const;
const pythonResources = { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } };

export const fintech: CatalogInput = {
  name: "fintech",
  title: "Fintech platform",
  namespace: "fintech",
  data: {
    postgres: { database: "fintech", extensions: [] },
    redis: { maxmemoryPolicy: "allkeys-lru" },
  },
  services: [
    {
      name: "market-data-ingestion",
      description: "Ingests market data feeds into PostgreSQL and Redis.",
      image: image("market-data-ingestion"),
      port: 8002,
      protocol: "http",
      env: { LOG_LEVEL: "info" },
      externalEgress: [
        {
          host: "feeds.market-data.example.com",
          port: 443,
          reason: "pulls quotes and trades from the market data provider (HTTPS)",
        },
      ],
      secretEnv: { SERVICE_API_KEY: serviceApiKey },
      uses: { postgres: { database: "fintech" }, redis: true },
      resources: pythonResources,
    },
    {
      name: "python-risk-engine",
      description: "Risk calculations (VaR, exposure) over market data.",
      image: image("python-risk-engine"),
      port: 8000,
      protocol: "http",
      env: { LOG_LEVEL: "info" },
      secretEnv: { SERVICE_API_KEY: serviceApiKey },
      dependsOn: ["market-data-ingestion"],
      dependencyEnv: { "market-data-ingestion": "MARKET_DATA_URL" },
      uses: { postgres: { database: "fintech" }, redis: true },
      resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
    },
    {
      name: "portfolio-simulation",
      description: "Monte Carlo portfolio simulation using the risk engine.",
      image: image("portfolio-simulation"),
      port: 8001,
      protocol: "http",
      env: { LOG_LEVEL: "info" },
      secretEnv: { SERVICE_API_KEY: serviceApiKey },
      dependsOn: ["python-risk-engine"],
      dependencyEnv: { "python-risk-engine": "RISK_ENGINE_URL" },
      uses: { redis: true },
      resources: pythonResources,
    },
    {
      name: "ai-microservice-engine",
      description: "AI insights; standalone.",
      image: image("ai-microservice-engine"),
      port: 8003,
      protocol: "http",
      env: { LOG_LEVEL: "info" },
      secretEnv: { SERVICE_API_KEY: serviceApiKey },
      uses: { redis: true },
      resources: pythonResources,
    },
    {
      name: "backend-api",
      description: "Public Node.js API; fans out to the four Python services.",
      image: image("backend-api"),
      port: 3000,
      protocol: "http",
      entryPoint: true,
      // Metrics on a port of their own: Prometheus never gets to the API port, which only the gateway reaches.
      metrics: { port: 9464 },
      env: {
        METRICS_PORT: "9464",
        NODE_ENV: "production",
        LOG_LEVEL: "info",
        RATE_LIMIT_WINDOW_MS: "900000",
        RATE_LIMIT_MAX_REQUESTS: "100",
      },
      secretEnv: {
        JWT_SECRET: { source: "generated", id: "jwt-secret", length: 64 },
        SERVICE_API_KEY: serviceApiKey,
      },
      dependsOn: [
        "python-risk-engine",
        "portfolio-simulation",
        "market-data-ingestion",
        "ai-microservice-engine",
      ],
      dependencyEnv: {
        "python-risk-engine": "RISK_ENGINE_URL",
        "portfolio-simulation": "PORTFOLIO_SERVICE_URL",
        "market-data-ingestion": "MARKET_DATA_URL",
        "ai-microservice-engine": "AI_ENGINE_URL",
      },
      uses: { postgres: { database: "fintech" }, redis: true },
      expose: { pathPrefixes: ["/"], rateLimit: { requests: 100, perSeconds: 900 } },
      resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    },
  ],
};
