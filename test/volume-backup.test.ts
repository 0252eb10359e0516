/**
 * VolumeBackup: the AWS Backup vault, plan and selection, and the relation that makes it work — the
 * selection picks exactly the tag the cluster's StorageClass puts on every volume it provisions.
 */
import { describe, expect, it } from "vitest";
import { VolumeBackup } from "../components/VolumeBackup";
import { argsErrorMessage, thrownMessage } from "./dataServiceChecks";
import { byType, reveal, runProgram, runStack, type RunResult } from "./harness";

const one = (r: RunResult, type: string) => {
  const found = byType(r, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
type Selection = { resources: string[]; selectionTags: { type: string; key: string; value: string }[] };
/** The `key=value` tags an EBS CSI StorageClass puts on its volumes (`tagSpecification_N` parameters). */
const storageClassVolumeTags = (r: RunResult): string[] =>
  Object.entries(
    one(r, "kubernetes:storage.k8s.io/v1:StorageClass").inputs.parameters as Record<string, string>,
  )
    .filter(([k]) => /^tagSpecification_[0-9]+$/.test(k))
    .map(([, v]) => v);

describe("VolumeBackup", () => {
  it("keeps daily recovery points for the retention in a vault encrypted with its own key", async () => {
    const r = await runProgram(
      () => new VolumeBackup("vb", { retentionDays: 30, protect: true, tags: { owner: "t" } }),
    );
    const key = one(r, "aws:kms/key:Key");
    const vault = one(r, "aws:backup/vault:Vault");
    expect(vault.inputs.kmsKeyArn).toBe(key.state.arn);
    expect(vault.inputs.forceDestroy).toBe(false);
    const [rule] = one(r, "aws:backup/plan:Plan").inputs.rules as {
      targetVaultName: string;
      schedule: string;
      lifecycle: { deleteAfter: number };
    }[];
    expect(rule!.targetVaultName).toBe(vault.state.name);
    expect(rule!.lifecycle.deleteAfter).toBe(30);
    expect(rule!.schedule).toBe("cron(0 3 * * ? *)");
    // The recovery points die with the vault and the key: both protected.
    expect([key.protect, key.retainOnDelete, vault.protect, vault.retainOnDelete]).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it("locks the vault: nothing deleted before the plan's retention, in compliance mode when protected", async () => {
    const locked = await runProgram(() => new VolumeBackup("vb", { retentionDays: 30, protect: true }));
    const vault = one(locked, "aws:backup/vault:Vault");
    const plan = one(locked, "aws:backup/plan:Plan").inputs.rules as { lifecycle: { deleteAfter: number } }[];
    const lock = one(locked, "aws:backup/vaultLockConfiguration:VaultLockConfiguration");
    expect(lock.inputs).toEqual({
      backupVaultName: vault.state.name,
      minRetentionDays: 30,
      maxRetentionDays: 365,
      changeableForDays: 3,
    });
    // The plan's recovery points fit the lock, or AWS Backup would fail every job.
    const deleteAfter = plan[0]!.lifecycle.deleteAfter;
    expect(deleteAfter).toBeGreaterThanOrEqual(lock.inputs.minRetentionDays as number);
    expect(deleteAfter).toBeLessThanOrEqual(lock.inputs.maxRetentionDays as number);
    expect([lock.protect, lock.retainOnDelete]).toEqual([true, true]);

    // Unprotected (staging): governance mode, which a privileged principal can lift.
    const governed = await runProgram(() => new VolumeBackup("vb", { retentionDays: 7 }));
    expect(one(governed, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").inputs).toEqual({
      backupVaultName: one(governed, "aws:backup/vault:Vault").state.name,
      minRetentionDays: 7,
      maxRetentionDays: 365,
    });
  });

  it("selects only EBS volumes with the platform's backup tag, through a role only AWS Backup can assume", async () => {
    const r = await runProgram(() => new VolumeBackup("vb", {}));
    const selection = one(r, "aws:backup/selection:Selection");
    const role = one(r, "aws:iam/role:Role");
    expect(selection.inputs.iamRoleArn).toBe(role.state.arn);
    const sel = reveal(selection.inputs) as Selection;
    expect(sel.resources).toEqual(["arn:*:ec2:*:*:volume/*"]);
    expect(sel.selectionTags).toEqual([
      { type: "STRINGEQUALS", key: "microservices-platform/backup", value: "aws-backup" },
    ]);
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as { Statement: { Principal: unknown }[] };
    expect(trust.Statement.map((s) => s.Principal)).toEqual([{ Service: "backup.amazonaws.com" }]);
    // For this account only (confused deputy).
    expect(trust.Statement.map((s) => (s as { Condition?: unknown }).Condition)).toEqual([
      { StringEquals: { "aws:SourceAccount": "123456789012" } },
    ]);
    expect(
      byType(r, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        .map((a) => String(a.inputs.policyArn))
        .sort(),
    ).toEqual([
      "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
      "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    ]);
  });

  it("rejects a retention and a schedule AWS Backup would refuse, together", () => {
    expect(thrownMessage(() => new VolumeBackup("vb", { retentionDays: 0, schedule: "0 3 * * *" }))).toBe(
      argsErrorMessage("VolumeBackup", "vb", [
        "retentionDays: expected a whole number of days from 1 to 36500, found 0",
        'schedule: expected an AWS Backup cron expression such as "cron(0 3 * * ? *)", found "0 3 * * *"',
      ]),
    );
  });
});

describe("the stacks: every volume the StorageClass provisions is selected by the backup plan", () => {
  it.each([
    ["staging", 7],
    ["production", 30],
  ] as const)("%s keeps volume recovery points for %i days", async (stack, days) => {
    const r = await runStack(stack);
    const sel = reveal(one(r, "aws:backup/selection:Selection").inputs) as Selection;
    const selected = sel.selectionTags.map((t) => `${t.key}=${t.value}`);
    // Every tag the selection requires is one the StorageClass sets: provisioned volumes match.
    expect(selected.length).toBeGreaterThan(0);
    for (const tag of selected) expect(storageClassVolumeTags(r)).toContain(tag);
    const [rule] = one(r, "aws:backup/plan:Plan").inputs.rules as { lifecycle: { deleteAfter: number } }[];
    expect(rule!.lifecycle.deleteAfter).toBe(days);
    expect(reveal(r.outputs.platform)).toMatchObject({
      volumeBackupVault: expect.stringMatching(/^volume-backup-vault/),
    });
  });

  it("the local stack has no AWS Backup (no AWS account)", async () => {
    const r = await runStack("local");
    expect(byType(r, "aws:backup/plan:Plan")).toEqual([]);
  });
});
