import { existsSync, mkdirSync, mkdtempSync, utimesSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as fc from "fast-check";
import { ConcurrentUpdateError } from "@pulumi/pulumi/automation";
import {
  addCell,
  AddCellResourcePlan,
  backoffCeiling,
  backoffDelay,
  BlastRadiusError,
  commandError,
  engineMessage,
  FileLease,
  forEachStack,
  InfraError,
  InMemoryLease,
  InMemoryStack,
  isConcurrentUpdate,
  isInCell,
  listCells,
  LOCKED_STDERR,
  nextCellId,
  outsideAddedCell,
  outsideRetiredCell,
  planAddCell,
  policyPacksFromEnv,
  prepareAddCell,
  Progress,
  realProgram,
  retireCell,
  StackFileConfig,
  urnOf,
  UserError,
} from "../automation";
import { ConfigError } from "../cells/config";
import { cidrInside, cidrsOverlap } from "../cells/plan/ipplan";
import { runProgram } from "../offline/run";
import { loadStackFile, PROJECT_DIR } from "../offline/stackfile";
import { exampleRaw, flatFromRaw } from "./helpers";

const STACK = "prod-azure";

/** A deployed prod-azure (c001..c003) in memory; the repo's stack file is only read. */
function azure(options: Partial<ConstructorParameters<typeof InMemoryStack>[1]> = {}): InMemoryStack {
  return new InMemoryStack(STACK, { config: loadStackFile(STACK).config, ...options });
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fake clock: sleeps return at once and are recorded. */
function fakeSleep() {
  const slept: number[] = [];
  return { slept, sleep: async (ms: number) => void slept.push(ms) };
}

const cellsOf = (s: InMemoryStack) => JSON.parse(s.allConfig()["cellplane:cells"]);
const urn = (types: string[], name: string) => urnOf(STACK, types, name);
const C001_VNET = urn(["cellplane:cells:Region", "cellplane:cells:Cell", "azure-native:network:VirtualNetwork"], "c001-vnet");
const C002_AKS = urn(["cellplane:cells:Region", "cellplane:cells:Cell", "azure-native:containerservice:ManagedCluster"], "c002-proxy-aks");

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

describe("automation: cell ids and CIDRs", function () {
  // The in-memory stack runs the real program under mocks (once per config): seconds each, more on a busy machine.
  this.timeout(180_000);
  it("gives the next id after the highest ever used, never a positional one, never a retired one", () => {
    expect(nextCellId(["c001", "c002", "c003"])).to.equal("c004");
    expect(nextCellId(["c003", "c001"])).to.equal("c004"); // a gap stays a gap
    expect(nextCellId(["c001", "c002"], ["c003"])).to.equal("c004"); // c003 was retired: not reused
    expect(nextCellId([])).to.equal("c001");
    expect(nextCellId(["edge1", "c007"])).to.equal("c008"); // ids of another form are left alone
    expect(nextCellId(["c999"])).to.equal("c1000");
  });

  it("lists the cells of the stack file with id, CIDR, state and capacity (offline)", async () => {
    const cells = await listCells(new StackFileConfig(STACK));
    expect(cells.map((c) => [c.id, c.cidr, c.state])).to.deep.equal([
      ["c001", "10.64.0.0/16", "active"],
      ["c002", "10.65.0.0/16", "active"],
      ["c003", "10.66.0.0/16", "active"],
    ]);
    expect(cells[1].capacity["data-plane"]).to.deep.equal({ maxNodesPerZone: 200, systemNodesPerZone: 1, maxPodsPerNode: 50, maxSurgePercent: 10 });
    expect(cells[0].capacity["data-plane"].maxNodesPerZone).to.equal(100);
  });

  it("refuses an add with an id YAML would not keep as a string, and explains a retired list YAML already mangled (issue 12, item 6)", async () => {
    for (const id of ["true", "no", "null"]) {
      const err = await rejection(prepareAddCell(new StackFileConfig(STACK), { id }));
      expect(err, id).to.be.instanceOf(UserError);
      expect(err.message).to.include("not a string").and.to.include("fix:");
    }
    const mangled = new InMemoryStack(STACK, { config: { ...loadStackFile(STACK).config, "cellctl:retiredCells": "[true]" }, deployed: false });
    const err = await rejection(listCells(mangled));
    expect(err.message).to.include("cellctl:retiredCells must be a list of cell ids").and.to.include("as a boolean or null: quote it");
  });

  it("refuses to list an invalid config, naming the property", async () => {
    const raw = exampleRaw(STACK);
    raw.cells.c002.cidr = "10.64.0.0/15";
    const err = await rejection(listCells(new InMemoryStack(STACK, { config: flatFromRaw(raw), deployed: false })));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include("cellplane:cells.c002.cidr: 10.64.0.0/15 overlaps cells.c001.cidr");
  });

  it("plans c004 with the next free /16 of the pool, validated, and the config it would write", async () => {
    const plan = await prepareAddCell(new StackFileConfig(STACK));
    expect(plan.cell).to.include({ id: "c004", cidr: "10.67.0.0/16", state: "active" });
    expect(plan.picked).to.deep.equal({ id: true, cidr: true });
    expect(plan.config).to.deep.equal([{ key: "cellplane:cells.c004.cidr", value: "10.67.0.0/16" }]);
    expect(plan.ipPlan.subnets).to.have.length(18);
    for (const s of plan.ipPlan.subnets) expect(cidrInside(s.cidr, "10.67.0.0/16"), s.cidr).to.equal(true);
  });

  it("allocates one cell after another without overlaps, inside the pool, with stable ids", async () => {
    const stack = azure();
    const added: { id: string; cidr: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await addCell(stack);
      added.push({ id: r.cell.id, cidr: r.cell.cidr });
    }
    expect(added.map((a) => a.id)).to.deep.equal(["c004", "c005"]);
    expect(added.map((a) => a.cidr)).to.deep.equal(["10.67.0.0/16", "10.68.0.0/16"]);
    const all = (await listCells(stack)).map((c) => c.cidr);
    for (const [i, a] of all.entries()) {
      expect(cidrInside(a, "10.64.0.0/10")).to.equal(true);
      for (const b of all.slice(i + 1)) expect(cidrsOverlap(a, b), `${a} / ${b}`).to.equal(false);
    }
  });

  it("fills the lowest free block of the pool first, whatever the ids", async () => {
    const raw = exampleRaw(STACK);
    delete raw.cells.c002; // 10.65.0.0/16 is free; c003 stays the highest id
    const plan = await prepareAddCell(new InMemoryStack(STACK, { config: flatFromRaw(raw) }));
    expect(plan.cell).to.include({ id: "c004", cidr: "10.65.0.0/16" });
  });

  const refusals: [string, Parameters<typeof prepareAddCell>[1], RegExp][] = [
    ["an overlapping CIDR", { cidr: "10.64.0.0/16" }, /cellplane:cells\.c004\.cidr: 10\.64\.0\.0\/16 overlaps cells\.c001\.cidr/],
    ["a CIDR outside the pool", { cidr: "192.168.0.0/16" }, /outside the address pool 10\.64\.0\.0\/10/],
    ["a malformed id", { id: "C-4" }, /"C-4" is not a valid cell id[\s\S]*fix:/],
    ["a new CIDR for an existing cell", { id: "c002", cidr: "10.90.0.0/16" }, /cell c002 already exists with 10\.65\.0\.0\/16; a cell's CIDR never changes/],
    ["new capacity for an existing cell", { id: "c002", capacity: { "data-plane": { maxNodesPerZone: 300 } } }, /cell c002 already exists with other capacity \(data-plane\.maxNodesPerZone=300\)/],
    ["a cell too small for its capacity", { cidr: "10.67.0.0/20" }, /needs \d+ addresses/],
  ];
  for (const [what, request, message] of refusals) {
    it(`refuses ${what} with a user error that says how to fix it`, async () => {
      const err = await rejection(prepareAddCell(new StackFileConfig(STACK), request));
      expect(err).to.be.instanceOf(UserError);
      expect(err.message).to.match(message);
      expect(err.message).to.include("fix:");
    });
  }

  it("runs the program under mocks and reports only the new cell's resources (planAddCell)", async function () {
    this.timeout(120_000);
    const plan: AddCellResourcePlan = await planAddCell(new StackFileConfig(STACK), { capacity: { proxy: { maxNodesPerZone: 20 } } });
    expect(plan.cell.id).to.equal("c004");
    expect(plan.cell.capacity.proxy.maxNodesPerZone).to.equal(20);
    expect(plan.config).to.deep.equal([
      { key: "cellplane:cells.c004.cidr", value: "10.67.0.0/16" },
      { key: "cellplane:cells.c004.clusters.proxy.maxNodesPerZone", value: "20" },
    ]);
    expect(plan.resources.length).to.equal(plan.summary.resourceCount).and.to.be.greaterThan(40);
    for (const r of plan.resources) expect(isInCell(r.urn, "c004"), r.urn).to.equal(true);
    expect(plan.resources.map((r) => r.type)).to.include("cellplane:cells:Cell");
    expect(plan.summary.byType["azure-native:network:Subnet"]).to.equal(18);
    expect(plan.summary.byType["azure-native:containerservice:ManagedCluster"]).to.equal(3);
    expect(plan.resources.filter((r) => r.protect).map((r) => r.type)).to.include.members(["azure-native:network:VirtualNetwork", "azure-native:containerservice:ManagedCluster"]);
  });
});

describe("automation: the blast-radius guard's URN rule", () => {
  const CELL = ["cellplane:cells:Region", "cellplane:cells:Cell"];
  it("puts the Cell component and its descendants inside, by type ancestry and name", () => {
    expect(isInCell(urn(CELL, "c004"), "c004")).to.equal(true);
    expect(isInCell(urn([...CELL, "azure-native:network:Subnet"], "c004-proxy-z1-nodes"), "c004")).to.equal(true);
    expect(isInCell(urn([...CELL, "cellplane:platform:Platform", "kubernetes:helm.sh/v3:Release"], "c004-proxy-istiod"), "c004")).to.equal(true);
    // The mocks' URN form (only the parent's type) is recognised too.
    expect(isInCell("urn:pulumi:prod-azure::cellplane::cellplane:cells:Cell$azure-native:network:Subnet::c004-proxy-z1-pods", "c004")).to.equal(true);
  });
  it("puts other cells, lookalike names and region-level resources outside", () => {
    expect(isInCell(urn(CELL, "c001"), "c004")).to.equal(false);
    expect(isInCell(urn([...CELL, "azure-native:network:Subnet"], "c0041-proxy-z1-nodes"), "c004")).to.equal(false);
    expect(isInCell(urn(["cellplane:cells:Region", "azure-native:dns:RecordSet"], "c004-ns"), "c004")).to.equal(false);
    expect(isInCell(urn(["pulumi:pulumi:Stack"], "cellplane-prod-azure"), "c004")).to.equal(false);
  });
});

describe("automation: addCell", function () {
  this.timeout(180_000);
  it("writes exactly the new cell's keys, leaves every other key untouched, previews, then runs up", async () => {
    const stack = azure();
    const before = stack.allConfig();
    const progress: Progress[] = [];
    const r = await addCell(stack, {}, { onProgress: (p) => progress.push(p) });

    // The half-added marker first, then the cell's key; the marker goes once the cell is up.
    expect(stack.calls.map((c) => c.method)).to.deep.equal(["setConfig", "setConfig", "preview", "up", "removeConfig"]);
    expect(stack.calls.map((c) => c.detail)).to.include.members(["cellctl:addingCells.c004=add", "cellplane:cells.c004.cidr=10.67.0.0/16", "cellctl:addingCells"]);
    const after = stack.allConfig();
    for (const key of Object.keys(before).filter((k) => k !== "cellplane:cells")) expect(after[key], key).to.equal(before[key]);
    expect(Object.keys(after).sort()).to.deep.equal(Object.keys(before).sort());
    expect(cellsOf(stack)).to.deep.equal({ ...JSON.parse(before["cellplane:cells"]), c004: { cidr: "10.67.0.0/16" } });

    expect(r).to.include({ stack: STACK, upRan: true, attempts: 1 });
    expect(r.configWritten).to.deep.equal([{ key: "cellplane:cells.c004.cidr", value: "10.67.0.0/16" }]);
    // What the real program declares for c004 (a mocked run), every one of it created.
    const c004 = (await stack.urns()).filter((u) => isInCell(u, "c004"));
    expect(c004.length).to.be.greaterThan(40);
    expect(r.resourceChanges?.create).to.equal(c004.length);
    expect(c004).to.include(urn(["cellplane:cells:Region", "cellplane:cells:Cell", "azure-native:containerservice:ManagedCluster"], "c004-proxy-aks"));

    // Progress: phases in order, resources done / total from the engine events.
    expect([...new Set(progress.map((p) => p.phase))]).to.deep.equal(["config", "preview", "up", "done"]);
    const up = progress.filter((p) => p.phase === "up");
    expect(up.every((p) => p.total === c004.length && p.done <= p.total)).to.equal(true);
    expect(up[up.length - 1].done).to.equal(c004.length);
    expect(up.map((p) => p.current)).to.include("create c004-vnet");
  });

  it("writes capacity overrides as typed path keys", async () => {
    const stack = azure();
    await addCell(stack, { capacity: { "data-plane": { maxNodesPerZone: 50 } } });
    expect(stack.calls.filter((c) => c.method === "setConfig").map((c) => c.detail)).to.deep.equal([
      "cellctl:addingCells.c004=add",
      "cellplane:cells.c004.cidr=10.67.0.0/16",
      "cellplane:cells.c004.clusters.data-plane.maxNodesPerZone=50",
    ]);
    expect(cellsOf(stack).c004).to.deep.equal({ cidr: "10.67.0.0/16", clusters: { "data-plane": { maxNodesPerZone: 50 } } });
  });

  it("is idempotent: again for a cell that is up to date, it writes no config and skips up", async () => {
    const stack = azure();
    await addCell(stack, { id: "c004" });
    const config = stack.allConfig();
    stack.calls.length = 0;
    const again = await addCell(stack, { id: "c004", cidr: "10.67.0.0/16" });
    expect(again).to.include({ upRan: false, resourceChanges: null });
    expect(again.configWritten).to.deep.equal([]);
    expect(stack.calls.map((c) => c.method)).to.deep.equal(["preview"]);
    expect(stack.allConfig()).to.deep.equal(config);
  });

  it("resumes an update that failed halfway: the config stays, the same call finishes the cell", async () => {
    const stack = azure().failUpAfter(3, "azure-native:containerservice:ManagedCluster (c004-proxy-aks): QuotaExceeded: regional vCPU quota");
    const err = await rejection(addCell(stack, { id: "c004" }));
    expect(err).to.be.instanceOf(InfraError).and.to.have.property("kind", "engine");
    expect(err.message).to.include("QuotaExceeded: regional vCPU quota");
    expect(err.message).to.include("the config of cell c004 stays in stack prod-azure");
    expect(cellsOf(stack).c004).to.deep.equal({ cidr: "10.67.0.0/16" });
    expect((await stack.urns()).filter((u) => isInCell(u, "c004"))).to.have.length(3);

    stack.calls.length = 0;
    const r = await addCell(stack, { id: "c004" });
    expect(stack.calls.map((c) => c.method)).to.deep.equal(["preview", "up", "removeConfig"]);
    expect(r.resourceChanges?.create).to.equal((await stack.urns()).filter((u) => isInCell(u, "c004")).length - 3);
  });

  it("refuses a preview that changes resources outside the new cell, naming them; nothing deployed, config reverted", async () => {
    const stack = azure().injectSteps([
      { op: "update", urn: C001_VNET, type: "azure-native:network:VirtualNetwork" },
      { op: "delete", urn: C002_AKS, type: "azure-native:containerservice:ManagedCluster" },
    ]);
    const before = stack.allConfig();
    const err = await rejection(addCell(stack));
    expect(err).to.be.instanceOf(BlastRadiusError);
    expect((err as BlastRadiusError).outside).to.deep.equal([
      { op: "update", urn: C001_VNET, type: "azure-native:network:VirtualNetwork" },
      { op: "delete", urn: C002_AKS, type: "azure-native:containerservice:ManagedCluster" },
    ]);
    expect(err.message).to.include(`update   ${C001_VNET}`).and.to.include(`delete   ${C002_AKS}`);
    expect(err.message).to.include("refusing to add cell c004 to stack prod-azure");
    expect(stack.calls.map((c) => c.method)).to.deep.equal(["setConfig", "setConfig", "preview", "removeConfig", "removeConfig"]);
    expect(stack.allConfig()).to.deep.equal(before);
  });

  it("refuses a create outside the cell too, but not a stack output change or a read", async () => {
    const dns = urn(["cellplane:cells:Region", "azure-native:dns:RecordSet"], "c004-ns");
    const outside = await rejection(addCell(azure().injectSteps([{ op: "create", urn: dns, type: "azure-native:dns:RecordSet" }])));
    expect((outside as BlastRadiusError).outside.map((o) => o.urn)).to.deep.equal([dns]);

    const harmless = azure().injectSteps([{ op: "update", urn: urn(["pulumi:pulumi:Stack"], "cellplane-prod-azure"), type: "pulumi:pulumi:Stack" }]);
    const r = await addCell(harmless);
    expect(r.upRan).to.equal(true);
    expect(r.preview.read).to.equal(1); // the program's StackReference to its own last deployment
  });

  it("cancels an update that, unlike its preview, changes something outside the new cell, and names it", async () => {
    const other = urn(["cellplane:cells:Region", "cellplane:cells:Cell", "azure-native:network:VirtualNetwork"], "c001-vnet");
    const stack = azure().driftBeforeUp([{ op: "update", urn: other, type: "azure-native:network:VirtualNetwork" }]);
    const err = await rejection(addCell(stack));
    expect(err).to.be.instanceOf(BlastRadiusError);
    expect((err as BlastRadiusError).outside.map((o) => o.urn)).to.deep.equal([other]);
    expect(err.message).to.include("the update, unlike its preview, started changing 1 resource(s) outside the cell");
    // Cancelled at that step: the new cell's resources were not created, and its config stays for a resume.
    expect((await stack.urns()).filter((u) => isInCell(u, "c004") && !u.endsWith("::c004"))).to.deep.equal([]);
    expect(cellsOf(stack).c004).to.deep.equal({ cidr: "10.67.0.0/16" });
  });

  it("lets the first cell of an empty stack create the region scaffolding (stack, Region and its DNS zone, default provider)", async () => {
    const raw = exampleRaw(STACK);
    delete raw.cells;
    const stack = new InMemoryStack(STACK, { config: flatFromRaw(raw), deployed: false });
    const r = await addCell(stack);
    expect(r.cell).to.include({ id: "c001", cidr: "10.64.0.0/16" });
    expect(await stack.urns()).to.include.members([urn(["cellplane:cells:Region"], "region"), urn(["cellplane:cells:Region", "azure-native:dns:Zone"], "region-dns-zone")]);
  });

  it("runs the project's policy pack with its config by default; opting out is explicit and reported (issue 12, item 4)", async () => {
    const gated = azure();
    const r = await addCell(gated);
    const expected = `${path.join(PROJECT_DIR, "policies")} config=${path.join(PROJECT_DIR, "policies", "policy-config.json")}`;
    expect(gated.calls.filter((c) => c.method === "preview" || c.method === "up").map((c) => c.detail)).to.deep.equal([expected, expected]);
    expect(r.policy).to.deep.equal({ packs: [path.join(PROJECT_DIR, "policies")], configs: [path.join(PROJECT_DIR, "policies", "policy-config.json")], skipped: false });

    const ungated = azure();
    const notes: string[] = [];
    const skipped = await addCell(ungated, {}, { policyPacks: [], onProgress: (p) => p.message && notes.push(p.message) });
    expect(skipped.policy).to.deep.equal({ packs: [], configs: [], skipped: true });
    expect(notes.join("\n")).to.include("policy gate skipped");
  });

  it("passes the policy pack to preview and up when configured (option or CELLPLANE_POLICY_PACK)", async () => {
    const stack = azure();
    await addCell(stack, {}, { policyPacks: ["/srv/cellplane/policies"] });
    expect(stack.calls.filter((c) => c.method === "preview" || c.method === "up").map((c) => c.detail)).to.deep.equal(["/srv/cellplane/policies", "/srv/cellplane/policies"]);
    expect(policyPacksFromEnv({ CELLPLANE_POLICY_PACK: "/srv/p" })).to.deep.equal(["/srv/p"]);
    expect(policyPacksFromEnv({})).to.deep.equal([]);
  });

  it("honours cancellation: before anything, nothing is written; during up, the config stays for a resume", async () => {
    const early = azure();
    const aborted = new AbortController();
    aborted.abort();
    const e1 = await rejection(addCell(early, {}, { signal: aborted.signal }));
    expect(e1).to.be.instanceOf(InfraError).and.to.have.property("kind", "cancelled");
    expect(early.calls).to.deep.equal([]);

    const late = azure();
    const controller = new AbortController();
    const e2 = await rejection(addCell(late, {}, { signal: controller.signal, onProgress: (p) => p.phase === "up" && p.done === 2 && controller.abort() }));
    expect(e2).to.have.property("kind", "cancelled");
    expect(e2.message).to.include("cancelled during the update of cell c004");
    expect(cellsOf(late).c004).to.deep.equal({ cidr: "10.67.0.0/16" });
  });
});

describe("automation: a locked stack", function () {
  this.timeout(180_000);
  it("is a real ConcurrentUpdateError, made by the Automation API's own factory, for Pulumi Cloud and DIY backends", () => {
    for (const text of Object.values(LOCKED_STDERR)) {
      const err = commandError(text);
      expect(err).to.be.instanceOf(ConcurrentUpdateError);
      expect(isConcurrentUpdate(err)).to.equal(true);
      expect(engineMessage(err)).to.equal(text);
    }
    expect(isConcurrentUpdate(new Error("error: [409] Conflict: Another update is currently in progress."))).to.equal(true);
    expect(isConcurrentUpdate(commandError("error: QuotaExceeded"))).to.equal(false);
  });

  it("is retried with full-jitter backoff: each delay in [0, min(max, base * 2^n)]", async () => {
    const stack = azure().lockedFor(3);
    const clock = fakeSleep();
    const random = seeded(42);
    const retry = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 3000, random, sleep: clock.sleep };
    const notes: string[] = [];
    const r = await addCell(stack, {}, { retry, onProgress: (p) => p.phase === "retry" && notes.push(p.message ?? "") });
    expect(r.attempts).to.equal(4);
    expect(stack.engineRuns).to.equal(5); // 3 locked previews, then preview and up
    expect(clock.slept).to.have.length(3);
    clock.slept.forEach((ms, n) => expect(ms).to.be.within(0, Math.min(3000, 1000 * 2 ** n)));
    // The same seed gives the same delays: the schedule is reproducible.
    const again = seeded(42);
    expect(clock.slept).to.deep.equal([0, 1, 2].map((n) => backoffDelay(n, { baseDelayMs: 1000, maxDelayMs: 3000, random: again })));
    expect(notes[0]).to.match(/^stack prod-azure is locked: retry 1 of 4 in \d+\.\d s$/);
  });

  it("gives up after the configured attempts with a clear error, and reverts the config", async () => {
    const stack = azure().lockedFor(10, "diy");
    const before = stack.allConfig();
    const clock = fakeSleep();
    const err = await rejection(addCell(stack, {}, { retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 10_000, random: () => 0.999, sleep: clock.sleep } }));
    expect(err).to.be.instanceOf(InfraError).and.to.have.property("kind", "stack-locked");
    expect(err.message).to.match(/stack prod-azure is locked by another update; gave up after 4 attempts/);
    expect(err.message).to.include("pulumi cancel --stack prod-azure");
    expect(stack.engineRuns).to.equal(4);
    expect(clock.slept).to.deep.equal([99, 199, 399]);
    expect(stack.allConfig()).to.deep.equal(before);
  });

  it("keeps every delay within its bounds (property)", () => {
    fc.assert(
      fc.property(fc.nat(40), fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 600_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, base, max, r) => {
        const d = backoffDelay(n, { baseDelayMs: base, maxDelayMs: max, random: () => r });
        return d >= 0 && d <= backoffCeiling(n, { baseDelayMs: base, maxDelayMs: max }) && d <= max;
      }),
    );
  });

  it("stops waiting when cancelled", async () => {
    const controller = new AbortController();
    const stack = azure().lockedFor(5);
    const err = await rejection(addCell(stack, {}, { signal: controller.signal, retry: { sleep: async () => controller.abort() } }));
    expect(err).to.have.property("kind", "cancelled");
    expect(stack.engineRuns).to.equal(1);
  });
});

