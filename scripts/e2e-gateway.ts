/**
 * The gateway on the real node, judged by its own controllers (built from their modules at the
 * versions staging and production run, installed from the charts their releases ship, with the
 * program's own values):
 *
 *  1. the controllers run: Envoy Gateway, and cert-manager's controller, webhook and cainjector;
 *  2. cert-manager issues: the root CA and the Gateway's certificate are Ready, the certificate
 *     names every hostname and chains to the root CA, and the webhook refuses an invalid
 *     Certificate (the API server reaches it through the namespace's policies);
 *  3. Envoy Gateway accepts what the program wrote: the GatewayClass, the Gateway, every route
 *     (Accepted, ResolvedRefs) and every policy (Accepted);
 *  4. it reports a broken route: a route to a Service that does not exist, and one to a port the
 *     Service does not have, each get ResolvedRefs=False naming the backend.
 *
 * Envoy itself (C++) cannot be built here, so the proxies the controller makes do not start: the
 * Gateway's Programmed condition is printed, not asserted (docs/gateway.md).
 */
import { X509Certificate } from "node:crypto";
import { spawnSync } from "node:child_process";
import { check, kubectl, seconds, tryKubectl } from "./lib/checks";

export const GATEWAY_NAMESPACES = ["envoy-gateway-system", "cert-manager"] as const;

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  status?: {
    conditions?: Condition[];
    parents?: { parentRef: { name: string }; conditions?: Condition[] }[];
    ancestors?: { ancestorRef: { name: string }; conditions?: Condition[] }[];
  };
}

const sleep = (s: number) => spawnSync("sleep", [String(s)]);
const id = (o: Obj) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
const condition = (conditions: Condition[] | undefined, type: string) =>
  conditions?.find((c) => c.type === type);
const describe = (c: Condition | undefined) =>
  c ? `${c.status} (${c.reason ?? ""}${c.message ? `: ${c.message}` : ""})` : "absent";

function list(kinds: string, selector?: string): Obj[] {
  const args = ["get", kinds, "--all-namespaces", "-o", "json", ...(selector ? ["-l", selector] : [])];
  return (JSON.parse(kubectl(args)) as { items: Obj[] }).items;
}

/** Polls `fn` every 3 s until it returns a value or `timeoutSeconds` pass. */
function waitFor<T>(timeoutSeconds: number, fn: () => T | undefined): T | undefined {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const value = fn();
    if (value !== undefined || Date.now() > deadline) return value;
    sleep(3);
  }
}

/** 1. The controllers the two releases run are available. */
export function checkControllersRunning(): void {
  for (const [namespace, deployment] of [
    ["envoy-gateway-system", "envoy-gateway"],
    ["cert-manager", "cert-manager"],
    ["cert-manager", "cert-manager-webhook"],
    ["cert-manager", "cert-manager-cainjector"],
  ] as const) {
    const r = tryKubectl([
      "-n",
      namespace,
      "rollout",
      "status",
      `deployment/${deployment}`,
      "--timeout=180s",
    ]);
    check(`${namespace}/${deployment} is available`, r.ok, r.out.split("\n").pop());
  }
}

