/**
 * Network: the AWS VPC an EKS cluster and its managed data services live in.
 *
 * Public and private subnets in each of `availabilityZoneCount` zones (looked up in the region, never
 * hard-coded), an internet gateway, NAT (one shared gateway or one per zone), one route table per
 * private subnet, the subnet tags the AWS Load Balancer Controller discovers subnets by, VPC flow
 * logs to CloudWatch, a default security group with no rules, and `tags` on everything taggable.
 *
 * Subnet CIDRs are computed from the VPC CIDR, deterministically and independently of the zone
 * count, so adding a zone later never renumbers an existing subnet:
 * - private subnet `i` = the `i`-th block 3 bits longer than the VPC (a /16 gives /19s: 8,190 addresses
 *   each, room for VPC-CNI pod IPs);
 * - public subnet `i` = the `(48 + i)`-th block 6 bits longer (a /16 gives /22s, carved from the
 *   seventh private-sized block, which private subnets never use).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  childName,
  CLOUDWATCH_RETENTION_DAYS,
  ComponentArgsError,
  ipv4CidrProblem,
  parseIpv4Cidr,
  subnetCidr,
  typeToken,
} from "./lib";

export interface NetworkArgs {
  /**
   * IPv4 CIDR of the VPC, a /16 to a /20 (private subnets are 3 bits longer, public ones 6 bits).
   * Must not overlap networks you peer with.
   * @example "10.30.0.0/16"
   */
  cidr: string;
  /**
   * Availability zones to spread subnets over, taken in order from the region's available zones
   * that need no opt-in. EKS needs at least 2; use 3 for production.
   * @default 3
   * @example 2
   */
  availabilityZoneCount?: number;
  /**
   * NAT for the private subnets: `single` (one gateway in the first zone; cheaper, but egress fails
   * with that zone) or `perZone` (one gateway per zone; each private subnet egresses in its own zone).
   * `perZone` needs at least 2 zones.
   * @default "perZone"
   * @example "single"
   */
  natGateways?: "single" | "perZone";
  /**
   * Days CloudWatch keeps the VPC flow logs (a value CloudWatch accepts: 1, 3, 5, 7, 14, 30, 60, 90,
   * 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).
   * @default 365
   * @example 30
   */
  flowLogRetentionDays?: number;
  /**
   * Traffic the flow logs record.
   * @default "ALL"
   * @example "REJECT"
   */
  flowLogTrafficType?: "ACCEPT" | "REJECT" | "ALL";
  /**
   * Name of the EKS cluster that will use these subnets: adds the `kubernetes.io/cluster/<name>: shared`
   * tag to every subnet. Leave out when no cluster uses the VPC.
   * @default no cluster tag
   * @example "platform-production"
   */
  clusterName?: string;
  /**
   * Tags put on every taggable resource (merged under a per-resource `Name`).
   * @default {}
   * @example { project: "microservices-platform", stack: "production", owner: "team-platform" }
   */
  tags?: Record<string, string>;
}

const MAX_ZONES = 6;

