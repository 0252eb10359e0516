/**
 * One type per shared arg across the components (issue 14, Deliver 2): `stage` is the `Stage` union
 * wherever a component takes one, and a value outside it (from JavaScript, YAML or a cast) is refused
 * with the same message everywhere, before anything is created; `namespace` is an `Input<string>` on
 * the data services as on MicroService, and `PlatformNamespace.name` given there makes every child in
 * the namespace wait for it through the Output, rendering the same objects as the plain name.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, expectTypeOf, it } from "vitest";
import { DataStoreMonitoring, type DataStoreMonitoringArgs } from "../components/DataStoreMonitoring";
import {
  CERT_MANAGER_CHART_VERSION,
  ENVOY_GATEWAY_CHART_VERSION,
  IngressGateway,
  type IngressGatewayArgs,
} from "../components/IngressGateway";
import { ManagedPostgres, type ManagedPostgresArgs } from "../components/ManagedPostgres";
import { MessageBroker, type MessageBrokerArgs } from "../components/MessageBroker";
import { MicroService, type MicroServiceArgs } from "../components/MicroService";
import { ObservabilityStack, type ObservabilityStackArgs } from "../components/ObservabilityStack";
import { PlatformNamespace, type PlatformNamespaceArgs } from "../components/PlatformNamespace";
import { RedisCache, type RedisCacheArgs } from "../components/RedisCache";
import { ServiceMonitoring, type ServiceMonitoringArgs } from "../components/ServiceMonitoring";
import {
  STAGES,
  stageProblem,
  type DataServiceConsumer,
  type EgressPeer,
  type PlatformLabels,
  type Stage,
} from "../components/lib";
import { type DataServiceOutputs } from "../components/data-service";
import { argsErrorMessage, thrownMessage } from "./dataServiceChecks";
import {
  onCluster,
  reveal,
  runProgram,
  STAND_IN_KUBERNETES,
  type RecordedResource,
  type RunResult,
} from "./harness";

const NOT_A_STAGE = "prod" as Stage;
const STAGE_PROBLEM = 'stage must be one of "local", "staging", "production", found "prod"';

describe("stage: one type, one check", () => {
  it("every component that takes a stage takes a Stage", () => {
    expectTypeOf<ManagedPostgresArgs["stage"]>().toEqualTypeOf<Stage | undefined>();
    expectTypeOf<RedisCacheArgs["stage"]>().toEqualTypeOf<Stage | undefined>();
    expectTypeOf<MessageBrokerArgs["stage"]>().toEqualTypeOf<Stage | undefined>();
    expectTypeOf<MicroServiceArgs["stage"]>().toEqualTypeOf<Stage | undefined>();
    expectTypeOf<PlatformNamespaceArgs["stage"]>().toEqualTypeOf<Stage | undefined>();
    expectTypeOf<ObservabilityStackArgs["stage"]>().toEqualTypeOf<Stage | undefined>();
    expectTypeOf<ServiceMonitoringArgs["stage"]>().toEqualTypeOf<Stage | undefined>();
    expectTypeOf<DataStoreMonitoringArgs["stage"]>().toEqualTypeOf<Stage | undefined>();
    expectTypeOf<NonNullable<IngressGatewayArgs["labels"]>["stage"]>().toEqualTypeOf<Stage | undefined>();
    expectTypeOf<PlatformLabels["stage"]>().toEqualTypeOf<Stage | undefined>();
  });

  it("stageProblem accepts every stage and nothing else", () => {
    for (const stage of [...STAGES, undefined]) expect(stageProblem(stage)).toBeUndefined();
    expect(stageProblem("prod")).toBe(STAGE_PROBLEM);
    expect(stageProblem(3)).toBe('stage must be one of "local", "staging", "production", found 3');
    expect(stageProblem("Production", "labels.stage")).toBe(
      'labels.stage must be one of "local", "staging", "production", found "Production"',
    );
  });

  // ManagedPostgres, RedisCache and MessageBroker: SHARED_ARG_CASES in their own tests.
  it.each([
    [
      "PlatformNamespace",
      "team",
      () => new PlatformNamespace("team", { stage: NOT_A_STAGE }, STAND_IN_KUBERNETES),
      [STAGE_PROBLEM],
    ],
    [
      "ObservabilityStack",
      "observability",
      () =>
        new ObservabilityStack(
          "observability",
          {
            chart: { version: "89.2.0", source: "repository" },
            prometheusStorageSize: "10Gi",
            grafanaStorageSize: "1Gi",
            stage: NOT_A_STAGE,
          },
          STAND_IN_KUBERNETES,
        ),
      [STAGE_PROBLEM],
    ],
    [
      "ServiceMonitoring",
      "orders-monitoring",
      () =>
        new ServiceMonitoring(
          "orders-monitoring",
          {
            serviceName: "orders",
            namespace: "shop",
            platform: "shop",
            protocol: "http",
            metricsPortName: "http",
            selectorLabels: { "app.kubernetes.io/name": "orders", "app.kubernetes.io/instance": "orders" },
            monitorLabels: { "microservices-platform/monitoring": "observability" },
            dashboardLabels: { "microservices-platform/grafana-dashboard": "observability" },
            resources: {
              requests: { cpu: "100m", memory: "128Mi" },
              limits: { cpu: "500m", memory: "512Mi" },
            },
            stage: NOT_A_STAGE,
          },
          STAND_IN_KUBERNETES,
        ),
      [STAGE_PROBLEM],
    ],
    [
      "DataStoreMonitoring",
      "shop-datastores",
      () =>
        new DataStoreMonitoring(
          "shop-datastores",
          {
            namespace: "shop",
            platform: "shop",
            monitorLabels: { "microservices-platform/monitoring": "observability" },
            stage: NOT_A_STAGE,
          },
          STAND_IN_KUBERNETES,
        ),
      [STAGE_PROBLEM],
    ],
    [
      "IngressGateway",
      "edge",
      () =>
        new IngressGateway(
          "edge",
          {
            domain: "platform.example.com",
            tls: { issuer: "selfSigned" },
            envoyGatewayChart: { version: ENVOY_GATEWAY_CHART_VERSION, source: "repository" },
            certManagerChart: { version: CERT_MANAGER_CHART_VERSION, source: "repository" },
            labels: { stage: NOT_A_STAGE },
          },
          STAND_IN_KUBERNETES,
        ),
      [`labels.${STAGE_PROBLEM}`],
    ],
  ] as const)("%s refuses a stage that is not a Stage, naming it", (component, name, construct, problems) => {
    expect(thrownMessage(construct)).toBe(argsErrorMessage(component, name, [...problems]));
  });
});

/** A data service built on `namespace` (the Namespace's Output, or its plain name). */
type CreateIn = (
  namespace: pulumi.Input<string>,
  opts: pulumi.ComponentResourceOptions,
) => DataServiceOutputs & pulumi.Resource;

