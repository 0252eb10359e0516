/**
 * MicroService, asserted from the resources the SDK registers (the mock harness records them at the
 * engine boundary): workload kind, replicas and HPA, disruption budget, probes, pod security,
 * labels, configuration and secrets, network policy, migration and the ordering contract, outputs,
 * Kubernetes schema validity, and the exact message of every rejected argument.
 */
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { onCluster, runProgram, STAND_IN_KUBERNETES, type RecordedResource, type RunResult } from "./harness";
import { validateKubernetesObject } from "./validate";
import { MicroService, singletonAnnotation, type MicroServiceArgs } from "../components/MicroService";
import { PlatformNamespace } from "../components/PlatformNamespace";
import { ComponentArgsError, stableHash } from "../components/lib";

const T = {
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  service: "kubernetes:core/v1:Service",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  namespace: "kubernetes:core/v1:Namespace",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  job: "kubernetes:batch/v1:Job",
  component: "platform:index:MicroService",
} as const;

const SELECTOR = { "app.kubernetes.io/name": "backend-api", "app.kubernetes.io/instance": "backend-api" };
const STANDARD_LABELS = {
  ...SELECTOR,
  "app.kubernetes.io/component": "server",
  "app.kubernetes.io/part-of": "fintech",
  "app.kubernetes.io/managed-by": "pulumi",
  "microservices-platform/platform": "fintech",
  "microservices-platform/stage": "staging",
};
const IMAGE = "ghcr.io/acme-fintech/backend-api:2.3.0";
const DIGEST = `sha256:${"ab12".repeat(16)}`;

/** The fintech backend-api, with every kind of traffic and setting it can declare. */
function backendApi(overrides: Partial<MicroServiceArgs> = {}): MicroServiceArgs {
  return {
    namespace: "fintech",
    platform: "fintech",
    stage: "staging",
    image: IMAGE,
    port: 3000,
    protocol: "http",
    metrics: { enabled: true, port: 9100 },
    health: { readinessPath: "/ready" },
    replicas: { min: 2, max: 4 },
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    env: { NODE_ENV: "production", LOG_LEVEL: "info" },
    secretEnv: {
      JWT_SECRET: { secretName: "fintech-jwt-secret", key: "value" },
      SERVICE_API_KEY: { secretName: "fintech-service-api-key", key: "value" },
    },
    // Endpoints written out, as for services of other stacks (`other.endpoint` within a stack).
    calls: [
      {
        endpoint: { name: "python-risk-engine", namespace: "fintech", port: 8000, protocol: "http" },
        env: "RISK_ENGINE_URL",
      },
      {
        endpoint: { name: "user-service", namespace: "ecommerce", port: 9001, protocol: "grpc" },
        env: "USER_SERVICE_ADDR",
      },
    ],
    callers: ["admin-console"],
    ingressFrom: [
      { namespace: "envoy-gateway-system", port: "service" },
      { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" }, port: "metrics" },
    ],
    egress: [
      { pod: { name: "postgres" }, port: 5432 },
      { cidrs: ["10.20.64.0/19", "10.20.96.0/19"], port: 6379 },
    ],
    migration: { command: ["node", "dist/migrate.js"] },
    ...overrides,
  };
}

/** Runs one MicroService (and whatever `extra` registers first) and returns the run plus its outputs. */
async function render(
  args: MicroServiceArgs,
  setup?: () => pulumi.ComponentResourceOptions,
  name = "backend-api",
): Promise<RunResult> {
  return runProgram(() => {
    const opts = onCluster(setup?.());
    const ms = new MicroService(name, args, opts);
    return {
      serviceName: ms.serviceName,
      namespace: ms.namespace,
      url: ms.url,
      port: ms.port,
      metricsPort: ms.metricsPort,
      metricsPath: ms.metricsPath,
      metricsPortName: ms.metricsPortName,
      selectorLabels: ms.selectorLabels,
      workloadKind: ms.workloadKind,
    };
  });
}

function only(run: RunResult, type: string, name?: string): RecordedResource {
  const found = run.resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${type}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0]!;
}
// Recorded inputs have the shape of the objects' output types (plain values, no Inputs).
type Spec = Record<string, unknown>;
const spec = <S = Spec>(r: RecordedResource): S => (r.inputs as { spec: S }).spec;
const metadata = (r: RecordedResource) => r.inputs.metadata as k8s.types.output.meta.v1.ObjectMeta;
const template = (r: RecordedResource) =>
  spec<{ template: k8s.types.output.core.v1.PodTemplateSpec }>(r).template;
const podSpec = (r: RecordedResource) => template(r).spec;
const mainContainer = (r: RecordedResource) => podSpec(r).containers[0]!;
type PolicySpec = k8s.types.output.networking.v1.NetworkPolicySpec;
const kubernetesObjects = (run: RunResult) =>
  run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));

/** The message a MicroService with these args is rejected with (fails the test if it is accepted). */
function rejection(args: MicroServiceArgs, name = "backend-api"): string {
  try {
    new MicroService(name, args, STAND_IN_KUBERNETES);
  } catch (error) {
    expect(error).toBeInstanceOf(ComponentArgsError);
    return (error as Error).message;
  }
  throw new Error("the args were accepted");
}
const oneProblem = (problem: string, name = "backend-api") =>
  `MicroService "${name}": invalid arguments (1):\n  - ${problem}`;

