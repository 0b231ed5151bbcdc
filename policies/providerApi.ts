import { PolicyResource } from "@pulumi/policy";
import { CLOUD_FACES } from "../cells/plan/clouds";
import { supportOf } from "../cells/plan/kubernetes";
import { Cloud } from "../cells/plan/model";
import { clusterSubnets } from "./network";
import { resourceRule, roleOf, stackRule, violation, ViewTable } from "./lib/policy";
import { addressMatches } from "./lib/reachability";
import { at, record, records, str, strings } from "./lib/props";
import { StackIndex } from "./lib/stack";
import { AWS, AZURE, GCP } from "./lib/types";
import { CLUSTER_VIEWS, ClusterView } from "./views/cluster";
import { isPublicSource, RULE_SET_VIEWS, RuleSetView, servingNats } from "./views/network";

/*
 * The provider-api domain: what a cloud's API refuses or silently breaks at deploy
 * time, judged on the resources' inputs so that `npm run plan` and `pulumi preview
 * --policy-pack policies` catch it before `pulumi up`. Each rule names its source.
 */

const IPV4_OR_CIDR = /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/;

// ---------------------------------------------------------------------------
// Azure NSG rules: tags and "*" only in the singular fields

interface NsgFields {
  rules: { name: string; plural: Record<string, unknown> }[];
}

const nsgRuleOf = (r: Record<string, unknown>, fallback: string) => ({
  name: str(r.name) ?? fallback,
  plural: { sourceAddressPrefixes: r.sourceAddressPrefixes, destinationAddressPrefixes: r.destinationAddressPrefixes, sourcePortRanges: r.sourcePortRanges, destinationPortRanges: r.destinationPortRanges },
});

const NSG_FIELD_VIEWS: ViewTable<NsgFields> = {
  [AZURE.nsg]: ({ props }) => ({ rules: records(props.securityRules).map((r, i) => nsgRuleOf(r, `rule ${i}`)) }),
  [AZURE.securityRule]: ({ props, name }) => ({ rules: [nsgRuleOf(props, name)] }),
};

export const nsgPluralFieldsValid = resourceRule<NsgFields>({
  name: "nsg-plural-fields-valid",
  description:
    "NSG rules put service tags (AzureLoadBalancer, Internet, VirtualNetwork...) and \"*\" only in the singular sourceAddressPrefix/destinationAddressPrefix/*PortRange fields; the plural arrays take IP addresses, CIDRs and port numbers or ranges, else Azure refuses the rule (SecurityRuleParameterContainsUnsupportedValue). Source: learn.microsoft.com, \"Network security groups: security rules\" and the SecurityRule REST API. Fix: move a lone tag or * to the singular field (providers/azure/nsgRules.ts does).",
  enforcementLevel: "mandatory",
  views: NSG_FIELD_VIEWS,
  check(view, { subject }) {
    const out: string[] = [];
    for (const rule of view.rules) {
      for (const [field, value] of Object.entries(rule.plural)) {
        const isPorts = field.endsWith("PortRanges");
        const bad = strings(value).filter((v) => (isPorts ? !/^\d+(-\d+)?$/.test(v) : !IPV4_OR_CIDR.test(v)));
        if (bad.length === 0) continue;
        const singular = isPorts ? field.replace(/Ranges$/, "Range") : field.replace(/Prefixes$/, "Prefix");
        out.push(violation(subject.name, `rule ${rule.name} lists ${bad.map((b) => JSON.stringify(b)).join(", ")} in ${field}; Azure accepts ${isPorts ? "only ports and port ranges" : "only addresses and CIDRs"} there`, `put it alone in ${singular} (a tag or * cannot be combined with other values in one rule)`));
      }
    }
    return out;
  },
});

// ---------------------------------------------------------------------------
// AKS: the API server authorizes the cell's own egress