/** 2. cert-manager issued the Gateway's certificate from the local root CA, and its webhook admits. */
export function checkCertificates(): void {
  const started = Date.now();
  // What the Gateway serves: every hostname a route claims.
  const hostnames = [
    ...new Set(
      list("httproutes.gateway.networking.k8s.io").flatMap(
        (r) => (r.spec as { hostnames?: string[] }).hostnames ?? [],
      ),
    ),
  ].filter((h) => !h.includes("*"));
  const certificates = list("certificates.cert-manager.io");
  const ready = waitFor(180, () => {
    const now = list("certificates.cert-manager.io");
    return now.length > 0 && now.every((c) => condition(c.status?.conditions, "Ready")?.status === "True")
      ? now
      : undefined;
  });
  check(
    `every Certificate is Ready (${certificates.length}: ${certificates.map(id).join(", ")})`,
    certificates.length >= 2 && ready !== undefined,
    ready
      ? `ready ${seconds(Date.now() - started)} s after the check began`
      : list("certificates.cert-manager.io")
          .map((c) => `${id(c)}: ${describe(condition(c.status?.conditions, "Ready"))}`)
          .join("; "),
  );
  const secretOf = (c: Obj | undefined) =>
    c && {
      namespace: c.metadata.namespace ?? "",
      name: String((c.spec as { secretName?: string }).secretName),
    };
  const leaf = certificates.find((c) => !(c.spec as { isCA?: boolean }).isCA);
  const root = certificates.find((c) => (c.spec as { isCA?: boolean }).isCA);
  const pem = (ref: { namespace: string; name: string } | undefined, key: string) => {
    if (!ref) return undefined;
    const r = tryKubectl([
      "-n",
      ref.namespace,
      "get",
      "secret",
      ref.name,
      "-o",
      `jsonpath={.data.${key.replace(".", "\\.")}}`,
    ]);
    return r.ok && r.out ? new X509Certificate(Buffer.from(r.out, "base64")) : undefined;
  };
  const served = pem(secretOf(leaf), "tls.crt");
  const ca = pem(secretOf(root), "tls.crt");
  const names = served?.subjectAltName?.split(", ").map((n) => n.replace(/^DNS:/, "")) ?? [];
  check(
    "the Gateway's certificate names every hostname it serves",
    served !== undefined && hostnames.length > 0 && hostnames.every((h) => names.includes(h)),
    `routes' hostnames: ${hostnames.join(", ")}; SANs: ${names.join(", ")}`,
  );
  check(
    "the Gateway's certificate is signed by the local root CA",
    served !== undefined && ca !== undefined && served.checkIssued(ca) && served.verify(ca.publicKey),
    ca ? `issuer: ${served?.issuer.replace(/\n/g, ", ")}` : "no root CA certificate",
  );
  // The API server calls the webhook for every cert-manager object: through the namespace's policies.
  const invalid = {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: "e2e-invalid", namespace: "cert-manager" },
    spec: { secretName: "e2e-invalid", dnsNames: ["e2e.invalid"], issuerRef: { name: "" } },
  };
  const refused = spawnSync("kubectl", ["apply", "--dry-run=server", "-f", "-"], {
    input: JSON.stringify(invalid),
    encoding: "utf8",
  });
  check(
    "cert-manager's webhook refuses an invalid Certificate",
    refused.status !== 0 && /webhook\.cert-manager\.io/.test(refused.stderr),
    refused.stderr.trim().split("\n").pop(),
  );
}

/** 3. Envoy Gateway accepted the GatewayClass, the Gateway, every route and every policy. */
export function checkGatewayAccepted(gatewayNamespace: string, gatewayName: string): void {
  const started = Date.now();
  const settled = waitFor(180, () => {
    const problems = gatewayProblems();
    return problems.length === 0 ? problems : undefined;
  });
  const problems = settled ?? gatewayProblems();
  const routes = list("httproutes.gateway.networking.k8s.io,grpcroutes.gateway.networking.k8s.io");
  const policies = list(
    "securitypolicies.gateway.envoyproxy.io,backendtrafficpolicies.gateway.envoyproxy.io,clienttrafficpolicies.gateway.envoyproxy.io",
  );
  check(
    `Envoy Gateway accepts the GatewayClass, the Gateway, ${routes.length} routes and ${policies.length} policies`,
    routes.length > 0 && policies.length > 0 && problems.length === 0,
    problems.length > 0
      ? problems.slice(0, 6).join("; ")
      : `all accepted ${seconds(Date.now() - started)} s after the check began`,
  );
  const gateway = JSON.parse(
    kubectl(["-n", gatewayNamespace, "get", "gateways.gateway.networking.k8s.io", gatewayName, "-o", "json"]),
  ) as Obj & { status?: { addresses?: { value: string }[] } };
  console.log(
    `    the Gateway's address: ${gateway.status?.addresses?.map((a) => a.value).join(", ") ?? "none"}; Programmed: ${describe(condition(gateway.status?.conditions, "Programmed"))} (Envoy's proxies cannot run here)`,
  );
}

