/**
 * The mistakes a team adopting the library makes, each refused before the component at fault
 * registers a child, with a message naming the arg and the value: checks of plain args at
 * construction, checks of Output values and across components before any child reaches the engine
 * (components/platform-scope.ts).
 */
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import {
  byName,
  onCluster,
  runProgram,
  STAND_IN_KUBERNETES,
  type RecordedResource,
  type RunResult,
} from "./harness";
import { MicroService, type MicroServiceArgs } from "../components/MicroService";
import { ManagedPostgres } from "../components/ManagedPostgres";
import { MessageBroker } from "../components/MessageBroker";
import { RedisCache } from "../components/RedisCache";
import { PlatformNamespace } from "../components/PlatformNamespace";
import { ComponentArgsError } from "../components/lib";

const service = (namespace: MicroServiceArgs["namespace"], extra: Partial<MicroServiceArgs> = {}) =>
  ({
    namespace,
    image: "ghcr.io/acme/shop:1.0.0",
    port: 8080,
    protocol: "http",
    replicas: { min: 1, max: 1 },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    ...extra,
  }) satisfies MicroServiceArgs;

type Failure = Error & { recorded: RecordedResource[] };

/** Runs `program`, which must fail; returns the error and what had registered. */
async function failure(program: () => void): Promise<Failure> {
  const error = await runProgram(program).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error("expected the program to fail");
  return error as Failure;
}

/** The children a component (by type and name) had registered. */
const childrenOf = (recorded: RecordedResource[], type: string, name: string) => {
  const component = recorded.find((r) => r.type === `platform:index:${type}` && r.name === name);
  return component ? recorded.filter((r) => r.parent === component.urn) : [];
};

const construct = (args: Partial<MicroServiceArgs>) => () =>
  new MicroService("api", { ...service("shop"), ...args }, STAND_IN_KUBERNETES);

describe("plain args: messages name the arg and quote the value", () => {
  it("quotes a string where a number belongs, and a CPU value", () => {
    expect(construct({ port: "3000" as unknown as number })).toThrow(
      'port must be a whole number from 1024 to 65535 (the container runs without privileges), found "3000"',
    );
    expect(
      construct({
        resources: { requests: { cpu: "1 core", memory: "128Mi" }, limits: { cpu: "2", memory: "256Mi" } },
      }),
    ).toThrow('resources.requests.cpu must be a CPU quantity such as "500m" or "2", found "1 core"');
  });

  it("refuses the PlatformNamespace itself as namespace, naming what to pass", async () => {
    const error = await failure(() => {
      const ns = new PlatformNamespace("shop", {}, onCluster());
      new MicroService("api", service(ns as unknown as string), onCluster());
    });
    expect(error).toBeInstanceOf(ComponentArgsError);
    expect(error.message).toContain(
      "namespace: expected a namespace name or its Output (for a PlatformNamespace, pass its `name`: ns.name), found the PlatformNamespace resource itself",
    );
    expect(error.recorded.some((r) => r.name === "api")).toBe(false);
  });
});

