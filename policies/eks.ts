import { PolicyResource } from "@pulumi/policy";
import { EKS_LIMITS, EKS_UNSUPPORTED_AZ_IDS } from "../cells/plan/clouds/aws";
import { resourceRule, stackRule, Subject, violation, ViewTable } from "./lib/policy";
import { at, bool, num, oneOrMany, Props, record, records, str, stringMap, strings } from "./lib/props";
import { AWS, K8S } from "./lib/types";
import { ciliumEniConfigs } from "./views/awsInterfaces";
import { subnetView } from "./views/network";

/*
 * What a real EKS deploy rejects or breaks, as far as the inputs show it
 * (../shared/guide/cloud-facts.md, "EKS: what a real deploy rejects or breaks";
 * sources: the EKS user guide, Cilium's ENI and kube-proxy-free docs, the AWS Load
 * Balancer Controller docs). Each is mandatory: a preview that passes them may
 * still fail in minutes-long creates, or run with broken networking.
 */

const only = <V>(type: string, fn: (s: Subject) => V | undefined): ViewTable<V> => ({ [type]: fn });

// ---------------------------------------------------------------------------
// Clusters and access

export const eksClusterCreation = resourceRule<Props>({
  name: "eks-cluster-creation",
  description:
    "EKS clusters are created the way cellplane runs them, since these fields replace the cluster when changed: bootstrapSelfManagedAddons false (Cilium replaces aws-node and kube-proxy), accessConfig.bootstrapClusterCreatorAdminPermissions false (an explicit deployer access entry otherwise conflicts with 409), the private endpoint on, and at least two zones of control-plane subnets. Fix: set the fields named in the message.",
  enforcementLevel: "mandatory",
  views: only(AWS.cluster, ({ props }) => props),
  check: (p, { subject }) => {
    const out: string[] = [];
    if (p.bootstrapSelfManagedAddons !== false) out.push(violation(subject.name, "bootstrapSelfManagedAddons is not false, so EKS installs aws-node and kube-proxy next to Cilium", "set bootstrapSelfManagedAddons: false when creating the cluster"));
    if (at(p, "accessConfig", "bootstrapClusterCreatorAdminPermissions") !== false) out.push(violation(subject.name, "accessConfig.bootstrapClusterCreatorAdminPermissions is not false: the creator gets an implicit admin entry and an explicit deployer access entry fails with 409", "set accessConfig.bootstrapClusterCreatorAdminPermissions: false"));
    if (at(p, "vpcConfig", "endpointPrivateAccess") !== true) out.push(violation(subject.name, "the private API endpoint is off: nodes reach the API server only over the Internet", "set vpcConfig.endpointPrivateAccess: true"));
    // Ids are unknown in a first preview: judge the count only when the list is there.
    const subnetIds = at(p, "vpcConfig", "subnetIds");
    if (Array.isArray(subnetIds) && subnetIds.length < 2) out.push(violation(subject.name, "EKS needs control-plane subnets in at least two zones", "list a subnet per zone in vpcConfig.subnetIds"));
    return out;
  },
});

export const eksControlPlaneZones = stackRule({
  name: "eks-control-plane-zones",
  description: `EKS control-plane subnets span at least two AZs and none is in an AZ EKS refuses (${EKS_UNSUPPORTED_AZ_IDS.join(", ")}). Fix: use node subnets of supported zones in vpcConfig.subnetIds.`,
  enforcementLevel: "mandatory",
  appliesTo: [AWS.cluster],
  check(index, { report }) {
    for (const c of index.ofType(AWS.cluster)) {
      const zones = strings(at(c.props, "vpcConfig", "subnetIds")).map((id) => index.ref(c, id, [AWS.subnet])).map((s) => (s ? subnetView(s)?.zone : null)).filter((z): z is string => !!z);
      const bad = zones.filter((z) => EKS_UNSUPPORTED_AZ_IDS.includes(z));
      if (bad.length > 0) report(c.urn, violation(c.name, `control-plane subnets in ${bad.join(", ")}, where EKS does not place control planes`, "use subnets of other zones"));
      if (zones.length > 0 && new Set(zones).size < 2) report(c.urn, violation(c.name, `control-plane subnets are all in ${zones[0]}`, "give the cluster subnets in at least two zones"));
    }
  },
});

