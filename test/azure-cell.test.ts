import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { IPv4, IPv4CidrRange } from "ip-num";
import { program } from "../cells/program";
import { validateConfig } from "../cells/config";
import { FLOWS, INGRESS } from "../cells/plan/isolation";
import { NAME_RULES } from "../cells/plan/clouds";
import { nameProblem } from "../cells/plan/naming";
import { ROLES, Role } from "../cells/plan/model";
import { azureLoadBalancedIngressAdmits, azureNsgAdmits } from "../policies/lib/reachability";
import { azureNsgRules } from "../policies/views/network";
import { mockGuid } from "../offline/mocks";
import { MOCK_SUBSCRIPTION } from "../providers/azure/mocks";
import { Registration, runProgram, RunResult, unwrapSecrets } from "../offline/run";
import { loadStackFile } from "../offline/stackfile";
import { exampleRaw, expectAddedCellTouchesNothingElse, flatFromRaw, sharedRun } from "./helpers";

const of = (run: RunResult, type: string) => run.registrations.filter((r) => r.type === `azure-native:${type}`);
const cellOf = (r: Registration) => r.name.split("-")[0];
/** The address the (mocked) cloud gave a public IP. */
const ipOf = (r: Registration): string => r.computed?.ipAddress;
const byUrn = (run: RunResult) => new Map(run.registrations.map((r) => [r.urn, r]));
const byId = (run: RunResult) => new Map(run.registrations.filter((r) => r.id).map((r) => [r.id!, r]));

