/**
 * KubernetesCluster: the EKS path per stage profile (pinned version, endpoint access, KMS, logs, access
 * entries, OIDC, add-ons, node groups, default StorageClass, kubeconfig provider, protection), the
 * existing-cluster path, and arg errors.
 */
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { byType, isSecretValue, reveal, runProgram, type RecordedResource, type RunResult } from "./harness";
import { KubernetesCluster, type KubernetesClusterArgs } from "../components/KubernetesCluster";
import { ComponentArgsError } from "../components/lib";
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
    expect(JSON.parse(byName["vpc-cni"]?.inputs.configurationValues as string)).toEqual({
      enableNetworkPolicy: "true",
    });
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