describe("MicroService workload", () => {
  it("is a Deployment without replicas when an HPA (autoscaling/v2, CPU 70 %, memory 80 %) targets it", async () => {
    const run = await render(backendApi());
    const deployment = only(run, T.deployment);
    expect(deployment.inputs.metadata).toMatchObject({ name: "backend-api", namespace: "fintech" });
    expect("replicas" in spec(deployment)).toBe(false);
    expect(run.resources.some((r) => r.type === T.statefulSet)).toBe(false);
    expect(spec(only(run, T.hpa))).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "backend-api" },
      minReplicas: 2,
      maxReplicas: 4,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
        {
          type: "Resource",
          resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } },
        },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    });
  });

  it("takes HPA targets from autoscaling", async () => {
    const run = await render(backendApi({ autoscaling: { cpuUtilization: 60, memoryUtilization: 75 } }));
    const targets = spec<k8s.types.output.autoscaling.v2.HorizontalPodAutoscalerSpec>(
      only(run, T.hpa),
    ).metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization]);
    expect(targets).toEqual([
      ["cpu", 60],
      ["memory", 75],
    ]);
  });

  it("fixes replicas and creates no HPA when min equals max", async () => {
    const run = await render(backendApi({ replicas: { min: 3, max: 3 } }));
    expect(spec(only(run, T.deployment)).replicas).toBe(3);
    expect(run.resources.some((r) => r.type === T.hpa)).toBe(false);
  });

  it("rolls out with zero downtime: maxUnavailable 0, surge 25 %, a progress deadline, a preStop drain and a grace period", async () => {
    const run = await render(backendApi());
    const s = spec(only(run, T.deployment));
    expect(s.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" },
    });
    expect(s.progressDeadlineSeconds).toBe(600);
    expect(podSpec(only(run, T.deployment)).terminationGracePeriodSeconds).toBe(30);
    expect(mainContainer(only(run, T.deployment)).lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });

    const custom = await render(backendApi({ shutdown: { drainSeconds: 15, gracePeriodSeconds: 60 } }));
    expect(podSpec(only(custom, T.deployment)).terminationGracePeriodSeconds).toBe(60);
    expect(mainContainer(only(custom, T.deployment)).lifecycle.preStop.sleep.seconds).toBe(15);
  });

  it("is a StatefulSet behind a headless Service, with a retained volume per replica and no HPA, when persistence is set", async () => {
    const run = await render(
      backendApi({
        replicas: { min: 1, max: 1 },
        persistence: { size: "10Gi", mountPath: "/data", storageClassName: "gp3" },
        migration: undefined,
        protect: true,
      }),
    );
    expect(run.resources.some((r) => r.type === T.deployment || r.type === T.hpa)).toBe(false);
    const sts = only(run, T.statefulSet);
    const s = spec(sts);
    expect(s.replicas).toBe(1);
    expect(s.serviceName).toBe("backend-api");
    expect(s.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { partition: 0 } });
    expect(s.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(s.volumeClaimTemplates).toEqual([
      {
        metadata: { name: "data", labels: STANDARD_LABELS },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "10Gi" } },
          storageClassName: "gp3",
        },
      },
    ]);
    expect(mainContainer(sts).volumeMounts).toContainEqual({ name: "data", mountPath: "/data" });
    expect(sts.protect).toBe(true);
    expect(sts.retainOnDelete).toBe(true);
    expect(spec(only(run, T.service)).clusterIP).toBe("None");
    expect(run.outputs.workloadKind).toBe("StatefulSet");
  });

  it("does not protect a Deployment even when the stage profile's protect flag is passed", async () => {
    const deployment = only(await render(backendApi({ protect: true })), T.deployment);
    expect(deployment.protect).toBe(false);
    expect(deployment.retainOnDelete).toBe(false);
  });
});

describe("MicroService PodDisruptionBudget", () => {
  it.each([
    [1, 1],
    [2, 4],
    [5, 10],
  ])(
    "with replicas %i-%i allows one voluntary eviction at a time and lets unhealthy pods go",
    async (min, max) => {
      const pdb = only(await render(backendApi({ replicas: { min, max } })), T.pdb);
      expect(spec(pdb)).toEqual({
        selector: { matchLabels: SELECTOR },
        maxUnavailable: 1,
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      });
    },
  );
});

describe("MicroService scheduling", () => {
  const constraints = async (overrides: Partial<MicroServiceArgs>) =>
    podSpec(only(await render(backendApi(overrides)), T.deployment)).topologySpreadConstraints;
  const zoneRule = async (overrides: Partial<MicroServiceArgs>) =>
    (await constraints(overrides))[0]!.whenUnsatisfiable;

  it("spreads across zones (required) and nodes (preferred) when it can have more than one replica", async () => {
    expect(await constraints({})).toEqual([
      {
        topologyKey: "topology.kubernetes.io/zone",
        maxSkew: 1,
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: SELECTOR },
        matchLabelKeys: ["pod-template-hash"],
      },
      {
        topologyKey: "kubernetes.io/hostname",
        maxSkew: 1,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: SELECTOR },
        matchLabelKeys: ["pod-template-hash"],
      },
    ]);
  });

  it("only prefers zone spreading on local (single-zone) clusters, or when told to", async () => {
    expect(await zoneRule({ stage: "local" })).toBe("ScheduleAnyway");
    expect(
      await zoneRule({ stage: "production", replicas: { min: 2, max: 10 }, zoneSpread: "preferred" }),
    ).toBe("ScheduleAnyway");
    expect(await zoneRule({ stage: "production", replicas: { min: 2, max: 10 } })).toBe("DoNotSchedule");
  });

  it("has no spread constraints for a single replica", async () => {
    expect(await constraints({ replicas: { min: 1, max: 1 } })).toBeUndefined();
  });
});

