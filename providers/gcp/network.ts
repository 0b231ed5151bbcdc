import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { ingressAllowListFor } from "../../cells/config";
import { gcpControlPlaneRange, gcpServiceRange, gcpSettings } from "../../cells/plan/clouds/gcp";
import { subnetKey } from "../../cells/plan/ipplan";
import { ROLES, Role } from "../../cells/plan/model";
import { CellContext } from "../types";
import { firewallRulesFor } from "./firewallRules";
import { gcpNames } from "./names";

/**
 * What the cell's network hands its clusters. Private to the GCP build face.
 */
export interface GcpNetwork {
  project: string;
  networkId: pulumi.Output<string>;
  networkSelfLink: pulumi.Output<string>;
  /** The role's regional subnetwork (self-link) and its secondary range names. */
  subnetworks: Record<Role, { selfLink: pulumi.Output<string>; podRanges: Record<string, string>; servicesRange: string }>;
  /** Subnet ids keyed "role/zone/kind" (subnetKey): the node subnetwork, and per zone the subnetwork holding that zone's pod range. */
  subnetIds: Record<string, pulumi.Output<string>>;
  natPublicIps: Record<string, pulumi.Output<string>>;
  /** The role's node service account: firewall target, and what the role's nodes run as. */
  nodeServiceAccounts: Record<Role, gcp.serviceaccount.Account>;
  /** The role's control-plane /28 (privateClusterConfig.masterIpv4CidrBlock). */
  controlPlaneCidrs: Record<Role, string>;
  /** What the role's node pools wait for: the NAT and the firewall rules, so nodes boot with egress and isolation. */
  readyForPools: Record<Role, pulumi.Resource[]>;
}

/**
 * The cell's custom-mode VPC, one regional subnetwork per role (nodes on the
 * primary range, a secondary range per zone for that zone's pods, one for
 * services), a Cloud Router with one Cloud NAT on reserved static addresses, the
 * node service accounts and the isolation firewall rules.
 *
 * Why one NAT and not one per zone: Cloud NAT is a regional, software-defined
 * service (no gateway VM, no zonal failure unit), and a subnetwork range can be
 * served by one NAT only. "Per zone" is kept where it means something: one reserved
 * address per zone of the cell (the egress addresses customers allow-list scale
 * with the zones, as on the other clouds), and one pod range per zone.
 */
