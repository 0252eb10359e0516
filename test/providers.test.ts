/**
 * Components never fall back to the ambient default provider (docs/library.md): every component that
 * creates Kubernetes objects refuses to be constructed without an explicit Kubernetes provider, with
 * an error naming it, before anything is registered. Accepted are the ways Pulumi hands a provider to
 * a component's children — `{ provider }`, `{ providers: { kubernetes } }`, `{ providers: [...] }`
 * and a parent that has one — and the check agrees with the SDK on every form: a form is accepted
 * exactly when a child created with `{ parent: component }` lands on the Kubernetes provider.
 * Components that create no Kubernetes objects need no provider.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  AlertTopic,
  CERT_MANAGER_CHART_VERSION,
  ComponentArgsError,
  ContainerImage,
  DataStoreMonitoring,
  ENVOY_GATEWAY_CHART_VERSION,
  IngressGateway,
  KubernetesCluster,
  ManagedPostgres,
  MessageBroker,
  MicroService,
  Network,
  ObservabilityStack,
  PlatformNamespace,
  PostgresOperator,
  RedisCache,
  ServiceMonitoring,
  VolumeBackup,
} from "../components";
import { requireProvider } from "../components/lib";
import { onCluster, runProgram, type RecordedResource, type RunResult } from "./harness";

const RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
const AWS_NETWORK = {
  vpcId: "vpc-0abc",
  subnetIds: ["subnet-a", "subnet-b"],
  subnetCidrs: ["10.30.0.0/16"],
  allowedSecurityGroupIds: ["sg-0cluster"],
};
/** The stores are constructed alone here: their consumer is read outside the test program. */
const CONSUMER = { service: "orders", namespace: "shop", elsewhere: "a service outside this test" };
const CHART = { version: ENVOY_GATEWAY_CHART_VERSION, source: "repository" } as const;
const MONITOR_LABELS = { "microservices-platform/monitoring": "observability" };
const OBSERVABILITY = {
  chart: { version: "89.2.0", source: "repository" },
  prometheusStorageSize: "20Gi",
  grafanaStorageSize: "5Gi",
} as const;
const ORDERS_SELECTOR = { "app.kubernetes.io/name": "orders", "app.kubernetes.io/instance": "orders" };

type Options = pulumi.ComponentResourceOptions | undefined;

/** A valid construction of every component that creates Kubernetes objects, by class name. */
const KUBERNETES_COMPONENTS: [string, string, (name: string, opts: Options) => unknown][] = [
  [
    "MicroService",
    "orders",
    (name, opts) =>
      new MicroService(
        name,
        {
          namespace: "shop",
          image: "ghcr.io/acme/orders:1.2.3",
          port: 8080,
          protocol: "http",
          replicas: { min: 2, max: 4 },
          resources: RESOURCES,
        },
        opts,
      ),
  ],
  ["PlatformNamespace", "shop", (name, opts) => new PlatformNamespace(name, { name: "shop" }, opts)],
  [
    "ManagedPostgres",
    "shop-postgres",
    (name, opts) =>
      new ManagedPostgres(
        name,
        {
          backend: "aws",
          namespace: "shop",
          consumers: [{ ...CONSUMER, database: "orders" }],
          aws: AWS_NETWORK,
        },
        opts,
      ),
  ],
  [
    "RedisCache",
    "shop-redis",
    (name, opts) =>
      new RedisCache(name, { backend: "inCluster", namespace: "shop", consumers: [CONSUMER] }, opts),
  ],
  [
    "MessageBroker",
    "shop-rabbitmq",
    (name, opts) =>
      new MessageBroker(
        name,
        { backend: "aws", namespace: "shop", consumers: [CONSUMER], aws: AWS_NETWORK },
        opts,
      ),
  ],
  [
    "IngressGateway",
    "edge",
    (name, opts) =>
      new IngressGateway(
        name,
        {
          domain: "shop.example.com",
          tls: { issuer: "selfSigned" },
          envoyGatewayChart: CHART,
          certManagerChart: { version: CERT_MANAGER_CHART_VERSION, source: "repository" },
        },
        opts,
      ),
  ],
  ["ObservabilityStack", "monitoring", (name, opts) => new ObservabilityStack(name, OBSERVABILITY, opts)],
  [
    "ServiceMonitoring",
    "orders-monitoring",
    (name, opts) =>
      new ServiceMonitoring(
        name,
        {
          serviceName: "orders",
          namespace: "shop",
          platform: "shop",
          protocol: "http",
          metricsPortName: "http",
          selectorLabels: ORDERS_SELECTOR,
          resources: RESOURCES,
          monitorLabels: MONITOR_LABELS,
          dashboardLabels: { "microservices-platform/grafana-dashboard": "observability" },
        },
        opts,
      ),
  ],
  [
    "DataStoreMonitoring",
    "shop-datastores",
    (name, opts) =>
      new DataStoreMonitoring(
        name,
        { namespace: "shop", platform: "shop", monitorLabels: MONITOR_LABELS },
        opts,
      ),
  ],
  [
    "PostgresOperator",
    "cnpg",
    (name, opts) => new PostgresOperator(name, { chart: { version: "0.26.1", source: "repository" } }, opts),
  ],
];

