/**
 * The Lambda function that carries AWS notifications (CloudWatch alarm state changes, AWS Backup job
 * events arriving through EventBridge) from the stack's SNS topic to the alert webhook Alertmanager
 * uses, in that receiver's format: Slack's incoming-webhook `{ text }`, or Alertmanager's webhook
 * payload (version 4) for `pagerduty`, whose URL takes exactly what Alertmanager sends it.
 *
 * Why a function and not an SNS `https` subscription to the webhook URL: SNS first posts a
 * SubscriptionConfirmation that the endpoint must confirm by fetching its SubscribeURL, and then
 * posts SNS's own JSON envelope. Neither a Slack incoming webhook nor an Alertmanager-format endpoint
 * does either, so such a subscription would stay "pending confirmation" and deliver nothing.
 *
 * Plain JavaScript for the `nodejs22.x` runtime (global `fetch`), kept as source text so the same
 * bytes are deployed and exercised by the tests (test/aws-alarms.test.ts runs it in a VM).
 */

/** The handler module (`index.js`, export `handler`). Reads WEBHOOK_URL and RECEIVER (`slack`; anything else gets Alertmanager's payload). */
export const ALERT_FORWARDER_SOURCE = `"use strict";
// Generated from components/alert-forwarder.ts: edit it there.
function parse(text) {
  try { return JSON.parse(text); } catch { return undefined; }
}
function toAlert(sns) {
  const m = parse(sns.Message);
  if (m && typeof m.AlarmName === "string") {
    const firing = m.NewStateValue === "ALARM";
    return {
      name: m.AlarmName,
      firing,
      severity: "critical",
      summary: m.AlarmName + " is " + m.NewStateValue,
      description: [m.AlarmDescription, m.NewStateReason].filter(Boolean).join("\\n"),
      startsAt: m.StateChangeTime ? new Date(m.StateChangeTime).toISOString() : sns.Timestamp,
    };
  }
  if (m && m.source === "aws.backup" && m.detail) {
    const d = m.detail;
    return {
      name: "AwsBackupJobFailed",
      firing: true,
      severity: "critical",
      summary: "AWS Backup job " + d.backupJobId + " " + d.state + " (vault " + d.backupVaultName + ")",
      description: [d.resourceArn, d.statusMessage].filter(Boolean).join("\\n"),
      startsAt: m.time || sns.Timestamp,
    };
  }
  return {
    name: "AwsNotification",
    firing: true,
    severity: "warning",
    summary: sns.Subject || "AWS notification",
    description: String(sns.Message),
    startsAt: sns.Timestamp,
  };
}
function body(receiver, alert) {
  const status = alert.firing ? "firing" : "resolved";
  if (receiver === "slack")
    return {
      text: "[" + status.toUpperCase() + "] " + alert.name + " (" + alert.severity + ")\\n" + alert.summary + "\\n" + alert.description,
    };
  const labels = { alertname: alert.name, severity: alert.severity, source: "aws" };
  return {
    version: "4",
    status,
    receiver: "aws-sns",
    groupKey: "aws-sns/" + alert.name,
    truncatedAlerts: 0,
    groupLabels: { alertname: alert.name },
    commonLabels: labels,
    commonAnnotations: { summary: alert.summary, description: alert.description },
    externalURL: "",
    alerts: [
      {
        status,
        labels,
        annotations: { summary: alert.summary, description: alert.description },
        startsAt: alert.startsAt,
        endsAt: alert.firing ? "0001-01-01T00:00:00Z" : new Date().toISOString(),
        generatorURL: "",
        fingerprint: "",
      },
    ],
  };
}
exports.handler = async (event) => {
  const url = process.env.WEBHOOK_URL;
  const receiver = process.env.RECEIVER;
  if (!url) throw new Error("WEBHOOK_URL is not set");
  for (const record of event.Records || []) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body(receiver, toAlert(record.Sns))),
    });
    // A failure throws, so Lambda retries the asynchronous invocation.
    if (!response.ok) throw new Error("webhook answered " + response.status);
  }
};
`;
