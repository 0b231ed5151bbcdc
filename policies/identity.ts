import { resourceRule, stackRule, violation } from "./lib/policy";
import { at, oneOrMany, Props, record, records, str, strings } from "./lib/props";
import { AWS, AZURE, GCP } from "./lib/types";
import { ViewTable } from "./lib/policy";

/*
 * Identity: workload identity instead of static keys, and grants scoped to the
 * resource an add-on needs (the DNS zone, the cell's VNET), never a whole
 * subscription, resource group or project, and never "*" actions.
 */

// ---------------------------------------------------------------------------
// Static keys

interface StaticKeyView {
  /** What static credential the resource creates or allows, or null when none. */
  key: string | null;
  fix: string;
}

const STATIC_KEY_VIEWS: ViewTable<StaticKeyView> = {
  [AWS.accessKey]: () => ({ key: "an IAM access key", fix: "delete it; give the workload an IAM role through IRSA or EKS Pod Identity" }),
  [GCP.serviceAccountKey]: () => ({ key: "a service account key", fix: "delete it; bind the Kubernetes service account through GKE workload identity" }),
  [AZURE.storageAccount]: ({ props }) => ({
    key: props.allowSharedKeyAccess === false ? null : "storage account shared-key access (account keys and SAS)",
    fix: "set allowSharedKeyAccess: false and grant workload identities a data-plane role on the account",
  }),
};

export const noStaticKeys = resourceRule<StaticKeyView>({
  name: "no-static-keys",
  description:
    "No static credentials: no IAM access keys, no service account keys, no storage shared-key access. Workloads authenticate with workload identity (federated credentials). Fix: remove the key and federate the workload's service account.",
  enforcementLevel: "mandatory",
  views: STATIC_KEY_VIEWS,
  check: (v, { subject }) => (v.key ? [violation(subject.name, `creates or allows ${v.key}`, v.fix)] : []),
});

// ---------------------------------------------------------------------------
// Grants

interface GrantView {
  /** Why the grant's scope is too wide, or null when it is one resource. */
  wideScope: string | null;
  /** Why the granted permissions are too wide ("*" actions, an admin role), or null. */
  wideActions: string | null;
  fix: string;
}

/** Built-in Azure roles that grant everything, or the right to grant everything. */
const AZURE_BROAD_ROLES: Record<string, string> = {
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
  "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
};

/** Why an ARM scope is wider than one resource, or null. */
export function azureScopeProblem(scope: string | undefined): string | null {
  if (scope === undefined) return "the scope is unset";
  const s = scope.replace(/\/+$/, "");
  if (s === "" || s === "/") return "the scope is the whole tenant";
  if (/^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+$/i.test(s)) return `the scope ${s} is a whole management group`;
  if (/^\/subscriptions\/[^/]+$/i.test(s)) return `the scope ${s} is a whole subscription`;
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(s)) return `the scope ${s} is a whole resource group`;
  return null;
}

/** AWS IAM documents arrive as JSON strings or objects; their Action/Resource may be one string or a list. */
function wildcardStatements(doc: unknown): string | null {
  let parsed: unknown = doc;
  if (typeof doc === "string") {
    try {
      parsed = JSON.parse(doc);
    } catch {
      return null;
    }
  }
  const statements = [record(at(parsed, "Statement")), ...records(at(parsed, "Statement"))].filter((s): s is Props => s !== undefined);
  for (const st of statements) {
    if (st.Effect !== "Allow") continue;
    const actions = oneOrMany(st.Action);
    if (actions.includes("*")) return `a statement allows Action "*"${oneOrMany(st.Resource).includes("*") ? ' on Resource "*"' : ""}`;
  }
  return null;
}

const AWS_ADMIN_POLICY = /:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$/;
const GCP_BROAD_ROLES = new Set(["roles/owner", "roles/editor"]);

/**
 * GCP grants that exist only at project level and that the pack accepts there:
 * the minimal role Google documents for GKE node service accounts, and a custom
 * role of the project (projects/<p>/roles/<id>), whose permissions the stack rule
 * gcp-project-custom-roles-list-only holds to exactly GCP_LIST_ONLY_PERMISSIONS.
 */
const GCP_PROJECT_ONLY_ROLES = new Set(["roles/container.defaultNodeServiceAccount"]);
const GCP_CUSTOM_ROLE = /^projects\/[^/]+\/roles\/[^/]+$/;
/** external-dns lists zones before filtering them; zone-level IAM cannot grant it (cloud-facts, "DNS rights"). */
export const GCP_LIST_ONLY_PERMISSIONS: readonly string[] = ["dns.managedZones.list"];