export const eksAccessEntries = stackRule({
  name: "eks-access-entries",
  description:
    "No EKS access entry is created for a node group's role (EKS creates those itself; a second one fails), and every cluster whose logs are on has its log group /aws/eks/<name>/cluster in the stack, created before it (else EKS creates it without retention). Fix: remove the entry; add the log group and depend on it.",
  enforcementLevel: "mandatory",
  appliesTo: [AWS.cluster],
  check(index, { report }) {
    const nodeRoles = new Set(index.ofType(AWS.nodeGroup).map((n) => str(n.props.nodeRoleArn)).filter((a): a is string => !!a));
    for (const e of index.ofType(AWS.accessEntry)) {
      if (nodeRoles.has(str(e.props.principalArn) ?? "")) report(e.urn, violation(e.name, `access entry for ${str(e.props.principalArn)}, a node group's role`, "remove it: managed node groups get their EC2_LINUX entry from EKS"));
    }
    const groups = new Map(index.ofType(AWS.logGroup).map((g) => [str(g.props.name), g]));
    for (const c of index.ofType(AWS.cluster)) {
      if (strings(c.props.enabledClusterLogTypes).length === 0) continue;
      const name = `/aws/eks/${str(c.props.name) ?? c.name}/cluster`;
      const group = groups.get(name);
      if (!group) report(c.urn, violation(c.name, `no log group ${name} in the stack: EKS creates it with no retention`, `add an aws.cloudwatch.LogGroup named ${name} with retentionInDays and make the cluster depend on it`));
      else if (!c.dependencies.some((d) => d.urn === group.urn)) report(c.urn, violation(c.name, `the cluster does not wait for its log group ${name}`, "add the log group to the cluster's dependsOn"));
    }
  },
});

export const eksEncryptionKey = stackRule({
  name: "eks-encryption-key",
  description: "The KMS key of an EKS cluster's envelope encryption is symmetric (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) and in the stack's region. Fix: use a symmetric key created in the cluster's region.",
  enforcementLevel: "mandatory",
  appliesTo: [AWS.cluster],
  check(index, { report }) {
    for (const c of index.ofType(AWS.cluster)) {
      const arn = str(at(c.props, "encryptionConfig", "provider", "keyArn"));
      // Outputs carry the key's ARN; inputs only its id, the ARN's last segment.
      const key = arn ? (index.byId(arn, [AWS.kmsKey]) ?? index.byId(arn.split("/").pop() ?? "", [AWS.kmsKey])) : undefined;
      if (!key) continue;
      const spec = str(key.props.customerMasterKeySpec) ?? str(key.props.keySpec) ?? "SYMMETRIC_DEFAULT";
      const usage = str(key.props.keyUsage) ?? "ENCRYPT_DECRYPT";
      if (spec !== "SYMMETRIC_DEFAULT" || usage !== "ENCRYPT_DECRYPT") report(key.urn, violation(key.name, `EKS secrets encryption needs a symmetric key, this one is ${spec}/${usage}`, "create the key with customerMasterKeySpec SYMMETRIC_DEFAULT and keyUsage ENCRYPT_DECRYPT"));
    }
  },
});

