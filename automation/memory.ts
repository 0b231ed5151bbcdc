import { writeFileSync } from "node:fs";
import * as path from "node:path";
import type { CommandError, EngineEvent, OpMap, OpType } from "@pulumi/pulumi/automation";
import type * as AutomationCmd from "@pulumi/pulumi/automation/cmd";
import * as automationErrors from "@pulumi/pulumi/automation/errors";
import { stringify } from "yaml";
import { validateStackConfig } from "../cells/config";
import { formatProblems } from "../cells/plan/model";
import { loadStackFile } from "../offline/stackfile";
import { DestroyRunOptions, EngineRunOptions, StackBackend, StateResource, UpdateRunOptions } from "./backend";
import { isChange } from "./guard";
import { InMemoryLease, StackLease } from "./lease";

/*
 * An in-memory StackBackend that behaves like a Pulumi stack, for tests of the
 * library and of its callers (the control plane): it keeps config (path writes
 * typed as the CLI types them) and state; previews and updates diff what the
 * real program declares (run under mocks, `realProgram`) against the state and emit
 * engine events shaped like the Automation API's; failures are the Automation API's own error classes, made by the factory
 * it uses (a locked stack is a real ConcurrentUpdateError).
 */

/** A resource the program declares, as the engine sees it. */
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

/** What the program declares for a stack's flat config (already validated). */
export type ProgramModel = (config: Record<string, string>, stack: string) => Promise<ModelResource[]>;

/** URN as the engine builds it: the qualified type lists every ancestor's type. */
export function urnOf(stack: string, types: readonly string[], name: string): string {
  return `urn:pulumi:${stack}::cellplane::${types.join("$")}::${name}`;
}

/** Mocked runs of the real program, per stack and config (the program never reads `cellctl:`). */
const programRuns = new Map<string, Promise<ModelResource[]>>();

/**
 * The default model: the real program (cells/program.ts) run under the offline
 * runner's strict mocks (offline/run.ts), so the fake declares exactly the URNs,
 * parents, protect bits, inputs and dependencies `pulumi preview` would, on any
 * cloud. Cached per stack and config: a test suite runs each distinct config once.
 * The engine adds two things a mocked run does not record: the stack resource and
 * the program's StackReference to its own last deployment (a read).
 */
export const realProgram: ProgramModel = (config, stack) => {
  const relevant = Object.entries(config)
    .filter(([k]) => !k.startsWith("cellctl:"))
    .sort(([a], [b]) => a.localeCompare(b));
  // The same config written in another key order is the same config.
  const key = JSON.stringify([stack, relevant.map(([k, v]) => [k, canonical(parseJson(v))])]);
  let run = programRuns.get(key);
  if (!run) {
    run = (async () => {
      // Imported here so that a library user who never builds a fake loads no provider SDK.
      const [{ program }, { runProgram }] = await Promise.all([import("../cells/program"), import("../offline/run")]);
      const { registrations } = await runProgram({ stack, config: Object.fromEntries(relevant), program });
      const stackUrn = urnOf(stack, ["pulumi:pulumi:Stack"], `cellplane-${stack}`);
      return [
        { urn: stackUrn, type: "pulumi:pulumi:Stack", parent: null, protect: false, inputs: {} },
        { urn: urnOf(stack, ["pulumi:pulumi:StackReference"], "deployed"), type: "pulumi:pulumi:StackReference", parent: stackUrn, protect: false, inputs: {}, read: true },
        ...registrations.map((r) => ({ urn: r.urn, type: r.type, parent: r.parent ?? stackUrn, protect: r.protect, inputs: r.inputs, dependencies: r.dependencies })),
      ];
    })();
    programRuns.set(key, run);
    run.catch(() => programRuns.delete(key));
  }
  return run;
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
  /** What the program declares; default `realProgram` (the real program under mocks). */
  program?: ProgramModel;
  /** Whether the config is already deployed (state = what the program declares for it). Default true. */
  deployed?: boolean;
  /** Also write the config to `<dir>/Pulumi.<name>.yaml` on every change, so offline readers see it. */
  persistTo?: string;
}

