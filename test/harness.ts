/**
 * The mock harness: runs a Pulumi program in-process under `pulumi.runtime.setMocks` and records
 * every resource exactly as the engine would receive it (type, name, URN, parent, inputs with secrets
 * marked, dependencies, provider and options such as `protect`). Tests, the offline render and the
 * benchmark all go through here, driving the same `index.ts` that `pulumi up` runs.
 *
 * Recording happens in the resource monitor (the SDK → engine boundary), not in a transform, so the
 * dependencies recorded are the ones the SDK computed: explicit `dependsOn` (expanded to a
 * component's children) plus every Output the inputs were built from.
 */
import * as path from "node:path";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import * as runtimeState from "@pulumi/pulumi/runtime/state";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type {
  RegisterResourceOutputsRequest,
  RegisterResourceRequest,
  RegisterResourceResponse,
  ResourceInvokeRequest,
} from "@pulumi/pulumi/proto/resource_pb";
import { parse as parseYaml } from "yaml";
import { platformMocks, unmockedInvokes } from "../components/testing/mocks";
import { registrationsStopped, reportedErrors } from "../components/testing";
import { emulateTransforms } from "../components/testing/mocks/transforms";
import type { CatalogInput } from "../services/schema";
import type { RuleResource } from "../policy/rules";
import { resolveSettings, type PlatformSettings } from "../config/settings";

export const REPO_ROOT = path.resolve(__dirname, "..");
export const PROJECT_NAME = "platform";

/** A value the program marked secret; the harness never exposes it by accident. */
export interface SecretValue {
  readonly secret: true;
  readonly value: unknown;
}
export const UNKNOWN = "[unknown]";

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  /** URN of the parent ("" for the stack itself). */
  parent: string;
  custom: boolean;
  /** Inputs as sent; secret values appear as `{ secret: true, value }`. */
  inputs: Record<string, unknown>;
  /** Outputs the mock returned (resolved names, ids...). Secrets as in `inputs`. */
  state: Record<string, unknown>;
  /** The id the mock gave it (custom resources), as other resources' inputs refer to it. */
  id?: string;
  /** URNs this resource depends on (explicit dependsOn + property dependencies). */
  dependencies: string[];
  /** `urn::id` of the provider, or "" for the default provider. */
  provider: string;
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  ignoreChanges: string[];
  additionalSecretOutputs: string[];
  aliases: string[];
  version: string;
}

export interface RecordedInvoke {
  token: string;
  args: Record<string, unknown>;
  provider: string;
}

export interface RunResult {
  resources: RecordedResource[];
  invokes: RecordedInvoke[];
  /** Stack outputs, secrets as `{ secret: true, value }`. */
  outputs: Record<string, unknown>;
  /** Messages the program logged with pulumi.log.warn. */
  warnings: string[];
}

export interface RunOptions {
  project?: string;
  stack?: string;
  /** Full config keys (`platform:stage`) to values; non-strings are JSON-encoded as Pulumi does. */
  config?: Record<string, unknown>;
  /** Full config keys whose values are secrets. */
  secretKeys?: string[];
  preview?: boolean;
}

class RecordingMonitor extends MockMonitor {
  readonly recorded: RecordedResource[] = [];
  readonly invokes: RecordedInvoke[] = [];

