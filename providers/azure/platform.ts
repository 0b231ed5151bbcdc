import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { Role } from "../../cells/plan/model";
import { stableGuid } from "../../cells/plan/naming";
import { ServiceAccountRef } from "../../cells/plan/platform";
import { CellContext, CellDns, CellNetwork, ClusterOutputs, PlatformBindings, WorkloadIdentity } from "../types";
import { armScope } from "./dns";
import { azureNames } from "./names";

/** Built-in role "DNS Zone Contributor": manage records of a zone, nothing else. */
export const DNS_ZONE_CONTRIBUTOR_ROLE = "befefa01-2a29-4197-83a8-272ff33ce314";

/** Audience AKS workload identity exchanges service-account tokens for. */
const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/**
 * Workload identity of a cluster's DNS-writing add-ons: one user-assigned identity
 * per cluster, DNS Zone Contributor on its cell's zone only, and one federated
 * credential per (cluster, service account) trusting that cluster's OIDC issuer.
 */
export function bindAzurePlatform(
  ctx: CellContext,
  network: CellNetwork,
  role: Role,
  cluster: ClusterOutputs,
  dns: CellDns,
  writers: ServiceAccountRef[],
  parent: pulumi.Resource,
): PlatformBindings {
  const id = ctx.cell.id;
  const name = `${id}-${role}`;
  const o = { parent };
  const tags = { ...ctx.tags, role };
  const client = authorization.getClientConfigOutput({ parent });

  const identity = new managedidentity.UserAssignedIdentity(
    `${name}-dns-identity`,
    { resourceGroupName: network.container, location: ctx.region.region, resourceName: azureNames.dnsIdentity(id, role), tags },
    o,
  );

  new authorization.RoleAssignment(
    `${name}-dns-zone-contributor`,
    {
      roleAssignmentName: stableGuid(`${ctx.stack}/${id}/${role}/dns-zone-contributor`),
      // The cell's zone only: not the region zone, not a resource group, never the subscription.
      scope: dns.zoneId,
      roleDefinitionId: pulumi.interpolate`/subscriptions/${client.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${DNS_ZONE_CONTRIBUTOR_ROLE}`,
      principalId: identity.principalId,
      principalType: "ServicePrincipal",
    },
    o,
  );

  // Azure rejects parallel writes of credentials to one identity (409): chain them.
  let previous: pulumi.Resource | undefined;
  for (const sa of writers) {
    const credential: managedidentity.FederatedIdentityCredential = new managedidentity.FederatedIdentityCredential(
      `${name}-${sa.name}-federation`,
      {
        resourceGroupName: network.container,
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
  };
}