export class Network extends pulumi.ComponentResource {
  /** VPC id. */
  public readonly vpcId: pulumi.Output<string>;
  /** VPC CIDR block. */
  public readonly vpcCidr: pulumi.Output<string>;
  /** Public subnet ids, one per zone, in zone order. */
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  /** Private subnet ids, one per zone, in zone order (EKS nodes, RDS, ElastiCache go here). */
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  /** Private subnet CIDRs, known before deployment (for security group rules of data services). */
  public readonly privateSubnetCidrs: string[];
  /** Public subnet CIDRs, known before deployment. */
  public readonly publicSubnetCidrs: string[];
  /** The zones used, in order. */
  public readonly availabilityZones: pulumi.Output<string[]>;
  /** Public IPs of the NAT gateways (the addresses third parties see from the private subnets). */
  public readonly natPublicIps: pulumi.Output<string[]>;
  /** CloudWatch log group receiving the flow logs. */
  public readonly flowLogGroupName: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    // Every problem is reported before anything (even this component) is registered.
    const spec = normalize(name, args);
    super(typeToken("Network"), name, {}, opts);
    this.availabilityZones = lookUpZones(spec, this);
    const vpc = createVpc(spec, this);
    const igw = createInternetGateway(spec, vpc, this);
    const subnets = createSubnets(spec, vpc, this.availabilityZones, this);
    createPublicRouting(spec, vpc, igw, subnets.public, this);
    const nat = createNatGateways(spec, igw, subnets.public, this);
    const privateTables = createPrivateRouting(spec, vpc, nat.gateways, subnets.private, this);
    createServiceEndpoints(spec, vpc, privateTables, subnets.private, this);
    const flowLogs = createFlowLogs(spec, vpc, this);

    this.vpcId = vpc.id;
    this.vpcCidr = vpc.cidrBlock;
    this.publicSubnetCidrs = spec.publicCidrs;
    this.privateSubnetCidrs = spec.privateCidrs;
    this.publicSubnetIds = pulumi.all(subnets.public.map((s) => s.id));
    this.privateSubnetIds = pulumi.all(subnets.private.map((s) => s.id));
    this.natPublicIps = pulumi.all(nat.eips.map((e) => e.publicIp));
    this.flowLogGroupName = flowLogs.name;
    this.registerOutputs({
      vpcId: this.vpcId,
      vpcCidr: this.vpcCidr,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      privateSubnetCidrs: this.privateSubnetCidrs,
      publicSubnetCidrs: this.publicSubnetCidrs,
      availabilityZones: this.availabilityZones,
      natPublicIps: this.natPublicIps,
      flowLogGroupName: this.flowLogGroupName,
    });
  }
}

/** The args with defaults applied and the subnet layout computed, once every arg checks out. */
interface NetworkSpec {
  name: string;
  cidr: string;
  zoneCount: number;
  natGateways: "single" | "perZone";
  retentionDays: number;
  trafficType: "ACCEPT" | "REJECT" | "ALL";
  publicCidrs: string[];
  privateCidrs: string[];
  /** `kubernetes.io/cluster/<clusterName>: shared` on every subnet, or nothing. */
  clusterTag: Record<string, string>;
  tags: Record<string, string>;
}

