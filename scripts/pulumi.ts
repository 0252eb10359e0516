/**
 * `npm run pulumi -- <command> [--stack <name>] [options]`: every Pulumi verb against the cached
 * engine, with the program run inline (see scripts/engine/workspace.ts). The stack defaults to
 * `local`.
 *
 * Commands that run the program go through the Automation API:
 *   up         [--diff] [--expect-no-changes] [--refresh] [--policy-pack <dir>] [--target <urn>]
 *              [--parallel <n>] [--message <text>]
 *   preview    [--diff] [--expect-no-changes] [--refresh] [--policy-pack <dir>] [--target <urn>]
 *   refresh    [--expect-no-changes] [--clear-pending-creates] [--preview-only]
 *   destroy    [--target <urn>]
 * `reach` prints how to reach the entry services from the stack outputs.
 * Every other command goes to the CLI unchanged, with the same environment, e.g.
 *   stack output [name] · config set <key> <value> [--secret] [--path] · cancel · stack export
 * and gets `--stack local` when it takes a stack and none was given.
 *
 * Output is the engine's own, streamed as it prints it. Secret outputs are shown as [secret].
 */
import { spawnSync } from "node:child_process";
import type { OutputMap } from "@pulumi/pulumi/automation";
import { openStack, pulumiBinary, repairState, REPO_ROOT } from "./engine/workspace";

const DEFAULT_STACK = "local";
const PROGRAM_COMMANDS = new Set(["up", "update", "preview", "pre", "refresh", "destroy", "down"]);
/** CLI commands that act on one stack, so they get the default stack when none is given. */
const STACK_COMMANDS = new Set([
  "config",
  "cancel",
  "stack output",
  "stack export",
  "stack import",
  "stack history",
]);

interface ProgramFlags {
  stack: string;
  diff: boolean;
  expectNoChanges: boolean;
  refresh: boolean;
  clearPendingCreates: boolean;
  previewOnly: boolean;
  policyPacks: string[];
  targets: string[];
  parallel?: number;
  message?: string;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help") {
    console.log(usage());
    return command ? 0 : 2;
  }
  if (command === "reach") return reach(parseProgramFlags(command, rest).stack);
  if (!PROGRAM_COMMANDS.has(command)) return passThrough(argv);
  const flags = parseProgramFlags(command, rest);
  const stack = await openStack(flags.stack);
  const common = {
    onOutput: (out: string) => process.stdout.write(out),
    color: process.stdout.isTTY ? ("always" as const) : ("never" as const),
    ...(flags.parallel ? { parallel: flags.parallel } : {}),
    ...(flags.message ? { message: flags.message } : {}),
    ...(flags.targets.length ? { target: flags.targets } : {}),
  };
  switch (command) {
    case "up":
    case "update": {
      const result = await stack.up({
        ...common,
        diff: flags.diff,
        expectNoChanges: flags.expectNoChanges,
        refresh: flags.refresh,
        policyPacks: flags.policyPacks,
      });
      printOutputs(result.outputs);
      return 0;
    }
    case "preview":
    case "pre":
      await stack.preview({
        ...common,
        diff: flags.diff,
        expectNoChanges: flags.expectNoChanges,
        refresh: flags.refresh,
        policyPacks: flags.policyPacks,
      });
      return 0;
    case "refresh":
      await stack.refresh({
        ...common,
        expectNoChanges: flags.expectNoChanges,
        clearPendingCreates: flags.clearPendingCreates,
        previewOnly: flags.previewOnly,
      });
      return 0;
    default:
      await stack.destroy(common);
      return 0;
  }
}

