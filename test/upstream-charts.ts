/**
 * The upstream sources our gateway is judged against, read from the Go modules that ship them at the
 * pinned versions (scripts/go-module-source.sh fetches them into the Go module cache):
 * - the Envoy Gateway chart (`charts/gateway-helm`: values.tmpl.yaml, templates) and its CRDs
 *   (Gateway API and Envoy Gateway, `charts/gateway-helm/charts/crds/crds`);
 * - the cert-manager chart (`deploy/charts/cert-manager`: values.yaml, values.schema.json, templates
 *   with the CRDs);
 * - the Go types behind the charts' free-form `config` values (Envoy Gateway's `EnvoyGateway`,
 *   cert-manager's `ControllerConfiguration`), read from the modules' Go sources.
 *
 * Judges built from them: `valuesProblems` (every Helm value we set is a key the chart knows and its
 * templates read) and `crdProblems` (an object against its CRD's OpenAPI schema, unknown fields
 * rejected as the API server would prune them).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { parse, parseAllDocuments } from "yaml";
import { CERT_MANAGER_CHART_VERSION, ENVOY_GATEWAY_CHART_VERSION } from "../components/IngressGateway";
import { REPO_ROOT } from "./harness";

export const ENVOY_GATEWAY_MODULE = "github.com/envoyproxy/gateway";
export const CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager";

const sources = new Map<string, string>();

/** The module's source directory at `version` (fetched once through the Go module proxy). */
export function goModuleSource(module: string, version: string): string {
  const key = `${module}@${version}`;
  const cached = sources.get(key);
  if (cached) return cached;
  let dir: string;
  try {
    dir = execFileSync("bash", [path.join(REPO_ROOT, "scripts/go-module-source.sh"), module, version], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`scripts/go-module-source.sh could not fetch ${key}:\n${stderr}`);
  }
  sources.set(key, dir);
  return dir;
}

/**
 * The VPC resource controller, which EKS runs in the control plane (its version is not ours to pin):
 * its module ships the SecurityGroupPolicy CRD the rendered policies are judged by. The newest release.
 */
export const VPC_RESOURCE_CONTROLLER_MODULE = "github.com/aws/amazon-vpc-resource-controller-k8s";
export const VPC_RESOURCE_CONTROLLER_VERSION = "v1.8.2";
export const securityGroupPolicyCrd = (): string =>
  path.join(
    goModuleSource(VPC_RESOURCE_CONTROLLER_MODULE, VPC_RESOURCE_CONTROLLER_VERSION),
    "config/crd/bases/vpcresources.k8s.aws_securitygrouppolicies.yaml",
  );

export const envoyGatewaySource = (): string =>
  goModuleSource(ENVOY_GATEWAY_MODULE, ENVOY_GATEWAY_CHART_VERSION);
export const certManagerSource = (): string =>
  goModuleSource(CERT_MANAGER_MODULE, CERT_MANAGER_CHART_VERSION);

/** The chart directories in the modules. Envoy Gateway's is a release template (values.tmpl.yaml). */
export const envoyGatewayChartDir = (): string => path.join(envoyGatewaySource(), "charts/gateway-helm");
export const certManagerChartDir = (): string => path.join(certManagerSource(), "deploy/charts/cert-manager");

/**
 * Config overrides that give a stack its gateway. The local stack leaves it out unless its charts are
 * on disk (config/settings.ts): these point it at the charts in the module cache.
 */
export function gatewayStackConfig(stack: string): Record<string, unknown> {
  if (stack !== "local") return {};
  return {
    "platform:ingress": {
      charts: {
        envoyGateway: { path: envoyGatewayChartDir() },
        certManager: { path: certManagerChartDir() },
      },
    },
  };
}

function filesUnder(dir: string, suffixes: string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full, suffixes));
    else if (suffixes.some((s) => entry.endsWith(s))) out.push(full);
  }
  return out;
}

// ------------------------------------------------------------------------------------- Helm values

export interface ChartSources {
  name: string;
  /** The chart's default values. */
  defaults: unknown;
  /** JSON schema of the values, when the chart ships one. */
  schema?: object;
  /** Every template (and helper) of the chart and its subcharts, concatenated. */
  templates: string;
}

