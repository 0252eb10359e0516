/**
 * The bad-config corpus (issue 14, Deliver 3): stack configs a person could plausibly write, each
 * with the exact list of problems the program reports. Every case runs the real program (index.ts)
 * under the mock harness from an empty stack file (test/fixtures/bad-config/Pulumi.<stack>.yaml, with
 * Pulumi.yaml's defaults as the CLI applies them), and must fail before a single resource is
 * registered, in one error that names the stack file and lists every problem.
 *
 * Adding a config key? Add a case here that names it: a test below fails for a top-level key of
 * config/schema.ts that no case covers.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { topLevelSchemas } from "../config/schema";
import { REPO_ROOT, runStack } from "./harness";

interface BadConfig {
  name: string;
  stack: "local" | "staging" | "production";
  /** Full keys to values (non-strings are JSON-encoded, as the Pulumi CLI hands structured values over). */
  config: Record<string, unknown>;
  /** Keys set with `--secret`. */
  secret?: string[];
  /** The problems, in the order reported: `<key>: expected <what>, found <what>`. */
  expected: string[];
}

const ARN = "arn:aws:iam::123456789012:role/platform-admins";
const DEPLOYER = "arn:aws:iam::123456789012:role/platform-deployer";
/** Valid bases: each case changes only what it is about. */
const PRODUCTION = {
  "platform:stage": "production",
  "platform:catalogs": ["fintech"],
  "platform:cluster": { provider: "aws", adminRoleArns: [ARN], deployRoleArn: DEPLOYER },
  "platform:ingress": { domain: "example.com", tls: { acmeEmail: "ops@example.com" } },
};
const STAGING = {
  "platform:stage": "staging",
  "platform:catalogs": ["ecommerce"],
  "platform:cluster": { provider: "aws" },
  "platform:ingress": { domain: "staging.example.com", tls: { acmeEmail: "ops@example.com" } },
};
const LOCAL = { "platform:stage": "local", "platform:catalogs": ["ecommerce"] };

