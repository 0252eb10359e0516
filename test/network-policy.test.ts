/**
 * NetworkPolicy semantics of the connectivity model (analysis/network-policy.ts), on small
 * hand-written clusters: each case states one rule of the API reference and a flow it allows or denies.
 */
import { describe, expect, it } from "vitest";
import {
  allowedFlows,
  effectivePolicyTypes,
  flowVerdict,
  ipInCidr,
  servicesReaching,
  type ClusterModel,
  type Endpoint,
  type Pod,
  type Policy,
  type PolicySpec,
} from "../analysis/network-policy";
import { clusterModel } from "../analysis/cluster-model";

const pod = (
  namespace: string,
  name: string,
  labels: Record<string, string> = {},
  ports: Pod["ports"] = [],
): Pod => ({
  id: `${namespace}/${name}`,
  namespace,
  labels: { app: name, ...labels },
  ports,
  kind: "Deployment",
});
const web = pod("shop", "web", { tier: "front" });
const api = pod("shop", "api", { tier: "back" }, [
  { name: "http", port: 8080, protocol: "TCP" },
  { name: "metrics", port: 9090, protocol: "TCP" },
]);
const db = pod("data", "db", {}, [{ name: "pg", port: 5432, protocol: "TCP" }]);
const prom = pod("monitoring", "prometheus");
const internet: Endpoint = { external: { ip: "203.0.113.10", name: "internet" } };
const metadata: Endpoint = { external: { ip: "169.254.169.254", name: "instance metadata" } };

const policy = (namespace: string, name: string, spec: PolicySpec): Policy => ({ name, namespace, spec });
const model = (policies: Policy[], pods: Pod[] = [web, api, db, prom]): ClusterModel => ({
  namespaces: new Map<string, Record<string, string>>([
    ["shop", { team: "shop" }],
    ["data", { team: "data", tier: "storage" }],
    ["monitoring", { team: "ops" }],
  ]),
  pods,
  policies,
});
const allowed = (
  m: ClusterModel,
  from: Pod | Endpoint,
  to: Pod | Endpoint,
  port: number,
  protocol?: "TCP" | "UDP",
) =>
  flowVerdict(m, "id" in from ? { pod: from } : from, "id" in to ? { pod: to } : to, port, protocol).allowed;

