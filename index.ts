/**
 * Composition root: stack config → stage profile → catalogs → components → resources.
 *
 * This file only wires. Decisions live elsewhere: what the stack asked for (config/settings.ts),
 * replica floors, URLs, callers and secrets per service (config/plan.ts), and how each piece is
 * built (components/). Start order is expressed as resource dependencies, never as sequencing in
 * code: a service's workload waits for its data services' bootstrap Jobs and for the workloads of
 * the services it calls — nothing else — so independent services deploy in parallel.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import {
  AlertTopic,
  ContainerImage,
  IngressGateway,
  KubernetesCluster,
  ManagedPostgres,
  MessageBroker,
  MicroService,
  metricsPortNameFor,
  POSTGRES_IMAGES,
  postgresImageKind,
  Network,
  OBSERVABILITY_DEFAULTS,
  ObservabilityStack,
  PlatformNamespace,
  PostgresOperator,
  PROMETHEUS_POD_LABELS,
  RedisCache,
  VolumeBackup,
  type ClusterNetwork,
} from "./components";
import { childName, LABEL, selectorLabels, type DataServiceAwsArgs } from "./components/lib";
import { loadSettings, type PlatformSettings, type SecretInputs } from "./config";
import { PLATFORM_LABEL_DOMAIN as labelDomain } from "./config/label-domain";
import { assertCapacity } from "./analysis/stack";
import {
  capCpuRequest,
  planCatalog,
  publicHostname,
  type CatalogPlan,
  type ServicePlan,
} from "./config/plan";
import { dataStoreServerResources } from "./analysis/demand";
import { plannedDataServices } from "./analysis/intent";
import {
  imagesInResource,
  lockDigestOf,
  pinResourceImages,
  readImageLock,
  type ImageLock,
} from "./config/image-lock";

/**
 * The platform as a Pulumi program. Both hosts run this one function unchanged: the Pulumi CLI's
 * Node.js language host (`pulumi up` with Pulumi.yaml: a program module whose export is a function
 * is called, and its result becomes the stack outputs) and our inline runner (scripts/pulumi.ts,
 * which hands it to the Automation API). The mock harness calls it too.
 */
function platformProgram() {
  const { settings, secrets } = loadSettings();
  for (const warning of settings.warnings) void pulumi.log.warn(warning);
  // Plans first, and a stack that cannot fit its quotas or node groups stops here, before any resource.
  const plans = settings.catalogs.map((catalog) => planCatalog(settings, catalog));
  assertCapacity(settings, plans);

  // The stack's image lock pins every image the cluster runs by digest (config/image-lock.ts).
  const pinImages = imageLockTransforms(settings.stack);
  const network = createNetwork(settings);
  const cluster = createCluster(settings, network, pinImages);
  /** Every Kubernetes resource of the program goes through the cluster's provider, explicitly. */
  const onCluster: pulumi.ComponentResourceOptions = {
    providers: { kubernetes: cluster.provider },
    ...pinImages,
  };
  const observability = createObservability(settings, secrets, network, onCluster);
  const gateway = createGateway(settings, cluster, network, onCluster);
  const alerts = createAlertTopic(settings, secrets);
  const volumeBackup = createVolumeBackup(settings, alerts);
  const postgresOperator = createPostgresOperator(settings, network, onCluster);

  const platform: Platform = {
    settings,
    secrets,
    network,
    cluster,
    onCluster,
    observability,
    gateway,
    postgresOperator,
    alerts,
  };
  const deployed = plans.map((plan) => deployCatalog(platform, plan));
  return stackOutputs(platform, volumeBackup, deployed);
}

export = platformProgram;

/** What the composition steps share: the validated settings and the platform-wide components. */
interface Platform {
  settings: PlatformSettings;
  secrets: SecretInputs;
  network: Network | undefined;
  cluster: KubernetesCluster;
  /** Every Kubernetes resource of the program goes through the cluster's provider, explicitly. */
  onCluster: pulumi.ComponentResourceOptions;
  observability: ObservabilityStack | undefined;
  gateway: IngressGateway | undefined;
  /** The CloudNativePG operator, where in-cluster PostgreSQL runs on it. */
  postgresOperator: PostgresOperator | undefined;
  /** The topic the AWS-managed stores' alarms notify (AWS stacks only). */
  alerts: AlertTopic | undefined;
}

/** On AWS, the VPC the cluster and the AWS-managed stores live in. */
function createNetwork(settings: PlatformSettings): Network | undefined {
  return settings.cluster.provider === "aws"
    ? new Network("platform", {
        cidr: settings.network.cidr,
        availabilityZoneCount: settings.network.availabilityZoneCount,
        natGateways: settings.network.natGateways,
        flowLogRetentionDays: settings.network.flowLogRetentionDays,
        clusterName: `platform-${settings.stack}`,
        tags: settings.tags,
      })
    : undefined;
}

/**
 * `{ transforms }` that pin images by the stack's lock (`Pulumi.<stack>.images.lock.json`), given to
 * every component that runs something on the cluster; nothing when the stack has no lock, so it
 * deploys the tags it names. An image the lock does not know stays a tag and is named in a warning
 * (production's policy refuses it).
 */
