/**
 * The checks `npm run test:e2e` adds when the nodes are real (ENGINE_NODES=real): what only running
 * containers behind enforced NetworkPolicy can show.
 *
 *  - every flow the program declares works: each catalog service's stand-in (tools/standin) checks
 *    every `*_URL` its pod spec gives it (other services, PostgreSQL, Redis, RabbitMQ) and reports
 *    the result as `standin_dependency_up`; each must be 1;
 *  - a sample of flows is tried from short-lived debug pods, and the outcome matches the connectivity
 *    model (analysis/) built from the stack's own objects: refused where it says deny, connected
 *    where it says allow (the allowed ones are controls: they prove a refusal is the policy's);
 *  - data survives a pod's death: a row in PostgreSQL, a key in Redis and the stand-in's own volume
 *    (ChromaDB's) outlive the deletion of their pods;
 *  - after `destroy`: no volume, no hostPath directory and no container remains on the node.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { flowVerdict, type ClusterModel, type Pod } from "../analysis/network-policy";
import { analyseConnectivity } from "../analysis/stack";
import { type KubernetesObject } from "../analysis/cluster-model";
import { runStack, stackSettings } from "../test/harness";
import { kubernetesObject } from "./render-lib";
import { localImages, type StandinConfig } from "./engine/local-images";
import { check, kubectl, tryKubectl } from "./lib/checks";

const HOSTPATH_PV_DIR = "/tmp/hostpath_pv";
const PROBE_NAMESPACE_LABEL = "platform-e2e/probe";

interface PodItem {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: {
    containers: {
      name: string;
      image: string;
      env?: { name: string }[];
      envFrom?: { configMapRef?: { name: string } }[];
    }[];
  };
  status?: { phase?: string };
}

/** The stack's own objects and the connectivity model built from them (the render's, not the cluster's). */
export async function localModel(
  stack: string,
  config: Record<string, unknown> = {},
): Promise<{ model: ClusterModel; objects: KubernetesObject[] }> {
  const run = await runStack(stack, { config });
  const objects = run.resources.flatMap((r) => {
    const o = kubernetesObject(r);
    return o ? [o] : [];
  });
  return { model: analyseConnectivity(stackSettings(stack, config), objects).model, objects };
}

/** `*_URL` variables a container gets, from its env and the ConfigMaps it loads. */
function declaredUrls(namespace: string, container: PodItem["spec"]["containers"][number]): string[] {
  const names = new Set((container.env ?? []).map((e) => e.name).filter((n) => n.endsWith("_URL")));
  for (const from of container.envFrom ?? []) {
    const cm = from.configMapRef?.name;
    if (!cm) continue;
    const data = JSON.parse(kubectl(["-n", namespace, "get", "configmap", cm, "-o", "json"])) as {
      data?: Record<string, string>;
    };
    for (const key of Object.keys(data.data ?? {})) if (key.endsWith("_URL")) names.add(key);
  }
  return [...names].sort();
}

/** `standin_dependency_up` per dependency, read from the pod's own /metrics. */
function dependencyGauges(pod: PodItem, metricsPort: number): Map<string, number> {
  const text = kubectl([
    "-n",
    pod.metadata.namespace,
    "exec",
    pod.metadata.name,
    "-c",
    pod.spec.containers[0]?.name ?? "",
    "--",
    "/usr/local/bin/standin",
    "scrape",
    `http://127.0.0.1:${metricsPort}/metrics`,
  ]);
  const gauges = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^standin_dependency_up\{[^}]*dependency="([^"]+)"[^}]*\}\s+(\S+)/.exec(line);
    if (m?.[1]) gauges.set(m[1], Number(m[2]));
  }
  return gauges;
}

