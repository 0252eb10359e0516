/**
 * Every rule of the platform baseline against a compliant and a violating fixture, asserting the
 * exact messages the pack reports. Fixtures are built from one compliant resource per kind and
 * changed field by field, so each failing case shows the single thing that breaks the rule.
 */
import { chartImageValues, pinChartImages } from "../components/chart-images";
import { describe, expect, it } from "vitest";
import {
  RULES,
  elasticacheFailover,
  elasticacheSecure,
  eksHardened,
  evaluate,
  hpaCoverage,
  imageTag,
  imagesDigestPinnedInProduction,
  imagesPinned,
  isDigestPinned,
  kmsKeyRotation,
  looksSecret,
  parseImageReference,
  networkPolicyCoverage,
  noPlaintextSecretEnv,
  pdbCoverage,
  plaintextConnection,
  podSecurityRestricted,
  productionBackups,
  productionEncryptedConnections,
  productionAlarms,
  productionReplicas,
  probesDefined,
  rdsBackups,
  rdsEncrypted,
  rdsIamAuth,
  rdsNotPublic,
  rdsProductionResilience,
  resourcesDefined,
  selectorMatches,
  snsTopicEncrypted,
  stageFor,
  vpcFlowLogs,
  type ResourceRule,
  type RuleContext,
  type RuleResource,
  type StackRule,
} from "./rules";

const production: RuleContext = { stage: "production" };
const staging: RuleContext = { stage: "staging" };
const local: RuleContext = { stage: "local" };

const urn = (type: string, name: string) => `urn:pulumi:production::platform::${type}::${name}`;
const res = (
  type: string,
  name: string,
  props: Record<string, unknown>,
  extra: Partial<RuleResource> = {},
): RuleResource => ({ type, name, urn: urn(type, name), props, ...extra });

/** Deep-merges `patch` into a copy of `base` (arrays and scalars replace). */
function merge<T>(base: T, patch: unknown): T {
  if (
    patch === null ||
    typeof patch !== "object" ||
    Array.isArray(patch) ||
    base === null ||
    typeof base !== "object" ||
    Array.isArray(base)
  )
    return patch as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>))
    out[k] = v === undefined ? undefined : merge(out[k], v);
  return out as T;
}

// ---- Kubernetes fixtures ----------------------------------------------------------------------

const labels = { "app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api" };
const probe = { httpGet: { path: "/health", port: 8000 } };
const container = {
  name: "app",
  image: "ghcr.io/acme/api:1.4.2",
  ports: [{ containerPort: 8000 }],
  env: [
    { name: "LOG_LEVEL", value: "info" },
    { name: "JWT_SECRET", valueFrom: { secretKeyRef: { name: "api", key: "JWT_SECRET" } } },
    { name: "JWT_EXPIRATION", value: "24h" },
  ],
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  startupProbe: probe,
  livenessProbe: probe,
  readinessProbe: probe,
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 1000,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  },
};
const podSpec = {
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 1000,
    fsGroup: 1000,
    seccompProfile: { type: "RuntimeDefault" },
  },
  containers: [container],
  volumes: [{ name: "tmp", emptyDir: {} }],
};
const deploymentProps = {
  metadata: { name: "api", namespace: "shop" },
  spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } },
};
const deployment = (patch: unknown = {}) =>
  res("kubernetes:apps/v1:Deployment", "shop-api", merge(deploymentProps, patch));
const withContainer = (patch: unknown) => ({
  spec: { template: { spec: { containers: [merge(container, patch)] } } },
});

const namespace = (name = "shop", patch: unknown = {}) =>
  res(
    "kubernetes:core/v1:Namespace",
    name,
    merge({ metadata: { name, labels: { "pod-security.kubernetes.io/enforce": "restricted" } } }, patch),
  );
const pdb = (patch: unknown = {}) =>
  res(
    "kubernetes:policy/v1:PodDisruptionBudget",
    "shop-api-pdb",
    merge(
      {
        metadata: { name: "api", namespace: "shop" },
        spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
      },
      patch,
    ),
  );
const hpa = (patch: unknown = {}) =>
  res(
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "shop-api-hpa",
    merge(
      {
        metadata: { name: "api", namespace: "shop" },
        spec: {
          minReplicas: 2,
          maxReplicas: 6,
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
        },
      },
      patch,
    ),
  );
const netpol = (name: string, spec: Record<string, unknown>) =>
  res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `shop-${name}`, {
    metadata: { name, namespace: "shop" },
    spec,
  });
