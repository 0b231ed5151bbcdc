import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { gcpSettings } from "../../cells/plan/clouds/gcp";
import { cellDomain } from "../../cells/plan/platform";
import { CellContext, CellDns, RegionContext, RegionDns } from "../types";
import { gcpNames } from "./names";

/** external-dns lists the project's zones before it filters them; zone-level IAM cannot grant that. */
export const DNS_LIST_PERMISSIONS = ["dns.managedZones.list"];

/** The region's DNS: the public zone its parent domain delegates to, and the list-only role external-dns needs. */
export interface GcpRegionDns extends RegionDns {
  /** projects/<project>/roles/<id>: the list-only custom role. */
  listerRole: pulumi.Output<string>;
}

/**
 * The region's public Cloud DNS zone (protected: its parent delegates to its name
 * servers) and the project-level custom role with `dns.managedZones.list` only,
 * which external-dns needs whatever zone it writes (cloud-facts: zone-level IAM
 * cannot grant it). One role per region stack, so stacks sharing a project never
 * fight over it.
 */
export function buildGcpRegionDns(ctx: RegionContext, parent: pulumi.Resource): GcpRegionDns {
  const zoneName = ctx.region.dns.zone;
  const { project } = gcpSettings(ctx.region);
  const zone = new gcp.dns.ManagedZone(
    "region-dns-zone",
    { project, name: gcpNames.regionDnsZone(ctx.region.region), dnsName: `${zoneName}.`, visibility: "public", description: `cellplane region zone (${ctx.stack})`, labels: ctx.tags },
    { parent, protect: ctx.region.protect },
  );
  const role = new gcp.projects.IAMCustomRole(
    "region-dns-lister-role",
    {
      project,
      roleId: gcpNames.dnsListerRole(ctx.region.region),
      title: `cellplane DNS zone lister (${ctx.region.region})`,
      description: "external-dns lists managed zones before it filters them; it writes records only through zone-level grants",
      permissions: DNS_LIST_PERMISSIONS,
      stage: "GA",
    },
    { parent },
  );
  return { zoneName, zoneId: zone.name, nameServers: zone.nameServers, listerRole: role.name };
}

/** The cell's zone, its managed-zone name (what cert-manager and IAM refer to) and the delegation. */
export interface GcpCellDns extends CellDns {
  /** The managed zone's name in the project (hostedZoneName for cert-manager). */
  managedZone: pulumi.Output<string>;
  /** The NS record in the region zone: DNS01 challenges resolve only once it exists. */
  delegation: gcp.dns.RecordSet;
}

/**
 * The cell's zone `<cell>.<region zone>` and the NS record that delegates it from
 * the region zone. Both belong to the cell: retiring the cell removes them.
 */
export function buildGcpCellDns(ctx: CellContext, region: RegionDns, parent: pulumi.Resource): GcpCellDns {
  const id = ctx.cell.id;
  const { project } = gcpSettings(ctx.region);
  const zoneName = cellDomain(id, region.zoneName);
  const zone = new gcp.dns.ManagedZone(
    `${id}-dns-zone`,
    { project, name: gcpNames.cellDnsZone(ctx.region.region, id), dnsName: `${zoneName}.`, visibility: "public", description: `cellplane cell ${id} (${ctx.stack})`, labels: ctx.tags },
    { parent, protect: ctx.region.protect },
  );
  const delegation = new gcp.dns.RecordSet(
    `${id}-dns-delegation`,
    { project, managedZone: region.zoneId, name: `${zoneName}.`, type: "NS", ttl: 3600, rrdatas: zone.nameServers },
    { parent },
  );
  return { zoneName, zoneId: zone.name, managedZone: zone.name, delegation };
}
