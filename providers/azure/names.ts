import { AZURE_NAME_RULES } from "../../cells/plan/clouds/azure";
import { physicalName, ROLE_CODE, stableGuid } from "../../cells/plan/naming";
import { Role, SubnetKind } from "../../cells/plan/model";

/*
 * Physical Azure names of a cell's resources, within Azure's rules (tested).
 * They are deterministic so SREs find them in the portal by cell and role.
 * Changing one of these replaces the resource: treat them as identity.
 */
const R = AZURE_NAME_RULES;

export const azureNames = {
  /** The region's DNS resource group. Two words after the region, so no cell id can collide with it. */
  regionDnsResourceGroup: (region: string) => physicalName(["rg", "cellplane", region, "dns", "zone"], R.resourceGroup),
  resourceGroup: (region: string, cell: string) => physicalName(["rg", "cellplane", region, cell], R.resourceGroup),
  virtualNetwork: (cell: string) => physicalName(["vnet", cell], R.virtualNetwork),
  subnet: (role: Role, zone: string, kind: SubnetKind) => physicalName([role, `z${zone}`, kind], R.subnet),
  natGateway: (cell: string, zone: string) => physicalName(["ng", cell, `z${zone}`], R.natGateway),
  natPublicIp: (cell: string, zone: string) => physicalName(["pip", "ng", cell, `z${zone}`], R.publicIp),
  natPublicIpPrefix: (cell: string, zone: string) => physicalName(["ippre", "ng", cell, `z${zone}`], R.publicIp),
  nsg: (cell: string, role: Role) => physicalName(["nsg", cell, role], R.networkSecurityGroup),
  cluster: (cell: string, role: Role) => physicalName(["aks", cell, role], R.managedCluster),
  dnsPrefix: (region: string, cell: string, role: Role) => physicalName([cell, ROLE_CODE[role], region], R.dnsPrefix),
  clusterIdentity: (cell: string, role: Role) => physicalName(["id", "aks", cell, role], R.userAssignedIdentity),
  /** The identity cert-manager and external-dns of one cluster share to write the region zone. */
  dnsIdentity: (cell: string, role: Role) => physicalName(["id", "dns", cell, role], R.userAssignedIdentity),
  /** The cell's Log Analytics workspace: its clusters' control-plane audit logs. */
  logWorkspace: (region: string, cell: string) => physicalName(["log", "cellplane", region, cell], R.logAnalyticsWorkspace),
  /**
   * The cell's Key Vault. Vault names are global and stay reserved for the purge
   * protection period after deletion, so the name carries a hash of stack, region and cell.
   */
  keyVault: (stack: string, region: string, cell: string) => physicalName(["kv", cell, stableGuid(`${stack}/${region}/${cell}`).slice(0, 8)], R.keyVault),
  /** "sys1": the first zone's system pool, inline in the cluster; its name never changes. */
  pool: (mode: "system" | "user", zone: string) => physicalName([mode === "system" ? "sys" : "user", zone], R.agentPool, ""),
  /**
   * "sys2a1b2c3", "user1d4e5f6": an AgentPool's name carries the zone and a hash of
   * the fields AKS cannot change in place (vmSize, maxPods). A change to one of them
   * gives the pool a new name, so Pulumi creates the new pool before it deletes the
   * old one (deleteBeforeReplace stays false) and the zone keeps its capacity.
   * Within 12 lowercase letters and digits. Source: learn.microsoft.com, "Create
   * node pools in AKS" (name rules) and the AgentPool API (vmSize, maxPods immutable).
   */
  agentPool: (mode: "system" | "user", zone: string, immutable: { vmSize: string; maxPods: number }) =>
    physicalName([mode === "system" ? "sys" : "user", zone, stableGuid(`${immutable.vmSize.toLowerCase()}/${immutable.maxPods}`).replace(/-/g, "").slice(0, 6)], R.agentPool, ""),
};
