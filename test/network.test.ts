/**
 * Network: VPC layout per stage profile (zones looked up, NAT per zone vs single), deterministic
 * subnet CIDRs, load-balancer discovery tags, flow logs, tags on everything, and arg errors.
 */
import { describe, expect, it } from "vitest";
import { byType, runProgram, type RecordedResource, type RunResult } from "./harness";
import { Network, type NetworkArgs } from "../components/Network";
import { ComponentArgsError } from "../components/lib";
import { MOCK_ZONES } from "../components/testing/mocks/common";

const TAGS = { project: "microservices-platform", stack: "production", owner: "team-platform" };
const PRODUCTION: NetworkArgs = {
  cidr: "10.30.0.0/16",
  availabilityZoneCount: 3,
  natGateways: "perZone",
  flowLogRetentionDays: 365,
  clusterName: "platform-production",
  tags: TAGS,
};
const STAGING: NetworkArgs = {
  cidr: "10.20.0.0/16",
  availabilityZoneCount: 2,
  natGateways: "single",
  flowLogRetentionDays: 30,
  clusterName: "platform-staging",
  tags: { ...TAGS, stack: "staging" },
};

async function build(
  args: NetworkArgs,
  stack: string,
): Promise<{ run: RunResult; network: { privateSubnetCidrs: string[]; outputs: Record<string, unknown> } }> {
  let net: Network | undefined;
  const run = await runProgram(
    () => {
      net = new Network("net", args);
      return {
        vpcId: net.vpcId,
        publicSubnetIds: net.publicSubnetIds,
        privateSubnetIds: net.privateSubnetIds,
        availabilityZones: net.availabilityZones,
        natPublicIps: net.natPublicIps,
        vpcCidr: net.vpcCidr,
      };
    },
    { stack },
  );
  return { run, network: { privateSubnetCidrs: (net as Network).privateSubnetCidrs, outputs: run.outputs } };
}

const tagsOf = (r: RecordedResource) => (r.inputs.tags ?? {}) as Record<string, string>;