/** Public addresses of the NAT gateways serving `subnet` (Azure: the NAT's public IPs and prefixes). */
function azureNatEgress(index: StackIndex, nat: PolicyResource): { address: string; from: PolicyResource }[] {
  const out: { address: string; from: PolicyResource }[] = [];
  for (const ref of records(nat.props.publicIpAddresses)) {
    const ip = index.ref(nat, ref.id, [AZURE.publicIp]);
    const address = ip ? str(ip.props.ipAddress) : undefined;
    if (ip && address) out.push({ address, from: ip });
  }
  for (const ref of records(nat.props.publicIpPrefixes)) {
    const prefix = index.ref(nat, ref.id, [AZURE.publicIpPrefix]);
    const cidr = prefix ? str(prefix.props.ipPrefix) : undefined;
    if (prefix && cidr) out.push({ address: cidr, from: prefix });
  }
  return out;
}

function covered(egress: string, ranges: readonly string[]): boolean {
  // A prefix is covered when its first and last addresses are.
  const [base, len] = egress.split("/");
  if (!len) return ranges.some((r) => addressMatches(r, base));
  const n = 2 ** (32 - Number(len)) - 1;
  const last = base.split(".").reduce((a, o) => a * 256 + Number(o), 0) + n;
  const lastText = [24, 16, 8, 0].map((s) => Math.floor(last / 2 ** s) % 256).join(".");
  return ranges.some((r) => addressMatches(r, base)) && ranges.some((r) => addressMatches(r, lastText));
}

export const apiServerAuthorizesEgress = stackRule({
  name: "api-server-authorizes-egress",
  description:
    "A public AKS API server with authorized IP ranges lists every egress address of the cluster's own NAT gateways: with outboundType userAssignedNATGateway the nodes reach the API server from those addresses, and unauthorized nodes never join (CreateVMSSAgentPoolFailed). Source: learn.microsoft.com, \"Secure access to the API server using authorized IP address ranges in AKS\". Fix: add each NAT public IP (or prefix) of the cell to apiServerAccessProfile.authorizedIPRanges (providers/azure/cluster.ts does).",
  enforcementLevel: "mandatory",
  appliesTo: [AZURE.cluster],
  check(index, { report }) {
    const nats = servingNats(index);
    const egressOf = new Map<string, Map<string, PolicyResource>>();
    for (const s of clusterSubnets(index)) {
      for (const c of s.clusters) {
        if (c.resource.type !== AZURE.cluster) continue;
        const set = egressOf.get(c.resource.urn) ?? new Map<string, PolicyResource>();
        for (const nat of nats(s.resource)) for (const e of azureNatEgress(index, nat.resource)) set.set(e.address, e.from);
        egressOf.set(c.resource.urn, set);
      }
    }
    for (const c of index.ofType(AZURE.cluster)) {
      const profile = record(c.props.apiServerAccessProfile);
      if (profile?.enablePrivateCluster === true) continue;
      const ranges = strings(profile?.authorizedIPRanges);
      if (ranges.length === 0) continue; // open or private: cluster-api-server-restricted judges it
      const missing = [...(egressOf.get(c.urn) ?? new Map<string, PolicyResource>()).entries()].filter(([a]) => !covered(a, ranges));
      if (missing.length === 0) continue;
      report(
        c.urn,
        violation(
          c.name,
          `authorizedIPRanges lacks the cell's NAT egress ${missing.map(([a, r]) => `${a} (${r.name})`).join(", ")}: the nodes reach the API server from there and would never join`,
          "add every NAT public IP of the cell as /32 (or its prefix) to apiServerAccessProfile.authorizedIPRanges",
        ),
      );
    }
  },
});

// ---------------------------------------------------------------------------
// Kubernetes versions within the cloud's standard support