function imageLockTransforms(stack: string): { transforms?: pulumi.ResourceTransform[] } {
  const lock: ImageLock | undefined = readImageLock(stack, __dirname);
  if (!lock) return {};
  if (lock.stack !== stack)
    throw new Error(
      `the image lock for stack "${stack}" was written for stack "${lock.stack}"; run npm run images -- lock --stack ${stack}`,
    );
  const digestOf = lockDigestOf(lock);
  const warned = new Set<string>();
  const transform: pulumi.ResourceTransform = (args) => {
    for (const { image, digest } of imagesInResource(args.type, args.props)) {
      if (digest || digestOf(image) || warned.has(image)) continue;
      warned.add(image);
      void pulumi.log.warn(
        `image "${image}" is not in the image lock of stack ${stack}, so it runs by tag; run npm run images -- lock --stack ${stack}`,
      );
    }
    const props = pinResourceImages(args.type, args.props, digestOf);
    return props === args.props ? undefined : { props, opts: args.opts };
  };
  return { transforms: [transform] };
}

/** EKS in that VPC, or an existing cluster (the local stack's embedded one included). */
function createCluster(
  settings: PlatformSettings,
  network: Network | undefined,
  opts: pulumi.ComponentResourceOptions,
): KubernetesCluster {
  return settings.cluster.provider === "aws" && network
    ? new KubernetesCluster(
        "platform",
        {
          provider: "aws",
          clusterName: `platform-${settings.stack}`,
          kubernetesVersion: settings.cluster.kubernetesVersion,
          vpcId: network.vpcId,
          subnetIds: network.privateSubnetIds,
          publicAccessCidrs: settings.cluster.publicAccessCidrs,
          adminRoleArns: settings.cluster.adminRoleArns,
          ...(settings.cluster.deployRoleArn ? { deployRoleArn: settings.cluster.deployRoleArn } : {}),
          requireAdminRoles: settings.stage === "production",
          nodeGroups: settings.cluster.nodeGroups,
          protect: settings.profile.protectStateful,
          tags: settings.tags,
          labelDomain,
        },
        opts,
      )
    : new KubernetesCluster(
        "platform",
        {
          provider: "existing",
          labelDomain,
          ...(settings.cluster.provider === "existing" && settings.cluster.kubeconfig
            ? { kubeconfig: settings.cluster.kubeconfig }
            : {}),
          ...(settings.cluster.provider === "existing" && settings.cluster.context
            ? { context: settings.cluster.context }
            : {}),
        },
        opts,
      );
}

/** kube-prometheus-stack, with the selectors every service's monitoring carries. */
function createObservability(
  settings: PlatformSettings,
  secrets: SecretInputs,
  network: Network | undefined,
  onCluster: pulumi.ComponentResourceOptions,
): ObservabilityStack | undefined {
  return settings.observability.enabled
    ? new ObservabilityStack(
        "observability",
        {
          ...(settings.observability.operatorManifestsPath
            ? { operatorManifests: { path: settings.observability.operatorManifestsPath } }
            : { chart: chartSource(settings.observability.chart) }),
          monitoredNamespaces: settings.catalogs.map((c) => c.namespace),
          ...clusterNetworkArg(network, settings.network.cidr, settings.cluster),
          scrapeIntervalSeconds: settings.observability.scrapeIntervalSeconds,
          retentionDays: settings.observability.retentionDays,
          prometheusStorageSize: settings.observability.prometheusStorageSize,
          grafanaStorageSize: settings.observability.grafanaStorageSize,
          alertReceiver: settings.observability.alertReceiver,
          // A stage with a request ceiling (local: a two-core node) caps the servers' CPU requests too.
          prometheusResources: capCpuRequest(
            OBSERVABILITY_DEFAULTS.prometheusResources,
            settings.profile.cpuRequestCeiling,
          ),
          alertmanagerResources: capCpuRequest(
            OBSERVABILITY_DEFAULTS.alertmanagerResources,
            settings.profile.cpuRequestCeiling,
          ),
          // Only a receiver reads the URL (as for the AWS alert topic below).
          ...(secrets.alertWebhookUrl && settings.observability.alertReceiver !== "none"
            ? { alertWebhookUrl: secrets.alertWebhookUrl }
            : {}),
          stage: settings.stage,
          protect: settings.profile.protectStateful,
          labelDomain,
        },
        onCluster,
      )
    : undefined;
}

/** The public entry: one Gateway, a hostname per platform. */
function createGateway(
  settings: PlatformSettings,
  cluster: KubernetesCluster,
  network: Network | undefined,
  onCluster: pulumi.ComponentResourceOptions,
): IngressGateway | undefined {
  return settings.ingress.enabled
    ? new IngressGateway(
        "gateway",
        {
          domain: settings.ingress.domain,
          // One hostname per platform (config/plan.ts): each keeps its own paths, `/` included.
          additionalHostnames: settings.catalogs.map((c) => publicHostname(c.name, settings.ingress.domain)),
          // ACME settings only mean something with the ACME issuer; the component rejects them otherwise.
          tls: settings.ingress.tls.issuer === "acme" ? settings.ingress.tls : { issuer: "selfSigned" },
          envoyGatewayChart: chartSource(settings.ingress.envoyGatewayChart),
          certManagerChart: chartSource(settings.ingress.certManagerChart),
          loadBalancer: settings.ingress.loadBalancer,
          proxyReplicas: settings.profile.replicas.publicMin < 2 ? 1 : settings.profile.replicas.publicMin,
          controllerReplicas: settings.stage === "local" ? 1 : 2,
          // The rate limiter's Redis is pinned with the caches' (platform:images.redis).
          ...(settings.images.redis ? { rateLimitRedisImage: settings.images.redis } : {}),
          labels: { stage: settings.stage },
          labelDomain,
          ...clusterNetworkArg(network, settings.network.cidr, settings.cluster),
        },
        // On EKS the proxy's NLB needs the AWS Load Balancer Controller: wait for it, delete before it.
        cluster.loadBalancerController
          ? { ...onCluster, dependsOn: [cluster.loadBalancerController] }
          : onCluster,
      )
    : undefined;
}

