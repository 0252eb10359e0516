/**
 * KubernetesCluster: the cluster every Kubernetes resource of a stack is deployed to, and the explicit
 * Kubernetes provider that deploys there.
 *
 * - `provider: "aws"` creates an EKS cluster: a pinned Kubernetes version, a private API endpoint plus
 *   a public one limited to `publicAccessCidrs` (none: private only), Kubernetes secrets envelope-
 *   encrypted with a rotating KMS key, all five control-plane log types (kept `controlPlaneLogRetentionDays`),
 *   API-mode access entries granting `adminRoleArns` and the `deployRoleArn` cluster admin (the
 *   creator gets no standing access when a deploy role is named), a security group whose members
 *   reach the private API endpoint (the in-VPC deploy runner), an IAM OIDC provider for IRSA,
 *   managed add-ons (VPC CNI with NetworkPolicy enforcement, kube-proxy, EKS Pod Identity agent,
 *   CoreDNS, EBS CSI driver with its own Pod Identity role), managed node groups from `nodeGroups`
 *   (IMDSv2-only launch templates with encrypted gp3 root volumes), a default encrypted gp3
 *   StorageClass, a Kubernetes provider whose kubeconfig (a secret output) gets tokens with
 *   `aws eks get-token`, and (unless `loadBalancerController: false`) the AWS Load Balancer
 *   Controller: a pinned Helm release in kube-system whose IAM role reaches its service account
 *   through EKS Pod Identity. It is what turns the IngressGateway's annotated LoadBalancer Service
 *   into an internet-facing NLB; with its Service mutator webhook off, only Services that ask for it
 *   (annotation `aws-load-balancer-type: external`) get one. Unless `clusterAutoscaler: false`, the
 *   Cluster Autoscaler (pinned Helm release in kube-system, IAM role through EKS Pod Identity) grows
 *   and shrinks the managed node groups between their `minSize` and `maxSize`, finding them by the
 *   tags EKS puts on their Auto Scaling groups.
 * - `provider: "existing"` creates no cloud resources: only a Kubernetes provider for the given
 *   `kubeconfig` / `context` (or the ambient kubeconfig when both are left out).
 *
 * Pass `provider` (the output) to every Kubernetes resource or component: nothing should rely on the
 * ambient default provider.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartImageValues } from "./chart-images";
import {
  chartProblems,
  chartRef,
  childName,
  CLOUDWATCH_RETENTION_DAYS,
  ComponentArgsError,
  EKS_KUBERNETES_VERSIONS,
  type HelmChartSource,
  ipv4CidrProblem,
  statefulOptions,
  typeToken,
  volumeBackupTag,
  domainKey,
  labelDomainProblem,
  type LabelDomainArgs,
} from "./lib";

/** Kubernetes versions this component is tested against on EKS (the list lives in lib.ts). */
export { EKS_KUBERNETES_VERSIONS };

/**
 * The AWS Load Balancer Controller chart (`aws-load-balancer-controller` from EKS_CHARTS_REPOSITORY),
 * pinned: chart 1.13.4 is controller v2.13.4, the last patch of the 2.13 line. The IAM policy below
 * (`loadBalancerControllerPolicy`) follows that version's published iam_policy.json: bump both together.
 */
export const AWS_LOAD_BALANCER_CONTROLLER_CHART_VERSION = "1.13.4";
export const EKS_CHARTS_REPOSITORY = "https://aws.github.io/eks-charts";
/** Namespace and service account of the controller; its Pod Identity association names both. */
export const LOAD_BALANCER_CONTROLLER_NAMESPACE = "kube-system";
export const LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller";

/**
 * The Cluster Autoscaler chart (`cluster-autoscaler` from CLUSTER_AUTOSCALER_REPOSITORY), pinned. The
 * autoscaler's image follows the cluster's Kubernetes minor (its scheduler simulation must match the
 * kube-scheduler): CLUSTER_AUTOSCALER_IMAGE_TAGS.
 */
export const CLUSTER_AUTOSCALER_CHART_VERSION = "9.50.0";
export const CLUSTER_AUTOSCALER_REPOSITORY = "https://kubernetes.github.io/autoscaler";
export const CLUSTER_AUTOSCALER_IMAGE_TAGS: Readonly<
  Record<(typeof EKS_KUBERNETES_VERSIONS)[number], string>
> = {
  "1.32": "v1.32.3",
  "1.33": "v1.33.1",
  "1.34": "v1.34.0",
};
/** The chart's default image repository; the tag follows the Kubernetes version. */
export const CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler";
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";

/** The managed add-ons this component installs. */
export const EKS_ADDONS = [
  "vpc-cni",
  "kube-proxy",
  "eks-pod-identity-agent",
  "coredns",
  "aws-ebs-csi-driver",
] as const;
export type EksAddonName = (typeof EKS_ADDONS)[number];

/** The five EKS control-plane log types. */
export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

export interface NodeGroupArgs {
  /**
   * EC2 instance types (one architecture per group; Graviton types such as m7g.large select the ARM AMI).
   * @example ["m5.large"]
   */
  instanceTypes: string[];
  /** Minimum number of nodes. @example 3 */
  minSize: number;
  /** Maximum number of nodes (at least 1 and at least `minSize`). @example 10 */
  maxSize: number;
  /**
   * Nodes at creation; afterwards the cluster autoscaler owns it (changes are ignored).
   * @default minSize
   * @example 3
   */
  desiredSize?: number;
  /**
   * Root volume size in GiB (encrypted gp3).
   * @default 50
   * @example 100
   */
  diskSizeGb?: number;
  /**
   * `ON_DEMAND` or `SPOT`.
   * @default "ON_DEMAND"
   */
  capacityType?: "ON_DEMAND" | "SPOT";
  /**
   * Kubernetes labels on the nodes.
   * @default {}
   * @example { "platform/pool": "memory" }
   */
  labels?: Record<string, string>;
  /**
   * Kubernetes taints on the nodes.
   * @default []
   * @example [{ key: "platform/pool", value: "memory", effect: "NoSchedule" }]
   */
  taints?: { key: string; value?: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }[];
}

export interface KubernetesClusterArgs extends LabelDomainArgs {
  /**
   * `aws`: create an EKS cluster. `existing`: use a cluster you already have (kubeconfig/context).
   * The two sets of args below are mutually exclusive.
   * @example "aws"
   */
  provider: "aws" | "existing";

  // ---- provider "existing" -------------------------------------------------------------------
  /**
   * Kubeconfig contents or path to use (`existing` only). Kept as a secret.
   * @default the ambient kubeconfig ($KUBECONFIG or ~/.kube/config)
   * @example "~/.kube/config"
   */
  kubeconfig?: pulumi.Input<string>;
  /**
   * Kubeconfig context to use (`existing` only).
   * @default the kubeconfig's current context
   * @example "kind-platform"
   */
  context?: string;