describe("MicroService Service and probes", () => {
  it("exposes named HTTP and metrics ports on a ClusterIP Service selecting the pods", async () => {
    const run = await render(backendApi());
    expect(spec(only(run, T.service))).toEqual({
      type: "ClusterIP",
      selector: SELECTOR,
      ports: [
        { name: "http", port: 3000, targetPort: "http", protocol: "TCP", appProtocol: "http" },
        { name: "metrics", port: 9100, targetPort: "metrics", protocol: "TCP", appProtocol: "http" },
      ],
    });
    expect(mainContainer(only(run, T.deployment)).ports).toEqual([
      { name: "http", containerPort: 3000, protocol: "TCP" },
      { name: "metrics", containerPort: 9100, protocol: "TCP" },
    ]);
  });

  it("scrapes the service port when metrics have no port of their own, and exposes no metrics port when disabled", async () => {
    const shared = await render(backendApi({ metrics: { enabled: true } }));
    expect(
      spec<k8s.types.output.core.v1.ServiceSpec>(only(shared, T.service)).ports.map((p) => p.name),
    ).toEqual(["http"]);
    expect([shared.outputs.metricsPort, shared.outputs.metricsPath, shared.outputs.metricsPortName]).toEqual([
      3000,
      "/metrics",
      "http",
    ]);

    const off = await render(backendApi({ metrics: { enabled: false }, ingressFrom: [] }));
    expect(spec<k8s.types.output.core.v1.ServiceSpec>(only(off, T.service)).ports.map((p) => p.name)).toEqual(
      ["http"],
    );
    expect(off.outputs.metricsPort).toBeUndefined();
    expect(off.outputs.metricsPortName).toBeUndefined();
  });

  it("probes HTTP services on their paths with three distinct probes", async () => {
    const c = mainContainer(
      only(
        await render(
          backendApi({
            health: { livenessPath: "/healthz", readinessPath: "/ready", readiness: { periodSeconds: 3 } },
          }),
        ),
        T.deployment,
      ),
    );
    expect(c.startupProbe).toEqual({
      httpGet: { path: "/healthz", port: "http" },
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: 60,
    });
    expect(c.livenessProbe).toEqual({
      httpGet: { path: "/healthz", port: "http" },
      periodSeconds: 20,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
    expect(c.readinessProbe).toEqual({
      httpGet: { path: "/ready", port: "http" },
      periodSeconds: 3,
      timeoutSeconds: 3,
      failureThreshold: 2,
      successThreshold: 1,
    });
    expect(
      new Set([c.startupProbe, c.livenessProbe, c.readinessProbe].map((p) => JSON.stringify(p))).size,
    ).toBe(3);

    const defaults = mainContainer(only(await render(backendApi({ health: undefined })), T.deployment));
    expect([
      defaults.startupProbe.httpGet.path,
      defaults.livenessProbe.httpGet.path,
      defaults.readinessProbe.httpGet.path,
    ]).toEqual(["/health", "/health", "/health"]);
  });

  it("probes gRPC services with the gRPC health protocol on the service port, and marks the port h2c", async () => {
    const run = await render(
      backendApi({ port: 9004, protocol: "grpc", metrics: { enabled: true, port: 9104 }, health: undefined }),
      undefined,
      "order-service",
    );
    const c = mainContainer(only(run, T.deployment));
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
      expect(probe.grpc).toEqual({ port: 9004 });
      expect(probe.httpGet).toBeUndefined();
    }
    expect(
      new Set([c.startupProbe, c.livenessProbe, c.readinessProbe].map((p) => JSON.stringify(p))).size,
    ).toBe(3);
    expect(spec<k8s.types.output.core.v1.ServiceSpec>(only(run, T.service)).ports[0]).toEqual({
      name: "grpc",
      port: 9004,
      targetPort: "grpc",
      protocol: "TCP",
      appProtocol: "kubernetes.io/h2c",
    });
    expect(run.outputs.url).toBe("order-service.fintech.svc.cluster.local:9004");
  });
});

describe("MicroService pod security", () => {
  it("runs restricted: non-root fixed UID, no escalation, read-only root, no capabilities, RuntimeDefault seccomp, writable emptyDirs", async () => {
    const run = await render(backendApi({ runAsUser: 10001, writablePaths: ["/tmp", "/app/.cache"] }));
    const pod = podSpec(only(run, T.deployment));
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.containers[0]!.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.volumes).toEqual([
      { name: "scratch-0", emptyDir: { sizeLimit: "256Mi" } },
      { name: "scratch-1", emptyDir: { sizeLimit: "256Mi" } },
    ]);
    expect(pod.containers[0]!.volumeMounts).toEqual([
      { name: "scratch-0", mountPath: "/tmp" },
      { name: "scratch-1", mountPath: "/app/.cache" },
    ]);
    expect(pod.enableServiceLinks).toBe(false);
  });

  it("defaults to UID 1000 and /tmp", async () => {
    const pod = podSpec(only(await render(backendApi()), T.deployment));
    expect(pod.securityContext.runAsUser).toBe(1000);
    expect(pod.containers[0]!.securityContext.runAsUser).toBe(1000);
    expect(pod.containers[0]!.volumeMounts).toEqual([{ name: "scratch-0", mountPath: "/tmp" }]);
  });

  it("uses a dedicated ServiceAccount whose token is mounted only when asked for", async () => {
    const run = await render(backendApi());
    const sa = only(run, T.serviceAccount);
    expect(sa.inputs.metadata).toMatchObject({ name: "backend-api", namespace: "fintech" });
    expect(sa.inputs.automountServiceAccountToken).toBe(false);
    expect(podSpec(only(run, T.deployment))).toMatchObject({
      serviceAccountName: "backend-api",
      automountServiceAccountToken: false,
    });

    const withToken = await render(backendApi({ automountServiceAccountToken: true }));
    expect(only(withToken, T.serviceAccount).inputs.automountServiceAccountToken).toBe(true);
    expect(podSpec(only(withToken, T.deployment)).automountServiceAccountToken).toBe(true);
  });

  it("gives every container requests and limits", async () => {
    const run = await render(backendApi());
    for (const r of [only(run, T.deployment), only(run, T.job)]) {
      expect(mainContainer(r).resources).toEqual({
        requests: { cpu: "250m", memory: "256Mi" },
        limits: { cpu: "1", memory: "512Mi" },
      });
    }
  });
});

