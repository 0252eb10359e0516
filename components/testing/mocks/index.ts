/**
 * The mock registry used by the harness: realistic ids and outputs for every resource type and
 * invoke the program uses. An invoke nobody mocked throws, naming the token, so a new data source
 * can never silently return nothing.
 */
import type * as pulumi from "@pulumi/pulumi";
import { stableHex } from "./common";
import { awsDataMocks } from "./aws-data";
import { awsNetworkMocks } from "./aws-network";
import { imageMocks } from "./images";
import { kubernetesMocks, kubernetesObject } from "./kubernetes";
import { randomMocks } from "./random";
import { type MockDomain } from "./types";

const domains: MockDomain[] = [kubernetesMocks, randomMocks, awsNetworkMocks, awsDataMocks, imageMocks];
const resourceMocks = Object.assign({}, ...domains.map((d) => d.resources)) as MockDomain["resources"];
const invokeMocks = Object.assign({}, ...domains.map((d) => d.invokes)) as MockDomain["invokes"];

/** Invokes the program made that no domain mocks, for the current run (reset by the harness). */
export const unmockedInvokes: string[] = [];

/** The mocks passed to `pulumi.runtime.setMocks`. */
export const platformMocks: pulumi.runtime.Mocks = {
  newResource(args) {
    const specific = resourceMocks[args.type];
    const isKubernetesObject =
      args.type.startsWith("kubernetes:") && !args.type.startsWith("kubernetes:helm.sh");
    const base = isKubernetesObject ? kubernetesObject(args) : { ...args.inputs };
    const state = { ...base, ...(specific ? specific(args) : {}) };
    const id = isKubernetesObject
      ? `${String((state.metadata as { namespace?: string }).namespace ?? "")}/${String((state.metadata as { name: string }).name)}`.replace(
          /^\//,
          "",
        )
      : `${args.name}-${stableHex(`${args.type}/${args.name}`, 8)}`;
    // The monitor passes the import id, "" when not importing: only a non-empty one is a real id.
    return { id: args.id || id, state };
  },
  call(args) {
    const mock = invokeMocks[args.token];
    if (!mock) {
      // Throwing here would surface as an anonymous rejection deep in the SDK; instead the harness
      // fails the whole run with this message once the program settles.
      unmockedInvokes.push(
        `Unmocked invoke "${args.token}" — add it to a domain file under components/testing/mocks/ (args: ${JSON.stringify(args.inputs)})`,
      );
      return {};
    }
    return mock(args);
  },
};