const TEAM = "team";
const OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123";
const AWS_NETWORK = {
  vpcId: "vpc-0abc",
  subnetIds: ["subnet-a", "subnet-b"],
  subnetCidrs: ["10.30.0.0/16"],
  allowedSecurityGroupIds: ["sg-0cluster"],
};
/**
 * Two consumers in the team's namespace (given like the server's) and one in a namespace of its own;
 * these tests construct the stores alone, so their consumers are read elsewhere.
 */
const elsewhere = "a service outside this test";
const consumersIn = (namespace: pulumi.Input<string>) => [
  { service: "stock-api", namespace, elsewhere },
  { service: "stock-worker", namespace, elsewhere },
  { service: "reporting", namespace: "analytics", elsewhere },
];

/**
 * Runs a PlatformNamespace and, in it, the data service `create` makes: with `output`, given
 * `PlatformNamespace.name` and no `dependsOn`; otherwise given the plain name, waiting through
 * `dependsOn` as the platform's program does.
 */
async function runIn(create: CreateIn, output: boolean): Promise<RunResult> {
  return runProgram(() => {
    const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
    const ns = new PlatformNamespace(TEAM, {}, { provider });
    const service = create(output ? ns.name : TEAM, output ? { provider } : { provider, dependsOn: [ns] });
    return {
      host: service.host,
      egressPeer: service.egressPeer,
      connectionSecretNames: service.connectionSecretNames,
    };
  });
}

/**
 * What a component created (its direct children): type, name and inputs revealed, sorted (an Output
 * namespace changes when a child is registered, not what it is).
 */
function childrenOf(run: RunResult, componentType: string): [string, string, unknown][] {
  const component = run.resources.find((r) => r.type === componentType)!;
  return run.resources
    .filter((r) => r.parent === component.urn)
    .map((r): [string, string, unknown] => [r.type, r.name, reveal(r.inputs)])
    .sort(([t1, n1], [t2, n2]) => `${t1} ${n1}`.localeCompare(`${t2} ${n2}`));
}