export const kubernetesVersionSupported = resourceRule<ClusterView, { asOf?: string }>({
  name: "kubernetes-version-supported",
  description:
    "Every cluster's Kubernetes minor is within its cloud's standard support on the day of the run: AKS, EKS and GKE create no cluster on a minor past it. The calendars are data in cells/plan/clouds/<cloud>.ts (kubernetesCalendar), each row with its source (AKS: learn.microsoft.com/azure/aks/supported-kubernetes-versions; EKS: docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html; GKE: cloud.google.com/kubernetes-engine/docs/release-schedule). Fix: set cellplane:clusters.<role>.kubernetesVersion to a supported minor.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      asOf: { type: "string", default: "", description: "The day (YYYY-MM-DD) the calendars are read at; empty means today." },
    },
  },
  views: CLUSTER_VIEWS,
  check(v, { subject, config }) {
    if (!v.version) return []; // cluster-version-pinned reports it
    const today = config.asOf ? new Date(`${config.asOf}T00:00:00Z`) : new Date();
    const calendar = CLOUD_FACES[v.cloud as Cloud].kubernetesCalendar;
    const s = supportOf(v.version, calendar, today);
    if (s.status !== "ended") return [];
    const supported = calendar.filter((r) => supportOf(r.minor, calendar, today).status !== "ended").map((r) => r.minor);
    return [
      violation(
        subject.name,
        `Kubernetes ${v.version} of ${v.name} is past its end of standard support on ${v.cloud}${s.end ? ` (${s.end})` : ""}; the cloud creates no cluster on it`,
        `set cellplane:clusters.<role>.kubernetesVersion to ${supported.join(" or ") || "a supported minor"}`,
      ),
    ];
  },
});

// ---------------------------------------------------------------------------
// Autoscaled pools leave the node count to the autoscaler

interface ScaledPool {
  name: string;
  autoscaled: boolean;
  /** The input the autoscaler owns, as ignoreChanges names it. */
  countField: string;
  /** A wider ignoreChanges entry that covers it too (AKS inline pools: the whole agentPoolProfiles). */
  coveredBy?: string;
}

const SCALED_POOL_VIEWS: ViewTable<ScaledPool> = {
  [AZURE.pool]: ({ props, name }) => ({ name: str(props.agentPoolName) ?? name, autoscaled: props.enableAutoScaling === true, countField: "count" }),
  // Pools created with the cluster: each inline profile's count, by its position.
  [AZURE.cluster]: ({ props }) =>
    records(props.agentPoolProfiles).map((p, i) => ({
      name: str(p.name) ?? `pool ${i}`,
      autoscaled: p.enableAutoScaling === true,
      countField: `agentPoolProfiles[${i}].count`,
      coveredBy: "agentPoolProfiles",
    })),
  [AWS.nodeGroup]: ({ props, name }) => ({ name: str(props.nodeGroupName) ?? name, autoscaled: at(props, "scalingConfig", "maxSize") !== undefined, countField: "scalingConfig.desiredSize" }),
  [GCP.nodePool]: ({ props, name }) => ({ name: str(props.name) ?? name, autoscaled: props.autoscaling !== undefined && props.nodeCount !== undefined, countField: "nodeCount" }),
};

export const autoscaledPoolsIgnoreCount = resourceRule<ScaledPool>({
  name: "autoscaled-pools-ignore-count",
  description:
    "A pool whose size the cluster autoscaler owns ignores changes to its node count (ignoreChanges), so a later update does not push the count back and evict workloads. Sources: learn.microsoft.com, \"Use the cluster autoscaler in AKS\" (count is the autoscaler's once enabled); the EKS and GKE autoscaler docs. Fix: add the count field to the pool's ignoreChanges (AKS: count, or agentPoolProfiles[<i>].count for a pool created with the cluster; EKS: scalingConfig.desiredSize; GKE: nodeCount).",
  enforcementLevel: "mandatory",
  views: SCALED_POOL_VIEWS,
  check(v, { subject, opts }) {
    const ignored = opts.ignoreChanges ?? [];
    if (!v.autoscaled || ignored.includes(v.countField) || (v.coveredBy !== undefined && ignored.includes(v.coveredBy))) return [];
    return [violation(subject.name, `pool ${v.name} is autoscaled but a later update would reset ${v.countField} and fight the autoscaler`, `add "${v.countField}" to the pool's ignoreChanges`)];
  },
});

// ---------------------------------------------------------------------------
// The management API is never open to the whole Internet

const MANAGEMENT_ROLE = "data-plane-mgmt";

