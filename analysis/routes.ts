/**
 * The Gateway's route table, read from rendered HTTPRoute and GRPCRoute objects: one row per
 * listener, hostname and match (path prefix or gRPC service) with the backend it reaches. Every row
 * must be unique across all catalogs: two routes claiming the same hostname and match on one listener
 * leave one of them unreachable (which one is up to the implementation's tie-breaking).
 *
 * A route without `hostnames` matches every hostname of its listener (`*`); a rule without `matches`
 * matches every path (`/`) or every gRPC service (`*`).
 */
import { type Obj, obj, list, text } from "./plain";

export interface RouteRow {
  /** `<gateway namespace>/<gateway>/<section>`, e.g. `envoy-gateway-system/gateway/https`. */
  listener: string;
  hostname: string;
  /** `PathPrefix /api/v1/users`, `Exact /health` or `gRPC shop.user.v1.UserService`. */
  match: string;
  /** `<namespace>/<Service>:<port>`, or the filter when the rule only redirects. */
  backend: string;
  /** `<namespace>/<kind>/<name>` of the route that claims it. */
  route: string;
}

export const ROUTE_KINDS = ["HTTPRoute", "GRPCRoute"] as const;

/** Route table rows of one HTTPRoute or GRPCRoute (`kind`, `metadata`, `spec` as rendered). */
export function routeRows(route: { kind?: unknown; metadata?: unknown; spec?: unknown }): RouteRow[] {
  const kind = text(route.kind);
  const metadata = obj(route.metadata);
  const namespace = text(metadata.namespace, "default");
  const spec = obj(route.spec);
  const hostnames = list(spec.hostnames).map((h) => text(h));
  const listeners = list(spec.parentRefs).map((p) => {
    const ref = obj(p);
    return `${text(ref.namespace, namespace)}/${text(ref.name)}/${text(ref.sectionName, "*")}`;
  });
  const rows: RouteRow[] = [];
  for (const raw of list(spec.rules)) {
    const rule = obj(raw);
    const backends = list(rule.backendRefs).map((b) => {
      const ref = obj(b);
      return `${text(ref.namespace, namespace)}/${text(ref.name)}:${typeof ref.port === "number" ? ref.port : ""}`;
    });
    const filters = list(rule.filters).map((f) => text(obj(f).type));
    const backend = backends.join(", ") || filters.join(", ") || "(none)";
    const matches = list(rule.matches).map((m) => {
      const match = obj(m);
      if (kind === "GRPCRoute") return `gRPC ${text(obj(match.method).service, "*")}`;
      const path = obj(match.path);
      return `${text(path.type, "PathPrefix")} ${text(path.value, "/")}`;
    });
    const effective = matches.length > 0 ? matches : [kind === "GRPCRoute" ? "gRPC *" : "PathPrefix /"];
    for (const listener of listeners)
      for (const hostname of hostnames.length > 0 ? hostnames : ["*"])
        for (const match of effective)
          rows.push({
            listener,
            hostname,
            match,
            backend,
            route: `${namespace}/${kind}/${text(metadata.name)}`,
          });
  }
  return rows;
}

/** The route table of rendered objects, sorted by listener, hostname and match. */
export function routeTable(objects: readonly Obj[]): RouteRow[] {
  return objects
    .filter((o) => (ROUTE_KINDS as readonly unknown[]).includes(o.kind))
    .flatMap(routeRows)
    .sort(
      (a, b) =>
        a.listener.localeCompare(b.listener) ||
        a.hostname.localeCompare(b.hostname) ||
        a.match.localeCompare(b.match) ||
        a.route.localeCompare(b.route),
    );
}

/** Pairs of routes that claim the same listener, hostname and match, one message each. */
export function routeConflicts(rows: readonly RouteRow[]): string[] {
  const conflicts: string[] = [];
  for (const [i, a] of rows.entries())
    for (const b of rows.slice(i + 1)) {
      if (a.route === b.route || a.listener !== b.listener || a.match !== b.match) continue;
      if (a.hostname !== b.hostname && a.hostname !== "*" && b.hostname !== "*") continue;
      conflicts.push(
        `${a.route} and ${b.route} both claim ${a.hostname === "*" ? b.hostname : a.hostname} ${a.match} on listener ${a.listener} (to ${a.backend} and ${b.backend})`,
      );
    }
  return conflicts;
}

/** The table as aligned text (the render summary and the README show it). */
export function formatRouteTable(rows: readonly RouteRow[]): string[] {
  const header: RouteRow = {
    listener: "listener",
    hostname: "hostname",
    match: "match",
    backend: "backend",
    route: "route",
  };
  const columns = ["listener", "hostname", "match", "backend"] as const;
  const width = Object.fromEntries(
    columns.map((c) => [c, Math.max(...[header, ...rows].map((r) => r[c].length))]),
  ) as Record<(typeof columns)[number], number>;
  return [header, ...rows].map((r) =>
    columns
      .map((c) => r[c].padEnd(width[c]))
      .join("  ")
      .trimEnd(),
  );
}
