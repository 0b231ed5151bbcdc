import { z } from "zod";
import { Problem } from "../model";
import { NameRule } from "../naming";
import { CloudFace, CloudRules, KubernetesRelease, RegionFacts, ThrottleText } from "./types";
// Tenant services (subscription pool): its own file, composed here.
import { azureServicePool, checkSubscriptionPool, NO_POOL_FIX, subscriptionPoolSchema } from "./azureServices";

/*
 * Azure's pure face: subnet and pool rules, physical-name rules, VM defaults and
 * the `cellplane:azure` config slice. The build face is providers/azure.
 */

const rules: CloudRules = {
  reservedPerSubnet: 5,
  maxPodsPerNode: 250,
  maxNodesPerPool: 1000,
  smallestSubnetPrefix: 29,
  largestCellPrefix: null,
  // Azure CNI (no overlay) takes one address per pod plus the node's own on the pod subnet.
  podAddressesPerNode: (maxPods) => maxPods + 1,
  podBlocksAreSecondaryRanges: false,
  nodeSubnetsAreZonal: true,
  publicSubnetAddresses: 0,
  checkZone: (zone) => (/^[1-3]$/.test(zone) ? null : `"${zone}" is not an Azure availability zone; Azure zones are "1", "2" and "3"`),
  exampleZones: () => ["1", "2", "3"],
};

