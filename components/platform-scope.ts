/**
 * Checks that run before a component's children register, for what construction cannot see:
 *
 * - values that are Outputs (a namespace from `PlatformNamespace.name`, an image from a build), known
 *   only once they resolve;
 * - facts that span components (two services of one name in one namespace, a written-out endpoint to
 *   a service of the same program, a store consumer that nothing uses, a namespace quota too small for
 *   what is placed in it), known only once the program has constructed them all.
 *
 * Every component of a program joins the program's scope when it is constructed (nothing to pass: a
 * scope per Pulumi stack run). Its children are created at once, as always, but each carries a
 * `dependsOn` gate: a promise that resolves once the component's Output checks and the scope's
 * cross-component checks have passed. The scope runs its checks when the program's current turn of
 * the event loop ends, which for a program that constructs its components without awaiting in
 * between is when the whole program has been constructed. If a check fails, the gate rejects with a
 * `ComponentArgsError` listing every problem of that component, and none of its children reaches the
 * engine. A component constructed after an `await` joins a new round: it is checked against
 * everything constructed before it.
 *
 * The gate is a plain promise, not an Output, so it adds no dependency edges of its own: a gated
 * child depends on exactly what it depended on before.
 */
import * as pulumi from "@pulumi/pulumi";
import { namespaceFit, type QuotaHard, type WorkloadDemand } from "./capacity";
import { ComponentArgsError } from "./lib";

/** What the scope knows of a workload: a MicroService, or a Worker or ScheduledJob (no port, never called). */
export interface ServiceFacts {
  kind: "MicroService" | "Worker" | "ScheduledJob";
  name: string;
  serviceName: string;
  namespace: pulumi.Input<string>;
  /** `MicroService.namespace` (and its endpoint's): the same namespace as `namespace`. */
  output?: pulumi.Output<string>;
  port?: number;
  /** Every call: `written` when its endpoint was written out (no `ready`), not `MicroService.endpoint`. */
  calls: { index: number; name: string; namespace: pulumi.Input<string>; port: number; written: boolean }[];
  callers: string[];
  /** The data service objects in `uses`. */
  uses: readonly object[];
  /** Pods the service places in its namespace: the workload and, when set, the migration Job. */
  demand: Omit<WorkloadDemand, "namespace">[];
}

/** What the scope knows of a PlatformNamespace. */
export interface NamespaceFacts {
  kind: "PlatformNamespace";
  name: string;
  namespace: string;
  /** `PlatformNamespace.name`: services given it are placed in `namespace`. */
  output?: pulumi.Output<string>;
  /** The quota the services placed in it must fit; none when the namespace opts out of the check. */
  quota?: QuotaHard;
}

/** What the scope knows of a data service. */
export interface StoreFacts {
  kind: "ManagedPostgres" | "RedisCache" | "MessageBroker";
  name: string;
  store: object;
  consumers: readonly {
    service: string;
    namespace: pulumi.Input<string>;
    /** Set when a service of another program reads the Secret: nothing here has to use it. */
    elsewhere?: string;
  }[];
}

export type ScopeFacts = ServiceFacts | NamespaceFacts | StoreFacts;

/**
 * The value of an Input once known: a plain value as is, an Output's value, or `undefined` when it
 * is unknown (a preview). An Output that failed rejects with its own error, so a gate that awaits it
 * fails with that same error (Pulumi reports one error once, however many resources it stopped).
 */
export function settled<T>(value: pulumi.Input<T>): Promise<T | undefined> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value);
  // `promise()` is the SDK's own way to await an Output, unknowns as `undefined` (internal to the
  // SDK's declarations, present on every Output). `apply` would never call back on an unknown value
  // during a preview, and the gate must still open then.
  return (value as unknown as { promise(): Promise<T | undefined> }).promise();
}

interface Member {
  facts: ScopeFacts;
  verdict: (problems: string[]) => void;
}

class Scope {
  private readonly members: Member[] = [];
  private pending: Member[] = [];

  join(facts: ScopeFacts): Promise<string[]> {
    return new Promise((resolve) => {
      const member = { facts, verdict: resolve };
      this.members.push(member);
      if (this.pending.push(member) === 1) setImmediate(() => void this.close());
    });
  }