describe("uses: the store object itself, once, in the consumer's namespace", () => {
  const store = (namespace: pulumi.Input<string>, consumerNamespace: pulumi.Input<string> = namespace) =>
    new ManagedPostgres(
      "shop-pg",
      {
        backend: "inCluster",
        namespace,
        consumers: [{ service: "api", namespace: consumerNamespace, database: "api_db" }],
      },
      onCluster(),
    );

  it("a store listed twice is 'listed twice', not an env-var clash", async () => {
    const error = await failure(() => {
      const db = store("shop");
      new MicroService("api", service("shop", { uses: [db, db] }), onCluster());
    });
    expect(error.message).toContain('MicroService "api": invalid arguments (1):');
    expect(error.message).toContain("uses[1]: listed twice (the same data service as uses[0])");
  });

  it("refuses a copy of a store with another connectionEnv (it would name a Secret key that does not exist)", async () => {
    const error = await failure(() => {
      const db = store("shop");
      new MicroService("api", service("shop", { uses: [{ ...db, connectionEnv: "X" }] }), onCluster());
    });
    expect(error.message).toContain(
      "uses[0]: expected the data service object itself (ManagedPostgres, RedisCache or MessageBroker), found a copy of one",
    );
  });

  it("refuses a service in another namespace than its consumer entry: plain names at construction", async () => {
    const error = await failure(() => {
      const db = store("shop", "shop");
      new MicroService("api", service("billing", { uses: [db] }), onCluster());
    });
    expect(error.message).toContain(
      'uses[0]: this service runs in namespace "billing", but the store\'s consumer "api" is in namespace "shop"',
    );
    expect(error.recorded.some((r) => r.name === "api")).toBe(false);
  });

  it("refuses it with Outputs too, before any of the service's children registers", async () => {
    const error = await failure(() => {
      const shop = new PlatformNamespace("shop", {}, onCluster());
      const billing = new PlatformNamespace("billing", {}, onCluster());
      const db = store(shop.name, shop.name);
      new MicroService("api", service(billing.name, { uses: [db] }), onCluster());
    });
    expect(error.message).toContain(
      'MicroService "api": invalid arguments (1):\n' +
        '  - uses[0]: this service runs in namespace "billing", but the store\'s consumer "api" is in namespace "shop": its connection Secret would be created where these pods cannot read it, and the store would admit no one; give the consumer namespace "billing" (the same Output or name as this service\'s namespace)',
    );
    // The store sees it from its side too: its consumer is used by no service in that namespace.
    expect(error.message).toContain(
      'ManagedPostgres "shop-pg": invalid arguments (1):\n  - consumers[0] ("api"): no MicroService "api" of this program uses this ManagedPostgres in that namespace',
    );
    expect(childrenOf(error.recorded, "MicroService", "api")).toEqual([]);
    expect(childrenOf(error.recorded, "ManagedPostgres", "shop-pg")).toEqual([]);
  });

  it("refuses a namespace Output that resolves to an invalid name, before any child registers", async () => {
    const error = await failure(() => {
      new MicroService("api", service(pulumi.output(Promise.resolve("Shop_NS"))), onCluster());
    });
    expect(error.message).toBe(
      'MicroService "api": invalid arguments (1):\n' +
        '  - namespace must be a namespace name (a DNS label of at most 63 characters, such as "shop"), found "Shop_NS"',
    );
    expect(error.message).not.toContain("serializing");
    expect(childrenOf(error.recorded, "MicroService", "api")).toEqual([]);
  });
});