describe("automation: retireCell", function () {
  this.timeout(180_000);
  const c003 = async (s: InMemoryStack) => (await s.urns()).filter((u) => isInCell(u, "c003"));

  it("phase 1 marks an active cell draining in config, and changes nothing else", async () => {
    const stack = azure();
    const before = stack.allConfig();
    const r = await retireCell(stack, "c003");
    expect(r).to.include({ phase: "draining", cell: "c003" });
    expect(r.configWritten).to.deep.equal([{ key: "cellplane:cells.c003.state", value: "draining" }]);
    expect(stack.engineRuns).to.equal(0);
    expect(cellsOf(stack)).to.deep.equal({ ...JSON.parse(before["cellplane:cells"]), c003: { cidr: "10.66.0.0/16", state: "draining" } });
    expect((await listCells(stack)).find((c) => c.id === "c003")?.state).to.equal("draining");
  });

  it("refuses the destroy phase while the cell is active, and does nothing without --force", async () => {
    const stack = azure();
    const err = await rejection(retireCell(stack, "c003", { force: true }));
    expect(err).to.be.instanceOf(UserError);
    expect(err.message).to.include("cell c003 is active; retiring is two-phase");
    expect(stack.calls).to.deep.equal([]);

    await retireCell(stack, "c003");
    stack.calls.length = 0;
    const again = await retireCell(stack, "c003");
    expect(again.phase).to.equal("draining");
    expect(stack.calls).to.deep.equal([]);
  });

  it("refuses to destroy protected resources unless told to unprotect them, and lists them", async () => {
    const stack = azure();
    await retireCell(stack, "c003");
    stack.calls.length = 0;
    const err = await rejection(retireCell(stack, "c003", { force: true }));
    expect(err).to.be.instanceOf(UserError);
    expect(stack.calls.map((c) => c.method)).to.deep.equal(["listResources"]);
    const protectedUrns = (await stack.listResources()).filter((r) => r.protect && isInCell(r.urn, "c003")).map((r) => r.urn);
    expect(protectedUrns.length).to.be.greaterThan(4);
    for (const u of protectedUrns) expect(err.message).to.include(u);
    expect(err.message).to.include("pulumi state unprotect --stack prod-azure --yes");
    expect(err.message).to.include("--unprotect");
  });

  it("with force and unprotect, destroys only the cell, reports what it unprotected, removes its config and retires its id", async () => {
    const stack = azure();
    const others = (await stack.urns()).filter((u) => !isInCell(u, "c003"));
    const mine = await c003(stack);
    const protectedMine = (await stack.listResources()).filter((r) => r.protect && isInCell(r.urn, "c003")).map((r) => r.urn);
    await retireCell(stack, "c003");
    const r = await retireCell(stack, "c003", { force: true, unprotect: true });
    expect(r.phase).to.equal("retired");
    expect([...r.unprotected].sort()).to.deep.equal([...protectedMine].sort());
    expect([...r.destroyed].sort()).to.deep.equal([...mine].sort());
    expect(await stack.urns()).to.deep.equal(others);
    expect(r.configRemoved).to.deep.equal(["cellplane:cells.c003"]);
    expect(Object.keys(cellsOf(stack))).to.deep.equal(["c001", "c002"]);
    expect(JSON.parse(stack.allConfig()["cellctl:retiredCells"])).to.deep.equal(["c003"]);
    const destroy = stack.calls.find((c) => c.method === "destroy");
    expect(destroy?.detail.split(",").sort()).to.deep.equal([...mine].sort());

    // The retired id is never given out again; its addresses are.
    const next = await prepareAddCell(stack);
    expect(next.cell).to.include({ id: "c004", cidr: "10.66.0.0/16" });
    const reuse = await rejection(prepareAddCell(stack, { id: "c003" }));
    expect(reuse.message).to.include("cell id c003 was retired from stack prod-azure; ids are never reused");
  });

  it("refuses a destroy that reaches outside the cell, and protects the resources again", async () => {
    // A region-level record that depends on c003's VNET: destroying the cell would take it along.
    const dnsUrn = urn(["cellplane:cells:Region", "azure-native:dns:RecordSet"], "region-c003-delegation");
    const stack = azure({
      program: async (config, name) => {
        const model = await realProgram(config, name);
        const vnet = model.find((r) => r.urn.endsWith("::c003-vnet"));
        const region = model.find((r) => r.type === "cellplane:cells:Region");
        return vnet && region ? [...model, { urn: dnsUrn, type: "azure-native:dns:RecordSet", parent: region.urn, protect: false, inputs: {}, dependencies: [vnet.urn] }] : model;
      },
    });
    await retireCell(stack, "c003");
    const before = await stack.urns();
    const protectedBefore = (await stack.listResources()).filter((r) => r.protect && isInCell(r.urn, "c003")).length;
    const err = await rejection(retireCell(stack, "c003", { force: true, unprotect: true }));
    expect(err).to.be.instanceOf(BlastRadiusError);
    expect((err as BlastRadiusError).outside).to.deep.equal([{ op: "delete", urn: dnsUrn, type: "azure-native:dns:RecordSet" }]);
    expect(await stack.urns()).to.deep.equal(before);
    expect((await stack.listResources()).filter((r) => r.protect && isInCell(r.urn, "c003"))).to.have.length(protectedBefore);
    expect(cellsOf(stack).c003.state).to.equal("draining");
  });

  it("names the cells it has when asked for one it does not", async () => {
    const err = await rejection(retireCell(azure(), "c009"));
    expect(err).to.be.instanceOf(UserError);
    expect(err.message).to.include("stack prod-azure has no cell c009").and.to.include("c001, c002, c003");
  });
});

