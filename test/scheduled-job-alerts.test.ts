/**
 * The ScheduledJob alert, checked by Prometheus' own tool: `promtool check rules`, and `promtool test
 * rules` on kube-state-metrics' series: `ScheduledJobFailed` fires when a run fails after the last
 * success (or before any), names the run, and stays silent once a later run succeeded, for a run that
 * succeeded, and for another CronJob's failed run; `ScheduledJobMissed` fires when a due run has not
 * started within the starting deadline, and not for a suspended CronJob.
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
const rule = groups[0]!.rules.find((r) => r.alert === SCHEDULED_JOB_ALERT_NAMES.failed)!;
const missed = groups[0]!.rules.find((r) => r.alert === SCHEDULED_JOB_ALERT_NAMES.missed)!;

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
    expect(result.output).toMatch(/SUCCESS: 2 rules found/);
    expect(missed.labels).toEqual(rule.labels);
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

describe("ScheduledJobMissed", () => {
  // Evaluated at 20 minutes (1200 s): the default starting deadline (300 s) plus 60 s of slack is 360 s.
  const cronjob = (nextScheduleAt: number, suspended = false) => [
    {
      series: series("kube_cronjob_next_schedule_time", { namespace: "fintech", cronjob: "risk-nightly" }),
      values: `${nextScheduleAt}x30`,
    },
    {
      series: series("kube_cronjob_spec_suspend", { namespace: "fintech", cronjob: "risk-nightly" }),
      values: `${suspended ? 1 : 0}x30`,
    },
  ];
  const firing = [
    {
      exp_labels: { ...missed.labels, cronjob: "risk-nightly" },
      exp_annotations: {
        summary: "risk-nightly: a run due 7m 0s ago has not started",
        description: missed.annotations.description,
      },
    },
  ];
  const cases = [
    {
      title: "fires when a due run is later than the starting deadline",
      inputs: cronjob(780),
      expected: firing,
    },
    { title: "is silent within the starting deadline", inputs: cronjob(900), expected: [] },
    { title: "is silent for a suspended CronJob", inputs: cronjob(0, true), expected: [] },
    { title: "is silent when the next run is still ahead", inputs: cronjob(5000), expected: [] },
  ];
  it.each(cases.map((c) => [c.title, c] as const))("%s", (_title, c) => {
    tool.writeRules("rules.yaml", groups);
    const result = tool.testAlert(`missed-${cases.indexOf(c)}.yaml`, "rules.yaml", {
      inputs: c.inputs,
      evalTime: "20m",
      alert: missed.alert,
      expected: c.expected,
    });
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS/);
  });

  it("follows the CronJob's own starting deadline", () => {
    const late = scheduledJobRuleGroups({ ...JOB, startingDeadlineSeconds: 900 })[0]!.rules.find(
      (r) => r.alert === SCHEDULED_JOB_ALERT_NAMES.missed,
    )!;
    expect(late.expr).toContain("> 960 and on");
  });
});
