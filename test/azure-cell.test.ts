import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { IPv4, IPv4CidrRange } from "ip-num";
import { program } from "../cells/program";
import { validateConfig } from "../cells/config";
import { FLOWS, INGRESS } from "../cells/plan/isolation";
import { NAME_RULES } from "../cells/plan/clouds";
import { nameProblem } from "../cells/plan/naming";
import { ROLES, Role } from "../cells/plan/model";
import { azureNsgAdmits } from "../policies/lib/reachability";
import { azureNsgRules } from "../policies/views/network";
import { mockGuid } from "../offline/mocks";
import { Registration, runProgram, RunResult, unwrapSecrets } from "../offline/run";
import { loadStackFile } from "../offline/stackfile";
import { exampleRaw, flatFromRaw, sharedRun } from "./helpers";

const of = (run: RunResult, type: string) => run.registrations.filter((r) => r.type === `azure-native:${type}`);
const cellOf = (r: Registration) => r.name.split("-")[0];
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
      // Per cluster: 2 more system pools and 3 user pools (the first system pool is inline).
      expect(count("containerservice:AgentPool"), cell).to.equal(15);
      expect(count("containerservice:MaintenanceConfiguration"), cell).to.equal(3);
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
      expect(c.inputs.apiServerAccessProfile.authorizedIPRanges).to.deep.equal(["203.0.113.0/24", "198.51.100.16/28"]);
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

  it("creates each cluster after its VNET role assignment and after NAT is attached to the subnets it is created with (its first zone's)", () => {
    const urns = byUrn(run);
    for (const c of of(run, "containerservice:ManagedCluster")) {
      const role = c.name.replace(/^c\d+-/, "").replace(/-aks$/, "");
      const deps = c.dependencies.map((u) => urns.get(u)!).filter(Boolean);
      const ra = deps.find((d) => d.type === "azure-native:authorization:RoleAssignment");
      expect(ra, c.name).to.not.equal(undefined);
      expect(ra!.inputs.roleDefinitionId).to.match(/roleDefinitions\/4d97b98b-1d4f-4787-a291-c67834d212e7$/);
      // Scoped to the cell's VNET only.
      expect(ra!.inputs.scope).to.match(new RegExp(`/virtualNetworks/vnet-${cellOf(c)}$`));
      const subnets = deps.filter((d) => d.type === "azure-native:network:Subnet").map((d) => d.name);
      // The other zones' subnets are inputs of their pools (test/deploy-order.test.ts), not of the cluster.
      expect(subnets.sort(), c.name).to.deep.equal([`${cellOf(c)}-${role}-z1-nodes`, `${cellOf(c)}-${role}-z1-pods`]);
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
      // From the Internet: only the listed ingress ports, only from the allow-list.
      for (const port of ports) {
        const expected = INGRESS.some((i) => i.role === to && i.ports.includes(port));
        expect(azureNsgAdmits(rules, { source: "198.18.0.1", destination: sample(to)[0], protocol: "tcp", port }, vnet), `Internet -> ${to}:${port}`).to.equal(expected);
      }
    }
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
      expect(k.inputs.properties).to.deep.equal({ kty: "RSA", keySize: 2048 });
    }
    for (const cluster of of(run, "containerservice:ManagedCluster")) {
      const cell = cellOf(cluster);
      const key = of(run, "keyvault:Key").find((k) => cellOf(k) === cell)!;
      const kms = cluster.inputs.securityProfile.azureKeyVaultKms;
      expect(kms).to.deep.include({ enabled: true, keyVaultNetworkAccess: "Public" });
      expect(kms.keyId).to.match(new RegExp(`^https://${key.inputs.vaultName}\\.vault\\.azure\\.net/keys/aks-secrets/[0-9a-f]{32}$`));
      const access = run.registrations.find((r) => r.name === cluster.name.replace(/-aks$/, "-kms-crypto-user"))!;
      expect(cluster.dependencies).to.include(access.urn);
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

  it("adding a cell changes no input of any existing cell's resources", async () => {
    const raw = exampleRaw("prod-azure");
    raw.cells.c004 = { cidr: "10.67.0.0/16" };
    const bigger = await runProgram({ stack: "prod-azure", config: flatFromRaw(raw), program });
    const before = new Map(run.registrations.map((r) => [r.urn, r]));
    const added = bigger.registrations.filter((r) => !before.has(r.urn));
    expect(added.length).to.be.greaterThan(0);
    for (const r of added) expect(r.urn, r.urn).to.match(/(Cell::c004|-c004-|::c004)/);
    for (const r of bigger.registrations.filter((x) => before.has(x.urn))) {
      if (r.type === "cellplane:cells:Region") continue;
      expect(r.inputs, r.urn).to.deep.equal(before.get(r.urn)!.inputs);
    }
  });

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