describe("Network (production profile)", () => {
  let prod: Awaited<ReturnType<typeof build>>;
  it("builds 3 zones with public + private subnets, one NAT per zone and a route table per private subnet", async () => {
    prod = await build(PRODUCTION, "production");
    const { run } = prod;
    expect(run.invokes.map((i) => i.token)).toContain("aws:index/getAvailabilityZones:getAvailabilityZones");
    const zonesInvoke = run.invokes.find(
      (i) => i.token === "aws:index/getAvailabilityZones:getAvailabilityZones",
    );
    expect(zonesInvoke?.args.state).toBe("available");
    expect(run.outputs.availabilityZones).toEqual(MOCK_ZONES.slice(0, 3));

    const subnets = byType(run, "aws:ec2/subnet:Subnet");
    const pub = subnets.filter((s) => tagsOf(s).tier === "public");
    const priv = subnets.filter((s) => tagsOf(s).tier === "private");
    expect(pub).toHaveLength(3);
    expect(priv).toHaveLength(3);
    expect(new Set(priv.map((s) => s.inputs.availabilityZone))).toEqual(new Set(MOCK_ZONES));
    expect(subnets.every((s) => s.inputs.mapPublicIpOnLaunch === false)).toBe(true);

    const nats = byType(run, "aws:ec2/natGateway:NatGateway");
    expect(nats).toHaveLength(3);
    expect(byType(run, "aws:ec2/eip:Eip")).toHaveLength(3);
    // Each NAT sits in a different public subnet.
    expect(new Set(nats.map((n) => n.inputs.subnetId)).size).toBe(3);
    const pubIds = new Set(pub.map((s) => s.state.id ?? s.inputs.id));
    expect(pubIds.size).toBeGreaterThan(0);

    // Private default routes: each through a different NAT.
    const routes = byType(run, "aws:ec2/route:Route");
    const natRoutes = routes.filter((r) => r.inputs.natGatewayId !== undefined);
    expect(natRoutes).toHaveLength(3);
    expect(new Set(natRoutes.map((r) => r.inputs.natGatewayId)).size).toBe(3);
    expect(routes.filter((r) => r.inputs.gatewayId !== undefined)).toHaveLength(1);
    expect(routes.every((r) => r.inputs.destinationCidrBlock === "0.0.0.0/0")).toBe(true);
    expect(byType(run, "aws:ec2/routeTable:RouteTable")).toHaveLength(4);
    expect(byType(run, "aws:ec2/routeTableAssociation:RouteTableAssociation")).toHaveLength(6);
    expect((run.outputs.natPublicIps as string[]).length).toBe(3);
  });

  it("computes subnet CIDRs deterministically from the VPC CIDR, without overlaps", () => {
    expect(prod.network.privateSubnetCidrs).toEqual(["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"]);
    const cidrs = byType(prod.run, "aws:ec2/subnet:Subnet").map((s) => s.inputs.cidrBlock as string);
    expect(cidrs.filter((c) => c.endsWith("/22")).sort()).toEqual([
      "10.30.192.0/22",
      "10.30.196.0/22",
      "10.30.200.0/22",
    ]);
    expect(new Set(cidrs).size).toBe(6);
    // Public /22s live in 10.30.192.0/19, which no private subnet uses.
    expect(prod.network.privateSubnetCidrs).not.toContain("10.30.192.0/19");
  });

  it("tags subnets for load-balancer discovery and the cluster", () => {
    const subnets = byType(prod.run, "aws:ec2/subnet:Subnet");
    for (const s of subnets) {
      const tags = tagsOf(s);
      expect(tags["kubernetes.io/cluster/platform-production"]).toBe("shared");
      if (tags.tier === "public") {
        expect(tags["kubernetes.io/role/elb"]).toBe("1");
        expect(tags["kubernetes.io/role/internal-elb"]).toBeUndefined();
      } else {
        expect(tags["kubernetes.io/role/internal-elb"]).toBe("1");
        expect(tags["kubernetes.io/role/elb"]).toBeUndefined();
      }
    }
  });

  it("sends flow logs of all traffic to a CloudWatch log group with retention, through a scoped role", () => {
    const { run } = prod;
    const [flowLog] = byType(run, "aws:ec2/flowLog:FlowLog");
    const [group] = byType(run, "aws:cloudwatch/logGroup:LogGroup");
    expect(flowLog?.inputs).toMatchObject({
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: group?.state.arn,
    });
    expect(group?.inputs.retentionInDays).toBe(365);
    const role = byType(run, "aws:iam/role:Role").find(
      (r) => r.inputs.arn === undefined && flowLog?.inputs.iamRoleArn === r.state.arn,
    );
    expect(role).toBeDefined();
    const trust = JSON.parse(role?.inputs.assumeRolePolicy as string);
    expect(trust.Statement[0].Principal.Service).toBe("vpc-flow-logs.amazonaws.com");
    expect(trust.Statement[0].Condition.StringEquals["aws:SourceAccount"]).toBe("123456789012");
    const [policy] = byType(run, "aws:iam/rolePolicy:RolePolicy");
    const doc = JSON.parse(policy?.inputs.policy as string);
    expect(doc.Statement[0].Resource).toEqual([group?.state.arn, `${String(group?.state.arn)}:*`]);
    expect(doc.Statement[0].Action).toContain("logs:PutLogEvents");
    // DescribeLogGroups has no resource-level permission: it works on "*" only, so it stands alone there.
    expect(doc.Statement[0].Action).not.toContain("logs:DescribeLogGroups");
    expect(doc.Statement[1]).toEqual({ Effect: "Allow", Action: ["logs:DescribeLogGroups"], Resource: "*" });
  });

  it("keeps S3 and STS traffic in the VPC: an S3 gateway endpoint on every private route table, an STS interface endpoint with private DNS", () => {
    const { run } = prod;
    const endpoints = byType(run, "aws:ec2/vpcEndpoint:VpcEndpoint");
    const s3 = endpoints.find((e) => e.inputs.vpcEndpointType === "Gateway");
    const sts = endpoints.find((e) => e.inputs.vpcEndpointType === "Interface");
    expect(s3?.inputs.serviceName).toMatch(/^com\.amazonaws\.[a-z0-9-]+\.s3$/);
    // The mock's ids carry the resource's name.
    expect(s3?.inputs.routeTableIds).toEqual([0, 1, 2].map((i) => expect.stringMatching(`private-rt-${i}-`)));
    expect(sts?.inputs).toMatchObject({ privateDnsEnabled: true });
    expect(sts?.inputs.serviceName).toMatch(/\.sts$/);
    expect(sts?.inputs.subnetIds).toEqual([0, 1, 2].map((i) => expect.stringMatching(`private-${i}-`)));
    const sg = byType(run, "aws:ec2/securityGroup:SecurityGroup").find((g) =>
      String((sts?.inputs.securityGroupIds as string[])[0]).startsWith(g.name),
    );
    expect(sg?.inputs.ingress).toEqual([
      expect.objectContaining({ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.30.0.0/16"] }),
    ]);
  });

  it("tags every taggable resource with project, stack, owner and a Name", () => {
    const taggable = prod.run.resources.filter(
      (r) =>
        r.custom &&
        r.type.startsWith("aws:") &&
        !/route:Route$|routeTableAssociation|rolePolicy:RolePolicy/.test(r.type),
    );
    expect(taggable.length).toBeGreaterThan(15);
    for (const r of taggable) {
      expect(tagsOf(r), `${r.type} ${r.name}`).toMatchObject({
        ...TAGS,
        Name: expect.stringMatching(/^net-/),
      });
    }
  });

  it("enables VPC DNS (EKS needs it) and strips the default security group", () => {
    const [vpc] = byType(prod.run, "aws:ec2/vpc:Vpc");
    expect(vpc?.inputs).toMatchObject({
      cidrBlock: "10.30.0.0/16",
      enableDnsHostnames: true,
      enableDnsSupport: true,
    });
    const [sg] = byType(prod.run, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
    expect(sg?.inputs.ingress ?? []).toEqual([]);
    expect(sg?.inputs.egress ?? []).toEqual([]);
  });
});

describe("Network (staging profile)", () => {
  it("uses 2 zones and one shared NAT gateway that every private route table points at", async () => {
    const { run, network } = await build(STAGING, "staging");
    expect(run.outputs.availabilityZones).toEqual(MOCK_ZONES.slice(0, 2));
    expect(byType(run, "aws:ec2/subnet:Subnet")).toHaveLength(4);
    expect(byType(run, "aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    const natRoutes = byType(run, "aws:ec2/route:Route").filter((r) => r.inputs.natGatewayId !== undefined);
    expect(natRoutes).toHaveLength(2);
    expect(new Set(natRoutes.map((r) => r.inputs.natGatewayId)).size).toBe(1);
    expect(network.privateSubnetCidrs).toEqual(["10.20.0.0/19", "10.20.32.0/19"]);
    expect(byType(run, "aws:cloudwatch/logGroup:LogGroup")[0]?.inputs.retentionInDays).toBe(30);
  });
});

describe("Network arg errors", () => {
  const bad = (args: Partial<NetworkArgs>) => () => new Network("net", { ...PRODUCTION, ...args });

  it("rejects a CIDR that is not a CIDR, host bits set, and sizes outside /16-/20", () => {
    expect(bad({ cidr: "10.30.0.0" })).toThrow(ComponentArgsError);
    expect(bad({ cidr: "10.300.0.0/16" })).toThrow(/not an IPv4 CIDR block/);
    expect(bad({ cidr: "10.30.1.0/16" })).toThrow(/host bits set; the block starts at 10\.30\.0\.0\/16/);
    expect(bad({ cidr: "10.0.0.0/24" })).toThrow(/a \/16 to \/20 block/);
  });

  it("rejects perZone NAT with one zone, bad zone counts and retention periods CloudWatch does not offer", () => {
    expect(bad({ availabilityZoneCount: 1, natGateways: "perZone" })).toThrow(
      /"perZone" needs at least 2 availability zones/,
    );
    expect(bad({ availabilityZoneCount: 7 })).toThrow(/availabilityZoneCount: a whole number from 1 to 6/);
    expect(bad({ flowLogRetentionDays: 10 })).toThrow(/flowLogRetentionDays: a CloudWatch retention period/);
  });

  it("lists every problem at once", () => {
    try {
      bad({ cidr: "nope", flowLogRetentionDays: 2, clusterName: "bad name!" })();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ComponentArgsError);
      expect((e as Error).message).toMatch(/invalid arguments \(3\)/);
    }
  });
});
