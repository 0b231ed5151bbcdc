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
  /**
   * Problems of one role's pool settings the cloud alone knows (e.g. AWS: the pods an
   * instance type's network interfaces can address, node groups per cluster).
   * `field` is the key of `cellplane:clusters.<role>` the problem is about.
   */
  checkPools?(pools: PoolShape): { field: string; message: string; fix: string }[];
}

/** What a cloud's pool check sees of one role's clusters. */
export interface PoolShape {
  vmSize: string;
  systemVmSize: string;
  maxPodsPerNode: number;
  zones: number;
}

/** The neutral keys of a region config a cloud's check may judge, as given (each possibly missing or malformed). */
export interface RegionFacts {
  region?: unknown;
  zones?: unknown;
  tags?: unknown;
  dnsZone?: unknown;
  /** The whole raw `cellplane:` config, for the rare rule of a cloud on another key (GKE's maintenance availability). */
  whole?: Record<string, unknown>;
}

/** VM sizes a cloud's pools get unless `cellplane:clusters` says otherwise. */
export interface VmDefaults {
  vmSize: string;
  systemVmSize: string;
  /** Pods per node by default, where the default VM sizes hold fewer than the cross-cloud default (AWS: ENI limits). */
  maxPodsPerNode?: number;
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
   * undefined) and the region's raw neutral keys: required settings, cross-field
   * rules, the cloud's limits on regions, zones, names and tags. Paths are full
   * (start at the cloud key for its own settings, at the neutral key otherwise).
   */
  check(raw: unknown, region?: RegionFacts): Problem[];
  /** Settings that are valid but do nothing, as warnings (the same inputs as `check`): a leftover an SRE should clean up. */
  warn?(raw: unknown, region?: RegionFacts): Problem[];
}

/**
 * One Kubernetes minor in a cloud's published support calendar: the last day of
 * its standard support (ISO date, UTC) and where that date comes from. The cloud
 * refuses to create clusters on a minor past it.
 */
export interface KubernetesRelease {
  minor: string;
  endOfStandardSupport: string;
  source: string;
}

/**
 * A text the cloud's provider prints when the cloud throttled a request: the same
 * request later will do (automation/throttling.ts runs the engine command again). With
 * where the exact text comes from.
 */
export interface ThrottleText {
  pattern: RegExp;
  source: string;
}

export interface CloudFace<S extends z.ZodType = z.ZodType> {
  rules: CloudRules;
  /** The cloud's throttling texts. Resource quotas are not throttling: waiting does not raise them. */
  throttling: readonly ThrottleText[];
  /**
   * The cloud's Kubernetes support calendar, oldest minor first. The newest row is
   * the default version of every role (a reviewed code change moves it, never the
   * date of a run); validation refuses a minor past its end and warns within 60 days.
   */
  kubernetesCalendar: readonly KubernetesRelease[];
  /**
   * Cluster settings a deployed cluster of this cell never receives in full (AKS, pools
   * as separate resources: the inline system pool of the first zone is frozen by
   * ignoreChanges, so its VM size, maxPods and node count stay; AKS, pools created with
   * the cluster: every pool's VM size and maxPods). The program refuses changing them on
   * a deployed cell, like a subnet move; README says how to roll such a change.
   */
  frozenClusterSettings(settings: z.output<S>, cellId: string): readonly string[];
  /**
   * Facts of a cell fixed when it is first deployed (AKS: whether its pools are created
   * with the cluster). The program exports them (`cellFacts`) and refuses a run that
   * would change a deployed cell's facts; `legacy` is what a cell deployed before the
   * fact was recorded has. Absent: the cloud fixes nothing of the kind.
   */
  cellFacts?: {
    of(settings: z.output<S>, cellId: string): Record<string, string>;
    legacy: Record<string, string>;
    /** The fix to print when a deployed cell's fact would change. */
    fix(cellId: string, key: string, deployed: string): string;
  };
  vmDefaults: VmDefaults;
  /** Physical-name rules of the resource kinds the cloud's build face creates. */
  names: Record<string, NameRule>;
  config: CloudConfigSlice<S>;
  /** Helm charts only this cloud's build face installs (e.g. its CNI), pinned here; the policy pack allows their repositories. */
  charts?: Readonly<Record<string, { repo: string; chart: string; version: string }>>;
  /**
   * Tenant services: the pool of accounts services are spread over (Azure's
   * subscription pool), from the cloud's validated slice. Absent: no pool, services
   * go in the region's own account. Throws a message with a fix when the cloud needs
   * a pool and none is configured. `region`: what the region's own cells hold of the
   * same quotas is the cloud's to count (AWS: the region's account holds its cells too).
   */
  services?: { pool(settings: z.output<S>, region: { cellCount: number }): ServicePool | undefined };
}