describe("automation: forEachStack", () => {
  it("runs at most `concurrency` stacks at once, keeps the order, and never fails fast", async () => {
    let running = 0;
    let peak = 0;
    const stacks = ["r1", "r2", "r3", "r4", "r5", "r6", "r7"];
    const results = await forEachStack(
      stacks,
      async (stack) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        if (stack === "r2" || stack === "r6") throw new Error(`${stack} is down`);
        return stack.toUpperCase();
      },
      { concurrency: 3 },
    );
    expect(peak).to.equal(3);
    expect(results.map((r) => r.stack)).to.deep.equal(stacks);
    expect(results.map((r) => (r.ok ? r.value : r.error.message))).to.deep.equal(["R1", "r2 is down", "R3", "R4", "R5", "r6 is down", "R7"]);
  });

  it("lists the cells of every example region", async () => {
    const results = await forEachStack(["prod-azure", "prod-aws", "prod-gcp", "prod-nowhere"], (s) => listCells(new StackFileConfig(s, PROJECT_DIR)), { concurrency: 2 });
    expect(results.map((r) => (r.ok ? r.value.length : r.error.constructor.name))).to.deep.equal([3, 2, 2, "UserError"]);
  });
});

describe("automation: concurrent callers on one stack (issue 12, items 1-3)", function () {
  this.timeout(180_000);
  /** Every callers' view at the end: ids, CIDRs, retired ids. */
  const snapshot = async (stack: InMemoryStack) => {
    const region = await listCells(stack);
    return { cells: region, retired: JSON.parse(stack.allConfig()["cellctl:retiredCells"] ?? "[]") as string[] };
  };
  const disjoint = (cidrs: string[]) => cidrs.every((a, i) => cidrs.slice(i + 1).every((b) => !cidrsOverlap(a, b)));

  it("two concurrent adds get distinct ids and disjoint CIDRs, and both cells are deployed", async () => {
    const stack = await azure().ready();
    const [a, b] = await Promise.all([addCell(stack), addCell(stack)]);
    expect(a.cell.id).to.not.equal(b.cell.id);
    expect(cidrsOverlap(a.cell.cidr, b.cell.cidr)).to.equal(false);
    const { cells } = await snapshot(stack);
    expect(cells.map((c) => c.id)).to.include.members([a.cell.id, b.cell.id]);
    expect(disjoint(cells.map((c) => c.cidr))).to.equal(true);
    const urns = await stack.urns();
    for (const id of [a.cell.id, b.cell.id]) expect(urns).to.include(urn(["cellplane:cells:Region", "cellplane:cells:Cell"], id));
  });

  it("two concurrent adds with different explicit ids and no CIDR write disjoint CIDRs", async () => {
    const stack = await azure().ready();
    const [a, b] = await Promise.all([addCell(stack, { id: "c004" }), addCell(stack, { id: "c005" })]);
    expect(cidrsOverlap(a.cell.cidr, b.cell.cidr)).to.equal(false);
    expect(cellsOf(stack).c004.cidr).to.not.equal(cellsOf(stack).c005.cidr);
  });

  it("a cancelled add never removes the entry another add wrote", async () => {
    const stack = await azure().ready();
    const controller = new AbortController();
    const first = addCell(stack, {}, { onProgress: (p) => p.phase === "preview" && controller.abort() });
    const second = rejection(addCell(stack, {}, { signal: controller.signal }));
    const [done, err] = await Promise.all([first, second]);
    expect(err).to.have.property("kind", "cancelled");
    expect(cellsOf(stack)[done.cell.id]).to.deep.equal({ cidr: done.cell.cidr });
    expect(await stack.urns()).to.include(urn(["cellplane:cells:Region", "cellplane:cells:Cell"], done.cell.id));
  });

  it("two concurrent retires lose no retired id, and the id is never handed out again", async () => {
    const stack = await azure().ready();
    await retireCell(stack, "c002");
    await retireCell(stack, "c003");
    await Promise.all([retireCell(stack, "c002", { force: true, unprotect: true }), retireCell(stack, "c003", { force: true, unprotect: true })]);
    const { cells, retired } = await snapshot(stack);
    expect([...retired].sort()).to.deep.equal(["c002", "c003"]);
    expect(cells.map((c) => c.id)).to.deep.equal(["c001"]);
    expect((await prepareAddCell(stack)).cell.id).to.equal("c004");
  });

  it("adds and retires running at once: distinct ids, disjoint CIDRs, no lost retired id, no entry removed that another call wrote", async () => {
    const stack = await azure().ready();
    await retireCell(stack, "c003");
    const results = await Promise.all([addCell(stack), retireCell(stack, "c003", { force: true, unprotect: true }), addCell(stack)]);
    const added = [results[0], results[2]] as Awaited<ReturnType<typeof addCell>>[];
    const { cells, retired } = await snapshot(stack);
    expect(retired).to.deep.equal(["c003"]);
    expect(new Set(added.map((a) => a.cell.id)).size).to.equal(2);
    for (const a of added) {
      expect(a.cell.id).to.not.equal("c003");
      expect(cells.map((c) => c.id)).to.include(a.cell.id);
    }
    expect(cells.map((c) => c.id)).to.include.members(["c001", "c002"]);
    expect(disjoint(cells.map((c) => c.cidr))).to.equal(true);
  });

  it("holds one lease per stack: the second caller waits for the first to finish", async () => {
    const lease = new InMemoryLease();
    const order: string[] = [];
    await Promise.all([
      lease.withLease(STACK, async () => {
        order.push("a-start");
        await new Promise((r) => setTimeout(r, 20));
        order.push("a-end");
      }),
      lease.withLease(STACK, async () => void order.push("b")),
    ]);
    expect(order).to.deep.equal(["a-start", "a-end", "b"]);
  });

  it("a file lease keeps two holders apart and is released after a failure", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cellctl-lease-"));
    const lease = new FileLease(dir);
    const order: string[] = [];
    const slow = lease.withLease(STACK, async () => {
      order.push("a-start");
      await new Promise((r) => setTimeout(r, 300));
      order.push("a-end");
      throw new Error("boom");
    });
    await new Promise((r) => setTimeout(r, 50));
    const fast = new FileLease(dir).withLease(STACK, async () => void order.push("b"));
    await Promise.allSettled([slow, fast]);
    expect(order).to.deep.equal(["a-start", "a-end", "b"]);
    expect(existsSync(lease.lockPath(STACK))).to.equal(false);
    // Leases of different stacks are independent, in one process too.
    const both = await Promise.all(["prod-azure", "prod-aws"].map((name) => lease.withLease(name, async () => new Promise((r) => setTimeout(() => r(name), 100)))));
    expect(both).to.deep.equal(["prod-azure", "prod-aws"]);
  });

  it("a file lease left behind by a crashed holder is taken over once stale", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cellctl-lease-"));
    const lease = new FileLease(dir, { staleMs: 2_000, waitMs: 10_000 });
    mkdirSync(lease.lockPath(STACK), { recursive: true });
    const past = new Date(Date.now() - 60_000);
    utimesSync(lease.lockPath(STACK), past, past);
    expect(await lease.withLease(STACK, async () => "taken over")).to.equal("taken over");
    // A fresh lock is not: the wait ends with a clear error.
    mkdirSync(lease.lockPath(STACK));
    const err = await rejection(new FileLease(dir, { waitMs: 300 }).withLease(STACK, async () => "never"));
    expect(err).to.have.property("kind", "stack-locked");
    expect(err.message).to.include("held by another cellctl run");
  });

  it("crash recovery: the same request finishes a half-added cell; an add without an id names it", async () => {
    const stack = await azure().ready();
    // A crash after the first config write of `add --capacity ...`: the marker and the CIDR are there, the capacity is not.
    await stack.setConfig("cellctl:addingCells.c004", "add", { path: true });
    await stack.setConfig("cellplane:cells.c004.cidr", "10.67.0.0/16", { path: true });
    const request = { id: "c004", capacity: { "data-plane": { maxNodesPerZone: 50 } } };

    const noId = await rejection(addCell(stack, { capacity: request.capacity }));
    expect(noId).to.be.instanceOf(UserError);
    expect(noId.message).to.include("half-added cell").and.to.include("--id c004");

    const r = await addCell(stack, request);
    expect(r.upRan).to.equal(true);
    expect(cellsOf(stack).c004).to.deep.equal({ cidr: "10.67.0.0/16", clusters: { "data-plane": { maxNodesPerZone: 50 } } });
    expect(stack.allConfig()["cellctl:addingCells"]).to.equal(undefined);
    // Finished: the same request again is a no-op, and a different capacity is refused as before.
    expect((await addCell(stack, request)).upRan).to.equal(false);
    const other = await rejection(addCell(stack, { id: "c004", capacity: { "data-plane": { maxNodesPerZone: 60 } } }));
    expect(other.message).to.include("already exists with other capacity");
  });
});

