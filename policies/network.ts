import { IPv4, IPv4CidrRange } from "ip-num";
import { PolicyResource } from "@pulumi/policy";
import { SMALLEST_CELL_PREFIX } from "../cells/plan/clouds";
import { prefixOf } from "../cells/plan/ipplan";
import { flowAllows, FLOWS, INGRESS, Protocol } from "../cells/plan/isolation";
import { Role } from "../cells/plan/model";
import { resourceRule, roleOf, stackRule, subjectOf, violation, viewsOf } from "./lib/policy";
import { azureLoadBalancedIngressAdmits, azureNsgAdmits, gcpFirewallAdmits, GcpFirewallRule, insideAny, sampleOf } from "./lib/reachability";
import { awsIsolationViolations, awsPodSubnetEgressViolations } from "./networkAws";
import { at, oneOrMany, record, records, str, strings } from "./lib/props";
import { StackIndex } from "./lib/stack";
import { AWS, AZURE, GCP } from "./lib/types";
import { CLUSTER_TYPES, clusterGraph, clusterTags, POOL_TYPES } from "./views/cluster";
import {
  gcpFirewallRule,
  IngressRule,
  isPublicSource,
  NETWORK_VIEWS,
  NetworkView,
  PortRange,
  RULE_SET_VIEWS,
  servingNats,
  SUBNET_TYPES,
  subnetView,
} from "./views/network";

/*
 * Network invariants of a cell: zonal egress, filtered cluster subnets, no
 * Internet ingress beyond the listed ports, sized and disjoint cells, and
 * reachability equal to the isolation matrix (cells/plan/isolation.ts).
 */

// ---------------------------------------------------------------------------
// Cluster subnets: the subnets that pools and clusters put nodes and pods in.

interface ClusterSubnet {
  resource: PolicyResource;
  /** Zones of the pools that use the subnet. */
  poolZones: Set<string>;
  /** Clusters that use it, with their role. */
  clusters: { resource: PolicyResource; role: Role | null }[];
}

const clusterSubnetCache = new WeakMap<StackIndex, ClusterSubnet[]>();

/** Every subnet a cluster of the stack uses, with the zones of the pools in it. Built once per stack. */
export function clusterSubnets(index: StackIndex): ClusterSubnet[] {
  const cached = clusterSubnetCache.get(index);
  if (cached) return cached;
  const byUrn = new Map<string, ClusterSubnet>();
  const use = (from: PolicyResource, ref: unknown, cluster: PolicyResource, role: Role | null, zones: readonly string[]) => {
    const subnet = index.ref(from, ref, SUBNET_TYPES);
    if (!subnet) return;
    let entry = byUrn.get(subnet.urn);
    if (!entry) byUrn.set(subnet.urn, (entry = { resource: subnet, poolZones: new Set(), clusters: [] }));
    for (const z of zones) entry.poolZones.add(z);
    if (!entry.clusters.some((c) => c.resource === cluster)) entry.clusters.push({ resource: cluster, role });
  };
  for (const c of clusterGraph(index).clusters) {
    const role = roleOf(clusterTags(c.resource.props), c.resource.urn, c.resource.name, c.resource.parent?.urn);
    for (const p of c.pools) for (const ref of p.view.subnets) use(p.resource, ref, c.resource, role, p.view.zones ?? []);
    for (const ref of strings(c.resource.props.vpcConfig === undefined ? undefined : record(c.resource.props.vpcConfig)?.subnetIds)) use(c.resource, ref, c.resource, role, []);
    if (c.resource.type === GCP.cluster && c.resource.props.subnetwork !== undefined) use(c.resource, c.resource.props.subnetwork, c.resource, role, []);
  }
  const list = [...byUrn.values()];
  clusterSubnetCache.set(index, list);
  return list;
}

const SUBNET_USERS = [...CLUSTER_TYPES, ...POOL_TYPES];

