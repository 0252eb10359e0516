/**
 * Monthly cost of a stack, from the sizes the program itself sends: node groups, NAT gateways and
 * public IPv4 addresses, the EKS control plane, RDS (instance class, Multi-AZ, storage), ElastiCache
 * nodes, Amazon MQ brokers, load balancers, KMS keys and EBS volumes (node root volumes, StatefulSet
 * volume claims, the volumes Helm charts ask for), plus backup storage as a stated assumption.
 *
 * Input is what the render records (a resource's type, name, URN, parent and inputs), so the model
 * prices a rendered `inventory.json` as well as a live run: the review compares two commits' inventories
 * with one price table. Kubernetes volumes cost money only on a cluster we run on AWS; a stack with no
 * EKS cluster prices them at nothing (a local cluster's disks are not billed).
 */
import { indexByUrn, owningComponent, type OwnedResource } from "../resource-graph";
import type { PriceTable } from "./prices";

/** A resource as the render records it; `inputs` with secrets already redacted (sizes are not secret). */
export interface PricedResource extends OwnedResource {
  inputs: unknown;
  /** URNs this resource depends on (finds a node group's launch template). */
  dependencies?: readonly string[];
}

export interface LineItem {
  /** Owning component (`<Class>-<name>`), as in the manifest file names. */
  component: string;
  /** Resource name (the Pulumi name), plus a path inside it where one resource holds several volumes. */
  resource: string;
  /** What is billed, e.g. `3 × m5.large (desired; scales 3–10)`. */
  item: string;
  /** Which charge of its resource this is (`instances`, `storage`...): its identity across commits. */
  kind: string;
  quantity: number;
  unit: string;
  unitPrice: number;
  /** quantity × unitPrice, in cents (whole numbers, so sums never drift). */
  monthlyCents: number;
}

export interface CostReport {
  stack: string;
  /** The stack's AWS region, when it deploys to AWS and says so. */
  region?: string;
  prices: Pick<PriceTable, "region" | "currency" | "date" | "source" | "hoursPerMonth">;
  items: LineItem[];
  totalCents: number;
  /** The usage assumptions the figures rest on, in words. */
  assumptions: string[];
  /** Billed things the model could not price (a size the table has no figure for). */
  unpriced: string[];
}

/** Billed, but usage-driven and not modelled; printed with every report so nobody reads the total as all-in. */
export const NOT_MODELLED = [
  "data transfer (internet egress, cross-AZ traffic)",
  "CloudWatch Logs ingestion and storage (EKS control-plane logs, VPC flow logs, RDS and broker logs)",
  "Amazon MQ broker storage and ElastiCache snapshot storage beyond the free allowance",
  "ECR image storage, Route 53, ACM (free for public certificates), support plans, taxes, discounts",
];

export function costReport(
  stack: string,
  resources: readonly PricedResource[],
  prices: PriceTable,
  region?: string,
): CostReport {
  const byUrn = indexByUrn(resources);
  const onAws = resources.some((r) => r.type === "aws:eks/cluster:Cluster");
  const ctx: PricingContext = { prices, resources, onAws, defaultVolumeType: defaultVolumeType(resources) };
  const items: LineItem[] = [];
  const unpriced: string[] = [];
  for (const r of [...resources].sort((a, b) => a.urn.localeCompare(b.urn))) {
    const pricer = PRICERS[r.type];
    if (!pricer) continue;
    const component = owningComponent(r, byUrn);
    for (const charge of pricer(r, inputsOf(r), ctx)) {
      if ("unpriced" in charge) {
        unpriced.push(`${component} ${r.name}: ${charge.unpriced}`);
        continue;
      }
      items.push({
        component,
        resource: charge.path ? `${r.name} ${charge.path}` : r.name,
        item: charge.item,
        kind: charge.kind,
        quantity: charge.quantity,
        unit: charge.unit,
        unitPrice: charge.unitPrice,
        monthlyCents: Math.round(charge.quantity * charge.unitPrice * 100),
      });
    }
  }
  items.sort(
    (a, b) =>
      a.component.localeCompare(b.component) ||
      a.resource.localeCompare(b.resource) ||
      a.item.localeCompare(b.item),
  );
  const { region: priceRegion, currency, date, source, hoursPerMonth } = prices;
  return {
    stack,
    ...(region ? { region } : {}),
    prices: { region: priceRegion, currency, date, source, hoursPerMonth },
    items,
    totalCents: items.reduce((sum, i) => sum + i.monthlyCents, 0),
    assumptions: assumptionsOf(prices, region),
    unpriced,
  };
}

