import * as pulumi from "@pulumi/pulumi";
import { RegionConfig } from "./config";
import { Cell } from "./cell";
import { COMPONENT_TYPES } from "./plan/model";
import { resourceTags } from "./plan/naming";
import { CloudProvider, RegionDns } from "../providers/types";

export interface RegionArgs {
  stack: string;
  config: RegionConfig;
  /** The build face of the region's cloud (providers/index.ts loadProvider). */
  provider: CloudProvider;
}

/**
 * A region stack: the region's DNS zone and N independent cells. Cells are keyed
 * by id and never wait on each other, so adding one registers only its own
 * resources; each publishes in its own zone `<cell>.<zone>`, delegated from the region's.
 */
export class Region extends pulumi.ComponentResource {
  public readonly cells: Record<string, Cell>;
  public readonly dns: RegionDns;

  private constructor(
    name: string,
    private readonly args: RegionArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(COMPONENT_TYPES.region, name, {}, opts);
    const { config, stack, provider } = args;
    const tags = resourceTags(config.tags, config.region, stack);
    this.dns = provider.buildRegionDns({ stack, region: config, tags }, this);
    this.cells = {};
  }

  /**
   * The region with all its cells. Cells are built one per turn of the event loop: the
   * registrations of a cell the engine answers at once (every cell but the new one when a
   * cell is added; everything in a preview or under the offline runner's mocks) settle
   * before the next cell is built, so the SDK's per-property promise chains of at most one
   * cell are in flight, not of the whole region (issue 16: the in-flight chains are ~2.5x
   * a settled resource's memory). Cells never wait on each other: nothing depends on the
   * order, and the engine still sees every cell registered within the same second.
   */
  static async build(name: string, args: RegionArgs, opts?: pulumi.ComponentResourceOptions): Promise<Region> {
    const region = new Region(name, args, opts);
    const { config, stack, provider } = region.args;
    for (const cell of config.cells) {
      region.cells[cell.id] = new Cell(cell.id, { stack, region: config, cell, plan: config.plans[cell.id], provider, dns: region.dns }, { parent: region });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    region.registerOutputs({ cells: Object.keys(region.cells), dnsZone: region.dns.zoneName });
    return region;
  }

  /** Stack outputs: per cell, what SREs and the control plane read. Kubeconfigs are secrets. */
  public outputs() {
    return {
      dns: { zone: this.dns.zoneName, nameServers: this.dns.nameServers },
      cells: Object.fromEntries(
        Object.values(this.cells).map((c) => [
          c.cellId,
          {
            cidr: c.ipPlan.cidr,
            domain: c.domain,
            networkId: c.networkId,
            clusters: Object.fromEntries(
              Object.entries(c.clusters).map(([role, k]) => [
                role,
                { name: k.name, id: k.id, apiEndpoint: k.apiEndpoint, oidcIssuerUrl: k.oidcIssuerUrl, ingressHostnames: c.platforms[role]?.ingressHostnames ?? [] },
              ]),
            ),
            kubeconfigs: pulumi.secret(Object.fromEntries(Object.entries(c.clusters).map(([role, k]) => [role, k.kubeconfig]))),
            subnetIds: c.subnetIds,
            natPublicIps: c.natPublicIps,
            ipPlan: c.ipPlan,
          },
        ]),
      ),
    };
  }
}
