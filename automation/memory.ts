import { writeFileSync } from "node:fs";
import * as path from "node:path";
import type { CommandError, EngineEvent, OpMap, OpType } from "@pulumi/pulumi/automation";
import type * as AutomationCmd from "@pulumi/pulumi/automation/cmd";
import * as automationErrors from "@pulumi/pulumi/automation/errors";
import { stringify } from "yaml";
import { RegionConfig, rawFromFlatConfig, validateConfig } from "../cells/config";
import { formatProblems, ROLES } from "../cells/plan/model";
import { loadStackFile } from "../offline/stackfile";
import { DestroyRunOptions, EngineRunOptions, StackBackend, StateResource, UpdateRunOptions } from "./backend";
import { CELL_TYPE, isChange, REGION_TYPE } from "./guard";

/*
 * An in-memory StackBackend that behaves like a Pulumi stack, for tests of the
 * library and of its callers (the control plane): it keeps config (path writes
 * typed as the CLI types them) and state; previews and updates diff a model of
 * the program against the state and emit engine events shaped like the Automation
 * API's; failures are the Automation API's own error classes, made by the factory
 * it uses (a locked stack is a real ConcurrentUpdateError).
 */

/** A resource the modelled program declares. */
export interface ModelResource {
  urn: string;
  type: string;
  parent: string | null;
  protect: boolean;
  /** Compared with the state to decide same / update. */
  inputs: Record<string, unknown>;
  /** URNs this resource depends on (a targeted destroy with dependents follows them). */
  dependencies?: string[];
  /** A read resource (StackReference): previewed as `read`, never created or deleted. */
  read?: boolean;
}

/** A model of the program: what it declares for a validated config. */
export type ProgramModel = (config: RegionConfig, stack: string) => ModelResource[];

const PROVIDER_PACKAGE = { azure: "azure-native", aws: "aws", gcp: "gcp" } as const;

/** URN as the engine builds it: the qualified type lists every ancestor's type. */
export function urnOf(stack: string, types: readonly string[], name: string): string {
  return `urn:pulumi:${stack}::cellplane::${types.join("$")}::${name}`;
}

/**
 * The default model: the shape of cellplane's program (stack, default provider,
 * the deployed-plan StackReference, Region and its DNS zone, and per cell a Cell component with a
 * resource group, a VNET, three clusters and their subnets). Stateful resources are
 * protected as `cellplane:protect` says.
 */
export const cellModel: ProgramModel = (config, stack) => {
  const pkg = PROVIDER_PACKAGE[config.cloud];
  const stackUrn = urnOf(stack, ["pulumi:pulumi:Stack"], `cellplane-${stack}`);
  const regionUrn = urnOf(stack, [REGION_TYPE], "region");
  const out: ModelResource[] = [
    { urn: stackUrn, type: "pulumi:pulumi:Stack", parent: null, protect: false, inputs: {} },
    { urn: urnOf(stack, [`pulumi:providers:${pkg}`], "default_3_28_0"), type: `pulumi:providers:${pkg}`, parent: stackUrn, protect: false, inputs: {} },
    { urn: urnOf(stack, ["pulumi:pulumi:StackReference"], "deployed"), type: "pulumi:pulumi:StackReference", parent: stackUrn, protect: false, inputs: {}, read: true },
    { urn: regionUrn, type: REGION_TYPE, parent: stackUrn, protect: false, inputs: {} },
    // The region's own resource: its DNS zone, above every cell.
    { urn: urnOf(stack, [REGION_TYPE, `${pkg}:dns:Zone`], "region-dns-zone"), type: `${pkg}:dns:Zone`, parent: regionUrn, protect: config.protect, inputs: { zone: config.dns.zone } },
  ];
  for (const cell of config.cells) {
    const cellTypes = [REGION_TYPE, CELL_TYPE];
    const cellUrn = urnOf(stack, cellTypes, cell.id);
    const child = (type: string, name: string, protect: boolean, inputs: Record<string, unknown>, dependencies: string[] = []): ModelResource => ({
      urn: urnOf(stack, [...cellTypes, type], name),
      type,
      parent: cellUrn,
      protect: protect && config.protect,
      inputs,
      dependencies,
    });
    const rg = child(`${pkg}:resources:ResourceGroup`, `${cell.id}-rg`, true, { location: config.region });
    const vnet = child(`${pkg}:network:VirtualNetwork`, `${cell.id}-vnet`, true, { cidr: cell.cidr }, [rg.urn]);
    out.push({ urn: cellUrn, type: CELL_TYPE, parent: regionUrn, protect: false, inputs: {} }, rg, vnet);
    for (const role of ROLES) {
      const subnet = child(`${pkg}:network:Subnet`, `${cell.id}-${role}-nodes`, false, { cidr: config.plans[cell.id].subnets.find((s) => s.role === role)?.cidr }, [vnet.urn]);
      out.push(subnet, child(`${pkg}:containerservice:ManagedCluster`, `${cell.id}-${role}-aks`, true, { ...cell.clusters[role] }, [subnet.urn]));
    }
  }
  return out;
};

