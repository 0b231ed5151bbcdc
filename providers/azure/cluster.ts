import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as time from "@pulumiverse/time";
import { ClusterSettings } from "../../cells/config";
import { subnetKey } from "../../cells/plan/ipplan";
import { Role } from "../../cells/plan/model";
import { azurePoolLayout, azureSettings } from "../../cells/plan/clouds/azure";
import { CellContext, ClusterOutputs, Toleration } from "../types";
import { CellKms, kmsAccess } from "./kms";
import { withKubeloginMode } from "./kubeconfig";
import { auditLogs } from "./logging";
import { azureNames } from "./names";
import { AzureNetwork } from "./network";
import { roleAssignment } from "./rbac";

/** How long a new role assignment is given to propagate before its first use. */
export const GRANT_PROPAGATION = "120s";

/** Built-in initiative id of the pod security baseline for Linux workloads. */
export const POD_SECURITY_BASELINE_INITIATIVE = "/providers/Microsoft.Authorization/policySetDefinitions/a8640138-9b0a-4a28-b8cb-1666c838647d";

/** Taint that keeps user workloads off system pools. */
const SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule";

/** What lets cluster add-ons run on the system pools despite SYSTEM_TAINT (AKS's own convention). */
export const SYSTEM_POOL_TOLERATIONS: Toleration[] = [{ key: "CriticalAddonsOnly", operator: "Exists", effect: "NoSchedule" }];

interface PoolSpec {
  mode: "System" | "User";
  zone: string;
  name: string;
  vmSize: string;
  vnetSubnetID: pulumi.Input<string>;
  podSubnetID: pulumi.Input<string>;
  settings: ClusterSettings;
}

function poolProperties(p: PoolSpec) {
  const system = p.mode === "System";
  return {
    mode: p.mode,
    vmSize: p.vmSize,
    osType: "Linux",
    osSKU: "AzureLinux",
    // One zone per pool: a zone's pool uses that zone's subnets, so it egresses through that zone's NAT.
    availabilityZones: [p.zone],
    vnetSubnetID: p.vnetSubnetID,
    podSubnetID: p.podSubnetID,
    podIPAllocationMode: "DynamicIndividual",
    // Temp disks and caches of the nodes are encrypted too. Needs the subscription
    // feature Microsoft.Compute/EncryptionAtHost registered (README, "Azure prerequisites").
    enableEncryptionAtHost: true,
    maxPods: p.settings.maxPodsPerNode,
    enableAutoScaling: !system,
    count: system ? p.settings.systemNodesPerZone : p.settings.minNodesPerZone,
    minCount: system ? undefined : p.settings.minNodesPerZone,
    maxCount: system ? undefined : p.settings.maxNodesPerZone,
    nodeTaints: system ? [SYSTEM_TAINT] : [],
    upgradeSettings: { maxSurge: `${p.settings.maxSurgePercent}%` },
  };
}

/**
 * The SDK fills networkProfile.podCidr with 10.244.0.0/16 when it is unset, but a
 * pod CIDR only means something for overlay and kubenet. Without overlay AKS takes
 * pod IPs from the pod subnets, does not store podCidr, and the default would show
 * as a diff on every preview. The transformation runs before registration.
 */
export const withoutPodCidr: pulumi.ResourceTransformation = ({ props, opts }) => ({
  props: {
    ...props,
    networkProfile: pulumi.output(props.networkProfile).apply((np: Record<string, unknown> | undefined) => {
      if (!np) return np;
      const { podCidr: _dropped, ...rest } = np;
      return rest;
    }),
  },
  opts,
});

/** The operator ranges plus every NAT egress address of the cell (each IP as a /32, each prefix whole), in a stable order. */
export function authorizedRanges(operatorRanges: readonly string[], natPublicIps: Record<string, pulumi.Output<string>>, natPrefixes: Record<string, pulumi.Output<string>> = {}): pulumi.Output<string[]> {
  const zones = Object.keys(natPublicIps).sort();
  const prefixZones = Object.keys(natPrefixes).sort();
  return pulumi
    .all([pulumi.all(zones.map((z) => natPublicIps[z])), pulumi.all(prefixZones.map((z) => natPrefixes[z]))])
    .apply(([ips, prefixes]) => [...new Set([...operatorRanges, ...ips.filter((ip) => ip !== "").map((ip) => `${ip}/32`), ...prefixes.filter((p) => p !== "")])]);
}

