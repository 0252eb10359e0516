/**
 * `npm run images -- lock --stack <stack> [--stack …] [--check [--offline]] [--registry-mirror <registry>=<host[:port]>] [--dir <dir>]`
 *
 * `lock`: renders the stack (the program under the mock harness, without its current lock, so the
 * tags it names show), resolves every image it runs through the registries and writes
 * `Pulumi.<stack>.images.lock.json` beside the stack file; prints what changed.
 * `lock --check`: exits 1, listing each problem, when the lock misses an image the stack runs, keeps
 * one it no longer runs, or (unless `--offline`) a tag now resolves to another digest.
 * `--registry-mirror`: ask another host for a registry's images (`*` for all; http for localhost).
 * `--dir`: where the stack files are (default: the repository root).
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { imageLockPath, serializeImageLock } from "../../config/image-lock";
import { REPO_ROOT, runStack } from "../../test/harness";
import { resolveStacks } from "../stacks";
import { loadLock, lockDiff, lockProblems, lockStack, stackImages, type StackImage } from "./lock";
import { RegistryClient } from "./registry";

interface Args {
  command: string;
  stacks: string[];
  check: boolean;
  offline: boolean;
  mirrors: Record<string, string>;
  dir: string;
}

const USAGE =
  "usage: npm run images -- lock --stack <stack|all> [--check [--offline]] [--registry-mirror <registry>=<host[:port]>] [--dir <dir>]";

function parseArgs(argv: string[]): Args {
  const [command = "", ...rest] = argv;
  const args: Args = { command, stacks: [], check: false, offline: false, mirrors: {}, dir: REPO_ROOT };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--stack" || a === "-s") args.stacks.push(rest[++i] ?? "");
    else if (a === "--check") args.check = true;
    else if (a === "--offline") args.offline = true;
    else if (a === "--dir") args.dir = path.resolve(rest[++i] ?? "");
    else if (a === "--registry-mirror") {
      const m = /^([^=]+)=(.+)$/.exec(rest[++i] ?? "");
      if (!m)
        throw new Error(`--registry-mirror: expected <registry>=<host[:port]>, found "${rest[i] ?? ""}"`);
      args.mirrors[m[1]!] = m[2]!;
    } else throw new Error(`unknown argument "${a}"\n${USAGE}`);
  }
  if (command !== "lock") throw new Error(`unknown command "${command}"\n${USAGE}`);
  return args;
}

/** The images the stack runs, from its render without a lock applied. */
export async function renderStackImages(stack: string, dir: string): Promise<StackImage[]> {
  const saved = process.env.PLATFORM_IMAGE_LOCK;
  process.env.PLATFORM_IMAGE_LOCK = "none";
  try {
    const run = await runStack(stack, dir === REPO_ROOT ? {} : { stackDir: dir });
    return stackImages(run.resources);
  } finally {
    if (saved === undefined) delete process.env.PLATFORM_IMAGE_LOCK;
    else process.env.PLATFORM_IMAGE_LOCK = saved;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const stacks = args.dir === REPO_ROOT ? resolveStacks(args.stacks) : args.stacks;
  const client = new RegistryClient({ mirrors: args.mirrors });
  let failed = false;
  for (const stack of stacks) {
    const images = await renderStackImages(stack, args.dir);
    const previous = loadLock(stack, args.dir);
    if (args.check) {
      const problems = await lockProblems(stack, previous, images, args.offline ? undefined : client);
      if (problems.length) {
        failed = true;
        console.error(
          `image lock of stack ${stack} is out of date:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
      } else
        console.log(
          `image lock of stack ${stack}: ${Object.keys(previous?.images ?? {}).length} images, up to date`,
        );
      continue;
    }
    const lock = await lockStack(stack, images, client, previous, new Date());
    const file = imageLockPath(stack, args.dir);
    writeFileSync(file, serializeImageLock(lock));
    const changes = lockDiff(previous, lock);
    console.log(
      `${path.relative(process.cwd(), file)}: ${Object.keys(lock.images).length} images, ${changes.length} changed`,
    );
    for (const c of changes) console.log(`  ${c.image}: ${c.old ?? "(new)"} → ${c.new ?? "(removed)"}`);
  }
  if (failed) process.exit(1);
}

if (require.main === module)
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
