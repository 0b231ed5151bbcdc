import { z } from "zod";
import { Problem } from "../model";
import { NameRule } from "../naming";
import { CloudFace, CloudRules } from "./types";
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

export const AZURE_DEFAULTS = { kubeloginMode: "azurecli", auditLogRetentionDays: 90, deployerPrincipalType: "Group" } as const;

const count = (min: number, max: number) => z.int().min(min).max(max);

/** `cellplane:azure`: settings only an Azure region has. Every key is in docs/config.md. */
export const azureConfigSchema = z
  .strictObject({
    kubeloginMode: z.enum(KUBELOGIN_MODES).default(AZURE_DEFAULTS.kubeloginMode),
    auditLogRetentionDays: count(30, 730).default(AZURE_DEFAULTS.auditLogRetentionDays),
    deployerPrincipalId: z.uuid({ error: "must be an Entra ID object id (a GUID)" }).optional(),
    deployerPrincipalType: z.enum(["Group", "ServicePrincipal", "User"]).default(AZURE_DEFAULTS.deployerPrincipalType),
    // --- tenant services (cells/plan/clouds/azureServices.ts) ---
    subscriptionPool: subscriptionPoolSchema.optional(),
  })
  .prefault({});

export type AzureSettings = z.output<typeof azureConfigSchema>;

function checkAzureConfig(raw: unknown): Problem[] {
  return [...checkDeployer(raw), ...checkSubscriptionPool((raw as { subscriptionPool?: unknown } | undefined)?.subscriptionPool)];
}

function checkDeployer(raw: unknown): Problem[] {
  if ((raw as { deployerPrincipalId?: unknown } | undefined)?.deployerPrincipalId !== undefined) return [];
  return [
    {
      path: ["azure", "deployerPrincipalId"],
      message: "an Azure region needs the Entra ID principal that deploys the platform into its clusters",
      fix: "pulumi config set --path cellplane:azure.deployerPrincipalId <object id of the group holding the SREs and the CI/control-plane identities>",
    },
  ];
}

export const azure: CloudFace<typeof azureConfigSchema> = {
  rules,
  vmDefaults: { vmSize: "Standard_D8ds_v5", systemVmSize: "Standard_D4ds_v5" },
  names: AZURE_NAME_RULES,
  config: { schema: azureConfigSchema, check: checkAzureConfig },
  // --- tenant services (cells/plan/clouds/azureServices.ts) ---
  services: {
    pool(settings) {
      if (!settings.subscriptionPool) throw new Error(`an Azure region places services in a subscription pool, and cellplane:azure.subscriptionPool is not set\n  fix: ${NO_POOL_FIX}`);
      return azureServicePool(settings.subscriptionPool);
    },
  },
};

/** The `cellplane:azure` settings of a validated Azure region config (validation always sets them). */
export function azureSettings(config: { cloud: string; azure?: AzureSettings }): AzureSettings {
  if (!config.azure) throw new Error(`cellplane: no Azure settings on a ${config.cloud} region config; validateConfig sets them on Azure stacks`);
  return config.azure;
}
