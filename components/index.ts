/**
 * The component library's entry point: every component and its args types. One `export *` line per
 * component file, so concurrent additions never collide.
 */
export {
  ComponentArgsError,
  DEFAULT_LABEL_DOMAIN,
  STAGES,
  type ContainerResources,
  type LabelDomainArgs,
  type ProbeTiming,
  type Stage,
} from "./lib";
export type {
  DataServiceAwsArgs,
  DataServiceBackend,
  DataServiceConsumer,
  EgressPeer,
  PlatformLabels,
} from "./lib";
export * from "./MicroService";
export * from "./ScheduledJob";
export * from "./Worker";
export { KEDA_API_VERSION, type QueueScaling } from "./queue-scaling";
export * from "./ContainerImage";
export * from "./PlatformNamespace";
export * from "./ManagedPostgres";
export * from "./RedisCache";
export * from "./MessageBroker";
export * from "./Network";
export * from "./KubernetesCluster";
export * from "./IngressGateway";
export * from "./ObservabilityStack";
export * from "./ServiceMonitoring";
export * from "./metrics";
export * from "./monitoring-rules";
export * from "./dashboards";
export * from "./PostgresOperator";
export * from "./DataStoreMonitoring";
export * from "./datastore-rules";
export * from "./VolumeBackup";
export * from "./AlertTopic";
export * from "./aws-alarms";
export { DEFAULT_CLUSTER_NETWORK, type ClusterNetwork } from "./addon-network";