describe("isolation", () => {
  it("a pod no policy selects is open in both directions", () => {
    const m = model([
      policy("shop", "only-web", {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Ingress", "Egress"],
      }),
    ]);
    expect(allowed(m, prom, api, 8080)).toBe(true);
    expect(allowed(m, api, internet, 443)).toBe(true);
    expect(allowed(m, prom, web, 8080)).toBe(false);
  });

  it("an empty podSelector selects every pod of the policy's namespace, and only that namespace", () => {
    const m = model([policy("shop", "deny", { podSelector: {}, policyTypes: ["Ingress"] })]);
    expect(allowed(m, prom, web, 80)).toBe(false);
    expect(allowed(m, prom, api, 8080)).toBe(false);
    expect(allowed(m, web, db, 5432)).toBe(true);
  });

  it("policyTypes defaults to Ingress, plus Egress only when the policy has an egress rule", () => {
    // The API server's defaulting (k8s.io/kubernetes pkg/apis/networking/v1 SetDefaults_NetworkPolicy):
    // Ingress always, Egress when len(spec.egress) != 0. An empty egress list is Ingress-only.
    expect(effectivePolicyTypes({ podSelector: {} })).toEqual(["Ingress"]);
    expect(effectivePolicyTypes({ podSelector: {}, egress: [] })).toEqual(["Ingress"]);
    expect(effectivePolicyTypes({ podSelector: {}, egress: [{}] })).toEqual(["Ingress", "Egress"]);
    expect(effectivePolicyTypes({ podSelector: {}, policyTypes: ["Egress"] })).toEqual(["Egress"]);
    // No policyTypes, no egress: egress stays open while ingress is denied.
    const m = model([policy("shop", "in", { podSelector: { matchLabels: { app: "api" } } })]);
    expect(allowed(m, api, internet, 443)).toBe(true);
    expect(allowed(m, web, api, 8080)).toBe(false);
    // `egress: []` without policyTypes does not isolate egress: it is the same policy as above.
    const m2 = model([policy("shop", "both", { podSelector: { matchLabels: { app: "api" } }, egress: [] })]);
    expect(allowed(m2, api, internet, 443)).toBe(true);
    expect(allowed(m2, web, api, 8080)).toBe(false);
    // One egress rule (to DNS only) isolates egress: the internet is denied.
    const m3 = model([
      policy("shop", "dns", {
        podSelector: { matchLabels: { app: "api" } },
        egress: [{ ports: [{ protocol: "UDP", port: 53 }] }],
      }),
    ]);
    expect(allowed(m3, api, internet, 443)).toBe(false);
    expect(allowed(m3, api, internet, 53, "UDP")).toBe(true);
    // An explicit Egress type with no rules is egress deny-all.
    const m4 = model([
      policy("shop", "deny-out", {
        podSelector: { matchLabels: { app: "api" } },
        policyTypes: ["Egress"],
        egress: [],
      }),
    ]);
    expect(allowed(m4, api, internet, 443)).toBe(false);
  });

  it("a flow needs the source's egress and the destination's ingress, and names the side that denies it", () => {
    const m = model([
      policy("shop", "web-out", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Egress"] }),
      policy("data", "db-in", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: {} }] }],
      }),
    ]);
    expect(flowVerdict(m, { pod: web }, { pod: db }, 5432)).toEqual({
      allowed: false,
      deniedBy: "egress of shop/web",
    });
    expect(allowed(m, api, db, 5432)).toBe(true);
    const m2 = model([policy("data", "db-in", { podSelector: {}, policyTypes: ["Ingress"] })]);
    expect(flowVerdict(m2, { pod: api }, { pod: db }, 5432)).toEqual({
      allowed: false,
      deniedBy: "ingress of data/db",
    });
  });

  it("policies are additive: any policy's rule admits", () => {
    const deny = policy("shop", "deny", { podSelector: {}, policyTypes: ["Ingress"] });
    const admitWeb = policy("shop", "admit-web", {
      podSelector: { matchLabels: { app: "api" } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }],
    });
    expect(allowed(model([deny]), web, api, 8080)).toBe(false);
    expect(allowed(model([deny, admitWeb]), web, api, 8080)).toBe(true);
    expect(allowed(model([deny, admitWeb]), prom, api, 8080)).toBe(false);
  });
});

