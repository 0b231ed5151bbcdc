import { Cloud } from "./model";

/**
 * What each cloud imposes on the IP plan and on cluster sizing. One table, one
 * row per cloud; sources are in ../shared/guide/cloud-facts.md and the providers' docs.
 */
export interface CloudRules {
  /** Addresses the cloud keeps in every subnet (network, gateway, DNS, broadcast...). */
  reservedPerSubnet: number;
  /** Largest maxPods a node may be configured with. */
  maxPodsPerNode: number;
  /** Largest node count of one pool (we run one user pool per zone). */
  maxNodesPerPool: number;
  /** Smallest subnet the cloud accepts, as a prefix length. */
  smallestSubnetPrefix: number;
  /** Largest (numerically smallest) prefix of a cell network; null when the cloud has no such limit. */
  largestCellPrefix: number | null;
  /** Pod addresses one node takes from its pod block, for a given maxPods. */
  podAddressesPerNode(maxPods: number): number;
  /** Whether pods get their own subnets (true) or secondary ranges on the node subnet (GCP). */
  podBlocksAreSecondaryRanges: boolean;
  /** Whether node subnets are per zone (Azure, AWS) or regional (GCP). */
  nodeSubnetsAreZonal: boolean;
  /** Addresses of the per-zone public subnet (AWS NAT + NLB); 0 when the cloud needs none. */
  publicSubnetAddresses: number;
  /** Why a zone name is wrong for this region, or null when it is right. */
  checkZone(zone: string, region: string): string | null;
  /** An example of a right zone list, for fix hints. */
  exampleZones(region: string): string[];
}

/** Kubernetes' own scalability limits (v1.30 "large clusters"), stricter than some clouds'. */
export const KUBERNETES_LIMITS = {
  maxNodesPerCluster: 5000,
  maxPodsPerCluster: 150_000,
} as const;

/** Smallest cell a cloud may carve (seed 000: "at least /22 for the necessary workloads"). */
export const SMALLEST_CELL_PREFIX = 22;

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
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

const azure: CloudRules = {
  reservedPerSubnet: 5,
  maxPodsPerNode: 250,
  maxNodesPerPool: 1000,
  smallestSubnetPrefix: 29,
  largestCellPrefix: null,
  // Azure CNI (no overlay) takes one address per pod plus the node's own on the pod subnet.
  podAddressesPerNode: (maxPods) => maxPods + 1,
  podBlocksAreSecondaryRanges: false,
  nodeSubnetsAreZonal: true,
  publicSubnetAddresses: 0,
  checkZone: (zone) => (/^[1-3]$/.test(zone) ? null : `"${zone}" is not an Azure availability zone; Azure zones are "1", "2" and "3"`),
  exampleZones: () => ["1", "2", "3"],
};

const aws: CloudRules = {
  reservedPerSubnet: 5,
  // With prefix delegation; without it the ENI formula of the instance type is lower.
  maxPodsPerNode: 250,
  maxNodesPerPool: 450,
  smallestSubnetPrefix: 28,
  largestCellPrefix: 16,
  // Cilium ENI IPAM: one address per pod, plus the node's primary address on the ENI.
  podAddressesPerNode: (maxPods) => maxPods + 1,
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
    return null;
  },
  exampleZones: (region) => {
    const code = awsRegionCode(region) ?? "usw2";
    return [`${code}-az1`, `${code}-az2`, `${code}-az3`];
  },
};

const gcp: CloudRules = {
  reservedPerSubnet: 4,
  maxPodsPerNode: 256,
  maxNodesPerPool: 1000,
  smallestSubnetPrefix: 29,
  largestCellPrefix: null,
  // GKE gives each node a pod block of at least twice maxPods, rounded up to a power of two.
  podAddressesPerNode: (maxPods) => nextPowerOfTwo(2 * maxPods),
  podBlocksAreSecondaryRanges: true,
  nodeSubnetsAreZonal: false,
  publicSubnetAddresses: 0,
  checkZone: (zone, region) =>
    new RegExp(`^${region.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[a-z]$`).test(zone)
      ? null
      : `"${zone}" is not a zone of ${region}; GCP zones are "${region}-a", "${region}-b", ...`,
  exampleZones: (region) => [`${region}-a`, `${region}-b`, `${region}-c`],
};

export const CLOUD_RULES: Record<Cloud, CloudRules> = { azure, aws, gcp };
