/**
 * Synthetic service catalogs for the benchmark: N services in the shape of the real ones (HTTP and
 * gRPC, PostgreSQL/Redis users, generated secrets), each depending on up to two earlier services so
 * dependency chains grow like a real platform's (depth ~ log N) rather than as one long line.
 */
import { type CatalogInput, type ServiceSpecInput } from "../services/schema";

export function syntheticCatalog(
  count: number,
  slot: "ecommerce" | "fintech" | "trading" = "fintech",
): CatalogInput {
  const name = (i: number) => `svc-${String(i).padStart(4, "0")}`;
  const services: ServiceSpecInput[] = [];
  for (let i = 0; i < count; i++) {
    const deps = [...new Set([i - 1, Math.floor((i - 1) / 2)].filter((d) => d >= 0 && d < i))].map(name);
    services.push({
      name: name(i),
      description: `Synthetic service ${i}`,
      image: { repository: `ghcr.io/bench/${name(i)}`, tag: "1.0.0" },
      port: 10000 + i,
      protocol: i % 3 === 0 ? "grpc" : "http",
      // gRPC services and the public entry expose metrics on a separate HTTP port, as the real ones do.
      ...(i % 3 === 0 || i === count - 1 ? { metrics: { port: 20000 + i } } : {}),
      env: { LOG_LEVEL: "info" },
      secretEnv:
        i % 2 === 0 ? { SERVICE_API_KEY: { source: "generated", id: "service-api-key", length: 48 } } : {},
      dependsOn: deps,
      uses: {
        ...(i % 4 === 0 ? { postgres: { database: "bench" } } : {}),
        ...(i % 5 === 0 ? { redis: true } : {}),
      },
      ...(i === count - 1 ? { entryPoint: true, expose: { pathPrefixes: ["/"] } } : {}),
    });
  }
  return {
    name: slot,
    title: `Synthetic catalog of ${count} services`,
    namespace: "bench",
    data: { postgres: { database: "bench", extensions: [] }, redis: { maxmemoryPolicy: "allkeys-lru" } },
    services,
  };
}
