/**
 * The pack as the Pulumi CLI runs it: Pulumi's own policy-pack runner (`run-policy-pack`, which
 * compiles index.ts with its ts-node) is started in policy/ with the stack name and config in the
 * environment, exactly as the CLI passes them, and asked over the analyzer gRPC protocol what it
 * enforces and what it reports for a resource. Proves the pack loads, names every rule, and is
 * mandatory for production and advisory elsewhere.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RULES, rdsProductionResilience } from "./rules";

const POLICY_DIR = __dirname;
const RUNNER = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
/** The analyzer protocol's EnforcementLevel enum. */
const ADVISORY = 0;
const MANDATORY = 1;

interface Pack {
  process: ChildProcess;
  client: analyzerRpc.AnalyzerClient;
}

/** Starts the pack for a stack and connects to the port it prints. */
function startPack(stack: string, config: Record<string, string>): Promise<Pack> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNNER, "127.0.0.1:1", "."], {
      cwd: POLICY_DIR,
      env: {
        ...process.env,
        PULUMI_NODEJS_STACK: stack,
        PULUMI_NODEJS_PROJECT: "platform",
        PULUMI_CONFIG: JSON.stringify(config),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout?.once("data", (d: Buffer) => {
      const port = Number(d.toString().trim().split("\n")[0]);
      if (!Number.isInteger(port) || port <= 0)
        return reject(new Error(`the pack printed "${d.toString()}" instead of a port`));
      resolve({
        process: child,
        client: new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()),
      });
    });
    child.once("exit", (code) => reject(new Error(`the pack exited (${code}) before serving:\n${stderr}`)));
  });
}

function analyzerInfo(pack: Pack): Promise<analyzerProto.AnalyzerInfo> {
  return new Promise((resolve, reject) =>
    pack.client.getAnalyzerInfo(new Empty(), (err, info) => (err ? reject(err) : resolve(info))),
  );
}

function analyze(
  pack: Pack,
  type: string,
  name: string,
  props: Record<string, unknown>,
): Promise<analyzerProto.AnalyzeDiagnostic[]> {
  const req = new analyzerProto.AnalyzeRequest();
  req.setType(type);
  req.setName(name);
  req.setUrn(`urn:pulumi:production::platform::${type}::${name}`);
  req.setProperties(Struct.fromJavaScript(props as never));
  req.setOptions(new analyzerProto.AnalyzerResourceOptions()); // the CLI always sends the resource's options
  return new Promise((resolve, reject) =>
    pack.client.analyze(req, (err, res) => (err ? reject(err) : resolve(res.getDiagnosticsList()))),
  );
}

describe("the platform-baseline pack under Pulumi's policy runner", () => {
  const packs: Record<string, Pack> = {};

  beforeAll(async () => {
    // Both compile in parallel (the runner type-checks the pack with the repository's TypeScript).
    const [production, staging, local] = await Promise.all([
      startPack("production", {}),
      startPack("staging", {}),
      startPack("dev-alice", { "platform:stage": "local" }),
    ]);
    Object.assign(packs, { production, staging, local });
  }, 120_000);

  afterAll(() => {
    for (const pack of Object.values(packs)) {
      pack.client.close();
      pack.process.kill();
    }
  });

  it("serves every rule of policy/rules.ts under the pack's name and version", async () => {
    const info = await analyzerInfo(packs["production"] as Pack);
    expect(info.getName()).toBe("platform-baseline");
    expect(info.getVersion()).toBe("0.1.0");
    expect(info.getPoliciesList().map((p) => p.getName())).toEqual(RULES.map((r) => r.name));
  });

  it("is mandatory for production and advisory for staging and a local stack (stage from config)", async () => {
    const levels = async (stack: string) =>
      new Set(
        (await analyzerInfo(packs[stack] as Pack)).getPoliciesList().map((p) => p.getEnforcementlevel()),
      );
    expect(await levels("production")).toEqual(new Set([MANDATORY]));
    expect(await levels("staging")).toEqual(new Set([ADVISORY]));
    expect(await levels("local")).toEqual(new Set([ADVISORY]));
  });

  it("reports a violating resource with the rule's message, and applies stage-dependent rules by stage", async () => {
    const rds = {
      storageEncrypted: true,
      publiclyAccessible: false,
      backupRetentionPeriod: 7,
      multiAz: false,
      deletionProtection: false,
      iamDatabaseAuthenticationEnabled: true,
    };
    const production = await analyze(
      packs["production"] as Pack,
      "aws:rds/instance:Instance",
      "orders-db",
      rds,
    );
    // The policy SDK puts the policy's description above each violation message.
    const message = (text: string) => `${rdsProductionResilience.description}\n${text}`;
    expect(production.map((d) => [d.getPolicyname(), d.getMessage(), d.getEnforcementlevel()])).toEqual([
      [
        "aws-rds-production-resilience",
        message('RDS instance "orders-db" must be Multi-AZ in production (multiAz true).'),
        MANDATORY,
      ],
      [
        "aws-rds-production-resilience",
        message('RDS instance "orders-db" must have deletionProtection in production.'),
        MANDATORY,
      ],
    ]);
    expect(await analyze(packs["staging"] as Pack, "aws:rds/instance:Instance", "orders-db", rds)).toEqual(
      [],
    );
    const untagged = await analyze(packs["staging"] as Pack, "kubernetes:batch/v1:Job", "migrate", {
      metadata: { name: "migrate", namespace: "shop" },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "m",
                image: "migrator",
                resources: { requests: { cpu: "1m", memory: "1Mi" }, limits: { cpu: "1m", memory: "1Mi" } },
              },
            ],
          },
        },
      },
    });
    // Staging warns about an image without a digest too; production would refuse it.
    expect(untagged.map((d) => [d.getPolicyname(), d.getEnforcementlevel()])).toEqual([
      ["k8s-image-pinned", ADVISORY],
      ["k8s-image-digest-pinned-production", ADVISORY],
    ]);
  });
});