/** Every catalog service's declared flows answered, by its stand-in's own account. */
export async function checkDeclaredFlows(namespaces: readonly string[]): Promise<void> {
  const standins = new Map<string, StandinConfig>();
  for (const image of await localImages("local")) if (image.standin) standins.set(image.ref, image.standin);
  let flows = 0;
  const failed: string[] = [];
  for (const ns of namespaces) {
    const pods = JSON.parse(
      kubectl(["-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=server", "-o", "json"]),
    ) as { items: PodItem[] };
    for (const pod of pods.items.filter((p) => p.status?.phase === "Running")) {
      const container = pod.spec.containers[0];
      const config = container && standins.get(container.image);
      if (!container || !config) continue;
      const metricsPort = config.ports.find((p) => p.protocol === "http")?.port;
      if (metricsPort === undefined) {
        failed.push(`${ns}/${pod.metadata.name}: no http port to read metrics from`);
        continue;
      }
      const gauges = dependencyGauges(pod, metricsPort);
      for (const url of declaredUrls(ns, container)) {
        flows++;
        if (gauges.get(url) !== 1)
          failed.push(`${ns}/${config.service} → ${url} (${gauges.get(url) ?? "not checked"})`);
      }
    }
  }
  check("the stand-ins checked declared flows", flows >= 30, `${flows} flows`);
  check(
    "every declared flow answered (standin_dependency_up = 1)",
    failed.length === 0,
    failed.slice(0, 6).join("; "),
  );
}

/** A debug pod's identity: the labels of a workload (or none) in a namespace. */
interface Probe {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** The destination: a Service's DNS name and port, and the model's pod behind it. */
  host: string;
  port: number;
  target: string;
}

function podById(model: ClusterModel, id: string): Pod {
  const pod = model.pods.find((p) => p.id === id);
  if (!pod)
    throw new Error(
      `the connectivity model has no pod ${id} (have: ${model.pods.map((p) => p.id).join(", ")})`,
    );
  return pod;
}

/** Who may talk to whom, tried: each probe's outcome must be the model's verdict. */
export function checkSampledFlows(model: ClusterModel, image: string, probes: readonly Probe[]): void {
  const created: { probe: Probe; pod: string }[] = [];
  for (const [i, probe] of probes.entries()) {
    const pod = `e2e-probe-${i}`;
    tryKubectl(["-n", probe.namespace, "delete", "pod", pod, "--ignore-not-found", "--wait=true"]);
    const manifest = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: pod,
        namespace: probe.namespace,
        labels: { ...probe.labels, [PROBE_NAMESPACE_LABEL]: "true" },
      },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: "probe",
            image,
            imagePullPolicy: "IfNotPresent",
            command: ["/usr/local/bin/standin", "probe", "tcp", `${probe.host}:${probe.port}`],
            env: [{ name: "STANDIN_TIMEOUT", value: "4s" }],
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
          },
        ],
      },
    };
    kubectl(["apply", "-f", "-"], JSON.stringify(manifest));
    created.push({ probe, pod });
  }
  for (const { probe, pod } of created) {
    const deadline = Date.now() + 90_000;
    let phase = "";
    while (Date.now() < deadline) {
      phase = kubectl(["-n", probe.namespace, "get", "pod", pod, "-o", "jsonpath={.status.phase}"]).trim();
      if (phase === "Succeeded" || phase === "Failed") break;
      spawnSync("sleep", ["1"]);
    }
    const connected = phase === "Succeeded";
    const source: Pod = {
      id: `${probe.namespace}/${pod}`,
      namespace: probe.namespace,
      labels: probe.labels,
      ports: [],
      kind: "Pod",
    };
    const verdict = flowVerdict(model, { pod: source }, { pod: podById(model, probe.target) }, probe.port);
    const log = tryKubectl(["-n", probe.namespace, "logs", pod]).out.trim().split("\n").pop() ?? "";
    check(
      `${probe.name}: ${connected ? "connected" : "refused"}, as the model says (${verdict.allowed ? "allow" : `deny: ${verdict.deniedBy}`})`,
      (phase === "Succeeded" || phase === "Failed") && connected === verdict.allowed,
      phase === "Succeeded" || phase === "Failed" ? log : `pod still ${phase || "absent"} after 90s`,
    );
  }
  for (const { probe, pod } of created)
    tryKubectl(["-n", probe.namespace, "delete", "pod", pod, "--ignore-not-found", "--wait=false"]);
}