describe("across components: checked once the program is constructed, before children register", () => {
  it("refuses two MicroServices with one serviceName in one namespace, and two components of one name", async () => {
    const error = await failure(() => {
      const ns = new PlatformNamespace("shop", {}, onCluster());
      new MicroService("orders", service(ns.name), onCluster());
      new MicroService("orders-v2", service(ns.name, { serviceName: "orders" }), onCluster());
    });
    expect(error.message).toContain(
      'MicroService "orders-v2": invalid arguments (1):\n  - serviceName "orders" is already used in namespace "shop" by MicroService "orders"',
    );
    expect(childrenOf(error.recorded, "MicroService", "orders-v2")).toEqual([]);
    expect(childrenOf(error.recorded, "MicroService", "orders").length).toBeGreaterThan(0);

    const twice = await failure(() => {
      new MicroService("orders", service("shop"), onCluster());
      new MicroService("orders", service("billing"), onCluster());
    });
    expect(twice.message).toContain(
      'another MicroService named "orders" is in this program: component names must be unique',
    );
  });

  it("refuses a written-out endpoint to a service of the same program, and its wrong port", async () => {
    const error = await failure(() => {
      const ns = new PlatformNamespace("shop", {}, onCluster());
      new MicroService(
        "web",
        service(ns.name, {
          calls: [
            {
              endpoint: { name: "orders", namespace: "shop", port: 8081, protocol: "http" },
              env: "ORDERS_URL",
            },
          ],
        }),
        onCluster(),
      );
      // Constructed after its caller: the check does not depend on the order.
      new MicroService("orders", service(ns.name), onCluster());
    });
    expect(error.message).toBe(
      'MicroService "web": invalid arguments (2):\n' +
        '  - calls[0] ("orders"): "orders" is MicroService "orders" of this program; pass its `endpoint` (a written-out endpoint loses the start-order edge: this service would not wait for it)\n' +
        '  - calls[0] ("orders"): endpoint.port is 8081, but "orders" serves on 8080',
    );
    expect(childrenOf(error.recorded, "MicroService", "web")).toEqual([]);
  });

  it("refuses callers naming a service of the same program (its call belongs on it, with calls)", async () => {
    const error = await failure(() => {
      new MicroService("web", service("shop"), onCluster());
      new MicroService("orders", service("shop", { callers: ["web"] }), onCluster());
    });
    expect(error.message).toContain(
      'callers: "web" is MicroService "web" of this program; state the call on it instead',
    );
  });

  it("refuses a namespace whose quota cannot hold the services placed in it, naming them", async () => {
    const error = await failure(() => {
      const ns = new PlatformNamespace(
        "shop",
        { quota: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } } },
        onCluster(),
      );
      for (const name of ["web", "orders"])
        new MicroService(
          name,
          service(ns.name, {
            replicas: { min: 2, max: 4 },
            resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
          }),
          onCluster(),
        );
    });
    expect(error.message).toContain('PlatformNamespace "shop": invalid arguments');
    expect(error.message).toContain(
      'quota is too small for the MicroServices placed in it ("web", "orders"): namespace shop: minimum replicas + largest rollout surge + Jobs need requests.cpu 2500m > quota 1',
    );
    expect(childrenOf(error.recorded, "PlatformNamespace", "shop")).toEqual([]);
    // quotaFitCheck: false is the explicit opt-out (a deliberate overcommit): the same program runs.
    const run = await runProgram(() => {
      const ns = new PlatformNamespace(
        "shop",
        {
          quota: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
          quotaFitCheck: false,
        },
        onCluster(),
      );
      new MicroService("web", service(ns.name, { replicas: { min: 4, max: 4 } }), onCluster());
    });
    expect(run.resources.some((r) => r.type === "kubernetes:core/v1:Namespace")).toBe(true);
  });

  it("refuses a store with no consumers, and a consumer no MicroService uses (unless it says where it is used)", async () => {
    expect(
      () =>
        new RedisCache(
          "cache",
          { backend: "inCluster", namespace: "shop", consumers: [] },
          STAND_IN_KUBERNETES,
        ),
    ).toThrow("consumers: expected at least one consumer { service, namespace }");
    const error = await failure(() => {
      const events = new MessageBroker(
        "events",
        {
          backend: "inCluster",
          namespace: "shop",
          consumers: [
            { service: "api", namespace: "shop" },
            { service: "worker", namespace: "shop" },
            { service: "exporter", namespace: "shop", elsewhere: "the reporting stack reads the Secret" },
          ],
        },
        onCluster(),
      );
      new MicroService("worker", service("shop", { uses: [events] }), onCluster());
      new MicroService("api", service("shop"), onCluster());
    });
    expect(error.message).toBe(
      'MessageBroker "events": invalid arguments (1):\n' +
        '  - consumers[0] ("api"): no MicroService "api" of this program uses this MessageBroker in that namespace, so its role and Secret would serve no one; remove the consumer, add the store to that service\'s `uses`, or set elsewhere: "<why>" when a service of another program reads the Secret',
    );
    expect(childrenOf(error.recorded, "MessageBroker", "events")).toEqual([]);
  });
});