export const subnetNatSameZone = stackRule({
  name: "subnet-nat-same-zone",
  description:
    "Every zonal cluster subnet egresses through a NAT gateway pinned to its own zone (Azure: Subnet.natGateway; AWS: the subnet's route table default route; GCP: a Cloud NAT per subnetwork). Fix: attach the NAT gateway of the subnet's zone, or move the pools so that one subnet serves one zone.",
  enforcementLevel: "mandatory",
  appliesTo: SUBNET_USERS,
  check(index, { report }) {
    const nats = servingNats(index);
    awsPodSubnetEgressViolations(index, report, nats);
    for (const s of clusterSubnets(index)) {
      const own = subnetView(s.resource)?.zone;
      const zones = own ? [own] : [...s.poolZones].sort();
      const served = nats(s.resource);
      const name = s.resource.name;
      if (served.length === 0) {
        report(s.resource.urn, violation(name, "no NAT gateway serves this cluster subnet, so its nodes and pods have no stable egress", `attach the NAT gateway of zone ${zones[0] ?? "<zone>"} (one NAT per zone)`));
        continue;
      }
      if (zones.length > 1) {
        report(s.resource.urn, violation(name, `pools of zones ${zones.join(", ")} share this subnet, but a zonal subnet egresses through one zone's NAT`, "give each zone its own node and pod subnets"));
        continue;
      }
      for (const nat of served) {
        if (nat.resource.type === GCP.routerNat) continue; // GCP subnetworks and Cloud NAT are regional.
        if (nat.zone === null) {
          report(s.resource.urn, violation(name, `NAT gateway ${nat.resource.name} is not pinned to one zone`, `pin it to zone ${zones[0] ?? "<zone>"} (zones: [\"${zones[0] ?? "1"}\"]) and give each zone its own NAT gateway`));
        } else if (zones.length === 1 && nat.zone !== zones[0]) {
          report(s.resource.urn, violation(name, `serves zone ${zones[0]} but egresses through NAT gateway ${nat.resource.name} of zone ${nat.zone}; losing zone ${nat.zone} would cut zone ${zones[0]} off`, `attach the NAT gateway of zone ${zones[0]}`));
        }
      }
    }
  },
});

export const clusterSubnetsFiltered = stackRule({
  name: "cluster-subnets-filtered",
  description:
    "Every cluster subnet is covered by an NSG (Azure), security group (AWS) or VPC firewall rule (GCP). Fix: attach the role's NSG to the subnet, give the cluster its security groups, or add firewall rules to the network.",
  enforcementLevel: "mandatory",
  appliesTo: SUBNET_USERS,
  check(index, { report }) {
    const firewalledNetworks = new Set<string>();
    for (const f of index.ofType(GCP.firewall)) {
      const net = index.ref(f, f.props.network, [GCP.network]);
      firewalledNetworks.add(net?.urn ?? str(f.props.network) ?? "");
    }
    for (const s of clusterSubnets(index)) {
      const v = subnetView(s.resource);
      let covered: boolean;
      let fix: string;
      switch (s.resource.type) {
        case AZURE.subnet:
          covered = str(v?.filterRef) !== undefined || str(record(v?.filterRef)?.id) !== undefined;
          fix = "set networkSecurityGroup: { id } to the NSG of the subnet's role";
          break;
        case AWS.subnet:
          covered = s.clusters.every((c) => strings(record(c.resource.props.vpcConfig)?.securityGroupIds).length > 0);
          fix = "set vpcConfig.securityGroupIds on the cluster to the role's security groups";
          break;
        default: {
          const net = index.ref(s.resource, v?.networkRef, [GCP.network]);
          covered = firewalledNetworks.has(net?.urn ?? str(v?.networkRef) ?? "?");
          fix = "add VPC firewall rules for the subnetwork's network generated from the isolation matrix";
        }
      }
      if (!covered) report(s.resource.urn, violation(s.resource.name, "this cluster subnet has no NSG, security group or firewall: every VNET/VPC peer can reach its nodes and pods", fix));
    }
  },
});

// ---------------------------------------------------------------------------
// Internet ingress

function portsText(ports: readonly PortRange[]): string {
  return ports.map((p) => (p.from === 0 && p.to === 65535 ? "all ports" : p.from === p.to ? String(p.from) : `${p.from}-${p.to}`)).join(", ");
}

/** Whether every port of `ranges` is one of `allowed`. */
function within(ranges: readonly PortRange[], allowed: readonly number[]): boolean {
  return ranges.every((r) => r.to - r.from + 1 <= allowed.length && Array.from({ length: r.to - r.from + 1 }, (_, i) => r.from + i).every((p) => allowed.includes(p)));
}

/** The Internet ports a role may expose (cells/plan/isolation.ts INGRESS), by protocol. */
function ingressPorts(role: Role | null, protocol: string): number[] {
  return INGRESS.filter((i) => i.role === role && i.protocol === protocol).flatMap((i) => i.ports);
}

