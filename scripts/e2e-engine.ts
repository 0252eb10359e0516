/**
^ * `npm run test:e2e`: the local stack through the real Pulumi engine (the CLI and plugins that
 * scripts/engine/toolchain.sh built, the program run inline), against the embedded cluster or the
 * current kube context. What mocks cannot see is checked here: state, diffs, secrets, ordering and
 * recovery.
 *
 *  1. `up` from an empty stack; every workload available, every Job complete, every Secret's live
 *     data equal to what the state holds; the engine started nothing before its dependencies were
 *     done;
 *  2. `preview --expect-no-changes` and `refresh --expect-no-changes` on what `up` left;
 *  3. a one-line stack-config change: `preview --diff` shows exactly the expected update, `up`
 *     applies it, and putting the line back converges again;
 *  4. the state file, the engine's output and the stack outputs hold no generated secret in plaintext;
 *  5. the CLI killed in the middle of an `up` that creates a whole catalog: `cancel`, `refresh
 *     --clear-pending-creates` and `up` converge, with no pending operation and nothing lost;
 *  6. `destroy` leaves no resource in the stack and no object of ours in the cluster.
 *
 * With real nodes (ENGINE_NODES=real; scripts/e2e-real-node.ts) steps 3 and 5 give way to what only
 * running containers show: every declared flow answered (the stand-ins' metrics), a sample of flows
 * tried from debug pods with the connectivity model's verdicts, data surviving its pods' deaths, and
 * a node left with no volume or container after `destroy`. Steps 3 and 5 test the engine, which the
 * kwok run covers.
 *
 * The run takes the `local` stack over: it destroys what a previous run or `./scripts/up.sh` left.
 * Config changes go to a copy of Pulumi.local.yaml (`--config-file`), never to the tracked file.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { parseDocument } from "yaml";
import {
  check,
  kubectl,
  leftovers,
  seconds,
  step,
  summary,
  tally,
  tryKubectl,
  type KubeObject,
} from "./lib/checks";
import { openStack, pulumiBinary, repairState, REPO_ROOT } from "./engine/workspace";
import {
  checkDataSurvives,
  checkDeclaredFlows,
  checkNodeClean,
  checkSampledFlows,
  localModel,
  sampledProbes,
} from "./e2e-real-node";
import {
  checkAlertDelivered,
  checkDashboardQueries,
  MONITORING_NAMESPACE,
  checkRulesLoaded,
  checkServersRunning,
  checkTargetsUp,
  deployAlertSink,
  removeAlertSink,
  reportNotRun,
} from "./e2e-monitoring";
import {
  checkBrokenRoutesReported,
  checkCertificates,
  checkControllersRunning,
  checkGatewayAccepted,
  GATEWAY_NAMESPACES,
} from "./e2e-gateway";
import { REAL_NODE_CONFIG } from "./engine/real-node-config";
import { observabilityLabels } from "../components/ObservabilityStack";
import { PLATFORM_LABEL_DOMAIN } from "../config/label-domain";
import { ALERT_NAMES, ALERT_THRESHOLDS } from "../components/monitoring-rules";

/** The embedded cluster's nodes run real containers (scripts/engine/node.sh). */
const REAL_NODES = process.env.ENGINE_NODES === "real";

const STACK = "local";
const NAMESPACES = ["ecommerce", "fintech", "trading"];
const STACK_FILE = path.join(REPO_ROOT, `Pulumi.${STACK}.yaml`);
const WORK_DIR = path.join(REPO_ROOT, ".pulumi-state", "e2e");
/** A stand-in image every real-node run has (debug pods and the alert sink run its binary). */
const STANDIN_IMAGE = "ghcr.io/acme-shop/order-service:1.0.0";
/** `2m` → 120. */
const durationSeconds = (d: string) =>
  Number(d.slice(0, -1)) * ({ s: 1, m: 60, h: 3600 }[d.slice(-1)] ?? NaN);
