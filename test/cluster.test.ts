/**
 * KubernetesCluster: the EKS path per stage profile (pinned version, endpoint access, KMS, logs, access
 * entries, OIDC, add-ons, node groups, default StorageClass, kubeconfig provider, protection), the
 * existing-cluster path, and arg errors.
 */
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { byType, isSecretValue, reveal, runProgram, type RecordedResource, type RunResult } from "./harness";
import {
  AWS_LOAD_BALANCER_CONTROLLER_CHART_VERSION,
  CLUSTER_AUTOSCALER_CHART_VERSION,
  CLUSTER_AUTOSCALER_IMAGE_TAGS,
  CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
  KubernetesCluster,
  type KubernetesClusterArgs,
} from "../components/KubernetesCluster";
import { ComponentArgsError, resourceProblems, type ContainerResources } from "../components/lib";
import { validateKubernetesObject } from "./validate";

const ADMIN = "arn:aws:iam::123456789012:role/platform-admins";
const TAGS = { project: "microservices-platform", stack: "production", owner: "team-platform" };
const PRODUCTION: KubernetesClusterArgs = {
  provider: "aws",
  clusterName: "platform-production",
  kubernetesVersion: "1.33",
  vpcId: "vpc-0123",
  subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
  publicAccessCidrs: ["203.0.113.0/24"],
  adminRoleArns: [ADMIN],
  requireAdminRoles: true,
  nodeGroups: {
    general: {
      instanceTypes: ["m5.large"],
      minSize: 3,
      maxSize: 10,
      desiredSize: 3,
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
      taints: [{ key: "platform/pool", value: "memory", effect: "NoSchedule" }],
    },
  },
  protect: true,
  tags: TAGS,
};
const STAGING: KubernetesClusterArgs = {
  ...PRODUCTION,
  clusterName: "platform-staging",
  publicAccessCidrs: [],
  adminRoleArns: [],
  requireAdminRoles: false,
  nodeGroups: {
    general: { instanceTypes: ["m5.large"], minSize: 2, maxSize: 4, diskSizeGb: 50 },
    memory: { instanceTypes: ["r5.large"], minSize: 1, maxSize: 2, diskSizeGb: 50 },
  },
  protect: false,
  tags: { ...TAGS, stack: "staging" },
};

async function build(args: KubernetesClusterArgs, stack: string): Promise<RunResult> {
  return runProgram(
    () => {
      const c = new KubernetesCluster("cluster", args);
      return {
        kubeconfig: c.kubeconfig,
        clusterName: c.clusterName,
        endpoint: c.endpoint,
        clusterSecurityGroupId: c.clusterSecurityGroupId,
        oidcProviderArn: c.oidcProviderArn,
        storageClassName: c.storageClassName,
        loadBalancerControllerUrn: c.loadBalancerController?.urn,
      };
    },
    { stack },
  );
}

const one = (run: RunResult, type: string): RecordedResource => {
  const found = byType(run, type);
  expect(found, type).toHaveLength(1);
  return found[0] as RecordedResource;
};
const isDefaultProvider = (provider: string) =>
  provider === "" || provider.includes("pulumi:providers:kubernetes::default");
const named = (run: RunResult, type: string, name: string): RecordedResource => {
  const found = byType(run, type).filter((r) => r.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0] as RecordedResource;
};
const LBC = "cluster-lb-controller";
const CA = "cluster-cluster-autoscaler";

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
/** The inline policy of the controller's role, parsed. */
function controllerPolicy(run: RunResult): { json: string; statements: PolicyStatement[] } {
  const role = named(run, "aws:iam/role:Role", LBC);
  const inline = named(run, "aws:iam/rolePolicy:RolePolicy", LBC);
  expect(inline.inputs.role).toBe(role.state.name);
  const json = inline.inputs.policy as string;
  const doc = JSON.parse(json) as { Version: string; Statement: PolicyStatement[] };
  expect(doc.Version).toBe("2012-10-17");
  return { json, statements: doc.Statement };
}

