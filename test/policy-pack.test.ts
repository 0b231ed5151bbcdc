import { expect } from "chai";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { AnalyzeRequest, AnalyzerInfo, AnalyzerResourceOptions, AnalyzeResponse } from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { POLICIES } from "../policies/policies";
import { AZURE } from "../policies/lib/types";
import { PROJECT_DIR } from "../offline/stackfile";

/*
 * The pack as `pulumi preview --policy-pack policies` runs it: the Pulumi CLI
 * starts @pulumi/pulumi's run-policy-pack in the pack's directory (TypeScript
 * through ts-node, policies/tsconfig.json), reads the gRPC port it prints, and
 * calls the Analyzer service. No CLI here, so the test plays the CLI's part.
 */

const ENFORCEMENT = ["advisory", "mandatory", "remediate", "disabled"];

describe("the CrossGuard pack served as the Pulumi CLI runs it", function () {
  this.timeout(120_000);
  let child: ChildProcess;
  let client: AnalyzerClient;

  before(async () => {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
    child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: path.join(PROJECT_DIR, "policies"), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += String(d)));
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout!.once("data", (d) => resolve(String(d).trim()));
      child.once("exit", (code) => reject(new Error(`policy pack exited ${code}: ${stderr}`)));
    });
    expect(port).to.match(/^\d+$/);
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    if (child?.pid && child.exitCode === null) child.kill();
  });

  it("names the pack and every policy with its default level", async () => {
    const info = await new Promise<AnalyzerInfo>((resolve, reject) => client.getAnalyzerInfo(new Empty(), (err, r) => (err ? reject(err) : resolve(r))));
    expect(info.getName()).to.equal("cellplane");
    const levels = Object.fromEntries(info.getPoliciesList().map((p) => [p.getName(), ENFORCEMENT[p.getEnforcementlevel()]]));
    expect(levels).to.deep.equal(Object.fromEntries(POLICIES.map((p) => [p.name, p.enforcementLevel])));
  });

  it("reports an overlay AKS cluster as a mandatory violation of cluster-cilium-no-overlay", async () => {
    const req = new AnalyzeRequest()
      .setType(AZURE.cluster)
      .setName("c001-proxy-aks")
      .setUrn("urn:pulumi:prod-azure::cellplane::cellplane:cells:Region$cellplane:cells:Cell$azure-native:containerservice:ManagedCluster::c001-proxy-aks")
      .setProperties(Struct.fromJavaScript({ resourceName: "aks-c001-proxy", networkProfile: { networkPlugin: "azure", networkPluginMode: "overlay", networkDataplane: "cilium", networkPolicy: "cilium" } }))
      .setOptions(new AnalyzerResourceOptions().setProtect(true));
    const res = await new Promise<AnalyzeResponse>((resolve, reject) => client.analyze(req, (err, r) => (err ? reject(err) : resolve(r))));
    const cilium = res.getDiagnosticsList().filter((d) => d.getPolicyname() === "cluster-cilium-no-overlay");
    expect(cilium).to.have.length(1);
    expect(ENFORCEMENT[cilium[0].getEnforcementlevel()]).to.equal("mandatory");
    expect(cilium[0].getMessage()).to.include("networkPluginMode overlay");
  });
});