interface Internals {
  CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => object;
  createCommandError: (result: object) => CommandError;
}
/** Loaded on first use: the CLI wrapper module pulls in execa and semver, which cellctl's offline commands never need. */
function internals(): Internals {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const automationCmd = require("@pulumi/pulumi/automation/cmd") as typeof AutomationCmd;
  return {
    CommandResult: (automationCmd as unknown as Pick<Internals, "CommandResult">).CommandResult,
    createCommandError: (automationErrors as unknown as Pick<Internals, "createCommandError">).createCommandError,
  };
}

/** A failed CLI run, made by the Automation API's own factory (a conflict becomes a ConcurrentUpdateError). */
export function commandError(stderr: string, code = 255): CommandError {
  const { CommandResult, createCommandError } = internals();
  return createCommandError(new CommandResult("", stderr, code));
}

/** The stderr of a locked stack on Pulumi Cloud and on a DIY (file, s3, ...) backend. */
export const LOCKED_STDERR = {
  cloud: "error: [409] Conflict: Another update is currently in progress.\nTo learn more about possible reasons and resolution, visit https://www.pulumi.com/docs/common-errors/#conflict",
  diy: "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
} as const;

/** A change to report in previews and updates besides the modelled program's own (drift, a pending edit, ...). */
export interface InjectedStep {
  op: OpType;
  urn: string;
  type: string;
}

/** A call the fake received, for assertions. */
export interface RecordedCall {
  method: "setConfig" | "removeConfig" | "preview" | "up" | "previewDestroy" | "destroy" | "listResources" | "setProtected";
  detail: string;
}

export interface InMemoryStackOptions {
  /** Flat config, as in a stack file (structured values as JSON strings). */
  config: Record<string, string>;
  /** Model of the program; default `cellModel`. */
  program?: ProgramModel;
  /** Whether the config is already deployed (state = the model of it). Default true. */
  deployed?: boolean;
  /** Also write the config to `<dir>/Pulumi.<name>.yaml` on every change, so offline readers see it. */
  persistTo?: string;
}

type Step = { op: OpType; urn: string; type: string; res?: ModelResource; old?: StateResource & { inputs: Record<string, unknown> } };

/**
 * An in-memory stack. See the module comment; the knobs tests use:
 * - `lockedFor(n)`: the next n engine commands fail as a locked stack does;
 * - `injectSteps([...])`: previews and updates also report these steps;
 * - `driftBeforeUp([...])`: the next update (not its preview) also makes these changes,
 *   as when drift or another edit lands between a preview and its update;
 * - `failUpAfter(k, message)`: the next update fails with an engine error after k changes.
 */
export class InMemoryStack implements StackBackend {
  /** Every call received, in order. */
  public readonly calls: RecordedCall[] = [];
  /** Engine commands started (preview, up, destroy, ...), failed ones included. */
  public engineRuns = 0;
  private config: Record<string, string>;
  private readonly program: ProgramModel;
  private readonly state = new Map<string, StateResource & { inputs: Record<string, unknown>; dependencies: string[] }>();
  private locked = 0;
  private lockedText: string = LOCKED_STDERR.cloud;
  private injected: InjectedStep[] = [];
  private upOnly: InjectedStep[] = [];
  private upFailure?: { after: number; message: string };
  private sequence = 0;

  constructor(
    public readonly name: string,
    private readonly options: InMemoryStackOptions,
  ) {
    this.config = { ...options.config };
    this.program = options.program ?? cellModel;
    if (options.deployed ?? true) for (const r of this.desired()) this.apply({ op: "create", urn: r.urn, type: r.type, res: r });
  }