export const noInternetIngress = resourceRule({
  name: "no-internet-ingress",
  description:
    "No inbound rule allows 0.0.0.0/0, ::/0, * or Internet, except the ingress ports of proxy and data-plane-mgmt (INGRESS in cells/plan/isolation.ts). Fix: narrow the rule's sources to known ranges, or its ports to the role's ingress ports.",
  enforcementLevel: "mandatory",
  views: RULE_SET_VIEWS,
  check(view, { subject, opts }) {
    const role = roleOf(view.tags, subject.urn, subject.name, opts.parent);
    return view.rules.flatMap((rule: IngressRule) => {
      const publicSources = rule.sources.filter(isPublicSource);
      if (!rule.allow || publicSources.length === 0) return [];
      const allowed = rule.protocol === "*" ? [] : ingressPorts(role, rule.protocol);
      if (allowed.length > 0 && within(rule.ports, allowed)) return [];
      const may = role && INGRESS.some((i) => i.role === role) ? `only tcp ${ingressPorts(role, "tcp").join(", ")} for ${role}` : `nothing for ${role ?? "a resource of no role"}`;
      return [
        violation(
          subject.name,
          `rule ${rule.name} lets ${publicSources.join(", ")} reach ${rule.protocol === "*" ? "any protocol" : rule.protocol} ${portsText(rule.ports)}; the Internet may reach ${may}`,
          `narrow the rule in ${view.field} to the allow-list ranges and ${may === `nothing for ${role}` ? "remove it" : "those ports"}`,
        ),
      ];
    });
  },
});

// ---------------------------------------------------------------------------
// Cell networks: size and overlap

export const cellNetworkMinSize = resourceRule<NetworkView, { maxPrefixLength?: number }>({
  name: "cell-network-min-size",
  description: `A cell's VNET/VPC is at least /${SMALLEST_CELL_PREFIX}, so its three clusters fit in every zone with surge headroom. Fix: give the cell a larger CIDR (a smaller prefix length) from the address pool.`,
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxPrefixLength: { type: "integer", minimum: 8, maximum: 28, default: SMALLEST_CELL_PREFIX, description: "Longest prefix a cell network may have (22 means /22 or larger)." },
    },
  },
  views: NETWORK_VIEWS,
  check(view, { subject, config }) {
    const max = config.maxPrefixLength ?? SMALLEST_CELL_PREFIX;
    return view.cidrs
      .filter((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c) && prefixOf(c) > max)
      .map((c) => violation(subject.name, `${c} is smaller than a /${max} cell`, `use a /${max} or larger block in ${view.hint}`));
  },
});

interface Block {
  cidr: string;
  start: bigint;
  end: bigint;
  /** The network the block belongs to: blocks of one network may nest, blocks of two may not meet. */
  network: string;
  resource: PolicyResource;
}

export const cellNetworksDisjoint = stackRule({
  name: "cell-networks-disjoint",
  description:
    "No two cell networks (VNETs, VPCs, GCP subnetworks of different networks) overlap, so cells can be peered and routed independently. Fix: give the cell a free CIDR from the address pool (cellctl cells add picks one).",
  enforcementLevel: "mandatory",
  appliesTo: [AZURE.vnet, AWS.vpc, GCP.subnetwork],
  check(index, { report }) {
    const blocks: Block[] = [];
    const add = (r: PolicyResource, network: string, cidrs: readonly string[]) => {
      for (const cidr of cidrs) {
        if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr)) continue;
        const range = IPv4CidrRange.fromCidr(cidr);
        blocks.push({ cidr, start: range.getFirst().getValue(), end: range.getLast().getValue(), network, resource: r });
      }
    };
    for (const r of index.ofType(AZURE.vnet, AWS.vpc)) add(r, r.urn, viewsOf(NETWORK_VIEWS, subjectOf(r))?.[0]?.cidrs ?? []);
    const services = gcpServiceRangeNames(index);
    for (const r of index.ofType(GCP.subnetwork)) {
      const v = subnetView(r);
      add(r, index.ref(r, v?.networkRef, [GCP.network])?.urn ?? str(v?.networkRef) ?? r.urn, gcpRoutedRanges(r, services));
    }
    // Sweep in address order: linear after the sort, whatever the number of cells.
    blocks.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let widest: Block | undefined;
    for (const b of blocks) {
      if (widest && b.start <= widest.end && b.network !== widest.network) {
        report(b.resource.urn, violation(b.resource.name, `${b.cidr} overlaps ${widest.cidr} of ${widest.resource.name}`, "give one of the cells a free CIDR from the address pool"));
      }
      if (!widest || b.end > widest.end) widest = b;
    }
  },
});

