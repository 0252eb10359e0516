/**
 * Keeps the FSBP coverage table (policy/fsbp-coverage.ts) true: every rule it names is in the pack,
 * every resource type it names is one the staging and production stacks create, every AWS type the
 * stacks create is accounted for, and every control marked as checked really is: the production
 * stack passes the mapped rules, and the same stack with the one property the control is about
 * broken makes them report that resource.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  FSBP_CONTROLS,
  FSBP_NOT_APPLICABLE,
  TYPES_WITHOUT_CONTROLS,
  type CheckedControl,
} from "../policy/fsbp-coverage";
import { RULES, evaluate, type RuleResource } from "../policy/rules";
import { runStack, toRuleResource } from "./harness";

const STACKS = ["staging", "production"] as const;

let created: Set<string>;
let production: RuleResource[];

beforeAll(async () => {
  created = new Set();
  for (const stack of STACKS) {
    const run = await runStack(stack);
    for (const r of run.resources) if (r.custom && r.type.startsWith("aws:")) created.add(r.type);
    if (stack === "production") production = run.resources.filter((r) => r.custom).map(toRuleResource);
  }
}, 600_000);

const checked = FSBP_CONTROLS.filter((c): c is CheckedControl => c.rules !== null);

describe("the FSBP coverage table", () => {
  it("names only rules of the pack", () => {
    const names = new Set(RULES.map((r) => r.name));
    const unknown = checked.flatMap((c) => c.rules.filter((r) => !names.has(r)).map((r) => `${c.id}: ${r}`));
    expect(unknown).toEqual([]);
  });

  it("lists each control once, with a reason for every unchecked one", () => {
    const ids = [...FSBP_CONTROLS, ...FSBP_NOT_APPLICABLE].map((c) => c.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    for (const c of FSBP_CONTROLS) {
      if (c.rules === null) expect(c.reason.trim(), c.id).not.toBe("");
      else expect(c.rules.length, c.id).toBeGreaterThan(0);
      expect(c.resourceTypes.length, c.id).toBeGreaterThan(0);
    }
  });

  it("names only resource types the stacks create", () => {
    const stale = [
      ...FSBP_CONTROLS.flatMap((c) =>
        c.resourceTypes.filter((t) => !created.has(t)).map((t) => `${c.id}: ${t}`),
      ),
      ...Object.keys(TYPES_WITHOUT_CONTROLS).filter((t) => !created.has(t)),
    ];
    expect(stale).toEqual([]);
  });

  it("accounts for every AWS resource type the stacks create, once", () => {
    const covered = new Set(FSBP_CONTROLS.flatMap((c) => c.resourceTypes));
    const without = new Set(Object.keys(TYPES_WITHOUT_CONTROLS));
    expect([...created].filter((t) => !covered.has(t) && !without.has(t)).sort()).toEqual([]);
    expect([...without].filter((t) => covered.has(t)).sort()).toEqual([]);
  });
});

/** Sets `patch` on the first production resource of `type`; returns the changed stack and that resource. */
function breakFirst(
  resources: RuleResource[],
  type: string,
  patch: (props: Record<string, unknown>) => Record<string, unknown>,
): { resources: RuleResource[]; target: RuleResource } {
  const target = resources.find((r) => r.type === type);
  if (!target) throw new Error(`the production stack has no ${type}`);
  const changed = { ...target, props: patch(structuredClone(target.props)) };
  return { resources: resources.map((r) => (r === target ? changed : r)), target };
}

/** For each control a rule checks: the production stack broken in exactly what the control asks. */
const VIOLATIONS: Record<
  string,
  (rs: RuleResource[]) => { resources: RuleResource[]; target: RuleResource }
> = {
  "EKS.1": (rs) =>
    breakFirst(rs, "aws:eks/cluster:Cluster", (p) => ({
      ...p,
      vpcConfig: {
        ...(p["vpcConfig"] as object),
        endpointPublicAccess: true,
        publicAccessCidrs: ["0.0.0.0/0"],
      },
    })),
  "ElastiCache.1": (rs) =>
    breakFirst(rs, "aws:elasticache/replicationGroup:ReplicationGroup", (p) => ({
      ...p,
      snapshotRetentionLimit: 0,
    })),
  "ElastiCache.3": (rs) =>
    breakFirst(rs, "aws:elasticache/replicationGroup:ReplicationGroup", (p) => ({
      ...p,
      automaticFailoverEnabled: false,
    })),
  "ElastiCache.4": (rs) =>
    breakFirst(rs, "aws:elasticache/replicationGroup:ReplicationGroup", (p) => ({
      ...p,
      atRestEncryptionEnabled: false,
    })),
  "ElastiCache.5": (rs) =>
    breakFirst(rs, "aws:elasticache/replicationGroup:ReplicationGroup", (p) => ({
      ...p,
      transitEncryptionEnabled: false,
    })),
  "ElastiCache.6": (rs) =>
    breakFirst(rs, "aws:elasticache/replicationGroup:ReplicationGroup", (p) => ({
      ...p,
      authToken: undefined,
      userGroupIds: [],
    })),
  "RDS.2": (rs) => breakFirst(rs, "aws:rds/instance:Instance", (p) => ({ ...p, publiclyAccessible: true })),
  "RDS.3": (rs) => breakFirst(rs, "aws:rds/instance:Instance", (p) => ({ ...p, storageEncrypted: false })),
  "RDS.5": (rs) => breakFirst(rs, "aws:rds/instance:Instance", (p) => ({ ...p, multiAz: false })),
  "RDS.8": (rs) => breakFirst(rs, "aws:rds/instance:Instance", (p) => ({ ...p, deletionProtection: false })),
  "RDS.10": (rs) =>
    breakFirst(rs, "aws:rds/instance:Instance", (p) => ({ ...p, iamDatabaseAuthenticationEnabled: false })),
  "RDS.11": (rs) => breakFirst(rs, "aws:rds/instance:Instance", (p) => ({ ...p, backupRetentionPeriod: 0 })),
  "EC2.6": (rs) => {
    const target = rs.find((r) => r.type === "aws:ec2/vpc:Vpc");
    if (!target) throw new Error("the production stack has no VPC");
    return { resources: rs.filter((r) => r.type !== "aws:ec2/flowLog:FlowLog"), target };
  },
  "KMS.4": (rs) => breakFirst(rs, "aws:kms/key:Key", (p) => ({ ...p, enableKeyRotation: false })),
  "SNS.1": (rs) => breakFirst(rs, "aws:sns/topic:Topic", (p) => ({ ...p, kmsMasterKeyId: undefined })),
};

describe("each control marked as checked, broken in the production stack", () => {
  it("has a violation below", () => {
    expect(checked.map((c) => c.id).filter((id) => !(id in VIOLATIONS))).toEqual([]);
  });

  it.each(checked.map((c) => [c.id, c] as const))("%s: the mapped rules report it", (id, control) => {
    const rules = RULES.filter((r) => control.rules.includes(r.name));
    expect(evaluate(production, { stage: "production" }, rules)).toEqual([]);
    const { resources, target } = VIOLATIONS[id]!(production);
    const findings = evaluate(resources, { stage: "production" }, rules);
    expect(findings.filter((f) => f.urn === target.urn).length, id).toBeGreaterThan(0);
  });
});