/**
 * Where AWS-side alerts go (CloudWatch alarms of the AWS-managed stores, failed AWS Backup jobs):
 * one topic per stack, forwarded to Alertmanager's receiver when the stack has a webhook.
 */
function createAlertTopic(settings: PlatformSettings, secrets: SecretInputs): AlertTopic | undefined {
  return settings.cluster.provider === "aws"
    ? new AlertTopic("alerts", {
        receiver: settings.observability.alertReceiver,
        ...(secrets.alertWebhookUrl && settings.observability.alertReceiver !== "none"
          ? { webhookUrl: secrets.alertWebhookUrl }
          : {}),
        protect: settings.profile.protectStateful,
        tags: settings.tags,
      })
    : undefined;
}

/**
 * Volumes outside the operator (ChromaDB, Prometheus, Grafana...): AWS Backup, by the tag the
 * cluster's StorageClass puts on every volume; kept for the stage's retention.
 */
function createVolumeBackup(
  settings: PlatformSettings,
  alerts: AlertTopic | undefined,
): VolumeBackup | undefined {
  return settings.cluster.provider === "aws"
    ? new VolumeBackup("volume-backup", {
        retentionDays: settings.database.backupRetentionDays,
        protect: settings.profile.protectStateful,
        tags: settings.tags,
        ...(alerts ? { alarms: { topicArn: alerts.topicArn } } : {}),
        labelDomain,
      })
    : undefined;
}

/**
 * In-cluster PostgreSQL runs on CloudNativePG where it can (EKS, chart available); see config warnings.
 */
function createPostgresOperator(
  settings: PlatformSettings,
  network: Network | undefined,
  onCluster: pulumi.ComponentResourceOptions,
): PostgresOperator | undefined {
  return settings.database.operator.enabled &&
    settings.catalogs.some(
      (c) => c.data.postgres && settings.database.backendByCatalog[c.name] === "inCluster",
    )
    ? new PostgresOperator(
        "postgres-operator",
        {
          chart: chartSource(settings.database.operator.chart),
          ...clusterNetworkArg(network, settings.network.cidr, settings.cluster),
        },
        onCluster,
      )
    : undefined;
}

/** The stack outputs, grouped so that what a stage does not deploy is simply absent, not an undefined output. */
function stackOutputs(
  { settings, cluster, network, gateway, observability, alerts }: Platform,
  volumeBackup: VolumeBackup | undefined,
  deployed: ReturnType<typeof deployCatalog>[],
) {
  return {
    stage: settings.stage,
    platform: {
      cluster: cluster.provider.urn.apply(() => (settings.cluster.provider === "aws" ? "eks" : "existing")),
      ...(settings.cluster.provider === "aws"
        ? {
            clusterName: cluster.clusterName,
            clusterEndpoint: cluster.endpoint,
            vpcId: network?.vpcId,
            // Where the deploy runner goes: these subnets, in this security group (docs/delivery.md).
            deployRunner: {
              subnetIds: network?.privateSubnetIds,
              securityGroupId: cluster.apiClientSecurityGroupId,
            },
            kubeconfig: pulumi.secret(cluster.kubeconfig),
            ...(volumeBackup ? { volumeBackupVault: volumeBackup.vaultName } : {}),
            // "none": the topic has no subscriber (no alert webhook); subscribe to alertTopic yourself.
            ...(alerts ? { alertTopic: alerts.topicArn, alertTopicDelivery: alerts.delivery } : {}),
          }
        : {}),
      ...(gateway ? { gatewayAddress: gateway.address } : {}),
      ...(observability
        ? { grafanaUrl: observability.grafanaUrl, grafanaAdminSecret: observability.grafanaAdminSecretName }
        : {}),
    },
    publicUrls: Object.fromEntries(deployed.map((d) => [d.catalog, d.publicUrls])),
    serviceUrls: Object.fromEntries(deployed.map((d) => [d.catalog, d.serviceUrls])),
    dataEndpoints: Object.fromEntries(deployed.map((d) => [d.catalog, d.dataEndpoints])),
    /** The public entry services of each catalog, to reach them where there is no gateway (`kubectl port-forward`). */
    entryServices: Object.fromEntries(deployed.map((d) => [d.catalog, d.entryServices])),
  };
}

/**
 * One catalog: its namespace, its data services, the Secrets its services read, the services in
 * start order, their public routes and their monitoring.
 */
function deployCatalog(ctx: Platform, plan: CatalogPlan) {
  const namespace = createCatalogNamespace(ctx, plan);
  const storeContext = dataStoreContext(ctx, plan, namespace);
  const stores = {
    postgres: createPostgres(ctx, plan, storeContext),
    redis: createRedis(ctx, plan, storeContext),
    broker: createBroker(ctx, plan, storeContext),
  };
  const appSecrets = generateAppSecrets(plan, ctx.settings, ctx.secrets, namespace, ctx.cluster.provider);
  const services = createServices(ctx, plan, namespace, stores, appSecrets);
  const publicUrls = createRoutes(ctx, plan, services);
  if (ctx.observability) monitorCatalog(ctx, ctx.observability, plan, namespace, services, stores.postgres);
  return catalogOutputs(plan, services, stores, publicUrls);
}

