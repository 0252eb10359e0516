/**
 * Connectivity of every stack, proven on what the program renders: the NetworkPolicy model
 * (analysis/) built from the rendered objects allows every intended flow and denies every must-not
 * flow derived from the catalogs and the plan. kwok enforces no NetworkPolicy, so this is the proof.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { analyseConnectivity, type ConnectivityAnalysis } from "../analysis/stack";
import { flowVerdict, type Endpoint } from "../analysis/network-policy";
import { INTERNET_IP, METADATA_SERVICE } from "../analysis/intent";
import { kubernetesObject } from "../scripts/render-lib";
import { runStack, stackSettings } from "./harness";

const STACKS = ["local", "staging", "production"] as const;
const analyses = new Map<string, ConnectivityAnalysis>();

beforeAll(async () => {
  for (const stack of STACKS) {
    const run = await runStack(stack);
    const objects = run.resources.map(kubernetesObject).filter((o): o is Record<string, unknown> => !!o);
    analyses.set(stack, analyseConnectivity(stackSettings(stack), objects));
  }
}, 120_000);

const analysis = (stack: string) => analyses.get(stack) as ConnectivityAnalysis;
const pod = (stack: string, id: string): Endpoint => {
  const found = analysis(stack).model.pods.find((p) => p.id === id);
  if (!found) throw new Error(`${stack}: no pod ${id} in the model`);
  return { pod: found };
};
const allowed = (stack: string, from: string, to: string | Endpoint, port: number) =>
  flowVerdict(analysis(stack).model, pod(stack, from), typeof to === "string" ? pod(stack, to) : to, port)
    .allowed;
const internet = (name: string): Endpoint => ({ external: { ip: INTERNET_IP, name } });

describe.each(STACKS)("%s: connectivity", (stack) => {
  it("every intended flow is allowed, naming pods that exist", () => {
    const { report, intent } = analysis(stack);
    expect(intent.intended.length).toBeGreaterThan(50);
    expect(report.missingPods).toEqual([]);
    expect(report.blocked).toEqual([]);
    expect(report.noService).toEqual([]);
  });

  it("every must-not flow is denied", () => {
    expect(analysis(stack).intent.mustNot.length).toBeGreaterThan(20);
    expect(analysis(stack).report.leaks).toEqual([]);
  });

  it("no application pod reaches the instance metadata service", () => {
    for (const p of analysis(stack).model.pods.filter((x) =>
      ["ecommerce", "fintech", "trading"].includes(x.namespace),
    ))
      expect(allowed(stack, p.id, { external: METADATA_SERVICE }, 80), p.id).toBe(false);
  });
});

describe("pods have addresses in the node subnets (VPC CNI), which ipBlock rules match", () => {
  it("a consumer's egress to the RDS subnets reaches pods there: the destination's ingress is what denies", () => {
    const m = analysis("production").model;
    const trading = pod("production", "trading/trading-postgres");
    expect("pod" in trading && trading.pod.ip).toMatch(/^10\.\d+\.\d+\.\d+$/);
    const verdict = flowVerdict(m, pod("production", "ecommerce/order-service"), trading, 5432);
    expect(verdict).toEqual({ allowed: false, deniedBy: "ingress of trading/trading-postgres" });
  });
});

describe("the defects issue 12 names", () => {
  it("migration Jobs reach their databases (production trading-api, every local e-commerce migration)", () => {
    expect(allowed("production", "trading/trading-api-migration", "trading/trading-postgres", 5432)).toBe(
      true,
    );
    for (const svc of ["user", "product", "inventory", "order", "payment", "notification"])
      expect(
        allowed("local", `ecommerce/${svc}-service-migration`, "ecommerce/ecommerce-postgres", 5432),
        svc,
      ).toBe(true);
  });

  it("the services with third-party endpoints reach the internet on 443; others do not", () => {
    for (const stack of STACKS) {
      expect(allowed(stack, "ecommerce/payment-service", internet("api.stripe.com"), 443)).toBe(true);
      expect(allowed(stack, "ecommerce/notification-service", internet("api.sendgrid.com"), 443)).toBe(true);
      expect(
        allowed(stack, "fintech/market-data-ingestion", internet("feeds.market-data.example.com"), 443),
      ).toBe(true);
      expect(allowed(stack, "ecommerce/order-service", internet("anything"), 443)).toBe(false);
      // Not the migration Job of a service that declares an endpoint.
      expect(allowed(stack, "ecommerce/payment-service-migration", internet("api.stripe.com"), 443)).toBe(
        false,
      );
      // The declared egress is 443 to public addresses: not other ports, not the VPC.
      expect(allowed(stack, "ecommerce/payment-service", internet("api.stripe.com"), 80)).toBe(false);
      expect(
        allowed(stack, "ecommerce/payment-service", { external: { ip: "10.30.1.10", name: "vpc" } }, 443),
      ).toBe(false);
    }
  });

  it("monitoring cannot reach the API port of the public entry services", () => {
    for (const stack of ["staging", "production"]) {
      expect(allowed(stack, "monitoring/prometheus", "ecommerce/api-gateway", 8000)).toBe(false);
      expect(allowed(stack, "monitoring/prometheus", "fintech/backend-api", 3000)).toBe(false);
      expect(allowed(stack, "monitoring/prometheus", "trading/trading-api", 8000)).toBe(false);
      expect(allowed(stack, "envoy-gateway-system/envoy-proxy", "trading/trading-api", 8000)).toBe(true);
    }
  });
});