function gatewayProblems(): string[] {
  const problems: string[] = [];
  for (const o of list("gatewayclasses.gateway.networking.k8s.io,gateways.gateway.networking.k8s.io")) {
    const accepted = condition(o.status?.conditions, "Accepted");
    if (accepted?.status !== "True") problems.push(`${id(o)} Accepted: ${describe(accepted)}`);
  }
  for (const o of list("httproutes.gateway.networking.k8s.io,grpcroutes.gateway.networking.k8s.io")) {
    if (!o.status?.parents?.length) problems.push(`${id(o)}: no parent status`);
    for (const parent of o.status?.parents ?? [])
      for (const type of ["Accepted", "ResolvedRefs"]) {
        const c = condition(parent.conditions, type);
        if (c?.status !== "True")
          problems.push(`${id(o)} ${type} on ${parent.parentRef.name}: ${describe(c)}`);
      }
  }
  for (const o of list(
    "securitypolicies.gateway.envoyproxy.io,backendtrafficpolicies.gateway.envoyproxy.io,clienttrafficpolicies.gateway.envoyproxy.io",
  )) {
    if (!o.status?.ancestors?.length) problems.push(`${id(o)}: no ancestor status`);
    for (const ancestor of o.status?.ancestors ?? []) {
      const c = condition(ancestor.conditions, "Accepted");
      if (c?.status !== "True")
        problems.push(`${id(o)} Accepted on ${ancestor.ancestorRef.name}: ${describe(c)}`);
    }
  }
  return problems;
}

/**
 * 4. A broken route is reported: one to a Service that does not exist, one to a port its Service
 * does not have. Both are removed afterwards.
 */
export function checkBrokenRoutesReported(opts: {
  namespace: string;
  service: string;
  gatewayNamespace: string;
  gatewayName: string;
}): void {
  // The hostname the namespace's own routes are published under.
  const hostname = list("httproutes.gateway.networking.k8s.io")
    .filter((r) => r.metadata.namespace === opts.namespace)
    .flatMap((r) => (r.spec as { hostnames?: string[] }).hostnames ?? [])[0];
  const broken = [
    {
      name: "e2e-missing-service",
      backend: { name: "e2e-no-such-service", port: 8080 },
      path: "/e2e-missing",
    },
    { name: "e2e-wrong-port", backend: { name: opts.service, port: 65000 }, path: "/e2e-wrong-port" },
  ];
  const routes = broken.map((b) => ({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: b.name, namespace: opts.namespace },
    spec: {
      parentRefs: [{ name: opts.gatewayName, namespace: opts.gatewayNamespace, sectionName: "https" }],
      hostnames: hostname ? [hostname] : [],
      rules: [{ matches: [{ path: { type: "PathPrefix", value: b.path } }], backendRefs: [b.backend] }],
    },
  }));
  kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: routes }));
  try {
    for (const b of broken) {
      const reported = waitFor(120, () => {
        const route = JSON.parse(
          kubectl([
            "-n",
            opts.namespace,
            "get",
            "httproutes.gateway.networking.k8s.io",
            b.name,
            "-o",
            "json",
          ]),
        ) as Obj;
        const c = condition(route.status?.parents?.[0]?.conditions, "ResolvedRefs");
        return c && c.status === "False" ? c : undefined;
      });
      check(
        `a route to ${b.backend.name}:${b.backend.port} is reported: ResolvedRefs=False naming the backend`,
        reported !== undefined && (reported.message ?? "").includes(b.backend.name),
        describe(reported),
      );
    }
  } finally {
    tryKubectl([
      "-n",
      opts.namespace,
      "delete",
      "httproutes.gateway.networking.k8s.io",
      ...broken.map((b) => b.name),
      "--ignore-not-found",
    ]);
  }
}