type Step = { op: OpType; urn: string; type: string; res?: ModelResource; old?: StateResource & { inputs: Record<string, unknown> } };

/** Lets other callers run: every call of the fake yields here, so concurrent callers really interleave. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * An in-memory stack. See the module comment. Like the real CLI, every call is
 * asynchronous and yields between its read and its write (a config set reads the
 * stack file, then writes it back), and an engine command holds the stack's update
 * lock while it runs (a second one fails with ConcurrentUpdateError): two callers
 * without a lease interleave and lose writes exactly as they would on a real stack.
 * Its `lease` (an InMemoryLease) is what `addCell`/`retireCell` take by default.
 *
 * The knobs tests use:
 * - `lockedFor(n)`: the next n engine commands fail as a locked stack does;
 * - `injectSteps([...])`: previews and updates also report these steps;
 * - `driftBeforeUp([...])`: the next update (not its preview) also makes these changes,
 *   as when drift or another edit lands between a preview and its update;
 * - `failUpAfter(k, message, times)`: the next update (or `times` updates) fails with an
 *   engine error after k changes, as the CLI reports a provider's failure;
 * - `failDestroyAfter(k, message, times)`: the same for destroys;
 * - `failPreviews(message, times)`: the next previews fail with that engine error.
 */
export class InMemoryStack implements StackBackend {
  /** Every call received, in order. */
  public readonly calls: RecordedCall[] = [];
  /** Engine commands started (preview, up, destroy, ...), failed ones included. */
  public engineRuns = 0;
  /** The control-plane lease of this stack, shared by every caller of this instance. */
  public readonly lease: StackLease = new InMemoryLease();
  private config: Record<string, string>;
  private readonly program: ProgramModel;
  private readonly state = new Map<string, StateResource & { inputs: Record<string, unknown>; dependencies: string[] }>();
  /** The initial deployment, run on first use (a mocked run of the program is not free). */
  private deployment?: Promise<void>;
  private locked = 0;
  private lockedText: string = LOCKED_STDERR.cloud;
  /** An engine command is running: Pulumi's own update lock. */
  private busy = false;
  private injected: InjectedStep[] = [];
  private upOnly: InjectedStep[] = [];
  private upFailure?: { after: number; message: string; times: number };
  private destroyFailure?: { after: number; message: string; times: number };
  private previewFailure?: { after: number; message: string; times: number };
  private sequence = 0;

  constructor(
    public readonly name: string,
    private readonly options: InMemoryStackOptions,
  ) {
    this.config = { ...options.config };
    this.program = options.program ?? realProgram;
  }

  /** The initial deployment: the state is what the program declares for the initial config. */
  private get initial(): Promise<void> {
    this.deployment ??=
      (this.options.deployed ?? true)
        ? this.program({ ...this.options.config }, this.name).then((rs) => rs.forEach((r) => this.apply({ op: "create", urn: r.urn, type: r.type, res: r })))
        : Promise.resolve();
    return this.deployment;
  }

  /** A stack whose config is the stack file `Pulumi.<name>.yaml` in `dir`, deployed as it stands. */
  static fromStackFile(name: string, dir: string, options: Omit<InMemoryStackOptions, "config"> = {}): InMemoryStack {
    return new InMemoryStack(name, { ...options, config: loadStackFile(name, dir).config });
  }

