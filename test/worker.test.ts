/**
 * Worker: a workload without a serving port, built by MicroService's own steps. Health by command or
 * on the metrics port; a metrics-only Service; nothing admitted but the scrapes; never callable;
 * a singleton that needs no volume; queue-depth scaling through KEDA, judged by KEDA's own CRDs.
 */
import { describe, expect, it } from "vitest";
import * as k8s from "@pulumi/kubernetes";
import { byName, byType, onCluster, runProgram, STAND_IN_KUBERNETES, type RunResult } from "./harness";
import { Worker, type WorkerArgs } from "../components/Worker";
import { MicroService, singletonAnnotation } from "../components/MicroService";
import { MessageBroker } from "../components/MessageBroker";
import { ManagedPostgres } from "../components/ManagedPostgres";
import { PlatformNamespace } from "../components/PlatformNamespace";
import { clusterModel, type KubernetesObject } from "../analysis/cluster-model";
import { flowVerdict } from "../analysis/network-policy";
import { renderedDemand } from "../analysis/workloads";
import { PROMETHEUS } from "../analysis/intent";
import { ObservabilityStack } from "../components/ObservabilityStack";
import { selectorLabels } from "../components/lib";
import { CHART_VERSIONS } from "../config/settings";
import { validateKubernetesObject } from "./validate";

const RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
const BASE: WorkerArgs = {
  namespace: "ecommerce",
  platform: "ecommerce",
  image: "ghcr.io/acme-shop/notification-worker:1.0.0",
  replicas: { min: 2, max: 8 },
  resources: RESOURCES,
  env: { LOG_LEVEL: "info" },
};
const MONITORING = { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } };

const objectsOf = (r: RunResult): KubernetesObject[] =>
  r.resources
    .filter((x) => x.type.startsWith("kubernetes:") && !x.type.startsWith("kubernetes:helm"))
    .map((x) => x.inputs as KubernetesObject);
type PodSpec = k8s.types.output.core.v1.PodSpec;
const podSpec = (r: RunResult, type: string, name: string) =>
  (byName(r, type, name).inputs as { spec: { template: { spec: PodSpec } } }).spec.template.spec;