/** The catalog's data services, by kind; absent where the catalog has none. */
interface CatalogStores {
  postgres: ManagedPostgres | undefined;
  redis: RedisCache | undefined;
  broker: MessageBroker | undefined;
}

/** The catalog's namespace: Pod Security "restricted", quota, limits, default-deny and DNS egress. */
function createCatalogNamespace({ settings, onCluster }: Platform, { catalog, namespace }: CatalogPlan) {
  return new PlatformNamespace(
    catalog.name,
    {
      name: namespace,
      platform: catalog.name,
      stage: settings.stage,
      protect: settings.profile.protectStateful,
      labelDomain,
      // `platform:capacity.enforce: false` opts out of the fit check here as in the plan.
      ...(settings.enforceCapacity ? {} : { quotaFitCheck: false }),
    },
    onCluster,
  );
}

/** What `dataStoreContext` gives each data service's create step. */
type DataStoreContext = ReturnType<typeof dataStoreContext>;

/**
 * What every data service of a catalog shares: the options that make it wait for the namespace (it
 * takes the namespace's plain name), its backend args with AWS placement and alarms, and its
 * consumers' entries (service names of this catalog's namespace).
 */
function dataStoreContext(
  { settings, network, cluster, onCluster, alerts }: Platform,
  plan: CatalogPlan,
  namespace: PlatformNamespace,
) {
  const clients =
    network && storeClientNames(settings, plan).length > 0
      ? createStoreClients(settings, plan, network, cluster, namespace)
      : undefined;
  // Components that take a plain namespace name wait for the Namespace through dependsOn; the AWS
  // stores' clients are created after their SecurityGroupPolicy, so they start in the catalog's group.
  const inNamespace: pulumi.ComponentResourceOptions = {
    ...onCluster,
    dependsOn: [namespace, ...(clients ? [clients.policy] : [])],
  };
  const awsData = network && clients ? awsDataArgs(network, clients.group, settings.tags) : undefined;
  // AWS-managed stores get CloudWatch alarms at the stage's sensitivity; in-cluster ones Prometheus rules.
  const backendOf = (backend: "aws" | "inCluster") => ({
    backend,
    ...(backend === "aws" && awsData ? { aws: awsData } : {}),
    ...(backend === "aws" && alerts
      ? { alarms: { topicArn: alerts.topicArn, ...settings.profile.alarms } }
      : {}),
  });
  const consumers = (names: string[]) => names.map((service) => ({ service, namespace: plan.namespace }));
  return { namespace, inNamespace, backendOf, consumers };
}

/** The catalog's PostgreSQL: RDS, CloudNativePG or (offline) a StatefulSet, per the stack. */
function createPostgres(
  ctx: Platform,
  plan: CatalogPlan,
  { namespace, inNamespace, backendOf }: DataStoreContext,
): ManagedPostgres | undefined {
  const { settings, onCluster, postgresOperator } = ctx;
  const { catalog } = plan;
  const postgresBackend = settings.database.backendByCatalog[catalog.name] ?? settings.database.backend;
  const onOperator = postgresBackend === "inCluster" && postgresOperator !== undefined;
  const restore = settings.database.restoreByCatalog[catalog.name];
  const extensions = (catalog.data.postgres?.extensions ?? []).filter(
    (e) => !(settings.database.omittedExtensionsByCatalog[catalog.name] ?? []).includes(e),
  );
  return catalog.data.postgres
    ? new ManagedPostgres(
        childName(catalog.name, "postgres"),
        {
          ...backendOf(postgresBackend),
          ...(onOperator ? { cloudNativePg: cloudNativePgArgs(ctx) } : {}),
          ...(onOperator && restore ? { restore } : {}),
          ...postgresImageArgs(
            settings,
            postgresImageKind({
              backend: postgresBackend,
              ...(onOperator ? { cloudNativePg: {} } : {}),
              extensions,
            }),
          ),
          namespace: plan.namespace,
          platform: catalog.name,
          stage: settings.stage,
          protect: settings.profile.protectStateful,
          labelDomain,
          engineVersion: settings.database.engineVersion as "15" | "16" | "17",
          extensions,
          consumers: plan.databases.map((d) => ({
            service: d.service,
            namespace: plan.namespace,
            database: d.database,
          })),
          // RDS's settings only for RDS: the component refuses them with backend inCluster.
          ...(postgresBackend === "aws"
            ? {
                instanceClass: settings.database.instanceClass,
                allocatedStorageGb: settings.database.allocatedStorageGb,
                maxAllocatedStorageGb: settings.database.maxAllocatedStorageGb,
                backupRetentionDays: settings.database.backupRetentionDays,
                multiAz: settings.database.multiAz,
                deletionProtection: settings.database.deletionProtection,
                finalSnapshot: settings.profile.protectStateful,
              }
            : {}),
          // The in-cluster server's settings only in the cluster: the component refuses them with backend aws.
          ...(postgresBackend === "inCluster"
            ? {
                storageSize: settings.database.storageSize,
                resources: dataStoreServerResources("postgres", catalog.data.postgres.resources, settings),
              }
            : {}),
        },
        postgresOperator ? { ...onCluster, dependsOn: [namespace, postgresOperator] } : inNamespace,
      )
    : undefined;
}

