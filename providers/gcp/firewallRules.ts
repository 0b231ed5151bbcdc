import { GCP_HEALTH_CHECK_RANGES } from "../../cells/plan/clouds/gcp";
import { flowsInto, INGRESS, Protocol, roleCidrs } from "../../cells/plan/isolation";
import { CellIpPlan, ROLES, Role } from "../../cells/plan/model";

/*
 * VPC firewall rules of one role, generated from the isolation matrix
 * (cells/plan/isolation.ts). Pure: no Pulumi here. Tests and the policy pack
 * judge the rules providers/gcp/network.ts registers with their own evaluator
 * (policies/lib/reachability.ts), never with this generator.
 *
 * Targets are the role's node service account (not network tags, which anyone
 * who may edit an instance can change); a rule targeting a VM applies to its
 * alias IPs too, so it covers the role's pods. Sources are the source role's
 * service account AND its node and pod ranges: service-account (and tag) sources
 * do not match pods' alias IPs.
 *
 * Priorities (lower runs first; at equal priority a deny wins), from stable data:
 *   100+slot  allow a listed cross-role flow (slot from isolation.ts, never reused)
 *   500       deny every other role of the cell, all protocols: above GKE's own
 *             allows (1000) and every other allow of the VPC. Its sources are the
 *             other roles' ranges only, so it never shadows what GKE needs (the
 *             control plane's /28, Google's health-check ranges)
 *   900       allow within the role (nodes and pods)
 *   910       allow the role's control plane to its nodes: 443 and 10250 (which GKE
 *             also creates) and 15017 (istiod's webhook, which GKE does not)
 *   920       allow Google's health checks to the gateway roles
 *   1000+slot allow Internet ingress from the allow-list (slot from INGRESS)
 */

export interface FirewallRule {
  /** Suffix of the rule's name, unique within the role. */
  key: string;
  priority: number;
  action: "allow" | "deny";
  protocol: Protocol | "all";
  /** Empty: every port. */
  ports: string[];
  sourceRanges: string[];
  /** Roles whose node service accounts are sources too. */
  sourceRoles: Role[];
  description: string;
}

export const PRIORITY = { flowBase: 100, denyOtherRoles: 500, intraRole: 900, controlPlane: 910, healthChecks: 920, ingressBase: 1000 } as const;

/** Ports of the gateway roles that Google's health checks and the NodePort path use. */
const HEALTH_CHECK_PORTS = ["10256", "15021", "30000-32767"];

export function firewallRulesFor(role: Role, plan: CellIpPlan, ingressAllowList: readonly string[], controlPlaneCidr: string): FirewallRule[] {
  const own = roleCidrs(plan, role);
  const rules: FirewallRule[] = [];
  for (const f of flowsInto(role)) {
    rules.push({
      key: `allow-${f.from}`,
      priority: PRIORITY.flowBase + f.slot,
      action: "allow",
      protocol: f.protocol,
      ports: f.ports.map(String),
      sourceRanges: roleCidrs(plan, f.from),
      sourceRoles: [f.from],
      description: f.why,
    });
  }
  const others = ROLES.filter((r) => r !== role);
  rules.push(
    {
      key: "deny-other-roles",
      priority: PRIORITY.denyOtherRoles,
      action: "deny",
      protocol: "all",
      ports: [],
      sourceRanges: others.flatMap((r) => roleCidrs(plan, r)),
      sourceRoles: others,
      description: "isolation between the clusters of a cell, above every allow of the VPC (GKE's own at 1000)",
    },
    {
      key: "allow-intra-role",
      priority: PRIORITY.intraRole,
      action: "allow",
      protocol: "all",
      ports: [],
      sourceRanges: own,
      sourceRoles: [role],
      description: `${role} nodes and pods talk to each other; inside the cluster, network policies filter`,
    },
    {
      key: "allow-control-plane",
      priority: PRIORITY.controlPlane,
      action: "allow",
      protocol: "tcp",
      ports: ["443", "10250", "15017"],
      sourceRanges: [controlPlaneCidr],
      sourceRoles: [],
      description: "the GKE control plane reaches kubelets, and admission webhooks such as istiod's (15017)",
    },
  );
  // An empty allow-list means no load balancer for the role (the platform makes its
  // gateway ClusterIP): no ingress rule, and no health checks to admit.
  const ingress = ingressAllowList.length === 0 ? [] : INGRESS.filter((x) => x.role === role);
  if (ingress.length > 0) {
    rules.push({
      key: "allow-health-checks",
      priority: PRIORITY.healthChecks,
      action: "allow",
      protocol: "tcp",
      ports: [...new Set([...ingress.flatMap((i) => i.ports.map(String)), ...HEALTH_CHECK_PORTS])],
      sourceRanges: [...GCP_HEALTH_CHECK_RANGES],
      sourceRoles: [],
      description: "health checks of the external passthrough load balancer in front of the Istio gateway",
    });
  }
  for (const i of ingress) {
    rules.push({
      key: `allow-ingress-${i.slot}`,
      priority: PRIORITY.ingressBase + i.slot,
      action: "allow",
      protocol: i.protocol,
      ports: i.ports.map(String),
      sourceRanges: [...ingressAllowList],
      sourceRoles: [],
      description: i.why,
    });
  }
  return rules;
}