export function envoyGatewayChart(): ChartSources {
  const dir = envoyGatewayChartDir();
  return {
    name: `gateway-helm ${ENVOY_GATEWAY_CHART_VERSION}`,
    // Release placeholders such as ${GatewayImage} are plain strings to YAML.
    defaults: parse(readFileSync(path.join(dir, "values.tmpl.yaml"), "utf8")) as unknown,
    templates: filesUnder(dir, [".yaml", ".tpl"])
      .filter((f) => f.includes(`${path.sep}templates${path.sep}`))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n"),
  };
}

export function certManagerChart(): ChartSources {
  const dir = certManagerChartDir();
  return {
    name: `cert-manager ${CERT_MANAGER_CHART_VERSION}`,
    defaults: parse(readFileSync(path.join(dir, "values.yaml"), "utf8")) as unknown,
    schema: JSON.parse(readFileSync(path.join(dir, "values.schema.json"), "utf8")) as object,
    templates: filesUnder(path.join(dir, "templates"), [".yaml", ".tpl"])
      .map((f) => readFileSync(f, "utf8"))
      .join("\n"),
  };
}

type Path = string[];

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Every leaf (scalar, array or empty object) of a values tree, with its path. */
export function leafPaths(values: unknown, at: Path = []): Path[] {
  if (!isPlainObject(values) || Object.keys(values).length === 0) return [at];
  return Object.entries(values).flatMap(([k, v]) => leafPaths(v, [...at, k]));
}

