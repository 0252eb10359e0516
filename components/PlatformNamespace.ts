/**
 * PlatformNamespace: the namespace a platform's services live in, locked down before anything runs in
 * it — Pod Security Standards "restricted" enforced, a ResourceQuota, a LimitRange that gives every
 * container requests and limits, and NetworkPolicies that deny all traffic except DNS. Each
 * MicroService then opens exactly the paths it declares.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
  ComponentArgsError,
  childName,
  cpuMillis,
  dnsEgressRule,
  gated,
  labelDomainProblem,
  memoryBytes,
  providerProblems,
  resourceProblems,
  stageProblem,
  standardLabels,
  statefulOptions,
  typeToken,
  type ContainerResources,
  type LabelDomainArgs,
  type Stage,
} from "./lib";
import { checksBeforeChildren, type NamespaceFacts } from "./platform-scope";

/** @deprecated Use `Stage` (one stage type for every component). */
export type PlatformNamespaceStage = Stage;

/** Namespace-wide ceilings (ResourceQuota `spec.hard`). */
export interface NamespaceQuota {
  /** Sum of container requests. Example: `{ cpu: "16", memory: "32Gi" }`. */
  requests: { cpu: string; memory: string };
  /** Sum of container limits. Example: `{ cpu: "32", memory: "64Gi" }`. */
  limits: { cpu: string; memory: string };
  /** Pods (running and pending). Example: `100`. */
  pods: number;
  /** PersistentVolumeClaims. Example: `20`. */
  persistentVolumeClaims: number;
  /** Sum of storage requested by claims. Example: `"500Gi"`. */
  requestsStorage: string;
  /**
   * Services of type LoadBalancer. Default `0`: public traffic enters through the Gateway only, so a
   * stray LoadBalancer (and its cloud bill and open port) cannot appear.
   */
  loadBalancers?: number;
  /** Services of type NodePort. Default `0`, for the same reason. */
  nodePorts?: number;
}

export interface PlatformNamespaceArgs extends LabelDomainArgs {
  /** Kubernetes name of the namespace. Default: the component's name. Example: `"fintech"`. */
  name?: string;
  /** Platform/catalog label. Default: none. Example: `"fintech"`. */
  platform?: string;
  /** Stage: picks the quota default and the stage label. Default: none (staging-sized quota). Example: `"production"`. */
  stage?: Stage;
  /**
   * Pod Security Standards version the labels pin. Pin it to the cluster's minor version (`v1.33`) so
   * a cluster upgrade cannot tighten the policy under running workloads; `latest` follows the cluster.
   * Default: `"latest"`. Example: `"v1.33"`.
   */
  podSecurityVersion?: string;
  /**
   * Quota. Default per stage: local 4 CPU/8Gi requests, 8/16Gi limits, 50 pods; staging 16/32Gi,
   * 32/64Gi, 150 pods; production 64/128Gi, 128/256Gi, 400 pods (with claims and storage to match).
   * Fields given here replace the default's. Example: `{ pods: 60 }`.
   */
  quota?: Partial<NamespaceQuota>;
  /**
   * LimitRange for containers that state no resources of their own (MicroService always states
   * them). Default: requests 100m/128Mi, limits 500m/512Mi. Example: `{ requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } }`.
   */
  containerDefaults?: ContainerResources;
  /**
   * Whether the program is refused when the MicroServices it places in this namespace do not fit
   * `quota` at their minimum replicas, plus the largest rollout's surge and their migration Jobs
   * (checked before the Namespace registers; without it, pods would be refused at deploy time).
   * `false` is an explicit opt-out for a deliberate overcommit, such as a benchmark. Default: `true`.
   */
  quotaFitCheck?: boolean;
  /** Pulumi `protect` + `retainOnDelete` on the Namespace (deleting it deletes everything inside, volumes too). Default: `false`. */
  protect?: boolean;
}

