import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import { ingressAllowListFor } from "../../cells/config";
import { azurePoolLayout, azureSettings } from "../../cells/plan/clouds/azure";
import { subnetKey } from "../../cells/plan/ipplan";
import { ROLES, Role } from "../../cells/plan/model";
import { CellContext } from "../types";
import { azureNames } from "./names";
import { nsgRulesFor } from "./nsgRules";

/** Resource group of a cell: the cell is the lifecycle unit, nothing is shared with its neighbours. */
export function buildResourceGroup(ctx: CellContext, parent: pulumi.Resource): resources.ResourceGroup {
  const id = ctx.cell.id;
  return new resources.ResourceGroup(
    `${id}-rg`,
    {
      resourceGroupName: azureNames.resourceGroup(ctx.region.region, id),
      location: ctx.region.region,
      tags: ctx.tags,
    },
    { parent, protect: ctx.region.protect },
  );
}

/**
 * What the cell's network hands its clusters, DNS zone and identities. Private to
 * the Azure build face: other clouds hand theirs something else.
 */
export interface AzureNetwork {
  /** The cell's resource group: every resource of the cell lives in it. */
  resourceGroupName: pulumi.Output<string>;
  vnetId: pulumi.Output<string>;
  /** Subnet ids keyed "role/zone/kind" (subnetKey in cells/plan/ipplan.ts). */
  subnetIds: Record<string, pulumi.Output<string>>;
  /** NAT public IP per zone. */
  natPublicIps: Record<string, pulumi.Output<string>>;
  /** NAT public IP prefix per zone (CIDR): the other egress addresses of the zone. */
  natPublicIpPrefixes: Record<string, pulumi.Output<string>>;
  /**
   * What a cluster's creation waits for beyond what its inputs reference: its role's
   * first-zone subnets with their NAT attached (the inline system pool's). Each agent
   * pool references its own zone's subnets, so it waits for them through its inputs.
   */
  readyForClusters: Record<Role, pulumi.Resource[]>;
}

/**
 * The cell's VNET, per-zone NAT gateways, per-role NSGs and the (role, zone) node
 * and pod subnets of the IP plan.
 *
 * Why one NAT gateway per zone, on node AND pod subnets: a NAT gateway is zonal and
 * a subnet takes one, so a zone's subnets must be its own (seed 003). Pods egress
 * from their own VNET IPs (no overlay), so pod subnets need the NAT as much as nodes.
 */
