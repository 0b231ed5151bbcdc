import { expect } from "chai";
import fc from "fast-check";
import { IPv4, IPv4CidrRange } from "ip-num";
import { planCell } from "../cells/plan/ipplan";
import { flowAllows } from "../cells/plan/isolation";
import { ROLES, RoleCapacity } from "../cells/plan/model";
import { awsSecurityGroupsAdmit } from "../policies/lib/reachabilityAws";
import { RULE_SET_VIEWS } from "../policies/views/network";
import { subjectOf, viewsOf } from "../policies/lib/policy";
import { EKS_LIMITS } from "../cells/plan/clouds/aws";
import { ruleCount, securityGroupsFor } from "../providers/aws/securityGroups";

/*
 * Property: for any AWS cell the planner accepts (2-6 AZs, any capacity), the
 * security groups generated for it, judged by the policy pack's own evaluator
 * (never by the generator), admit exactly the isolation matrix between every pair
 * of role subnets, and each group stays within EC2's quotas.
 */

const capacityArb: fc.Arbitrary<RoleCapacity> = fc.record({
  maxNodesPerZone: fc.integer({ min: 1, max: 40 }),
  systemNodesPerZone: fc.integer({ min: 1, max: 3 }),
  maxPodsPerNode: fc.integer({ min: 10, max: 44 }),
  maxSurgePercent: fc.integer({ min: 1, max: 50 }),
});

const at = (cidr: string, offset: bigint) => IPv4.fromNumber(IPv4CidrRange.fromCidr(cidr).getFirst().getValue() + offset).toString();
const PORTS = [22, 443, 4240, 8123, 8443, 9000, 9004, 9181, 9363, 9440, 10250, 15017, 15021];

describe("AWS security groups from the isolation matrix (property)", () => {
  it("admit exactly the matrix between role subnets, for any cell the planner accepts, within EC2's quotas", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), capacityArb, capacityArb, capacityArb, fc.bigInt({ min: 4n, max: 12n }), (zones, proxy, mgmt, dp, offset) => {
        const plan = planCell({
          cloud: "aws",
          cellId: "c001",
          cidr: "10.128.0.0/16",
          zones: Array.from({ length: zones }, (_, i) => `usw2-az${i + 1}`),
          capacity: { proxy, "data-plane-mgmt": mgmt, "data-plane": dp },
          serviceCidr: "172.20.0.0/16",
        });
        fc.pre(plan.ok);
        if (!plan.ok) return;
        const roleSubnets = plan.value.subnets.filter((s) => s.role !== null);
        for (const dstRole of ROLES) {
          const specs = securityGroupsFor(dstRole, plan.value);
          expect(specs.length).to.be.at.most(EKS_LIMITS.securityGroupsPerInterface);
          for (const s of specs) expect(ruleCount(s), `${dstRole}/${s.key}`).to.be.at.most(EKS_LIMITS.rulesPerSecurityGroup);
          // The groups as the cloud receives them, read by the pack's view of aws:ec2/securityGroup.
          const rules = specs.flatMap((s) => viewsOf(RULE_SET_VIEWS, subjectOf({ type: "aws:ec2/securityGroup:SecurityGroup", name: s.key, urn: s.key, props: { ingress: s.ingress } }))![0].rules);
          const dst = at(roleSubnets.find((s) => s.role === dstRole)!.cidr, offset);
          for (const src of roleSubnets) {
            for (const port of PORTS) {
              expect(awsSecurityGroupsAdmit(rules, { source: at(src.cidr, offset), destination: dst, protocol: "tcp", port }), `${src.role} -> ${dstRole} ${port}`).to.equal(flowAllows(src.role!, dstRole, "tcp", port));
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});
