import { ROLES, Role } from "../../cells/plan/model";
import { dnsWritersFor } from "../../cells/plan/platform";
import { gcpSettings } from "../../cells/plan/clouds/gcp";
import { BuildCellArgs, CellInfra, CloudProvider, ClusterInfra, RegionDns } from "../types";
import { buildGcpCluster } from "./cluster";
import { buildGcpCellDns, buildGcpRegionDns, GcpRegionDns } from "./dns";
import { buildGcpCellKms } from "./kms";
import { buildGcpNetwork } from "./network";
import { bindGcpPlatform } from "./platform";
import { buildGcpService, GCP_SERVICE_INPUTS } from "./service";

/*
 * GCP's build face: a Cloud DNS zone and a list-only custom role per region; per
 * cell a custom-mode VPC with a regional subnetwork per role (secondary ranges per
 * zone), Cloud NAT on reserved addresses, firewall isolation on node service
 * accounts and ranges, a KMS key, three GKE clusters on Dataplane V2, a delegated
 * child zone, and Workload Identity for the platform. Its pure face is
 * cells/plan/clouds/gcp.ts; its mocks are ./mocks.ts.
 */

function gcpRegionDns(regionDns: RegionDns): GcpRegionDns {
  if (!("listerRole" in regionDns)) throw new Error("cellplane: the GCP build face got a region zone it did not build");
  return regionDns as GcpRegionDns;
}

function buildGcpCell({ ctx, regionDns, parent }: BuildCellArgs): CellInfra {
  const region = gcpRegionDns(regionDns);
  const network = buildGcpNetwork(ctx, parent);
  const kms = buildGcpCellKms(ctx, parent);
  const dns = buildGcpCellDns(ctx, regionDns, parent);
  const built: Partial<Record<Role, ClusterInfra>> = {};
  // The three clusters of a cell do not wait on each other.
  for (const role of ROLES) {
    const cluster = buildGcpCluster({ ctx, role, network, kms, parent });
    const platform = bindGcpPlatform({ ctx, network, role, cluster, dns, listerRole: region.listerRole, writers: dnsWritersFor(role), parent });
    const { systemPools: _s, userPools: _u, resource: _r, ...outputs } = cluster;
    built[role] = { ...outputs, platform };
  }
  const { project } = gcpSettings(ctx.region);
  return {
    networkId: network.networkId,
    subnetIds: network.subnetIds,
    natPublicIps: network.natPublicIps,
    dns: { zoneName: dns.zoneName, zoneId: dns.zoneId },
    clusters: built,
    // What the cell's tenant services need (providers/gcp/service.ts): the project and its Workload Identity pool.
    serviceInputs: { [GCP_SERVICE_INPUTS.project]: project, [GCP_SERVICE_INPUTS.workloadPool]: `${project}.svc.id.goog` },
  };
}

export const gcpProvider: CloudProvider = {
  cloud: "gcp",
  buildsResources: true,
  buildRegionDns: buildGcpRegionDns,
  buildCell: buildGcpCell,
  buildService: buildGcpService,
};
