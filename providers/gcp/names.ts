import { GCP_NAME_RULES } from "../../cells/plan/clouds/gcp";
import { physicalName, ROLE_CODE, stableGuid } from "../../cells/plan/naming";
import { Role } from "../../cells/plan/model";

/*
 * Physical GCP names of a cell's resources, within GCP's rules (tested, and judged
 * by the pack's names-within-cloud-rules). Compute names are per project, so they
 * carry the region and the cell; changing one replaces the resource: identity.
 */
const R = GCP_NAME_RULES;

/** "us-central1-a" -> "a": the zone letter, for names with tight limits. */
export const zoneLetter = (zone: string): string => zone.slice(zone.lastIndexOf("-") + 1);

export const gcpNames = {
  regionDnsZone: (region: string) => physicalName(["cellplane", region, "zone"], R.dnsManagedZone),
  cellDnsZone: (region: string, cell: string) => physicalName(["cellplane", region, cell], R.dnsManagedZone),
  /** The project-level custom role that lets external-dns list managed zones; one per region stack. */
  dnsListerRole: (region: string) => physicalName(["cellplane", "dns", "lister", region.replace(/-/g, "_")], R.customRoleId, "_"),
  network: (region: string, cell: string) => physicalName(["cellplane", region, cell], R.network),
  subnetwork: (region: string, cell: string, role: Role) => physicalName(["cellplane", region, cell, role], R.subnetwork),
  podRange: (role: Role, zone: string) => physicalName([ROLE_CODE[role], "pods", zone], R.secondaryRange),
  servicesRange: (role: Role) => physicalName([ROLE_CODE[role], "services"], R.secondaryRange),
  router: (region: string, cell: string) => physicalName(["cellplane", region, cell, "router"], R.router),
  nat: (region: string, cell: string) => physicalName(["cellplane", region, cell, "nat"], R.routerNat),
  natAddress: (region: string, cell: string, zone: string) => physicalName(["cellplane", region, cell, "nat", zone.slice(zone.lastIndexOf("-") + 1)], R.address),
  firewall: (region: string, cell: string, role: Role, rule: string) => physicalName(["cp", region, cell, ROLE_CODE[role], rule], R.firewall),
  cluster: (cell: string, role: Role) => physicalName(["gke", cell, role], R.gkeCluster),
  pool: (mode: "system" | "user", zone: string) => physicalName([mode, zone], R.nodePool),
  nodeServiceAccount: (cell: string, role: Role) => physicalName([cell, ROLE_CODE[role], "nodes"], R.serviceAccount),
  addonServiceAccount: (cell: string, role: Role, addon: string) => physicalName([cell, ROLE_CODE[role], addon], R.serviceAccount),
  /**
   * Key rings cannot be deleted and their names stay taken in the project: the
   * name carries a hash of stack, region and cell so a re-created cell never collides.
   */
  keyRing: (stack: string, region: string, cell: string) => physicalName(["cellplane", cell, stableGuid(`${stack}/${region}/${cell}`).slice(0, 8)], R.kmsKeyRing),
  cryptoKey: () => physicalName(["gke", "secrets"], R.kmsCryptoKey),
};
