import { ROLES, Role } from "../../cells/plan/model";
import { dnsWritersFor } from "../../cells/plan/platform";
import { BuildCellArgs, CellInfra, CloudProvider, ClusterInfra } from "../types";
import { buildAzureCluster } from "./cluster";
import { armScope, buildAzureCellDns, buildAzureRegionDns } from "./dns";
import { dnsZoneListerRole } from "./rbac";
import { buildCellKms } from "./kms";
import { buildCellLogWorkspace } from "./logging";
import { bindAzurePlatform } from "./platform";
import { buildAzureNetwork, buildResourceGroup } from "./network";
import { buildAzureService } from "./service";

/*
 * Azure's build face: a DNS zone per region; per cell a resource group, VNET +
 * zonal NAT + NSGs, three AKS clusters on managed Cilium, an audit-log workspace
 * and a KMS key shared by the cell's clusters (never by cells), a delegated child
 * zone, and workload identities for the platform. Its pure face is
 * cells/plan/clouds/azure.ts; its mocks are ./mocks.ts.
 */

function buildAzureCell({ ctx, regionDns, parent }: BuildCellArgs): CellInfra {
  const rg = buildResourceGroup(ctx, parent);
  const network = buildAzureNetwork(ctx, rg, parent);
  const services = { logWorkspaceId: buildCellLogWorkspace(ctx, network.resourceGroupName, parent).id, kms: buildCellKms(ctx, network.resourceGroupName, parent) };
  // The three clusters of a cell do not wait on each other.
  const clusters = Object.fromEntries(ROLES.map((role) => [role, buildAzureCluster({ ctx, role, network, services, parent })]));
  const dns = buildAzureCellDns(ctx, network.resourceGroupName, regionDns, parent);
  const zoneLister = dnsZoneListerRole(
    `${ctx.cell.id}-dns-zone-lister-role`,
    {
      meaning: `${ctx.stack}/${ctx.cell.id}/dns-zone-lister`,
      resourceGroupId: dns.zoneId.apply((zoneId) => {
        const { subscriptionId, resourceGroupName } = armScope(zoneId);
        return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}`;
      }),
      roleName: `cellplane dns zone lister ${ctx.stack} ${ctx.cell.id}`,
    },
    { parent },
  );
  const built: Partial<Record<Role, ClusterInfra>> = {};
  for (const role of ROLES) {
    const cluster = clusters[role];
    const platform = bindAzurePlatform({ ctx, network, role, cluster, dns, writers: dnsWritersFor(role), zoneLister, parent });
    const { readyForKubernetes: _r, userPools: _u, ...outputs } = cluster;
    built[role] = { ...outputs, platform };
  }
  return { networkId: network.vnetId, subnetIds: network.subnetIds, natPublicIps: network.natPublicIps, dns, clusters: built };
}

export const azureProvider: CloudProvider = {
  cloud: "azure",
  buildsResources: true,
  buildRegionDns: buildAzureRegionDns,
  buildCell: buildAzureCell,
  buildService: buildAzureService,
};
