import * as pulumi from "@pulumi/pulumi";
import { CellConfig, RegionConfig } from "./config";
import { CellIpPlan, Role } from "./plan/model";
import { dnsWritersFor } from "./plan/platform";
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
 * One cell: an independent failure and scaling unit. network -> clusters -> platform.
 * Its Pulumi name is the cell id, so its children keep their URNs whatever happens
 * to other cells.
 */
export class Cell extends pulumi.ComponentResource {
  public readonly cellId: string;
  public readonly ipPlan: CellIpPlan;
  public readonly networkId: pulumi.Output<string>;
  public readonly subnetIds: Record<string, pulumi.Output<string>>;
  public readonly natPublicIps: Record<string, pulumi.Output<string>>;
  public readonly clusters: Partial<Record<Role, ClusterOutputs>>;
  /** The platform layer of each cluster (cert-manager, external-dns, Istio). */
  public readonly platforms: Partial<Record<string, ClusterPlatform>>;
  /** The cell's zone, `<cell>.<region zone>`. */
  public readonly domain: string;

  constructor(name: string, args: CellArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cellplane:cells:Cell", name, {}, opts);
    const { stack, region, cell, plan, provider, dns } = args;
    const ctx = {
      stack,
      region,
      cell,
      plan,
      tags: { ...region.tags, cell: cell.id, region: region.region, stack, "managed-by": "cellplane" },
    };
    const network = provider.buildNetwork(ctx, this);
    this.clusters = provider.buildClusters(ctx, network, this);
    const cellDns = provider.buildCellDns(ctx, network, dns, this);
    this.domain = cellDns.zoneName;
    this.platforms = {};
    for (const [role, cluster] of Object.entries(this.clusters) as [Role, ClusterOutputs][]) {
      const bindings = provider.bindPlatform(ctx, network, role, cluster, cellDns, dnsWritersFor(role), this);
      this.platforms[role] = new ClusterPlatform(
        `${cell.id}-${role}-platform`,
        {
          stack,
          cellId: cell.id,
          role,
          zone: cellDns.zoneName,
          plan,
          platform: region.platform,
          kubeconfig: cluster.kubeconfig,
          clusterId: cluster.id,
          readyForKubernetes: cluster.readyForKubernetes,
          userPools: cluster.userPools,
          bindings,
        },
        { parent: this },
      );
    }
    this.cellId = cell.id;
    this.ipPlan = plan;
    this.networkId = network.networkId;
    this.subnetIds = network.subnetIds;
    this.natPublicIps = network.natPublicIps;
    this.registerOutputs({
      networkId: this.networkId,
      subnetIds: this.subnetIds,
      natPublicIps: this.natPublicIps,
      clusterNames: Object.fromEntries(Object.entries(this.clusters).map(([r, c]) => [r, c.name])),
    });
  }
}
