/**
 * The add-on namespaces' NetworkPolicies (components/addon-network.ts, addon-workloads.ts): what the
 * helper renders for each namespace, and the flow table docs/connectivity.md publishes. The flows
 * themselves are proven on the model in test/connectivity.test.ts and by cyclonus in netpol-engine.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ADD_ON_POLICY_COMPONENT } from "../components/addon-network";
import { addOnFlowTable } from "../components/addon-workloads";
import { REPO_ROOT, reveal, runStack, type RunResult } from "./harness";

let run: RunResult;
beforeAll(async () => {
  run = await runStack("production");
}, 120_000);

interface Policy {
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: string[];
    ingress?: { from?: unknown[]; ports?: { port: number; protocol: string }[] }[];
    egress?: {
      to?: { ipBlock?: { cidr: string; except?: string[] } }[];
      ports?: { port: number; protocol: string }[];
    }[];
  };
}
const policies = (namespace: string): Policy[] =>
  run.resources
    .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    .map((r) => reveal(r.inputs) as Policy)
    .filter((p) => p.metadata.namespace === namespace);

describe.each(["monitoring", "cert-manager", "envoy-gateway-system", "cnpg-system"])("%s", (namespace) => {
  it("denies everything by default, then each chart workload gets DNS and its own flows", () => {
    const ps = policies(namespace).filter(
      (p) => p.metadata.labels["app.kubernetes.io/component"] === ADD_ON_POLICY_COMPONENT,
    );
    const deny = ps.find((p) => p.metadata.name === "default-deny");
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const workloads = ps.filter((p) => p !== deny);
    expect(workloads.length).toBeGreaterThan(0);
    for (const p of workloads) {
      expect(p.spec.policyTypes, p.metadata.name).toEqual(["Ingress", "Egress"]);
      expect(Object.keys(p.spec.podSelector.matchLabels ?? {}).length, p.metadata.name).toBeGreaterThan(0);
      expect(p.spec.egress?.[0]?.ports, p.metadata.name).toEqual([
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ]);
      // Never link-local (instance metadata, Pod Identity agent), never every private address.
      for (const rule of p.spec.egress ?? [])
        for (const to of rule.to ?? [])
          if (to.ipBlock) {
            expect(to.ipBlock.cidr, p.metadata.name).not.toMatch(
              /^(169\.254\.|10\.0\.0\.0\/8|172\.16\.0\.0\/12|192\.168\.0\.0\/16)/,
            );
            if (to.ipBlock.cidr === "0.0.0.0/0") expect(to.ipBlock.except).toContain("169.254.0.0/16");
          }
    }
  });
});

it("reaches the API server at the cluster's subnets (and the kubernetes Service's address) on 443 only", () => {
  const webhook = policies("cert-manager").find((p) => p.metadata.name === "cert-manager-webhook")!;
  expect(webhook.spec.egress?.[1]).toEqual({
    to: ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19", "172.20.0.1/32"].map((cidr) => ({
      ipBlock: { cidr },
    })),
    ports: [{ protocol: "TCP", port: 443 }],
  });
});

it("declares the public endpoints a chart workload reaches, as the catalogs do", () => {
  const controller = policies("cert-manager").find((p) => p.metadata.name === "cert-manager-controller")!;
  expect(Object.values(controller.metadata.annotations ?? {})).toEqual([
    expect.stringContaining("acme-v02.api.letsencrypt.org:443"),
  ]);
  // Production routes alerts nowhere: Alertmanager gets no public egress at all.
  const alertmanager = policies("monitoring").find((p) => p.metadata.name === "alertmanager")!;
  expect(alertmanager.metadata.annotations).toBeUndefined();
  expect(JSON.stringify(alertmanager.spec.egress)).not.toContain("0.0.0.0/0");
});

it("docs/connectivity.md lists every admitted flow with why", () => {
  // Cell by cell: prettier pads the table's columns in the doc.
  const rows = (markdown: string) =>
    markdown
      .split("\n")
      .filter((l) => l.startsWith("| ") && !/^\|[\s|:-]+\|$/.test(l))
      .map((l) =>
        l
          .split("|")
          .map((c) => c.trim())
          .join("|"),
      );
  const doc = rows(readFileSync(path.join(REPO_ROOT, "docs/connectivity.md"), "utf8"));
  const table = rows(addOnFlowTable());
  expect(table.length).toBeGreaterThan(40);
  expect(
    table.filter((r) => !doc.includes(r)),
    `docs/connectivity.md must hold:\n${addOnFlowTable()}`,
  ).toEqual([]);
});
