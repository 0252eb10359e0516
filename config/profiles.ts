/**
 * Stage profiles: one switch per stack (`platform:stage`) sets the whole production-grade bundle.
 *
 * A stack file only says what differs from its profile. Staging is production's shape, smaller:
 * the same resource types, fewer and cheaper instances, shorter retention, no deletion protection.
 */
import { type Backend, type Stage } from "./schema";

export interface StageProfile {
  /** Cluster source when the stack does not say. */
  clusterProvider: "existing" | "aws";
  dataBackend: Backend;
  /** `protect` + `retainOnDelete` on stateful resources (databases, caches, brokers, volumes, the cluster). */
  protectStateful: boolean;
  /** Replica floor and ceiling for internal services, and the floor for public entry points. */
  replicas: { min: number; max: number; publicMin: number };
  /** Default container resources when a service gives none. */
  defaultResources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  /**
   * Ceiling on the CPU request of every service and data-store container (limits are kept), or
   * undefined for none. The local stack runs the whole platform on one machine: on the real node
   * (two cores) the catalogs' production-sized requests, 5 cores in all, left pods Pending.
   */
  cpuRequestCeiling?: string;
  network: {
    cidr: string;
    availabilityZoneCount: number;
    natGateways: "single" | "perZone";
    flowLogRetentionDays: number;
  };
  kubernetesVersion: "1.32" | "1.33" | "1.34";
  nodeGroups: Record<
    string,
    {
      instanceTypes: string[];
      minSize: number;
      maxSize: number;
      desiredSize: number;
      diskSizeGb: number;
      labels: Record<string, string>;
    }
  >;
  database: {
    instanceClass: string;
    allocatedStorageGb: number;
    maxAllocatedStorageGb: number;
    backupRetentionDays: number;
    multiAz: boolean;
    deletionProtection: boolean;
    storageSize: string;
    /** In-cluster PostgreSQL on CloudNativePG: instances per cluster, and whether commits wait for a standby. */
    inClusterInstances: number;
    synchronousReplication: boolean;
  };
  cache: {
    nodeType: string;
    replicasPerShard: number;
    snapshotRetentionDays: number;
    maxmemoryMb: number;
    storageSize: string;
  };
  broker: {
    instanceType: string;
    deploymentMode: "SINGLE_INSTANCE" | "CLUSTER_MULTI_AZ";
    storageSize: string;
  };
  tlsIssuer: "acme" | "selfSigned";
  observability: { prometheusStorageSize: string; grafanaStorageSize: string };
  /**
   * CloudWatch alarms of the AWS-managed stores (components/aws-alarms.ts): minutes a condition must
   * hold, and the replica lag that alarms. Staging waits longer, so deploys and restarts stay quiet.
   */
  alarms: { sustainMinutes: number; replicationLagSeconds: number };
}