/** The Pulumi marker of a secret value in exported state. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  dependencies?: string[];
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}
interface Deployment {
  resources?: StateResource[];
  pending_operations?: unknown[];
}

async function main(): Promise<void> {
  mkdirSync(WORK_DIR, { recursive: true });
  console.log(
    `e2e (real engine): the ${STACK} stack on ${kubectl(["config", "current-context"]).trim()}, ${REAL_NODES ? "real" : "kwok"} nodes`,
  );
  const stack = await openStack(STACK);
  const output = new CapturedOutput();
  // On a real node the stack also runs what only a real node can (scripts/engine/real-node-config.ts).
  const configFile = REAL_NODES ? stackFileWith({}) : undefined;

  await step("start from an empty stack", async () => {
    // A previous run that died mid-operation leaves a lock and pending operations: clear both first.
    if (((await exported(stack)).pending_operations ?? []).length > 0) {
      await stack.cancel().catch(() => undefined);
      await stack.refresh({
        configFile,
        clearPendingCreates: true,
        onOutput: output.sink("refresh (clean slate)"),
      });
    }
    await stack.destroy({ configFile, onOutput: output.sink("destroy (clean slate)") });
    check("stack holds no resources", resources(await exported(stack)).length === 0);
    // Objects another run left without state (a killed run, the apply e2e) would be adopted silently.
    tryKubectl([
      "delete",
      "namespace",
      "--wait=true",
      "--ignore-not-found",
      ...NAMESPACES,
      MONITORING_NAMESPACE,
      ...GATEWAY_NAMESPACES,
    ]);
    check(
      "the cluster holds no object of ours",
      leftovers().length === 0,
      leftovers().slice(0, 3).join(", "),
    );
  });

  const first = await step("up", async () => {
    const events: EngineEvent[] = [];
    const result = await stack.up({
      configFile,
      onOutput: output.sink("up"),
      onEvent: (e) => events.push(e),
    });
    const created = result.summary.resourceChanges?.create ?? 0;
    const total = created + (result.summary.resourceChanges?.same ?? 0);
    check("up succeeded", result.summary.result === "succeeded", result.summary.result);
    check("up created resources", created > 100, `${created} created`);
    return { events, created, total, outputs: result.outputs };
  });

  const state = await step("the cluster holds what the state says", async () => {
    const deployment = await exported(stack, { showSecrets: true });
    const all = resources(deployment);
    // The engine's summary does not count default providers (random's); the state holds them.
    const recorded = (deployment.resources ?? []).filter(
      (r) => !/::pulumi:providers:[^:]+::default/.test(r.urn),
    ).length;
    check(
      "state records every resource of the up",
      recorded === first.total,
      `${recorded} in state, ${first.total} in the up`,
    );
    checkLiveObjects(all);
    checkOrdering(all, first.events);
    return all;
  });

  await step("nothing changes on a second look", async () => {
    const preview = await stack.preview({
      configFile,
      expectNoChanges: true,
      onOutput: output.sink("preview"),
    });
    const changed = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
    check(
      "preview --expect-no-changes: 0 changes",
      changed.length === 0,
      JSON.stringify(preview.changeSummary),
    );
    await stack.refresh({ configFile, expectNoChanges: true, onOutput: output.sink("refresh") });
    check("refresh --expect-no-changes passed", true);
  });

  if (REAL_NODES) {
    await step("every declared flow answers, by the stand-ins' own metrics", () =>
      checkDeclaredFlows(NAMESPACES),
    );
    await step("sampled flows from debug pods agree with the connectivity model", async () => {
      const { model } = await localModel(STACK, REAL_NODE_CONFIG);
      checkSampledFlows(model, STANDIN_IMAGE, sampledProbes());
    });
    await step("data survives its pods' deaths", () => checkDataSurvives());
    if (state.some((r) => r.type === "platform:index:ObservabilityStack"))
      await step("monitoring: every target up, every rule loaded, an alert fired and delivered", () => {
        const { selectorLabels } = observabilityLabels("observability", PLATFORM_LABEL_DOMAIN);
        deployAlertSink(STANDIN_IMAGE);
        if (!checkServersRunning()) {
          reportNotRun([
            "every target of the stack's monitors is UP",
            "every rule group of the stack's PrometheusRules is loaded, with 0 evaluation errors",
            "every dashboard query evaluates on the running Prometheus",
            `${ALERT_NAMES.down} fires, is delivered and resolves`,
          ]);
          removeAlertSink();
          return;
        }
        checkTargetsUp(selectorLabels, NAMESPACES);
        checkRulesLoaded(selectorLabels);
        checkDashboardQueries(observabilityLabels("observability", PLATFORM_LABEL_DOMAIN).dashboardLabels);
        checkAlertDelivered({
          namespace: "ecommerce",
          deployment: "notification-service",
          service: "notification-service",
          alertname: ALERT_NAMES.down,
          forSeconds: durationSeconds(ALERT_THRESHOLDS.down.for),
          scrapeSeconds: 15,
          evaluationSeconds: 15,
          groupWaitSeconds: 30,
          groupIntervalSeconds: 300,
        });
        removeAlertSink();
      });
    const gateway = state.find((r) => r.type === "platform:index:IngressGateway");
    if (gateway)
      await step("gateway: controllers running, certificates issued, routes and policies accepted", () => {
        const outputs = (gateway.outputs ?? {}) as { gatewayNamespace?: string; gatewayName?: string };
        const gatewayNamespace = outputs.gatewayNamespace ?? "envoy-gateway-system";
        const gatewayName = outputs.gatewayName ?? "gateway";
        checkControllersRunning();
        checkCertificates();
        checkGatewayAccepted(gatewayNamespace, gatewayName);
        checkBrokenRoutesReported({
          namespace: "ecommerce",
          service: "api-gateway",
          gatewayNamespace,
          gatewayName,
        });
      });
  }

  if (!REAL_NODES)
    await step("one-line config change: fintech/backend-api replica floor 1 → 2", async () => {
      const configFile = stackFileWith({
        "platform:services": { "fintech/backend-api": { replicas: { min: 2, max: 4 } } },
      });
      const events: EngineEvent[] = [];
      const preview = await stack.preview({
        configFile,
        diff: true,
        onEvent: (e) => events.push(e),
        onOutput: output.sink("preview --diff"),
      });
      const updates = steps(events).filter((s) => s.op !== "same");
      check(
        "preview shows exactly one update: the backend-api HPA",
        updates.length === 1 &&
          updates[0]?.op === "update" &&
          /HorizontalPodAutoscaler::fintech-backend-api/.test(updates[0].urn),
        updates.map((u) => `${u.op} ${u.urn.split("::").slice(-2).join("::")}`).join(", "),
      );
      check("the diff names minReplicas 1 => 2", /minReplicas\s*:\s*1\s*=>\s*2/.test(preview.stdout), "");
      const up = await stack.up({ configFile, onOutput: output.sink("up (changed)") });
      check(
        "up applied one update",
        up.summary.resourceChanges?.update === 1,
        JSON.stringify(up.summary.resourceChanges),
      );
      check("live HPA minReplicas is 2", hpaMin("fintech", "backend-api") === 2);
      await stack.up({ onOutput: output.sink("up (reverted)") });
      check("reverting the line restores minReplicas 1", hpaMin("fintech", "backend-api") === 1);
      await stack.preview({ expectNoChanges: true, onOutput: output.sink("preview (reverted)") });
      check("and converges: no changes", true);
    });

  await step("no generated secret in plaintext in state, output or stack outputs", async () => {
    const config = await stack.getAllConfig();
    const configSecrets = Object.values(config)
      .filter((c) => c.secret)
      .map((c) => c.value);
    const secrets = secretValues(state, configSecrets);
    check("the state marks generated values secret", secrets.length >= 10, `${secrets.length} secret values`);
    const stateFile = readFileSync(stateFilePath(), "utf8");
    const outputs = JSON.stringify((await stack.outputs()) ?? {});
    const leaks = (text: string) => secrets.filter((s) => text.includes(s)).length;
    check(
      "state file on disk: 0 plaintext secrets",
      leaks(stateFile) === 0,
      `${leaks(stateFile)} found${leaks(stateFile) > 0 ? ` (in ${whereFound(stateFile, secrets).join(", ")})` : ""}`,
    );
    check(
      "engine output of every command: 0 plaintext secrets",
      leaks(output.all()) === 0,
      `${leaks(output.all())} found`,
    );
    check("stack outputs: 0 plaintext secrets", leaks(outputs) === 0);
    check("the state file does hold them encrypted", stateFile.includes('"ciphertext"'));
  });

  if (!REAL_NODES)
    await step("kill the CLI in the middle of an up, then recover", async () => {
      const without = stackFileWith({ "platform:catalogs": ["ecommerce", "trading"] });
      const removed = await stack.up({ configFile: without, onOutput: output.sink("up (fintech removed)") });
      check("removing a catalog deletes its resources", (removed.summary.resourceChanges?.delete ?? 0) > 20);
      const killedAfter = await killUpMidway(output);
      check(
        "the CLI was killed while creating",
        killedAfter !== undefined,
        killedAfter ?? "the up finished first",
      );
      repairState(); // what `npm run pulumi` does before every command
      const broken = await exported(stack);
      console.log(
        `    state after the kill: ${resources(broken).length} resources, ${(broken.pending_operations ?? []).length} pending operations`,
      );
      const cancel = spawnSync(pulumiBinary(), ["cancel", "--yes", "--stack", STACK], {
        cwd: REPO_ROOT,
        encoding: "utf8",
      });
      check(
        "pulumi cancel releases the stack",
        cancel.status === 0,
        (cancel.stderr || cancel.stdout).trim().split("\n").pop(),
      );
      await stack.refresh({ clearPendingCreates: true, onOutput: output.sink("refresh (recover)") });
      const up = await stack.up({ onOutput: output.sink("up (recover)") });
      check("up after the kill succeeded", up.summary.result === "succeeded");
      const recovered = await exported(stack);
      check("no pending operations remain", (recovered.pending_operations ?? []).length === 0);
      check(
        "nothing lost: as many resources as the first up",
        resources(recovered).length === state.length,
        `${resources(recovered).length} vs ${state.length}`,
      );
      await stack.preview({ expectNoChanges: true, onOutput: output.sink("preview (recovered)") });
      check("converged: preview shows no changes", true);
      const fintech = JSON.parse(kubectl(["get", "deployments", "-n", "fintech", "-o", "json"])) as {
        items: { metadata: { name: string }; status?: { availableReplicas?: number } }[];
      };
      check(
        "every fintech Deployment is available again",
        fintech.items.length >= 5 && fintech.items.every((d) => (d.status?.availableReplicas ?? 0) >= 1),
        fintech.items.map((d) => d.metadata.name).join(", "),
      );
    });

  await step("destroy", async () => {
    await stack.destroy({ configFile, onOutput: output.sink("destroy") });
    check("the stack holds 0 resources", resources(await exported(stack)).length === 0);
    const namespaces = [...NAMESPACES, MONITORING_NAMESPACE, ...GATEWAY_NAMESPACES].filter(
      (ns) => tryKubectl(["get", "namespace", ns]).ok,
    );
    check("no namespace of ours remains", namespaces.length === 0, namespaces.join(", "));
    const left = leftovers();
    check("no object of ours remains", left.length === 0, left.slice(0, 5).join(", "));
    if (REAL_NODES) checkNodeClean();
  });
}

/** Every Secret, workload and Job the state holds is live, and Secrets hold the state's values. */
function checkLiveObjects(all: StateResource[]): void {
  const live = (r: StateResource) => {
    const meta = (r.outputs?.metadata ?? {}) as { name?: string; namespace?: string };
    return { name: meta.name ?? "", namespace: meta.namespace ?? "" };
  };
  const workloads = all.filter((r) =>
    /^kubernetes:(apps\/v1:(Deployment|StatefulSet)|batch\/v1:Job)$/.test(r.type),
  );
  const notReadyNow = () =>
    workloads.filter((r) => {
      const { name, namespace } = live(r);
      const kind = r.type.split(":").pop() as string;
      const got = JSON.parse(kubectl(["get", kind.toLowerCase(), name, "-n", namespace, "-o", "json"])) as {
        spec?: { replicas?: number };
        status?: { availableReplicas?: number; readyReplicas?: number; succeeded?: number };
      };
      if (kind === "Job") return (got.status?.succeeded ?? 0) < 1;
      const want = got.spec?.replicas ?? 1;
      return (kind === "Deployment" ? got.status?.availableReplicas : got.status?.readyReplicas) !== want;
    });
  // `up` returned only once every workload was ready. On a real node a pod can drop out of its
  // Service for a few seconds afterwards (a stand-in's periodic dependency check timing out on a
  // loaded machine), so allow the stack up to a minute to settle, and say when it needed to.
  let notReady = notReadyNow();
  const firstLook = notReady.map((r) => r.urn.split("::").pop()).join(", ");
  const started = Date.now();
  while (notReady.length > 0 && Date.now() - started < 60_000) {
    spawnSync("sleep", ["5"]);
    notReady = notReadyNow();
  }
  check(
    `all ${workloads.length} Deployments, StatefulSets and Jobs are ready or complete`,
    workloads.length > 20 && notReady.length === 0,
    notReady.length > 0
      ? notReady.map((r) => r.urn.split("::").pop()).join(", ")
      : firstLook &&
          `settled in ${Math.round((Date.now() - started) / 1000)} s (not ready at first look: ${firstLook})`,
  );

  const secrets = all.filter((r) => r.type === "kubernetes:core/v1:Secret");
  // The provider stores stringData as base64 `data`, as the API server does: compare those.
  const mismatched = secrets.filter((r) => {
    const { name, namespace } = live(r);
    const got = JSON.parse(kubectl(["get", "secret", name, "-n", namespace, "-o", "json"])) as KubeObject;
    const want = (plain(r.outputs?.data) ?? {}) as Record<string, string>;
    const have = got.data ?? {};
    const keys = Object.keys(want).sort();
    return (
      keys.length === 0 ||
      JSON.stringify(keys) !== JSON.stringify(Object.keys(have).sort()) ||
      keys.some((k) => want[k] !== have[k])
    );
  });
  check(
    `all ${secrets.length} Secrets hold exactly the state's keys and values`,
    secrets.length > 5 && mismatched.length === 0,
    mismatched.map((r) => r.urn.split("::").pop()).join(", "),
  );
}