export const eksEndpointReachesNodes = stackRule({
  name: "eks-endpoint-reaches-nodes",
  description:
    "A public EKS endpoint limited by publicAccessCidrs admits the NAT addresses of its VPC: nodes in private subnets reach the public endpoint from them (and Pulumi from the operators' ranges). Where an Elastic IP's address is not known yet (a preview before it exists), the cluster must take its ranges from the Elastic IPs (depend on them) and list a /32 per NAT. Fix: add each NAT gateway's Elastic IP as /32 to vpcConfig.publicAccessCidrs.",
  enforcementLevel: "mandatory",
  appliesTo: [AWS.cluster],
  check(index, { report }) {
    const natEips = new Map<string, PolicyResource[]>();
    for (const n of index.ofType(AWS.nat)) {
      const sub = index.ref(n, n.props.subnetId, [AWS.subnet]);
      const eip = index.ref(n, n.props.allocationId, [AWS.eip]);
      const vpc = str(sub?.props.vpcId);
      if (vpc && eip) natEips.set(vpc, [...(natEips.get(vpc) ?? []), eip]);
    }
    for (const c of index.ofType(AWS.cluster)) {
      if (at(c.props, "vpcConfig", "endpointPublicAccess") === false) continue;
      const cidrs = strings(at(c.props, "vpcConfig", "publicAccessCidrs"));
      if (cidrs.length === 0 || cidrs.includes("0.0.0.0/0")) continue;
      const sub = index.ref(c, strings(at(c.props, "vpcConfig", "subnetIds"))[0], [AWS.subnet]);
      const eips = natEips.get(str(sub?.props.vpcId) ?? "") ?? [];
      const hosts = cidrs.filter((x) => x.endsWith("/32"));
      const missing = eips.filter((e) => {
        const ip = str(e.props.publicIp);
        return ip ? !cidrs.includes(`${ip}/32`) : !c.dependencies.some((d) => d.urn === e.urn) || hosts.length < eips.length;
      });
      if (missing.length > 0) report(c.urn, violation(c.name, `publicAccessCidrs lack the NAT addresses of ${missing.map((e) => e.name).join(", ")}: nodes cannot reach the API server to join`, "add each NAT gateway's Elastic IP as /32 to vpcConfig.publicAccessCidrs"));
    }
  },
});

// ---------------------------------------------------------------------------
// Network

export const eksVpcDns = resourceRule<Props>({
  name: "eks-vpc-dns",
  description: "VPCs have enableDnsSupport and enableDnsHostnames on: EKS's private endpoint and the nodes' names resolve through the VPC's DNS. Fix: set both to true.",
  enforcementLevel: "mandatory",
  views: only(AWS.vpc, ({ props }) => props),
  check: (p, { subject }) =>
    p.enableDnsSupport === false || p.enableDnsHostnames !== true ? [violation(subject.name, "enableDnsSupport or enableDnsHostnames is off", "set enableDnsSupport: true and enableDnsHostnames: true")] : [],
});

