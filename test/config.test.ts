/**
 * The stack config contract: every bad config is reported at once, each problem with its full key,
 * what was expected and what was found; the error names the stack file; nothing is registered.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, resolveSettings, formatProblem, type ConfigSource } from "../config/settings";
import * as path from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseStackConfig, readStackConfig, REPO_ROOT, runStack, SECURE_MARKER } from "./harness";

const PRODUCTION_BASE = {
  "platform:stage": "production",
  "platform:catalogs": '["fintech"]',
  "platform:cluster": JSON.stringify({
    provider: "aws",
    adminRoleArns: ["arn:aws:iam::123456789012:role/admins"],
    deployRoleArn: "arn:aws:iam::123456789012:role/deployer",
  }),
  "platform:ingress": JSON.stringify({ domain: "example.com", tls: { acmeEmail: "ops@example.com" } }),
};

function source(
  values: Record<string, string>,
  opts: { stack?: string; secret?: string[] } = {},
): ConfigSource {
  return {
    project: "platform",
    stack: opts.stack ?? "production",
    values,
    secretKeys: new Set(opts.secret ?? []),
  };
}

/** Resolves and returns the formatted problems (empty when the config is valid). */
function problems(
  values: Record<string, string>,
  opts: { stack?: string; secret?: string[] } = {},
): string[] {
  try {
    resolveSettings(source(values, opts));
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map(formatProblem);
  }
}

