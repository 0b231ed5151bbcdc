import { NAME_RULES } from "../cells/plan/clouds";
import { NameRule, nameProblem } from "../cells/plan/naming";
import { ROLES } from "../cells/plan/model";
import { resourceRule, scopeOf, Subject, violation, ViewSelector, ViewTable } from "./lib/policy";
import { records, str, stringMap } from "./lib/props";
import { AWS, AZURE, cloudOf, GCP } from "./lib/types";

/*
 * Hygiene: required tags, names within the cloud's rules, and protection of the
 * resources whose loss is an outage (clusters, networks, storage, DNS zones).
 */

// ---------------------------------------------------------------------------
// Tags and labels

/**
 * Cloud resource types that cannot carry tags or labels. Every other cloud
 * resource is expected to: a new type that cannot is added here, so the policy
 * never silently skips a type that could be tagged.
 */
export const NOT_TAGGABLE: ReadonlySet<string> = new Set([
  AZURE.subnet,
  AZURE.securityRule,
  AZURE.roleAssignment,
  AZURE.roleDefinition,
  // ARM policy assignments have no tags (Microsoft.Authorization/policyAssignments).
  AZURE.policyAssignment,
  AZURE.federatedCredential,
  AZURE.maintenance,
  AZURE.diagnosticSetting,
  AZURE.dnsRecordSet,
  // Sub-resources of a storage account: ARM takes no tags on them (the account carries them).
  AZURE.blobServiceProperties,
  AZURE.blobContainer,
  AWS.route,
  AWS.routeTableAssociation,
  AWS.securityGroupRule,
  AWS.rolePolicy,
  AWS.rolePolicyAttachment,
  AWS.accessKey,
  AWS.bucketPublicAccessBlock,
  AWS.bucketEncryption,
  AWS.bucketPolicy,
  AWS.bucketOwnershipControls,
  AWS.bucketVersioning,
  AWS.bucketLifecycle,
  AWS.dnsRecord,
  AWS.kmsAlias,
  AWS.accessPolicyAssociation,
  GCP.subnetwork,
  GCP.network,
  GCP.firewall,
  GCP.routerNat,
  GCP.serviceAccount,
  GCP.serviceAccountKey,
  GCP.projectIamMember,
  GCP.projectIamBinding,
  GCP.projectIamPolicy,
  GCP.nodePool,
  GCP.router,
  GCP.keyRing,
  GCP.cryptoKeyIamMember,
  GCP.customRole,
  GCP.dnsRecordSet,
  GCP.dnsZoneIamMember,
  GCP.serviceAccountIamMember,
]);

interface TagView {
  tags: Record<string, string>;
  /** The property the tags live in: tags (Azure, AWS), labels or resourceLabels (GCP). */
  field: string;
}

/** Tags of any taggable cloud resource; Kubernetes objects, providers and components are not cloud resources. */
function tagView({ type, props }: Subject): TagView {
  if (cloudOf(type) !== "gcp") return { tags: stringMap(props.tags), field: "tags" };
  const field = type === GCP.cluster ? "resourceLabels" : "labels";
  return { tags: stringMap(props[field]), field };
}

const TAG_VIEWS: ViewSelector<TagView> = {
  family: "taggable cloud resources (not Kubernetes objects, providers, components or the types in NOT_TAGGABLE)",
  select: (type) => (cloudOf(type) !== null && !NOT_TAGGABLE.has(type) ? tagView : undefined),
};

interface TagConfig {
  keys?: string[];
  cellKeys?: string[];
  roleKeys?: string[];
}

