import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import { Role } from "../../cells/plan/model";
import { CellContext } from "../types";
import { azureNames } from "./names";
import { clientConfig, roleAssignment } from "./rbac";

/** The cell's key for KMS encryption of its clusters' Kubernetes secrets in etcd. */
export interface CellKms {
  vaultId: pulumi.Output<string>;
  /** Versioned key URI, as AKS's azureKeyVaultKms.keyId wants it. */
  keyId: pulumi.Output<string>;
}

/**
 * A Key Vault per cell (RBAC authorization, purge protection) with one RSA key that
 * AKS uses to encrypt the clusters' secrets at rest. Both are protected: losing the
 * key makes every secret in the cell's etcd unreadable.
 */
export function buildCellKms(ctx: CellContext, resourceGroupName: pulumi.Input<string>, parent: pulumi.Resource): CellKms {
  const { cell, region, stack } = ctx;
  const o = { parent, protect: region.protect };
  const client = clientConfig(parent);
  const vault = new keyvault.Vault(
    `${cell.id}-kms-vault`,
    {
      resourceGroupName,
      location: region.region,
      vaultName: azureNames.keyVault(stack, region.region, cell.id),
      properties: {
        tenantId: client.tenantId,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
        enablePurgeProtection: true,
        softDeleteRetentionInDays: 90,
        // Public with a firewall (AKS KMS keyVaultNetworkAccess "Public"): only the
        // operator networks (where `pulumi up` runs) and trusted Azure services (the
        // AKS KMS plugin) reach the vault. The private option needs API server VNet
        // integration on every cluster. Source: learn.microsoft.com, "Add KMS etcd
        // encryption to an AKS cluster" (public key vault with firewall, trusted services).
        // With no operator ranges (private API servers) the firewall has nothing to
        // admit the deployer from, so the vault stays open; docs/config.md says so.
        networkAcls:
          region.apiServer.authorizedIpRanges.length > 0
            ? { defaultAction: "Deny", bypass: "AzureServices", ipRules: region.apiServer.authorizedIpRanges.map((value) => ({ value })) }
            : { defaultAction: "Allow", bypass: "AzureServices" },
      },
      tags: ctx.tags,
    },
    o,
  );
  const key = new keyvault.Key(
    `${cell.id}-kms-key`,
    {
      resourceGroupName,
      vaultName: vault.name,
      keyName: "aks-secrets",
      properties: {
        kty: "RSA",
        keySize: 2048,
        // Key Vault makes a new version every 180 days. The clusters keep the version
        // they were given (azureKeyVaultKms.keyId is versioned) until the next
        // `pulumi up --refresh` reads the new keyUriWithVersion and AKS re-encrypts
        // (README, "Key rotation"). No expiry: an old version stays usable until then.
        rotationPolicy: { lifetimeActions: [{ trigger: { timeAfterCreate: "P180D" }, action: { type: "rotate" } }] },
      },
      tags: ctx.tags,
    },
    o,
  );
  return { vaultId: vault.id, keyId: key.keyUriWithVersion };
}

/** Lets a cluster's control-plane identity use the cell's key; the cluster waits for it. */
export function kmsAccess(ctx: CellContext, role: Role, kms: CellKms, principalId: pulumi.Input<string>, parent: pulumi.Resource): authorization.RoleAssignment {
  return roleAssignment(
    `${ctx.cell.id}-${role}-kms-crypto-user`,
    // The cell's vault only.
    { meaning: `${ctx.stack}/${ctx.cell.id}/${role}/kms-crypto-user`, scope: kms.vaultId, role: "keyVaultCryptoUser", principalId },
    { parent },
  );
}
