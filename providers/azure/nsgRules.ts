import { IPv4, IPv4CidrRange } from "ip-num";
import { FLOWS, INGRESS, Protocol } from "../../cells/plan/isolation";
import { CellIpPlan, ROLES, Role } from "../../cells/plan/model";

/*
 * NSG rules of one role, generated from the isolation matrix (cells/plan/isolation.ts).
 * Pure: no Pulumi here, so tests and the policy pack evaluate the very rules that
 * providers/azure/network.ts registers.
 *
 * Priorities are derived from stable data, never from list positions:
 *   100        allow within the role
 *   110        allow AzureLoadBalancer (health probes)
 *   1000+slot  allow a listed cross-role flow (slot from isolation.ts, never reused)
 *   2000       deny every other role of the cell; above the default AllowVnetInBound (65000)
 *              and above Internet ingress, whose allow-list may be 0.0.0.0/0
 *   3000+slot  allow Internet ingress from the allow-list (slot from INGRESS)
 */

export interface NsgRule {
  name: string;
  priority: number;
  direction: "Inbound" | "Outbound";
  access: "Allow" | "Deny";
  protocol: "Tcp" | "Udp" | "*";
  sourceAddressPrefixes: string[];
  sourcePortRange: "*";
  destinationAddressPrefixes: string[];
  destinationPortRanges: string[];
  description: string;
}

export const PRIORITY = { intraRole: 100, loadBalancer: 110, flowBase: 1000, denyOtherRoles: 2000, ingressBase: 3000 } as const;

const PROTOCOL: Record<Protocol, NsgRule["protocol"]> = { tcp: "Tcp", udp: "Udp" };

export function roleCidrs(plan: CellIpPlan, role: Role): string[] {
  return plan.subnets.filter((s) => s.role === role).map((s) => s.cidr);
}

export function nsgRulesFor(role: Role, plan: CellIpPlan, ingressAllowList: readonly string[]): NsgRule[] {
  const own = roleCidrs(plan, role);
  const rules: NsgRule[] = [
    {
      name: "allow-intra-role",
      priority: PRIORITY.intraRole,
      direction: "Inbound",
      access: "Allow",
      protocol: "*",
      sourceAddressPrefixes: own,
      sourcePortRange: "*",
      destinationAddressPrefixes: own,
      destinationPortRanges: ["*"],
      description: `${role} nodes and pods talk to each other; inside the cluster, Cilium network policies filter`,
    },
    {
      name: "allow-azure-load-balancer",
      priority: PRIORITY.loadBalancer,
      direction: "Inbound",
      access: "Allow",
      protocol: "*",
      sourceAddressPrefixes: ["AzureLoadBalancer"],
      sourcePortRange: "*",
      destinationAddressPrefixes: own,
      destinationPortRanges: ["*"],
      description: "health probes of the Standard load balancer",
    },
  ];
  for (const f of FLOWS.filter((x) => x.to === role && x.from !== role)) {
    rules.push({
      name: `allow-${f.from}-to-${f.to}`,
      priority: PRIORITY.flowBase + f.slot,
      direction: "Inbound",
      access: "Allow",
      protocol: PROTOCOL[f.protocol],
      sourceAddressPrefixes: roleCidrs(plan, f.from),
      sourcePortRange: "*",
      destinationAddressPrefixes: own,
      destinationPortRanges: f.ports.map(String),
      description: f.why,
    });
  }
  for (const i of INGRESS.filter((x) => x.role === role)) {
    rules.push({
      name: `allow-ingress-${i.ports.join("-")}`,
      priority: PRIORITY.ingressBase + i.slot,
      direction: "Inbound",
      access: "Allow",
      protocol: PROTOCOL[i.protocol],
      sourceAddressPrefixes: [...ingressAllowList],
      sourcePortRange: "*",
      destinationAddressPrefixes: own,
      destinationPortRanges: i.ports.map(String),
      description: i.why,
    });
  }
  const others = ROLES.filter((r) => r !== role).flatMap((r) => roleCidrs(plan, r));
  rules.push({
    name: "deny-other-roles",
    priority: PRIORITY.denyOtherRoles,
    direction: "Inbound",
    access: "Deny",
    protocol: "*",
    sourceAddressPrefixes: others,
    sourcePortRange: "*",
    destinationAddressPrefixes: own,
    destinationPortRanges: ["*"],
    description: "isolation between the clusters of a cell: the default AllowVnetInBound would allow it",
  });
  return rules;
}

