import { capacityOf, CellState, ConfigError, RegionConfig, rawFromFlatConfig, validateConfig, validateStackConfig } from "../cells/config";
import { nextFreeCidr } from "../cells/plan/ipplan";
import { CellCapacity, CellIpPlan, Cloud, formatPath, formatProblems, ROLES, Role, RoleCapacity } from "../cells/plan/model";
import { cellIdProblem } from "../cells/plan/naming";
import { StackConfigReader } from "./backend";
import { UserError } from "./errors";
import { isInCell } from "./guard";

/*
 * Offline operations on a region stack's cells: list them, and plan a new one
 * (next id, next free CIDR, validated with the program's own schema, planned
 * under mocks). Nothing here needs the Pulumi CLI or touches the stack.
 */

/** A cell as the control plane sees it. */
export interface CellSummary {
  /** Stable id, part of every URN and name of the cell (`c004`). */
  id: string;
  /** The cell's VNET/VPC block. */
  cidr: string;
  /** `draining`: place no new services here; it is being retired. */
  state: CellState;
  /** Per-role node pool capacity, after defaults and the cell's own overrides. */
  capacity: CellCapacity;
}

/** A region stack and its cells. */
export interface RegionSummary {
  stack: string;
  cloud: Cloud;
  region: string;
  /** Block the cells are carved from. */
  addressPool: string;
  /** Prefix length a new cell gets unless its CIDR is given. */
  newCellPrefix: number;
  /** Cells in id order. */
  cells: CellSummary[];
  /** Ids of cells retired from this stack; never given out again. */
  retiredCells: string[];
}

/** Per-role capacity overrides for a new cell (`cellplane:cells.<id>.clusters.<role>.*`). */
export type CapacityOverrides = Partial<Record<Role, Partial<RoleCapacity>>>;

/** What to add. Every field is optional: the library picks what is not given. */
export interface AddCellRequest {
  /** Cell id; default: the next one (`c` + highest number ever used in the stack + 1). */
  id?: string;
  /** Cell block; default: the lowest free `/newCellPrefix` block of `addressPool`. */
  cidr?: string;
  /** Capacity overrides; default: the region's `cellplane:clusters` settings. */
  capacity?: CapacityOverrides;
}

/** One config write, as `pulumi config set --path <key> <value>`. */
export interface ConfigWrite {
  key: string;
  value: string;
}

/** The cell an add would create, validated; nothing is touched to compute it. */
export interface AddCellPlan {
  stack: string;
  cell: CellSummary;
  /** Whether the id and the CIDR were picked by the library (false: given by the caller). */
  picked: { id: boolean; cidr: boolean };
  /** The cell is already in config with this CIDR and capacity: an add writes no config. */
  exists: boolean;
  /**
   * The cell is half-added: an earlier add wrote (some of) its config and did not
   * finish (a crash or a kill; `cellctl:addingCells` still names it). The add finishes
   * it: `config` holds the keys the earlier one did not get to write.
   */
  resumed: boolean;
  /**
   * What the region's config, with the cell in it, is valid with but needs attention
   * (a Kubernetes version near its end of support): the warnings `cellctl plan` prints.
   */
  warnings: { path: string; message: string; fix: string }[];
  /** What an add writes (empty when `exists`). */
  config: ConfigWrite[];
  /** The new cell's IP plan (cells/plan/ipplan.ts). */
  ipPlan: CellIpPlan;
}

/** A resource of the new cell in the offline plan. */
export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  protect: boolean;
}

/** `AddCellPlan` plus the new cell's resources, from the program run under mocks. */
export interface AddCellResourcePlan extends AddCellPlan {
  resources: PlannedResource[];
  summary: { resourceCount: number; byType: Record<string, number> };
}

/**
 * Control-plane bookkeeping outside the program's namespace: ids of retired cells,
 * so an id is never given out twice. The program never reads it.
 */
export const RETIRED_CELLS_KEY = "cellctl:retiredCells";

/**
 * Cells an add has started and not finished: `cellctl:addingCells.<id>` is written
 * (under the stack's lease) before the cell's own keys and removed once its update
 * is done or its config reverted. A crash leaves it, so a retry knows the cell is
 * half-added: the same add (with the id) finishes it, an add without an id names it.
 */
export const ADDING_CELLS_KEY = "cellctl:addingCells";