  // ---- provider "aws" ------------------------------------------------------------------------
  /**
   * EKS cluster name (also the prefix of its log group and KMS alias).
   * @default the component name
   * @example "platform-production"
   */
  clusterName?: string;
  /**
   * Kubernetes version, pinned (one of EKS_KUBERNETES_VERSIONS). Required for `aws`.
   * @example "1.33"
   */
  kubernetesVersion?: string;
  /**
   * VPC the cluster runs in. Required for `aws`.
   * @example network.vpcId
   */
  vpcId?: pulumi.Input<string>;
  /**
   * Private subnets (at least two zones) for the control-plane network interfaces and the nodes.
   * Required for `aws`.
   * @example network.privateSubnetIds
   */
  subnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * IPv4 CIDRs allowed to reach the public API endpoint. Empty: the public endpoint is off and the
   * API is reachable only from inside the VPC, by members of `apiClientSecurityGroupId` (the deploy
   * runner). `0.0.0.0/0` is refused.
   * @default []
   * @example ["198.51.100.0/24"]
   */
  publicAccessCidrs?: string[];
  /**
   * IAM roles granted cluster admin (access entry + AmazonEKSClusterAdminPolicy).
   * @default []
   * @example ["arn:aws:iam::123456789012:role/platform-admins"]
   */
  adminRoleArns?: string[];
  /**
   * The IAM role that deploys to the cluster (the CI deploy role `pulumi up` runs as): an access
   * entry with AmazonEKSClusterAdminPolicy, which the Kubernetes provider waits for. When it is set,
   * a new cluster gives its creator no access of its own (`bootstrapClusterCreatorAdminPermissions:
   * false`), so every standing grant is one of these entries. An existing cluster keeps the value it
   * was created with: changing it would replace the cluster (CHANGELOG says how to remove the
   * creator's entry by hand).
   * @default none: the identity that creates the cluster is made admin by EKS
   * @example "arn:aws:iam::123456789012:role/platform-deployer"
   */
  deployRoleArn?: string;
  /**
   * Security groups for pods (`aws` only): the VPC CNI gives pods that a `SecurityGroupPolicy`
   * (vpcresources.k8s.aws/v1beta1) selects a branch network interface carrying that policy's groups,
   * so an AWS store can admit one workload's pods rather than every node. Needs Nitro instance types
   * (t-family nodes have no trunk interface); an m5.large or r5.large holds 9 such pods.
   * @default true
   * @example false
   */
  securityGroupsForPods?: boolean;
  /**
   * Refuse to create a cluster without at least one admin role (set it for production).
   * @default false
   */
  requireAdminRoles?: boolean;
  /**
   * Managed node groups by name (a DNS label). Required (at least one) for `aws`.
   * @example { general: { instanceTypes: ["m5.large"], minSize: 3, maxSize: 10 } }
   */
  nodeGroups?: Record<string, NodeGroupArgs>;
  /**
   * Pinned add-on versions by add-on name.
   * @default the version EKS marks default for `kubernetesVersion`, resolved when the add-on is created
   * @example { "vpc-cni": "v1.20.1-eksbuild.3" }
   */
  addonVersions?: Partial<Record<EksAddonName, string>>;
  /**
   * Days CloudWatch keeps the control-plane logs.
   * @default 90
   * @example 365
   */
  controlPlaneLogRetentionDays?: number;
  /**
   * Role the generated kubeconfig assumes to get tokens (`aws eks get-token --role-arn`).
   * @default the credentials of whoever runs Pulumi (the cluster creator is granted admin)
   * @example "arn:aws:iam::123456789012:role/platform-deployer"
   */
  kubeconfigRoleArn?: string;
  /**
   * Install the AWS Load Balancer Controller (`aws` only; refused with `existing`, whose cluster is
   * not this component's to equip). Without it, no Service of type LoadBalancer annotated for the
   * controller (the IngressGateway's `nlb`) ever gets a load balancer.
   * @default true (with `aws`)
   * @example false
   */
  loadBalancerController?: boolean;
  /**
   * The controller's chart (`aws-load-balancer-controller` from https://aws.github.io/eks-charts),
   * pinned (`aws` only). A different version needs the matching IAM policy: see
   * AWS_LOAD_BALANCER_CONTROLLER_CHART_VERSION.
   * @default { version: AWS_LOAD_BALANCER_CONTROLLER_CHART_VERSION, source: "repository" }
   * @example { version: "1.13.4", source: "localPath", path: "./charts/aws-load-balancer-controller-1.13.4.tgz" }
   */
  loadBalancerControllerChart?: HelmChartSource;
  /**
   * Install the Cluster Autoscaler (`aws` only; refused with `existing`). It adds nodes to a managed
   * node group when pods cannot be scheduled (HPA scale-out, rollout surges, Jobs) up to the group's
   * `maxSize`, and removes underused nodes down to `minSize`. Without it the groups stay at their
   * desired size and the HPAs' maxima cannot be reached.
   * @default true (with `aws`)
   * @example false
   */
  clusterAutoscaler?: boolean;
  /**
   * The autoscaler's chart, pinned (`aws` only).
   * @default { version: CLUSTER_AUTOSCALER_CHART_VERSION, source: "repository" }
   * @example { version: "9.50.0", source: "localPath", path: "./charts/cluster-autoscaler-9.50.0.tgz" }
   */
  clusterAutoscalerChart?: HelmChartSource;
  /**
   * Protect the cluster and its KMS key: `protect` + `retainOnDelete`, EKS deletion protection, and a
   * `Retain` reclaim policy on the default StorageClass. Set it for production.
   * @default false
   */
  protect?: boolean;
  /**
   * Tags on every AWS resource.
   * @default {}
   * @example { project: "microservices-platform", stack: "production", owner: "team-platform" }
   */
  tags?: Record<string, string>;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const TAINT_EFFECT = {
  NoSchedule: "NO_SCHEDULE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
} as const;
/** The charts installed when `loadBalancerControllerChart` / `clusterAutoscalerChart` are left out. */
const DEFAULT_LOAD_BALANCER_CONTROLLER_CHART: HelmChartSource = {
  version: AWS_LOAD_BALANCER_CONTROLLER_CHART_VERSION,
  source: "repository",
};
const DEFAULT_CLUSTER_AUTOSCALER_CHART: HelmChartSource = {
  version: CLUSTER_AUTOSCALER_CHART_VERSION,
  source: "repository",
};

export class KubernetesCluster extends pulumi.ComponentResource {
  /** The Kubernetes provider for this cluster: pass it to every Kubernetes resource and component. */
  public readonly provider: k8s.Provider;
  /** Kubeconfig (secret). For `existing`, the one given (undefined when the ambient kubeconfig is used). */
  public readonly kubeconfig: pulumi.Output<string | undefined>;
  /** EKS cluster name (`existing`: the context name, or undefined). */
  public readonly clusterName: pulumi.Output<string | undefined>;
  /** API server endpoint (`aws` only). */
  public readonly endpoint: pulumi.Output<string | undefined>;
  /** The EKS-managed cluster security group every node carries: admit it on data services (`aws` only). */
  public readonly clusterSecurityGroupId: pulumi.Output<string | undefined>;
  /**
   * A security group admitted to the API endpoint on 443 (`aws` only): put the deploy runner's
   * instances (or pods of a runner controller outside this cluster's nodes) in it to reach a
   * private-only API from inside the VPC.
   */
  public readonly apiClientSecurityGroupId: pulumi.Output<string | undefined>;
  /** IAM OIDC provider ARN, for IRSA trust policies (`aws` only). */
  public readonly oidcProviderArn: pulumi.Output<string | undefined>;
  /** OIDC issuer URL (`aws` only). */
  public readonly oidcIssuerUrl: pulumi.Output<string | undefined>;
  /** Node IAM role ARN (`aws` only). */
  public readonly nodeRoleArn: pulumi.Output<string | undefined>;
  /** Name of the default StorageClass this component created (`aws` only). */
  public readonly storageClassName: pulumi.Output<string | undefined>;
  /**
   * The AWS Load Balancer Controller's Helm release (`aws` unless `loadBalancerController: false`;
   * otherwise undefined). Put it in the `dependsOn` of whatever creates load-balanced Services
   * (the IngressGateway), so they wait for it and are deleted before it.
   */
  public readonly loadBalancerController: k8s.helm.v3.Release | undefined;
  /** The Cluster Autoscaler's Helm release (`aws` unless `clusterAutoscaler: false`; otherwise undefined). */
  public readonly clusterAutoscaler: k8s.helm.v3.Release | undefined;

