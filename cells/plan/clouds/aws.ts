import { z } from "zod";
import { NameRule } from "../naming";
import { CloudFace, CloudRules, KubernetesRelease } from "./types";

/*
 * AWS's pure face: subnet and node-group rules, physical-name rules, VM defaults
 * and the `cellplane:aws` config slice (none yet). The build face is providers/aws.
 */

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

/** AWS's naming rules for the kinds of resources cellplane creates. */
export const AWS_NAME_RULES = {
  eksCluster: { min: 1, max: 100, pattern: /^[0-9A-Za-z][A-Za-z0-9\-_]*$/, says: "1-100 letters, digits, '-' and '_'" },
  nodeGroup: { min: 1, max: 63, pattern: /^[0-9A-Za-z][A-Za-z0-9\-_]*$/, says: "1-63 letters, digits, '-' and '_'" },
  iamRole: { min: 1, max: 64, pattern: /^[\w+=,.@-]+$/, says: "1-64 letters, digits and '+=,.@-_'" },
} as const satisfies Record<string, NameRule>;

/** `cellplane:aws`: no AWS-only settings yet; the key is accepted empty so the slot exists. */
export const awsConfigSchema = z.strictObject({}).prefault({});

/** EKS's Kubernetes release calendar: end of standard support per minor (../shared/guide/cloud-facts.md, Nov 2026). */
const EKS_CALENDAR_SOURCE = "docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html (Amazon EKS Kubernetes release calendar)";
export const EKS_KUBERNETES_CALENDAR: readonly KubernetesRelease[] = [
  { minor: "1.34", endOfStandardSupport: "2026-12-02", source: EKS_CALENDAR_SOURCE },
  { minor: "1.35", endOfStandardSupport: "2027-03-27", source: EKS_CALENDAR_SOURCE },
];

export const aws: CloudFace<typeof awsConfigSchema> = {
  rules,
  frozenClusterSettings: [],
  kubernetesCalendar: EKS_KUBERNETES_CALENDAR,
  vmDefaults: { vmSize: "m5.2xlarge", systemVmSize: "m5.xlarge" },
  names: AWS_NAME_RULES,
  config: { schema: awsConfigSchema, check: () => [] },
};
