import { Problem, Result } from "./model";
import { SERVICE_SIZES, ServiceRecord, ServiceSizeName } from "./services";

/*
 * Where a new tenant service goes: a cell, and on clouds that spread services over
 * a pool of accounts (Azure subscriptions), a pool member. Pure and deterministic
 * given its random source, so the properties (no quota ever exceeded, draws spread
 * over the eligible members) are tested without mocks.
 *
 * - Cell: an `active` cell whose data-plane cluster keeps `cellMargin` of its pod
 *   capacity free after the service's pod quota; draining cells take nothing. Among
 *   those, the one with the most free pods (ties: lowest id), so cells fill evenly.
 * - Pool member: drawn uniformly at random among the open members that stay at or
 *   under every quota less the pool's margin after this service (seed 003: "each new
 *   instance is assigned at random to a subscription from the pool").
 */

/** One per-member limit, as data with its source. */
export interface QuotaLimit {
  /** What is counted, in the cloud's words. */
  what: string;
  /** The limit every member starts with. */
  default: number;
  /** The most a member can get (a quota increase request); equal to default when it cannot be raised. */
  max: number;
  /** Where the numbers come from. */
  source: string;
}

/** One member of a pool, with its effective limits. */
export interface PoolMember {
  id: string;
  /** Closed members keep their services and take no new ones. */
  open: boolean;
  /** Effective limit per quota key (the default, or the raised quota given in config). */
  limits: Record<string, number>;
}

/** A cloud's pool of accounts for services, as its pure face builds it from config. */
export interface ServicePool {
  /** What a member is, e.g. "subscription". */
  memberKind: string;
  /** Config path of the pool, for problems. */
  configPath: (string | number)[];
  members: PoolMember[];
  /** Fraction of every limit kept free (0.1: placement stops at 90%). */
  margin: number;
  /** What one service consumes per quota key. */
  perService: Record<string, number>;
  /** The quota table (keys as in `limits` and `perService`). */
  quotas: Record<string, QuotaLimit>;
  /** How to add a member (a command). */
  addMemberFix: string;
}

/** A cell as placement sees it. */
export interface PlacementCell {
  id: string;
  state: "active" | "draining";
  /** Pods its data-plane cluster can hold (cellPodCapacity). */
  podCapacity: number;
}

export interface PlacementRequest {
  service: { id: string; size: ServiceSizeName };
  cells: readonly PlacementCell[];
  /** Every service of the region, from the service stacks. */
  services: readonly ServiceRecord[];
  /** The cloud's pool, or undefined on a cloud without one. */
  pool?: ServicePool;
  /** Fraction of a cell's pod capacity kept free; default CELL_MARGIN. */
  cellMargin?: number;
  /** A number in [0, 1); Math.random unless injected. */
  random?: () => number;
}

export interface Placement {
  cell: string;
  /** The pool member, when the cloud has a pool. */
  poolMember?: string;
  /** Free pods of the chosen cell after this service, and the members that were eligible (for the record). */
  cellPodsFreeAfter: number;
  eligibleMembers: string[];
}

/** Default fraction of a data-plane cluster's pod capacity placement keeps free. */
export const CELL_MARGIN = 0.1;

/** Usage of every quota of every member, counted from the services recorded on it. */
export function poolUsage(pool: ServicePool, services: readonly ServiceRecord[]): Record<string, Record<string, number>> {
  const usage: Record<string, Record<string, number>> = {};
  for (const m of pool.members) usage[m.id] = Object.fromEntries(Object.keys(pool.quotas).map((q) => [q, 0]));
  for (const s of services) {
    if (s.poolMember === undefined) continue;
    usage[s.poolMember] ??= Object.fromEntries(Object.keys(pool.quotas).map((q) => [q, 0]));
    for (const [q, n] of Object.entries(pool.perService)) usage[s.poolMember][q] = (usage[s.poolMember][q] ?? 0) + n;
  }
  return usage;
}

/** The usable part of a limit under the margin. */
export function usableLimit(limit: number, margin: number): number {
  return Math.floor(limit * (1 - margin));
}

/** The quota keys on which one more service would go over the usable limit of a member. */
export function blockingQuotas(pool: ServicePool, member: PoolMember, used: Record<string, number>): string[] {
  return Object.keys(pool.quotas).filter((q) => (used[q] ?? 0) + (pool.perService[q] ?? 0) > usableLimit(member.limits[q], pool.margin));
}