/** Monthly totals per component, most expensive first (ties by name). */
export function componentTotals(report: CostReport): { component: string; monthlyCents: number }[] {
  const totals = new Map<string, number>();
  for (const i of report.items) totals.set(i.component, (totals.get(i.component) ?? 0) + i.monthlyCents);
  return [...totals]
    .map(([component, monthlyCents]) => ({ component, monthlyCents }))
    .sort((a, b) => b.monthlyCents - a.monthlyCents || a.component.localeCompare(b.component));
}

// ── Pricers: one per billed resource type ────────────────────────────────────────────────────────

type Charge =
  | { kind: string; item: string; quantity: number; unit: string; unitPrice: number; path?: string }
  | { unpriced: string };

interface PricingContext {
  prices: PriceTable;
  resources: readonly PricedResource[];
  onAws: boolean;
  defaultVolumeType: string;
}

type Inputs = Record<string, unknown>;
type Pricer = (r: PricedResource, inputs: Inputs, ctx: PricingContext) => Charge[];

const PRICERS: Record<string, Pricer> = {
  "aws:eks/cluster:Cluster": (_r, inputs, { prices }) => {
    const extended =
      (inputs.upgradePolicy as { supportType?: string } | undefined)?.supportType === "EXTENDED";
    return [
      hourly(
        "control plane",
        extended ? "EKS control plane (extended support)" : "EKS control plane",
        1,
        extended ? prices.eks.extendedSupportClusterHour : prices.eks.clusterHour,
        prices,
      ),
    ];
  },
  "aws:eks/nodeGroup:NodeGroup": priceNodeGroup,
  "aws:ec2/natGateway:NatGateway": (_r, _inputs, { prices }) => {
    const gb = prices.assumptions.natGatewayGbPerMonth;
    return [
      hourly("gateway hours", "NAT gateway", 1, prices.vpc.natGatewayHour, prices),
      {
        kind: "data processed",
        item: `NAT data processed (assumed ${gb} GB)`,
        quantity: gb,
        unit: "GB",
        unitPrice: prices.vpc.natGatewayGb,
      },
    ];
  },
  "aws:ec2/eip:Eip": (_r, _inputs, { prices }) => [
    hourly("address hours", "public IPv4 address", 1, prices.vpc.publicIpv4Hour, prices),
  ],
  "aws:kms/key:Key": (_r, _inputs, { prices }) => [
    {
      kind: "key",
      item: "KMS customer managed key",
      quantity: 1,
      unit: "key-month",
      unitPrice: prices.kms.keyMonth,
    },
  ],
  "aws:rds/instance:Instance": priceRdsInstance,
  "aws:elasticache/replicationGroup:ReplicationGroup": (_r, inputs, { prices }) => {
    const nodeType = String(inputs.nodeType);
    const nodes = elastiCacheNodeCount(inputs);
    const price = prices.elasticache.nodeHour[nodeType];
    if (price === undefined) return [missingPrice("elasticache.nodeHour", nodeType)];
    return [
      hourly("nodes", `${nodes} × ${nodeType} cache node${nodes === 1 ? "" : "s"}`, nodes, price, prices),
    ];
  },
  "aws:mq/broker:Broker": (_r, inputs, { prices }) => {
    const type = String(inputs.hostInstanceType);
    // A RabbitMQ cluster deployment runs three broker nodes across zones.
    const nodes = inputs.deploymentMode === "CLUSTER_MULTI_AZ" ? 3 : 1;
    const price = prices.mq.rabbitmqInstanceHour[type];
    if (price === undefined) return [missingPrice("mq.rabbitmqInstanceHour", type)];
    return [hourly("nodes", `${nodes} × ${type} broker node${nodes === 1 ? "" : "s"}`, nodes, price, prices)];
  },
  "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy": (_r, inputs, ctx) => {
    const service = (inputs.spec as { provider?: { kubernetes?: { envoyService?: unknown } } } | undefined)
      ?.provider?.kubernetes?.envoyService as
      { type?: string; annotations?: Record<string, string> } | undefined;
    return service?.type === "LoadBalancer" && ctx.onAws ? networkLoadBalancer(ctx.prices) : [];
  },
  "kubernetes:core/v1:Service": (_r, inputs, ctx) =>
    (inputs.spec as { type?: string } | undefined)?.type === "LoadBalancer" && ctx.onAws
      ? networkLoadBalancer(ctx.prices)
      : [],
  "kubernetes:apps/v1:StatefulSet": (_r, inputs, ctx) => {
    const spec = (inputs.spec ?? {}) as { replicas?: number; volumeClaimTemplates?: ClaimTemplate[] };
    const replicas = spec.replicas ?? 1;
    return (spec.volumeClaimTemplates ?? []).flatMap((claim) => [
      ...volumeCharges(`volume ${claim.metadata?.name ?? "?"}`, claim.spec, replicas, ctx),
      ...backupCharges(`volume ${claim.metadata?.name ?? "?"}`, claim.spec, replicas, ctx),
    ]);
  },
  "kubernetes:core/v1:PersistentVolumeClaim": (_r, inputs, ctx) =>
    volumeCharges("", inputs.spec as ClaimSpec | undefined, 1, ctx),
  "kubernetes:helm.sh/v3:Release": (_r, inputs, ctx) =>
    helmVolumes(inputs.values).flatMap((v) => volumeCharges(v.path, v.spec, v.replicas, ctx)),
};

