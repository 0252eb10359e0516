/**
 * The price table the cost model multiplies by: pinned in the repository (region, date, source), and
 * overridable per figure by a JSON file of the same shape (`--prices my-prices.json`, or the
 * `PLATFORM_PRICES` environment variable for the render), merged over the pinned table.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";

export const PINNED_PRICES_FILE = path.join(__dirname, "prices.eu-west-1.json");

const rate = z.number().nonnegative();
const rates = z.record(z.string(), rate);

export const priceTableSchema = z.strictObject({
  /** AWS region the figures are for; the cost report warns when a stack deploys elsewhere. */
  region: z.string().min(1),
  currency: z.literal("USD"),
  /** When the figures were published or transcribed (YYYY-MM-DD). */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD"),
  /** Where the figures come from, and how far to trust them. */
  source: z.string().min(1),
  /** Hours billed per month for an always-on resource (AWS uses 730). */
  hoursPerMonth: z.number().positive(),
  eks: z.strictObject({ clusterHour: rate, extendedSupportClusterHour: rate }),
  ec2: z.strictObject({ instanceHour: rates }),
  ebs: z.strictObject({ gbMonth: rates }),
  vpc: z.strictObject({ natGatewayHour: rate, natGatewayGb: rate, publicIpv4Hour: rate }),
  elb: z.strictObject({ nlbHour: rate, nlcuHour: rate }),
  rds: z.strictObject({
    postgresInstanceHour: rates,
    /** Multi-AZ bills a standby: instance and storage prices times this. */
    multiAzFactor: z.number().min(1),
    storageGbMonth: rates,
    backupGbMonth: rate,
  }),
  elasticache: z.strictObject({ nodeHour: rates }),
  mq: z.strictObject({ rabbitmqInstanceHour: rates }),
  s3: z.strictObject({ standardGbMonth: rate }),
  kms: z.strictObject({ keyMonth: rate }),
  /** Usage the program cannot know; each one is printed with the report. */
  assumptions: z.strictObject({
    /** GB each NAT gateway processes a month. */
    natGatewayGbPerMonth: rate,
    /** Average Network Load Balancer capacity units each load balancer uses. */
    nlcuPerLoadBalancer: rate,
    /** RDS backup storage beyond the free allowance (100 % of allocated storage), as a fraction of allocated storage. */
    rdsBackupBeyondFreeFraction: rate,
    /** Full copies of each in-cluster volume kept as backups on S3. */
    inClusterBackupCopies: rate,
  }),
});

export type PriceTable = z.infer<typeof priceTableSchema>;

export class PriceTableError extends Error {
  constructor(file: string, problems: string[]) {
    super(
      `Invalid price table ${file} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "PriceTableError";
  }
}

/** The pinned table, with the figures of `overrideFile` (a partial table of the same shape) over it. */
export function loadPrices(overrideFile?: string): PriceTable {
  const pinned = readJson(PINNED_PRICES_FILE);
  if (!overrideFile) return validatePrices(pinned, PINNED_PRICES_FILE);
  return validatePrices(deepMerge(pinned, readJson(overrideFile)), overrideFile);
}

/** Validates a table, reporting every problem with its key path, what was expected and what was found. */
export function validatePrices(value: unknown, file: string): PriceTable {
  const result = priceTableSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw new PriceTableError(
    file,
    result.error.issues.flatMap((issue) => {
      const at = (...extra: string[]) => [...issue.path.map(String), ...extra].join(".") || "(top level)";
      if (issue.code === "unrecognized_keys")
        return issue.keys.map((k) => `${at(k)}: expected no such key (the price table has none), found one`);
      const found = "input" in issue && issue.input !== undefined ? JSON.stringify(issue.input) : "nothing";
      return [`${at()}: expected ${expectation(issue)}, found ${found}`];
    }),
  );
}

function expectation(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type") return `a ${issue.expected}`;
  if (issue.code === "too_small") return `a number of at least ${String(issue.minimum)}`;
  if (issue.code === "invalid_value")
    return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return issue.message; // the schema's own wording (e.g. "a date as YYYY-MM-DD")
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (error) {
    throw new PriceTableError(file, [`expected a readable JSON file, found ${(error as Error).message}`]);
  }
}

/** Objects merge key by key; anything else in `over` replaces what is in `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) merged[key] = deepMerge(base[key], value);
  return merged;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}
