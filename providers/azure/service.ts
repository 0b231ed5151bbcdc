import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/azure-native/provider";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as resources from "@pulumi/azure-native/resources";
import * as storage from "@pulumi/azure-native/storage";
import { azureServiceNames } from "../../cells/plan/clouds/azureServices";
import { ServiceCloudResources, ServiceContext } from "../types";
import { TOKEN_EXCHANGE_AUDIENCE } from "./platform";
import { roleAssignment } from "./rbac";

/*
 * One tenant service on Azure (seed 003): in the pool subscription placement chose,
 * a resource group of its own holding a storage account, its container and a
 * user-assigned identity. Only that identity can read the data: shared keys are
 * off, the identity holds Storage Blob Data Contributor on this account only, and
 * the identity trusts exactly one Kubernetes service account on the cell's
 * data-plane cluster (federated credential). Network access is limited to the
 * cell's data-plane subnets through the Microsoft.Storage service endpoint, which
 * the region stack declares on those subnets (providers/azure/network.ts). The
 * subnets live in the region's subscription and the account in a pool subscription:
 * Azure accepts virtual network rules across subscriptions of one Entra tenant, and
 * whoever deploys the service needs
 * Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action on those
 * subnets (Network Contributor on the cell's VNET carries it).
 * https://learn.microsoft.com/azure/storage/common/storage-network-security
 */

/** Soft delete of blobs and containers, in days: a deleted blob or container of a tenant can be restored this long. */
export const SERVICE_SOFT_DELETE_DAYS = 14;

export function buildAzureService(ctx: ServiceContext, parent: pulumi.ComponentResource): ServiceCloudResources {
  if (!ctx.poolMember) throw new pulumi.RunError(`service ${ctx.id}: an Azure service needs its pool subscription (service:poolMember); cellctl services add records it`);
  const subscriptionId = ctx.poolMember;
  const id = ctx.id;
  // One explicit provider per service, bound to its pool subscription. Credentials come
  // from the environment as for the region stack (az login, ARM_* / OIDC variables).
  const provider = new Provider(`${id}-azure`, { subscriptionId, location: ctx.location }, { parent });
  const o = { parent, provider };
  const stateful = { ...o, protect: ctx.protect };

  const rg = new resources.ResourceGroup(
    `${id}-rg`,
    { resourceGroupName: azureServiceNames.resourceGroup(ctx.location, id), location: ctx.location, tags: ctx.tags },
    stateful,
  );

  const account = new storage.StorageAccount(
    `${id}-storage`,
    {
      resourceGroupName: rg.name,
      accountName: azureServiceNames.storageAccount(ctx.regionStack, ctx.location, id),
      location: ctx.location,
      kind: "StorageV2",
      // Zone-redundant: the service's replicas run in three zones, so must its data.
      sku: { name: "Standard_ZRS" },
      accessTier: "Hot",
      minimumTlsVersion: "TLS1_2",
      enableHttpsTrafficOnly: true,
      allowBlobPublicAccess: false,
      // Only Entra identities: no account keys, no SAS (no-static-keys policy).
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
      allowCrossTenantReplication: false,
      // Service-endpoint rules need public network access "Enabled" with a Deny default;
      // "Disabled" admits private endpoints only.
      // https://learn.microsoft.com/azure/storage/common/storage-network-security
      publicNetworkAccess: "Enabled",
      networkRuleSet: {
        defaultAction: "Deny",
        bypass: "None",
        virtualNetworkRules: ctx.dataPlaneSubnetIds.map((subnet) => ({ virtualNetworkResourceId: subnet, action: "Allow" })),
        ipRules: [],
      },
      // Infrastructure (double) encryption can only be chosen when the account is created.
      encryption: {
        keySource: "Microsoft.Storage",
        requireInfrastructureEncryption: true,
        services: { blob: { enabled: true, keyType: "Account" }, file: { enabled: true, keyType: "Account" } },
      },
      tags: ctx.tags,
    },
    stateful,
  );

  new storage.BlobServiceProperties(
    `${id}-blob-service`,
    {
      resourceGroupName: rg.name,
      accountName: account.name,
      blobServicesName: "default",
      deleteRetentionPolicy: { enabled: true, days: SERVICE_SOFT_DELETE_DAYS },
      containerDeleteRetentionPolicy: { enabled: true, days: SERVICE_SOFT_DELETE_DAYS },
    },
    o,
  );

  const container = azureServiceNames.container();
  new storage.BlobContainer(`${id}-container`, { resourceGroupName: rg.name, accountName: account.name, containerName: container, publicAccess: "None" }, stateful);

  const identity = new managedidentity.UserAssignedIdentity(
    `${id}-identity`,
    { resourceGroupName: rg.name, location: ctx.location, resourceName: azureServiceNames.identity(id), tags: ctx.tags },
    o,
  );

  roleAssignment(
    `${id}-blob-data-contributor`,
    // This account only: never the resource group or the subscription, so no service reads another's data.
    {
      meaning: `${ctx.stack}/${id}/storage-blob-data-contributor`,
      scope: account.id,
      role: "storageBlobDataContributor",
      principalId: identity.principalId,
      subscriptionId,
    },
    o,
  );

  new managedidentity.FederatedIdentityCredential(
    `${id}-federation`,
    {
      resourceGroupName: rg.name,
      resourceName: identity.name,
      federatedIdentityCredentialResourceName: `${ctx.namespace}-${ctx.serviceAccount}`,
      issuer: ctx.oidcIssuerUrl,
      subject: `system:serviceaccount:${ctx.namespace}:${ctx.serviceAccount}`,
      audiences: [TOKEN_EXCHANGE_AUDIENCE],
    },
    o,
  );

  return {
    workloadIdentity: {
      serviceAccountLabels: { "azure.workload.identity/use": "true" },
      serviceAccountAnnotations: { "azure.workload.identity/client-id": identity.clientId, "azure.workload.identity/tenant-id": identity.tenantId },
      podLabels: { "azure.workload.identity/use": "true" },
    },
    storage: { account: account.name, accountId: account.id, endpoint: account.primaryEndpoints.blob, container },
    location: { subscriptionId, resourceGroup: rg.name },
  };
}
