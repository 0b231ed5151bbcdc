import * as pulumi from "@pulumi/pulumi";
import { CellConfig, RegionConfig } from "../cells/config";
import { CellIpPlan, Cloud, Role } from "../cells/plan/model";

/*
 * The seam every cloud plugs into. cells/ composes a region and its cells through
 * CloudProvider and never asks which cloud it is on. A cloud is two homes: its pure
 * face (cells/plan/clouds/<cloud>.ts: rules, names, VM defaults, config slice) and
 * its build face (providers/<cloud>/: resources, the data its network hands its
 * clusters, and its own mocks), plus one row in providers/index.ts and
 * providers/mocks.ts. What a cloud's network hands its clusters (resource groups,
 * security groups, route tables, secondary ranges...) stays inside its folder.
 */

/** Everything a cloud needs to build one cell. Plain values decide which resources exist. */
export interface CellContext {
  stack: string;
  region: RegionConfig;
  cell: CellConfig;
  plan: CellIpPlan;
  /** Tags/labels for every resource of the cell: cell, region, stack and config tags (see cellTags). */
  tags: Record<string, string>;
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
  /** The zone's cloud id: what the cells' delegations are written into. */
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

/** What stack outputs and the platform layer read of one cluster. */
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

/** Workload-identity metadata of one add-on: on its service account and its pods. */
export interface WorkloadIdentity {
  serviceAccountLabels: Record<string, string>;
  serviceAccountAnnotations: Record<string, pulumi.Input<string>>;
  podLabels: Record<string, string>;
}

/** A Kubernetes toleration, as Helm values take it. */
export interface Toleration {
  key: string;
  operator: "Exists" | "Equal";
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/**
 * Which API the cluster serves for the platform's allow rules next to the
 * default-deny Kubernetes NetworkPolicy. `cilium`: namespaced CiliumNetworkPolicy
 * (AKS managed Cilium, Cilium on EKS). `kubernetes`: plain Kubernetes
 * NetworkPolicy with ipBlock and namespace/pod selectors (GKE Dataplane V2, which
 * serves no namespaced CiliumNetworkPolicy). components/platform/networkPolicies.ts
 * (a `never`-checked switch) says how the same flows are written in each.
 */
export type NetworkPolicyDialect = "cilium" | "kubernetes";

/**
 * The cloud-specific values the cloud-neutral platform components need on one
 * cluster: who the add-ons are, how cert-manager and external-dns reach the
 * cloud's DNS, how the cloud's L4 load balancer is annotated, what the cluster's
 * system pools demand, and what must exist before the platform is installed.
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
  /** Tolerations that let cluster add-ons run on the cluster's (tainted) system pools; empty when they are not tainted. */
  systemPoolTolerations: Toleration[];
  networkPolicyDialect: NetworkPolicyDialect;
  /**
   * Where the cluster's control plane reaches pods from (webhooks) and where pods
   * reach the API server: the `kubernetes` dialect has no "kube-apiserver" entity
   * and writes these as ipBlocks. Required with that dialect; unused by `cilium`.
   */
  controlPlaneCidrs?: string[];
  /** What must exist before anything is deployed into the cluster (the deployer's Kubernetes RBAC). */
  readyForKubernetes: pulumi.Resource[];
  /** The user node pools: workloads that do not run on system pools wait for them. */
  userPools: pulumi.Resource[];
}

/** One cluster as the cell sees it: its outputs and its platform bindings. */
export interface ClusterInfra extends ClusterOutputs {
  platform: PlatformBindings;
}

/** What a cell's cloud resources hand the rest of the program. */
export interface CellInfra {
  /** VNET / VPC id. */
  networkId: pulumi.Output<string>;
  /** Subnet ids keyed "role/zone/kind" (subnetKey in cells/plan/ipplan.ts), for stack outputs. */
  subnetIds: Record<string, pulumi.Output<string>>;
  /** NAT public IP per zone. */
  natPublicIps: Record<string, pulumi.Output<string>>;
  dns: CellDns;
  clusters: Partial<Record<Role, ClusterInfra>>;
  /**
   * What the cell's tenant services need from the region stack that only the cloud
   * knows (e.g. an endpoint id, an OIDC provider ARN, a project): exported as
   * `cells.<id>.serviceInputs` and handed to `buildService` as `ctx.cellInputs`.
   * Plain strings once deployed; absent keys are the cloud's own error to raise.
   */
  serviceInputs?: Record<string, pulumi.Input<string>>;
}

export interface BuildCellArgs {
  ctx: CellContext;
  /** The region zone; the cell's zone is delegated from it. */
  regionDns: RegionDns;
  /** The Cell component: the parent of everything the cloud builds for the cell. */
  parent: pulumi.ComponentResource;
}

/** Everything a cloud needs to build one tenant service's storage and identity (the service program). */
export interface ServiceContext {
  /** The region stack and the service's own stack. */
  regionStack: string;
  stack: string;
  /** Service id (`s0001`): part of names and URNs. */
  id: string;
  cell: string;
  /** The cloud region (`eastus2`). */
  location: string;
  /** The pool member (Azure subscription) holding the service's resources, when the cloud has a pool. */
  poolMember?: string;
  protect: boolean;
  tags: Record<string, string>;
  /** The cell's data-plane cluster: the issuer its service accounts' tokens carry. */
  oidcIssuerUrl: string;
  /** The cell's data-plane node and pod subnets (cloud ids): the only networks that may reach the storage. */
  dataPlaneSubnetIds: string[];
  /** Namespace and service account of the service in the data-plane cluster. */
  namespace: string;
  serviceAccount: string;
  /** The cell's `serviceInputs` (CellInfra), as the region stack exported them. */
  cellInputs: Record<string, string>;
}

/** What a service's cloud resources hand the Kubernetes side and the stack outputs. */
export interface ServiceCloudResources {
  /** Labels and annotations that bind the service account (and its pods) to the service's identity. */
  workloadIdentity: WorkloadIdentity;
  /** Where the data lives (e.g. the blob endpoint and container). */
  storage: { account: pulumi.Output<string>; accountId: pulumi.Output<string>; endpoint: pulumi.Output<string>; container: string };
  /** Where the resources are (subscription, resource group), for the operator. */
  location: Record<string, pulumi.Output<string> | string>;
}

export interface CloudProvider {
  cloud: Cloud;
  /**
   * True when this cloud builds real resources. A cloud whose build face is not
   * written yet plans its IP layout only (providers/planOnly.ts), and `plan` says so.
   */
  buildsResources: boolean;
  /** The region zone. Built once per stack, before and independent of the cells. */
  buildRegionDns(ctx: RegionContext, parent: pulumi.ComponentResource): RegionDns;
  /**
   * One cell: network, clusters, the cell's DNS zone and its delegation, and per
   * cluster the identities and values of the platform layer. Cells never wait on
   * each other, and a cell's clusters never wait on each other.
   */
  buildCell(args: BuildCellArgs): CellInfra;
  /**
   * One tenant service's dedicated storage and identity (the service program, one
   * stack per service). Absent on a cloud whose service build face is not written:
   * the service program refuses with a clear error before registering anything.
   */
  buildService?(ctx: ServiceContext, parent: pulumi.ComponentResource): ServiceCloudResources;
}