describe("ready: a consumer waits for the server, its role and its own Secret", () => {
  let run: RunResult;
  const get = async () =>
    (run ??= await runProgram(() => {
      const consumers = [{ service: "api", namespace: "shop" }];
      const db = new ManagedPostgres(
        "pg",
        {
          backend: "inCluster",
          namespace: "shop",
          consumers: consumers.map((c) => ({ ...c, database: "api" })),
        },
        onCluster(),
      );
      const mq = new MessageBroker("mq", { backend: "inCluster", namespace: "shop", consumers }, onCluster());
      const cache = new RedisCache(
        "cache",
        { backend: "inCluster", namespace: "shop", consumers },
        onCluster(),
      );
      new MicroService(
        "api",
        service("shop", { uses: [db, mq, cache], migration: { command: ["migrate"] } }),
        onCluster(),
      );
    }));

  it.each([
    ["pg", "kubernetes:batch/v1:Job", "pg-bootstrap"],
    ["pg", "kubernetes:core/v1:Secret", "pg-api-connection"],
    ["mq", "kubernetes:batch/v1:Job", "mq-bootstrap"],
    ["mq", "kubernetes:core/v1:Secret", "mq-api-connection"],
    ["cache", "kubernetes:core/v1:Secret", "cache-api-connection"],
  ])("the workload and the migration wait for %s's %s %s", async (_store, type, name) => {
    const r = await get();
    const awaited = byName(r, type, name).urn;
    expect(byName(r, "kubernetes:apps/v1:Deployment", "api-deploy").dependencies).toContain(awaited);
    expect(byName(r, "kubernetes:batch/v1:Job", "api-migrate").dependencies).toContain(awaited);
  });
});

describe("per-use env names and the admission opt-out", () => {
  it("a service uses two databases under env names of its own", async () => {
    const r = await runProgram(() => {
      const consumers = [{ service: "api", namespace: "shop", database: "api" }];
      const orders = new ManagedPostgres(
        "orders-pg",
        { backend: "inCluster", namespace: "shop", consumers },
        onCluster(),
      );
      const events = new ManagedPostgres(
        "events-pg",
        { backend: "inCluster", namespace: "shop", consumers },
        onCluster(),
      );
      new MicroService(
        "api",
        service("shop", { uses: [orders, { store: events, env: "EVENTS_DATABASE_URL" }] }),
        onCluster(),
      );
    });
    const env = (
      byName(r, "kubernetes:apps/v1:Deployment", "api-deploy").inputs as {
        spec: { template: { spec: { containers: { env: unknown[] }[] } } };
      }
    ).spec.template.spec.containers[0]!.env;
    expect(env).toEqual([
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "api-orders-pg", key: "DATABASE_URL" } } },
      {
        name: "EVENTS_DATABASE_URL",
        valueFrom: { secretKeyRef: { name: "api-events-pg", key: "DATABASE_URL" } },
      },
    ]);
  });

  it("two stores of one kind under one env name are still a clash, naming both", async () => {
    const error = await failure(() => {
      const consumers = [{ service: "api", namespace: "shop", database: "api" }];
      const a = new ManagedPostgres(
        "a-pg",
        { backend: "inCluster", namespace: "shop", consumers },
        onCluster(),
      );
      const b = new ManagedPostgres(
        "b-pg",
        { backend: "inCluster", namespace: "shop", consumers },
        onCluster(),
      );
      new MicroService("api", service("shop", { uses: [a, b] }), onCluster());
    });
    expect(error.message).toContain(
      "environment variable DATABASE_URL is set by both uses[0] (DATABASE_URL) and uses[1] (DATABASE_URL)",
    );
  });

  it("admission: false leaves the other team's namespace alone; egress and URL stay", async () => {
    const r = await runProgram(() => {
      new MicroService(
        "web",
        service("shop", {
          calls: [
            {
              endpoint: { name: "ledger", namespace: "finance", port: 7000, protocol: "http" },
              env: "LEDGER_URL",
              admission: false,
            },
          ],
        }),
        onCluster(),
      );
    });
    expect(r.resources.filter((x) => x.name === "web-admit-to-ledger")).toEqual([]);
    const egress = (
      byName(r, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "web-netpol").inputs as {
        spec: { egress: { ports: { port: number }[] }[] };
      }
    ).spec.egress;
    expect(egress.some((rule) => rule.ports.some((p) => p.port === 7000))).toBe(true);
  });
});