const defaultDeny = netpol("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });

const resourceCheck = (rule: ResourceRule, r: RuleResource, ctx: RuleContext = production) => {
  expect(rule.resourceTypes).toContain(r.type);
  return rule.check(r, ctx);
};
const stackCheck = (rule: StackRule, resources: RuleResource[], ctx: RuleContext = production) =>
  rule.check(resources, ctx).map((v) => v.message);

describe("k8s-pod-security-restricted", () => {
  const compliant = [namespace(), deployment()];

  it("passes a restricted namespace and a restricted workload", () => {
    expect(stackCheck(podSecurityRestricted, compliant)).toEqual([]);
  });

  it("requires the namespace label", () => {
    expect(
      stackCheck(podSecurityRestricted, [
        namespace("shop", { metadata: { labels: { "pod-security.kubernetes.io/enforce": "baseline" } } }),
        deployment(),
      ]),
    ).toEqual([
      'Namespace "shop" must label pod-security.kubernetes.io/enforce=restricted (found "baseline"); an infrastructure namespace that needs less gives its reason in annotation platform.example.com/pod-security-exemption.',
    ]);
    expect(
      stackCheck(podSecurityRestricted, [
        res("kubernetes:core/v1:Namespace", "bare", { metadata: { name: "bare" } }),
      ]),
    ).toEqual([
      'Namespace "bare" must label pod-security.kubernetes.io/enforce=restricted (found no label); an infrastructure namespace that needs less gives its reason in annotation platform.example.com/pod-security-exemption.',
    ]);
  });

  it("reports each container field the restricted profile needs", () => {
    const broken = deployment(
      withContainer({
        securityContext: {
          allowPrivilegeEscalation: true,
          capabilities: { drop: [], add: ["NET_ADMIN"] },
          runAsNonRoot: false,
          seccompProfile: { type: "Unconfined" },
          privileged: true,
        },
      }),
    );
    expect(stackCheck(podSecurityRestricted, [namespace(), broken])).toEqual([
      'Deployment "shop/api" violates Pod Security "restricted": container "app" must not be privileged.',
      'Deployment "shop/api" violates Pod Security "restricted": container "app" must set securityContext.allowPrivilegeEscalation to false.',
      'Deployment "shop/api" violates Pod Security "restricted": container "app" must drop capability ALL.',
      'Deployment "shop/api" violates Pod Security "restricted": container "app" may add only NET_BIND_SERVICE (adds NET_ADMIN).',
      'Deployment "shop/api" violates Pod Security "restricted": container "app" must run as non-root (securityContext.runAsNonRoot true on the pod or the container).',
      'Deployment "shop/api" violates Pod Security "restricted": container "app" must use seccompProfile RuntimeDefault or Localhost (on the pod or the container; found Unconfined).',
    ]);
  });

  it("reports pod-level host access, root and disallowed volumes, and inherits pod-level settings", () => {
    const hostly = deployment({
      spec: {
        template: {
          spec: {
            hostNetwork: true,
            securityContext: { runAsUser: 0, seccompProfile: undefined },
            volumes: [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }],
            containers: [
              merge(container, {
                securityContext: { runAsNonRoot: undefined, seccompProfile: undefined },
                ports: [{ containerPort: 80, hostPort: 80 }],
              }),
            ],
          },
        },
      },
    });
    expect(stackCheck(podSecurityRestricted, [namespace(), hostly])).toEqual([
      'Deployment "shop/api" violates Pod Security "restricted": spec.hostNetwork must not be true.',
      'Deployment "shop/api" violates Pod Security "restricted": volume "docker" uses hostPath; only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret are allowed.',
      'Deployment "shop/api" violates Pod Security "restricted": securityContext.runAsUser must not be 0 (root).',
      'Deployment "shop/api" violates Pod Security "restricted": container "app" must use seccompProfile RuntimeDefault or Localhost (on the pod or the container; found none).',
      'Deployment "shop/api" violates Pod Security "restricted": container "app" must not use hostPort 80.',
    ]);
    // runAsNonRoot on the pod covers the container (the default fixture's pod sets it).
    expect(
      stackCheck(podSecurityRestricted, [
        namespace(),
        deployment(withContainer({ securityContext: { runAsNonRoot: undefined } })),
      ]),
    ).toEqual([]);
  });

  it("checks init containers, Jobs and CronJobs too", () => {
    const init = merge(container, {
      name: "migrate",
      securityContext: { allowPrivilegeEscalation: undefined },
    });
    const job = res("kubernetes:batch/v1:Job", "shop-migrate", {
      metadata: { name: "migrate", namespace: "shop" },
      spec: { template: { metadata: { labels }, spec: { ...podSpec, initContainers: [init] } } },
    });
    const cron = res("kubernetes:batch/v1:CronJob", "shop-report", {
      metadata: { name: "report", namespace: "shop" },
      spec: {
        schedule: "0 * * * *",
        jobTemplate: {
          spec: {
            template: {
              spec: {
                containers: [merge(container, { securityContext: { capabilities: { drop: ["NET_RAW"] } } })],
              },
            },
          },
        },
      },
    });
    expect(stackCheck(podSecurityRestricted, [namespace(), job, cron])).toEqual([
      'Job "shop/migrate" violates Pod Security "restricted": init container "migrate" must set securityContext.allowPrivilegeEscalation to false.',
      'CronJob "shop/report" violates Pod Security "restricted": container "app" must drop capability ALL.',
    ]);
  });

  it("exempts a namespace that names its reason, and the workloads in it", () => {
    const monitoring = namespace("monitoring", {
      metadata: {
        labels: { "pod-security.kubernetes.io/enforce": "privileged" },
        annotations: { "platform.example.com/pod-security-exemption": "node-exporter reads host metrics" },
      },
    });
    const exporter = deployment({
      metadata: { namespace: "monitoring" },
      spec: { template: { spec: { hostPID: true } } },
    });
    expect(stackCheck(podSecurityRestricted, [monitoring, exporter])).toEqual([]);
  });
});

describe("k8s-probes", () => {
  it("passes containers with startup, liveness and readiness probes", () => {
    expect(resourceCheck(probesDefined, deployment())).toEqual([]);
  });

  it("names the missing probes", () => {
    expect(
      resourceCheck(
        probesDefined,
        deployment(withContainer({ startupProbe: undefined, readinessProbe: undefined })),
      ),
    ).toEqual(['Deployment "shop/api" container "app" has no startupProbe, readinessProbe.']);
  });

  it("applies to StatefulSets, not to Jobs", () => {
    const sts = res("kubernetes:apps/v1:StatefulSet", "db", {
      metadata: { name: "db", namespace: "shop" },
      spec: { template: { spec: { containers: [{ name: "postgres", image: "postgres:15.8" }] } } },
    });
    expect(resourceCheck(probesDefined, sts)).toEqual([
      'StatefulSet "shop/db" container "postgres" has no startupProbe, livenessProbe, readinessProbe.',
    ]);
    expect(probesDefined.resourceTypes).not.toContain("kubernetes:batch/v1:Job");
  });
});

describe("k8s-requests-limits", () => {
  it("passes containers with CPU and memory requests and limits", () => {
    expect(resourceCheck(resourcesDefined, deployment())).toEqual([]);
  });

  it("names what is missing", () => {
    expect(
      resourceCheck(
        resourcesDefined,
        deployment(
          withContainer({
            resources: { requests: { memory: undefined }, limits: { cpu: undefined, memory: undefined } },
          }),
        ),
      ),
    ).toEqual([
      'Deployment "shop/api" container "app" does not set resources requests.memory, limits.cpu, limits.memory.',
    ]);
  });

  it("rejects requests above limits", () => {
    expect(
      resourceCheck(
        resourcesDefined,
        deployment(
          withContainer({
            resources: { requests: { cpu: "2", memory: "1Gi" }, limits: { cpu: "500m", memory: "512Mi" } },
          }),
        ),
      ),
    ).toEqual([
      'Deployment "shop/api" container "app" requests CPU 2 above its limit 500m.',
      'Deployment "shop/api" container "app" requests memory 1Gi above its limit 512Mi.',
    ]);
  });
});

