import type { EngineEvent, OpType } from "@pulumi/pulumi/automation";
import { COMPONENT_TYPES } from "../cells/plan/model";
import { BlastRadiusError, OutsideChange } from "./errors";

/*
 * The blast-radius guard. Adding or retiring a cell must change that cell and
 * nothing else; the engine's preview says what an operation would do, step by
 * step, and this module decides from each step's URN whether it stays inside.
 */

/** Component type of a cell (cells/cell.ts); its Pulumi name is the cell id. */
export const CELL_TYPE = COMPONENT_TYPES.cell;
/** Component type of the region; the parent of every cell. */
export const REGION_TYPE = COMPONENT_TYPES.region;
const STACK_TYPE = "pulumi:pulumi:Stack";

/** Steps that change nothing in the cloud or in state: reading, or leaving a resource as it is. */
const NO_CHANGE: ReadonlySet<OpType> = new Set<OpType>(["same", "read", "read-replacement", "refresh", "discard", "discard-replaced"]);

/**
 * Steps outside the cell that the guard lets pass: a read, or leaving a resource as
 * it is. Everything else outside the cell is refused, including `read-replacement`
 * (the resource is re-read in place of a managed one) and `discard` (it leaves the
 * state without being deleted): both change what the stack manages.
 */
const HARMLESS_OUTSIDE: ReadonlySet<OpType> = new Set<OpType>(["same", "read"]);

/** One step of a preview or an update, as the engine reports it. */
export interface PlannedStep {
  op: OpType;
  urn: string;
  type: string;
}

/** Parts of a URN: `urn:pulumi:<stack>::<project>::<qualified type>::<name>`. */
export function parseUrn(urn: string): { stack: string; project: string; types: string[]; name: string } {
  const parts = urn.replace(/^urn:pulumi:/, "").split("::");
  if (parts.length < 4) throw new Error(`not a Pulumi URN: ${urn}`);
  const [stack, project, qualifiedType, ...name] = parts;
  return { stack, project, types: qualifiedType.split("$"), name: name.join("::") };
}

/**
 * Whether a URN is the cell's component or one of its descendants. The qualified
 * type of a descendant lists its ancestors' types, so a descendant has the Cell
 * type among its ancestors, and every child of a cell is named `<cell>-...`
 * (cells/plan/naming.ts): that pair identifies the cell without reading the state.
 */
export function isInCell(urn: string, cellId: string): boolean {
  const { types, name } = parseUrn(urn);
  const own = types[types.length - 1];
  if (own === CELL_TYPE) return name === cellId;
  return types.slice(0, -1).includes(CELL_TYPE) && (name === cellId || name.startsWith(`${cellId}-`));
}

/** Whether a step changes anything. */
export function isChange(op: OpType): boolean {
  return !NO_CHANGE.has(op);
}

/**
 * The steps of a preview or an update, from its engine events: one per resource
 * (the last op the engine announced for it), in the order the engine announced them.
 */
export function stepsFromEvents(events: readonly EngineEvent[]): PlannedStep[] {
  const steps = new Map<string, PlannedStep>();
  for (const e of events) {
    const m = e.resourcePreEvent?.metadata;
    if (!m) continue;
    steps.delete(m.urn);
    steps.set(m.urn, { op: m.op, urn: m.urn, type: m.type });
  }
  return [...steps.values()];
}

/**
 * Steps of an `add` that leave the new cell. Allowed outside the cell:
 * - the stack resource itself (a change of stack outputs is not a resource change);
 * - creating the scaffolding the first cell of an empty stack needs: the Region
 *   component, the default providers and, in the same preview that creates the
 *   Region, the region's own resources (its DNS zone). Those are creates only; an
 *   update, replace or delete of any of them is reported like any other, and a
 *   region-level create in a stack that already has its Region is reported too.
 */
export function outsideAddedCell(steps: readonly PlannedStep[], cellId: string): PlannedStep[] {
  const newRegion = steps.some(createsRegion);
  return steps.filter((s) => leavesAddedCell(s, cellId, newRegion));
}

/** Whether a step creates the Region component (the first cell of an empty stack). */
export function createsRegion(s: PlannedStep): boolean {
  return s.type === REGION_TYPE && s.op === "create";
}

/** One step of an add, judged on its own; `newRegion`: the same run creates the Region. */
export function leavesAddedCell(s: PlannedStep, cellId: string, newRegion: boolean): boolean {
  if (HARMLESS_OUTSIDE.has(s.op) || isInCell(s.urn, cellId) || s.type === STACK_TYPE) return false;
  return !(s.op === "create" && isScaffolding(s, newRegion));
}

function isScaffolding(s: PlannedStep, newRegion: boolean): boolean {
  const { types, name } = parseUrn(s.urn);
  const ancestors = types.slice(0, -1);
  const regionOwn = newRegion && ancestors.includes(REGION_TYPE) && !ancestors.includes(CELL_TYPE);
  return s.type === REGION_TYPE || regionOwn || (s.type.startsWith("pulumi:providers:") && name.startsWith("default"));
}

/** Steps of a `retire` that leave the cell: anything outside it that would change. */
export function outsideRetiredCell(steps: readonly PlannedStep[], cellId: string): PlannedStep[] {
  return steps.filter((s) => !HARMLESS_OUTSIDE.has(s.op) && !isInCell(s.urn, cellId) && s.type !== STACK_TYPE);
}

/** Throws a BlastRadiusError naming every resource outside the cell, if there is any. */
export function assertInsideCell(outside: readonly PlannedStep[], what: string, fix: string, seenIn = "the preview also changes"): void {
  if (outside.length === 0) return;
  const list: OutsideChange[] = outside.map(({ op, urn, type }) => ({ op, urn, type }));
  throw new BlastRadiusError(
    `refusing to ${what}: ${seenIn} ${list.length} resource(s) outside the cell:\n` +
      list.map((c) => `  ${c.op.padEnd(8)} ${c.urn}`).join("\n") +
      `\n  fix: ${fix}`,
    list,
  );
}