/** The quota each stage gets when `quota` is not given (see `PlatformNamespaceArgs.quota`). */
export const NAMESPACE_QUOTA_DEFAULTS: Readonly<Record<PlatformNamespaceStage, NamespaceQuota>> = {
  local: {
    // Limits overcommit a workstation on purpose: Jobs and rollouts must fit (see analysis/capacity.ts).
    requests: { cpu: "4", memory: "8Gi" },
    limits: { cpu: "16", memory: "32Gi" },
    pods: 50,
    persistentVolumeClaims: 10,
    requestsStorage: "50Gi",
  },
  staging: {
    requests: { cpu: "16", memory: "32Gi" },
    limits: { cpu: "32", memory: "64Gi" },
    pods: 150,
    persistentVolumeClaims: 20,
    requestsStorage: "200Gi",
  },
  production: {
    requests: { cpu: "64", memory: "128Gi" },
    limits: { cpu: "128", memory: "256Gi" },
    pods: 400,
    persistentVolumeClaims: 40,
    requestsStorage: "1Ti",
  },
};

const DEFAULT_CONTAINER_RESOURCES: ContainerResources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "512Mi" },
};

/** A namespace under PSS "restricted" with a quota, container defaults, and default-deny networking (DNS allowed). */
export class PlatformNamespace extends pulumi.ComponentResource {
  /** Namespace name, resolved from the Namespace object: using it makes a resource wait for the namespace. */
  public readonly name: pulumi.Output<string>;
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly resourceQuota: k8s.core.v1.ResourceQuota;
  public readonly limitRange: k8s.core.v1.LimitRange;
  public readonly defaultDeny: k8s.networking.v1.NetworkPolicy;
  public readonly allowDns: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: PlatformNamespaceArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const problems = [...providerProblems(opts, "kubernetes"), ...platformNamespaceProblems(name, args)];
    if (problems.length > 0) throw new ComponentArgsError("PlatformNamespace", name, problems);
    super(typeToken("PlatformNamespace"), name, {}, opts);

    const nsName = args.name ?? name;
    const version = args.podSecurityVersion ?? "latest";
    const labels = standardLabels({
      name: nsName,
      component: "namespace",
      platform: args.platform,
      stage: args.stage,
      labelDomain: args.labelDomain,
    });
    const quota = { ...NAMESPACE_QUOTA_DEFAULTS[args.stage ?? "staging"], ...args.quota };
    const defaults = args.containerDefaults ?? DEFAULT_CONTAINER_RESOURCES;
    // The quota is checked against the MicroServices the program places in the namespace, before
    // the Namespace registers (see platform-scope.ts).
    const facts: NamespaceFacts = {
      kind: "PlatformNamespace",
      name,
      namespace: nsName,
      quota: {
        requests: { cpu: cpuMillis(quota.requests.cpu), memory: memoryBytes(quota.requests.memory) },
        limits: { cpu: cpuMillis(quota.limits.cpu), memory: memoryBytes(quota.limits.memory) },
        pods: quota.pods,
      },
    };
    if (args.quotaFitCheck === false) delete facts.quota;
    const gate = checksBeforeChildren("PlatformNamespace", name, facts);
    const child = { parent: this, dependsOn: gated([], gate) };

    this.namespace = new k8s.core.v1.Namespace(
      childName(name, "ns"),
      {
        metadata: {
          name: nsName,
          labels: {
            ...labels,
            // Enforce rejects non-compliant pods; audit and warn make the same verdict visible in the
            // audit log and in kubectl output, so a violation is never silent.
            ...Object.fromEntries(
              (["enforce", "audit", "warn"] as const).flatMap((mode) => [
                [`pod-security.kubernetes.io/${mode}`, "restricted"],
                [`pod-security.kubernetes.io/${mode}-version`, version],
              ]),
            ),
          },
        },
      },
      { ...child, ...statefulOptions(args.protect ?? false) },
    );
    this.name = this.namespace.metadata.name;
    facts.output = this.name;
    const meta = (objectName: string) => ({ name: objectName, namespace: this.name, labels });