export function lookup(tree: unknown, p: Path): { found: boolean; value?: unknown } {
  let node = tree;
  for (const key of p) {
    if (!isPlainObject(node) || !(key in node)) return { found: false };
    node = node[key];
  }
  return { found: true, value: node };
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether a template reads `.Values.<path>` (or tests it with `hasKey .Values.<parent> "<leaf>"`). */
export function templatesRead(templates: string, p: Path): boolean {
  const dotted = `.Values.${p.join(".")}`;
  if (new RegExp(`${escapeRe(dotted)}(?![A-Za-z0-9_])`).test(templates)) return true;
  const parent = `.Values.${p.slice(0, -1).join(".")}`;
  const leaf = p[p.length - 1] ?? "";
  if (new RegExp(`hasKey ${escapeRe(parent)} "${escapeRe(leaf)}"`).test(templates)) return true;
  return helperReads(templates, parent, leaf);
}

/**
 * Whether a helper that is passed the values object `parent` whole, as the first element of a tuple
 * (cert-manager: `template "cert-manager.image" (tuple .Values.webhook.image …)`), reads its `leaf`
 * (`{{- $image := index . 0 -}}` … `$image.digest`).
 */
function helperReads(templates: string, parent: string, leaf: string): boolean {
  const calls = templates.matchAll(
    new RegExp(`(?:template|include) "([^"]+)" \\(tuple ${escapeRe(parent)}(?![A-Za-z0-9_.])`, "g"),
  );
  for (const [, helper = ""] of calls) {
    const start = templates.indexOf(`define "${helper}"`);
    if (start === -1) continue;
    const next = templates.indexOf("{{- define ", start + 1);
    const body = templates.slice(start, next === -1 ? undefined : next);
    const arg = /\$(\w+) := index \. 0/.exec(body)?.[1];
    if (arg && new RegExp(`\\$${arg}\\.${escapeRe(leaf)}(?![A-Za-z0-9_])`).test(body)) return true;
  }
  return false;
}

/**
 * A values subtree the chart passes through whole (e.g. into a config file): its keys are judged by
 * the Go type the component reading it decodes into.
 */
export interface PassThrough {
  path: Path;
  goType: GoTypeRef;
}

/**
 * Problems with `values` for `chart`: a key the chart neither declares (defaults or schema) nor reads;
 * a key its templates never read; a value its schema rejects; inside a pass-through subtree, a key
 * the Go type has no field for. Empty when every value is known and has an effect.
 */
export function valuesProblems(
  chart: ChartSources,
  values: unknown,
  passThrough: PassThrough[] = [],
): string[] {
  const problems: string[] = [];
  const inside = (p: Path) => passThrough.find((t) => t.path.every((k, i) => p[i] === k));
  for (const leaf of leafPaths(values)) {
    const key = leaf.join(".");
    const through = inside(leaf);
    if (through) continue;
    const declared = lookup(chart.defaults, leaf).found || schemaDeclares(chart.schema, leaf);
    if (!declared) problems.push(`${chart.name}: ${key} is not a value the chart declares`);
    if (!templatesRead(chart.templates, leaf))
      problems.push(`${chart.name}: ${key} is read by none of the chart's templates (it has no effect)`);
  }
  for (const t of passThrough) {
    const sub = lookup(values, t.path);
    if (!sub.found) continue;
    if (!templatesRead(chart.templates, t.path))
      problems.push(`${chart.name}: ${t.path.join(".")} is read by none of the chart's templates`);
    problems.push(
      ...goValueProblems(sub.value, t.goType, t.path.join(".")).map((p) => `${chart.name}: ${p}`),
    );
  }
  if (chart.schema) problems.push(...schemaProblems(chart, values));
  return problems;
}

function schemaDeclares(schema: object | undefined, p: Path): boolean {
  if (!schema) return false;
  const root = schema as { $defs?: Record<string, SchemaNode>; $ref?: string };
  const resolve = (node: SchemaNode | undefined): SchemaNode | undefined => {
    let n = node;
    while (n?.$ref) n = root.$defs?.[n.$ref.replace("#/$defs/", "")];
    return n;
  };
  let node = resolve(root);
  for (const key of p) {
    node = resolve(node?.properties?.[key]);
    if (!node) return false;
  }
  return true;
}

interface SchemaNode {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
}

function schemaProblems(chart: ChartSources, values: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(chart.schema as object);
  return validate(values)
    ? []
    : (validate.errors ?? []).map((e) => `${chart.name}: values ${formatError(e)}`);
}

function formatError(e: ErrorObject): string {
  const where = e.instancePath || "/";
  if (e.keyword === "additionalProperties")
    return `${where}: unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  return `${where}: ${e.message ?? e.keyword}`;
}

// ---------------------------------------------------------------------------------- Go types

/** A Go named type: its package directory and name. */
export interface GoTypeRef {
  /** The module's root directory and import path, to resolve other packages of the same module. */
  moduleDir: string;
  modulePath: string;
  /** The package's import path. */
  pkg: string;
  name: string;
}

interface GoField {
  json: string;
  type: string;
  /** The field's doc comment marks it `Deprecated:`. */
  deprecated: boolean;
}
interface GoDecl {
  /** Struct fields by JSON name, or the underlying type of a non-struct type. */
  fields?: Map<string, GoField>;
  inline?: string[];
  underlying?: string;
  imports: Map<string, string>;
}

const packages = new Map<string, Map<string, GoDecl>>();

/** The type declarations of a package, from its non-test Go files. */
function goPackage(ref: Pick<GoTypeRef, "moduleDir" | "modulePath" | "pkg">): Map<string, GoDecl> {
  const dir = path.join(ref.moduleDir, ref.pkg.slice(ref.modulePath.length));
  const cached = packages.get(dir);
  if (cached) return cached;
  const decls = new Map<string, GoDecl>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".go") && !f.endsWith("_test.go"))) {
    const text = readFileSync(path.join(dir, file), "utf8");
    const imports = goImports(text);
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? "";
      const struct = /^type (\w+) struct \{\s*$/.exec(line);
      if (struct) {
        const fields = new Map<string, GoField>();
        const inline: string[] = [];
        let doc = "";
        for (i++; i < lines.length && lines[i] !== "}"; i++) {
          const raw = (lines[i] ?? "").trim();
          if (raw.startsWith("//")) {
            doc += `${raw}\n`;
            continue;
          }
          const body = raw.replace(/\/\/.*$/, "").trim();
          const deprecated = /^\/\/\s*Deprecated:/m.test(doc);
          doc = "";
          if (!body) continue;
          const tagged = /^(?:(\w+)\s+)?([^\s`]+)\s*`[^`]*json:"([^"]*)"[^`]*`$/.exec(body);
          if (tagged) {
            const [, fieldName, type = "", tag = ""] = tagged;
            const [json = "", ...opts] = tag.split(",");
            if (json === "-") continue;
            if (!fieldName || opts.includes("inline")) inline.push(type);
            else fields.set(json || fieldName, { json: json || fieldName, type, deprecated });
          } else if (/^[\w.*]+$/.test(body)) inline.push(body);
        }
        decls.set(struct[1] ?? "", { fields, inline, imports });
        continue;
      }
      const named = /^type (\w+) ([\w.*[\]]+)\s*$/.exec(line);
      if (named) decls.set(named[1] ?? "", { underlying: named[2] ?? "", imports });
    }
  }
  packages.set(dir, decls);
  return decls;
}