/** The sample: denials the platform promises, each beside an allowed control from the same namespace. */
export function sampledProbes(): Probe[] {
  const identity = (name: string) => ({
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/instance": name,
  });
  const svc = (name: string, ns: string) => `${name}.${ns}.svc.cluster.local`;
  return [
    {
      name: "order-service → inventory-service gRPC (a declared call)",
      namespace: "ecommerce",
      labels: identity("order-service"),
      host: svc("inventory-service", "ecommerce"),
      port: 9003,
      target: "ecommerce/inventory-service",
    },
    {
      name: "inventory-service → order-service gRPC (the reverse, undeclared)",
      namespace: "ecommerce",
      labels: identity("inventory-service"),
      host: svc("order-service", "ecommerce"),
      port: 9004,
      target: "ecommerce/order-service",
    },
    {
      name: "an unlabelled pod → ecommerce PostgreSQL",
      namespace: "ecommerce",
      labels: {},
      host: svc("ecommerce-postgres", "ecommerce"),
      port: 5432,
      target: "ecommerce/ecommerce-postgres",
    },
    {
      name: "order-service → ecommerce PostgreSQL (its database)",
      namespace: "ecommerce",
      labels: identity("order-service"),
      host: svc("ecommerce-postgres", "ecommerce"),
      port: 5432,
      target: "ecommerce/ecommerce-postgres",
    },
    {
      name: "fintech backend-api → ecommerce PostgreSQL (another platform's store)",
      namespace: "fintech",
      labels: identity("backend-api"),
      host: svc("ecommerce-postgres", "ecommerce"),
      port: 5432,
      target: "ecommerce/ecommerce-postgres",
    },
    {
      name: "fintech backend-api → python-risk-engine (a declared call)",
      namespace: "fintech",
      labels: identity("backend-api"),
      host: svc("python-risk-engine", "fintech"),
      port: 8000,
      target: "fintech/python-risk-engine",
    },
    {
      name: "trading-api → trading Redis (its cache)",
      namespace: "trading",
      labels: identity("trading-api"),
      host: svc("trading-redis", "trading"),
      port: 6379,
      target: "trading/trading-redis",
    },
    {
      // kube-system has no policy, so nothing stops this probe leaving: the store's ingress must.
      name: "a pod with open egress (kube-system) → ecommerce PostgreSQL",
      namespace: "kube-system",
      labels: {},
      host: svc("ecommerce-postgres", "ecommerce"),
      port: 5432,
      target: "ecommerce/ecommerce-postgres",
    },
    {
      // inventory-service is admitted only by the policies its callers brought (`calls`): a pod
      // whose egress is open must still be refused by that ingress.
      name: "a pod with open egress (kube-system) → inventory-service (admits only its callers)",
      namespace: "kube-system",
      labels: {},
      host: svc("inventory-service", "ecommerce"),
      port: 9003,
      target: "ecommerce/inventory-service",
    },
    {
      name: "chromadb → trading PostgreSQL (a store it does not use)",
      namespace: "trading",
      labels: identity("chromadb"),
      host: svc("trading-postgres", "trading"),
      port: 5432,
      target: "trading/trading-postgres",
    },
  ];
}

function exec(
  namespace: string,
  pod: string,
  container: string,
  command: string[],
): { ok: boolean; out: string } {
  return tryKubectl(["-n", namespace, "exec", pod, "-c", container, "--", ...command]);
}

function restartAndWait(namespace: string, statefulSet: string): void {
  kubectl(["-n", namespace, "delete", "pod", `${statefulSet}-0`, "--wait=true"]);
  kubectl(["-n", namespace, "rollout", "status", `statefulset/${statefulSet}`, "--timeout=240s"]);
  kubectl(["-n", namespace, "wait", "--for=condition=Ready", `pod/${statefulSet}-0`, "--timeout=240s"]);
}

