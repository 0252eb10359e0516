/**
 * ScheduledJob: a CronJob hardened like a MicroService, with the same `uses` relation, refusing bad
 * schedules and deadlines before anything is created, and checked by the platform scope like any
 * workload (a store consumer, a name in its namespace).
 */
import { describe, expect, it } from "vitest";
import type * as k8s from "@pulumi/kubernetes";
import { byName, onCluster, runProgram, STAND_IN_KUBERNETES, type RunResult } from "./harness";
import { ScheduledJob, type ScheduledJobArgs } from "../components/ScheduledJob";
import { ManagedPostgres } from "../components/ManagedPostgres";
import { MicroService } from "../components/MicroService";
import { clusterModel, type KubernetesObject } from "../analysis/cluster-model";
import { flowVerdict } from "../analysis/network-policy";
import { renderedDemand } from "../analysis/workloads";
import { validateKubernetesObject } from "./validate";

const ARGS: ScheduledJobArgs = {
  namespace: "trading",
  platform: "trading",
  image: "ghcr.io/acme/risk:2.1.0",
  command: ["python", "-m", "risk.nightly"],
  schedule: "30 2 * * *",
  activeDeadlineSeconds: 3600,
  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  env: { LOG_LEVEL: "info" },
};

describe("ScheduledJob", () => {
  let run: RunResult;
  const get = async () =>
    (run ??= await runProgram(() => {
      const db = new ManagedPostgres(
        "trading-pg",
        {
          backend: "inCluster",
          namespace: "trading",
          consumers: [{ service: "risk-nightly", namespace: "trading", database: "risk" }],
        },
        onCluster(),
      );
      new ScheduledJob("risk-nightly", { ...ARGS, uses: [db] }, onCluster());
    }));
  const cron = async () =>
    byName(await get(), "kubernetes:batch/v1:CronJob", "risk-nightly-cron").inputs as {
      spec: k8s.types.output.batch.v1.CronJobSpec;
    };

  it("is a CronJob that skips overlapping and late runs and bounds each run, by default", async () => {
    const { spec } = await cron();
    expect(spec).toMatchObject({
      schedule: "30 2 * * *",
      concurrencyPolicy: "Forbid",
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      startingDeadlineSeconds: 300,
      jobTemplate: { spec: { activeDeadlineSeconds: 3600, backoffLimit: 2 } },
    });
    await validateKubernetesObject({
      apiVersion: "batch/v1",
      kind: "CronJob",
      ...(byName(await get(), "kubernetes:batch/v1:CronJob", "risk-nightly-cron").inputs as object),
    });
  });

  it("runs hardened like a Deployment: non-root, read-only root, no capabilities, no API token", async () => {
    const pod = (await cron()).spec.jobTemplate.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.containers[0]!.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.containers[0]!.resources).toEqual(ARGS.resources);
  });

  it("gets its own connection Secret, waits for the store's ready, and reaches only the store and DNS", async () => {
    const r = await get();
    const container = (await cron()).spec.jobTemplate.spec.template.spec.containers[0]!;
    expect(container.env).toContainEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "risk-nightly-trading-pg", key: "DATABASE_URL" } },
    });
    const cronJob = byName(r, "kubernetes:batch/v1:CronJob", "risk-nightly-cron");
    expect(cronJob.dependencies).toContain(byName(r, "kubernetes:batch/v1:Job", "trading-pg-bootstrap").urn);
    expect(cronJob.dependencies).toContain(
      byName(r, "kubernetes:core/v1:Secret", "trading-pg-risk-nightly-connection").urn,
    );
    // The connectivity model over the rendered objects: the job's pods reach the database, nothing reaches them.
    const objects = r.resources
      .filter((x) => x.type.startsWith("kubernetes:") && !x.type.startsWith("kubernetes:helm"))
      .map((x) => x.inputs as KubernetesObject);
    const model = clusterModel(objects);
    const pods = model.pods.map((p) => p.id);
    expect(pods).toContain("trading/risk-nightly");
    const job = model.pods.find((p) => p.id === "trading/risk-nightly")!;
    const db = model.pods.find((p) => p.id === "trading/trading-pg")!;
    expect(flowVerdict(model, { pod: job }, { pod: db }, 5432)).toEqual({ allowed: true });
    expect(flowVerdict(model, { pod: db }, { pod: job }, 8080).allowed).toBe(false);
    // The capacity model counts its run as a Job pod in the namespace, with its requests.
    expect(renderedDemand(objects).find((d) => d.id === "trading/risk-nightly")).toEqual({
      id: "trading/risk-nightly",
      namespace: "trading",
      kind: "Job",
      requests: { cpu: 250, memory: 256 * 2 ** 20 },
      limits: { cpu: 1000, memory: 2 ** 30 },
      replicas: { min: 1, max: 1 },
      surge: { min: 0, max: 0 },
    });
  });

  it("refuses a bad schedule, deadline and policy at once, before anything is created", () => {
    expect(
      () =>
        new ScheduledJob(
          "risk-nightly",
          {
            ...ARGS,
            schedule: "every night",
            activeDeadlineSeconds: 0,
            concurrencyPolicy: "Never" as "Forbid",
            history: { failed: -1 },
          },
          STAND_IN_KUBERNETES,
        ),
    ).toThrow(
      'ScheduledJob "risk-nightly": invalid arguments (4):\n' +
        '  - schedule must be a cron expression of five fields such as "30 2 * * *", found "every night"\n' +
        '  - concurrencyPolicy must be "Forbid", "Replace" or "Allow", found "Never"\n' +
        "  - activeDeadlineSeconds must be a whole number from 60 to 86400, found 0\n" +
        "  - history.failed must be a whole number from 0 to 100, found -1",
    );
  });

  it("counts as a workload for the platform scope: a store consumer, and a name in its namespace", async () => {
    const error = await runProgram(() => {
      new MicroService(
        "risk-nightly",
        {
          namespace: "trading",
          image: "ghcr.io/acme/risk:2.1.0",
          port: 8080,
          protocol: "http",
          replicas: { min: 1, max: 1 },
          resources: ARGS.resources,
        },
        onCluster(),
      );
      new ScheduledJob("nightly", { ...ARGS, serviceName: "risk-nightly" }, onCluster());
    }).catch((e: unknown) => e as Error);
    expect((error as Error).message).toContain(
      'ScheduledJob "nightly": invalid arguments (1):\n  - serviceName "risk-nightly" is already used in namespace "trading" by MicroService "risk-nightly"',
    );
  });
});