  /** Resolves once the initial deployment is in state (it is a mocked run of the program). */
  ready(): Promise<this> {
    return this.initial.then(() => this);
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

  /** The next `times` updates fail with an engine error after `after` changes (creates, updates, deletes) are done in each. */
  failUpAfter(after: number, message: string, times = 1): this {
    this.upFailure = { after, message, times };
    return this;
  }

  /** The next `times` destroys fail with an engine error after `after` deletes are done in each. */
  failDestroyAfter(after: number, message: string, times = 1): this {
    this.destroyFailure = { after, message, times };
    return this;
  }

  /** The next `times` previews (of an update) fail with an engine error. */
  failPreviews(message: string, times = 1): this {
    this.previewFailure = { after: 0, message, times };
    return this;
  }

  /** The failure planned for this run, if any, counting it down. */
  private static take(failure: { after: number; message: string; times: number } | undefined): { next: typeof failure; now: typeof failure } {
    if (!failure) return { next: undefined, now: undefined };
    return { next: failure.times > 1 ? { ...failure, times: failure.times - 1 } : undefined, now: failure };
  }

  // --- inspection --------------------------------------------------------

  /** A copy of the flat config. */
  allConfig(): Record<string, string> {
    return { ...this.config };
  }

  /** URNs in state, once the initial deployment is there. */
  async urns(): Promise<string[]> {
    await this.initial;
    return [...this.state.keys()];
  }

  // --- StackBackend ------------------------------------------------------

  async getAllConfig(): Promise<Record<string, string>> {
    await turn();
    return { ...this.config };
  }

  async setConfig(key: string, value: string, options: { path: boolean }): Promise<void> {
    this.calls.push({ method: "setConfig", detail: `${key}=${value}` });
    // As the CLI: read the stack file, change one key, write the file back.
    const { top, segments } = options.path ? splitPath(key) : { top: key, segments: [] };
    const current = this.config[top];
    await turn();
    this.config[top] = segments.length === 0 ? value : JSON.stringify(setIn(current === undefined ? undefined : parseJson(current), segments, typed(value)));
    this.persist();
  }

  async removeConfig(key: string, options: { path: boolean }): Promise<void> {
    this.calls.push({ method: "removeConfig", detail: key });
    const { top, segments } = options.path ? splitPath(key) : { top: key, segments: [] };
    const current = this.config[top];
    await turn();
    if (segments.length === 0) delete this.config[top];
    else if (current !== undefined) this.config[top] = JSON.stringify(removeIn(parseJson(current), segments));
    this.persist();
  }

  async preview(options: UpdateRunOptions): Promise<{ changeSummary: OpMap }> {
    this.calls.push({ method: "preview", detail: policyDetail(options) });
    return this.engine(options, async () => {
      const { next, now: failure } = InMemoryStack.take(this.previewFailure);
      this.previewFailure = next;
      if (failure) {
        this.emit({ diagnosticEvent: { message: failure.message, color: "never", severity: "error" } }, options);
        throw commandError(`error: preview failed\n${failure.message}`);
      }
      const steps = await this.updateSteps();
      this.emitRun(steps, true, options);
      return { changeSummary: countOps(steps) };
    });
  }

  async up(options: UpdateRunOptions): Promise<{ resourceChanges: OpMap }> {
    this.calls.push({ method: "up", detail: policyDetail(options) });
    return this.engine(options, async () => {
      const steps = [...this.upOnly.map((x) => ({ ...x, old: this.state.get(x.urn) })), ...(await this.updateSteps())];
      this.upOnly = [];
      this.protectedDeletes(steps);
      const { next, now: failure } = InMemoryStack.take(this.upFailure);
      this.upFailure = next;
      this.emit({ preludeEvent: { config: { ...this.config } } }, options);
      let done = 0;
      for (const step of steps) {
        if (options.signal?.aborted) throw commandError("error: update canceled");
        if (failure && done >= failure.after) {
          this.emit({ diagnosticEvent: { message: failure.message, color: "never", severity: "error", urn: step.urn } }, options);
          throw commandError(`error: update failed\n${failure.message}`);
        }
        this.emit({ resourcePreEvent: { metadata: this.metadata(step) } }, options);
        if (isChange(step.op)) await turn();
        this.apply(step);
        this.emit({ resOutputsEvent: { metadata: this.metadata(step) } }, options);
        if (isChange(step.op)) done += 1;
      }
      this.emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: countOps(steps), policyPacks: {} } }, options);
      return { resourceChanges: countOps(steps) };
    });
  }

  async previewDestroy(options: DestroyRunOptions): Promise<{ changeSummary: OpMap }> {
    this.calls.push({ method: "previewDestroy", detail: options.target.join(",") });
    return this.engine(options, async () => {
      const steps = this.destroySteps(options);
      this.emitRun(steps, true, options);
      return { changeSummary: countOps(steps) };
    });
  }

  async destroy(options: DestroyRunOptions): Promise<{ resourceChanges: OpMap }> {
    this.calls.push({ method: "destroy", detail: options.target.join(",") });
    return this.engine(options, async () => {
      const steps = this.destroySteps(options);
      const { next, now: failure } = InMemoryStack.take(this.destroyFailure);
      this.destroyFailure = next;
      this.emit({ preludeEvent: { config: { ...this.config } } }, options);
      let done = 0;
      for (const step of steps) {
        if (options.signal?.aborted) throw commandError("error: destroy canceled");
        if (failure && done >= failure.after) {
          this.emit({ diagnosticEvent: { message: failure.message, color: "never", severity: "error", urn: step.urn } }, options);
          throw commandError(`error: destroy failed\n${failure.message}`);
        }
        done += 1;
        this.emit({ resourcePreEvent: { metadata: this.metadata(step) } }, options);
        await turn();
        this.apply(step);
        this.emit({ resOutputsEvent: { metadata: this.metadata(step) } }, options);
      }
      this.emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: countOps(steps), policyPacks: {} } }, options);
      return { resourceChanges: countOps(steps) };
    });
  }

  async listResources(): Promise<StateResource[]> {
    this.calls.push({ method: "listResources", detail: "" });
    await this.initial;
    await turn();
    return [...this.state.values()].map(({ urn, type, parent, protect }) => ({ urn, type, parent, protect }));
  }

  async setProtected(urns: string[], protect: boolean): Promise<void> {
    this.calls.push({ method: "setProtected", detail: `${protect}:${urns.join(",")}` });
    await this.initial;
    await turn();
    for (const urn of urns) {
      const r = this.state.get(urn);
      if (!r) throw commandError(`error: No such resource ${JSON.stringify(urn)} exists in the current state`);
      r.protect = protect;
    }
  }

  // --- the engine, modelled ----------------------------------------------

  private async desired(): Promise<ModelResource[]> {
    const config = { ...this.config };
    const validated = validateStackConfig(config);
    if (!validated.ok) {
      throw commandError(`error: Running program '${this.name}' failed with an unhandled exception:\ninvalid cellplane config in stack ${this.name}:\n${formatProblems(validated.problems)}`);
    }
    return this.program(config, this.name);
  }

  /**
   * Runs an engine command: a stack locked by a knob or by another running command
   * (Pulumi's update lock) fails here, before anything happens.
   */
  private async engine<T>(options: EngineRunOptions, run: () => Promise<T>): Promise<T> {
    this.engineRuns += 1;
    await this.initial;
    await turn();
    if (options.signal?.aborted) throw commandError("error: canceled");
    if (this.locked > 0) {
      this.locked -= 1;
      throw commandError(this.lockedText);
    }
    if (this.busy) throw commandError(LOCKED_STDERR.cloud);
    this.busy = true;
    try {
      return await run();
    } finally {
      this.busy = false;
    }
  }

  private async updateSteps(): Promise<Step[]> {
    const desired = await this.desired();
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

/** `<packs>` or `<packs> config=<files>`: what a preview or an update ran with. */
function policyDetail(o: UpdateRunOptions): string {
  const packs = (o.policyPacks ?? []).join(",");
  return o.policyPackConfigs?.length ? `${packs} config=${o.policyPackConfigs.join(",")}` : packs;
}

function countOps(steps: readonly { op: OpType }[]): OpMap {
  const counts: OpMap = {};
  for (const s of steps) counts[s.op] = (counts[s.op] ?? 0) + 1;
  return counts;
}

/** A value with its object keys sorted, for comparing configs. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]));
  return value;
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