export function buildGcpNetwork(ctx: CellContext, parent: pulumi.Resource): GcpNetwork {
  const { cell, plan, region } = ctx;
  const id = cell.id;
  const o = { parent };
  const { project, controlPlaneCidr } = gcpSettings(region);
  const location = region.region;

  const network = new gcp.compute.Network(
    `${id}-network`,
    {
      project,
      name: gcpNames.network(location, id),
      autoCreateSubnetworks: false,
      routingMode: "REGIONAL",
      description: `cellplane cell ${id} (${ctx.stack})`,
    },
    { ...o, protect: region.protect },
  );

  const nodeServiceAccounts = {} as Record<Role, gcp.serviceaccount.Account>;
  for (const role of ROLES) {
    nodeServiceAccounts[role] = new gcp.serviceaccount.Account(
      `${id}-${role}-node-sa`,
      { project, accountId: gcpNames.nodeServiceAccount(id, role), displayName: `GKE nodes of ${id} ${role}`, description: `cellplane ${ctx.stack} ${id} ${role}: node service account, firewall target` },
      o,
    );
    // The minimal role Google documents for node service accounts (logs, metrics,
    // image pulls). It exists only at project level; the pack accepts exactly it.
    new gcp.projects.IAMMember(
      `${id}-${role}-node-sa-default-role`,
      { project, role: "roles/container.defaultNodeServiceAccount", member: nodeServiceAccounts[role].member },
      o,
    );
  }

  const subnetworks = {} as GcpNetwork["subnetworks"];
  const subnetIds: Record<string, pulumi.Output<string>> = {};
  const subnetworkResources: gcp.compute.Subnetwork[] = [];
  for (const role of ROLES) {
    const nodes = plan.subnets.find((s) => s.role === role && s.kind === "nodes");
    if (!nodes) throw new Error(`cellplane: the IP plan of ${id} has no node range for ${role}`);
    const pods = plan.subnets.filter((s) => s.role === role && s.kind === "pods");
    const podRanges = Object.fromEntries(pods.map((p) => [p.zone!, gcpNames.podRange(role, p.zone!)]));
    const servicesRange = gcpNames.servicesRange(role);
    const subnetwork = new gcp.compute.Subnetwork(
      `${id}-${role}-subnetwork`,
      {
        project,
        region: location,
        name: gcpNames.subnetwork(location, id, role),
        network: network.selfLink,
        ipCidrRange: nodes.cidr,
        secondaryIpRanges: [
          ...pods.map((p) => ({ rangeName: podRanges[p.zone!], ipCidrRange: p.cidr })),
          { rangeName: servicesRange, ipCidrRange: gcpServiceRange(plan.serviceCidr, role) },
        ],
        // GKE turns it on for private nodes; declaring it keeps `up` from turning it off.
        privateIpGoogleAccess: true,
        stackType: "IPV4_ONLY",
        logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 0.5, metadata: "INCLUDE_ALL_METADATA" },
      },
      o,
    );
    subnetworkResources.push(subnetwork);
    subnetworks[role] = { selfLink: subnetwork.selfLink, podRanges, servicesRange };
    subnetIds[subnetKey(nodes)] = subnetwork.id;
    for (const p of pods) subnetIds[subnetKey(p)] = subnetwork.id;
  }

  const router = new gcp.compute.Router(`${id}-router`, { project, region: location, name: gcpNames.router(location, id), network: network.selfLink }, o);
  const natPublicIps: Record<string, pulumi.Output<string>> = {};
  const addresses = plan.zones.map((zone) => {
    const address = new gcp.compute.Address(
      `${id}-${zone}-nat-ip`,
      { project, region: location, name: gcpNames.natAddress(location, id, zone), addressType: "EXTERNAL", networkTier: "PREMIUM", labels: { ...ctx.tags, zone } },
      // Customers allow-list these egress addresses: losing one is an outage for them.
      { ...o, protect: region.protect },
    );
    natPublicIps[zone] = address.address;
    return address;
  });
  const nat = new gcp.compute.RouterNat(
    `${id}-nat`,
    {
      project,
      region: location,
      name: gcpNames.nat(location, id),
      router: router.name,
      natIpAllocateOption: "MANUAL_ONLY",
      natIps: addresses.map((a) => a.selfLink),
      // Every range of every cluster subnetwork: nodes and each zone's pods.
      sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS",
      subnetworks: subnetworkResources.map((s) => ({ name: s.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] })),
      // Manual addresses are finite: ports are handed out as VMs need them.
      enableDynamicPortAllocation: true,
      enableEndpointIndependentMapping: false,
      minPortsPerVm: 64,
      maxPortsPerVm: 16384,
      logConfig: { enable: true, filter: "ERRORS_ONLY" },
    },
    o,
  );

  const controlPlaneCidrs = Object.fromEntries(ROLES.map((r) => [r, gcpControlPlaneRange(controlPlaneCidr, r)])) as Record<Role, string>;
  const readyForPools = Object.fromEntries(ROLES.map((r) => [r, [nat] as pulumi.Resource[]])) as Record<Role, pulumi.Resource[]>;
  for (const role of ROLES) {
    for (const rule of firewallRulesFor(role, plan, ingressAllowListFor(region.platform, role), controlPlaneCidrs[role])) {
      const allowOrDeny = [{ protocol: rule.protocol, ports: rule.ports }];
      const fw = new gcp.compute.Firewall(
        `${id}-${role}-fw-${rule.key}`,
        {
          project,
          name: gcpNames.firewall(location, id, role, rule.key),
          network: network.selfLink,
          direction: "INGRESS",
          priority: rule.priority,
          ...(rule.action === "allow" ? { allows: allowOrDeny } : { denies: allowOrDeny }),
          sourceRanges: rule.sourceRanges,
          sourceServiceAccounts: rule.sourceRoles.map((r) => nodeServiceAccounts[r].email),
          targetServiceAccounts: [nodeServiceAccounts[role].email],
          logConfig: { metadata: "INCLUDE_ALL_METADATA" },
          description: rule.description,
        },
        o,
      );
      if (rule.action === "allow") readyForPools[role].push(fw);
    }
  }

  return { project, networkId: network.id, networkSelfLink: network.selfLink, subnetworks, subnetIds, natPublicIps, nodeServiceAccounts, controlPlaneCidrs, readyForPools };
}