function hourly(kind: string, item: string, count: number, price: number, prices: PriceTable): Charge {
  return { kind, item, quantity: count * prices.hoursPerMonth, unit: "hour", unitPrice: price };
}

function missingPrice(table: string, size: string): Charge {
  return { unpriced: `no price for "${size}" in ${table} (add it to the price table or a --prices file)` };
}

function priceNodeGroup(r: PricedResource, inputs: Inputs, ctx: PricingContext): Charge[] {
  const { prices } = ctx;
  const scaling = (inputs.scalingConfig ?? {}) as {
    desiredSize?: number;
    minSize?: number;
    maxSize?: number;
  };
  const nodes = scaling.desiredSize ?? scaling.minSize ?? 0;
  const type = String((inputs.instanceTypes as string[] | undefined)?.[0] ?? "t3.medium");
  const spot = inputs.capacityType === "SPOT";
  const range = `desired; scales ${scaling.minSize ?? nodes}–${scaling.maxSize ?? nodes}`;
  const charges: Charge[] = [];
  const price = prices.ec2.instanceHour[type];
  if (spot) charges.push({ unpriced: `${type} spot capacity (spot prices vary; not modelled)` });
  else if (price === undefined) charges.push(missingPrice("ec2.instanceHour", type));
  else charges.push(hourly("nodes", `${nodes} × ${type} (${range})`, nodes, price, prices));
  const root = nodeRootVolume(r, inputs, ctx.resources);
  const ebs = prices.ebs.gbMonth[root.type];
  if (ebs === undefined) charges.push(missingPrice("ebs.gbMonth", root.type));
  else
    charges.push({
      kind: "root volumes",
      item: `${nodes} × ${root.sizeGb} GB ${root.type} node root volume`,
      quantity: nodes * root.sizeGb,
      unit: "GB-month",
      unitPrice: ebs,
    });
  return charges;
}

/** The node root volume: from the node group's launch template when it has one, else its diskSize. */
function nodeRootVolume(
  r: PricedResource,
  inputs: Inputs,
  resources: readonly PricedResource[],
): { sizeGb: number; type: string } {
  // The launch template is a property dependency of the node group (its id feeds launchTemplate.id).
  const dependencies = new Set(r.dependencies ?? []);
  const template = inputs.launchTemplate
    ? resources.find((t) => t.type === "aws:ec2/launchTemplate:LaunchTemplate" && dependencies.has(t.urn))
    : undefined;
  const ebs = (
    inputsOf(template ?? r).blockDeviceMappings as
      { ebs?: { volumeSize?: number; volumeType?: string } }[] | undefined
  )?.[0]?.ebs;
  if (ebs?.volumeSize) return { sizeGb: ebs.volumeSize, type: ebs.volumeType ?? "gp3" };
  // EKS managed node groups default to a 20 GB gp2 root volume without a launch template.
  return { sizeGb: Number(inputs.diskSize ?? 20), type: "gp2" };
}