describe("MicroService labels", () => {
  it("puts the standard labels on every object and selects pods by the selector labels", async () => {
    const run = await render(backendApi());
    const objects = kubernetesObjects(run);
    expect(objects.map((r) => r.type).sort()).toEqual(
      [
        T.configMap,
        T.deployment,
        T.hpa,
        T.job,
        T.networkPolicy,
        T.networkPolicy,
        // one admission per call, in the callee's namespace, labelled as the caller's
        T.networkPolicy,
        T.networkPolicy,
        T.pdb,
        T.service,
        T.serviceAccount,
      ].sort(),
    );
    const migration = {
      ...STANDARD_LABELS,
      "app.kubernetes.io/component": "migration",
      "app.kubernetes.io/instance": "backend-api-migration",
    };
    for (const r of objects)
      expect(metadata(r).labels, r.name).toMatchObject(
        r.name.includes("migrat") ? migration : STANDARD_LABELS,
      );
    expect(template(only(run, T.job)).metadata.labels).toEqual({
      ...migration,
      "app.kubernetes.io/version": "2.3.0",
    });

    const deployment = only(run, T.deployment);
    expect(spec(deployment).selector).toEqual({ matchLabels: SELECTOR });
    expect(template(deployment).metadata.labels).toEqual({
      ...STANDARD_LABELS,
      "app.kubernetes.io/version": "2.3.0",
    });
    expect(metadata(deployment).labels["app.kubernetes.io/version"]).toBe("2.3.0");
    expect(spec(only(run, T.service)).selector).toEqual(SELECTOR);
    expect(spec(only(run, T.networkPolicy, "backend-api-netpol")).podSelector).toEqual({
      matchLabels: SELECTOR,
    });
    // Objects that do not change with the image carry no version, so a release does not touch them.
    expect(metadata(only(run, T.service)).labels["app.kubernetes.io/version"]).toBeUndefined();
  });

  it("labels a digest-pinned image with the digest's first 12 hex digits", async () => {
    const run = await render(backendApi({ image: `ghcr.io/acme-fintech/backend-api@${DIGEST}` }));
    expect(template(only(run, T.deployment)).metadata.labels["app.kubernetes.io/version"]).toBe(
      "ab12ab12ab12",
    );
    expect(mainContainer(only(run, T.deployment)).image).toBe(`ghcr.io/acme-fintech/backend-api@${DIGEST}`);
  });
});

describe("MicroService configuration and secrets", () => {
  it("delivers settings and dependency URLs through a ConfigMap whose checksum rolls the pods", async () => {
    const run = await render(backendApi());
    const configMap = only(run, T.configMap);
    const data = {
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      RISK_ENGINE_URL: "http://python-risk-engine.fintech.svc.cluster.local:8000",
      USER_SERVICE_ADDR: "user-service.ecommerce.svc.cluster.local:9001",
    };
    expect(configMap.inputs.data).toEqual(data);
    expect(configMap.inputs.metadata).toMatchObject({ name: "backend-api-env", namespace: "fintech" });
    const deployment = only(run, T.deployment);
    expect(mainContainer(deployment).envFrom).toEqual([{ configMapRef: { name: "backend-api-env" } }]);
    expect(template(deployment).metadata.annotations["microservices-platform/config-checksum"]).toBe(
      stableHash(data),
    );

    const checksum = async (overrides: Partial<MicroServiceArgs>) =>
      template(only(await render(backendApi(overrides)), T.deployment)).metadata.annotations[
        "microservices-platform/config-checksum"
      ];
    expect(await checksum({ env: { NODE_ENV: "production", LOG_LEVEL: "debug" } })).not.toBe(
      stableHash(data),
    );
    expect(
      await checksum({
        resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
      }),
    ).toBe(stableHash(data));
  });

  it("references secrets only through secretKeyRef, never as a value or in the ConfigMap", async () => {
    const run = await render(backendApi());
    const expected = [
      { name: "JWT_SECRET", valueFrom: { secretKeyRef: { name: "fintech-jwt-secret", key: "value" } } },
      {
        name: "SERVICE_API_KEY",
        valueFrom: { secretKeyRef: { name: "fintech-service-api-key", key: "value" } },
      },
    ];
    for (const r of [only(run, T.deployment), only(run, T.job)]) {
      const env = mainContainer(r).env;
      expect(env).toEqual(expected);
      expect(env.every((e) => !("value" in e))).toBe(true);
    }
    expect(Object.keys(only(run, T.configMap).inputs.data as object)).not.toContain("JWT_SECRET");
  });

  it("makes the workload and the migration wait for a Secret whose name it is given as an Output", async () => {
    const withOutput = await runProgram(() => {
      const secret = new k8s.core.v1.Secret("jwt", {
        metadata: { name: "fintech-jwt-secret", namespace: "fintech" },
        stringData: { value: pulumi.secret("x".repeat(64)) },
      });
      new MicroService(
        "backend-api",
        backendApi({ secretEnv: { JWT_SECRET: { secretName: secret.metadata.name, key: "value" } } }),
        onCluster(),
      );
    });
    const secretUrn = only(withOutput, T.secret).urn;
    expect(only(withOutput, T.deployment).dependencies).toContain(secretUrn);
    expect(only(withOutput, T.job).dependencies).toContain(secretUrn);
    expect(only(withOutput, T.service).dependencies).not.toContain(secretUrn);
    expect(mainContainer(only(withOutput, T.deployment)).env).toEqual([
      { name: "JWT_SECRET", valueFrom: { secretKeyRef: { name: "fintech-jwt-secret", key: "value" } } },
    ]);
  });
});

