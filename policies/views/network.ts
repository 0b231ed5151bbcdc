import { PolicyResource } from "@pulumi/policy";
import { Cloud } from "../../cells/plan/model";
import { at, num, oneOrMany, Props, records, str, strings, stringMap } from "../lib/props";
import { subjectOf, ViewTable, viewsOf } from "../lib/policy";
import { StackIndex } from "../lib/stack";
import { ALL_PORTS, GcpFirewallRule, IngressRule, parsePorts, PortRange } from "../lib/reachability";
import { AWS, AZURE, GCP } from "../lib/types";

export { ALL_PORTS, parsePorts };
export type { IngressRule, PortRange };

/*
 * Networks, subnets, NAT gateways and filtering rules of the three clouds as
 * neutral views, plus the stack-level joins the network policies need (which
 * NAT serves a subnet, which filter covers it). Cloud semantics that genuinely
 * differ (AWS routes a subnet to a NAT, Azure attaches the NAT to the subnet,
 * GCP's Cloud NAT lists subnetworks) live in the adapters, not in the policies.
 */

// ---------------------------------------------------------------------------
// Networks (VNET / VPC / GCP network)

export interface NetworkView {
  cloud: Cloud;
  /** Address blocks of the network; GCP networks have none of their own (their subnetworks do). */
  cidrs: string[];
  hint: string;
}

export const NETWORK_VIEWS: ViewTable<NetworkView> = {
  [AZURE.vnet]: ({ props }) => ({ cloud: "azure", cidrs: strings(at(props, "addressSpace", "addressPrefixes")), hint: "addressSpace.addressPrefixes" }),
  [AWS.vpc]: ({ props }) => ({ cloud: "aws", cidrs: oneOrMany(props.cidrBlock), hint: "cidrBlock" }),
  [GCP.network]: () => ({ cloud: "gcp", cidrs: [], hint: "the ipCidrRange of its subnetworks" }),
};

// ---------------------------------------------------------------------------
// Subnets

export interface SubnetView {
  cloud: Cloud;
  cidrs: string[];
  /** The subnet's own zone (AWS); null when subnets are regional (Azure, GCP). */
  zone: string | null;
  /** Reference to the NAT gateway attached to the subnet (Azure). */
  natRef: unknown;
  /** Reference to the NSG attached to the subnet (Azure). */
  filterRef: unknown;
  /** Reference to the network the subnet belongs to. */
  networkRef: unknown;
}

export const SUBNET_VIEWS: ViewTable<SubnetView> = {
  [AZURE.subnet]: ({ props: p }) => ({
    cloud: "azure",
    cidrs: [...oneOrMany(p.addressPrefix), ...strings(p.addressPrefixes)],
    zone: null,
    natRef: p.natGateway,
    filterRef: p.networkSecurityGroup,
    networkRef: undefined,
  }),
  [AWS.subnet]: ({ props: p }) => ({
    cloud: "aws",
    cidrs: oneOrMany(p.cidrBlock),
    zone: str(p.availabilityZoneId) ?? str(p.availabilityZone) ?? null,
    natRef: undefined,
    filterRef: undefined,
    networkRef: p.vpcId,
  }),
  [GCP.subnetwork]: ({ props: p }) => ({
    cloud: "gcp",
    cidrs: [...oneOrMany(p.ipCidrRange), ...records(p.secondaryIpRanges).flatMap((r) => oneOrMany(r.ipCidrRange))],
    zone: null,
    natRef: undefined,
    filterRef: undefined,
    networkRef: p.network,
  }),
};

export const SUBNET_TYPES = Object.keys(SUBNET_VIEWS);

export function subnetView(r: PolicyResource): SubnetView | undefined {
  return viewsOf(SUBNET_VIEWS, subjectOf(r))?.[0];
}

// ---------------------------------------------------------------------------
// NAT gateways

export interface NatView {
  cloud: Cloud;
  /** Zones the NAT is pinned to; empty when it is regional or unpinned. */
  zones: string[];
  /** AWS: the public subnet the NAT lives in (its zone is the NAT's zone). */
  subnetRef: unknown;
  /** GCP: the subnetworks a Cloud NAT serves, or "all" for every subnetwork of its router's region. */
  serves: unknown[] | "all" | null;
}

export const NAT_VIEWS: ViewTable<NatView> = {
  [AZURE.nat]: ({ props: p }) => ({ cloud: "azure", zones: strings(p.zones), subnetRef: undefined, serves: null }),
  [AWS.nat]: ({ props: p }) => ({ cloud: "aws", zones: [], subnetRef: p.subnetId, serves: null }),
  [GCP.routerNat]: ({ props: p }) => ({
    cloud: "gcp",
    zones: [],
    subnetRef: undefined,
    serves: str(p.sourceSubnetworkIpRangesToNat)?.startsWith("ALL_SUBNETWORKS") ? "all" : records(p.subnetworks).map((s) => s.name),
  }),
};

export const NAT_TYPES = Object.keys(NAT_VIEWS);

/** A NAT and the zone it serves from (null: regional). */
export interface ServingNat {
  resource: PolicyResource;
  zone: string | null;
}