const kubernetesChildren = (run: RunResult, componentType: string): RecordedResource[] => {
  const component = run.resources.find((r) => r.type === componentType)!;
  return run.resources.filter((r) => r.parent === component.urn && r.type.startsWith("kubernetes:"));
};

const CASES: [string, string, CreateIn, string][] = [
  [
    "ManagedPostgres (StatefulSet)",
    "platform:index:ManagedPostgres",
    (namespace, opts) =>
      new ManagedPostgres(
        "stock-db",
        {
          backend: "inCluster",
          namespace,
          consumers: consumersIn(namespace).map((c) => ({ ...c, database: "stock" })),
        },
        opts,
      ),
    "stock-db.team.svc.cluster.local",
  ],
  [
    "ManagedPostgres (CloudNativePG)",
    "platform:index:ManagedPostgres",
    (namespace, opts) =>
      new ManagedPostgres(
        "stock-db",
        {
          backend: "inCluster",
          namespace,
          consumers: consumersIn(namespace).map((c) => ({ ...c, database: "stock" })),
          cloudNativePg: { oidcProviderArn: OIDC_ARN, oidcIssuerUrl: "https://oidc.example.com/id/ABC" },
        },
        opts,
      ),
    "stock-db-rw.team.svc",
  ],
  [
    "ManagedPostgres (RDS)",
    "platform:index:ManagedPostgres",
    (namespace, opts) =>
      new ManagedPostgres(
        "stock-db",
        {
          backend: "aws",
          aws: AWS_NETWORK,
          namespace,
          consumers: consumersIn(namespace).map((c) => ({ ...c, database: "stock" })),
        },
        opts,
      ),
    "",
  ],
  [
    "RedisCache",
    "platform:index:RedisCache",
    (namespace, opts) =>
      new RedisCache(
        "stock-cache",
        { backend: "inCluster", namespace, consumers: consumersIn(namespace) },
        opts,
      ),
    "stock-cache.team.svc.cluster.local",
  ],
  [
    "MessageBroker",
    "platform:index:MessageBroker",
    (namespace, opts) =>
      new MessageBroker(
        "stock-events",
        { backend: "inCluster", namespace, consumers: consumersIn(namespace) },
        opts,
      ),
    "stock-events.team.svc.cluster.local",
  ],
];