  constructor(name: string, args: KubernetesClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Every problem is reported before anything (even this component) is registered.
    const problems = clusterArgProblems(name, args);
    if (problems.length > 0) throw new ComponentArgsError("KubernetesCluster", name, problems);
    super(typeToken("KubernetesCluster"), name, {}, opts);
    const cluster =
      args.provider === "existing" ? existingCluster(name, args, this) : this.createEks(name, args);
    this.provider = cluster.provider;
    this.kubeconfig = cluster.kubeconfig;
    this.clusterName = cluster.clusterName;
    this.endpoint = cluster.endpoint;
    this.clusterSecurityGroupId = cluster.clusterSecurityGroupId;
    this.apiClientSecurityGroupId = cluster.apiClientSecurityGroupId;
    this.oidcProviderArn = cluster.oidcProviderArn;
    this.oidcIssuerUrl = cluster.oidcIssuerUrl;
    this.nodeRoleArn = cluster.nodeRoleArn;
    this.storageClassName = cluster.storageClassName;
    this.loadBalancerController = cluster.loadBalancerController;
    this.clusterAutoscaler = cluster.clusterAutoscaler;
    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      clusterName: this.clusterName,
      endpoint: this.endpoint,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      apiClientSecurityGroupId: this.apiClientSecurityGroupId,
      oidcProviderArn: this.oidcProviderArn,
      oidcIssuerUrl: this.oidcIssuerUrl,
      nodeRoleArn: this.nodeRoleArn,
      storageClassName: this.storageClassName,
      loadBalancerControllerRelease: this.loadBalancerController?.name,
      clusterAutoscalerRelease: this.clusterAutoscaler?.name,
    });
  }

  /** `aws`: the EKS cluster, its nodes and add-ons, and a Kubernetes provider for it. */
  private createEks(name: string, args: KubernetesClusterArgs): ClusterOutputs {
    const ctx = eksContext(name, args, this);
    const kmsKey = createSecretsKey(ctx);
    const cluster = createControlPlane(ctx, kmsKey);
    const oidc = createOidcProvider(ctx, cluster);
    const grants = grantClusterAdmins(ctx, cluster);
    const apiClients = createApiClientAccess(ctx, cluster);
    const network = createNetworkAddons(ctx, cluster);
    const nodes = createNodeGroups(ctx, cluster, network.all);
    const { coredns, ebsCsi } = createNodeAddons(ctx, cluster, nodes.groups, network.all);
    const kubeconfig = eksKubeconfig(ctx, cluster);
    // The deploying identity's access entry must exist before anything is applied through it.
    const provider = new k8s.Provider(
      childName(name, "k8s"),
      { kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [...nodes.groups, ...grants] },
    );
    const storageClass = createStorageClass(ctx, provider, ebsCsi);

    // What every chart add-on shares. Credentials come from the Pod Identity agent; the AWS APIs are
    // found through CoreDNS.
    const addOn = (chart: HelmChartSource): AddOnContext => ({
      cluster,
      clusterName: ctx.clusterName,
      region: ctx.region,
      partition: ctx.partition,
      tags: ctx.tags,
      provider,
      chart,
      dependsOn: [network.podIdentityAgent, coredns],
    });
    const loadBalancerController =
      (args.loadBalancerController ?? true)
        ? this.createLoadBalancerController(name, {
            ...addOn(args.loadBalancerControllerChart ?? DEFAULT_LOAD_BALANCER_CONTROLLER_CHART),
            vpcId: args.vpcId as pulumi.Input<string>,
          })
        : undefined;
    const clusterAutoscaler =
      (args.clusterAutoscaler ?? true)
        ? this.createClusterAutoscaler(name, {
            ...addOn(args.clusterAutoscalerChart ?? DEFAULT_CLUSTER_AUTOSCALER_CHART),
            kubernetesVersion: ctx.version as (typeof EKS_KUBERNETES_VERSIONS)[number],
          })
        : undefined;

    return {
      provider,
      kubeconfig,
      clusterName: cluster.name,
      endpoint: cluster.endpoint,
      clusterSecurityGroupId: cluster.vpcConfig.clusterSecurityGroupId,
      apiClientSecurityGroupId: apiClients.id,
      oidcProviderArn: oidc.arn,
      oidcIssuerUrl: oidc.url,
      nodeRoleArn: nodes.role.arn,
      storageClassName: storageClass.metadata.name,
      loadBalancerController,
      clusterAutoscaler,
    };
  }

  /**
   * An IAM role for `namespace`/`serviceAccount` with an inline policy, bound by an EKS Pod Identity
   * association. Returns what a workload using it must wait for (EKS injects the credentials when a
   * pod is created, so the association must exist first).
   */
  private podIdentityRole(
    name: string,
    suffix: string,
    ctx: { cluster: aws.eks.Cluster; clusterName: string; tags: Record<string, string> },
    account: { namespace: string; serviceAccount: string; description: string },
    policy: pulumi.Input<string>,
  ): pulumi.Resource[] {
    const { namespace, serviceAccount } = account;
    const role = new aws.iam.Role(
      childName(name, suffix),
      {
        description: `${account.description} of ${ctx.clusterName} (Pod Identity, ${namespace}/${serviceAccount})`,
        assumeRolePolicy: JSON.stringify(podIdentityTrustPolicy(ctx.clusterName, namespace, serviceAccount)),
        tags: ctx.tags,
      },
      { parent: this },
    );
    // Inline: the policy lives and dies with the role (IAM allows 10,240 characters inline per role).
    const rolePolicy = new aws.iam.RolePolicy(
      childName(name, suffix),
      { role: role.name, policy },
      { parent: this },
    );
    const association = new aws.eks.PodIdentityAssociation(
      childName(name, suffix),
      { clusterName: ctx.cluster.name, namespace, serviceAccount, roleArn: role.arn, tags: ctx.tags },
      { parent: this },
    );
    return [association, rolePolicy];
  }

  /**
   * The Cluster Autoscaler, chosen over Karpenter and EKS Auto Mode (docs/capacity.md): the node
   * groups are managed node groups with fixed instance types and min/max sizes, which is exactly the
   * autoscaler's model; EKS tags their Auto Scaling groups for its auto-discovery, so nothing else is
   * created. Karpenter would replace the node groups with NodePools plus an interruption queue and
   * event rules; Auto Mode would take over the add-ons and load balancer controller this component
   * already manages, at a per-instance surcharge. One replica (leader election makes a second idle);
   * its role may change only Auto Scaling groups tagged as this cluster's.
   */
  private createClusterAutoscaler(
    name: string,
    ctx: AddOnContext & { kubernetesVersion: (typeof EKS_KUBERNETES_VERSIONS)[number] },
  ): k8s.helm.v3.Release {
    const namespace = "kube-system";
    const serviceAccount = CLUSTER_AUTOSCALER_SERVICE_ACCOUNT;
    const identity = this.podIdentityRole(
      name,
      "cluster-autoscaler",
      ctx,
      { namespace, serviceAccount, description: "Cluster Autoscaler" },
      pulumi
        .output(ctx.partition)
        .apply((partition) => JSON.stringify(clusterAutoscalerPolicy(ctx.clusterName, partition))),
    );
    return new k8s.helm.v3.Release(
      childName(name, "cluster-autoscaler"),
      {
        name: "cluster-autoscaler",
        namespace,
        ...chartRef(ctx.chart, "cluster-autoscaler", CLUSTER_AUTOSCALER_REPOSITORY),
        values: {
          cloudProvider: "aws",
          awsRegion: ctx.region,
          autoDiscovery: { clusterName: ctx.cluster.name },
          // The chart's repository, stated so that the render lists the image and a lock can pin it.
          image: {
            repository: CLUSTER_AUTOSCALER_IMAGE,
            tag: CLUSTER_AUTOSCALER_IMAGE_TAGS[ctx.kubernetesVersion],
          },
          rbac: { serviceAccount: { create: true, name: serviceAccount } },
          replicaCount: 1,
          resources: {
            requests: { cpu: "100m", memory: "300Mi" },
            limits: { cpu: "500m", memory: "600Mi" },
          },
          extraArgs: {
            // Keep zones even (the workloads spread across zones), and pick the group wasting least.
            "balance-similar-node-groups": true,
            expander: "least-waste",
            // kube-system pods with PDBs (CoreDNS, the controllers) must not pin nodes forever.
            "skip-nodes-with-system-pods": false,
          },
        },
        timeout: 600,
        maxHistory: 10,
        cleanupOnFail: true,
      },
      { parent: this, provider: ctx.provider, dependsOn: [...identity, ...ctx.dependsOn] },
    );
  }

  /**
   * The AWS Load Balancer Controller: an IAM role with the controller's policy, bound to its service
   * account by an EKS Pod Identity association, and its pinned Helm release.
   *
   * Pod Identity rather than IRSA: the cluster already runs the Pod Identity agent (the EBS CSI
   * driver uses it), the role's trust policy names one cluster, namespace and service account through
   * the session tags EKS sets (no OIDC issuer URL or `sub` condition to get right), and the binding is
   * an AWS resource Pulumi tracks, not an annotation on a ServiceAccount the chart renders. The
   * association must exist before the controller's pods start (EKS injects the credentials at pod
   * creation), so the release waits for it.
   */
  private createLoadBalancerController(
    name: string,
    ctx: AddOnContext & { vpcId: pulumi.Input<string> },
  ): k8s.helm.v3.Release {
    const suffix = "lb-controller";
    const namespace = LOAD_BALANCER_CONTROLLER_NAMESPACE;
    const serviceAccount = LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT;
    const identity = this.podIdentityRole(
      name,
      suffix,
      ctx,
      { namespace, serviceAccount, description: "AWS Load Balancer Controller" },
      ctx.partition.apply((p) => JSON.stringify(loadBalancerControllerPolicy(p))),
    );
    return new k8s.helm.v3.Release(
      childName(name, suffix),
      {
        name: "aws-load-balancer-controller",
        namespace,
        ...chartRef(ctx.chart, "aws-load-balancer-controller", EKS_CHARTS_REPOSITORY),
        values: {
          // The controller's image, stated so that the render lists it and a lock can pin it.
          ...chartImageValues("aws-load-balancer-controller"),
          clusterName: ctx.cluster.name,
          // Nodes allow one IMDS hop, so pods cannot look these up from instance metadata.
          region: ctx.region,
          vpcId: ctx.vpcId,
          replicaCount: 2,
          podDisruptionBudget: { maxUnavailable: 1 },
          serviceAccount: { create: true, name: serviceAccount },
          resources: {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "256Mi" },
          },
          // Only Services that ask (the aws-load-balancer-type annotation) get an NLB; the mutator
          // would claim every LoadBalancer Service, and its failurePolicy Fail blocks Service
          // creation whenever the controller is down.
          enableServiceMutatorWebhook: false,
          // Services/NLB only: the IAM policy leaves out what ALB Ingresses need (WAF, Shield, rules).
          createIngressClassResource: false,
          enableShield: false,
          enableWaf: false,
          enableWafv2: false,
          // Tags on the NLBs, target groups and security groups the controller creates.
          defaultTags: ctx.tags,
        },
        timeout: 600,
        maxHistory: 10,
        cleanupOnFail: true,
      },
      { parent: this, provider: ctx.provider, dependsOn: [...identity, ...ctx.dependsOn] },
    );
  }
}