describe("Azure cell under strict mocks (prod-azure)", function () {
  this.timeout(120_000);
  let run: RunResult;
  const file = loadStackFile("prod-azure");
  const cells = ["c001", "c002", "c003"];

  before(async () => {
    // The mocked run of the example stack is shared across test files (test/helpers.ts).
    run = await sharedRun("prod-azure");
  });

  it("registers per cell 1 resource group, 1 VNET, 18 subnets, 3 zonal NAT gateways and public IPs, 3 NSGs, 3 clusters", () => {
    for (const cell of cells) {
      const count = (type: string) => of(run, type).filter((r) => cellOf(r) === cell).length;
      expect(count("resources:ResourceGroup"), cell).to.equal(1);
      expect(count("network:VirtualNetwork"), cell).to.equal(1);
      expect(count("network:Subnet"), cell).to.equal(18);
      expect(count("network:NatGateway"), cell).to.equal(3);
      expect(count("network:PublicIPAddress"), cell).to.equal(3);
      expect(count("network:NetworkSecurityGroup"), cell).to.equal(3);
      expect(count("containerservice:ManagedCluster"), cell).to.equal(3);
      // c001, c002 (cellplane:azure.separatePools): per cluster 2 more system pools and 3 user
      // pools as AgentPools (the first system pool is inline). c003: all six pools inline.
      expect(count("containerservice:AgentPool"), cell).to.equal(cell === "c003" ? 0 : 15);
      const inline = of(run, "containerservice:ManagedCluster").filter((r) => cellOf(r) === cell).map((c) => c.inputs.agentPoolProfiles.length);
      expect(inline, cell).to.deep.equal(cell === "c003" ? [6, 6, 6] : [1, 1, 1]);
      // Per cluster: the Kubernetes upgrade window and the node OS upgrade window.
      expect(count("containerservice:MaintenanceConfiguration"), cell).to.equal(6);
    }
    for (const nat of of(run, "network:NatGateway")) {
      expect(nat.inputs.sku).to.deep.equal({ name: "Standard" });
      expect(nat.inputs.zones).to.have.length(1);
    }
    for (const ip of of(run, "network:PublicIPAddress")) expect(ip.inputs.sku.name).to.equal("Standard");
    const natZones = of(run, "network:NatGateway").filter((r) => cellOf(r) === "c001").map((r) => r.inputs.zones[0]);
    expect(natZones.sort()).to.deep.equal(["1", "2", "3"]);
  });

  it("puts every subnet on the NAT gateway of its own zone, whose public IP is in that zone too", () => {
    const ids = byId(run);
    const plans = validateConfig(exampleRaw("prod-azure"));
    if (!plans.ok) throw new Error("example must validate");
    for (const subnet of of(run, "network:Subnet")) {
      const zone = /-z(\d)-(nodes|pods)$/.exec(subnet.name)![1];
      const nat = ids.get(subnet.inputs.natGateway.id)!;
      expect(nat.inputs.zones, subnet.name).to.deep.equal([zone]);
      expect(cellOf(nat)).to.equal(cellOf(subnet));
      const ip = ids.get(nat.inputs.publicIpAddresses[0].id)!;
      expect(ip.inputs.zones).to.deep.equal([zone]);
      // The subnet's CIDR is the one the IP plan gave this (role, zone, kind).
      const [, role, z, kind] = /^c\d+-(.*)-z(\d)-(nodes|pods)$/.exec(subnet.name)!;
      const planned = plans.value.plans[cellOf(subnet)].subnets.find((s) => s.role === role && s.zone === z && s.kind === kind)!;
      expect(subnet.inputs.addressPrefix, subnet.name).to.equal(planned.cidr);
    }
  });

  it("declares the Microsoft.Storage service endpoint on every data-plane subnet and no other (tenant storage admits only those)", () => {
    for (const subnet of of(run, "network:Subnet")) {
      const dataPlane = /^c\d+-data-plane-z\d-(nodes|pods)$/.test(subnet.name);
      expect(subnet.inputs.serviceEndpoints, subnet.name).to.deep.equal(dataPlane ? [{ service: "Microsoft.Storage" }] : []);
    }
  });

  it("sets the AKS network profile for managed Cilium without overlay", () => {
    for (const c of of(run, "containerservice:ManagedCluster")) {
      expect(c.inputs.networkProfile, c.name).to.deep.equal({
        networkPlugin: "azure",
        networkDataplane: "cilium",
        networkPolicy: "cilium",
        serviceCidr: "172.20.0.0/16",
        dnsServiceIP: "172.20.0.10",
        outboundType: "userAssignedNATGateway",
        loadBalancerSku: "standard",
      });
      expect(c.inputs.oidcIssuerProfile).to.deep.equal({ enabled: true });
      expect(c.inputs.securityProfile.workloadIdentity).to.deep.equal({ enabled: true });
      expect(c.inputs.disableLocalAccounts).to.equal(true);
      expect(c.inputs.aadProfile).to.deep.equal({ managed: true, enableAzureRBAC: true });
      // The operator ranges, then the cell's own NAT egress addresses (nodes reach the API from there).
      const natIps = of(run, "network:PublicIPAddress")
        .filter((p) => cellOf(p) === cellOf(c))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((p) => `${ipOf(p)}/32`);
      expect(natIps).to.have.length(3);
      const natPrefixes = run.registrations
        .filter((p) => p.type === "azure-native:network:PublicIPPrefix" && cellOf(p) === cellOf(c))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((p) => p.computed?.ipPrefix as string);
      expect(natPrefixes).to.have.length(3);
      expect(c.inputs.apiServerAccessProfile.authorizedIPRanges).to.deep.equal(["203.0.113.0/24", "198.51.100.16/28", ...natIps, ...natPrefixes]);
      expect(c.inputs.autoUpgradeProfile.upgradeChannel).to.equal("patch");
      expect(c.protect, c.name).to.equal(true);
    }
    for (const v of of(run, "network:VirtualNetwork")) expect(v.protect, v.name).to.equal(true);
  });

  it("pins every pool to one zone, on that zone's node and pod subnets", () => {
    const ids = byId(run);
    const pools = [
      ...of(run, "containerservice:AgentPool").map((p) => ({ name: p.name, ...p.inputs })),
      ...of(run, "containerservice:ManagedCluster").flatMap((c) => c.inputs.agentPoolProfiles.map((p: any) => ({ ...p, name: `${c.name}/${p.name}` }))),
    ];
    expect(pools).to.have.length(9 * 6);
    for (const p of pools) {
      expect(p.availabilityZones, p.name).to.have.length(1);
      const zone = p.availabilityZones[0];
      const nodes = ids.get(p.vnetSubnetID)!;
      const pods = ids.get(p.podSubnetID)!;
      expect(nodes.name, p.name).to.match(new RegExp(`-z${zone}-nodes$`));
      expect(pods.name, p.name).to.match(new RegExp(`-z${zone}-pods$`));
      expect(p.maxPods).to.equal(50);
    }
    const dpUser = of(run, "containerservice:AgentPool").find((p) => p.name === "c002-data-plane-user-z2")!;
    expect(dpUser.inputs).to.include({ enableAutoScaling: true, minCount: 1, maxCount: 200, mode: "User", vmSize: "Standard_E16ds_v5" });
  });

  it("creates each cluster after its VNET and key grants have propagated and after NAT is attached to the subnets it is created with (its first zone's)", () => {
    const urns = byUrn(run);
    for (const c of of(run, "containerservice:ManagedCluster")) {
      const role = c.name.replace(/^c\d+-/, "").replace(/-aks$/, "");
      const deps = c.dependencies.map((u) => urns.get(u)!).filter(Boolean);
      // The cluster waits for its grants to propagate: a Sleep after the Network
      // Contributor and Key Vault Crypto User assignments (AKS checks both at creation).
      const wait = deps.find((d) => d.type === "time:index/sleep:Sleep");
      expect(wait, c.name).to.not.equal(undefined);
      expect(wait!.inputs.createDuration).to.equal("120s");
      const grants = wait!.dependencies.map((u) => urns.get(u)!).filter((d) => d.type === "azure-native:authorization:RoleAssignment");
      expect(grants.map((g) => g.inputs.roleDefinitionId.split("/").pop()).sort()).to.deep.equal(["12338af0-0e69-4776-bea7-57ae8d297424", "4d97b98b-1d4f-4787-a291-c67834d212e7"]);
      const ra = grants.find((g) => /4d97b98b-1d4f-4787-a291-c67834d212e7$/.test(g.inputs.roleDefinitionId));
      // Scoped to the cell's VNET only.
      expect(ra!.inputs.scope).to.match(new RegExp(`/virtualNetworks/vnet-${cellOf(c)}$`));
      const subnets = deps.filter((d) => d.type === "azure-native:network:Subnet").map((d) => d.name);
      // Separate pools: the other zones' subnets are inputs of their pools (test/deploy-order.test.ts),
      // not of the cluster. Pools with the cluster (c003): every zone's, the cluster's inputs.
      const zones = cellOf(c) === "c003" ? ["1", "2", "3"] : ["1"];
      expect(subnets.sort(), c.name).to.deep.equal(zones.flatMap((z) => [`${cellOf(c)}-${role}-z${z}-nodes`, `${cellOf(c)}-${role}-z${z}-pods`]).sort());
      expect(c.inputs.agentPoolProfiles[0].vnetSubnetID).to.match(new RegExp(`/subnets/${role}-z1-nodes$`));
      // Clusters never wait on other clusters.
      expect(deps.filter((d) => d.type.endsWith("ManagedCluster"))).to.deep.equal([]);
    }
  });

  it("generates NSG rules whose reachability equals the isolation matrix", () => {
    const ids = byId(run);
    const cell = "c001";
    const subnets = of(run, "network:Subnet").filter((s) => cellOf(s) === cell);
    const vnet = [of(run, "network:VirtualNetwork").find((v) => cellOf(v) === cell)!.inputs.addressSpace.addressPrefixes[0]];
    const sample = (role: Role) => subnets.filter((s) => new RegExp(`^${cell}-${role}-z\\d-`).test(s.name)).map((s) => IPv4.fromNumber(IPv4CidrRange.fromCidr(s.inputs.addressPrefix).getFirst().getValue() + 9n).toString());
    const ports = [22, 53, 443, 8123, 8443, 9000, 9004, 9005, 9181, 9363, 9440, 10250];
    for (const to of ROLES) {
      const nsgSubnet = subnets.find((s) => new RegExp(`^${cell}-${to}-z\\d-`).test(s.name))!;
      const rules = azureNsgRules(ids.get(nsgSubnet.inputs.networkSecurityGroup.id)!.inputs.securityRules);
      for (const from of ROLES) {
        for (const port of ports) {
          const expected = from === to || FLOWS.some((f) => f.from === from && f.to === to && f.ports.includes(port));
          for (const src of sample(from)) {
            for (const dst of sample(to)) {
              const actual = azureNsgAdmits(rules, { source: src, destination: dst, protocol: "tcp", port }, vnet);
              expect(actual, `${from} ${src} -> ${to} ${dst}:${port}`).to.equal(expected);
            }
          }
        }
      }
      // From the Internet through the gateway's load balancer: floating IP keeps the
      // frontend IP as destination. Only the listed ingress ports, only from the role's
      // allow-list (customers for the proxies, the control plane for data-plane-mgmt).
      const client = to === "data-plane-mgmt" ? "198.51.100.17" : "198.18.0.1";
      for (const port of ports) {
        const expected = INGRESS.some((i) => i.role === to && i.ports.includes(port));
        expect(azureLoadBalancedIngressAdmits(rules, { source: client, frontend: "20.50.60.70", protocol: "tcp", port }, vnet), `Internet -> ${to}:${port}`).to.equal(expected);
        // A stranger never reaches the management API.
        if (to === "data-plane-mgmt") expect(azureLoadBalancedIngressAdmits(rules, { source: "198.18.0.1", frontend: "20.50.60.70", protocol: "tcp", port }, vnet), `stranger -> ${to}:${port}`).to.equal(false);
      }
    }
  });

  it("puts service tags and * only in the singular NSG fields, which Azure requires", () => {
    for (const nsg of of(run, "network:NetworkSecurityGroup")) {
      for (const r of nsg.inputs.securityRules) {
        for (const f of ["sourceAddressPrefixes", "destinationAddressPrefixes"]) {
          for (const v of r[f] ?? []) expect(v, `${nsg.name} ${r.name} ${f}`).to.match(/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/);
        }
        for (const v of r.destinationPortRanges ?? []) expect(v, `${nsg.name} ${r.name}`).to.match(/^\d+(-\d+)?$/);
        expect(r.sourceAddressPrefix === undefined, `${nsg.name} ${r.name}: one of the two source fields`).to.not.equal(r.sourceAddressPrefixes === undefined);
      }
      const lb = nsg.inputs.securityRules.find((r: any) => r.name === "allow-azure-load-balancer");
      expect(lb.sourceAddressPrefix).to.equal("AzureLoadBalancer");
      expect(lb.destinationPortRange).to.equal("*");
      expect(lb.sourceAddressPrefixes).to.equal(undefined);
      for (const ingress of nsg.inputs.securityRules.filter((r: any) => r.name.startsWith("allow-ingress-"))) {
        // Floating IP: the destination is the load balancer's frontend, never the subnets.
        expect(ingress.destinationAddressPrefix, `${nsg.name} ${ingress.name}`).to.equal("*");
        expect(ingress.priority).to.be.above(2000);
      }
    }
    const mgmt = of(run, "network:NetworkSecurityGroup").find((n) => n.name === "c001-data-plane-mgmt-nsg")!;
    const ingress = mgmt.inputs.securityRules.find((r: any) => r.name === "allow-ingress-443");
    expect(ingress.sourceAddressPrefixes).to.deep.equal(["203.0.113.0/24", "198.51.100.16/28"]);
  });

  it("names separate pools after their immutable fields, so a vmSize or maxPods change creates the new pool first", () => {
    const pools = of(run, "containerservice:AgentPool").filter((p) => cellOf(p) === "c001");
    for (const p of pools) {
      expect(p.inputs.agentPoolName, p.name).to.match(/^(sys|user)[1-3][0-9a-f]{6}$/);
      expect(p.inputs.agentPoolName.length).to.be.at.most(12);
    }
    const name = (n: string) => pools.find((p) => p.name === n)!.inputs.agentPoolName as string;
    // Same immutable fields, same hash; the data-plane's bigger VMs give another.
    expect(name("c001-proxy-user-z1").slice(5)).to.equal(name("c001-data-plane-mgmt-user-z1").slice(5));
    expect(name("c001-proxy-user-z1").slice(5)).to.not.equal(name("c001-data-plane-user-z1").slice(5));
    // The inline system pool of the first zone keeps its name (it is frozen, see README).
    for (const c of of(run, "containerservice:ManagedCluster")) expect(c.inputs.agentPoolProfiles[0].name).to.equal("sys1");
  });

  it("encrypts every pool's host disks and caches, enables the Azure Policy add-on with the pod security baseline, and keeps node OS updates in the window", () => {
    for (const p of of(run, "containerservice:AgentPool")) expect(p.inputs.enableEncryptionAtHost, p.name).to.equal(true);
    for (const c of of(run, "containerservice:ManagedCluster")) {
      expect(c.inputs.agentPoolProfiles[0].enableEncryptionAtHost, c.name).to.equal(true);
      expect(c.inputs.addonProfiles).to.deep.equal({ azurepolicy: { enabled: true } });
      const assignment = run.registrations.find((r) => r.type === "azure-native:authorization:PolicyAssignment" && r.inputs.scope === c.id)!;
      expect(assignment.inputs.policyDefinitionId).to.equal("/providers/Microsoft.Authorization/policySetDefinitions/a8640138-9b0a-4a28-b8cb-1666c838647d");
      expect(assignment.inputs.parameters.effect).to.deep.equal({ value: "deny" });
      const os = run.registrations.find((r) => r.type === "azure-native:containerservice:MaintenanceConfiguration" && r.inputs.configName === "aksManagedNodeOSUpgradeSchedule" && r.name === `${c.name.replace(/-aks$/, "")}-node-os-maintenance`)!;
      expect(os.inputs.maintenanceWindow).to.deep.include({ durationHours: 4, startTime: "08:00", utcOffset: "+00:00" });
      expect(os.inputs.maintenanceWindow.schedule).to.deep.equal({ weekly: { dayOfWeek: "Tuesday", intervalWeeks: 1 } });
    }
  });

  it("gives each zone's NAT gateway a zonal, protected public IP prefix besides its IP (allow-listable egress that can grow)", () => {
    const ids = byId(run);
    for (const nat of of(run, "network:NatGateway")) {
      const zone = nat.inputs.zones[0];
      expect(nat.inputs.publicIpPrefixes, nat.name).to.have.length(1);
      const prefix = ids.get(nat.inputs.publicIpPrefixes[0].id)!;
      expect(prefix.type).to.equal("azure-native:network:PublicIPPrefix");
      expect(prefix.inputs).to.deep.include({ prefixLength: 31, publicIPAddressVersion: "IPv4", zones: [zone] });
      expect(prefix.inputs.sku).to.deep.equal({ name: "Standard", tier: "Regional" });
      expect(prefix.protect, prefix.name).to.equal(true);
      expect(cellOf(prefix)).to.equal(cellOf(nat));
    }
  });

  it("leaves the node count of autoscaled pools to the autoscaler", () => {
    const pools = of(run, "containerservice:AgentPool");
    for (const p of pools) {
      if (p.inputs.enableAutoScaling) expect(p.ignoreChanges, p.name).to.include("count");
      else expect(p.ignoreChanges, p.name).to.not.include("count");
    }
    expect(pools.filter((p) => p.inputs.enableAutoScaling)).to.have.length(18);
    // Pools created with the cluster (c003): the user pools' counts, by position, and nothing else of them.
    for (const c of of(run, "containerservice:ManagedCluster").filter((r) => cellOf(r) === "c003")) {
      const autoscaled = c.inputs.agentPoolProfiles.flatMap((p: any, i: number) => (p.enableAutoScaling ? [`agentPoolProfiles[${i}].count`] : []));
      expect(autoscaled, c.name).to.deep.equal(["agentPoolProfiles[3].count", "agentPoolProfiles[4].count", "agentPoolProfiles[5].count"]);
      expect(c.ignoreChanges, c.name).to.deep.equal(autoscaled);
    }
    // Separate pools: the inline system pool is frozen whole.
    for (const c of of(run, "containerservice:ManagedCluster").filter((r) => cellOf(r) !== "c003")) expect(c.ignoreChanges, c.name).to.deep.equal(["agentPoolProfiles"]);
  });

  it("creates a cell's pools with its clusters unless it is listed in azure.separatePools: a system and a user pool per zone, in one request", () => {
    const ids = byId(run);
    for (const c of of(run, "containerservice:ManagedCluster").filter((r) => cellOf(r) === "c003")) {
      const role = c.name.replace(/^c003-/, "").replace(/-aks$/, "");
      const profiles = c.inputs.agentPoolProfiles as any[];
      expect(profiles.map((p) => [p.name, p.mode, p.availabilityZones])).to.deep.equal([
        ["sys1", "System", ["1"]],
        ["sys2", "System", ["2"]],
        ["sys3", "System", ["3"]],
        ["user1", "User", ["1"]],
        ["user2", "User", ["2"]],
        ["user3", "User", ["3"]],
      ]);
      for (const p of profiles) {
        const zone = p.availabilityZones[0];
        expect(ids.get(p.vnetSubnetID)!.name, `${c.name}/${p.name}`).to.equal(`c003-${role}-z${zone}-nodes`);
        expect(ids.get(p.podSubnetID)!.name, `${c.name}/${p.name}`).to.equal(`c003-${role}-z${zone}-pods`);
        expect(p.orchestratorVersion, `${c.name}/${p.name}`).to.equal(undefined);
        if (p.mode === "System") expect(p).to.deep.include({ enableAutoScaling: false, count: 1, nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"] });
        else expect(p).to.deep.include({ enableAutoScaling: true, minCount: 1, nodeTaints: [] });
      }
      const dp = role === "data-plane";
      expect(profiles[3]).to.include({ vmSize: dp ? "Standard_E16ds_v5" : "Standard_D8ds_v5", maxCount: dp ? 100 : 10 });
    }
    // Nothing of the platform waits for a pool resource of such a cell: there is none.
    const urns = byUrn(run);
    const istiod = run.registrations.find((r) => r.name === "c003-proxy-platform-istiod")!;
    expect(istiod.dependencies.map((u) => urns.get(u)?.type)).to.not.include("azure-native:containerservice:AgentPool");
    expect(run.outputs.cellFacts).to.deep.equal({ c001: { nodePools: "separate" }, c002: { nodePools: "separate" }, c003: { nodePools: "withCluster" } });
  });

  it("keeps NSG priorities unique per NSG and derived from stable slots", () => {
    for (const nsg of of(run, "network:NetworkSecurityGroup")) {
      const priorities = nsg.inputs.securityRules.map((r: any) => r.priority);
      expect(new Set(priorities).size, nsg.name).to.equal(priorities.length);
      for (const p of priorities) expect(p).to.be.within(100, 4096);
    }
    const dp = of(run, "network:NetworkSecurityGroup").find((n) => n.name === "c001-data-plane-nsg")!;
    expect(dp.inputs.securityRules.map((r: any) => [r.name, r.priority])).to.deep.equal([
      ["allow-intra-role", 100],
      ["allow-azure-load-balancer", 110],
      ["allow-proxy-to-data-plane", 1001],
      ["allow-data-plane-mgmt-to-data-plane", 1002],
      ["deny-other-roles", 2000],
    ]);
  });

  it("names resources within Azure's rules and parents every one under its cell", () => {
    const rules: Record<string, keyof typeof NAME_RULES.azure> = {
      "resources:ResourceGroup": "resourceGroup",
      "network:VirtualNetwork": "virtualNetwork",
      "network:Subnet": "subnet",
      "network:NatGateway": "natGateway",
      "network:PublicIPAddress": "publicIp",
      "network:NetworkSecurityGroup": "networkSecurityGroup",
      "containerservice:ManagedCluster": "managedCluster",
      "containerservice:AgentPool": "agentPool",
      "managedidentity:UserAssignedIdentity": "userAssignedIdentity",
      "keyvault:Vault": "keyVault",
      "operationalinsights:Workspace": "logAnalyticsWorkspace",
    };
    for (const [type, rule] of Object.entries(rules)) {
      for (const r of of(run, type)) {
        const physical = r.id!.split("/").pop()!;
        expect(nameProblem(physical, NAME_RULES.azure[rule]), `${type} ${physical}`).to.equal(null);
      }
    }
    const region = "urn:pulumi:prod-azure::cellplane::cellplane:cells:Region";
    for (const r of run.registrations.filter((x) => x.type.startsWith("azure-native:"))) {
      // The region's DNS zone and its resource group belong to the region; everything else to its cell.
      const parent = r.name.startsWith("region-") ? `${region}::region` : `${region}$cellplane:cells:Cell::${cellOf(r)}`;
      expect(r.parent, r.name).to.equal(parent);
    }
    for (const cluster of of(run, "containerservice:ManagedCluster")) {
      expect(cluster.inputs.tags).to.include({ cell: cellOf(cluster), region: "eastus2", stack: "prod-azure", owner: "platform-sre" });
      expect(cluster.inputs.tags.role).to.be.oneOf([...ROLES]);
    }
  });

  it("sends every cluster's control-plane audit logs to its own cell's protected workspace", () => {
    const workspaces = of(run, "operationalinsights:Workspace");
    expect(workspaces.map(cellOf).sort()).to.deep.equal(cells);
    for (const w of workspaces) {
      expect(w.protect, w.name).to.equal(true);
      expect(w.inputs.retentionInDays).to.equal(90);
    }
    const settings = of(run, "monitor:DiagnosticSetting");
    expect(settings).to.have.length(cells.length * ROLES.length);
    const ids = byId(run);
    for (const d of settings) {
      const cluster = ids.get(d.inputs.resourceUri)!;
      expect(cluster.type, d.name).to.equal("azure-native:containerservice:ManagedCluster");
      expect(d.name).to.equal(cluster.name.replace(/-aks$/, "-audit-logs"));
      expect(cellOf(ids.get(d.inputs.workspaceId)!)).to.equal(cellOf(cluster));
      expect(d.inputs.logs).to.deep.equal([
        { category: "kube-audit-admin", enabled: true },
        { category: "guard", enabled: true },
      ]);
    }
  });

  it("encrypts every cluster's secrets with its own cell's protected Key Vault key, which its identity may use", () => {
    const ids = byId(run);
    const vaults = of(run, "keyvault:Vault");
    expect(vaults.map(cellOf).sort()).to.deep.equal(cells);
    expect(new Set(vaults.map((v) => v.inputs.vaultName)).size).to.equal(cells.length);
    for (const v of vaults) {
      expect(v.protect).to.equal(true);
      expect(v.inputs.properties).to.deep.include({ enableRbacAuthorization: true, enablePurgeProtection: true, softDeleteRetentionInDays: 90, tenantId: "00000000-0000-4000-8000-0000000000b2" });
    }
    for (const k of of(run, "keyvault:Key")) {
      expect(k.protect).to.equal(true);
      // Rotated every 180 days; the clusters pick the new version up on the next `pulumi up --refresh`.
      expect(k.inputs.properties).to.deep.equal({ kty: "RSA", keySize: 2048, rotationPolicy: { lifetimeActions: [{ trigger: { timeAfterCreate: "P180D" }, action: { type: "rotate" } }] } });
    }
    for (const cluster of of(run, "containerservice:ManagedCluster")) {
      const cell = cellOf(cluster);
      const key = of(run, "keyvault:Key").find((k) => cellOf(k) === cell)!;
      const kms = cluster.inputs.securityProfile.azureKeyVaultKms;
      expect(kms).to.deep.include({ enabled: true, keyVaultNetworkAccess: "Public" });
      expect(kms.keyId).to.match(new RegExp(`^https://${key.inputs.vaultName}\\.vault\\.azure\\.net/keys/aks-secrets/[0-9a-f]{32}$`));
      const access = run.registrations.find((r) => r.name === cluster.name.replace(/-aks$/, "-kms-crypto-user"))!;
      // Through the propagation wait: the cluster waits for the grant to take effect, not only to exist.
      const wait = run.registrations.find((r) => r.type === "time:index/sleep:Sleep" && r.dependencies.includes(access.urn))!;
      expect(cluster.dependencies).to.include(wait.urn);
      expect(ids.get(access.inputs.scope)!.type).to.equal("azure-native:keyvault:Vault");
      expect(cellOf(ids.get(access.inputs.scope)!)).to.equal(cell);
      expect(access.inputs.roleDefinitionId).to.match(/\/roleDefinitions\/12338af0-0e69-4776-bea7-57ae8d297424$/);
      const identity = ids.get(cluster.inputs.identity.userAssignedIdentities[0])!;
      expect(access.inputs.principalId).to.equal(mockGuid(`${identity.id}/principal`));
    }
  });

  it("exports cluster names, OIDC issuers, NAT IPs and subnet ids per cell, with kubeconfigs as secrets", () => {
    const { value: outputs } = unwrapSecrets(run.outputs);
    expect(Object.keys(outputs.cells)).to.deep.equal(cells);
    const c001 = outputs.cells.c001;
    expect(c001.clusters.proxy.name).to.equal("aks-c001-proxy");
    expect(c001.clusters["data-plane"].oidcIssuerUrl).to.match(/^https:\/\/eastus2\.oic\.prod-aks\.azure\.com\//);
    expect(Object.keys(c001.natPublicIps).sort()).to.deep.equal(["1", "2", "3"]);
    expect(Object.keys(c001.subnetIds)).to.have.length(18);
    expect(c001.kubeconfigs.proxy).to.match(/current-context: aks-c001-proxy/);
    expect(unwrapSecrets(run.outputs.cells.c001.kubeconfigs).secret).to.equal(true);
    expect(unwrapSecrets(run.outputs.cells.c001.clusters).secret).to.equal(false);
    expect(outputs.ipPlan.c001.subnets).to.have.length(18);
  });

  it("asks Azure who deploys once per cell and a cluster's credentials once per cluster, not once per role assignment (a 100-cell region makes every call 100 times)", () => {
    const count = (token: string) => run.invokes.filter((t) => t === token).length;
    // Role assignments take the subscription of their role definition from that one answer.
    const assignments = of(run, "authorization:RoleAssignment").filter((r) => r.inputs.roleDefinitionId.startsWith(`/subscriptions/${MOCK_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/`));
    expect(assignments.length).to.be.greaterThan(cells.length * 4);
    expect(count("azure-native:authorization:getClientConfig")).to.equal(cells.length);
    expect(count("azure-native:containerservice:listManagedClusterUserCredentials")).to.equal(cells.length * 3);
    expect([...new Set(run.invokes)].sort()).to.deep.equal(["azure-native:authorization:getClientConfig", "azure-native:containerservice:listManagedClusterUserCredentials"]);
  });

  it("adding a cell changes no input of any existing cell's resources", () => expectAddedCellTouchesNothingElse(run, "prod-azure", { id: "c004", cidr: "10.67.0.0/16" }, 1));

  it("registers nothing when the config is invalid, and says why without a stack trace", async () => {
    const raw = exampleRaw("prod-azure");
    raw.cells.c002.cidr = "10.64.0.0/15";
    const failure = await runProgram({ stack: "prod-azure", config: flatFromRaw(raw), program }).then(
      () => expect.fail("an invalid config must fail the run"),
      (err: Error & { registrations?: Registration[] }) => err,
    );
    expect(failure.message).to.include("cellplane:cells.c002.cidr: 10.64.0.0/15 overlaps cells.c001.cidr (10.64.0.0/16)");
    // A RunError is printed by the Pulumi CLI as its message alone, without a stack trace.
    expect(pulumi.RunError.isInstance(failure)).to.equal(true);
    expect(failure.registrations).to.deep.equal([]);
  });

  /** The outputs the last deployment of the example left: its plan, settings and cell facts. */
  function deployedOutputs(): Record<string, unknown> {
    return { ipPlan: run.outputs.ipPlan, clusterSettings: run.outputs.clusterSettings, cellFacts: run.outputs.cellFacts };
  }
  async function refused(raw: ReturnType<typeof exampleRaw>, previousOutputs: Record<string, unknown>, says: RegExp): Promise<void> {
    try {
      await runProgram({ stack: "prod-azure", config: flatFromRaw(raw), program, previousOutputs });
      expect.fail("the change must be refused");
    } catch (err) {
      expect((err as Error).message).to.match(says);
      expect((err as { registrations?: unknown[] }).registrations ?? []).to.deep.equal([]);
    }
  }

  it("refuses changing a pool setting a deployed cluster cannot take: the inline system pool's (separate pools), every pool's VM size and maxPods (pools with the cluster)", async () => {
    const raw = exampleRaw("prod-azure");
    raw.cells.c001.clusters = { proxy: { systemVmSize: "Standard_D8ds_v5" } };
    raw.cells.c003.clusters = { proxy: { vmSize: "Standard_D16ds_v5" } };
    await refused(
      raw,
      deployedOutputs(),
      /refusing to change settings a deployed cluster cannot take[\s\S]*cellplane:cells\.c001\.clusters\.proxy\.systemVmSize: systemVmSize of the deployed proxy cluster is "Standard_D4ds_v5"[\s\S]*cellplane:cells\.c003\.clusters\.proxy\.vmSize: vmSize of the deployed proxy cluster is "Standard_D8ds_v5"/,
    );
    // A new cell (not deployed yet) may choose any value.
    const fresh = await runProgram({ stack: "prod-azure", config: flatFromRaw(raw), program, previousOutputs: { ipPlan: run.outputs.ipPlan, clusterSettings: { c002: run.outputs.clusterSettings.c002 } } });
    expect(fresh.outputs.clusterSettings.c001.proxy.systemVmSize).to.equal("Standard_D8ds_v5");
    expect(fresh.outputs.clusterSettings.c003.proxy.vmSize).to.equal("Standard_D16ds_v5");
  });

  it("changes the autoscaler bounds of pools created with the cluster through the cluster itself", async () => {
    const raw = exampleRaw("prod-azure");
    // minNodesPerZone moves no subnet (capacity is sized from the maximum).
    raw.cells.c003.clusters = { proxy: { minNodesPerZone: 2 } };
    const changed = await runProgram({ stack: "prod-azure", config: flatFromRaw(raw), program, previousOutputs: deployedOutputs() });
    const aks = changed.registrations.find((r) => r.name === "c003-proxy-aks")!;
    expect(aks.inputs.agentPoolProfiles.map((p: any) => [p.name, p.count, p.minCount, p.maxCount])).to.deep.equal([
      ["sys1", 1, undefined, undefined],
      ["sys2", 1, undefined, undefined],
      ["sys3", 1, undefined, undefined],
      ["user1", 2, 2, 10],
      ["user2", 2, 2, 10],
      ["user3", 2, 2, 10],
    ]);
    // The autoscaler's counts stay ignored: only minCount reaches the deployed pools.
    expect(aks.ignoreChanges).to.deep.equal(["agentPoolProfiles[3].count", "agentPoolProfiles[4].count", "agentPoolProfiles[5].count"]);
    // Same resources, same URNs: nothing is replaced or added.
    expect(changed.registrations.map((r) => r.urn).sort()).to.deep.equal(run.registrations.map((r) => r.urn).sort());
  });

  it("refuses switching a deployed cell between separate pools and pools created with the cluster, and says which list to fix", async () => {
    // Deployed before cellFacts existed: every deployed cell then had separate pools.
    const legacy = { ipPlan: run.outputs.ipPlan, clusterSettings: run.outputs.clusterSettings };
    await refused(
      exampleRaw("prod-azure"),
      legacy,
      /refusing to change how deployed cells are built[\s\S]*cellplane:cells\.c003: cell c003 was deployed with nodePools "separate"; this run would make it "withCluster"[\s\S]*fix: list c003 in cellplane:azure\.separatePools/,
    );
    const raw = exampleRaw("prod-azure");
    raw.azure.separatePools = ["c001", "c002", "c003"];
    await refused(raw, deployedOutputs(), /cell c003 was deployed with nodePools "withCluster"; this run would make it "separate"[\s\S]*fix: remove c003 from cellplane:azure\.separatePools/);
    // Listed, a legacy cell goes through unchanged.
    const kept = await runProgram({ stack: "prod-azure", config: flatFromRaw(raw), program, previousOutputs: legacy });
    expect(kept.outputs.cellFacts.c003).to.deep.equal({ nodePools: "separate" });
    expect(kept.registrations.filter((r) => r.type === "azure-native:containerservice:AgentPool" && r.name.startsWith("c003-"))).to.have.length(15);
  });

  it("refuses a capacity change that would move a deployed subnet", async () => {
    const deployed = validateConfig(exampleRaw("prod-azure"));
    if (!deployed.ok) throw new Error("example must validate");
    const raw = exampleRaw("prod-azure");
    raw.cells.c001.clusters = { "data-plane": { maxNodesPerZone: 150 } };
    const attempt = runProgram({ stack: "prod-azure", config: flatFromRaw(raw), program, previousOutputs: { ipPlan: deployed.value.plans } });
    try {
      await attempt;
      expect.fail("the move must be refused");
    } catch (err) {
      expect((err as Error).message).to.match(/refusing to move deployed subnets[\s\S]*cellplane:cells\.c001\.clusters\.data-plane: this capacity change would move/);
    }
    // The same deployed plan with unchanged config goes through.
    const same = await runProgram({ ...file, program, previousOutputs: { ipPlan: deployed.value.plans } });
    expect(same.registrations.map((r) => r.urn)).to.deep.equal(run.registrations.map((r) => r.urn));
  });
});