/** `cellplane:` config key of a path, in `pulumi config set --path` syntax. */
export function configKey(segments: readonly string[]): string {
  const [head, ...rest] = segments;
  return `cellplane:${head}` + rest.map((s) => (/^[A-Za-z_][\w-]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join("");
}

/** The config key of a cell (`cellplane:cells.c004`). */
export function cellKey(id: string): string {
  return configKey(["cells", id]);
}

interface LoadedRegion {
  flat: Record<string, string>;
  raw: Record<string, unknown>;
  config: RegionConfig;
  retired: string[];
  adding: string[];
}

async function loadRegion(stack: StackConfigReader): Promise<LoadedRegion> {
  const flat = await stack.getAllConfig();
  const raw = rawFromFlatConfig(flat);
  const validated = validateStackConfig(flat);
  if (!validated.ok) throw new ConfigError(validated.problems, stack.name);
  return { flat, raw, config: validated.value, retired: retiredCells(flat), adding: addingCells(flat) };
}

/** A `cellctl:` bookkeeping value as JSON, or undefined when it is not JSON (the callers say what it must be). */
function jsonOrUndefined(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** The ids in `cellctl:addingCells` (cells whose add has not finished). */
export function addingCells(flat: Record<string, string>): string[] {
  const value = flat[ADDING_CELLS_KEY];
  if (value === undefined) return [];
  const parsed = jsonOrUndefined(value);
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UserError(`${ADDING_CELLS_KEY} must be a map of cell ids, got ${value}\n  fix: restore it from version control; cellctl maintains it`);
  }
  return Object.keys(parsed).sort();
}

/** The ids in `cellctl:retiredCells`. */
export function retiredCells(flat: Record<string, string>): string[] {
  const value = flat[RETIRED_CELLS_KEY];
  if (value === undefined) return [];
  const parsed = jsonOrUndefined(value);
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) {
    const hint = Array.isArray(parsed) && parsed.some((x) => typeof x === "boolean" || x === null) ? ` (YAML read an id such as true, no or null as a boolean or null: quote it, e.g. "no")` : "";
    throw new UserError(`${RETIRED_CELLS_KEY} must be a list of cell ids, got ${value}${hint}\n  fix: restore it from version control; cellctl maintains it`);
  }
  return parsed;
}

function summary(config: RegionConfig, id: string): CellSummary {
  const cell = config.cells.find((c) => c.id === id);
  if (!cell) throw new Error(`cell ${id} is not in the validated config`);
  return { id: cell.id, cidr: cell.cidr, state: cell.state, capacity: capacityOf(cell.clusters) };
}

/** The region stack and its cells, from stack config. Offline. Throws ConfigError on an invalid config. */
export async function describeRegion(stack: StackConfigReader): Promise<RegionSummary> {
  const { config, retired } = await loadRegion(stack);
  return {
    stack: stack.name,
    cloud: config.cloud,
    region: config.region,
    addressPool: config.addressPool,
    newCellPrefix: config.newCellPrefix,
    cells: config.cells.map((c) => summary(config, c.id)),
    retiredCells: retired,
  };
}

/** The cells of a region stack: id, CIDR, capacity, state. Offline. Throws ConfigError on an invalid config. */
export async function listCells(stack: StackConfigReader): Promise<CellSummary[]> {
  return (await describeRegion(stack)).cells;
}

/**
 * The id a new cell gets: `c` + (the highest number of any `c<digits>` id the stack
 * has ever had, retired ones included) + 1, three digits at least. Ids are never
 * positional and never reused: an id is part of the cell's URNs and of its physical
 * names (resource groups, clusters, DNS `c004.<zone>`), so a reused id would give a
 * new cell the URNs of a destroyed one and mix its history (logs, DNS, customer
 * allow-lists) with a cell that is gone. A gap stays a gap: c001, c003 -> c004.
 */
export function nextCellId(ids: readonly string[], retired: readonly string[] = []): string {
  const numbers = [...ids, ...retired].map((id) => /^c(\d+)$/.exec(id)).filter((m) => m !== null).map((m) => Number(m[1]));
  const next = Math.max(0, ...numbers) + 1;
  return `c${String(next).padStart(3, "0")}`;
}

/** The capacity overrides of a request, one entry per setting. */
function capacityEntries(capacity: CapacityOverrides | undefined): { role: Role; key: keyof RoleCapacity; value: number }[] {
  return ROLES.flatMap((role) =>
    Object.entries(capacity?.[role] ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => ({ role, key: key as keyof RoleCapacity, value: value as number })),
  );
}

function capacityWrites(id: string, capacity: CapacityOverrides | undefined): ConfigWrite[] {
  return capacityEntries(capacity).map(({ role, key, value }) => ({ key: configKey(["cells", id, "clusters", role, key]), value: String(value) }));
}

/**
 * Plans a new cell without touching anything: picks the id and the CIDR unless
 * given (with the IP-plan allocator, `nextFreeCidr`), validates the resulting
 * config with the program's own schema and returns the new cell's IP plan and the
 * config an add would write. If the cell is already in config as requested, the
 * plan says so (`exists`) and writes nothing: adds are idempotent.
 *
 * @throws ConfigError when the stack's current config is invalid
 * @throws UserError when the request cannot be done (the message says why and how to fix it)
 */
export async function prepareAddCell(stack: StackConfigReader, request: AddCellRequest = {}): Promise<AddCellPlan> {
  const { raw, config, retired, adding } = await loadRegion(stack);
  const ids = config.cells.map((c) => c.id);
  if (request.id === undefined && adding.length > 0) {
    throw new UserError(
      `stack ${stack.name} has a half-added cell: an earlier add of ${adding.join(", ")} did not finish (a crash or a kill; ${ADDING_CELLS_KEY} still names it)\n` +
        `  fix: resume it with \`cellctl cells add --stack ${stack.name} --id ${adding[0]}\` (the same request again), then add the next cell`,
    );
  }
  const id = request.id ?? nextCellId(ids, retired);
  const idProblem = cellIdProblem(id);
  if (idProblem) {
    throw new UserError(`${idProblem}\n  fix: use 2-8 lowercase letters and digits starting with a letter that YAML keeps as a string (e.g. ${nextCellId(ids, retired)}), or omit the id to get the next one`);
  }
  if (retired.includes(id)) {
    throw new UserError(
      `cell id ${id} was retired from stack ${stack.name}; ids are never reused (its URNs and names belonged to a destroyed cell)\n  fix: omit the id to get the next one (${nextCellId(ids, retired)})`,
    );
  }
  const existing = config.cells.find((c) => c.id === id);
  if (existing) {
    if (existing.state === "draining") {
      throw new UserError(`cell ${id} is draining: it is being retired, not added\n  fix: finish with \`cellctl cells retire --stack ${stack.name} --id ${id} --force\`, or add a new cell (omit the id)`);
    }
    if (request.cidr !== undefined && request.cidr !== existing.cidr) {
      throw new UserError(`cell ${id} already exists with ${existing.cidr}; a cell's CIDR never changes\n  fix: omit the CIDR to converge cell ${id}, or omit the id to add a new cell`);
    }
    const current = (raw.cells as Record<string, { clusters?: CapacityOverrides }>)[id]?.clusters ?? {};
    const halfAdded = adding.includes(id);
    // A half-added cell may still get the keys its add did not get to write; a set key never changes.
    const missing = capacityEntries(request.capacity).filter(({ role, key }) => current[role]?.[key] === undefined);
    const differs = capacityEntries(request.capacity).filter(({ role, key, value }) => current[role]?.[key] !== value && (!halfAdded || current[role]?.[key] !== undefined));
    if (differs.length > 0) {
      throw new UserError(
        `cell ${id} already exists with other capacity (${differs.map((d) => `${d.role}.${d.key}=${d.value}`).join(", ")})\n  fix: capacity changes of a deployed cell are config edits reviewed with \`pulumi preview\`; grow by adding a cell (omit the id)`,
      );
    }
    const writes: ConfigWrite[] = halfAdded ? missing.map(({ role, key, value }) => ({ key: configKey(["cells", id, "clusters", role, key]), value: String(value) })) : [];
    if (writes.length > 0) {
      const next = structuredClone(raw) as { cells: Record<string, { clusters?: CapacityOverrides }> };
      for (const { role, key, value } of missing) ((next.cells[id].clusters ??= {})[role] ??= {})[key] = value;
      const validated = validateConfig(next);
      if (!validated.ok) throw new UserError(`finishing cell ${id} of stack ${stack.name} would make its config invalid:\n${formatProblems(validated.problems)}`);
      return { stack: stack.name, cell: summary(validated.value, id), picked: { id: false, cidr: false }, exists: false, resumed: true, config: writes, ipPlan: validated.value.plans[id], warnings: warningsOf(validated.value) };
    }
    return { stack: stack.name, cell: summary(config, id), picked: { id: false, cidr: false }, exists: true, resumed: halfAdded, config: [], ipPlan: config.plans[id], warnings: warningsOf(config) };
  }

  let cidr = request.cidr;
  if (cidr === undefined) {
    const taken = [...config.cells.map((c) => c.cidr), config.serviceCidr];
    const free = nextFreeCidr(config.addressPool, taken, config.newCellPrefix);
    if (!free.ok) throw new UserError(`no room for a new cell in stack ${stack.name}:\n${formatProblems(free.problems)}`);
    cidr = free.value;
  }
  const entry: Record<string, unknown> = { cidr };
  if (request.capacity && Object.keys(request.capacity).length > 0) entry.clusters = request.capacity;
  const next = { ...raw, cells: { ...(raw.cells as Record<string, unknown>), [id]: entry } };
  const validated = validateConfig(next);
  if (!validated.ok) {
    throw new UserError(`adding cell ${id} (${cidr}) to stack ${stack.name} would make its config invalid:\n${formatProblems(validated.problems)}`);
  }
  return {
    stack: stack.name,
    cell: summary(validated.value, id),
    picked: { id: request.id === undefined, cidr: request.cidr === undefined },
    exists: false,
    resumed: false,
    config: [{ key: configKey(["cells", id, "cidr"]), value: cidr }, ...capacityWrites(id, request.capacity)],
    ipPlan: validated.value.plans[id],
    warnings: warningsOf(validated.value),
  };
}

function warningsOf(config: RegionConfig): AddCellPlan["warnings"] {
  return config.warnings.map((w) => ({ path: formatPath(w.path), message: w.message, fix: w.fix }));
}

/**
 * `prepareAddCell`, then the offline resource plan of the new cell: the real
 * program runs under Pulumi's mocks on the stack's config with the cell added,
 * as `cellctl plan` runs it, and the resources of the new cell
 * (its component and descendants) are returned. Touches nothing; takes seconds
 * (the whole region is planned, so the new cell is checked alongside the others).
 */
export async function planAddCell(stack: StackConfigReader, request: AddCellRequest = {}): Promise<AddCellResourcePlan> {
  const plan = await prepareAddCell(stack, request);
  const flat = await stack.getAllConfig();
  const raw = rawFromFlatConfig(flat);
  const cells = raw.cells as Record<string, Record<string, unknown>>;
  // The cell as the add would leave it: new, or a half-added one with the keys it still lacks.
  const entry: Record<string, unknown> = structuredClone(cells[plan.cell.id] ?? { cidr: plan.cell.cidr });
  for (const { role, key, value } of capacityEntries(request.capacity)) {
    const clusters = (entry.clusters ??= {}) as CapacityOverrides;
    const settings = (clusters[role] ??= {});
    settings[key] ??= value;
  }
  const withCell = { ...raw, cells: { ...cells, [plan.cell.id]: entry } };
  const config: Record<string, unknown> = Object.fromEntries(Object.entries(flat).filter(([k]) => !k.startsWith("cellplane:")));
  for (const [k, v] of Object.entries(withCell)) config[`cellplane:${k}`] = v;

  const flatWithCell = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  // Imported here so that listing cells never loads the provider SDKs.
  const [{ program }, { runProgram }] = await Promise.all([import("../cells/program"), import("../offline/run")]);
  const registrations = await runProgram({ stack: stack.name, config: flatWithCell, program }).then(
    (run) => run.registrations,
    (err: Error) => {
      // The program refuses what validation refuses; say it as a user error.
      throw new UserError(`adding cell ${plan.cell.id} to stack ${stack.name} would not plan:\n${err.message}`);
    },
  );
  const resources = registrations.filter((r) => isInCell(r.urn, plan.cell.id)).map(({ urn, type, name, protect }) => ({ urn, type, name, protect }));
  const byType: Record<string, number> = {};
  for (const r of resources) byType[r.type] = (byType[r.type] ?? 0) + 1;
  return { ...plan, resources, summary: { resourceCount: resources.length, byType } };
}