export const STAGE_PROFILES: Readonly<Record<Stage, StageProfile>> = {
  local: {
    clusterProvider: "existing",
    dataBackend: "inCluster",
    protectStateful: false,
    replicas: { min: 1, max: 2, publicMin: 1 },
    defaultResources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    cpuRequestCeiling: "25m",
    network: {
      cidr: "10.0.0.0/16",
      availabilityZoneCount: 2,
      natGateways: "single",
      flowLogRetentionDays: 7,
    },
    kubernetesVersion: "1.33",
    nodeGroups: {},
    database: {
      instanceClass: "db.t4g.micro",
      allocatedStorageGb: 20,
      maxAllocatedStorageGb: 20,
      backupRetentionDays: 7,
      multiAz: false,
      deletionProtection: false,
      storageSize: "2Gi",
      inClusterInstances: 1,
      synchronousReplication: false,
    },
    cache: {
      nodeType: "cache.t4g.micro",
      replicasPerShard: 0,
      snapshotRetentionDays: 0,
      maxmemoryMb: 128,
      storageSize: "1Gi",
    },
    broker: { instanceType: "mq.t3.micro", deploymentMode: "SINGLE_INSTANCE", storageSize: "1Gi" },
    tlsIssuer: "selfSigned",
    observability: { prometheusStorageSize: "5Gi", grafanaStorageSize: "1Gi" },
    alarms: { sustainMinutes: 15, replicationLagSeconds: 300 },
  },
  staging: {
    clusterProvider: "aws",
    dataBackend: "aws",
    protectStateful: false,
    replicas: { min: 2, max: 4, publicMin: 2 },
    defaultResources: {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    },
    network: {
      cidr: "10.20.0.0/16",
      availabilityZoneCount: 2,
      natGateways: "single",
      flowLogRetentionDays: 30,
    },
    kubernetesVersion: "1.33",
    nodeGroups: {
      // Sized by the capacity model (analysis/capacity.ts): minimum replicas, add-ons and DaemonSets
      // fit at minSize; the cluster autoscaler grows the groups for rollouts, Jobs and HPA scale-out.
      general: {
        instanceTypes: ["m5.large"],
        minSize: 5,
        maxSize: 8,
        desiredSize: 5,
        diskSizeGb: 50,
        labels: { "platform/pool": "general" },
      },
      memory: {
        instanceTypes: ["r5.large"],
        minSize: 1,
        maxSize: 2,
        desiredSize: 1,
        diskSizeGb: 50,
        labels: { "platform/pool": "memory" },
      },
    },
    database: {
      instanceClass: "db.t4g.medium",
      allocatedStorageGb: 20,
      maxAllocatedStorageGb: 100,
      backupRetentionDays: 7,
      multiAz: false,
      deletionProtection: false,
      storageSize: "10Gi",
      inClusterInstances: 2,
      synchronousReplication: false,
    },
    cache: {
      nodeType: "cache.t4g.small",
      replicasPerShard: 1,
      snapshotRetentionDays: 1,
      maxmemoryMb: 512,
      storageSize: "2Gi",
    },
    broker: { instanceType: "mq.m5.large", deploymentMode: "SINGLE_INSTANCE", storageSize: "5Gi" },
    tlsIssuer: "acme",
    observability: { prometheusStorageSize: "20Gi", grafanaStorageSize: "5Gi" },
    alarms: { sustainMinutes: 15, replicationLagSeconds: 300 },
  },
  production: {
    clusterProvider: "aws",
    dataBackend: "aws",
    protectStateful: true,
    replicas: { min: 2, max: 10, publicMin: 3 },
    defaultResources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    network: {
      cidr: "10.30.0.0/16",
      availabilityZoneCount: 3,
      natGateways: "perZone",
      flowLogRetentionDays: 365,
    },
    kubernetesVersion: "1.33",
    nodeGroups: {
      // Sized by the capacity model (analysis/capacity.ts), as in staging; 6, not 5, since the trading
      // database's three CloudNativePG instances need one more node's worth at minimum.
      general: {
        instanceTypes: ["m5.large"],
        minSize: 6,
        maxSize: 10,
        desiredSize: 6,
        diskSizeGb: 100,
        labels: { "platform/pool": "general" },
      },
      memory: {
        instanceTypes: ["r5.large"],
        minSize: 1,
        maxSize: 5,
        desiredSize: 2,
        diskSizeGb: 100,
        labels: { "platform/pool": "memory" },
      },
    },
    database: {
      instanceClass: "db.r6g.large",
      allocatedStorageGb: 100,
      maxAllocatedStorageGb: 1000,
      backupRetentionDays: 30,
      multiAz: true,
      deletionProtection: true,
      storageSize: "50Gi",
      inClusterInstances: 3,
      synchronousReplication: true,
    },
    cache: {
      nodeType: "cache.r7g.large",
      replicasPerShard: 2,
      snapshotRetentionDays: 7,
      maxmemoryMb: 4096,
      storageSize: "10Gi",
    },
    broker: { instanceType: "mq.m5.large", deploymentMode: "CLUSTER_MULTI_AZ", storageSize: "20Gi" },
    tlsIssuer: "acme",
    observability: { prometheusStorageSize: "100Gi", grafanaStorageSize: "10Gi" },
    alarms: { sustainMinutes: 5, replicationLagSeconds: 60 },
  },
};
