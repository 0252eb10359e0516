/**
 * The Pulumi engine as our scripts drive it: the CLI that scripts/engine/toolchain.sh built, the
 * project's own Pulumi.yaml and stack files, and the program run inline through the Automation API.
 *
 * Inline means the Automation API serves the Node.js language runtime from this process and starts
 * the CLI with `--client`, so no `pulumi-language-nodejs` binary is needed (the Go module proxy
 * refuses it). The program is the function index.ts exports, the same one a normal Pulumi install
 * runs through Pulumi.yaml: there is one program and two hosts.
 *
 * The environment (CLI location, PULUMI_HOME with the plugins, file backend, passphrase, kubeconfig)
 * comes from scripts/engine/env.sh; run through scripts/engine/pulumi.sh, which sources it.
 */
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import platformProgram from "../../index";
import { fileBackendDir, repairFileBackend } from "./state-repair";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT_NAME = "platform";

/** The CLI installation env.sh points at, checked before anything runs. */
export function pulumiRoot(): string {
  const root = process.env.PLATFORM_PULUMI_ROOT;
  if (!root) {
    throw new Error(
      "PLATFORM_PULUMI_ROOT is not set: run through `npm run pulumi -- …` (scripts/engine/pulumi.sh), " +
        "or `. scripts/engine/env.sh` first",
    );
  }
  return root;
}

/**
 * Selects `stackName` (creating it with the passphrase secrets provider the first time) in a
 * workspace rooted at the repository, so Pulumi.yaml and Pulumi.<stack>.yaml are the project's own.
 */
export async function openStack(stackName: string): Promise<Stack> {
  repairState();
  const pulumiCommand = await PulumiCommand.get({ root: pulumiRoot() });
  return LocalWorkspace.createOrSelectStack(
    { stackName, projectName: PROJECT_NAME, program: () => Promise.resolve(platformProgram()) },
    { workDir: REPO_ROOT, pulumiCommand, secretsProvider: "passphrase" },
  );
}

/** The path of the CLI binary, for the commands that need no program. */
export function pulumiBinary(): string {
  return path.join(pulumiRoot(), "bin", "pulumi");
}

/** Repairs what a killed CLI can leave in a file backend (see state-repair.ts), saying so. */
export function repairState(): void {
  const dir = fileBackendDir(process.env.PULUMI_BACKEND_URL);
  if (!dir) return;
  for (const file of repairFileBackend(path.join(dir, ".pulumi"))) {
    console.error(
      `[engine] removed ${file}: an empty metadata sidecar a killed CLI left behind (see scripts/engine/state-repair.ts)`,
    );
  }
}
