/**
 * parliament 1.6.4 (Duo Labs' IAM policy linter, installed from PyPI by
 * scripts/install-parliament.sh) over every policy document the staging and production stacks create:
 * IAM identity policies (inline and managed), role trust policies, and the resource policies of KMS
 * keys, buckets, topics, queues and backup vaults. A finding is either fixed or listed below with its
 * reason; nothing is silenced in bulk. The judge is shown two broken documents first and must name
 * both problems.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runStack, type RunResult } from "./harness";

/** Where each resource type holds a policy document, and what kind of document it is. */
const POLICY_INPUTS: Record<string, { key: string; kind: "identity" | "trust" | "resource" }> = {
  "aws:iam/role:Role": { key: "assumeRolePolicy", kind: "trust" },
  "aws:iam/rolePolicy:RolePolicy": { key: "policy", kind: "identity" },
  "aws:iam/policy:Policy": { key: "policy", kind: "identity" },
  "aws:kms/key:Key": { key: "policy", kind: "resource" },
  "aws:s3/bucketPolicy:BucketPolicy": { key: "policy", kind: "resource" },
  "aws:sns/topicPolicy:TopicPolicy": { key: "policy", kind: "resource" },
  "aws:sqs/queuePolicy:QueuePolicy": { key: "policy", kind: "resource" },
  "aws:backup/vaultPolicy:VaultPolicy": { key: "policy", kind: "resource" },
};

/**
 * What parliament reports that is not a problem, each with its reason: its misreadings of document
 * kinds, the gaps of its IAM database (newer than parliament's), and statements written as their
 * upstream publishes them. Each entry names the issue and what it applies to; a finding outside this
 * list fails the test. docs/threat-model.md lists them.
 */
export const ACCEPTED_FINDINGS: {
  name: string;
  issue: string;
  kind?: "identity" | "trust" | "resource";
  document?: RegExp;
  detail?: RegExp;
  why: string;
}[] = [
  {
    name: "trust-policy-has-no-resource",
    issue: "MALFORMED",
    kind: "trust",
    detail: /neither Resource nor NotResource/,
    why: "a role's trust policy names a Principal, never a Resource; parliament reads every document as an identity policy",
  },
  {
    name: "eks-oidc-federation",
    issue: "UNKNOWN_FEDERATION_SOURCE",
    kind: "trust",
    detail: /:oidc-provider\/oidc\.eks\./,
    why: "the cluster's own OIDC provider (IAM roles for service accounts); parliament knows only fixed federation sources such as Cognito",
  },
  {
    name: "kms-key-policy-resource",
    issue: "RESOURCE_STAR",
    kind: "resource",
    document: /^Key /,
    why: 'in a KMS key policy, Resource "*" means the key the policy is attached to',
  },
  {
    name: "load-balancer-controller-published-policy",
    issue: "RESOURCE_STAR",
    document: /^RolePolicy .*-lb-controller$/,
    why: 'the AWS Load Balancer Controller\'s policy as AWS publishes it (test/cluster.test.ts compares it statement by statement); its "*" statements are read-only, creations the controller tags, or conditioned on its elbv2.k8s.aws/cluster tag',
  },
  {
    name: "elbv2-newer-than-parliament",
    issue: "UNKNOWN_ACTION",
    document: /^RolePolicy .*-lb-controller$/,
    detail: /elasticloadbalancing:ModifyIpPools/,
    why: "an Elastic Load Balancing action newer than parliament 1.6.4's IAM database (in AWS's published controller policy)",
  },
  {
    name: "elbv2-condition-newer-than-parliament",
    issue: "UNKNOWN_CONDITION_FOR_ACTION",
    document: /^RolePolicy .*-lb-controller$/,
    detail: /elasticloadbalancing:CreateAction for action elasticloadbalancing:AddTags/,
    why: "a condition key newer than parliament 1.6.4's IAM database (in AWS's published controller policy)",
  },
  {
    name: "cluster-autoscaler-tag-scoped",
    issue: "RESOURCE_STAR",
    document: /^RolePolicy .*-cluster-autoscaler$/,
    detail: /autoscaling:SetDesiredCapacity/,
    why: "scaling actions on any group carrying the cluster's k8s.io/cluster-autoscaler/<cluster>=owned tag (a resource-tag condition), as the autoscaler's documentation recommends; group ARNs are not known before the node groups exist",
  },
];

interface Finding {
  name: string;
  issue: string;
  detail: string;
}

const PYTHON = (() => {
  const r = spawnSync("bash", [path.join(REPO_ROOT, "scripts", "install-parliament.sh")], {
    encoding: "utf8",
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();
const required = process.env.CI === "true";
if (!PYTHON && !required)
  console.warn("skipping: scripts/install-parliament.sh could not install parliament");

function judge(documents: { name: string; document: string }[]): Finding[] {
  const r = spawnSync(PYTHON as string, [path.join(REPO_ROOT, "scripts", "parliament-judge.py")], {
    input: JSON.stringify(documents),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`parliament failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Finding[];
}

function policyDocuments(run: RunResult): { name: string; kind: string; document: string }[] {
  return run.resources.flatMap((r) => {
    const where = POLICY_INPUTS[r.type];
    const value = where ? r.inputs[where.key] : undefined;
    if (typeof value !== "string") return [];
    return [
      { name: `${r.type.split(":").pop()} ${r.urn.split("::").pop()}`, kind: where!.kind, document: value },
    ];
  });
}

const runs = new Map<string, RunResult>();
beforeAll(async () => {
  if (!PYTHON) return;
  for (const stack of ["staging", "production"]) runs.set(stack, await runStack(stack));
}, 300_000);

describe.skipIf(!PYTHON && !required)("parliament over every policy document", () => {
  it("installs (CI requires it)", () => {
    expect(PYTHON, "scripts/install-parliament.sh").toBeDefined();
  });

  it("names an action scoped to a resource it cannot apply to, and an unknown action", () => {
    const findings = judge([
      {
        name: "broken",
        document: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: "logs:DescribeLogGroups",
              Resource: "arn:aws:logs:eu-west-1:111122223333:log-group:flow-logs",
            },
            { Effect: "Allow", Action: "s3:GetObjekt", Resource: "*" },
          ],
        }),
      },
    ]);
    expect(findings.map((f) => f.issue).sort()).toEqual(["RESOURCE_MISMATCH", "UNKNOWN_ACTION"]);
  });

  for (const stack of ["staging", "production"])
    it(`finds nothing in ${stack}'s documents but its named misreadings`, () => {
      const documents = policyDocuments(runs.get(stack)!);
      expect(documents.length).toBeGreaterThan(15);
      const kinds = new Map(documents.map((d) => [d.name, d.kind]));
      const accepted = (f: Finding) =>
        ACCEPTED_FINDINGS.find(
          (a) =>
            a.issue === f.issue &&
            (a.kind === undefined || a.kind === kinds.get(f.name)) &&
            (a.document === undefined || a.document.test(f.name)) &&
            (a.detail === undefined || a.detail.test(f.detail)),
        );
      const findings = judge(documents);
      expect(findings.filter((f) => !accepted(f)).map((f) => `${f.name}: ${f.issue} ${f.detail}`)).toEqual(
        [],
      );
      // Each exception still matches something: one that matches nothing is stale and goes.
      if (stack === "production")
        expect(
          ACCEPTED_FINDINGS.filter((a) => !findings.some((f) => accepted(f) === a)).map((a) => a.name),
        ).toEqual([]);
    });
});