const alnumHyphen = (min: number, max: number): NameRule => ({
  min,
  max,
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  says: `${min}-${max} lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
});

const armName = (max: number): NameRule => ({ min: 1, max, pattern: /^[a-zA-Z0-9]([-\w.]*\w)?$/, says: `1-${max} letters, digits, '-', '_' and '.'` });

/** Azure's naming rules for the kinds of resources cellplane creates (Microsoft.* resource name rules). */
export const AZURE_NAME_RULES = {
  resourceGroup: { min: 1, max: 90, pattern: /^[-\w.()]*[-\w()]$/, says: "1-90 letters, digits, '-', '_', '.', '(' and ')', not ending in '.'" },
  virtualNetwork: { min: 2, max: 64, pattern: /^[a-zA-Z0-9]([-\w.]*\w)?$/, says: "2-64 letters, digits, '-', '_' and '.', starting with a letter or digit" },
  subnet: armName(80),
  natGateway: armName(80),
  publicIp: armName(80),
  networkSecurityGroup: armName(80),
  securityRule: armName(80),
  managedCluster: { min: 1, max: 63, pattern: /^[a-zA-Z0-9]([-\w]*[a-zA-Z0-9])?$/, says: "1-63 letters, digits, '-' and '_', starting and ending with a letter or digit" },
  dnsPrefix: alnumHyphen(1, 54),
  agentPool: { min: 1, max: 12, pattern: /^[a-z][a-z0-9]*$/, says: "1-12 lowercase letters and digits, starting with a letter" },
  userAssignedIdentity: { min: 3, max: 128, pattern: /^[a-zA-Z0-9][-\w]*$/, says: "3-128 letters, digits, '-' and '_'" },
  keyVault: { min: 3, max: 24, pattern: /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/, says: "3-24 letters, digits and '-', starting with a letter, no '--'; globally unique" },
  logAnalyticsWorkspace: { min: 4, max: 63, pattern: /^[a-zA-Z0-9][-a-zA-Z0-9]*[a-zA-Z0-9]$/, says: "4-63 letters, digits and '-', starting and ending with a letter or digit" },
} as const satisfies Record<string, NameRule>;

/**
 * How the kubeconfig of an Entra-ID (AAD) AKS cluster obtains its token (kubelogin
 * `--login`): `azurecli` for SREs, `workloadidentity`/`spn`/`msi` for CI and the
 * control plane. Never `devicecode` by default: it would wait for a human.
 */
export const KUBELOGIN_MODES = ["azurecli", "workloadidentity", "spn", "msi", "devicecode"] as const;

export const AZURE_DEFAULTS = { kubeloginMode: "azurecli", auditLogRetentionDays: 90, deployerPrincipalType: "Group", natIpPrefixLength: 31 } as const;

const count = (min: number, max: number) => z.int().min(min).max(max);

/**
 * Azure public-cloud regions and their availability zones ([] = the region has
 * none). Source: learn.microsoft.com, "Azure regions with availability zone
 * support" (list as of 2026-11). A region newer than this table is accepted only
 * with `cellplane:azure.regionZones` (the zones the operator has checked it has).
 */
export const AZURE_REGION_ZONES_SOURCE = "learn.microsoft.com/azure/reliability/availability-zones-region-support (2026-11)";
const Z3 = ["1", "2", "3"] as const;
export const AZURE_REGION_ZONES: Readonly<Record<string, readonly string[]>> = {
  // Americas
  eastus: Z3, eastus2: Z3, centralus: Z3, southcentralus: Z3, westus2: Z3, westus3: Z3, canadacentral: Z3, brazilsouth: Z3, mexicocentral: Z3, chilecentral: Z3,
  westus: [], northcentralus: [], westcentralus: [], canadaeast: [], brazilsoutheast: [],
  // Europe
  northeurope: Z3, westeurope: Z3, uksouth: Z3, francecentral: Z3, germanywestcentral: Z3, swedencentral: Z3, switzerlandnorth: Z3, norwayeast: Z3, polandcentral: Z3, italynorth: Z3, spaincentral: Z3, austriaeast: Z3, belgiumcentral: Z3,
  ukwest: [], francesouth: [], germanynorth: [], swedensouth: [], switzerlandwest: [], norwaywest: [],
  // Middle East, Africa
  qatarcentral: Z3, uaenorth: Z3, israelcentral: Z3, southafricanorth: Z3, saudiarabiaeast: Z3,
  uaecentral: [], southafricawest: [],
  // Asia Pacific
  centralindia: Z3, japaneast: Z3, japanwest: Z3, koreacentral: Z3, southeastasia: Z3, eastasia: Z3, australiaeast: Z3, newzealandnorth: Z3, indonesiacentral: Z3, malaysiawest: Z3,
  southindia: [], westindia: [], koreasouth: [], australiasoutheast: [], australiacentral: [], australiacentral2: [], jioindiawest: [], jioindiacentral: [],
};

/** Azure Resource Manager tag limits. Source: learn.microsoft.com, "Use tags to organize your Azure resources" (limitations). */
export const AZURE_TAG_LIMITS = {
  maxTagsPerResource: 50,
  maxKeyLength: 512,
  maxValueLength: 256,
  reservedPrefixes: ["azure", "microsoft", "windows"],
  forbiddenKeyCharacters: /[<>%&\\?/]/,
} as const;

/** Tag keys cellplane sets on every resource (cells/plan/naming.ts resourceTags) and the providers add (role). */
export const CELLPLANE_TAG_KEYS = ["cell", "region", "stack", "managed-by", "role"] as const;

/** DNS limits (RFC 1035): a name of at most 253 characters, labels of at most 63. */
export const DNS_LIMITS = { maxName: 253, maxLabel: 63 } as const;

/** The longest name cellplane writes under the region zone: cert-manager's challenge for the data-plane API of the longest cell id. */
const LONGEST_RECORD_PREFIX = "_acme-challenge.api.c0000000.";

/** `cellplane:azure`: settings only an Azure region has. Every key is in docs/config.md. */
export const azureConfigSchema = z
  .strictObject({
    kubeloginMode: z.enum(KUBELOGIN_MODES).default(AZURE_DEFAULTS.kubeloginMode),
    auditLogRetentionDays: count(30, 730).default(AZURE_DEFAULTS.auditLogRetentionDays),
    deployerPrincipalId: z.uuid({ error: "must be an Entra ID object id (a GUID)" }).optional(),
    deployerPrincipalType: z.enum(["Group", "ServicePrincipal", "User"]).default(AZURE_DEFAULTS.deployerPrincipalType),
    /**
     * Length of the public IP prefix each zone's NAT gateway egresses from, besides its
     * public IP (31 = 2 addresses, 28 = 16, the NAT gateway's maximum). Customers
     * allow-list the prefix once; SNAT capacity grows inside it. Changing it replaces
     * the prefixes (new addresses): refused in review, see docs/config.md.
     */
    natIpPrefixLength: z.int().min(28).max(31).default(AZURE_DEFAULTS.natIpPrefixLength),
    /** Escape hatch for a region newer than AZURE_REGION_ZONES: the zones it has (the operator checked). */
    regionZones: z.array(z.enum(["1", "2", "3"])).min(1).optional(),
    /**
     * Cells whose node pools are separate AgentPool resources, created one after another
     * once the cluster exists (every pool setting can change later; about 29 minutes to
     * deploy a cell in bench/deploy.ts's model). Every other cell creates all its pools
     * in the cluster's creation request (about 15 minutes; VM sizes and maxPods are then
     * fixed for the cell's life). A deployed cell keeps the layout it was created with:
     * the program refuses a run that would switch it. Cells deployed before this key
     * existed have separate pools and must be listed. See README "Node pools of a cell".
     */
    separatePools: z.array(z.string().regex(/^[a-z][a-z0-9]{1,7}$/, { error: "must be a cell id such as c001" })).default([]),
    // --- tenant services (cells/plan/clouds/azureServices.ts) ---
    subscriptionPool: subscriptionPoolSchema.optional(),
  })
  .prefault({});

export type AzureSettings = z.output<typeof azureConfigSchema>;

function checkAzureConfig(raw: unknown, facts: RegionFacts = {}): Problem[] {
  const problems: Problem[] = [];
  const slice = (raw ?? {}) as { deployerPrincipalId?: unknown; regionZones?: unknown; subscriptionPool?: unknown };
  if (slice.deployerPrincipalId === undefined) {
    problems.push({
      path: ["azure", "deployerPrincipalId"],
      message: "an Azure region needs the Entra ID principal that deploys the platform into its clusters",
      fix: "pulumi config set --path cellplane:azure.deployerPrincipalId <object id of the group holding the SREs and the CI/control-plane identities>",
    });
  }
  problems.push(...checkSubscriptionPool(slice.subscriptionPool));
  problems.push(...regionProblems(facts, Array.isArray(slice.regionZones) ? (slice.regionZones as string[]) : undefined));
  problems.push(...tagProblems(facts.tags));
  problems.push(...dnsProblems(facts.dnsZone));
  return problems;
}

/**
 * Entries of azure.separatePools that name no cell of the stack: a retired cell's id
 * (`cellctl cells retire` leaves the list alone; ids are never given out again, so the
 * entry can never take effect) or a typo (then the cell it meant is refused by its
 * cellFacts check). Harmless, so a warning.
 */
function warnAzureConfig(raw: unknown, facts: RegionFacts = {}): Problem[] {
  const listed = (raw as { separatePools?: unknown } | undefined)?.separatePools;
  const cells = facts.whole?.cells;
  if (!Array.isArray(listed) || typeof cells !== "object" || cells === null) return [];
  return listed.flatMap((id, i) =>
    typeof id === "string" && !Object.prototype.hasOwnProperty.call(cells, id)
      ? [{ path: ["azure", "separatePools", i], message: `lists ${id}, which is not a cell of this stack (a retired cell, or a typo); the entry does nothing`, fix: `remove ${id} from cellplane:azure.separatePools` }]
      : [],
  );
}

/** The region exists (or the escape hatch names its zones) and has every configured zone. */
function regionProblems(facts: RegionFacts, declared: string[] | undefined): Problem[] {
  if (typeof facts.region !== "string") return [];
  const region = facts.region;
  const known = Object.prototype.hasOwnProperty.call(AZURE_REGION_ZONES, region) ? AZURE_REGION_ZONES[region] : undefined;
  if (known === undefined && declared === undefined) {
    const zonal = Object.keys(AZURE_REGION_ZONES).filter((r) => AZURE_REGION_ZONES[r].length > 0).sort();
    return [
      {
        path: ["region"],
        message: `"${region}" is not an Azure region cellplane knows (${AZURE_REGION_ZONES_SOURCE}); regions with zones: ${zonal.join(", ")}`,
        fix: `correct the name, or for a region newer than the table set cellplane:azure.regionZones to the zones it has, e.g. ["1","2","3"]`,
      },
    ];
  }
  const has = known ?? declared ?? [];
  const problems: Problem[] = [];
  if (has.length === 0) {
    problems.push({ path: ["region"], message: `${region} has no availability zones (${AZURE_REGION_ZONES_SOURCE}); a cell needs a NAT gateway and pools per zone`, fix: "use a region with availability zones, e.g. its paired region with zones" });
    return problems;
  }
  if (Array.isArray(facts.zones)) {
    facts.zones.forEach((z, i) => {
      if (typeof z === "string" && /^[1-3]$/.test(z) && !has.includes(z)) problems.push({ path: ["zones", i], message: `${region} has no zone "${z}"; its zones are ${has.join(", ")}`, fix: `use zones from ${JSON.stringify(has)}` });
    });
  }
  return problems;
}

/** Azure's tag limits, with cellplane's own keys: at most 50 in all, no key twice in another case, no reserved prefix, none of ours overwritten. */
function tagProblems(tags: unknown): Problem[] {
  if (!tags || typeof tags !== "object" || Array.isArray(tags)) return [];
  const keys = Object.keys(tags as Record<string, unknown>);
  const problems: Problem[] = [];
  const total = new Set([...keys.map((k) => k.toLowerCase()), ...CELLPLANE_TAG_KEYS]).size;
  if (total > AZURE_TAG_LIMITS.maxTagsPerResource) {
    problems.push({ path: ["tags"], message: `${keys.length} tags plus cellplane's ${CELLPLANE_TAG_KEYS.length} (${CELLPLANE_TAG_KEYS.join(", ")}) make ${total}; Azure allows ${AZURE_TAG_LIMITS.maxTagsPerResource} per resource`, fix: `keep at most ${AZURE_TAG_LIMITS.maxTagsPerResource - CELLPLANE_TAG_KEYS.length} tags in cellplane:tags` });
  }
  const seen = new Map<string, string>();
  for (const k of keys) {
    const lower = k.toLowerCase();
    if ((CELLPLANE_TAG_KEYS as readonly string[]).includes(lower)) {
      problems.push({ path: ["tags", k], message: `cellplane sets the tag "${lower}" on every resource, so this value would be silently replaced`, fix: `rename the tag (e.g. "team-${lower}") or remove it` });
    }
    const prefix = AZURE_TAG_LIMITS.reservedPrefixes.find((p) => lower.startsWith(p));
    if (prefix) problems.push({ path: ["tags", k], message: `Azure reserves tag names starting with "${prefix}"`, fix: "rename the tag without the azure, microsoft or windows prefix" });
    if (AZURE_TAG_LIMITS.forbiddenKeyCharacters.test(k)) problems.push({ path: ["tags", k], message: "Azure tag names cannot contain < > % & \\ ? /", fix: "rename the tag" });
    const other = seen.get(lower);
    if (other !== undefined) problems.push({ path: ["tags", k], message: `Azure tag names are case-insensitive: "${k}" and "${other}" are the same tag`, fix: "keep one of them" });
    else seen.set(lower, k);
  }
  return problems;
}

