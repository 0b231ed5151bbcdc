/**
 * The vocabulary shared by every planning module. Plain data only: nothing in
 * `cells/plan` imports a Pulumi package, so all of it is testable without mocks.
 */

/** The three Kubernetes clusters of a cell, in the order they are planned and printed. */
export const ROLES = ["proxy", "data-plane-mgmt", "data-plane"] as const;
export type Role = (typeof ROLES)[number];

export const CLOUDS = ["azure", "aws", "gcp"] as const;

/**
 * Type tokens of cellplane's own components. Part of every child's URN: changing
 * one moves every resource below it (ship an alias).
 */
export const COMPONENT_TYPES = {
  region: "cellplane:cells:Region",
  cell: "cellplane:cells:Cell",
  clusterPlatform: "cellplane:platform:ClusterPlatform",
  service: "cellplane:services:Service",
} as const;
export type Cloud = (typeof CLOUDS)[number];

/**
 * What a planned address block is for. Part of the plan JSON contract: new kinds
 * get new words, existing words never change meaning.
 * - `nodes`: node (VM) addresses of one role in one zone (GCP: one regional subnet per role).
 * - `pods`: pod addresses, routed natively (no overlay). On GCP a secondary range.
 * - `public`: AWS only, per zone, for the NAT gateway and network load balancers.
 */
export type SubnetKind = "nodes" | "pods" | "public";

/** Capacity of one role's node pools in every zone of a cell, after defaults and overrides. */
export interface RoleCapacity {
  /** Upper bound of the autoscaled user pool in each zone. */
  maxNodesPerZone: number;
  /** Nodes of the system pool in each zone (fixed size). */
  systemNodesPerZone: number;
  /** Pods per node, the same for system and user pools. */
  maxPodsPerNode: number;
  /** Upgrade surge as a percentage of the zone's nodes; surge nodes need addresses too. */
  maxSurgePercent: number;
}

export type CellCapacity = Record<Role, RoleCapacity>;

/** One planned block. `role` is null for blocks a cell's roles share (AWS public subnets). */
export interface PlannedSubnet {
  role: Role | null;
  /** Zone as the cloud writes it ("1", "usw2-az1", "us-central1-a"); null for a regional block (GCP node subnets). */
  zone: string | null;
  kind: SubnetKind;
  cidr: string;
  /** Addresses the workload needs in this block, before the cloud's reserved ones. */
  required: number;
  /** Addresses the cloud leaves usable in this block. */
  usable: number;
}

export interface CellIpPlan {
  cellId: string;
  cidr: string;
  zones: string[];
  subnets: PlannedSubnet[];
  /** Kubernetes service range of the cell's clusters; outside the VNET/VPC, never routed. */
  serviceCidr: string;
  /** The cluster DNS service address, inside `serviceCidr`. */
  dnsServiceIp: string;
}

/**
 * A user-facing problem: where it is, what is wrong, how to fix it.
 * `path` is relative to the `cellplane:` namespace, e.g. ["cells", "c002", "cidr"].
 */
export interface Problem {
  path: (string | number)[];
  message: string;
  fix: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/** `cellplane:cells.c002.cidr` — the form SREs see in errors and type into `pulumi config set --path`. */
export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return "cellplane:";
  const [head, ...rest] = path;
  // A head with a namespace is a whole stack-file key (a problem outside `cellplane:`).
  if (typeof head === "string" && head.includes(":")) return head + rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
  return `cellplane:${head}` + rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
}

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `  ${formatPath(p.path)}: ${p.message}\n      fix: ${p.fix}`).join("\n");
}