  /** A stack whose config is the stack file `Pulumi.<name>.yaml` in `dir`, deployed as it stands. */
  static fromStackFile(name: string, dir: string, options: Omit<InMemoryStackOptions, "config"> = {}): InMemoryStack {
    return new InMemoryStack(name, { ...options, config: loadStackFile(name, dir).config });
  }

  // --- knobs -------------------------------------------------------------

  /** The next `n` engine commands fail with a ConcurrentUpdateError (Pulumi Cloud's or a DIY backend's text). */
  lockedFor(n: number, backend: keyof typeof LOCKED_STDERR = "cloud"): this {
    this.locked = n;
    this.lockedText = LOCKED_STDERR[backend];
    return this;
  }

  /** Previews and updates also report these steps (e.g. an update of another cell's VNET). */
  driftBeforeUp(steps: InjectedStep[]): this {
    this.upOnly = steps;
    return this;
  }

  injectSteps(steps: InjectedStep[]): this {
    this.injected = steps;
    return this;
  }

  /** The next update fails with an engine error after `after` changes (creates, updates, deletes) are done. */
  failUpAfter(after: number, message: string): this {
    this.upFailure = { after, message };
    return this;
  }

  // --- inspection --------------------------------------------------------

  /** A copy of the flat config. */
  allConfig(): Record<string, string> {
    return { ...this.config };
  }

  /** URNs in state. */
  urns(): string[] {
    return [...this.state.keys()];
  }

  // --- StackBackend ------------------------------------------------------

  async getAllConfig(): Promise<Record<string, string>> {
    return { ...this.config };
  }

  async setConfig(key: string, value: string, options: { path: boolean }): Promise<void> {
    this.calls.push({ method: "setConfig", detail: `${key}=${value}` });
    if (!options.path) {
      this.config[key] = value;
    } else {
      const { top, segments } = splitPath(key);
      const root = this.config[top] === undefined ? undefined : parseJson(this.config[top]);
      this.config[top] = JSON.stringify(setIn(root, segments, typed(value)));
    }
    this.persist();
  }

  async removeConfig(key: string, options: { path: boolean }): Promise<void> {
    this.calls.push({ method: "removeConfig", detail: key });
    const { top, segments } = options.path ? splitPath(key) : { top: key, segments: [] };
    if (segments.length === 0) delete this.config[top];
    else if (this.config[top] !== undefined) this.config[top] = JSON.stringify(removeIn(parseJson(this.config[top]), segments));
    this.persist();
  }

  async preview(options: UpdateRunOptions): Promise<{ changeSummary: OpMap }> {
    this.calls.push({ method: "preview", detail: (options.policyPacks ?? []).join(",") });
    const steps = this.engineStart(options);
    this.emitRun(steps, true, options);
    return { changeSummary: countOps(steps) };
  }

