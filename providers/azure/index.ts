import * as pulumi from "@pulumi/pulumi";
import { ROLES, Role } from "../../cells/plan/model";
import { CellContext, CellNetwork, CloudProvider, ClusterOutputs } from "../types";
import { buildAzureCluster } from "./cluster";
import { buildAzureCellDns, buildAzureRegionDns } from "./dns";
import { buildCellKms } from "./kms";
import { buildCellLogWorkspace } from "./logging";
import { bindAzurePlatform } from "./platform";
import { buildAzureNetwork, buildResourceGroup } from "./network";

/**
 * Azure: a DNS zone per region; per cell a delegated child zone, a resource group, VNET + zonal NAT + NSGs,
 * three AKS clusters on managed Cilium, and workload identities for the platform.
 */
export const azureProvider: CloudProvider = {
  cloud: "azure",
  buildsResources: true,
  buildNetwork(ctx: CellContext, parent: pulumi.ComponentResource): CellNetwork {
    const rg = buildResourceGroup(ctx, parent);
    return buildAzureNetwork(ctx, rg, parent);
  },
  buildClusters(ctx: CellContext, network: CellNetwork, parent: pulumi.ComponentResource): Partial<Record<Role, ClusterOutputs>> {
    // The three clusters of a cell do not wait on each other.
    // Shared by the cell's clusters, never by cells: the audit-log workspace and the KMS key.
    const services = { logWorkspaceId: buildCellLogWorkspace(ctx, network.container, parent).id, kms: buildCellKms(ctx, network.container, parent) };
    return Object.fromEntries(ROLES.map((role) => [role, buildAzureCluster(ctx, role, network, services, parent)]));
  },
  buildRegionDns: buildAzureRegionDns,
  buildCellDns: buildAzureCellDns,
  bindPlatform: bindAzurePlatform,
};
