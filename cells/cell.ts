import * as pulumi from "@pulumi/pulumi";
import { CellConfig, RegionConfig } from "./config";
import { CellIpPlan, COMPONENT_TYPES, Role } from "./plan/model";
import { resourceTags } from "./plan/naming";
import { ClusterPlatform } from "../components/platform";
import { CloudProvider, ClusterOutputs, RegionDns } from "../providers/types";

export interface CellArgs {
  stack: string;
  region: RegionConfig;
  cell: CellConfig;
  plan: CellIpPlan;
  provider: CloudProvider;
  /** The region zone; the cell publishes in its own zone `<cell>.<zone>`, delegated from it. */
  dns: RegionDns;
}

/**
 * One cell: an independent failure and scaling unit. The cloud builds network,
 * clusters and DNS (providers/<cloud>); the cloud-neutral platform layer goes on
 * every cluster. Its Pulumi name is the cell id, so its children keep their URNs
 * whatever happens to other cells.
 */
export class Cell extends pulumi.ComponentResource {
  public readonly cellId: string;
  public readonly ipPlan: CellIpPlan;
  public readonly networkId: pulumi.Output<string>;
  public readonly subnetIds: Record<string, pulumi.Output<string>>;
  public readonly natPublicIps: Record<string, pulumi.Output<string>>;
  /** What the cell's tenant services need from it (CellInfra.serviceInputs). */
  public readonly serviceInputs: Record<string, pulumi.Input<string>>;
  public readonly clusters: Partial<Record<Role, ClusterOutputs>>;
  /** The platform layer of each cluster (cert-manager, external-dns, Istio). */
  public readonly platforms: Partial<Record<string, ClusterPlatform>>;
  /** The cell's zone, `<cell>.<region zone>`. */
  public readonly domain: string;

  constructor(name: string, args: CellArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.cell, name, {}, opts);
    const { stack, region, cell, plan, provider, dns } = args;
    const ctx = { stack, region, cell, plan, tags: resourceTags(region.tags, region.region, stack, cell.id) };
    const infra = provider.buildCell({ ctx, regionDns: dns, parent: this });
    this.domain = infra.dns.zoneName;
    this.clusters = {};
    this.platforms = {};
    for (const [role, cluster] of Object.entries(infra.clusters) as [Role, (typeof infra.clusters)[Role] & object][]) {
      const { platform: bindings, ...outputs } = cluster;
      this.clusters[role] = outputs;
      this.platforms[role] = new ClusterPlatform(
        `${cell.id}-${role}-platform`,
        {
          stack,
          cellId: cell.id,
          role,
          zone: infra.dns.zoneName,
          plan,
          platform: region.platform,
          kubeconfig: cluster.kubeconfig,
          clusterId: cluster.id,
          bindings,
        },
        { parent: this },
      );
    }
    this.cellId = cell.id;
    this.ipPlan = plan;
    this.networkId = infra.networkId;
    this.subnetIds = infra.subnetIds;
    this.natPublicIps = infra.natPublicIps;
    this.serviceInputs = infra.serviceInputs ?? {};
    this.registerOutputs({
      networkId: this.networkId,
      subnetIds: this.subnetIds,
      natPublicIps: this.natPublicIps,
      clusterNames: Object.fromEntries(Object.entries(this.clusters).map(([r, c]) => [r, c.name])),
    });
  }
}
