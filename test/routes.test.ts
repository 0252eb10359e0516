/**
 * The Gateway's route table, read from what every stack renders: every listener + hostname + match is
 * claimed by one route only, and each platform is reachable under its own hostname.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { routeConflicts, routeRows, routeTable, type RouteRow } from "../analysis/routes";
import { kubernetesObject } from "../scripts/render-lib";
import { runStack } from "./harness";

const tables = new Map<string, RouteRow[]>();
beforeAll(async () => {
  for (const stack of ["staging", "production"]) {
    const run = await runStack(stack);
    tables.set(
      stack,
      routeTable(run.resources.map(kubernetesObject).filter((o): o is Record<string, unknown> => !!o)),
    );
  }
}, 120_000);

describe("route table semantics", () => {
  const route = (namespace: string, name: string, spec: Record<string, unknown>) => ({
    kind: "HTTPRoute",
    metadata: { name, namespace },
    spec: { parentRefs: [{ name: "gw", namespace: "gw", sectionName: "https" }], ...spec },
  });

  it("a route without hostnames or matches claims every hostname and '/'", () => {
    expect(routeRows(route("a", "r", { rules: [{ backendRefs: [{ name: "svc", port: 80 }] }] }))).toEqual([
      {
        listener: "gw/gw/https",
        hostname: "*",
        match: "PathPrefix /",
        backend: "a/svc:80",
        route: "a/HTTPRoute/r",
      },
    ]);
  });

  it("same hostname and prefix on one listener conflict; other hostnames, prefixes or listeners do not", () => {
    const rule = (value: string) => [
      { matches: [{ path: { type: "PathPrefix", value } }], backendRefs: [{ name: "s", port: 1 }] },
    ];
    const a = route("a", "api", { hostnames: ["x.example.com"], rules: rule("/") });
    const b = route("b", "api", { hostnames: ["x.example.com"], rules: rule("/") });
    const c = route("c", "api", { hostnames: ["y.example.com"], rules: rule("/") });
    const d = route("d", "api", { hostnames: ["x.example.com"], rules: rule("/v2") });
    const wildcard = route("e", "api", { rules: rule("/v2") });
    expect(routeConflicts(routeTable([a, b]))).toHaveLength(1);
    expect(routeConflicts(routeTable([a, c, d]))).toEqual([]);
    expect(routeConflicts(routeTable([d, wildcard]))).toHaveLength(1);
  });
});

describe.each(["staging", "production"])("%s: routes", (stack) => {
  it("every listener, hostname and match is claimed once across all catalogs", () => {
    const table = tables.get(stack) ?? [];
    expect(table.length).toBeGreaterThan(5);
    expect(routeConflicts(table)).toEqual([]);
  });

  it("each platform's public service answers under its own hostname", () => {
    const table = tables.get(stack) ?? [];
    const domain = stack === "production" ? "platform.example.com" : "staging.platform.example.com";
    const to = (backend: string) =>
      table.filter((r) => r.backend === backend).map((r) => `${r.hostname} ${r.match}`);
    expect(to("fintech/backend-api:3000")).toEqual([`fintech.${domain} PathPrefix /`]);
    expect(to("trading/trading-api:8000")).toEqual([`trading.${domain} PathPrefix /`]);
    expect(to("ecommerce/api-gateway:8000")).toContain(`ecommerce.${domain} PathPrefix /api/v1/orders`);
  });
});
