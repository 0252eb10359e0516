/**
 * Crash repair for the file backend. The backend stores each checkpoint through gocloud's fileblob,
 * which writes the data atomically (a temp file, then a rename) but its `<file>.attrs` metadata
 * sidecar in place. A CLI killed at that moment leaves a zero-length sidecar next to an intact
 * checkpoint, and every later command fails with "failed to load checkpoint: EOF" (found by the
 * real-engine e2e's kill test). The sidecar only holds the blob's content type and checksum, and
 * fileblob reads a blob without one, so removing an empty sidecar restores access to the intact
 * checkpoint; the engine's own recovery (`cancel`, `refresh --clear-pending-creates`, `up`) then
 * proceeds as usual.
 */
import { readdirSync, statSync, unlinkSync } from "node:fs";
import * as path from "node:path";

/** Removes zero-length `.attrs` sidecars under `stateDir`; returns the files removed. */
export function repairFileBackend(stateDir: string): string[] {
  const removed: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return; // no state yet
    }
    for (const entry of entries) {
      const file = path.join(dir, entry);
      const stat = statSync(file);
      if (stat.isDirectory()) walk(file);
      else if (entry.endsWith(".attrs") && stat.size === 0) {
        unlinkSync(file);
        removed.push(file);
      }
    }
  };
  walk(stateDir);
  return removed;
}

/** The local directory of a `file://` backend URL, or undefined for any other backend. */
export function fileBackendDir(backendUrl: string | undefined): string | undefined {
  if (!backendUrl?.startsWith("file://")) return undefined;
  const dir = backendUrl.slice("file://".length);
  return dir.startsWith("~") ? path.join(process.env.HOME ?? "", dir.slice(1)) : dir;
}