describe("Worker: a queue consumer with a metrics port, scaled on its queue's depth", () => {
  let run: RunResult;
  const get = async () =>
    (run ??= await runProgram(() => {
      const broker = new MessageBroker(
        "ecommerce-mq",
        {
          backend: "inCluster",
          namespace: "ecommerce",
          exchanges: ["ecommerce_events"],
          consumers: [{ service: "notification-worker", namespace: "ecommerce" }],
          storageSize: "1Gi",
        },
        onCluster(),
      );
      // A MicroService of the same program and namespace, for the hardening and reachability
      // comparisons, and for the worker to call.
      const orders = new MicroService(
        "order-service",
        {
          namespace: "ecommerce",
          platform: "ecommerce",
          image: "ghcr.io/acme-shop/order-service:1.0.0",
          port: 9004,
          protocol: "grpc",
          metrics: { enabled: true, port: 9104 },
          replicas: { min: 2, max: 4 },
          resources: RESOURCES,
        },
        onCluster(),
      );
      new Worker(
        "notification-worker",
        {
          ...BASE,
          metrics: { port: 9106 },
          ingressFrom: [MONITORING],
          uses: [broker],
          calls: [{ endpoint: orders.endpoint, env: "ORDER_SERVICE_ADDR" }],
          autoscaling: { queue: { broker, queueName: "notifications", messagesPerReplica: 50 } },
        },
        onCluster(),
      );
    }));

  it("is a Deployment hardened exactly as a MicroService's, with no serving port and probes on the metrics port", async () => {
    const r = await get();
    // Its workload waits for its callee's, as a MicroService's does.
    expect(byName(r, "kubernetes:apps/v1:Deployment", "notification-worker-deploy").dependencies).toContain(
      byName(r, "kubernetes:apps/v1:Deployment", "order-service-deploy").urn,
    );
    const worker = podSpec(r, "kubernetes:apps/v1:Deployment", "notification-worker-deploy");
    const service = podSpec(r, "kubernetes:apps/v1:Deployment", "order-service-deploy");
    expect(worker.securityContext).toEqual(service.securityContext);
    expect(worker.automountServiceAccountToken).toBe(false);
    const [c] = worker.containers;
    expect(c!.securityContext).toEqual(service.containers[0]!.securityContext);
    expect(c!.ports).toEqual([{ name: "metrics", containerPort: 9106, protocol: "TCP" }]);
    for (const probe of [c!.startupProbe, c!.livenessProbe, c!.readinessProbe])
      expect(probe.httpGet).toEqual({ path: "/health", port: "metrics" });
    const deployment = byName(r, "kubernetes:apps/v1:Deployment", "notification-worker-deploy").inputs as {
      metadata: { labels: Record<string, string> };
      spec: k8s.types.output.apps.v1.DeploymentSpec;
    };
    expect(deployment.metadata.labels["app.kubernetes.io/component"]).toBe("worker");
    expect(deployment.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" },
    });
    // KEDA owns the replica count: none on the Deployment, and no HPA of ours beside KEDA's.
    expect(deployment.spec.replicas).toBeUndefined();
    expect(byType(r, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").map((h) => h.name)).toEqual([
      "order-service-hpa",
    ]);
    await validateKubernetesObject(deployment);
  });

  it("gets only a metrics Service, named so nobody mistakes it for an address to call", async () => {
    const r = await get();
    const svc = byName(r, "kubernetes:core/v1:Service", "notification-worker-svc").inputs as {
      metadata: { name: string };
      spec: { ports: unknown[] };
    };
    expect(svc.metadata.name).toBe("notification-worker-metrics");
    expect(svc.spec.ports).toEqual([
      { name: "metrics", port: 9106, targetPort: "metrics", protocol: "TCP", appProtocol: "http" },
    ]);
  });

  it("admits KEDA's operator to the in-cluster broker on its AMQP port, and nothing else of its namespace", async () => {
    const keda = {
      id: "keda/keda-operator",
      namespace: "keda",
      labels: { "app.kubernetes.io/name": "keda-operator" },
      ports: [],
      kind: "chart" as const,
    };
    const other = {
      ...keda,
      id: "keda/keda-metrics-apiserver",
      labels: { "app.kubernetes.io/name": "keda-metrics-apiserver" },
    };
    const model = clusterModel(objectsOf(await get()), [keda, other]);
    const broker = { pod: model.pods.find((p) => p.id === "ecommerce/ecommerce-mq")! };
    expect(flowVerdict(model, { pod: keda }, broker, 5672)).toEqual({ allowed: true });
    expect(flowVerdict(model, { pod: keda }, broker, 15672).allowed).toBe(false);
    expect(flowVerdict(model, { pod: other }, broker, 5672).allowed).toBe(false);
  });

  it("reaches its broker and its callee; nothing reaches it but Prometheus on the metrics port", async () => {
    const model = clusterModel(objectsOf(await get()), [PROMETHEUS]);
    const pod = (id: string) => ({ pod: model.pods.find((p) => p.id === id)! });
    const worker = pod("ecommerce/notification-worker");
    expect(flowVerdict(model, worker, pod("ecommerce/ecommerce-mq"), 5672)).toEqual({ allowed: true });
    expect(flowVerdict(model, pod("monitoring/prometheus"), worker, 9106)).toEqual({ allowed: true });
    for (const port of [9106, 8080, 9004])
      expect(flowVerdict(model, pod("ecommerce/order-service"), worker, port).allowed).toBe(false);
    // It calls like any service: its egress and the callee's admission follow from `calls`.
    expect(flowVerdict(model, worker, pod("ecommerce/order-service"), 9004)).toEqual({ allowed: true });
    expect(flowVerdict(model, worker, pod("ecommerce/order-service"), 9104).allowed).toBe(false);
    expect(flowVerdict(model, pod("monitoring/prometheus"), worker, 8080).allowed).toBe(false);
  });

  it("scales on queue depth through a ScaledObject valid against KEDA's CRD, authenticated by its own Secret", async () => {
    const r = await get();
    const scaled = byName(r, "kubernetes:keda.sh/v1alpha1:ScaledObject", "notification-worker-scaledobject")
      .inputs as Record<string, unknown> & { spec: Record<string, unknown> };
    const auth = byName(
      r,
      "kubernetes:keda.sh/v1alpha1:TriggerAuthentication",
      "notification-worker-trigger-auth",
    ).inputs as Record<string, unknown> & { spec: Record<string, unknown> };
    await validateKubernetesObject(scaled);
    await validateKubernetesObject(auth);
    expect(scaled.spec).toMatchObject({
      scaleTargetRef: { kind: "Deployment", name: "notification-worker" },
      minReplicaCount: 2,
      maxReplicaCount: 8,
    });
    expect(scaled.spec.triggers).toEqual([
      {
        type: "rabbitmq",
        metadata: { protocol: "amqp", mode: "QueueLength", value: "50", queueName: "notifications" },
        authenticationRef: { name: "notification-worker-queue" },
      },
      { type: "cpu", metricType: "Utilization", metadata: { value: "70" } },
      { type: "memory", metricType: "Utilization", metadata: { value: "80" } },
    ]);
    // The broker URL (with its password) is read from the consumer's own connection Secret, never written here.
    const secret = byName(r, "kubernetes:core/v1:Secret", "ecommerce-mq-notification-worker-connection")
      .inputs as { metadata: { name: string } };
    expect(auth.spec).toEqual({
      secretTargetRef: [{ parameter: "host", name: secret.metadata.name, key: "RABBITMQ_URL" }],
    });
    // The capacity model sizes it by the ScaledObject's range, with the rollout's surge.
    expect(renderedDemand(objectsOf(r)).find((d) => d.id === "ecommerce/notification-worker")).toMatchObject({
      kind: "Deployment",
      replicas: { min: 2, max: 8 },
      surge: { min: 1, max: 2 },
    });
  });

  it("a ScaledObject that breaks KEDA's CRD is refused by the validator (the check can fail)", async () => {
    const r = await get();
    const scaled = byName(r, "kubernetes:keda.sh/v1alpha1:ScaledObject", "notification-worker-scaledobject")
      .inputs as Record<string, unknown> & { spec: Record<string, unknown> };
    await expect(
      validateKubernetesObject({ ...scaled, spec: { ...scaled.spec, scaleTargetRef: {} } }),
    ).rejects.toThrow(/ScaledObject ecommerce\/notification-worker is invalid: .*name/);
  });
});

