import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { PROJECT_DIR } from "../offline/stackfile";
import { exampleRaw } from "./helpers";

const CELLCTL = path.join(PROJECT_DIR, "bin", "cellctl.js");

function cellctl(args: string[]) {
  const r = spawnSync(process.execPath, [CELLCTL, ...args], { encoding: "utf8", cwd: PROJECT_DIR, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a broken copy of the Azure example into a temporary project dir. */
function brokenStack(mutate: (raw: Record<string, any>) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), "cellplane-plan-"));
  copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const raw = exampleRaw("prod-azure");
  mutate(raw);
  const config = Object.fromEntries(Object.entries(raw).map(([k, v]) => [`cellplane:${k}`, v]));
  writeFileSync(path.join(dir, "Pulumi.broken.yaml"), stringify({ config }));
  return dir;
}

describe("cellctl plan (npm run plan)", function () {
  this.timeout(180_000);

  const cases: [string, (raw: Record<string, any>) => void, string][] = [
    ["two overlapping cells", (raw) => (raw.cells.c002.cidr = "10.64.0.0/15"), "cellplane:cells.c002.cidr: 10.64.0.0/15 overlaps cells.c001.cidr (10.64.0.0/16)"],
    ["a malformed CIDR", (raw) => (raw.cells.c001.cidr = "10.64.0/16"), "cellplane:cells.c001.cidr: \"10.64.0/16\" is not an IPv4 CIDR"],
    ["an unknown key", (raw) => (raw.natGateways = 2), "cellplane:natGateways: Unrecognized key"],
    ["a /24 cell", (raw) => (raw.cells.c003.cidr = "10.66.0.0/24"), "cellplane:cells.c003.cidr: a /24 cell is too small"],
    ["a cell outside the pool", (raw) => (raw.cells.c003.cidr = "172.31.0.0/16"), "cellplane:cells.c003.cidr: 172.31.0.0/16 is outside the address pool 10.64.0.0/10"],
  ];
  for (const [what, mutate, expected] of cases) {
    it(`exits 1 on ${what}, naming the property, without a stack trace`, () => {
      const r = cellctl(["plan", "--stack", "broken", "--dir", brokenStack(mutate)]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.include(expected);
      expect(r.stderr).to.include("fix:");
      expect(r.stderr).to.not.match(/\n\s+at .*\(.*:\d+:\d+\)/);
      expect(r.stdout).to.equal("");
    });
  }

  it("exits 1 on an unknown option", () => {
    const r = cellctl(["plan", "--stak", "prod-azure"]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/unknown option '--stak'/);
  });

  it("prints the IP plan of every cell and writes the JSON contract", () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), "cellplane-json-")), "plan.json");
    const r = cellctl(["plan", "--stack", "prod-azure", "--json", out]);
    expect(r.code, r.stderr).to.equal(0);
    for (const cell of ["c001", "c002", "c003"]) {
      expect(r.stdout).to.include(`IP plan of ${cell}`);
      expect(r.stdout).to.match(new RegExp(`Resources of ${cell}[\\s\\S]*?azure-native:network:NatGateway +│ 3 +│ ${cell}-z1-nat, ${cell}-z2-nat, ${cell}-z3-nat`));
    }
    expect(r.stdout).to.match(/azure-native:network:Subnet\s+│ 54/);
    const doc = JSON.parse(readFileSync(out, "utf8"));
    expect(doc).to.include({ project: "cellplane", stack: "prod-azure", cloud: "azure", region: "eastus2" });
    expect(doc.cells.map((c: any) => c.id)).to.deep.equal(["c001", "c002", "c003"]);
    for (const s of doc.cells[0].subnets) {
      expect(s.role).to.be.oneOf(["proxy", "data-plane-mgmt", "data-plane"]);
      expect(s.kind).to.be.oneOf(["nodes", "pods", "public"]);
      expect(s.zone).to.be.oneOf(["1", "2", "3"]);
      expect(s.cidr).to.match(/^10\.64\.\d+\.\d+\/\d+$/);
    }
    expect(doc.isolation[0]).to.have.keys(["from", "to", "protocol", "ports", "why"]);
    expect(doc.policy.violations.filter((v: any) => v.level === "mandatory")).to.deep.equal([]);
    expect(r.stdout).to.match(/Policy pack cellplane: \d+ policies[\s\S]*0 mandatory, \d+ advisory violation/);
    expect(doc.summary.resourceCount).to.equal(doc.resources.length);
    const subnet = doc.resources.find((r: any) => r.name === "c001-proxy-z1-pods");
    expect(subnet).to.have.keys(["urn", "id", "type", "name", "parent", "inputs", "dependencies", "protect", "provider"]);
    // References are resolved to the mocked ids of what they point at.
    expect(subnet.inputs.natGateway.id).to.equal(doc.resources.find((r: any) => r.name === "c001-z1-nat").id);
    expect(subnet.parent).to.equal(doc.resources.find((r: any) => r.type === "cellplane:cells:Cell" && r.name === "c001").urn);
    // The platform layer: releases per cluster in the text, with their Helm values in the JSON.
    expect(r.stdout).to.match(/Platform of c002 \(c002\.eastus2\.azure\.db\.example\.com\)[\s\S]*?data-plane-mgmt +│ istio-ingress +│ gateway +│ 1\.30\.1 +│ istio-ingress/);
    const platform = doc.cells[1].platform;
    expect(Object.keys(platform)).to.deep.equal(["proxy", "data-plane-mgmt", "data-plane"]);
    expect(platform["data-plane"].releases.map((x: any) => x.release)).to.deep.equal(["cert-manager"]);
    const gateway = platform.proxy.releases.find((x: any) => x.release === "istio-ingress");
    expect(gateway).to.include({ chart: "gateway", version: "1.30.1", namespace: "istio-ingress", repo: "https://istio-release.storage.googleapis.com/charts" });
    expect(gateway.values.service.loadBalancerSourceRanges).to.deep.equal(["0.0.0.0/0"]);
    expect(platform.proxy.ingressHostnames).to.deep.equal(["*.c002.eastus2.azure.db.example.com"]);
    expect(doc.cells[1].domain).to.equal("c002.eastus2.azure.db.example.com");
  });

  it("plans the AWS example: every cell's subnets, route tables, NATs, security groups, clusters, node groups and releases, and no violation", () => {
    const r = cellctl(["plan", "--stack", "prod-aws"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.not.include("plans IP layouts only so far");
    for (const cell of ["c001", "c002"]) {
      const section = r.stdout.slice(r.stdout.indexOf(`Resources of ${cell}`));
      for (const type of ["aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/natGateway:NatGateway", "aws:ec2/securityGroup:SecurityGroup", "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "kubernetes:helm.sh/v3:Release"]) {
        expect(section, `${cell} ${type}`).to.include(type);
      }
    }
    expect(r.stdout).to.match(/0 mandatory, 0 advisory violation\(s\)/);
  });

  it("plans the GCP example: every cell's network, subnetworks, NAT, firewall rules, clusters and pools, and no violation", () => {
    const gcp = cellctl(["plan", "--stack", "prod-gcp"]);
    expect(gcp.code, gcp.stderr).to.equal(0);
    expect(gcp.stdout).to.not.include("plans IP layouts only so far");
    for (const cell of ["c001", "c002"]) expect(gcp.stdout).to.include(`Resources of ${cell}`);
    for (const type of ["gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork", "gcp:compute/routerNat:RouterNat", "gcp:compute/firewall:Firewall", "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool"]) {
      expect(gcp.stdout).to.include(type);
    }
    expect(gcp.stdout).to.match(/0 mandatory, 0 advisory violation/);
  });
});
