import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { stableGuid } from "../../cells/plan/naming";
import { Role } from "../../cells/plan/model";
import { DNS_WRITERS, ServiceAccountRef } from "../../cells/plan/platform";
import { CellContext, CellDns, PlatformBindings, WorkloadIdentity } from "../types";
import { AzureCluster, SYSTEM_POOL_TOLERATIONS } from "./cluster";
import { armScope } from "./dns";
import { azureNames } from "./names";
import { AzureNetwork } from "./network";
import { roleAssignment, ZoneLister } from "./rbac";

/** Audience AKS workload identity exchanges service-account tokens for. */
export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/**
 * Workload identity of a cluster's DNS-writing add-ons: one user-assigned identity
 * per cluster, DNS Zone Contributor on its cell's zone only, and one federated
 * credential per (cluster, service account) trusting that cluster's OIDC issuer.
 */
export interface AzurePlatformArgs {
  ctx: CellContext;
  network: AzureNetwork;
  role: Role;
  cluster: AzureCluster;
  /** The cell's zone: the only zone the identity may write. */
  dns: CellDns;
  /** The cluster's DNS-writing service accounts (cells/plan/platform.ts dnsWritersFor). */
  writers: ServiceAccountRef[];
  /** The cell's zone-lister role (dnsZoneListerRole): granted where external-dns runs. */
  zoneLister: ZoneLister;
  parent: pulumi.Resource;
}

export function bindAzurePlatform({ ctx, network, role, cluster, dns, writers, zoneLister, parent }: AzurePlatformArgs): PlatformBindings {
  const id = ctx.cell.id;
  const name = `${id}-${role}`;
  const o = { parent };
  const tags = { ...ctx.tags, role };

  const identity = new managedidentity.UserAssignedIdentity(
    `${name}-dns-identity`,
    { resourceGroupName: network.resourceGroupName, location: ctx.region.region, resourceName: azureNames.dnsIdentity(id, role), tags },
    o,
  );

  roleAssignment(
    `${name}-dns-zone-contributor`,
    // The cell's zone only: not the region zone, not a resource group, never the subscription.
    { meaning: `${ctx.stack}/${id}/${role}/dns-zone-contributor`, scope: dns.zoneId, role: "dnsZoneContributor", principalId: identity.principalId },
    o,
  );

  if (writers.some((sa) => sa.namespace === DNS_WRITERS.externalDns.namespace && sa.name === DNS_WRITERS.externalDns.name)) {
    // external-dns lists the zones of its resource group before it writes one: without
    // this it gets 403 and publishes nothing. The cell's own list-only role, on the cell's group.
    new authorization.RoleAssignment(
      `${name}-dns-zone-lister`,
      {
        roleAssignmentName: stableGuid(`${ctx.stack}/${id}/${role}/dns-zone-lister`),
        scope: zoneLister.scope,
        roleDefinitionId: zoneLister.roleDefinitionId,
        principalId: identity.principalId,
        principalType: "ServicePrincipal",
      },
      o,
    );
  }

  // Azure rejects parallel writes of credentials to one identity (409): chain them.
  let previous: pulumi.Resource | undefined;
  for (const sa of writers) {
    const credential: managedidentity.FederatedIdentityCredential = new managedidentity.FederatedIdentityCredential(
      `${name}-${sa.name}-federation`,
      {
        resourceGroupName: network.resourceGroupName,
        resourceName: identity.name,
        federatedIdentityCredentialResourceName: `${sa.namespace}-${sa.name}`,
        issuer: cluster.oidcIssuerUrl,
        subject: `system:serviceaccount:${sa.namespace}:${sa.name}`,
        audiences: [TOKEN_EXCHANGE_AUDIENCE],
      },
      { ...o, dependsOn: previous ? [previous] : [] },
    );
    previous = credential;
  }

  const workloadIdentity: WorkloadIdentity = {
    serviceAccountLabels: { "azure.workload.identity/use": "true" },
    serviceAccountAnnotations: { "azure.workload.identity/client-id": identity.clientId },
    podLabels: { "azure.workload.identity/use": "true" },
  };
  const zoneScope = dns.zoneId.apply(armScope);

  return {
    identities: Object.fromEntries(writers.map((sa) => [`${sa.namespace}/${sa.name}`, workloadIdentity])),
    dns01Solver: {
      azureDNS: {
        subscriptionID: zoneScope.subscriptionId,
        resourceGroupName: zoneScope.resourceGroupName,
        hostedZoneName: dns.zoneName,
        environment: "AzurePublicCloud",
        managedIdentity: { clientID: identity.clientId },
      },
    },
    externalDnsValues: {
      provider: { name: "azure" },
      // The azure provider reads azure.json; with workload identity it holds no secret.
      secretConfiguration: {
        enabled: true,
        mountPath: "/etc/kubernetes/",
        data: {
          "azure.json": pulumi.jsonStringify({
            tenantId: identity.tenantId,
            subscriptionId: zoneScope.subscriptionId,
            resourceGroup: zoneScope.resourceGroupName,
            useWorkloadIdentityExtension: true,
          }),
        },
      },
    },
    gatewayServiceAnnotations: {
      // Azure's LB probes HTTP "/" on http ports by default; the gateway answers readiness here.
      "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/healthz/ready",
    },
    systemPoolTolerations: SYSTEM_POOL_TOLERATIONS,
    // AKS managed Cilium serves namespaced CiliumNetworkPolicy.
    networkPolicyDialect: "cilium",
    readyForKubernetes: cluster.readyForKubernetes,
    userPools: cluster.userPools,
  };
}
