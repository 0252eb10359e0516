/**
 * `npm run render -- --stack <name> [--stack <name>...] [--out <dir>]`
 *
 * Runs index.ts for a stack under the mock harness (no Pulumi CLI, no credentials, no network)
 * and writes `<out>/<stack>/manifests/<namespace>/<component>.yaml`, `inventory.json`, `summary.txt`
 * and the review views (`cost.md`, `diagrams/*.mmd`, `images.md`). `--stack all` renders every stack
 * file. Default out: `render/`. `--prices` (or PLATFORM_PRICES) merges a price file over the pinned table.
 * Two runs produce byte-identical output.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, runStack, stackSettings } from "../test/harness";
import { renderRun, summaryLine } from "./render-lib";
import { loadPrices } from "./cost/prices";
import { resolveStacks, stackRegion } from "./stacks";

function parseArgs(argv: string[]): { stacks: string[]; out: string; prices?: string } {
  const stacks: string[] = [];
  let out = path.join(REPO_ROOT, "render");
  let prices = process.env.PLATFORM_PRICES;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--stack" || arg === "-s") stacks.push(argv[++i] ?? "");
    else if (arg === "--out" || arg === "-o") out = path.resolve(argv[++i] ?? "");
    else if (arg === "--prices") prices = argv[++i];
    else if (arg === "--help" || arg === "-h") {
      console.log(
        "usage: npm run render -- --stack <local|staging|production|all> [--stack ...] [--out <dir>] [--prices <file.json>]",
      );
      process.exit(0);
    } else throw new Error(`unknown argument "${arg}" (try --help)`);
  }
  return { stacks: resolveStacks(stacks), out, ...(prices ? { prices } : {}) };
}

async function main(): Promise<void> {
  const { stacks, out, prices: pricesFile } = parseArgs(process.argv.slice(2));
  const prices = loadPrices(pricesFile);
  for (const stack of stacks) {
    const run = await runStack(stack);
    const region = stackRegion(stack);
    const rendered = renderRun(stack, run, {
      prices,
      settings: stackSettings(stack),
      ...(region ? { region } : {}),
    });
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