/** The region zone and the longest record cellplane writes under it stay within DNS limits. */
function dnsProblems(zone: unknown): Problem[] {
  if (typeof zone !== "string") return [];
  const problems: Problem[] = [];
  zone.split(".").forEach((label) => {
    if (label.length > DNS_LIMITS.maxLabel) problems.push({ path: ["dns", "zone"], message: `label "${label.slice(0, 20)}..." has ${label.length} characters; DNS allows ${DNS_LIMITS.maxLabel}`, fix: "shorten the label" });
  });
  const longest = LONGEST_RECORD_PREFIX.length + zone.length;
  if (longest > DNS_LIMITS.maxName) {
    problems.push({ path: ["dns", "zone"], message: `records under ${zone} reach ${longest} characters (e.g. ${LONGEST_RECORD_PREFIX}${zone.slice(0, 12)}...); DNS names are at most ${DNS_LIMITS.maxName}`, fix: `use a zone of at most ${DNS_LIMITS.maxName - LONGEST_RECORD_PREFIX.length} characters` });
  }
  return problems;
}

/**
 * AKS's Kubernetes release calendar: end of standard support ("AKS End of life")
 * per minor. AKS publishes months; the date here is the month's last day. Upstream
 * 1.33 ended 2026-06-28 and 1.34 2026-10-27; AKS follows about a month later.
 */
