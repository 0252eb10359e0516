/**
 * Locates Pulumi's published project-file JSON schema (`sdk/go/common/workspace/project.json`) for
 * the exact SDK version this project pins. The schema ships inside the Pulumi Go SDK module, so it
 * is fetched through the Go module proxy (`go mod download`) and read from the module cache: no
 * copy is vendored here, and the version can never drift from package.json.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

export function pinnedPulumiVersion(repoRoot: string): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  // A peer of the published package, pinned in devDependencies for the platform's own program.
  const version = pkg.dependencies?.["@pulumi/pulumi"] ?? pkg.devDependencies?.["@pulumi/pulumi"];
  if (!version || !/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version))
    throw new Error(`package.json must pin @pulumi/pulumi exactly, found ${String(version)}`);
  return version;
}

export function projectSchemaPath(repoRoot: string): string {
  const version = pinnedPulumiVersion(repoRoot);
  const out = execFileSync(
    "go",
    ["mod", "download", "-json", `github.com/pulumi/pulumi/sdk/v3@v${version}`],
    {
      encoding: "utf8",
      cwd: repoRoot,
      env: { ...process.env, GOFLAGS: "-mod=mod", GO111MODULE: "on" },
    },
  );
  const { Dir } = JSON.parse(out) as { Dir: string };
  const file = path.join(Dir, "go", "common", "workspace", "project.json");
  if (!existsSync(file)) throw new Error(`Pulumi SDK v${version} module has no ${file}`);
  return file;
}
