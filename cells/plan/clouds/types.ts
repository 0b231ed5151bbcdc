import type { z } from "zod";
import { Problem } from "../model";
import { NameRule } from "../naming";
import type { ServicePool } from "../placement";

/*
 * The pure face of a cloud: what it imposes on the IP plan, on names and on
 * cluster sizing, its VM defaults, and its slice of the stack config. One file
 * per cloud (cells/plan/clouds/<cloud>.ts); nothing here imports Pulumi.
 */

/** What a cloud imposes on the IP plan and on cluster sizing. */
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

/** VM sizes a cloud's pools get unless `cellplane:clusters` says otherwise. */
export interface VmDefaults {
  vmSize: string;
  systemVmSize: string;
}

/**
 * A cloud's own key of the stack config, `cellplane:<cloud>`. The composed schema
 * (cells/config.ts) accepts it only on stacks of that cloud.
 */
export interface CloudConfigSlice<S extends z.ZodType = z.ZodType> {
  /** Schema of `cellplane:<cloud>`, with its defaults. Parsed from `undefined` when the key is absent. */
  schema: S;
  /**
   * Problems the schema cannot express, given the raw value of the key (possibly
   * undefined): required settings, cross-field rules. Paths start at the cloud key,
   * except for problems of other keys that only this cloud has (e.g. GKE's
   * maintenance availability), which name their own path. `whole` is the raw config.
   */
  check(raw: unknown, whole: Record<string, unknown>): Problem[];
}

export interface CloudFace<S extends z.ZodType = z.ZodType> {
  rules: CloudRules;
  vmDefaults: VmDefaults;
  /** Physical-name rules of the resource kinds the cloud's build face creates. */
  names: Record<string, NameRule>;
  config: CloudConfigSlice<S>;
  /**
   * Tenant services: the pool of accounts services are spread over (Azure's
   * subscription pool), from the cloud's validated slice. Absent: no pool, services
   * go in the region's own account. Throws a message with a fix when the cloud needs
   * a pool and none is configured.
   */
  services?: { pool(settings: z.output<S>): ServicePool | undefined };
}
