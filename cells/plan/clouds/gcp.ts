import { z } from "zod";
import { Problem } from "../model";
import { NameRule } from "../naming";
import { CloudFace, CloudRules, KubernetesRelease } from "./types";

/*
 * GCP's pure face: subnetwork and pool rules, physical-name rules, VM defaults and
 * the `cellplane:gcp` config slice. The build face is providers/gcp.
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
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  says: `${min}-${max} lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
});

/** GCP's naming rules for the kinds of resources cellplane creates. */
export const GCP_NAME_RULES = {
  network: alnumHyphen(1, 63),
  subnetwork: alnumHyphen(1, 63),
  gkeCluster: alnumHyphen(1, 40),
  nodePool: alnumHyphen(1, 40),
  serviceAccount: alnumHyphen(6, 30),
} as const satisfies Record<string, NameRule>;

/** `cellplane:gcp`: the project the region's cells are created in. */
export const gcpConfigSchema = z.strictObject({ project: z.string().regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, { error: "must be a GCP project id" }) });

export type GcpSettings = z.output<typeof gcpConfigSchema>;

function checkGcpConfig(raw: unknown): Problem[] {
  if (raw !== undefined) return [];
  return [{ path: ["gcp", "project"], message: "a GCP region needs the project its cells are created in", fix: "pulumi config set --path cellplane:gcp.project <project-id>" }];
}

/**
 * GKE's Kubernetes release schedule: end of standard support per minor (about 14
 * months after the minor reaches the Regular channel).
 */
const GKE_CALENDAR_SOURCE = "cloud.google.com/kubernetes-engine/docs/release-schedule (end of standard support)";
export const GKE_KUBERNETES_CALENDAR: readonly KubernetesRelease[] = [
  { minor: "1.34", endOfStandardSupport: "2026-12-31", source: GKE_CALENDAR_SOURCE },
  { minor: "1.35", endOfStandardSupport: "2027-04-30", source: GKE_CALENDAR_SOURCE },
];

export const gcp: CloudFace<typeof gcpConfigSchema> = {
  rules,
  frozenClusterSettings: [],
  kubernetesCalendar: GKE_KUBERNETES_CALENDAR,
  vmDefaults: { vmSize: "n2-standard-8", systemVmSize: "n2-standard-4" },
  names: GCP_NAME_RULES,
  config: { schema: gcpConfigSchema, check: checkGcpConfig },
};
