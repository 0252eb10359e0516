/**
 * A mocked `pulumi up` of this stack: no engine, no cloud, no cluster. It uses what the package
 * offers consumers for their own unit tests, `@platform/microservices-platform/testing` (mocks with
 * realistic ids and outputs per resource type, `transforms` applied as the engine would, and a
 * component's failed checks reported as the program's error). Run by scripts/consumer-test.sh in a
 * scratch project where the library is installed from its packed tarball:
 *
 *   node out/mock-run.js <existing|aws> <stage> <summary.json>
 *
 * Checks what a consumer relies on and writes the component types it saw to <summary.json>, so the
 * caller can check that the two runs together used every component the package exports.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { runMocked } from "@platform/microservices-platform/testing";

async function main(): Promise<void> {
  const [cloud = "existing", stage = "local", summaryFile = "summary.json"] = process.argv.slice(2);
  const { resources: recorded } = await runMocked(
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    () => ({ ...(require(path.join(__dirname, "index")) as Record<string, unknown>) }),
    {
      project: "consumer-stack",
      stack: stage,
      config: {
        "consumer-stack:image": "ghcr.io/inventory-team/stock-api:1.0.3",
        "consumer-stack:stage": stage,
        "consumer-stack:cloud": cloud,
        "consumer-stack:buildContext": "./app",
        "consumer-stack:adminRoleArns": ["arn:aws:iam::123456789012:role/inventory-admins"],
      },
    },
  );

  const problems: string[] = [];
  const expect = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };
  const kubernetes = recorded.filter(
    (r) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes",
  );
  expect(kubernetes.length > 20, `expected Kubernetes objects, found ${kubernetes.length}`);
  for (const r of kubernetes)
    expect(
      (r.provider ?? "").includes("::inventory-k8s::"),
      `${r.type} ${r.name} is not on the stack's explicit cluster provider (${r.provider ?? "ambient"})`,
    );
  const text = JSON.stringify(recorded.map((r) => r.inputs));
  expect(!text.includes("platform.example.com"), "the platform's own label domain leaked into the stack");

  // `transforms` reached the component's children: the Deployment of stock-api carries our label.
  const deployment = recorded.find(
    (r) =>
      r.type === "kubernetes:apps/v1:Deployment" &&
      (r.inputs["metadata"] as { name?: string } | undefined)?.name === "stock-api",
  );
  const labels = (deployment?.inputs["metadata"] as { labels?: Record<string, string> } | undefined)?.labels;
  expect(
    labels?.["acme.io/cost-centre"] === "inventory",
    "transforms did not reach the stock-api Deployment",
  );
  expect(
    labels?.["inventory.acme.io/platform"] === "inventory-team",
    `the platform label is not under the stack's labelDomain: ${JSON.stringify(labels)}`,
  );

  const components = [
    ...new Set(recorded.filter((r) => r.type.startsWith("platform:index:")).map((r) => r.type)),
  ];
  writeFileSync(
    summaryFile,
    JSON.stringify({ cloud, stage, components, resources: recorded.length }, null, 2),
  );
  if (problems.length > 0)
    throw new Error(`mocked run (${cloud}, ${stage}):\n  - ${problems.join("\n  - ")}`);
  console.log(
    `mocked run (${cloud}, ${stage}): ${recorded.length} resources, ${components.length} component types`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