export function buildAzureNetwork(ctx: CellContext, rg: resources.ResourceGroup, parent: pulumi.Resource): AzureNetwork {
  const { cell, plan, region } = ctx;
  const id = cell.id;
  const o = { parent };
  const location = region.region;
  const resourceGroupName = rg.name;

  const vnet = new network.VirtualNetwork(
    `${id}-vnet`,
    {
      resourceGroupName,
      location,
      virtualNetworkName: azureNames.virtualNetwork(id),
      addressSpace: { addressPrefixes: [plan.cidr] },
      tags: ctx.tags,
    },
    // Subnets are separate resources; the VNET must not claim them, or every update would fight over them.
    { ...o, protect: region.protect, ignoreChanges: ["subnets"] },
  );

  const natPublicIps: Record<string, pulumi.Output<string>> = {};
  const natPublicIpPrefixes: Record<string, pulumi.Output<string>> = {};
  const nats: Record<string, network.NatGateway> = {};
  for (const zone of plan.zones) {
    const ip = new network.PublicIPAddress(
      `${id}-z${zone}-nat-ip`,
      {
        resourceGroupName,
        location,
        publicIpAddressName: azureNames.natPublicIp(id, zone),
        sku: { name: "Standard", tier: "Regional" },
        publicIPAllocationMethod: "Static",
        publicIPAddressVersion: "IPv4",
        zones: [zone],
        tags: ctx.tags,
      },
      // Customers allow-list these egress addresses: losing one is an outage for them.
      { ...o, protect: region.protect },
    );
    // Allow-listable egress that can grow: SNAT capacity is added inside this prefix,
    // so what customers allow-list never changes. Source: learn.microsoft.com, "Azure
    // NAT Gateway: public IP prefixes" (up to 16 addresses per NAT gateway).
    const prefix = new network.PublicIPPrefix(
      `${id}-z${zone}-nat-prefix`,
      {
        resourceGroupName,
        location,
        publicIpPrefixName: azureNames.natPublicIpPrefix(id, zone),
        sku: { name: "Standard", tier: "Regional" },
        prefixLength: azureSettings(region).natIpPrefixLength,
        publicIPAddressVersion: "IPv4",
        zones: [zone],
        tags: ctx.tags,
      },
      { ...o, protect: region.protect },
    );
    natPublicIpPrefixes[zone] = prefix.ipPrefix;
    nats[zone] = new network.NatGateway(
      `${id}-z${zone}-nat`,
      {
        resourceGroupName,
        location,
        natGatewayName: azureNames.natGateway(id, zone),
        sku: { name: "Standard" },
        zones: [zone],
        publicIpAddresses: [{ id: ip.id }],
        publicIpPrefixes: [{ id: prefix.id }],
        idleTimeoutInMinutes: 4,
        tags: ctx.tags,
      },
      o,
    );
    natPublicIps[zone] = ip.ipAddress.apply((a) => a ?? "");
  }

  const nsgs = {} as Record<Role, network.NetworkSecurityGroup>;
  for (const role of ROLES) {
    nsgs[role] = new network.NetworkSecurityGroup(
      `${id}-${role}-nsg`,
      {
        resourceGroupName,
        location,
        networkSecurityGroupName: azureNames.nsg(id, role),
        securityRules: nsgRulesFor(role, plan, ingressAllowListFor(region.platform, role)),
        tags: { ...ctx.tags, role },
      },
      o,
    );
  }

  const subnetIds: Record<string, pulumi.Output<string>> = {};
  const readyForClusters = Object.fromEntries(ROLES.map((r) => [r, [] as pulumi.Resource[]])) as Record<Role, pulumi.Resource[]>;
  // Why the chain: Azure rejects concurrent writes to subnets of one VNET
  // (AnotherOperationInProgress), so a cell's subnets are written one at a time; cells
  // stay parallel. Why zone-major order: a cluster's creation uses only its first zone's
  // subnets (the inline system pool); the other zones' subnets are needed by the agent
  // pools, which start at least a cluster creation (minutes) later. So every role's
  // first-zone subnets come first and no cluster waits for the other zones' subnets or
  // for other roles' later subnets (issue 16: the data-plane cluster waited 180 s on a
  // role-major chain). Only dependencies change: the subnets' names and URNs do not.
  // A cell whose pools come with its clusters (not in cellplane:azure.separatePools) is the
  // other way round: each cluster is created with every zone's subnets of its role, so the
  // chain is role-major, in ROLES order, which puts the two Istio clusters (proxy,
  // data-plane-mgmt: the longest platform after creation) first and the data-plane last.
  const roleMajor = azurePoolLayout(azureSettings(ctx.region), ctx.cell.id) === "withCluster";
  const zoneIndex = (z: string) => plan.zones.indexOf(z);
  const byZone = (a: { zone: string | null }, b: { zone: string | null }) => zoneIndex(a.zone!) - zoneIndex(b.zone!);
  const byRole = (a: { role: Role | null }, b: { role: Role | null }) => ROLES.indexOf(a.role!) - ROLES.indexOf(b.role!);
  const chain = plan.subnets
    .filter((s) => s.role !== null && s.zone !== null)
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (roleMajor ? byRole(a.s, b.s) || byZone(a.s, b.s) : byZone(a.s, b.s) || byRole(a.s, b.s)) || a.i - b.i)
    .map(({ s }) => s);
  let previous: network.Subnet | undefined;
  for (const s of chain) {
    const role = s.role!;
    const zone = s.zone!;
    const subnet: network.Subnet = new network.Subnet(
      `${id}-${role}-z${zone}-${s.kind}`,
      {
        resourceGroupName,
        virtualNetworkName: vnet.name,
        subnetName: azureNames.subnet(role, zone, s.kind),
        addressPrefix: s.cidr,
        natGateway: { id: nats[zone].id },
        networkSecurityGroup: { id: nsgs[role].id },
        // AKS delegates pod subnets when it first uses them; declaring it avoids a perpetual diff.
        delegations: s.kind === "pods" ? [{ name: "aks-pods", serviceName: "Microsoft.ContainerService/managedClusters" }] : [],
        privateEndpointNetworkPolicies: "Disabled",
        // Tenant services' storage accounts admit only their cell's data-plane subnets
        // (providers/azure/service.ts), through the Microsoft.Storage service endpoint.
        // Pods egress from their own VNET IPs, so pod subnets need it as much as nodes.
        serviceEndpoints: s.role === "data-plane" ? [{ service: "Microsoft.Storage" }] : [],
      },
      { ...o, dependsOn: previous ? [previous] : [] },
    );
    previous = subnet;
    subnetIds[subnetKey(s)] = subnet.id;
    if (zoneIndex(zone) === 0) readyForClusters[role].push(subnet);
  }

  return { resourceGroupName: rg.name, vnetId: vnet.id, subnetIds, natPublicIps, natPublicIpPrefixes, readyForClusters };
}