/** Components that create no Kubernetes objects (KubernetesCluster creates the provider itself). */
const OTHER_COMPONENTS: [string, () => unknown][] = [
  [
    "Network",
    () => new Network("shop", { cidr: "10.40.0.0/16", availabilityZoneCount: 2, clusterName: "shop" }),
  ],
  [
    "KubernetesCluster (aws)",
    () =>
      new KubernetesCluster("shop", {
        provider: "aws",
        clusterName: "shop",
        kubernetesVersion: "1.33",
        vpcId: "vpc-0abc",
        subnetIds: ["subnet-a", "subnet-b"],
        nodeGroups: { general: { instanceTypes: ["m5.large"], minSize: 2, maxSize: 4 } },
      }),
  ],
  ["KubernetesCluster (existing)", () => new KubernetesCluster("shop", { provider: "existing" })],
  ["AlertTopic", () => new AlertTopic("alerts", {})],
  ["VolumeBackup", () => new VolumeBackup("volumes", {})],
  [
    "ContainerImage",
    () =>
      new ContainerImage("orders-image", {
        repositoryName: "shop/orders",
        imageTag: "1.0.0",
        context: "apps/orders",
        registry: "ecr",
      }),
  ],
];

const MISSING =
  "no Kubernetes provider: pass { provider } or { providers: { kubernetes } } (components never fall back to the ambient default provider)";
const missing = (component: string, name: string, why = "") =>
  `${component} "${name}": invalid arguments (1):\n  - ${MISSING.replace("provider:", `provider${why}:`)}`;

/** Runs `program`, expecting it to fail; returns the error and what was registered before it. */
async function failedRun(program: () => unknown): Promise<{ error: Error; recorded: RecordedResource[] }> {
  try {
    await runProgram(program);
  } catch (error) {
    return { error: error as Error, recorded: (error as { recorded: RecordedResource[] }).recorded };
  }
  throw new Error("the program ran");
}

const kubernetesObjects = (run: RunResult) =>
  run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
const providerUrn = (run: RunResult, name: string) =>
  run.resources.find((r) => r.type === "pulumi:providers:kubernetes" && r.name === name)?.urn;

