import { PolicyResource } from "@pulumi/policy";
import { flowAllows, Protocol } from "../cells/plan/isolation";
import { ROLES, Role } from "../cells/plan/model";
import { subjectOf, violation, viewsOf } from "./lib/policy";
import { str } from "./lib/props";
import { awsSecurityGroupsAdmit } from "./lib/reachabilityAws";
import { StackIndex } from "./lib/stack";
import { AWS } from "./lib/types";
import { awsAttachments, awsSubnetRole } from "./views/awsInterfaces";
import { RULE_SET_VIEWS } from "./views/network";

/*
 * isolation-matches-matrix on AWS: the interfaces of each role's node and pod
 * subnets carry security groups (node groups' launch templates, control planes,
 * Cilium's pod ENIs); what their inbound rules admit from every other role
 * subnet of the VPC must equal the isolation matrix.
 */

type Report = (urn: string, message: string) => void;

export function awsIsolationViolations(index: StackIndex, report: Report, probes: readonly { protocol: Protocol; port: number }[], sample: (cidr: string) => string): void {
  const attachments = awsAttachments(index);
  const attached = new Set(attachments.map((a) => a.subnet.urn));
  const byVpc = new Map<string, { subnet: PolicyResource; role: Role; address: string }[]>();
  for (const s of index.ofType(AWS.subnet)) {
    const { role, kind, cidr } = awsSubnetRole(s);
    const r = ROLES.find((x) => x === role);
    if (!r || !cidr || (kind !== "nodes" && kind !== "pods")) continue;
    const vpc = index.ref(s, s.props.vpcId, [AWS.vpc])?.urn ?? str(s.props.vpcId) ?? "?";
    byVpc.set(vpc, [...(byVpc.get(vpc) ?? []), { subnet: s, role: r, address: sample(cidr) }]);
    if (!attached.has(s.urn)) {
      report(
        s.urn,
        violation(s.name, `nothing in the stack says which security groups the ${kind} interfaces of this ${role} subnet carry (pod ENIs of Cilium take eth0's groups unless its CNI config lists security-groups)`, kind === "pods" ? "list the subnet in the Cilium CNI config's eni.subnet-ids with the role's security-groups" : "put the subnet in a node group whose launch template sets vpcSecurityGroupIds"),
      );
    }
  }
  const rulesOf = (groups: readonly PolicyResource[]) => groups.flatMap((g) => (viewsOf(RULE_SET_VIEWS, subjectOf(g)) ?? []).flatMap((v) => v.rules));
  for (const a of attachments) {
    const dstRole = ROLES.find((x) => x === awsSubnetRole(a.subnet).role);
    if (!dstRole) continue;
    const vpc = index.ref(a.subnet, a.subnet.props.vpcId, [AWS.vpc])?.urn ?? str(a.subnet.props.vpcId) ?? "?";
    const rules = rulesOf(a.groups);
    const dst = sample(awsSubnetRole(a.subnet).cidr ?? "0.0.0.0/32");
    const reported = new Set<Role>();
    for (const src of byVpc.get(vpc) ?? []) {
      if (reported.has(src.role)) continue;
      const wrong: string[] = [];
      for (const { protocol, port } of probes) {
        const actual = awsSecurityGroupsAdmit(rules, { source: src.address, destination: dst, protocol, port });
        if (actual !== flowAllows(src.role, dstRole, protocol, port)) wrong.push(`${protocol}/${port} ${actual ? "allowed" : "denied"}`);
      }
      if (wrong.length === 0) continue;
      reported.add(src.role);
      report(
        a.subnet.urn,
        violation(a.subnet.name, `${src.role} -> ${dstRole} (${src.subnet.name} -> interfaces of ${a.by}) differs from the isolation matrix: ${wrong.join(", ")}`, "attach the role's security groups generated from cells/plan/isolation.ts (providers/aws/securityGroups.ts), or change FLOWS in review"),
      );
    }
  }
}

/**
 * subnet-nat-same-zone on AWS pod subnets: they are not in any node group or
 * cluster (Cilium's CNI config names them), yet pods egress from their own
 * addresses, so each needs its own zone's NAT like the node subnets.
 */
export function awsPodSubnetEgressViolations(index: StackIndex, report: Report, nats: (subnet: PolicyResource) => { resource: PolicyResource; zone: string | null }[]): void {
  for (const s of index.ofType(AWS.subnet)) {
    const { role, kind } = awsSubnetRole(s);
    if (kind !== "pods" || !ROLES.some((r) => r === role)) continue;
    const zone = str(s.props.availabilityZoneId) ?? str(s.props.availabilityZone);
    const served = nats(s);
    if (served.length === 0) report(s.urn, violation(s.name, "no NAT gateway serves this pod subnet, so its pods have no stable egress", `route 0.0.0.0/0 of its route table to the NAT gateway of zone ${zone ?? "<zone>"}`));
    for (const nat of served) {
      if (nat.zone !== null && zone && nat.zone !== zone) {
        report(s.urn, violation(s.name, `serves zone ${zone} but egresses through NAT gateway ${nat.resource.name} of zone ${nat.zone}`, `route it to the NAT gateway of zone ${zone}`));
      }
    }
  }
}