export const eksPublicSubnetsTagged = stackRule({
  name: "eks-public-subnets-tagged",
  description:
    "Public subnets of a VPC with EKS clusters (routed to an internet gateway) carry kubernetes.io/role/elb=1, and the kubernetes.io/cluster/<name> tags of either every EKS cluster in the VPC or none: the load balancer controller discovers subnets by them. Fix: tag the public subnets as the message says.",
  enforcementLevel: "mandatory",
  appliesTo: [AWS.cluster],
  check(index, { report }) {
    const publicTables = new Set(index.ofType(AWS.routeTable).filter((t) => records(t.props.routes).some((r) => str(r.cidrBlock) === "0.0.0.0/0" && str(r.gatewayId)?.startsWith("igw-"))).map((t) => t.urn));
    const clustersByVpc = new Map<string, string[]>();
    for (const c of index.ofType(AWS.cluster)) {
      const sub = index.ref(c, strings(at(c.props, "vpcConfig", "subnetIds"))[0], [AWS.subnet]);
      const vpc = str(sub?.props.vpcId);
      if (vpc) clustersByVpc.set(vpc, [...(clustersByVpc.get(vpc) ?? []), str(c.props.name) ?? c.name]);
    }
    for (const a of index.ofType(AWS.routeTableAssociation)) {
      const table = index.ref(a, a.props.routeTableId, [AWS.routeTable]);
      const s = index.ref(a, a.props.subnetId, [AWS.subnet]);
      if (!table || !s || !publicTables.has(table.urn)) continue;
      const clusters = clustersByVpc.get(str(s.props.vpcId) ?? "") ?? [];
      if (clusters.length === 0) continue;
      const tags = stringMap(s.props.tags);
      if (tags["kubernetes.io/role/elb"] !== "1") report(s.urn, violation(s.name, "public subnet without kubernetes.io/role/elb=1: internet-facing NLBs cannot be placed", 'add tag "kubernetes.io/role/elb": "1"'));
      const tagged = clusters.filter((c) => tags[`kubernetes.io/cluster/${c}`] !== undefined);
      if (tagged.length > 0 && tagged.length < clusters.length) {
        report(s.urn, violation(s.name, `tagged for ${tagged.join(", ")} but not for ${clusters.filter((c) => !tagged.includes(c)).join(", ")}: the untagged clusters' controllers cannot use it`, "tag the subnet kubernetes.io/cluster/<name>: shared for every cluster of the VPC, or for none"));
      }
    }
  },
});

export const securityGroupQuota = resourceRule<Props, { maxRules?: number }>({
  name: "security-group-quota",
  description: `A security group has at most ${EKS_LIMITS.rulesPerSecurityGroup} inbound rules (EC2's default quota; each CIDR or referenced group of an entry counts as one rule). Fix: split the rules over more groups, or raise maxRules after the quota is raised.`,
  enforcementLevel: "mandatory",
  configSchema: { properties: { maxRules: { type: "integer", minimum: 1, maximum: 1000, default: EKS_LIMITS.rulesPerSecurityGroup, description: "Inbound rules a security group may have (the account's quota)." } } },
  views: only(AWS.securityGroup, ({ props }) => props),
  check: (p, { subject, config }) => {
    const max = config.maxRules ?? EKS_LIMITS.rulesPerSecurityGroup;
    const n = records(p.ingress).reduce((sum, r) => sum + Math.max(1, oneOrMany(r.cidrBlocks).length + oneOrMany(r.ipv6CidrBlocks).length + oneOrMany(r.securityGroups).length + oneOrMany(r.prefixListIds).length + (r.self === true ? 1 : 0)), 0);
    return n > max ? [violation(subject.name, `${n} inbound rules, above the quota of ${max}`, "split the rules over more security groups (one per source role)")] : [];
  },
});

/** Characters EC2 accepts in security group and rule descriptions (EC2 API, CreateSecurityGroup and IpRange.Description). */
const SG_DESCRIPTION = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/;

export const securityGroupDescriptions = resourceRule<Props>({
  name: "security-group-descriptions",
  description:
    "Security group and rule descriptions use only the characters EC2 accepts (letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*; at most 255), or the create fails. Fix: rewrite the description named in the message.",
  enforcementLevel: "mandatory",
  views: only(AWS.securityGroup, ({ props }) => props),
  check: (p, { subject }) => {
    const texts: [string, string | undefined][] = [["description", str(p.description)], ...[...records(p.ingress), ...records(p.egress)].map((r, i): [string, string | undefined] => [`rule ${i} description`, str(r.description)])];
    return texts
      .filter(([, t]) => t !== undefined && (!SG_DESCRIPTION.test(t) || t.length > 255))
      .map(([field, t]) => violation(subject.name, `${field} "${t}" has characters EC2 refuses or is longer than 255`, "use letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* only"));
  },
});

// ---------------------------------------------------------------------------
// Nodes