describe("peers", () => {
  const admit = (from: PolicySpec["ingress"]) =>
    model([
      policy("shop", "api-in", {
        podSelector: { matchLabels: { app: "api" } },
        policyTypes: ["Ingress"],
        ingress: from,
      }),
    ]);

  it("a podSelector alone selects pods of the policy's own namespace only", () => {
    const m = admit([{ from: [{ podSelector: {} }] }]);
    expect(allowed(m, web, api, 8080)).toBe(true);
    expect(allowed(m, prom, api, 8080)).toBe(false);
  });

  it("a namespaceSelector alone selects every pod of the matching namespaces (the name label included)", () => {
    const m = admit([
      { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }] },
    ]);
    expect(allowed(m, prom, api, 8080)).toBe(true);
    expect(allowed(m, web, api, 8080)).toBe(false);
    expect(allowed(m, db, api, 8080)).toBe(false);
  });

  it("namespaceSelector and podSelector in one peer must both match; in two peers either does", () => {
    const grafana = pod("monitoring", "grafana");
    const pods = [web, api, db, prom, grafana];
    const both = {
      ...admit([
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: "ops" } },
              podSelector: { matchLabels: { app: "prometheus" } },
            },
          ],
        },
      ]),
      pods,
    };
    expect(allowed(both, prom, api, 8080)).toBe(true);
    expect(allowed(both, grafana, api, 8080)).toBe(false);
    const either = {
      ...admit([
        {
          from: [
            { namespaceSelector: { matchLabels: { team: "ops" } } },
            { podSelector: { matchLabels: { app: "prometheus" } } },
          ],
        },
      ]),
      pods,
    };
    expect(allowed(either, grafana, api, 8080)).toBe(true);
  });

  it("matchExpressions: In, NotIn, Exists, DoesNotExist", () => {
    const expr = (operator: string, values?: string[]) =>
      admit([
        {
          from: [
            {
              namespaceSelector: {
                matchExpressions: [{ key: "tier", operator, ...(values ? { values } : {}) }],
              },
            },
          ],
        },
      ]);
    expect(allowed(expr("In", ["storage"]), db, api, 8080)).toBe(true);
    expect(allowed(expr("In", ["storage"]), prom, api, 8080)).toBe(false);
    expect(allowed(expr("NotIn", ["storage"]), db, api, 8080)).toBe(false);
    expect(allowed(expr("NotIn", ["storage"]), prom, api, 8080)).toBe(true);
    expect(allowed(expr("Exists"), db, api, 8080)).toBe(true);
    expect(allowed(expr("Exists"), web, api, 8080)).toBe(false);
    expect(allowed(expr("DoesNotExist"), web, api, 8080)).toBe(true);
    expect(allowed(expr("DoesNotExist"), db, api, 8080)).toBe(false);
  });

  it("a rule without from admits every source; ingress without rules admits none", () => {
    expect(allowed(admit([{ ports: [{ port: 8080 }] }]), prom, api, 8080)).toBe(true);
    expect(allowed(admit([{ ports: [{ port: 8080 }] }]), internet, api, 8080)).toBe(true);
    expect(allowed(admit([]), web, api, 8080)).toBe(false);
  });

  it("ipBlock matches external addresses in the block but not in except", () => {
    const m = model([
      policy("shop", "web-out", {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "169.254.0.0/16"] } }] }],
      }),
    ]);
    expect(allowed(m, web, internet, 443)).toBe(true);
    expect(allowed(m, web, metadata, 80)).toBe(false);
    expect(allowed(m, web, { external: { ip: "10.1.2.3", name: "vpc" } }, 5432)).toBe(false);
    expect(allowed(m, web, api, 8080)).toBe(false);
    // A pod selector never matches an external address.
    const m2 = model([
      policy("shop", "web-out", {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ namespaceSelector: {} }] }],
      }),
    ]);
    expect(allowed(m2, web, internet, 443)).toBe(false);
    expect(allowed(m2, web, db, 5432)).toBe(true);
  });

  it("ipBlock matches a pod by its address, in egress and in ingress (pods in the VPC's subnets)", () => {
    // Under the VPC CNI a pod's address is in the node subnets: a rule meant for RDS in 10.30.0.0/19
    // also reaches a pod at 10.30.0.40. A pod whose address the model does not know matches no block.
    const at = (p: Pod, ip: string): Pod => ({ ...p, ip });
    const [web1, api1, db1] = [at(web, "10.30.0.33"), at(api, "10.30.0.34"), at(db, "10.30.0.40")];
    const out = policy("shop", "web-out", {
      podSelector: { matchLabels: { app: "web" } },
      policyTypes: ["Egress"],
      egress: [
        { to: [{ ipBlock: { cidr: "10.30.0.0/19", except: ["10.30.0.34/32"] } }], ports: [{ port: 5432 }] },
      ],
    });
    const m = model([out], [web1, api1, db1, prom]);
    expect(allowed(m, web1, db1, 5432)).toBe(true);
    expect(allowed(m, web1, db1, 5433)).toBe(false);
    expect(allowed(m, web1, api1, 5432)).toBe(false); // in except
    expect(allowed(model([out]), web, db, 5432)).toBe(false); // no address known
    const dbIn = policy("data", "db-in", {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ ipBlock: { cidr: "10.30.0.32/32" } }] }],
    });
    const m2 = model([dbIn], [web1, api1, db1, prom]);
    expect(allowed(m2, web1, db1, 5432)).toBe(false); // .33 is outside .32/32
    expect(allowed(m2, at(web, "10.30.0.32"), db1, 5432)).toBe(true);
  });

  it("clusterModel gives pods addresses in podCidr, in id order, after the block's first 32", () => {
    const m = clusterModel([], [db, web, api], "10.30.0.0/19");
    expect(m.pods.map((p) => [p.id, p.ip])).toEqual([
      ["data/db", "10.30.0.32"],
      ["shop/api", "10.30.0.33"],
      ["shop/web", "10.30.0.34"],
    ]);
    expect(db.ip).toBeUndefined(); // the caller's pods are not changed
    expect(() => clusterModel([], [db, web, api], "10.0.0.0/27")).toThrow(/no room for 3 pods/);
    expect(clusterModel([], [db]).pods[0]?.ip).toBeUndefined();
  });

  it("ipInCidr handles block boundaries and malformed input", () => {
    expect(ipInCidr("10.255.255.255", "10.0.0.0/8")).toBe(true);
    expect(ipInCidr("11.0.0.0", "10.0.0.0/8")).toBe(false);
    expect(ipInCidr("1.2.3.4", "0.0.0.0/0")).toBe(true);
    expect(ipInCidr("not-an-ip", "0.0.0.0/0")).toBe(false);
  });
});

