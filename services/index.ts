/**
 * The service catalogs, validated. `loadCatalog` parses a catalog with its zod schema and then checks
 * what a schema cannot: unknown dependencies, dependency cycles (naming the cycle), duplicate names
 * and ports, data needs the catalog does not provide, and unusable image references. Every problem
 * is reported at once.
 */
import { imageReferenceProblem as referenceProblem } from "../components/image-reference";
import { catalogSchema, type Catalog, type CatalogInput, type ServiceSpec } from "./schema";
import { ecommerce } from "./ecommerce";
import { fintech } from "./fintech";
import { trading } from "./trading";

export * from "./schema";

/** The catalogs this product ships, by name. */
export const CATALOGS: Readonly<Record<Catalog["name"], CatalogInput>> = { ecommerce, fintech, trading };

export class CatalogError extends Error {
  constructor(
    readonly catalog: string,
    readonly problems: string[],
  ) {
    super(
      `Service catalog "${catalog}" is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "CatalogError";
  }
}

/** Parses and validates a catalog; throws CatalogError listing every problem. */
export function loadCatalog(input: CatalogInput): Catalog {
  const parsed = catalogSchema.safeParse(input, { reportInput: true });
  const label = typeof input?.name === "string" ? input.name : "<unnamed>";
  if (!parsed.success) {
    throw new CatalogError(
      label,
      parsed.error.issues.map(
        (i) =>
          `${describePath(input, i.path)}: ${i.message}${"input" in i && i.input !== undefined && i.code !== "unrecognized_keys" ? ` (found ${JSON.stringify(i.input)})` : ""}`,
      ),
    );
  }
  const problems = catalogProblems(parsed.data);
  if (problems.length > 0) throw new CatalogError(parsed.data.name, problems);
  return parsed.data;
}

/** Semantic checks over a schema-valid catalog. */
export function catalogProblems(catalog: Catalog): string[] {
  const problems: string[] = [];
  const byName = new Map<string, ServiceSpec>();
  // Every Service has its own cluster IP, so equal ports never collide inside Kubernetes. A catalog
  // still gives each of its own services a distinct port (the seeds publish them side by side on one
  // host, and a repeated port is usually a copy-paste slip). Data stores with a volume, such as
  // ChromaDB, keep their upstream image's fixed port and are exempt.
  const byPort = new Map<number, Set<string>>();
  for (const svc of catalog.services) {
    if (byName.has(svc.name)) problems.push(`service "${svc.name}" is declared twice`);
    byName.set(svc.name, svc);
    if (!svc.persistence) byPort.set(svc.port, (byPort.get(svc.port) ?? new Set()).add(svc.name));
  }
  for (const [port, names] of byPort) {
    if (names.size < 2) continue;
    const quoted = [...names].map((n) => `"${n}"`);
    problems.push(
      `services ${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)} ${names.size === 2 ? "both" : "all"} use port ${port}`,
    );
  }
  for (const svc of catalog.services) {
    const where = `service "${svc.name}"`;
    for (const dep of svc.dependsOn) {
      if (!byName.has(dep))
        problems.push(`${where} depends on "${dep}", which is not a service of catalog "${catalog.name}"`);
      if (dep === svc.name) problems.push(`${where} depends on itself`);
    }
    for (const dep of Object.keys(svc.dependencyEnv)) {
      if (!svc.dependsOn.includes(dep))
        problems.push(`${where} names an env var for "${dep}", which is not in its dependsOn`);
    }
    if (svc.uses.postgres && !catalog.data.postgres)
      problems.push(`${where} uses postgres, but catalog "${catalog.name}" declares no postgres`);
    if (svc.uses.redis && !catalog.data.redis)
      problems.push(`${where} uses redis, but catalog "${catalog.name}" declares no redis`);
    if (svc.uses.broker && !catalog.data.broker)
      problems.push(`${where} uses a broker, but catalog "${catalog.name}" declares no broker`);
    const imageProblem = imageReferenceProblem(svc.image.repository, svc.image.tag);
    if (imageProblem) problems.push(`${where}: ${imageProblem}`);
    if (svc.scaling && svc.scaling.minReplicas > svc.scaling.maxReplicas)
      problems.push(
        `${where}: scaling.minReplicas (${svc.scaling.minReplicas}) is greater than scaling.maxReplicas (${svc.scaling.maxReplicas})`,
      );
    const jwt = svc.expose?.jwt;
    if (jwt && !byName.has(jwt.issuerService))
      problems.push(
        `${where}: expose.jwt.issuerService "${jwt.issuerService}" is not a service of catalog "${catalog.name}"`,
      );
    if ((svc.entryPoint || svc.expose) && svc.metrics.enabled && (svc.metrics.port ?? svc.port) === svc.port)
      problems.push(
        `${where}: a public service must serve metrics on a separate metrics.port (or disable metrics): Prometheus may reach only the metrics port, and the API port only through the gateway, which checks JWTs and rate limits`,
      );
    if (svc.metrics.port === svc.port)
      problems.push(
        `${where}: metrics.port equals the service port; leave it out to scrape the service port`,
      );
  }
  const cycle = findCycle(catalog.services);
  if (cycle) problems.push(`dependency cycle: ${cycle.join(" -> ")}`);
  return problems;
}

/**
 * Why a catalog image (repository and tag or `sha256:` digest) cannot be deployed, or undefined when
 * it can: the components' own check, so a catalog never passes an image MicroService would refuse.
 */
export function imageReferenceProblem(repository: string, tag: string): string | undefined {
  return referenceProblem(tag.startsWith("sha256:") ? `${repository}@${tag}` : `${repository}:${tag}`);
}

/** Returns one dependency cycle as a closed path (a -> b -> a), or undefined. Deterministic. */
export function findCycle(
  services: readonly Pick<ServiceSpec, "name" | "dependsOn">[],
): string[] | undefined {
  const deps = new Map(services.map((s) => [s.name, s.dependsOn]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of deps.get(name) ?? []) {
      if (!deps.has(dep)) continue;
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const s of services) {
    const found = visit(s.name);
    if (found) return found;
  }
  return undefined;
}

function describePath(input: unknown, path: PropertyKey[]): string {
  // services.3.port -> service "order-service" port
  if (path[0] === "services" && typeof path[1] === "number") {
    const services = (input as { services?: { name?: unknown }[] }).services;
    const name = services?.[path[1]]?.name;
    const rest = path.slice(2).map(String).join(".");
    return `service ${typeof name === "string" ? `"${name}"` : `#${path[1]}`}${rest ? ` ${rest}` : ""}`;
  }
  return path.length ? path.map(String).join(".") : "catalog";
}