/**
 * The engine's ordering, as it happened: no resource started before every resource it depends on
 * (in the state) had finished, and workloads started only after the Jobs they wait for completed.
 */
function checkOrdering(all: StateResource[], events: EngineEvent[]): void {
  const started = new Map<string, number>();
  const finished = new Map<string, number>();
  for (const e of events) {
    if (e.resourcePreEvent) started.set(e.resourcePreEvent.metadata.urn, e.sequence);
    if (e.resOutputsEvent) finished.set(e.resOutputsEvent.metadata.urn, e.sequence);
  }
  let edges = 0;
  const violations: string[] = [];
  for (const r of all) {
    const start = started.get(r.urn);
    if (start === undefined) continue;
    for (const dep of r.dependencies ?? []) {
      const done = finished.get(dep);
      if (done === undefined) continue;
      edges++;
      if (done > start) violations.push(`${short(r.urn)} started before ${short(dep)} finished`);
    }
  }
  check(
    "every dependency finished before its dependent started",
    edges > 100 && violations.length === 0,
    violations.slice(0, 3).join("; ") || `${edges} edges`,
  );

  const jobs = all.filter((r) => r.type === "kubernetes:batch/v1:Job");
  const gated = all.filter(
    (r) =>
      r.type === "kubernetes:apps/v1:Deployment" &&
      (r.dependencies ?? []).some((d) => jobs.some((j) => j.urn === d)),
  );
  check(
    "Deployments that need a Job's work depend on it in the state",
    gated.length >= 5,
    `${gated.length} Deployments wait for a Job`,
  );
}