/** What the constructor publishes, from either path. */
type ClusterOutputs = Pick<
  KubernetesCluster,
  | "provider"
  | "kubeconfig"
  | "clusterName"
  | "endpoint"
  | "clusterSecurityGroupId"
  | "apiClientSecurityGroupId"
  | "oidcProviderArn"
  | "oidcIssuerUrl"
  | "nodeRoleArn"
  | "storageClassName"
  | "loadBalancerController"
  | "clusterAutoscaler"
>;

/** `existing`: no cloud resources, only a Kubernetes provider for the given (or ambient) kubeconfig. */
function existingCluster(name: string, args: KubernetesClusterArgs, parent: pulumi.Resource): ClusterOutputs {
  const provider = new k8s.Provider(
    childName(name, "k8s"),
    {
      ...(args.kubeconfig !== undefined ? { kubeconfig: pulumi.secret(args.kubeconfig) } : {}),
      ...(args.context !== undefined ? { context: args.context } : {}),
    },
    { parent },
  );
  const none = pulumi.output<string | undefined>(undefined);
  return {
    provider,
    kubeconfig: args.kubeconfig !== undefined ? pulumi.secret(pulumi.output(args.kubeconfig)) : none,
    clusterName: pulumi.output(args.context),
    endpoint: none,
    clusterSecurityGroupId: none,
    apiClientSecurityGroupId: none,
    oidcProviderArn: none,
    oidcIssuerUrl: none,
    nodeRoleArn: none,
    storageClassName: none,
    loadBalancerController: undefined,
    clusterAutoscaler: undefined,
  };
}

/** What every step of the EKS path needs: the args, defaults applied, and where the cluster lives. */
interface EksContext {
  /** The component name (prefix of every child's Pulumi name). */
  name: string;
  args: KubernetesClusterArgs;
  clusterName: string;
  version: string;
  protect: boolean;
  tags: Record<string, string>;
  partition: pulumi.Output<string>;
  region: pulumi.Output<string>;
  parent: pulumi.Resource;
}

function eksContext(name: string, args: KubernetesClusterArgs, parent: pulumi.Resource): EksContext {
  return {
    name,
    args,
    clusterName: args.clusterName ?? name,
    version: args.kubernetesVersion as string,
    protect: args.protect ?? false,
    tags: { ...(args.tags ?? {}) },
    partition: aws.getPartitionOutput({}, { parent }).partition,
    region: aws.getRegionOutput({}, { parent }).region,
    parent,
  };
}

/** An IAM role that `service` may assume. */
function serviceRole(
  ctx: EksContext,
  suffix: string,
  service: string,
  actions: string[],
  description: string,
): aws.iam.Role {
  return new aws.iam.Role(
    childName(ctx.name, suffix),
    {
      description,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: actions }],
      }),
      tags: ctx.tags,
    },
    { parent: ctx.parent },
  );
}

/** Attaches AWS managed policies (by name, in the stack's partition) to `role`. */
function attachManagedPolicies(
  ctx: EksContext,
  role: aws.iam.Role,
  suffix: string,
  policies: string[],
): aws.iam.RolePolicyAttachment[] {
  return policies.map(
    (policy) =>
      new aws.iam.RolePolicyAttachment(
        childName(ctx.name, `${suffix}-${policy.split("/").pop() as string}`),
        { role: role.name, policyArn: pulumi.interpolate`arn:${ctx.partition}:iam::aws:policy/${policy}` },
        { parent: ctx.parent },
      ),
  );
}

