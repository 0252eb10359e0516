/** @pulumi/aws: account, region and zones; VPC, EKS (incl. Pod Identity associations), IAM, KMS outputs other resources read. */
import { MOCK_ACCOUNT, MOCK_REGION, MOCK_ZONES, stableHex } from "./common";
import { type MockDomain } from "./types";

const arn = (service: string, resource: string) =>
  `arn:aws:${service}:${MOCK_REGION}:${MOCK_ACCOUNT}:${resource}`;
const str = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback);

export const awsNetworkMocks: MockDomain = {
  resources: {
    "pulumi:providers:aws": ({ inputs }) => ({ ...inputs }),
    "aws:kms/key:Key": ({ name }) => ({
      arn: arn("kms", `key/${stableHex(name, 8)}-0000-4000-8000-${stableHex(name, 12)}`),
      keyId: stableHex(name, 32),
    }),
    "aws:kms/alias:Alias": ({ inputs }) => ({ arn: arn("kms", str(inputs.name, "alias/mock")) }),
    "aws:iam/role:Role": ({ name, inputs }) => ({
      arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${String(inputs.name ?? name)}`,
      name: inputs.name ?? `${name}-${stableHex(name, 7)}`,
    }),
    "aws:ec2/vpc:Vpc": ({ name, inputs }) => ({
      arn: arn("ec2", `vpc/vpc-${stableHex(name, 17)}`),
      cidrBlock: inputs.cidrBlock,
      defaultSecurityGroupId: `sg-${stableHex(`${name}-default`, 17)}`,
      mainRouteTableId: `rtb-${stableHex(`${name}-main`, 17)}`,
    }),
    "aws:ec2/subnet:Subnet": ({ name, inputs }) => ({
      arn: arn("ec2", `subnet/subnet-${stableHex(name, 17)}`),
      cidrBlock: inputs.cidrBlock,
      availabilityZone: inputs.availabilityZone,
    }),
    "aws:ec2/eip:Eip": ({ name }) => ({
      publicIp: `203.0.113.${parseInt(stableHex(name, 2), 16) % 250}`,
      allocationId: `eipalloc-${stableHex(name, 17)}`,
      domain: "vpc",
    }),
    "aws:ec2/natGateway:NatGateway": ({ name }) => ({
      publicIp: `203.0.113.${parseInt(stableHex(name, 2), 16) % 250}`,
      networkInterfaceId: `eni-${stableHex(name, 17)}`,
    }),
    "aws:ec2/internetGateway:InternetGateway": ({ name }) => ({
      arn: arn("ec2", `internet-gateway/igw-${stableHex(name, 17)}`),
    }),
    "aws:cloudwatch/logGroup:LogGroup": ({ name, inputs }) => {
      const groupName = str(inputs.name, `${name}-${stableHex(name, 7)}`);
      return { name: groupName, arn: arn("logs", `log-group:${groupName}`) };
    },
    "aws:ec2/flowLog:FlowLog": ({ name }) => ({ arn: arn("ec2", `vpc-flow-log/fl-${stableHex(name, 17)}`) }),
    "aws:ec2/launchTemplate:LaunchTemplate": ({ name }) => ({
      arn: arn("ec2", `launch-template/lt-${stableHex(name, 17)}`),
      latestVersion: 1,
      defaultVersion: 1,
    }),
    "aws:eks/cluster:Cluster": ({ name, inputs }) => {
      const clusterName = str(inputs.name, `${name}-${stableHex(name, 7)}`);
      const oidcId = stableHex(`${name}-oidc`, 32).toUpperCase();
      return {
        name: clusterName,
        arn: arn("eks", `cluster/${clusterName}`),
        endpoint: `https://${oidcId}.gr7.${MOCK_REGION}.eks.amazonaws.com`,
        certificateAuthority: { data: Buffer.from(`mock-ca-${clusterName}`).toString("base64") },
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${MOCK_REGION}.amazonaws.com/id/${oidcId}` }] }],
        vpcConfig: {
          ...((inputs.vpcConfig as Record<string, unknown> | undefined) ?? {}),
          clusterSecurityGroupId: `sg-${stableHex(`${name}-cluster`, 17)}`,
          vpcId: `vpc-${stableHex(name, 17)}`,
        },
        platformVersion: "eks.1",
        status: "ACTIVE",
      };
    },
    "aws:eks/nodeGroup:NodeGroup": ({ name, inputs }) => ({
      arn: arn("eks", `nodegroup/${str(inputs.clusterName, "cluster")}/${name}/${stableHex(name, 8)}`),
      nodeGroupName: str(inputs.nodeGroupName, `${name}-${stableHex(name, 7)}`),
      status: "ACTIVE",
    }),
    "aws:eks/addon:Addon": ({ name, inputs }) => ({
      arn: arn(
        "eks",
        `addon/${str(inputs.clusterName, "cluster")}/${str(inputs.addonName, name)}/${stableHex(name, 8)}`,
      ),
      addonVersion: inputs.addonVersion ?? "v1.0.0-eksbuild.1",
    }),
    "aws:eks/accessEntry:AccessEntry": ({ name, inputs }) => ({
      accessEntryArn: arn("eks", `access-entry/${str(inputs.clusterName, "cluster")}/${stableHex(name, 8)}`),
    }),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ({ name, inputs }) => {
      const id = `a-${stableHex(name, 17)}`;
      return {
        associationId: id,
        associationArn: arn("eks", `podidentityassociation/${str(inputs.clusterName, "cluster")}/${id}`),
        disableSessionTags: inputs.disableSessionTags ?? false,
      };
    },
    "aws:iam/rolePolicy:RolePolicy": ({ name, inputs }) => ({
      name: inputs.name ?? `${name}-${stableHex(name, 7)}`,
    }),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ({ inputs }) => ({
      arn: `arn:aws:iam::${MOCK_ACCOUNT}:oidc-provider/${str(inputs.url, "").replace(/^https:\/\//, "")}`,
    }),
  },
  invokes: {
    "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
      names: MOCK_ZONES,
      zoneIds: MOCK_ZONES.map((_, i) => `euw1-az${i + 1}`),
      id: MOCK_REGION,
    }),
    "aws:index/getRegion:getRegion": () => ({
      name: MOCK_REGION,
      region: MOCK_REGION,
      id: MOCK_REGION,
      endpoint: `ec2.${MOCK_REGION}.amazonaws.com`,
    }),
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({
      accountId: MOCK_ACCOUNT,
      arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/ci`,
      userId: "AIDAMOCK",
      id: MOCK_ACCOUNT,
    }),
    "aws:index/getPartition:getPartition": () => ({
      partition: "aws",
      dnsSuffix: "amazonaws.com",
      id: "aws",
    }),
  },
};
