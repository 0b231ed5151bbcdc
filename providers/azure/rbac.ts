import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { stableGuid } from "../../cells/plan/naming";

/** Built-in Azure roles cellplane grants, by what they are for. Ids are the same in every tenant. */
export const BUILT_IN_ROLES = {
  /** "Network Contributor": AKS needs it on the VNET to use custom subnets and a NAT gateway. */
  networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
  /** "Azure Kubernetes Service RBAC Cluster Admin": what the deployer needs to install the platform. */
  aksRbacClusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
  /** "Key Vault Crypto User": wrap and unwrap with the vault's keys, nothing else. */
  keyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
  /** "DNS Zone Contributor": manage records of a zone, nothing else. */
  dnsZoneContributor: "befefa01-2a29-4197-83a8-272ff33ce314",
  /** "Storage Blob Data Contributor": read, write and delete blobs and containers of the scope, nothing else. */
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
} as const;

export interface RoleAssignmentArgs {
  /**
   * What the assignment means, e.g. `<stack>/<cell>/<role>/network-contributor`. Its
   * name is a GUID derived from this: `pulumi up` stays idempotent and a re-created
   * stack does not collide with itself. Changing it replaces the assignment.
   */
  meaning: string;
  /** The narrowest scope that works: a VNET, a vault, a zone, a cluster; never a subscription. */
  scope: pulumi.Input<string>;
  role: keyof typeof BUILT_IN_ROLES;
  principalId: pulumi.Input<string>;
  /** Default ServicePrincipal (managed identities). */
  principalType?: pulumi.Input<string>;
  /** The subscription of the scope, when known: no client-config invoke (a service in a pool subscription knows its own). */
  subscriptionId?: string;
}

/**
 * The one action external-dns's Azure provider needs beyond DNS Zone Contributor on
 * the zone: it lists the zones of its resource group (`zones.ListByResourceGroup`)
 * before filtering them, which needs `dnszones/read` on the group (cloud-facts,
 * "AKS: what a real deploy rejects or breaks"; kubernetes-sigs/external-dns docs,
 * tutorials/azure.md, "the identity needs Reader on the resource group"). Reader
 * would also read every other resource of the cell's group; this role reads zones only.
 */
export const DNS_ZONE_LISTER_ACTIONS = ["Microsoft.Network/dnszones/read"] as const;

/**
 * A custom role, defined in and assignable only at the cell's resource group, that
 * lists its DNS zones and nothing else. One per cell: its name is unique in the tenant.
 */
export interface ZoneLister {
  /** The custom role's ARM id: what an assignment names. */
  roleDefinitionId: pulumi.Output<string>;
  /** The cell's resource group: the role's only assignable scope. */
  scope: pulumi.Input<string>;
}

export function dnsZoneListerRole(name: string, a: { meaning: string; resourceGroupId: pulumi.Input<string>; roleName: string }, opts: pulumi.CustomResourceOptions): ZoneLister {
  const role = new authorization.RoleDefinition(
    name,
    {
      roleDefinitionId: stableGuid(a.meaning),
      scope: a.resourceGroupId,
      roleName: a.roleName,
      description: "cellplane: lists the DNS zones of one cell's resource group (external-dns); reads nothing else",
      roleType: "CustomRole",
      permissions: [{ actions: [...DNS_ZONE_LISTER_ACTIONS], notActions: [], dataActions: [], notDataActions: [] }],
      assignableScopes: [a.resourceGroupId],
    },
    opts,
  );
  return { roleDefinitionId: role.id, scope: a.resourceGroupId };
}

/** One getClientConfig per parent: an invoke takes its provider from its parent, so all of a parent's children share the answer. */
const clientConfigs = new WeakMap<pulumi.Resource, pulumi.Output<authorization.GetClientConfigResult>>();

/**
 * The subscription and tenant the parent's provider deploys to. Memoized per parent
 * resource (a cell asked 13 times, once per role assignment and vault: 1,300 provider
 * calls in a 100-cell region); a new run has new parents, so nothing leaks between runs.
 */
export function clientConfig(parent: pulumi.Resource): pulumi.Output<authorization.GetClientConfigResult> {
  let config = clientConfigs.get(parent);
  if (!config) {
    config = authorization.getClientConfigOutput({ parent });
    clientConfigs.set(parent, config);
  }
  return config;
}

/** A built-in role on one scope for one principal. */
export function roleAssignment(name: string, a: RoleAssignmentArgs, opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource }): authorization.RoleAssignment {
  const subscriptionId = a.subscriptionId ?? clientConfig(opts.parent).subscriptionId;
  return new authorization.RoleAssignment(
    name,
    {
      roleAssignmentName: stableGuid(a.meaning),
      scope: a.scope,
      roleDefinitionId: pulumi.interpolate`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLES[a.role]}`,
      principalId: a.principalId,
      principalType: a.principalType ?? "ServicePrincipal",
    },
    opts,
  );
}