/** Names of the secondary ranges GKE clusters use for Services (ipAllocationPolicy.servicesSecondaryRangeName). */
function gcpServiceRangeNames(index: StackIndex): Set<string> {
  return new Set(index.ofType(GCP.cluster).flatMap((c) => oneOrMany(at(c.props, "ipAllocationPolicy", "servicesSecondaryRangeName"))));
}

/**
 * The ranges of a GCP subnetwork that carry routed addresses: the primary range
 * and the pod ranges. A VPC-native cluster's Service range answers inside the
 * cluster only, like serviceCidr on the other clouds, so every cell may reuse it.
 */
function gcpRoutedRanges(r: PolicyResource, serviceRanges: Set<string>): string[] {
  return [...oneOrMany(r.props.ipCidrRange), ...records(r.props.secondaryIpRanges).filter((x) => !serviceRanges.has(str(x.rangeName) ?? "")).flatMap((x) => oneOrMany(x.ipCidrRange))];
}

// ---------------------------------------------------------------------------
// Reachability equals the isolation matrix

/** Ports probed between roles: every listed flow and ingress port, plus ports no flow lists. */
const PROBES: { protocol: Protocol; port: number }[] = [
  ...[...new Set([...FLOWS.flatMap((f) => f.ports), ...INGRESS.flatMap((i) => i.ports), 22, 53, 80, 2379, 6443, 10250])].map((port) => ({ protocol: "tcp" as const, port })),
  ...[53, 4789, 8472].map((port) => ({ protocol: "udp" as const, port })),
];

/** An address inside a block, past the addresses clouds reserve at its start. */
function sampleAddress(cidr: string): string {
  return IPv4.fromNumber(IPv4CidrRange.fromCidr(cidr).getFirst().getValue() + 4n).toString();
}

export const isolationMatchesMatrix = stackRule({
  name: "isolation-matches-matrix",
  description:
    "The traffic the NSG rules (Azure), the security groups of every interface (AWS: node groups, control planes, Cilium pod ENIs) or the VPC firewall rules (GCP, pods included) let between a cell's clusters equals the isolation matrix (FLOWS in cells/plan/isolation.ts): each role reaches itself, listed flows pass on their ports, everything else is denied. Fix: generate the rules from the matrix (providers/<cloud>/), or change the matrix itself in review.",
  enforcementLevel: "mandatory",
  appliesTo: [AZURE.nsg, AWS.securityGroup, GCP.firewall],
  check(index, { report }) {
    awsIsolationViolations(index, report, PROBES, sampleAddress);
    gcpIsolation(index, report);
    // Group the cluster subnets of each VNET by role; a subnet's role is the role of the cluster using it.
    const cells = new Map<string, { vnet: PolicyResource; subnets: { resource: PolicyResource; role: Role; address: string }[] }>();
    for (const s of clusterSubnets(index)) {
      if (s.resource.type !== AZURE.subnet) continue;
      const role = s.clusters[0]?.role;
      const cidr = subnetView(s.resource)?.cidrs[0];
      const vnetId = vnetIdOf(s.resource);
      const vnet = (vnetId && index.byId(vnetId, [AZURE.vnet])) || index.soleDependency(s.resource, [AZURE.vnet]);
      if (!role || !cidr || !vnet) continue;
      const entry = cells.get(vnet.urn) ?? { vnet, subnets: [] };
      entry.subnets.push({ resource: s.resource, role, address: sampleAddress(cidr) });
      cells.set(vnet.urn, entry);
    }
    for (const { vnet, subnets } of cells.values()) {
      const vnetCidrs = viewsOf(NETWORK_VIEWS, subjectOf(vnet))?.[0]?.cidrs ?? [];
      const reported = new Set<string>();
      for (const dst of subnets) {
        const nsg = index.ref(dst.resource, subnetView(dst.resource)?.filterRef, [AZURE.nsg]);
        const rules = nsg ? (viewsOf(RULE_SET_VIEWS, subjectOf(nsg)) ?? []).flatMap((v) => v.rules) : [];
        for (const src of subnets) {
          const wrong: string[] = [];
          for (const { protocol, port } of PROBES) {
            const actual = azureNsgAdmits(rules, { source: src.address, destination: dst.address, protocol, port }, vnetCidrs);
            if (actual !== flowAllows(src.role, dst.role, protocol, port)) wrong.push(`${protocol}/${port} ${actual ? "allowed" : "denied"}`);
          }
          const key = `${nsg?.urn ?? dst.resource.urn}|${src.role}`;
          if (wrong.length === 0 || reported.has(key)) continue;
          reported.add(key);
          const target = nsg ?? dst.resource;
          report(
            target.urn,
            violation(target.name, `${src.role} -> ${dst.role} (${src.resource.name} -> ${dst.resource.name}) differs from the isolation matrix: ${wrong.join(", ")}`, "generate the NSG rules from cells/plan/isolation.ts (providers/azure/nsgRules.ts), or change FLOWS in review"),
          );
        }
        const ingressKey = `${nsg?.urn ?? dst.resource.urn}|internet`;
        const ingressWrong = reported.has(ingressKey) ? [] : azureIngressDiffers(rules, dst.role, vnetCidrs);
        if (ingressWrong.length > 0) {
          reported.add(ingressKey);
          const target = nsg ?? dst.resource;
          report(
            target.urn,
            violation(
              target.name,
              `Internet -> ${dst.role} through its load balancer differs from INGRESS: ${ingressWrong.join(", ")}; AKS load-balancer rules use floating IP, so the NSG sees the frontend IP as destination, not the node or pod subnet`,
              "give the Internet-ingress rules destination * (below the deny of the other roles) or the static frontend IPs of the gateways; generate them from INGRESS (providers/azure/nsgRules.ts)",
            ),
          );
        }
      }
    }
  },
});