const AKS_CALENDAR_SOURCE = "learn.microsoft.com/azure/aks/supported-kubernetes-versions (AKS Kubernetes release calendar)";
export const AKS_KUBERNETES_CALENDAR: readonly KubernetesRelease[] = [
  { minor: "1.33", endOfStandardSupport: "2026-06-30", source: AKS_CALENDAR_SOURCE },
  { minor: "1.34", endOfStandardSupport: "2026-11-30", source: AKS_CALENDAR_SOURCE },
  { minor: "1.35", endOfStandardSupport: "2027-03-31", source: AKS_CALENDAR_SOURCE },
];

/**
 * Azure Resource Manager and the resource providers throttle with HTTP 429. azure-native
 * prints the azcore form ("RESPONSE 429: 429 Too Many Requests", "ERROR CODE:
 * RetryableError") or the autorest form ("Status=429 Code=..."). It retries 429 with
 * Retry-After itself (pulumi-azure-native#850), not 429 RetryableError /
 * RetryableErrorDueToAnotherOperation (#3720, #4509). Codes: learn.microsoft.com, "Request
 * limits and throttling" and "Troubleshoot common deployment errors".
 */
const AZURE_THROTTLING: readonly ThrottleText[] = [
  { pattern: /\bRESPONSE 429\b|\b429 Too Many Requests\b|\bStatus=429\b/, source: "pulumi-azure-native#3720, #849; Azure/azqr#34" },
  {
    pattern: /\b(TooManyRequests|SubscriptionRequestsThrottled|ResourceRequestsThrottled|RetryableError(DueToAnotherOperation)?)\b/,
    source: "pulumi-azure-native#3720, #4509; MicrosoftDocs/azure-docs#105248",
  },
];