/** Why a project-level GCP grant is too wide, or null when it is one the pack accepts there. */
function gcpProjectGrantScope(p: Props): string | null {
  const role = str(p.role) ?? "";
  if (GCP_PROJECT_ONLY_ROLES.has(role) || GCP_CUSTOM_ROLE.test(role)) return null;
  return `the grant of ${role || "roles"} covers the whole project ${str(p.project) ?? ""}`.trim();
}

/**
 * Read-only actions an Azure custom role may grant on a whole resource group:
 * external-dns lists the zones of its group before it writes its own (Reader would
 * read every resource of the group). azure-group-roles-read-only holds custom roles
 * granted at a group to these.
 */
export const AZURE_GROUP_READ_ACTIONS: readonly string[] = ["Microsoft.Network/dnszones/read"];

/** Whether an assignment names a custom role defined at its own scope (`<scope>/providers/Microsoft.Authorization/roleDefinitions/<guid>`). */
function azureOwnScopeCustomRole(p: Props): boolean {
  const scope = str(p.scope)?.replace(/\/+$/, "").toLowerCase();
  return scope !== undefined && (str(p.roleDefinitionId) ?? "").toLowerCase().startsWith(`${scope}/providers/microsoft.authorization/roledefinitions/`);
}

/** Why an Azure assignment's scope is too wide; a group-scoped custom role of that group is judged by azure-group-roles-read-only. */
function azureGrantScope(p: Props): string | null {
  const problem = azureScopeProblem(str(p.scope));
  return problem && /is a whole resource group$/.test(problem) && azureOwnScopeCustomRole(p) ? null : problem;
}

const GRANT_VIEWS: ViewTable<GrantView> = {
  [AZURE.roleAssignment]: ({ props: p }) => {
    const role = str(p.roleDefinitionId)?.split("/").pop()?.toLowerCase();
    const broad = role ? AZURE_BROAD_ROLES[role] : undefined;
    return {
      wideScope: azureGrantScope(p),
      wideActions: broad ? `it grants the built-in role ${broad}` : null,
      fix: "scope the assignment to the one resource the identity needs (the DNS zone, the cell's VNET) with the narrowest built-in role",
    };
  },
  [AZURE.roleDefinition]: ({ props: p }) => ({
    wideScope: null,
    wideActions: records(p.permissions).some((perm) => strings(perm.actions).includes("*") || strings(perm.dataActions).includes("*")) ? 'its permissions include "*" actions' : null,
    fix: "list the actions the identity needs instead of *",
  }),
  [AWS.iamPolicy]: ({ props: p }) => ({ wideScope: null, wideActions: wildcardStatements(p.policy), fix: 'list the actions and the resource ARNs the role needs instead of "*"' }),
  [AWS.rolePolicy]: ({ props: p }) => ({ wideScope: null, wideActions: wildcardStatements(p.policy), fix: 'list the actions and the resource ARNs the role needs instead of "*"' }),
  [AWS.rolePolicyAttachment]: ({ props: p }) => ({
    wideScope: null,
    wideActions: AWS_ADMIN_POLICY.test(str(p.policyArn) ?? "") ? `it attaches ${str(p.policyArn)}` : null,
    fix: "attach a policy scoped to the resources the role needs (e.g. the region's hosted zone)",
  }),
  ...Object.fromEntries(
    [GCP.projectIamMember, GCP.projectIamBinding, GCP.projectIamPolicy].map((t) => [
      t,
      ({ props: p }: { props: Props }) => ({
        wideScope: gcpProjectGrantScope(p),
        wideActions: GCP_BROAD_ROLES.has(str(p.role) ?? "") ? `it grants the basic role ${str(p.role)}` : null,
        fix: "grant the role on the one resource the service account needs (e.g. a DNS managed zone IAM member)",
      }),
    ]),
  ),
  [GCP.customRole]: ({ props: p }) => {
    const perms = strings(p.permissions);
    const listOnly = perms.length === GCP_LIST_ONLY_PERMISSIONS.length && perms.every((x) => GCP_LIST_ONLY_PERMISSIONS.includes(x));
    return {
      wideScope: null,
      wideActions: listOnly ? null : `a custom role is granted at project level, and this one holds ${perms.join(", ") || "no permissions"} instead of exactly ${GCP_LIST_ONLY_PERMISSIONS.join(", ")}`,
      fix: "grant anything beyond listing zones on the resource itself (DnsManagedZoneIamMember); keep the custom role list-only",
    };
  },
};

