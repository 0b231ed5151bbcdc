import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { InMemoryStack, isInCell, urnOf } from "../automation";
import { CliEnv } from "../bin/cells";
import type * as Cellctl from "../bin/cellctl";
import { PROJECT_DIR } from "../offline/stackfile";

// By the explicit file: a bare "../bin/cellctl" resolves to the bin/cellctl.js launcher, which runs the CLI and exits.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require(path.join(PROJECT_DIR, "bin", "cellctl.ts")) as typeof Cellctl;

const CELLCTL = path.join(PROJECT_DIR, "bin", "cellctl.js");
const STACK_TRACE = /\n\s+at .*(\(.*:\d+:\d+\)|:\d+:\d+)/;

/** A scratch project: Pulumi.yaml and a copy of the prod-azure stack file, so the repo's file is never written. */
function scratchProject(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "cellctl-"));
  for (const f of ["Pulumi.yaml", "Pulumi.prod-azure.yaml"]) copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
  return dir;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  questions: string[];
}

/** Runs cellctl in-process against an in-memory stack (persisted to `dir`, so `cells list --dir` sees its writes). */
async function cellctl(argv: string[], opts: { stack?: InMemoryStack; interactive?: boolean; answer?: boolean } = {}): Promise<Run> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const questions: string[] = [];
  const env: CliEnv = {
    stdout: { write: (s: string) => stdout.push(s) },
    stderr: { write: (s: string) => stderr.push(s), isTTY: false },
    interactive: opts.interactive ?? false,
    confirm: async (q) => {
      questions.push(q);
      return opts.answer ?? false;
    },
    openStack: (name) => {
      if (!opts.stack || opts.stack.name !== name) throw new Error(`test: no in-memory stack ${name}`);
      return opts.stack;
    },
    retry: { attempts: 2, sleep: async () => {}, random: () => 0.5 },
  };
  const code = await main(argv, env);
  return { code, stdout: stdout.join(""), stderr: stderr.join(""), questions };
}

function deployed(dir: string): InMemoryStack {
  return InMemoryStack.fromStackFile("prod-azure", dir, { persistTo: dir });
}

