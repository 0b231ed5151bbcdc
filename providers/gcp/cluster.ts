import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { ClusterSettings, RegionConfig } from "../../cells/config";
import { Role } from "../../cells/plan/model";
import { CellContext, ClusterOutputs, Toleration } from "../types";
import { GcpCellKms } from "./kms";
import { gcpNames } from "./names";
import { GcpNetwork } from "./network";

/** What lets cluster add-ons run on the system pools despite their taint. */
export const SYSTEM_POOL_TOLERATIONS: Toleration[] = [{ key: "CriticalAddonsOnly", operator: "Exists", effect: "NoSchedule" }];

/** The OAuth scope GKE documents for nodes whose rights come from IAM (the service account's roles). */
const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** Release channel per cellplane:maintenance.upgradeChannel; patch and node-image hold the minor version with an exclusion. */
const CHANNEL: Record<RegionConfig["maintenance"]["upgradeChannel"], { channel: string; holdMinor: boolean }> = {
  patch: { channel: "REGULAR", holdMinor: true },
  "node-image": { channel: "REGULAR", holdMinor: true },
  stable: { channel: "STABLE", holdMinor: false },
  rapid: { channel: "RAPID", holdMinor: false },
};

const RRULE_DAY: Record<RegionConfig["maintenance"]["day"], string> = { Monday: "MO", Tuesday: "TU", Wednesday: "WE", Thursday: "TH", Friday: "FR", Saturday: "SA", Sunday: "SU" };

/**
 * Fixed anchors (never "now", which would diff on every preview): a recurring
 * window's dates only anchor its time of day, and the minor-version exclusion
 * runs from this date until the version's end of support.
 */
const WINDOW_ANCHOR_DATE = "2025-01-05";
export const EXCLUSION_START = "2025-01-01T00:00:00Z";

/** The GKE maintenance policy from cellplane:maintenance: a weekly window, and the exclusion that holds the minor version. */
export function gkeMaintenancePolicy(m: RegionConfig["maintenance"]) {
  const start = new Date(`${WINDOW_ANCHOR_DATE}T${String(m.startHourUtc).padStart(2, "0")}:00:00Z`);
  const end = new Date(start.getTime() + m.durationHours * 3600_000);
  const iso = (d: Date) => d.toISOString().replace(".000Z", "Z");
  return {
    recurringWindow: { startTime: iso(start), endTime: iso(end), recurrence: `FREQ=WEEKLY;BYDAY=${RRULE_DAY[m.day]}` },
    maintenanceExclusions: CHANNEL[m.upgradeChannel].holdMinor
      ? [{ exclusionName: "cellplane-hold-minor", startTime: EXCLUSION_START, exclusionOptions: { scope: "NO_MINOR_UPGRADES", endTimeBehavior: "UNTIL_END_OF_SUPPORT" } }]
      : [],
  };
}

export interface GcpCluster extends ClusterOutputs {
  systemPools: pulumi.Resource[];
  userPools: pulumi.Resource[];
  resource: gcp.container.Cluster;
}

export interface GcpClusterArgs {
  ctx: CellContext;
  role: Role;
  network: GcpNetwork;
  kms: GcpCellKms;
  parent: pulumi.Resource;
}