/** The catalog's cache: ElastiCache or an in-cluster StatefulSet, Redis or Valkey, per the stack. */
function createRedis(
  ctx: Platform,
  plan: CatalogPlan,
  { inNamespace, backendOf, consumers }: DataStoreContext,
): RedisCache | undefined {
  const { settings } = ctx;
  const { catalog } = plan;
  return catalog.data.redis
    ? new RedisCache(
        childName(catalog.name, "redis"),
        {
          ...backendOf(settings.cache.backend),
          namespace: plan.namespace,
          platform: catalog.name,
          stage: settings.stage,
          protect: settings.profile.protectStateful,
          labelDomain,
          engine: settings.cache.engine,
          ...pinnedImage(settings.images[settings.cache.engine]),
          maxmemoryPolicy: catalog.data.redis.maxmemoryPolicy,
          consumers: consumers(plan.redisConsumers),
          ...(settings.cache.backend === "aws"
            ? {
                nodeType: settings.cache.nodeType,
                replicasPerShard: settings.cache.replicasPerShard,
                snapshotRetentionDays: settings.cache.snapshotRetentionDays,
              }
            : {}),
          ...(settings.cache.backend === "inCluster"
            ? {
                maxmemoryMb: settings.cache.maxmemoryMb,
                storageSize: settings.cache.storageSize,
                resources: dataStoreServerResources("redis", catalog.data.redis.resources, settings),
              }
            : {}),
        },
        inNamespace,
      )
    : undefined;
}

/** The catalog's RabbitMQ: Amazon MQ or an in-cluster StatefulSet, with its exchanges, per the stack. */
function createBroker(
  ctx: Platform,
  plan: CatalogPlan,
  { inNamespace, backendOf, consumers }: DataStoreContext,
): MessageBroker | undefined {
  const { settings } = ctx;
  const { catalog } = plan;
  return catalog.data.broker
    ? new MessageBroker(
        childName(catalog.name, "rabbitmq"),
        {
          ...backendOf(settings.broker.backend),
          namespace: plan.namespace,
          platform: catalog.name,
          stage: settings.stage,
          protect: settings.profile.protectStateful,
          labelDomain,
          exchanges: catalog.data.broker.exchanges,
          consumers: consumers(plan.brokerConsumers),
          ...(settings.broker.backend === "aws"
            ? { instanceType: settings.broker.instanceType, deploymentMode: settings.broker.deploymentMode }
            : {}),
          engineVersion: settings.broker.engineVersion,
          ...(settings.images.curl ? { bootstrapImage: settings.images.curl } : {}),
          // The server's image runs only in the cluster (Amazon MQ runs its own); the bootstrap's is curl.
          ...(settings.broker.backend === "inCluster"
            ? {
                ...pinnedImage(settings.images.rabbitmq),
                storageSize: settings.broker.storageSize,
                resources: dataStoreServerResources("rabbitmq", catalog.data.broker.resources, settings),
              }
            : {}),
        },
        inNamespace,
      )
    : undefined;
}

/** The catalog's services in start order, each created after the ones it calls (their endpoints). */
function createServices(
  ctx: Platform,
  plan: CatalogPlan,
  namespace: PlatformNamespace,
  { postgres, redis, broker }: CatalogStores,
  appSecrets: Map<string, k8s.core.v1.Secret>,
): Map<string, MicroService> {
  const { settings, onCluster } = ctx;
  const { catalog } = plan;
  const services = new Map<string, MicroService>();
  const planByName = new Map(plan.services.map((s) => [s.spec.name, s]));
  for (const name of plan.startOrder) {
    const svc = planByName.get(name);
    if (!svc) continue;
    const { spec } = svc;
    const secretEnv: Record<string, { secretName: pulumi.Input<string>; key: string }> = {};
    for (const env of [...svc.generatedSecrets.map((g) => g.env), ...svc.externalSecrets.map((e) => e.env)]) {
      const secret = appSecrets.get(spec.name);
      if (secret) secretEnv[env] = { secretName: secret.metadata.name, key: env };
    }
    const uses = [
      ...(spec.uses.postgres && postgres ? [postgres] : []),
      ...(spec.uses.redis && redis ? [redis] : []),
      ...(spec.uses.broker && broker ? [broker] : []),
    ];
    const calls = svc.dependencies.map((dep) => {
      const callee = services.get(dep.name);
      if (!callee)
        throw new Error(`${catalog.name}: ${spec.name} calls ${dep.name}, which is not deployed before it`);
      return { endpoint: callee.endpoint, env: dep.env };
    });
    const built = buildImage(settings, svc);
    services.set(
      spec.name,
      new MicroService(
        childName(catalog.name, spec.name),
        { ...microServiceArgs(ctx, svc, namespace, secretEnv, built?.imageRef), calls, uses },
        onCluster,
      ),
    );
  }
  return services;
}

