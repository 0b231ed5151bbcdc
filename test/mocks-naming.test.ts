import { expect } from "chai";
import { StrictMocks } from "../offline/mocks";
import { NAME_RULES } from "../cells/plan/clouds";
import { nameProblem, physicalName, stableGuid } from "../cells/plan/naming";
import { flattenStackConfig } from "../offline/stackfile";

describe("strict mocks", () => {
  const mocks = new StrictMocks();

  it("throws on an invoke without a mock, naming the token", () => {
    expect(() => mocks.call({ token: "azure-native:network:getVirtualNetwork", inputs: {} })).to.throw("no mock for invoke azure-native:network:getVirtualNetwork");
  });

  it("throws on an Azure resource type without an id format", () => {
    expect(() => mocks.newResource({ type: "azure-native:storage:FileShare", name: "x", inputs: { resourceGroupName: "rg" }, custom: true })).to.throw(
      "no mock for resource type azure-native:storage:FileShare; add one to providers/azure/mocks.ts",
    );
  });

  it("returns realistic, deterministic ids: ARM ids, AWS ids, GCP self-links", () => {
    const a = mocks.newResource({ type: "azure-native:network:Subnet", name: "s", inputs: { resourceGroupName: "rg-x", virtualNetworkName: "vnet-c001", subnetName: "proxy-z1-nodes" }, custom: true });
    expect(a.id).to.equal("/subscriptions/00000000-0000-4000-8000-0000000000a1/resourceGroups/rg-x/providers/Microsoft.Network/virtualNetworks/vnet-c001/subnets/proxy-z1-nodes");
    const vpc = mocks.newResource({ type: "aws:ec2/vpc:Vpc", name: "c001-vpc", inputs: {}, custom: true });
    expect(vpc.id).to.match(/^vpc-[0-9a-f]{17}$/);
    expect(mocks.newResource({ type: "aws:ec2/vpc:Vpc", name: "c001-vpc", inputs: {}, custom: true }).id).to.equal(vpc.id);
    const net = mocks.newResource({ type: "gcp:compute/subnetwork:Subnetwork", name: "n", inputs: { project: "p1", region: "us-central1", name: "c001-proxy" }, custom: true });
    expect(net.id).to.equal("projects/p1/regions/us-central1/subnetworks/c001-proxy");
  });
});

describe("naming (cells/plan/naming.ts)", () => {
  it("shortens a long name deterministically with a hash, within the rule", () => {
    const rule = NAME_RULES.azure.managedCluster;
    const long = physicalName(["aks", "c001", "x".repeat(80)], rule);
    expect(long).to.have.length(63);
    expect(nameProblem(long, rule)).to.equal(null);
    expect(physicalName(["aks", "c001", "x".repeat(80)], rule)).to.equal(long);
    expect(physicalName(["aks", "c001", "y".repeat(80)], rule)).to.not.equal(long);
  });

  it("keeps AKS pool names within 12 lowercase characters", () => {
    expect(physicalName(["user", "3"], NAME_RULES.azure.agentPool, "")).to.equal("user3");
    expect(() => physicalName(["User", "3"], NAME_RULES.azure.agentPool, "")).to.throw(/breaks the rule/);
  });

  it("derives role assignment names as stable GUIDs", () => {
    expect(stableGuid("a")).to.equal(stableGuid("a"));
    expect(stableGuid("a")).to.not.equal(stableGuid("b"));
    expect(stableGuid("a")).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("stack file loader", () => {
  it("flattens config like the CLI: structured values as JSON, secure values as placeholder secrets", () => {
    const file = flattenStackConfig("prod-azure", {
      config: {
        "cellplane:cloud": "azure",
        "cellplane:zones": ["1", "2"],
        "cellplane:dns": { zone: "eastus2.azure.db.example.com" },
        "azure-native:clientSecret": { secure: "AAABAKz1" },
      },
    });
    expect(file.config).to.deep.equal({
      "cellplane:cloud": "azure",
      "cellplane:zones": '["1","2"]',
      "cellplane:dns": '{"zone":"eastus2.azure.db.example.com"}',
      "azure-native:clientSecret": "mock-secret-for-azure-native:clientSecret",
    });
    expect(file.secretKeys).to.deep.equal(["azure-native:clientSecret"]);
    // An object with a "secure" key among others is a value, not a secret.
    expect(flattenStackConfig("s", { config: { "cellplane:tags": { secure: "x", owner: "y" } } }).secretKeys).to.deep.equal([]);
    expect(flattenStackConfig("s", {}).config).to.deep.equal({});
  });
});