  async up(options: UpdateRunOptions): Promise<{ resourceChanges: OpMap }> {
    this.calls.push({ method: "up", detail: (options.policyPacks ?? []).join(",") });
    const steps = [...this.upOnly.map((x) => ({ ...x, old: this.state.get(x.urn) })), ...this.engineStart(options)];
    this.upOnly = [];
    this.protectedDeletes(steps);
    const failure = this.upFailure;
    this.upFailure = undefined;
    this.emit({ preludeEvent: { config: { ...this.config } } }, options);
    let done = 0;
    for (const step of steps) {
      if (options.signal?.aborted) throw commandError("error: update canceled");
      if (failure && done >= failure.after) {
        this.emit({ diagnosticEvent: { message: failure.message, color: "never", severity: "error", urn: step.urn } }, options);
        throw commandError(`error: update failed\n${failure.message}`);
      }
      this.emit({ resourcePreEvent: { metadata: this.metadata(step) } }, options);
      this.apply(step);
      this.emit({ resOutputsEvent: { metadata: this.metadata(step) } }, options);
      if (isChange(step.op)) done += 1;
    }
    this.emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: countOps(steps), policyPacks: {} } }, options);
    return { resourceChanges: countOps(steps) };
  }

  async previewDestroy(options: DestroyRunOptions): Promise<{ changeSummary: OpMap }> {
    this.calls.push({ method: "previewDestroy", detail: options.target.join(",") });
    this.engineStart(options, false);
    const steps = this.destroySteps(options);
    this.emitRun(steps, true, options);
    return { changeSummary: countOps(steps) };
  }

  async destroy(options: DestroyRunOptions): Promise<{ resourceChanges: OpMap }> {
    this.calls.push({ method: "destroy", detail: options.target.join(",") });
    this.engineStart(options, false);
    const steps = this.destroySteps(options);
    this.emit({ preludeEvent: { config: { ...this.config } } }, options);
    for (const step of steps) {
      if (options.signal?.aborted) throw commandError("error: destroy canceled");
      this.emit({ resourcePreEvent: { metadata: this.metadata(step) } }, options);
      this.apply(step);
      this.emit({ resOutputsEvent: { metadata: this.metadata(step) } }, options);
    }
    this.emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: countOps(steps), policyPacks: {} } }, options);
    return { resourceChanges: countOps(steps) };
  }

  async listResources(): Promise<StateResource[]> {
    this.calls.push({ method: "listResources", detail: "" });
    return [...this.state.values()].map(({ urn, type, parent, protect }) => ({ urn, type, parent, protect }));
  }

  async setProtected(urns: string[], protect: boolean): Promise<void> {
    this.calls.push({ method: "setProtected", detail: `${protect}:${urns.join(",")}` });
    for (const urn of urns) {
      const r = this.state.get(urn);
      if (!r) throw commandError(`error: No such resource ${JSON.stringify(urn)} exists in the current state`);
      r.protect = protect;
    }
  }

  // --- the engine, modelled ----------------------------------------------

  private desired(): ModelResource[] {
    const validated = validateConfig(rawFromFlatConfig(this.config));
    if (!validated.ok) {
      throw commandError(`error: Running program '${this.name}' failed with an unhandled exception:\ninvalid cellplane config in stack ${this.name}:\n${formatProblems(validated.problems)}`);
    }
    return this.program(validated.value, this.name);
  }

  /** Starts an engine command: a locked stack fails here, before anything happens. Returns the update's steps. */
  private engineStart(options: EngineRunOptions, plan = true): Step[] {
    this.engineRuns += 1;
    if (options.signal?.aborted) throw commandError("error: canceled");
    if (this.locked > 0) {
      this.locked -= 1;
      throw commandError(this.lockedText);
    }
    return plan ? this.updateSteps() : [];
  }

  private updateSteps(): Step[] {
    const desired = this.desired();
    const steps: Step[] = [];
    const wanted = new Set(desired.map((r) => r.urn));
    for (const res of desired) {
      const old = this.state.get(res.urn);
      const op: OpType = res.read ? "read" : !old ? "create" : res.type !== "pulumi:pulumi:Stack" && JSON.stringify(old.inputs) !== JSON.stringify(res.inputs) ? "update" : "same";
      steps.push({ op, urn: res.urn, type: res.type, res, old });
    }
    // Deletes run in reverse dependency order: children before parents.
    for (const old of [...this.state.values()].reverse()) if (!wanted.has(old.urn)) steps.push({ op: "delete", urn: old.urn, type: old.type, old });
    for (const s of this.injected) steps.push({ ...s, old: this.state.get(s.urn) });
    return steps;
  }

  private protectedDeletes(steps: Step[]): void {
    const refused = steps.filter((s) => (s.op === "delete" || s.op === "replace") && s.old?.protect);
    if (refused.length > 0) {
      throw commandError(
        refused.map((s) => `error: unable to delete resource "${s.urn}"\nas it is currently marked for protection. To unprotect the resource, use \`pulumi state unprotect '${s.urn}'\``).join("\n"),
      );
    }
  }

  private destroySteps(options: DestroyRunOptions): Step[] {
    const set = new Set(options.target.filter((u) => this.state.has(u)));
    const unknown = options.target.filter((u) => !this.state.has(u));
    if (unknown.length > 0) throw commandError(`error: no resource named '${unknown[0]}' found`);
    // Dependents: children of a target, and resources depending on one, until nothing is added.
    for (let grew = true; grew; ) {
      grew = false;
      for (const r of this.state.values()) {
        if (set.has(r.urn)) continue;
        const dependent = (r.parent !== null && set.has(r.parent)) || r.dependencies.some((d) => set.has(d));
        if (!dependent) continue;
        if (!options.targetDependents) throw commandError(`error: ${r.urn} depends on a targeted resource; pass --target-dependents to include it`);
        set.add(r.urn);
        grew = true;
      }
    }
    const steps: Step[] = [...this.state.values()]
      .reverse()
      .filter((r) => set.has(r.urn))
      .map((old) => ({ op: "delete" as OpType, urn: old.urn, type: old.type, old }));
    this.protectedDeletes(steps);
    return steps;
  }

  private apply(step: Step): void {
    if (step.op === "delete") this.state.delete(step.urn);
    else if (step.res && step.op !== "same") {
      const r = step.res;
      this.state.set(r.urn, { urn: r.urn, type: r.type, parent: r.parent, protect: r.protect, inputs: r.inputs, dependencies: r.dependencies ?? [] });
    }
  }

  private metadata(step: Step) {
    const provider = step.type.startsWith("pulumi:") ? "" : urnOf(this.name, [`pulumi:providers:${step.type.split(":")[0]}`], "default_3_28_0");
    const state = (r: { urn: string; type: string; parent: string | null; protect: boolean; inputs: Record<string, unknown> }) => ({
      type: r.type,
      urn: r.urn,
      id: r.urn.split("::").pop() ?? "",
      parent: r.parent ?? "",
      protect: r.protect,
      inputs: r.inputs,
      outputs: r.inputs,
      provider,
    });
    return {
      op: step.op,
      urn: step.urn,
      type: step.type,
      provider,
      ...(step.old ? { old: state(step.old) } : {}),
      ...(step.res && step.op !== "delete" ? { new: state(step.res) } : {}),
    };
  }

  private emitRun(steps: Step[], planning: boolean, options: EngineRunOptions): void {
    this.emit({ preludeEvent: { config: { ...this.config } } }, options);
    for (const step of steps) {
      this.emit({ resourcePreEvent: { metadata: this.metadata(step), planning } }, options);
      this.emit({ resOutputsEvent: { metadata: this.metadata(step), planning } }, options);
    }
    this.emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: 0, resourceChanges: countOps(steps), policyPacks: {} } }, options);
  }

  private emit(event: Omit<EngineEvent, "sequence" | "timestamp">, options: EngineRunOptions): void {
    options.onEvent?.({ sequence: this.sequence++, timestamp: Math.floor(Date.now() / 1000), ...event });
  }

  private persist(): void {
    if (!this.options.persistTo) return;
    const config = Object.fromEntries(Object.entries(this.config).map(([k, v]) => [k, parseJson(v)]));
    writeFileSync(path.join(this.options.persistTo, `Pulumi.${this.name}.yaml`), stringify({ config }));
  }
}

