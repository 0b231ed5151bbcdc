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
  for (const f of flowsInto(role)) {
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