// ---------------------------------------------------------------------------
// Evaluation: what an NSG lets in, the way Azure decides it (lowest priority first,
// then the default rules). Used by tests and by the reachability policy.

/** Minimal rule shape, as found in registered NSG inputs. */
export interface NsgRuleLike {
  priority?: number;
  direction?: string;
  access?: string;
  protocol?: string;
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  destinationPortRange?: string;
  destinationPortRanges?: string[];
}

export interface Probe {
  /** Source address, or a service tag such as "Internet". */
  source: string;
  destination: string;
  protocol: Protocol;
  port: number;
}

/*
 * Parsed prefixes and addresses, by their text. The reachability policy evaluates
 * tens of thousands of probes against the same few prefixes; parsing each time
 * dominated its run time.
 */
const parsedRanges = new Map<string, [bigint, bigint]>();
const parsedAddresses = new Map<string, bigint>();

function rangeOf(prefix: string): [bigint, bigint] {
  let r = parsedRanges.get(prefix);
  if (!r) {
    const range = IPv4CidrRange.fromCidr(prefix.includes("/") ? prefix : `${prefix}/32`);
    parsedRanges.set(prefix, (r = [range.getFirst().getValue(), range.getLast().getValue()]));
  }
  return r;
}

function addressOf(address: string): bigint {
  let a = parsedAddresses.get(address);
  if (a === undefined) parsedAddresses.set(address, (a = IPv4.fromString(address).getValue()));
  return a;
}

function addressMatches(prefix: string, address: string, vnet: readonly string[]): boolean {
  if (prefix === "*" || prefix === "0.0.0.0/0") return true;
  if (prefix === "VirtualNetwork") return vnet.some((c) => addressMatches(c, address, []));
  if (!/^\d/.test(prefix) || !/^\d/.test(address)) return prefix === address;
  const [first, last] = rangeOf(prefix);
  const a = addressOf(address);
  return a >= first && a <= last;
}

function portMatches(range: string, port: number): boolean {
  if (range === "*") return true;
  const [lo, hi] = range.split("-").map(Number);
  return port >= lo && port <= (hi ?? lo);
}

/** Whether inbound `probe` is allowed by `rules` plus Azure's default inbound rules of a VNET `vnet`. */
export function nsgAllowsInbound(rules: readonly NsgRuleLike[], probe: Probe, vnet: readonly string[]): boolean {
  const inbound = rules.filter((r) => (r.direction ?? "Inbound") === "Inbound").sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  for (const r of inbound) {
    const proto = (r.protocol ?? "*").toLowerCase();
    if (proto !== "*" && proto !== probe.protocol) continue;
    const sources = r.sourceAddressPrefixes ?? (r.sourceAddressPrefix ? [r.sourceAddressPrefix] : []);
    const dests = r.destinationAddressPrefixes ?? (r.destinationAddressPrefix ? [r.destinationAddressPrefix] : []);
    const ports = r.destinationPortRanges ?? (r.destinationPortRange ? [r.destinationPortRange] : []);
    if (!sources.some((s) => addressMatches(s, probe.source, vnet))) continue;
    if (!dests.some((d) => addressMatches(d, probe.destination, vnet))) continue;
    if (!ports.some((p) => portMatches(p, probe.port))) continue;
    return r.access === "Allow";
  }
  // Defaults: AllowVnetInBound (65000), AllowAzureLoadBalancerInBound (65001), DenyAllInBound (65500).
  if (addressMatches("VirtualNetwork", probe.source, vnet)) return true;
  return probe.source === "AzureLoadBalancer";
}