const natIndexes = new WeakMap<StackIndex, (subnet: PolicyResource) => ServingNat[]>();

/**
 * The NATs that serve a subnet's egress, per cloud:
 * Azure, the NAT attached to the subnet; AWS, the NAT its route table's default
 * route goes to (the NAT's zone is its own subnet's); GCP, every Cloud NAT that
 * lists the subnetwork or serves all of them. Built once per stack.
 */
export function servingNats(index: StackIndex): (subnet: PolicyResource) => ServingNat[] {
  const cached = natIndexes.get(index);
  if (cached) return cached;
  const natView = (r: PolicyResource) => viewsOf(NAT_VIEWS, subjectOf(r))?.[0];
  const awsNatZone = (nat: PolicyResource): string | null => {
    const sub = index.ref(nat, natView(nat)?.subnetRef, [AWS.subnet]);
    return (sub && subnetView(sub)?.zone) ?? null;
  };
  // AWS: subnet -> route tables -> NATs of their default routes.
  const tablesOfSubnet = new Map<string, PolicyResource[]>();
  for (const a of index.ofType(AWS.routeTableAssociation)) {
    const sub = index.ref(a, a.props.subnetId, [AWS.subnet]);
    const table = index.ref(a, a.props.routeTableId, [AWS.routeTable]);
    if (sub && table) tablesOfSubnet.set(sub.urn, [...(tablesOfSubnet.get(sub.urn) ?? []), table]);
  }
  const natsOfTable = new Map<string, PolicyResource[]>();
  const addRoute = (table: PolicyResource | undefined, route: Props, from: PolicyResource) => {
    const dest = str(route.cidrBlock) ?? str(route.destinationCidrBlock);
    if (!table || dest !== "0.0.0.0/0" || route.natGatewayId === undefined) return;
    const nat = index.ref(from, route.natGatewayId, [AWS.nat]);
    if (nat) natsOfTable.set(table.urn, [...(natsOfTable.get(table.urn) ?? []), nat]);
  };
  for (const t of index.ofType(AWS.routeTable)) for (const route of records(t.props.routes)) addRoute(t, route, t);
  for (const r of index.ofType(AWS.route)) addRoute(index.ref(r, r.props.routeTableId, [AWS.routeTable]), r.props, r);
  // GCP: Cloud NATs that serve all subnetworks, and those that list some.
  const gcpAll: PolicyResource[] = [];
  const gcpListed = new Map<string, PolicyResource[]>();
  for (const n of index.ofType(GCP.routerNat)) {
    const serves = natView(n)?.serves;
    if (serves === "all") gcpAll.push(n);
    else for (const ref of serves ?? []) {
      const sub = index.ref(n, ref, [GCP.subnetwork]);
      if (sub) gcpListed.set(sub.urn, [...(gcpListed.get(sub.urn) ?? []), n]);
    }
  }
  const fn = (subnet: PolicyResource): ServingNat[] => {
    switch (subnet.type) {
      case AZURE.subnet: {
        const nat = index.ref(subnet, subnetView(subnet)?.natRef, [AZURE.nat]);
        return nat ? [{ resource: nat, zone: natView(nat)?.zones.length === 1 ? natView(nat)!.zones[0] : null }] : [];
      }
      case AWS.subnet:
        return (tablesOfSubnet.get(subnet.urn) ?? []).flatMap((t) => natsOfTable.get(t.urn) ?? []).map((n) => ({ resource: n, zone: awsNatZone(n) }));
      case GCP.subnetwork:
        return [...gcpAll, ...(gcpListed.get(subnet.urn) ?? [])].map((n) => ({ resource: n, zone: null }));
      default:
        return [];
    }
  };
  natIndexes.set(index, fn);
  return fn;
}

// ---------------------------------------------------------------------------
// Filtering rules (NSG rules, security group rules, firewall rules)

/** The inbound rules of one NSG, security group or firewall, with the role it guards. */
export interface RuleSetView {
  cloud: Cloud;
  tags: Record<string, string>;
  rules: IngressRule[];
  /** Where the rules live, for fix hints ("securityRules", "ingress"). */
  field: string;
}

/** Sources that mean "anyone on the Internet". */
export function isPublicSource(source: string): boolean {
  return ["*", "0.0.0.0/0", "::/0", "internet", "any"].includes(source.toLowerCase());
}

function azureRule(r: Props, fallbackName: string): IngressRule | undefined {
  if ((str(r.direction) ?? "Inbound") !== "Inbound") return undefined;
  const ports = [...oneOrMany(r.destinationPortRange), ...strings(r.destinationPortRanges)];
  return {
    name: str(r.name) ?? str(r.securityRuleName) ?? fallbackName,
    allow: str(r.access) === "Allow",
    protocol: (str(r.protocol) ?? "*").toLowerCase(),
    sources: [...oneOrMany(r.sourceAddressPrefix), ...strings(r.sourceAddressPrefixes)],
    destinations: [...oneOrMany(r.destinationAddressPrefix), ...strings(r.destinationAddressPrefixes)],
    ports: ports.map(parsePorts).filter((p): p is PortRange => p !== undefined),
    priority: num(r.priority),
  };
}

