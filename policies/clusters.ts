import { PolicyResource } from "@pulumi/policy";
import { CLOUD_RULES, KUBERNETES_LIMITS } from "../cells/plan/clouds";
import { serviceRangeProblems } from "../cells/plan/ipplan";
import { resourceRule, stackRule, violation } from "./lib/policy";
import { at, bool, records, str } from "./lib/props";
import { StackIndex } from "./lib/stack";
import { AWS, AZURE } from "./lib/types";
import { CLUSTER_TYPES, CLUSTER_VIEWS, ClusterNode, clusterGraph, ClusterView, PINNED_VERSION, POOL_TYPES, PoolNode } from "./views/cluster";
import { subnetView } from "./views/network";

/*
 * Cluster invariants, one validator per concept over the neutral cluster view
 * (policies/views/cluster.ts): AKS, EKS and GKE are checked by the same code.
 */

export const clusterCiliumNoOverlay = resourceRule<ClusterView>({
  name: "cluster-cilium-no-overlay",
  description:
    "Clusters run managed Cilium without overlay, so pods take VNET/VPC addresses and the proxy reaches data-plane pods directly (AKS: Azure CNI powered by Cilium; GKE: Dataplane V2, VPC-native; EKS: no VPC CNI, Cilium in ENI mode). Fix: set the cloud's dataplane fields named in the message.",
  enforcementLevel: "mandatory",
  views: CLUSTER_VIEWS,
  check: (v, { subject }) =>
    !v.cilium || v.overlay ? [violation(subject.name, `cluster ${v.name} is not on managed Cilium without overlay (${v.dataplaneDetail})`, v.hints.dataplane)] : [],
});

export const clusterApiServerRestricted = resourceRule<ClusterView>({
  name: "cluster-api-server-restricted",
  description:
    "The Kubernetes API server is private, or its public endpoint accepts only authorized IP ranges (never 0.0.0.0/0, alone or as ranges whose union is every address). Fix: make the cluster private or list the operators' ranges (cellplane:apiServer in the stack config).",
  enforcementLevel: "mandatory",
  views: CLUSTER_VIEWS,
  check: (v, { subject }) =>
    !v.privateApi && v.apiRanges === null ? [violation(subject.name, `the API server of ${v.name} is public and open to any address`, v.hints.apiServer)] : [],
});

export const clusterServiceRangeValid = resourceRule<ClusterView>({
  name: "cluster-service-range-valid",
  description:
    "A cluster's Kubernetes service range is one every cloud accepts: inside a private (RFC 1918) block, /13 to /24, clear of the blocks AKS reserves (169.254.0.0/16, 172.30.0.0/16, 172.31.0.0/16, 192.0.2.0/24), with the cluster DNS address inside it (EKS API KubernetesNetworkConfigRequest; Microsoft Learn, Azure CNI networking). Fix: set cellplane:serviceCidr to such a range (default 172.20.0.0/16).",
  enforcementLevel: "mandatory",
  views: CLUSTER_VIEWS,
  check: (v, { subject }) =>
    v.serviceRange ? serviceRangeProblems(v.serviceRange.cidr, v.serviceRange.dnsIp).map((m) => violation(subject.name, `${v.name}: ${m}`, v.hints.serviceRange)) : [],
});

export const clusterLocalAccountsDisabled = resourceRule<ClusterView>({
  name: "cluster-local-accounts-disabled",
  description:
    "Clusters have no local accounts (static admin certificates or tokens) and bind Kubernetes RBAC to the cloud's identity provider (Entra ID, IAM access entries, Google). Fix: disable local accounts and enable the identity-provider integration named in the message.",
  enforcementLevel: "mandatory",
  views: CLUSTER_VIEWS,
  check: (v, { subject }) =>
    v.localAccounts || !v.idpRbac
      ? [violation(subject.name, `${v.localAccounts ? "local accounts are enabled" : "RBAC is not bound to the identity provider"} on ${v.name}`, v.hints.localAccounts)]
      : [],
});