/** A public frontend address for probes when the rules name none ("192.0.2.10", TEST-NET-1). */
const PROBE_FRONTEND = "192.0.2.10";
/** A public client address for probes when the rules allow no public source ("198.51.100.7", TEST-NET-2). */
const PROBE_CLIENT = "198.51.100.7";

/**
 * Internet ingress of one role judged the Azure way (floating IP, see
 * azureLoadBalancedIngressAdmits): from every public source the rules name (and a
 * stranger), to the load balancer's frontend, each probe port must pass exactly
 * when INGRESS lists it for the role and the source is allowed at all.
 */
function azureIngressDiffers(rules: readonly IngressRule[], role: Role, vnetCidrs: readonly string[]): string[] {
  const isPublic = (s: string) => isPublicSource(s) || (sampleOf(s) !== undefined && !insideAny(sampleOf(s) as string, vnetCidrs) && !isPrivate(sampleOf(s) as string));
  const publicSources = [...new Set(rules.filter((r) => r.allow).flatMap((r) => r.sources).filter(isPublic))];
  const clients = publicSources.map((s) => (isPublicSource(s) ? PROBE_CLIENT : (sampleOf(s) as string)));
  const frontends = [...new Set(rules.flatMap((r) => r.destinations).filter((d) => sampleOf(d) !== undefined && !insideAny(sampleOf(d) as string, vnetCidrs) && !isPrivate(sampleOf(d) as string) && !isPublicSource(d)))];
  const frontend = frontends[0] ? (sampleOf(frontends[0]) as string) : PROBE_FRONTEND;
  const wrong: string[] = [];
  for (const client of clients.length > 0 ? [...new Set(clients)] : [PROBE_CLIENT]) {
    for (const { protocol, port } of PROBES) {
      const expected = clients.length > 0 && INGRESS.some((i) => i.role === role && i.protocol === protocol && i.ports.includes(port));
      const actual = azureLoadBalancedIngressAdmits(rules, { source: client, frontend, protocol, port }, vnetCidrs);
      if (actual !== expected) wrong.push(`${client} ${protocol}/${port} ${actual ? "allowed" : "denied"}`);
    }
  }
  if (clients.length === 0 && INGRESS.some((i) => i.role === role)) wrong.push(`no public source may reach the ingress ports ${INGRESS.filter((i) => i.role === role).flatMap((i) => i.ports).join(", ")}`);
  return wrong;
}

