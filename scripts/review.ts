/**
 * `npx tsx scripts/review.ts --base <render-dir> --head <render-dir> [--prices <file.json>]`
 *
 * Prints the review section of the render-diff comment (scripts/review-lib.ts) for every stack found
 * in either render directory (`<dir>/<stack>/inventory.json`, as `npm run render -- --out <dir>` writes).
 * A stack missing on one side is compared with nothing. Offline; reads only the two directories.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { loadPrices } from "./cost/prices";
import type { InventoryResource } from "./diagrams/platform";
import { reviewMarkdown, type StackRenders } from "./review-lib";
import { availableStacks, stackRegion } from "./stacks";

const USAGE = "usage: tsx scripts/review.ts --base <render-dir> --head <render-dir> [--prices <file.json>]";

function parseArgs(argv: string[]): { base: string; head: string; prices?: string } {
  const args: Record<string, string | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!["--base", "--head", "--prices"].includes(arg))
      throw new Error(`unknown argument "${arg}" (${USAGE})`);
    args[arg.slice(2)] = argv[++i];
  }
  if (!args.base || !args.head) throw new Error(`--base and --head are required (${USAGE})`);
  return { base: args.base, head: args.head, ...(args.prices ? { prices: args.prices } : {}) };
}

function inventory(dir: string, stack: string): InventoryResource[] | undefined {
  const file = path.join(dir, stack, "inventory.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as InventoryResource[]) : undefined;
}

function stacksIn(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir).filter((s) => existsSync(path.join(dir, s, "inventory.json")))
    : [];
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const known = new Set(availableStacks());
  const stacks: StackRenders[] = [...new Set([...stacksIn(args.base), ...stacksIn(args.head)])]
    .sort()
    .map((stack) => {
      const base = inventory(args.base, stack);
      const head = inventory(args.head, stack);
      const region = known.has(stack) ? stackRegion(stack) : undefined;
      return { stack, ...(base ? { base } : {}), ...(head ? { head } : {}), ...(region ? { region } : {}) };
    });
  process.stdout.write(reviewMarkdown(stacks, loadPrices(args.prices)));
}

try {
  main();
} catch (error: unknown) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