/** Public routes on the Gateway for the services a catalog exposes; their URLs by name. */
function createRoutes(
  { gateway }: Platform,
  plan: CatalogPlan,
  services: Map<string, MicroService>,
): Record<string, string> {
  const planByName = new Map(plan.services.map((s) => [s.spec.name, s]));
  const publicUrls: Record<string, string> = {};
  for (const svc of plan.services) {
    const expose = svc.spec.expose;
    const service = services.get(svc.spec.name);
    if (!expose || !gateway || !service) continue;
    const issuer = expose.jwt ? planByName.get(expose.jwt.issuerService) : undefined;
    Object.assign(
      publicUrls,
      gateway.addRoutes(
        svc.spec.name,
        {
          namespace: plan.namespace,
          hostname: plan.hostname,
          port: svc.spec.port,
          protocol: svc.spec.protocol,
          pathPrefixes: expose.pathPrefixes,
          ...(expose.jwt && issuer
            ? {
                jwt: {
                  issuer: expose.jwt.issuer,
                  issuerService: expose.jwt.issuerService,
                  issuerPort: issuer.spec.metrics.port ?? issuer.spec.port,
                  jwksPath: expose.jwt.jwksPath,
                  exemptPathPrefixes: expose.jwt.exemptPathPrefixes,
                },
              }
            : {}),
          ...(expose.rateLimit ? { rateLimit: expose.rateLimit } : {}),
        },
        { dependsOn: [service] },
      ),
    );
  }
  return publicUrls;
}

/** Monitoring for every service that exposes metrics, the catalog's overview, and its data stores. */
function monitorCatalog(
  { settings }: Platform,
  observability: ObservabilityStack,
  plan: CatalogPlan,
  namespace: PlatformNamespace,
  services: Map<string, MicroService>,
  postgres: ManagedPostgres | undefined,
): void {
  const { catalog } = plan;
  const monitored: string[] = [];
  for (const svc of plan.services) {
    const service = services.get(svc.spec.name);
    if (!service || !svc.spec.metrics.enabled) continue;
    observability.monitorService(
      {
        serviceName: svc.spec.name,
        namespace: plan.namespace,
        platform: catalog.name,
        protocol: svc.spec.protocol,
        metricsPortName:
          metricsPortNameFor({
            port: svc.spec.port,
            protocol: svc.spec.protocol,
            metrics: svc.spec.metrics,
          }) ?? svc.spec.protocol,
        metricsPath: svc.spec.metrics.path,
        selectorLabels: selectorLabels(svc.spec.name),
        resources: svc.resources,
      },
      { parent: service },
    );
    monitored.push(svc.spec.name);
  }
  if (monitored.length) observability.addPlatformOverview(catalog.name, monitored);
  // The catalog's volumes and StatefulSets, and its PostgreSQL cluster when on CloudNativePG.
  observability.monitorDataStores(
    {
      namespace: plan.namespace,
      platform: catalog.name,
      postgresClusters:
        postgres?.engine === "cloudnativepg" && postgres.backupServerName
          ? [
              {
                store: childName(catalog.name, "postgres"),
                clusterName: postgres.backupServerName,
                instances: settings.database.operator.instances,
                // Daily base backups: one missed run plus two hours' margin.
                backupMaxAgeHours: 26,
              },
            ]
          : [],
    },
    // Under the stack, not the namespace: whatever waits for the namespace must not wait for monitoring.
    { dependsOn: [namespace] },
  );
}

/** What the stack outputs of one catalog: public and in-cluster URLs, entry services, data endpoints. */
function catalogOutputs(
  plan: CatalogPlan,
  services: Map<string, MicroService>,
  { postgres, redis, broker }: CatalogStores,
  publicUrls: Record<string, string>,
) {
  const { catalog } = plan;
  return {
    catalog: catalog.name,
    publicUrls,
    entryServices: plan.services
      .filter((svc) => svc.spec.expose)
      .map((svc) => ({ service: svc.spec.name, namespace: plan.namespace, port: svc.spec.port })),
    serviceUrls: Object.fromEntries([...services].map(([name, s]) => [name, s.url])),
    dataEndpoints: {
      ...(postgres
        ? {
            postgres: pulumi.interpolate`${postgres.host}:${postgres.port}`,
            // "statefulSet" says it plainly: no replicas, no backups (the offline local stack).
            postgresEngine: postgres.engine,
            ...(postgres.backupServerName ? { postgresBackupServerName: postgres.backupServerName } : {}),
          }
        : {}),
      ...(redis ? { redis: pulumi.interpolate`${redis.host}:${redis.port}` } : {}),
      ...(broker ? { rabbitmq: pulumi.interpolate`${broker.host}:${broker.port}` } : {}),
    },
  };
}