/** Secrets envelope encryption. */
function createSecretsKey(ctx: EksContext): aws.kms.Key {
  const kmsKey = new aws.kms.Key(
    childName(ctx.name, "secrets"),
    {
      description: `Envelope encryption of Kubernetes secrets in EKS cluster ${ctx.clusterName}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      tags: ctx.tags,
    },
    { parent: ctx.parent, ...statefulOptions(ctx.protect) },
  );
  new aws.kms.Alias(
    childName(ctx.name, "secrets"),
    { name: `alias/${ctx.clusterName}-eks-secrets`, targetKeyId: kmsKey.keyId },
    { parent: ctx.parent },
  );
  return kmsKey;
}

/** The control plane: its role, its log group, and the EKS cluster. */
function createControlPlane(ctx: EksContext, kmsKey: aws.kms.Key): aws.eks.Cluster {
  const { args, clusterName, tags } = ctx;
  const clusterRole = serviceRole(
    ctx,
    "cluster",
    "eks.amazonaws.com",
    ["sts:AssumeRole", "sts:TagSession"],
    `EKS control plane of ${clusterName}`,
  );
  // The VPC resource controller (run by EKS with this role) attaches the branch interfaces that carry
  // pods' own security groups.
  const clusterPolicies = attachManagedPolicies(ctx, clusterRole, "cluster", [
    "AmazonEKSClusterPolicy",
    ...(podSecurityGroups(ctx.args) ? ["AmazonEKSVPCResourceController"] : []),
  ]);
  // EKS writes to /aws/eks/<name>/cluster; creating it first gives it a retention instead of "never expire".
  const controlPlaneLogs = new aws.cloudwatch.LogGroup(
    childName(ctx.name, "control-plane"),
    {
      name: `/aws/eks/${clusterName}/cluster`,
      retentionInDays: args.controlPlaneLogRetentionDays ?? 90,
      tags,
    },
    { parent: ctx.parent },
  );
  const publicCidrs = args.publicAccessCidrs ?? [];
  return new aws.eks.Cluster(
    childName(ctx.name, "eks"),
    {
      name: clusterName,
      version: ctx.version,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: args.subnetIds as pulumi.Input<pulumi.Input<string>[]>,
        endpointPrivateAccess: true,
        endpointPublicAccess: publicCidrs.length > 0,
        ...(publicCidrs.length > 0 ? { publicAccessCidrs: publicCidrs } : {}),
      },
      encryptionConfig: { provider: { keyArn: kmsKey.arn }, resources: ["secrets"] },
      enabledClusterLogTypes: [...EKS_LOG_TYPES],
      // API mode: access is granted by access entries only (no aws-auth ConfigMap). With a deploy
      // role named, the creator gets no entry of its own: the deploy role's entry is what deploys.
      accessConfig: {
        authenticationMode: "API",
        bootstrapClusterCreatorAdminPermissions: ctx.args.deployRoleArn === undefined,
      },
      // The managed add-ons below replace the self-managed defaults.
      bootstrapSelfManagedAddons: false,
      upgradePolicy: { supportType: "STANDARD" },
      deletionProtection: ctx.protect,
      tags,
    },
    {
      parent: ctx.parent,
      dependsOn: [...clusterPolicies, controlPlaneLogs],
      ...statefulOptions(ctx.protect),
      // EKS sets this once, at creation (the provider replaces the cluster when it changes): a
      // cluster created before deployRoleArn existed keeps its creator's entry until it is deleted
      // by hand (CHANGELOG), rather than being replaced.
      ignoreChanges: ["accessConfig.bootstrapClusterCreatorAdminPermissions"],
    },
  );
}

/** Workload identity: IRSA through the cluster's OIDC issuer (Pod Identity needs no provider). */
function createOidcProvider(ctx: EksContext, cluster: aws.eks.Cluster): aws.iam.OpenIdConnectProvider {
  return new aws.iam.OpenIdConnectProvider(
    childName(ctx.name, "oidc"),
    {
      url: cluster.identities.apply((ids) => ids[0]?.oidcs?.[0]?.issuer ?? ""),
      clientIdLists: ["sts.amazonaws.com"],
      tags: ctx.tags,
    },
    { parent: ctx.parent },
  );
}

/**
 * Cluster admins: an access entry per `adminRoleArns` role and one for the `deployRoleArn`
 * (`<name>-admin-<role>`, `<name>-deploy-<role>`), each with AmazonEKSClusterAdminPolicy. Returns the
 * deploy role's grant, which the Kubernetes provider waits for.
 */
function grantClusterAdmins(ctx: EksContext, cluster: aws.eks.Cluster): pulumi.Resource[] {
  const grant = (prefix: string, roleArn: string): pulumi.Resource => {
    const roleName = (roleArn.split("/").pop() as string).toLowerCase().replace(/[^a-z0-9-]/g, "-");
    const entry = new aws.eks.AccessEntry(
      childName(ctx.name, `${prefix}-${roleName}`),
      { clusterName: cluster.name, principalArn: roleArn, type: "STANDARD", tags: ctx.tags },
      { parent: ctx.parent },
    );
    return new aws.eks.AccessPolicyAssociation(
      childName(ctx.name, `${prefix}-${roleName}`),
      {
        clusterName: cluster.name,
        principalArn: roleArn,
        policyArn: pulumi.interpolate`arn:${ctx.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
        accessScope: { type: "cluster" },
      },
      { parent: ctx.parent, dependsOn: [entry] },
    );
  };
  for (const roleArn of ctx.args.adminRoleArns ?? []) grant("admin", roleArn);
  return ctx.args.deployRoleArn ? [grant("deploy", ctx.args.deployRoleArn)] : [];
}

/**
 * `<name>-api-clients`: a security group with no ingress, admitted on 443 by the cluster security
 * group (which fronts the private endpoint's network interfaces). A deploy runner inside the VPC
 * joins it; nothing else outside the nodes reaches the private endpoint. Its egress is HTTPS only
 * (the API, AWS APIs, the runner's own control service).
 */
function createApiClientAccess(ctx: EksContext, cluster: aws.eks.Cluster): aws.ec2.SecurityGroup {
  const group = new aws.ec2.SecurityGroup(
    childName(ctx.name, "api-clients"),
    {
      vpcId: ctx.args.vpcId as pulumi.Input<string>,
      description: `Clients of the ${ctx.clusterName} API endpoint inside the VPC (deploy runner)`,
      egress: [
        { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS" },
      ],
      tags: ctx.tags,
    },
    { parent: ctx.parent },
  );
  new aws.vpc.SecurityGroupIngressRule(
    childName(ctx.name, "api-from-clients"),
    {
      securityGroupId: cluster.vpcConfig.clusterSecurityGroupId,
      referencedSecurityGroupId: group.id,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      description: "API endpoint from its in-VPC clients (deploy runner)",
      tags: ctx.tags,
    },
    { parent: ctx.parent },
  );
  return group;
}

/** A managed add-on, at its pinned version when `addonVersions` names one. */
function createAddon(
  ctx: EksContext,
  cluster: aws.eks.Cluster,
  addonName: EksAddonName,
  extra: Partial<aws.eks.AddonArgs>,
  dependsOn: pulumi.Resource[],
): aws.eks.Addon {
  const version = ctx.args.addonVersions?.[addonName];
  return new aws.eks.Addon(
    childName(ctx.name, addonName),
    {
      clusterName: cluster.name,
      addonName,
      ...(version ? { addonVersion: version } : {}),
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
      tags: ctx.tags,
      ...extra,
    },
    { parent: ctx.parent, dependsOn },
  );
}

/** Networking add-ons, created first: nodes only become Ready once the CNI runs on them. */
function createNetworkAddons(
  ctx: EksContext,
  cluster: aws.eks.Cluster,
): { podIdentityAgent: aws.eks.Addon; all: aws.eks.Addon[] } {
  // NetworkPolicy enforcement is off by default in the VPC CNI; the platform's policies need it.
  // Security groups for pods: pods a SecurityGroupPolicy selects get a branch interface with its
  // groups. Standard mode keeps NetworkPolicy and the node's rules for traffic inside the cluster;
  // without early demux the kubelet's probes reach pods on branch interfaces.
  const sgForPods = podSecurityGroups(ctx.args)
    ? {
        env: { ENABLE_POD_ENI: "true", POD_SECURITY_GROUP_ENFORCING_MODE: "standard" },
        init: { env: { DISABLE_TCP_EARLY_DEMUX: "true" } },
      }
    : {};
  const vpcCni = createAddon(
    ctx,
    cluster,
    "vpc-cni",
    { configurationValues: JSON.stringify({ enableNetworkPolicy: "true", ...sgForPods }) },
    [cluster],
  );
  const kubeProxy = createAddon(ctx, cluster, "kube-proxy", {}, [cluster]);
  // The Pod Identity agent (a DaemonSet) hands pods the credentials of their association's role.
  const podIdentityAgent = createAddon(ctx, cluster, "eks-pod-identity-agent", {}, [cluster]);
  return { podIdentityAgent, all: [vpcCni, kubeProxy, podIdentityAgent] };
}

/** The node role and a managed node group per `nodeGroups` entry, each with its launch template. */
function createNodeGroups(
  ctx: EksContext,
  cluster: aws.eks.Cluster,
  networkAddons: aws.eks.Addon[],
): { role: aws.iam.Role; groups: aws.eks.NodeGroup[] } {
  const role = serviceRole(
    ctx,
    "node",
    "ec2.amazonaws.com",
    ["sts:AssumeRole"],
    `EKS managed nodes of ${ctx.clusterName}`,
  );
  const policies = attachManagedPolicies(ctx, role, "node", [
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
  ]);
  const groups = Object.entries(ctx.args.nodeGroups ?? {}).map(([group, ng]) =>
    createNodeGroup(ctx, cluster, role, group, ng, [...policies, ...networkAddons]),
  );
  return { role, groups };
}

function createNodeGroup(
  ctx: EksContext,
  cluster: aws.eks.Cluster,
  role: aws.iam.Role,
  group: string,
  ng: NodeGroupArgs,
  dependsOn: pulumi.Resource[],
): aws.eks.NodeGroup {
  const { args, tags } = ctx;
  const launchTemplate = createLaunchTemplate(ctx, group, ng);
  return new aws.eks.NodeGroup(
    childName(ctx.name, group),
    {
      clusterName: cluster.name,
      version: ctx.version,
      nodeRoleArn: role.arn,
      subnetIds: args.subnetIds as pulumi.Input<pulumi.Input<string>[]>,
      instanceTypes: ng.instanceTypes,
      amiType: isArm(ng.instanceTypes) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD",
      capacityType: ng.capacityType ?? "ON_DEMAND",
      scalingConfig: {
        minSize: ng.minSize,
        maxSize: ng.maxSize,
        desiredSize: ng.desiredSize ?? ng.minSize,
      },
      updateConfig: { maxUnavailable: 1 },
      labels: { ...(ng.labels ?? {}), [domainKey(args.labelDomain, "node-group")]: group },
      taints: (ng.taints ?? []).map((t) => ({
        key: t.key,
        ...(t.value !== undefined ? { value: t.value } : {}),
        effect: TAINT_EFFECT[t.effect],
      })),
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
      tags: { ...tags, [domainKey(args.labelDomain, "node-group")]: group },
    },
    { parent: ctx.parent, dependsOn, ignoreChanges: ["scalingConfig.desiredSize"] },
  );
}

function createLaunchTemplate(ctx: EksContext, group: string, ng: NodeGroupArgs): aws.ec2.LaunchTemplate {
  const { clusterName, tags } = ctx;
  return new aws.ec2.LaunchTemplate(
    childName(ctx.name, `${group}-nodes`),
    {
      description: `Nodes of ${clusterName}/${group}: IMDSv2 only, encrypted gp3 root volume`,
      updateDefaultVersion: true,
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeSize: ng.diskSizeGb ?? 50,
            volumeType: "gp3",
            encrypted: "true",
            deleteOnTermination: "true",
          },
        },
      ],
      // Hop limit 1: pods cannot reach the node's instance credentials (they use Pod Identity / IRSA).
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      tagSpecifications: [
        { resourceType: "instance", tags: { ...tags, Name: `${clusterName}-${group}` } },
        { resourceType: "volume", tags: { ...tags, Name: `${clusterName}-${group}` } },
      ],
      tags,
    },
    { parent: ctx.parent },
  );
}

