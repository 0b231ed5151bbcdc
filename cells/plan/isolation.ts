import { CellIpPlan, Role } from "./model";

/*
 * The single truth for traffic between the clusters of a cell. NSG rules (Azure),
 * security groups (AWS) and firewall rules (GCP) are generated from these lists;
 * tests and the policy pack compute reachability from the generated rules and
 * compare it with them. Anything between two roles that is not listed is denied.
 */

export type Protocol = "tcp" | "udp";

export interface Flow {
  from: Role;
  to: Role;
  protocol: Protocol;
  ports: number[];
  why: string;
  /**
   * Stable ordinal of this flow, never reused or renumbered. Clouds with rule
   * priorities (Azure NSGs, GCP firewalls) derive the priority from it, so a new
   * flow takes a new slot and existing rules keep theirs.
   */
  slot: number;
  /** The flow leaves the source cluster through its Istio ingress gateway (the gateway's own egress policy allows it). */
  viaGateway?: true;
}

/** ClickHouse ports: HTTP 8123, HTTPS 8443, native 9000, native TLS 9440, MySQL 9004, PostgreSQL 9005. */
export const CLICKHOUSE_PORTS = [8123, 8443, 9000, 9004, 9005, 9440];

/** Ingress ports that carry HTTP over TLS (API, ClickHouse HTTPS); the others carry ClickHouse's native protocol over TLS. */
export const HTTPS_PORTS: readonly number[] = [443, 8443];

export const FLOWS: readonly Flow[] = [
  {
    from: "proxy",
    to: "data-plane",
    protocol: "tcp",
    ports: CLICKHOUSE_PORTS,
    why: "the Istio proxy forwards customer connections straight to ClickHouse pods (pod IPs are VNET/VPC IPs)",
    slot: 1,
    viaGateway: true,
  },
  {
    from: "data-plane-mgmt",
    to: "data-plane",
    protocol: "tcp",
    ports: [8443, 9181, 9363, 9440],
    why: "the operator and monitoring manage ClickHouse (TLS ports), Keeper (9181) and scrape metrics (9363)",
    slot: 2,
  },
  {
    from: "data-plane",
    to: "data-plane-mgmt",
    protocol: "tcp",
    ports: [443],
    why: "data-plane agents (state exporter, billing scraper) report to the data-plane API",
    slot: 3,
  },
];

export interface Ingress {
  role: Role;
  protocol: Protocol;
  ports: number[];
  why: string;
  slot: number;
}

/** What may enter a cell from outside, and only from the configured ingress allow-list. */
export const INGRESS: readonly Ingress[] = [
  { role: "proxy", protocol: "tcp", ports: [443, 8443, 9440], why: "customer traffic to the Istio ingress gateway", slot: 1 },
  { role: "data-plane-mgmt", protocol: "tcp", ports: [443], why: "the control plane calls the data-plane API through its Istio gateway", slot: 2 },
];

/** Flows into `role` from other roles: what the role's NSG, security group or firewall admits from them. */
export function flowsInto(role: Role): Flow[] {
  return FLOWS.filter((f) => f.to === role && f.from !== role);
}

/** Whether the matrix lets `from` reach `to` on a port: a role reaches itself on everything, others only on listed flows. */
export function flowAllows(from: Role, to: Role, protocol: Protocol, port: number): boolean {
  return from === to || FLOWS.some((f) => f.from === from && f.to === to && f.protocol === protocol && f.ports.includes(port));
}

/** Whether the matrix lets the Internet (the ingress allow-list) reach `role` on a port. */
export function ingressAllows(role: Role, protocol: Protocol, port: number): boolean {
  return INGRESS.some((i) => i.role === role && i.protocol === protocol && i.ports.includes(port));
}

/** The address blocks of a role in a cell's plan (its node and pod subnets or ranges): what the role's traffic comes from. */
export function roleCidrs(plan: CellIpPlan, role: Role): string[] {
  return plan.subnets.filter((s) => s.role === role).map((s) => s.cidr);
}