describe("automation: options and the guard's ops (issue 12, items 15-16)", function () {
  this.timeout(180_000);
  it("refuses a concurrency that is not a whole number of at least 1", async () => {
    for (const concurrency of [NaN, 0, -1, 1.5, Infinity]) {
      const err = await rejection(forEachStack(["r1"], async () => 1, { concurrency }));
      expect(err, String(concurrency)).to.be.instanceOf(RangeError);
      expect(err.message).to.include("concurrency must be a whole number");
    }
  });

  it("refuses a retry policy that would never give up or never wait, before writing anything", async () => {
    for (const retry of [{ attempts: NaN }, { attempts: 0 }, { baseDelayMs: -1 }, { maxDelayMs: Infinity }]) {
      const stack = azure();
      const err = await rejection(addCell(stack, {}, { retry }));
      expect(err, JSON.stringify(retry)).to.be.instanceOf(RangeError);
      expect(err.message).to.include("invalid retry policy");
      expect(stack.calls).to.deep.equal([]);
    }
  });

  it("treats read-replacement and discard of another cell's resource as a change outside the cell", async () => {
    for (const op of ["read-replacement", "discard", "discard-replaced", "refresh"] as const) {
      const steps = [{ op, urn: C001_VNET, type: "azure-native:network:VirtualNetwork" }];
      expect(outsideAddedCell(steps, "c004"), op).to.have.length(1);
      expect(outsideRetiredCell(steps, "c003"), op).to.have.length(1);
    }
    for (const op of ["same", "read"] as const) {
      expect(outsideAddedCell([{ op, urn: C001_VNET, type: "azure-native:network:VirtualNetwork" }], "c004")).to.deep.equal([]);
    }
    const err = await rejection(addCell(azure().injectSteps([{ op: "discard", urn: C002_AKS, type: "azure-native:containerservice:ManagedCluster" }])));
    expect(err).to.be.instanceOf(BlastRadiusError);
  });
});

describe("automation: the in-memory stack runs the real program (issue 10)", function () {
  this.timeout(180_000);
  for (const name of ["prod-aws", "prod-gcp"]) {
    it(`deploys what the program declares for ${name}, and adds a cell there through the guard`, async () => {
      const stack = await new InMemoryStack(name, { config: loadStackFile(name).config }).ready();
      const { registrations } = await runProgram({ stack: name, config: loadStackFile(name).config, program: (await import("../cells/program")).program });
      expect(await stack.urns()).to.include.members(registrations.map((r) => r.urn));
      const r = await addCell(stack);
      expect(r.cell.id).to.match(/^c\d{3}$/);
      expect((await stack.urns()).some((u) => isInCell(u, r.cell.id))).to.equal(true);
    });
  }
});
