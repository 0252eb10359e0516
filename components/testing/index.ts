/**
 * `@platform/microservices-platform/testing`: what a consumer needs to unit-test a stack built from
 * the library, without an engine, a cloud or a cluster.
 *
 * ```ts
 * import { runMocked } from "@platform/microservices-platform/testing";
 *
 * const run = await runMocked(() => require("./index"), { project: "shop", stack: "dev", config: { "shop:stage": "local" } });
 * const deployment = run.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "orders-deploy");
 * ```
 *
 * - `platformMocks`: `pulumi.runtime.setMocks` mocks with realistic ids and outputs for every
 *   resource type and invoke the components use (an unmocked invoke is an error naming it).
 * - `emulateTransforms`: Pulumi's `transforms` option under mocks, as the engine applies it.
 * - `runMocked`: runs a program under both and returns what it registered. A program error, and a
 *   component's failed checks (which stop its children: see the library docs, "Checked before
 *   anything registers"), make it reject with that error, as `pulumi up` fails with it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { platformMocks, unmockedInvokes } from "./mocks";
import { emulateTransforms } from "./mocks/transforms";

export { platformMocks, unmockedInvokes, emulateTransforms };
export { MOCK_ACCOUNT, MOCK_REGION, MOCK_ZONES } from "./mocks/common";

/** One resource the program registered under mocks. */
export interface MockedResource {
  /** Type token. Example: `"kubernetes:apps/v1:Deployment"`. */
  type: string;
  /** Logical (Pulumi) name. Example: `"orders-deploy"`. */
  name: string;
  /** Inputs as the mocks received them (secrets revealed, after `transforms`). */
  inputs: Record<string, unknown>;
  /** The provider reference (`<urn>::<id>`), or undefined for the default provider. */
  provider?: string | undefined;
}

export interface MockedRunOptions {
  /** Project name. Default: `"project"`. */
  project?: string;
  /** Stack name. Default: `"test"`. */
  stack?: string;
  /** Full config keys (`shop:stage`) to values: strings as given, anything else JSON-encoded. Default: `{}`. */
  config?: Record<string, unknown>;
  /** Run as a preview (unknown outputs stay unknown). Default: `false`. */
  preview?: boolean;
}

export interface MockedRun {
  /** Every resource registered, in order (components included). */
  resources: MockedResource[];
}

let running = false;

/**
 * Runs `program` under `platformMocks` (with `transforms` emulated) and returns what it registered.
 * Rejects with the program's error, or with the first error of a resource that could not register
 * (a component's `ComponentArgsError` from checks that run before its children register). Runs are
 * serialised: the Pulumi runtime is process-global.
 */
export async function runMocked(program: () => unknown, options: MockedRunOptions = {}): Promise<MockedRun> {
  if (running) throw new Error("runMocked: another program is running in this process; await it first");
  running = true;
  const resources: MockedResource[] = [];
  const errors = reportedErrors();
  try {
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          resources.push({
            type: args.type,
            name: args.name,
            inputs: args.inputs as Record<string, unknown>,
            provider: args.provider,
          });
          return platformMocks.newResource(args);
        },
        call: (args) => platformMocks.call(args),
      },
      options.project ?? "project",
      options.stack ?? "test",
      options.preview ?? false,
    );
    emulateTransforms(settings.getMonitor() as unknown as Parameters<typeof emulateTransforms>[0]);
    pulumi.runtime.setAllConfig(
      Object.fromEntries(
        Object.entries(options.config ?? {}).map(([k, v]) => [
          k,
          typeof v === "string" ? v : JSON.stringify(v),
        ]),
      ),
    );
    unmockedInvokes.length = 0;
    let programError: unknown;
    let failed = false;
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
      errors.first.then(() => registrationsStopped(() => resources.length)),
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    if (failed) throw programError;
    const [first] = errors.all;
    if (errors.all.length === 1) throw first;
    if (errors.all.length > 1)
      throw new Error(errors.all.map((e) => (e instanceof Error ? e.message : String(e))).join("\n"));
    if (unmockedInvokes.length > 0) throw new Error(unmockedInvokes.join("\n"));
    return { resources };
  } finally {
    errors.restore();
    running = false;
  }
}

/**
 * Collects the rejections nobody handles while a program runs, once per error object, as `pulumi up`
 * reports them (a resource whose registration failed, such as a child held back by its component's
 * failed checks). `restore` puts the process's own listeners back.
 */
export function reportedErrors(): { all: unknown[]; first: Promise<void>; restore(): void } {
  const all: unknown[] = [];
  let reported: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (reported = resolve));
  const others = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", (reason: unknown) => {
    if (!all.includes(reason)) all.push(reason);
    reported();
  });
  return {
    all,
    first,
    restore() {
      process.removeAllListeners("unhandledRejection");
      for (const listener of others) process.on("unhandledRejection", listener);
    },
  };
}

/**
 * Resolves once `count` has not grown for a while. A resource whose registration failed never
 * resolves its outputs, so whatever awaits them (a component's outputs, the stack's) never finishes:
 * `pulumi up` ends the program there with the error, and so does a mocked run, once registrations stop.
 */
export async function registrationsStopped(count: () => number): Promise<void> {
  let last = -1;
  while (last !== count()) {
    last = count();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
