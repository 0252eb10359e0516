/**
 * The engine toolchain's versions are stated once (scripts/engine/versions.env, package.json) and
 * the build inputs agree with them: a drifted go.mod or SDK pin would build a plugin the program
 * does not ask for, and the engine would warn or refuse.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./harness";

function versionsEnv(): Record<string, string> {
  const text = readFileSync(path.join(REPO_ROOT, "scripts", "engine", "versions.env"), "utf8");
  return Object.fromEntries(
    [...text.matchAll(/^([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
}

/** `require` lines of a go.mod as module → version (single-line and block form). */
function goRequires(tool: string): Map<string, string> {
  const text = readFileSync(path.join(REPO_ROOT, "tools", tool, "go.mod"), "utf8");
  const found = new Map<string, string>();
  for (const m of text.matchAll(/^\s*(?:require\s+)?([\w.\-/]+\.[\w.\-/]+)\s+(v\S+)/gm)) {
    found.set(m[1] as string, m[2] as string);
  }
  return found;
}

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const env = versionsEnv();

describe("engine toolchain versions", () => {
  it("pins the SDK packages the plugins are labelled with to exact versions", () => {
    for (const name of ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/random"]) {
      // scripts/engine/lib.sh reads `dependencies`, then `devDependencies` (where the SDKs, peers of
      // the published package, are pinned for the platform's own program).
      expect(pkg.dependencies[name] ?? pkg.devDependencies[name], name).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it("builds the CLI the versions file names", () => {
    const requires = goRequires("pulumi");
    expect(requires.get("github.com/pulumi/pulumi/pkg/v3")).toBe(env.PULUMI_CLI_VERSION);
    expect(requires.get("github.com/pulumi/pulumi/sdk/v3")).toBe(env.PULUMI_CLI_VERSION);
  });

  it("builds the kubernetes plugin from the provider module the versions file names", () => {
    expect(
      goRequires("pulumi-resource-kubernetes").get(env.PULUMI_KUBERNETES_PROVIDER_MODULE as string),
    ).toBe(env.PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION);
  });

  it("builds the random plugin from the upstream commit and bridge the versions file names", () => {
    const requires = goRequires("pulumi-resource-random");
    const shim = goRequires(path.join("pulumi-resource-random", "shim"));
    expect(requires.get("github.com/pulumi/pulumi-terraform-bridge/v3")).toBe(
      env.PULUMI_TERRAFORM_BRIDGE_VERSION,
    );
    expect(shim.get("github.com/terraform-providers/terraform-provider-random")).toBe(
      env.TERRAFORM_PROVIDER_RANDOM_VERSION,
    );
  });

  it("builds cert-manager's binaries from the module version the versions file names", () => {
    // tools/cert-manager/build.sh refuses to build when the two disagree; this says so before a
    // build is started. test/cert-manager-binaries.test.ts checks the built binaries.
    expect(goRequires("cert-manager").get("github.com/cert-manager/cert-manager")).toBe(
      env.CERT_MANAGER_VERSION,
    );
  });

  it("runs the real engine in the e2e and exposes every verb through one wrapper", () => {
    expect(pkg.scripts["test:e2e"]).toContain("scripts/e2e-engine.ts");
    expect(pkg.scripts.pulumi).toBe("bash scripts/engine/pulumi.sh");
  });
});

describe("one program, two hosts", () => {
  it("index.ts exports the program as a function (what the language host and the Automation API call)", async () => {
    const mod = (await import("../index")) as unknown as { default?: unknown };
    expect(typeof (mod.default ?? mod)).toBe("function");
  });
});
