/**
 * Pulumi.yaml validates against Pulumi's published project-file schema (for the pinned SDK), and
 * every stack file only sets keys the program accepts, with values the CLI's declared types allow.
 */
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { SECRET_KEYS, topLevelSchemas } from "../config/schema";
import { projectSchemaPath } from "../scripts/pulumi-project-schema";
import { REPO_ROOT } from "./harness";

const project = parseYaml(readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as {
  name: string;
  runtime: { name: string };
  config: Record<string, { type: string; secret?: boolean; default?: unknown; items?: { type: string } }>;
};
/** Optional and secret: validated by config/schema.ts only (see the comment in Pulumi.yaml). */
const OPTIONAL_SECRET_KEYS = ["platform:secrets", "platform:alertWebhookUrl"];
const stackFiles = readdirSync(REPO_ROOT).filter((f) => /^Pulumi\.[a-z0-9-]+\.yaml$/.test(f));

describe("Pulumi.yaml", () => {
  it("validates against Pulumi's project-file JSON schema", () => {
    const schema = JSON.parse(readFileSync(projectSchemaPath(REPO_ROOT), "utf8")) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const ok = validate(project);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // The validator is real: a broken project file fails it.
    expect(validate({ ...project, runtime: 42 })).toBe(false);
  });

  it("the example consumer stack's Pulumi.yaml is valid YAML and validates too", () => {
    const schema = JSON.parse(readFileSync(projectSchemaPath(REPO_ROOT), "utf8")) as object;
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    const example = parseYaml(
      readFileSync(path.join(REPO_ROOT, "examples", "consumer-stack", "Pulumi.yaml"), "utf8"),
    ) as unknown;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
  });

  it("declares exactly the keys the program accepts, typed, with secrets marked", () => {
    expect(project.runtime.name).toBe("nodejs");
    const declared = Object.keys(project.config)
      .map((k) => k.replace(/^platform:/, ""))
      .sort();
    // The optional secret keys are left undeclared (a declared secret is required in every stack).
    expect(declared).toEqual(
      Object.keys(topLevelSchemas)
        .filter((k) => !OPTIONAL_SECRET_KEYS.includes(`platform:${k}`))
        .sort(),
    );
    for (const [key, decl] of Object.entries(project.config)) {
      expect(decl.type, key).toMatch(/^(string|array|object|integer|boolean)$/);
    }
  });

  // Found by the real engine after a merge: a declared default the config schema refused stopped every
  // stack that did not set the key (the CLI passes the default to the program).
  it("every declared default is a value the config schema accepts", () => {
    const refused = Object.entries(project.config)
      .filter(([, decl]) => decl.default !== undefined)
      .filter(([key, decl]) => {
        const schema = topLevelSchemas[key.replace(/^platform:/, "") as keyof typeof topLevelSchemas];
        return !schema || !schema.safeParse(decl.default).success;
      })
      .map(([key]) => key);
    expect(refused).toEqual([]);
  });

  // Found by the real engine: the CLI refused every stack ("missing configuration values") because
  // optional keys were declared without a default, and a declared secret must be encrypted in every
  // stack file, so it cannot be optional at all.
  for (const file of stackFiles) {
    it(`the CLI's own config check passes for ${file}: every declared key is set or has a default`, () => {
      const config = (
        parseYaml(readFileSync(path.join(REPO_ROOT, file), "utf8")) as { config: Record<string, unknown> }
      ).config;
      const missing = Object.entries(project.config)
        .filter(([key, decl]) => decl.default === undefined && !(key in config))
        .map(([key]) => key);
      expect(missing, `${file} lacks declared keys without a default`).toEqual([]);
      const plaintextSecrets = Object.entries(project.config)
        .filter(
          ([key, decl]) =>
            decl.secret && !(config[key] && typeof config[key] === "object" && "secure" in config[key]),
        )
        .map(([key]) => key);
      expect(plaintextSecrets, `${file}: declared secrets must be set encrypted`).toEqual([]);
    });
  }
});

describe("stack files", () => {
  it("there are exactly the three stacks", () => {
    expect(stackFiles.sort()).toEqual(["Pulumi.local.yaml", "Pulumi.production.yaml", "Pulumi.staging.yaml"]);
  });

  for (const file of stackFiles) {
    it(`${file} sets only keys the program accepts, of the declared types`, () => {
      const doc = parseYaml(readFileSync(path.join(REPO_ROOT, file), "utf8")) as {
        config: Record<string, unknown>;
      };
      for (const [key, value] of Object.entries(doc.config)) {
        if (!key.startsWith("platform:")) {
          // Provider config the program relies on; nothing else from other namespaces.
          expect(["aws:region"], `${file}: ${key}`).toContain(key);
          continue;
        }
        if ((SECRET_KEYS as readonly string[]).includes(key.slice("platform:".length))) {
          // The secret keys are not declared (see Pulumi.yaml): a stack sets them only as ciphertext.
          expect(value, `${file}: ${key} must be set with --secret`).toHaveProperty("secure");
          continue;
        }
        const decl = project.config[key];
        expect(decl, `${file}: ${key} is not declared in Pulumi.yaml`).toBeDefined();
        if (decl?.secret) {
          // Secret keys may only hold ciphertext (`pulumi config set --secret`).
          expect(value, `${file}: ${key} must be set with --secret`).toHaveProperty("secure");
          continue;
        }
        const kind = Array.isArray(value)
          ? "array"
          : typeof value === "object" && value !== null
            ? "object"
            : typeof value;
        expect(kind, `${file}: ${key}`).toBe(decl?.type === "integer" ? "number" : decl?.type);
      }
    });
  }
});
