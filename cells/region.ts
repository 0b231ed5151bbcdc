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
   * The region with all its cells. Cells are built one after another, and before the next
   * one the previous cell's registrations are waited for while the engine keeps answering
   * them (a gap of SETTLE_MS without an answer ends the wait): when the
   * engine answers at once (a preview, the offline runner's mocks, every unchanged cell of
   * an update) a cell settles before the next is built, so the SDK's per-property promise
   * chains of about one cell are in flight, not of the whole region (issue 16: an
   * in-flight resource holds ~2.5x the memory of a settled one). When the engine does not
   * answer at once (an update creating cells: a registration returns when the cloud is
   * done), the wait ends SETTLE_MS after the last answer and the cells still deploy in
   * parallel; a region built from scratch starts each cell a fraction of a second later. Nothing
   * depends on the order: cells never wait on each other's resources.
   */
  static async build(name: string, args: RegionArgs, opts?: pulumi.ComponentResourceOptions): Promise<Region> {
    const region = new Region(name, args, opts);
    const { config, stack, provider } = region.args;
    for (const cell of config.cells) {
      const built: pulumi.Resource[] = [];
      // Records the cell's resources as they are constructed (inherited by every child); changes nothing.
      const track: pulumi.ResourceTransformation = ({ resource }) => {
        built.push(resource);
        return undefined;
      };
      region.cells[cell.id] = new Cell(
        cell.id,
        { stack, region: config, cell, plan: config.plans[cell.id], provider, dns: region.dns },
        { parent: region, transformations: [track] },
      );
      await answeredOrQuiet(built, SETTLE_MS);
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
            serviceInputs: c.serviceInputs,
          },
        ]),
      ),
    };
  }
}

/**
 * How long the engine may answer none of a cell's registrations before the next cell is
 * built anyway. An answering engine (preview, mocks, unchanged resources) answers within
 * milliseconds of each other however long the whole cell takes; a creating one goes silent.
 */
export const SETTLE_MS = 250;

/**
 * Resolves when every resource's registration is answered (its URN is known), or when
 * none has been answered for `quietMs`: the engine is creating them, and waiting longer
 * would serialize cells.
 */
function answeredOrQuiet(resources: pulumi.Resource[], quietMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let left = resources.length;
    let lastAnswer = Date.now();
    const done = () => {
      clearInterval(timer);
      resolve();
    };
    const timer = setInterval(() => Date.now() - lastAnswer > quietMs && done(), Math.ceil(quietMs / 5));
    if (left === 0) return done();
    for (const r of resources) {
      r.urn.apply(() => {
        lastAnswer = Date.now();
        if (--left === 0) done();
      });
    }
  });
}