    this.resourceQuota = new k8s.core.v1.ResourceQuota(
      childName(name, "quota"),
      {
        metadata: meta("platform-quota"),
        spec: {
          hard: {
            "requests.cpu": quota.requests.cpu,
            "requests.memory": quota.requests.memory,
            "limits.cpu": quota.limits.cpu,
            "limits.memory": quota.limits.memory,
            pods: String(quota.pods),
            persistentvolumeclaims: String(quota.persistentVolumeClaims),
            "requests.storage": quota.requestsStorage,
            "services.loadbalancers": String(quota.loadBalancers ?? 0),
            "services.nodeports": String(quota.nodePorts ?? 0),
          },
        },
      },
      child,
    );

    // A quota on requests/limits rejects pods that state none; the LimitRange fills them in.
    this.limitRange = new k8s.core.v1.LimitRange(
      childName(name, "limits"),
      {
        metadata: meta("platform-container-defaults"),
        spec: {
          limits: [{ type: "Container", defaultRequest: defaults.requests, default: defaults.limits }],
        },
      },
      child,
    );

    this.defaultDeny = new k8s.networking.v1.NetworkPolicy(
      childName(name, "default-deny"),
      { metadata: meta("default-deny-all"), spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
      child,
    );
    this.allowDns = new k8s.networking.v1.NetworkPolicy(
      childName(name, "allow-dns"),
      {
        metadata: meta("allow-dns-egress"),
        spec: { podSelector: {}, policyTypes: ["Egress"], egress: [dnsEgressRule()] },
      },
      child,
    );

    this.registerOutputs({ name: this.name });
  }
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const STORAGE = /^[0-9]+(Mi|Gi|Ti)$/;
const PSS_VERSION = /^(latest|v1\.[0-9]+)$/;

/** Every problem with the args, in one list. */
export function platformNamespaceProblems(name: string, args: PlatformNamespaceArgs): string[] {
  const p: string[] = [];
  const nsName = args.name ?? name;
  if (!NAMESPACE.test(nsName) || nsName.length > 63)
    p.push(`namespace name "${nsName}" must be a DNS label of at most 63 characters`);
  if (["default", "kube-system", "kube-public", "kube-node-lease"].includes(nsName))
    p.push(`namespace name "${nsName}" is reserved by Kubernetes`);
  const stage = stageProblem(args.stage);
  if (stage) p.push(stage);
  const domainProblem = labelDomainProblem(args.labelDomain);
  if (domainProblem) p.push(domainProblem);
  if (args.podSecurityVersion !== undefined && !PSS_VERSION.test(args.podSecurityVersion))
    p.push(
      `podSecurityVersion must be "latest" or a minor version such as "v1.33", found "${args.podSecurityVersion}"`,
    );

  // An unknown stage is reported above; its quota is checked against the default stage's.
  const stageQuota = stage
    ? NAMESPACE_QUOTA_DEFAULTS.staging
    : NAMESPACE_QUOTA_DEFAULTS[args.stage ?? "staging"];
  const quota = { ...stageQuota, ...args.quota };
  p.push(...resourceProblems("quota", quota));
  for (const key of ["pods", "persistentVolumeClaims", "loadBalancers", "nodePorts"] as const) {
    const value = quota[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0))
      p.push(`quota.${key} must be a whole number of at least 0, found ${String(value)}`);
  }
  if (!STORAGE.test(quota.requestsStorage))
    p.push(`quota.requestsStorage must be a storage size such as "500Gi", found "${quota.requestsStorage}"`);

  const defaults = args.containerDefaults ?? DEFAULT_CONTAINER_RESOURCES;
  p.push(...resourceProblems("containerDefaults", defaults));
  if (
    cpuMillis(defaults.limits.cpu) > cpuMillis(quota.limits.cpu) ||
    memoryBytes(defaults.limits.memory) > memoryBytes(quota.limits.memory)
  )
    p.push(
      `containerDefaults.limits (${defaults.limits.cpu} CPU, ${defaults.limits.memory}) exceed quota.limits (${quota.limits.cpu} CPU, ${quota.limits.memory}): no pod relying on the defaults could start`,
    );
  return p;
}