function priceRdsInstance(_r: PricedResource, inputs: Inputs, { prices }: PricingContext): Charge[] {
  const cls = String(inputs.instanceClass);
  const multiAz = inputs.multiAz === true;
  const factor = multiAz ? prices.rds.multiAzFactor : 1;
  const deployment = multiAz ? "Multi-AZ" : "Single-AZ";
  const storageGb = Number(inputs.allocatedStorage ?? 0);
  const storageType = typeof inputs.storageType === "string" ? inputs.storageType : "gp2";
  const charges: Charge[] = [];
  const instance = prices.rds.postgresInstanceHour[cls];
  if (instance === undefined) charges.push(missingPrice("rds.postgresInstanceHour", cls));
  else charges.push(hourly("instance", `${cls} PostgreSQL, ${deployment}`, factor, instance, prices));
  const storage = prices.rds.storageGbMonth[storageType];
  if (storage === undefined) charges.push(missingPrice("rds.storageGbMonth", storageType));
  else
    charges.push({
      kind: "storage",
      item: `${storageGb} GB ${storageType} storage, ${deployment}`,
      quantity: storageGb * factor,
      unit: "GB-month",
      unitPrice: storage,
    });
  const backupGb = storageGb * prices.assumptions.rdsBackupBeyondFreeFraction;
  if (backupGb > 0)
    charges.push({
      kind: "backups",
      item: `backup storage beyond the free allowance (assumed ${formatNumber(backupGb)} GB)`,
      quantity: backupGb,
      unit: "GB-month",
      unitPrice: prices.rds.backupGbMonth,
    });
  return charges;
}

/** Nodes of a replication group: cluster mode (shards × (1 + replicas)) or numCacheClusters. */
export function elastiCacheNodeCount(inputs: Inputs): number {
  if (typeof inputs.numNodeGroups === "number")
    return inputs.numNodeGroups * (1 + Number(inputs.replicasPerNodeGroup ?? 0));
  return Number(inputs.numCacheClusters ?? 1);
}

function networkLoadBalancer(prices: PriceTable): Charge[] {
  const nlcu = prices.assumptions.nlcuPerLoadBalancer;
  return [
    hourly("load balancer", "Network Load Balancer", 1, prices.elb.nlbHour, prices),
    hourly("capacity units", `NLB capacity units (assumed ${nlcu} NLCU)`, nlcu, prices.elb.nlcuHour, prices),
  ];
}

// ── Volumes ──────────────────────────────────────────────────────────────────────────────────────

interface ClaimSpec {
  storageClassName?: string;
  resources?: { requests?: { storage?: string } };
}
interface ClaimTemplate {
  metadata?: { name?: string };
  spec?: ClaimSpec;
}

function volumeCharges(
  path: string,
  spec: ClaimSpec | undefined,
  replicas: number,
  ctx: PricingContext,
): Charge[] {
  const size = spec?.resources?.requests?.storage;
  if (!ctx.onAws || !size) return [];
  const gb = quantityToGiB(size);
  const type = volumeTypeOf(spec?.storageClassName, ctx);
  const price = ctx.prices.ebs.gbMonth[type];
  if (price === undefined) return [missingPrice("ebs.gbMonth", type)];
  return [
    {
      path,
      kind: "volumes",
      item: `${replicas} × ${size} ${type} volume`,
      quantity: replicas * gb,
      unit: "GB-month",
      unitPrice: price,
    },
  ];
}

/** In-cluster stores keep backups off the cluster: a stated number of full copies on S3. */
function backupCharges(
  path: string,
  spec: ClaimSpec | undefined,
  replicas: number,
  ctx: PricingContext,
): Charge[] {
  const size = spec?.resources?.requests?.storage;
  const copies = ctx.prices.assumptions.inClusterBackupCopies;
  if (!ctx.onAws || !size || copies === 0) return [];
  return [
    {
      path,
      kind: "backups",
      item: `S3 backups (assumed ${formatNumber(copies)} full cop${copies === 1 ? "y" : "ies"} of ${replicas} × ${size})`,
      quantity: copies * replicas * quantityToGiB(size),
      unit: "GB-month",
      unitPrice: ctx.prices.s3.standardGbMonth,
    },
  ];
}