/** Checks every arg and computes the subnet layout; throws ComponentArgsError listing every problem. */
function normalize(name: string, args: NetworkArgs): NetworkSpec {
  const problems = networkArgProblems(args);
  if (problems.length > 0) throw new ComponentArgsError("Network", name, problems);
  const zoneCount = args.availabilityZoneCount ?? 3;
  const zones = [...Array(zoneCount).keys()];
  return {
    name,
    cidr: args.cidr,
    zoneCount,
    natGateways: args.natGateways ?? "perZone",
    retentionDays: args.flowLogRetentionDays ?? 365,
    trafficType: args.flowLogTrafficType ?? "ALL",
    privateCidrs: zones.map((i) => subnetCidr(args.cidr, 3, i)),
    publicCidrs: zones.map((i) => subnetCidr(args.cidr, 6, 48 + i)),
    clusterTag: args.clusterName ? { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" } : {},
    tags: args.tags ?? {},
  };
}

/** Every problem with Network's args (the one place they are checked). */
function networkArgProblems(args: NetworkArgs): string[] {
  const problems: string[] = [];
  const zoneCount = args.availabilityZoneCount ?? 3;
  const natGateways = args.natGateways ?? "perZone";
  const retentionDays = args.flowLogRetentionDays ?? 365;

  const cidrProblem =
    typeof args.cidr === "string" ? ipv4CidrProblem(args.cidr) : "cidr must be a string such as 10.0.0.0/16";
  const prefix = cidrProblem ? undefined : parseIpv4Cidr(args.cidr)?.prefix;
  if (cidrProblem) problems.push(`cidr: ${cidrProblem}`);
  else if (prefix !== undefined && (prefix < 16 || prefix > 20))
    problems.push(
      `cidr: a /16 to /20 block (private subnets are 3 bits longer, public ones 6), found /${prefix}`,
    );

  if (!Number.isInteger(zoneCount) || zoneCount < 1 || zoneCount > MAX_ZONES)
    problems.push(`availabilityZoneCount: a whole number from 1 to ${MAX_ZONES}, found ${zoneCount}`);
  if (natGateways !== "single" && natGateways !== "perZone")
    problems.push(`natGateways: "single" or "perZone", found ${JSON.stringify(natGateways)}`);
  else if (natGateways === "perZone" && zoneCount < 2)
    problems.push(
      `natGateways: "perZone" needs at least 2 availability zones (found availabilityZoneCount ${zoneCount}); use "single" or add zones`,
    );
  if (!CLOUDWATCH_RETENTION_DAYS.includes(retentionDays))
    problems.push(
      `flowLogRetentionDays: a CloudWatch retention period (${CLOUDWATCH_RETENTION_DAYS.join(", ")}), found ${retentionDays}`,
    );
  if (args.clusterName !== undefined && !/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(args.clusterName))
    problems.push(
      `clusterName: an EKS cluster name (letters, digits, '-' and '_', at most 100), found ${JSON.stringify(args.clusterName)}`,
    );
  for (const [key, value] of Object.entries(args.tags ?? {})) {
    if (key.length > 128 || key.startsWith("aws:"))
      problems.push(`tags.${key}: tag keys are at most 128 characters and must not start with "aws:"`);
    if (typeof value !== "string" || value.length > 256)
      problems.push(`tags.${key}: a string of at most 256 characters`);
  }
  return problems;
}

/** `tags`, then `extra`, under the child's own `Name`. */
function tagged(spec: NetworkSpec, suffix: string, extra: Record<string, string> = {}) {
  return { ...spec.tags, ...extra, Name: childName(spec.name, suffix) };
}

/** The first `zoneCount` available zones that need no opt-in; too few fails the deployment. */
function lookUpZones(spec: NetworkSpec, parent: pulumi.Resource): pulumi.Output<string[]> {
  const { name, zoneCount } = spec;
  const zones = aws.getAvailabilityZonesOutput(
    { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
    { parent },
  );
  return zones.names.apply((names) => {
    if (names.length < zoneCount) {
      throw new Error(
        `Network "${name}": availabilityZoneCount is ${zoneCount} but the region offers ${names.length} zones (${names.join(", ")})`,
      );
    }
    return names.slice(0, zoneCount);
  });
}

function createVpc(spec: NetworkSpec, parent: pulumi.Resource): aws.ec2.Vpc {
  const vpc = new aws.ec2.Vpc(
    childName(spec.name, "vpc"),
    { cidrBlock: spec.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tagged(spec, "vpc") },
    { parent },
  );
  // CIS AWS 5.4: the default security group allows nothing; every workload gets its own group.
  new aws.ec2.DefaultSecurityGroup(
    childName(spec.name, "default-sg"),
    { vpcId: vpc.id, tags: tagged(spec, "default-sg") },
    { parent },
  );
  return vpc;
}

function createInternetGateway(
  spec: NetworkSpec,
  vpc: aws.ec2.Vpc,
  parent: pulumi.Resource,
): aws.ec2.InternetGateway {
  return new aws.ec2.InternetGateway(
    childName(spec.name, "igw"),
    { vpcId: vpc.id, tags: tagged(spec, "igw") },
    { parent },
  );
}

/** One public and one private subnet per zone, tagged for the AWS Load Balancer Controller's discovery. */
function createSubnets(
  spec: NetworkSpec,
  vpc: aws.ec2.Vpc,
  zones: pulumi.Output<string[]>,
  parent: pulumi.Resource,
): { public: aws.ec2.Subnet[]; private: aws.ec2.Subnet[] } {
  const subnet = (suffix: string, cidrBlock: string, i: number, extra: Record<string, string>) =>
    new aws.ec2.Subnet(
      childName(spec.name, suffix),
      {
        vpcId: vpc.id,
        cidrBlock,
        availabilityZone: zones.apply((names) => names[i] as string),
        mapPublicIpOnLaunch: false,
        tags: tagged(spec, suffix, { ...spec.clusterTag, ...extra }),
      },
      { parent },
    );
  return {
    public: spec.publicCidrs.map((cidr, i) =>
      subnet(`public-${i}`, cidr, i, { "kubernetes.io/role/elb": "1", tier: "public" }),
    ),
    private: spec.privateCidrs.map((cidr, i) =>
      subnet(`private-${i}`, cidr, i, { "kubernetes.io/role/internal-elb": "1", tier: "private" }),
    ),
  };
}

/** Public routing: one table, default route to the internet gateway. */
function createPublicRouting(
  spec: NetworkSpec,
  vpc: aws.ec2.Vpc,
  igw: aws.ec2.InternetGateway,
  subnets: aws.ec2.Subnet[],
  parent: pulumi.Resource,
): void {
  const table = new aws.ec2.RouteTable(
    childName(spec.name, "public-rt"),
    { vpcId: vpc.id, tags: tagged(spec, "public-rt") },
    { parent },
  );
  new aws.ec2.Route(
    childName(spec.name, "public-default"),
    { routeTableId: table.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
    { parent },
  );
  subnets.forEach(
    (subnet, i) =>
      new aws.ec2.RouteTableAssociation(
        childName(spec.name, `public-${i}`),
        { subnetId: subnet.id, routeTableId: table.id },
        { parent },
      ),
  );
}

/** NAT: one per zone, or one in the first zone shared by all private subnets. */
function createNatGateways(
  spec: NetworkSpec,
  igw: aws.ec2.InternetGateway,
  publicSubnets: aws.ec2.Subnet[],
  parent: pulumi.Resource,
): { eips: aws.ec2.Eip[]; gateways: aws.ec2.NatGateway[] } {
  const natCount = spec.natGateways === "perZone" ? spec.zoneCount : 1;
  const eips: aws.ec2.Eip[] = [];
  const gateways: aws.ec2.NatGateway[] = [];
  for (let i = 0; i < natCount; i++) {
    const eip = new aws.ec2.Eip(
      childName(spec.name, `nat-${i}`),
      { domain: "vpc", tags: tagged(spec, `nat-${i}`) },
      { parent, dependsOn: [igw] },
    );
    eips.push(eip);
    gateways.push(
      new aws.ec2.NatGateway(
        childName(spec.name, `nat-${i}`),
        {
          allocationId: eip.id,
          subnetId: (publicSubnets[i] as aws.ec2.Subnet).id,
          connectivityType: "public",
          tags: tagged(spec, `nat-${i}`),
        },
        { parent, dependsOn: [igw] },
      ),
    );
  }
  return { eips, gateways };
}

/** Private routing: one table per zone, so switching to perZone NAT only changes routes. */
function createPrivateRouting(
  spec: NetworkSpec,
  vpc: aws.ec2.Vpc,
  nats: aws.ec2.NatGateway[],
  subnets: aws.ec2.Subnet[],
  parent: pulumi.Resource,
): aws.ec2.RouteTable[] {
  return subnets.map((subnet, i) => {
    const table = new aws.ec2.RouteTable(
      childName(spec.name, `private-rt-${i}`),
      { vpcId: vpc.id, tags: tagged(spec, `private-rt-${i}`) },
      { parent },
    );
    const nat = nats[spec.natGateways === "perZone" ? i : 0] as aws.ec2.NatGateway;
    new aws.ec2.Route(
      childName(spec.name, `private-default-${i}`),
      { routeTableId: table.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id },
      { parent },
    );
    new aws.ec2.RouteTableAssociation(
      childName(spec.name, `private-${i}`),
      { subnetId: subnet.id, routeTableId: table.id },
      { parent },
    );
    return table;
  });
}

/**
 * S3 (gateway endpoint on the private route tables: free, and backups no longer pay NAT processing or
 * leave through it) and STS (interface endpoint in the private subnets with private DNS: IRSA and Pod
 * Identity token exchanges stay in the VPC). The STS endpoint admits HTTPS from the VPC only.
 */
function createServiceEndpoints(
  spec: NetworkSpec,
  vpc: aws.ec2.Vpc,
  privateTables: aws.ec2.RouteTable[],
  subnets: aws.ec2.Subnet[],
  parent: pulumi.Resource,
): void {
  const region = aws.getRegionOutput({}, { parent }).region;
  new aws.ec2.VpcEndpoint(
    childName(spec.name, "s3"),
    {
      vpcId: vpc.id,
      serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: privateTables.map((t) => t.id),
      tags: tagged(spec, "s3"),
    },
    { parent },
  );
  const endpointSg = new aws.ec2.SecurityGroup(
    childName(spec.name, "endpoints"),
    {
      vpcId: vpc.id,
      description: "Interface VPC endpoints: HTTPS from the VPC",
      ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [spec.cidr] }],
      tags: tagged(spec, "endpoints"),
    },
    { parent },
  );
  new aws.ec2.VpcEndpoint(
    childName(spec.name, "sts"),
    {
      vpcId: vpc.id,
      serviceName: pulumi.interpolate`com.amazonaws.${region}.sts`,
      vpcEndpointType: "Interface",
      privateDnsEnabled: true,
      subnetIds: subnets.map((s) => s.id),
      securityGroupIds: [endpointSg.id],
      tags: tagged(spec, "sts"),
    },
    { parent },
  );
}

/** Flow logs → CloudWatch, delivered by a role only the flow-logs service of this account can assume. */
function createFlowLogs(
  spec: NetworkSpec,
  vpc: aws.ec2.Vpc,
  parent: pulumi.Resource,
): aws.cloudwatch.LogGroup {
  const { name } = spec;
  const logGroup = new aws.cloudwatch.LogGroup(
    childName(name, "flow-logs"),
    { retentionInDays: spec.retentionDays, tags: tagged(spec, "flow-logs") },
    { parent },
  );
  const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
  const role = new aws.iam.Role(
    childName(name, "flow-logs"),
    {
      description: `Delivers VPC flow logs of ${name} to CloudWatch Logs`,
      assumeRolePolicy: account.apply((accountId) => JSON.stringify(flowLogsTrustPolicy(accountId))),
      tags: tagged(spec, "flow-logs"),
    },
    { parent },
  );
  new aws.iam.RolePolicy(
    childName(name, "flow-logs"),
    {
      role: role.id,
      policy: logGroup.arn.apply((arn) => JSON.stringify(flowLogsDeliveryPolicy(arn))),
    },
    { parent },
  );
  new aws.ec2.FlowLog(
    childName(name, "flow-log"),
    {
      vpcId: vpc.id,
      trafficType: spec.trafficType,
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags: tagged(spec, "flow-log"),
    },
    { parent },
  );
  return logGroup;
}

function flowLogsTrustPolicy(accountId: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "vpc-flow-logs.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  };
}

function flowLogsDeliveryPolicy(logGroupArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
      },
      // DescribeLogGroups supports no resource-level permission: granted on a log group's ARN it never
      // takes effect. It reveals names and settings of the account's log groups, not their events.
      { Effect: "Allow", Action: ["logs:DescribeLogGroups"], Resource: "*" },
    ],
  };
}
