import { createHash } from "node:crypto";

/** Deterministic pseudo-random hex from a seed (mock ids, generated values): renders stay byte-identical. */
export function stableHex(seed: string, length = 8): string {
  let out = "";
  for (let i = 0; out.length < length; i++) out += createHash("sha256").update(`${seed}:${i}`).digest("hex");
  return out.slice(0, length);
}

export const MOCK_ACCOUNT = "123456789012";
export const MOCK_REGION = "eu-west-1";
export const MOCK_ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
