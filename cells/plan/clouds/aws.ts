import { z } from "zod";
import { Problem } from "../model";
import { NameRule } from "../naming";
import { CloudFace, CloudRules, KubernetesRelease, PoolShape, ThrottleText } from "./types";
// Tenant services (a pool of one: the region's account): its own file, composed here.
import { awsServicePool, awsServicesSchema } from "./awsServices";

/*
 * AWS's pure face: subnet and node-group rules, physical-name rules, VM defaults,
 * the AWS-only Helm charts and the `cellplane:aws` config slice. The build face is
 * providers/aws. Sources: ../shared/guide/cloud-facts.md, the EKS user guide
 * ("Amazon EKS service quotas", "Create a cluster"), the EC2 user guide ("Maximum IP
 * addresses per network interface") and Cilium's ENI IPAM docs.
 */

/** EKS and EC2 limits cellplane designs against (default quotas; EKS user guide "service quotas"). */
export const EKS_LIMITS = {
  /** Managed node groups per cluster. */
  nodeGroupsPerCluster: 30,
  /** Nodes per managed node group. */
  nodesPerNodeGroup: 450,
  /** Inbound (and, separately, outbound) rules per security group; each CIDR or group source counts as one. */
  rulesPerSecurityGroup: 60,
  /** Security groups per network interface. */
  securityGroupsPerInterface: 5,
} as const;

/**
 * AZ IDs where EKS does not place control planes (EKS user guide, "Create a
 * cluster": subnets in these zones are rejected). Our control planes use every
 * zone's node subnet, so a cell cannot use them.
 */
export const EKS_UNSUPPORTED_AZ_IDS: readonly string[] = ["use1-az3", "usw1-az2", "cac1-az3"];

/**
 * Network interfaces and IPv4 addresses per interface of the instance types we
 * size (EC2 user guide, "Maximum IP addresses per network interface"). An unknown
 * type is refused at validation rather than guessed.
 */
export const ENI_LIMITS: Readonly<Record<string, { enis: number; ipsPerEni: number }>> = {
  "m5.large": { enis: 3, ipsPerEni: 10 },
  "m5.xlarge": { enis: 4, ipsPerEni: 15 },
  "m5.2xlarge": { enis: 4, ipsPerEni: 15 },
  "m5.4xlarge": { enis: 8, ipsPerEni: 30 },
  "m5.8xlarge": { enis: 8, ipsPerEni: 30 },
  "m5.12xlarge": { enis: 8, ipsPerEni: 30 },
  "m5.16xlarge": { enis: 15, ipsPerEni: 50 },
  "m5.24xlarge": { enis: 15, ipsPerEni: 50 },
  "m6i.large": { enis: 3, ipsPerEni: 10 },
  "m6i.xlarge": { enis: 4, ipsPerEni: 15 },
  "m6i.2xlarge": { enis: 4, ipsPerEni: 15 },
  "m6i.4xlarge": { enis: 8, ipsPerEni: 30 },
  "m6i.8xlarge": { enis: 8, ipsPerEni: 30 },
  "r5.large": { enis: 3, ipsPerEni: 10 },
  "r5.xlarge": { enis: 4, ipsPerEni: 15 },
  "r5.2xlarge": { enis: 4, ipsPerEni: 15 },
  "r5.4xlarge": { enis: 8, ipsPerEni: 30 },
  "r5.8xlarge": { enis: 8, ipsPerEni: 30 },
  "r5.12xlarge": { enis: 8, ipsPerEni: 30 },
  "r5.16xlarge": { enis: 15, ipsPerEni: 50 },
  "c5.large": { enis: 3, ipsPerEni: 10 },
  "c5.xlarge": { enis: 4, ipsPerEni: 15 },
  "c5.2xlarge": { enis: 4, ipsPerEni: 15 },
  "c5.4xlarge": { enis: 8, ipsPerEni: 30 },
};

/**
 * The first interface Cilium gives pods addresses from. The node's own interface
 * (index 0) sits in the node subnet; pods take addresses from ENIs Cilium attaches
 * in the role's pod subnets.
 */
export const CILIUM_FIRST_INTERFACE_INDEX = 1;

/**
 * Most pods a node of `instanceType` can address in Cilium ENI mode without
 * prefix delegation: every interface from CILIUM_FIRST_INTERFACE_INDEX on, each
 * with its secondary addresses (the primary is the interface's own), plus two
 * host-network pods (the EKS max-pods formula with the first interface left out).
 * Null for an instance type not in ENI_LIMITS.
 */
export function eniMaxPods(instanceType: string): number | null {
  const l = ENI_LIMITS[instanceType];
  return l ? (l.enis - CILIUM_FIRST_INTERFACE_INDEX) * (l.ipsPerEni - 1) + 2 : null;
}

