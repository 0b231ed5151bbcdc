import { IPv4, IPv4CidrRange, IPv4Prefix, Validator } from "ip-num";
import { z } from "zod";
import { Problem, ROLES, Role } from "../model";
import { NameRule } from "../naming";
import { CloudFace, CloudRules, KubernetesRelease, RegionFacts, ThrottleText } from "./types";
// Tenant services (a pool of one: the region's project): its own file, composed here.
import { gcpServicePool, gcpServicesSchema } from "./gcpServices";

/*
 * GCP's pure face: subnetwork and pool rules, physical-name rules, VM defaults,
 * the `cellplane:gcp` config slice, and the GKE facts the build face and the
 * policy pack share (service and control-plane ranges per role, health-check
 * ranges, maintenance availability). The build face is providers/gcp.
 */

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

const rules: CloudRules = {
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

const alnumHyphen = (min: number, max: number): NameRule => ({
  min,
  max,
  pattern: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
  says: `${min}-${max} lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit`,
});

/**
 * GCP's naming rules for the kinds of resources cellplane creates. Sources: the
 * Compute Engine naming convention (RFC 1035, at most 63), GKE (cluster names
 * under 40, node pools at most 40), IAM (service account ids 6-30), Cloud KMS
 * (key rings and keys 1-63 of [a-zA-Z0-9_-]), Cloud DNS managed zones (1-63) and
 * IAM custom role ids (3-64 of [a-zA-Z0-9_.]).
 */
export const GCP_NAME_RULES = {
  network: alnumHyphen(1, 63),
  subnetwork: alnumHyphen(1, 63),
  firewall: alnumHyphen(1, 63),
  router: alnumHyphen(1, 63),
  routerNat: alnumHyphen(1, 63),
  address: alnumHyphen(1, 63),
  gkeCluster: alnumHyphen(1, 39),
  nodePool: alnumHyphen(1, 40),
  serviceAccount: alnumHyphen(6, 30),
  secondaryRange: alnumHyphen(1, 63),
  dnsManagedZone: alnumHyphen(1, 63),
  kmsKeyRing: { min: 1, max: 63, pattern: /^[a-zA-Z0-9_-]+$/, says: "1-63 letters, digits, '_' and '-'" },
  kmsCryptoKey: { min: 1, max: 63, pattern: /^[a-zA-Z0-9_-]+$/, says: "1-63 letters, digits, '_' and '-'" },
  customRoleId: { min: 3, max: 64, pattern: /^[a-zA-Z0-9_.]+$/, says: "3-64 letters, digits, '_' and '.'" },
} as const satisfies Record<string, NameRule>;

/** Most secondary ranges one subnetwork may have (VPC quota "secondary IP ranges per subnetwork"). */
export const GCP_MAX_SECONDARY_RANGES = 30;

/** Lowest and highest priority a VPC firewall rule takes. */
export const GCP_FIREWALL_PRIORITY = { min: 0, max: 65535 } as const;

/**
 * Where Google's load-balancer health checks come from: external passthrough
 * Network Load Balancers probe from 35.191.0.0/16, 209.85.152.0/22 and 209.85.204.0/22
 * (cloud.google.com/load-balancing/docs/health-check-concepts, "Probe IP ranges").
 */
export const GCP_HEALTH_CHECK_RANGES: readonly string[] = ["35.191.0.0/16", "209.85.152.0/22", "209.85.204.0/22"];

/** GKE asks that maintenance windows leave at least 48 hours available in every 32 days, in blocks of at least 4 hours. */
export const GKE_MAINTENANCE_MINIMUM = { hoursPer32Days: 48, minBlockHours: 4 } as const;

/** A weekday repeats at least 4 times in any 32 days: the availability a weekly window of `hours` guarantees. */
export function weeklyHoursPer32Days(hours: number): number {
  return 4 * hours;
}

/** GCP label keys and values; cellplane's tags become labels on GCP. */
export const GCP_LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
export const GCP_LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

/** Stable slot per role in the per-role carvings below: never reordered, a new role takes a new slot. */
const ROLE_SLOT: Record<Role, number> = { proxy: 0, "data-plane-mgmt": 1, "data-plane": 2 };

// Local, not ../ipplan: the IP plan imports the clouds' faces.
const prefixOf = (cidr: string): number => Number(IPv4CidrRange.fromCidr(cidr).getPrefix().getValue());
const cidrProblem = (cidr: string): string | null =>
  Validator.isValidIPv4CidrRange(cidr)[0] ? null : `"${cidr}" is not an aligned IPv4 CIDR`;

/** The `slot`-th block of prefix `prefix` inside `cidr`. */
function carve(cidr: string, prefix: number, slot: number): string {
  const range = IPv4CidrRange.fromCidr(cidr);
  const size = 2n ** BigInt(32 - prefix);
  return new IPv4CidrRange(IPv4.fromNumber(range.getFirst().getValue() + size * BigInt(slot)), IPv4Prefix.fromNumber(BigInt(prefix))).toCidrString();
}

/**
 * The Kubernetes service range of a role's cluster on GCP. Secondary ranges of
 * the subnetworks of one VPC may not overlap, so the region's service range is
 * split in four and each role's subnetwork takes its quarter (one left spare).
 * Cells are separate VPCs, so every cell uses the same quarters.
 */
export function gcpServiceRange(serviceCidr: string, role: Role): string {
  return carve(serviceCidr, prefixOf(serviceCidr) + 2, ROLE_SLOT[role]);
}

/** The /28 of a role's GKE control plane (privateClusterConfig.masterIpv4CidrBlock), carved from cellplane:gcp.controlPlaneCidr. */
export function gcpControlPlaneRange(controlPlaneCidr: string, role: Role): string {
  return carve(controlPlaneCidr, 28, ROLE_SLOT[role]);
}

/** `cellplane:gcp`: the project the region's cells are created in, and where the GKE control planes peer. */
export const gcpConfigSchema = z.strictObject({
  project: z.string().regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, { error: "must be a GCP project id" }),
  /**
   * Block the clusters' private control planes take a /28 of each (proxy, data-plane-mgmt,
   * data-plane in that order): at least a /26, outside the address pool and the service range.
   * Every cell is its own VPC, so all cells use the same block.
   */
  controlPlaneCidr: z.string().default("172.31.255.0/26"),
  // --- tenant services (cells/plan/clouds/gcpServices.ts) ---
  services: gcpServicesSchema,
});