describe("MicroService NetworkPolicy", () => {
  it("lets in only callers, the gateway and monitoring, and out only DNS, dependencies and data services", async () => {
    const policy = only(await render(backendApi()), T.networkPolicy, "backend-api-netpol");
    const inNamespace = (ns: string) => ({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
    });
    const pods = (name: string) => ({
      podSelector: { matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": name } },
    });
    expect(spec(policy)).toEqual({
      podSelector: { matchLabels: SELECTOR },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [pods("admin-console")], ports: [{ protocol: "TCP", port: 3000 }] },
        { from: [inNamespace("envoy-gateway-system")], ports: [{ protocol: "TCP", port: 3000 }] },
        {
          from: [
            {
              ...inNamespace("monitoring"),
              podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 9100 }],
        },
      ],
      egress: [
        {
          to: [{ ...inNamespace("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
        { to: [pods("python-risk-engine")], ports: [{ protocol: "TCP", port: 8000 }] },
        {
          to: [{ ...pods("user-service"), ...inNamespace("ecommerce") }],
          ports: [{ protocol: "TCP", port: 9001 }],
        },
        { to: [pods("postgres")], ports: [{ protocol: "TCP", port: 5432 }] },
        {
          to: [{ ipBlock: { cidr: "10.20.64.0/19" } }, { ipBlock: { cidr: "10.20.96.0/19" } }],
          ports: [{ protocol: "TCP", port: 6379 }],
        },
      ],
    });
  });

  it("denies all ingress when nothing may call the service, and still allows DNS out", async () => {
    const policy = only(
      await render(backendApi({ callers: [], ingressFrom: [], calls: [], egress: [] })),
      T.networkPolicy,
      "backend-api-netpol",
    );
    expect(spec(policy).policyTypes).toEqual(["Ingress", "Egress"]);
    expect(spec(policy).ingress).toBeUndefined(); // deny all in; an empty list would be dropped by the API server (perpetual diff)
    expect(
      spec<PolicySpec>(policy).egress.map((rule) => rule.ports.map((p) => `${p.protocol}/${String(p.port)}`)),
    ).toEqual([["UDP/53", "TCP/53"]]);
  });
});

describe("MicroService external egress", () => {
  it("opens only the declared ports, to public addresses only, and records the endpoints on the policy", async () => {
    const run = await render(
      backendApi({
        externalEgress: [
          { host: "api.stripe.com", port: 443, reason: "payments" },
          { host: "files.example.com", port: 443, reason: "uploads" },
          { host: "smtp.example.com", port: 587, reason: "mail" },
        ],
        migration: { command: ["migrate"] },
      }),
    );
    const policy = only(run, T.networkPolicy, "backend-api-netpol");
    expect(metadata(policy).annotations).toEqual({
      "microservices-platform/external-egress":
        "api.stripe.com:443,files.example.com:443,smtp.example.com:587",
    });
    expect(spec<PolicySpec>(policy).egress.at(-1)).toEqual({
      to: [
        {
          ipBlock: {
            cidr: "0.0.0.0/0",
            except: [
              "10.0.0.0/8",
              "172.16.0.0/12",
              "192.168.0.0/16",
              "100.64.0.0/10",
              "127.0.0.0/8",
              "169.254.0.0/16",
              "224.0.0.0/3",
            ],
          },
        },
      ],
      ports: [
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: 587 },
      ],
    });
    // The migration Job does not get it.
    const migration = only(run, T.networkPolicy, "backend-api-migration-netpol");
    expect(JSON.stringify(spec(migration))).not.toContain("0.0.0.0/0");
  });

  it("adds nothing when the service declares no endpoint", async () => {
    const policy = only(await render(backendApi()), T.networkPolicy, "backend-api-netpol");
    expect(metadata(policy).annotations).toBeUndefined();
    expect(JSON.stringify(spec(policy))).not.toContain('ipBlock":{"cidr":"0.0.0.0/0');
  });
});

describe("MicroService migration", () => {
  it("runs as a restricted Job named after image and command, before the workload", async () => {
    const run = await render(backendApi());
    const job = only(run, T.job);
    const name = `backend-api-migrate-${stableHash({ image: IMAGE, command: ["node", "dist/migrate.js"] }).slice(0, 8)}`;
    expect(job.inputs.metadata).toMatchObject({ name, namespace: "fintech" });
    const s = spec(job);
    expect(s.backoffLimit).toBe(2);
    expect(s.activeDeadlineSeconds).toBe(900);
    expect("ttlSecondsAfterFinished" in s).toBe(false);
    const pod = podSpec(job);
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.serviceAccountName).toBe("backend-api");
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual(podSpec(only(run, T.deployment)).securityContext);
    const c = mainContainer(job);
    expect(c).toMatchObject({
      image: IMAGE,
      command: ["node", "dist/migrate.js"],
      envFrom: [{ configMapRef: { name: "backend-api-env" } }],
    });
    expect(c.securityContext).toEqual(mainContainer(only(run, T.deployment)).securityContext);
    expect(c.ports).toBeUndefined();
    expect(c.livenessProbe).toBeUndefined();
    expect(only(run, T.deployment).dependencies).toContain(job.urn);

    // Pulumi must wait as long as the Job may run. The harness does not record timeouts, and `transforms`
    // run through engine callbacks that mocks do not serve, so an in-process transformation reads them.
    let timeouts: pulumi.CustomTimeouts | undefined;
    const slow = await render(
      backendApi({ migration: { command: ["node", "dist/migrate.js"], timeoutSeconds: 1800 } }),
      () => ({
        transformations: [
          (a) => {
            if (a.type === T.job) timeouts = a.opts.customTimeouts;
            return undefined;
          },
        ],
      }),
    );
    expect(spec(only(slow, T.job)).activeDeadlineSeconds).toBe(1800);
    expect(timeouts).toEqual({ create: "31m", update: "31m" });
  });

  it("gets a new name (so it runs again) when the image or the command changes, and keeps it otherwise", async () => {
    const jobName = async (overrides: Partial<MicroServiceArgs>) =>
      metadata(only(await render(backendApi(overrides)), T.job)).name;
    const base = await jobName({});
    expect(await jobName({ env: { LOG_LEVEL: "debug" } })).toBe(base);
    expect(await jobName({ image: "ghcr.io/acme-fintech/backend-api:2.4.0" })).not.toBe(base);
    expect(await jobName({ migration: { command: ["node", "dist/migrate.js", "--to", "42"] } })).not.toBe(
      base,
    );
  });

  it("runs outside the Service's selector, with its own policy: no ingress, DNS and data services out", async () => {
    const run = await render(backendApi());
    const podLabels = template(only(run, T.job)).metadata.labels;
    expect(Object.entries(SELECTOR).every(([k, v]) => podLabels[k] === v)).toBe(false);
    const policy = only(run, T.networkPolicy, "backend-api-migration-netpol");
    expect(spec(policy).podSelector).toEqual({
      matchLabels: {
        "app.kubernetes.io/name": "backend-api",
        "app.kubernetes.io/instance": "backend-api-migration",
      },
    });
    expect(
      Object.entries(spec<PolicySpec>(policy).podSelector.matchLabels).every(([k, v]) => podLabels[k] === v),
    ).toBe(true);
    expect(spec(policy).ingress).toBeUndefined();
    expect(spec<PolicySpec>(policy).egress.map((rule) => rule.ports[0]!.port)).toEqual([53, 5432, 6379]);
    expect(only(run, T.job).dependencies).toContain(policy.urn);
  });
});

describe("MicroService ordering contract", () => {
  it("holds back only the migration Job and the workload with the component's dependsOn", async () => {
    const run = await render(backendApi(), () => {
      const external = new k8s.core.v1.ConfigMap("upstream", {
        metadata: { name: "upstream", namespace: "fintech" },
        data: {},
      });
      return { dependsOn: [external] };
    });
    const externalUrn = only(run, T.configMap, "upstream").urn;
    expect(only(run, T.deployment).dependencies).toContain(externalUrn);
    expect(only(run, T.job).dependencies).toContain(externalUrn);
    const component = only(run, T.component);
    expect(component.dependencies).toEqual([]);
    for (const r of kubernetesObjects(run).filter(
      (x) => x.parent === component.urn && x.type !== T.deployment && x.type !== T.job,
    )) {
      expect(r.dependencies, `${r.type} ${r.name}`).not.toContain(externalUrn);
    }
  });

  it("accepts a single resource as dependsOn, and expands a MicroService to its children", async () => {
    const run = await runProgram(() => {
      const risk = new MicroService(
        "python-risk-engine",
        backendApi({ port: 8000, calls: [], callers: [], migration: undefined, secretEnv: {} }),
        onCluster(),
      );
      new MicroService("backend-api", backendApi({ calls: [] }), onCluster({ dependsOn: risk }));
    });
    const riskDeployment = only(run, T.deployment, "python-risk-engine-deploy");
    expect(only(run, T.deployment, "backend-api-deploy").dependencies).toContain(riskDeployment.urn);
    expect(only(run, T.job).dependencies).toContain(riskDeployment.urn);
    expect(only(run, T.service, "backend-api-svc").dependencies).not.toContain(riskDeployment.urn);
  });

  it("makes every child wait for the namespace when given PlatformNamespace.name", async () => {
    const run = await runProgram(() => {
      const ns = new PlatformNamespace("fintech", { platform: "fintech", stage: "staging" }, onCluster());
      // No calls: their admissions live in the callees' namespaces, which they wait for instead.
      new MicroService("backend-api", backendApi({ namespace: ns.name, calls: [] }), onCluster());
    });
    const namespaceUrn = only(run, T.namespace).urn;
    const children = kubernetesObjects(run).filter((r) => r.parent === only(run, T.component).urn);
    expect(children).toHaveLength(9);
    for (const r of children) expect(r.dependencies, `${r.type} ${r.name}`).toContain(namespaceUrn);
  });
});

describe("MicroService outputs", () => {
  it("exports the service name, namespace, in-cluster URL, ports, selector labels and workload kind", async () => {
    const run = await render(backendApi());
    expect(run.outputs).toEqual({
      serviceName: "backend-api",
      namespace: "fintech",
      url: "http://backend-api.fintech.svc.cluster.local:3000",
      port: 3000,
      metricsPort: 9100,
      metricsPath: "/metrics",
      metricsPortName: "metrics",
      selectorLabels: SELECTOR,
      workloadKind: "Deployment",
    });
  });

  it("names Kubernetes objects after serviceName when it differs from the component name", async () => {
    const run = await render(backendApi({ serviceName: "backend-api" }), undefined, "fintech-backend-api");
    expect(only(run, T.deployment, "fintech-backend-api-deploy").inputs.metadata).toMatchObject({
      name: "backend-api",
    });
    expect(run.outputs.url).toBe("http://backend-api.fintech.svc.cluster.local:3000");
  });
});

describe("MicroService objects validate against the Kubernetes API schema", () => {
  it.each<[string, Partial<MicroServiceArgs>]>([
    ["HTTP with HPA, migration and every policy", {}],
    ["gRPC", { port: 9004, protocol: "grpc", metrics: { enabled: true, port: 9104 } }],
    [
      "stateful",
      {
        replicas: { min: 2, max: 2 },
        persistence: { size: "10Gi", mountPath: "/data" },
        metrics: { enabled: false },
        ingressFrom: [],
      },
    ],
    [
      "digest-pinned, single replica, local",
      { image: `ghcr.io/acme/api@${DIGEST}`, replicas: { min: 1, max: 1 }, stage: "local" },
    ],
  ])("%s", async (_label, overrides) => {
    const run = await render(backendApi(overrides));
    const objects = kubernetesObjects(run);
    expect(objects.length).toBeGreaterThanOrEqual(7);
    for (const r of objects) {
      // Recorded inputs carry apiVersion/kind; fall back to the type token for any that do not.
      const [, groupVersion = "", kind = ""] = r.type.split(":");
      const apiVersion = groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
      await validateKubernetesObject({ apiVersion, kind, ...r.inputs });
      expect([r.inputs.apiVersion, r.inputs.kind]).toEqual([apiVersion, kind]);
    }
  });
});

describe("MicroService rejects bad args with every problem listed", () => {
  it.each<[string, Partial<MicroServiceArgs>, string]>([
    [
      "a latest image",
      { image: "ghcr.io/acme/api:latest" },
      'image "ghcr.io/acme/api:latest" is not reproducible; pin a version or a digest',
    ],
    [
      "an empty image",
      { image: "" },
      "image is empty; give a pinned reference such as ghcr.io/acme/api:1.4.2 or ghcr.io/acme/api@sha256:<digest>",
    ],
    [
      "an untagged image",
      { image: "ghcr.io/acme/api" },
      'image "ghcr.io/acme/api" has no tag; pin a version or a digest',
    ],
    [
      "an untagged image on a registry with a port",
      { image: "localhost:5000/api" },
      'image "localhost:5000/api" has no tag; pin a version or a digest',
    ],
    [
      "an empty tag",
      { image: "ghcr.io/acme/api:" },
      'image "ghcr.io/acme/api:" has an empty tag; pin a version or a digest',
    ],
    [
      "a short digest",
      { image: "ghcr.io/acme/api@sha256:abc" },
      'image digest "sha256:abc" is not a sha256 digest of 64 hex digits',
    ],
    ["min > max", { replicas: { min: 3, max: 2 } }, "replicas.min (3) is greater than replicas.max (2)"],
    [
      "production max < 2",
      { stage: "production", replicas: { min: 1, max: 1 } },
      "replicas.max is 1, but production needs at least 2 (one replica cannot survive a node drain or a zone outage)",
    ],
    [
      "requests > limits",
      { resources: { requests: { cpu: "2", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } } },
      "resources: CPU request 2 exceeds its limit 1",
    ],
    [
      "gRPC metrics on the gRPC port",
      { protocol: "grpc", port: 9004, metrics: { enabled: true } },
      "metrics.port must be a separate HTTP port for a gRPC service: Prometheus scrapes over HTTP/1.1, which a gRPC port does not serve (or set metrics.enabled to false)",
    ],
    [
      "a privileged port",
      { port: 80 },
      "port must be a whole number from 1024 to 65535 (the container runs without privileges), found 80",
    ],
    [
      "a credential in env",
      { env: { DB_PASSWORD: "hunter2" } },
      "env.DB_PASSWORD looks like a credential; deliver it through secretEnv (a ConfigMap is not secret)",
    ],
    [
      "a URL with a password in env",
      { env: { DATABASE_URL: "postgres://app:hunter2@db:5432/app" } },
      "env.DATABASE_URL contains a URL with a password; deliver it through secretEnv (a ConfigMap is not secret)",
    ],
    [
      "a variable set twice",
      { env: { JWT_SECRET_TTL: "1h", RISK_ENGINE_URL: "x" } },
      'environment variable RISK_ENGINE_URL is set by both env and calls[0] ("python-risk-engine") env',
    ],
    [
      "an autoscaled StatefulSet",
      { persistence: { size: "10Gi", mountPath: "/data" } },
      "replicas.max (4) is greater than replicas.min (2), but a service with persistence is not autoscaled (scaling in would strand a replica's volume); set them equal",
    ],
    [
      "metrics ingress with metrics off",
      { metrics: { enabled: false } },
      "ingressFrom[1]: allows the metrics port, but metrics are disabled",
    ],
    [
      "a CIDR with host bits",
      { egress: [{ cidrs: ["10.20.64.1/19"], port: 6379 }] },
      'egress[0]: "10.20.64.1/19" has host bits set; the block starts at 10.20.64.0/19',
    ],
    [
      "a drain longer than the grace period",
      { shutdown: { drainSeconds: 30, gracePeriodSeconds: 30 } },
      "shutdown.drainSeconds (30) must be less than shutdown.gracePeriodSeconds (30), or the app never gets SIGTERM in time to finish",
    ],
    [
      "a self-dependency",
      {
        calls: [
          {
            endpoint: { name: "backend-api", namespace: "fintech", port: 3000, protocol: "http" },
            env: "SELF_URL",
          },
        ],
      },
      'calls[0] ("backend-api"): a service cannot call itself',
    ],
    [
      "the same call twice",
      {
        calls: [
          {
            endpoint: { name: "ledger", namespace: "finance", port: 7000, protocol: "http" },
            env: "LEDGER_URL",
          },
          {
            endpoint: { name: "ledger", namespace: "finance", port: 7000, protocol: "http" },
            env: "LEDGER_2_URL",
          },
        ],
      },
      'calls[1] ("ledger"): listed twice',
    ],
    [
      "calls to two services of one name in two namespaces",
      {
        calls: [
          {
            endpoint: { name: "ledger", namespace: "finance", port: 7000, protocol: "http" },
            env: "LEDGER_URL",
          },
          {
            endpoint: { name: "ledger", namespace: "archive", port: 7000, protocol: "http" },
            env: "ARCHIVE_URL",
          },
        ],
      },
      'calls[1] ("ledger"): another call already goes to a service named "ledger"; calls to two services of the same name are not supported (their admission policies would share a name)',
    ],
    ["a relative writable path", { writablePaths: ["tmp"] }, 'writablePaths: "tmp" is not an absolute path'],
    ["a root UID", { runAsUser: 0 }, "runAsUser must be a non-root UID (1 to 2147483647), found 0"],
    [
      "an empty migration command",
      { migration: { command: [] } },
      "migration.command must be a non-empty list of non-empty strings",
    ],
    [
      "an external endpoint that is not a host name",
      { externalEgress: [{ host: "https://api.stripe.com", port: 443, reason: "payments" }] },
      'externalEgress[0].host must be a DNS name such as api.stripe.com, found "https://api.stripe.com"',
    ],
    [
      "an external endpoint without a reason",
      { externalEgress: [{ host: "api.stripe.com", port: 443, reason: " " }] },
      "externalEgress[0].reason must say why the service needs api.stripe.com",
    ],
  ])("%s", (_label, overrides, problem) => {
    expect(rejection(backendApi(overrides))).toBe(oneProblem(problem));
  });

  it("reports every problem at once", () => {
    expect(
      rejection(
        backendApi({ image: "ghcr.io/acme/api:latest", replicas: { min: 5, max: 1 }, stage: "production" }),
        "Bad_Name",
      ),
    ).toBe(
      [
        'MicroService "Bad_Name": invalid arguments (4):',
        '  - service name "Bad_Name" must be a DNS label of at most 40 characters (lowercase letters, digits and "-", starting with a letter)',
        '  - image "ghcr.io/acme/api:latest" is not reproducible; pin a version or a digest',
        "  - replicas.min (5) is greater than replicas.max (1)",
        "  - replicas.max is 1, but production needs at least 2 (one replica cannot survive a node drain or a zone outage)",
      ].join("\n"),
    );
  });

  it("fails the program run, not just the constructor", async () => {
    const attempt = runProgram(
      () => new MicroService("backend-api", backendApi({ image: "ghcr.io/acme/api:latest" }), onCluster()),
    );
    await expect(attempt).rejects.toThrow('image "ghcr.io/acme/api:latest" is not reproducible');
  });
});

describe("MicroService singleton opt-out", () => {
  const store = (overrides: Partial<MicroServiceArgs> = {}) =>
    backendApi({
      stage: "production",
      replicas: { min: 1, max: 1 },
      persistence: { size: "10Gi", mountPath: "/data" },
      ...overrides,
    });

  it("lets a single-writer StatefulSet run one replica in production, and records why", async () => {
    const run = await render(store({ singleton: { reason: "single-node vector store" } }));
    const sts = only(run, "kubernetes:apps/v1:StatefulSet");
    expect(metadata(sts).annotations).toEqual({ [singletonAnnotation()]: "single-node vector store" });
    expect(spec<{ replicas: number }>(sts).replicas).toBe(1);
    expect(run.resources.some((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")).toBe(
      false,
    );
    expect(
      spec<{ maxUnavailable: number }>(only(run, "kubernetes:policy/v1:PodDisruptionBudget")).maxUnavailable,
    ).toBe(1);
  });

  it("without the opt-out, production still refuses a single replica", () => {
    expect(rejection(store())).toBe(
      oneProblem(
        "replicas.max is 1, but production needs at least 2 (one replica cannot survive a node drain or a zone outage)",
      ),
    );
  });

  it("is only for stateful single-replica workloads with a reason", () => {
    expect(
      rejection(
        backendApi({ stage: "production", replicas: { min: 2, max: 4 }, singleton: { reason: "x" } }),
      ),
    ).toBe(
      [
        'MicroService "backend-api": invalid arguments (2):',
        "  - singleton is only for a workload with persistence (a stateless service can always run a second replica)",
        "  - singleton needs replicas { min: 1, max: 1 }, found { min: 2, max: 4 }",
      ].join("\n"),
    );
    expect(rejection(store({ replicas: { min: 2, max: 2 }, singleton: { reason: "x" } }))).toBe(
      oneProblem("singleton needs replicas { min: 1, max: 1 }, found { min: 2, max: 2 }"),
    );
    expect(rejection(store({ singleton: { reason: " " } }))).toBe(
      oneProblem("singleton.reason must say why the workload cannot run a second replica"),
    );
  });
});