export const clusterSecretsEncryption = resourceRule<ClusterView>({
  name: "cluster-secrets-encryption",
  description:
    "Kubernetes secrets are envelope-encrypted with a customer-managed key where the cloud offers it (AKS KMS etcd encryption, EKS encryptionConfig, GKE application-layer secrets encryption). Fix: configure the KMS key named in the message.",
  enforcementLevel: "advisory",
  views: CLUSTER_VIEWS,
  check: (v, { subject }) =>
    v.secretsEncryption ? [] : [violation(subject.name, `secrets of ${v.name} are not encrypted with a customer-managed key`, v.hints.secretsEncryption)],
});

export const clusterVersionPinned = resourceRule<ClusterView>({
  name: "cluster-version-pinned",
  description:
    "Every cluster pins its Kubernetes version (1.33 or 1.33.2), and auto-upgrade moves patches only, so a minor upgrade is a reviewed change. Fix: set the version explicitly (cellplane:clusters.<role>.kubernetesVersion) and an upgrade channel that keeps the minor version.",
  enforcementLevel: "mandatory",
  views: CLUSTER_VIEWS,
  check: (v, { subject }) => {
    const out: string[] = [];
    if (!v.version || !PINNED_VERSION.test(v.version)) out.push(violation(subject.name, `the Kubernetes version of ${v.name} is ${v.version ? `"${v.version}", not a pinned version` : "unset, so the cloud picks one"}`, v.hints.version));
    if (v.versionDrift) out.push(violation(subject.name, v.versionDrift, v.hints.version));
    return out;
  },
});

// ---------------------------------------------------------------------------
// Stack policies: what a cluster needs from other resources.