/** The EBS CSI driver's controller service account (kube-system), which its Pod Identity role trusts. */
const EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa";

/** Add-ons that run as Deployments, so need nodes: CoreDNS and the EBS CSI driver (with its Pod Identity role). */
function createNodeAddons(
  ctx: EksContext,
  cluster: aws.eks.Cluster,
  nodeGroups: aws.eks.NodeGroup[],
  networkAddons: aws.eks.Addon[],
): { coredns: aws.eks.Addon; ebsCsi: aws.eks.Addon } {
  // Only the driver's controller service account on this cluster may assume it, as for every other
  // Pod Identity role here.
  const ebsCsiRole = new aws.iam.Role(
    childName(ctx.name, "ebs-csi"),
    {
      description: `EBS CSI controller of ${ctx.clusterName} (Pod Identity)`,
      assumeRolePolicy: JSON.stringify(
        podIdentityTrustPolicy(ctx.clusterName, "kube-system", EBS_CSI_SERVICE_ACCOUNT),
      ),
      tags: ctx.tags,
    },
    { parent: ctx.parent },
  );
  const ebsCsiPolicies = attachManagedPolicies(ctx, ebsCsiRole, "ebs-csi", [
    "service-role/AmazonEBSCSIDriverPolicy",
  ]);
  const coredns = createAddon(ctx, cluster, "coredns", {}, nodeGroups);
  const ebsCsi = createAddon(
    ctx,
    cluster,
    "aws-ebs-csi-driver",
    { podIdentityAssociations: [{ roleArn: ebsCsiRole.arn, serviceAccount: EBS_CSI_SERVICE_ACCOUNT }] },
    [...nodeGroups, ...ebsCsiPolicies, ...networkAddons],
  );
  return { coredns, ebsCsi };
}

/** Kubeconfig (secret): tokens from `aws eks get-token` (no long-lived credentials in it). */
function eksKubeconfig(ctx: EksContext, cluster: aws.eks.Cluster): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([cluster.name, cluster.endpoint, cluster.certificateAuthority.data, ctx.region])
      .apply(([n, endpoint, ca, r]) =>
        JSON.stringify(
          buildKubeconfig({
            clusterName: n,
            endpoint,
            caData: ca,
            region: r,
            roleArn: ctx.args.kubeconfigRoleArn,
          }),
        ),
      ),
  );
}