describe("Worker: health by command, a production singleton without a volume", () => {
  let run: RunResult;
  const get = async () =>
    (run ??= await runProgram(() => {
      new Worker(
        "feed-poller",
        {
          ...BASE,
          namespace: "fintech",
          stage: "production",
          health: { exec: ["/app/healthcheck", "--max-lag", "60s"] },
          replicas: { min: 1, max: 1 },
          singleton: { reason: "the market feed allows one session per account" },
        },
        onCluster(),
      );
    }));

  it("probes by its command, has no Service and admits nothing", async () => {
    const r = await get();
    const [c] = podSpec(r, "kubernetes:apps/v1:Deployment", "feed-poller-deploy").containers;
    expect(c!.ports).toEqual([]);
    for (const probe of [c!.startupProbe, c!.livenessProbe, c!.readinessProbe]) {
      expect(probe.exec).toEqual({ command: ["/app/healthcheck", "--max-lag", "60s"] });
      expect(probe.httpGet).toBeUndefined();
    }
    expect(byType(r, "kubernetes:core/v1:Service")).toEqual([]);
    const policy = byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "feed-poller-netpol")
      .inputs as {
      spec: Record<string, unknown>;
    };
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.spec.ingress).toBeUndefined();
  });

  it("runs one replica in production, replaced rather than rolled, with its reason on the Deployment", async () => {
    const r = await get();
    const deployment = byName(r, "kubernetes:apps/v1:Deployment", "feed-poller-deploy").inputs as {
      metadata: { annotations: Record<string, string> };
      spec: k8s.types.output.apps.v1.DeploymentSpec;
    };
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
    expect(deployment.metadata.annotations).toEqual({
      [singletonAnnotation()]: "the market feed allows one session per account",
    });
    expect(renderedDemand(objectsOf(r)).find((d) => d.id === "fintech/feed-poller")).toMatchObject({
      replicas: { min: 1, max: 1 },
      surge: { min: 0, max: 0 },
    });
    // The PDB still lets a drain evict it (maxUnavailable 1): a singleton never blocks a node drain.
    expect(
      (byName(r, "kubernetes:policy/v1:PodDisruptionBudget", "feed-poller-pdb").inputs as { spec: unknown })
        .spec,
    ).toMatchObject({ maxUnavailable: 1 });
  });
});