describe("KubernetesCluster aws (production profile)", () => {
  let run: RunResult;
  it("creates EKS with the pinned version, private endpoint + public restricted to the CIDRs, KMS-encrypted secrets and all five log types", async () => {
    run = await build(PRODUCTION, "production");
    const eks = one(run, "aws:eks/cluster:Cluster");
    const key = one(run, "aws:kms/key:Key");
    expect(eks.inputs).toMatchObject({
      name: "platform-production",
      version: "1.33",
      vpcConfig: {
        endpointPrivateAccess: true,
        endpointPublicAccess: true,
        publicAccessCidrs: ["203.0.113.0/24"],
        subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
      },
      encryptionConfig: { provider: { keyArn: key.state.arn }, resources: ["secrets"] },
      accessConfig: { authenticationMode: "API" },
      bootstrapSelfManagedAddons: false,
      deletionProtection: true,
      tags: TAGS,
    });
    expect([...(eks.inputs.enabledClusterLogTypes as string[])].sort()).toEqual([
      "api",
      "audit",
      "authenticator",
      "controllerManager",
      "scheduler",
    ]);
    expect(key.inputs).toMatchObject({ enableKeyRotation: true });
    const logs = byType(run, "aws:cloudwatch/logGroup:LogGroup").find(
      (g) => g.inputs.name === "/aws/eks/platform-production/cluster",
    );
    expect(logs?.inputs.retentionInDays).toBe(90);
    expect(eks.dependencies).toContain(logs?.urn);
  });

  it("protects the cluster and its KMS key (protect + retainOnDelete)", () => {
    for (const type of ["aws:eks/cluster:Cluster", "aws:kms/key:Key"]) {
      const r = one(run, type);
      expect([r.protect, r.retainOnDelete], type).toEqual([true, true]);
    }
  });

  it("grants each admin role cluster admin through an access entry and AmazonEKSClusterAdminPolicy", () => {
    const entry = one(run, "aws:eks/accessEntry:AccessEntry");
    expect(entry.inputs).toMatchObject({
      clusterName: "platform-production",
      principalArn: ADMIN,
      type: "STANDARD",
    });
    const assoc = one(run, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
    expect(assoc.inputs).toMatchObject({
      principalArn: ADMIN,
      policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
      accessScope: { type: "cluster" },
    });
    expect(assoc.dependencies).toContain(entry.urn);
  });

  it("registers the cluster's OIDC issuer as an IAM OIDC provider", () => {
    const eks = one(run, "aws:eks/cluster:Cluster");
    const oidc = one(run, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
    const issuer = (eks.state.identities as { oidcs: { issuer: string }[] }[])[0]?.oidcs[0]?.issuer;
    expect(oidc.inputs).toMatchObject({ url: issuer, clientIdLists: ["sts.amazonaws.com"] });
    expect(run.outputs.oidcProviderArn).toBe(oidc.state.arn);
  });

  it("installs the managed add-ons: networking before the nodes, CoreDNS and EBS CSI (with its Pod Identity role) after", () => {
    const addons = byType(run, "aws:eks/addon:Addon");
    const byName = Object.fromEntries(addons.map((a) => [a.inputs.addonName as string, a]));
    expect(Object.keys(byName).sort()).toEqual([
      "aws-ebs-csi-driver",
      "coredns",
      "eks-pod-identity-agent",
      "kube-proxy",
      "vpc-cni",
    ]);
    // NetworkPolicy enforcement, and security groups for pods (standard mode, probes reach branch interfaces).
    expect(JSON.parse(byName["vpc-cni"]?.inputs.configurationValues as string)).toEqual({
      enableNetworkPolicy: "true",
      env: { ENABLE_POD_ENI: "true", POD_SECURITY_GROUP_ENFORCING_MODE: "standard" },
      init: { env: { DISABLE_TCP_EARLY_DEMUX: "true" } },
    });
    // The VPC resource controller attaches the pods' branch interfaces with the cluster role.
    const clusterRole = byType(run, "aws:iam/role:Role").find((r) => r.name === "cluster-cluster");
    expect(
      byType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        .filter((p) => p.inputs.role === clusterRole?.state.name)
        .map((p) => String(p.inputs.policyArn).split("/").pop())
        .sort(),
    ).toEqual(["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"]);
    const nodeGroupUrns = byType(run, "aws:eks/nodeGroup:NodeGroup").map((n) => n.urn);
    for (const n of byType(run, "aws:eks/nodeGroup:NodeGroup")) {
      for (const early of ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"])
        expect(n.dependencies).toContain(byName[early]?.urn);
    }
    for (const late of ["coredns", "aws-ebs-csi-driver"])
      expect(byName[late]?.dependencies).toEqual(expect.arrayContaining(nodeGroupUrns));

    const ebs = byName["aws-ebs-csi-driver"] as RecordedResource;
    const [association] = ebs.inputs.podIdentityAssociations as { roleArn: string; serviceAccount: string }[];
    expect(association?.serviceAccount).toBe("ebs-csi-controller-sa");
    const role = byType(run, "aws:iam/role:Role").find(
      (r) => r.state.arn === association?.roleArn,
    ) as RecordedResource;
    const trust = JSON.parse(role.inputs.assumeRolePolicy as string);
    expect(trust.Statement[0]).toMatchObject({
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
    });
    // Only the driver's controller on this cluster, as for the other Pod Identity roles.
    expect(trust.Statement[0].Condition.StringEquals).toEqual({
      "aws:RequestTag/eks-cluster-name": expect.stringMatching(/^platform-/),
      "aws:RequestTag/kubernetes-namespace": "kube-system",
      "aws:RequestTag/kubernetes-service-account": "ebs-csi-controller-sa",
    });
    const attachments = byType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter(
      (a) => a.inputs.role === role.state.name,
    );
    expect(attachments.map((a) => a.inputs.policyArn)).toEqual([
      "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
    ]);
  });

  it("creates the managed node groups from args: sizes, labels, taints, private subnets, IMDSv2 launch templates with encrypted gp3", () => {
    const groups = byType(run, "aws:eks/nodeGroup:NodeGroup");
    expect(groups).toHaveLength(2);
    const general = groups.find((g) => g.name === "cluster-general") as RecordedResource;
    const memory = groups.find((g) => g.name === "cluster-memory") as RecordedResource;
    expect(general.inputs).toMatchObject({
      clusterName: "platform-production",
      version: "1.33",
      instanceTypes: ["m5.large"],
      amiType: "AL2023_x86_64_STANDARD",
      capacityType: "ON_DEMAND",
      scalingConfig: { minSize: 3, maxSize: 10, desiredSize: 3 },
      subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
      labels: { "platform/pool": "general" },
    });
    expect(general.ignoreChanges).toContain("scalingConfig.desiredSize");
    expect(memory.inputs).toMatchObject({
      scalingConfig: { minSize: 1, maxSize: 5, desiredSize: 2 },
      taints: [{ key: "platform/pool", value: "memory", effect: "NO_SCHEDULE" }],
    });
    const templates = byType(run, "aws:ec2/launchTemplate:LaunchTemplate");
    expect(templates).toHaveLength(2);
    for (const t of templates) {
      expect(t.inputs.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
      expect((t.inputs.blockDeviceMappings as { ebs: unknown }[])[0]?.ebs).toMatchObject({
        volumeSize: 100,
        volumeType: "gp3",
        encrypted: "true",
      });
    }
    expect(general.inputs.diskSize).toBeUndefined();
    expect((general.inputs.launchTemplate as { id: string }).id).toMatch(/^cluster-general-nodes-/);

    const nodeRole = byType(run, "aws:iam/role:Role").find(
      (r) => r.state.arn === general.inputs.nodeRoleArn,
    ) as RecordedResource;
    const policies = byType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .filter((a) => a.inputs.role === nodeRole.state.name)
      .map((a) => String(a.inputs.policyArn).split("/").pop());
    expect(policies.sort()).toEqual([
      "AmazonEC2ContainerRegistryReadOnly",
      "AmazonEKSWorkerNodePolicy",
      "AmazonEKS_CNI_Policy",
      "AmazonSSMManagedInstanceCore",
    ]);
  });

  it("builds a Kubernetes provider from a secret kubeconfig that gets tokens with aws eks get-token", () => {
    const provider = one(run, "pulumi:providers:kubernetes");
    expect(isSecretValue(provider.inputs.kubeconfig)).toBe(true);
    expect(isSecretValue(run.outputs.kubeconfig)).toBe(true);
    const kubeconfig = parseYaml(reveal(run.outputs.kubeconfig) as string);
    const eks = one(run, "aws:eks/cluster:Cluster");
    expect(kubeconfig.clusters[0].cluster).toEqual({
      server: eks.state.endpoint,
      "certificate-authority-data": (eks.state.certificateAuthority as { data: string }).data,
    });
    expect(kubeconfig.users[0].user.exec).toMatchObject({
      command: "aws",
      args: [
        "eks",
        "get-token",
        "--cluster-name",
        "platform-production",
        "--region",
        "eu-west-1",
        "--output",
        "json",
      ],
    });
    expect(JSON.stringify(kubeconfig)).not.toMatch(/aws_secret_access_key|token:/i);
    expect(run.outputs).toMatchObject({
      clusterName: "platform-production",
      endpoint: eks.state.endpoint,
      clusterSecurityGroupId: expect.stringMatching(/^sg-/),
    });
  });

  it("makes an encrypted gp3 StorageClass the default, deployed through the cluster's provider (Retain when protected)", async () => {
    const sc = one(run, "kubernetes:storage.k8s.io/v1:StorageClass");
    expect(sc.inputs).toMatchObject({
      metadata: {
        name: "gp3-encrypted",
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true" },
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
    });
    const provider = one(run, "pulumi:providers:kubernetes");
    expect(sc.provider.startsWith(`${provider.urn}::`)).toBe(true);
    expect(isDefaultProvider(sc.provider)).toBe(false);
    await validateKubernetesObject({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", ...sc.inputs });
  });

  it("gives the AWS Load Balancer Controller a Pod Identity role only its service account on this cluster can assume", () => {
    const role = named(run, "aws:iam/role:Role", LBC);
    const trust = JSON.parse(role.inputs.assumeRolePolicy as string);
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: {
            "aws:RequestTag/eks-cluster-name": "platform-production",
            "aws:RequestTag/kubernetes-namespace": "kube-system",
            "aws:RequestTag/kubernetes-service-account": "aws-load-balancer-controller",
          },
        },
      },
    ]);
    expect(role.inputs.tags).toEqual(TAGS);
    const association = named(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation", LBC);
    expect(association.inputs).toMatchObject({
      clusterName: "platform-production",
      namespace: "kube-system",
      serviceAccount: "aws-load-balancer-controller",
      roleArn: role.state.arn,
    });
    // Its permissions are the inline policy below, nothing attached.
    expect(
      byType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter(
        (a) => a.inputs.role === role.state.name,
      ),
    ).toEqual([]);
  });

  it("allows the controller what an NLB with IP targets needs, modifying only what it tagged, and nothing ALB-only", () => {
    const { json, statements } = controllerPolicy(run);
    const allowed = new Set(statements.flatMap((st) => list(st.Action)));
    for (const action of [
      "iam:CreateServiceLinkedRole",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeNetworkInterfaces",
      "ec2:CreateSecurityGroup",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:DeleteSecurityGroup",
      "ec2:CreateTags",
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:RegisterTargets",
      "elasticloadbalancing:DeregisterTargets",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:DescribeTargetHealth",
    ])
      expect(allowed.has(action), action).toBe(true);
    expect([...allowed].filter((a) => a.includes("*"))).toEqual([]);
    expect([...allowed].filter((a) => /^(wafv2?|waf-regional|shield|cognito-idp|acm):/.test(a))).toEqual([]);
    expect(statements.every((st) => st.Effect === "Allow")).toBe(true);

    const statementsWith = (action: string) => statements.filter((st) => list(st.Action).includes(action));
    // Creation only with the cluster tag on the request; changes only to what carries it.
    for (const action of [
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateTargetGroup",
    ])
      for (const st of statementsWith(action))
        expect(st.Condition?.Null?.["aws:RequestTag/elbv2.k8s.aws/cluster"], action).toBe("false");
    for (const action of [
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:DeleteTargetGroup",
      "ec2:DeleteSecurityGroup",
    ])
      for (const st of statementsWith(action))
        expect(st.Condition?.Null?.["aws:ResourceTag/elbv2.k8s.aws/cluster"], action).toBe("false");
    for (const st of statementsWith("ec2:CreateTags")) {
      expect(st.Resource).toBe("arn:aws:ec2:*:*:security-group/*");
      expect(st.Condition).toBeDefined();
    }
    expect(statementsWith("iam:CreateServiceLinkedRole")[0]?.Condition).toEqual({
      StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" },
    });
    // Registration only into target groups; ARNs in the account's partition, NLB (net) ones only.
    expect(statementsWith("elasticloadbalancing:RegisterTargets").map((st) => st.Resource)).toEqual([
      "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
    ]);
    const arns = statements.flatMap((st) => list(st.Resource)).filter((r) => r !== "*");
    expect(arns.length).toBeGreaterThan(0);
    for (const arn of arns) {
      expect(arn).toMatch(/^arn:aws:(ec2|elasticloadbalancing):/);
      expect(arn).not.toMatch(/\/app\/|listener-rule/);
    }
    // IAM caps a role's inline policies at 10,240 characters.
    expect(json.length).toBeLessThan(10_240);
  });

  it("installs the controller's pinned chart in kube-system, for the association's service account, through the cluster's provider", () => {
    const release = named(run, "kubernetes:helm.sh/v3:Release", LBC);
    expect(release.inputs).toMatchObject({
      name: "aws-load-balancer-controller",
      namespace: "kube-system",
      chart: "aws-load-balancer-controller",
      version: AWS_LOAD_BALANCER_CONTROLLER_CHART_VERSION,
      repositoryOpts: { repo: "https://aws.github.io/eks-charts" },
    });
    expect(AWS_LOAD_BALANCER_CONTROLLER_CHART_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    const association = named(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation", LBC);
    const values = release.inputs.values as Record<string, unknown> & { resources: ContainerResources };
    expect(values).toMatchObject({
      clusterName: "platform-production",
      region: "eu-west-1",
      vpcId: "vpc-0123",
      replicaCount: 2,
      serviceAccount: { create: true, name: association.inputs.serviceAccount },
      enableServiceMutatorWebhook: false,
      createIngressClassResource: false,
      enableShield: false,
      enableWaf: false,
      enableWafv2: false,
      defaultTags: TAGS,
    });
    expect(values.resources.requests).toBeDefined();
    expect(resourceProblems("controller", values.resources)).toEqual([]);
    expect(JSON.stringify(values)).not.toMatch(/role-arn|aws_secret|AKIA/i);

    const provider = one(run, "pulumi:providers:kubernetes");
    expect(release.provider.startsWith(`${provider.urn}::`)).toBe(true);
    // Credentials exist before its pods start (association, policy, agent); DNS resolves the AWS APIs.
    const addons = Object.fromEntries(
      byType(run, "aws:eks/addon:Addon").map((a) => [a.inputs.addonName as string, a.urn]),
    );
    expect(release.dependencies).toEqual(
      expect.arrayContaining([
        association.urn,
        named(run, "aws:iam/rolePolicy:RolePolicy", LBC).urn,
        addons["eks-pod-identity-agent"],
        addons.coredns,
      ]),
    );
    expect(run.outputs.loadBalancerControllerUrn).toBe(release.urn);
  });
});

describe("KubernetesCluster deploy access", () => {
  const DEPLOYER = "arn:aws:iam::123456789012:role/platform-deployer";
  let run: RunResult;
  it("gives the deploy role its own cluster-admin access entry, which the Kubernetes provider waits for", async () => {
    run = await build({ ...PRODUCTION, publicAccessCidrs: [], deployRoleArn: DEPLOYER }, "production");
    const entry = named(run, "aws:eks/accessEntry:AccessEntry", "cluster-deploy-platform-deployer");
    expect(entry.inputs).toMatchObject({
      clusterName: "platform-production",
      principalArn: DEPLOYER,
      type: "STANDARD",
    });
    const assoc = named(
      run,
      "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
      "cluster-deploy-platform-deployer",
    );
    expect(assoc.inputs).toMatchObject({
      principalArn: DEPLOYER,
      policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
      accessScope: { type: "cluster" },
    });
    expect(assoc.dependencies).toContain(entry.urn);
    expect(one(run, "pulumi:providers:kubernetes").dependencies).toContain(assoc.urn);
    // The admins keep theirs: one entry each, plus the deploy role's.
    expect(byType(run, "aws:eks/accessEntry:AccessEntry").map((e) => e.inputs.principalArn)).toEqual([
      ADMIN,
      DEPLOYER,
    ]);
  });

  it("creates a new cluster without the creator's standing admin, and never replaces an existing one over it", () => {
    const eks = one(run, "aws:eks/cluster:Cluster");
    expect(eks.inputs.accessConfig).toEqual({
      authenticationMode: "API",
      bootstrapClusterCreatorAdminPermissions: false,
    });
    // The AWS provider replaces a cluster when this input changes.
    expect(eks.ignoreChanges).toContain("accessConfig.bootstrapClusterCreatorAdminPermissions");
  });

  it("keeps EKS's creator admin when no deploy role is named (nobody else could deploy)", async () => {
    const without = await build(STAGING, "staging");
    expect(one(without, "aws:eks/cluster:Cluster").inputs.accessConfig).toMatchObject({
      bootstrapClusterCreatorAdminPermissions: true,
    });
    expect(byType(without, "aws:eks/accessEntry:AccessEntry")).toEqual([]);
  });

  it("admits members of its api-clients security group (the in-VPC deploy runner) to the private endpoint on 443, and nothing else", () => {
    const eks = one(run, "aws:eks/cluster:Cluster");
    expect(eks.inputs.vpcConfig).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: false });
    const clients = named(run, "aws:ec2/securityGroup:SecurityGroup", "cluster-api-clients");
    expect(clients.inputs.vpcId).toBe("vpc-0123");
    expect(clients.inputs.ingress).toBeUndefined();
    expect(clients.inputs.egress).toEqual([
      { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS" },
    ]);
    const rule = one(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(rule.inputs).toMatchObject({
      securityGroupId: (eks.state.vpcConfig as { clusterSecurityGroupId: string }).clusterSecurityGroupId,
      referencedSecurityGroupId: expect.stringMatching(/^cluster-api-clients-/),
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
    });
  });

  it("leaves security groups for pods off with securityGroupsForPods false", async () => {
    const off = await build({ ...STAGING, securityGroupsForPods: false }, "staging");
    const cni = byType(off, "aws:eks/addon:Addon").find((a) => a.inputs.addonName === "vpc-cni");
    expect(JSON.parse(cni?.inputs.configurationValues as string)).toEqual({ enableNetworkPolicy: "true" });
    expect(
      byType(off, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((p) =>
        String(p.inputs.policyArn).split("/").pop(),
      ),
    ).not.toContain("AmazonEKSVPCResourceController");
  });

  it("refuses a deploy role that is not an IAM role, or on an existing cluster", () => {
    expect(
      () => new KubernetesCluster("c", { ...PRODUCTION, deployRoleArn: "arn:aws:iam::123456789012:user/ci" }),
    ).toThrow(
      /deployRoleArn: an IAM role ARN such as arn:aws:iam::123456789012:role\/platform-deployer, found "arn:aws:iam::123456789012:user\/ci"/,
    );
    expect(() => new KubernetesCluster("c", { provider: "existing", deployRoleArn: DEPLOYER })).toThrow(
      /deployRoleArn: no value when provider is "existing"/,
    );
  });
});

describe("KubernetesCluster aws (staging profile)", () => {
  it("is the same shape, smaller and unprotected; no public endpoint without CIDRs", async () => {
    const run = await build(STAGING, "staging");
    const eks = one(run, "aws:eks/cluster:Cluster");
    expect(eks.inputs.vpcConfig).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: false });
    expect((eks.inputs.vpcConfig as Record<string, unknown>).publicAccessCidrs).toBeUndefined();
    expect(eks.inputs.deletionProtection).toBe(false);
    expect([eks.protect, one(run, "aws:kms/key:Key").protect]).toEqual([false, false]);
    expect(byType(run, "aws:eks/accessEntry:AccessEntry")).toHaveLength(0);
    const sizes = byType(run, "aws:eks/nodeGroup:NodeGroup").map((g) => g.inputs.scalingConfig);
    expect(sizes).toEqual([
      { minSize: 2, maxSize: 4, desiredSize: 2 },
      { minSize: 1, maxSize: 2, desiredSize: 1 },
    ]);
    expect(one(run, "kubernetes:storage.k8s.io/v1:StorageClass").inputs.reclaimPolicy).toBe("Delete");
    // The same controller as production, bound to this cluster.
    expect(named(run, "kubernetes:helm.sh/v3:Release", LBC).inputs).toMatchObject({
      chart: "aws-load-balancer-controller",
      version: AWS_LOAD_BALANCER_CONTROLLER_CHART_VERSION,
      values: { clusterName: "platform-staging", replicaCount: 2, enableServiceMutatorWebhook: false },
    });
    const trust = JSON.parse(named(run, "aws:iam/role:Role", LBC).inputs.assumeRolePolicy as string);
    expect(trust.Statement[0].Condition.StringEquals["aws:RequestTag/eks-cluster-name"]).toBe(
      "platform-staging",
    );
  });

  it("leaves the controller out with loadBalancerController false, and installs a chart from disk", async () => {
    const without = await build({ ...STAGING, loadBalancerController: false }, "staging");
    expect(byType(without, "kubernetes:helm.sh/v3:Release").map((r) => r.name)).toEqual([CA]);
    expect(
      byType(without, "aws:eks/podIdentityAssociation:PodIdentityAssociation").map((r) => r.name),
    ).toEqual([CA]);
    expect(byType(without, "aws:iam/role:Role").map((r) => r.name)).not.toContain(LBC);
    expect(without.outputs.loadBalancerControllerUrn).toBeUndefined();

    const path = "./charts/aws-load-balancer-controller-1.13.4.tgz";
    const local = await build(
      { ...STAGING, loadBalancerControllerChart: { version: "1.13.4", source: "localPath", path } },
      "staging",
    );
    const release = named(local, "kubernetes:helm.sh/v3:Release", LBC);
    expect(release.inputs).toMatchObject({ chart: path, version: "1.13.4" });
    expect(release.inputs.repositoryOpts).toBeUndefined();
  });
});

describe("KubernetesCluster cluster autoscaler", () => {
  it("installs the autoscaler for the cluster's Kubernetes minor, with a Pod Identity role that may resize only this cluster's groups", async () => {
    const run = await build(STAGING, "staging");
    const role = named(run, "aws:iam/role:Role", CA);
    const trust = JSON.parse(role.inputs.assumeRolePolicy as string) as {
      Statement: { Condition: unknown }[];
    };
    expect(trust.Statement[0]?.Condition).toEqual({
      StringEquals: {
        "aws:RequestTag/eks-cluster-name": "platform-staging",
        "aws:RequestTag/kubernetes-namespace": "kube-system",
        "aws:RequestTag/kubernetes-service-account": CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
      },
    });
    const policy = JSON.parse(named(run, "aws:iam/rolePolicy:RolePolicy", CA).inputs.policy as string) as {
      Statement: { Action: string[]; Condition?: unknown }[];
    };
    // Node groups: this cluster's only (no resource-level scoping was "*" before).
    const describeNodegroup = policy.Statement.filter((st) => st.Action.includes("eks:DescribeNodegroup"));
    expect(describeNodegroup).toEqual([
      {
        Effect: "Allow",
        Action: ["eks:DescribeNodegroup"],
        Resource: "arn:aws:eks:*:*:nodegroup/platform-staging/*/*",
      },
    ]);
    const resize = policy.Statement.find((st) => st.Action.includes("autoscaling:SetDesiredCapacity"));
    expect(resize?.Condition).toEqual({
      StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/platform-staging": "owned" },
    });
    const association = named(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation", CA);
    expect(association.inputs).toMatchObject({
      namespace: "kube-system",
      serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
    });
    const release = named(run, "kubernetes:helm.sh/v3:Release", CA);
    expect(release.inputs).toMatchObject({
      namespace: "kube-system",
      chart: "cluster-autoscaler",
      version: CLUSTER_AUTOSCALER_CHART_VERSION,
      repositoryOpts: { repo: "https://kubernetes.github.io/autoscaler" },
      values: {
        cloudProvider: "aws",
        autoDiscovery: { clusterName: "platform-staging" },
        image: { tag: CLUSTER_AUTOSCALER_IMAGE_TAGS["1.33"] },
        rbac: { serviceAccount: { create: true, name: association.inputs.serviceAccount } },
      },
    });
    // It gets its credentials at pod start: the association and policy exist before the release.
    expect(release.dependencies).toEqual(
      expect.arrayContaining([association.urn, named(run, "aws:iam/rolePolicy:RolePolicy", CA).urn]),
    );
  });

  it("is left out with clusterAutoscaler false, and refused on an existing cluster", async () => {
    const without = await build({ ...STAGING, clusterAutoscaler: false }, "staging");
    expect(byType(without, "kubernetes:helm.sh/v3:Release").map((r) => r.name)).toEqual([LBC]);
    expect(byType(without, "aws:iam/role:Role").map((r) => r.name)).not.toContain(CA);
    await expect(build({ provider: "existing", clusterAutoscaler: true }, "local")).rejects.toThrow(
      /clusterAutoscaler: installed only on clusters this component creates/,
    );
  });
});

describe("KubernetesCluster existing", () => {
  it("creates only a Kubernetes provider for the kubeconfig/context, with the kubeconfig kept secret", async () => {
    const run = await build(
      { provider: "existing", kubeconfig: "/home/me/.kube/config", context: "kind-platform" },
      "local",
    );
    expect(run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    const provider = one(run, "pulumi:providers:kubernetes");
    expect(provider.inputs.context).toBe("kind-platform");
    expect(isSecretValue(provider.inputs.kubeconfig)).toBe(true);
    expect(run.resources.filter((r) => r.custom && r.type !== "pulumi:providers:kubernetes")).toEqual([]);
    expect(run.outputs.clusterName).toBe("kind-platform");
    // No AWS Load Balancer Controller: not this component's cluster to equip.
    expect(byType(run, "kubernetes:helm.sh/v3:Release")).toEqual([]);
    expect(run.outputs.loadBalancerControllerUrn).toBeUndefined();
  });

  it("uses the ambient kubeconfig when none is given (still an explicit provider resource)", async () => {
    const run = await build({ provider: "existing" }, "local");
    const provider = one(run, "pulumi:providers:kubernetes");
    expect(provider.name).toBe("cluster-k8s");
    expect(provider.inputs.kubeconfig).toBeUndefined();
  });
});

describe("KubernetesCluster arg errors", () => {
  const bad = (args: Partial<KubernetesClusterArgs>) => () =>
    new KubernetesCluster("cluster", { ...PRODUCTION, ...args });
  const group = PRODUCTION.nodeGroups?.general as NonNullable<KubernetesClusterArgs["nodeGroups"]>[string];

  it("rejects an unknown Kubernetes version", () => {
    expect(bad({ kubernetesVersion: "1.29" })).toThrow(ComponentArgsError);
    expect(bad({ kubernetesVersion: "1.29" })).toThrow(
      /kubernetesVersion: one of 1\.32, 1\.33, 1\.34 .* found "1\.29"/,
    );
    expect(bad({ kubernetesVersion: undefined })).toThrow(/kubernetesVersion: required/);
  });

  it("rejects a node group with min > max, a desired size out of range, or mixed architectures", () => {
    expect(
      bad({ nodeGroups: { general: { ...group, minSize: 5, maxSize: 3, desiredSize: undefined } } }),
    ).toThrow(/nodeGroups\.general\.minSize: at most maxSize \(3\), found 5/);
    expect(bad({ nodeGroups: { general: { ...group, desiredSize: 20 } } })).toThrow(
      /nodeGroups\.general\.desiredSize/,
    );
    expect(bad({ nodeGroups: { general: { ...group, instanceTypes: ["m5.large", "m7g.large"] } } })).toThrow(
      /mixes ARM/,
    );
    expect(bad({ nodeGroups: {} })).toThrow(/nodeGroups: at least one managed node group/);
  });

  it("rejects no admin role when admin roles are required (production)", () => {
    expect(bad({ adminRoleArns: [] })).toThrow(
      /adminRoleArns: at least one IAM role \(requireAdminRoles is set/,
    );
    expect(bad({ adminRoleArns: ["arn:aws:iam::123:user/bob"] })).toThrow(
      /adminRoleArns\[0\]: an IAM role ARN/,
    );
  });

  it("rejects a public access CIDR that is not a CIDR, or one open to the internet", () => {
    expect(bad({ publicAccessCidrs: ["203.0.113.0"] })).toThrow(
      /publicAccessCidrs\[0\]: "203\.0\.113\.0" is not an IPv4 CIDR block/,
    );
    expect(bad({ publicAccessCidrs: ["0.0.0.0/0"] })).toThrow(/opens the API endpoint to the internet/);
  });

  it("rejects mixing the existing and aws arg sets, and too few subnets", () => {
    expect(
      () => new KubernetesCluster("c", { provider: "existing", kubernetesVersion: "1.33", nodeGroups: {} }),
    ).toThrow(/kubernetesVersion: no value when provider is "existing"/);
    expect(bad({ context: "kind" })).toThrow(/context: no value when provider is "aws"/);
    expect(bad({ subnetIds: ["subnet-a"] })).toThrow(/subnetIds: at least two subnets/);
  });

  it("refuses the AWS Load Balancer Controller and its chart on an existing cluster", async () => {
    expect(() => new KubernetesCluster("c", { provider: "existing", loadBalancerController: true })).toThrow(
      ComponentArgsError,
    );
    expect(() => new KubernetesCluster("c", { provider: "existing", loadBalancerController: true })).toThrow(
      /loadBalancerController: installed only on clusters this component creates \(provider "aws"\); on an existing cluster, install the AWS Load Balancer Controller with the cluster/,
    );
    expect(
      () =>
        new KubernetesCluster("c", {
          provider: "existing",
          loadBalancerControllerChart: { version: "1.13.4", source: "repository" },
        }),
    ).toThrow(/loadBalancerControllerChart: no value when provider is "existing"/);
    // Saying no is not an error (and creates nothing either).
    const run = await build({ provider: "existing", loadBalancerController: false }, "local");
    expect(run.resources.filter((r) => r.custom).map((r) => r.type)).toEqual(["pulumi:providers:kubernetes"]);
  });

  it("rejects a controller chart that is not pinned, lacks its path, or comes with the controller turned off", () => {
    expect(bad({ loadBalancerControllerChart: { version: "latest", source: "repository" } })).toThrow(
      /loadBalancerControllerChart\.version: a pinned chart version/,
    );
    expect(bad({ loadBalancerControllerChart: { version: "1.13.4", source: "localPath" } })).toThrow(
      /loadBalancerControllerChart\.path: required when source is "localPath"/,
    );
    expect(
      bad({
        loadBalancerController: false,
        loadBalancerControllerChart: { version: "1.13.4", source: "repository" },
      }),
    ).toThrow(/loadBalancerControllerChart: no value when loadBalancerController is false/);
  });

  it("lists every problem at once, before anything is registered", async () => {
    const run = await runProgram(() => {
      try {
        new KubernetesCluster("cluster", {
          ...PRODUCTION,
          kubernetesVersion: "9.9",
          adminRoleArns: [],
          publicAccessCidrs: ["x"],
        });
      } catch (e) {
        expect((e as Error).message).toMatch(/invalid arguments \(3\)/);
      }
    });
    expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
  });
});