/** Runs `npm run pulumi -- up` in its own process group and SIGKILLs it once creates are in flight. */
async function killUpMidway(output: CapturedOutput): Promise<string | undefined> {
  const child = spawn("node", ["--import", "tsx", "scripts/pulumi.ts", "up", "--stack", STACK], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const sink = output.sink("up (killed)");
  return new Promise((resolve) => {
    let seen = 0;
    let killedAt: string | undefined;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      sink(text);
      seen += (text.match(/creating/g) ?? []).length;
      // Several fintech creates in flight: the Namespace and its first children are done, workloads are not.
      if (killedAt === undefined && seen >= 15 && child.pid) {
        killedAt = `after ${seen} 'creating' lines`;
        process.kill(-child.pid, "SIGKILL");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", () => {
      killOrphanedPlugins();
      resolve(killedAt);
    });
  });
}

/**
 * The CLI starts its plugins in process groups of their own, so they outlive a SIGKILL of the CLI's
 * group (as they would not outlive the crash of a machine); end the ones the killed run left behind.
 */
function killOrphanedPlugins(): void {
  const pluginDir = path.join(process.env.PULUMI_HOME ?? "", "plugins");
  const ps = spawnSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" }).stdout;
  for (const line of ps.split("\n")) {
    const [pid, ppid, cmd] = line.trim().split(/\s+/, 3);
    if (ppid === "1" && cmd?.startsWith(pluginDir)) process.kill(Number(pid), "SIGKILL");
  }
}

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────