describe("cellctl cells (in-process, in-memory stack)", function () {
  this.timeout(180_000);
  it("lists the cells as a table, and as JSON with a stable shape", async () => {
    const human = await cellctl(["cells", "list", "--stack", "prod-azure"]);
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.include("stack prod-azure (azure eastus2), pool 10.64.0.0/10, 3 cell(s)");
    expect(human.stdout).to.match(/│ c002 +│ 10\.65\.0\.0\/16 +│ active +│ 10 x 50 +│ 10 x 50 +│ 200 x 50 +│/);

    const json = await cellctl(["cells", "list", "--stack", "prod-azure", "--json"]);
    const doc = JSON.parse(json.stdout);
    expect(doc).to.have.keys(["stack", "cloud", "region", "addressPool", "newCellPrefix", "cells", "retiredCells"]);
    expect(doc).to.include({ stack: "prod-azure", cloud: "azure", region: "eastus2", addressPool: "10.64.0.0/10", newCellPrefix: 16 });
    expect(doc.cells.map((c: any) => c.id)).to.deep.equal(["c001", "c002", "c003"]);
    expect(doc.cells[0]).to.have.keys(["id", "cidr", "state", "capacity"]);
    expect(doc.cells[0].capacity.proxy).to.have.keys(["maxNodesPerZone", "systemNodesPerZone", "maxPodsPerNode", "maxSurgePercent"]);
    expect(json.stderr).to.equal("");
  });

  it("adds a cell with --yes --json: one JSON document, no progress on stderr; list then shows it", async () => {
    const dir = scratchProject();
    const stack = deployed(dir);
    const r = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes", "--json"], { stack });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal("");
    const doc = JSON.parse(r.stdout);
    expect(doc).to.have.keys(["dryRun", "stack", "cell", "configWritten", "preview", "upRan", "resourceChanges", "attempts", "throttleRetries", "warnings", "policy"]);
    expect(doc.warnings).to.deep.equal([]);
    expect(doc.policy).to.deep.equal({ packs: [path.join(PROJECT_DIR, "policies")], configs: [path.join(PROJECT_DIR, "policies", "policy-config.json")], skipped: false, weakened: [] });
    expect(doc).to.include({ dryRun: false, stack: "prod-azure", upRan: true, attempts: 1 });
    expect(doc.cell).to.include({ id: "c004", cidr: "10.67.0.0/16", state: "active" });
    expect(doc.configWritten).to.deep.equal([{ key: "cellplane:cells.c004.cidr", value: "10.67.0.0/16" }]);
    const c004 = (await stack.urns()).filter((u) => isInCell(u, "c004"));
    expect(doc.resourceChanges.create).to.equal(c004.length).and.to.be.greaterThan(40);

    const list = JSON.parse((await cellctl(["cells", "list", "--stack", "prod-azure", "--dir", dir, "--json"])).stdout);
    expect(list.cells.map((c: any) => [c.id, c.cidr])).to.deep.include(["c004", "10.67.0.0/16"]);
  });

  it("says the config's warnings before it adds a cell (prod-gcp: its data-plane API is closed to the Internet), and in --json", async () => {
    const dir = scratchProject();
    copyFileSync(path.join(PROJECT_DIR, "Pulumi.prod-gcp.yaml"), path.join(dir, "Pulumi.prod-gcp.yaml"));
    const human = await cellctl(["cells", "add", "--stack", "prod-gcp", "--dir", dir, "--yes"], { stack: InMemoryStack.fromStackFile("prod-gcp", dir) });
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stderr.split("\n")[0]).to.equal(
      "cellctl: warning: cellplane:platform: the data-plane API (data-plane-mgmt ingress) is closed to the Internet: apiServer.authorizedIpRanges is empty and managementAllowList is unset; fix: set cellplane:platform.managementAllowList to the control plane's egress networks if it calls the API over the Internet",
    );
    const json = await cellctl(["cells", "add", "--stack", "prod-gcp", "--dir", dir, "--yes", "--json"], { stack: InMemoryStack.fromStackFile("prod-gcp", dir) });
    expect(json.code, json.stderr).to.equal(0);
    expect(json.stderr).to.equal("");
    expect(JSON.parse(json.stdout).warnings).to.deep.equal([
      { path: "cellplane:platform", message: "the data-plane API (data-plane-mgmt ingress) is closed to the Internet: apiServer.authorizedIpRanges is empty and managementAllowList is unset", fix: "set cellplane:platform.managementAllowList to the control plane's egress networks if it calls the API over the Internet" },
    ]);
  });

  it("adds a cell for humans: phases on stderr (no bar off a terminal), a summary on stdout", async () => {
    const dir = scratchProject();
    const stack = deployed(dir);
    const r = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes"], { stack });
    expect(r.code, r.stderr).to.equal(0);
    const n = (await stack.urns()).filter((u) => isInCell(u, "c004")).length;
    expect(r.stdout).to.equal(
      `cell c004 (10.67.0.0/16) added to stack prod-azure: ${n} create\npolicy gate: ${path.join(PROJECT_DIR, "policies")} with ${path.join(PROJECT_DIR, "policies", "policy-config.json")}\n`,
    );
    expect(r.stderr).to.include("cellctl: writing cellplane:cells.c004.cidr").and.to.include(`cellctl: up: ${n} resource(s) to change`).and.to.include("cellctl: cell c004 is up");
  });

  it("draws a progress bar on a terminal's stderr: resources done / total and the current step", async () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    let drawn = "";
    stderr.on("data", (d: Buffer) => (drawn += d.toString()));
    const dir = scratchProject();
    const stack = deployed(dir);
    const code = await main(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes"], {
      stdout: { write: () => true },
      stderr,
      interactive: true,
      confirm: async () => false,
      openStack: () => stack,
    });
    expect(code).to.equal(0);
    const n = (await stack.urns()).filter((u) => isInCell(u, "c004")).length;
    expect(drawn).to.match(new RegExp(`up +\\[-+\\] 0/${n}`));
    expect(drawn).to.match(new RegExp(`up +\\[=+\\] ${n}/${n} create c004-`));
  });

  it("refuses to change a stack without --yes when not on a terminal (exit 1), and writes nothing", async () => {
    const dir = scratchProject();
    const stack = deployed(dir);
    const r = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir], { stack });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("refusing to change stack prod-azure without confirmation").and.to.include("pass --yes");
    expect(stack.calls).to.deep.equal([]);
  });

  it("asks on a terminal; no means nothing changes, yes means add", async () => {
    const dir = scratchProject();
    const stack = deployed(dir);
    const no = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir], { stack, interactive: true, answer: false });
    expect(no.code).to.equal(1);
    expect(no.questions).to.deep.equal(["Add cell c004 (10.67.0.0/16) to stack prod-azure? [y/N] "]);
    expect(stack.calls).to.deep.equal([]);
    const yes = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir], { stack, interactive: true, answer: true });
    expect(yes.code, yes.stderr).to.equal(0);
    expect(stack.calls.map((c) => c.method)).to.deep.equal(["setConfig", "setConfig", "preview", "up", "removeConfig"]);
  });

  it("exits 2 with a JSON error naming the resources when the guard fires", async () => {
    const dir = scratchProject();
    const vnet = urnOf("prod-azure", ["cellplane:cells:Region", "cellplane:cells:Cell", "azure-native:network:VirtualNetwork"], "c001-vnet");
    const stack = deployed(dir).injectSteps([{ op: "replace", urn: vnet, type: "azure-native:network:VirtualNetwork" }]);
    const before = readFileSync(path.join(dir, "Pulumi.prod-azure.yaml"), "utf8");
    const r = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes", "--json"], { stack });
    expect(r.code).to.equal(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error).to.include({ exitCode: 2, kind: "blast-radius" });
    expect(doc.error.outside).to.deep.equal([{ op: "replace", urn: vnet, type: "azure-native:network:VirtualNetwork" }]);
    expect(r.stderr).to.include(vnet);
    expect(r.stderr).to.not.match(STACK_TRACE);
    // The config write was reverted: the stack file holds the same cells as before.
    expect(readFileSync(path.join(dir, "Pulumi.prod-azure.yaml"), "utf8")).to.not.include("c004");
    expect(before).to.not.include("c004");
  });

  it("retries an update the cloud throttled and exits 0, reporting the retry; persistent throttling exits 2 (issue 16)", async () => {
    const throttled = "azure-native:network:Subnet (c004-proxy-z2-pods):\n    error: RESPONSE 429: 429 Too Many Requests\n    ERROR CODE: RetryableError";
    const dir = scratchProject();
    const stack = deployed(dir).failUpAfter(10, throttled);
    const r = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes"], { stack });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr.match(/cellctl: the cloud throttled the update of stack prod-azure \(.*RESPONSE 429.*\): retry 1 of 3 in \d+\.\d s/g)).to.have.length(1);
    expect(r.stdout).to.match(/^cell c004 \(10\.67\.0\.0\/16\) added to stack prod-azure: \d+ create \(after 1 retries of what the cloud throttled\)\n/);

    const dir2 = scratchProject();
    const gaveUp = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir2, "--yes", "--json"], { stack: deployed(dir2).failUpAfter(0, throttled, 10) });
    expect(gaveUp.code).to.equal(2);
    const e = JSON.parse(gaveUp.stdout).error;
    expect(e).to.include({ exitCode: 2, kind: "throttled" });
    expect(e.message).to.include("gave up after 4 attempts").and.to.include("RESPONSE 429");
  });

  it("exits 2 when the stack stays locked", async () => {
    const dir = scratchProject();
    const r = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes", "--json"], { stack: deployed(dir).lockedFor(5) });
    expect(r.code).to.equal(2);
    expect(JSON.parse(r.stdout).error).to.include({ exitCode: 2, kind: "stack-locked" });
  });

  it("retires in two phases: draining, then --force (refused while resources are protected), then --force --unprotect", async () => {
    const dir = scratchProject();
    const stack = deployed(dir);
    const run = (...extra: string[]) => cellctl(["cells", "retire", "--stack", "prod-azure", "--dir", dir, "--id", "c003", ...extra], { stack });

    const early = await run("--force");
    expect(early.code).to.equal(1);
    expect(early.stderr).to.include("cell c003 is active; retiring is two-phase");

    const drain = await run("--json");
    expect(drain.code, drain.stderr).to.equal(0);
    const d = JSON.parse(drain.stdout);
    expect(d).to.have.keys(["stack", "cell", "phase", "configWritten", "configRemoved", "destroyed", "unprotected", "attempts", "throttleRetries"]);
    expect(d).to.include({ phase: "draining", cell: "c003" });
    expect(d.configWritten).to.deep.equal([{ key: "cellplane:cells.c003.state", value: "draining" }]);

    const guarded = await run("--force");
    expect(guarded.code).to.equal(1);
    const protectedUrns = (await stack.listResources()).filter((x) => x.protect && isInCell(x.urn, "c003")).map((x) => x.urn);
    const mine = (await stack.urns()).filter((u) => isInCell(u, "c003"));
    expect(guarded.stderr).to.include(`cell c003 has ${protectedUrns.length} protected resource(s); cellctl never unprotects silently`);
    expect(guarded.stderr).to.include("c003-vnet").and.to.include("pulumi state unprotect");

    const done = await run("--force", "--unprotect", "--json");
    expect(done.code, done.stderr).to.equal(0);
    const r = JSON.parse(done.stdout);
    expect(r).to.include({ phase: "retired", cell: "c003" });
    expect([...r.unprotected].sort()).to.deep.equal([...protectedUrns].sort());
    expect([...r.destroyed].sort()).to.deep.equal([...mine].sort());
    expect(r.configRemoved).to.deep.equal(["cellplane:cells.c003"]);

    const list = JSON.parse((await cellctl(["cells", "list", "--stack", "prod-azure", "--dir", dir, "--json"])).stdout);
    expect(list.cells.map((c: any) => c.id)).to.deep.equal(["c001", "c002"]);
    expect(list.retiredCells).to.deep.equal(["c003"]);
  });

  const usage: [string, string[], RegExp][] = [
    ["a missing --stack", ["cells", "list"], /--stack is required: name the region stack \(this project has prod-aws, prod-azure, prod-gcp\)[\s\S]*fix: pass --stack <name>/],
    ["a missing --id on retire", ["cells", "retire", "--stack", "prod-azure"], /required option '--id <id>' not specified/],
    ["--unprotect without --force", ["cells", "retire", "--stack", "prod-azure", "--id", "c001", "--unprotect"], /--unprotect only applies to the destroy phase/],
    ["an invalid --id", ["cells", "add", "--stack", "prod-azure", "--id", "Cell_4", "--dry-run"], /"Cell_4" is not a valid cell id/],
    ["an overlapping --cidr", ["cells", "add", "--stack", "prod-azure", "--cidr", "10.65.0.0/16", "--dry-run"], /cellplane:cells\.c004\.cidr: 10\.65\.0\.0\/16 overlaps cells\.c002\.cidr/],
    ["an unknown stack", ["cells", "list", "--stack", "prod-mars"], /no stack file .*Pulumi\.prod-mars\.yaml[\s\S]*prod-aws, prod-azure, prod-gcp/],
    ["an unknown option", ["cells", "add", "--stack", "prod-azure", "--cidrs", "10.90.0.0/16"], /unknown option '--cidrs'/],
  ];
  for (const [what, argv, message] of usage) {
    it(`exits 1 on ${what}, with the message and no stack trace (and a JSON error with --json)`, async () => {
      const r = await cellctl(argv);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(message);
      expect(r.stderr).to.not.match(STACK_TRACE);
      const json = await cellctl([...argv, "--json"]);
      expect(json.code).to.equal(1);
      const doc = JSON.parse(json.stdout);
      expect(doc.error).to.include({ exitCode: 1, kind: "user" });
      expect(doc.error.message).to.match(message);
    });
  }
});