export const eksLaunchTemplate = resourceRule<Props>({
  name: "eks-launch-template",
  description:
    "Launch templates of EKS managed node groups require IMDSv2 (httpTokens required), encrypt every EBS volume, and set no IAM instance profile, no subnet and no shutdown behaviour (EKS rejects node groups whose template has them). Fix: change the fields named in the message.",
  enforcementLevel: "mandatory",
  views: only(AWS.launchTemplate, ({ props }) => props),
  check: (p, { subject }) => {
    const out: string[] = [];
    if (at(p, "metadataOptions", "httpTokens") !== "required") out.push(violation(subject.name, "IMDSv1 is allowed", 'set metadataOptions.httpTokens: "required"'));
    for (const b of records(p.blockDeviceMappings)) {
      const enc = at(b, "ebs", "encrypted");
      if (enc !== true && enc !== "true") out.push(violation(subject.name, `volume ${str(b.deviceName) ?? "?"} is not encrypted`, 'set ebs.encrypted: "true"'));
    }
    if (p.iamInstanceProfile !== undefined) out.push(violation(subject.name, "an IAM instance profile is set: EKS managed node groups refuse it", "remove iamInstanceProfile (the node group's nodeRoleArn is used)"));
    if (records(p.networkInterfaces).some((n) => n.subnetId !== undefined)) out.push(violation(subject.name, "a subnet is set in networkInterfaces: EKS managed node groups refuse it", "remove it; set subnetIds on the node group"));
    if (p.instanceInitiatedShutdownBehavior !== undefined) out.push(violation(subject.name, "instanceInitiatedShutdownBehavior is set: EKS managed node groups refuse it", "remove it"));
    return out;
  },
});

const CILIUM_TAINT_KEY = "node.cilium.io/agent-not-ready";

export const eksNodeGroupCiliumTaint = resourceRule<Props>({
  name: "eks-node-group-cilium-taint",
  description: `EKS node groups start with Cilium's taint ${CILIUM_TAINT_KEY}=true:NoExecute, which the Cilium agent removes once it runs, so no pod starts on a node before it has networking. Fix: add the taint to the node group's taints.`,
  enforcementLevel: "mandatory",
  views: only(AWS.nodeGroup, ({ props }) => props),
  check: (p, { subject }) =>
    records(p.taints).some((t) => t.key === CILIUM_TAINT_KEY && t.effect === "NO_EXECUTE")
      ? []
      : [violation(subject.name, `no ${CILIUM_TAINT_KEY} NoExecute taint: pods may start before Cilium and get no network`, `add taints [{key: "${CILIUM_TAINT_KEY}", value: "true", effect: "NO_EXECUTE"}]`)],
});

// ---------------------------------------------------------------------------
// Cilium in ENI mode and its ordering

const releaseChart = (r: PolicyResource) => str(r.props.chart);
const values = (r: PolicyResource): Props => record(r.props.values) ?? {};

