import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../offline/stackfile";

/* `npm run plan` as CI runs it: the policy section, and exit 1 on a mandatory violation (README, "Policy pack"). */

const CELLCTL = path.join(PROJECT_DIR, "bin", "cellctl.js");
const cellctl = (args: string[]) => {
  const r = spawnSync(process.execPath, [CELLCTL, ...args], { encoding: "utf8", cwd: PROJECT_DIR, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("cellctl plan with the policy pack", function () {
  this.timeout(180_000);

  it("fails the broken example stack, naming each policy and resource, and still writes the JSON", () => {
    const json = path.join(mkdtempSync(path.join(tmpdir(), "cellplane-broken-")), "plan.json");
    const r = cellctl(["plan", "--dir", "examples/broken", "--stack", "broken-azure", "--json", json]);
    expect(r.code, r.stderr).to.equal(1);
    const count = /Policy pack cellplane: \d+ policies, config policies\/policy-config\.json\n {2}(\d+) mandatory, \d+ advisory violation/.exec(r.stdout);
    expect(count, r.stdout).to.not.equal(null);
    expect(r.stderr).to.include(`error: ${count![1]} mandatory policy violation(s) in stack broken-azure:`);
    expect(r.stderr).to.include("stateful-resources-protected: region-dns-zone: a DNS zone (its name servers are delegated to) is not protected");
    expect(r.stderr).to.include("stateful-resources-protected: c001-vnet: a cell network is not protected");
    expect(r.stderr).to.include("cluster-version-pinned: c001-proxy-aks: autoUpgradeProfile.upgradeChannel stable moves the minor version");
    expect(r.stderr).to.match(/at urn:pulumi:broken-azure::cellplane::\S*azure-native:network:VirtualNetwork::c001-vnet/);
    expect(r.stderr).to.not.match(/\n\s+at .*\(.*:\d+:\d+\)/);
    const doc = JSON.parse(readFileSync(json, "utf8"));
    expect(doc.policy.violations.filter((v: any) => v.level === "mandatory")).to.have.length(Number(count![1]));
    expect(doc.policy.violations[0]).to.have.keys(["policy", "level", "urn", "message"]);
  });

  it("applies a --policy-config file: levels lowered to advisory let the broken stack pass; a typo is a user error", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cellplane-policy-config-"));
    const lenient = path.join(dir, "lenient.json");
    writeFileSync(lenient, JSON.stringify({ "stateful-resources-protected": "advisory", "cluster-version-pinned": { enforcementLevel: "advisory" } }));
    const json = path.join(dir, "plan.json");
    const ok = cellctl(["plan", "--dir", "examples/broken", "--stack", "broken-azure", "--policy-config", lenient, "--json", json]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/0 mandatory, \d+ advisory violation/);
    // Every mandatory policy the config weakens is printed and recorded (issue 12, item 5).
    expect(ok.stdout).to.include("WARNING: the policy config weakens 2 mandatory policies of the pack (they no longer block):");
    expect(ok.stdout).to.include("  stateful-resources-protected: mandatory -> advisory").and.to.include("  cluster-version-pinned: mandatory -> advisory");
    expect(JSON.parse(readFileSync(json, "utf8")).policy.weakened).to.deep.equal([
      { policy: "cluster-version-pinned", declared: "mandatory", effective: "advisory" },
      { policy: "stateful-resources-protected", declared: "mandatory", effective: "advisory" },
    ].sort((a, b) => a.policy.localeCompare(b.policy)));
    const typo = path.join(dir, "typo.json");
    writeFileSync(typo, JSON.stringify({ "stateful-resource-protected": "advisory" }));
    const bad = cellctl(["plan", "--stack", "prod-gcp", "--policy-config", typo]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include("invalid policy pack config:\n  stateful-resource-protected: no policy of that name in the pack");
  });
});
