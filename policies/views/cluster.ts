import { PolicyResource } from "@pulumi/policy";
import { coversWholeInternet } from "../../cells/plan/ipplan";
import { Cloud } from "../../cells/plan/model";
import { at, bool, num, oneOrMany, Props, record, records, str, stringMap, strings } from "../lib/props";
import { Subject, subjectOf, ViewTable, viewsOf } from "../lib/policy";
import { normalizeId, StackIndex } from "../lib/stack";
import { AWS, AZURE, GCP } from "../lib/types";

/*
 * Managed Kubernetes clusters and their node pools (AKS, EKS, GKE) as neutral
 * views. Each adapter reads one cloud's props; the cluster policies in
 * policies/clusters.ts validate the views and never read props themselves.
 * Adapters read fields present in both inputs and outputs, so the same view
 * serves resource policies (inputs) and stack policies (outputs).
 */

/** How to fix each concept, in the cloud's own field names. */
export interface ClusterHints {
  dataplane: string;
  apiServer: string;
  workloadIdentity: string;
  localAccounts: string;
  auditLogging: string;
  secretsEncryption: string;
  version: string;
  serviceRange: string;
}

export interface ClusterView {
  cloud: Cloud;
  /** Physical name, for messages and for matching pools that reference the cluster by name. */
  name: string;
  /** Managed Cilium is the dataplane (AKS Azure CNI powered by Cilium, GKE Dataplane V2, EKS without the VPC CNI for Cilium ENI mode). */
  cilium: boolean;
  /** Pods take addresses from an overlay (or routes) instead of the VNET/VPC. */
  overlay: boolean;
  /** What makes it non-compliant, in the cloud's words (for messages). */
  dataplaneDetail: string;
  /** The API server has only a private endpoint. */
  privateApi: boolean;
  /** Sources allowed to the public endpoint; null when the endpoint is open to any address. */
  apiRanges: string[] | null;
  /** The Kubernetes service range and cluster DNS address as given; null when the cloud's default applies. */
  serviceRange: { cidr: string; dnsIp?: string } | null;
  oidcIssuer: boolean;
  /** Workload identity is on; "stack" when it is proven by other resources (EKS: an IAM OIDC provider or the pod identity agent). */
  workloadIdentity: boolean | "stack";
  localAccounts: boolean;
  /** Kubernetes RBAC is bound to the cloud's identity provider (Entra ID, IAM, Google). */
  idpRbac: boolean;
  /** Audit logging is on; "stack" when it is a separate resource (AKS diagnostic settings). */
  auditLogging: boolean | "stack";
  secretsEncryption: boolean;
  version: string | undefined;
  /** Why the cluster's minor version moves by itself, or null. */
  versionDrift: string | null;
  /** Pools declared inline on the cluster (AKS agentPoolProfiles). */
  inlinePools: PoolView[];
  hints: ClusterHints;
}

export interface PoolView {
  name: string;
  /** Zones the pool's nodes run in; null when they follow from its subnets (EKS). */
  zones: string[] | null;
  /** References (ids) of the subnets the pool puts nodes and pods in. */
  subnets: string[];
  maxPods: number | undefined;
  /** Most nodes the pool can have (autoscaler ceiling or fixed count). */
  maxNodes: number | undefined;
  /** Whether maxNodes counts per zone (GKE) rather than for the pool. */
  nodesPerZone: boolean;
  /** Name or id of the cluster, as the pool references it. */
  clusterRef: string | undefined;
}

const AKS_HINTS: ClusterHints = {
  dataplane: "set networkProfile {networkPlugin: azure, networkDataplane: cilium, networkPolicy: cilium} and leave networkPluginMode and podCidr unset (pods take VNET IPs from the pod subnets)",
  apiServer: "set apiServerAccessProfile.enablePrivateCluster, or apiServerAccessProfile.authorizedIPRanges to the operators' ranges (cellplane:apiServer in the stack config)",
  workloadIdentity: "set oidcIssuerProfile.enabled and securityProfile.workloadIdentity.enabled to true",
  localAccounts: "set disableLocalAccounts: true and aadProfile {managed: true, enableAzureRBAC: true}",
  auditLogging: "add a monitor DiagnosticSetting on the cluster (resourceUri = cluster id) with the kube-audit-admin category enabled",
  secretsEncryption: "enable securityProfile.azureKeyVaultKms with a Key Vault key (KMS etcd encryption)",
  version: "set kubernetesVersion to a supported version such as 1.35 and autoUpgradeProfile.upgradeChannel to patch or node-image",
  serviceRange: "set networkProfile.serviceCidr to a private /13../24 outside the VNET and the AKS-reserved blocks, and dnsServiceIP inside it (cellplane:serviceCidr)",
};