describe("namespace: an Input<string>, as on MicroService", () => {
  it("the data services and their consumers take an Input<string>; egressPeer keeps the namespace's type", () => {
    expectTypeOf<ManagedPostgresArgs["namespace"]>().toEqualTypeOf<pulumi.Input<string>>();
    expectTypeOf<RedisCacheArgs["namespace"]>().toEqualTypeOf<pulumi.Input<string>>();
    expectTypeOf<MessageBrokerArgs["namespace"]>().toEqualTypeOf<pulumi.Input<string>>();
    expectTypeOf<MicroServiceArgs["namespace"]>().toEqualTypeOf<pulumi.Input<string>>();
    expectTypeOf<DataServiceConsumer["namespace"]>().toEqualTypeOf<pulumi.Input<string>>();
    // A plain name gives plain data (MicroService's `egress` and a StackReference take it as it is).
    expectTypeOf<ManagedPostgres["egressPeer"]>().toEqualTypeOf<EgressPeer>();
    expectTypeOf<RedisCache<"fintech">["egressPeer"]>().toMatchTypeOf<EgressPeer>();
    expectTypeOf<MessageBroker<pulumi.Output<string>>["egressPeer"]>().toEqualTypeOf<
      EgressPeer<pulumi.Output<string>>
    >();
    expectTypeOf<ManagedPostgres["connectionSecretNames"]>().toEqualTypeOf<Record<string, string>>();
  });

  it.each(CASES)(
    "%s given PlatformNamespace.name: every Kubernetes child waits for the Namespace through it, and the objects equal the plain name's",
    async (_, componentType, create, host) => {
      const withOutput = await runIn(create, true);
      const withName = await runIn(create, false);
      expect(childrenOf(withOutput, componentType)).toEqual(childrenOf(withName, componentType));

      const namespace = withOutput.resources.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
      const children = kubernetesChildren(withOutput, componentType);
      expect(children.length).toBeGreaterThan(3);
      for (const child of children) {
        // The consumer in its own namespace ("analytics") waits for nothing of the team's.
        if ((child.inputs.metadata as { namespace?: string }).namespace === "analytics") continue;
        expect(child.dependencies, `${child.type} ${child.name}`).toContain(namespace.urn);
      }
      // Each connection Secret in its consumer's namespace.
      const secrets = children.filter((c) => c.name.endsWith("-connection"));
      expect(
        Object.fromEntries(
          secrets.map((c) => {
            const { labels, namespace } = c.inputs.metadata as k8s.types.output.meta.v1.ObjectMeta;
            return [labels["microservices-platform/consumer"], namespace];
          }),
        ),
      ).toEqual({ "stock-api": TEAM, "stock-worker": TEAM, reporting: "analytics" });

      // The outputs are the plain name's: resolved DNS names, the egress peer, plain Secret names.
      expect(withOutput.outputs).toEqual(withName.outputs);
      const name = children.find((c) => c.name.endsWith("-credentials"))!.name.replace(/-credentials$/, "");
      expect(withOutput.outputs.connectionSecretNames).toEqual({
        "stock-api": `stock-api-${name}`,
        "stock-worker": `stock-worker-${name}`,
        reporting: `reporting-${name}`,
      });
      if (host) {
        expect(withOutput.outputs.host).toBe(host);
        expect(withOutput.outputs.egressPeer).toMatchObject({ pod: { namespace: TEAM } });
      }
    },
  );

  it("a service uses stores given PlatformNamespace.name: its egress reaches them as with the plain name", async () => {
    const stack = (output: boolean) =>
      runProgram(() => {
        const ns = new PlatformNamespace(TEAM, {}, onCluster());
        const namespace = output ? ns.name : TEAM;
        const opts = onCluster(output ? {} : { dependsOn: [ns] });
        const consumers = [{ service: "stock-api", namespace }];
        const db = new ManagedPostgres(
          "stock-db",
          { backend: "inCluster", namespace, consumers: consumers.map((c) => ({ ...c, database: "stock" })) },
          opts,
        );
        const cache = new RedisCache("stock-cache", { backend: "inCluster", namespace, consumers }, opts);
        const events = new MessageBroker(
          "stock-events",
          { backend: "inCluster", namespace, consumers },
          opts,
        );
        new MicroService(
          "stock-api",
          {
            namespace: ns.name,
            image: "ghcr.io/acme/stock-api:1.0.3",
            port: 8080,
            protocol: "http",
            replicas: { min: 1, max: 1 },
            resources: {
              requests: { cpu: "100m", memory: "128Mi" },
              limits: { cpu: "500m", memory: "256Mi" },
            },
            uses: [db, cache, events],
          },
          onCluster(),
        );
      });
    const policyOf = (run: RunResult) =>
      run.resources.find(
        (r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && r.name === "stock-api-netpol",
      )!;
    const [withOutput, withName] = [await stack(true), await stack(false)];
    expect(policyOf(withOutput).inputs).toEqual(policyOf(withName).inputs);
    const egress = (policyOf(withOutput).inputs.spec as k8s.types.output.networking.v1.NetworkPolicySpec)
      .egress;
    for (const [store, port] of [
      ["stock-db", 5432],
      ["stock-cache", 6379],
      ["stock-events", 5672],
    ] as const)
      expect(egress).toContainEqual({
        to: [
          {
            podSelector: {
              matchLabels: { "app.kubernetes.io/name": store, "app.kubernetes.io/instance": store },
            },
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": TEAM } },
          },
        ],
        ports: [{ protocol: "TCP", port }],
      });
  });

  it("a plain namespace is still checked before anything is created, an Output is left to its namespace", () => {
    const consumers = [{ service: "api", namespace: "Team" }];
    expect(
      thrownMessage(
        () =>
          new RedisCache(
            "cache",
            { backend: "inCluster", namespace: "Team", consumers },
            STAND_IN_KUBERNETES,
          ),
      ),
    ).toBe(
      argsErrorMessage("RedisCache", "cache", [
        'namespace must be a namespace name (a DNS label of at most 63 characters, such as "shop"), found "Team"',
        'consumers[0].namespace must be a namespace name (a DNS label of at most 63 characters, such as "shop"), found "Team"',
      ]),
    );
  });
});
