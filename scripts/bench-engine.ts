/**
 * `npm run bench:engine`: the real engine's figures, measured in one run on this machine.
 *
 *  - `pulumi up` of the local stack from empty, against server-side apply of the same stack's
 *    offline render plus the same waits (every Deployment and StatefulSet available, every Job
 *    complete), as a ratio: what the engine's state, diffing and per-resource awaits cost;
 *  - a no-change `pulumi preview` (median of 3): what a pull request's preview costs;
 *  - the toolchain's last cold build time per binary, from the toolchain's timings.tsv.
 *
 * It takes the `local` stack and its namespaces over, and leaves both empty.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import * as path from "node:path";
import { tryKubectl } from "./lib/checks";
import { openStack, REPO_ROOT } from "./engine/workspace";

const STACK = "local";
const NAMESPACES = ["ecommerce", "fintech", "trading"];

async function main(): Promise<void> {
  const stack = await openStack(STACK);
  const quiet = { onOutput: () => undefined };
  await stack.destroy(quiet);
  deleteNamespaces();

  const up = await timed(() => stack.up(quiet));
  const previews: number[] = [];
  for (let i = 0; i < 3; i++)
    previews.push(await timed(() => stack.preview({ ...quiet, expectNoChanges: true })));
  const destroy = await timed(() => stack.destroy(quiet));

  // The same render applied server-side, with the same waits (scripts/local-cluster.ts up).
  const apply = await timed(() => {
    execFileSync("node", ["--import", "tsx", "scripts/local-cluster.ts", "up"], {
      cwd: REPO_ROOT,
      stdio: "ignore",
    });
    return Promise.resolve();
  });
  deleteNamespaces();

  const rows: [string, string][] = [
    ["pulumi up, local stack, from empty", `${s(up)} s`],
    ["server-side apply of the same render + same waits", `${s(apply)} s`],
    ["ratio up / apply", (up / apply).toFixed(2)],
    ["pulumi preview, no changes (median of 3)", `${s(median(previews))} s`],
    ["pulumi destroy", `${s(destroy)} s`],
    ...coldBuilds(),
  ];
  rows.push(["load average during the run (1 min, at the end)", loadavg()[0]?.toFixed(1) ?? "?"]);
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\nengine benchmark (${new Date().toISOString().slice(0, 10)}, ${cores()} cores)`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

function deleteNamespaces(): void {
  tryKubectl(["delete", "namespace", "--wait=true", "--ignore-not-found", ...NAMESPACES]);
}

/** The newest cold build of each toolchain binary ("built" rows of timings.tsv), and their sum. */
function coldBuilds(): [string, string][] {
  // env.sh puts PULUMI_HOME inside the toolchain cache (scripts/engine/lib.sh), next to timings.tsv.
  const file = path.join(path.dirname(process.env.PULUMI_HOME ?? ""), "timings.tsv");
  if (!existsSync(file)) return [["toolchain cold build", "no timings.tsv (nothing built here)"]];
  const latest = new Map<string, { version: string; secs: number; when: string }>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [when, name, version, secs, status] = line.split("\t");
    if (status === "built" && name && version && secs && when)
      latest.set(name, { version, secs: Number(secs), when });
  }
  const rows: [string, string][] = [...latest].map(([name, b]) => [
    `cold build ${name} ${b.version}`,
    `${b.secs} s (${b.when})`,
  ]);
  const total = [...latest.values()].reduce((n, b) => n + b.secs, 0);
  rows.push(["cold build, all of the above", `${total} s`]);
  return rows;
}

const s = (ms: number) => (ms / 1000).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const cores = () => execFileSync("nproc", { encoding: "utf8" }).trim();

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