/** The default StorageClass: encrypted gp3 volumes, tagged for VolumeBackup, retained when protected. */
function createStorageClass(
  ctx: EksContext,
  provider: k8s.Provider,
  ebsCsi: aws.eks.Addon,
): k8s.storage.v1.StorageClass {
  const backupTag = volumeBackupTag(ctx.args.labelDomain);
  return new k8s.storage.v1.StorageClass(
    childName(ctx.name, "gp3"),
    {
      metadata: {
        name: "gp3-encrypted",
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "ebs.csi.aws.com",
      parameters: {
        type: "gp3",
        encrypted: "true",
        "csi.storage.k8s.io/fstype": "ext4",
        // Every volume carries the tag the AWS Backup selection (VolumeBackup) picks volumes by.
        tagSpecification_1: `${backupTag.key}=${backupTag.value}`,
      },
      reclaimPolicy: ctx.protect ? "Retain" : "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    },
    { parent: ctx.parent, provider, dependsOn: [ebsCsi] },
  );
}

/** What installing a cluster add-on from a chart needs to know about the EKS cluster. */
interface AddOnContext {
  cluster: aws.eks.Cluster;
  clusterName: string;
  region: pulumi.Output<string>;
  partition: pulumi.Output<string>;
  tags: Record<string, string>;
  provider: k8s.Provider;
  chart: HelmChartSource;
  /** What the release waits for besides its Pod Identity role (the agent, CoreDNS). */
  dependsOn: pulumi.Resource[];
}

/** Every problem with KubernetesCluster's args (the one place they are checked). */
function clusterArgProblems(name: string, args: KubernetesClusterArgs): string[] {
  const domainProblem = labelDomainProblem(args.labelDomain);
  const problems = domainProblem ? [domainProblem] : [];
  if (args.provider === "existing") return [...problems, ...existingClusterProblems(args)];
  if (args.provider === "aws")
    return [
      ...problems,
      ...eksClusterProblems(name, args),
      ...eksAccessProblems(args),
      ...nodeGroupsProblems(args),
      ...eksSettingsProblems(args),
      ...addOnChartProblems(args),
    ];
  return [...problems, `provider: "aws" or "existing", found ${JSON.stringify(args.provider)}`];
}

/** Whether pods may carry their own security groups (`securityGroupsForPods`, default on). */
const podSecurityGroups = (args: KubernetesClusterArgs): boolean => args.securityGroupsForPods ?? true;

/** Args that configure what this component creates on EKS (refused with `existing`). */
const AWS_ONLY = [
  "clusterName",
  "kubernetesVersion",
  "vpcId",
  "subnetIds",
  "publicAccessCidrs",
  "adminRoleArns",
  "deployRoleArn",
  "securityGroupsForPods",
  "nodeGroups",
  "addonVersions",
  "controlPlaneLogRetentionDays",
  "kubeconfigRoleArn",
  "loadBalancerControllerChart",
  "clusterAutoscalerChart",
] as const;

/** `existing`: only the kubeconfig and context; nothing that would equip a cluster this component does not own. */
function existingClusterProblems(args: KubernetesClusterArgs): string[] {
  const problems: string[] = [];
  for (const key of AWS_ONLY) {
    if (args[key] !== undefined)
      problems.push(
        `${key}: no value when provider is "existing" (it configures an EKS cluster this component does not create)`,
      );
  }
  if (args.requireAdminRoles)
    problems.push(
      'requireAdminRoles: admin roles are granted only on clusters this component creates (provider "aws")',
    );
  if (args.loadBalancerController)
    problems.push(
      'loadBalancerController: installed only on clusters this component creates (provider "aws"); on an existing cluster, install the AWS Load Balancer Controller with the cluster and leave this out',
    );
  if (args.clusterAutoscaler)
    problems.push(
      'clusterAutoscaler: installed only on clusters this component creates (provider "aws"); an existing cluster scales its nodes its own way',
    );
  if (args.context !== undefined && args.context.trim() === "")
    problems.push("context: a kubeconfig context name, found an empty string");
  return problems;
}

/** `aws`: no kubeconfig of its own; the cluster's name, version, VPC and subnets. */
function eksClusterProblems(name: string, args: KubernetesClusterArgs): string[] {
  const problems: string[] = [];
  for (const key of ["kubeconfig", "context"] as const) {
    if (args[key] !== undefined)
      problems.push(
        `${key}: no value when provider is "aws" (the kubeconfig is generated from the EKS cluster)`,
      );
  }
  const clusterName = args.clusterName ?? name;
  if (!/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(clusterName))
    problems.push(
      `clusterName: an EKS cluster name (letters, digits, '-' and '_', at most 100), found ${JSON.stringify(clusterName)}`,
    );
  if (args.kubernetesVersion === undefined)
    problems.push(`kubernetesVersion: required, one of ${EKS_KUBERNETES_VERSIONS.join(", ")}`);
  else if (!(EKS_KUBERNETES_VERSIONS as readonly string[]).includes(args.kubernetesVersion))
    problems.push(
      `kubernetesVersion: one of ${EKS_KUBERNETES_VERSIONS.join(", ")} (the versions this component is tested against), found ${JSON.stringify(args.kubernetesVersion)}`,
    );
  if (args.vpcId === undefined) problems.push("vpcId: required (the VPC the cluster runs in)");
  if (args.subnetIds === undefined)
    problems.push("subnetIds: required (private subnets in at least two zones)");
  else if (Array.isArray(args.subnetIds) && args.subnetIds.length < 2)
    problems.push(
      `subnetIds: at least two subnets in different zones (EKS requirement), found ${args.subnetIds.length}`,
    );
  return problems;
}

/** Who reaches the API: the public endpoint's CIDRs and the admin roles. */
function eksAccessProblems(args: KubernetesClusterArgs): string[] {
  const problems: string[] = [];
  for (const [i, cidr] of (args.publicAccessCidrs ?? []).entries()) {
    const problem = ipv4CidrProblem(cidr);
    if (problem) problems.push(`publicAccessCidrs[${i}]: ${problem}`);
    else if (cidr.endsWith("/0"))
      problems.push(
        `publicAccessCidrs[${i}]: ${cidr} opens the API endpoint to the internet; list your networks, or none for a private-only endpoint`,
      );
  }
  if (args.deployRoleArn !== undefined && !ROLE_ARN.test(args.deployRoleArn))
    problems.push(
      `deployRoleArn: an IAM role ARN such as arn:aws:iam::123456789012:role/platform-deployer, found ${JSON.stringify(args.deployRoleArn)}`,
    );
  for (const [i, arn] of (args.adminRoleArns ?? []).entries()) {
    if (!ROLE_ARN.test(arn))
      problems.push(
        `adminRoleArns[${i}]: an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admins, found ${JSON.stringify(arn)}`,
      );
  }
  if (args.requireAdminRoles && (args.adminRoleArns ?? []).length === 0)
    problems.push(
      "adminRoleArns: at least one IAM role (requireAdminRoles is set: without an admin role nobody but the deployer can administer the cluster)",
    );
  return problems;
}

function nodeGroupsProblems(args: KubernetesClusterArgs): string[] {
  const groups = Object.entries(args.nodeGroups ?? {});
  return [
    ...(groups.length === 0 ? ["nodeGroups: at least one managed node group"] : []),
    ...groups.flatMap(([group, ng]) => nodeGroupProblems(group, ng)),
  ];
}

/** Add-on versions, control-plane log retention and the kubeconfig's role. */
function eksSettingsProblems(args: KubernetesClusterArgs): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(args.addonVersions ?? {})) {
    if (!(EKS_ADDONS as readonly string[]).includes(key))
      problems.push(`addonVersions.${key}: one of the installed add-ons (${EKS_ADDONS.join(", ")})`);
  }
  const retention = args.controlPlaneLogRetentionDays;
  if (retention !== undefined && !CLOUDWATCH_RETENTION_DAYS.includes(retention))
    problems.push(
      `controlPlaneLogRetentionDays: a CloudWatch retention period (${CLOUDWATCH_RETENTION_DAYS.join(", ")}), found ${retention}`,
    );
  if (args.kubeconfigRoleArn !== undefined && !ROLE_ARN.test(args.kubeconfigRoleArn))
    problems.push(`kubeconfigRoleArn: an IAM role ARN, found ${JSON.stringify(args.kubeconfigRoleArn)}`);
  return problems;
}

/** The charts of the Helm add-ons: only for an add-on that is installed, and each a valid source. */
function addOnChartProblems(args: KubernetesClusterArgs): string[] {
  const problems: string[] = [];
  if (args.loadBalancerControllerChart !== undefined) {
    if (args.loadBalancerController === false)
      problems.push("loadBalancerControllerChart: no value when loadBalancerController is false");
    else
      problems.push(
        ...chartProblems(
          "loadBalancerControllerChart",
          args.loadBalancerControllerChart,
          "set loadBalancerController to false",
        ),
      );
  }
  if (args.clusterAutoscalerChart !== undefined) {
    if (args.clusterAutoscaler === false)
      problems.push("clusterAutoscalerChart: no value when clusterAutoscaler is false");
    else
      problems.push(
        ...chartProblems(
          "clusterAutoscalerChart",
          args.clusterAutoscalerChart,
          "set clusterAutoscaler to false",
        ),
      );
  }
  return problems;
}

function nodeGroupProblems(group: string, ng: NodeGroupArgs): string[] {
  const problems: string[] = [];
  const at = `nodeGroups.${group}`;
  const whole = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0;
  if (!DNS_LABEL.test(group) || group.length > 40)
    problems.push(`${at}: the group name must be a DNS label of at most 40 characters`);
  if (!Array.isArray(ng.instanceTypes) || ng.instanceTypes.length === 0)
    problems.push(`${at}.instanceTypes: at least one EC2 instance type`);
  else {
    for (const t of ng.instanceTypes)
      if (!INSTANCE_TYPE.test(t))
        problems.push(`${at}.instanceTypes: "${t}" is not an EC2 instance type such as m5.large`);
    if (new Set(ng.instanceTypes.map((t) => isArm([t]))).size > 1)
      problems.push(
        `${at}.instanceTypes: mixes ARM (Graviton) and x86 types; one AMI serves a group, split them`,
      );
  }
  if (!whole(ng.minSize)) problems.push(`${at}.minSize: a whole number ≥ 0, found ${String(ng.minSize)}`);
  if (!whole(ng.maxSize) || ng.maxSize < 1)
    problems.push(`${at}.maxSize: a whole number ≥ 1, found ${String(ng.maxSize)}`);
  if (whole(ng.minSize) && whole(ng.maxSize) && ng.minSize > ng.maxSize)
    problems.push(`${at}.minSize: at most maxSize (${ng.maxSize}), found ${ng.minSize}`);
  if (
    ng.desiredSize !== undefined &&
    (!whole(ng.desiredSize) || ng.desiredSize < ng.minSize || ng.desiredSize > ng.maxSize)
  )
    problems.push(
      `${at}.desiredSize: from minSize (${ng.minSize}) to maxSize (${ng.maxSize}), found ${String(ng.desiredSize)}`,
    );
  if (
    ng.diskSizeGb !== undefined &&
    (!Number.isInteger(ng.diskSizeGb) || ng.diskSizeGb < 20 || ng.diskSizeGb > 16384)
  )
    problems.push(`${at}.diskSizeGb: a whole number of GiB from 20 to 16384, found ${String(ng.diskSizeGb)}`);
  if (ng.capacityType !== undefined && ng.capacityType !== "ON_DEMAND" && ng.capacityType !== "SPOT")
    problems.push(`${at}.capacityType: "ON_DEMAND" or "SPOT", found ${JSON.stringify(ng.capacityType)}`);
  for (const [i, t] of (ng.taints ?? []).entries()) {
    if (!t.key) problems.push(`${at}.taints[${i}].key: required`);
    if (!(t.effect in TAINT_EFFECT))
      problems.push(
        `${at}.taints[${i}].effect: one of ${Object.keys(TAINT_EFFECT).join(", ")}, found ${JSON.stringify(t.effect)}`,
      );
  }
  return problems;
}

