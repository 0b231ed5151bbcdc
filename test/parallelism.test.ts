import { expect } from "chai";
import { ENGINE_PARALLEL, openStack, REGION_PARALLEL } from "../automation";
import { azureWrites, cellGraph, criticalPath, deployGraph, simulate } from "../bench/deploy";
import { sharedRun } from "./helpers";

/** What the Automation API's Stack received, per call. */
function fakeStack(calls: Record<string, any>[]) {
  const record = (op: string) => async (opts: Record<string, any>) => {
    calls.push({ op, ...opts });
    return { summary: { resourceChanges: {} }, changeSummary: {} };
  };
  return { up: record("up"), preview: record("preview"), destroy: record("destroy"), previewDestroy: record("previewDestroy") };
}

describe("engine parallelism is set explicitly (automation/parallelism.ts)", function () {
  this.timeout(120_000);

  it("passes --parallel to every preview, update and destroy, ENGINE_PARALLEL unless told otherwise", async () => {
    for (const [options, expected] of [[{}, ENGINE_PARALLEL], [{ parallel: 7 }, 7]] as const) {
      const stack = openStack("prod-azure", options);
      const calls: Record<string, any>[] = [];
      // The LocalWorkspace stack, replaced: no Pulumi CLI here.
      (stack as any).selected = Promise.resolve(fakeStack(calls));
      await stack.preview({});
      await stack.up({});
      await stack.previewDestroy({ target: ["urn:x"], targetDependents: true });
      await stack.destroy({ target: ["urn:x"], targetDependents: true });
      expect(calls.map((c) => [c.op, c.parallel])).to.deep.equal(["preview", "up", "previewDestroy", "destroy"].map((op) => [op, expected]));
    }
  });

  it("gives one cell (what the control plane adds) its unbounded deploy time, and a region within 1.05x of it and the example region (3 cells) within 1.05x of one cell", async () => {
    const run = await sharedRun("prod-azure");
    const graph = deployGraph(run.registrations.map((r) => ({ ...r, cell: true, aliases: r.aliases.length })));
    const cell = cellGraph(graph, "c001");
    expect(simulate(cell, ENGINE_PARALLEL, azureWrites)).to.equal(criticalPath(cell).seconds);
    // The example region (3 cells) at the control plane's setting: no slower than one cell alone.
    expect(simulate(graph, ENGINE_PARALLEL, azureWrites)).to.be.at.most(criticalPath(graph).seconds * 1.05);
    expect(REGION_PARALLEL).to.be.greaterThan(ENGINE_PARALLEL);
  });
});
