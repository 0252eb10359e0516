/**
 * `npm run judge:netpol [-- --stack <name>...]`: the full pairwise matrix of every stack, judged by
 * cyclonus as well as by the connectivity model (scripts/netpol-judge.ts). Every (source pod,
 * destination pod, container port) key, and every pod to each external address (the internet, the
 * instance metadata service, the AWS data stores) on the ports the platform uses. Prints the number of
 * keys and the time per stack; exits non-zero on any key where the two engines disagree.
 */
import { analyseConnectivity } from "../analysis/stack";
import { runStack, stackSettings } from "../test/harness";
import { kubernetesObject } from "./render-lib";
import { resolveStacks } from "./stacks";
import { cyclonusBinary, disagreements, EXTERNAL_PORTS, fullMatrix, stackExternals } from "./netpol-judge";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const requested = argv.flatMap((a, i) => (argv[i - 1] === "--stack" ? [a] : []));
  const stacks = resolveStacks(requested.length > 0 ? requested : ["all"]);
  const binary = cyclonusBinary();
  let failed = 0;
  for (const stack of stacks) {
    const started = Date.now();
    const run = await runStack(stack);
    const objects = run.resources.map(kubernetesObject).filter((o): o is Record<string, unknown> => !!o);
    const { model, intent } = analyseConnectivity(stackSettings(stack), objects);
    const keys = fullMatrix(model, stackExternals(intent.intended), EXTERNAL_PORTS);
    const differ = disagreements(binary, model, keys);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`${stack}: ${keys.length} keys, ${differ.length} disagreements with cyclonus (${seconds} s)`);
    for (const d of differ.slice(0, 40)) console.log(`  ${d.key}: model ${d.model}, cyclonus ${d.cyclonus}`);
    failed += differ.length;
  }
  console.log(
    `judge:netpol: ${failed === 0 ? "the model and cyclonus agree on every key" : `${failed} disagreements`}`,
  );
  process.exit(failed === 0 ? 0 : 1);
}

void main();
