/**
 * One type per shared arg across the components (issue 14, Deliver 2): `stage` is the `Stage` union
 * wherever a component takes one, and a value outside it (from JavaScript, YAML or a cast) is refused
 * with the same message everywhere, before anything is created.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { DataStoreMonitoring, type DataStoreMonitoringArgs } from "../components/DataStoreMonitoring";
import { IngressGateway, type IngressGatewayArgs } from "../components/IngressGateway";
import { type ManagedPostgresArgs } from "../components/ManagedPostgres";
import { type MessageBrokerArgs } from "../components/MessageBroker";
import { type MicroServiceArgs } from "../components/MicroService";
import { ObservabilityStack, type ObservabilityStackArgs } from "../components/ObservabilityStack";
import { PlatformNamespace, type PlatformNamespaceArgs } from "../components/PlatformNamespace";
import { type RedisCacheArgs } from "../components/RedisCache";
import { ServiceMonitoring, type ServiceMonitoringArgs } from "../components/ServiceMonitoring";
import { STAGES, stageProblem, type PlatformLabels, type Stage } from "../components/lib";
import { argsErrorMessage, thrownMessage } from "./dataServiceChecks";

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
      () => new PlatformNamespace("team", { stage: NOT_A_STAGE }),
      [STAGE_PROBLEM],
    ],
    [
      "ObservabilityStack",
      "observability",
      () =>
        new ObservabilityStack("observability", {
          chart: { version: "77.5.0", source: "repository" },
          prometheusStorageSize: "10Gi",
          grafanaStorageSize: "1Gi",
          stage: NOT_A_STAGE,
        }),
      [STAGE_PROBLEM],
    ],
    [
      "ServiceMonitoring",
      "orders-monitoring",
      () =>
        new ServiceMonitoring("orders-monitoring", {
          serviceName: "orders",
          namespace: "shop",
          platform: "shop",
          protocol: "http",
          metricsPortName: "http",
          selectorLabels: { "app.kubernetes.io/name": "orders", "app.kubernetes.io/instance": "orders" },
          monitorLabels: { "microservices-platform/monitoring": "observability" },
          dashboardLabels: { "microservices-platform/grafana-dashboard": "observability" },
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
          stage: NOT_A_STAGE,
        }),
      [STAGE_PROBLEM],
    ],
    [
      "DataStoreMonitoring",
      "shop-datastores",
      () =>
        new DataStoreMonitoring("shop-datastores", {
          namespace: "shop",
          platform: "shop",
          monitorLabels: { "microservices-platform/monitoring": "observability" },
          stage: NOT_A_STAGE,
        }),
      [STAGE_PROBLEM],
    ],
    [
      "IngressGateway",
      "edge",
      () =>
        new IngressGateway("edge", {
          domain: "platform.example.com",
          tls: { issuer: "selfSigned" },
          envoyGatewayChart: { version: "v1.5.4", source: "repository" },
          certManagerChart: { version: "v1.18.2", source: "repository" },
          labels: { stage: NOT_A_STAGE },
        }),
      [`labels.${STAGE_PROBLEM}`],
    ],
  ] as const)("%s refuses a stage that is not a Stage, naming it", (component, name, construct, problems) => {
    expect(thrownMessage(construct)).toBe(argsErrorMessage(component, name, [...problems]));
  });
});