export const leastPrivilegeGrants = resourceRule<GrantView>({
  name: "least-privilege-grants",
  description:
    "Role assignments and IAM grants of add-on and cluster identities are scoped to one resource (never a subscription, resource group, management group or project) and grant no \"*\" actions or admin roles. Fix: scope the grant to the resource the identity needs, with the narrowest role.",
  enforcementLevel: "mandatory",
  views: GRANT_VIEWS,
  check: (v, { subject }) => [v.wideScope, v.wideActions].filter((p): p is string => p !== null).map((p) => violation(subject.name, p, v.fix)),
});

/**
 * GCP: a project-level grant of a custom role is accepted by least-privilege-grants
 * only because the role is list-only; that needs the role itself, which a resource
 * rule cannot see. A grant of a custom role the stack does not define (or defines
 * with more permissions) is a violation.
 */
export const gcpProjectCustomRolesListOnly = stackRule({
  name: "gcp-project-custom-roles-list-only",
  description:
    "A project-level grant of a GCP custom role names a role the stack defines with exactly dns.managedZones.list (what external-dns needs and zone-level IAM cannot give). Fix: grant the list-only role of the region stack, and everything else on the managed zone itself.",
  enforcementLevel: "mandatory",
  appliesTo: [GCP.projectIamMember, GCP.projectIamBinding, GCP.customRole],
  check(index, { report }) {
    const listOnly = new Map<string, boolean>();
    for (const r of index.ofType(GCP.customRole)) {
      const perms = strings(r.props.permissions);
      const ok = perms.length === GCP_LIST_ONLY_PERMISSIONS.length && perms.every((x) => GCP_LIST_ONLY_PERMISSIONS.includes(x));
      for (const name of [str(r.props.name), str(r.props.id), `projects/${str(r.props.project) ?? ""}/roles/${str(r.props.roleId) ?? ""}`]) if (name) listOnly.set(name, ok);
    }
    for (const g of index.ofType(GCP.projectIamMember, GCP.projectIamBinding)) {
      const role = str(g.props.role) ?? "";
      if (!GCP_CUSTOM_ROLE.test(role)) continue;
      const ok = listOnly.get(role);
      if (ok === true) continue;
      report(
        g.urn,
        violation(g.name, ok === undefined ? `grants the custom role ${role} at project level, which this stack does not define, so its permissions are unknown` : `grants the custom role ${role} at project level, and it holds more than ${GCP_LIST_ONLY_PERMISSIONS.join(", ")}`, "grant the region's list-only role, and DNS admin on the cell's managed zone only"),
      );
    }
  },
});

/**
 * Azure: a grant on a whole resource group is accepted by least-privilege-grants
 * only for a custom role defined at that group; this rule holds such a role to
 * read-only actions (AZURE_GROUP_READ_ACTIONS). A role the stack does not define,
 * or one with more actions or any data action, is a violation.
 */
export const azureGroupRolesReadOnly = stackRule({
  name: "azure-group-roles-read-only",
  description:
    "An Azure role assignment on a whole resource group names a custom role the stack defines at that group with read-only actions (Microsoft.Network/dnszones/read: external-dns lists its group's zones before writing its own). Fix: grant writes on the one resource (DNS Zone Contributor on the cell's zone), and only the list-only role on the group.",
  enforcementLevel: "mandatory",
  appliesTo: [AZURE.roleAssignment, AZURE.roleDefinition],
  check(index, { report }) {
    const readOnly = new Map<string, boolean>();
    for (const r of index.ofType(AZURE.roleDefinition)) {
      const perms = records(r.props.permissions);
      const actions = perms.flatMap((perm) => strings(perm.actions));
      const ok = actions.length > 0 && actions.every((a) => AZURE_GROUP_READ_ACTIONS.includes(a)) && perms.every((perm) => strings(perm.dataActions).length === 0);
      const id = str(r.props.id);
      if (id) readOnly.set(id.toLowerCase(), ok);
    }
    for (const g of index.ofType(AZURE.roleAssignment)) {
      if (!/is a whole resource group$/.test(azureScopeProblem(str(g.props.scope)) ?? "") || !azureOwnScopeCustomRole(g.props)) continue;
      const role = str(g.props.roleDefinitionId) ?? "";
      const ok = readOnly.get(role.toLowerCase());
      if (ok === true) continue;
      report(
        g.urn,
        violation(
          g.name,
          ok === undefined ? `grants the custom role ${role} on a whole resource group, and this stack does not define it, so its actions are unknown` : `grants the custom role ${role} on a whole resource group, and it holds more than ${AZURE_GROUP_READ_ACTIONS.join(", ")}`,
          "grant writes on the one resource the identity needs; on a group, only the list-only custom role",
        ),
      );
    }
  },
});

export const IDENTITY_POLICIES = [noStaticKeys, leastPrivilegeGrants, gcpProjectCustomRolesListOnly, azureGroupRolesReadOnly];