export const requiredTags = resourceRule<TagView, TagConfig>({
  name: "required-tags",
  description:
    "Cloud resources carry the tags (GCP: labels) operators find them by: `stack` on every resource; `cell` on a cell's resources, equal to the cell id; `role` on the resources of one role's cluster, equal to the role. Resources above cells (the region's DNS zone) need only the region-wide keys. Fix: add the missing tags (cells get them from the Cell's tags; extra keys from cellplane:tags).",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      keys: { type: "array", items: { type: "string" }, default: ["stack"], description: "Keys every taggable cloud resource needs." },
      cellKeys: { type: "array", items: { type: "string" }, default: ["cell"], description: "Further keys for resources inside a cell." },
      roleKeys: { type: "array", items: { type: "string" }, default: ["role"], description: "Further keys for resources of one role's cluster." },
    },
  },
  views: TAG_VIEWS,
  check(v, { subject, config, opts }) {
    const scope = scopeOf(subject.urn, subject.name, opts.parent);
    const required = [...(config.keys ?? ["stack"]), ...(scope.cell ? (config.cellKeys ?? ["cell"]) : []), ...(scope.role ? (config.roleKeys ?? ["role"]) : [])];
    const out: string[] = [];
    const missing = [...new Set(required)].filter((k) => !v.tags[k]);
    if (missing.length > 0) out.push(violation(subject.name, `${v.field} lack ${missing.join(", ")}`, `add ${missing.map((k) => `${k}: <${k === "cell" ? scope.cell : k === "role" ? scope.role : k}>`).join(", ")} to ${v.field}`));
    if (scope.cell && v.tags.cell && v.tags.cell !== scope.cell) out.push(violation(subject.name, `tag cell is "${v.tags.cell}" on a resource of cell ${scope.cell}`, `set cell: ${scope.cell}`));
    if (v.tags.role && !(ROLES as readonly string[]).includes(v.tags.role)) out.push(violation(subject.name, `tag role is "${v.tags.role}", not one of ${ROLES.join(", ")}`, "use the role of the cluster the resource belongs to"));
    else if (scope.role && v.tags.role && v.tags.role !== scope.role) out.push(violation(subject.name, `tag role is "${v.tags.role}" on a resource of the ${scope.role} cluster`, `set role: ${scope.role}`));
    return out;
  },
});

// ---------------------------------------------------------------------------
// Names

interface NamedView {
  /** Physical names with the rule each must follow and where it is set. */
  names: { value: string; rule: NameRule; field: string }[];
}

const A = NAME_RULES.azure;
const named = (...fields: [string, NameRule][]) => ({ props }: Subject): NamedView => ({
  names: fields.flatMap(([field, rule]) => {
    const value = str(props[field]);
    return value === undefined ? [] : [{ value, rule, field }];
  }),
});

const NAME_VIEWS: ViewTable<NamedView> = {
  [AZURE.resourceGroup]: named(["resourceGroupName", A.resourceGroup]),
  [AZURE.vnet]: named(["virtualNetworkName", A.virtualNetwork]),
  [AZURE.subnet]: named(["subnetName", A.subnet]),
  [AZURE.nat]: named(["natGatewayName", A.natGateway]),
  [AZURE.publicIp]: named(["publicIpAddressName", A.publicIp]),
  [AZURE.nsg]: ({ props, ...rest }) => ({
    names: [
      ...named(["networkSecurityGroupName", A.networkSecurityGroup])({ props, ...rest }).names,
      ...records(props.securityRules).flatMap((r, i) => {
        const value = str(r.name);
        return value === undefined ? [] : [{ value, rule: A.securityRule, field: `securityRules[${i}].name` }];
      }),
    ],
  }),
  [AZURE.securityRule]: named(["securityRuleName", A.securityRule]),
  [AZURE.cluster]: ({ props, ...rest }) => ({
    names: [
      ...named(["resourceName", A.managedCluster], ["dnsPrefix", A.dnsPrefix])({ props, ...rest }).names,
      ...records(props.agentPoolProfiles).flatMap((p, i) => {
        const value = str(p.name);
        return value === undefined ? [] : [{ value, rule: A.agentPool, field: `agentPoolProfiles[${i}].name` }];
      }),
    ],
  }),
  [AZURE.pool]: named(["agentPoolName", A.agentPool]),
  [AZURE.identity]: named(["resourceName", A.userAssignedIdentity]),
  [AWS.cluster]: named(["name", NAME_RULES.aws.eksCluster]),
  [AWS.nodeGroup]: named(["nodeGroupName", NAME_RULES.aws.nodeGroup]),
  [AWS.iamRole]: named(["name", NAME_RULES.aws.iamRole]),
  [AWS.securityGroup]: named(["name", NAME_RULES.aws.securityGroup]),
  [AWS.launchTemplate]: named(["name", NAME_RULES.aws.launchTemplate]),
  [AWS.logGroup]: named(["name", NAME_RULES.aws.logGroup]),
  [GCP.network]: named(["name", NAME_RULES.gcp.network]),
  [GCP.subnetwork]: named(["name", NAME_RULES.gcp.subnetwork]),
  [GCP.cluster]: named(["name", NAME_RULES.gcp.gkeCluster]),
  [GCP.nodePool]: named(["name", NAME_RULES.gcp.nodePool]),
  [GCP.serviceAccount]: named(["accountId", NAME_RULES.gcp.serviceAccount]),
  [GCP.firewall]: named(["name", NAME_RULES.gcp.firewall]),
  [GCP.router]: named(["name", NAME_RULES.gcp.router]),
  [GCP.routerNat]: named(["name", NAME_RULES.gcp.routerNat]),
  [GCP.address]: named(["name", NAME_RULES.gcp.address]),
  [GCP.dnsZone]: named(["name", NAME_RULES.gcp.dnsManagedZone]),
  [GCP.keyRing]: named(["name", NAME_RULES.gcp.kmsKeyRing]),
  [GCP.cryptoKey]: named(["name", NAME_RULES.gcp.kmsCryptoKey]),
  [GCP.customRole]: named(["roleId", NAME_RULES.gcp.customRoleId]),
};