/** Every command's engine output, kept for the plaintext check and printed as it streams. */
class CapturedOutput {
  private readonly chunks: string[] = [];
  sink(label: string): (out: string) => void {
    let first = true;
    return (out: string) => {
      if (first) process.stdout.write(`    --- pulumi ${label}\n`);
      first = false;
      this.chunks.push(out);
      if (process.env.E2E_VERBOSE === "1") process.stdout.write(out);
    };
  }
  all(): string {
    return this.chunks.join("");
  }
}

/** A copy of the stack file with some config keys replaced, for `--config-file`. */
function stackFileWith(config: Record<string, unknown>): string {
  const doc = parseDocument(readFileSync(STACK_FILE, "utf8"));
  for (const [key, value] of Object.entries({ ...(REAL_NODES ? REAL_NODE_CONFIG : {}), ...config }))
    doc.setIn(["config", key], value);
  const file = path.join(
    WORK_DIR,
    `Pulumi.${STACK}.${[REAL_NODES ? "real-node" : "", ...Object.keys(config)].filter(Boolean).join("-").replace(/\W+/g, "_") || "base"}.yaml`,
  );
  writeFileSync(file, doc.toString());
  return file;
}

async function exported(stack: Stack, opts: { showSecrets?: boolean } = {}): Promise<Deployment> {
  if (!opts.showSecrets) return ((await stack.exportStack()).deployment ?? {}) as Deployment;
  const r = spawnSync(pulumiBinary(), ["stack", "export", "--show-secrets", "--stack", STACK], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`pulumi stack export failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { deployment?: Deployment }).deployment ?? {};
}

function resources(d: Deployment): StateResource[] {
  return (d.resources ?? []).filter(
    (r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"),
  );
}

/** Plaintext of every value the (decrypted) state marks secret: the strings that must not leak. */
/**
 * The secrets that must never appear in plaintext: what the random provider generated, the stack's
 * secret config values, and every secret-marked value that contains one (a connection URL, a config
 * file naming a password), each also base64-encoded. A secret-marked value that holds none of them
 * (a username in a connection Secret, which is also a service's name) is not counted: it would be
 * found wherever that name is, and prove nothing.
 */
function secretValues(all: StateResource[], configSecrets: readonly string[]): string[] {
  const marked: { value: string; generated: boolean }[] = [];
  const collect = (v: unknown, inSecret: boolean, generated: boolean): void => {
    if (typeof v === "string") {
      if (inSecret && v.length >= 12) marked.push({ value: v, generated });
    } else if (Array.isArray(v)) v.forEach((x) => collect(x, inSecret, generated));
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (o[SECRET_SIG] && "plaintext" in o)
        collect(JSON.parse(String(o.plaintext)) as unknown, true, generated);
      else Object.values(o).forEach((x) => collect(x, inSecret, generated));
    }
  };
  for (const r of all) collect(r.outputs, false, r.type.startsWith("random:"));
  const roots = [
    ...marked.filter((m) => m.generated).map((m) => m.value),
    ...configSecrets.filter((c) => c.length >= 12),
  ];
  const found = new Set<string>(roots);
  for (const { value } of marked) if (roots.some((root) => value.includes(root))) found.add(value);
  // base64 of a secret is as good as the secret.
  for (const s of [...found]) found.add(Buffer.from(s).toString("base64"));
  return [...found];
}

/** Where in a state file the secrets occur: each resource's URN and property path, never the value. */
function whereFound(stateFile: string, secrets: readonly string[]): string[] {
  const places = new Set<string>();
  const walk = (v: unknown, path: string, urn: string): void => {
    if (typeof v === "string") {
      if (secrets.some((s) => v.includes(s))) places.add(`${urn.split("::").pop()} ${path}`);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`, urn));
    else if (v && typeof v === "object")
      Object.entries(v as Record<string, unknown>).forEach(([k, x]) => walk(x, `${path}.${k}`, urn));
  };
  const state = JSON.parse(stateFile) as { checkpoint?: { latest?: { resources?: StateResource[] } } };
  for (const r of state.checkpoint?.latest?.resources ?? []) {
    walk(r.inputs, "inputs", r.urn);
    walk(r.outputs, "outputs", r.urn);
  }
  return [...places].slice(0, 6);
}

