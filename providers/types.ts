import * as pulumi from "@pulumi/pulumi";
import { CellConfig, RegionConfig } from "../cells/config";
import { CellIpPlan, Cloud, Role } from "../cells/plan/model";

/*
 * The one interface every cloud implements. cells/ composes a cell through it and
 * never asks which cloud it is on; a cloud is added by writing providers/<cloud>.
 */

/** Everything a cloud needs to build one cell. Plain values decide which resources exist. */
export interface CellContext {
  stack: string;
  region: RegionConfig;
  cell: CellConfig;
  plan: CellIpPlan;
  /** Tags/labels for every resource of the cell: cell, role (per resource), region, stack and config tags. */
  tags: Record<string, string>;
}

/** What a cell's network exposes to its clusters and to stack outputs. */
export interface CellNetwork {
  /** Where the cell's resources live: the Azure resource group name, the GCP project, the AWS account. */
  container: pulumi.Output<string>;
  /** VNET / VPC id. */
  networkId: pulumi.Output<string>;
  /** Subnet ids keyed "role/zone/kind" (see subnetKey in cells/plan/ipplan.ts). */
  subnetIds: Record<string, pulumi.Output<string>>;
  /** NAT public IP per zone. */
  natPublicIps: Record<string, pulumi.Output<string>>;
  /** Resources a cluster must wait for beyond what its inputs reference (NAT attached to every subnet). */
  readyForClusters: Record<Role, pulumi.Resource[]>;
}

export interface ClusterOutputs {
  name: pulumi.Output<string>;
  id: pulumi.Output<string>;
  /** HTTPS endpoint of the Kubernetes API server. */
  apiEndpoint: pulumi.Output<string>;
  /** OIDC issuer URL for workload identity federation. */
  oidcIssuerUrl: pulumi.Output<string>;
  /** Kubeconfig of the cluster: always a secret. */
  kubeconfig: pulumi.Output<string>;
}

export interface CloudProvider {
  cloud: Cloud;
  /**
   * True when this cloud builds real resources. The AWS and GCP implementations plan
   * their IP layout today and build resources in their own issues; `plan` says so.
   */
  buildsResources: boolean;
  buildNetwork(ctx: CellContext, parent: pulumi.ComponentResource): CellNetwork;
  buildClusters(ctx: CellContext, network: CellNetwork, parent: pulumi.ComponentResource): Partial<Record<Role, ClusterOutputs>>;
}
