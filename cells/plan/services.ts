import { Role } from "./model";
import { physicalName, NameRule } from "./naming";

/*
 * Tenant services: what a database service is to the data plane (an id, a size,
 * the cell it runs in) and what its size reserves in the cell's data-plane
 * cluster. Pure: no Pulumi. Placement is in ./placement.ts.
 */

/** Service ids: part of the service's stack name, URNs and physical names; never reused. */
export const SERVICE_ID_PATTERN = /^s[0-9]{4,7}$/;

/** What a service size reserves in the data-plane cluster (its namespace's ResourceQuota). */
export interface ServiceSize {
  /** `requests.cpu` and `limits.cpu` of the namespace, in cores. */
  cpu: number;
  /** `requests.memory` and `limits.memory`, in GiB. */
  memoryGi: number;
  /** `pods`: ClickHouse replicas, Keeper and their helpers. Also what placement counts against a cell. */
  pods: number;
  /** `persistentvolumeclaims`: local cache and metadata volumes (the data lives in object storage). */
  volumes: number;
}

export const SERVICE_SIZES = {
  small: { cpu: 8, memoryGi: 32, pods: 12, volumes: 6 },
  medium: { cpu: 32, memoryGi: 128, pods: 24, volumes: 12 },
  large: { cpu: 96, memoryGi: 384, pods: 48, volumes: 24 },
} as const satisfies Record<string, ServiceSize>;

export type ServiceSizeName = keyof typeof SERVICE_SIZES;
export const SERVICE_SIZE_NAMES = Object.keys(SERVICE_SIZES) as ServiceSizeName[];

/** A service of a region, as recorded in its own stack's config (the source of every count). */
export interface ServiceRecord {
  id: string;
  /** The cell it runs in; fixed for its life. */
  cell: string;
  size: ServiceSizeName;
  /** The pool member (Azure subscription, ...) holding its cloud resources; absent on clouds without a pool. */
  poolMember?: string;
}

/** The region stack a service stack belongs to, and the service id, from `<region stack>-svc-<id>`. */
export function serviceStackName(regionStack: string, id: string): string {
  return `${regionStack}-svc-${id}`;
}

/** `{regionStack, id}` of a service stack name, or null when the name is not one. */
export function parseServiceStackName(name: string): { regionStack: string; id: string } | null {
  const m = /^(.+)-svc-(s[0-9]{4,7})$/.exec(name);
  return m ? { regionStack: m[1], id: m[2] } : null;
}

/** The next service id: `s` + (highest number ever used + 1), four digits at least. Ids are never reused. */
export function nextServiceId(ids: readonly string[]): string {
  const numbers = ids.map((id) => /^s(\d+)$/.exec(id)).filter((m) => m !== null).map((m) => Number(m[1]));
  return `s${String(Math.max(0, ...numbers) + 1).padStart(4, "0")}`;
}

/**
 * Pods the data-plane cluster of a cell can hold: its user pools at their
 * autoscaler ceiling in every zone times pods per node. Placement keeps the sum of
 * the services' pod quotas under this (less the cell margin).
 */
export function cellPodCapacity(cell: { clusters: Record<Role, { maxNodesPerZone: number; maxPodsPerNode: number }> }, zones: number): number {
  const dp = cell.clusters["data-plane"];
  return zones * dp.maxNodesPerZone * dp.maxPodsPerNode;
}

/** Kubernetes names of a service in its cell's data-plane cluster (DNS-1123 labels). */
const K8S_NAME: NameRule = { min: 1, max: 63, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, says: "1-63 lowercase letters, digits and '-'" };

export const serviceK8sNames = {
  namespace: (id: string) => physicalName(["svc", id], K8S_NAME),
  serviceAccount: () => "clickhouse",
};