describe("Worker: misuse is refused before anything is created", () => {
  const thrown = (args: Partial<WorkerArgs> & Record<string, unknown>): string => {
    try {
      new Worker("w", { ...BASE, ...args }, STAND_IN_KUBERNETES);
    } catch (e) {
      return (e as Error).message;
    }
    return "";
  };

  it("names every MicroService-only arg, the missing health and the production floor at once", () => {
    expect(
      thrown({
        port: 8080,
        callers: ["api"],
        persistence: { size: "1Gi", mountPath: "/data" },
        stage: "production",
        replicas: { min: 1, max: 1 },
      }),
    ).toBe(
      'Worker "w": invalid arguments (5):\n' +
        "  - port is not an arg of Worker: a Worker serves no port; a workload others call is a MicroService\n" +
        "  - callers is not an arg of Worker: nothing can call a Worker (it serves no port)\n" +
        "  - persistence is not an arg of Worker: a Worker keeps no volume; a workload with its own data is a MicroService with persistence, or uses a data service\n" +
        "  - health: a Worker needs health.exec (a command that exits 0 when healthy) or metrics.port (probed over HTTP at health.path); it has no serving port to probe\n" +
        '  - replicas.max is 1, but production needs at least 2 (one replica cannot survive a node drain or a zone outage); a worker that must never run twice sets singleton: { reason: "<why>" } instead',
    );
  });

  it("refuses a bad command, a privileged metrics port and a scrape admission without metrics", () => {
    expect(thrown({ health: { exec: [] }, ingressFrom: [MONITORING] })).toBe(
      'Worker "w": invalid arguments (2):\n' +
        "  - health.exec must be a non-empty list of non-empty strings, found []\n" +
        "  - ingressFrom admits scrapes of the metrics port, but the Worker has no metrics.port",
    );
    expect(thrown({ metrics: { port: 80 }, health: { path: "health" } })).toBe(
      'Worker "w": invalid arguments (2):\n' +
        "  - metrics.port must be a whole number from 1024 to 65535 (the container runs without privileges), found 80\n" +
        '  - health.path must start with "/", found "health"',
    );
  });

  it("refuses queue scaling on a broker it does not use, a bad queue name and a fixed replica count", async () => {
    const message = await runProgram(() => {
      const broker = new MessageBroker(
        "mq",
        {
          backend: "inCluster",
          namespace: "ecommerce",
          exchanges: [],
          consumers: [{ service: "other", namespace: "ecommerce", elsewhere: "another program" }],
          storageSize: "1Gi",
        },
        onCluster(),
      );
      const db = new ManagedPostgres(
        "pg",
        {
          backend: "inCluster",
          namespace: "ecommerce",
          consumers: [{ service: "w", namespace: "ecommerce", database: "w" }],
        },
        onCluster(),
      );
      new Worker(
        "w",
        {
          ...BASE,
          metrics: { port: 9100 },
          replicas: { min: 2, max: 2 },
          uses: [db],
          autoscaling: { queue: { broker, queueName: "no spaces allowed" } },
        },
        onCluster(),
      );
      new Worker(
        "w2",
        { ...BASE, metrics: { port: 9100 }, autoscaling: { queue: { broker: db, queueName: "q" } } },
        onCluster(),
      );
    }).then(
      () => "",
      (e: unknown) => (e as Error).message,
    );
    expect(message).toContain(
      'Worker "w": invalid arguments (3):\n' +
        "  - autoscaling.queue.broker is not in uses: KEDA authenticates with this workload's own connection Secret, which exists only for a broker it uses; add the broker to uses\n" +
        '  - autoscaling.queue.queueName must be a RabbitMQ queue name (1 to 255 of letters, digits, "-", "_", ".", ":"), found "no spaces allowed"\n' +
        "  - autoscaling.queue needs a replica range to scale in, but replicas.min equals replicas.max (2); raise replicas.max",
    );
  });

  it("cannot be called: every call to a Worker of the program is refused, each named", async () => {
    const error = await runProgram(() => {
      new Worker("feed", { ...BASE, metrics: { port: 9100 } }, onCluster());
      new Worker("mailer", { ...BASE, health: { exec: ["/bin/true"] } }, onCluster());
      new MicroService(
        "api",
        {
          namespace: "ecommerce",
          image: "ghcr.io/acme-shop/api:1.0.0",
          port: 8000,
          protocol: "http",
          replicas: { min: 1, max: 2 },
          resources: RESOURCES,
          calls: [
            {
              endpoint: { name: "feed", namespace: "ecommerce", port: 9100, protocol: "http" },
              env: "FEED_URL",
            },
            {
              endpoint: { name: "mailer", namespace: "ecommerce", port: 8080, protocol: "http" },
              env: "MAIL_URL",
            },
          ],
        },
        onCluster(),
      );
    }).catch((e: unknown) => e as Error);
    expect((error as Error).message).toContain(
      'MicroService "api": invalid arguments (2):\n' +
        '  - calls[0] ("feed"): "feed" is Worker "feed" of this program, which serves no port: nothing can call it (a worker takes its work from a queue or a store; publish to the queue it consumes instead)\n' +
        '  - calls[1] ("mailer"): "mailer" is Worker "mailer" of this program, which serves no port: nothing can call it (a worker takes its work from a queue or a store; publish to the queue it consumes instead)',
    );
  });
});