export const azure: CloudFace<typeof azureConfigSchema> = {
  rules,
  throttling: AZURE_THROTTLING,
  frozenClusterSettings: (settings, cellId) => (azurePoolLayout(settings, cellId) === "separate" ? SEPARATE_POOLS_FROZEN : POOLS_WITH_CLUSTER_FROZEN),
  cellFacts: {
    of: (settings, cellId) => ({ nodePools: azurePoolLayout(settings, cellId) }),
    // Before cellFacts was exported, every Azure cell's pools were separate AgentPool resources.
    legacy: { nodePools: "separate" },
    fix: (cellId, _key, deployed) =>
      deployed === "separate"
        ? `list ${cellId} in cellplane:azure.separatePools (its pools are AgentPool resources: leaving them out of the list would delete them)`
        : `remove ${cellId} from cellplane:azure.separatePools (its pools were created with its clusters)`,
  },
  kubernetesCalendar: AKS_KUBERNETES_CALENDAR,
  vmDefaults: { vmSize: "Standard_D8ds_v5", systemVmSize: "Standard_D4ds_v5" },
  names: AZURE_NAME_RULES,
  config: { schema: azureConfigSchema, check: checkAzureConfig, warn: warnAzureConfig },
  // --- tenant services (cells/plan/clouds/azureServices.ts) ---
  services: {
    pool(settings) {
      if (!settings.subscriptionPool) throw new Error(`an Azure region places services in a subscription pool, and cellplane:azure.subscriptionPool is not set\n  fix: ${NO_POOL_FIX}`);
      return azureServicePool(settings.subscriptionPool);
    },
  },
};

/**
 * How a cell's AKS node pools are created (README "Node pools of a cell"):
 * - `withCluster`: every pool (a system and a user pool per zone) in the cluster's creation
 *   request. One AKS operation, so no pool waits for another and none races another for
 *   the VNET's ownership; the pools' mutable settings (node counts, autoscaler bounds,
 *   surge) change later through the cluster; VM sizes and maxPods never do (AKS refuses
 *   them on an existing pool, and refuses adding a pool through the cluster).
 * - `separate`: the first zone's system pool inline, every other pool an AgentPool resource,
 *   one after another (pools in one VNET race on its ownership when created concurrently).
 */
export type AzurePoolLayout = "withCluster" | "separate";

export function azurePoolLayout(settings: { separatePools: readonly string[] }, cellId: string): AzurePoolLayout {
  return settings.separatePools.includes(cellId) ? "separate" : "withCluster";
}

/** Separate pools: the inline system pool of zone 1 is frozen by ignoreChanges. */
const SEPARATE_POOLS_FROZEN = ["systemVmSize", "maxPodsPerNode", "systemNodesPerZone"] as const;
/** Pools with the cluster: AKS never changes an existing pool's VM size or maxPods ("Changing property ... is not allowed"). */
const POOLS_WITH_CLUSTER_FROZEN = ["vmSize", "systemVmSize", "maxPodsPerNode"] as const;

/** The `cellplane:azure` settings of a validated Azure region config (validation always sets them). */
export function azureSettings(config: { cloud: string; azure?: AzureSettings }): AzureSettings {
  if (!config.azure) throw new Error(`cellplane: no Azure settings on a ${config.cloud} region config; validateConfig sets them on Azure stacks`);
  return config.azure;
}