describe("stack config: valid", () => {
  it("accepts every committed stack file", () => {
    for (const stack of ["local", "staging", "production"]) {
      const { config, secretKeys } = readStackConfig(stack);
      const values = Object.fromEntries(
        Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
      );
      const { settings } = resolveSettings(source(values, { stack, secret: secretKeys }));
      expect(settings.stage).toBe(stack);
      expect(settings.catalogs.map((c) => c.name)).toEqual(["ecommerce", "fintech", "trading"]);
    }
  });

  it("accepts a backend-only key when some catalog's store runs on that backend, and refuses it when none does", () => {
    // fintech on RDS, trading in-cluster (TimescaleDB): both RDS and in-cluster settings are read.
    const mixed = {
      ...PRODUCTION_BASE,
      "platform:catalogs": '["fintech", "trading"]',
      "platform:database": JSON.stringify({
        instanceClass: "db.r6g.large",
        storageSize: "50Gi",
        byCatalog: { trading: { backend: "inCluster" } },
      }),
    };
    expect(problems(mixed)).toEqual([]);
    // fintech alone: nothing runs in-cluster, so storageSize would be dropped without a word.
    expect(
      problems({ ...PRODUCTION_BASE, "platform:database": JSON.stringify({ storageSize: "50Gi" }) }),
    ).toEqual([
      'platform:database.storageSize: expected nothing: it is a setting of the in-cluster server, and the stack\'s database backend is "aws" (set platform:database.backend to "inCluster", or remove the key), found "50Gi"',
    ]);
  });

  it("fills what the stack does not say from its stage profile", () => {
    const { settings } = resolveSettings(source(PRODUCTION_BASE));
    expect(settings.database).toMatchObject({
      backend: "aws",
      instanceClass: "db.r6g.large",
      multiAz: true,
      deletionProtection: true,
      backupRetentionDays: 30,
    });
    expect(settings.network).toMatchObject({ availabilityZoneCount: 3, natGateways: "perZone" });
    expect(settings.profile.protectStateful).toBe(true);
    expect(settings.cluster.provider).toBe("aws");
    const staging = resolveSettings(
      source({ ...PRODUCTION_BASE, "platform:stage": "staging" }, { stack: "staging" }),
    ).settings;
    expect(staging.database).toMatchObject({
      multiAz: false,
      deletionProtection: false,
      backupRetentionDays: 7,
    });
    expect(staging.network).toMatchObject({ availabilityZoneCount: 2, natGateways: "single" });
  });

  it("lets the stack override the profile", () => {
    const { settings } = resolveSettings(
      source({
        ...PRODUCTION_BASE,
        "platform:database": JSON.stringify({ instanceClass: "db.r6g.xlarge", backupRetentionDays: 35 }),
      }),
    );
    expect(settings.database.instanceClass).toBe("db.r6g.xlarge");
    expect(settings.database.backupRetentionDays).toBe(35);
  });

  it("leaves Helm-chart components out of the local stack unless a chart path is given, and says so", () => {
    // A chart path must exist (a missing one is refused: see the bad-config corpus).
    const chartDir = mkdtempSync(path.join(tmpdir(), "kps-chart-"));
    const local = resolveSettings(
      source({ "platform:stage": "local", "platform:catalogs": '["trading"]' }, { stack: "local" }),
    ).settings;
    expect(local.ingress.enabled).toBe(false);
    expect(local.observability.enabled).toBe(false);
    expect(local.warnings.join("\n")).toContain(
      "kube-prometheus-stack (ObservabilityStack) is left out of the local stack",
    );
    const withChart = resolveSettings(
      source(
        {
          "platform:stage": "local",
          "platform:catalogs": '["trading"]',
          "platform:observability": JSON.stringify({ chart: { path: chartDir } }),
        },
        { stack: "local" },
      ),
    ).settings;
    expect(withChart.observability).toMatchObject({
      enabled: true,
      chart: { source: "localPath", path: chartDir },
    });
  });

  it("runs in-cluster PostgreSQL on CloudNativePG on EKS (3 synchronous instances in production, 2 in staging), and says when it cannot", () => {
    const staging = resolveSettings(
      source(
        {
          ...PRODUCTION_BASE,
          "platform:stage": "staging",
          "platform:catalogs": '["trading"]',
          "platform:database": '{"byCatalog":{"trading":{"backend":"inCluster"}}}',
        },
        { stack: "staging" },
      ),
    ).settings;
    expect(staging.database.operator).toMatchObject({
      enabled: true,
      instances: 2,
      synchronousReplication: false,
      chart: { source: "repository" },
    });
    const production = resolveSettings(
      source({
        ...PRODUCTION_BASE,
        "platform:catalogs": '["trading"]',
        "platform:database":
          '{"byCatalog":{"trading":{"backend":"inCluster","restore":{"from":"trading-postgres","targetTime":"2026-11-30T09:15:00Z"}}}}',
      }),
    ).settings;
    expect(production.database.operator).toMatchObject({
      enabled: true,
      instances: 3,
      synchronousReplication: true,
    });
    expect(production.database.restoreByCatalog).toEqual({
      trading: { from: "trading-postgres", targetTime: "2026-11-30T09:15:00Z" },
    });
    expect(production.warnings.join("\n")).not.toContain("single StatefulSet");
    const local = resolveSettings(
      source({ "platform:stage": "local", "platform:catalogs": '["trading"]' }, { stack: "local" }),
    ).settings;
    expect(local.database.operator.enabled).toBe(false);
    expect(local.warnings).toContain(
      'In-cluster PostgreSQL (trading) runs as a single StatefulSet: no replicas, no failover, no backups, no point-in-time restore. CloudNativePG needs platform:cluster.provider "aws" (its backups go to S3 through IRSA).',
    );
  });

  it("wraps nothing secret into plain settings", () => {
    const result = resolveSettings(
      source(
        {
          ...PRODUCTION_BASE,
          "platform:catalogs": '["ecommerce"]',
          "platform:secrets": '{"ecommerce.STRIPE_API_KEY":"sk_live_abc"}',
        },
        { secret: ["platform:secrets"] },
      ),
    );
    expect(JSON.stringify(result.settings)).not.toContain("sk_live_abc");
    expect(result.settings.externalSecretKeys).toEqual(["ecommerce.STRIPE_API_KEY"]);
    expect(result.secrets.externalSecrets["ecommerce.STRIPE_API_KEY"]).toBe("sk_live_abc");
  });
});