function microServiceArgs(
  { settings, gateway, observability }: Platform,
  svc: ServicePlan,
  namespace: PlatformNamespace,
  secretEnv: Record<string, { secretName: pulumi.Input<string>; key: string }>,
  image: pulumi.Input<string> = svc.image,
): ConstructorParameters<typeof MicroService>[1] {
  const { spec } = svc;
  return {
    namespace: namespace.name,
    serviceName: spec.name,
    platform: svc.catalog,
    stage: settings.stage,
    labelDomain,
    image,
    port: spec.port,
    protocol: spec.protocol,
    metrics: {
      enabled: spec.metrics.enabled,
      path: spec.metrics.path,
      ...(spec.metrics.port ? { port: spec.metrics.port } : {}),
    },
    health: {
      livenessPath: spec.health.livenessPath,
      ...(spec.health.readinessPath ? { readinessPath: spec.health.readinessPath } : {}),
      ...(spec.health.startupPath ? { startupPath: spec.health.startupPath } : {}),
      ...(spec.health.startup ? { startup: spec.health.startup } : {}),
      ...(spec.health.liveness ? { liveness: spec.health.liveness } : {}),
      ...(spec.health.readiness ? { readiness: spec.health.readiness } : {}),
    },
    replicas: svc.replicas,
    resources: svc.resources,
    env: spec.env,
    secretEnv,
    ingressFrom: [
      ...(spec.expose && gateway
        ? [
            {
              namespace: gateway.gatewayNamespace,
              podLabels: gateway.proxyPodLabels,
              port: "service" as const,
            },
          ]
        : []),
      // The Gateway's proxies fetch the JWKS from the issuer's HTTP side port.
      ...(svc.jwtIssuer && gateway
        ? [
            {
              namespace: gateway.gatewayNamespace,
              podLabels: gateway.proxyPodLabels,
              port: "metrics" as const,
            },
          ]
        : []),
      // Prometheus only: Grafana, Alertmanager and the node exporter share its namespace.
      ...(observability && spec.metrics.enabled
        ? [{ namespace: "monitoring", podLabels: { ...PROMETHEUS_POD_LABELS }, port: "metrics" as const }]
        : []),
    ],
    externalEgress: spec.externalEgress,
    ...(spec.persistence
      ? { persistence: { size: spec.persistence.size, mountPath: spec.persistence.mountPath } }
      : {}),
    ...(spec.persistence?.singletonReason ? { singleton: { reason: spec.persistence.singletonReason } } : {}),
    protect: settings.profile.protectStateful,
    writablePaths: spec.writablePaths,
    runAsUser: spec.runAsUser,
    ...(spec.migration ? { migration: { command: spec.migration.command } } : {}),
  };
}

/**
 * The image of a service that builds from source: pushed to an ECR repository of its own when the
 * cluster runs on AWS, loaded into the local Docker daemon otherwise (no registry).
 */
function buildImage(settings: PlatformSettings, svc: ServicePlan): ContainerImage | undefined {
  if (!svc.build) return undefined;
  const ecr = settings.cluster.provider === "aws";
  return new ContainerImage(childName(svc.catalog, `${svc.spec.name}-image`), {
    repositoryName: svc.build.repositoryName,
    imageTag: svc.build.imageTag,
    context: svc.build.context,
    ...(svc.build.dockerfile ? { dockerfile: svc.build.dockerfile } : {}),
    ...(svc.build.pinnedDigest ? { pinnedDigest: svc.build.pinnedDigest } : {}),
    registry: ecr ? "ecr" : "none",
    ...(ecr ? { tags: settings.tags, protect: settings.profile.protectStateful } : {}),
  });
}

/**
 * One Secret per service holding only the secret settings it reads (least privilege): values
 * generated once per catalog secret id (so services sharing an id, like the JWT signing key, agree)
 * or, for third-party credentials, taken from `platform:secrets`. A credential the stack has not
 * supplied gets a generated placeholder and a warning naming the key to set.
 */
function generateAppSecrets(
  plan: CatalogPlan,
  s: PlatformSettings,
  inputs: SecretInputs,
  namespace: PlatformNamespace,
  provider: k8s.Provider,
): Map<string, k8s.core.v1.Secret> {
  const values = new Map<string, pulumi.Output<string>>();
  const valueFor = (id: string, length: number) => {
    let value = values.get(id);
    if (!value) {
      value = new random.RandomPassword(childName(plan.catalog.name, id), { length, special: false }).result;
      values.set(id, value);
    }
    return value;
  };
  const result = new Map<string, k8s.core.v1.Secret>();
  for (const svc of plan.services) {
    if (svc.generatedSecrets.length === 0 && svc.externalSecrets.length === 0) continue;
    const data: Record<string, pulumi.Input<string>> = {};
    for (const g of svc.generatedSecrets) data[g.env] = valueFor(g.id, g.length);
    for (const e of svc.externalSecrets) {
      const supplied = inputs.externalSecrets[e.configKey];
      if (!supplied && !values.has(e.id)) {
        void pulumi.log.warn(
          `${e.configKey} is not set in ${s.stackFile}: ${svc.spec.name} gets a generated placeholder for ${e.env} until you run \`pulumi config set --secret --path 'platform:secrets["${e.configKey}"]' <value>\`.`,
        );
      }
      data[e.env] = supplied ?? valueFor(`${e.id}-placeholder`, 48);
    }
    result.set(
      svc.spec.name,
      new k8s.core.v1.Secret(
        childName(`${plan.catalog.name}-${svc.spec.name}`, "app-secrets"),
        {
          metadata: {
            name: `${svc.spec.name}-app-secrets`,
            namespace: namespace.name,
            labels: {
              "app.kubernetes.io/name": svc.spec.name,
              "app.kubernetes.io/part-of": plan.catalog.name,
              "app.kubernetes.io/managed-by": "pulumi",
            },
          },
          type: "Opaque",
          stringData: pulumi.secret(data),
        },
        { provider, parent: namespace },
      ),
    );
  }
  return result;
}

/** `{ image }` when the stack pins the role (`platform:images`); nothing, so the component's default applies, when not. */
function pinnedImage(image: string | undefined): { image?: string } {
  return image ? { image } : {};
}

/**
 * ManagedPostgres's image for its kind when the stack pins it, with the UID of the kind's postgres user
 * (a pin is the default image by digest or a mirror of it; without `runAsUser` an override runs as 999).
 */