describe("cellctl cells (real binding, child process)", function () {
  this.timeout(120_000);

  function spawnCellctl(args: string[], env: NodeJS.ProcessEnv = process.env) {
    const r = spawnSync(process.execPath, [CELLCTL, ...args], { encoding: "utf8", cwd: PROJECT_DIR, env, timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it("`cells list --stack prod-azure` prints the cells from the stack file, without the Pulumi CLI", () => {
    const r = spawnCellctl(["cells", "list", "--stack", "prod-azure"]);
    expect(r.code, r.stderr).to.equal(0);
    for (const [id, cidr] of [["c001", "10.64.0.0/16"], ["c002", "10.65.0.0/16"], ["c003", "10.66.0.0/16"]]) expect(r.stdout).to.match(new RegExp(`│ ${id} +│ ${cidr.replace(/\./g, "\\.")} +│ active`));
  });

  it("`cells add --dry-run --json` plans c004 offline: IP plan, config, resources of the new cell only", () => {
    const r = spawnCellctl(["cells", "add", "--stack", "prod-azure", "--dry-run", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).to.have.keys(["dryRun", "stack", "cell", "picked", "exists", "resumed", "config", "ipPlan", "warnings", "resources", "summary"]);
    expect(doc.warnings).to.deep.equal([]);
    expect(doc).to.include({ dryRun: true, stack: "prod-azure", exists: false });
    expect(doc.cell).to.include({ id: "c004", cidr: "10.67.0.0/16", state: "active" });
    expect(doc.config).to.deep.equal([{ key: "cellplane:cells.c004.cidr", value: "10.67.0.0/16" }]);
    expect(doc.ipPlan).to.include({ cellId: "c004", cidr: "10.67.0.0/16", serviceCidr: "172.20.0.0/16" });
    expect(doc.resources[0]).to.have.keys(["urn", "type", "name", "protect"]);
    expect(doc.resources.every((res: any) => res.name === "c004" || res.name.startsWith("c004-"))).to.equal(true);
    expect(doc.summary.resourceCount).to.equal(doc.resources.length);
    expect(doc.summary.byType["azure-native:network:NatGateway"]).to.equal(3);
  });

  it("exits 2 with the install hint and no stack trace when the Pulumi CLI is missing", () => {
    const nodeOnly = path.dirname(process.execPath);
    expect(readdirSync(nodeOnly).filter((f) => f.startsWith("pulumi"))).to.deep.equal([]);
    const dir = scratchProject();
    const file = path.join(dir, "Pulumi.prod-azure.yaml");
    const before = readFileSync(file, "utf8");
    const env = { HOME: process.env.HOME ?? tmpdir(), PATH: nodeOnly };
    for (const args of [
      ["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes"],
      ["cells", "retire", "--stack", "prod-azure", "--dir", dir, "--id", "c003"],
    ]) {
      const r = spawnCellctl(args, env);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include("spawn pulumi ENOENT");
      expect(r.stderr).to.include("https://www.pulumi.com/docs/install/").and.to.include("curl -fsSL https://get.pulumi.com | sh");
      expect(r.stderr).to.not.match(STACK_TRACE);
    }
    const json = spawnCellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes", "--json"], env);
    expect(json.code).to.equal(2);
    expect(JSON.parse(json.stdout).error).to.include({ exitCode: 2, kind: "cli-missing" });
    expect(readFileSync(file, "utf8")).to.equal(before);
    expect(existsSync(path.join(dir, ".pulumi"))).to.equal(false);
  });
});

describe("cellctl: exit codes, stack names and signals (issue 12, items 4, 12-14; issue 10)", function () {
  this.timeout(120_000);

  it("reports an add without the policy gate (--no-policy-pack) in its output and its JSON", async () => {
    const dir = scratchProject();
    const stack = deployed(dir);
    const human = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes", "--no-policy-pack"], { stack });
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.include("policy gate: SKIPPED (--no-policy-pack)");
    expect(stack.calls.filter((c) => c.method === "preview" || c.method === "up").map((c) => c.detail)).to.deep.equal(["", ""]);
    const json = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes", "--no-policy-pack", "--id", "c004", "--json"], { stack });
    expect(JSON.parse(json.stdout).policy).to.deep.equal({ packs: [], configs: [], skipped: true, weakened: [] });
  });

  it("says which mandatory policies an add's policy config weakens, and refuses a broken one before changing anything", async () => {
    const dir = scratchProject();
    const lenient = path.join(dir, "lenient.json");
    writeFileSync(lenient, JSON.stringify({ "stateful-resources-protected": "advisory" }));
    const stack = deployed(dir);
    const human = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes", "--policy-config", lenient], { stack });
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stderr).to.include("WARNING: ").and.to.include("weakens mandatory policies: stateful-resources-protected (mandatory -> advisory)");
    const json = await cellctl(["cells", "add", "--stack", "prod-azure", "--dir", dir, "--yes", "--id", "c004", "--policy-config", lenient, "--json"], { stack });
    expect(JSON.parse(json.stdout).policy.weakened).to.deep.equal([{ policy: "stateful-resources-protected", declared: "mandatory", effective: "advisory" }]);

    const typo = path.join(dir, "typo.json");
    writeFileSync(typo, JSON.stringify({ "stateful-resource-protected": "advisory" }));
    const fresh = deployed(scratchProject());
    const bad = await cellctl(["cells", "add", "--stack", "prod-azure", "--yes", "--policy-config", typo], { stack: fresh });
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include("stateful-resource-protected: no policy of that name in the pack");
    expect(fresh.calls).to.deep.equal([]);
  });

  const mistakes: [string, (dir: string) => string[], RegExp][] = [
    ["a YAML error", (dir) => (writeFileSync(path.join(dir, "Pulumi.bad.yaml"), "config:\n  cellplane:cloud: azure\n cellplane:region: [\n"), ["plan", "--stack", "bad", "--dir", dir]), /is not valid YAML at line \d+/],
    ["an empty stack file", (dir) => (writeFileSync(path.join(dir, "Pulumi.empty.yaml"), ""), ["plan", "--stack", "empty", "--dir", dir]), /Pulumi\.empty\.yaml is empty/],
    ["an unknown stack", (dir) => ["plan", "--stack", "prod-mars", "--dir", dir], /no stack file .*Pulumi\.prod-mars\.yaml[\s\S]*fix: use one of the stacks of this project \(prod-azure\)/],
    ["a stack name that is a path", () => ["plan", "--stack", "/../../etc/x"], /"\/\.\.\/\.\.\/etc\/x" is not a stack name[\s\S]*fix:/],
    ["a stack path on cells list", () => ["cells", "list", "--stack", "../prod-azure"], /"\.\.\/prod-azure" is not a stack name/],
    ["a missing --policy-config file", (dir) => ["plan", "--stack", "prod-azure", "--dir", dir, "--policy-config", path.join(dir, "nope.json")], /no policy config file .*nope\.json/],
    ["an unwritable --json path", (dir) => ["plan", "--stack", "prod-azure", "--dir", dir, "--json", path.join(dir, "no-such-dir", "plan.json")], /cannot write .*plan\.json \(ENOENT\); nothing was planned/],
    [
      "a secure: value under cellplane:",
      (dir) => {
        const file = path.join(dir, "Pulumi.prod-azure.yaml");
        writeFileSync(file, readFileSync(file, "utf8").replace(/^( {2}cellplane:region:).*$/m, "$1\n    secure: v1:AAAAbase64"));
        return ["cells", "list", "--stack", "prod-azure", "--dir", dir];
      },
      /cellplane:region: is an encrypted \(secure:\) value[\s\S]*fix: store it in plain text/,
    ],
    ["--stack omitted with several stack files", () => ["plan"], /which stack\? this project has 3 stack files: prod-aws, prod-azure, prod-gcp[\s\S]*--stack/],
  ];
  for (const [what, args, message] of mistakes) {
    it(`exits 1 (a user mistake, not 2) on ${what}, before planning anything`, async () => {
      const r = await cellctl(args(scratchProject()));
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(message);
      expect(r.stderr).to.not.match(STACK_TRACE);
      expect(r.stdout).to.equal("");
    });
  }

  it("plans the only stack of a project when --stack is omitted (there is no default stack)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cellctl-one-"));
    for (const f of ["Pulumi.yaml", "Pulumi.prod-aws.yaml"]) copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    const r = await cellctl(["plan", "--dir", dir]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include("cellplane plan: stack prod-aws (aws");
  });

  /** Spawns cellctl, sends SIGINT once it says it is planning, and resolves with how it ended. */
  function interrupted(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CELLCTL, ...args], { cwd: PROJECT_DIR });
      let stdout = "";
      let stderr = "";
      let sent = 0;
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (!sent && stderr.includes("Ctrl-C cancels")) {
          sent = Date.now();
          child.kill("SIGINT");
        }
      });
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - sent }));
    });
  }

  for (const args of [
    ["plan", "--stack", "prod-azure"],
    ["cells", "add", "--stack", "prod-azure", "--dry-run"],
  ]) {
    it(`Ctrl-C cancels \`cellctl ${args.join(" ")}\`: exit 2, "cancelled", no plan printed`, async () => {
      const r = await interrupted(args);
      expect(r.signal, r.stderr).to.equal(null);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include("error: cancelled (Ctrl-C); nothing was changed");
      expect(r.stdout).to.equal("");
      expect(r.ms).to.be.below(30_000); // generous on a loaded machine; a plan that ran to its end would have printed it
    });
  }
});