/** The EBS volume type of a storage class in the stack (its `parameters.type`), else the default class's. */
function volumeTypeOf(storageClassName: string | undefined, ctx: PricingContext): string {
  if (!storageClassName) return ctx.defaultVolumeType;
  const sc = ctx.resources.find(
    (r) =>
      r.type === "kubernetes:storage.k8s.io/v1:StorageClass" &&
      (inputsOf(r).metadata as { name?: string } | undefined)?.name === storageClassName,
  );
  return String(
    (inputsOf(sc ?? { inputs: {} }).parameters as { type?: string } | undefined)?.type ??
      ctx.defaultVolumeType,
  );
}

/** The default StorageClass's EBS type; gp2 (EKS's own default class) when the stack makes none. */
function defaultVolumeType(resources: readonly PricedResource[]): string {
  const sc = resources.find((r) => {
    if (r.type !== "kubernetes:storage.k8s.io/v1:StorageClass") return false;
    const annotations = (inputsOf(r).metadata as { annotations?: Record<string, string> } | undefined)
      ?.annotations;
    return annotations?.["storageclass.kubernetes.io/is-default-class"] === "true";
  });
  return String((inputsOf(sc ?? { inputs: {} }).parameters as { type?: string } | undefined)?.type ?? "gp2");
}

/**
 * Volumes a Helm release's values ask for, in the two shapes our charts use: a Prometheus-Operator
 * `volumeClaimTemplate` (replicas from the enclosing spec) and a `persistence: { enabled, size }` block
 * (replicas from the enclosing values, 1 by default).
 */
export function helmVolumes(values: unknown): { path: string; spec: ClaimSpec; replicas: number }[] {
  const found: { path: string; spec: ClaimSpec; replicas: number }[] = [];
  const walk = (node: unknown, path: string[], replicas: number): void => {
    if (!node || typeof node !== "object" || Array.isArray(node)) return;
    const o = node as Record<string, unknown>;
    const here =
      typeof o.replicas === "number"
        ? o.replicas
        : typeof o.replicaCount === "number"
          ? o.replicaCount
          : replicas;
    for (const [key, value] of Object.entries(o)) {
      const at = [...path, key];
      const v = value as Record<string, unknown> | undefined;
      if (key === "volumeClaimTemplate" && v?.spec)
        found.push({ path: at.join("."), spec: v.spec, replicas: here });
      else if (key === "persistence" && v?.enabled === true && typeof v.size === "string")
        found.push({
          path: at.join("."),
          spec: {
            resources: { requests: { storage: v.size } },
            ...(typeof v.storageClassName === "string" ? { storageClassName: v.storageClassName } : {}),
          },
          replicas: here,
        });
      else walk(value, at, here);
    }
  };
  walk(values, [], 1);
  return found;
}

const UNIT_BYTES: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** A Kubernetes storage quantity (`10Gi`, `500Mi`, `1T`) in GiB, the unit EBS bills as "GB". */
export function quantityToGiB(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  const factor = match ? UNIT_BYTES[match[2] ?? ""] : undefined;
  if (!match || factor === undefined) throw new Error(`not a storage quantity: "${quantity}"`);
  return (Number(match[1]) * factor) / 2 ** 30;
}

function assumptionsOf(prices: PriceTable, region: string | undefined): string[] {
  const a = prices.assumptions;
  return [
    `${prices.hoursPerMonth} hours a month; on-demand prices, before tax, credits and savings plans.`,
    "Node groups run at their desired size (autoscaling can add nodes up to the maximum shown).",
    `Each NAT gateway processes ${a.natGatewayGbPerMonth} GB a month.`,
    `Each load balancer uses ${a.nlcuPerLoadBalancer} NLCU on average.`,
    `RDS backups beyond the free allowance: ${a.rdsBackupBeyondFreeFraction} × allocated storage.`,
    `In-cluster volumes of StatefulSets keep ${a.inClusterBackupCopies} full backup cop${a.inClusterBackupCopies === 1 ? "y" : "ies"} on S3 Standard.`,
    ...(region && region !== prices.region
      ? [
          `The stack deploys to ${region}, the price table is for ${prices.region}: figures are indicative only.`,
        ]
      : []),
  ];
}

function inputsOf(r: { inputs: unknown }): Inputs {
  return r.inputs && typeof r.inputs === "object" ? (r.inputs as Inputs) : {};
}

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/\.?0+$/, "");
}