  private async close(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    const all = this.members.map((m) => m.facts);
    const namespaces = await resolveNamespaces(all);
    for (const member of pending) {
      let problems: string[];
      try {
        problems = problemsOf(member.facts, all, namespaces);
      } catch (error) {
        problems = [`the cross-component checks failed: ${String(error)}`];
      }
      member.verdict(problems);
    }
  }
}

const fallbackKey = {};
const scopes = new WeakMap<object, Scope>();

/** The scope of the Pulumi stack being run (each run, including each mocked test run, gets its own). */
function currentScope(): Scope {
  const key = (pulumi.runtime.getStackResource() as object | undefined) ?? fallbackKey;
  let scope = scopes.get(key);
  if (!scope) scopes.set(key, (scope = new Scope()));
  return scope;
}

/**
 * Joins the program's scope with `facts` and returns the gate the component's children carry in
 * `dependsOn`: it resolves (to no resources) once `own` (checks of the component's Output values,
 * run once they resolve) and the scope's checks find nothing, and otherwise rejects with one
 * `ComponentArgsError` listing every problem.
 */
export function checksBeforeChildren(
  component: string,
  name: string,
  facts: ScopeFacts | undefined,
  own: () => Promise<string[]> = () => Promise.resolve([]),
): Promise<pulumi.Resource[]> {
  const cross = facts ? currentScope().join(facts) : Promise.resolve([]);
  return Promise.all([own(), cross]).then(([mine, theirs]) => {
    const problems = [...mine, ...theirs];
    if (problems.length > 0) throw new ComponentArgsError(component, name, problems);
    return [];
  });
}

function isWorkload(f: ScopeFacts): f is ServiceFacts {
  return f.kind === "MicroService" || f.kind === "Worker" || f.kind === "ScheduledJob";
}

type Namespaces = Map<pulumi.Input<string>, string | undefined>;

/**
 * Each namespace Input the members name, as a plain name where the scope can tell without waiting:
 * a string is itself, `PlatformNamespace.name` is that namespace's name, `MicroService.namespace` is
 * the service's own namespace. Any other Output stays unknown and compares by identity only:
 * awaiting it could wait for a resource that is itself held back by these very checks.
 */
async function resolveNamespaces(all: readonly ScopeFacts[]): Promise<Namespaces> {
  const known: Namespaces = new Map();
  for (const f of all) {
    if (f.kind === "PlatformNamespace") {
      known.set(f.namespace, f.namespace);
      if (f.output) known.set(f.output, f.namespace);
    }
  }
  const inputs = new Set<pulumi.Input<string>>();
  for (const f of all) {
    if (isWorkload(f)) {
      inputs.add(f.namespace);
      f.calls.forEach((c) => inputs.add(c.namespace));
    } else if (f.kind !== "PlatformNamespace") f.consumers.forEach((c) => inputs.add(c.namespace));
  }
  const plain = (input: pulumi.Input<string>) => (typeof input === "string" ? input : known.get(input));
  for (const input of inputs) known.set(input, plain(input));
  for (const f of all)
    if (isWorkload(f) && f.output) known.set(f.output, known.get(f.namespace) ?? undefined);
  return Promise.resolve(known);
}

/** Whether two namespaces are the same: the same Input, or the same known value. */
function sameNamespace(ns: Namespaces, a: pulumi.Input<string>, b: pulumi.Input<string>): boolean {
  if (a === b) return true;
  const [x, y] = [ns.get(a), ns.get(b)];
  return x !== undefined && x === y;
}

function problemsOf(facts: ScopeFacts, all: readonly ScopeFacts[], ns: Namespaces): string[] {
  const problems: string[] = [];
  const index = all.indexOf(facts);
  const twin = all.slice(0, index).find((f) => f.kind === facts.kind && f.name === facts.name);
  if (twin)
    problems.push(
      `another ${facts.kind} named "${facts.name}" is in this program: component names must be unique (their resources would have the same URNs)`,
    );
  if (isWorkload(facts)) problems.push(...serviceProblems(facts, index, all, ns));
  else if (facts.kind === "PlatformNamespace") problems.push(...quotaProblems(facts, all, ns));
  else problems.push(...consumerProblems(facts, all, ns));
  return problems;
}

/** Every workload: what places pods in a namespace, uses stores, and owns objects named after it. */
const workloads = (all: readonly ScopeFacts[]): ServiceFacts[] => all.filter(isWorkload);
/** The workloads that can state calls: MicroServices and Workers. */
const callersOfThisProgram = (all: readonly ScopeFacts[]): ServiceFacts[] =>
  workloads(all).filter((f) => f.kind === "MicroService" || f.kind === "Worker");
