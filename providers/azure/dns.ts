import * as pulumi from "@pulumi/pulumi";
import * as dns from "@pulumi/azure-native/dns";
import * as resources from "@pulumi/azure-native/resources";
import { RegionContext, RegionDns } from "../types";
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

/** Subscription and resource group of an ARM id: what cert-manager's azureDNS solver asks for. */
export function armScope(id: string): { subscriptionId: string; resourceGroupName: string } {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\//i.exec(id);
  if (!m) throw new Error(`not an ARM resource id: ${id}`);
  return { subscriptionId: m[1], resourceGroupName: m[2] };
}
