/**
 * Reads a stack's raw `platform:` config: each top-level key parsed on its own against its schema,
 * and every problem worded with its key, what was expected and what was found (never the
 * validator's own text, never a secret value).
 */
import { type z } from "zod";
import { topLevelSchemas, SECRET_KEYS, type RawConfig, type TopLevelKey } from "./schema";
import { AWS_REGIONS } from "./aws-regions";
import type { ConfigProblem, ConfigSource } from "./settings";

export const CONFIG_NAMESPACE = "platform";
const PREFIX = `${CONFIG_NAMESPACE}:`;

/** A config problem whose stack file `resolveSettings` adds. */
export type Problem = Omit<ConfigProblem, "stackFile">;

/** A problem with a key of the `platform:` namespace (`key` without the namespace). */
export function problemAt(key: string, expected: string, found: string): Problem {
  return { key: `${CONFIG_NAMESPACE}:${key}`, expected, found };
}

export interface ParsedConfig {
  raw: RawConfig;
  /** Top-level keys that parsed. */
  valid: Set<TopLevelKey>;
  /** Top-level keys the stack sets, known or not. */
  present: Set<string>;
  problems: Problem[];
}

/**
 * Parses each top-level key on its own so one bad key never hides another's problems, then reports
 * the required keys that are missing.
 */
export function parseConfig(source: ConfigSource): ParsedConfig {
  const problems: Problem[] = [];
  const problem = (key: string, expected: string, found: string) =>
    problems.push(problemAt(key, expected, found));
  const raw: RawConfig = {};
  const valid = new Set<TopLevelKey>();
  const present = new Set<string>();
  for (const fullKey of Object.keys(source.values).sort()) {
    if (fullKey === "aws:region") {
      // Well formed is not enough: a code that names no Region fails only when AWS is first called.
      const region = parseValue(source.values[fullKey] ?? "");
      if (typeof region !== "string" || !AWS_REGIONS.includes(region))
        problems.push({
          key: fullKey,
          expected: 'an AWS Region code such as "eu-west-1" (config/aws-regions.ts lists them)',
          found: describeFound(region, false),
        });
      continue;
    }
    if (!fullKey.startsWith(PREFIX)) {
      // Other namespaces (aws:, kubernetes:) are not ours, but a misspelt `platform` is a key the
      // program would otherwise ignore without a word.
      const typo = namespaceTypo(fullKey, Object.keys(topLevelSchemas));
      if (typo)
        problems.push({
          key: fullKey,
          expected: typo,
          found: describeFound(
            parseValue(source.values[fullKey] ?? ""),
            source.secretKeys.has(fullKey) || isSecretName(fullKey),
          ),
        });
      continue;
    }
    const key = fullKey.slice(PREFIX.length);
    present.add(key);
    const rawValue = source.values[fullKey] ?? "";
    if (!(key in topLevelSchemas)) {
      problem(
        key,
        unknownKeyExpectation(key, Object.keys(topLevelSchemas)),
        describeFound(parseValue(rawValue), isSecretName(key)),
      );
      continue;
    }
    const topKey = key as TopLevelKey;
    const secret = (SECRET_KEYS as readonly string[]).includes(topKey);
    if (secret && !source.secretKeys.has(fullKey)) {
      problem(
        key,
        topKey === "secrets"
          ? `secrets (set each with \`pulumi config set --secret --path '${fullKey}["<catalog>.<ENV_NAME>"]' …\`)`
          : `a secret (set it with \`pulumi config set --secret ${fullKey} …\`)`,
        "a plaintext value",
      );
      continue;
    }
    const value = parseValue(rawValue);
    const schema: z.ZodType = topLevelSchemas[topKey];
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success) {
      (raw as Record<string, unknown>)[topKey] = result.data;
      valid.add(topKey);
    } else {
      for (const issue of result.error.issues) {
        for (const p of issueToProblems(topKey, issue, schema, secret)) problem(p.key, p.expected, p.found);
      }
    }
  }

  if (!present.has("stage")) problem("stage", 'one of "local", "staging", "production"', "nothing");
  if (!present.has("catalogs"))
    problem("catalogs", 'a list of catalogs from "ecommerce", "fintech", "trading"', "nothing");
  return { raw, valid, present, problems };
}