describe("k8s-image-pinned", () => {
  it("passes version tags and digests, registry ports included", () => {
    expect(resourceCheck(imagesPinned, deployment())).toEqual([]);
    expect(
      resourceCheck(
        imagesPinned,
        deployment(withContainer({ image: "registry.local:5000/api@sha256:abc123" })),
      ),
    ).toEqual([]);
    expect(imageTag("registry.local:5000/team/api")).toEqual({});
    expect(imageTag("registry.local:5000/team/api:2.0")).toEqual({ tag: "2.0" });
  });

  it("rejects latest and untagged images", () => {
    expect(resourceCheck(imagesPinned, deployment(withContainer({ image: "nginx:latest" })))).toEqual([
      'Deployment "shop/api" container "app" image "nginx:latest" uses the mutable tag "latest"; pin a version tag or a digest.',
    ]);
    expect(
      resourceCheck(imagesPinned, deployment(withContainer({ image: "registry.local:5000/api" }))),
    ).toEqual([
      'Deployment "shop/api" container "app" image "registry.local:5000/api" has no tag; pin a version tag or a digest.',
    ]);
  });
});

describe("k8s-image-digest-pinned-production", () => {
  const digest = `sha256:${"ab12".repeat(16)}`;

  it("passes digest references (with or without a tag) in production", () => {
    for (const image of [`ghcr.io/acme-shop/api@${digest}`, `postgres:15.14-bookworm@${digest}`])
      expect(
        resourceCheck(imagesDigestPinnedInProduction, deployment(withContainer({ image }))),
        image,
      ).toEqual([]);
  });

  it("rejects tag-only images and malformed digests in production, naming each", () => {
    expect(
      resourceCheck(
        imagesDigestPinnedInProduction,
        deployment(withContainer({ image: "redis:7.4.5-alpine" })),
      ),
    ).toEqual([
      'Deployment "shop/api" container "app" image "redis:7.4.5-alpine" is not pinned by digest; production runs only `name@sha256:<digest>` references: lock the stack\'s images with `npm run images -- lock --stack production` (writes Pulumi.production.images.lock.json beside the stack file; the program then deploys tag@sha256:…), or pin this one in config (platform:services.<catalog>/<service>.imageTag: sha256:…, platform:images.<role>: <image>@sha256:…; images.md in the render names the key).',
    ]);
    expect(
      resourceCheck(imagesDigestPinnedInProduction, deployment(withContainer({ image: "redis@sha256:abc" }))),
    ).toHaveLength(1);
  });

  it("warns in staging (the pack is advisory there) and leaves the local stage alone", () => {
    const tagOnly = deployment(withContainer({ image: "redis:7.4.5-alpine" }));
    expect(imagesDigestPinnedInProduction.check(tagOnly, staging)).toEqual([
      expect.stringMatching(
        /^Deployment "shop\/api" container "app" image "redis:7.4.5-alpine" is not pinned by digest; production would refuse it: lock the stack's images with `npm run images -- lock --stack staging`/,
      ),
    ]);
    expect(imagesDigestPinnedInProduction.check(tagOnly, local)).toEqual([]);
  });

  it("covers the CloudNativePG Cluster's image and every image slot of our Helm charts", () => {
    const digest = `sha256:${"cd34".repeat(16)}`;
    const cluster = (imageName: string): RuleResource => ({
      type: "kubernetes:postgresql.cnpg.io/v1:Cluster",
      name: "db",
      urn: "urn:db",
      props: { metadata: { name: "db", namespace: "trading" }, spec: { imageName } },
      dependencies: [],
    });
    expect(
      resourceCheck(imagesDigestPinnedInProduction, cluster("timescale/timescaledb-ha:pg15.14-ts2.21.3")),
    ).toEqual([
      expect.stringMatching(
        /^Cluster "trading\/db" spec.imageName image "timescale\/timescaledb-ha:pg15.14-ts2.21.3" is not pinned by digest/,
      ),
    ]);
    expect(
      resourceCheck(imagesDigestPinnedInProduction, cluster(`timescale/timescaledb-ha:pg15@${digest}`)),
    ).toEqual([]);
    const release = (values: Record<string, unknown>): RuleResource => ({
      type: "kubernetes:helm.sh/v3:Release",
      name: "gateway-cert-manager",
      urn: "urn:cm",
      props: { name: "cert-manager", chart: "cert-manager", values },
      dependencies: [],
    });
    const stated = chartImageValues("cert-manager");
    const unpinned = resourceCheck(imagesDigestPinnedInProduction, release(stated));
    expect(unpinned).toHaveLength(5);
    expect(unpinned[0]).toMatch(
      /^Release "cert-manager" values.image image "quay.io\/jetstack\/cert-manager-controller:v1.21.2" is not pinned by digest/,
    );
    // A slot the values leave out runs the chart's default tag: refused as well.
    const { webhook: _w, ...withoutWebhook } = stated;
    expect(resourceCheck(imagesDigestPinnedInProduction, release(withoutWebhook))).toContain(
      "Release \"cert-manager\" values.webhook.image: the chart's image (the webhook) is not stated in the values, so it runs the chart's default tag, unpinned; state it (components/chart-images.ts) and lock it.",
    );
    const pinned = pinChartImages("cert-manager", stated, () => digest);
    expect(resourceCheck(imagesDigestPinnedInProduction, release(pinned))).toEqual([]);
  });

  it("parses references the way runtimes resolve them", () => {
    expect(parseImageReference("postgres:15")).toEqual({
      registry: "docker.io",
      repository: "library/postgres",
      tag: "15",
    });
    expect(parseImageReference("chromadb/chroma:0.5.20")).toEqual({
      registry: "docker.io",
      repository: "chromadb/chroma",
      tag: "0.5.20",
    });
    expect(parseImageReference(`registry.local:5000/team/api:2.0@${digest}`)).toEqual({
      registry: "registry.local:5000",
      repository: "team/api",
      tag: "2.0",
      digest,
    });
    expect(parseImageReference("localhost/api")).toEqual({ registry: "localhost", repository: "api" });
    expect(isDigestPinned(`api@${digest}`)).toBe(true);
    expect(isDigestPinned("api:1.0")).toBe(false);
  });
});