/** Flags of the program commands; anything unknown is an error rather than silently dropped. */
function parseProgramFlags(command: string, args: string[]): ProgramFlags {
  const flags: ProgramFlags = {
    stack: DEFAULT_STACK,
    diff: false,
    expectNoChanges: false,
    refresh: false,
    clearPendingCreates: false,
    previewOnly: false,
    policyPacks: [],
    targets: [],
  };
  const problems: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [name, inline] = arg.includes("=")
      ? (arg.split(/=(.*)/s, 2) as [string, string])
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) problems.push(`${name} needs a value`);
      return v ?? "";
    };
    switch (name) {
      case "--stack":
      case "-s":
        flags.stack = value();
        break;
      case "--diff":
        flags.diff = true;
        break;
      case "--expect-no-changes":
        flags.expectNoChanges = true;
        break;
      case "--refresh":
      case "-r":
        flags.refresh = true;
        break;
      case "--clear-pending-creates":
        flags.clearPendingCreates = true;
        break;
      case "--preview-only":
        flags.previewOnly = true;
        break;
      case "--policy-pack":
        flags.policyPacks.push(value());
        break;
      case "--target":
      case "-t":
        flags.targets.push(value());
        break;
      case "--parallel":
      case "-p":
        flags.parallel = Number(value());
        break;
      case "--message":
      case "-m":
        flags.message = value();
        break;
      case "--yes":
      case "-y":
      case "--skip-preview":
      case "-f":
        break; // the Automation API never prompts
      default:
        problems.push(`unknown option ${arg}`);
    }
  }
  if (problems.length) throw new UsageError(`${command}: ${problems.join("; ")}`);
  return flags;
}

/** Everything that needs no program: the CLI itself, with the default stack filled in. */
function passThrough(argv: string[]): number {
  repairState();
  const args = [...argv];
  const takesStack = STACK_COMMANDS.has(argv[0] as string) || STACK_COMMANDS.has(argv.slice(0, 2).join(" "));
  const hasStack = argv.some((a) => a === "--stack" || a === "-s" || a.startsWith("--stack="));
  if (takesStack && !hasStack) args.push("--stack", DEFAULT_STACK);
  const result = spawnSync(pulumiBinary(), args, { cwd: REPO_ROOT, stdio: "inherit" });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function printOutputs(outputs: OutputMap): void {
  const shown = Object.fromEntries(
    Object.entries(outputs).map(([k, o]) => [k, o.secret ? "[secret]" : o.value]),
  );
  console.log(`\nOutputs:\n${JSON.stringify(shown, null, 2)}`);
}

/** How to reach each catalog's entry services: through the gateway, or by port-forward without one. */
async function reach(stackName: string): Promise<number> {
  const outputs = await (await openStack(stackName)).outputs();
  const publicUrls = (outputs.publicUrls?.value ?? {}) as Record<string, Record<string, string>>;
  const entries = (outputs.entryServices?.value ?? {}) as Record<
    string,
    { service: string; namespace: string; port: number }[]
  >;
  console.log(`\nReaching the entry services of stack ${stackName}:`);
  if (simulatedNodes())
    console.log(
      "  (this cluster's nodes are kwok's simulations: pods are never run, so nothing answers these\n" +
        "   commands here; on a cluster with real nodes they reach the services)",
    );
  for (const [catalog, services] of Object.entries(entries)) {
    const urls = Object.values(publicUrls[catalog] ?? {});
    if (urls.length) {
      console.log(`  ${catalog}: ${urls.join(", ")}`);
      continue;
    }
    for (const s of services) {
      console.log(`  ${catalog}/${s.service} (no gateway on this stack):`);
      console.log(`    kubectl -n ${s.namespace} port-forward svc/${s.service} ${s.port}:${s.port}`);
      console.log(`    curl http://localhost:${s.port}/health`);
    }
  }
  return 0;
}

/** True when every node of the current cluster is simulated by kwok (kubelet version "fake"). */
function simulatedNodes(): boolean {
  const r = spawnSync(
    "kubectl",
    ["get", "nodes", "-o", "jsonpath={.items[*].status.nodeInfo.kubeletVersion}"],
    {
      encoding: "utf8",
    },
  );
  const versions = r.status === 0 ? r.stdout.trim().split(/\s+/).filter(Boolean) : [];
  return versions.length > 0 && versions.every((v) => v === "fake");
}

class UsageError extends Error {}

function usage(): string {
  return `usage: npm run pulumi -- <command> [--stack <name>] [options]   (stack defaults to ${DEFAULT_STACK})
  up | preview | refresh | destroy   run the program inline (see scripts/pulumi.ts for options)
  reach                              how to reach the entry services (gateway URLs or port-forward)
  <any other pulumi command>         passed to the CLI, e.g. stack output, config set, cancel`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // The engine's own output has been streamed; its error text names the failed resource.
    const message = err instanceof Error ? err.message : String(err);
    console.error(err instanceof UsageError ? `${message}\n${usage()}` : `\n${message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