export type GcpSettings = z.output<typeof gcpConfigSchema>;

/** The parsed `cellplane:gcp` of a GCP region config (validateConfig sets it on GCP stacks). */
export function gcpSettings(config: { cloud: string; gcp?: GcpSettings }): GcpSettings {
  if (!config.gcp) throw new Error(`cellplane: no GCP settings on a ${config.cloud} region config; validateConfig sets them on GCP stacks`);
  return config.gcp;
}

function checkGcpConfig(raw: unknown, facts?: RegionFacts): Problem[] {
  const whole = facts?.whole ?? {};
  const problems: Problem[] = [];
  if (raw === undefined) {
    problems.push({ path: ["gcp", "project"], message: "a GCP region needs the project its cells are created in", fix: "pulumi config set --path cellplane:gcp.project <project-id>" });
  }
  const block = (raw as { controlPlaneCidr?: unknown } | undefined)?.controlPlaneCidr;
  if (typeof block === "string") {
    const why = cidrProblem(block);
    if (why) problems.push({ path: ["gcp", "controlPlaneCidr"], message: why, fix: "write a /26 such as 172.31.255.0/26" });
    else if (prefixOf(block) > 26) {
      problems.push({ path: ["gcp", "controlPlaneCidr"], message: `${block} holds fewer than ${ROLES.length} control-plane /28s`, fix: "give a /26 or larger, e.g. 172.31.255.0/26" });
    }
    else {
      // The control planes peer into every cell's VPC: their block may not meet the cells or the services.
      for (const key of ["addressPool", "serviceCidr"] as const) {
        const other = typeof whole[key] === "string" ? (whole[key] as string) : key === "serviceCidr" ? "172.20.0.0/16" : undefined;
        if (other && cidrProblem(other) === null && IPv4CidrRange.fromCidr(block).isOverlapping(IPv4CidrRange.fromCidr(other))) {
          problems.push({ path: ["gcp", "controlPlaneCidr"], message: `${block} overlaps ${key} ${other}`, fix: `choose a /26 outside ${other}, e.g. 172.31.255.0/26` });
        }
      }
    }
  }
  // Tags become GCP labels: lowercase keys and values (cloud.google.com/resource-manager/docs/labels-overview).
  const tags = whole.tags && typeof whole.tags === "object" ? (whole.tags as Record<string, unknown>) : {};
  for (const [key, value] of Object.entries(tags)) {
    if (!GCP_LABEL_KEY.test(key)) problems.push({ path: ["tags", key], message: `"${key}" is not a GCP label key (lowercase letter first, then up to 62 lowercase letters, digits, "_" or "-")`, fix: `rename the tag to "${key.toLowerCase().replace(/[^a-z0-9_-]/g, "_")}"` });
    if (typeof value === "string" && !GCP_LABEL_VALUE.test(value)) problems.push({ path: ["tags", key], message: `"${value}" is not a GCP label value (up to 63 lowercase letters, digits, "_" or "-")`, fix: `use "${value.toLowerCase().replace(/[^a-z0-9_-]/g, "_").slice(0, 63)}"` });
  }
  // GKE rejects a maintenance policy that leaves less than 48 h in 32 days.
  const m = whole.maintenance as { durationHours?: unknown } | undefined;
  const hours = typeof m?.durationHours === "number" ? m.durationHours : 4;
  if (weeklyHoursPer32Days(hours) < GKE_MAINTENANCE_MINIMUM.hoursPer32Days) {
    const needed = Math.ceil(GKE_MAINTENANCE_MINIMUM.hoursPer32Days / 4);
    problems.push({
      path: ["maintenance", "durationHours"],
      message: `a weekly ${hours}-hour window leaves ${weeklyHoursPer32Days(hours)} hours in 32 days; GKE requires at least ${GKE_MAINTENANCE_MINIMUM.hoursPer32Days}`,
      fix: `set cellplane:maintenance.durationHours to ${needed} or more on GCP stacks`,
    });
  }
  return problems;
}

