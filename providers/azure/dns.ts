import * as pulumi from "@pulumi/pulumi";
import * as dns from "@pulumi/azure-native/dns";
import * as resources from "@pulumi/azure-native/resources";
import { cellDomain } from "../../cells/plan/platform";
import { CellContext, CellDns, RegionContext, RegionDns } from "../types";
import { azureNames } from "./names";

/**
 * The region's public DNS zone, in a resource group of its own: it outlives every
 * cell, and its parent domain delegates to its name servers, so it is protected.
 */
export function buildAzureRegionDns(ctx: RegionContext, parent: pulumi.Resource): RegionDns {
  const zoneName = ctx.region.dns.zone;
  const o = { parent, protect: ctx.region.protect };
  const rg = new resources.ResourceGroup(
    "region-dns-rg",
    { resourceGroupName: azureNames.regionDnsResourceGroup(ctx.region.region), location: ctx.region.region, tags: ctx.tags },
    o,
  );
  const zone = new dns.Zone("region-dns-zone", { resourceGroupName: rg.name, zoneName, location: "global", zoneType: "Public", tags: ctx.tags }, o);
  return { zoneName, zoneId: zone.id, nameServers: zone.nameServers.apply((ns) => ns ?? []) };
}

/**
 * The cell's zone `<cell>.<region zone>` in the cell's resource group, and the NS
 * record that delegates it from the region zone. Both belong to the cell: retiring
 * the cell removes its delegation and every record under it, so no name is left
 * pointing at an address the cell has released.
 */
export function buildAzureCellDns(ctx: CellContext, resourceGroupName: pulumi.Input<string>, region: RegionDns, parent: pulumi.Resource): CellDns {
  const id = ctx.cell.id;
  const zoneName = cellDomain(id, region.zoneName);
  const zone = new dns.Zone(
    `${id}-dns-zone`,
    { resourceGroupName, zoneName, location: "global", zoneType: "Public", tags: ctx.tags },
    { parent, protect: ctx.region.protect },
  );
  new dns.RecordSet(
    `${id}-dns-delegation`,
    {
      resourceGroupName: region.zoneId.apply((zoneId) => armScope(zoneId).resourceGroupName),
      zoneName: region.zoneName,
      relativeRecordSetName: id,
      recordType: "NS",
      ttl: 3600,
      nsRecords: zone.nameServers.apply((ns) => (ns ?? []).map((nsdname) => ({ nsdname }))),
    },
    { parent },
  );
  return { zoneName, zoneId: zone.id };
}

/** Subscription and resource group of an ARM id: what cert-manager's azureDNS solver asks for. */
export function armScope(id: string): { subscriptionId: string; resourceGroupName: string } {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\//i.exec(id);
  if (!m) throw new Error(`not an ARM resource id: ${id}`);
  return { subscriptionId: m[1], resourceGroupName: m[2] };
}