function postgresImageArgs(
  settings: PlatformSettings,
  kind: keyof typeof POSTGRES_IMAGES,
): { image?: string; runAsUser?: number } {
  const image = settings.images[kind];
  return image ? { image, runAsUser: POSTGRES_IMAGES[kind].uid } : {};
}

/** CloudNativePG settings of the stage: instances, replication, backup retention, the IRSA issuer. */
function cloudNativePgArgs({
  settings,
  cluster,
  network,
}: Platform): NonNullable<ConstructorParameters<typeof ManagedPostgres>[1]["cloudNativePg"]> {
  return {
    ...clusterNetworkArg(network, settings.network.cidr, settings.cluster),
    instances: settings.database.operator.instances,
    synchronousReplication: settings.database.operator.synchronousReplication,
    backupRetentionDays: settings.database.backupRetentionDays,
    oidcProviderArn: cluster.oidcProviderArn.apply((arn) => arn ?? ""),
    oidcIssuerUrl: cluster.oidcIssuerUrl.apply((url) => url ?? ""),
    tags: settings.tags,
  };
}

/**
 * On EKS, where the nodes and the API server's endpoints are: the cluster's (private) subnets, API on
 * 443. The add-on namespaces' and the database instances' policies reach the API server there only.
 */
function clusterNetworkArg(
  network: Network | undefined,
  vpcCidr: string,
  cluster?: PlatformSettings["cluster"],
): { clusterNetwork?: ClusterNetwork } {
  if (network)
    return {
      clusterNetwork: {
        cidrs: [...network.privateSubnetCidrs, eksKubernetesServiceIp(vpcCidr)],
        apiServerPorts: [443],
      },
    };
  // An existing cluster that states where its API server is (the local real node does).
  if (cluster?.provider === "existing" && cluster.apiServer)
    return { clusterNetwork: { cidrs: cluster.apiServer.cidrs, apiServerPorts: cluster.apiServer.ports } };
  return {};
}

/**
 * The `kubernetes` Service's ClusterIP on EKS, which picks its service range from the VPC's: 172.20.0.0/16
 * for a VPC in 10.0.0.0/8, else 10.100.0.0/16. A policy engine that matches before kube-proxy's
 * translation sees this address rather than the control plane's interfaces; it forwards to the API
 * server only.
 */
function eksKubernetesServiceIp(vpcCidr: string): string {
  return vpcCidr.startsWith("10.") ? "172.20.0.1/32" : "10.100.0.1/32";
}

/** A catalog's AWS stores: in its VPC subnets, admitting only the catalog's store clients' group. */
function awsDataArgs(
  net: Network,
  clients: aws.ec2.SecurityGroup,
  tags: Record<string, string>,
): DataServiceAwsArgs {
  return {
    vpcId: net.vpcId,
    subnetIds: net.privateSubnetIds,
    subnetCidrs: net.privateSubnetCidrs,
    allowedSecurityGroupIds: [clients.id],
    tags,
  };
}

/**
 * Catalog isolation at the security-group level (docs/connectivity.md): `<catalog>-store-clients`, a
 * security group with no rules of its own that the catalog's AWS stores admit, and a
 * SecurityGroupPolicy of the same name putting the pods that use them (each consumer, its migration
 * Job, each store's bootstrap Job) in it, next to the cluster security group every pod keeps for
 * traffic inside the cluster. Another catalog's pods never carry it, so its stores refuse them.
 */
function createStoreClients(
  settings: PlatformSettings,
  plan: CatalogPlan,
  network: Network,
  cluster: KubernetesCluster,
  namespace: PlatformNamespace,
): { group: aws.ec2.SecurityGroup; policy: k8s.apiextensions.CustomResource } {
  const name = childName(plan.catalog.name, "store-clients");
  const group = new aws.ec2.SecurityGroup(name, {
    vpcId: network.vpcId,
    description: `Pods of ${plan.catalog.name} that use its AWS data stores`,
    egress: [],
    tags: { ...settings.tags, Name: name },
  });
  const clients = storeClientNames(settings, plan);
  const policy = new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: "vpcresources.k8s.aws/v1beta1",
      kind: "SecurityGroupPolicy",
      metadata: {
        name,
        namespace: namespace.name,
        labels: { [LABEL.partOf]: plan.catalog.name, [LABEL.managedBy]: "pulumi" },
      },
      spec: {
        podSelector: { matchExpressions: [{ key: LABEL.name, operator: "In", values: clients }] },
        securityGroups: {
          groupIds: [group.id, cluster.clusterSecurityGroupId.apply((id) => id ?? "")],
        },
      },
    },
    { provider: cluster.provider, dependsOn: [namespace] },
  );
  return { group, policy };
}

/** `app.kubernetes.io/name` of every pod that opens a connection to one of the catalog's AWS stores. */
function storeClientNames(settings: PlatformSettings, plan: CatalogPlan): string[] {
  const stores = plannedDataServices(settings, plan).filter((d) => d.backend === "aws");
  return [...new Set(stores.flatMap((d) => [...d.consumers, childName(d.name, "bootstrap")]))].sort();
}

function chartSource(chart: PlatformSettings["observability"]["chart"]): {
  version: string;
  source: "repository" | "localPath";
  path?: string;
} {
  if (chart.source === "skipped")
    throw new Error("a skipped chart has no source (the component should not have been created)");
  return { version: chart.version, source: chart.source, ...(chart.path ? { path: chart.path } : {}) };
}
