import { IPv4, IPv4CidrRange } from "ip-num";

/*
 * The pack's own reachability evaluator, written from the clouds' documented
 * semantics and never from the code that generates rules: the policy would
 * otherwise judge the generator by itself. Rules are in a neutral form (an Azure
 * NSG rule, a GCP firewall rule, an AWS security-group rule: allow/deny, protocol,
 * sources, destinations, ports, priority); each cloud's view (policies/views)
 * turns its rules into this form and supplies its implicit default rules.
 */

/** A port range, both ends inclusive. */
export interface PortRange {
  from: number;
  to: number;
}

export const ALL_PORTS: PortRange = { from: 0, to: 65535 };

export function parsePorts(spec: string): PortRange | undefined {
  if (spec === "*") return ALL_PORTS;
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec.trim());
  return m ? { from: Number(m[1]), to: Number(m[2] ?? m[1]) } : undefined;
}

/** One inbound rule in neutral form. */
export interface IngressRule {
  name: string;
  allow: boolean;
  /** "tcp", "udp", "*" (any) or another protocol name. */
  protocol: string;
  /** CIDRs or addresses, "*" for any, or a named tag ("AzureLoadBalancer", "VirtualNetwork") resolved by the evaluator's `tags`. */
  sources: string[];
  /** Where the rule applies; ["*"] when the rule set's attachment decides (AWS security groups, GCP targets). */
  destinations: string[];
  ports: PortRange[];
  /** Lower runs first (Azure, GCP); undefined where order does not matter (AWS). */
  priority: number | undefined;
}

export interface Probe {
  /** Source address, or a named source such as "Internet" or "AzureLoadBalancer". */
  source: string;
  destination: string;
  protocol: "tcp" | "udp";
  port: number;
}

/** Named address groups (service tags) and what they contain. */
export type Tags = Readonly<Record<string, readonly string[]>>;

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

const isIpv4 = (s: string): boolean => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(s);

/**
 * Whether a rule's address entry matches an address. A named entry (a service tag)
 * matches the probe naming the same tag, and the addresses `tags` gives it.
 */
export function addressMatches(entry: string, address: string, tags: Tags = {}): boolean {
  if (entry === "*" || entry === "0.0.0.0/0") return true;
  if (!isIpv4(entry)) return entry === address || (tags[entry] ?? []).some((c) => addressMatches(c, address));
  if (!isIpv4(address)) return false;
  const [first, last] = rangeOf(entry);
  const a = addressOf(address);
  return a >= first && a <= last;
}

/** The first rule, in priority order, that matches the probe; undefined when none does (the cloud's defaults decide). */
export function firstMatch(rules: readonly IngressRule[], probe: Probe, tags: Tags = {}): IngressRule | undefined {
  const sorted = [...rules].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  return sorted.find(
    (r) =>
      (r.protocol === "*" || r.protocol === probe.protocol) &&
      r.sources.some((s) => addressMatches(s, probe.source, tags)) &&
      r.destinations.some((d) => addressMatches(d, probe.destination, tags)) &&
      r.ports.some((p) => probe.port >= p.from && probe.port <= p.to),
  );
}

/**
 * Whether an Azure NSG admits an inbound probe: its rules by priority, then
 * Azure's default inbound rules, AllowVnetInBound (65000: source and destination
 * in the VirtualNetwork tag), AllowAzureLoadBalancerInBound (65001) and
 * DenyAllInBound (65500). Source: learn.microsoft.com, "Network security groups:
 * default security rules". `vnet` is the address space the VirtualNetwork tag covers.
 */
export function azureNsgAdmits(rules: readonly IngressRule[], probe: Probe, vnet: readonly string[]): boolean {
  const tags: Tags = { VirtualNetwork: vnet };
  const rule = firstMatch(rules, probe, tags);
  if (rule) return rule.allow;
  if (addressMatches("VirtualNetwork", probe.source, tags) && addressMatches("VirtualNetwork", probe.destination, tags)) return true;
  return probe.source === "AzureLoadBalancer";
}

