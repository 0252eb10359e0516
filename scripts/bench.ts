/**
 * `npm run bench` — how long the program takes to evaluate, measured the way the offline render
 * runs it (in-process under the mock harness, render included, no file writes).
 *
 * 1. Each stack file: one warm-up, then RUNS timed renders; prints median wall time and resource count.
 * 2. Synthetic catalogs of 50, 200 and 500 services on the production stack: median time and
 *    time per service, to show how cost grows (target: linear, i.e. flat time per service).
 * Target: the production stack renders in under 2 s (median, on this 2-core machine).
 */
import { performance } from "node:perf_hooks";
import { runStack } from "../test/harness";
import { renderRun } from "./render-lib";
import { syntheticCatalog } from "./synthetic-catalog";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZES = (process.env.BENCH_SIZES ?? "50,200,500").split(",").map(Number);
const PRODUCTION_TARGET_MS = 2000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function timeRender(
  stack: string,
  overrides: Parameters<typeof runStack>[1] = {},
): Promise<{ ms: number; resources: number }> {
  const start = performance.now();
  const run = await runStack(stack, overrides);
  renderRun(stack, run);
  return { ms: performance.now() - start, resources: run.resources.length };
}

async function measure(
  label: string,
  stack: string,
  overrides: Parameters<typeof runStack>[1] = {},
): Promise<{ median: number; resources: number }> {
  await timeRender(stack, overrides); // warm-up: module compilation and JIT
  const times: number[] = [];
  let resources = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await timeRender(stack, overrides);
    times.push(r.ms);
    resources = r.resources;
  }
  const m = median(times);
  console.log(
    `${label.padEnd(28)} median ${m.toFixed(0).padStart(6)} ms over ${RUNS} runs   ${String(resources).padStart(6)} resources   (min ${Math.min(...times).toFixed(0)} / max ${Math.max(...times).toFixed(0)} ms)`,
  );
  return { median: m, resources };
}

async function main(): Promise<void> {
  console.log(`Render benchmark (${RUNS} timed runs each after a warm-up; node ${process.version})\n`);
  const stacks: Record<string, number> = {};
  for (const stack of ["local", "staging", "production"])
    stacks[stack] = (await measure(`stack ${stack}`, stack)).median;

  console.log("\nSynthetic catalogs on the production stack (one catalog in place of the three):");
  const perService: { size: number; ms: number; resources: number }[] = [];
  for (const size of SIZES) {
    const r = await measure(`synthetic ${size} services`, "production", {
      // One catalog in the fintech slot; the stack file's per-catalog database backends name catalogs not deployed here.
      // Hundreds of services fit no production quota: the capacity check is opted out explicitly.
      config: {
        "platform:catalogs": ["fintech"],
        "platform:database": undefined,
        "platform:capacity": { enforce: false },
        "platform:acknowledge": {
          "capacity.enforce": "a render benchmark of synthetic catalogs; never deployed",
        },
      },
      catalogs: { fintech: syntheticCatalog(size) },
    });
    perService.push({ size, ms: r.median, resources: r.resources });
  }
  console.log("");
  for (const p of perService) {
    console.log(
      `  ${String(p.size).padStart(4)} services: ${(p.ms / p.size).toFixed(2)} ms/service, ${(p.resources / p.size).toFixed(1)} resources/service`,
    );
  }
  const first = perService[0];
  const last = perService[perService.length - 1];
  if (first && last && last.size > first.size) {
    const growth = last.ms / last.size / (first.ms / first.size);
    console.log(
      `  time per service at ${last.size} vs ${first.size}: x${growth.toFixed(2)} (1.0 = perfectly linear)`,
    );
  }
  const production = stacks.production ?? Infinity;
  console.log(
    `\nproduction median ${production.toFixed(0)} ms: ${production < PRODUCTION_TARGET_MS ? "within" : "OVER"} the ${PRODUCTION_TARGET_MS} ms target`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
