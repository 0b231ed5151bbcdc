import { firstMatch, IngressRule, Probe } from "./reachability";

/*
 * AWS security-group semantics, from the EC2 user guide ("Security group rules"):
 * rules only allow; an interface's groups add up (a packet is admitted when any
 * rule of any of its groups matches); without a matching rule, inbound traffic is
 * dropped. There is no priority and no implicit VPC-wide allow (unlike Azure's
 * AllowVnetInBound). Written from those semantics, never from cellplane's generator.
 */

/** Whether the union of an interface's security groups (their inbound rules) admits a probe. */
export function awsSecurityGroupsAdmit(rules: readonly IngressRule[], probe: Probe): boolean {
  return firstMatch(rules.filter((r) => r.allow), probe) !== undefined;
}
