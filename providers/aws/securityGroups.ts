import { EKS_LIMITS } from "../../cells/plan/clouds/aws";
import { flowsInto, INGRESS, Protocol, roleCidrs } from "../../cells/plan/isolation";
import { CellIpPlan, Role } from "../../cells/plan/model";

/*
 * Security groups of one role, generated from the isolation matrix
 * (cells/plan/isolation.ts). Pure: no Pulumi here. Tests and the policy pack judge
 * the groups that providers/aws/network.ts registers with their own evaluator
 * (policies/lib/reachability.ts), never with this generator.
 *
 * Security groups only allow, and the groups of an interface add up. A role's
 * nodes, its pods' ENIs (Cilium attaches them with these groups, not eth0's) and
 * its EKS control-plane ENIs (vpcConfig.securityGroupIds, in the role's node
 * subnets) carry:
 *   - the role's base group: everything from the role's own node and pod subnets
 *     (node <-> node, Cilium health 4240 and ICMP, DNS, API server 443, kubelet
 *     10250 and webhooks 9443/15017 from the control plane, which sits in the
 *     node subnets), and the role's ingress ports and the gateway's health check
 *     port from the public subnets, where the NLB's nodes are; all egress;
 *   - one group per cross-role flow into the role, from the source role's subnets
 *     on the flow's ports.
 * Nothing else from the other roles of the cell is admitted. One group per flow
 * keeps each group under the rules-per-group quota (each CIDR is a rule).
 *
 * Why the ingress ports are open to the public subnets and not to the allow-list:
 * security groups cannot deny, so an allow-list of 0.0.0.0/0 on the targets would
 * also admit every other role of the cell. The NLB targets pods by IP without
 * preserving the client address, so targets see the NLB's own addresses; the
 * allow-list is enforced at the NLB's frontend security group, which the load
 * balancer controller builds from the Service's loadBalancerSourceRanges.
 */

/** Port the Istio gateway answers load balancer health checks on (/healthz/ready). */
export const GATEWAY_HEALTH_PORT = 15021;

export interface SgRule {
  protocol: "-1" | Protocol;
  fromPort: number;
  toPort: number;
  cidrBlocks: string[];
  description: string;
}

export interface SgSpec {
  /** Stable key: "base" or "from-<role>". Part of the Pulumi name. */
  key: string;
  description: string;
  ingress: SgRule[];
  /** Whether the group carries the all-egress rule (the base group only). */
  egressAll: boolean;
}

/** Sorted ports as inclusive ranges: [8123, 9004, 9005] -> 8123, 9004-9005. */
export function portRanges(ports: readonly number[]): { from: number; to: number }[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const out: { from: number; to: number }[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p === last.to + 1) last.to = p;
    else out.push({ from: p, to: p });
  }
  return out;
}

/** The security groups of `role` in a cell. */
export function securityGroupsFor(role: Role, plan: CellIpPlan): SgSpec[] {
  const own = roleCidrs(plan, role);
  const publicSubnets = plan.subnets.filter((s) => s.kind === "public").map((s) => s.cidr);
  const base: SgRule[] = [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: own, description: `within ${role}: nodes, pods and its control plane` }];
  const ingress = INGRESS.filter((i) => i.role === role);
  for (const i of ingress) {
    for (const r of portRanges(i.ports)) base.push({ protocol: i.protocol, fromPort: r.from, toPort: r.to, cidrBlocks: publicSubnets, description: `${i.why}, through the NLB` });
  }
  if (ingress.length > 0) {
    base.push({ protocol: "tcp", fromPort: GATEWAY_HEALTH_PORT, toPort: GATEWAY_HEALTH_PORT, cidrBlocks: publicSubnets, description: "NLB health checks of the Istio gateway" });
  }
  const groups: SgSpec[] = [{ key: "base", description: `cellplane ${plan.cellId} ${role}: own subnets, NLB, egress`, ingress: base, egressAll: true }];
  for (const from of [...new Set(flowsInto(role).map((f) => f.from))]) {
    const rules = flowsInto(role)
      .filter((f) => f.from === from)
      .flatMap((f) => portRanges(f.ports).map((r) => ({ protocol: f.protocol, fromPort: r.from, toPort: r.to, cidrBlocks: roleCidrs(plan, from), description: f.why.slice(0, 255) })));
    groups.push({ key: `from-${from}`, description: `cellplane ${plan.cellId}: ${from} to ${role} on the listed ports`, ingress: rules, egressAll: false });
  }
  return groups;
}

/** Rules a group counts against its quota: one per CIDR of each entry. */
export function ruleCount(spec: SgSpec): number {
  return spec.ingress.reduce((n, r) => n + r.cidrBlocks.length, 0);
}

/** Why a role's groups break EC2's quotas, or [] (rules per group, groups per interface). */
export function securityGroupProblems(role: Role, specs: readonly SgSpec[]): string[] {
  const out: string[] = [];
  for (const s of specs) {
    const n = ruleCount(s);
    if (n > EKS_LIMITS.rulesPerSecurityGroup) out.push(`${role}/${s.key} has ${n} inbound rules, above the ${EKS_LIMITS.rulesPerSecurityGroup} per security group`);
  }
  if (specs.length > EKS_LIMITS.securityGroupsPerInterface) out.push(`${role} needs ${specs.length} security groups per interface, above ${EKS_LIMITS.securityGroupsPerInterface}`);
  return out;
}
