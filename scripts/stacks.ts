/**
 * Which stacks a command acts on: every `Pulumi.<stack>.yaml` of the repository, or the ones named
 * (`all` for every one). Shared by the render and the cost report so both accept the same names.
 */
import { readdirSync } from "node:fs";
import { readStackConfig, REPO_ROOT } from "../test/harness";

export function availableStacks(): string[] {
  return readdirSync(REPO_ROOT)
    .map((f) => /^Pulumi\.([a-z0-9-]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}

/** The stacks `requested` names; none or `all` means every stack. Throws naming unknown stacks. */
export function resolveStacks(requested: readonly string[]): string[] {
  const available = availableStacks();
  const wanted = requested.length === 0 || requested.includes("all") ? available : [...requested];
  const unknown = wanted.filter((s) => !available.includes(s));
  if (unknown.length)
    throw new Error(
      `no stack file for ${unknown.map((s) => `"${s}"`).join(", ")}; stacks: ${available.join(", ")}`,
    );
  return wanted;
}

/** The stack's `aws:region`, when its stack file sets one. */
export function stackRegion(stack: string): string | undefined {
  const region = readStackConfig(stack).config["aws:region"];
  return typeof region === "string" ? region : undefined;
}