/** EKS: the clusters an IAM OIDC provider or the pod identity agent serves (by issuer URL or cluster name). */
function eksWorkloadIdentity(index: StackIndex): (cluster: PolicyResource) => boolean {
  const issuers = new Set(index.ofType(AWS.oidcProvider).map((p) => str(p.props.url)?.replace(/^https:\/\//, "")));
  const agents = new Set(index.ofType(AWS.addon).filter((a) => a.props.addonName === "eks-pod-identity-agent").map((a) => str(a.props.clusterName)));
  const servedByDependency = new Set(index.ofType(AWS.oidcProvider, AWS.addon).flatMap((p) => p.dependencies.map((d) => d.urn)));
  return (c) => {
    const issuer = str(at(c.props, "identities", 0, "oidcs", 0, "issuer"))?.replace(/^https:\/\//, "");
    return (issuer !== undefined && issuers.has(issuer)) || agents.has(str(c.props.name)) || servedByDependency.has(c.urn);
  };
}

export const clusterWorkloadIdentity = stackRule({
  name: "cluster-workload-identity",
  description:
    "Clusters expose an OIDC issuer and have workload identity on, so add-ons get cloud credentials by federation, never from static keys. Fix: enable the OIDC issuer and workload identity (AKS, GKE), or add the IAM OIDC provider or pod identity agent (EKS).",
  enforcementLevel: "mandatory",
  appliesTo: CLUSTER_TYPES,
  check(index, { report }) {
    const eks = eksWorkloadIdentity(index);
    for (const { resource, view } of clusterGraph(index).clusters) {
      const on = view.workloadIdentity === "stack" ? eks(resource) : view.oidcIssuer && view.workloadIdentity;
      if (!on) report(resource.urn, violation(resource.name, `${view.name} has no ${view.oidcIssuer ? "" : "OIDC issuer and no "}workload identity`, view.hints.workloadIdentity));
    }
  },
});

/** Zones of a pool: its own, or those of its subnets (EKS node groups). */
function poolZones(index: StackIndex, p: PoolNode): string[] {
  if (p.view.zones !== null) return p.view.zones;
  const zones = p.view.subnets.map((ref) => {
    const s = index.ref(p.resource, ref, [AWS.subnet]);
    return s ? subnetView(s)?.zone : undefined;
  });
  return [...new Set(zones.filter((z): z is string => typeof z === "string"))];
}

export const clusterPoolsZonal = stackRule<{ minZones?: number }>({
  name: "cluster-pools-zonal",
  description:
    "Each cluster has a node pool per zone, each pool pinned to exactly one zone, across at least 3 zones, so a zone's nodes egress through that zone's NAT and a zone outage takes one pool per cluster. Fix: pin each pool to one zone (AKS availabilityZones, EKS subnetIds of one AZ, GKE nodeLocations) and add a pool for every zone.",
  enforcementLevel: "mandatory",
  appliesTo: [...CLUSTER_TYPES, ...POOL_TYPES],
  configSchema: { properties: { minZones: { type: "integer", minimum: 1, maximum: 6, default: 3, description: "Fewest zones a cluster's pools must span." } } },
  check(index, { config, report }) {
    const minZones = config.minZones ?? 3;
    const graph = clusterGraph(index);
    for (const orphan of graph.orphanPools) {
      report(orphan.resource.urn, violation(orphan.resource.name, `pool ${orphan.view.name} belongs to no cluster of the stack`, "parent the pool to its cluster or reference the cluster by name"));
    }
    const zonesOf = new Map<ClusterNode, string[][]>(graph.clusters.map((c) => [c, c.pools.map((p) => poolZones(index, p))]));
    // The stack's zones: every zone some pool runs in. Each cluster must cover them all.
    const stackZones = [...new Set([...zonesOf.values()].flat(2))].sort();
    for (const c of graph.clusters) {
      const name = c.resource.name;
      c.pools.forEach((p, i) => {
        const zones = zonesOf.get(c)![i];
        if (zones.length !== 1) {
          report(p.resource.urn, violation(p.resource === c.resource ? name : p.resource.name, `pool ${p.view.name} of ${c.view.name} spans ${zones.length === 0 ? "no pinned zone" : `zones ${zones.join(", ")}`}`, "pin the pool to exactly one zone and add one pool per zone"));
        }
      });
      const covered = new Set(zonesOf.get(c)!.filter((z) => z.length === 1).flat());
      const missing = stackZones.filter((z) => !covered.has(z));
      if (covered.size < minZones || missing.length > 0) {
        report(
          c.resource.urn,
          violation(name, `the pools of ${c.view.name} cover zone(s) ${[...covered].sort().join(", ") || "none"}${missing.length > 0 ? `, not ${missing.join(", ")}` : ""}; a cluster needs one pinned pool in each of at least ${minZones} zones`, "add a pool pinned to each missing zone"),
        );
      }
    }
  },
});

interface CapacityConfig {
  maxPodsPerNode?: number;
  maxNodesPerCluster?: number;
  maxPodsPerCluster?: number;
}

export const clusterCapacityWithinLimits = stackRule<CapacityConfig>({
  name: "cluster-capacity-within-limits",
  description:
    "Pools stay within the cloud's limits (pods per node, nodes per pool) and each cluster within Kubernetes' tested limits (110 pods per node, 5,000 nodes, 150,000 pods). Fix: lower maxPods or the pool's node ceiling (cellplane:clusters.<role>), or add a cell.",
  enforcementLevel: "mandatory",
  appliesTo: [...CLUSTER_TYPES, ...POOL_TYPES],
  configSchema: {
    properties: {
      maxPodsPerNode: { type: "integer", minimum: 1, maximum: 256, default: 110, description: "Most pods per node (Kubernetes tests 110); the cloud's own limit applies too." },
      maxNodesPerCluster: { type: "integer", minimum: 1, default: KUBERNETES_LIMITS.maxNodesPerCluster, description: "Most nodes one cluster may reach at its pools' ceilings." },
      maxPodsPerCluster: { type: "integer", minimum: 1, default: KUBERNETES_LIMITS.maxPodsPerCluster, description: "Most pods one cluster may hold at its pools' ceilings." },
    },
  },
  check(index, { config, report }) {
    const maxNodesPerCluster = config.maxNodesPerCluster ?? KUBERNETES_LIMITS.maxNodesPerCluster;
    const maxPodsPerCluster = config.maxPodsPerCluster ?? KUBERNETES_LIMITS.maxPodsPerCluster;
    for (const c of clusterGraph(index).clusters) {
      const rules = CLOUD_RULES[c.view.cloud];
      const podLimit = Math.min(rules.maxPodsPerNode, config.maxPodsPerNode ?? 110);
      let nodes = 0;
      let pods = 0;
      for (const p of c.pools) {
        const label = p.resource === c.resource ? c.resource.name : p.resource.name;
        const poolNodes = (p.view.maxNodes ?? 0) * (p.view.nodesPerZone ? Math.max(1, (p.view.zones ?? []).length) : 1);
        if (p.view.maxPods !== undefined && p.view.maxPods > podLimit) {
          report(p.resource.urn, violation(label, `pool ${p.view.name} allows ${p.view.maxPods} pods per node, above the limit of ${podLimit} (${c.view.cloud} ${rules.maxPodsPerNode}, Kubernetes 110)`, `set maxPods to at most ${podLimit}`));
        }
        if ((p.view.maxNodes ?? 0) > rules.maxNodesPerPool) {
          report(p.resource.urn, violation(label, `pool ${p.view.name} may grow to ${p.view.maxNodes} nodes, above the ${c.view.cloud} limit of ${rules.maxNodesPerPool} per pool`, `cap the pool at ${rules.maxNodesPerPool} nodes, or add a cell`));
        }
        nodes += poolNodes;
        pods += poolNodes * (p.view.maxPods ?? podLimit);
      }
      if (nodes > maxNodesPerCluster) report(c.resource.urn, violation(c.resource.name, `${c.view.name} may grow to ${nodes} nodes, above ${maxNodesPerCluster}`, "lower the pools' node ceilings, or add a cell"));
      if (pods > maxPodsPerCluster) report(c.resource.urn, violation(c.resource.name, `${c.view.name} may hold ${pods} pods, above ${maxPodsPerCluster}`, "lower maxPods or the pools' node ceilings, or add a cell"));
    }
  },
});

/** AKS audit log categories: either is enough (kube-audit-admin leaves out reads, and costs far less). */
const AKS_AUDIT_CATEGORIES = new Set(["kube-audit", "kube-audit-admin"]);

export const clusterAuditLogging = stackRule({
  name: "cluster-audit-logging",
  description:
    "Control-plane audit logs are collected for every cluster (AKS: a diagnostic setting with kube-audit or kube-audit-admin; EKS: enabledClusterLogTypes audit; GKE: control-plane logging on). Fix: turn on the cloud's audit logging named in the message.",
  enforcementLevel: "advisory",
  appliesTo: CLUSTER_TYPES,
  check(index, { report }) {
    const audited = new Set<string>();
    for (const d of index.ofType(AZURE.diagnosticSetting)) {
      const logs = records(d.props.logs).filter((l) => bool(l.enabled) !== false);
      const audits = logs.some((l) => AKS_AUDIT_CATEGORIES.has(str(l.category) ?? "") || ["audit", "allLogs"].includes(str(l.categoryGroup) ?? ""));
      const target = index.ref(d, d.props.resourceUri, [AZURE.cluster]);
      if (audits && target) audited.add(target.urn);
    }
    for (const { resource, view } of clusterGraph(index).clusters) {
      const on = view.auditLogging === "stack" ? audited.has(resource.urn) : view.auditLogging;
      if (!on) report(resource.urn, violation(resource.name, `${view.name} sends no control-plane audit logs anywhere`, view.hints.auditLogging));
    }
  },
});

export const CLUSTER_POLICIES = [
  clusterCiliumNoOverlay,
  clusterApiServerRestricted,
  clusterServiceRangeValid,
  clusterWorkloadIdentity,
  clusterLocalAccountsDisabled,
  clusterPoolsZonal,
  clusterCapacityWithinLimits,
  clusterAuditLogging,
  clusterSecretsEncryption,
  clusterVersionPinned,
];
