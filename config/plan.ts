/**
 * The deployment plan: settings + catalogs → the plain-data decisions index.ts hands to components.
 *
 * Pure (no Pulumi): replica floors and ceilings per stage, resources, image references with
 * overrides, which secrets each service reads, URLs of dependencies, who may call whom, and the
 * start order. Keeping these decisions here makes them testable without running the program and
 * keeps index.ts a composition root that only wires.
 */
import { type Catalog, type ServiceSpec, type SecretEnv } from "../services/schema";
import { type PlatformSettings } from "./settings";
import { cpuMillis } from "../components/lib";

export interface ServicePlan {
  catalog: string;
  namespace: string;
  spec: ServiceSpec;
  /**
   * `repo:tag` or `repo@sha256:…`, with the stack's override applied. For a service with `build`
   * this is only the nominal reference: the workload runs the built image's reference instead.
   */
  image: string;
  /**
   * Build from source (`spec.build`): the repository and tag to publish under. A digest override
   * wins over the build and becomes `pinnedDigest` (nothing is built; that digest runs).
   */
  build?: {
    repositoryName: string;
    imageTag: string;
    context: string;
    dockerfile?: string;
    pinnedDigest?: string;
  };
  replicas: { min: number; max: number };
  /** Autoscaled (HPA) when the ceiling is above the floor and the workload has no per-pod volume. */
  autoscaled: boolean;
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  /** Services this one calls, with the env var carrying each URL. */
  dependencies: { name: string; port: number; protocol: "http" | "grpc"; env: string }[];
  /** Services that call this one (allowed in by its NetworkPolicy). */
  callers: string[];
  /** Another service's public route validates JWTs this one issues (the Gateway fetches its JWKS). */
  jwtIssuer: boolean;
  /** Secret env vars grouped by where their value comes from. */
  generatedSecrets: { env: string; id: string; length: number }[];
  externalSecrets: { env: string; id: string; configKey: string }[];
}

export interface CatalogPlan {
  catalog: Catalog;
  namespace: string;
  /**
   * Hostname of the catalog's public routes: `<catalog>.<ingress domain>`. Each platform gets its own
   * hostname, so each keeps its paths as it serves them (two can both own `/`) and nothing rewrites them.
   */
  hostname: string;
  services: ServicePlan[];
  /** Services in a valid start order (dependencies first); ties broken by catalog order. */
  startOrder: string[];
  /** Database name per consuming service (e-commerce: one each; fintech/trading: shared). */
  databases: { service: string; database: string }[];
  redisConsumers: string[];
  brokerConsumers: string[];
}

/** Public hostname of a catalog's routes on the Gateway: `fintech` + `platform.example.com` → `fintech.platform.example.com`. */
export function publicHostname(catalog: string, domain: string): string {
  return `${catalog}.${domain}`;
}

/** Env var name for a dependency's URL when the catalog does not name one: `order-service` → `ORDER_SERVICE_URL`. */
export function defaultUrlEnv(service: string): string {
  return `${service.replace(/-/g, "_").toUpperCase()}_URL`;
}

export function planCatalog(settings: PlatformSettings, catalog: Catalog): CatalogPlan {
  const byName = new Map(catalog.services.map((s) => [s.name, s]));
  // Reverse edges and JWT issuers, computed once (catalogs can be large; see the benchmark).
  const callersOf = new Map<string, string[]>();
  for (const s of catalog.services)
    for (const dep of s.dependsOn) callersOf.set(dep, [...(callersOf.get(dep) ?? []), s.name]);
  const jwtIssuers = new Set(
    catalog.services.flatMap((s) => (s.expose?.jwt ? [s.expose.jwt.issuerService] : [])),
  );
  const services = catalog.services.map((spec): ServicePlan => {
    const override = settings.services[`${catalog.name}/${spec.name}`] ?? {};
    const replicas = planReplicas(settings, spec, override.replicas);
    const tag = override.imageTag ?? spec.image.tag;
    return {
      catalog: catalog.name,
      namespace: catalog.namespace,
      spec,
      image: tag.startsWith("sha256:")
        ? `${spec.image.repository}@${tag}`
        : `${spec.image.repository}:${tag}`,
      ...(spec.build ? { build: planBuild(spec, override.imageTag) } : {}),
      replicas,
      autoscaled: !spec.persistence && replicas.max > replicas.min,
      resources: capCpuRequest(
        mergeResources(spec.resources ?? settings.profile.defaultResources, override.resources),
        settings.profile.cpuRequestCeiling,
      ),
      dependencies: spec.dependsOn.map((dep) => {
        const target = byName.get(dep);
        if (!target) throw new Error(`catalog ${catalog.name}: ${spec.name} depends on unknown ${dep}`);
        return {
          name: dep,
          port: target.port,
          protocol: target.protocol,
          env: spec.dependencyEnv[dep] ?? defaultUrlEnv(dep),
        };
      }),
      callers: callersOf.get(spec.name) ?? [],
      jwtIssuer: jwtIssuers.has(spec.name),
      generatedSecrets: secretsOf(spec.secretEnv, "generated").map(([env, s]) => ({
        env,
        id: s.id,
        length: s.source === "generated" ? s.length : 0,
      })),
      externalSecrets: secretsOf(spec.secretEnv, "external").map(([env, s]) => ({
        env,
        id: s.id,
        configKey: `${catalog.name}.${env}`,
      })),
    };
  });
  return {
    catalog,
    namespace: catalog.namespace,
    hostname: publicHostname(catalog.name, settings.ingress.domain),
    services,
    startOrder: startOrder(catalog.services),
    databases: catalog.services
      .filter((s) => s.uses.postgres)
      .map((s) => ({
        service: s.name,
        database: s.uses.postgres?.database ?? catalog.data.postgres?.database ?? s.name,
      })),
    redisConsumers: catalog.services.filter((s) => s.uses.redis).map((s) => s.name),
    brokerConsumers: catalog.services.filter((s) => s.uses.broker).map((s) => s.name),
  };
}