/** Data written before a pod's death is there after it. */
export function checkDataSurvives(): void {
  const token = `e2e-${Date.now()}`;
  const psql = (sql: string) =>
    exec("ecommerce", "ecommerce-postgres-0", "postgres", [
      "psql",
      "-h",
      "/var/run/postgresql",
      "-U",
      "platform_admin",
      "-d",
      "postgres",
      "-tAc",
      sql,
    ]);
  const wrote = psql(
    `CREATE TABLE IF NOT EXISTS e2e_survival (v text); INSERT INTO e2e_survival VALUES ('${token}')`,
  );
  check("PostgreSQL: a row written", wrote.ok, wrote.out.trim());
  const redis = (...args: string[]) =>
    exec("ecommerce", "ecommerce-redis-0", "redis", ["redis-cli", ...args]);
  const set = redis("SET", "e2e_survival", token);
  check(
    "Redis: a key written (append-only file, fsync every second)",
    set.out.includes("OK"),
    set.out.trim(),
  );
  const generation = (): number => {
    const text = exec("trading", "chromadb-0", "chromadb", [
      "/usr/local/bin/standin",
      "scrape",
      "http://127.0.0.1:8000/metrics",
    ]).out;
    return Number(/^standin_data_generation\s+(\d+)/m.exec(text)?.[1] ?? NaN);
  };
  const before = generation();
  spawnSync("sleep", ["2"]); // Redis's everysec fsync
  restartAndWait("ecommerce", "ecommerce-postgres");
  restartAndWait("ecommerce", "ecommerce-redis");
  restartAndWait("trading", "chromadb");
  const read = psql(`SELECT v FROM e2e_survival WHERE v = '${token}'`);
  check("PostgreSQL: the row is there after its pod was killed", read.out.trim() === token, read.out.trim());
  const got = redis("GET", "e2e_survival");
  check("Redis: the key is there after its pod was killed", got.out.trim() === token, got.out.trim());
  const after = generation();
  check(
    "ChromaDB's volume: the stand-in's generation counter went on (it was not reset)",
    Number.isFinite(before) && after === before + 1,
    `${before} → ${after}`,
  );
}

/** After destroy: nothing of the stack on the node. */
export function checkNodeClean(): void {
  // The PV controller reclaims a Released volume asynchronously (it deletes the
  // directory, then the PV object, on its own sync loop), so `destroy` returning
  // does not mean the PV is gone yet. Wait for it, as for the directories, and
  // name each straggler with its phase if it outlives the wait.
  let pvs: string[] = [];
  for (let i = 0; i < 90; i++) {
    pvs = kubectl([
      "get",
      "pv",
      "--no-headers",
      "-o",
      "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
    ])
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => line.replace(/\s+/, " "));
    if (pvs.length === 0) break;
    spawnSync("sleep", ["1"]);
  }
  check("no PersistentVolume remains", pvs.length === 0, pvs.slice(0, 3).join(", "));
  let dirs: string[] = [];
  for (let i = 0; i < 30; i++) {
    dirs = existsSync(HOSTPATH_PV_DIR) ? readdirSync(HOSTPATH_PV_DIR) : [];
    if (dirs.length === 0) break;
    spawnSync("sleep", ["1"]);
  }
  check("no volume directory remains on the node", dirs.length === 0, dirs.slice(0, 3).join(", "));
  const pods = kubectl([
    "get",
    "pods",
    "-A",
    "-o",
    "jsonpath={range .items[*]}{.metadata.namespace}{' '}{end}",
  ])
    .trim()
    .split(/\s+/)
    .filter((ns) => ns && ns !== "kube-system");
  check("no pod runs on the node but the cluster's own (CoreDNS)", pods.length === 0, pods.join(", "));
}
