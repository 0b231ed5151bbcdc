import { PolicyResource } from "@pulumi/policy";
import { at, oneOrMany, records, str, stringMap, strings } from "../lib/props";
import { StackIndex } from "../lib/stack";
import { AWS } from "../lib/types";
import { subnetView } from "./network";

/*
 * Which security groups the network interfaces in an AWS subnet carry, from what
 * attaches them:
 *   - EKS managed node groups: their launch template's vpcSecurityGroupIds, on
 *     nodes in the node group's subnets;
 *   - EKS control planes: vpcConfig.securityGroupIds, on ENIs in vpcConfig.subnetIds;
 *   - Cilium in ENI mode: the `eni` block of its CNI configuration (a ConfigMap's
 *     `cni-config`), `security-groups` on the pod ENIs it creates in `subnet-ids`.
 *     Without `security-groups`, pod ENIs get the node's first interface's groups
 *     (Cilium ENI docs), which is recorded as such.
 */

export interface AwsAttachment {
  /** The subnet the interfaces are in. */
  subnet: PolicyResource;
  /** Security group resources attached (unresolved ids are dropped). */
  groups: PolicyResource[];
  /** What attaches them, for messages. */
  by: string;
}

/** The Cilium CNI `eni` blocks of a stack's ConfigMaps. */
export function ciliumEniConfigs(index: StackIndex): { resource: PolicyResource; eni: Record<string, unknown> }[] {
  const out: { resource: PolicyResource; eni: Record<string, unknown> }[] = [];
  for (const cm of index.ofType("kubernetes:core/v1:ConfigMap")) {
    const text = str(at(cm.props, "data", "cni-config"));
    if (!text) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      continue;
    }
    for (const p of records(at(doc, "plugins"))) {
      const eni = at(p, "eni");
      if (p.type === "cilium-cni" && eni && typeof eni === "object") out.push({ resource: cm, eni: eni as Record<string, unknown> });
    }
  }
  return out;
}

const cache = new WeakMap<StackIndex, AwsAttachment[]>();

export function awsAttachments(index: StackIndex): AwsAttachment[] {
  const cached = cache.get(index);
  if (cached) return cached;
  const out: AwsAttachment[] = [];
  const groups = (ids: readonly string[]) => ids.map((id) => index.byId(id, [AWS.securityGroup])).filter((g): g is PolicyResource => g !== undefined);
  const subnets = (from: PolicyResource, ids: readonly string[]) => ids.map((id) => index.ref(from, id, [AWS.subnet])).filter((s): s is PolicyResource => s !== undefined);
  for (const ng of index.ofType(AWS.nodeGroup)) {
    const lt = index.ref(ng, at(ng.props, "launchTemplate", "id"), [AWS.launchTemplate]);
    const ids = lt ? strings(lt.props.vpcSecurityGroupIds) : [];
    for (const s of subnets(ng, strings(ng.props.subnetIds))) out.push({ subnet: s, groups: groups(ids), by: `node group ${ng.name}` });
  }
  for (const c of index.ofType(AWS.cluster)) {
    const ids = strings(at(c.props, "vpcConfig", "securityGroupIds"));
    for (const s of subnets(c, strings(at(c.props, "vpcConfig", "subnetIds")))) out.push({ subnet: s, groups: groups(ids), by: `control plane of ${c.name}` });
  }
  for (const { resource, eni } of ciliumEniConfigs(index)) {
    const ids = oneOrMany(eni["security-groups"]);
    for (const s of subnets(resource, oneOrMany(eni["subnet-ids"]))) out.push({ subnet: s, groups: groups(ids), by: ids.length > 0 ? `Cilium pod ENIs (${resource.name})` : `Cilium pod ENIs without security-groups (${resource.name})` });
  }
  cache.set(index, out);
  return out;
}

/** An AWS subnet's role and kind, from its tags (cellplane tags every subnet it creates). */
export function awsSubnetRole(s: PolicyResource): { role: string | undefined; kind: string | undefined; cidr: string | undefined } {
  const tags = stringMap(s.props.tags);
  return { role: tags.role, kind: tags.kind, cidr: subnetView(s)?.cidrs[0] };
}