export const managementIngressRestricted = resourceRule<RuleSetView>({
  name: "management-ingress-restricted",
  description:
    "The data-plane-mgmt cluster's ingress (the control plane's API) admits only its own allow-list (cellplane:platform.managementAllowList, by default the API servers' authorized ranges), never 0.0.0.0/0, * or Internet. Fix: narrow the rule's sources to the control plane's networks.",
  enforcementLevel: "mandatory",
  views: RULE_SET_VIEWS,
  check(view, { subject, opts }) {
    if (roleOf(view.tags, subject.urn, subject.name, opts.parent) !== MANAGEMENT_ROLE) return [];
    return view.rules
      .filter((r) => r.allow && r.sources.some(isPublicSource))
      .map((r) => violation(subject.name, `rule ${r.name} lets ${r.sources.filter(isPublicSource).join(", ")} reach the management API of ${MANAGEMENT_ROLE}`, "list the control plane's networks in cellplane:platform.managementAllowList"));
  },
});

// ---------------------------------------------------------------------------
// The pools an AKS cluster is created with

export const aksCreationPoolsValid = resourceRule<Record<string, unknown>>({
  name: "aks-creation-pools-valid",
  description:
    `The pools an AKS cluster is created with (agentPoolProfiles) are what AKS accepts in one creation request: at least one System-mode pool (learn.microsoft.com, "Manage system node pools in AKS": a cluster needs one), names unique within the cluster, and no pool on another Kubernetes version than the control plane ("Manage node pools in AKS": pools created with the cluster must match its version; per-pool upgrades come after). The pools are also listed in name order: AKS reads them back sorted by name (hashicorp/terraform-provider-azurerm#3835 and #4560, kubernetes-sigs/cluster-api-provider-azure#5137), and Pulumi compares the list by position, so on any other order a refresh shows changes nobody made, and an ignoreChanges path like agentPoolProfiles[3].count points at a different pool. Fix: keep a System pool among agentPoolProfiles, give each pool its own name, list the pools sorted by name, and leave orchestratorVersion unset or equal to kubernetesVersion.`,
  enforcementLevel: "mandatory",
  views: { [AZURE.cluster]: ({ props }) => props },
  check(props, { subject }) {
    const pools = records(props.agentPoolProfiles);
    const out: string[] = [];
    if (pools.length > 0 && !pools.some((p) => str(p.mode) === "System")) {
      out.push(violation(subject.name, "agentPoolProfiles has no System-mode pool; AKS creates no cluster without one", "make one of the pools mode: System (cellplane's first-zone system pool)"));
    }
    const names = pools.map((p) => str(p.name));
    const repeated = [...new Set(names.filter((n, i) => n !== undefined && names.indexOf(n) !== i))];
    if (repeated.length > 0) out.push(violation(subject.name, `agentPoolProfiles names ${repeated.join(", ")} more than once`, "give every pool of the cluster its own name"));
    const listed = names.filter((n): n is string => n !== undefined);
    const sorted = [...listed].sort();
    if (listed.some((n, i) => n !== sorted[i])) {
      out.push(violation(subject.name, `agentPoolProfiles lists ${listed.join(", ")}; AKS returns them as ${sorted.join(", ")}, and Pulumi compares the list by position`, `list the pools in name order (${sorted.join(", ")})`));
    }
    const version = str(props.kubernetesVersion);
    pools.forEach((p, i) => {
      const v = str(p.orchestratorVersion);
      if (v !== undefined && version !== undefined && v !== version) {
        out.push(violation(subject.name, `pool ${str(p.name) ?? i} asks for Kubernetes ${v} while the control plane gets ${version}; pools created with the cluster run its version`, "leave orchestratorVersion unset (or equal to kubernetesVersion) and upgrade pools after creation"));
      }
    });
    return out;
  },
});

export const PROVIDER_API_POLICIES = [nsgPluralFieldsValid, apiServerAuthorizesEgress, kubernetesVersionSupported, autoscaledPoolsIgnoreCount, aksCreationPoolsValid, managementIngressRestricted];