describe("k8s-no-plaintext-secret-env", () => {
  it("passes secrets read from Secrets and plain non-secret values", () => {
    expect(resourceCheck(noPlaintextSecretEnv, deployment())).toEqual([]);
  });

  it("rejects secret-looking names with a literal value", () => {
    const env = [
      { name: "DB_PASSWORD", value: "hunter2" },
      { name: "STRIPE_API_KEY", value: "sk_live_x" },
      { name: "SERVICE_TOKEN", value: "t" },
      { name: "JWT_EXPIRATION", value: "24h" },
      { name: "PASSWORD_EMPTY", value: "" },
    ];
    expect(resourceCheck(noPlaintextSecretEnv, deployment(withContainer({ env })))).toEqual([
      'Deployment "shop/api" container "app" sets DB_PASSWORD as a plain value; read it from a Secret with valueFrom.secretKeyRef.',
      'Deployment "shop/api" container "app" sets STRIPE_API_KEY as a plain value; read it from a Secret with valueFrom.secretKeyRef.',
      'Deployment "shop/api" container "app" sets SERVICE_TOKEN as a plain value; read it from a Secret with valueFrom.secretKeyRef.',
    ]);
  });

  it("recognises secret names by word, not by substring", () => {
    expect(
      [
        "PASSWORD",
        "DBPASSWORD",
        "API_KEY",
        "SECRET_KEY_BASE",
        "aws-secret",
        "GITHUB_TOKEN",
        "CREDENTIALS",
      ].filter(looksSecret),
    ).toHaveLength(7);
    expect(
      ["MONKEY", "KEYBOARD_LAYOUT", "TOKEN_TTL", "JWT_SECRET_FILE", "EMAIL_FROM", "RISK_ENGINE_URL"].filter(
        looksSecret,
      ),
    ).toEqual([]);
  });
});

describe("k8s-pdb-coverage", () => {
  it("passes a workload whose pods a PDB selects", () => {
    expect(stackCheck(pdbCoverage, [namespace(), deployment(), pdb()])).toEqual([]);
    expect(
      stackCheck(pdbCoverage, [
        deployment(),
        pdb({
          spec: {
            selector: {
              matchLabels: null,
              matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["api", "web"] }],
            },
          },
        }),
      ]),
    ).toEqual([]);
  });

  it("fails without one, or with one in another namespace or selecting other pods", () => {
    const message =
      'Deployment "shop/api" is not covered by a PodDisruptionBudget (none in namespace "shop" selects its pod labels).';
    expect(stackCheck(pdbCoverage, [deployment()])).toEqual([message]);
    expect(stackCheck(pdbCoverage, [deployment(), pdb({ metadata: { namespace: "other" } })])).toEqual([
      message,
    ]);
    expect(
      stackCheck(pdbCoverage, [
        deployment(),
        pdb({ spec: { selector: { matchLabels: { "app.kubernetes.io/name": "web" } } } }),
      ]),
    ).toEqual([message]);
  });

  it("applies in every stage", () => {
    expect(stackCheck(pdbCoverage, [deployment()], local)).toHaveLength(1);
  });
});

describe("k8s-hpa-coverage", () => {
  it("passes a Deployment targeted by an HPA", () => {
    expect(stackCheck(hpaCoverage, [deployment(), hpa()], staging)).toEqual([]);
  });

  it("fails without an HPA targeting it in staging and production", () => {
    const message =
      'Deployment "shop/api" has no HorizontalPodAutoscaler (none in namespace "shop" targets Deployment "api").';
    expect(stackCheck(hpaCoverage, [deployment()], staging)).toEqual([message]);
    expect(
      stackCheck(
        hpaCoverage,
        [deployment(), hpa({ spec: { scaleTargetRef: { kind: "StatefulSet" } } })],
        production,
      ),
    ).toEqual([message]);
  });

  it("does not apply to the local stage", () => {
    expect(stackCheck(hpaCoverage, [deployment()], local)).toEqual([]);
  });

  it("counts a KEDA ScaledObject (which creates the HPA) targeting the Deployment", () => {
    const scaled = (target: Record<string, unknown>) =>
      res("kubernetes:keda.sh/v1alpha1:ScaledObject", "shop-api-scaledobject", {
        metadata: { name: "api", namespace: "shop" },
        spec: { scaleTargetRef: target, minReplicaCount: 2, maxReplicaCount: 6, triggers: [] },
      });
    expect(stackCheck(hpaCoverage, [deployment(), scaled({ name: "api" })], production)).toEqual([]);
    expect(stackCheck(hpaCoverage, [deployment(), scaled({ name: "web" })], production)).toHaveLength(1);
  });

  it("exempts a single-replica workload that states why it must never run twice, and only that", () => {
    const singleton = (replicas: number, reason: string) =>
      deployment({
        metadata: { annotations: { "platform.example.com/singleton-reason": reason } },
        spec: { replicas },
      });
    expect(stackCheck(hpaCoverage, [singleton(1, "one feed session")], production)).toEqual([]);
    expect(stackCheck(hpaCoverage, [singleton(2, "one feed session")], production)).toHaveLength(1);
    expect(stackCheck(hpaCoverage, [singleton(1, " ")], production)).toHaveLength(1);
  });

  it("exempts single-replica StatefulSets that keep data in volume claims", () => {
    const sts = (replicas: number, claims: unknown[]) =>
      res("kubernetes:apps/v1:StatefulSet", "shop-db", {
        metadata: { name: "db", namespace: "shop" },
        spec: { replicas, volumeClaimTemplates: claims, template: { metadata: { labels }, spec: podSpec } },
      });
    const claim = [{ metadata: { name: "data" }, spec: { resources: { requests: { storage: "10Gi" } } } }];
    expect(stackCheck(hpaCoverage, [sts(1, claim)], production)).toEqual([]);
    expect(stackCheck(hpaCoverage, [sts(3, claim)], production)).toEqual([
      'StatefulSet "shop/db" has no HorizontalPodAutoscaler (none in namespace "shop" targets StatefulSet "db").',
    ]);
    expect(stackCheck(hpaCoverage, [sts(1, [])], production)).toHaveLength(1);
  });
});

