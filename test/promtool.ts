/**
 * Prometheus' own rule checker for the alert-rule tests: `usePromtool(prefix)` registers the
 * before/after hooks of a test file (fails, never skips, when promtool is missing, and says how to
 * install it), and returns a runner working in a temporary directory of its own.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { stringify } from "yaml";

export interface Promtool {
  /** Runs promtool in the working directory. */
  run(args: string[]): { status: number | null; output: string };
  /** Writes `{ groups }` as a rule file and returns its name (relative to the working directory). */
  writeRules(file: string, groups: unknown): string;
  /** Writes any document as YAML and returns its name. */
  writeYaml(file: string, document: unknown): string;
  /**
   * `promtool test rules` on one alert: the input series (one sample a minute), the evaluation time
   * and the alerts expected then (`[]`: silent). The test file is `file`; the rules are `ruleFile`.
   */
  testAlert(
    file: string,
    ruleFile: string,
    test: {
      inputs: { series: string; values: string }[];
      evalTime: string;
      alert: string;
      expected: unknown[];
    },
  ): { status: number | null; output: string };
}

export function usePromtool(prefix: string): Promtool {
  let workDir = "";
  beforeAll(() => {
    const version = spawnSync("promtool", ["--version"], { encoding: "utf8" });
    if (version.error || version.status !== 0) {
      throw new Error(
        "promtool is not installed, so the alert rules cannot be verified. Run `bash scripts/install-promtool.sh` " +
          "(installs Debian's prometheus package, which ships promtool) and run the tests again.",
      );
    }
    workDir = mkdtempSync(path.join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });
  const writeYaml = (file: string, document: unknown) => {
    writeFileSync(path.join(workDir, file), stringify(document));
    return file;
  };
  const run = (args: string[]) => {
    const result = spawnSync("promtool", args, { cwd: workDir, encoding: "utf8", timeout: 30_000 });
    return {
      status: result.status,
      output: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}`,
    };
  };
  return {
    run,
    testAlert(file, ruleFile, t) {
      writeYaml(file, {
        rule_files: [ruleFile],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: t.inputs,
            alert_rule_test: [{ eval_time: t.evalTime, alertname: t.alert, exp_alerts: t.expected }],
          },
        ],
      });
      return run(["test", "rules", file]);
    },
    writeRules: (file, groups) => writeYaml(file, { groups }),
    writeYaml,
  };
}

/** A promtool series selector string from a metric name and labels. */
export function series(metric: string, labels: Record<string, string>): string {
  return `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",")}}`;
}