/** Pulumi config holds strings; structured values (objects, lists, numbers, booleans) as JSON. */
function parseValue(raw: string): unknown {
  const t = raw.trim();
  if (/^[[{]/.test(t) || /^-?[0-9]+(\.[0-9]+)?$/.test(t) || t === "true" || t === "false") {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

function isSecretName(key: string): boolean {
  return /password|passwd|secret|token|apikey|api_key|webhook/i.test(key);
}

export function describeFound(value: unknown, secret = false): string {
  if (value === undefined) return "nothing";
  if (secret) return "a value (not shown)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function unknownKeyExpectation(key: string, known: string[]): string {
  if (/password|passwd/i.test(key))
    return "no password key: every password is generated with @pulumi/random and kept as a Pulumi secret; remove it";
  const suggestion = closest(key, known);
  if (suggestion) return `a known key: did you mean "${suggestion}"?`;
  if (known.length === 0) return "no key here";
  return `a known key (${[...known].sort().join(", ")})`;
}

/**
 * The message for a key in a namespace that looks like a misspelt `platform` (`platfrom:stage`,
 * `Platform:catalogs`), or undefined for any other namespace (provider config such as `aws:region`).
 */
function namespaceTypo(fullKey: string, known: string[]): string | undefined {
  const colon = fullKey.indexOf(":");
  if (colon <= 0) return undefined;
  const namespace = fullKey.slice(0, colon);
  if (editDistance(namespace.toLowerCase(), CONFIG_NAMESPACE) > 2) return undefined;
  const rest = fullKey.slice(colon + 1);
  const top = rest.split(".")[0] ?? rest;
  const suggestion = known.includes(top) ? top : closest(top, known);
  const meant = suggestion ? `${CONFIG_NAMESPACE}:${suggestion}${rest.slice(top.length)}` : undefined;
  return meant
    ? `a key in the "${CONFIG_NAMESPACE}" namespace: did you mean ${meant}?`
    : `a key in the "${CONFIG_NAMESPACE}" namespace (the program reads no "${namespace}" namespace)`;
}

/** The candidate `word` most likely misspells (same letters in another case, or at most two edits). */
function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const limit = Math.min(2, Math.floor(candidate.length / 3));
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = value;
    }
  }
  return at(a.length, b.length);
}

type Issue = z.core.$ZodIssue;

function issueToProblems(
  top: TopLevelKey,
  issue: Issue,
  schema: z.ZodType,
  secret: boolean,
): { key: string; expected: string; found: string }[] {
  const path = [top, ...issue.path.map(String)];
  const input = "input" in issue ? issue.input : undefined;
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(schema, issue.path);
    const container = input as Record<string, unknown> | undefined;
    return issue.keys.map((k) => ({
      key: [...path, k].join("."),
      expected: unknownKeyExpectation(k, known),
      found: describeFound(container?.[k], secret || isSecretName(k)),
    }));
  }
  if (issue.code === "invalid_key") {
    // A map key the key schema refuses (a node group "General"): the key is what was found.
    const first = issue.issues[0];
    return [
      {
        key: path.join("."),
        expected: first ? `a key that is ${expectation(first)}` : "a valid key",
        found: JSON.stringify(String(issue.path[issue.path.length - 1] ?? "")),
      },
    ];
  }
  return [{ key: path.join("."), expected: expectation(issue), found: describeFound(input, secret) }];
}

const TYPE_NAMES: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a map",
  record: "a map",
};

/** What was expected, in words: the schema's own message, or one built from the issue (never zod's text). */
function expectation(issue: Issue): string {
  const custom = !/^(Invalid|Too (small|big)|Expected)/.test(issue.message);
  if (custom) return issue.message;
  switch (issue.code) {
    case "invalid_type": {
      const type = TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`;
      if (issue.input === undefined) return `${type} (required)`;
      // YAML reads `engineVersion: 3.13` as a number.
      return issue.expected === "string" && ["number", "boolean"].includes(typeof issue.input)
        ? `${type} (quote it in YAML)`
        : type;
    }
    case "invalid_value": {
      if (issue.values.length === 0) return "no value";
      const list = `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
      const input = (issue as { input?: unknown }).input;
      // `engineVersion: 16` is the number 16, not the string "16".
      return typeof input === "number" && issue.values.includes(String(input))
        ? `${list} (quote it in YAML)`
        : list;
    }
    case "too_small":
      return issue.origin === "string"
        ? Number(issue.minimum) <= 1
          ? "a non-empty string"
          : `a string of at least ${issue.minimum} characters`
        : issue.origin === "array" || issue.origin === "set"
          ? `at least ${issue.minimum} item${Number(issue.minimum) === 1 ? "" : "s"}`
          : `at least ${issue.minimum}`;
    case "too_big":
      return issue.origin === "string"
        ? `a string of at most ${issue.maximum} characters`
        : issue.origin === "array" || issue.origin === "set"
          ? `at most ${issue.maximum} items`
          : `at most ${issue.maximum}`;
    case "invalid_format":
      return `a valid ${issue.format}`;
    case "not_multiple_of":
      return `a multiple of ${issue.divisor}`;
    default:
      return "a valid value";
  }
}

/** Keys the schema accepts at `path` (for "unknown key" messages). */
function knownKeysAt(schema: z.ZodType, path: PropertyKey[]): string[] {
  let current: unknown = schema;
  for (const segment of path) {
    current = unwrap(current);
    const def = (
      current as {
        def?: { type?: string; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown };
      }
    ).def;
    if (def?.type === "object" && def.shape) current = def.shape[String(segment)];
    else if (def?.type === "record") current = def.valueType;
    else if (def?.type === "array") current = def.element;
    else return [];
  }
  const def = (
    unwrap(current) as {
      def?: {
        type?: string;
        shape?: Record<string, unknown>;
        keyType?: { _zod?: { values?: Set<unknown> } };
      };
    }
  ).def;
  if (def?.type === "object" && def.shape) return Object.keys(def.shape);
  // A record keyed by an enum (database.byCatalog): its keys are the enum's values.
  if (def?.type === "record" && def.keyType?._zod?.values) return [...def.keyType._zod.values].map(String);
  return [];
}

function unwrap(s: unknown): unknown {
  let current = s as { def?: { type?: string; innerType?: unknown } };
  while (
    current?.def &&
    (current.def.type === "optional" || current.def.type === "default" || current.def.type === "nullable")
  ) {
    current = current.def.innerType as typeof current;
  }
  return current;
}
