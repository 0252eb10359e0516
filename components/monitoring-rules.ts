/**
 * Alerting rules per service, as plain data: the brief's three alerts (error rate, p95 latency,
 * restarts) plus saturation against the container limits. Pure functions, so `promtool check rules`
 * and `promtool test rules` run on exactly what the PrometheusRule objects carry.
 */
import {
  appSelector,
  errorRatioQuery,
  latencyQuantileQuery,
  restartsQuery,
  saturationPerPodQuery,
  type MonitoredService,
} from "./metrics";

/** One alerting rule, in the shape of a Prometheus rule file and the PrometheusRule CRD. */
export interface AlertingRule {
  alert: string;
  expr: string;
  /** How long the condition must hold before the alert fires (absent: fires on first evaluation). */
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: AlertingRule[];
}

export type Severity = "critical" | "warning";

/**
 * The thresholds, in one place. An alert fires when its value is strictly above the threshold for
 * the whole `for` window.
 */
export const ALERT_THRESHOLDS = {
  /** No scrape target of the service answers (all down, or none left) for 2 minutes → critical. */
  down: { above: 0, for: "2m", severity: "critical" },
  /** Server-error share of requests: above 5 % for 5 minutes → critical. */
  errorRatio: { above: 0.05, for: "5m", severity: "critical" },
  /** p95 request latency in seconds: above 2 s for 5 minutes → warning. */
  latencyP95Seconds: { above: 2, for: "5m", severity: "warning" },
  /** Container restarts of the service within one hour: more than 5 → critical. */
  restartsPerHour: { above: 5, window: "1h", severity: "critical" },
  /** Usage as a share of the container limit: above 90 % for 15 minutes → warning. */
  saturation: { above: 0.9, for: "15m", severity: "warning" },
} as const satisfies Record<string, { above: number; severity: Severity; for?: string; window?: string }>;

/** Alert names (stable: Alertmanager routes, silences and inhibitions refer to them). */
export const ALERT_NAMES = {
  down: "ServiceDown",
  errorRatio: "ServiceErrorRateHigh",
  latencyP95: "ServiceLatencyP95High",
  restarts: "ServiceRestartingFrequently",
  cpuSaturation: "ServiceCPUNearLimit",
  memorySaturation: "ServiceMemoryNearLimit",
} as const;

/** Name of a service's rule group (unique per platform and service). */
export function ruleGroupName(s: MonitoredService): string {
  return `${s.platform}.${s.serviceName}`;
}

/** The alerting rules for one service: one group, every rule labelled with its service. */
export function serviceRuleGroups(s: MonitoredService): RuleGroup[] {
  const t = ALERT_THRESHOLDS;
  const labels = (severity: Severity) => ({
    severity,
    platform: s.platform,
    namespace: s.namespace,
    service: s.serviceName,
  });
  const who = `${s.serviceName} (${s.platform}, namespace ${s.namespace})`;
  const percent = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;
  return [
    {
      name: ruleGroupName(s),
      rules: [
        {
          alert: ALERT_NAMES.down,
          // `or vector(0)`: a service with no target left (scaled to zero, every pod gone, or its
          // monitor selecting nothing) is down too, not silently absent.
          expr: `(max(up${appSelector(s)}) or vector(0)) == ${t.down.above}`,
          for: t.down.for,
          labels: labels(t.down.severity),
          annotations: {
            summary: `${s.serviceName}: no instance answers Prometheus' scrapes`,
            description: `Every scrape target of ${who} has been down, or gone, for ${t.down.for}: the service is unreachable or not running.`,
          },
        },
        {
          alert: ALERT_NAMES.errorRatio,
          expr: `${errorRatioQuery(s)} > ${t.errorRatio.above}`,
          for: t.errorRatio.for,
          labels: labels(t.errorRatio.severity),
          annotations: {
            summary: `${s.serviceName}: {{ $value | humanizePercentage }} of requests fail`,
            description: `More than ${percent(t.errorRatio.above)} of the requests to ${who} have ended in server errors for ${t.errorRatio.for}.`,
          },
        },
        {
          alert: ALERT_NAMES.latencyP95,
          expr: `${latencyQuantileQuery(s, 0.95)} > ${t.latencyP95Seconds.above}`,
          for: t.latencyP95Seconds.for,
          labels: labels(t.latencyP95Seconds.severity),
          annotations: {
            summary: `${s.serviceName}: p95 latency is {{ $value | humanizeDuration }}`,
            description: `The 95th percentile of request latency of ${who} has been above ${t.latencyP95Seconds.above}s for ${t.latencyP95Seconds.for}.`,
          },
        },
        {
          alert: ALERT_NAMES.restarts,
          expr: `${restartsQuery(s, t.restartsPerHour.window)} > ${t.restartsPerHour.above}`,
          labels: labels(t.restartsPerHour.severity),
          annotations: {
            summary: `${s.serviceName}: {{ $value | printf "%.0f" }} container restarts in the last hour`,
            description: `The containers of ${who} restarted more than ${t.restartsPerHour.above} times within ${t.restartsPerHour.window} (crash loop, failing liveness probe or OOM kill).`,
          },
        },
        {
          alert: ALERT_NAMES.cpuSaturation,
          expr: `${saturationPerPodQuery(s, "cpu")} > ${t.saturation.above}`,
          for: t.saturation.for,
          labels: labels(t.saturation.severity),
          annotations: {
            summary: `${s.serviceName}: pod {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its CPU limit`,
            description: `A pod of ${who} has used more than ${percent(t.saturation.above)} of its CPU limit for ${t.saturation.for}; it is being throttled. Raise the limit or scale out.`,
          },
        },
        {
          alert: ALERT_NAMES.memorySaturation,
          expr: `${saturationPerPodQuery(s, "memory")} > ${t.saturation.above}`,
          for: t.saturation.for,
          labels: labels(t.saturation.severity),
          annotations: {
            summary: `${s.serviceName}: pod {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit`,
            description: `A pod of ${who} has used more than ${percent(t.saturation.above)} of its memory limit for ${t.saturation.for}; it will be OOM-killed when it reaches the limit.`,
          },
        },
      ],
    },
  ];
}