const CORPUS: BadConfig[] = [
  {
    name: "stage: not a stage",
    stack: "local",
    config: { ...LOCAL, "platform:stage": "prod" },
    expected: ['platform:stage: expected one of "local", "staging", "production", found "prod"'],
  },
  {
    name: "stage: a number",
    stack: "local",
    config: { ...LOCAL, "platform:stage": 3 },
    expected: ['platform:stage: expected one of "local", "staging", "production", found 3'],
  },
  {
    name: "stage: missing",
    stack: "local",
    config: { "platform:catalogs": ["ecommerce"] },
    expected: ['platform:stage: expected one of "local", "staging", "production", found nothing'],
  },
  {
    name: "owner: spaces and capitals",
    stack: "local",
    config: { ...LOCAL, "platform:owner": "Team Platform" },
    expected: ['platform:owner: expected an owner tag such as team-platform, found "Team Platform"'],
  },
  {
    name: "owner: empty",
    stack: "local",
    config: { ...LOCAL, "platform:owner": "" },
    expected: ['platform:owner: expected an owner tag such as team-platform, found ""'],
  },
  {
    name: "catalogs: missing",
    stack: "local",
    config: { "platform:stage": "local" },
    expected: [
      'platform:catalogs: expected a list of catalogs from "ecommerce", "fintech", "trading", found nothing',
    ],
  },
  {
    name: "catalogs: empty list",
    stack: "local",
    config: { ...LOCAL, "platform:catalogs": [] },
    expected: ["platform:catalogs: expected at least one catalog, found []"],
  },
  {
    name: "catalogs: a string, not a list",
    stack: "local",
    config: { ...LOCAL, "platform:catalogs": "fintech" },
    expected: ['platform:catalogs: expected a list, found "fintech"'],
  },
  {
    name: "catalogs: an unknown catalog",
    stack: "local",
    config: { ...LOCAL, "platform:catalogs": ["fintech", "banking"] },
    expected: ['platform:catalogs.1: expected one of "ecommerce", "fintech", "trading", found "banking"'],
  },
  {
    name: "cluster: not a map",
    stack: "local",
    config: { ...LOCAL, "platform:cluster": "aws" },
    expected: ['platform:cluster: expected a map, found "aws"'],
  },
  {
    name: "cluster.provider: unknown",
    stack: "local",
    config: { ...LOCAL, "platform:cluster": { provider: "gke" } },
    expected: ['platform:cluster.provider: expected one of "existing", "aws", found "gke"'],
  },
  {
    name: "cluster: EKS settings with an existing cluster",
    stack: "local",
    config: {
      ...LOCAL,
      "platform:cluster": { provider: "existing", kubernetesVersion: "1.33", adminRoleArns: [ARN] },
    },
    expected: [
      'platform:cluster.kubernetesVersion: expected no value when platform:cluster.provider is "existing" (it configures an EKS cluster this stack does not create), found "1.33"',
      'platform:cluster.adminRoleArns: expected no value when platform:cluster.provider is "existing" (it configures an EKS cluster this stack does not create), found ["arn:aws:iam::123456789012:role/platform-admins"]',
    ],
  },
  {
    name: "cluster: kubeconfig and context with provider aws",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        deployRoleArn: DEPLOYER,
        kubeconfig: "~/.kube/config",
        context: "kind",
      },
    },
    expected: [
      'platform:cluster.kubeconfig: expected no value when platform:cluster.provider is "aws" (the program builds the kubeconfig from the EKS cluster it creates), found "~/.kube/config"',
      'platform:cluster.context: expected no value when platform:cluster.provider is "aws" (the program builds the kubeconfig from the EKS cluster it creates), found "kind"',
    ],
  },
  {
    name: "cluster.kubernetesVersion: unsupported",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": { provider: "aws", adminRoleArns: [ARN], kubernetesVersion: "1.19" },
    },
    expected: ['platform:cluster.kubernetesVersion: expected one of "1.32", "1.33", "1.34", found "1.19"'],
  },
  {
    name: "cluster.publicAccessCidrs: host bits set",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": { provider: "aws", adminRoleArns: [ARN], publicAccessCidrs: ["203.0.113.7/24"] },
    },
    expected: [
      'platform:cluster.publicAccessCidrs.0: expected a CIDR block with no host bits set (did you mean 203.0.113.0/24?), found "203.0.113.7/24"',
    ],
  },
  {
    name: "cluster.publicAccessCidrs: not a CIDR",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        publicAccessCidrs: ["10.0.0.0/33", "office"],
      },
    },
    expected: [
      'platform:cluster.publicAccessCidrs.0: expected an IPv4 CIDR such as 203.0.113.0/24, found "10.0.0.0/33"',
      'platform:cluster.publicAccessCidrs.1: expected an IPv4 CIDR such as 203.0.113.0/24, found "office"',
    ],
  },
  {
    name: "cluster.adminRoleArns: a user, not a role",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": { provider: "aws", adminRoleArns: ["arn:aws:iam::123456789012:user/alice"] },
    },
    expected: [
      'platform:cluster.adminRoleArns.0: expected an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admins, found "arn:aws:iam::123456789012:user/alice"',
    ],
  },
  {
    name: "cluster.adminRoleArns and deployRoleArn: none in production",
    stack: "production",
    config: { ...PRODUCTION, "platform:cluster": { provider: "aws" } },
    expected: [
      "platform:cluster.adminRoleArns: expected at least one IAM role ARN in production (cluster access entries; without one nobody can administer the cluster), found none",
      "platform:cluster.deployRoleArn: expected the IAM role the deploy workflow assumes (AWS_DEPLOY_ROLE_ARN of the production environment, docs/delivery.md) in production: it gets the cluster access entry pulumi up deploys with, found no value",
    ],
  },
  {
    name: "cluster.publicAccessCidrs: documentation ranges and the whole internet in production",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        deployRoleArn: DEPLOYER,
        publicAccessCidrs: ["203.0.113.0/24", "100.64.10.0/24", "192.0.2.128/25", "0.0.0.0/0"],
      },
    },
    expected: [
      'platform:cluster.publicAccessCidrs.0: expected a network the deploy runners really use, not the documentation range 203.0.113.0/24 (RFC 5737), or no publicAccessCidrs at all (a private-only API endpoint, docs/delivery.md), found "203.0.113.0/24"',
      'platform:cluster.publicAccessCidrs.2: expected a network the deploy runners really use, not the documentation range 192.0.2.0/24 (RFC 5737), or no publicAccessCidrs at all (a private-only API endpoint, docs/delivery.md), found "192.0.2.128/25"',
      'platform:cluster.publicAccessCidrs.3: expected the deploy runners\' own networks, or no publicAccessCidrs at all (a private-only API endpoint reached from the in-VPC deploy runner, docs/delivery.md); the whole internet is refused, found "0.0.0.0/0"',
    ],
  },
  {
    name: "cluster.publicAccessCidrs: a block spanning a documentation range in staging",
    stack: "staging",
    config: {
      ...STAGING,
      "platform:cluster": { provider: "aws", publicAccessCidrs: ["198.0.0.0/8"], deployRoleArn: DEPLOYER },
    },
    expected: [
      'platform:cluster.publicAccessCidrs.0: expected a network the deploy runners really use, not the documentation range 198.51.100.0/24 (RFC 5737), or no publicAccessCidrs at all (a private-only API endpoint, docs/delivery.md), found "198.0.0.0/8"',
    ],
  },
  {
    name: "cluster.nodeGroups: minSize above maxSize",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        deployRoleArn: DEPLOYER,
        nodeGroups: { general: { instanceTypes: ["m5.large"], minSize: 5, maxSize: 2 } },
      },
    },
    expected: ["platform:cluster.nodeGroups.general.minSize: expected at most maxSize (2), found 5"],
  },
  {
    name: "cluster.nodeGroups: desiredSize outside min..max",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        deployRoleArn: DEPLOYER,
        nodeGroups: { general: { instanceTypes: ["m5.large"], minSize: 2, maxSize: 4, desiredSize: 9 } },
      },
    },
    expected: [
      "platform:cluster.nodeGroups.general.desiredSize: expected a size from minSize (2) to maxSize (4), found 9",
    ],
  },
  {
    name: "cluster.nodeGroups: none",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": { provider: "aws", adminRoleArns: [ARN], deployRoleArn: DEPLOYER, nodeGroups: {} },
    },
    expected: ["platform:cluster.nodeGroups: expected at least one managed node group, found none"],
  },
  {
    name: "cluster.nodeGroups: a name that is not a DNS label",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        nodeGroups: { General: { instanceTypes: ["m5.large"], minSize: 2, maxSize: 4 } },
      },
    },
    expected: [
      "platform:cluster.nodeGroups.General: expected a key that is a DNS label (lowercase letters, digits and '-'), found \"General\"",
    ],
  },
  {
    name: "cluster.nodeGroups: no instance type, unknown capacity type, bad taint",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        nodeGroups: {
          general: {
            instanceTypes: [],
            minSize: 2,
            maxSize: 4,
            capacityType: "RESERVED",
            taints: [{ key: "", effect: "NoRun" }],
          },
        },
      },
    },
    expected: [
      "platform:cluster.nodeGroups.general.instanceTypes: expected at least one EC2 instance type, found []",
      'platform:cluster.nodeGroups.general.capacityType: expected one of "ON_DEMAND", "SPOT", found "RESERVED"',
      'platform:cluster.nodeGroups.general.taints.0.key: expected a non-empty string, found ""',
      'platform:cluster.nodeGroups.general.taints.0.effect: expected one of "NoSchedule", "PreferNoSchedule", "NoExecute", found "NoRun"',
    ],
  },
  {
    name: "cluster.nodeGroups: disk too small, labels not strings",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        nodeGroups: {
          general: {
            instanceTypes: ["m5.large"],
            minSize: 2,
            maxSize: 4,
            diskSizeGb: 8,
            labels: { tier: 1 },
          },
        },
      },
    },
    expected: [
      "platform:cluster.nodeGroups.general.diskSizeGb: expected a whole number from 20 to 2000, found 8",
      "platform:cluster.nodeGroups.general.labels.tier: expected a string (quote it in YAML), found 1",
    ],
  },
  {
    name: "cluster: an unknown key resembling none",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        deployRoleArn: DEPLOYER,
        region: "eu-west-1",
      },
    },
    expected: [
      'platform:cluster.region: expected a known key (adminRoleArns, apiServer, context, deployRoleArn, kubeconfig, kubernetesVersion, nodeGroups, provider, publicAccessCidrs), found "eu-west-1"',
    ],
  },
  {
    name: "cluster: a key in the wrong case",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": { provider: "aws", adminRoleArns: [ARN], kubernetesversion: "1.33" },
    },
    expected: [
      'platform:cluster.kubernetesversion: expected a known key: did you mean "kubernetesVersion"?, found "1.33"',
    ],
  },
  {
    name: "network.cidr: host bits set",
    stack: "production",
    config: { ...PRODUCTION, "platform:network": { cidr: "10.0.0.1/16" } },
    expected: [
      'platform:network.cidr: expected a CIDR block with no host bits set (did you mean 10.0.0.0/16?), found "10.0.0.1/16"',
    ],
  },
  {
    name: "network: too few zones, unknown NAT mode",
    stack: "production",
    config: { ...PRODUCTION, "platform:network": { availabilityZoneCount: 1, natGateways: "none" } },
    expected: [
      "platform:network.availabilityZoneCount: expected a whole number from 2 to 6, found 1",
      'platform:network.natGateways: expected one of "single", "perZone", found "none"',
    ],
  },
  {
    name: "network.flowLogRetentionDays: a fraction",
    stack: "production",
    config: { ...PRODUCTION, "platform:network": { flowLogRetentionDays: 2.5 } },
    expected: ["platform:network.flowLogRetentionDays: expected a whole number, found 2.5"],
  },
  {
    name: "network: a misspelt key",
    stack: "production",
    config: { ...PRODUCTION, "platform:network": { natGateway: "single" } },
    expected: [
      'platform:network.natGateway: expected a known key: did you mean "natGateways"?, found "single"',
    ],
  },
  {
    name: "database.backend: unknown",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { backend: "rds" } },
    expected: ['platform:database.backend: expected one of "aws", "inCluster", found "rds"'],
  },
  {
    name: "database.engineVersion: a number, not a string",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { engineVersion: 16 } },
    expected: [
      'platform:database.engineVersion: expected one of "15", "16", "17" (quote it in YAML), found 16',
    ],
  },
  {
    name: "database.engineVersion: unsupported",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { engineVersion: "14" } },
    expected: ['platform:database.engineVersion: expected one of "15", "16", "17", found "14"'],
  },
  {
    name: "database.instanceClass: an EC2 type",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { instanceClass: "m5.large" } },
    expected: [
      'platform:database.instanceClass: expected an RDS instance class known to the price table (scripts/cost/prices.eu-west-1.json): db.t4g.micro, db.t4g.small, db.t4g.medium, db.r6g.large, db.r6g.xlarge (add it there to use another), found "m5.large"',
    ],
  },
  {
    name: "database.allocatedStorageGb: not a number",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { allocatedStorageGb: "lots" } },
    expected: ['platform:database.allocatedStorageGb: expected a whole number, found "lots"'],
  },
  {
    name: "database: maxAllocatedStorageGb below allocatedStorageGb",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { allocatedStorageGb: 200, maxAllocatedStorageGb: 100 } },
    expected: [
      "platform:database.maxAllocatedStorageGb: expected at least database.allocatedStorageGb (200), found 100",
    ],
  },
  {
    name: "database.backupRetentionDays: out of range",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { backupRetentionDays: 3 } },
    expected: ["platform:database.backupRetentionDays: expected a whole number from 7 to 35, found 3"],
  },
  {
    name: "database.backupRetentionDays: below production's floor",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { backupRetentionDays: 10 } },
    expected: ["platform:database.backupRetentionDays: expected at least 14 days in production, found 10"],
  },
  {
    name: "database.multiAz: not a boolean",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { multiAz: "yes" } },
    expected: ['platform:database.multiAz: expected true or false, found "yes"'],
  },
  {
    name: "database: a password",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { password: "hunter2hunter2" } },
    expected: [
      "platform:database.password: expected no password key: every password is generated with @pulumi/random and kept as a Pulumi secret; remove it, found a value (not shown)",
    ],
  },
  {
    name: "database.byCatalog: a catalog the stack does not deploy",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { byCatalog: { trading: { backend: "inCluster" } } } },
    expected: ['platform:database.byCatalog.trading: expected a deployed catalog (fintech), found "trading"'],
  },
  {
    name: "database.byCatalog: an unknown catalog",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { byCatalog: { banking: { backend: "inCluster" } } } },
    expected: [
      'platform:database.byCatalog.banking: expected a known key (ecommerce, fintech, trading), found {"backend":"inCluster"}',
    ],
  },
  {
    name: "database: TimescaleDB on RDS",
    stack: "production",
    config: { ...PRODUCTION, "platform:catalogs": ["trading"] },
    expected: [
      'platform:database.backend: expected "inCluster" for catalog "trading": it needs the timescaledb extension, which RDS does not offer (set platform:database.byCatalog.trading.backend to "inCluster"), found "aws"',
    ],
  },
  {
    name: "database.byCatalog: omitting extensions the catalog does not ask for",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:catalogs": ["trading", "fintech"],
      "platform:database": {
        byCatalog: {
          trading: { backend: "inCluster", omitExtensions: ["postgis"] },
          fintech: { omitExtensions: ["timescaledb"] },
        },
      },
    },
    expected: [
      'platform:database.byCatalog.trading.omitExtensions: expected extensions catalog "trading" asks for ("timescaledb"), found ["postgis"]',
      'platform:database.byCatalog.fintech.omitExtensions: expected nothing: catalog "fintech" asks for no PostgreSQL extension, found ["timescaledb"]',
    ],
  },
  {
    name: "database.byCatalog.restore: a malformed target time",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:catalogs": ["trading"],
      "platform:database": {
        byCatalog: {
          trading: {
            backend: "inCluster",
            restore: { from: "trading-postgres", targetTime: "2026-11-30 09:15" },
          },
        },
      },
    },
    expected: [
      'platform:database.byCatalog.trading.restore.targetTime: expected an RFC 3339 instant with offset such as "2026-11-30T09:15:00Z", found "2026-11-30 09:15"',
    ],
  },
  {
    name: "database.byCatalog.restore: from is required",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:catalogs": ["trading"],
      "platform:database": { byCatalog: { trading: { backend: "inCluster", restore: {} } } },
    },
    expected: [
      "platform:database.byCatalog.trading.restore.from: expected a string (required), found nothing",
    ],
  },
  {
    name: "database.byCatalog.restore: RDS restores itself",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:database": { byCatalog: { fintech: { restore: { from: "fintech-postgres" } } } },
    },
    expected: [
      'platform:database.byCatalog.fintech.restore: expected no restore for backend "aws" (restore RDS with its own point-in-time restore, see docs/restore.md), found {"from":"fintech-postgres"}',
    ],
  },
  {
    name: "database.byCatalog.restore: no operator on the local stack",
    stack: "local",
    config: {
      ...LOCAL,
      "platform:database": { byCatalog: { ecommerce: { restore: { from: "ecommerce-postgres" } } } },
    },
    expected: [
      'platform:database.byCatalog.ecommerce.restore: expected no restore on this stack: in-cluster PostgreSQL here is a StatefulSet without backups (restores need CloudNativePG: stage staging or production with platform:cluster.provider "aws"), found {"from":"ecommerce-postgres"}',
    ],
  },
  {
    name: "database.operator.instances: too few in production",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:catalogs": ["trading"],
      "platform:database": { operator: { instances: 2 }, byCatalog: { trading: { backend: "inCluster" } } },
    },
    expected: [
      "platform:database.operator.instances: expected at least 3 in production (synchronous replication keeps a second standby for failover), found 2",
    ],
  },
  {
    name: "database.operator.chart.version: not a version",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { operator: { chart: { version: "latest" } } } },
    expected: [
      'platform:database.operator.chart.version: expected a chart version such as 1.4.2, found "latest"',
    ],
  },
  {
    name: "database.backend: aws on an existing cluster",
    stack: "local",
    config: { ...LOCAL, "platform:database": { backend: "aws" } },
    expected: [
      'platform:database.backend: expected "inCluster" when platform:cluster.provider is "existing" (AWS-managed data services need the VPC this program creates with cluster.provider "aws"), found "aws"',
    ],
  },
  {
    name: "cache.engine: unknown",
    stack: "production",
    config: { ...PRODUCTION, "platform:cache": { engine: "memcached" } },
    expected: ['platform:cache.engine: expected one of "redis", "valkey", found "memcached"'],
  },
  {
    name: "cache.nodeType: an RDS class",
    stack: "production",
    config: { ...PRODUCTION, "platform:cache": { nodeType: "db.r6g.large" } },
    expected: [
      'platform:cache.nodeType: expected an ElastiCache node type known to the price table (scripts/cost/prices.eu-west-1.json): cache.t4g.micro, cache.t4g.small, cache.r7g.large (add it there to use another), found "db.r6g.large"',
    ],
  },
  {
    name: "cache.replicasPerShard: none in production",
    stack: "production",
    config: { ...PRODUCTION, "platform:cache": { replicasPerShard: 0 } },
    expected: [
      "platform:cache.replicasPerShard: expected at least 1 in production (automatic failover needs a replica), found 0",
    ],
  },
  {
    name: "cache.maxmemoryMb: too small",
    stack: "production",
    config: { ...PRODUCTION, "platform:cache": { maxmemoryMb: 16 } },
    expected: ["platform:cache.maxmemoryMb: expected a whole number from 32 to 1048576, found 16"],
  },
  {
    name: "database.instanceClass: an RDS setting where every database runs in-cluster",
    stack: "local",
    config: { ...LOCAL, "platform:database": { instanceClass: "db.r6g.large", multiAz: true } },
    expected: [
      'platform:database.instanceClass: expected nothing: it is an RDS setting, and the stack\'s database backend is "inCluster" (set platform:database.backend to "aws", or remove the key), found "db.r6g.large"',
      'platform:database.multiAz: expected nothing: it is an RDS setting, and the stack\'s database backend is "inCluster" (set platform:database.backend to "aws", or remove the key), found true',
    ],
  },
  {
    name: "cache.maxmemoryMb: an in-cluster setting with ElastiCache",
    stack: "production",
    config: { ...PRODUCTION, "platform:cache": { maxmemoryMb: 512 } },
    expected: [
      'platform:cache.maxmemoryMb: expected nothing: it is a setting of the in-cluster server, and the stack\'s cache backend is "aws" (set platform:cache.backend to "inCluster", or remove the key), found 512',
    ],
  },
  {
    name: "broker.instanceType: an Amazon MQ setting with the in-cluster broker",
    stack: "local",
    config: { ...LOCAL, "platform:broker": { instanceType: "mq.m5.large" } },
    expected: [
      'platform:broker.instanceType: expected nothing: it is an Amazon MQ setting, and the stack\'s broker backend is "inCluster" (set platform:broker.backend to "aws", or remove the key), found "mq.m5.large"',
    ],
  },
  {
    name: "cache.storageSize: not a Kubernetes size",
    stack: "local",
    config: { ...LOCAL, "platform:cache": { storageSize: "20GB" } },
    expected: ['platform:cache.storageSize: expected a storage size above zero such as "20Gi", found "20GB"'],
  },
  {
    name: "cache.backend: aws on an existing cluster",
    stack: "local",
    config: { ...LOCAL, "platform:cache": { backend: "aws" } },
    expected: [
      'platform:cache.backend: expected "inCluster" when platform:cluster.provider is "existing" (AWS-managed data services need the VPC this program creates with cluster.provider "aws"), found "aws"',
    ],
  },
  {
    name: "broker.instanceType: not an Amazon MQ type",
    stack: "production",
    config: { ...PRODUCTION, "platform:broker": { instanceType: "mq.large" } },
    expected: [
      'platform:broker.instanceType: expected an Amazon MQ instance type known to the price table (scripts/cost/prices.eu-west-1.json): mq.t3.micro, mq.m5.large (add it there to use another), found "mq.large"',
    ],
  },
  {
    name: "broker.engineVersion: a number, not a string",
    stack: "production",
    config: { ...PRODUCTION, "platform:broker": { engineVersion: 3.13 } },
    expected: ["platform:broker.engineVersion: expected a string (quote it in YAML), found 3.13"],
  },
  {
    name: "broker: a key in the wrong case",
    stack: "production",
    config: { ...PRODUCTION, "platform:broker": { storagesize: "20Gi" } },
    expected: [
      'platform:broker.storagesize: expected a known key: did you mean "storageSize"?, found "20Gi"',
    ],
  },
  {
    name: "broker.backend: aws on an existing cluster",
    stack: "local",
    config: { ...LOCAL, "platform:broker": { backend: "aws" } },
    expected: [
      'platform:broker.backend: expected "inCluster" when platform:cluster.provider is "existing" (AWS-managed data services need the VPC this program creates with cluster.provider "aws"), found "aws"',
    ],
  },
  {
    name: "ingress.domain: missing in staging",
    stack: "staging",
    config: { ...STAGING, "platform:ingress": { tls: { acmeEmail: "ops@example.com" } } },
    expected: [
      "platform:ingress.domain: expected a DNS domain for the public Gateway (staging and production), found nothing",
    ],
  },
  {
    name: "ingress.domain: not a DNS domain",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:ingress": { domain: "Shop_Example", tls: { acmeEmail: "ops@example.com" } },
    },
    expected: [
      'platform:ingress.domain: expected a DNS domain such as shop.example.com, found "Shop_Example"',
    ],
  },
  {
    name: "ingress.tls.acmeEmail: missing with the ACME issuer",
    stack: "production",
    config: { ...PRODUCTION, "platform:ingress": { domain: "example.com" } },
    expected: [
      'platform:ingress.tls.acmeEmail: expected an e-mail address for the ACME account when platform:ingress.tls.issuer is "acme", found nothing',
    ],
  },
  {
    name: "ingress.tls.issuer: unknown",
    stack: "production",
    config: { ...PRODUCTION, "platform:ingress": { domain: "example.com", tls: { issuer: "letsencrypt" } } },
    expected: ['platform:ingress.tls.issuer: expected one of "acme", "selfSigned", found "letsencrypt"'],
  },
  {
    name: "ingress.tls: a malformed e-mail and server",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:ingress": { domain: "example.com", tls: { acmeEmail: "ops", acmeServer: "letsencrypt" } },
    },
    expected: [
      'platform:ingress.tls.acmeEmail: expected an e-mail address for the ACME account, found "ops"',
      'platform:ingress.tls.acmeServer: expected an ACME directory URL, found "letsencrypt"',
    ],
  },
  {
    name: "ingress.charts: a bad version and an unknown chart",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:ingress": {
        domain: "example.com",
        tls: { acmeEmail: "ops@example.com" },
        charts: { envoyGateway: { version: "latest" }, certmanager: { path: "/charts/cm" } },
      },
    },
    expected: [
      'platform:ingress.charts.envoyGateway.version: expected a chart version such as 1.4.2, found "latest"',
      'platform:ingress.charts.certmanager: expected a known key: did you mean "certManager"?, found {"path":"/charts/cm"}',
    ],
  },
  {
    name: "observability: scrape interval and retention out of range",
    stack: "production",
    config: { ...PRODUCTION, "platform:observability": { scrapeIntervalSeconds: 1, retentionDays: 0 } },
    expected: [
      "platform:observability.scrapeIntervalSeconds: expected a whole number from 5 to 300, found 1",
      "platform:observability.retentionDays: expected a whole number from 1 to 365, found 0",
    ],
  },
  {
    name: "observability.alertReceiver: no webhook",
    stack: "production",
    config: { ...PRODUCTION, "platform:observability": { alertReceiver: "slack" } },
    expected: [
      'platform:alertWebhookUrl: expected a secret webhook URL when platform:observability.alertReceiver is "slack", found nothing',
    ],
  },
  {
    name: "observability.alertReceiver: unknown",
    stack: "production",
    config: { ...PRODUCTION, "platform:observability": { alertReceiver: "email" } },
    expected: [
      'platform:observability.alertReceiver: expected one of "none", "slack", "pagerduty", "webhook", found "email"',
    ],
  },
  {
    name: "observability: a receiver while disabled",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:observability": { enabled: false, alertReceiver: "pagerduty" },
      "platform:alertWebhookUrl": "https://events.pagerduty.com/x",
    },
    secret: ["platform:alertWebhookUrl"],
    expected: [
      'platform:observability.alertReceiver: expected no receiver when platform:observability.enabled is false, found "pagerduty"',
    ],
  },
  {
    name: "observability.prometheusStorageSize: not a Kubernetes size",
    stack: "local",
    config: { ...LOCAL, "platform:observability": { prometheusStorageSize: "10G" } },
    expected: [
      'platform:observability.prometheusStorageSize: expected a storage size above zero such as "20Gi", found "10G"',
    ],
  },
  {
    name: "services: an unknown service",
    stack: "production",
    config: { ...PRODUCTION, "platform:services": { "fintech/risk": { imageTag: "1.0.0" } } },
    expected: [
      'platform:services.fintech/risk: expected a deployed service as <catalog>/<service> (fintech/ai-microservice-engine, fintech/backend-api, fintech/market-data-ingestion, fintech/portfolio-simulation, fintech/python-risk-engine), found "fintech/risk"',
    ],
  },
  {
    name: "services: replicas min above max",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:services": { "fintech/backend-api": { replicas: { min: 4, max: 3 } } },
    },
    expected: [
      "platform:services.fintech/backend-api.replicas.min: expected at most replicas.max (3), found 4",
    ],
  },
  {
    name: "services: one replica in production",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:services": { "fintech/backend-api": { replicas: { min: 1, max: 1 } } },
    },
    expected: [
      "platform:services.fintech/backend-api.replicas.max: expected at least 2 in production, found 1",
      "platform:services.fintech/backend-api.replicas.min: expected at least 2 in production (a single replica cannot survive a node drain), found 1",
    ],
  },
  {
    name: "services: imageTag latest",
    stack: "production",
    config: { ...PRODUCTION, "platform:services": { "fintech/backend-api": { imageTag: "latest" } } },
    expected: [
      'platform:services.fintech/backend-api.imageTag: expected a pinned tag such as "1.4.2" or a digest, not "latest", found "latest"',
    ],
  },
  {
    name: "services: imageTag not a tag",
    stack: "production",
    config: { ...PRODUCTION, "platform:services": { "fintech/backend-api": { imageTag: "v1 final" } } },
    expected: [
      'platform:services.fintech/backend-api.imageTag: expected an image tag such as "1.4.2" or a digest "sha256:…", found "v1 final"',
    ],
  },
  {
    name: "services: malformed resources",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:services": { "fintech/backend-api": { resources: { requests: { cpu: "lots" } } } },
    },
    expected: [
      'platform:services.fintech/backend-api.resources.requests.cpu: expected a CPU quantity above zero such as "500m" or "2", found "lots"',
      "platform:services.fintech/backend-api.resources.requests.memory: expected a string (required), found nothing",
    ],
  },
  {
    name: "services: not a map",
    stack: "production",
    config: { ...PRODUCTION, "platform:services": "fintech/backend-api" },
    expected: ['platform:services: expected a map, found "fintech/backend-api"'],
  },
  {
    name: "secrets: set in plaintext",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:catalogs": ["ecommerce"],
      "platform:secrets": { "ecommerce.STRIPE_API_KEY": "sk_live_abc" },
    },
    expected: [
      "platform:secrets: expected secrets (set each with `pulumi config set --secret --path 'platform:secrets[\"<catalog>.<ENV_NAME>\"]' …`), found a plaintext value",
    ],
  },
  {
    name: "secrets: a credential no deployed service declares",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:catalogs": ["ecommerce"],
      "platform:secrets": { "fintech.STRIPE_API_KEY": "sk_live_abc" },
    },
    secret: ["platform:secrets"],
    expected: [
      "platform:secrets.fintech.STRIPE_API_KEY: expected an external secret a deployed service declares (ecommerce.SENDGRID_API_KEY, ecommerce.STRIPE_API_KEY, ecommerce.STRIPE_WEBHOOK_SECRET), found an undeclared key",
    ],
  },
  {
    name: "secrets: a key that is not <catalog>.<ENV_NAME>, an empty value",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:catalogs": ["ecommerce"],
      "platform:secrets": { stripe: "sk_live_abc", "ecommerce.SENDGRID_API_KEY": "" },
    },
    secret: ["platform:secrets"],
    expected: [
      'platform:secrets.stripe: expected a key that is <catalog>.<ENV_NAME>, such as ecommerce.STRIPE_API_KEY, found "stripe"',
      "platform:secrets.ecommerce.SENDGRID_API_KEY: expected a non-empty string, found a value (not shown)",
    ],
  },
  {
    name: "alertWebhookUrl: set in plaintext",
    stack: "production",
    config: { ...PRODUCTION, "platform:alertWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX" },
    expected: [
      "platform:alertWebhookUrl: expected a secret (set it with `pulumi config set --secret platform:alertWebhookUrl …`), found a plaintext value",
    ],
  },
  {
    name: "alertWebhookUrl: not a URL",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:observability": { alertReceiver: "slack" },
      "platform:alertWebhookUrl": "hooks.slack.com",
    },
    secret: ["platform:alertWebhookUrl"],
    expected: ["platform:alertWebhookUrl: expected an https webhook URL, found a value (not shown)"],
  },
  {
    name: "capacity.enforce: not a boolean",
    stack: "production",
    config: { ...PRODUCTION, "platform:capacity": { enforce: "yes" } },
    expected: ['platform:capacity.enforce: expected true or false, found "yes"'],
  },
  {
    name: "capacity: a misspelt key",
    stack: "production",
    config: { ...PRODUCTION, "platform:capacity": { enforced: false } },
    expected: ['platform:capacity.enforced: expected a known key: did you mean "enforce"?, found false'],
  },
  {
    name: "images.redis: latest",
    stack: "production",
    config: { ...PRODUCTION, "platform:images": { redis: "redis:latest" } },
    expected: [
      'platform:images.redis: expected an image reference repo:tag, repo@sha256:<64 hex> or repo:tag@sha256:<64 hex> (image "redis:latest" is not reproducible; pin a version or a digest), found "redis:latest"',
    ],
  },
  {
    name: "images: a misspelt role and a malformed digest at once",
    stack: "staging",
    config: {
      ...STAGING,
      "platform:images": { postgress: "postgres:16", rabbitmq: "rabbitmq:3.13@sha256:abc" },
    },
    expected: [
      'platform:images.rabbitmq: expected an image reference repo:tag, repo@sha256:<64 hex> or repo:tag@sha256:<64 hex> (image digest "sha256:abc" is not a sha256 digest of 64 hex digits), found "rabbitmq:3.13@sha256:abc"',
      'platform:images.postgress: expected a known key: did you mean "postgres"?, found "postgres:16"',
    ],
  },
  {
    name: "a misspelt top-level key",
    stack: "production",
    config: { ...PRODUCTION, "platform:databse": { backend: "aws" } },
    expected: ['platform:databse: expected a known key: did you mean "database"?, found {"backend":"aws"}'],
  },
  {
    name: "a misspelt namespace for a required key",
    stack: "local",
    config: { "platfrom:stage": "local", "platform:catalogs": ["ecommerce"] },
    expected: [
      'platfrom:stage: expected a key in the "platform" namespace: did you mean platform:stage?, found "local"',
      'platform:stage: expected one of "local", "staging", "production", found nothing',
    ],
  },
  {
    name: "misspelt namespaces, a secret one among them",
    stack: "local",
    config: {
      ...LOCAL,
      "plaform:catalogs": ["fintech"],
      "Platform:owner": "team-a",
      "platfom:alertWebhookUrl": "https://hooks.slack.com/x",
    },
    secret: ["platfom:alertWebhookUrl"],
    expected: [
      'Platform:owner: expected a key in the "platform" namespace: did you mean platform:owner?, found "team-a"',
      'plaform:catalogs: expected a key in the "platform" namespace: did you mean platform:catalogs?, found ["fintech"]',
      'platfom:alertWebhookUrl: expected a key in the "platform" namespace: did you mean platform:alertWebhookUrl?, found a value (not shown)',
    ],
  },
  {
    name: "many problems at once, across keys",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:stage": "production",
      "platform:cluster": { provider: "aws", publicAccessCidrs: ["nope"] },
      "platform:database": { backupRetentionDays: 99 },
      "platform:cache": { engine: "memcached" },
      "platform:ingress": {},
    },
    expected: [
      'platform:cache.engine: expected one of "redis", "valkey", found "memcached"',
      'platform:cluster.publicAccessCidrs.0: expected an IPv4 CIDR such as 203.0.113.0/24, found "nope"',
      "platform:database.backupRetentionDays: expected a whole number from 7 to 35, found 99",
      "platform:ingress.domain: expected a DNS domain for the public Gateway (staging and production), found nothing",
      'platform:ingress.tls.acmeEmail: expected an e-mail address for the ACME account when platform:ingress.tls.issuer is "acme", found nothing',
    ],
  },
  {
    name: "many problems at once: types, cross-key rules and typos together",
    stack: "staging",
    config: {
      ...STAGING,
      "platform:network": { cidr: "10.1.2.3/16", availabilityZoneCount: 9 },
      "platform:services": {
        "ecommerce/payment-service": { replicas: { min: 3, max: 2 }, imageTag: "latest" },
      },
      "platform:observability": { alertReceiver: "slack" },
      "platfrom:owner": "team-a",
    },
    expected: [
      'platform:network.cidr: expected a CIDR block with no host bits set (did you mean 10.1.0.0/16?), found "10.1.2.3/16"',
      "platform:network.availabilityZoneCount: expected a whole number from 2 to 6, found 9",
      'platform:services.ecommerce/payment-service.imageTag: expected a pinned tag such as "1.4.2" or a digest, not "latest", found "latest"',
      'platfrom:owner: expected a key in the "platform" namespace: did you mean platform:owner?, found "team-a"',
      'platform:alertWebhookUrl: expected a secret webhook URL when platform:observability.alertReceiver is "slack", found nothing',
    ],
  },
  {
    name: "many problems at once: nothing usable",
    stack: "production",
    config: {
      "platform:stage": "prd",
      "platform:catalogs": "all",
      "platform:cluster": [],
      "platform:capacity": true,
    },
    expected: [
      "platform:capacity: expected a map, found true",
      'platform:catalogs: expected a list, found "all"',
      "platform:cluster: expected a map, found []",
      'platform:stage: expected one of "local", "staging", "production", found "prd"',
    ],
  },
  // Well formed, but not real: values checked against the data the program already has.
  {
    name: "database.instanceClass: well formed, but no such class",
    stack: "production",
    config: { ...PRODUCTION, "platform:database": { instanceClass: "db.r6g.larg" } },
    expected: [
      'platform:database.instanceClass: expected an RDS instance class known to the price table (scripts/cost/prices.eu-west-1.json): db.t4g.micro, db.t4g.small, db.t4g.medium, db.r6g.large, db.r6g.xlarge (add it there to use another), found "db.r6g.larg"',
    ],
  },
  {
    name: "cluster.nodeGroups: an instance type EC2 does not have",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN],
        nodeGroups: { general: { instanceTypes: ["m5.medium"], minSize: 2, maxSize: 4 } },
      },
    },
    expected: [
      'platform:cluster.nodeGroups.general.instanceTypes.0: expected an EC2 instance type known to both the capacity model (analysis/capacity.ts) and the price table (scripts/cost): t3.medium, m5.large, m5.xlarge, r5.large, r5.xlarge (add it there to use another), found "m5.medium"',
    ],
  },
  {
    name: "broker.instanceType: well formed, but no such type",
    stack: "production",
    config: { ...PRODUCTION, "platform:broker": { instanceType: "mq.m5.medium" } },
    expected: [
      'platform:broker.instanceType: expected an Amazon MQ instance type known to the price table (scripts/cost/prices.eu-west-1.json): mq.t3.micro, mq.m5.large (add it there to use another), found "mq.m5.medium"',
    ],
  },
  {
    name: "aws:region: a Region that does not exist",
    stack: "production",
    config: { ...PRODUCTION, "aws:region": "eu-west-4" },
    expected: [
      'aws:region: expected an AWS Region code such as "eu-west-1" (config/aws-regions.ts lists them), found "eu-west-4"',
    ],
  },
  // Lists: a repeat is a slip.
  {
    name: "catalogs: one listed twice",
    stack: "local",
    config: { ...LOCAL, "platform:catalogs": ["ecommerce", "fintech", "ecommerce"] },
    expected: [
      'platform:catalogs: expected a list without repeats ("ecommerce" is listed twice), found ["ecommerce","fintech","ecommerce"]',
    ],
  },
  {
    name: "cluster.adminRoleArns and publicAccessCidrs: repeats",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:cluster": {
        provider: "aws",
        adminRoleArns: [ARN, ARN],
        publicAccessCidrs: ["203.0.113.0/24", "198.51.100.0/24", "203.0.113.0/24"],
      },
    },
    expected: [
      'platform:cluster.publicAccessCidrs: expected a list without repeats ("203.0.113.0/24" is listed twice), found ["203.0.113.0/24","198.51.100.0/24","203.0.113.0/24"]',
      'platform:cluster.adminRoleArns: expected a list without repeats ("arn:aws:iam::123456789012:role/platform-admins" is listed twice), found ["arn:aws:iam::123456789012:role/platform-admins","arn:aws:iam::123456789012:...',
    ],
  },
  // Paths: a chart that is not on disk would fail mid-deployment.
  {
    name: "observability.chart.path and ingress charts: not on disk",
    stack: "staging",
    config: {
      ...STAGING,
      "platform:observability": { chart: { path: "./charts/kube-prometheus-stack.tgz" } },
      "platform:ingress": {
        domain: "staging.example.com",
        tls: { acmeEmail: "ops@example.com" },
        charts: { envoyGateway: { path: "vendor/gateway-helm" } },
      },
    },
    expected: [
      'platform:ingress.charts.envoyGateway.path: expected a chart directory or .tgz that exists, relative to the project directory, found "vendor/gateway-helm"',
      'platform:observability.chart.path: expected a chart directory or .tgz that exists, relative to the project directory, found "./charts/kube-prometheus-stack.tgz"',
    ],
  },
  // Production safety opt-outs need a stated reason.
  {
    name: "production: safeguards turned off without acknowledgement",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:database": { deletionProtection: false, multiAz: false },
      "platform:capacity": { enforce: false },
    },
    expected: [
      'platform:database.deletionProtection: expected true in production, or the opt-out acknowledged with acknowledge.database.deletionProtection: "<why>", found false',
      'platform:database.multiAz: expected true in production, or the opt-out acknowledged with acknowledge.database.multiAz: "<why>", found false',
      'platform:capacity.enforce: expected true in production, or the opt-out acknowledged with acknowledge.capacity.enforce: "<why>", found false',
    ],
  },
  {
    name: "acknowledge: an opt-out acknowledged that the stack does not take",
    stack: "production",
    config: {
      ...PRODUCTION,
      "platform:database": { multiAz: false },
      "platform:acknowledge": {
        "database.deletionProtection": "left over from the migration",
        "database.multiAz": "a reporting copy: a restore from backup is acceptable",
      },
    },
    expected: [
      'platform:acknowledge.database.deletionProtection: expected an acknowledgement only for an opt-out this stack takes (database.deletionProtection: false in production), found "left over from the migration"',
    ],
  },
  {
    name: "acknowledge: an empty reason",
    stack: "production",
    config: { ...PRODUCTION, "platform:acknowledge": { "capacity.enforce": " " } },
    expected: ['platform:acknowledge.capacity.enforce: expected a reason, found ""'],
  },
  // Zero sizes: well formed, never meant.
  {
    name: "sizes: zero volume, memory and CPU",
    stack: "local",
    config: {
      ...LOCAL,
      "platform:database": { storageSize: "0Gi" },
      "platform:observability": { prometheusStorageSize: "0Mi" },
      "platform:services": {
        "ecommerce/user-service": { resources: { requests: { cpu: "0m", memory: "0Mi" } } },
      },
    },
    expected: [
      'platform:database.storageSize: expected a storage size above zero such as "20Gi", found "0Gi"',
      'platform:observability.prometheusStorageSize: expected a storage size above zero such as "20Gi", found "0Mi"',
      'platform:services.ecommerce/user-service.resources.requests.cpu: expected a CPU quantity above zero such as "500m" or "2", found "0m"',
      'platform:services.ecommerce/user-service.resources.requests.memory: expected a memory quantity above zero such as "512Mi" or "4Gi", found "0Mi"',
    ],
  },
];

const FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "bad-config");

describe("bad-config corpus: every case fails before anything is created, with exactly its problems", () => {
  for (const c of CORPUS) {
    it(c.name, async () => {
      let error: (Error & { recorded?: { type: string }[] }) | undefined;
      try {
        await runStack(c.stack, { stackDir: FIXTURES, config: c.config, secretKeys: c.secret ?? [] });
      } catch (e) {
        error = e as typeof error;
      }
      const n = c.expected.length;
      expect(error?.message.split("\n")).toEqual([
        `Invalid configuration in Pulumi.${c.stack}.yaml (${n} problem${n === 1 ? "" : "s"}); nothing was created:`,
        ...c.expected.map((p) => `  - ${p}`),
      ]);
      expect((error?.recorded ?? []).filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });
  }
});

describe("bad-config corpus: its own shape", () => {
  it("has at least 60 cases, uniquely named, several with many problems at once", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CORPUS.map((c) => c.name)).size).toBe(CORPUS.length);
    expect(CORPUS.filter((c) => c.expected.length >= 3).length).toBeGreaterThanOrEqual(4);
  });

  it("covers every top-level key of the config schema", () => {
    const named = new Set(
      CORPUS.flatMap((c) => c.expected.map((p) => /^platform:([A-Za-z]+)/.exec(p)?.[1] ?? "")),
    );
    expect(Object.keys(topLevelSchemas).filter((key) => !named.has(key))).toEqual([]);
  });

  it("no message carries the validator's own text, an empty list or a secret value", () => {
    const messages = CORPUS.flatMap((c) => c.expected);
    for (const message of messages) {
      expect(message).toMatch(/^[A-Za-z]+:[^ ]+: expected .+, found .+$/);
      expect(message).not.toMatch(/Invalid (input|string|key)|Too (small|big)|received|\(\)|>=|<=/);
    }
    for (const c of CORPUS.filter((c) => c.secret)) {
      for (const key of c.secret ?? []) {
        const value = c.config[key];
        const leaves = typeof value === "string" ? [value] : Object.values(value as Record<string, string>);
        for (const leaf of leaves.filter((l) => l.length > 3))
          expect(c.expected.join("\n")).not.toContain(leaf);
      }
    }
  });
});