/**
 * Whether an Azure NSG admits an Internet packet to a service behind an AKS load
 * balancer. AKS creates its load-balancing rules with floating IP (Direct Server
 * Return): the packet keeps the frontend IP as its destination when it reaches the
 * node, so the NSG of the node and pod subnets sees source = client, destination =
 * the load balancer's frontend IP, never a node or pod address. A rule naming the
 * subnets as destination never matches Internet ingress. Sources: learn.microsoft.com,
 * "Azure Load Balancer floating IP" and "Use a public standard load balancer in AKS"
 * (AKS adds NSG rules whose destination is the service's frontend IP).
 */
export function azureLoadBalancedIngressAdmits(rules: readonly IngressRule[], probe: { source: string; frontend: string; protocol: "tcp" | "udp"; port: number }, vnet: readonly string[]): boolean {
  return azureNsgAdmits(rules, { source: probe.source, destination: probe.frontend, protocol: probe.protocol, port: probe.port }, vnet);
}

/** Whether an address lies in one of `cidrs`. */
export function insideAny(address: string, cidrs: readonly string[]): boolean {
  return isIpv4(address) && cidrs.some((c) => isIpv4(c) && addressMatches(c, address));
}

/** An address of a block past the few its first addresses clouds reserve (the block's own address for a /32). */
export function sampleOf(entry: string): string | undefined {
  if (!isIpv4(entry)) return undefined;
  const [first, last] = rangeOf(entry);
  return IPv4.fromNumber(first + 4n <= last ? first + 4n : first).toString();
}

/** One GCP VPC firewall rule (ingress) in the form the GCP evaluator reads. */
export interface GcpFirewallRule {
  name: string;
  allow: boolean;
  disabled: boolean;
  /** Per allowed/denied entry: protocol ("tcp", "udp", "*") and port ranges. */
  entries: { protocol: string; ports: PortRange[] }[];
  sourceRanges: string[];
  sourceServiceAccounts: string[];
  sourceTags: string[];
  targetServiceAccounts: string[];
  targetTags: string[];
  priority: number;
}

/** A GCP probe: the source's address and, for a VM's primary address, its service account; the destination VM's service account. */
export interface GcpProbe {
  source: string;
  /** The source VM's service account; undefined for alias IPs (pods), which service-account sources do not match. */
  sourceServiceAccount: string | undefined;
  /** The destination VM's service account (a rule targeting it covers its alias IPs, i.e. its pods). */
  targetServiceAccount: string;
  protocol: "tcp" | "udp";
  port: number;
}

/**
 * Whether a GCP VPC admits an ingress probe. From cloud.google.com/firewall/docs
 * ("VPC firewall rules"): a rule applies to its targets (all instances when it
 * names none); sources match by range, or by service account or tag for the
 * instance's primary address only (never alias IPs); the lowest priority number
 * wins, and at equal priority a deny wins over an allow; with no match, the
 * implied deny-ingress rule (65535) denies. Disabled rules do nothing.
 */
export function gcpFirewallAdmits(rules: readonly GcpFirewallRule[], probe: GcpProbe): boolean {
  const matching = rules.filter(
    (r) =>
      !r.disabled &&
      (r.targetServiceAccounts.length === 0 && r.targetTags.length === 0 ? true : r.targetServiceAccounts.includes(probe.targetServiceAccount)) &&
      (r.sourceRanges.some((s) => addressMatches(s, probe.source)) || (probe.sourceServiceAccount !== undefined && r.sourceServiceAccounts.includes(probe.sourceServiceAccount))) &&
      r.entries.some((e) => (e.protocol === "*" || e.protocol === probe.protocol) && e.ports.some((p) => probe.port >= p.from && probe.port <= p.to)),
  );
  if (matching.length === 0) return false;
  matching.sort((a, b) => a.priority - b.priority || Number(a.allow) - Number(b.allow));
  return matching[0].allow;
}
