/**
 * `npm run cost -- --stack <name|all> [--stack ...] [--prices <file.json>]`
 *
 * Prints each stack's monthly cost estimate (per component, then every line item, the assumptions and
 * what is not modelled) from the sizes the program sends, run offline under the mock harness like the
 * render. `--prices` merges a JSON file of the price table's shape over the pinned table
 * (scripts/cost/prices.eu-west-1.json). With several stacks, a per-stack total table comes last.
 */
import { runStack } from "../test/harness";
import { costReport, type CostReport } from "./cost/model";
import { costMarkdown, dollars } from "./cost/format";
import { loadPrices } from "./cost/prices";
import { inventoryOf } from "./render-lib";
import { resolveStacks, stackRegion } from "./stacks";

const USAGE =
  "usage: npm run cost -- --stack <local|staging|production|all> [--stack ...] [--prices <file.json>]";

function parseArgs(argv: string[]): { stacks: string[]; prices?: string } {
  const stacks: string[] = [];
  let prices: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--stack" || arg === "-s") stacks.push(argv[++i] ?? "");
    else if (arg === "--prices") prices = argv[++i];
    else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument "${arg}" (${USAGE})`);
  }
  return { stacks: resolveStacks(stacks), ...(prices ? { prices } : {}) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const prices = loadPrices(args.prices);
  const reports: CostReport[] = [];
  for (const stack of args.stacks) {
    const run = await runStack(stack);
    const report = costReport(stack, inventoryOf(run), prices, stackRegion(stack));
    reports.push(report);
    console.log(costMarkdown(report));
  }
  if (reports.length > 1) {
    console.log("# Monthly cost per stack\n\n| stack | monthly (USD) |\n|---|---:|");
    for (const r of reports) console.log(`| ${r.stack} | ${dollars(r.totalCents)} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