function goImports(text: string): Map<string, string> {
  const imports = new Map<string, string>();
  const block = /^import \(([\s\S]*?)^\)/m.exec(text)?.[1] ?? "";
  const singles = [...text.matchAll(/^import ((?:\w+ )?"[^"]+")$/gm)].map((m) => m[1] ?? "");
  for (const line of [...block.split("\n"), ...singles]) {
    const m = /^\s*(?:(\w+)\s+)?"([^"]+)"/.exec(line);
    if (m) imports.set(m[1] ?? m[2]!.split("/").pop()!, m[2]!);
  }
  return imports;
}

const GO_SCALARS: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === "string",
  bool: (v) => typeof v === "boolean",
  float32: (v) => typeof v === "number",
  float64: (v) => typeof v === "number",
};
for (const t of ["int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64"])
  GO_SCALARS[t] = (v) => typeof v === "number" && Number.isInteger(v);

/** Types of other modules whose JSON fields we know without their sources. */
const KNOWN_EXTERNAL: Record<string, string[]> = {
  "k8s.io/apimachinery/pkg/apis/meta/v1.TypeMeta": ["apiVersion", "kind"],
};

/**
 * Problems decoding `value` into Go type `ref` strictly: a key with no field, a field marked
 * deprecated, a value of the wrong kind. Types from other modules (e.g. corev1.EnvVar) are not looked into; the caller judges those.
 */
export function goValueProblems(value: unknown, ref: GoTypeRef, at: string): string[] {
  return checkGo(value, ref.name, ref, at);
}

function checkGo(value: unknown, type: string, ctx: GoTypeRef, at: string): string[] {
  const t = type.replace(/^\*/, "");
  if (t.startsWith("[]")) {
    if (!Array.isArray(value)) return [`${at}: a list (Go ${type}), found ${JSON.stringify(value)}`];
    return value.flatMap((item, i) => checkGo(item, t.slice(2), ctx, `${at}[${i}]`));
  }
  const map = /^map\[string\](.+)$/.exec(t);
  if (map) {
    if (!isPlainObject(value)) return [`${at}: a map (Go ${type}), found ${JSON.stringify(value)}`];
    return Object.entries(value).flatMap(([k, v]) => checkGo(v, map[1] ?? "", ctx, `${at}.${k}`));
  }
  const scalar = GO_SCALARS[t];
  if (scalar) return scalar(value) ? [] : [`${at}: a Go ${t}, found ${JSON.stringify(value)}`];
  const resolved = resolveGoType(t, ctx);
  if (!resolved) return [];
  const { decl, ref } = resolved;
  if (decl.underlying) return checkGo(value, decl.underlying, ref, at);
  if (!isPlainObject(value)) return [`${at}: an object (Go ${ref.name}), found ${JSON.stringify(value)}`];
  const fields = structFields(decl, ref);
  return Object.entries(value).flatMap(([k, v]) => {
    const field = fields.get(k);
    if (!field) return [`${at}.${k}: Go type ${ref.name} (${ref.pkg}) has no field ${JSON.stringify(k)}`];
    const deprecated = field.deprecated ? [`${at}.${k}: deprecated (its Go doc comment says so)`] : [];
    return field.type === ""
      ? deprecated
      : [...deprecated, ...checkGo(v, field.type, field.ctx, `${at}.${k}`)];
  });
}

/** A struct's JSON fields, those of inline (embedded) structs included. */
interface ResolvedField {
  type: string;
  ctx: GoTypeRef;
  deprecated?: boolean;
}

function structFields(decl: GoDecl, ref: GoTypeRef): Map<string, ResolvedField> {
  const out = new Map<string, ResolvedField>();
  for (const [json, f] of decl.fields ?? [])
    out.set(json, { type: f.type, ctx: ref, deprecated: f.deprecated });
  for (const embedded of decl.inline ?? []) {
    const name = embedded.replace(/^\*/, "");
    const qualified = qualify(name, ref, decl);
    const known = KNOWN_EXTERNAL[qualified];
    if (known) {
      for (const json of known) out.set(json, { type: "", ctx: ref });
      continue;
    }
    const inner = resolveGoType(name, ref);
    if (!inner) throw new Error(`cannot resolve the embedded Go type ${qualified} of ${ref.name}`);
    for (const [json, f] of structFields(inner.decl, inner.ref)) out.set(json, f);
  }
  return out;
}