/**
 * Replica floor/ceiling: the catalog's figures, raised to the stage floor (public entry points get
 * the higher floor), then the stack's override. Services with a per-pod volume run a fixed count.
 */
export function planReplicas(
  settings: PlatformSettings,
  spec: ServiceSpec,
  override?: { min: number; max: number },
): { min: number; max: number } {
  if (override) return override;
  if (spec.persistence) {
    const fixed = spec.scaling?.minReplicas ?? 1;
    return { min: fixed, max: fixed };
  }
  const floor = spec.entryPoint ? settings.profile.replicas.publicMin : settings.profile.replicas.min;
  const min = Math.max(spec.scaling?.minReplicas ?? floor, floor);
  const max = Math.max(spec.scaling?.maxReplicas ?? settings.profile.replicas.max, min);
  return { min, max };
}

/** The build of a `spec.build` service: a tag override retags it, a digest override pins it. */
function planBuild(spec: ServiceSpec, overrideTag: string | undefined): ServicePlan["build"] {
  if (!spec.build) return undefined;
  const digest = overrideTag?.startsWith("sha256:") ? overrideTag : undefined;
  return {
    repositoryName: spec.image.repository,
    imageTag: digest ? spec.image.tag : (overrideTag ?? spec.image.tag),
    context: spec.build.context,
    ...(spec.build.dockerfile ? { dockerfile: spec.build.dockerfile } : {}),
    ...(digest ? { pinnedDigest: digest } : {}),
  };
}

/** `resources` with its CPU request lowered to `ceiling` (limits untouched); as given without a ceiling. */
export function capCpuRequest<
  R extends { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } },
>(resources: R, ceiling: string | undefined): R {
  if (ceiling === undefined || cpuMillis(resources.requests.cpu) <= cpuMillis(ceiling)) return resources;
  return { ...resources, requests: { ...resources.requests, cpu: ceiling } };
}

function mergeResources(
  base: ServicePlan["resources"],
  override?: { requests?: { cpu: string; memory: string }; limits?: { cpu: string; memory: string } },
): ServicePlan["resources"] {
  return { requests: override?.requests ?? base.requests, limits: override?.limits ?? base.limits };
}

function secretsOf<S extends SecretEnv["source"]>(
  env: Record<string, SecretEnv>,
  source: S,
): [string, Extract<SecretEnv, { source: S }>][] {
  return Object.entries(env)
    .filter((entry): entry is [string, Extract<SecretEnv, { source: S }>] => entry[1].source === source)
    .sort(([a], [b]) => a.localeCompare(b));
}

/** Kahn's algorithm over dependsOn, stable in catalog order. Catalogs are validated acyclic. */
export function startOrder(services: readonly Pick<ServiceSpec, "name" | "dependsOn">[]): string[] {
  const remaining = new Map(services.map((s) => [s.name, new Set(s.dependsOn)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining.entries()]
      .filter(([, deps]) => [...deps].every((d) => !remaining.has(d)))
      .map(([name]) => name);
    if (ready.length === 0) throw new Error(`dependency cycle among ${[...remaining.keys()].join(", ")}`);
    for (const name of ready) {
      order.push(name);
      remaining.delete(name);
    }
  }
  return order;
}
