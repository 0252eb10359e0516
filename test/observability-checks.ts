/**
 * Checks shared by the observability tests: Grafana dashboard validity, the scope of every query
 * (it must select only the series of the service its panel belongs to), secrets that must never
 * appear in plain text in a recorded run, and PromQL validity of queries through promtool.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { promLabelName } from "../components/metrics";
import { isSecretValue, type RunResult } from "./harness";

/** What a query must be scoped to. */
export interface QueryScope {
  serviceName: string;
  namespace: string;
  selectorLabels: Record<string, string>;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: { refId: string; expr: string; datasource?: { type?: string; uid?: string } }[];
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
}

/** Problems that make a dashboard invalid or unusable in Grafana. Empty when it is fine. */
export function dashboardProblems(raw: unknown, datasourceUid: string): string[] {
  const d = raw as Dashboard;
  const problems: string[] = [];
  if (
    typeof d.uid !== "string" ||
    d.uid.length === 0 ||
    d.uid.length > 40 ||
    !/^[a-zA-Z0-9._-]+$/.test(d.uid)
  )
    problems.push(`uid ${JSON.stringify(d.uid)} is not 1-40 of [a-zA-Z0-9._-]`);
  if (typeof d.title !== "string" || d.title === "") problems.push("no title");
  if (typeof d.schemaVersion !== "number") problems.push("no schemaVersion");
  if (!Array.isArray(d.panels) || d.panels.length === 0) return [...problems, "no panels"];
  const ids = d.panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length) problems.push(`panel ids are not unique: ${ids.join(",")}`);
  for (const p of d.panels) {
    const where = `panel ${p.id} "${p.title}"`;
    if (!Number.isInteger(p.id) || p.id < 1) problems.push(`${where}: id must be a positive integer`);
    if (p.datasource?.type !== "prometheus" || p.datasource.uid !== datasourceUid)
      problems.push(
        `${where}: datasource ${JSON.stringify(p.datasource)} is not the Prometheus datasource ${datasourceUid}`,
      );
    const g = p.gridPos;
    if (!g || g.w < 1 || g.h < 1 || g.x < 0 || g.y < 0 || g.x + g.w > 24)
      problems.push(`${where}: gridPos ${JSON.stringify(g)} is off Grafana's 24-column grid`);
    if (p.type === "row") continue;
    if (!p.targets || p.targets.length === 0) problems.push(`${where}: no queries`);
    const refIds = (p.targets ?? []).map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length) problems.push(`${where}: refIds are not unique`);
    for (const t of p.targets ?? []) {
      if (!t.expr) problems.push(`${where} ${t.refId}: empty expr`);
      if (t.datasource?.uid !== datasourceUid)
        problems.push(
          `${where} ${t.refId}: query datasource ${JSON.stringify(t.datasource)} is not ${datasourceUid}`,
        );
    }
  }
  // Panels must not overlap (Grafana would shuffle them).
  for (const [i, a] of d.panels.entries()) {
    for (const b of d.panels.slice(i + 1)) {
      const overlap =
        a.gridPos.x < b.gridPos.x + b.gridPos.w &&
        b.gridPos.x < a.gridPos.x + a.gridPos.w &&
        a.gridPos.y < b.gridPos.y + b.gridPos.h &&
        b.gridPos.y < a.gridPos.y + a.gridPos.h;
      if (overlap) problems.push(`panels ${a.id} and ${b.id} overlap`);
    }
  }
  return problems;
}

/**
 * Problems with a query's scope: every series selector must name the service's namespace, and the
 * query must match the service's pod labels (directly, or through the kube_pod_labels join) and no
 * other service's.
 */
export function queryScopeProblems(expr: string, scope: QueryScope): string[] {
  const problems: string[] = [];
  const selectors = [...expr.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? "");
  if (selectors.length === 0) problems.push(`no series selector in ${expr}`);
  for (const sel of selectors) {
    if (!sel.includes(`namespace=${JSON.stringify(scope.namespace)}`))
      problems.push(`selector {${sel}} does not name namespace ${scope.namespace}`);
  }
  for (const [key, value] of Object.entries(scope.selectorLabels)) {
    const name = promLabelName(key);
    const direct = `${name}=${JSON.stringify(value)}`;
    const joined = `label_${name}=${JSON.stringify(value)}`;
    if (!expr.includes(direct) && !expr.includes(joined))
      problems.push(`query does not match ${key}=${value}: ${expr}`);
    // Any identity matcher in the query must be this service's.
    for (const m of expr.matchAll(new RegExp(`(?:label_)?${name}=("(?:[^"\\\\]|\\\\.)*")`, "g"))) {
      const found = JSON.parse(m[1] ?? '""') as string;
      if (found !== value) problems.push(`query matches ${key}=${found}, not ${value}: ${expr}`);
    }
  }
  return problems;
}

/** Every query of a dashboard with the panel it is on and the row (title) above it. */
export function dashboardQueries(raw: unknown): { panel: string; row: string | undefined; expr: string }[] {
  const d = raw as Dashboard;
  const out: { panel: string; row: string | undefined; expr: string }[] = [];
  let row: string | undefined;
  for (const p of [...d.panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x)) {
    if (p.type === "row") row = p.title;
    for (const t of p.targets ?? []) out.push({ panel: p.title, row, expr: t.expr });
  }
  return out;
}

/** Paths in a run where `needle` appears in plain text (outside a value marked secret). */
export function plaintextOccurrences(run: RunResult, needle: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, where: string): void => {
    if (isSecretValue(value)) return;
    if (typeof value === "string") {
      if (value.includes(needle)) found.push(where);
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${where}[${i}]`));
    else if (value && typeof value === "object")
      for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
  };
  for (const r of run.resources) {
    walk(r.inputs, `${r.type}::${r.name}.inputs`);
    walk(r.state, `${r.type}::${r.name}.state`);
  }
  walk(run.outputs, "stack outputs");
  walk(run.warnings, "warnings");
  return found;
}

/** Paths in a run where `needle` appears inside a value marked secret (to show a plaintext scan is not vacuous). */
export function secretOccurrences(run: RunResult, needle: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, where: string, secret: boolean): void => {
    if (isSecretValue(value)) return walk(value.value, where, true);
    if (typeof value === "string") {
      if (secret && value.includes(needle)) found.push(where);
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${where}[${i}]`, secret));
    else if (value && typeof value === "object")
      for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`, secret);
  };
  for (const r of run.resources) walk(r.inputs, `${r.type}::${r.name}.inputs`, false);
  return found;
}

/** Fails with the install hint when promtool is missing (these tests must not silently skip). */
export function requirePromtool(): void {
  const version = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  if (version.error || version.status !== 0)
    throw new Error(
      "promtool is not installed. Run `bash scripts/install-promtool.sh` (Debian's prometheus package ships it) and run the tests again.",
    );
}

/**
 * Runs `promtool check rules` on rule groups (PrometheusRule `spec.groups`) and returns its exit
 * status and output. Dashboard queries can be checked the same way as recording rules.
 */
export function promtoolCheckRules(groups: unknown[]): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "promtool-check-"));
  try {
    const file = path.join(dir, "rules.yaml");
    writeFileSync(file, stringify({ groups }));
    const run = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8", timeout: 60_000 });
    return {
      status: run.status,
      output: `${run.stdout ?? ""}${run.stderr ?? ""}${run.error ? String(run.error) : ""}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Dashboard queries as recording rules, so promtool parses every one of them as PromQL. */
export function queriesAsRecordingRules(name: string, exprs: string[]): unknown {
  return { name, rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}:check`, expr })) };
}