describe("ports", () => {
  const toApi = (ports: NonNullable<PolicySpec["ingress"]>[number]["ports"]) =>
    model([policy("shop", "api-in", { podSelector: { matchLabels: { app: "api" } }, ingress: [{ ports }] })]);

  it("numbered ports match exactly; endPort opens a range", () => {
    expect(allowed(toApi([{ port: 8080 }]), web, api, 8080)).toBe(true);
    expect(allowed(toApi([{ port: 8080 }]), web, api, 9090)).toBe(false);
    expect(allowed(toApi([{ port: 8000, endPort: 9000 }]), web, api, 8080)).toBe(true);
    expect(allowed(toApi([{ port: 8000, endPort: 9000 }]), web, api, 9090)).toBe(false);
  });

  it("named ports resolve against the destination pod's container ports", () => {
    expect(allowed(toApi([{ port: "metrics" }]), prom, api, 9090)).toBe(true);
    expect(allowed(toApi([{ port: "metrics" }]), prom, api, 8080)).toBe(false);
    // Egress by name to an external address cannot resolve: nothing matches.
    const out = model([
      policy("shop", "web-out", {
        podSelector: { matchLabels: { app: "web" } },
        egress: [{ ports: [{ port: "https" }] }],
      }),
    ]);
    expect(allowed(out, web, internet, 443)).toBe(false);
    const outPg = model([
      policy("shop", "web-out", {
        podSelector: { matchLabels: { app: "web" } },
        egress: [{ ports: [{ port: "pg" }] }],
      }),
    ]);
    expect(allowed(outPg, web, db, 5432)).toBe(true);
  });

  it("protocol defaults to TCP; a port entry without a port admits the whole protocol", () => {
    const dns = toApi([{ protocol: "UDP", port: 53 }]);
    expect(allowed(dns, web, api, 53, "UDP")).toBe(true);
    expect(allowed(dns, web, api, 53, "TCP")).toBe(false);
    expect(allowed(toApi([{ port: 53 }]), web, api, 53, "UDP")).toBe(false);
    expect(allowed(toApi([{ protocol: "UDP" }]), web, api, 5353, "UDP")).toBe(true);
    expect(allowed(toApi([{ protocol: "UDP" }]), web, api, 5353, "TCP")).toBe(false);
  });
});

describe("services", () => {
  it("a Service reaches a pod when its selector matches and a port targets the container port (by number or name)", () => {
    const m = (
      targetPort: number | string,
      selector: Record<string, string> = { app: "api" },
    ): ClusterModel => ({
      ...model([]),
      services: [
        { name: "api", namespace: "shop", selector, ports: [{ port: 80, targetPort, protocol: "TCP" }] },
      ],
    });
    expect(servicesReaching(m("http"), api, 8080).map((s) => s.name)).toEqual(["api"]);
    expect(servicesReaching(m(8080), api, 8080)).toHaveLength(1);
    expect(servicesReaching(m("http"), api, 9090)).toEqual([]);
    expect(servicesReaching(m("http", { app: "web" }), api, 8080)).toEqual([]);
    expect(servicesReaching(m("http", {}), api, 8080)).toEqual([]);
  });
});

describe("model from rendered objects", () => {
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { team: "shop" } } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "api", namespace: "shop" },
      spec: {
        template: {
          metadata: { labels: { "app.kubernetes.io/instance": "api", app: "api" } },
          spec: { containers: [{ name: "api", ports: [{ name: "http", containerPort: 8080 }] }] },
        },
      },
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "report", namespace: "shop" },
      spec: {
        jobTemplate: {
          spec: {
            template: { metadata: { labels: { app: "report" } }, spec: { containers: [{ name: "r" }] } },
          },
        },
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "api-in", namespace: "shop" },
      spec: {
        podSelector: { matchLabels: { app: "api" } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: "report" } } }], ports: [{ port: "http" }] }],
      },
    },
  ];

  it("reads pods from Deployments and CronJobs, with named ports and the policies", () => {
    const m = clusterModel(objects, [pod("monitoring", "prometheus")]);
    expect(m.pods.map((p) => p.id)).toEqual(["monitoring/prometheus", "shop/api", "shop/report"]);
    expect(allowedFlows(m)).toEqual([{ from: "shop/report", to: "shop/api", port: 8080, protocol: "TCP" }]);
  });
});
