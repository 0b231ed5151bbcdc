import { flowsInto, INGRESS, Protocol, roleCidrs } from "../../cells/plan/isolation";
import { CellIpPlan, ROLES, Role } from "../../cells/plan/model";

/*
 * NSG rules of one role, generated from the isolation matrix (cells/plan/isolation.ts).
 * Pure: no Pulumi here. Tests and the policy pack judge the rules that
 * providers/azure/network.ts registers with their own evaluator
 * (policies/lib/reachability.ts), never with this generator.
 *
 * Priorities are derived from stable data, never from list positions:
 *   100        allow within the role
 *   110        allow AzureLoadBalancer (health probes)
 *   1000+slot  allow a listed cross-role flow (slot from isolation.ts, never reused)
 *   2000       deny every other role of the cell; above the default AllowVnetInBound (65000)
 *              and above Internet ingress, whose allow-list may be 0.0.0.0/0
 *   3000+slot  allow Internet ingress from the allow-list (slot from INGRESS) to
 *              destination "*": with floating IP the destination is the load
 *              balancer's frontend IP, never a node or pod address
 */

/*
 * Singular vs plural fields: Azure refuses service tags ("AzureLoadBalancer",
 * "Internet", "VirtualNetwork") and "*" inside the plural sourceAddressPrefixes /
 * destinationAddressPrefixes / *PortRanges arrays (SecurityRuleParameterContainsUnsupportedValue);
 * they go in the singular field. Source: learn.microsoft.com, "Network security
 * groups: security rules" (a tag or * is one value: "you can't specify a service tag
 * in a list") and the NSG REST API SecurityRule. `addresses` and `portsOf` put a
 * lone value in the singular field and only plain CIDRs/ports in the plural one.
 */
export interface NsgRule {
  name: string;
  priority: number;
  direction: "Inbound" | "Outbound";
  access: "Allow" | "Deny";
  protocol: "Tcp" | "Udp" | "*";
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  sourcePortRange: "*";
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  destinationPortRange?: string;
  destinationPortRanges?: string[];
  description: string;
}

function addresses(side: "source" | "destination", list: readonly string[]): Partial<NsgRule> {
  const bad = list.filter((a) => !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(a));
  if (list.length > 1 && bad.length > 0) throw new Error(`cellplane: ${bad.join(", ")} cannot be listed with other prefixes in one NSG rule (Azure takes a tag or * only alone)`);
  if (side === "source") return list.length === 1 ? { sourceAddressPrefix: list[0] } : { sourceAddressPrefixes: [...list] };
  return list.length === 1 ? { destinationAddressPrefix: list[0] } : { destinationAddressPrefixes: [...list] };
}

function portsOf(list: readonly string[]): Partial<NsgRule> {
  return list.length === 1 ? { destinationPortRange: list[0] } : { destinationPortRanges: [...list] };
}

export const PRIORITY = { intraRole: 100, loadBalancer: 110, flowBase: 1000, denyOtherRoles: 2000, ingressBase: 3000 } as const;

const PROTOCOL: Record<Protocol, NsgRule["protocol"]> = { tcp: "Tcp", udp: "Udp" };

export function nsgRulesFor(role: Role, plan: CellIpPlan, ingressAllowList: readonly string[]): NsgRule[] {
  const own = roleCidrs(plan, role);
  const rules: NsgRule[] = [
    {
      name: "allow-intra-role",
      priority: PRIORITY.intraRole,
      direction: "Inbound",
      access: "Allow",
      protocol: "*",
      ...addresses("source", own),
      sourcePortRange: "*",
      ...addresses("destination", own),
      ...portsOf(["*"]),
      description: `${role} nodes and pods talk to each other; inside the cluster, Cilium network policies filter`,
    },
    {
      name: "allow-azure-load-balancer",
      priority: PRIORITY.loadBalancer,
      direction: "Inbound",
      access: "Allow",
      protocol: "*",
      ...addresses("source", ["AzureLoadBalancer"]),
      sourcePortRange: "*",
      ...addresses("destination", own),
      ...portsOf(["*"]),
      description: "health probes of the Standard load balancer",
    },
  ];
  for (const f of flowsInto(role)) {
    rules.push({
      name: `allow-${f.from}-to-${f.to}`,
      priority: PRIORITY.flowBase + f.slot,
      direction: "Inbound",
      access: "Allow",
      protocol: PROTOCOL[f.protocol],
      ...addresses("source", roleCidrs(plan, f.from)),
      sourcePortRange: "*",
      ...addresses("destination", own),
      ...portsOf(f.ports.map(String)),
      description: f.why,
    });
  }
  // An empty allow-list closes the role's Internet ingress (a private data-plane API without managementAllowList).
  for (const i of INGRESS.filter((x) => x.role === role && ingressAllowList.length > 0)) {
    rules.push({
      name: `allow-ingress-${i.ports.join("-")}`,
      priority: PRIORITY.ingressBase + i.slot,
      direction: "Inbound",
      access: "Allow",
      protocol: PROTOCOL[i.protocol],
      ...addresses("source", ingressAllowList),
      sourcePortRange: "*",
      // Floating IP: AKS load-balancer rules keep the frontend IP as the packet's
      // destination, so an Internet packet never carries a node or pod address here.
      // "*" is safe below deny-other-roles (2000): the cell's other roles are denied
      // first, and the rest of the VNET already passes AllowVnetInBound. Source:
      // learn.microsoft.com, "Use a public standard load balancer in AKS" (floating IP)
      // and "Network security groups: how they filter" (augmented rules, LB frontends).
      ...addresses("destination", ["*"]),
      ...portsOf(i.ports.map(String)),
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
    ...addresses("source", others),
    sourcePortRange: "*",
    ...addresses("destination", own),
    ...portsOf(["*"]),
    description: "isolation between the clusters of a cell: the default AllowVnetInBound would allow it",
  });
  return rules;
}