describe("Monitoring knows Workers and ScheduledJobs", () => {
  let run: RunResult;
  const get = async () =>
    (run ??= await runProgram(() => {
      const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
      const stack = new ObservabilityStack(
        "observability",
        {
          chart: { version: CHART_VERSIONS.kubePrometheusStack, source: "repository" },
          prometheusStorageSize: "10Gi",
          grafanaStorageSize: "1Gi",
          stage: "staging",
        },
        { providers: [provider] },
      );
      const worker = new Worker(
        "feed",
        { ...BASE, metrics: { port: 9102, path: "/prometheus" } },
        { providers: [provider] },
      );
      // As index.ts would: the worker's own outputs, known at construction for a plain-data worker.
      stack.monitorService(
        {
          serviceName: "feed",
          namespace: "ecommerce",
          platform: "ecommerce",
          protocol: "http",
          metricsPortName: "metrics",
          metricsPath: "/prometheus",
          selectorLabels: selectorLabels("feed"),
          resources: RESOURCES,
        },
        { parent: worker },
      );
      stack.monitorScheduledJob({ serviceName: "risk-nightly", namespace: "fintech", platform: "fintech" });
    }));

  it("scrapes a worker's metrics Service on its metrics port and path", async () => {
    const r = await get();
    const service = byName(r, "kubernetes:core/v1:Service", "feed-svc").inputs as {
      metadata: { labels: Record<string, string> };
      spec: { ports: { name: string }[] };
    };
    const monitor = byType(r, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")[0]!.inputs as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
    };
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(service.spec.ports.map((p) => p.name)).toContain(monitor.spec.endpoints[0]!.port);
    expect(monitor.spec.endpoints[0]!.path).toBe("/prometheus");
  });

  it("alerts on a ScheduledJob's failed runs with a PrometheusRule Prometheus selects", async () => {
    const r = await get();
    const rule = byName(
      r,
      "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
      "fintech-risk-nightly-job-rules",
    );
    const inputs = rule.inputs as Record<string, unknown> & {
      metadata: { namespace: string; labels: Record<string, string> };
      spec: { groups: { rules: { alert: string }[] }[] };
    };
    expect(inputs.metadata.namespace).toBe("fintech");
    const serviceRule = byType(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").find(
      (x) => x !== rule,
    )!.inputs as { metadata: { labels: Record<string, string> } };
    // The stack's selector labels, exactly as every service's rules carry them.
    const selector = Object.keys(serviceRule.metadata.labels).filter((k) => k.endsWith("/monitoring"));
    expect(selector.length).toBe(1);
    expect(inputs.metadata.labels[selector[0]!]).toBe(serviceRule.metadata.labels[selector[0]!]);
    expect(inputs.spec.groups[0]!.rules.map((x) => x.alert)).toEqual([
      "ScheduledJobFailed",
      "ScheduledJobMissed",
    ]);
    await validateKubernetesObject(inputs);
  });
});