  override async registerResource(
    req: RegisterResourceRequest,
    callback: (err: unknown, res: RegisterResourceResponse | undefined) => void,
  ): Promise<void> {
    const urn = (this as unknown as { newUrn(parent: string, type: string, name: string): string }).newUrn(
      req.getParent(),
      req.getType(),
      req.getName(),
    );
    const index = this.recorded.length;
    this.recorded.push({
      type: req.getType(),
      name: req.getName(),
      urn,
      parent: req.getParent(),
      custom: req.getCustom(),
      inputs: decode(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
      state: {},
      dependencies: [...new Set<string>(req.getDependenciesList())].sort(),
      provider: req.getProvider(),
      protect: req.getProtect() ?? false,
      retainOnDelete: req.getRetainondelete() ?? false,
      deleteBeforeReplace: req.getDeletebeforereplace(),
      ignoreChanges: req.getIgnorechangesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      aliases: req.getAliasesList().map((a) => a.getUrn() || JSON.stringify(a.toObject())),
      version: req.getVersion(),
    });
    const secretOutputs: string[] = req.getAdditionalsecretoutputsList();
    const capture = (err: unknown, res: RegisterResourceResponse | undefined) => {
      const entry = this.recorded[index];
      if (!err && res && entry) {
        // The engine, not the SDK, marks additionalSecretOutputs secret; emulate it so generated
        // passwords are secrets under the harness exactly as they are under `pulumi up`.
        if (secretOutputs.length > 0) {
          const object = (res.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
          for (const key of secretOutputs) {
            if (key in object)
              object[key] = { [rpc.specialSigKey]: rpc.specialSecretSig, value: object[key] };
          }
          res.setObject(Struct.fromJavaScript(object as never));
        }
        entry.state = decode(res.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
        if (res.getId()) entry.id = res.getId();
      }
      callback(err, res);
    };
    await super.registerResource(req, capture);
  }

  /** Outputs registered per URN (the stack's are the stack outputs), secrets still marked. */
  readonly registeredOutputs = new Map<string, Record<string, unknown>>();

  override registerResourceOutputs(
    req: RegisterResourceOutputsRequest,
    callback: (err: unknown, res: unknown) => void,
  ): void {
    this.registeredOutputs.set(
      req.getUrn(),
      decode(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>,
    );
    super.registerResourceOutputs(req, callback);
  }

  override async invoke(
    req: ResourceInvokeRequest,
    callback: (err: unknown, res: unknown) => void,
  ): Promise<void> {
    const args = decode(req.getArgs()?.toJavaScript() ?? {}) as Record<string, unknown>;
    this.invokes.push({ token: req.getTok(), args, provider: req.getProvider() });
    await super.invoke(req, callback);
  }
}

/** Decodes the wire format: secrets → {secret, value}, unknowns → "[unknown]", resource refs → URN. */
function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value === rpc.unknownValue) return UNKNOWN;
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    const sig = o[rpc.specialSigKey];
    if (sig === rpc.specialSecretSig)
      return { secret: true, value: decode(o["value"]) } satisfies SecretValue;
    if (sig === rpc.specialResourceSig) return o["urn"];
    if (sig === rpc.specialOutputValueSig) {
      const inner = "value" in o ? decode(o["value"]) : UNKNOWN;
      return o["secret"] ? { secret: true, value: inner } : inner;
    }
    if (sig === rpc.specialAssetSig || sig === rpc.specialArchiveSig)
      return { asset: o["path"] ?? o["uri"] ?? "[inline]" };
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

export function isSecretValue(v: unknown): v is SecretValue {
  return !!v && typeof v === "object" && (v as SecretValue).secret === true && "value" in v;
}

/** Strips secret markers (for assertions that need the value; never for rendering). */
export function reveal(v: unknown): unknown {
  if (isSecretValue(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  return v;
}

let running = false;
let runKubernetesProvider: k8s.Provider | undefined;

/** Logical name of the Kubernetes provider `kubernetesProvider()` registers in a run. */
export const TEST_KUBERNETES_PROVIDER = "test-k8s";

/**
 * The run's explicit Kubernetes provider, registered on first use (one per run). Components never
 * fall back to the ambient default provider: a test that constructs one passes this (`onCluster()`).
 */
export function kubernetesProvider(): k8s.Provider {
  if (!running)
    throw new Error(
      "kubernetesProvider(): only inside runProgram; a constructor expected to reject its args outside a run takes STAND_IN_KUBERNETES",
    );
  runKubernetesProvider ??= new k8s.Provider(TEST_KUBERNETES_PROVIDER, { kubeconfig: "{}" });
  return runKubernetesProvider;
}

/** Resource options on the run's Kubernetes provider (`{ provider }`), with `opts` over them. */
export function onCluster(opts: pulumi.ComponentResourceOptions = {}): pulumi.ComponentResourceOptions {
  return { provider: kubernetesProvider(), ...opts };
}

/**
 * Options with a stand-in Kubernetes provider that is never registered: for constructing a component
 * that a test expects to reject its args, outside a run (a real provider exists only inside
 * `runProgram`). It passes the provider check and nothing else; registering with it fails loudly.
 */
export const STAND_IN_KUBERNETES: pulumi.ComponentResourceOptions = {
  provider: Object.defineProperties(
    {},
    {
      getPackage: { value: () => "kubernetes" },
      urn: {
        get() {
          throw new Error(
            "STAND_IN_KUBERNETES was used to register a resource: use onCluster() in runProgram",
          );
        },
      },
    },
  ) as k8s.Provider,
};

/**
 * Runs `program` under mocks and returns what it registered. The Pulumi runtime is process-global,
 * so runs are serialised; each run starts from fresh runtime settings, config and monitor.
 */
export async function runProgram(program: () => unknown, options: RunOptions = {}): Promise<RunResult> {
  if (running) throw new Error("runProgram: another program is running in this process; await it first");
  running = true;
  runKubernetesProvider = undefined;
  const project = options.project ?? PROJECT_NAME;
  const stack = options.stack ?? "test";
  const warnings: string[] = [];
  const originalWarn = pulumi.log.warn;
  // The SDK records a stack trace for every promise it creates (leak diagnostics for long-lived
  // engine sessions); under the harness that is most of the run time and never read. Stacks of
  // errors thrown during a run are short as a result: set PLATFORM_HARNESS_STACKS=1 to keep them.
  const originalStackLimit = Error.stackTraceLimit;
  if (process.env.PLATFORM_HARNESS_STACKS !== "1") Error.stackTraceLimit = 0;
  let errors: ReturnType<typeof reportedErrors> | undefined;
  try {
    await pulumi.runtime.setMocks(platformMocks, project, stack, options.preview ?? false);
    const monitor = new RecordingMonitor(platformMocks);
    emulateTransforms(monitor);
    pulumi.runtime.setMockOptions(monitor, project, stack, options.preview ?? false);
    // The store is internal (untyped); reset its error counter so one run's errors don't leak into the next.
    const store = (runtimeState as unknown as { getStore(): { logErrorCount: number } }).getStore();
    store.logErrorCount = 0;
    const config = Object.fromEntries(
      Object.entries(options.config ?? {}).map(([k, v]) => [
        k,
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    );
    pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);
    (pulumi.log as { warn: (msg: string) => Promise<void> }).warn = (msg: string) => {
      warnings.push(msg);
      return Promise.resolve();
    };

    unmockedInvokes.length = 0;
    // `pulumi up` reports a rejection nobody handles (a resource whose registration failed, such as
    // a child held back by a component's failed checks) as the program's error, once per error
    // object: do the same, instead of letting the test runner see it after the run.
    errors = reportedErrors();
    // A program error is caught inside the stack's init and rethrown after every RPC has settled:
    // letting it escape runInPulumiStack leaves the SDK's stack-output promises rejected with no
    // handler, and the next run would inherit that half-finished registration.
    let programError: unknown;
    let failed = false;
    try {
      // A resource whose registration failed never resolves its outputs, so whatever awaits them
      // (a component's registerOutputs, the stack's outputs, a dependent) never finishes: `pulumi up`
      // ends the program there with the error, and so does the harness, once registrations stop.
      await Promise.race([
        (async () => {
          await pulumi.runtime.runInPulumiStack(async () => {
            try {
              return (await program()) as pulumi.Inputs;
            } catch (error) {
              failed = true;
              programError = error;
              return {};
            }
          });
          await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
        })(),
        errors.first.then(() => registrationsStopped(() => monitor.recorded.length)),
      ]);
      // Rejections are reported after the microtask queue drains: let them arrive.
      await new Promise((resolve) => setImmediate(resolve));
      if (failed) throw programError;
      if (errors.all.length === 1) throw errors.all[0];
      if (errors.all.length > 1)
        throw new Error(errors.all.map((r) => (r instanceof Error ? r.message : String(r))).join("\n"));
      if (unmockedInvokes.length > 0) throw new Error(unmockedInvokes.join("\n"));
    } catch (error) {
      // An unmocked invoke is the root cause of whatever failed after it: report it first.
      const failure =
        unmockedInvokes.length > 0 && !(error instanceof Error && error.message.startsWith("Unmocked invoke"))
          ? new Error(unmockedInvokes.join("\n"))
          : error;
      if (failure instanceof Error) {
        // Let callers see what had been registered before the failure (for "nothing was created").
        Object.assign(failure, { recorded: monitor.recorded });
        // Frames of tsx-compiled program files carry inline source maps that vitest's stack parser
        // cannot read (it aborts the whole run); keep the frames as text, not as parseable frames.
        failure.stack = `${failure.name}: ${failure.message}\n  program stack:\n${(failure.stack ?? "")
          .split("\n")
          .filter((line) => /^\s+at /.test(line))
          .map((line) => line.replace(/^\s+at /, "    from "))
          .join("\n")}`;
      }
      throw failure;
    }
    if (pulumi.log.hasErrors()) throw new Error("the program logged errors (see output above)");
    const stackUrn = monitor.recorded.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "";
    const outputs = monitor.registeredOutputs.get(stackUrn) ?? {};
    return { resources: monitor.recorded, invokes: monitor.invokes, outputs, warnings };
  } finally {
    errors?.restore();
    Error.stackTraceLimit = originalStackLimit;
    (pulumi.log as { warn: typeof originalWarn }).warn = originalWarn;
    runKubernetesProvider = undefined;
    running = false;
  }
}

/** Project-level config defaults from Pulumi.yaml, as the CLI applies them. */
export function projectConfigDefaults(): Record<string, unknown> {
  const doc = (parseYaml(readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
  };
  const defaults: Record<string, unknown> = {};
  for (const [key, decl] of Object.entries(doc.config ?? {})) {
    if (decl && typeof decl === "object" && "default" in decl) defaults[key] = decl.default;
  }
  return defaults;
}

/**
 * Reads a stack file and returns its config as the runtime holds it: project defaults from
 * Pulumi.yaml first, the stack file over them; secure values stay opaque.
 */
export function readStackConfig(
  stack: string,
  dir: string = REPO_ROOT,
): { config: Record<string, unknown>; secretKeys: string[] } {
  return parseStackConfig(readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8"));
}

/**
 * Ciphertext cannot be decrypted here: a fixed marker stands in for every secure value. It is
 * URL-shaped, so a secret the schema requires to be a URL (platform:alertWebhookUrl) passes it; the
 * .invalid domain never resolves.
 */
export const SECURE_MARKER = "https://secure-value-from-stack-file.invalid/";

/**
 * A stack file's text as the runtime holds its config (see `readStackConfig`). A key is secret when
 * its value is secure or holds a secure value anywhere inside, as `pulumi config set --secret --path
 * 'platform:secrets["ecommerce.STRIPE_API_KEY"]'` writes it (`{ecommerce.STRIPE_API_KEY: {secure:
 * …}}`): the CLI hands the program the whole object, decrypted, and marks the top-level key secret.
 */
export function parseStackConfig(text: string): { config: Record<string, unknown>; secretKeys: string[] } {
  const doc = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, unknown> = projectConfigDefaults();
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    const { value: plain, secure } = replaceSecure(value);
    config[key] = plain;
    if (secure) secretKeys.push(key);
  }
  return { config, secretKeys };
}

function replaceSecure(value: unknown): { value: unknown; secure: boolean } {
  if (Array.isArray(value)) {
    const items = value.map(replaceSecure);
    return { value: items.map((i) => i.value), secure: items.some((i) => i.secure) };
  }
  if (value && typeof value === "object") {
    if ("secure" in value && Object.keys(value).length === 1) return { value: SECURE_MARKER, secure: true };
    const entries = Object.entries(value).map(([k, v]) => [k, replaceSecure(v)] as const);
    return {
      value: Object.fromEntries(entries.map(([k, v]) => [k, v.value])),
      secure: entries.some(([, v]) => v.secure),
    };
  }
  return { value, secure: false };
}

/**
 * The validated settings of a stack file (with `overrides` merged as `runStack` merges them), as the
 * program resolves them: what the connectivity, route and capacity analyses derive intent from.
 */
export function stackSettings(stack: string, overrides: Record<string, unknown> = {}): PlatformSettings {
  const base = readStackConfig(stack);
  const config = { ...base.config, ...overrides };
  const values = Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  return resolveSettings({ project: PROJECT_NAME, stack, values, secretKeys: new Set(base.secretKeys) })
    .settings;
}

const INDEX = path.join(REPO_ROOT, "index.ts");

/**
 * Runs the real composition root (`index.ts`) for a stack file, optionally with config overrides
 * (merged over the file; `undefined` deletes a key). The module is loaded afresh each run and its
 * program function is called against this run's config.
 */
export async function runStack(
  stack: string,
  overrides: {
    config?: Record<string, unknown>;
    secretKeys?: string[];
    preview?: boolean;
    catalogs?: Record<string, CatalogInput>;
    /** Where `Pulumi.<stack>.yaml` is (default: the repository root). */
    stackDir?: string;
  } = {},
): Promise<RunResult> {
  const base = readStackConfig(stack, overrides.stackDir);
  const config = { ...base.config };
  for (const [k, v] of Object.entries(overrides.config ?? {})) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  const secretKeys = [...new Set([...base.secretKeys, ...(overrides.secretKeys ?? [])])].filter(
    (k) => k in config,
  );
  return runProgram(() => loadProgramModule(overrides.catalogs), {
    stack,
    config,
    secretKeys,
    preview: overrides.preview ?? false,
  });
}

const nodeRequire = createRequire(__filename);
let tsxRegistered = false;
let catalogsPatched = false;

/**
 * Loads index.ts afresh and calls the program function it exports, as the Pulumi Node.js language
 * host and our inline runner do. TypeScript is compiled
 * by tsx's CommonJS hook (registered once), as the Pulumi Node language host compiles the program.
 * Only the composition root is re-evaluated: the other modules hold no per-run state, so keeping
 * them cached avoids recompiling the component library on every run (the benchmark's synthetic
 * catalogs are the exception: they patch the catalog registry, so every project module reloads).
 */
function loadProgramModule(catalogs?: Record<string, CatalogInput>): unknown {
  if (!tsxRegistered) {
    (nodeRequire("tsx/cjs/api") as { register: () => void }).register();
    // tsx turns on source-mapped stack traces; the Pulumi SDK captures a stack trace for every
    // resource and promise, which then costs more than the program itself. Stacks from program
    // code keep tsx's near-identical line numbers.
    process.setSourceMapsEnabled(false);
    tsxRegistered = true;
  }
  const evictAll = catalogs !== undefined || catalogsPatched;
  for (const key of Object.keys(nodeRequire.cache)) {
    const ours = key.startsWith(REPO_ROOT) && !key.includes(`${path.sep}node_modules${path.sep}`);
    if (ours && (evictAll || key === INDEX)) delete nodeRequire.cache[key];
  }
  catalogsPatched = catalogs !== undefined;
  if (catalogs) {
    // Benchmarks swap in synthetic catalogs; the registry object is patched before index.ts loads.
    const registry = (
      nodeRequire(path.join(REPO_ROOT, "services", "index.ts")) as { CATALOGS: Record<string, CatalogInput> }
    ).CATALOGS;
    Object.assign(registry, catalogs);
  }
  const program = nodeRequire(INDEX) as unknown;
  if (typeof program !== "function")
    throw new Error(`${INDEX} must export the program as a function (export =)`);
  return (program as () => unknown)();
}

/** Convenience lookups over a run. */
/**
 * A recorded resource as the policy engine presents it to the pack's rules: props are the inputs
 * merged with the outputs, secrets unwrapped; dependencies as URNs.
 */
export function toRuleResource(r: RecordedResource): RuleResource {
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: {
      ...(reveal(r.inputs) as Record<string, unknown>),
      ...(reveal(r.state) as Record<string, unknown>),
    },
    dependencies: r.dependencies,
  };
}

export function byType(run: RunResult, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

export function byName(run: RunResult, type: string, name: string): RecordedResource {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  if (!found)
    throw new Error(
      `no ${type} named ${name}; have: ${
        byType(run, type)
          .map((r) => r.name)
          .join(", ") || "none"
      }`,
    );
  return found;
}