const EKS_HINTS: ClusterHints = {
  dataplane: "create the cluster with bootstrapSelfManagedAddons: false and install Cilium in ENI mode (ipam.mode eni, routingMode native)",
  apiServer: "set vpcConfig.endpointPublicAccess: false, or vpcConfig.publicAccessCidrs to the operators' ranges",
  workloadIdentity: "add an aws.iam.OpenIdConnectProvider for the cluster's issuer (IRSA) or the eks-pod-identity-agent add-on",
  localAccounts: "set accessConfig.authenticationMode: API (access entries, no aws-auth ConfigMap)",
  auditLogging: "set enabledClusterLogTypes to include audit (and api, authenticator)",
  secretsEncryption: "set encryptionConfig {provider: {keyArn}, resources: [secrets]} with a KMS key",
  version: "set version to a Kubernetes version such as 1.35, and upgradePolicy.supportType EXTENDED",
  serviceRange: "set kubernetesNetworkConfig.serviceIpv4Cidr to a private /12../24 outside the VPC (cellplane:serviceCidr)",
};

const GKE_HINTS: ClusterHints = {
  dataplane: "set datapathProvider: ADVANCED_DATAPATH (Dataplane V2) and networkingMode: VPC_NATIVE with an ipAllocationPolicy",
  apiServer: "set privateClusterConfig.enablePrivateEndpoint, or masterAuthorizedNetworksConfig.cidrBlocks to the operators' ranges",
  workloadIdentity: "set workloadIdentityConfig.workloadPool to <project>.svc.id.goog",
  localAccounts: "set masterAuth.clientCertificateConfig.issueClientCertificate: false and enableLegacyAbac: false",
  auditLogging: "keep loggingService on and loggingConfig.enableComponents including APISERVER",
  secretsEncryption: "set databaseEncryption {state: ENCRYPTED, keyName: <Cloud KMS key>}",
  version: "set minMasterVersion to a version such as 1.33 and hold the minor version with a NO_MINOR_UPGRADES maintenance exclusion (cellplane:maintenance.upgradeChannel patch)",
  serviceRange: "set ipAllocationPolicy.servicesIpv4CidrBlock to a private range outside the VPC (cellplane:serviceCidr)",
};

/** Kubernetes versions as the clouds take them: "1.33", "1.33.2", GKE's "1.33.2-gke.1200". */
export const PINNED_VERSION = /^\d+\.\d+(\.\d+)?(-gke\.\d+)?$/;

/** A public endpoint is open when it lists no ranges, or ranges that together are everything (`0.0.0.0/1` + `128.0.0.0/1` too). */
function openWhen(ranges: string[]): string[] | null {
  return ranges.length === 0 || ranges.some((r) => r === "0.0.0.0/0" || r === "::/0") || coversWholeInternet(ranges) ? null : ranges;
}

function aksPool(p: Props, fallbackName: string): PoolView {
  const autoscaled = bool(p.enableAutoScaling) === true;
  return {
    name: str(p.agentPoolName) ?? str(p.name) ?? fallbackName,
    zones: strings(p.availabilityZones),
    subnets: [str(p.vnetSubnetID), str(p.podSubnetID)].filter((s): s is string => s !== undefined),
    maxPods: num(p.maxPods),
    maxNodes: autoscaled ? num(p.maxCount) : num(p.count),
    nodesPerZone: false,
    clusterRef: str(p.resourceName),
  };
}

function aks({ props: p, name }: Subject): ClusterView {
  const np = record(p.networkProfile) ?? {};
  const mode = str(np.networkPluginMode);
  const podCidr = str(np.podCidr);
  const cilium = np.networkPlugin === "azure" && np.networkDataplane === "cilium" && np.networkPolicy === "cilium";
  const overlay = mode?.toLowerCase() === "overlay" || (podCidr !== undefined && podCidr !== "");
  const channel = str(at(p, "autoUpgradeProfile", "upgradeChannel"));
  return {
    cloud: "azure",
    name: str(p.resourceName) ?? str(p.name) ?? name,
    cilium,
    overlay,
    dataplaneDetail: `networkPlugin ${np.networkPlugin ?? "unset"}, networkDataplane ${np.networkDataplane ?? "unset"}, networkPolicy ${np.networkPolicy ?? "unset"}${mode ? `, networkPluginMode ${mode}` : ""}${podCidr ? `, podCidr ${podCidr}` : ""}`,
    privateApi: at(p, "apiServerAccessProfile", "enablePrivateCluster") === true,
    apiRanges: openWhen(strings(at(p, "apiServerAccessProfile", "authorizedIPRanges"))),
    serviceRange: str(np.serviceCidr) ? { cidr: str(np.serviceCidr) as string, dnsIp: str(np.dnsServiceIP) } : null,
    oidcIssuer: at(p, "oidcIssuerProfile", "enabled") === true,
    workloadIdentity: at(p, "securityProfile", "workloadIdentity", "enabled") === true,
    localAccounts: p.disableLocalAccounts !== true,
    idpRbac: at(p, "aadProfile", "managed") === true && at(p, "aadProfile", "enableAzureRBAC") === true,
    auditLogging: "stack",
    secretsEncryption: at(p, "securityProfile", "azureKeyVaultKms", "enabled") === true,
    version: str(p.kubernetesVersion),
    versionDrift: channel === "rapid" || channel === "stable" ? `autoUpgradeProfile.upgradeChannel ${channel} moves the minor version` : null,
    inlinePools: records(p.agentPoolProfiles).map((pool, i) => aksPool(pool, `pool ${i}`)),
    hints: AKS_HINTS,
  };
}