export const eksCiliumEni = stackRule({
  name: "eks-cilium-eni",
  description:
    "Cilium on EKS runs in ENI mode without overlay (eni.enabled, ipam.mode eni, routingMode native, kubeProxyReplacement, k8sServiceHost the bare API hostname and port 443, the operator's IAM role, socketLB.hostNamespaceOnly for Istio, skipAwait so it does not wait for nodes it networks), its CNI config gives pod ENIs the role's pod subnets and security groups from the second interface on, node groups do not wait for it, and the add-ons that need pod networking (CoreDNS, EBS CSI, pod identity agent) do. Fix: set the values and dependencies named in the message.",
  enforcementLevel: "mandatory",
  appliesTo: [AWS.cluster],
  check(index, { report }) {
    const cilium = index.ofType(K8S.helmRelease).filter((r) => releaseChart(r) === "cilium");
    const clusters = index.ofType(AWS.cluster).filter((c) => c.props.bootstrapSelfManagedAddons === false);
    if (clusters.length > cilium.length) for (const c of clusters) report(c.urn, violation(c.name, `${clusters.length} EKS clusters without the VPC CNI but ${cilium.length} Cilium releases: a cluster has no CNI`, "install Cilium (helm.cilium.io) with the cluster's Kubernetes provider"));
    for (const r of cilium) {
      const v = values(r);
      const problems: string[] = [];
      if (at(v, "eni", "enabled") !== true) problems.push("eni.enabled is not true");
      if (at(v, "ipam", "mode") !== "eni") problems.push("ipam.mode is not eni");
      if (v.routingMode !== "native") problems.push("routingMode is not native");
      if (v.kubeProxyReplacement !== true && v.kubeProxyReplacement !== "true") problems.push("kubeProxyReplacement is not true (there is no kube-proxy)");
      // Values from the cluster (its endpoint, the operator's role) are unknown in a
      // first preview: a key that is there but unknown is judged once it is known.
      const host = str(v.k8sServiceHost);
      if (!("k8sServiceHost" in v) || (host !== undefined && (/^https?:\/\//.test(host) || host.includes("/")))) problems.push(`k8sServiceHost ${host ?? "unset"} is not a bare hostname`);
      if (num(v.k8sServicePort) !== 443) problems.push("k8sServicePort is not 443");
      if (!("iamRole" in (record(v.eni) ?? {})) || at(v, "eni", "iamRole") === "") problems.push("eni.iamRole is unset (the operator has no EC2 rights)");
      if (at(v, "socketLB", "hostNamespaceOnly") !== true) problems.push("socketLB.hostNamespaceOnly is not true (breaks Istio)");
      if (bool(r.props.skipAwait) !== true) problems.push("skipAwait is not true: the release waits for nodes that wait for it");
      if (problems.length > 0) report(r.urn, violation(r.name, problems.join("; "), "set the Cilium values for ENI mode on EKS (Cilium docs, ENI IPAM and kube-proxy-free)"));
    }
    for (const { resource, eni } of ciliumEniConfigs(index)) {
      if (!eni) continue; // not known yet (preview): judged once it is
      const problems: string[] = [];
      if ((num(eni["first-interface-index"]) ?? 0) < 1) problems.push("first-interface-index is not 1 or more: pods take the node subnet's addresses");
      if (oneOrMany(eni["subnet-ids"]).length === 0 && record(eni["subnet-tags"]) === undefined) problems.push("no subnet-ids or subnet-tags: Cilium falls back to the largest subnet of the AZ");
      if (oneOrMany(eni["security-groups"]).length === 0 && record(eni["security-group-tags"]) === undefined) problems.push("no security-groups: pod ENIs take eth0's groups");
      if (problems.length > 0) report(resource.urn, violation(resource.name, problems.join("; "), "set the eni block of the Cilium CNI configuration"));
    }
    const ciliumUrns = new Set(cilium.map((r) => r.urn));
    for (const ng of index.ofType(AWS.nodeGroup)) {
      if (ng.dependencies.some((d) => ciliumUrns.has(d.urn))) report(ng.urn, violation(ng.name, "the node group waits for the Cilium release, which cannot finish before nodes exist", "install Cilium alongside the node groups: drop the dependency"));
    }
    for (const a of index.ofType(AWS.addon)) {
      if (!["coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent"].includes(str(a.props.addonName) ?? "")) continue;
      if (cilium.length > 0 && !a.dependencies.some((d) => ciliumUrns.has(d.urn))) report(a.urn, violation(a.name, `add-on ${str(a.props.addonName)} does not wait for Cilium: its pods get no network and the add-on times out`, "make it depend on the Cilium release"));
    }
  },
});

// ---------------------------------------------------------------------------
// The gateway's load balancer

const LB = "service.beta.kubernetes.io/aws-load-balancer-";

export const eksGatewayNlb = stackRule({
  name: "eks-gateway-nlb",
  description:
    "On EKS the Istio gateway Service is an internet-facing NLB of the AWS Load Balancer Controller with IP targets (type external, nlb-target-type ip, scheme internet-facing: the default is internal), health-checked on 15021 /healthz/ready, and the controller is installed before it. Fix: set the annotations named in the message and depend on the controller.",
  enforcementLevel: "mandatory",
  appliesTo: [AWS.cluster],
  check(index, { report }) {
    const controllers = index.ofType(K8S.helmRelease).filter((r) => releaseChart(r) === "aws-load-balancer-controller");
    if (controllers.length === 0) {
      for (const c of index.ofType(AWS.cluster)) report(c.urn, violation(c.name, "no AWS Load Balancer Controller release: LoadBalancer Services get the in-tree classic load balancer", "install the aws-load-balancer-controller chart (eks-charts)"));
    }
    const want: Record<string, string> = { type: "external", "nlb-target-type": "ip", scheme: "internet-facing", "healthcheck-port": "15021", "healthcheck-path": "/healthz/ready" };
    for (const r of index.ofType(K8S.helmRelease).filter((x) => releaseChart(x) === "gateway")) {
      const ann = stringMap(at(values(r), "service", "annotations"));
      const wrong = Object.entries(want).filter(([k, v]) => ann[`${LB}${k}`] !== v).map(([k, v]) => `${LB}${k}: ${ann[`${LB}${k}`] ?? "unset"} (want ${v})`);
      if (wrong.length > 0) report(r.urn, violation(r.name, wrong.join("; "), "set the gateway Service annotations for an internet-facing NLB with IP targets"));
    }
  },
});

// ---------------------------------------------------------------------------
// IRSA

/** The statements of an assume-role policy that trust an OIDC provider. */
function webIdentityStatements(doc: unknown): Props[] {
  let parsed = doc;
  if (typeof doc === "string") {
    try {
      parsed = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  const st = at(parsed, "Statement");
  return [record(st), ...records(st)].filter((s): s is Props => s !== undefined).filter((s) => s.Effect === "Allow" && oneOrMany(s.Action).includes("sts:AssumeRoleWithWebIdentity"));
}

export const irsaTrustScoped = resourceRule<Props>({
  name: "irsa-trust-scoped",
  description:
    "An IAM role trusted through an OIDC provider (IRSA) names exactly one service account: StringEquals on <issuer>:sub = system:serviceaccount:<namespace>:<name> (no wildcards) and <issuer>:aud = sts.amazonaws.com. Fix: write both conditions with StringEquals for the one service account that needs the role.",
  enforcementLevel: "mandatory",
  views: only(AWS.iamRole, ({ props }) => props),
  check: (p, { subject }) =>
    webIdentityStatements(p.assumeRolePolicy).flatMap((s) => {
      const eq = stringMap(at(s, "Condition", "StringEquals"));
      const sub = Object.entries(eq).find(([k]) => k.endsWith(":sub"))?.[1];
      const aud = Object.entries(eq).find(([k]) => k.endsWith(":aud"))?.[1];
      const problems: string[] = [];
      if (!sub || !/^system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+$/.test(sub)) problems.push(`the trust names no single service account (sub ${sub ?? "unset"})`);
      if (aud !== "sts.amazonaws.com") problems.push(`the audience is ${aud ?? "unchecked"}`);
      return problems.map((m) => violation(subject.name, m, "use StringEquals {<issuer>:sub: system:serviceaccount:<ns>:<sa>, <issuer>:aud: sts.amazonaws.com}"));
    }),
});

export const EKS_POLICIES = [
  eksClusterCreation,
  eksControlPlaneZones,
  eksAccessEntries,
  eksEncryptionKey,
  eksEndpointReachesNodes,
  eksVpcDns,
  eksPublicSubnetsTagged,
  securityGroupQuota,
  securityGroupDescriptions,
  eksLaunchTemplate,
  eksNodeGroupCiliumTaint,
  eksCiliumEni,
  eksGatewayNlb,
  irsaTrustScoped,
];
