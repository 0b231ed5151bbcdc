import { PolicyResource } from "@pulumi/policy";
import { at, oneOrMany, record, records, str, stringMap, strings } from "../lib/props";
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

/** Where a Cilium CNI configuration lives: a ConfigMap with a `cni-config` key (cni.customConf). */
const CNI_KEY = "cni-config";

/**
 * The Cilium CNI `eni` blocks of a stack's ConfigMaps. `eni` is null when the
 * ConfigMap holds a CNI config whose text is not known yet (a preview before the
 * subnets exist): callers then fall back to what the ConfigMap depends on.
 */
export function ciliumEniConfigs(index: StackIndex): { resource: PolicyResource; eni: Record<string, unknown> | null }[] {
  const out: { resource: PolicyResource; eni: Record<string, unknown> | null }[] = [];
  for (const cm of index.ofType("kubernetes:core/v1:ConfigMap")) {
    const data = record(cm.props.data) ?? {};
    // Cilium's documented ConfigMap name (cni.configMap): recognised even when its data is unknown.
    if (!(CNI_KEY in data) && str(at(cm.props, "metadata", "name")) !== "cni-configuration") continue;
    let doc: unknown;
    try {
      doc = JSON.parse(str(data[CNI_KEY]) ?? "");
    } catch {
      out.push({ resource: cm, eni: null });
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
  /**
   * The resources of `types` that `ids` name; when none resolves (ids unknown in a
   * preview), the ones `from` depends on: the same fallback as StackIndex.ref.
   */
  const resolve = (from: PolicyResource | undefined, ids: readonly string[], types: readonly string[]): PolicyResource[] => {
    const hits = ids.map((id) => index.byId(id, types)).filter((r): r is PolicyResource => r !== undefined);
    return hits.length > 0 || !from ? hits : from.dependencies.filter((d) => types.includes(d.type));
  };
  for (const ng of index.ofType(AWS.nodeGroup)) {
    const lt = resolve(ng, oneOrMany(at(ng.props, "launchTemplate", "id")), [AWS.launchTemplate])[0];
    const groups = resolve(lt, lt ? strings(lt.props.vpcSecurityGroupIds) : [], [AWS.securityGroup]);
    for (const s of resolve(ng, strings(ng.props.subnetIds), [AWS.subnet])) out.push({ subnet: s, groups, by: `node group ${ng.name}` });
  }
  for (const c of index.ofType(AWS.cluster)) {
    const groups = resolve(c, strings(at(c.props, "vpcConfig", "securityGroupIds")), [AWS.securityGroup]);
    for (const s of resolve(c, strings(at(c.props, "vpcConfig", "subnetIds")), [AWS.subnet])) out.push({ subnet: s, groups, by: `control plane of ${c.name}` });
  }
  for (const { resource, eni } of ciliumEniConfigs(index)) {
    const ids = eni ? oneOrMany(eni["security-groups"]) : [];
    const groups = eni && ids.length === 0 ? [] : resolve(resource, ids, [AWS.securityGroup]);
    const by = eni && ids.length === 0 ? `Cilium pod ENIs without security-groups (${resource.name})` : `Cilium pod ENIs (${resource.name})`;
    for (const s of resolve(resource, eni ? oneOrMany(eni["subnet-ids"]) : [], [AWS.subnet])) out.push({ subnet: s, groups, by });
  }
  cache.set(index, out);
  return out;
}

/** An AWS subnet's role and kind, from its tags (cellplane tags every subnet it creates). */
export function awsSubnetRole(s: PolicyResource): { role: string | undefined; kind: string | undefined; cidr: string | undefined } {
  const tags = stringMap(s.props.tags);
  return { role: tags.role, kind: tags.kind, cidr: subnetView(s)?.cidrs[0] };
}
