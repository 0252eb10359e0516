/**
 * The analytics consumer under mocks, with the package's `testing` entry point:
 *
 *   node out/analytics/mock-run.js
 *
 * Checks the relations it states (URLs, Secrets by env name, no policy in the other team's
 * namespace).
 */
import * as path from "node:path";
import { runMocked, type MockedResource } from "@platform/microservices-platform/testing";

const program = () =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ ...(require(path.join(__dirname, "index")) as Record<string, unknown>) });

const find = (resources: MockedResource[], type: string, name: string): MockedResource => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};

async function main(): Promise<void> {
  const { resources } = await runMocked(program, { project: "analytics", stack: "staging" });
  const problems: string[] = [];
  const expect = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };
  const components = resources.filter((r) => r.type.startsWith("platform:index:"));
  expect(components.length === 7, `expected 7 components, found ${components.length}`);
  const query = find(resources, "kubernetes:core/v1:ConfigMap", "query-env").inputs["data"] as Record<
    string,
    string
  >;
  expect(
    query["AGGREGATOR_URL"] === "http://aggregator.analytics.svc.cluster.local:8081" &&
      query["LEDGER_URL"] === "http://ledger.finance.svc.cluster.local:7000",
    `query's URLs: ${JSON.stringify(query)}`,
  );
  const ingestEnv = JSON.stringify(
    (
      find(resources, "kubernetes:apps/v1:Deployment", "ingest-deploy").inputs["spec"] as {
        template: { spec: { containers: { env: unknown }[] } };
      }
    ).template.spec.containers[0]?.env,
  );
  expect(
    ingestEnv.includes('"name":"EVENTS_DATABASE_URL"') && ingestEnv.includes('"key":"DATABASE_URL"'),
    `ingest's database URL: ${ingestEnv}`,
  );
  const inFinance = resources.filter(
    (r) => (r.inputs["metadata"] as { namespace?: string } | undefined)?.namespace === "finance",
  );
  expect(
    inFinance.length === 0,
    `objects created in the other team's namespace: ${inFinance.map((r) => r.name).join(", ")}`,
  );
  if (problems.length > 0) throw new Error(`analytics mocked run:\n  - ${problems.join("\n  - ")}`);
  console.log(`analytics mocked run: ${resources.length} resources, ${components.length} components`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