function isPrivate(address: string): boolean {
  return insideAny(address, ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16"]);
}

/**
 * GCP: per VPC network, each role's sources (a node address with the role's node
 * service account, and an address of each pod range, which service-account
 * sources never match) probed against each role's node service account (a rule
 * targeting it covers the nodes' alias IPs, so the pods) with the pack's GCP
 * evaluator over the network's firewall rules.
 */
function gcpIsolation(index: StackIndex, report: (urn: string, message: string) => void): void {
  const networkKey = (from: PolicyResource, ref: unknown) => index.ref(from, ref, [GCP.network])?.urn ?? str(ref) ?? "?";
  const services = gcpServiceRangeNames(index);
  interface Source { address: string; serviceAccount: string | undefined; what: string }
  const cells = new Map<string, { roles: Map<Role, { serviceAccounts: Set<string>; sources: Source[]; cluster: PolicyResource }> }>();
  for (const c of clusterGraph(index).clusters) {
    if (c.resource.type !== GCP.cluster) continue;
    const role = roleOf(clusterTags(c.resource.props), c.resource.urn, c.resource.name, c.resource.parent?.urn);
    const subnet = index.ref(c.resource, c.resource.props.subnetwork, [GCP.subnetwork]);
    if (!role || !subnet) continue;
    const key = networkKey(subnet, subnet.props.network);
    const cell = cells.get(key) ?? { roles: new Map() };
    cells.set(key, cell);
    const entry = cell.roles.get(role) ?? { serviceAccounts: new Set<string>(), sources: [], cluster: c.resource };
    cell.roles.set(role, entry);
    const accounts = [str(at(c.resource.props, "nodeConfig", "serviceAccount")), ...c.pools.map((p) => str(at(p.resource.props, "nodeConfig", "serviceAccount")))].filter((x): x is string => x !== undefined);
    for (const a of accounts) entry.serviceAccounts.add(a);
    const primary = str(subnet.props.ipCidrRange);
    if (primary) for (const a of entry.serviceAccounts) entry.sources.push({ address: sampleAddress(primary), serviceAccount: a, what: `${subnet.name} nodes` });
    for (const cidr of gcpRoutedRanges(subnet, services).filter((x) => x !== primary)) entry.sources.push({ address: sampleAddress(cidr), serviceAccount: undefined, what: `${subnet.name} pods ${cidr}` });
  }
  const firewalls = new Map<string, { resource: PolicyResource; rule: GcpFirewallRule }[]>();
  for (const f of index.ofType(GCP.firewall)) {
    const rule = gcpFirewallRule(f.props, f.name);
    if (!rule) continue;
    const key = networkKey(f, f.props.network);
    firewalls.set(key, [...(firewalls.get(key) ?? []), { resource: f, rule }]);
  }
  for (const [key, cell] of cells) {
    const rules = firewalls.get(key) ?? [];
    for (const [dstRole, dst] of cell.roles) {
      if (dst.serviceAccounts.size === 0) {
        report(dst.cluster.urn, violation(dst.cluster.name, `the ${dstRole} nodes run as the default Compute Engine service account, which firewall rules cannot tell apart from other roles`, "give the role's node pools their own service account (nodeConfig.serviceAccount) and target it"));
      }
      for (const target of dst.serviceAccounts) {
        for (const [srcRole, src] of cell.roles) {
          const wrong: string[] = [];
          for (const s of src.sources) {
            for (const { protocol, port } of PROBES) {
              const actual = gcpFirewallAdmits(rules.map((r) => r.rule), { source: s.address, sourceServiceAccount: s.serviceAccount, targetServiceAccount: target, protocol, port });
              if (actual !== flowAllows(srcRole, dstRole, protocol, port)) wrong.push(`${s.what} ${protocol}/${port} ${actual ? "allowed" : "denied"}`);
            }
          }
          if (wrong.length === 0) continue;
          const at = rules.find((r) => r.rule.targetServiceAccounts.includes(target))?.resource ?? rules[0]?.resource;
          if (!at) continue;
          report(
            at.urn,
            violation(at.name, `${srcRole} -> ${dstRole} (targets ${target}) differs from the isolation matrix: ${wrong.slice(0, 6).join(", ")}${wrong.length > 6 ? `, and ${wrong.length - 6} more` : ""}`, "generate the firewall rules from cells/plan/isolation.ts (providers/gcp/firewallRules.ts), with the role's pod ranges as sources, or change FLOWS in review"),
          );
        }
      }
    }
  }
}

/** The VNET id of an Azure subnet: its id up to "/subnets/". */
function vnetIdOf(subnet: PolicyResource): string | undefined {
  const id = str(subnet.props.id);
  return id && id.toLowerCase().includes("/subnets/") ? id.slice(0, id.toLowerCase().lastIndexOf("/subnets/")) : undefined;
}

export const NETWORK_POLICIES = [subnetNatSameZone, clusterSubnetsFiltered, noInternetIngress, cellNetworkMinSize, cellNetworksDisjoint, isolationMatchesMatrix];