/**
 * GKE's Kubernetes release schedule: end of standard support per minor (about 14
 * months after the minor reaches the Regular channel).
 */
const GKE_CALENDAR_SOURCE = "cloud.google.com/kubernetes-engine/docs/release-schedule (end of standard support), as published in April 2026";
export const GKE_KUBERNETES_CALENDAR: readonly KubernetesRelease[] = [
  { minor: "1.34", endOfStandardSupport: "2026-10-01", source: GKE_CALENDAR_SOURCE },
  { minor: "1.35", endOfStandardSupport: "2027-04-11", source: GKE_CALENDAR_SOURCE },
];

/**
 * GCP rate quotas: "googleapi: Error 429: ... rateLimitExceeded", "Error 403: Quota
 * exceeded for quota group 'ReadGroup' and limit 'Read requests per user per 100 seconds'
 * ..., rateLimitExceeded", "Quota exceeded for quota metric 'Write requests' and limit
 * 'Write requests per minute'" (terraform-provider-google#8360, #1704,
 * GoogleCloudPlatform/python-docs-samples#3482; RATE_LIMIT_EXCEEDED:
 * cloud.google.com/docs/quotas/troubleshoot). Not "Quota 'CPUS' exceeded" (quotaExceeded):
 * a resource quota.
 */
const GCP_THROTTLING: readonly ThrottleText[] = [
  { pattern: /\b(rateLimitExceeded|userRateLimitExceeded|RATE_LIMIT_EXCEEDED)\b|googleapi: Error 429\b/, source: "terraform-provider-google#8360, #1704; cloud.google.com/docs/quotas/troubleshoot" },
  { pattern: /Quota exceeded for quota (metric|group) [^\n]*per (user per )?(minute|100 seconds)/, source: "GoogleCloudPlatform/python-docs-samples#3482; terraform-provider-google#8360" },
];

export const gcp: CloudFace<typeof gcpConfigSchema> = {
  rules,
  throttling: GCP_THROTTLING,
  frozenClusterSettings: () => [],
  kubernetesCalendar: GKE_KUBERNETES_CALENDAR,
  vmDefaults: { vmSize: "n2-standard-8", systemVmSize: "n2-standard-4" },
  names: GCP_NAME_RULES,
  config: { schema: gcpConfigSchema, check: checkGcpConfig },
  // --- tenant services (cells/plan/clouds/gcpServices.ts) ---
  services: { pool: (settings, region) => gcpServicePool(settings.services, region) },
};