function qualify(name: string, ref: GoTypeRef, decl: GoDecl): string {
  const dot = name.indexOf(".");
  if (dot < 0) return `${ref.pkg}.${name}`;
  return `${decl.imports.get(name.slice(0, dot)) ?? name.slice(0, dot)}.${name.slice(dot + 1)}`;
}

/** The declaration of a type named in `ctx`'s package; undefined for a type of another module. */
function resolveGoType(name: string, ctx: GoTypeRef): { decl: GoDecl; ref: GoTypeRef } | undefined {
  const here = goPackage(ctx);
  const dot = name.indexOf(".");
  if (dot < 0) {
    const decl = here.get(name);
    if (!decl) throw new Error(`no Go type ${name} in ${ctx.pkg}`);
    return { decl, ref: { ...ctx, name } };
  }
  // The import table of any file of the package (aliases are consistent within these packages).
  const alias = name.slice(0, dot);
  const importPath = [...here.values()].map((d) => d.imports.get(alias)).find(Boolean);
  if (!importPath || !importPath.startsWith(ctx.modulePath)) return undefined;
  const ref = { ...ctx, pkg: importPath, name: name.slice(dot + 1) };
  const decl = goPackage(ref).get(ref.name);
  if (!decl) throw new Error(`no Go type ${ref.name} in ${importPath}`);
  return { decl, ref };
}

/** Envoy Gateway's own configuration (the chart's `config.envoyGateway`). */
export const envoyGatewayConfigType = (): GoTypeRef => ({
  moduleDir: envoyGatewaySource(),
  modulePath: ENVOY_GATEWAY_MODULE,
  pkg: `${ENVOY_GATEWAY_MODULE}/api/v1alpha1`,
  name: "EnvoyGateway",
});

/** cert-manager's controller configuration (the chart's `config`). */
export const certManagerConfigType = (): GoTypeRef => ({
  moduleDir: certManagerSource(),
  modulePath: CERT_MANAGER_MODULE,
  pkg: `${CERT_MANAGER_MODULE}/pkg/apis/config/controller/v1alpha1`,
  name: "ControllerConfiguration",
});

/** The Go type of a struct field (e.g. which type `rateLimitDeployment` decodes into). */
export function goFieldType(ref: GoTypeRef, fieldPath: string[]): string {
  let current = ref;
  let type = ref.name;
  for (const key of fieldPath) {
    const resolved = resolveGoType(type.replace(/^\*/, ""), current);
    if (!resolved) throw new Error(`${type} is not in ${current.modulePath}`);
    const field = structFields(resolved.decl, resolved.ref).get(key);
    if (!field) throw new Error(`${resolved.ref.name} has no field ${key}`);
    type = field.type;
    current = field.ctx;
  }
  return type.replace(/^\*/, "");
}

// ---------------------------------------------------------------------------------------- CRDs

interface SchemaWithDescription {
  description?: string;
  properties?: Record<string, SchemaWithDescription>;
  items?: SchemaWithDescription;
}

interface Crd {
  group: string;
  kind: string;
  versions: { name: string; schema: object }[];
}

/** Template directives on lines of their own (cert-manager's CRDs are chart templates). */
const stripTemplateLines = (text: string): string =>
  text
    .split("\n")
    .filter((l) => !/^\s*\{\{.*\}\}\s*$/.test(l))
    .join("\n");

function readCrds(files: string[]): Crd[] {
  const crds: Crd[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(stripTemplateLines(readFileSync(file, "utf8")))) {
      const o = doc.toJS() as {
        kind?: string;
        spec?: {
          group: string;
          names: { kind: string };
          versions: { name: string; schema: { openAPIV3Schema: object } }[];
        };
      } | null;
      if (o?.kind !== "CustomResourceDefinition" || !o.spec) continue;
      crds.push({
        group: o.spec.group,
        kind: o.spec.names.kind,
        versions: o.spec.versions.map((v) => ({ name: v.name, schema: v.schema.openAPIV3Schema })),
      });
    }
  }
  return crds;
}

/** The CRDs of Gateway API and Envoy Gateway that the Envoy Gateway chart installs. */
export function envoyGatewayCrds(): Crd[] {
  const dir = path.join(envoyGatewayChartDir(), "charts/crds/crds");
  return readCrds(filesUnder(dir, [".yaml"]));
}