describe("MicroService: a queue consumer that also serves a port scales on its queue too", () => {
  it("gets a ScaledObject instead of its HPA, and still admits its callers", async () => {
    const r = await runProgram(() => {
      const broker = new MessageBroker(
        "mq",
        {
          backend: "aws",
          namespace: "ecommerce",
          consumers: [{ service: "notification-service", namespace: "ecommerce" }],
          aws: {
            vpcId: "vpc-0abc",
            subnetIds: ["subnet-a", "subnet-b"],
            subnetCidrs: ["10.30.0.0/16"],
            allowedSecurityGroupIds: ["sg-0cluster"],
          },
        },
        onCluster(),
      );
      new MicroService(
        "notification-service",
        {
          namespace: "ecommerce",
          image: "ghcr.io/acme-shop/notification-service:1.0.0",
          port: 9006,
          protocol: "grpc",
          metrics: { enabled: true, port: 9106 },
          replicas: { min: 2, max: 6 },
          resources: RESOURCES,
          callers: ["api-gateway"],
          uses: [broker],
          autoscaling: { cpuUtilization: 60, queue: { broker, queueName: "notifications" } },
        },
        onCluster(),
      );
    });
    expect(byType(r, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")).toEqual([]);
    const scaled = byName(r, "kubernetes:keda.sh/v1alpha1:ScaledObject", "notification-service-scaledobject")
      .inputs as Record<string, unknown> & { spec: { triggers: { type: string; metadata: unknown }[] } };
    await validateKubernetesObject(scaled);
    expect(scaled.spec.triggers.map((t) => t.type)).toEqual(["rabbitmq", "cpu", "memory"]);
    expect(scaled.spec.triggers[1]!.metadata).toEqual({ value: "60" });
    const policy = byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "notification-service-netpol")
      .inputs as { spec: { ingress: { ports: { port: number }[] }[] } };
    expect(policy.spec.ingress[0]!.ports).toEqual([{ protocol: "TCP", port: 9006 }]);
  });
});

describe("Worker: the platform scope counts it like any workload", () => {
  it("places its pods in its namespace's quota, with the namespace given as an Output", async () => {
    const error = await runProgram(() => {
      const ns = new PlatformNamespace(
        "shop",
        { quota: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "4", memory: "4Gi" } } },
        onCluster(),
      );
      new Worker(
        "feed",
        {
          ...BASE,
          namespace: ns.name,
          metrics: { port: 9100 },
          replicas: { min: 4, max: 8 },
          resources: { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        },
        onCluster(),
      );
    }).then(
      () => "",
      (e: unknown) => (e as Error).message,
    );
    // Four replicas of 250m, plus one surge pod, need 1250m of a 1-CPU quota.
    expect(error).toContain('PlatformNamespace "shop": invalid arguments');
    expect(error).toContain(
      'quota is too small for the MicroServices placed in it ("feed"): namespace shop: minimum replicas + largest rollout surge + Jobs need requests.cpu 1250m > quota 1',
    );
  });
});