/** Services one member can still take under every quota. */
export function memberRoom(pool: ServicePool, member: PoolMember, used: Record<string, number>): number {
  return Math.max(
    0,
    Math.min(...Object.keys(pool.quotas).filter((q) => (pool.perService[q] ?? 0) > 0).map((q) => Math.floor((usableLimit(member.limits[q], pool.margin) - (used[q] ?? 0)) / pool.perService[q]))),
  );
}

function cellProblem(req: PlacementRequest, margin: number): Problem {
  const pods = SERVICE_SIZES[req.service.size].pods;
  const lines = req.cells.map((c) => {
    const used = req.services.filter((s) => s.cell === c.id).reduce((n, s) => n + SERVICE_SIZES[s.size].pods, 0);
    return `${c.id} ${c.state}: ${used}/${Math.floor(c.podCapacity * (1 - margin))} pods`;
  });
  return {
    path: ["cells"],
    message: `no cell can take a ${req.service.size} service (${pods} pods): ${req.cells.length === 0 ? "the region has no cells" : lines.join("; ")}`,
    fix: "add a cell (cellctl cells add), or raise the data-plane capacity of an active cell (cellplane:cells.<id>.clusters.data-plane.maxNodesPerZone)",
  };
}

function poolProblem(pool: ServicePool, usage: Record<string, Record<string, number>>, services: readonly ServiceRecord[]): Problem {
  const held = services.filter((s) => s.poolMember !== undefined).length;
  const detail = pool.members.map((m) => {
    if (!m.open) return `${m.id}: closed`;
    const full = blockingQuotas(pool, m, usage[m.id]).map((q) => `${q} ${usage[m.id][q]}/${usableLimit(m.limits[q], pool.margin)} of ${m.limits[q]}`);
    return `${m.id}: ${full.join(", ")}`;
  });
  const raisable = pool.members.filter((m) => m.open).flatMap((m) =>
    blockingQuotas(pool, m, usage[m.id])
      .filter((q) => m.limits[q] < pool.quotas[q].max)
      .map((q) => `${m.id} ${q} ${m.limits[q]} -> ${pool.quotas[q].max}`),
  );
  const perNew = Math.min(
    ...Object.keys(pool.quotas).filter((q) => (pool.perService[q] ?? 0) > 0).map((q) => Math.floor(usableLimit(pool.quotas[q].default, pool.margin) / pool.perService[q])),
  );
  return {
    path: pool.configPath,
    message: `the ${pool.memberKind} pool is full: it holds ${held} service(s) in ${pool.members.length} ${pool.memberKind}(s) and none can take another at a ${Math.round(pool.margin * 100)}% margin (${detail.join("; ")})`,
    fix: `${pool.addMemberFix} (a new ${pool.memberKind} takes ${perNew} services at default quotas)${raisable.length ? `, or request a quota increase and record it (${raisable.join(", ")})` : ""}`,
  };
}

/**
 * Places a new service. Returns every reason it cannot (no cell with headroom, a
 * full pool) as problems with their config path and a fix.
 */
export function placeService(req: PlacementRequest): Result<Placement> {
  const margin = req.cellMargin ?? CELL_MARGIN;
  const random = req.random ?? Math.random;
  const pods = SERVICE_SIZES[req.service.size].pods;
  const problems: Problem[] = [];

  const free = (c: PlacementCell) =>
    Math.floor(c.podCapacity * (1 - margin)) - req.services.filter((s) => s.cell === c.id).reduce((n, s) => n + SERVICE_SIZES[s.size].pods, 0);
  const candidates = req.cells
    .filter((c) => c.state === "active" && free(c) >= pods)
    .sort((a, b) => free(b) - free(a) || a.id.localeCompare(b.id));
  if (candidates.length === 0) problems.push(cellProblem(req, margin));

  let poolMember: string | undefined;
  let eligible: string[] = [];
  if (req.pool) {
    const pool = req.pool;
    const usage = poolUsage(pool, req.services);
    eligible = pool.members.filter((m) => m.open && blockingQuotas(pool, m, usage[m.id]).length === 0).map((m) => m.id);
    if (eligible.length === 0) problems.push(poolProblem(pool, usage, req.services));
    else {
      const r = random();
      if (!(r >= 0 && r < 1)) throw new Error(`placement: the random source returned ${r}, outside [0, 1)`);
      poolMember = eligible[Math.floor(r * eligible.length)];
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const cell = candidates[0];
  return { ok: true, value: { cell: cell.id, poolMember, cellPodsFreeAfter: free(cell) - pods, eligibleMembers: eligible } };
}