/** A decrypted secret value unwrapped; plain values as they are. */
function plain(v: unknown): unknown {
  if (v && typeof v === "object" && SECRET_SIG in v)
    return JSON.parse(String((v as { plaintext?: unknown }).plaintext)) as unknown;
  return v;
}

function steps(events: EngineEvent[]): { op: string; urn: string }[] {
  return events
    .filter((e) => e.resourcePreEvent && !e.resourcePreEvent.metadata.type.startsWith("pulumi:"))
    .map((e) => ({ op: e.resourcePreEvent!.metadata.op, urn: e.resourcePreEvent!.metadata.urn }));
}

function hpaMin(namespace: string, name: string): number {
  return (
    JSON.parse(kubectl(["get", "hpa", name, "-n", namespace, "-o", "json"])) as {
      spec: { minReplicas: number };
    }
  ).spec.minReplicas;
}

/** The file backend's checkpoint of the stack. */
/** The stack's state file in the file backend env.sh chose (each node mode keeps its own). */
function stateFilePath(): string {
  const backend =
    process.env.PULUMI_BACKEND_URL?.replace(/^file:\/\//, "") || path.join(REPO_ROOT, ".pulumi-state");
  const root = path.join(backend, ".pulumi", "stacks");
  const candidates: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const p = path.join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (entry === `${STACK}.json`) candidates.push(p);
    }
  };
  if (existsSync(root)) walk(root);
  if (candidates.length !== 1)
    throw new Error(`expected one ${STACK}.json under ${root}, found ${candidates.length}`);
  return candidates[0] as string;
}

function short(urn: string): string {
  return urn.split("::").slice(-2).join("::");
}

const started = Date.now();
main().then(
  () => {
    console.log(`\n(total ${seconds(Date.now() - started)} s)\n${summary("e2e")}`);
    process.exit(tally.failed === 0 ? 0 : 1);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    tally.failed++;
    console.log(`\n${summary("e2e")}`);
    process.exit(1);
  },
);
