/**
 * What a workload (MicroService, ScheduledJob) checks of its environment and the stores it uses:
 * one claim per env var, whichever arg sets it, and `uses` entries that are the stores themselves,
 * used once, by a consumer they list in this workload's namespace. Shared so every workload kind
 * refuses the same mistakes with the same messages.
 */
import * as pulumi from "@pulumi/pulumi";
import { imageReferenceProblem, isDataService, namespaceValueProblem, shown } from "./lib";
import { settled } from "./platform-scope";
import type { DataServiceForConsumers, MicroServiceUse } from "./MicroService";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The args these checks read, as MicroService and ScheduledJob both have them. */
export interface WorkloadRelationArgs {
  namespace: pulumi.Input<string>;
  image: pulumi.Input<string>;
  uses?: (DataServiceForConsumers | MicroServiceUse)[];
}

/** Every environment variable is set once, whichever arg sets it; names are valid. */
export class EnvClaims {
  readonly problems: string[] = [];
  private readonly sources = new Map<string, string>();
  claim(envName: string, source: string): void {
    if (!ENV_NAME.test(envName))
      this.problems.push(`${source} variable "${envName}" is not a valid environment variable name`);
    const other = this.sources.get(envName);
    if (other !== undefined)
      this.problems.push(`environment variable ${envName} is set by both ${other} and ${source}`);
    else this.sources.set(envName, source);
  }
}

/** `uses` entries as `{ store, env }`: the store's own env name unless the entry names another. */
export function useEntries(uses: WorkloadRelationArgs["uses"]): MicroServiceUse[] {
  return (uses ?? []).map((entry) =>
    entry && "store" in entry && !isDataService(entry)
      ? entry
      : { store: entry as DataServiceForConsumers, env: (entry as DataServiceForConsumers)?.connectionEnv },
  );
}

/**
 * Each data service used is one as constructed, used once, and lists this service among its
 * consumers in this service's namespace (or its Secret would land where the pods cannot read it, and
 * its ingress rule would admit no one). Namespaces that are Outputs are compared in `outputProblems`.
 */
export function useProblems(serviceName: string, args: WorkloadRelationArgs, env: EnvClaims): string[] {
  const p: string[] = [];
  const earlier = new Map<object, number>();
  for (const [i, use] of useEntries(args.uses).entries()) {
    const { store } = use;
    if (!isDataService(store)) {
      p.push(
        store && typeof store === "object" && "connectionSecretNames" in store
          ? `uses[${i}]: expected the data service object itself (ManagedPostgres, RedisCache or MessageBroker), found a copy of one: a copy's connectionEnv or Secret names point at nothing the store created; to deliver the URL under another env var, pass { store: ${"<store>"}, env: "MY_URL" }`
          : `uses[${i}]: expected a data service (ManagedPostgres, RedisCache or MessageBroker) or { store, env }, found ${shown(store)}`,
      );
      continue;
    }
    const first = earlier.get(store);
    if (first !== undefined) {
      p.push(`uses[${i}]: listed twice (the same data service as uses[${first}])`);
      continue;
    }
    earlier.set(store, i);
    env.claim(use.env, `uses[${i}] (${use.env})`);
    const consumers = Object.keys(store.connectionSecretNames);
    if (!consumers.includes(serviceName)) {
      p.push(
        `uses[${i}]: the data service that provides ${store.connectionEnv} has no consumer "${serviceName}" (its consumers: ${consumers.join(", ") || "none"}); add { service: "${serviceName}", … } to its consumers`,
      );
      continue;
    }
    const theirs = store.consumerNamespaces?.[serviceName];
    if (typeof theirs === "string" && typeof args.namespace === "string" && theirs !== args.namespace)
      p.push(consumerNamespaceProblem(i, serviceName, args.namespace, theirs));
  }
  return p;
}

const consumerNamespaceProblem = (i: number, serviceName: string, ours: string, theirs: string) =>
  `uses[${i}]: this service runs in namespace "${ours}", but the store's consumer "${serviceName}" is in namespace "${theirs}": its connection Secret would be created where these pods cannot read it, and the store would admit no one; give the consumer namespace "${ours}" (the same Output or name as this service's namespace)`;

/**
 * The checks that need resolved Outputs, run before any child registers (the children wait for
 * them: see platform-scope.ts): the namespace's value, the image's value, and each used store's
 * consumer namespace against this service's. An unknown value (a preview) passes.
 */
export async function outputProblems(serviceName: string, args: WorkloadRelationArgs): Promise<string[]> {
  const p: string[] = [];
  const namespace = await settled(args.namespace);
  if (pulumi.Output.isInstance(args.namespace) && namespace !== undefined) {
    const problem = namespaceValueProblem("namespace", namespace);
    if (problem) p.push(problem);
  }
  if (pulumi.Output.isInstance(args.image)) {
    const image = await settled(args.image);
    if (image !== undefined || !(await isUnknown(args.image))) {
      const problem = imageReferenceProblem(image ?? "");
      if (problem) p.push(problem);
    }
  }
  for (const [i, { store }] of useEntries(args.uses).entries()) {
    const theirsInput = store.consumerNamespaces[serviceName];
    if (theirsInput === undefined || theirsInput === args.namespace) continue;
    if (typeof theirsInput === "string" && typeof args.namespace === "string") continue; // checked at construction
    const theirs = await settled(theirsInput);
    if (namespace !== undefined && theirs !== undefined && theirs !== namespace)
      p.push(consumerNamespaceProblem(i, serviceName, namespace, theirs));
  }
  return p;
}

/** Whether an Output's value is unknown (a preview): an unknown image is checked when it is known. */
async function isUnknown(value: pulumi.Output<unknown>): Promise<boolean> {
  return !(await (value as unknown as { isKnown: Promise<boolean> }).isKnown);
}
