import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { cellDomain } from "../../cells/plan/platform";
import { CellContext, CellDns, RegionContext, RegionDns } from "../types";

/**
 * The aws provider creates resources in `aws:region` (or AWS_REGION); AZ IDs,
 * endpoint service names and the kubeconfigs assume `cellplane:region`. A stack
 * whose two differ would build a cell in the wrong region, so it is refused.
 */
function checkProviderRegion(region: string): void {
  const configured = new pulumi.Config("aws").get("region") ?? process.env.AWS_REGION;
  if (configured !== undefined && configured !== region) {
    throw new pulumi.RunError(`cellplane: the aws provider's region is ${configured} but cellplane:region is ${region}\n      fix: pulumi config set aws:region ${region} (and unset AWS_REGION if it says otherwise)`);
  }
}

/** The region's public hosted zone. It outlives every cell and its parent domain delegates to it: protected. */
export function buildAwsRegionDns(ctx: RegionContext, parent: pulumi.Resource): RegionDns {
  checkProviderRegion(ctx.region.region);
  const zoneName = ctx.region.dns.zone;
  const zone = new aws.route53.Zone(
    "region-dns-zone",
    { name: zoneName, comment: `cellplane region ${ctx.region.region}`, forceDestroy: false, tags: ctx.tags },
    { parent, protect: ctx.region.protect },
  );
  return { zoneName, zoneId: zone.zoneId, nameServers: zone.nameServers };
}

/**
 * The cell's hosted zone `<cell>.<region zone>` and the NS record that delegates
 * it from the region zone. Both belong to the cell; the cell's DNS identities may
 * write this zone and no other.
 */
export function buildAwsCellDns(ctx: CellContext, region: RegionDns, parent: pulumi.Resource): CellDns & { zoneArn: pulumi.Output<string> } {
  const id = ctx.cell.id;
  const zoneName = cellDomain(id, region.zoneName);
  const zone = new aws.route53.Zone(`${id}-dns-zone`, { name: zoneName, forceDestroy: false, tags: ctx.tags }, { parent, protect: ctx.region.protect });
  new aws.route53.Record(`${id}-dns-delegation`, { zoneId: region.zoneId, name: zoneName, type: "NS", ttl: 3600, records: zone.nameServers }, { parent });
  return { zoneName, zoneId: zone.zoneId, zoneArn: zone.arn };
}