function eks({ props: p, name }: Subject): ClusterView {
  const mode = str(at(p, "accessConfig", "authenticationMode"));
  // encryptionConfig is one object in aws v6+, a list before.
  const encryption = [record(p.encryptionConfig), ...records(p.encryptionConfig)].filter((e): e is Props => e !== undefined);
  return {
    cloud: "aws",
    name: str(p.name) ?? name,
    cilium: p.bootstrapSelfManagedAddons === false,
    overlay: false,
    dataplaneDetail: `bootstrapSelfManagedAddons ${String(p.bootstrapSelfManagedAddons ?? "unset (true)")} installs the VPC CNI and kube-proxy`,
    privateApi: at(p, "vpcConfig", "endpointPublicAccess") === false,
    apiRanges: openWhen(strings(at(p, "vpcConfig", "publicAccessCidrs"))),
    serviceRange: str(at(p, "kubernetesNetworkConfig", "serviceIpv4Cidr")) ? { cidr: str(at(p, "kubernetesNetworkConfig", "serviceIpv4Cidr")) as string } : null,
    // Every EKS cluster has an OIDC issuer; using it takes an IAM OIDC provider or the pod identity agent.
    oidcIssuer: true,
    workloadIdentity: "stack",
    localAccounts: mode !== "API",
    idpRbac: true,
    auditLogging: strings(p.enabledClusterLogTypes).includes("audit"),
    secretsEncryption: encryption.some((e) => strings(e.resources).includes("secrets") && str(at(e, "provider", "keyArn")) !== undefined),
    version: str(p.version),
    // EKS upgrades a STANDARD-support cluster's minor version by itself when standard support ends.
    versionDrift: str(at(p, "upgradePolicy", "supportType")) === "STANDARD" ? "upgradePolicy.supportType STANDARD lets EKS upgrade the minor version when standard support ends" : null,
    inlinePools: [],
    hints: EKS_HINTS,
  };
}

/**
 * GKE on a release channel upgrades the minor version by itself unless a
 * maintenance exclusion of scope NO_MINOR_UPGRADES (or NO_MINOR_OR_NODE_UPGRADES) holds it.
 */
function gkeVersionDrift(p: Props): string | null {
  const channel = str(at(p, "releaseChannel", "channel"));
  if (!channel || channel === "UNSPECIFIED") return null;
  const held = records(at(p, "maintenancePolicy", "maintenanceExclusions")).some((e) => ["NO_MINOR_UPGRADES", "NO_MINOR_OR_NODE_UPGRADES"].includes(str(at(e, "exclusionOptions", "scope")) ?? ""));
  return held ? null : `releaseChannel ${channel} without a NO_MINOR_UPGRADES maintenance exclusion moves the minor version`;
}

function gke({ props: p, name }: Subject): ClusterView {
  const networking = str(p.networkingMode);
  const vpcNative = networking === "VPC_NATIVE" || (networking === undefined && record(p.ipAllocationPolicy) !== undefined);
  const authorized = record(p.masterAuthorizedNetworksConfig);
  const components = at(p, "loggingConfig", "enableComponents");
  return {
    cloud: "gcp",
    name: str(p.name) ?? name,
    cilium: p.datapathProvider === "ADVANCED_DATAPATH",
    overlay: !vpcNative,
    dataplaneDetail: `datapathProvider ${str(p.datapathProvider) ?? "unset (legacy)"}, networkingMode ${networking ?? "unset"}`,
    privateApi: at(p, "privateClusterConfig", "enablePrivateEndpoint") === true,
    apiRanges: authorized ? openWhen(records(authorized.cidrBlocks).flatMap((b) => oneOrMany(b.cidrBlock))) : null,
    serviceRange: str(at(p, "ipAllocationPolicy", "servicesIpv4CidrBlock")) ? { cidr: str(at(p, "ipAllocationPolicy", "servicesIpv4CidrBlock")) as string } : null,
    oidcIssuer: str(at(p, "workloadIdentityConfig", "workloadPool")) !== undefined,
    workloadIdentity: str(at(p, "workloadIdentityConfig", "workloadPool")) !== undefined,
    localAccounts: at(p, "masterAuth", "clientCertificateConfig", "issueClientCertificate") === true,
    idpRbac: p.enableLegacyAbac !== true,
    auditLogging: p.loggingService !== "none" && (components === undefined || strings(components).some((c) => c === "APISERVER" || c === "SYSTEM_COMPONENTS")),
    secretsEncryption: at(p, "databaseEncryption", "state") === "ENCRYPTED",
    version: str(p.minMasterVersion),
    versionDrift: gkeVersionDrift(p),
    inlinePools: [],
    hints: GKE_HINTS,
  };
}