/** What the rules of a ScheduledJob (a CronJob) need to know of it. */
export interface MonitoredScheduledJob {
  /** The CronJob's name (ScheduledJob's `serviceName`). Example: `"risk-nightly"`. */
  serviceName: string;
  /** Its namespace. Example: `"fintech"`. */
  namespace: string;
  /** Its platform (alert label). Example: `"fintech"`. */
  platform: string;
  /**
   * The CronJob's `startingDeadlineSeconds`: a run that has not started this long after it was due
   * is missed. Default: `300` (ScheduledJob's default). Example: `600`.
   */
  startingDeadlineSeconds?: number;
}

/** Alert names of ScheduledJobs (stable, like `ALERT_NAMES`). */
export const SCHEDULED_JOB_ALERT_NAMES = {
  failed: "ScheduledJobFailed",
  missed: "ScheduledJobMissed",
} as const;

/** Slack beyond the starting deadline before a due run counts as missed: the controller's own resync. */
export const SCHEDULED_JOB_MISSED_SLACK_SECONDS = 60;

/** Severity of a failed scheduled run: the work did not happen, but nothing serving is down. */
export const SCHEDULED_JOB_FAILED_SEVERITY: Severity = "warning";

/**
 * The alerting rules of one ScheduledJob, from kube-state-metrics' Job and CronJob series: a run
 * (a Job the CronJob owns) has failed — run out of retries or past its deadline — and it started
 * after the CronJob's last successful run. So the alert fires on the first evaluation after a run
 * fails, names the run, and resolves by itself when a later run succeeds (failed Jobs stay in the
 * history for inspection, so "a failed Job exists" would fire until someone deleted it).
 */
export function scheduledJobRuleGroups(j: MonitoredScheduledJob): RuleGroup[] {
  const ns = `namespace=${JSON.stringify(j.namespace)}`;
  const cronjob = `${ns}, cronjob=${JSON.stringify(j.serviceName)}`;
  const lateBy = (j.startingDeadlineSeconds ?? 300) + SCHEDULED_JOB_MISSED_SLACK_SECONDS;
  const labels = {
    severity: SCHEDULED_JOB_FAILED_SEVERITY,
    platform: j.platform,
    namespace: j.namespace,
    service: j.serviceName,
  };
  const failedRunStart = [
    `max by (namespace, job_name) (kube_job_status_start_time{${ns}})`,
    `and on (namespace, job_name) (kube_job_failed{${ns}, condition="true"} == 1)`,
    `and on (namespace, job_name) kube_job_owner{${ns}, owner_kind="CronJob", owner_name=${JSON.stringify(j.serviceName)}}`,
  ].join(" ");
  // Never succeeded: the last success counts as the epoch.
  const lastSuccess = `max by (namespace) (kube_cronjob_status_last_successful_time{${ns}, cronjob=${JSON.stringify(j.serviceName)}}) or label_replace(vector(0), "namespace", ${JSON.stringify(j.namespace)}, "", "")`;
  return [
    {
      name: `${j.platform}.${j.serviceName}.scheduled-job`,
      rules: [
        {
          alert: SCHEDULED_JOB_ALERT_NAMES.failed,
          expr: `(${failedRunStart}) > on (namespace) group_left () (${lastSuccess})`,
          labels,
          annotations: {
            summary: `${j.serviceName}: run {{ $labels.job_name }} failed`,
            description: `The scheduled run {{ $labels.job_name }} of ${j.serviceName} (${j.platform}, namespace ${j.namespace}) failed (out of retries or past its deadline), and no run has succeeded since. Its pods' logs are kept with the failed Job.`,
          },
        },
        {
          // kube-state-metrics' next schedule time is the first due time after the last scheduled
          // run: once it lies further back than the starting deadline, a due run never started (the
          // controller was down, or the previous run still held it under Forbid). A suspended
          // CronJob is meant not to run.
          alert: SCHEDULED_JOB_ALERT_NAMES.missed,
          expr: `(time() - max by (namespace, cronjob) (kube_cronjob_next_schedule_time{${cronjob}})) > ${lateBy} and on (namespace, cronjob) (max by (namespace, cronjob) (kube_cronjob_spec_suspend{${cronjob}}) == 0)`,
          labels,
          annotations: {
            summary: `${j.serviceName}: a run due {{ $value | humanizeDuration }} ago has not started`,
            description: `A run of ${j.serviceName} (${j.platform}, namespace ${j.namespace}) was due more than ${lateBy}s ago (its starting deadline plus ${SCHEDULED_JOB_MISSED_SLACK_SECONDS}s) and has not started: it was skipped, because the previous run still ran or the CronJob controller could not start it in time.`,
          },
        },
      ],
    },
  ];
}