describe("k8s-networkpolicy-coverage", () => {
  it("passes a workload under a default-deny policy", () => {
    expect(stackCheck(networkPolicyCoverage, [deployment(), defaultDeny])).toEqual([]);
  });

  it("counts directions across the policies that select the pods", () => {
    const ingressOnly = netpol("api-in", { podSelector: { matchLabels: labels }, ingress: [{}] });
    const egress = netpol("api-out", { podSelector: { matchLabels: labels }, egress: [{}] }); // policyTypes default: Ingress + Egress
    expect(stackCheck(networkPolicyCoverage, [deployment(), ingressOnly])).toEqual([
      'Deployment "shop/api" is not covered by a NetworkPolicy for Egress (none in namespace "shop" selects its pod labels).',
    ]);
    expect(stackCheck(networkPolicyCoverage, [deployment(), ingressOnly, egress])).toEqual([]);
  });

  it("an empty egress list without policyTypes restricts ingress only (the API server's default)", () => {
    const emptyEgress = netpol("api-deny", { podSelector: { matchLabels: labels }, ingress: [], egress: [] });
    expect(stackCheck(networkPolicyCoverage, [deployment(), emptyEgress])).toEqual([
      'Deployment "shop/api" is not covered by a NetworkPolicy for Egress (none in namespace "shop" selects its pod labels).',
    ]);
    const explicit = netpol("api-deny", {
      podSelector: { matchLabels: labels },
      policyTypes: ["Ingress", "Egress"],
      egress: [],
    });
    expect(stackCheck(networkPolicyCoverage, [deployment(), explicit])).toEqual([]);
  });

  it("fails a workload no policy selects", () => {
    const other = netpol("web", {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "web" } },
      policyTypes: ["Ingress", "Egress"],
    });
    expect(stackCheck(networkPolicyCoverage, [deployment(), other], local)).toEqual([
      'Deployment "shop/api" is not covered by a NetworkPolicy for Ingress and Egress (none in namespace "shop" selects its pod labels).',
    ]);
  });

  it("selectors follow Kubernetes semantics", () => {
    const l = { tier: "db", app: "pg" };
    expect(selectorMatches({}, l)).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] }, l),
    ).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, l)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, l)).toBe(false);
    expect(
      selectorMatches(
        {
          matchLabels: { tier: "db" },
          matchExpressions: [{ key: "app", operator: "In", values: ["mysql"] }],
        },
        l,
      ),
    ).toBe(false);
  });
});

// ---- AWS fixtures -----------------------------------------------------------------------------

const rds = (patch: Record<string, unknown> = {}) =>
  res("aws:rds/instance:Instance", "ecommerce-db", {
    engine: "postgres",
    storageEncrypted: true,
    publiclyAccessible: false,
    backupRetentionPeriod: 30,
    multiAz: true,
    deletionProtection: true,
    iamDatabaseAuthenticationEnabled: true,
    ...patch,
  });

describe("aws-rds-storage-encrypted", () => {
  it("passes encrypted storage and rejects the rest", () => {
    expect(resourceCheck(rdsEncrypted, rds())).toEqual([]);
    expect(resourceCheck(rdsEncrypted, rds({ storageEncrypted: false }))).toEqual([
      'RDS instance "ecommerce-db" must set storageEncrypted to true.',
    ]);
    expect(resourceCheck(rdsEncrypted, res("aws:rds/cluster:Cluster", "aurora", {}))).toEqual([
      'RDS cluster "aurora" must set storageEncrypted to true.',
    ]);
  });
});

describe("aws-rds-not-public", () => {
  it("rejects a publicly accessible instance", () => {
    expect(resourceCheck(rdsNotPublic, rds())).toEqual([]);
    expect(resourceCheck(rdsNotPublic, rds({ publiclyAccessible: true }))).toEqual([
      'RDS instance "ecommerce-db" must not be publicly accessible.',
    ]);
  });
});

describe("aws-rds-backup-retention", () => {
  it("requires at least 7 days", () => {
    expect(resourceCheck(rdsBackups, rds({ backupRetentionPeriod: 7 }))).toEqual([]);
    expect(resourceCheck(rdsBackups, rds({ backupRetentionPeriod: 3 }))).toEqual([
      'RDS instance "ecommerce-db" must keep backups for at least 7 days (backupRetentionPeriod is 3).',
    ]);
    expect(resourceCheck(rdsBackups, rds({ backupRetentionPeriod: undefined }))).toEqual([
      'RDS instance "ecommerce-db" must keep backups for at least 7 days (backupRetentionPeriod is unset).',
    ]);
  });
});

describe("aws-rds-production-resilience", () => {
  it("requires Multi-AZ and deletion protection in production only", () => {
    const single = rds({ multiAz: false, deletionProtection: false });
    expect(resourceCheck(rdsProductionResilience, rds())).toEqual([]);
    expect(resourceCheck(rdsProductionResilience, single)).toEqual([
      'RDS instance "ecommerce-db" must be Multi-AZ in production (multiAz true).',
      'RDS instance "ecommerce-db" must have deletionProtection in production.',
    ]);
    expect(resourceCheck(rdsProductionResilience, single, staging)).toEqual([]);
  });
});

describe("aws-rds-iam-auth", () => {
  it("requires IAM database authentication", () => {
    expect(resourceCheck(rdsIamAuth, rds())).toEqual([]);
    expect(resourceCheck(rdsIamAuth, rds({ iamDatabaseAuthenticationEnabled: false }))).toEqual([
      'RDS instance "ecommerce-db" must enable IAM database authentication (iamDatabaseAuthenticationEnabled true).',
    ]);
  });
});

const cache = (patch: Record<string, unknown> = {}) =>
  res("aws:elasticache/replicationGroup:ReplicationGroup", "ecommerce-cache", {
    engine: "redis",
    transitEncryptionEnabled: true,
    atRestEncryptionEnabled: true,
    authToken: "generated-and-secret",
    automaticFailoverEnabled: true,
    multiAzEnabled: true,
    ...patch,
  });

describe("aws-elasticache-encryption-auth", () => {
  it("passes an encrypted, authenticated replication group (token or RBAC)", () => {
    expect(resourceCheck(elasticacheSecure, cache())).toEqual([]);
    expect(
      resourceCheck(elasticacheSecure, cache({ authToken: undefined, userGroupIds: ["app-users"] })),
    ).toEqual([]);
  });

  it("rejects missing encryption or authentication", () => {
    expect(
      resourceCheck(
        elasticacheSecure,
        cache({ transitEncryptionEnabled: false, atRestEncryptionEnabled: false, authToken: "" }),
      ),
    ).toEqual([
      'ElastiCache replication group "ecommerce-cache" must enable encryption in transit (transitEncryptionEnabled true).',
      'ElastiCache replication group "ecommerce-cache" must enable encryption at rest (atRestEncryptionEnabled true).',
      'ElastiCache replication group "ecommerce-cache" must require authentication (authToken or userGroupIds).',
    ]);
    expect(resourceCheck(elasticacheSecure, cache({ transitEncryptionMode: "preferred" }))).toEqual([
      'ElastiCache replication group "ecommerce-cache" must require encryption in transit (transitEncryptionMode "required", found "preferred").',
    ]);
  });

  it("rejects single-node clusters, which cannot encrypt or authenticate", () => {
    expect(
      resourceCheck(elasticacheSecure, res("aws:elasticache/cluster:Cluster", "memo", { engine: "redis" })),
    ).toEqual([
      'ElastiCache cluster "memo" cannot encrypt or authenticate; use an aws.elasticache.ReplicationGroup.',
    ]);
  });
});

