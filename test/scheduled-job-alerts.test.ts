/**
 * The ScheduledJob alert, checked by Prometheus' own tool: `promtool check rules`, and `promtool test
 * rules` on kube-state-metrics' series: it fires when a run fails after the last success (or before
 * any), names the run, and stays silent once a later run succeeded, for a run that succeeded, and for
 * another CronJob's failed run.
 */
import { describe, expect, it } from "vitest";
import {
  SCHEDULED_JOB_ALERT_NAMES,
  scheduledJobRuleGroups,
  type MonitoredScheduledJob,
} from "../components/monitoring-rules";
import { series, usePromtool } from "./promtool";

const tool = usePromtool("job-alerts-");
const JOB: MonitoredScheduledJob = { serviceName: "risk-nightly", namespace: "fintech", platform: "fintech" };
const RUN = "risk-nightly-29410530";
const groups = scheduledJobRuleGroups(JOB);
const rule = groups[0]!.rules[0]!;

/** kube-state-metrics' series of one Job run: its start time, whether it failed, its owner. */
function run(opts: { name?: string; owner?: string; startedAt: number; failed: boolean }) {
  const labels = { namespace: "fintech", job_name: opts.name ?? RUN };
  return [
    { series: series("kube_job_status_start_time", labels), values: `${opts.startedAt}x10` },
    {
      series: series("kube_job_failed", { ...labels, condition: "true" }),
      values: `${opts.failed ? 1 : 0}x10`,
    },
    {
      series: series("kube_job_failed", { ...labels, condition: "false" }),
      values: `${opts.failed ? 0 : 1}x10`,
    },
    {
      series: series("kube_job_owner", {
        ...labels,
        owner_kind: "CronJob",
        owner_name: opts.owner ?? "risk-nightly",
        owner_is_controller: "true",
      }),
      values: "1x10",
    },
  ];
}
const lastSuccess = (at: number, cronjob = "risk-nightly") => ({
  series: series("kube_cronjob_status_last_successful_time", { namespace: "fintech", cronjob }),
  values: `${at}x10`,
});
const fired = (jobName: string) => [
  {
    exp_labels: { ...rule.labels, job_name: jobName },
    exp_annotations: {
      summary: `risk-nightly: run ${jobName} failed`,
      description: rule.annotations.description!.replace("{{ $labels.job_name }}", jobName),
    },
  },
];

describe("ScheduledJobFailed", () => {
  it("is a valid rule group, labelled like the service alerts", () => {
    const file = tool.writeRules("check.yaml", groups);
    const result = tool.run(["check", "rules", file]);
    expect(result.output).toMatch(/SUCCESS: 1 rules found/);
    expect(rule.alert).toBe(SCHEDULED_JOB_ALERT_NAMES.failed);
    expect(rule.labels).toEqual({
      severity: "warning",
      platform: "fintech",
      namespace: "fintech",
      service: "risk-nightly",
    });
  });

  const cases = [
    {
      title: "fires for a run that failed after the last success, naming the run",
      inputs: [...run({ startedAt: 7200, failed: true }), lastSuccess(3600)],
      expected: fired(RUN),
    },
    {
      title: "fires for a failed run of a CronJob that never succeeded",
      inputs: run({ startedAt: 7200, failed: true }),
      expected: fired(RUN),
    },
    {
      title: "is silent once a later run has succeeded (the failed Job stays in the history)",
      inputs: [...run({ startedAt: 7200, failed: true }), lastSuccess(10800)],
      expected: [],
    },
    {
      title: "is silent for a run that succeeded",
      inputs: [...run({ startedAt: 7200, failed: false }), lastSuccess(3600)],
      expected: [],
    },
    {
      title: "is silent for another CronJob's failed run",
      inputs: [...run({ name: "report-29410530", owner: "report", startedAt: 7200, failed: true })],
      expected: [],
    },
  ];

  it.each(cases.map((c) => [c.title, c] as const))("%s", (_title, c) => {
    tool.writeRules("rules.yaml", groups);
    const result = tool.testAlert(`test-${cases.indexOf(c)}.yaml`, "rules.yaml", {
      inputs: c.inputs,
      evalTime: "5m",
      alert: rule.alert,
      expected: c.expected,
    });
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS/);
  });

  it("a wrong expectation fails (the unit tests can fail)", () => {
    tool.writeRules("rules.yaml", groups);
    const result = tool.testAlert("negative.yaml", "rules.yaml", {
      inputs: [...run({ startedAt: 7200, failed: true }), lastSuccess(3600)],
      evalTime: "5m",
      alert: rule.alert,
      expected: [],
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/FAILED/);
  });
});