/** The MicroServices: what can be called. */
const services = (all: readonly ScopeFacts[]): ServiceFacts[] =>
  workloads(all).filter((f) => f.kind === "MicroService");

function serviceProblems(
  s: ServiceFacts,
  index: number,
  all: readonly ScopeFacts[],
  ns: Namespaces,
): string[] {
  const problems: string[] = [];
  const where = ns.get(s.namespace);
  const earlier = workloads(all.slice(0, index)).find(
    (o) => o.serviceName === s.serviceName && sameNamespace(ns, o.namespace, s.namespace),
  );
  if (earlier)
    problems.push(
      `serviceName "${s.serviceName}" is already used in namespace ${where === undefined ? "(the same one)" : `"${where}"`} by ${earlier.kind} "${earlier.name}": both would write the same ServiceAccount, ConfigMap, workload and policies`,
    );
  for (const call of s.calls) {
    const unservable = workloads(all).find(
      (o) =>
        o.kind !== "MicroService" &&
        o.serviceName === call.name &&
        sameNamespace(ns, o.namespace, call.namespace),
    );
    if (unservable)
      problems.push(
        `calls[${call.index}] ("${call.name}"): "${call.name}" is ${unservable.kind} "${unservable.name}" of this program, which serves no port: nothing can call it (a worker takes its work from a queue or a store; publish to the queue it consumes instead)`,
      );
  }
  for (const call of s.calls.filter((c) => c.written)) {
    const callee = services(all).find(
      (o) => o !== s && o.serviceName === call.name && sameNamespace(ns, o.namespace, call.namespace),
    );
    if (!callee) continue;
    problems.push(
      `calls[${call.index}] ("${call.name}"): "${call.name}" is MicroService "${callee.name}" of this program; pass its \`endpoint\` (a written-out endpoint loses the start-order edge: this service would not wait for it)`,
    );
    if (call.port !== callee.port)
      problems.push(
        `calls[${call.index}] ("${call.name}"): endpoint.port is ${call.port}, but "${call.name}" serves on ${callee.port}`,
      );
  }
  for (const caller of s.callers) {
    const other = callersOfThisProgram(all).find(
      (o) => o.serviceName === caller && sameNamespace(ns, o.namespace, s.namespace),
    );
    if (!other) continue;
    const calls = other.calls.some(
      (c) => c.name === s.serviceName && sameNamespace(ns, c.namespace, s.namespace),
    );
    problems.push(
      calls
        ? `callers: "${caller}" already states its call to this service (calls); remove it from callers`
        : `callers: "${caller}" is ${other.kind} "${other.name}" of this program; state the call on it instead (calls: [{ endpoint: <this service>.endpoint, env }]), so its egress, URL and start order follow (callers is for callers in another stack)`,
    );
  }
  return problems;
}

function quotaProblems(n: NamespaceFacts, all: readonly ScopeFacts[], ns: Namespaces): string[] {
  if (!n.quota) return [];
  const placed = workloads(all).filter((s) => ns.get(s.namespace) === n.namespace);
  if (placed.length === 0) return [];
  const demand: WorkloadDemand[] = placed.flatMap((s) =>
    s.demand.map((d) => ({ ...d, namespace: n.namespace })),
  );
  const fit = namespaceFit(n.namespace, demand, n.quota);
  return fit.problems.map(
    (p) =>
      `quota is too small for the MicroServices placed in it (${placed.map((s) => `"${s.serviceName}"`).join(", ")}): ${p}; raise quota or lower their replicas or requests`,
  );
}

function consumerProblems(st: StoreFacts, all: readonly ScopeFacts[], ns: Namespaces): string[] {
  const problems: string[] = [];
  st.consumers.forEach((c, i) => {
    if (c.elsewhere !== undefined) return;
    const user = workloads(all).find(
      (s) =>
        s.serviceName === c.service &&
        s.uses.includes(st.store) &&
        sameNamespace(ns, s.namespace, c.namespace),
    );
    if (!user)
      problems.push(
        `consumers[${i}] ("${c.service}"): no MicroService "${c.service}" of this program uses this ${st.kind} in that namespace, so its role and Secret would serve no one; remove the consumer, add the store to that service's \`uses\`, or set elsewhere: "<why>" when a service of another program reads the Secret`,
      );
  });
  return problems;
}
