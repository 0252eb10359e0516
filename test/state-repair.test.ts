/**
 * The file backend's crash repair (scripts/engine/state-repair.ts). Found by the real-engine e2e:
 * a CLI killed while saving a checkpoint left `local.json.attrs` empty, and every later command
 * failed with "failed to load checkpoint: EOF" although `local.json` was intact.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fileBackendDir, repairFileBackend } from "../scripts/engine/state-repair";

function stateDir(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "state-repair-"));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  return root;
}

describe("repairFileBackend", () => {
  it("removes an empty .attrs sidecar and nothing else", () => {
    const root = stateDir({
      "stacks/platform/local.json": '{"version":3}',
      "stacks/platform/local.json.attrs": "",
      "stacks/platform/local.json.bak": '{"version":3}',
      "stacks/platform/local.json.bak.attrs": '{"md5":"x"}',
    });
    expect(repairFileBackend(root)).toEqual([path.join(root, "stacks/platform/local.json.attrs")]);
    expect(readdirSync(path.join(root, "stacks/platform")).sort()).toEqual([
      "local.json",
      "local.json.bak",
      "local.json.bak.attrs",
    ]);
  });

  it("leaves a healthy state alone and tolerates a missing one", () => {
    const root = stateDir({ "stacks/platform/local.json": "{}", "stacks/platform/local.json.attrs": "{}" });
    expect(repairFileBackend(root)).toEqual([]);
    expect(readdirSync(path.join(root, "stacks/platform"))).toHaveLength(2);
    expect(repairFileBackend(path.join(root, "absent"))).toEqual([]);
  });

  it("only acts on file backends", () => {
    expect(fileBackendDir("file:///work/main/.pulumi-state")).toBe("/work/main/.pulumi-state");
    expect(fileBackendDir("s3://bucket/prefix")).toBeUndefined();
    expect(fileBackendDir(undefined)).toBeUndefined();
  });
});
