import * as pulumi from "@pulumi/pulumi";
import { RegionConfig } from "./config";
import { Cell } from "./cell";
import { PROVIDERS } from "../providers";

export interface RegionArgs {
  stack: string;
  config: RegionConfig;
}

/**
 * A region stack: N independent cells. Cells are keyed by id and never wait on
 * each other, so adding one registers only its own resources.
 */
export class Region extends pulumi.ComponentResource {
  public readonly cells: Record<string, Cell>;

  constructor(name: string, args: RegionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cellplane:cells:Region", name, {}, opts);
    const { config, stack } = args;
    const provider = PROVIDERS[config.cloud];
    this.cells = {};
    for (const cell of config.cells) {
      this.cells[cell.id] = new Cell(cell.id, { stack, region: config, cell, plan: config.plans[cell.id], provider }, { parent: this });
    }
    this.registerOutputs({ cells: Object.keys(this.cells) });
  }

  /** Stack outputs: per cell, what SREs and the control plane read. Kubeconfigs are secrets. */
  public outputs() {
    return Object.fromEntries(
      Object.values(this.cells).map((c) => [
        c.cellId,
        {
          cidr: c.ipPlan.cidr,
          networkId: c.networkId,
          clusters: Object.fromEntries(
            Object.entries(c.clusters).map(([role, k]) => [role, { name: k.name, id: k.id, apiEndpoint: k.apiEndpoint, oidcIssuerUrl: k.oidcIssuerUrl }]),
          ),
          kubeconfigs: pulumi.secret(Object.fromEntries(Object.entries(c.clusters).map(([role, k]) => [role, k.kubeconfig]))),
          subnetIds: c.subnetIds,
          natPublicIps: c.natPublicIps,
        },
      ]),
    );
  }
}
