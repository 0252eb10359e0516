/** @pulumi/aws: account, region and zones; VPC, EKS, IAM, KMS outputs other resources read. */
import { MOCK_ACCOUNT, MOCK_REGION, MOCK_ZONES, stableHex } from "./common";
import { type MockDomain } from "./types";

const arn = (service: string, resource: string) => `arn:aws:${service}:${MOCK_REGION}:${MOCK_ACCOUNT}:${resource}`;

export const awsNetworkMocks: MockDomain = {
  resources: {
    "pulumi:providers:aws": ({ inputs }) => ({ ...inputs }),
    "aws:kms/key:Key": ({ name }) => ({ arn: arn("kms", `key/${stableHex(name, 8)}-0000-4000-8000-${stableHex(name, 12)}`), keyId: stableHex(name, 32) }),
    "aws:iam/role:Role": ({ name, inputs }) => ({ arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${String(inputs.name ?? name)}`, name: inputs.name ?? `${name}-${stableHex(name, 7)}` }),
  },
  invokes: {
    "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
      names: MOCK_ZONES,
      zoneIds: MOCK_ZONES.map((_, i) => `euw1-az${i + 1}`),
      id: MOCK_REGION,
    }),
    "aws:index/getRegion:getRegion": () => ({ name: MOCK_REGION, region: MOCK_REGION, id: MOCK_REGION, endpoint: `ec2.${MOCK_REGION}.amazonaws.com` }),
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/ci`, userId: "AIDAMOCK", id: MOCK_ACCOUNT }),
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
  },
};
