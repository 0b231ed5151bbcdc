import { z } from "zod";
import { QuotaLimit, ServicePool } from "../placement";

/*
 * A cloud without a pool of accounts still binds tenant services by per-account (or
 * per-project) quotas: its region's own account is a pool of ONE member. The
 * config block (margin, raised quotas, what the account holds elsewhere) and the
 * pool built from it are the same on every such cloud; each cloud gives its quota
 * table, what a service and a cell consume, and its words.
 */

/** The absent block: every key optional (zod cannot see that through the generic key type). */
const EMPTY = {};

/** What a cloud says about its pool of one. */
export interface PoolOfOneSpec<Q extends string> {
  quotas: Record<Q, QuotaLimit>;
  perService: Record<Q, number>;
  /** What one cell of the region holds of the same quotas (counted from the region config). */
  perCell: Record<Q, number>;
  memberKind: string;
  memberId: string;
  configPath: string[];
  addMemberFix: string;
}

/** The config block of a pool of one: `margin`, `quotas.<key>` once raised, `reserved.<key>` held elsewhere. */
export function poolOfOneSchema<Q extends string>(quotas: Record<Q, QuotaLimit>) {
  const keys = Object.keys(quotas) as Q[];
  const perQuota = <T extends z.ZodType>(f: (q: Q) => T) => z.strictObject(Object.fromEntries(keys.map((q) => [q, f(q).optional()])) as Record<Q, z.ZodOptional<T>>).prefault(EMPTY as never);
  return z
    .strictObject({
      /** Fraction of every quota kept free (a quota increase takes days; the margin is the time to get one). */
      margin: z.number().min(0).max(0.5).default(0.1),
      /** The quotas once raised; absent keys take the cloud's default. */
      quotas: perQuota((q) => z.int().min(1).max(quotas[q].max, { error: `at most ${quotas[q].max} (${quotas[q].what})` })),
      /** What the account holds of each quota outside this region's cells and services. */
      reserved: perQuota(() => z.int().min(0)),
    })
    .prefault({});
}

export interface PoolOfOneSettings<Q extends string> {
  margin: number;
  quotas: Partial<Record<Q, number>>;
  reserved: Partial<Record<Q, number>>;
}

/** The pool placement draws from: the one member, its quotas less what the region's cells and `reserved` hold. */
export function poolOfOne<Q extends string>(spec: PoolOfOneSpec<Q>, settings: PoolOfOneSettings<Q>, region: { cellCount: number }): ServicePool {
  const keys = Object.keys(spec.quotas) as Q[];
  return {
    memberKind: spec.memberKind,
    configPath: spec.configPath,
    margin: settings.margin,
    perService: spec.perService,
    quotas: spec.quotas,
    members: [
      {
        id: spec.memberId,
        open: true,
        limits: Object.fromEntries(keys.map((q) => [q, Math.max(0, (settings.quotas[q] ?? spec.quotas[q].default) - region.cellCount * spec.perCell[q] - (settings.reserved[q] ?? 0))])),
      },
    ],
    addMemberFix: spec.addMemberFix,
  };
}