function checkAwsPools(p: PoolShape): { field: string; message: string; fix: string }[] {
  const out: { field: string; message: string; fix: string }[] = [];
  for (const [field, type] of [["vmSize", p.vmSize], ["systemVmSize", p.systemVmSize]] as const) {
    const max = eniMaxPods(type);
    if (max === null) {
      out.push({ field, message: `instance type "${type}" has no known ENI limits, so its pod capacity cannot be checked`, fix: `use one of ${Object.keys(ENI_LIMITS).join(", ")}, or add the type to ENI_LIMITS in cells/plan/clouds/aws.ts` });
    } else if (p.maxPodsPerNode > max) {
      out.push({ field: "maxPodsPerNode", message: `${p.maxPodsPerNode} pods per node is more than a ${type} can address in Cilium ENI mode (${max}: interfaces ${CILIUM_FIRST_INTERFACE_INDEX}+ x secondary IPs + 2)`, fix: `use maxPodsPerNode ${max} or less, or a larger instance type for ${field}` });
    }
  }
  // One system and one user node group per zone.
  if (2 * p.zones > EKS_LIMITS.nodeGroupsPerCluster) {
    out.push({ field: "maxNodesPerZone", message: `${2 * p.zones} managed node groups (2 per zone) is above EKS's ${EKS_LIMITS.nodeGroupsPerCluster} per cluster`, fix: `use at most ${EKS_LIMITS.nodeGroupsPerCluster / 2} zones` });
  }
  return out;
}

/**
 * AWS AZ IDs are "<region code><n>-az<k>": us-west-2 -> usw2, ap-northeast-1 -> apne1.
 * The region code is the geography, the initials of the direction words and the number.
 */
export function awsRegionCode(region: string): string | null {
  const m = /^([a-z]{2})-([a-z]+)-(\d+)$/.exec(region);
  if (!m) return null;
  const dir = m[2]
    .replace(/north/g, "n")
    .replace(/south/g, "s")
    .replace(/east/g, "e")
    .replace(/west/g, "w")
    .replace(/central/g, "c");
  return `${m[1]}${dir}${m[3]}`;
}

const rules: CloudRules = {
  reservedPerSubnet: 5,
  // With prefix delegation; without it the ENI formula of the instance type is lower.
  maxPodsPerNode: 250,
  maxNodesPerPool: 450,
  smallestSubnetPrefix: 28,
  largestCellPrefix: 16,
  // Cilium ENI IPAM: one address per pod, plus the primary address of every ENI
  // Cilium attaches in the pod subnet (at most 9 pods per ENI on the smallest types).
  podAddressesPerNode: (maxPods) => maxPods + Math.ceil(maxPods / 9),
  podBlocksAreSecondaryRanges: false,
  nodeSubnetsAreZonal: true,
  publicSubnetAddresses: 64,
  checkZone: (zone, region) => {
    const code = awsRegionCode(region);
    if (!/^[a-z]{2,}[0-9]+-az[0-9]+$/.test(zone)) {
      return `"${zone}" is not an AWS AZ ID; use AZ IDs such as "${code ?? "usw2"}-az1" (not names like "${region}a") so peered accounts align physically`;
    }
    if (code !== null && !zone.startsWith(`${code}-az`)) {
      return `"${zone}" is not an AZ ID of ${region}; its AZ IDs start with "${code}-az"`;
    }
    if (EKS_UNSUPPORTED_AZ_IDS.includes(zone)) {
      return `"${zone}" cannot host EKS control planes (EKS rejects subnets in ${EKS_UNSUPPORTED_AZ_IDS.join(", ")}), and every zone's node subnet carries one`;
    }
    return null;
  },
  exampleZones: (region) => {
    const code = awsRegionCode(region) ?? "usw2";
    return [`${code}-az1`, `${code}-az2`, `${code}-az3`];
  },
  checkPools: checkAwsPools,
};

