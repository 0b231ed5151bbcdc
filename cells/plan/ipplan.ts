import { IPv4, IPv4CidrRange, IPv4Prefix, Validator } from "ip-num";
import { CLOUD_RULES } from "./clouds";
import { CellCapacity, CellIpPlan, Cloud, PlannedSubnet, Problem, Result, ROLES, Role, RoleCapacity, SubnetKind } from "./model";

/*
 * The IP plan: pure functions over ip-num. A cell's plan is a function of that
 * cell's own entry only (cloud, CIDR, zones, capacity), so adding, removing or
 * reordering other cells can never move one of its subnets.
 */

/** Why `cidr` is not a usable IPv4 CIDR, or null when it is. Alignment counts: 10.64.1.0/16 is refused. */
export function cidrProblem(cidr: string): string | null {
  const [syntaxOk, syntaxErrors] = Validator.isValidIPv4CidrNotation(cidr);
  if (!syntaxOk) return `"${cidr}" is not an IPv4 CIDR (${syntaxErrors.join("; ")})`;
  const [alignedOk] = Validator.isValidIPv4CidrRange(cidr);
  if (!alignedOk) {
    const aligned = IPv4CidrRange.fromCidr(cidr);
    return `"${cidr}" is not aligned to its prefix; the block it falls in is ${aligned.getFirst().toString()}/${aligned.getPrefix().getValue()}`;
  }
  return null;
}

