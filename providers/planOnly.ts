import * as pulumi from "@pulumi/pulumi";
import { Cloud } from "../cells/plan/model";
import { cellDomain } from "../cells/plan/platform";
import { CloudProvider } from "./types";

/**
 * A cloud whose IP plan is complete but whose network and clusters are not built
 * yet: its cells register their Cell component only, and `plan` says so rather
 * than pretending.
 */
export function planOnlyProvider(cloud: Cloud): CloudProvider {
  return {
    cloud,
    buildsResources: false,
    buildNetwork: () => ({
      container: pulumi.output(""),
      networkId: pulumi.output(""),
      subnetIds: {},
      natPublicIps: {},
      readyForClusters: { proxy: [], "data-plane-mgmt": [], "data-plane": [] },
    }),
    buildClusters: () => ({}),
    // No zone is built yet; the zone name still flows into outputs and the plan.
    buildRegionDns: (ctx) => ({ zoneName: ctx.region.dns.zone, zoneId: pulumi.output(""), nameServers: pulumi.output([]) }),
    buildCellDns: (ctx, _network, region) => ({ zoneName: cellDomain(ctx.cell.id, region.zoneName), zoneId: pulumi.output("") }),
    bindPlatform: () => {
      throw new Error(`${cloud}: the platform layer needs clusters, which this cloud does not build yet`);
    },
  };
}