/** AWS's naming rules for the kinds of resources cellplane creates. */
export const AWS_NAME_RULES = {
  eksCluster: { min: 1, max: 100, pattern: /^[0-9A-Za-z][A-Za-z0-9\-_]*$/, says: "1-100 letters, digits, '-' and '_'" },
  nodeGroup: { min: 1, max: 63, pattern: /^[0-9A-Za-z][A-Za-z0-9\-_]*$/, says: "1-63 letters, digits, '-' and '_'" },
  iamRole: { min: 1, max: 64, pattern: /^[\w+=,.@-]+$/, says: "1-64 letters, digits and '+=,.@-_'" },
  /** GroupName: up to 255 characters, not starting with "sg-". */
  securityGroup: { min: 1, max: 255, pattern: /^(?!sg-)[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/, says: "1-255 characters, not starting with 'sg-'" },
  launchTemplate: { min: 3, max: 128, pattern: /^[a-zA-Z0-9().\-/_]+$/, says: "3-128 letters, digits and '().-/_'" },
  logGroup: { min: 1, max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/, says: "1-512 letters, digits and '.-_/#'" },
  kmsAlias: { min: 7, max: 256, pattern: /^alias\/[a-zA-Z0-9/_-]+$/, says: "alias/ then letters, digits and '/_-'" },
} as const satisfies Record<string, NameRule>;

/**
 * Helm charts only AWS cells install (the platform's own are in cells/plan/charts.ts):
 * Cilium (the CNI, ENI mode), the AWS Load Balancer Controller (the gateway's NLB)
 * and cluster-autoscaler. One place for their versions; the policy pack allows
 * their repositories.
 */
export const AWS_CHARTS = {
  cilium: { repo: "https://helm.cilium.io/", chart: "cilium", version: "1.19.5" },
  loadBalancerController: { repo: "https://aws.github.io/eks-charts", chart: "aws-load-balancer-controller", version: "1.14.0" },
  clusterAutoscaler: { repo: "https://kubernetes.github.io/autoscaler", chart: "cluster-autoscaler", version: "9.56.0" },
} as const;

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const AWS_DEFAULTS = { logRetentionDays: 90 } as const;

/** An IAM role ARN in any partition. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** `cellplane:aws`: settings only an AWS region has. Every key is in docs/config.md. */
export const awsConfigSchema = z
  .strictObject({
    deployerRoleArn: z.string().regex(ROLE_ARN, { error: "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)" }).optional(),
    logRetentionDays: z
      .int()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), { error: `must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}` })
      .default(AWS_DEFAULTS.logRetentionDays),
    // --- tenant services (cells/plan/clouds/awsServices.ts) ---
    services: awsServicesSchema,
  })
  .prefault({});

export type AwsSettings = z.output<typeof awsConfigSchema>;

function checkAwsConfig(raw: unknown): Problem[] {
  if ((raw as { deployerRoleArn?: unknown } | undefined)?.deployerRoleArn !== undefined) return [];
  return [
    {
      path: ["aws", "deployerRoleArn"],
      message: "an AWS region needs the IAM role that deploys the platform into its clusters (it gets an EKS access entry with cluster admin on each cluster)",
      fix: "pulumi config set --path cellplane:aws.deployerRoleArn arn:aws:iam::<account>:role/<role the SREs, CI and the control plane assume>",
    },
  ];
}

/** EKS's Kubernetes release calendar: end of standard support per minor (../shared/guide/cloud-facts.md, Nov 2026). */
const EKS_CALENDAR_SOURCE = "docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html (Amazon EKS Kubernetes release calendar)";
export const EKS_KUBERNETES_CALENDAR: readonly KubernetesRelease[] = [
  { minor: "1.34", endOfStandardSupport: "2026-12-02", source: EKS_CALENDAR_SOURCE },
  { minor: "1.35", endOfStandardSupport: "2027-03-27", source: EKS_CALENDAR_SOURCE },
];

/**
 * The AWS SDK's throttling codes, printed as "ThrottlingException: Rate exceeded",
 * "Throttling: Rate exceeded" (pulumi-aws#5939, aws/aws-sdk-js#412, pulumi-aws-native#690)
 * and EC2's "RequestLimitExceeded" (docs.aws.amazon.com, EC2 API "Request throttling").
 * The SDK retries them a few times itself; these are what it gave up on.
 */
const AWS_THROTTLING: readonly ThrottleText[] = [
  {
    pattern: /\b(ThrottlingException|Throttling: Rate exceeded|RequestLimitExceeded|TooManyRequestsException|Rate exceeded)\b/,
    source: "pulumi-aws#5939; aws/aws-sdk-js#412; pulumi-aws-native#690; EC2 API request throttling",
  },
];

export const aws: CloudFace<typeof awsConfigSchema> = {
  rules,
  throttling: AWS_THROTTLING,
  frozenClusterSettings: () => [],
  kubernetesCalendar: EKS_KUBERNETES_CALENDAR,
  // 40 pods: m5.xlarge and m5.2xlarge address 44 in Cilium ENI mode (eniMaxPods).
  vmDefaults: { vmSize: "m5.2xlarge", systemVmSize: "m5.xlarge", maxPodsPerNode: 40 },
  names: AWS_NAME_RULES,
  config: { schema: awsConfigSchema, check: checkAwsConfig },
  charts: AWS_CHARTS,
  // --- tenant services (cells/plan/clouds/awsServices.ts) ---
  services: { pool: (settings, region) => awsServicePool(settings.services, region) },
};

/** The `cellplane:aws` settings of a validated AWS region config (validation always sets them). */
export function awsSettings(config: { cloud: string; aws?: AwsSettings }): AwsSettings {
  if (!config.aws) throw new Error(`cellplane: no AWS settings on a ${config.cloud} region config; validateConfig sets them on AWS stacks`);
  return config.aws;
}
