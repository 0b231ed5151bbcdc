import { nextFreeCidr } from "../cells/plan/ipplan";
import { loadStackFile } from "../offline/stackfile";

/** What the benchmark keeps of a registration: the deploy model's graph and the types floor's inputs. */
export interface BareRegistration {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  /** Registered under a Cell (replicated per cell), not at region level. */
  cell: boolean;
  inputs: Record<string, unknown>;
  dependencies: string[];
  provider: string | null;
  aliases: number;
}

/**
 * Cell prefix of the benchmark: 128 blocks in prod-azure's /10 pool, so the same cell
 * shape serves N = 1 to 100 and per-resource figures compare like with like.
 */
export const BENCH_CELL_PREFIX = 17;

/**
 * The flat config of Pulumi.prod-azure.yaml with its cells replaced by N cells c001..cNNN,
 * each carved from the stack's address pool the way `cellctl cells add` proposes blocks.
 */
export function azureStackWithCells(n: number, opts: { separatePools?: boolean } = {}): Record<string, string> {
  const file = loadStackFile("prod-azure");
  const pool = file.config["cellplane:addressPool"];
  const cells: Record<string, { cidr: string }> = {};
  const taken: string[] = [];
  for (let i = 1; i <= n; i++) {
    const next = nextFreeCidr(pool, taken, BENCH_CELL_PREFIX);
    if (!next.ok) throw new Error(`bench: ${pool} has no room for ${n} /${BENCH_CELL_PREFIX} cells`);
    taken.push(next.value);
    cells[`c${String(i).padStart(3, "0")}`] = { cidr: next.value };
  }
  // New cells create their pools with their clusters (none is listed in azure.separatePools);
  // `separatePools` lists them all: the layout of cells deployed before, the inherent chain's reference.
  const azure = JSON.parse(file.config["cellplane:azure"]) as Record<string, unknown>;
  azure.separatePools = opts.separatePools ? Object.keys(cells) : [];
  return { ...file.config, "cellplane:cells": JSON.stringify(cells), "cellplane:azure": JSON.stringify(azure) };
}