/** cert-manager's CRDs (templates of its chart). */
export function certManagerCrds(): Crd[] {
  const dir = path.join(certManagerChartDir(), "templates");
  return readCrds(filesUnder(dir, [".yaml"]).filter((f) => path.basename(f).startsWith("crd-")));
}

/**
 * The schema as the API server applies it to a request: a field no `properties` declares is pruned
 * (unless `x-kubernetes-preserve-unknown-fields`), so here it is an error; `nullable` allows null.
 */
export function strictSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictSchema);
  if (!isPlainObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "properties" && isPlainObject(v))
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strictSchema(s)]));
    else if (["items", "additionalProperties", "not"].includes(k) && isPlainObject(v))
      out[k] = strictSchema(v);
    else if (["allOf", "anyOf", "oneOf"].includes(k)) out[k] = strictSchema(v);
    else out[k] = v;
  }
  if (
    out.type === "object" &&
    isPlainObject(out.properties) &&
    out.additionalProperties === undefined &&
    out["x-kubernetes-preserve-unknown-fields"] !== true
  )
    out.additionalProperties = false;
  if (out.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

/**
 * A validator of objects against CRDs: by apiVersion and kind, strictly (unknown fields are
 * errors). CEL rules (`x-kubernetes-validations`) and formats are left to egctl, whose validator
 * (kubectl-validate on the same CRDs) runs them.
 */
export class CrdValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly schemas = new Map<string, object>();

  constructor(crds: Crd[]) {
    for (const crd of crds)
      for (const v of crd.versions) this.schemas.set(`${crd.group}/${v.name} ${crd.kind}`, v.schema);
  }

  has(apiVersion: string, kind: string): boolean {
    return this.schemas.has(`${apiVersion} ${kind}`);
  }

  /** The schema of a kind, e.g. to judge a value our Helm values hand to a field of that kind. */
  schema(apiVersion: string, kind: string): object {
    const s = this.schemas.get(`${apiVersion} ${kind}`);
    if (!s) throw new Error(`no CRD for ${apiVersion} ${kind}`);
    return s;
  }

  /** Problems with `object` (empty when it is valid); throws when no CRD defines its kind. */
  problems(object: Record<string, unknown>): string[] {
    const apiVersion = String(object.apiVersion);
    const kind = String(object.kind);
    const key = `${apiVersion} ${kind}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(strictSchema(this.schema(apiVersion, kind)) as object);
      this.compiled.set(key, validate);
    }
    // Through JSON, as it reaches the API server (undefined fields dropped).
    const data = JSON.parse(JSON.stringify(object)) as unknown;
    if (validate(data)) return [];
    const meta = object.metadata as { name?: string; namespace?: string } | undefined;
    const id = `${kind} ${meta?.namespace ? `${meta.namespace}/` : ""}${meta?.name ?? ""}`;
    return (validate.errors ?? []).map((e) => `${id}: ${formatError(e)}`);
  }

  /** The fields `object` sets that its CRD describes as `Deprecated:` (the API warns about them). */
  deprecatedFields(object: Record<string, unknown>): string[] {
    const found: string[] = [];
    const walk = (node: SchemaWithDescription | undefined, value: unknown, at: string) => {
      if (!node) return;
      if (/(^|\n)\s*Deprecated:/.test(node.description ?? "")) found.push(at);
      if (Array.isArray(value)) value.forEach((v, i) => walk(node.items, v, `${at}[${i}]`));
      else if (isPlainObject(value))
        for (const [k, v] of Object.entries(value)) walk(node.properties?.[k], v, at ? `${at}.${k}` : k);
    };
    walk(this.schema(String(object.apiVersion), String(object.kind)), object, "");
    return found;
  }

  /** Problems with `value` against the schema of the field at `fieldPath` of a kind. */
  fieldProblems(apiVersion: string, kind: string, fieldPath: string[], value: unknown): string[] {
    let node = this.schema(apiVersion, kind) as { properties?: Record<string, unknown> };
    for (const key of fieldPath) {
      const next = node.properties?.[key] as typeof node | undefined;
      if (!next) throw new Error(`${kind} has no field ${fieldPath.join(".")}`);
      node = next;
    }
    const validate = this.ajv.compile(strictSchema(node) as object);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => formatError(e));
  }
}