function poolNodeConfig(settings: ClusterSettings, system: boolean, serviceAccount: pulumi.Input<string>, tags: Record<string, string>): gcp.types.input.container.NodePoolNodeConfig {
  return {
    machineType: system ? settings.systemVmSize : settings.vmSize,
    imageType: "COS_CONTAINERD",
    serviceAccount,
    oauthScopes: [CLOUD_PLATFORM_SCOPE],
    workloadMetadataConfig: { mode: "GKE_METADATA" },
    shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
    taints: system ? [{ key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" }] : [],
    resourceLabels: tags,
  };
}

/**
 * One GKE cluster of a cell: regional control plane on Dataplane V2, VPC-native on
 * the role's subnetwork, private nodes, master authorized networks, Workload
 * Identity, shielded nodes, secrets encrypted with the cell's key, release channel
 * and maintenance policy, the default pool removed; then a system and a user pool
 * per zone, each pinned to its zone and its zone's pod range.
 */
export function buildGcpCluster({ ctx, role, network, kms, parent }: GcpClusterArgs): GcpCluster {
  const { cell, region } = ctx;
  const id = cell.id;
  const name = `${id}-${role}`;
  const o = { parent };
  const settings = cell.clusters[role];
  const tags = { ...ctx.tags, role };
  const { project } = network;
  const location = region.region;
  const subnet = network.subnetworks[role];
  const nodeSa = network.nodeServiceAccounts[role];
  const [firstZone] = ctx.plan.zones;
  const api = region.apiServer;
  const channel = CHANNEL[region.maintenance.upgradeChannel];

  // Master authorized networks: the operators' ranges and, when the endpoint is
  // public, the cell's own NAT addresses (in-cell automation reaches it through
  // them). A private endpoint is reached from inside the VPC: NAT addresses mean nothing there.
  const authorized = pulumi
    .all(api.private ? [] : Object.values(network.natPublicIps))
    .apply((ips) => [
      ...api.authorizedIpRanges.map((cidrBlock) => ({ cidrBlock, displayName: "operators" })),
      ...ips.map((ip) => ({ cidrBlock: `${ip}/32`, displayName: "cell NAT" })),
    ]);

  // The configured minor must be offered in the region (GKE rejects an unknown
  // minMasterVersion at create): checked at preview against getEngineVersions.
  const minor = settings.kubernetesVersion;
  const offered = gcp.container.getEngineVersionsOutput({ project, location, versionPrefix: `${minor}.` }, { parent });
  const minMasterVersion = offered.validMasterVersions.apply((versions) => {
    if (!versions.some((v) => v === minor || v.startsWith(`${minor}.`) || v.startsWith(`${minor}-`))) {
      throw new Error(`cellplane: GKE offers no Kubernetes ${minor} in ${location} (offered: ${versions.slice(0, 6).join(", ") || "none"}); set cellplane:clusters.${role}.kubernetesVersion to an offered minor`);
    }
    return minor;
  });

  const cluster = new gcp.container.Cluster(
    `${name}-gke`,
    {
      project,
      name: gcpNames.cluster(id, role),
      location,
      network: network.networkSelfLink,
      subnetwork: subnet.selfLink,
      // Dataplane V2 (managed Cilium). networkPolicy and addonsConfig.networkPolicyConfig stay unset: Dataplane V2 refuses them.
      datapathProvider: "ADVANCED_DATAPATH",
      networkingMode: "VPC_NATIVE",
      // The first zone's pod range is the cluster's default; the other zones' ranges are
      // declared too (GKE records the ranges its pools use, so leaving them out would diff).
      ipAllocationPolicy: {
        clusterSecondaryRangeName: subnet.podRanges[firstZone],
        servicesSecondaryRangeName: subnet.servicesRange,
        additionalPodRangesConfig: { podRangeNames: ctx.plan.zones.filter((z) => z !== firstZone).map((z) => subnet.podRanges[z]) },
      },
      defaultMaxPodsPerNode: settings.maxPodsPerNode,
      privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: api.private, masterIpv4CidrBlock: network.controlPlaneCidrs[role] },
      masterAuthorizedNetworksConfig: { cidrBlocks: authorized, gcpPublicCidrsAccessEnabled: false },
      workloadIdentityConfig: { workloadPool: `${project}.svc.id.goog` },
      enableShieldedNodes: true,
      enableLegacyAbac: false,
      masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
      databaseEncryption: { state: "ENCRYPTED", keyName: kms.keyId },
      releaseChannel: { channel: channel.channel },
      minMasterVersion,
      maintenancePolicy: gkeMaintenancePolicy(region.maintenance),
      loggingConfig: { enableComponents: ["SYSTEM_COMPONENTS", "APISERVER", "WORKLOADS"] },
      // The default pool is created first and then removed: it needs a node and
      // runs as the role's node account, never the default Compute account.
      removeDefaultNodePool: true,
      initialNodeCount: 1,
      nodeConfig: { serviceAccount: nodeSa.email, oauthScopes: [CLOUD_PLATFORM_SCOPE], workloadMetadataConfig: { mode: "GKE_METADATA" }, shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true } },
      deletionProtection: region.protect,
      resourceLabels: tags,
    },
    {
      ...o,
      protect: region.protect,
      // The GKE service agent must hold the key before the cluster encrypts with it.
      dependsOn: [kms.grant],
      // nodeConfig describes the removed default pool only; GKE reports it differently afterwards.
      ignoreChanges: ["nodeConfig", "initialNodeCount"],
    },
  );

  // A cluster's pools are created side by side (issue 16; they were chained). GKE runs
  // "one cluster-level operation or one operation per node pool" at a time
  // (cloud.google.com/kubernetes-engine/docs/troubleshooting/concurrent-operations):
  // pools are separate node-pool operations. The provider is built for it:
  // terraform-provider-google's node-pool create (which pulumi-gcp bridges) takes a shared
  // lock on the cluster and an exclusive one on the pool only, and retries the create while
  // GKE answers FAILED_PRECONDITION (the cluster is updating) or the concurrent-operations
  // quota is reached (resource_container_node_pool.go; GoogleCloudPlatform/magic-modules#6748
  // "concurrent node pool CRUD operations on a single cluster"). Unlike AKS, GKE pools do
  // not write the VPC: their pod ranges are the subnetwork's existing secondary ranges
  // (createPodRange: false).
  const poolsWaitFor: pulumi.Resource[] = [cluster, ...network.readyForPools[role]];
  const systemPools: pulumi.Resource[] = [];
  const userPools: pulumi.Resource[] = [];
  for (const mode of ["system", "user"] as const) {
    for (const zone of ctx.plan.zones) {
      const system = mode === "system";
      const surgeBase = system ? settings.systemNodesPerZone : settings.maxNodesPerZone;
      const pool: gcp.container.NodePool = new gcp.container.NodePool(
        `${name}-${mode === "system" ? "sys" : "user"}-${zone}`,
        {
          project,
          location,
          cluster: cluster.name,
          name: gcpNames.pool(mode, zone),
          nodeLocations: [zone],
          networkConfig: { podRange: subnet.podRanges[zone], createPodRange: false, enablePrivateNodes: true },
          maxPodsPerNode: settings.maxPodsPerNode,
          ...(system
            ? { nodeCount: settings.systemNodesPerZone }
            : { initialNodeCount: settings.minNodesPerZone, autoscaling: { minNodeCount: settings.minNodesPerZone, maxNodeCount: settings.maxNodesPerZone } }),
          // Release channels require both; versions follow the control plane.
          management: { autoRepair: true, autoUpgrade: true },
          upgradeSettings: { strategy: "SURGE", maxSurge: Math.max(1, Math.ceil((surgeBase * settings.maxSurgePercent) / 100)), maxUnavailable: 0 },
          nodeConfig: poolNodeConfig(settings, system, nodeSa.email, tags),
        },
        // The autoscaler owns a user pool's size.
        { ...o, dependsOn: poolsWaitFor, ignoreChanges: system ? [] : ["initialNodeCount", "nodeCount"] },
      );
      (system ? systemPools : userPools).push(pool);
    }
  }

  const kubeconfig = pulumi.secret(
    pulumi.all([cluster.name, cluster.endpoint, cluster.masterAuth]).apply(([clusterName, endpoint, auth]) =>
      gkeKubeconfig(`gke_${project}_${location}_${clusterName}`, endpoint, auth.clusterCaCertificate ?? ""),
    ),
  );

  return {
    name: cluster.name,
    id: cluster.id,
    apiEndpoint: pulumi.interpolate`https://${cluster.endpoint}`,
    // GKE's Workload Identity issuer is per cluster.
    oidcIssuerUrl: pulumi.interpolate`https://container.googleapis.com/v1/projects/${project}/locations/${location}/clusters/${cluster.name}`,
    kubeconfig,
    systemPools,
    userPools,
    resource: cluster,
  };
}

/** A kubeconfig that logs in with gke-gcloud-auth-plugin (the deployer's Google identity; no static credential). */
export function gkeKubeconfig(contextName: string, endpoint: string, caData: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{name: ${contextName}, cluster: {server: "https://${endpoint}", certificate-authority-data: ${caData}}}]`,
    `contexts: [{name: ${contextName}, context: {cluster: ${contextName}, user: ${contextName}}}]`,
    `current-context: ${contextName}`,
    `users: [{name: ${contextName}, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: gke-gcloud-auth-plugin, provideClusterInfo: true, installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin"}}}]`,
  ].join("\n");
}