/**
 * IAM policy of the Cluster Autoscaler (the AWS provider's documented least-privilege policy):
 * describing is global, but changing a group's size or terminating its instances is allowed only on
 * Auto Scaling groups tagged `k8s.io/cluster-autoscaler/<clusterName>: owned` (EKS tags managed node
 * groups so), `eks:DescribeNodegroup` lets it learn a group's labels and taints while at zero nodes.
 */
export function clusterAutoscalerPolicy(
  clusterName: string,
  partition: string,
): {
  Version: string;
  Statement: Record<string, unknown>[];
} {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
        ],
        Resource: "*",
      },
      {
        // This cluster's node groups only (the ARN carries the cluster's name).
        Effect: "Allow",
        Action: ["eks:DescribeNodegroup"],
        Resource: `arn:${partition}:eks:*:*:nodegroup/${clusterName}/*/*`,
      },
      {
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Resource: "*",
        Condition: {
          StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" },
        },
      },
    ],
  };
}

/**
 * Trust policy of a Pod Identity role: only EKS Pod Identity may assume it, and only for
 * `namespace`/`serviceAccount` on `clusterName` (session tags EKS sets on every assumption).
 */
function podIdentityTrustPolicy(clusterName: string, namespace: string, serviceAccount: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: {
            "aws:RequestTag/eks-cluster-name": clusterName,
            "aws:RequestTag/kubernetes-namespace": namespace,
            "aws:RequestTag/kubernetes-service-account": serviceAccount,
          },
        },
      },
    ],
  };
}

/**
 * IAM policy of the AWS Load Balancer Controller, for Services (NLB with IP or instance targets).
 *
 * From the controller's published policy for the pinned version (kubernetes-sigs/
 * aws-load-balancer-controller, docs/install/iam_policy.json at v2.13.4), kept statement by statement
 * with its tag conditions: everything the controller creates carries `elbv2.k8s.aws/cluster`, and it
 * may modify or delete only what carries that tag. Left out, because only ALB Ingresses use them:
 * Cognito, ACM and IAM server-certificate lookups, WAF, WAFv2 and Shield (turned off in the chart
 * values), listener rules, and `loadbalancer/app` / `listener/app` / `listener-rule` ARNs. Re-derive it
 * from the upstream file whenever AWS_LOAD_BALANCER_CONTROLLER_CHART_VERSION changes. The ARNs are in
 * `partition`.
 */
export function loadBalancerControllerPolicy(partition: string): {
  Version: string;
  Statement: Record<string, unknown>[];
} {
  const inPartition = (arn: string) => arn.replace(/^arn:aws:/, `arn:${partition}:`);
  return {
    Version: "2012-10-17",
    Statement: LOAD_BALANCER_CONTROLLER_STATEMENTS.map((statement) => ({
      ...statement,
      Resource: Array.isArray(statement.Resource)
        ? statement.Resource.map(inPartition)
        : inPartition(statement.Resource),
    })),
  };
}

type IamStatement = {
  Sid: string;
  Effect: "Allow";
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
};

/** Conditions on the `elbv2.k8s.aws/cluster` tag the controller puts on what it creates. */
const REQUEST_TAGGED = { Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } };
const RESOURCE_TAGGED = { Null: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } };
const RETAG_OWNED = {
  Null: {
    "aws:RequestTag/elbv2.k8s.aws/cluster": "true",
    "aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
  },
};

/**
 * The statements of `loadBalancerControllerPolicy` (see there for what is kept and left out), written
 * as the upstream iam_policy.json writes them, ARNs in partition `aws`, so that the two compare
 * statement by statement.
 */
const LOAD_BALANCER_CONTROLLER_STATEMENTS: readonly IamStatement[] = [
  {
    Sid: "CreateElbServiceLinkedRole",
    Effect: "Allow",
    Action: "iam:CreateServiceLinkedRole",
    Resource: "*",
    Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
  },
  {
    Sid: "Describe",
    Effect: "Allow",
    Action: [
      "ec2:DescribeAccountAttributes",
      "ec2:DescribeAddresses",
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInternetGateways",
      "ec2:DescribeVpcs",
      "ec2:DescribeVpcPeeringConnections",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeInstances",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeTags",
      "ec2:DescribeCoipPools",
      "ec2:GetCoipPoolUsage",
      "ec2:GetSecurityGroupsForVpc",
      "ec2:DescribeIpamPools",
      "ec2:DescribeRouteTables",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeListenerCertificates",
      "elasticloadbalancing:DescribeListenerAttributes",
      "elasticloadbalancing:DescribeSSLPolicies",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetHealth",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTrustStores",
      "elasticloadbalancing:DescribeCapacityReservation",
    ],
    Resource: "*",
  },
  {
    // Rules from the load balancer's security group on the nodes' and pods' security groups,
    // which the controller did not create (hence no tag condition, as upstream).
    Sid: "SecurityGroupIngress",
    Effect: "Allow",
    Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
    Resource: "*",
  },
  { Sid: "CreateSecurityGroup", Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: "*" },
  {
    Sid: "TagSecurityGroupOnCreate",
    Effect: "Allow",
    Action: "ec2:CreateTags",
    Resource: "arn:aws:ec2:*:*:security-group/*",
    Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" }, ...REQUEST_TAGGED },
  },
  {
    Sid: "RetagOwnedSecurityGroups",
    Effect: "Allow",
    Action: ["ec2:CreateTags", "ec2:DeleteTags"],
    Resource: "arn:aws:ec2:*:*:security-group/*",
    Condition: RETAG_OWNED,
  },
  {
    Sid: "ManageOwnedSecurityGroups",
    Effect: "Allow",
    Action: [
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:DeleteSecurityGroup",
    ],
    Resource: "*",
    Condition: RESOURCE_TAGGED,
  },
  {
    Sid: "CreateTaggedLoadBalancers",
    Effect: "Allow",
    Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
    Resource: "*",
    Condition: REQUEST_TAGGED,
  },
  {
    Sid: "Listeners",
    Effect: "Allow",
    Action: ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener"],
    Resource: "*",
  },
  {
    Sid: "RetagOwnedLoadBalancers",
    Effect: "Allow",
    Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
    Resource: [
      "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
      "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
    ],
    Condition: RETAG_OWNED,
  },
  {
    Sid: "TagListeners",
    Effect: "Allow",
    Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
    Resource: "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
  },
  {
    Sid: "ManageOwnedLoadBalancers",
    Effect: "Allow",
    Action: [
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:SetIpAddressType",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:ModifyCapacityReservation",
      "elasticloadbalancing:ModifyIpPools",
    ],
    Resource: "*",
    Condition: RESOURCE_TAGGED,
  },
  {
    Sid: "TagLoadBalancersOnCreate",
    Effect: "Allow",
    Action: "elasticloadbalancing:AddTags",
    Resource: [
      "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
      "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
    ],
    Condition: {
      StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] },
      ...REQUEST_TAGGED,
    },
  },
  {
    Sid: "RegisterTargets",
    Effect: "Allow",
    Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
    Resource: "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
  },
  {
    Sid: "ModifyListeners",
    Effect: "Allow",
    Action: [
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:AddListenerCertificates",
      "elasticloadbalancing:RemoveListenerCertificates",
    ],
    Resource: "*",
  },
];

/** Graviton instance families carry a `g` after the generation digit (m7g, c6gn, r8g, t4g). */
function isArm(instanceTypes: string[]): boolean {
  return instanceTypes.length > 0 && instanceTypes.every((t) => /^[a-z]+[0-9]+g[a-z]*\./.test(t));
}

/** A kubeconfig whose credentials come from `aws eks get-token` at use time. */
function buildKubeconfig(args: {
  clusterName: string;
  endpoint: string;
  caData: string;
  region: string;
  roleArn?: string;
}): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: args.clusterName,
        cluster: { server: args.endpoint, "certificate-authority-data": args.caData },
      },
    ],
    contexts: [{ name: args.clusterName, context: { cluster: args.clusterName, user: args.clusterName } }],
    "current-context": args.clusterName,
    users: [
      {
        name: args.clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "eks",
              "get-token",
              "--cluster-name",
              args.clusterName,
              "--region",
              args.region,
              "--output",
              "json",
              ...(args.roleArn ? ["--role-arn", args.roleArn] : []),
            ],
            interactiveMode: "Never",
          },
        },
      },
    ],
  };
}
