/**
 * Container images: ECR repositories and lifecycle policies (@pulumi/aws), the ECR login invoke, and
 * BuildKit builds (@pulumi/docker-build). A pushed build gets a stable sha256 digest derived from its
 * logical name and tags, so renders stay byte-identical and a changed tag changes the digest.
 */
import { MOCK_ACCOUNT, MOCK_REGION, stableHex } from "./common";
import { type MockDomain } from "./types";

export const MOCK_ECR_REGISTRY = `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com`;

/** The digest the mock build of `name` pushes with `tags`. */
export const mockImageDigest = (name: string, tags: unknown): string =>
  `sha256:${stableHex(`${name}/${JSON.stringify(tags ?? [])}`, 64)}`;

export const imageMocks: MockDomain = {
  resources: {
    "aws:ecr/repository:Repository": ({ name, inputs }) => {
      const repositoryName = typeof inputs.name === "string" ? inputs.name : `${name}-${stableHex(name, 7)}`;
      return {
        name: repositoryName,
        arn: `arn:aws:ecr:${MOCK_REGION}:${MOCK_ACCOUNT}:repository/${repositoryName}`,
        registryId: MOCK_ACCOUNT,
        repositoryUrl: `${MOCK_ECR_REGISTRY}/${repositoryName}`,
      };
    },
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ({ inputs }) => ({ registryId: MOCK_ACCOUNT, ...inputs }),
    "docker-build:index:Image": ({ name, inputs }) => {
      const tags = Array.isArray(inputs.tags) ? inputs.tags.map(String) : [];
      const pushed = inputs.push === true;
      const digest = pushed ? mockImageDigest(name, tags) : "";
      return {
        digest,
        // Pushed: one fully-qualified tag with the digest; not exported: one of the tags.
        ref: pushed && tags[0] ? `${tags[0]}@${digest}` : (tags[0] ?? ""),
        contextHash: stableHex(`${name}/context`, 64),
      };
    },
  },
  invokes: {
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": ({ inputs }) => {
      const password = `mock-ecr-token-${stableHex(String(inputs.registryId ?? "default"), 24)}`;
      return {
        authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"),
        expiresAt: "2030-01-01T12:00:00Z",
        id: MOCK_REGION,
        password,
        proxyEndpoint: `https://${MOCK_ECR_REGISTRY}`,
        region: MOCK_REGION,
        registryId: inputs.registryId ?? MOCK_ACCOUNT,
        userName: "AWS",
      };
    },
  },
};
