import * as pulumi from "@pulumi/pulumi";
import { Cloud } from "../cells/plan/model";
import { cellDomain } from "../cells/plan/platform";
import { CloudProvider } from "./types";

/**
 * A cloud whose IP plan is complete but whose build face is not written yet: its
 * cells register their Cell component only, and `plan` says so rather than
 * pretending.
 */
export function planOnlyProvider(cloud: Cloud): CloudProvider {
  return {
    cloud,
    buildsResources: false,
    // No zone is built yet; the zone name still flows into outputs and the plan.
    buildRegionDns: (ctx) => ({ zoneName: ctx.region.dns.zone, zoneId: pulumi.output(""), nameServers: pulumi.output([]) }),
    buildCell: ({ ctx, regionDns }) => ({
      networkId: pulumi.output(""),
      subnetIds: {},
      natPublicIps: {},
      dns: { zoneName: cellDomain(ctx.cell.id, regionDns.zoneName), zoneId: pulumi.output("") },
      clusters: {},
    }),
  };
}