describe("aws-elasticache-production-failover", () => {
  it("requires automatic Multi-AZ failover in production only", () => {
    const noFailover = cache({ automaticFailoverEnabled: false, multiAzEnabled: undefined });
    expect(resourceCheck(elasticacheFailover, cache())).toEqual([]);
    expect(resourceCheck(elasticacheFailover, noFailover)).toEqual([
      'ElastiCache replication group "ecommerce-cache" must enable automatic failover in production (automaticFailoverEnabled true).',
      'ElastiCache replication group "ecommerce-cache" must be Multi-AZ in production (multiAzEnabled true).',
    ]);
    expect(resourceCheck(elasticacheFailover, noFailover, staging)).toEqual([]);
  });
});

const eks = (patch: unknown = {}) =>
  res(
    "aws:eks/cluster:Cluster",
    "platform",
    merge(
      {
        vpcConfig: {
          endpointPrivateAccess: true,
          endpointPublicAccess: false,
          subnetIds: ["subnet-a", "subnet-b"],
        },
        encryptionConfig: {
          provider: { keyArn: "arn:aws:kms:eu-west-1:123456789012:key/abc" },
          resources: ["secrets"],
        },
        enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
      },
      patch,
    ),
  );

describe("aws-eks-hardened", () => {
  it("passes a private, encrypted, fully logged cluster (a public endpoint limited to CIDRs is fine)", () => {
    expect(resourceCheck(eksHardened, eks())).toEqual([]);
    expect(
      resourceCheck(
        eksHardened,
        eks({ vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] } }),
      ),
    ).toEqual([]);
  });

  it("reports each missing hardening", () => {
    expect(
      resourceCheck(
        eksHardened,
        eks({
          vpcConfig: { endpointPrivateAccess: false, endpointPublicAccess: undefined },
          encryptionConfig: null,
          enabledClusterLogTypes: ["api", "audit"],
        }),
      ),
    ).toEqual([
      'EKS cluster "platform" must enable the private API endpoint (vpcConfig.endpointPrivateAccess true).',
      'EKS cluster "platform" exposes its public API endpoint to the internet; set vpcConfig.endpointPublicAccess false or list publicAccessCidrs (not 0.0.0.0/0).',
      'EKS cluster "platform" must encrypt Kubernetes secrets with a KMS key (encryptionConfig with resources ["secrets"] and provider.keyArn).',
      'EKS cluster "platform" must enable every control-plane log type (missing authenticator, controllerManager, scheduler).',
    ]);
    expect(
      resourceCheck(
        eksHardened,
        eks({ vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] } }),
      ),
    ).toEqual([
      'EKS cluster "platform" exposes its public API endpoint to the internet; set vpcConfig.endpointPublicAccess false or list publicAccessCidrs (not 0.0.0.0/0).',
    ]);
  });
});

describe("aws-vpc-flow-logs", () => {
  const vpc = res("aws:ec2/vpc:Vpc", "platform-vpc", { cidrBlock: "10.30.0.0/16" });
  const flowLog = (extra: Partial<RuleResource>) =>
    res(
      "aws:ec2/flowLog:FlowLog",
      "platform-vpc-flow-logs",
      { vpcId: "vpc-0abc", trafficType: "ALL" },
      extra,
    );

  it("passes a VPC with a flow log attached (engine property dependencies, or harness dependencies)", () => {
    expect(stackCheck(vpcFlowLogs, [vpc, flowLog({ propertyDependencies: { vpcId: [vpc.urn] } })])).toEqual(
      [],
    );
    expect(
      stackCheck(vpcFlowLogs, [
        vpc,
        flowLog({ dependencies: [vpc.urn, "urn:pulumi:production::platform::aws:iam/role:Role::flow"] }),
      ]),
    ).toEqual([]);
  });

  it("fails a VPC without one", () => {
    const other = res("aws:ec2/vpc:Vpc", "other-vpc", {});
    expect(
      stackCheck(vpcFlowLogs, [vpc, other, flowLog({ propertyDependencies: { vpcId: [vpc.urn] } })]),
    ).toEqual(['VPC "other-vpc" has no flow log (an aws.ec2.FlowLog with its vpcId).']);
    // A flow log that merely depends on the VPC through another property is not attached to it.
    expect(
      stackCheck(vpcFlowLogs, [
        vpc,
        flowLog({ propertyDependencies: { vpcId: [], logDestination: [vpc.urn] }, dependencies: [vpc.urn] }),
      ]),
    ).toEqual(['VPC "platform-vpc" has no flow log (an aws.ec2.FlowLog with its vpcId).']);
  });
});

describe("aws-kms-key-rotation", () => {
  const key = (props: Record<string, unknown>) => res("aws:kms/key:Key", "platform-eks-secrets", props);

  it("passes a symmetric key that rotates, and an asymmetric key (KMS cannot rotate those)", () => {
    expect(resourceCheck(kmsKeyRotation, key({ enableKeyRotation: true }))).toEqual([]);
    expect(
      resourceCheck(
        kmsKeyRotation,
        key({ customerMasterKeySpec: "SYMMETRIC_DEFAULT", enableKeyRotation: true }),
      ),
    ).toEqual([]);
    expect(resourceCheck(kmsKeyRotation, key({ customerMasterKeySpec: "RSA_3072" }))).toEqual([]);
  });

  it("fails a symmetric key that does not rotate, or leaves rotation unset", () => {
    const message = 'KMS key "platform-eks-secrets" must rotate its key material (enableKeyRotation true).';
    expect(resourceCheck(kmsKeyRotation, key({ enableKeyRotation: false }))).toEqual([message]);
    expect(resourceCheck(kmsKeyRotation, key({}))).toEqual([message]);
  });
});

describe("aws-sns-encrypted", () => {
  const topic = (props: Record<string, unknown>) => res("aws:sns/topic:Topic", "alerts-topic", props);

  it("passes a topic encrypted with a KMS key", () => {
    expect(
      resourceCheck(
        snsTopicEncrypted,
        topic({ kmsMasterKeyId: "arn:aws:kms:eu-west-1:123456789012:key/abc" }),
      ),
    ).toEqual([]);
  });

  it("fails a topic without a key, or with an empty one", () => {
    const message = 'SNS topic "alerts-topic" must encrypt at rest with a KMS key (kmsMasterKeyId).';
    expect(resourceCheck(snsTopicEncrypted, topic({}))).toEqual([message]);
    expect(resourceCheck(snsTopicEncrypted, topic({ kmsMasterKeyId: "" }))).toEqual([message]);
  });
});

