/**
 * Trading platform "Maricusco" (seed 002): one FastAPI app, PostgreSQL with TimescaleDB, Redis, and a
 * ChromaDB vector store on a persistent volume. Resource figures are the seed's (limits / requests).
 */
import { type CatalogInput } from "./schema";

export const trading: CatalogInput = {
  name: "trading",
  title: "Trading platform (Maricusco)",
  namespace: "trading",
  data: {
    postgres: {
      database: "trading",
      extensions: ["timescaledb"],
      resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
    },
    redis: {
      maxmemoryPolicy: "allkeys-lru",
      resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    },
  },
  services: [
    {
      name: "chromadb",
      description: "ChromaDB vector store for the agents' memory.",
      image: { repository: "chromadb/chroma", tag: "0.5.20" },
      port: 8000,
      protocol: "http",
      metrics: { enabled: false },
      health: { livenessPath: "/api/v1/heartbeat" },
      env: { IS_PERSISTENT: "TRUE", PERSIST_DIRECTORY: "/chroma/chroma", ANONYMIZED_TELEMETRY: "FALSE" },
      persistence: {
        size: "10Gi",
        mountPath: "/chroma/chroma",
        singletonReason:
          "ChromaDB runs as a single-node server: a second replica would hold its own, diverging index",
      },
      resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
    },
    {
      name: "trading-api",
      description: "FastAPI trading application (multi-agent analysis and execution).",
      image: { repository: "ghcr.io/maricusco/trading-api", tag: "0.9.1" },
      port: 8000,
      protocol: "http",
      entryPoint: true,
      // Metrics on a port of their own: Prometheus never gets to the API port, which only the gateway reaches.
      metrics: { port: 9000 },
      env: { UVICORN_WORKERS: "4", UVICORN_RELOAD: "false", LOG_LEVEL: "info", METRICS_PORT: "9000" },
      dependsOn: ["chromadb"],
      dependencyEnv: { chromadb: "CHROMA_URL" },
      uses: { postgres: { database: "trading" }, redis: true },
      expose: { pathPrefixes: ["/"] },
      resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "4Gi" } },
      migration: { command: ["alembic", "upgrade", "head"] },
    },
  ],
};
