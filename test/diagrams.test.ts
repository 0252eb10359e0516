/**
 * The platform pictures: built from the recorded dependencies, they must say what the catalogs say
 * (who calls whom, who waits for which migration and bootstrap), draw as valid, stable Mermaid, and a
 * diff must mark exactly what changed.
 */
import { describe, expect, it } from "vitest";
import { transitiveReduction, type Diagram } from "../scripts/diagrams/diagram";
import { changedUrns, diffDiagrams } from "../scripts/diagrams/diff";
import { mermaidId, toMermaid } from "../scripts/diagrams/mermaid";
import { startOrderDiagram, topologyDiagram } from "../scripts/diagrams/platform";
import { inventoryOf, type InventoryEntry } from "../scripts/render-lib";
import { CATALOGS } from "../services";
import { runStack } from "./harness";

const labelOf = (d: Diagram, id: string) => d.nodes.find((n) => n.id === id)?.label ?? id;
const edgeLabels = (d: Diagram) => d.edges.map((e) => `${labelOf(d, e.from)} -> ${labelOf(d, e.to)}`);

/** Whether `to` is reachable from `from` along the diagram's arrows. */
function reaches(d: Diagram, from: string, to: string): boolean {
  const stack = [from];
  const seen = new Set(stack);
  while (stack.length) {
    const n = stack.pop() as string;
    if (n === to) return true;
    for (const e of d.edges)
      if (e.from === n && !seen.has(e.to)) {
        seen.add(e.to);
        stack.push(e.to);
      }
  }
  return false;
}

describe("transitive reduction", () => {
  it("drops arrows another path implies and keeps the rest", () => {
    const edges = [
      { from: "a", to: "b" },
      { from: "b", to: "c" },
      { from: "a", to: "c" },
      { from: "a", to: "d" },
    ];
    expect(transitiveReduction(["a", "b", "c", "d"], edges)).toEqual([
      { from: "a", to: "b" },
      { from: "b", to: "c" },
      { from: "a", to: "d" },
    ]);
  });
});

describe("Mermaid drawing", () => {
  const diagram: Diagram = {
    title: "t",
    direction: "LR",
    groups: [{ id: "ns shop", label: "namespace shop" }],
    nodes: [
      { id: "svc", label: 'api "v2" <beta>', shape: "box", group: "ns shop", members: [], status: "changed" },
      { id: "db", label: "db", shape: "store", members: [], status: "added" },
      { id: "old", label: "old", shape: "job", members: [], status: "removed" },
    ],
    edges: [
      { from: "svc", to: "db", label: "uses", status: "added" },
      { from: "svc", to: "old", status: "removed" },
    ],
  };
  const text = toMermaid(diagram);

  it("draws groups, shapes, escaped labels, arrow kinds and change classes", () => {
    expect(text.split("\n")[0]).toBe("flowchart LR");
    expect(text).toContain(`subgraph ${mermaidId("group ns shop")}["namespace shop"]`);
    expect(text).toContain(`${mermaidId("svc")}["api #quot;v2#quot; #lt;beta#gt; (changed)"]`);
    expect(text).toContain(`${mermaidId("db")}[("db (added)")]`);
    expect(text).toContain(`${mermaidId("svc")} ==>|"uses"| ${mermaidId("db")}`);
    expect(text).toContain(`${mermaidId("svc")} -.-> ${mermaidId("old")}`);
    expect(text).toContain(`class ${mermaidId("svc")} changed`);
    expect(text).toContain(`class ${mermaidId("old")} removed`);
  });

  it("defines a change class only when a node carries it", () => {
    const plain = toMermaid({ ...diagram, nodes: diagram.nodes.map((n) => ({ ...n, status: "same" })) });
    expect(plain).not.toContain("classDef");
  });

  it("makes ids that Mermaid accepts, the same for the same name", () => {
    expect(mermaidId("job ecommerce/x y")).toMatch(/^n[0-9a-f]{8}$/);
    expect(mermaidId("a")).toBe(mermaidId("a"));
    expect(mermaidId("a")).not.toBe(mermaidId("b"));
  });
});

