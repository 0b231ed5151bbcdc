import * as pulumi from "@pulumi/pulumi";
import { CellConfig, RegionConfig } from "../cells/config";
import { CellIpPlan, Cloud, Role } from "../cells/plan/model";
import { ServiceAccountRef } from "../cells/plan/platform";

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
  /**
   * What must exist before anything is deployed into the cluster with this
   * kubeconfig (the deployer's Kubernetes RBAC role on the cluster).
   */
  readyForKubernetes: pulumi.Resource[];
  /** The user node pools: workloads that do not run on system pools wait for them. */
  userPools: pulumi.Resource[];
}

/** What the region stack builds once, above its cells. */
export interface RegionContext {
  stack: string;
  region: RegionConfig;
  tags: Record<string, string>;
}

/** The region's public DNS zone (cellplane:dns.zone). Cells publish under `<cell>.<zone>`. */
export interface RegionDns {
  /** The zone's name, e.g. eastus2.azure.db.example.com. */
  zoneName: string;
  /** The zone's cloud id: what identities are scoped to. */
  zoneId: pulumi.Output<string>;
  /** Name servers to delegate the zone to from its parent domain. */
  nameServers: pulumi.Output<string[]>;
}

/**
 * The cell's own DNS zone, `<cell>.<region zone>`, delegated from the region zone.
 * Clients reach the cell through it, and the cell's add-ons can write it and
 * nothing else: no cluster can touch another cell's records.
 */
export interface CellDns {
  /** `<cell>.<region zone>`. */
  zoneName: string;
  /** The zone's cloud id: what the cell's DNS identities are scoped to. */
  zoneId: pulumi.Output<string>;
}

/** Workload-identity metadata of one add-on: on its service account and its pods. */
export interface WorkloadIdentity {
  serviceAccountLabels: Record<string, string>;
  serviceAccountAnnotations: Record<string, pulumi.Input<string>>;
  podLabels: Record<string, string>;
}

/**
 * The cloud-specific values the cloud-neutral platform components need on one
 * cluster: who the add-ons are, how cert-manager and external-dns reach the
 * cloud's DNS, and how the cloud's L4 load balancer is annotated.
 */
export interface PlatformBindings {
  /** Identity per DNS-writing service account, keyed "namespace/name". */
  identities: Record<string, WorkloadIdentity>;
  /** The cert-manager ACME `dns01` solver block for the cell zone (e.g. `{azureDNS: {...}}`). Leaves may be Outputs. */
  dns01Solver: Record<string, unknown>;
  /** external-dns chart values for the cloud: provider name and its settings. */
  externalDnsValues: Record<string, unknown>;
  /** Annotations on the Istio gateway's LoadBalancer Service. */
  gatewayServiceAnnotations: Record<string, string>;
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
  /** The region zone. Built once per stack, before and independent of the cells. */
  buildRegionDns(ctx: RegionContext, parent: pulumi.ComponentResource): RegionDns;
  /** The cell's zone `<cell>.<region zone>` and its delegation from the region zone. */
  buildCellDns(ctx: CellContext, network: CellNetwork, region: RegionDns, parent: pulumi.ComponentResource): CellDns;
  /**
   * Identities of a cluster's DNS-writing add-ons (`writers`), scoped to the cell
   * zone only, and the cloud's values for the platform charts.
   */
  bindPlatform(
    ctx: CellContext,
    network: CellNetwork,
    role: Role,
    cluster: ClusterOutputs,
    dns: CellDns,
    writers: ServiceAccountRef[],
    parent: pulumi.ComponentResource,
  ): PlatformBindings;
}