/** What a cell's clusters share within the cell. */
export interface CellServices {
  /** Log Analytics workspace receiving the clusters' audit logs. */
  logWorkspaceId: pulumi.Input<string>;
  /** Key that encrypts the clusters' secrets in etcd. */
  kms: CellKms;
}

/** A built cluster: its outputs, and what the platform layer on it waits for. */
export interface AzureCluster extends ClusterOutputs {
  /** The deployer's Kubernetes RBAC role on the cluster, propagated: Kubernetes calls fail with 403 before. */
  readyForKubernetes: pulumi.Resource[];
  userPools: pulumi.Resource[];
}

export interface AzureClusterArgs {
  ctx: CellContext;
  role: Role;
  network: AzureNetwork;
  services: CellServices;
  parent: pulumi.Resource;
}

/**
 * One AKS cluster of a cell: its control-plane identity with Network Contributor
 * on the cell's VNET, the cluster on managed Cilium without overlay, one system and
 * one user pool per zone, secrets encrypted with the cell's key, audit logs to the
 * cell's workspace, and the maintenance window.
 */
export function buildAzureCluster({ ctx, role, network, services, parent }: AzureClusterArgs): AzureCluster {
  const { cell, plan, region } = ctx;
  const id = cell.id;
  const name = `${id}-${role}`;
  const o = { parent };
  const settings = cell.clusters[role];
  const tags = { ...ctx.tags, role };
  const resourceGroupName = network.resourceGroupName;
  const location = region.region;
  const subnet = (zone: string, kind: "nodes" | "pods") => network.subnetIds[subnetKey({ role, zone, kind })];

  const identity = new managedidentity.UserAssignedIdentity(
    `${name}-identity`,
    { resourceGroupName, location, resourceName: azureNames.clusterIdentity(id, role), tags },
    o,
  );

  const networkContributor = roleAssignment(
    `${name}-network-contributor`,
    // Scoped to the cell's VNET only: not the resource group, never the subscription.
    { meaning: `${ctx.stack}/${id}/${role}/network-contributor`, scope: network.vnetId, role: "networkContributor", principalId: identity.principalId },
    o,
  );

  const kmsCryptoUser = kmsAccess(ctx, role, services.kms, identity.principalId, parent);
  // Role assignments take effect after Entra/ARM caches refresh (documented "up to
  // ten minutes", usually under two): AKS's KMS check and subnet join run right at
  // creation, so the cluster waits for the grants to propagate. Source:
  // learn.microsoft.com, "Troubleshoot Azure RBAC: role assignment changes are not
  // being detected". The wait re-runs only when a grant is recreated (triggers).
  const grantsPropagated = new time.Sleep(
    `${name}-grants-propagated`,
    { createDuration: GRANT_PROPAGATION, triggers: { networkContributor: networkContributor.id, kmsCryptoUser: kmsCryptoUser.id } },
    { ...o, dependsOn: [networkContributor, kmsCryptoUser] },
  );

  const [firstZone, ...otherZones] = plan.zones;
  const system = (zone: string): PoolSpec => ({
    mode: "System",
    zone,
    name: azureNames.pool("system", zone),
    vmSize: settings.systemVmSize,
    vnetSubnetID: subnet(zone, "nodes"),
    podSubnetID: subnet(zone, "pods"),
    settings,
  });
  const user = (zone: string): PoolSpec => ({ ...system(zone), mode: "User", vmSize: settings.vmSize });
  // Separate pools are named after their immutable fields (azureNames.agentPool).
  const named = (p: PoolSpec): PoolSpec => ({ ...p, name: azureNames.agentPool(p.mode === "System" ? "system" : "user", p.zone, { vmSize: p.vmSize, maxPods: settings.maxPodsPerNode }) });

  // How this cell's pools are created (cells/plan/clouds/azure.ts, azurePoolLayout).
  const layout = azurePoolLayout(azureSettings(region), id);
  // withCluster: every pool in the creation request, system pools first (zone order), then
  // user pools. The order is identity: ignoreChanges names the user pools by position. It
  // is also name order (sys1..sys3 before user1..user3), the order AKS reads the pools back
  // in (azurerm#3835, #4560): policy aks-creation-pools-valid holds it.
  const inlinePools = layout === "withCluster" ? [...plan.zones.map(system), ...plan.zones.map(user)] : [system(firstZone)];
  const inlineProfiles = inlinePools.map((p) => ({ name: azureNames.pool(p.mode === "System" ? "system" : "user", p.zone), ...poolProperties(p) }));

  const api = region.apiServer;
  const cluster = new containerservice.ManagedCluster(
    `${name}-aks`,
    {
      resourceGroupName,
      location,
      resourceName: azureNames.cluster(id, role),
      dnsPrefix: azureNames.dnsPrefix(region.region, id, role),
      kubernetesVersion: settings.kubernetesVersion,
      sku: { name: "Base", tier: "Standard" },
      identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
      // AKS requires one system pool at creation. Separate layout: the first zone's
      // system pool, every other pool an AgentPool resource. withCluster: all of them, so
      // AKS creates them in one operation (learn.microsoft.com, "Manage node pools in
      // AKS": pools created with the cluster run the control plane's Kubernetes version).
      agentPoolProfiles: inlineProfiles,
      networkProfile: {
        // Azure CNI powered by Cilium, no overlay: pods take VNET IPs from the pod subnets.
        // networkPluginMode and podCidr stay unset: their only use is overlay.
        networkPlugin: "azure",
        networkDataplane: "cilium",
        networkPolicy: "cilium",
        serviceCidr: plan.serviceCidr,
        dnsServiceIP: plan.dnsServiceIp,
        outboundType: "userAssignedNATGateway",
        loadBalancerSku: "standard",
      },
      oidcIssuerProfile: { enabled: true },
      securityProfile: {
        workloadIdentity: { enabled: true },
        // Kubernetes secrets are encrypted in etcd with the cell's key (KMS v2).
        azureKeyVaultKms: { enabled: true, keyId: services.kms.keyId, keyVaultNetworkAccess: "Public" },
      },
      // Runtime admission inside the cluster: Azure Policy (Gatekeeper) with the pod
      // security baseline initiative assigned below.
      addonProfiles: { azurepolicy: { enabled: true } },
      disableLocalAccounts: true,
      enableRBAC: true,
      aadProfile: { managed: true, enableAzureRBAC: true },
      // With outboundType userAssignedNATGateway the nodes reach a public API server
      // from the NAT gateways' public IPs: unless those are authorized, node pools
      // never join (CreateVMSSAgentPoolFailed). Source: learn.microsoft.com, "Secure
      // access to the API server using authorized IP address ranges in AKS" (the
      // cluster egress IPs must be in the ranges with a user-defined outbound type).
      apiServerAccessProfile: api.private ? { enablePrivateCluster: true } : { authorizedIPRanges: authorizedRanges(api.authorizedIpRanges, network.natPublicIps, network.natPublicIpPrefixes) },
      autoUpgradeProfile: { upgradeChannel: region.maintenance.upgradeChannel, nodeOSUpgradeChannel: "NodeImage" },
      nodeResourceGroup: `${azureNames.resourceGroup(region.region, id)}-${role}-nodes`,
      tags,
    },
    {
      ...o,
      protect: region.protect,
      // Why: the NAT gateway must be attached to the subnets the cluster is created
      // with (the first zone's, for the inline system pool; AKS validates their egress
      // for outboundType userAssignedNATGateway at creation, though the outbound type
      // itself can be updated later, learn.microsoft.com "Customize cluster egress with
      // outbound types"), and AKS needs Network Contributor on the VNET (subnet join)
      // and the key (KMS) granted and propagated. Separate layout: the other zones' subnets
      // are their pools' inputs, not the cluster's; withCluster: every zone's subnets are
      // the cluster's own inputs (its pools'), so it waits for them through those.
      dependsOn: [grantsPropagated, ...network.readyForClusters[role]],
      // Separate layout: pools are AgentPool resources, which AKS reports in
      // agentPoolProfiles too, and the inline one is frozen. withCluster: the pools change
      // through the cluster (AKS applies an existing pool's counts, autoscaler bounds and
      // surge from the cluster's PUT; it refuses a new pool or a VM size change there, which
      // the program's frozen-settings guard refuses first), but the autoscaler owns the
      // node count of a user pool: its count is ignored, by position.
      ignoreChanges:
        layout === "separate" ? ["agentPoolProfiles"] : inlinePools.flatMap((p, i) => (p.mode === "User" ? [`agentPoolProfiles[${i}].count`] : [])),
      transformations: [withoutPodCidr],
    },
  );

  // A cell's pools are created one at a time per cluster, user pools first: the platform
  // layer (Istio) waits for the user pools only, and the remaining system pools are
  // created while it installs. What forces the chain (checked for issue 16):
  // - AKS itself accepts concurrent agent-pool creates on one cluster: Azure/AKS#1913
  //   ("overriden and canceled by a later operation") is fix-released; the AKS release
  //   notes of 2021-08-26 and 2023-10-15 fix creating several pools "simultaneously" /
  //   "concurrently"; terraform-provider-azurerm's node-pool create takes no cluster lock,
  //   only its node and pod subnets' (kubernetes_cluster_node_pool_resource.go,
  //   locks.MultipleByID), and waits for subnet and VNET to be Succeeded before releasing.
  // - But pools in one VNET are not safe in parallel, even on different subnets: AKS
  //   sets VNET ownership on pool creation and fails with SetVNetOwnershipFailed /
  //   VirtualNetworkNotInSucceededState ("Virtual network ... is in Updating state")
  //   while another pool's create updates the VNET (Azure/AKS#4522). azurerm's own
  //   acceptance test of exactly this (three pools, own subnets, one VNET, one cluster:
  //   TestAccKubernetesClusterNodePool_virtualNetworkOwnershipRaceCondition) fails in
  //   HashiCorp's CI in 2026-09, twice in a row, 50% in its failure-rate column
  //   (hashicorp/terraform-provider-azurerm#33367); #30769 reports it as a regression,
  //   and the open fix #32682 locks the VNET.
  // - Pools sharing a subnet race too (azurerm#29537: ReferencedResourceNotProvisioned on
  //   a shared pod subnet). A zone's user and system pools share their subnets.
  // Every pool of a cell is in the cell's one VNET, so nothing here supports creating a
  // cluster's pools concurrently: they stay chained (dependsOn). The three clusters' chains
  // do run side by side in that VNET, which the same race can hit; a failed pool is
  // created again by the next update. That is the `separate` layout, kept for the cells
  // listed in cellplane:azure.separatePools (deployed that way: dropping their AgentPool
  // resources would delete their pools).
  // Every other cell (`withCluster`) puts all its pools in the cluster's creation request:
  // one AKS operation, no pool chain and no ownership race between a cluster's pools (one
  // cell: 1,720 s -> 1,107 s in bench/deploy.ts's model). The price, and why it is a
  // per-cell choice: AKS refuses adding a pool through the cluster ("A new agent pool was
  // introduced ... use per agent pool operations", pulumi-azure-native#579) and changing an
  // existing pool's VM size or maxPods at all, so those are fixed for the cell's life (the
  // frozen-settings guard refuses them); counts, autoscaler bounds and surge still change
  // through the cluster's PUT (pulumi-azure-native#4264: AKS applies it, marking every pool
  // Scaling meanwhile). Such a cell has no separate pools: the platform waits for the cluster.
  let previous: pulumi.Resource = cluster;
  const userPools: pulumi.Resource[] = [];
  const pools = layout === "withCluster" ? [] : [...plan.zones.map(user), ...otherZones.map(system)].map(named);
  for (const p of pools) {
    const pool: containerservice.AgentPool = new containerservice.AgentPool(
      `${name}-${p.mode === "System" ? "sys" : "user"}-z${p.zone}`,
      { resourceGroupName, resourceName: cluster.name, agentPoolName: p.name, ...poolProperties(p), tags },
      // The autoscaler owns the node count of a user pool: an update must not push it back.
      { ...o, dependsOn: [previous], ...(p.mode === "User" ? { ignoreChanges: ["count"] } : {}) },
    );
    previous = pool;
    if (p.mode === "User") userPools.push(pool);
  }

  auditLogs(name, cluster.id, services.logWorkspaceId, parent);

  // Kubernetes upgrades, and node OS images too (not whenever AKS releases one), only in
  // the maintenance window. The Pulumi names are identity: keep them.
  const window = {
    schedule: { weekly: { dayOfWeek: region.maintenance.day, intervalWeeks: 1 } },
    durationHours: region.maintenance.durationHours,
    startTime: `${String(region.maintenance.startHourUtc).padStart(2, "0")}:00`,
    utcOffset: "+00:00",
  };
  for (const [suffix, configName] of [
    ["maintenance", "aksManagedAutoUpgradeSchedule"],
    ["node-os-maintenance", "aksManagedNodeOSUpgradeSchedule"],
  ] as const) {
    new containerservice.MaintenanceConfiguration(`${name}-${suffix}`, { resourceGroupName, resourceName: cluster.name, configName, maintenanceWindow: window }, o);
  }

  // Pod security baseline, enforced by the Azure Policy add-on. Built-in initiative
  // "Kubernetes cluster pod security baseline standards for Linux-based workloads"
  // (learn.microsoft.com, "Azure Policy built-in initiatives: Kubernetes"). The id and
  // the parameter names `effect` / `excludedNamespaces` match Microsoft's AKS docs
  // ("Secure your pods with Azure Policy": the baseline initiative's portal link) and
  // public Terraform/Bicep assignments of the same initiative (checked in session 4).
  new authorization.PolicyAssignment(
    `${name}-pod-security-baseline`,
    {
      scope: cluster.id,
      policyAssignmentName: `${id}-${role}-pss-baseline`,
      displayName: `Pod security baseline for ${azureNames.cluster(id, role)}`,
      policyDefinitionId: POD_SECURITY_BASELINE_INITIATIVE,
      enforcementMode: "Default",
      parameters: { effect: { value: "deny" }, excludedNamespaces: { value: ["kube-system", "gatekeeper-system", "azure-arc", "istio-system", "cert-manager"] } },
    },
    o,
  );

  // Local accounts are disabled: the deployers reach the cluster through Entra ID and
  // need this role on this cluster (and no wider) to install the platform. The
  // principal is a configured group, never "whoever runs Pulumi now": a principal
  // change would be an update Azure refuses, in every cell at once.
  const azure = azureSettings(region);
  const deployer = azure.deployerPrincipalId;
  if (!deployer) throw new Error("cellplane:azure.deployerPrincipalId is unset; config validation requires it on Azure");
  const deployerAdmin = roleAssignment(
    `${name}-deployer-admin`,
    { meaning: `${ctx.stack}/${id}/${role}/deployer-cluster-admin`, scope: cluster.id, role: "aksRbacClusterAdmin", principalId: deployer, principalType: azure.deployerPrincipalType },
    o,
  );

  // The first Kubernetes call (the platform's namespaces and releases) waits for the
  // deployer's grant to propagate, or it fails with 403.
  const deployerAdminPropagated = new time.Sleep(
    `${name}-deployer-admin-propagated`,
    { createDuration: GRANT_PROPAGATION, triggers: { deployerAdmin: deployerAdmin.id } },
    { ...o, dependsOn: [deployerAdmin] },
  );

  // "exec" format: kubelogin fetches an Entra token; the login mode comes from config.
  const creds = containerservice.listManagedClusterUserCredentialsOutput({ resourceGroupName, resourceName: cluster.name, format: "exec" }, { parent });
  const kubeconfig = pulumi.secret(
    creds.kubeconfigs.apply((k) => withKubeloginMode(Buffer.from(k?.[0]?.value ?? "", "base64").toString("utf8"), azure.kubeloginMode)),
  );

  return {
    name: cluster.name,
    id: cluster.id,
    apiEndpoint: pulumi.interpolate`https://${cluster.fqdn}:443`,
    oidcIssuerUrl: cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? ""),
    kubeconfig,
    readyForKubernetes: [deployerAdminPropagated],
    userPools,
  };
}
