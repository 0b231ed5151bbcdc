import { readFileSync } from "node:fs";
import { expect } from "chai";
import { program } from "../cells/program";
import { parse } from "yaml";
import { RunResult, runProgram } from "../offline/run";
import { loadStackFile, stackFilePath } from "../offline/stackfile";

export const EXAMPLE_STACKS = ["prod-azure", "prod-aws", "prod-gcp"] as const;

/** The `cellplane:` part of an example stack file as a raw object (keys without the namespace). */
export function exampleRaw(stack: string): Record<string, any> {
  const doc = parse(readFileSync(stackFilePath(stack), "utf8")) as { config: Record<string, unknown> };
  const raw: Record<string, any> = {};
  for (const [k, v] of Object.entries(doc.config)) if (k.startsWith("cellplane:")) raw[k.slice("cellplane:".length)] = v;
  return structuredClone(raw);
}

/** Turns a raw object back into the flat config map the engine hands the program. */
export function flatFromRaw(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [`cellplane:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}

/*
 * One mocked run of the real program per example stack, shared by every test file that
 * only reads it (mocha runs files in one process). A run is a few seconds per stack;
 * re-running it per describe block made the suite grow with every cloud. Tests must not
 * mutate what they get; a test that needs another config runs its own.
 */
const runs = new Map<string, Promise<RunResult>>();

export function sharedRun(stack: string): Promise<RunResult> {
  let run = runs.get(stack);
  if (!run) {
    run = (async () => {
      const { program } = await import("../cells/program");
      return runProgram({ ...loadStackFile(stack), program });
    })();
    runs.set(stack, run);
  }
  return run;
}

/**
 * Runs `stack` with one more cell and asserts what users rely on when a region
 * grows: every added resource belongs to the new cell, and no existing resource's
 * inputs change (the Region component's own bookkeeping aside).
 */
export async function expectAddedCellTouchesNothingElse(run: RunResult, stack: string, cell: { id: string; cidr: string }, minAdded: number): Promise<void> {
  const raw = exampleRaw(stack);
  raw.cells[cell.id] = { cidr: cell.cidr };
  const bigger = await runProgram({ stack, config: flatFromRaw(raw), program });
  const before = new Map(run.registrations.map((r) => [r.urn, r]));
  const added = bigger.registrations.filter((r) => !before.has(r.urn));
  expect(added.length).to.be.greaterThan(minAdded - 1);
  for (const r of added) expect(r.urn, r.urn).to.match(new RegExp(`(Cell::${cell.id}|-${cell.id}-|::${cell.id})`));
  for (const r of bigger.registrations.filter((x) => before.has(x.urn))) {
    if (r.type === "cellplane:cells:Region") continue;
    expect(r.inputs, r.urn).to.deep.equal(before.get(r.urn)!.inputs);
  }
}