/** Whether the union of IPv4 blocks is all of 0.0.0.0/0 (`0.0.0.0/1` + `128.0.0.0/1` is; malformed blocks count for nothing). */
export function coversWholeInternet(cidrs: readonly string[]): boolean {
  const ranges = cidrs
    .filter((c) => cidrProblem(c) === null)
    .map((c) => {
      const r = IPv4CidrRange.fromCidr(c);
      return [r.getFirst().getValue(), r.getLast().getValue()] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let next = 0n; // the lowest address not covered yet
  for (const [first, last] of ranges) {
    if (first > next) return false;
    if (last + 1n > next) next = last + 1n;
  }
  return next > 0xffffffffn;
}

/**
 * Bounds of the Kubernetes service range that every cloud accepts:
 * - EKS `serviceIpv4Cidr`: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, between
 *   /24 and /12 (EKS API reference, KubernetesNetworkConfigRequest);
 * - AKS `networkProfile.serviceCidr`: smaller than /12, not overlapping 169.254.0.0/16,
 *   172.30.0.0/16, 172.31.0.0/16 or 192.0.2.0/24 (Microsoft Learn, "Configure Azure CNI
 *   networking in AKS"), and `dnsServiceIP` (the 10th address) inside it;
 * - GKE services secondary range: a private range, /27 or larger.
 * So: RFC 1918, /13 to /24, none of the AKS-reserved blocks.
 */
export const SERVICE_CIDR_BOUNDS = {
  largestPrefix: 13,
  smallestPrefix: 24,
  privateBlocks: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
  reserved: ["169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24"],
} as const;

/** What is wrong with a Kubernetes service range for the clouds (empty: nothing); `dnsServiceIp` is checked to lie inside when given. */
export function serviceRangeProblems(serviceCidr: string, dnsServiceIp?: string): string[] {
  if (cidrProblem(serviceCidr) !== null) return [`${serviceCidr} is not an IPv4 CIDR`];
  const b = SERVICE_CIDR_BOUNDS;
  const problems: string[] = [];
  const prefix = prefixOf(serviceCidr);
  if (prefix > b.smallestPrefix) problems.push(`a /${prefix} service range is too small: the clouds take /${b.smallestPrefix} at the smallest, and the cluster DNS address (the 10th) must be inside it`);
  if (prefix < b.largestPrefix) problems.push(`a /${prefix} service range is too large: AKS takes ranges smaller than /12, EKS /12 at the largest`);
  if (!b.privateBlocks.some((block) => cidrInside(serviceCidr, block))) problems.push(`${serviceCidr} is not inside a private (RFC 1918) block (${b.privateBlocks.join(", ")}), as EKS requires`);
  for (const reserved of b.reserved) if (cidrsOverlap(serviceCidr, reserved)) problems.push(`${serviceCidr} overlaps ${reserved}, which AKS reserves`);
  if (dnsServiceIp !== undefined && !IPv4CidrRange.fromCidr(serviceCidr).contains(IPv4CidrRange.fromCidr(`${dnsServiceIp}/32`))) {
    problems.push(`the cluster DNS address ${dnsServiceIp} is outside the service range ${serviceCidr}`);
  }
  return problems;
}

export function prefixOf(cidr: string): number {
  return Number(IPv4CidrRange.fromCidr(cidr).getPrefix().getValue());
}

export function cidrsOverlap(a: string, b: string): boolean {
  return boundsOverlap(cidrBounds(a), cidrBounds(b));
}

/**
 * A block's first and last address as plain numbers (an IPv4 address fits a double
 * exactly). Parse each block once and compare these when many blocks meet many:
 * ip-num parses into BigInts, and parsing per pair made the region config's
 * every-cell-against-every-cell check a visible cost at 100 cells (issue 16's profile).
 */
export interface CidrBounds {
  first: number;
  last: number;
}

export function cidrBounds(cidr: string): CidrBounds {
  const r = IPv4CidrRange.fromCidr(cidr);
  return { first: Number(r.getFirst().getValue()), last: Number(r.getLast().getValue()) };
}

export function boundsOverlap(a: CidrBounds, b: CidrBounds): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** Whether `inner` lies entirely inside `outer` (equal counts as inside). */
export function cidrInside(inner: string, outer: string): boolean {
  return IPv4CidrRange.fromCidr(inner).inside(IPv4CidrRange.fromCidr(outer)) || inner === outer;
}

export function cidrSize(cidr: string): number {
  return Number(IPv4CidrRange.fromCidr(cidr).getSize());
}

/** Smallest prefix length whose block holds `addresses`, never smaller than the cloud's smallest subnet. */
export function prefixFor(addresses: number, smallestPrefix: number): number {
  const bits = Math.ceil(Math.log2(Math.max(2, addresses)));
  return Math.min(smallestPrefix, 32 - bits);
}

/** Nodes of one role in one zone at the worst moment: full system and user pools plus upgrade surge. */
export function nodesAtPeak(c: RoleCapacity): number {
  const steady = c.maxNodesPerZone + c.systemNodesPerZone;
  return steady + Math.ceil((steady * c.maxSurgePercent) / 100);
}

/** Addresses one role needs in one zone, before the cloud's reserved addresses. */
export function zoneDemand(cloud: Cloud, c: RoleCapacity): { nodes: number; pods: number } {
  const nodes = nodesAtPeak(c);
  return { nodes, pods: nodes * CLOUD_RULES[cloud].podAddressesPerNode(c.maxPodsPerNode) };
}

export interface CellPlanInput {
  cloud: Cloud;
  cellId: string;
  cidr: string;
  zones: readonly string[];
  capacity: CellCapacity;
  /** Region-wide Kubernetes service range; the same for every cluster since it is never routed. */
  serviceCidr: string;
}

interface Demand {
  role: Role | null;
  zone: string | null;
  kind: SubnetKind;
  required: number;
  prefix: number;
  /** Tie-breaker among equal sizes, so the layout is a pure function of the input. */
  order: string;
}

const KIND_ORDER: Record<SubnetKind, number> = { public: 0, nodes: 1, pods: 2 };

function demands(input: CellPlanInput): Demand[] {
  const rules = CLOUD_RULES[input.cloud];
  // Zones are sorted so that reordering the configured list moves nothing.
  const zones = [...input.zones].sort();
  const out: Demand[] = [];
  const add = (role: Role | null, zone: string | null, kind: SubnetKind, required: number, reserved: number) => {
    const order = `${KIND_ORDER[kind]}/${role === null ? 0 : ROLES.indexOf(role) + 1}/${zone ?? ""}`;
    out.push({ role, zone, kind, required, prefix: prefixFor(required + reserved, rules.smallestSubnetPrefix), order });
  };
  for (const zone of zones) {
    if (rules.publicSubnetAddresses > 0) add(null, zone, "public", rules.publicSubnetAddresses - rules.reservedPerSubnet, rules.reservedPerSubnet);
  }
  for (const role of ROLES) {
    const d = zoneDemand(input.cloud, input.capacity[role]);
    if (rules.nodeSubnetsAreZonal) {
      for (const zone of zones) add(role, zone, "nodes", d.nodes, rules.reservedPerSubnet);
    } else {
      add(role, null, "nodes", d.nodes * zones.length, rules.reservedPerSubnet);
    }
    // Secondary ranges (GCP) have no reserved addresses of their own.
    const podReserved = rules.podBlocksAreSecondaryRanges ? 0 : rules.reservedPerSubnet;
    for (const zone of zones) add(role, zone, "pods", d.pods, podReserved);
  }
  return out;
}

/** The first address of the Kubernetes service range plus 10, as AKS, EKS and GKE all default to. */
export function dnsServiceIpOf(serviceCidr: string): string {
  const first = IPv4CidrRange.fromCidr(serviceCidr).getFirst().getValue();
  return IPv4.fromNumber(first + 10n).toString();
}

/**
 * Lays out a cell: every block sized from capacity, then packed from the start of
 * the cell, largest first. Largest-first keeps every block aligned to its own size
 * without gaps. Returns every problem, never a partial plan.
 */
export function planCell(input: CellPlanInput): Result<CellIpPlan> {
  const problems: Problem[] = [];
  const cellErr = cidrProblem(input.cidr);
  if (cellErr) return { ok: false, problems: [{ path: ["cells", input.cellId, "cidr"], message: cellErr, fix: "write the network address of the block, e.g. 10.64.0.0/16" }] };

  const rules = CLOUD_RULES[input.cloud];
  const ds = demands(input).sort((a, b) => a.prefix - b.prefix || a.order.localeCompare(b.order));
  const cell = IPv4CidrRange.fromCidr(input.cidr);
  const cellFirst = cell.getFirst().getValue();
  const cellEnd = cellFirst + cell.getSize();
  let cursor = cellFirst;
  const subnets: PlannedSubnet[] = [];
  for (const d of ds) {
    const size = 2n ** BigInt(32 - d.prefix);
    const block = new IPv4CidrRange(IPv4.fromNumber(cursor), IPv4Prefix.fromNumber(BigInt(d.prefix)));
    subnets.push({
      role: d.role,
      zone: d.zone,
      kind: d.kind,
      cidr: block.toCidrString(),
      required: d.required,
      usable: Number(size) - (d.kind === "pods" && rules.podBlocksAreSecondaryRanges ? 0 : rules.reservedPerSubnet),
    });
    cursor += size;
  }
  if (cursor > cellEnd) {
    const needed = cursor - cellFirst;
    const fitting = prefixFor(Number(needed), 32);
    problems.push({
      path: ["cells", input.cellId, "cidr"],
      message: `the capacity of cell ${input.cellId} needs ${needed} addresses (a /${fitting}), but ${input.cidr} has ${cell.getSize()}`,
      fix: `give the cell a /${fitting} or larger, or lower maxNodesPerZone / maxPodsPerNode under cellplane:cells.${input.cellId}.clusters`,
    });
  }
  if (problems.length > 0) return { ok: false, problems };

  const roleOrder = (r: Role | null) => (r === null ? -1 : ROLES.indexOf(r));
  subnets.sort((a, b) => roleOrder(a.role) - roleOrder(b.role) || (a.zone ?? "").localeCompare(b.zone ?? "") || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  return {
    ok: true,
    value: {
      cellId: input.cellId,
      cidr: input.cidr,
      zones: [...input.zones].sort(),
      subnets,
      serviceCidr: input.serviceCidr,
      dnsServiceIp: dnsServiceIpOf(input.serviceCidr),
    },
  };
}

/**
 * The next free block of `prefix` in `pool`, lowest address first, that overlaps
 * none of `taken`. Used by `cellctl cells add` to propose a cell CIDR.
 */
export function nextFreeCidr(pool: string, taken: readonly string[], prefix: number): Result<string> {
  const poolRange = IPv4CidrRange.fromCidr(pool);
  const poolPrefix = Number(poolRange.getPrefix().getValue());
  if (prefix < poolPrefix) {
    return { ok: false, problems: [{ path: ["addressPool"], message: `a /${prefix} cell does not fit in the pool ${pool}`, fix: `ask for a prefix of /${poolPrefix} or longer` }] };
  }
  const takenBounds = taken.map(cidrBounds);
  const step = 2 ** (32 - prefix);
  const first = Number(poolRange.getFirst().getValue());
  const end = first + Number(poolRange.getSize());
  for (let at = first; at < end; at += step) {
    const candidate = { first: at, last: at + step - 1 };
    if (!takenBounds.some((t) => boundsOverlap(t, candidate))) {
      return { ok: true, value: new IPv4CidrRange(IPv4.fromNumber(BigInt(at)), IPv4Prefix.fromNumber(BigInt(prefix))).toCidrString() };
    }
  }
  return {
    ok: false,
    problems: [{ path: ["addressPool"], message: `no free /${prefix} is left in ${pool} (${taken.length} cells use it)`, fix: "widen cellplane:addressPool, ask for a smaller cell, or start a new region stack" }],
  };
}

/** Key of a planned block inside its cell, stable across runs: "data-plane/1/pods". */
export function subnetKey(s: Pick<PlannedSubnet, "role" | "zone" | "kind">): string {
  return `${s.role ?? "shared"}/${s.zone ?? "regional"}/${s.kind}`;
}

/**
 * Compares a cell's deployed plan with the new one. A block that exists in both
 * with a different CIDR would be moved or resized, which on every cloud means
 * replacing a subnet that nodes and pods are attached to: refused, with the reason.
 */
export function movedSubnets(previous: CellIpPlan, next: CellIpPlan): Problem[] {
  const before = new Map(previous.subnets.map((s) => [subnetKey(s), s.cidr]));
  const problems: Problem[] = [];
  if (previous.cidr !== next.cidr) {
    problems.push({
      path: ["cells", next.cellId, "cidr"],
      message: `cell ${next.cellId} is deployed as ${previous.cidr}; changing it to ${next.cidr} would replace its whole network`,
      fix: `set cellplane:cells.${next.cellId}.cidr back to ${previous.cidr}; to renumber, add a new cell and retire this one`,
    });
    return problems;
  }
  for (const s of next.subnets) {
    const was = before.get(subnetKey(s));
    if (was !== undefined && was !== s.cidr) {
      problems.push({
        path: ["cells", next.cellId, "clusters", s.role ?? "shared"],
        message: `this capacity change would move the ${s.kind} subnet of ${s.role ?? "the cell"} in zone ${s.zone ?? "(regional)"} from ${was} to ${s.cidr}, replacing a subnet in use`,
        fix: `revert the capacity change of cell ${next.cellId}; to grow, add a cell (cellctl cells add) instead of resizing this one`,
      });
    }
  }
  return problems;
}
