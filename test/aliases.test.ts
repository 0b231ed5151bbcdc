import { readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as network from "@pulumi/azure-native/network";
import { isVersionedTypeAlias, registerAliasTransformation } from "../cells/aliases";
import { MOCK_SUBSCRIPTION } from "../providers/azure/mocks";
import { runProgram } from "../offline/run";
import { sharedRun } from "./helpers";

const VERSIONED = /^azure-native:[^:]+\/v\d{8}/;

/** A subnet the way the program registers one, optionally renamed from "old-subnet" with an alias. */
function subnet(name: string, opts: { aliases?: { name: string }[] } = {}) {
  return new network.Subnet(
    name,
    {
      resourceGroupName: "rg",
      virtualNetworkName: "vnet",
      subnetName: "nodes",
      addressPrefix: "10.64.0.0/24",
      networkSecurityGroup: { id: `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg` },
    },
    opts,
  );
}

async function aliasesOf(withTransformation: boolean): Promise<Map<string, string[]>> {
  const run = await runProgram({
    stack: "aliases",
    config: {},
    program: async () => {
      if (withTransformation) registerAliasTransformation();
      subnet("renamed", { aliases: [{ name: "old-subnet" }] });
      subnet("plain");
      return {};
    },
  });
  return new Map(run.registrations.map((r) => [r.name, r.aliases]));
}

describe("azure-native versioned-type aliases (cells/aliases.ts)", function () {
  this.timeout(120_000);

  it("without the transformation the SDK sends one alias per API version (what the fix removes)", async () => {
    const aliases = (await aliasesOf(false)).get("plain")!;
    expect(aliases.filter((a) => VERSIONED.test(a)).length).to.be.greaterThan(50);
  });

  it("with it, a rename the program declares still carries its alias, and the versioned ones are gone", async () => {
    const aliases = await aliasesOf(true);
    expect(aliases.get("renamed")).to.deep.equal(["old-subnet"]);
    expect(aliases.get("plain")).to.deep.equal([]);
  });

  it("drops only a bare {type} naming a versioned spelling of the resource's own type", () => {
    const t = "azure-native:containerservice:AgentPool";
    expect(isVersionedTypeAlias({ type: "azure-native:containerservice/v20240901:AgentPool" }, t)).to.equal(true);
    expect(isVersionedTypeAlias({ type: "azure-native:containerservice/v20250502preview:AgentPool" }, t)).to.equal(true);
    // Another kind, another module, a module rename, a name or parent alias, a URN: kept.
    expect(isVersionedTypeAlias({ type: "azure-native:containerservice/v20240901:ManagedCluster" }, t)).to.equal(false);
    // A versioned spelling in the module the type moved from is dropped too (monitor <- insights).
    expect(isVersionedTypeAlias({ type: "azure-native:insights/v20210501preview:DiagnosticSetting" }, "azure-native:monitor:DiagnosticSetting")).to.equal(true);
    expect(isVersionedTypeAlias({ type: "azure-native:containerservice/v20240901:AgentPool" }, "kubernetes:core/v1:AgentPool")).to.equal(false);
    expect(isVersionedTypeAlias({ type: "azure-native:network:RecordSet" }, "azure-native:dns:RecordSet")).to.equal(false);
    expect(isVersionedTypeAlias({ type: "azure-native:containerservice/v20240901:AgentPool", name: "old" }, t)).to.equal(false);
    expect(isVersionedTypeAlias("urn:pulumi:s::p::azure-native:containerservice/v20240901:AgentPool::x", t)).to.equal(false);
  });

  it("the real program registers no versioned-type alias, under the same run `pulumi up` executes", async () => {
    const run = await sharedRun("prod-azure");
    const versioned = run.registrations.filter((r) => r.aliases.some((a) => VERSIONED.test(a)));
    expect(versioned.map((r) => r.urn)).to.deep.equal([]);
    // The unversioned module-rename aliases (one per type) stay.
    expect(run.registrations.find((r) => r.type === "azure-native:dns:RecordSet")?.aliases).to.deep.equal(["azure-native:network:RecordSet"]);
    expect(run.registrations.find((r) => r.type === "azure-native:monitor:DiagnosticSetting")?.aliases).to.deep.equal(["azure-native:insights:DiagnosticSetting"]);
  });

  it("no program code imports a versioned azure-native module (the reason the aliases are never needed)", () => {
    const root = path.resolve(__dirname, "..");
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const p = path.join(dir, f);
        if (f === "node_modules" || f.startsWith(".")) continue;
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts")) files.push(p);
      }
    };
    for (const dir of ["cells", "providers", "components", "automation", "bin", "offline"]) walk(path.join(root, dir));
    files.push(path.join(root, "index.ts"));
    const offenders = files.filter((f) => /@pulumi\/azure-native\/[^"/]+\/v\d{8}/.test(readFileSync(f, "utf8")));
    expect(offenders).to.deep.equal([]);
    for (const golden of readdirSync(path.join(root, "test", "fixtures")).filter((f) => f.endsWith(".urns.txt"))) {
      expect(readFileSync(path.join(root, "test", "fixtures", golden), "utf8"), golden).not.to.match(/azure-native:[^:]+\/v\d{8}/);
    }
  });
});