describe("a component that creates Kubernetes objects requires a Kubernetes provider", () => {
  it.each(KUBERNETES_COMPONENTS)(
    "%s without one is an error naming it, and registers nothing",
    async (component, name, construct) => {
      const { error, recorded } = await failedRun(() => construct(name, undefined));
      expect(error).toBeInstanceOf(ComponentArgsError);
      expect(error.message).toBe(missing(component, name));
      expect(recorded.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    },
  );

  it("reports a missing provider together with the args' problems, all at once", async () => {
    const { error, recorded } = await failedRun(
      () =>
        new MicroService("orders", {
          namespace: "shop",
          image: "ghcr.io/acme/orders:latest",
          port: 80,
          protocol: "http",
          replicas: { min: 1, max: 1 },
          resources: RESOURCES,
        }),
    );
    expect(error.message).toBe(
      'MicroService "orders": invalid arguments (3):\n' +
        "  - no Kubernetes provider: pass { provider } or { providers: { kubernetes } } (components never fall back to the ambient default provider)\n" +
        '  - image "ghcr.io/acme/orders:latest" is not reproducible; pin a version or a digest\n' +
        "  - port must be a whole number from 1024 to 65535 (the container runs without privileges), found 80",
    );
    expect(recorded.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });

  it.each(KUBERNETES_COMPONENTS)(
    "%s with one puts every Kubernetes object on it",
    async (_component, name, construct) => {
      const run = await runProgram(() => construct(name, onCluster()));
      const objects = kubernetesObjects(run);
      expect(objects.length).toBeGreaterThan(0);
      const urn = providerUrn(run, "test-k8s");
      for (const r of objects)
        expect(r.provider, `${r.type} ${r.name}`).toMatch(new RegExp(`^${escape(urn)}::`));
    },
  );
});

describe("a component that creates no Kubernetes objects needs no provider", () => {
  it.each(OTHER_COMPONENTS)("%s", async (_component, construct) => {
    const run = await runProgram(construct);
    expect(run.resources.filter((r) => r.type.startsWith("platform:index:")).length).toBeGreaterThan(0);
  });
});

/**
 * Forms of resource options: each with `undefined` when it hands children a Kubernetes provider (and
 * is accepted), else what the rejection says between "no Kubernetes provider" and ":". `k8s` and
 * `aws` are providers of the run; `team` builds a plain parent component with the options given.
 */
interface Providers {
  k8s: k8s.Provider;
  aws: aws.Provider;
  team: (opts: pulumi.ComponentResourceOptions) => pulumi.ComponentResource;
}
const FORMS: [string, (p: Providers) => pulumi.ComponentResourceOptions, string | undefined][] = [
  ["{ provider }", (p) => ({ provider: p.k8s }), undefined],
  ["{ providers: { kubernetes } }", (p) => ({ providers: { kubernetes: p.k8s } }), undefined],
  ["{ providers: [aws, kubernetes] }", (p) => ({ providers: [p.aws, p.k8s] }), undefined],
  ["{ parent } with { provider }", (p) => ({ parent: p.team({ provider: p.k8s }) }), undefined],
  [
    "{ parent } with { providers: [...] }",
    (p) => ({ parent: p.team({ providers: [p.aws, p.k8s] }) }),
    undefined,
  ],
  [
    "{ parent } of a parent with { providers: { kubernetes } }",
    (p) => ({ parent: p.team({ parent: p.team({ providers: { kubernetes: p.k8s } }) }) }),
    undefined,
  ],
  [
    "{ provider: aws, parent } with { provider }",
    (p) => ({ provider: p.aws, parent: p.team({ provider: p.k8s }) }),
    undefined,
  ],
  ["no options", () => ({}), ""],
  ["{ provider: aws }", (p) => ({ provider: p.aws }), ' (the provider given is for "aws")'],
  ["{ providers: [aws] }", (p) => ({ providers: [p.aws] }), ""],
  [
    "{ providers: { kubernetes: undefined } }",
    () => ({ providers: { kubernetes: undefined as never } }),
    " (providers.kubernetes is undefined)",
  ],
  // The SDK takes a map's entries by key: under another key the provider reaches no child.
  ["{ providers: { k8s: kubernetes } }", (p) => ({ providers: { k8s: p.k8s } }), ""],
  [
    "{ providers: { kubernetes: aws } }",
    (p) => ({ providers: { kubernetes: p.aws } }),
    ' (providers.kubernetes is a provider for "aws")',
  ],
  ["{ parent } without one", (p) => ({ parent: p.team({}) }), ""],
  ["{ parent } with { provider: aws }", (p) => ({ parent: p.team({ provider: p.aws }) }), ""],
];

/** The run's providers and a factory of plain parent components. */
function providers(): Providers {
  let teams = 0;
  return {
    k8s: new k8s.Provider("cluster", { kubeconfig: "{}" }),
    aws: new aws.Provider("aws", { region: "eu-west-1" }),
    team: (opts) => new pulumi.ComponentResource("test:index:Team", `team-${teams++}`, {}, opts),
  };
}

/**
 * A plain component given `{ providers: { kubernetes: undefined } }` never finishes registering under
 * the SDK (the run hangs), so that form is left out of the comparison; components refuse it up front.
 */
const SDK_FORMS = FORMS.filter(([form]) => form !== "{ providers: { kubernetes: undefined } }");

describe("the check agrees with the SDK on every form a provider reaches a component in", () => {
  it.each(SDK_FORMS)(
    "%s: a child of a plain component lands on the Kubernetes provider exactly when the form is accepted",
    async (_form, options, rejection) => {
      const run = await runProgram(() => {
        const parent = new pulumi.ComponentResource("test:index:Plain", "plain", {}, options(providers()));
        new k8s.core.v1.ConfigMap("plain-config", { data: {} }, { parent });
      });
      const child = kubernetesObjects(run)[0]!;
      const onKubernetesProvider = child.provider.startsWith(`${providerUrn(run, "cluster")}::`);
      expect(onKubernetesProvider).toBe(rejection === undefined);
    },
  );

  it.each(FORMS)("%s: PlatformNamespace accepts or refuses it", async (_form, options, rejection) => {
    if (rejection === undefined) {
      const run = await runProgram(() => new PlatformNamespace("shop", {}, options(providers())));
      const urn = providerUrn(run, "cluster");
      const objects = kubernetesObjects(run);
      expect(objects).toHaveLength(5);
      for (const r of objects) expect(r.provider, r.name).toMatch(new RegExp(`^${escape(urn)}::`));
    } else {
      const { error, recorded } = await failedRun(
        () => new PlatformNamespace("shop", {}, options(providers())),
      );
      expect(error.message).toBe(missing("PlatformNamespace", "shop", rejection));
      expect(
        recorded.filter((r) => r.type.startsWith("platform:index:") || r.type.startsWith("kubernetes:")),
      ).toEqual([]);
    }
  });

  it("a ServiceMonitoring an ObservabilityStack creates under a MicroService takes the MicroService's provider", async () => {
    const run = await runProgram(() => {
      const monitoringCluster = new k8s.Provider("monitoring-cluster", { kubeconfig: "{}" });
      const stack = new ObservabilityStack("monitoring", OBSERVABILITY, { provider: monitoringCluster });
      const [, name, microService] = KUBERNETES_COMPONENTS[0]!;
      const service = microService(name, onCluster()) as MicroService;
      stack.monitorService(
        {
          serviceName: "orders",
          namespace: "shop",
          platform: "shop",
          protocol: "http",
          metricsPortName: "http",
          selectorLabels: ORDERS_SELECTOR,
          resources: RESOURCES,
        },
        { parent: service },
      );
    });
    const monitoring = run.resources.find((r) => r.type === "platform:index:ServiceMonitoring")!;
    const children = kubernetesObjects(run).filter((r) => r.parent === monitoring.urn);
    expect(children.length).toBeGreaterThan(0);
    for (const r of children)
      expect(r.provider, r.name).toMatch(new RegExp(`^${escape(providerUrn(run, "test-k8s"))}::`));
  });
});

describe("requireProvider", () => {
  const provider = (pkg: string) => ({ getPackage: () => pkg }) as unknown as pulumi.ProviderResource;

  it("checks the package it is asked for", () => {
    expect(() => requireProvider("Thing", "t", { provider: provider("aws") }, "aws")).not.toThrow();
    expect(() => requireProvider("Thing", "t", { providers: [provider("kubernetes")] }, "aws")).toThrow(
      'Thing "t": invalid arguments (1):\n  - no AWS provider: pass { provider } or { providers: { aws } } (components never fall back to the ambient default provider)',
    );
    expect(() => requireProvider("Thing", "t", undefined, "kubernetes")).toThrow(ComponentArgsError);
  });
});

function escape(text: string | undefined): string {
  if (text === undefined) throw new Error("no such provider in the run");
  return text.replace(/[$.*+?^()[\]{}|\\]/g, "\\$&");
}