export const CLUSTER_VIEWS: ViewTable<ClusterView> = {
  [AZURE.cluster]: aks,
  [AWS.cluster]: eks,
  [GCP.cluster]: gke,
};

export const POOL_VIEWS: ViewTable<PoolView> = {
  [AZURE.pool]: ({ props, name }) => aksPool(props, name),
  [AWS.nodeGroup]: ({ props: p, name }) => ({
    name: str(p.nodeGroupName) ?? name,
    zones: null,
    subnets: strings(p.subnetIds),
    maxPods: undefined,
    maxNodes: num(at(p, "scalingConfig", "maxSize")),
    nodesPerZone: false,
    clusterRef: str(p.clusterName),
  }),
  [GCP.nodePool]: ({ props: p, name }) => ({
    name: str(p.name) ?? name,
    zones: strings(p.nodeLocations),
    subnets: [],
    maxPods: num(p.maxPodsPerNode),
    maxNodes: num(at(p, "autoscaling", "maxNodeCount")) ?? num(p.nodeCount),
    nodesPerZone: true,
    clusterRef: str(p.cluster),
  }),
};

export const CLUSTER_TYPES = Object.keys(CLUSTER_VIEWS);
export const POOL_TYPES = Object.keys(POOL_VIEWS);

/** The role of a cluster, from its tags or labels. */
export function clusterTags(p: Props): Record<string, string> {
  return { ...stringMap(p.tags), ...stringMap(p.resourceLabels) };
}

// ---------------------------------------------------------------------------
// Stack level: clusters with their pools, built once per stack.

export interface PoolNode {
  /** The AgentPool/NodeGroup/NodePool resource, or the cluster itself for inline pools. */
  resource: PolicyResource;
  view: PoolView;
}

export interface ClusterNode {
  resource: PolicyResource;
  view: ClusterView;
  pools: PoolNode[];
}

export interface ClusterGraph {
  clusters: ClusterNode[];
  /** Pools no cluster of the stack claims: reported, never silently skipped. */
  orphanPools: PoolNode[];
}

const graphs = new WeakMap<StackIndex, ClusterGraph>();

/**
 * Every cluster of the stack with its pools: inline pools, and pool resources
 * linked by parent, by their one cluster dependency, or by the cluster's name or
 * id they reference (in that order: the first two need no naming convention).
 */
export function clusterGraph(index: StackIndex): ClusterGraph {
  const cached = graphs.get(index);
  if (cached) return cached;
  const nodes: ClusterNode[] = [];
  const byUrn = new Map<string, ClusterNode>();
  const byRef = new Map<string, ClusterNode>();
  const orphanPools: PoolNode[] = [];
  for (const r of index.ofType(...CLUSTER_TYPES)) {
    const view = viewsOf(CLUSTER_VIEWS, subjectOf(r))?.[0];
    if (!view) continue;
    const node: ClusterNode = { resource: r, view, pools: view.inlinePools.map((p) => ({ resource: r, view: p })) };
    nodes.push(node);
    byUrn.set(r.urn, node);
    for (const ref of [view.name, str(r.props.id)]) if (ref) byRef.set(normalizeId(ref), node);
  }
  for (const r of index.ofType(...POOL_TYPES)) {
    for (const view of viewsOf(POOL_VIEWS, subjectOf(r)) ?? []) {
      const deps = r.dependencies.filter((d) => byUrn.has(d.urn));
      const owner =
        (r.parent && byUrn.get(r.parent.urn)) ||
        (deps.length === 1 ? byUrn.get(deps[0].urn) : undefined) ||
        (view.clusterRef ? (byRef.get(normalizeId(view.clusterRef)) ?? byRef.get(normalizeId(view.clusterRef.split("/").pop() ?? ""))) : undefined);
      if (owner) owner.pools.push({ resource: r, view });
      else orphanPools.push({ resource: r, view });
    }
  }
  const graph = { clusters: nodes, orphanPools };
  graphs.set(index, graph);
  return graph;
}