describe("stack config: every bad config gets an exact message", () => {
  it("1. wrong type", () => {
    expect(problems({ ...PRODUCTION_BASE, "platform:database": '{"allocatedStorageGb":"lots"}' })).toEqual([
      'platform:database.allocatedStorageGb: expected a whole number, found "lots"',
    ]);
  });

  it("2. unknown top-level key (a typo)", () => {
    expect(problems({ ...PRODUCTION_BASE, "platform:databse": '{"backend":"aws"}' })).toEqual([
      'platform:databse: expected a known key: did you mean "database"?, found {"backend":"aws"}',
    ]);
  });

  it("3. unknown nested key", () => {
    expect(problems({ ...PRODUCTION_BASE, "platform:database": '{"instanceclass":"db.r6g.large"}' })).toEqual(
      [
        'platform:database.instanceclass: expected a known key: did you mean "instanceClass"?, found "db.r6g.large"',
      ],
    );
  });

  it("3b. unknown key that resembles none: the known keys are listed", () => {
    expect(problems({ ...PRODUCTION_BASE, "platform:database": '{"replicas":2}' })).toEqual([
      "platform:database.replicas: expected a known key (allocatedStorageGb, backend, backupRetentionDays, byCatalog, deletionProtection, engineVersion, instanceClass, maxAllocatedStorageGb, multiAz, operator, storageSize), found 2",
    ]);
  });

  it("4. out-of-range number", () => {
    expect(problems({ ...PRODUCTION_BASE, "platform:database": '{"backupRetentionDays":3}' })).toEqual([
      "platform:database.backupRetentionDays: expected a whole number from 7 to 35, found 3",
    ]);
  });

  it("5. unknown catalog", () => {
    expect(problems({ ...PRODUCTION_BASE, "platform:catalogs": '["fintech","banking"]' })).toEqual([
      'platform:catalogs.1: expected one of "ecommerce", "fintech", "trading", found "banking"',
    ]);
  });

  it("6. contradictory options: AWS-managed database on an existing cluster", () => {
    expect(
      problems(
        {
          "platform:stage": "local",
          "platform:catalogs": '["fintech"]',
          "platform:database": '{"backend":"aws"}',
        },
        { stack: "local" },
      ),
    ).toEqual([
      'platform:database.backend: expected "inCluster" when platform:cluster.provider is "existing" (AWS-managed data services need the VPC this program creates with cluster.provider "aws"), found "aws"',
    ]);
  });

  it("7. contradictory options: EKS settings with an existing cluster, kubeconfig with aws", () => {
    expect(
      problems(
        {
          "platform:stage": "local",
          "platform:catalogs": '["fintech"]',
          "platform:cluster": '{"provider":"existing","kubernetesVersion":"1.33"}',
        },
        { stack: "local" },
      ),
    ).toEqual([
      'platform:cluster.kubernetesVersion: expected no value when platform:cluster.provider is "existing" (it configures an EKS cluster this stack does not create), found "1.33"',
    ]);
    expect(
      problems({
        ...PRODUCTION_BASE,
        "platform:cluster": JSON.stringify({
          provider: "aws",
          kubeconfig: "~/.kube/config",
          adminRoleArns: ["arn:aws:iam::123456789012:role/a"],
          deployRoleArn: "arn:aws:iam::123456789012:role/deployer",
        }),
      }),
    ).toEqual([
      'platform:cluster.kubeconfig: expected no value when platform:cluster.provider is "aws" (the program builds the kubeconfig from the EKS cluster it creates), found "~/.kube/config"',
    ]);
  });

  it("8. instance class of the wrong family", () => {
    expect(
      problems({
        ...PRODUCTION_BASE,
        "platform:database": '{"instanceClass":"m5.large"}',
        "platform:cache": '{"nodeType":"db.r6g.large"}',
      }),
    ).toEqual([
      'platform:cache.nodeType: expected an ElastiCache node type known to the price table (scripts/cost/prices.eu-west-1.json): cache.t4g.micro, cache.t4g.small, cache.r7g.large (add it there to use another), found "db.r6g.large"',
      'platform:database.instanceClass: expected an RDS instance class known to the price table (scripts/cost/prices.eu-west-1.json): db.t4g.micro, db.t4g.small, db.t4g.medium, db.r6g.large, db.r6g.xlarge (add it there to use another), found "m5.large"',
    ]);
  });

  it("9. node group min > max", () => {
    const cluster = {
      provider: "aws",
      adminRoleArns: ["arn:aws:iam::123456789012:role/admins"],
      deployRoleArn: "arn:aws:iam::123456789012:role/deployer",
      nodeGroups: { general: { instanceTypes: ["m5.large"], minSize: 5, maxSize: 2 } },
    };
    expect(problems({ ...PRODUCTION_BASE, "platform:cluster": JSON.stringify(cluster) })).toEqual([
      "platform:cluster.nodeGroups.general.minSize: expected at most maxSize (2), found 5",
    ]);
  });

  it("10. no admin role and no deploy role in production", () => {
    expect(problems({ ...PRODUCTION_BASE, "platform:cluster": '{"provider":"aws"}' })).toEqual([
      "platform:cluster.adminRoleArns: expected at least one IAM role ARN in production (cluster access entries; without one nobody can administer the cluster), found none",
      "platform:cluster.deployRoleArn: expected the IAM role the deploy workflow assumes (AWS_DEPLOY_ROLE_ARN of the production environment, docs/delivery.md) in production: it gets the cluster access entry pulumi up deploys with, found no value",
    ]);
  });

  it("11. a CIDR that is not a CIDR, an unknown Kubernetes version", () => {
    const cluster = {
      provider: "aws",
      adminRoleArns: ["arn:aws:iam::123456789012:role/a"],
      deployRoleArn: "arn:aws:iam::123456789012:role/deployer",
      publicAccessCidrs: ["10.0.0.0/33"],
      kubernetesVersion: "1.19",
    };
    expect(problems({ ...PRODUCTION_BASE, "platform:cluster": JSON.stringify(cluster) })).toEqual([
      'platform:cluster.kubernetesVersion: expected one of "1.32", "1.33", "1.34", found "1.19"',
      'platform:cluster.publicAccessCidrs.0: expected an IPv4 CIDR such as 203.0.113.0/24, found "10.0.0.0/33"',
    ]);
  });

  it("12. a secret-bearing key set in plaintext, without echoing the value", () => {
    const found = problems({
      ...PRODUCTION_BASE,
      "platform:alertWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX",
    });
    expect(found).toEqual([
      "platform:alertWebhookUrl: expected a secret (set it with `pulumi config set --secret platform:alertWebhookUrl …`), found a plaintext value",
    ]);
    expect(found.join()).not.toContain("hooks.slack.com");
  });

  it("13. a password in config is refused: passwords are generated", () => {
    expect(problems({ ...PRODUCTION_BASE, "platform:database": '{"password":"hunter2hunter2"}' })).toEqual([
      "platform:database.password: expected no password key: every password is generated with @pulumi/random and kept as a Pulumi secret; remove it, found a value (not shown)",
    ]);
  });

  it("14. missing required keys", () => {
    expect(problems({}, { stack: "staging" })).toEqual([
      'platform:stage: expected one of "local", "staging", "production", found nothing',
      'platform:catalogs: expected a list of catalogs from "ecommerce", "fintech", "trading", found nothing',
    ]);
  });

  it("15. per-service overrides: unknown service, min > max, production floors", () => {
    const services = {
      "fintech/backend-api": { replicas: { min: 4, max: 3 } },
      "fintech/risk": { imageTag: "1.0.0" },
      "fintech/portfolio-simulation": { replicas: { min: 1, max: 1 } },
    };
    expect(problems({ ...PRODUCTION_BASE, "platform:services": JSON.stringify(services) })).toEqual([
      "platform:services.fintech/backend-api.replicas.min: expected at most replicas.max (3), found 4",
      'platform:services.fintech/risk: expected a deployed service as <catalog>/<service> (fintech/ai-microservice-engine, fintech/backend-api, fintech/market-data-ingestion, fintech/portfolio-simulation, fintech/python-risk-engine), found "fintech/risk"',
      "platform:services.fintech/portfolio-simulation.replicas.max: expected at least 2 in production, found 1",
      "platform:services.fintech/portfolio-simulation.replicas.min: expected at least 2 in production (a single replica cannot survive a node drain), found 1",
    ]);
  });

  it("16. ACME without an account e-mail; alert receiver without a webhook", () => {
    expect(
      problems({
        ...PRODUCTION_BASE,
        "platform:ingress": '{"domain":"example.com"}',
        "platform:observability": '{"alertReceiver":"slack"}',
      }),
    ).toEqual([
      'platform:ingress.tls.acmeEmail: expected an e-mail address for the ACME account when platform:ingress.tls.issuer is "acme", found nothing',
      'platform:alertWebhookUrl: expected a secret webhook URL when platform:observability.alertReceiver is "slack", found nothing',
    ]);
  });

  it("17. image tag override that is not a tag", () => {
    expect(
      problems({
        ...PRODUCTION_BASE,
        "platform:services": '{"fintech/backend-api":{"imageTag":"latest version"}}',
      }),
    ).toEqual([
      'platform:services.fintech/backend-api.imageTag: expected an image tag such as "1.4.2" or a digest "sha256:…", found "latest version"',
    ]);
  });

  it("17b. data-service images (platform:images): pinned references only, roles by name", () => {
    const digest = `sha256:${"ab".repeat(32)}`; // synthetic, well-formed
    const images = (value: Record<string, string>, stack = "production") =>
      problems(
        {
          ...PRODUCTION_BASE,
          "platform:stage": stack,
          "platform:images": JSON.stringify(value),
        },
        { stack },
      );
    // A digest pin (with or without the tag), and a tag only, are accepted.
    expect(images({ redis: `redis:7.4.5-alpine@${digest}`, curl: `curlimages/curl@${digest}` })).toEqual([]);
    expect(images({ postgres: "postgres:15.14-bookworm" }, "staging")).toEqual([]);
    expect(
      resolveSettings(
        source(
          {
            ...PRODUCTION_BASE,
            "platform:images": JSON.stringify({ rabbitmq: `rabbitmq:3.13.7-management@${digest}` }),
          },
          {},
        ),
      ).settings.images,
    ).toEqual({ rabbitmq: `rabbitmq:3.13.7-management@${digest}` });
    // latest, no tag, a malformed digest and an unknown role are refused, each with its key (in the
    // schema's order of roles, unknown keys last).
    expect(
      images({
        redis: "redis:latest",
        postgres: "postgres",
        curl: "curlimages/curl:8.16.0@sha256:abc123",
        memcached: "memcached:1.6",
      }),
    ).toEqual([
      'platform:images.postgres: expected an image reference repo:tag, repo@sha256:<64 hex> or repo:tag@sha256:<64 hex> (image "postgres" has no tag; pin a version or a digest), found "postgres"',
      'platform:images.redis: expected an image reference repo:tag, repo@sha256:<64 hex> or repo:tag@sha256:<64 hex> (image "redis:latest" is not reproducible; pin a version or a digest), found "redis:latest"',
      'platform:images.curl: expected an image reference repo:tag, repo@sha256:<64 hex> or repo:tag@sha256:<64 hex> (image digest "sha256:abc123" is not a sha256 digest of 64 hex digits), found "curlimages/curl:8.16.0@sha256:abc123"',
      'platform:images.memcached: expected a known key (cloudnativepg, cloudnativepgTimescaledb, curl, postgres, rabbitmq, redis, timescaledb, valkey), found "memcached:1.6"',
    ]);
    // Outside production too, and the error names the stack file.
    expect(() =>
      resolveSettings(
        source(
          {
            ...PRODUCTION_BASE,
            "platform:stage": "staging",
            "platform:images": '{"valkey":"valkey/valkey:latest"}',
          },
          { stack: "staging" },
        ),
      ),
    ).toThrow(
      'Invalid configuration in Pulumi.staging.yaml (1 problem); nothing was created:\n  - platform:images.valkey: expected an image reference repo:tag, repo@sha256:<64 hex> or repo:tag@sha256:<64 hex> (image "valkey/valkey:latest" is not reproducible; pin a version or a digest), found "valkey/valkey:latest"',
    );
  });

  it("18. a backend that cannot honour the catalog: TimescaleDB on RDS", () => {
    expect(problems({ ...PRODUCTION_BASE, "platform:catalogs": '["trading"]' })).toEqual([
      'platform:database.backend: expected "inCluster" for catalog "trading": it needs the timescaledb extension, which RDS does not offer (set platform:database.byCatalog.trading.backend to "inCluster"), found "aws"',
    ]);
    expect(
      problems({
        ...PRODUCTION_BASE,
        "platform:catalogs": '["trading"]',
        "platform:database": '{"byCatalog":{"trading":{"backend":"aws"}}}',
      }),
    ).toEqual([
      'platform:database.byCatalog.trading.backend: expected "inCluster" for catalog "trading": it needs the timescaledb extension, which RDS does not offer (set platform:database.byCatalog.trading.backend to "inCluster"), found "aws"',
    ]);
    const ok = resolveSettings(
      source({
        ...PRODUCTION_BASE,
        "platform:catalogs": '["trading","fintech"]',
        "platform:database": '{"byCatalog":{"trading":{"backend":"inCluster"}}}',
      }),
    );
    expect(ok.settings.database.backendByCatalog).toEqual({ trading: "inCluster", fintech: "aws" });
  });

  it("19. a point-in-time restore the stack cannot do, a malformed target, too few instances: all at once", () => {
    // Trading restores in-cluster at `targetTime`, fintech asks RDS for a restore, two instances only.
    const restoreInProduction = (targetTime: string) => ({
      ...PRODUCTION_BASE,
      "platform:catalogs": '["trading","fintech"]',
      "platform:database": JSON.stringify({
        operator: { instances: 2 },
        byCatalog: {
          trading: { backend: "inCluster", restore: { from: "trading-postgres", targetTime } },
          fintech: { restore: { from: "fintech-postgres" } },
        },
      }),
    });
    expect(problems(restoreInProduction("2026-11-30 09:15"))).toEqual([
      'platform:database.byCatalog.trading.restore.targetTime: expected an RFC 3339 instant with offset such as "2026-11-30T09:15:00Z", found "2026-11-30 09:15"',
    ]);
    // Once the target parses, the cross-key checks run: RDS restores itself; production needs 3 instances.
    expect(problems(restoreInProduction("2026-11-30T09:15:00Z"))).toEqual([
      'platform:database.byCatalog.fintech.restore: expected no restore for backend "aws" (restore RDS with its own point-in-time restore, see docs/restore.md), found {"from":"fintech-postgres"}',
      "platform:database.operator.instances: expected at least 3 in production (synchronous replication keeps a second standby for failover), found 2",
    ]);
    // The local stack has no operator, so no backups to restore from.
    expect(
      problems(
        {
          "platform:stage": "local",
          "platform:catalogs": '["trading"]',
          "platform:database": '{"byCatalog":{"trading":{"restore":{"from":"trading-postgres"}}}}',
        },
        { stack: "local" },
      ),
    ).toEqual([
      'platform:database.byCatalog.trading.restore: expected no restore on this stack: in-cluster PostgreSQL here is a StatefulSet without backups (restores need CloudNativePG: stage staging or production with platform:cluster.provider "aws"), found {"from":"trading-postgres"}',
    ]);
  });

  it("reports every problem at once, in one error naming the stack file", () => {
    let error: unknown;
    try {
      resolveSettings(
        source({
          "platform:stage": "production",
          "platform:catalogs": '["fintech"]',
          "platform:cluster": '{"provider":"aws","publicAccessCidrs":["nope"]}',
          "platform:database": '{"backupRetentionDays":99}',
          "platform:cache": '{"engine":"memcached"}',
        }),
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.split("\n")).toEqual([
      "Invalid configuration in Pulumi.production.yaml (5 problems); nothing was created:",
      '  - platform:cache.engine: expected one of "redis", "valkey", found "memcached"',
      '  - platform:cluster.publicAccessCidrs.0: expected an IPv4 CIDR such as 203.0.113.0/24, found "nope"',
      "  - platform:database.backupRetentionDays: expected a whole number from 7 to 35, found 99",
      "  - platform:ingress.domain: expected a DNS domain for the public Gateway (staging and production), found nothing",
      '  - platform:ingress.tls.acmeEmail: expected an e-mail address for the ACME account when platform:ingress.tls.issuer is "acme", found nothing',
    ]);
  });
});

describe("stack config: the program registers nothing when config is invalid", () => {
  it("fails before any resource but the stack itself", async () => {
    const registered: string[] = [];
    await expect(
      runStack("production", { config: { "platform:database": { backupRetentionDays: 1 } } }).catch(
        (e: Error & { recorded?: { type: string }[] }) => {
          registered.push(...(e.recorded ?? []).map((r) => r.type));
          throw e;
        },
      ),
    ).rejects.toThrow("platform:database.backupRetentionDays: expected a whole number from 7 to 35, found 1");
    expect(registered.filter((t) => t !== "pulumi:pulumi:Stack")).toEqual([]);
    // Positive control: the same stack with valid config does register resources.
    const valid = await runStack("production");
    expect(valid.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length).toBeGreaterThan(0);
  });
});

describe("stack config: the cases of issue 14", () => {
  it("secrets set as the README says (`--secret --path 'platform:secrets[\"…\"]'`) are read as one secret map", () => {
    const { config, secretKeys } = parseStackConfig(
      [
        "config:",
        "  platform:stage: local",
        "  platform:secrets:",
        "    ecommerce.STRIPE_API_KEY:",
        "      secure: v1:abc",
      ].join("\n"),
    );
    expect(config["platform:secrets"]).toEqual({ "ecommerce.STRIPE_API_KEY": SECURE_MARKER });
    expect(secretKeys).toEqual(["platform:secrets"]);
  });

  it("a stack with README-style secrets renders: each credential reaches its service's Secret, as a secret", async () => {
    const run = await runStack("readme-secrets", {
      stackDir: path.join(REPO_ROOT, "test", "fixtures", "stacks"),
    });
    const secret = run.resources.find(
      (r) => r.type === "kubernetes:core/v1:Secret" && r.name === "ecommerce-payment-service-app-secrets",
    );
    expect(secret?.inputs.stringData).toMatchObject({
      secret: true,
      value: { STRIPE_API_KEY: SECURE_MARKER },
    });
    // Supplied credentials get no placeholder warning.
    expect(run.warnings.filter((w) => w.includes("STRIPE_API_KEY") || w.includes("SENDGRID"))).toEqual([]);
  });

  it("a misspelt `platform` namespace is an error naming the key and the right one", () => {
    expect(
      problems({
        ...PRODUCTION_BASE,
        "platfrom:owner": "team-a",
        "plaform:catalogs": '["ecommerce"]',
        "Platform:databse": '{"multiAz":true}',
        "platforms:webhookToken": "abc",
        "aws:region": "eu-west-1",
        "kubernetes:context": "kind",
      }),
    ).toEqual([
      'Platform:databse: expected a key in the "platform" namespace: did you mean platform:database?, found {"multiAz":true}',
      'plaform:catalogs: expected a key in the "platform" namespace: did you mean platform:catalogs?, found ["ecommerce"]',
      'platforms:webhookToken: expected a key in the "platform" namespace (the program reads no "platforms" namespace), found a value (not shown)',
      'platfrom:owner: expected a key in the "platform" namespace: did you mean platform:owner?, found "team-a"',
    ]);
  });

  it("a misspelt namespace of a required key reports both the typo and the missing key", () => {
    expect(
      problems(
        { "platfrom:stage": "production", "platform:catalogs": '["fintech"]' },
        { stack: "production" },
      ),
    ).toEqual([
      'platfrom:stage: expected a key in the "platform" namespace: did you mean platform:stage?, found "production"',
      'platform:stage: expected one of "local", "staging", "production", found nothing',
    ]);
  });

  it("no message carries zod's own text or an empty list", () => {
    const found = problems(
      {
        ...PRODUCTION_BASE,
        "platform:catalogs": '["fintech","ecommerce"]',
        "platform:database": '{"byCatalog":{"banking":{}}}',
        "platform:secrets": '{"stripe":"x","ecommerce.STRIPE_API_KEY":""}',
        "platform:cluster": JSON.stringify({
          provider: "aws",
          adminRoleArns: ["arn:aws:iam::123456789012:role/a"],
          deployRoleArn: "arn:aws:iam::123456789012:role/deployer",
          nodeGroups: {
            General: { instanceTypes: ["m5.large"], minSize: 1, maxSize: 2 },
            g: { instanceTypes: [], minSize: 1, maxSize: 2, taints: [{ key: "", effect: "NoSchedule" }] },
          },
        }),
      },
      { secret: ["platform:secrets"] },
    );
    expect(found).toEqual([
      "platform:cluster.nodeGroups.General: expected a key that is a DNS label (lowercase letters, digits and '-'), found \"General\"",
      "platform:cluster.nodeGroups.g.instanceTypes: expected at least one EC2 instance type, found []",
      'platform:cluster.nodeGroups.g.taints.0.key: expected a non-empty string, found ""',
      "platform:database.byCatalog.banking: expected a known key (ecommerce, fintech, trading), found {}",
      'platform:secrets.stripe: expected a key that is <catalog>.<ENV_NAME>, such as ecommerce.STRIPE_API_KEY, found "stripe"',
      "platform:secrets.ecommerce.STRIPE_API_KEY: expected a non-empty string, found a value (not shown)",
    ]);
    for (const message of found) {
      expect(message).not.toMatch(/Invalid|Too small|Too big|received|\(\)|>=|<=/);
    }
  });

  for (const [what, config, key, message] of [
    [
      "an `imageTag: latest` service override",
      { "platform:services": { "fintech/backend-api": { imageTag: "latest" } } },
      "platform:services.fintech/backend-api.imageTag",
      'expected a pinned tag such as "1.4.2" or a digest, not "latest", found "latest"',
    ],
    [
      "a VPC CIDR with host bits set",
      { "platform:network": { cidr: "10.0.0.1/16" } },
      "platform:network.cidr",
      'expected a CIDR block with no host bits set (did you mean 10.0.0.0/16?), found "10.0.0.1/16"',
    ],
    [
      "a public-access CIDR with host bits set",
      {
        "platform:cluster": {
          provider: "aws",
          kubernetesVersion: "1.33",
          publicAccessCidrs: ["203.0.113.9/24"],
          adminRoleArns: ["arn:aws:iam::123456789012:role/platform-admins"],
          deployRoleArn: "arn:aws:iam::123456789012:role/deployer",
        },
      },
      "platform:cluster.publicAccessCidrs.0",
      'expected a CIDR block with no host bits set (did you mean 203.0.113.0/24?), found "203.0.113.9/24"',
    ],
  ] as const) {
    it(`${what} is refused before any resource is registered, naming the stack file and the key`, async () => {
      let error: (Error & { recorded?: { type: string }[] }) | undefined;
      try {
        await runStack("staging", { config });
      } catch (e) {
        error = e as typeof error;
      }
      expect(error?.message.split("\n")).toEqual([
        "Invalid configuration in Pulumi.staging.yaml (1 problem); nothing was created:",
        `  - ${key}: ${message}`,
      ]);
      expect((error?.recorded ?? []).filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });
  }
});