// ---- Data stores in production ---------------------------------------------------------------

const BACKUP_TAG = "platform.example.com/backup=aws-backup";
const storageClass = (patch: unknown = {}) =>
  res(
    "kubernetes:storage.k8s.io/v1:StorageClass",
    "platform-gp3",
    merge(
      {
        metadata: {
          name: "gp3-encrypted",
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3", encrypted: "true", tagSpecification_1: BACKUP_TAG },
      },
      patch,
    ),
  );
const selection = (patch: unknown = {}) =>
  res(
    "aws:backup/selection:Selection",
    "volume-backup-volumes",
    merge(
      {
        resources: ["arn:*:ec2:*:*:volume/*"],
        selectionTags: [{ type: "STRINGEQUALS", key: "platform.example.com/backup", value: "aws-backup" }],
      },
      patch,
    ),
  );
const dataStatefulSet = (patch: unknown = {}) =>
  res(
    "kubernetes:apps/v1:StatefulSet",
    "trading-chromadb-sts",
    merge(
      {
        metadata: {
          name: "chromadb",
          namespace: "trading",
          annotations: { "platform.example.com/singleton-reason": "ChromaDB has no replication" },
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: podSpec },
          volumeClaimTemplates: [
            { metadata: { name: "data" }, spec: { resources: { requests: { storage: "10Gi" } } } },
          ],
        },
      },
      patch,
    ),
  );
const cnpgCluster = (patch: unknown = {}) =>
  res(
    "kubernetes:postgresql.cnpg.io/v1:Cluster",
    "trading-postgres-cluster",
    merge(
      {
        metadata: { name: "trading-postgres", namespace: "trading" },
        spec: {
          instances: 3,
          postgresql: { pg_hba: ["hostnossl all all all reject"] },
          backup: { retentionPolicy: "30d", barmanObjectStore: { destinationPath: "s3://b/trading" } },
        },
      },
      patch,
    ),
  );
const scheduledBackup = (clusterName = "trading-postgres") =>
  res("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup", "trading-postgres-scheduled-backup", {
    metadata: { name: clusterName, namespace: "trading" },
    spec: { schedule: "0 0 2 * * *", cluster: { name: clusterName } },
  });
const connectionSecret = (stringData: Record<string, string>) =>
  res("kubernetes:core/v1:Secret", "trading-postgres-trading-api-connection", {
    metadata: { name: "trading-api-trading-postgres", namespace: "trading" },
    stringData,
  });

describe("data-production-backup", () => {
  const backedUp = [storageClass(), selection(), dataStatefulSet(), cnpgCluster(), scheduledBackup()];
  it("passes volumes an AWS Backup selection picks by their StorageClass's tag, and archiving clusters with a schedule", () => {
    expect(stackCheck(productionBackups, backedUp)).toEqual([]);
    // A named class works like the default one.
    const named = dataStatefulSet({
      spec: {
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { storageClassName: "gp3-encrypted" } }],
      },
    });
    expect(stackCheck(productionBackups, [storageClass(), selection(), named])).toEqual([]);
  });

  it("fails volumes no selection picks, a class the stack does not define, and clusters without archive or schedule", () => {
    expect(
      stackCheck(productionBackups, [
        storageClass({ parameters: { tagSpecification_1: "team=data" } }),
        selection(),
        dataStatefulSet(),
        cnpgCluster({ spec: { backup: { barmanObjectStore: { destinationPath: undefined } } } }),
      ]),
    ).toEqual([
      'StatefulSet "trading/chromadb" keeps data in volume claim "data" of StorageClass "gp3-encrypted", whose volumes no AWS Backup selection picks (volume tags: team=data).',
      'CloudNativePG Cluster "trading/trading-postgres" archives no WAL: it has no backup.barmanObjectStore (or backup plugin).',
      'CloudNativePG Cluster "trading/trading-postgres" has no ScheduledBackup: no base backups, so WAL alone cannot restore it.',
    ]);
    expect(stackCheck(productionBackups, [dataStatefulSet(), selection()])).toEqual([
      'StatefulSet "trading/chromadb" keeps data in volume claim "data" of the cluster\'s default StorageClass, which this stack does not define: nothing shows its volumes are backed up.',
    ]);
    // A selection of other resource types does not cover EBS volumes.
    expect(
      stackCheck(productionBackups, [
        storageClass(),
        selection({ resources: ["arn:aws:rds:*:*:db:*"] }),
        dataStatefulSet(),
      ]),
    ).toHaveLength(1);
  });

  it("applies to production only", () => {
    expect(stackCheck(productionBackups, [dataStatefulSet()], staging)).toEqual([]);
  });
});

describe("data-production-replicas", () => {
  it("passes replicated stores and a single replica with a recorded reason", () => {
    expect(stackCheck(productionReplicas, [dataStatefulSet(), cnpgCluster()])).toEqual([]);
  });

  it("fails a single replica without a reason, and a one-instance cluster", () => {
    expect(
      stackCheck(productionReplicas, [
        dataStatefulSet({ metadata: { annotations: { "platform.example.com/singleton-reason": " " } } }),
        cnpgCluster({ spec: { instances: 1 } }),
      ]),
    ).toEqual([
      'StatefulSet "trading/chromadb" is a single-replica data store in production without a recorded reason (annotation platform.example.com/singleton-reason).',
      'CloudNativePG Cluster "trading/trading-postgres" runs 1 instance in production without a recorded reason (annotation platform.example.com/singleton-reason): no failover.',
    ]);
    expect(stackCheck(productionReplicas, [cnpgCluster({ spec: { instances: 1 } })], staging)).toEqual([]);
  });
});