describe("diagram diff", () => {
  const base: Diagram = {
    title: "t",
    direction: "LR",
    groups: [],
    nodes: [
      { id: "a", label: "a", shape: "box", members: ["urn:a"] },
      { id: "b", label: "b", shape: "box", members: ["urn:b"] },
      { id: "gone", label: "gone", shape: "box", members: ["urn:gone"] },
    ],
    edges: [
      { from: "a", to: "b" },
      { from: "a", to: "gone" },
    ],
  };
  const head: Diagram = {
    ...base,
    nodes: [
      ...base.nodes.filter((n) => n.id !== "gone"),
      { id: "new", label: "new", shape: "box", members: ["urn:new"] },
    ],
    edges: [
      { from: "a", to: "b" },
      { from: "b", to: "new" },
    ],
  };

  it("marks added, removed and changed nodes and edges; unchanged ones stay plain", () => {
    const { diagram, changed } = diffDiagrams(base, head, new Set(["urn:b"]));
    expect(changed).toBe(true);
    expect(Object.fromEntries(diagram.nodes.map((n) => [n.id, n.status]))).toEqual({
      a: "same",
      b: "changed",
      gone: "removed",
      new: "added",
    });
    expect(diagram.edges.map((e) => `${e.from}>${e.to}:${e.status}`)).toEqual([
      "a>b:same",
      "a>gone:removed",
      "b>new:added",
    ]);
  });

  it("reports no change for the same graph and inventory", () => {
    expect(diffDiagrams(base, base, new Set()).changed).toBe(false);
  });

  it("finds the resources whose recorded form differs, on either side only too", () => {
    expect(
      [
        ...changedUrns(
          [{ urn: "x" }, { urn: "y", v: 1 } as { urn: string }],
          [{ urn: "y", v: 2 } as { urn: string }, { urn: "z" }],
        ),
      ].sort(),
    ).toEqual(["x", "y", "z"]);
  });
});

describe.each(["local", "production"] as const)("the %s platform pictures", (stack) => {
  let inventory: InventoryEntry[] = [];

  it("build from the run", async () => {
    inventory = inventoryOf(await runStack(stack));
    expect(inventory.length).toBeGreaterThan(0);
  });

  it("start order: every call waits for the callee, every service for its migration, every bootstrap for its store", () => {
    const d = startOrderDiagram(inventory);
    const serviceId = (catalog: string, service: string) => `MicroService-${catalog}-${service}`;
    let checked = 0;
    for (const [catalog, input] of Object.entries(CATALOGS)) {
      for (const svc of input.services) {
        for (const dep of svc.dependsOn ?? []) {
          expect(
            reaches(d, serviceId(catalog, dep), serviceId(catalog, svc.name)),
            `${dep} before ${svc.name}`,
          ).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(5);
    const jobs = d.nodes.filter((n) => n.shape === "job");
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      const name = job.id.slice("job ".length);
      const migration = /^(.+)-migrate$/.exec(name);
      if (migration) expect(reaches(d, job.id, `MicroService-${migration[1]}`), job.id).toBe(true);
      const bootstrap = /^(.+-(postgres|redis|rabbitmq))-bootstrap$/.exec(name);
      if (bootstrap) {
        const store = d.nodes.find((n) => n.shape === "store" && n.id.endsWith(`-${bootstrap[1]}`));
        expect(store && reaches(d, store.id, job.id), job.id).toBe(true);
      }
      expect(migration ?? bootstrap, `${job.id} is a migration or a bootstrap Job`).toBeTruthy();
    }
    // No cycles: nothing reaches itself.
    for (const n of d.nodes)
      expect(
        d.edges.some((e) => e.from === n.id && reaches(d, e.to, n.id)),
        n.id,
      ).toBe(false);
  });

  it("topology: the calls are exactly the catalogs' dependencies", () => {
    const d = topologyDiagram(inventory);
    const calls = d.edges
      .filter((e) => e.label === "calls")
      .map((e) => `${e.from} -> ${e.to}`)
      .sort();
    const declared = Object.entries(CATALOGS)
      .flatMap(([catalog, input]) =>
        input.services.flatMap((s) =>
          (s.dependsOn ?? []).map(
            (dep) => `MicroService-${catalog}-${s.name} -> MicroService-${catalog}-${dep}`,
          ),
        ),
      )
      .sort();
    expect(calls).toEqual(declared);
    const uses = d.edges.filter((e) => e.label === "uses");
    expect(uses.length).toBeGreaterThan(0);
    for (const e of uses)
      expect(d.nodes.find((n) => n.id === e.to)?.shape, edgeLabels(d).join("\n")).toBe("store");
  });

  it("topology: the gateway routes to every exposed service (when the stack has one)", () => {
    const d = topologyDiagram(inventory);
    const gateway = d.nodes.find((n) => n.shape === "gateway");
    const exposed = Object.entries(CATALOGS).flatMap(([catalog, input]) =>
      input.services.filter((s) => s.expose).map((s) => `MicroService-${catalog}-${s.name}`),
    );
    if (stack === "local") {
      expect(gateway).toBeUndefined(); // the local stack leaves the Helm-based gateway out
      return;
    }
    expect(
      d.edges
        .filter((e) => e.from === gateway?.id)
        .map((e) => e.to)
        .sort(),
    ).toEqual(exposed.sort());
  });

  it("draws the same text twice", () => {
    expect(toMermaid(topologyDiagram(inventory))).toBe(
      toMermaid(topologyDiagram(structuredClone(inventory).reverse())),
    );
    expect(toMermaid(startOrderDiagram(inventory))).toBe(
      toMermaid(startOrderDiagram(structuredClone(inventory).reverse())),
    );
  });
});
