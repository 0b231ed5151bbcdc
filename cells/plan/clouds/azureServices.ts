import { z } from "zod";
import { Problem } from "../model";
import { physicalName, stableGuid } from "../naming";
import { QuotaLimit, ServicePool } from "../placement";

/*
 * Azure's part of tenant services (pure): the per-subscription limits a service
 * consumes, the `cellplane:azure.subscriptionPool` config block and the pool
 * placement draws from, and the physical names of a service's Azure resources.
 * Kept apart from azure.ts so the two evolve without stepping on each other;
 * azure.ts composes the schema and the check.
 *
 * Why a pool (seed 003): one subscription per region runs out at 980 resource
 * groups and 250 (500 on request) storage accounts, and one subscription per
 * customer is not what subscriptions are for. Each new service is assigned to a
 * subscription drawn at random from the pool and gets its own resource group there.
 */

/**
 * Per-subscription limits a service consumes, with their sources. The pool must be
 * dedicated to services: counts come from the service stacks, so anything else in a
 * member subscription must be subtracted by lowering that member's quota in config.
 */
export const AZURE_SUBSCRIPTION_QUOTAS = {
  resourceGroups: {
    what: "resource groups per subscription",
    default: 980,
    max: 980,
    source: "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits (Subscription limits: resource groups per subscription 980)",
  },
  storageAccounts: {
    what: "storage accounts with standard endpoints per region per subscription",
    default: 250,
    max: 500,
    source: "https://learn.microsoft.com/azure/storage/common/scalability-targets-standard-account (250 by default, 500 on request)",
  },
  roleAssignments: {
    what: "Azure role assignments per subscription",
    default: 4000,
    max: 4000,
    source: "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits (Azure RBAC limits: role assignments per subscription 4,000)",
  },
} as const satisfies Record<string, QuotaLimit>;

export type AzureQuota = keyof typeof AZURE_SUBSCRIPTION_QUOTAS;
const QUOTA_KEYS = Object.keys(AZURE_SUBSCRIPTION_QUOTAS) as AzureQuota[];

/** What one service creates in its subscription: a resource group, a storage account, one role assignment (Storage Blob Data Contributor). */
export const AZURE_PER_SERVICE: Record<AzureQuota, number> = { resourceGroups: 1, storageAccounts: 1, roleAssignments: 1 };

export const SUBSCRIPTION_POOL_DEFAULTS = { margin: 0.1 } as const;

const quotaSchema = (q: AzureQuota) => z.int().min(1).max(AZURE_SUBSCRIPTION_QUOTAS[q].max, { error: `at most ${AZURE_SUBSCRIPTION_QUOTAS[q].max} (${AZURE_SUBSCRIPTION_QUOTAS[q].what})` });

/** `cellplane:azure.subscriptionPool`: where the region's services go. */
export const subscriptionPoolSchema = z.strictObject({
  /** Fraction of every quota kept free (quota increases take days; the margin is the time to get one). */
  margin: z.number().min(0).max(0.5).default(SUBSCRIPTION_POOL_DEFAULTS.margin),
  members: z
    .array(
      z.strictObject({
        subscriptionId: z.uuid({ error: "must be an Azure subscription id (a GUID)" }),
        /** `closed`: keeps its services, takes no new ones. */
        state: z.enum(["open", "closed"]).default("open"),
        /** Raised (or lowered) quotas of this subscription; absent keys take the default. */
        quotas: z.strictObject(Object.fromEntries(QUOTA_KEYS.map((q) => [q, quotaSchema(q).optional()])) as Record<AzureQuota, z.ZodOptional<ReturnType<typeof quotaSchema>>>).prefault({}),
      }),
    )
    .min(1, { error: "the pool needs at least one subscription" }),
});

export type SubscriptionPoolSettings = z.output<typeof subscriptionPoolSchema>;

/** Problems the schema cannot express: a subscription listed twice. Paths start at `azure`. */
export function checkSubscriptionPool(raw: unknown): Problem[] {
  const members = (raw as { members?: unknown } | undefined)?.members;
  if (!Array.isArray(members)) return [];
  const seen = new Map<string, number>();
  const problems: Problem[] = [];
  members.forEach((m, i) => {
    const id = (m as { subscriptionId?: unknown } | null)?.subscriptionId;
    if (typeof id !== "string") return;
    const key = id.toLowerCase();
    if (seen.has(key)) {
      problems.push({
        path: ["azure", "subscriptionPool", "members", i, "subscriptionId"],
        message: `subscription ${id} is listed twice (also at members[${seen.get(key)}]); its quotas would be counted twice`,
        fix: "list each subscription once",
      });
    } else seen.set(key, i);
  });
  return problems;
}

/** The pool placement draws from, from the validated settings. */
export function azureServicePool(settings: SubscriptionPoolSettings): ServicePool {
  return {
    memberKind: "subscription",
    configPath: ["azure", "subscriptionPool"],
    margin: settings.margin,
    perService: AZURE_PER_SERVICE,
    quotas: AZURE_SUBSCRIPTION_QUOTAS,
    members: settings.members.map((m) => ({
      id: m.subscriptionId.toLowerCase(),
      open: m.state === "open",
      limits: Object.fromEntries(QUOTA_KEYS.map((q) => [q, m.quotas[q] ?? AZURE_SUBSCRIPTION_QUOTAS[q].default])),
    })),
    addMemberFix: `add a dedicated subscription: pulumi config set --path 'cellplane:azure.subscriptionPool.members[${settings.members.length}].subscriptionId' <subscription id>`,
  };
}

/** The fix when an Azure region has no pool and a service is asked for. */
export const NO_POOL_FIX = "pulumi config set --path 'cellplane:azure.subscriptionPool.members[0].subscriptionId' <id of a subscription dedicated to services>";

const rgRule = { min: 1, max: 90, pattern: /^[-\w.()]*[-\w()]$/, says: "1-90 letters, digits, '-', '_', '.', '(' and ')'" };
const storageRule = { min: 3, max: 24, pattern: /^[a-z0-9]{3,24}$/, says: "3-24 lowercase letters and digits; globally unique" };
const idRule = { min: 3, max: 128, pattern: /^[a-zA-Z0-9][-\w]*$/, says: "3-128 letters, digits, '-' and '_'" };

/** Physical names of a service's Azure resources. Identity: changing one replaces the resource. */
export const azureServiceNames = {
  resourceGroup: (region: string, service: string) => physicalName(["rg", "cellplane", region, "svc", service], rgRule),
  /** Storage account names are global: the id plus a hash of stack, region and id. */
  storageAccount: (regionStack: string, region: string, service: string) =>
    physicalName(["st", service, stableGuid(`${regionStack}/${region}/${service}`).replace(/-/g, "").slice(0, 10)], storageRule, ""),
  container: () => "clickhouse",
  identity: (service: string) => physicalName(["id", "svc", service], idRule),
};
