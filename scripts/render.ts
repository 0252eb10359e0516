/**
 * `npm run render -- --stack <name> [--stack <name>...] [--out <dir>]`
 *
 * Runs index.ts for a stack under the mock harness (no Pulumi CLI, no credentials, no network)
 * and writes `<out>/<stack>/manifests/<namespace>/<component>.yaml`, `inventory.json` and
 * `summary.txt`. `--stack all` renders every stack file. Default out: `render/`.
 * Two runs produce byte-identical output.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, runStack, stackSettings } from "../test/harness";
import { renderRun, summaryLine } from "./render-lib";

function parseArgs(argv: string[]): { stacks: string[]; out: string } {
  const stacks: string[] = [];
  let out = path.join(REPO_ROOT, "render");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--stack" || arg === "-s") stacks.push(argv[++i] ?? "");
    else if (arg === "--out" || arg === "-o") out = path.resolve(argv[++i] ?? "");
    else if (arg === "--help" || arg === "-h") {
      console.log(
        "usage: npm run render -- --stack <local|staging|production|all> [--stack ...] [--out <dir>]",
      );
      process.exit(0);
    } else throw new Error(`unknown argument "${arg}" (try --help)`);
  }
  const available = readdirSync(REPO_ROOT)
    .map((f) => /^Pulumi\.([a-z0-9-]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
  const wanted = stacks.length === 0 || stacks.includes("all") ? available : stacks;
  const unknown = wanted.filter((s) => !available.includes(s));
  if (unknown.length)
    throw new Error(
      `no stack file for ${unknown.map((s) => `"${s}"`).join(", ")}; stacks: ${available.join(", ")}`,
    );
  return { stacks: wanted, out };
}

async function main(): Promise<void> {
  const { stacks, out } = parseArgs(process.argv.slice(2));
  for (const stack of stacks) {
    const run = await runStack(stack);
    const rendered = renderRun(stack, run, stackSettings(stack));
    const dir = path.join(out, stack);
    rmSync(dir, { recursive: true, force: true });
    for (const [file, content] of rendered.files) {
      const target = path.join(dir, file);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    for (const warning of run.warnings) console.error(`warning (${stack}): ${warning}`);
    console.log(rendered.files.get("summary.txt")?.trimEnd() ?? summaryLine(rendered.summary));
    console.log(`  written to ${path.relative(process.cwd(), dir) || "."}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