describe("data-production-tls", () => {
  it("passes verified or required TLS in connection Secrets and a cluster that rejects plain text", () => {
    expect(
      stackCheck(productionEncryptedConnections, [
        connectionSecret({
          DATABASE_URL:
            "postgresql://u:p@db-rw.trading.svc:5432/trading?sslmode=verify-full&sslrootcert=/etc/ca.crt",
          REDIS_URL: "rediss://:p@cache:6379/0",
          RABBITMQ_URL: "amqps://u:p@mq:5671/%2F",
        }),
        cnpgCluster(),
      ]),
    ).toEqual([]);
  });

  it("fails plain-text URLs in Secrets (stringData and base64 data) and env values, and a cluster accepting plain text", () => {
    const encoded = Buffer.from("redis://:p@cache:6379/0").toString("base64");
    expect(
      stackCheck(productionEncryptedConnections, [
        connectionSecret({ DATABASE_URL: "postgresql://u:p@db:5432/trading?sslmode=disable" }),
        res("kubernetes:core/v1:Secret", "cache", {
          metadata: { name: "cache", namespace: "trading" },
          data: { REDIS_URL: encoded },
        }),
        deployment(withContainer({ env: [{ name: "AMQP_URL", value: "amqp://mq:5672/" }] })),
        cnpgCluster({ spec: { postgresql: { pg_hba: ["host all all all scram-sha-256"] } } }),
      ]),
    ).toEqual([
      'Secret "trading/trading-api-trading-postgres" key DATABASE_URL is a plain-text connection: sslmode=disable.',
      'Secret "trading/cache" key REDIS_URL is a plain-text connection: redis:// (use rediss://).',
      'Deployment "shop/api" container "app" env AMQP_URL is a plain-text connection: amqp:// (use amqps://).',
      'CloudNativePG Cluster "trading/trading-postgres" accepts plain-text clients: its pg_hba has no "hostnossl all all all reject".',
    ]);
    expect(
      stackCheck(
        productionEncryptedConnections,
        [connectionSecret({ DATABASE_URL: "postgres://u@db/x" })],
        local,
      ),
    ).toEqual([]);
  });

  it("reads sslmode like libpq: unset and prefer are plain text when the server allows it", () => {
    expect(plaintextConnection("postgres://u@db/x")).toBe("sslmode=(unset: libpq falls back to plain text)");
    expect(plaintextConnection("postgres://u@db/x?sslmode=prefer")).toBe("sslmode=prefer");
    expect(plaintextConnection("postgres://u@db/x?application_name=a&sslmode=require")).toBeUndefined();
    expect(plaintextConnection("https://example.com")).toBeUndefined();
  });
});

describe("the baseline", () => {
  it("has one uniquely named rule per concern, and every rule is exported for the pack", () => {
    const names = RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9-]{1,100}$/);
    expect(names).toHaveLength(27);
  });

  it("evaluate runs resource and stack rules over a whole stack", () => {
    const findings = evaluate(
      [namespace(), deployment(withContainer({ image: "nginx" })), rds({ storageEncrypted: false })],
      production,
    );
    expect(findings.map((f) => f.rule).sort()).toEqual([
      "aws-rds-storage-encrypted",
      // The instance has no down alarm either.
      "data-production-alarms",
      "k8s-hpa-coverage",
      "k8s-image-digest-pinned-production",
      "k8s-image-pinned",
      "k8s-networkpolicy-coverage",
      "k8s-pdb-coverage",
    ]);
    expect(findings.find((f) => f.rule === "aws-rds-storage-encrypted")?.urn).toBe(
      urn("aws:rds/instance:Instance", "ecommerce-db"),
    );
  });

  it("places a stack by its configured stage, then by its name, else as production", () => {
    expect(stageFor("staging")).toBe("staging");
    expect(stageFor("acme/production")).toBe("production");
    expect(stageFor("dev-alice", "local")).toBe("local");
    expect(stageFor("eu-prod")).toBe("production");
    expect(stageFor("")).toBe("production");
  });
});

describe("data-production-alarms", () => {
  const db = res("aws:rds/instance:Instance", "shop-postgres-db", { identifier: "shop-db-1" });
  const cache = res("aws:elasticache/replicationGroup:ReplicationGroup", "shop-redis-cache", {
    replicationGroupId: "shop-redis-1",
    numCacheClusters: 2,
  });
  const broker = res("aws:mq/broker:Broker", "shop-rabbitmq-broker", { brokerName: "shop-mq-1" });
  const down = (
    store: RuleResource,
    namespace: string,
    dimensions: Record<string, string>,
    patch: unknown = {},
  ) =>
    res(
      "aws:cloudwatch/metricAlarm:MetricAlarm",
      `${store.name}-alarm-down-${Object.values(dimensions).join("-")}`,
      merge(
        {
          namespace,
          dimensions,
          treatMissingData: "breaching",
          alarmActions: ["arn:aws:sns:eu-west-1:123456789012:alerts"],
        },
        patch,
      ),
      { dependencies: [store.urn] },
    );
  const watched = [
    db,
    cache,
    broker,
    down(db, "AWS/RDS", { DBInstanceIdentifier: "shop-db-1" }),
    down(cache, "AWS/ElastiCache", { CacheClusterId: "shop-redis-1-001" }),
    down(cache, "AWS/ElastiCache", { CacheClusterId: "shop-redis-1-002" }),
    down(broker, "AWS/AmazonMQ", { Broker: "shop-mq-1" }),
  ];

  it("passes stores with a notifying down alarm on their real identifiers (every cache node)", () => {
    expect(stackCheck(productionAlarms, watched)).toEqual([]);
  });

  it("fails a store without one, an alarm on another store, a silent alarm and one that ignores missing data", () => {
    expect(
      stackCheck(productionAlarms, [
        db,
        cache,
        broker,
        // Another instance's identifier.
        down(db, "AWS/RDS", { DBInstanceIdentifier: "other-db" }),
        // Node 2 has no alarm; node 1's notifies nobody.
        down(cache, "AWS/ElastiCache", { CacheClusterId: "shop-redis-1-001" }, { alarmActions: [] }),
        // Missing data not breaching: a stopped broker stays quiet.
        down(broker, "AWS/AmazonMQ", { Broker: "shop-mq-1" }, { treatMissingData: "notBreaching" }),
      ]),
    ).toEqual([
      'RDS instance "shop-postgres-db" has no CloudWatch alarm that notifies when it stops reporting (AWS/RDS, DBInstanceIdentifier shop-db-1, missing data breaching, an alarm action).',
      'ElastiCache replication group "shop-redis-cache" (nodes shop-redis-1-001, shop-redis-1-002) has no CloudWatch alarm that notifies when it stops reporting (AWS/ElastiCache, CacheClusterId per node, missing data breaching, an alarm action).',
      'Amazon MQ broker "shop-rabbitmq-broker" has no CloudWatch alarm that notifies when it stops reporting (AWS/AmazonMQ, Broker shop-mq-1, missing data breaching, an alarm action).',
    ]);
  });

  it("applies to production only", () => {
    expect(stackCheck(productionAlarms, [db, cache, broker], staging)).toEqual([]);
  });
});