/** AWS writes "-1" for all protocols, with ports 0/0 or -1/-1 meaning all ports. */
function awsRule(r: Props, name: string, protocolKey: "protocol" | "ipProtocol"): IngressRule {
  const protocol = str(r[protocolKey]) ?? "-1";
  const all = protocol === "-1" || protocol === "all";
  const from = num(r.fromPort);
  const to = num(r.toPort);
  return {
    name,
    allow: true,
    protocol: all ? "*" : protocol.toLowerCase(),
    sources: [...oneOrMany(r.cidrBlocks), ...oneOrMany(r.ipv6CidrBlocks), ...oneOrMany(r.cidrIpv4), ...oneOrMany(r.cidrIpv6)],
    // A security group's rules apply to the interfaces it is attached to.
    destinations: ["*"],
    ports: all || from === undefined || from < 0 ? [ALL_PORTS] : [{ from, to: to ?? from }],
    priority: undefined,
  };
}

function gcpRules(p: Props, name: string): IngressRule[] {
  if ((str(p.direction) ?? "INGRESS") !== "INGRESS") return [];
  const sources = strings(p.sourceRanges);
  // Targets (service accounts, tags) decide where a firewall rule applies; destinationRanges narrow it.
  const destinations = strings(p.destinationRanges).length > 0 ? strings(p.destinationRanges) : ["*"];
  const priority = num(p.priority) ?? 1000;
  const rule = (r: Props, allow: boolean): IngressRule => ({
    name,
    allow,
    protocol: (str(r.protocol) ?? "all") === "all" ? "*" : (str(r.protocol) ?? "*").toLowerCase(),
    sources,
    destinations,
    ports: strings(r.ports).length === 0 ? [ALL_PORTS] : strings(r.ports).map(parsePorts).filter((x): x is PortRange => x !== undefined),
    priority,
  });
  return [...records(p.allows).map((r) => rule(r, true)), ...records(p.denies).map((r) => rule(r, false))];
}

/** The inbound rules of an NSG's `securityRules`, in neutral form. */
export function azureNsgRules(securityRules: unknown): IngressRule[] {
  return records(securityRules).flatMap((r, i) => azureRule(r, `rule ${i}`) ?? []);
}

export const RULE_SET_VIEWS: ViewTable<RuleSetView> = {
  [AZURE.nsg]: ({ props: p }) => ({
    cloud: "azure",
    tags: stringMap(p.tags),
    rules: azureNsgRules(p.securityRules),
    field: "securityRules",
  }),
  [AZURE.securityRule]: ({ props: p, name }) => ({ cloud: "azure", tags: {}, rules: [azureRule(p, name)].filter((r): r is IngressRule => r !== undefined), field: "the rule" }),
  [AWS.securityGroup]: ({ props: p }) => ({
    cloud: "aws",
    tags: stringMap(p.tags),
    rules: records(p.ingress).map((r, i) => awsRule(r, str(r.description) ?? `ingress ${i}`, "protocol")),
    field: "ingress",
  }),
  [AWS.securityGroupRule]: ({ props: p, name }) =>
    p.type === "ingress" ? { cloud: "aws", tags: {}, rules: [awsRule(p, name, "protocol")], field: "the rule" } : undefined,
  [AWS.securityGroupIngressRule]: ({ props: p, name }) => ({ cloud: "aws", tags: stringMap(p.tags), rules: [awsRule(p, name, "ipProtocol")], field: "the rule" }),
  [GCP.firewall]: ({ props: p, name }) => ({ cloud: "gcp", tags: {}, rules: gcpRules(p, str(p.name) ?? name), field: "sourceRanges/allows" }),
};

export const RULE_SET_TYPES = Object.keys(RULE_SET_VIEWS);

// ---------------------------------------------------------------------------
// GCP firewall rules for the GCP evaluator (targets and source service accounts kept)

/** A GCP firewall resource's ingress rule for gcpFirewallAdmits; undefined for egress rules. */
export function gcpFirewallRule(p: Props, name: string): GcpFirewallRule | undefined {
  if ((str(p.direction) ?? "INGRESS") !== "INGRESS") return undefined;
  const allows = records(p.allows);
  const denies = records(p.denies);
  const entries = (allows.length > 0 ? allows : denies).map((r) => {
    const protocol = (str(r.protocol) ?? "all").toLowerCase();
    return {
      protocol: protocol === "all" ? "*" : protocol,
      ports: strings(r.ports).length === 0 ? [ALL_PORTS] : strings(r.ports).map(parsePorts).filter((x): x is PortRange => x !== undefined),
    };
  });
  return {
    name: str(p.name) ?? name,
    allow: allows.length > 0,
    disabled: p.disabled === true,
    entries,
    sourceRanges: strings(p.sourceRanges),
    sourceServiceAccounts: strings(p.sourceServiceAccounts),
    sourceTags: strings(p.sourceTags),
    targetServiceAccounts: strings(p.targetServiceAccounts),
    targetTags: strings(p.targetTags),
    priority: num(p.priority) ?? 1000,
  };
}