export const namesWithinCloudRules = resourceRule<NamedView>({
  name: "names-within-cloud-rules",
  description:
    "Physical names follow the cloud's rules (length and characters, cells/plan/naming.ts NAME_RULES), so a deployment does not fail half-way on a rejected name. Fix: shorten or rename as the message says (names come from providers/<cloud>/names.ts).",
  enforcementLevel: "mandatory",
  views: NAME_VIEWS,
  check: (v, { subject }) =>
    v.names.flatMap(({ value, rule, field }) => {
      const problem = nameProblem(value, rule);
      return problem ? [violation(subject.name, `${field} ${problem}`, `choose a ${field} within the rule (providers/<cloud>/names.ts builds them)`)] : [];
    }),
});

// ---------------------------------------------------------------------------
// Protection

/** Resources whose deletion is an outage or data loss, with why. */
const PROTECTED: Readonly<Record<string, string>> = {
  [AZURE.cluster]: "a cluster",
  [AWS.cluster]: "a cluster",
  [GCP.cluster]: "a cluster",
  [AZURE.vnet]: "a cell network",
  [AWS.vpc]: "a cell network",
  [GCP.network]: "a cell network",
  [AZURE.resourceGroup]: "a resource group (deleting it deletes everything in it)",
  [AZURE.storageAccount]: "storage",
  [AZURE.blobContainer]: "a tenant's data container",
  [AWS.bucket]: "storage",
  [AWS.bucketV2]: "storage",
  [GCP.bucket]: "storage",
  [AZURE.dnsZone]: "a DNS zone (its name servers are delegated to)",
  [AWS.dnsZone]: "a DNS zone (its name servers are delegated to)",
  [GCP.dnsZone]: "a DNS zone (its name servers are delegated to)",
  [AZURE.logWorkspace]: "the cell's audit log store",
  [AZURE.keyVault]: "a key vault (its keys encrypt cluster secrets)",
  [AZURE.vaultKey]: "a key that encrypts cluster secrets (losing it loses them)",
  [AWS.kmsKey]: "a key that encrypts cluster secrets (losing it loses them)",
  [GCP.keyRing]: "a key ring (it cannot be deleted; its keys encrypt cluster secrets)",
  [GCP.cryptoKey]: "a key that encrypts cluster secrets (losing it loses them)",
  [AZURE.publicIp]: "an egress IP customers allow-list",
  [AWS.eip]: "an egress IP customers allow-list",
  [GCP.address]: "an egress IP customers allow-list",
};

const PROTECT_VIEWS: ViewTable<string> = Object.fromEntries(Object.entries(PROTECTED).map(([type, what]) => [type, () => what]));

export const statefulResourcesProtected = resourceRule<string>({
  name: "stateful-resources-protected",
  description:
    "Clusters, VNETs/VPCs, resource groups, storage, DNS zones, audit log stores, encryption keys and egress IPs are protected, so no preview, refactor or rename can delete them. Fix: create them with protect: true (cellplane:protect, default true); unprotect deliberately before retiring a cell.",
  enforcementLevel: "mandatory",
  views: PROTECT_VIEWS,
  check: (what, { subject, opts }) =>
    opts.protect ? [] : [violation(subject.name, `${what} is not protected, so a preview that drops or renames it would delete it`, "create it with protect: true (cellplane:protect)")],
});

export const HYGIENE_POLICIES = [requiredTags, namesWithinCloudRules, statefulResourcesProtected];