function countOps(steps: readonly { op: OpType }[]): OpMap {
  const counts: OpMap = {};
  for (const s of steps) counts[s.op] = (counts[s.op] ?? 0) + 1;
  return counts;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** `pulumi config set --path`: "true"/"false" are booleans, integers are numbers, the rest strings. */
function typed(value: string): unknown {
  if (value === "true" || value === "false") return value === "true";
  if (/^-?\d+$/.test(value)) return Number(value);
  return value;
}

type Segment = string | number;

/** `ns:a.b["c.d"][0]` -> top key `ns:a`, segments [b, "c.d", 0]. */
function splitPath(key: string): { top: string; segments: Segment[] } {
  const colon = key.indexOf(":");
  const ns = key.slice(0, colon + 1);
  const rest = key.slice(colon + 1);
  const segments: Segment[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]/g;
  for (let m = re.exec(rest); m; m = re.exec(rest)) segments.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3]));
  const [first, ...more] = segments;
  return { top: `${ns}${first}`, segments: more };
}

function setIn(root: unknown, segments: Segment[], value: unknown): unknown {
  if (segments.length === 0) return value;
  const [head, ...rest] = segments;
  const container: Record<string | number, unknown> = (root && typeof root === "object" ? root : typeof head === "number" ? [] : {}) as Record<string | number, unknown>;
  container[head] = setIn(container[head], rest, value);
  return container;
}

function removeIn(root: unknown, segments: Segment[]): unknown {
  if (!root || typeof root !== "object") return root;
  const [head, ...rest] = segments;
  const container = root as Record<string | number, unknown>;
  if (rest.length === 0) {
    if (Array.isArray(container) && typeof head === "number") container.splice(head, 1);
    else delete container[head];
  } else {
    container[head] = removeIn(container[head], rest);
  }
  return container;
}
