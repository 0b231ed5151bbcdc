import { existsSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../offline/stackfile";
import type { EngineEvent, OpMap } from "@pulumi/pulumi/automation";
import { StackBackend } from "./backend";
import { ADDING_CELLS_KEY, AddCellRequest, addingCells, cellKey, CellSummary, ConfigWrite, configKey, describeRegion, prepareAddCell, RETIRED_CELLS_KEY, retiredCells } from "./cells";
import { InMemoryLease, StackLease } from "./lease";
import { PulumiStack } from "./pulumi";
import { recordsOf, ServiceStackFiles, ServiceStacks } from "./services";
import { InfraError, translatePulumiError, UserError } from "./errors";
import { assertInsideCell, createsRegion, isChange, isInCell, leavesAddedCell, outsideAddedCell, outsideRetiredCell, PlannedStep, stepsFromEvents } from "./guard";
import { Phase, progressFromEvents, ProgressListener } from "./progress";
import { cancelled, checkSignal, DEFAULT_RETRY, RetryPolicy, retryWhileLocked, validateRetryPolicy } from "./retry";
import { retryWhileThrottled, ThrottleNotice, throttlePolicy } from "./throttling";

/*
 * The two operations that change a region stack: add a cell, retire a cell. Both
 * follow the same shape: write config -> preview -> blast-radius guard -> apply,
 * with the preview+apply pair retried as one unit while the stack is locked (a
 * guard verdict holds only for the state it previewed). Each engine command that the
 * cloud throttled is run again on its own (automation/throttling.ts): an update is
 * convergent, and the update's own guard still stops it at a step outside the cell.
 */

/** Options of `addCell` and `retireCell`. */
export interface OperationOptions {
  /** Progress: phases, and resources done / total during `up` and `destroy`. */
  onProgress?: ProgressListener;
  /** Cancels the operation (between steps, and the running engine command). */
  signal?: AbortSignal;
  /** Retry of a locked stack; defaults in `DEFAULT_RETRY`. Its `sleep` and `random` also drive the throttle retry. */
  retry?: Partial<RetryPolicy>;
  /** Retry of an engine command the cloud throttled; defaults in `DEFAULT_THROTTLE_RETRY` (4 attempts, 30 s base, 5 min ceiling). */
  throttleRetry?: Partial<RetryPolicy>;
  /**
   * Policy pack directories for `preview` and `up` (`--policy-pack`). Default: the
   * project's own pack (`policies/`, or the directory in `CELLPLANE_POLICY_PACK`).
   * `[]` skips the policy gate: the result says so (`policy.skipped`).
   */
  policyPacks?: string[];
  /**
   * Their config files (`--policy-pack-config`). Default: `policies/policy-config.json`
   * (or `CELLPLANE_POLICY_CONFIG`) with the default pack; none with packs of your own.
   */
  policyPackConfigs?: string[];
  /**
   * The stack's lease: the whole operation (config reads and writes, preview, update,
   * revert) runs while holding it. Default: the backend's own (`stack.lease`: a file
   * lock for PulumiStack, an in-process lease for InMemoryStack), else one shared by
   * this process. A distributed control plane passes one over its coordination
   * service (automation/lease.ts).
   */
  lease?: StackLease;
}

/** The lease of a backend without one: operations of this process on the same stack take turns. */
const PROCESS_LEASE = new InMemoryLease();

/** Runs `fn` under the stack's lease; `fn` gets the caller's signal joined with the lease's "lost" signal. */
function underLease<T>(stack: StackBackend, options: OperationOptions, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  checkSignal(options.signal);
  // A bad retry policy is refused before anything is written.
  validateRetryPolicy({ ...DEFAULT_RETRY, ...Object.fromEntries(Object.entries(options.retry ?? {}).filter(([, v]) => v !== undefined)) });
  throttlePolicy(options.retry, options.throttleRetry);
  const lease = options.lease ?? stack.lease ?? PROCESS_LEASE;
  return lease.withLease(stack.name, (lost) => fn(options.signal ? AbortSignal.any([options.signal, lost]) : lost), { signal: options.signal });
}

/** The result of `addCell`. */
export interface AddCellResult {
  stack: string;
  cell: CellSummary;
  /** Config this run wrote; empty when the cell was already in config. */
  configWritten: ConfigWrite[];
  /** Change counts of the preview. */
  preview: OpMap;
  /** Whether `up` ran; false when the preview showed nothing to change. */
  upRan: boolean;
  /** Change counts of the update, or null when it did not run. */
  resourceChanges: OpMap | null;
  /** Tries of preview+up (more than 1: the stack was locked). */
  attempts: number;
  /** Engine commands (preview, up) run again because the cloud throttled them. */
  throttleRetries: number;
  /** The policy packs and configs preview and up ran with; `skipped` when the caller opted out. */
  policy: PolicyGate;
}

/** The result of `retireCell`. */
export interface RetireCellResult {
  stack: string;
  cell: string;
  /** `draining`: phase 1 (marked, or already marked); `retired`: destroyed and removed from config. */
  phase: "draining" | "retired";
  /** Config this run wrote. */
  configWritten: ConfigWrite[];
  /** Config keys this run removed. */
  configRemoved: string[];
  /** URNs this run destroyed. */
  destroyed: string[];
  /** URNs whose protect bit this run cleared (only with `unprotect`). */
  unprotected: string[];
  /** Tries of preview+destroy (more than 1: the stack was locked). */
  attempts: number;
  /** Engine commands (preview, destroy) run again because the cloud throttled them. */
  throttleRetries: number;
}

/** Options of `retireCell`. */
export interface RetireCellOptions extends OperationOptions {
  /** Phase 2: destroy the cell's resources, then remove its config. Refused unless the cell is draining. */
  force?: boolean;
  /**
   * Clear the protect bit of the cell's protected resources (clusters, VNETs, ...)
   * before destroying them. Without it, phase 2 refuses and lists them. Every
   * resource unprotected is reported in the result.
   */
  unprotect?: boolean;
  /**
   * The region's tenant service stacks: phase 2 refuses while any service still runs
   * in the cell (destroying the cell's data-plane cluster would take them down).
   * Default: the service stack files beside a `PulumiStack`'s project; none otherwise.
   */
  services?: Pick<ServiceStacks, "list">;
}

/** Policy packs from `CELLPLANE_POLICY_PACK`, resolved against the working directory. */
export function policyPacksFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = env.CELLPLANE_POLICY_PACK;
  return dir ? [path.resolve(dir)] : [];
}

/** The policy gate an operation runs with: packs and their config files. */
export interface PolicyGate {
  packs: string[];
  configs: string[];
  /** No pack ran: the caller opted out (`policyPacks: []`, `cellctl --no-policy-pack`). */
  skipped: boolean;
}

/**
 * The policy gate of `addCell`: the project's pack (`<project>/policies`, or
 * `CELLPLANE_POLICY_PACK`) with its config (`<project>/policies/policy-config.json`, or
 * `CELLPLANE_POLICY_CONFIG`), the same pack and config `cellctl plan` and the README's
 * `pulumi preview --policy-pack policies --policy-pack-config ...` use, unless the
 * caller names others or opts out with `policyPacks: []`.
 */
export function policyGate(options: Pick<OperationOptions, "policyPacks" | "policyPackConfigs">, projectDir: string = PROJECT_DIR, env: NodeJS.ProcessEnv = process.env): PolicyGate {
  if (options.policyPacks !== undefined) {
    return { packs: options.policyPacks, configs: options.policyPacks.length > 0 ? (options.policyPackConfigs ?? []) : [], skipped: options.policyPacks.length === 0 };
  }
  const packs = policyPacksFromEnv(env);
  const pack = packs.length > 0 ? packs : [path.join(projectDir, "policies")];
  const config = env.CELLPLANE_POLICY_CONFIG ? path.resolve(env.CELLPLANE_POLICY_CONFIG) : path.join(projectDir, "policies", "policy-config.json");
  const configs = options.policyPackConfigs ?? (existsSync(config) ? [config] : []);
  return { packs: pack, configs, skipped: false };
}

function reporter(stack: string, cell: string, onProgress: ProgressListener | undefined) {
  return (phase: Phase, message?: string, total = 0) => onProgress?.({ stack, cell, phase, done: 0, total, message });
}

/** The progress line of a throttled engine command about to run again. */
function throttleNote(report: ReturnType<typeof reporter>, stack: string, what: string) {
  return (n: ThrottleNotice) =>
    report("retry", `the cloud throttled the ${what} of stack ${stack} (${n.cause}): retry ${n.retry} of ${n.retry + n.remaining} in ${(n.delayMs / 1000).toFixed(1)} s`);
}

/** Runs one engine command, recording its events; `started` turns true at its first event. */
async function withEvents<T>(run: (onEvent: (e: EngineEvent) => void) => Promise<T>, also?: (e: EngineEvent) => void): Promise<{ result: T; steps: PlannedStep[] }> {
  const events: EngineEvent[] = [];
  const result = await run((e) => {
    events.push(e);
    also?.(e);
  });
  return { result, steps: stepsFromEvents(events) };
}

/**
 * Adds a cell to a region stack, or converges one that is already in its config:
 *
 * 1. writes the cell into stack config (`setConfig` with path keys such as
 *    `cellplane:cells.c004.cidr`); no other key is touched, and nothing is written
 *    when the cell is already there;
 * 2. previews the stack with the policy gate (`policyGate`: the project's pack and its
 *    config unless the caller names others or opts out with `policyPacks: []`);
 * 3. refuses, naming them, if the preview changes any resource outside the new cell
 *    (see `outsideAddedCell`); the config written in step 1 is removed again;
 * 4. runs `up` unless the preview shows nothing to change, reporting progress.
 *
 * The whole call holds the stack's lease (`OperationOptions.lease`) and reads the
 * config under it, so concurrent adds get distinct ids and CIDRs. The cell is marked
 * half-added (`cellctl:addingCells.<id>`) before its keys are written and unmarked once
 * it is up: after a crash, the same request finishes it.
 *
 * A locked stack is waited out (retry with backoff); every other error is thrown
 * with the engine's message. When no resource was touched yet, a failure removes
 * the config written in step 1 (only what this call wrote, re-read first), so the
 * stack is as it was; once `up` has started, the config stays and the same call
 * (with the id) resumes.
 *
 * @param request id, CIDR and capacity; whatever is missing is picked (`prepareAddCell`)
 * @throws UserError, ConfigError for a request that cannot be done; InfraError otherwise
 */
export async function addCell(stack: StackBackend, request: AddCellRequest = {}, options: OperationOptions = {}): Promise<AddCellResult> {
  return underLease(stack, options, (signal) => addCellLeased(stack, request, { ...options, signal }));
}

async function addCellLeased(stack: StackBackend, request: AddCellRequest, options: OperationOptions): Promise<AddCellResult> {
  const { signal, onProgress } = options;
  checkSignal(signal);
  // Read under the lease: no other add or retire of this stack runs until it is released.
  const plan = await prepareAddCell(stack, request);
  const id = plan.cell.id;
  const report = reporter(stack.name, id, onProgress);
  const policy = policyGate(options, stack.workDir ?? PROJECT_DIR);
  const { packs: policyPacks, configs: policyPackConfigs } = policy;
  if (policy.skipped) report("config", `policy gate skipped at the caller's request: preview and up run without a policy pack`);
  const written: ConfigWrite[] = [];
  const marker = { key: `${ADDING_CELLS_KEY}.${id}`, value: "add" };
  let markerWritten = false;
  let upStarted = false;
  const throttle = throttlePolicy(options.retry, options.throttleRetry);
  let throttleRetries = 0;
  try {
    if (plan.config.length > 0) {
      report("config", `writing ${plan.config.map((w) => w.key).join(", ")}`);
      if (!plan.resumed) {
        // First the marker: a crash from here on leaves a cell that a retry knows is half-added.
        await stack.setConfig(marker.key, marker.value, { path: true });
        markerWritten = true;
      }
      for (const w of plan.config) {
        await stack.setConfig(w.key, w.value, { path: true });
        written.push(w);
      }
    }
    const { value, attempts } = await retryWhileLocked(
      stack.name,
      async () => {
        report("preview", `previewing stack ${stack.name}`);
        const previewed = await retryWhileThrottled(stack.name, "preview", (watch) => withEvents((onEvent) => stack.preview({ policyPacks, policyPackConfigs, signal, onEvent }), watch), {
          policy: throttle,
          signal,
          onRetry: throttleNote(report, stack.name, "preview"),
        });
        throttleRetries += previewed.retries;
        const { result: preview, steps } = previewed.value;
        checkSignal(signal);
        assertInsideCell(
          outsideAddedCell(steps, id),
          `add cell ${id} to stack ${stack.name}`,
          `nothing was deployed${written.length > 0 ? ` and the config of ${id} was removed again` : ""}. ` +
            `See the changes with \`pulumi preview --stack ${stack.name} --diff\` (drift, a pending config change, a provider upgrade), ` +
            `bring them in on their own, then add the cell again`,
        );
        const changes = steps.filter((s) => isChange(s.op));
        if (changes.length === 0) return { preview: preview.changeSummary, upRan: false, resourceChanges: null };
        const track = progressFromEvents({ stack: stack.name, cell: id, phase: "up", total: changes.length }, onProgress ?? (() => {}));
        // The preview's verdict holds for the state it saw. Should the update do more
        // (drift or a config edit landing in between), it is cancelled at the first
        // step that leaves the cell; steps already in flight may still complete.
        const stop = new AbortController();
        const outside: PlannedStep[] = [];
        let newRegion = false;
        const refuseOutsideDuringUp = () =>
          assertInsideCell(
            outside,
            `add cell ${id} to stack ${stack.name}`,
            `the update was cancelled there (steps already started may have completed). Compare \`pulumi stack history --stack ${stack.name}\` and \`pulumi preview --stack ${stack.name} --diff\`, bring the other change in on its own, then add the cell again (the config of ${id} stays)`,
            "the update, unlike its preview, started changing",
          );
        // Throttled by the cloud: the update runs again and continues where it stopped.
        const updated = await retryWhileThrottled(
          stack.name,
          "update",
          (watch) =>
            stack
              .up({
                policyPacks,
                policyPackConfigs,
                signal: signal ? AbortSignal.any([signal, stop.signal]) : stop.signal,
                onEvent: (e) => {
                  upStarted = true;
                  watch(e);
                  track(e);
                  const m = e.resourcePreEvent?.metadata;
                  if (!m || stop.signal.aborted) return;
                  const step = { op: m.op, urn: m.urn, type: m.type };
                  newRegion ||= createsRegion(step);
                  if (leavesAddedCell(step, id, newRegion)) {
                    outside.push(step);
                    stop.abort();
                  }
                },
              })
              .catch((err: unknown) => {
                refuseOutsideDuringUp();
                throw err;
              }),
          { policy: throttle, signal, onRetry: throttleNote(report, stack.name, "update") },
        );
        throttleRetries += updated.retries;
        const up = updated.value;
        // The last step may have left the cell too late to be cancelled.
        refuseOutsideDuringUp();
        return { preview: preview.changeSummary, upRan: true, resourceChanges: up.resourceChanges };
      },
      { policy: options.retry, signal, onRetry: (n) => report("retry", `stack ${stack.name} is locked: retry ${n.retry} of ${n.retry + n.remaining} in ${(n.delayMs / 1000).toFixed(1)} s`) },
    );
    if (markerWritten || plan.resumed) {
      await clearMarker(stack, id);
      markerWritten = false;
    }
    report("done", value.upRan ? `cell ${id} is up` : `cell ${id} is up to date`);
    return { stack: stack.name, cell: plan.cell, configWritten: written, ...value, attempts, throttleRetries, policy };
  } catch (caught) {
    const err = translatePulumiError(caught, `add cell ${id}`, stack.name);
    if ((written.length > 0 || markerWritten) && !upStarted) {
      try {
        await revertOwnWrites(stack, id, plan.resumed ? [] : written, plan.resumed ? written : [], markerWritten);
      } catch (revertError) {
        const how = `\n  and removing the config of ${id} again failed (${(revertError as Error).message.split("\n")[0]}): remove ${[...written.map((w) => w.key), ...(markerWritten ? [marker.key] : [])].join(", ")} with \`pulumi config rm --path <key> --stack ${stack.name}\``;
        err.message += how;
      }
    }
    const resume = `run the same add again (id ${id}) to resume: it is idempotent`;
    if (signal?.aborted) {
      throw upStarted ? new InfraError("cancelled", `cancelled during the update of cell ${id}; ${resume}`) : cancelled();
    }
    if (upStarted && err instanceof InfraError && (err.kind === "engine" || err.kind === "throttled")) {
      throw new InfraError(err.kind, `${err.message}\n  the config of cell ${id} stays in stack ${stack.name}; once the cause is fixed, ${resume}`);
    }
    throw err;
  }
}

/**
 * Undoes exactly what one add wrote, with the config re-read (under the lease):
 * - `created`: keys of a cell entry this call created. The entry is removed whole
 *   only if it still holds exactly those values; otherwise only the keys that still
 *   hold this call's values are removed, and nothing another writer set.
 * - `added`: keys this call added to an entry that was there before (a resumed
 *   half-added cell): each is removed if it still holds this call's value.
 * - `marker`: the `cellctl:addingCells` entry, when this call wrote it.
 */
async function revertOwnWrites(stack: StackBackend, id: string, created: ConfigWrite[], added: ConfigWrite[], marker: boolean): Promise<void> {
  const flat = await stack.getAllConfig();
  const entry = (rawFromFlat(flat).cells ?? {})[id];
  const valueAt = (key: string): string | undefined => {
    const segments = key.replace(/^cellplane:cells\./, "").split(".").slice(1);
    let v: unknown = entry;
    for (const s of segments) v = v && typeof v === "object" ? (v as Record<string, unknown>)[s] : undefined;
    return v === undefined ? undefined : String(v);
  };
  const ours = (w: ConfigWrite) => valueAt(w.key) === w.value;
  const leaves = (v: unknown): number => (v && typeof v === "object" ? Object.values(v).reduce((n: number, x) => n + leaves(x), 0) : 1);
  if (created.length > 0 && entry !== undefined && created.every(ours) && leaves(entry) === created.length) {
    await stack.removeConfig(cellKey(id), { path: true });
  } else {
    for (const w of [...created, ...added].reverse()) if (ours(w)) await stack.removeConfig(w.key, { path: true });
  }
  if (marker) await clearMarker(stack, id);
}

/** Removes `cellctl:addingCells.<id>` (the whole key when it was the only entry), re-reading the config. */
async function clearMarker(stack: StackBackend, id: string): Promise<void> {
  const adding = addingCells(await stack.getAllConfig());
  if (!adding.includes(id)) return;
  if (adding.length === 1) await stack.removeConfig(ADDING_CELLS_KEY, { path: false });
  else await stack.removeConfig(`${ADDING_CELLS_KEY}.${id}`, { path: true });
}

function rawFromFlat(flat: Record<string, string>): { cells?: Record<string, unknown> } {
  try {
    return { cells: JSON.parse(flat["cellplane:cells"] ?? "{}") as Record<string, unknown> };
  } catch {
    return {};
  }
}

/**
 * Retires a cell in two phases.
 *
 * Phase 1 (an active cell, without `force`): marks it `draining` in config
 * (`cellplane:cells.<id>.state`). The control plane stops placing services there.
 * No resource changes, so no update runs.
 *
 * Phase 2 (a draining cell, with `force`): destroys only the cell's resources,
 * then removes its config and records its id as retired (`cellctl:retiredCells`,
 * so it is never given out again). The destroy targets the cell's URNs from the
 * stack's state, with their dependents; its preview goes through the same
 * blast-radius guard as an add, so a dependent outside the cell stops it.
 * Protected resources are never unprotected silently: phase 2 refuses and lists
 * them unless `unprotect` is passed, and every resource unprotected is reported.
 * Config stays the source of truth until the resources are gone: a failed destroy
 * leaves the cell draining in config, and the same call resumes.
 *
 * Refused: `force` on an active cell (drain first), a cell not in config.
 *
 * @throws UserError, ConfigError for a request that cannot be done; InfraError otherwise
 */
export async function retireCell(stack: StackBackend, id: string, options: RetireCellOptions = {}): Promise<RetireCellResult> {
  return underLease(stack, options, (signal) => retireCellLeased(stack, id, { ...options, signal }));
}

async function retireCellLeased(stack: StackBackend, id: string, options: RetireCellOptions): Promise<RetireCellResult> {
  const { signal, onProgress, force = false, unprotect = false } = options;
  checkSignal(signal);
  const region = await describeRegion(stack);
  const cell = region.cells.find((c) => c.id === id);
  const result: RetireCellResult = { stack: stack.name, cell: id, phase: "draining", configWritten: [], configRemoved: [], destroyed: [], unprotected: [], attempts: 0, throttleRetries: 0 };
  const throttle = throttlePolicy(options.retry, options.throttleRetry);
  if (!cell) {
    const retired = region.retiredCells.includes(id);
    throw new UserError(
      retired
        ? `cell ${id} is already retired from stack ${stack.name}`
        : `stack ${stack.name} has no cell ${id}\n  fix: use one of its cells: ${region.cells.map((c) => c.id).join(", ") || "(none)"} (\`cellctl cells list --stack ${stack.name}\`)`,
    );
  }
  const report = reporter(stack.name, id, onProgress);

  if (cell.state === "active") {
    if (force) {
      throw new UserError(
        `cell ${id} is active; retiring is two-phase and --force is the second phase\n` +
          `  fix: mark it draining first (\`cellctl cells retire --stack ${stack.name} --id ${id}\`), move its services out, then run it again with --force`,
      );
    }
    const w = { key: configKey(["cells", id, "state"]), value: "draining" };
    report("config", `marking ${id} draining`);
    await stack.setConfig(w.key, w.value, { path: true });
    result.configWritten.push(w);
    report("done", `cell ${id} is draining`);
    return result;
  }
  if (!force) {
    report("done", `cell ${id} is already draining; pass force to destroy it`);
    return result;
  }

  // Phase 2. Services first: a cell is retired once its services have moved or gone.
  const services = options.services ?? (stack instanceof PulumiStack ? new ServiceStackFiles(stack.workDir) : undefined);
  if (services) {
    const inCell = recordsOf(await services.list(stack.name)).summaries.filter((sv) => sv.cell === id);
    if (inCell.length > 0) {
      throw new UserError(
        `cell ${id} still runs ${inCell.length} service(s): ${inCell.map((sv) => sv.id).join(", ")}; destroying it would take them down\n` +
          `  fix: move or remove them first (\`cellctl services remove --stack ${stack.name} --id <id>\`), then retire again with --force`,
      );
    }
  }
  const mine = (await stack.listResources()).filter((r) => isInCell(r.urn, id));
  const protectedUrns = mine.filter((r) => r.protect).map((r) => r.urn);
  if (protectedUrns.length > 0 && !unprotect) {
    throw new UserError(
      `cell ${id} has ${protectedUrns.length} protected resource(s); cellctl never unprotects silently:\n` +
        protectedUrns.map((u) => `  ${u}`).join("\n") +
        `\n  fix: unprotect them yourself with \`pulumi state unprotect --stack ${stack.name} --yes <urn>...\`, ` +
        `or pass --unprotect to let cellctl clear exactly these (it reports each one), then retire again with --force`,
    );
  }
  let destroyStarted = false;
  try {
    if (protectedUrns.length > 0) {
      report("unprotect", `unprotecting ${protectedUrns.length} resource(s) of ${id}`);
      await stack.setProtected(protectedUrns, false);
      result.unprotected = protectedUrns;
    }
    if (mine.length > 0) {
      const target = mine.map((r) => r.urn);
      const { value, attempts } = await retryWhileLocked(
        stack.name,
        async () => {
          report("preview", `previewing the destroy of ${id}`);
          const previewed = await retryWhileThrottled(stack.name, "destroy preview", (watch) => withEvents((onEvent) => stack.previewDestroy({ target, targetDependents: true, signal, onEvent }), watch), {
            policy: throttle,
            signal,
            onRetry: throttleNote(report, stack.name, "destroy preview"),
          });
          result.throttleRetries += previewed.retries;
          const { steps } = previewed.value;
          checkSignal(signal);
          assertInsideCell(
            outsideRetiredCell(steps, id),
            `destroy cell ${id} of stack ${stack.name}`,
            `nothing was destroyed${protectedUrns.length > 0 ? " and the protect bits were set again" : ""}. ` +
              `These resources depend on the cell: move them off it first, then retire again`,
          );
          const total = steps.filter((s) => isChange(s.op)).length;
          const track = progressFromEvents({ stack: stack.name, cell: id, phase: "destroy", total }, onProgress ?? (() => {}));
          // Throttled by the cloud: the destroy runs again and continues where it stopped;
          // what every attempt destroyed is reported.
          const started: string[] = [];
          const destroyed = await retryWhileThrottled(
            stack.name,
            "destroy",
            async (watch) => {
              // Again after a throttled attempt: only what is left (a target no longer in
              // state is an error); a subset of what the preview approved.
              const left = started.length === 0 ? target : (await stack.listResources()).filter((r) => isInCell(r.urn, id)).map((r) => r.urn);
              if (left.length === 0) return;
              await withEvents(
                (onEvent) => stack.destroy({ target: left, targetDependents: true, signal, onEvent }),
                (e) => {
                  destroyStarted = true;
                  watch(e);
                  track(e);
                  const m = e.resourcePreEvent?.metadata;
                  if (m && isChange(m.op)) started.push(m.urn);
                },
              );
            },
            { policy: throttle, signal, onRetry: throttleNote(report, stack.name, "destroy") },
          );
          result.throttleRetries += destroyed.retries;
          return [...new Set(started)];
        },
        { policy: options.retry, signal, onRetry: (n) => report("retry", `stack ${stack.name} is locked: retry ${n.retry} of ${n.retry + n.remaining} in ${(n.delayMs / 1000).toFixed(1)} s`) },
      );
      result.destroyed = value;
      result.attempts = attempts;
    }
  } catch (caught) {
    const err = translatePulumiError(caught, `retire cell ${id}`, stack.name);
    if (!destroyStarted && result.unprotected.length > 0) {
      try {
        await stack.setProtected(result.unprotected, true);
        result.unprotected = [];
      } catch (reprotectError) {
        const how = `\n  and protecting its resources again failed (${(reprotectError as Error).message.split("\n")[0]}): run \`pulumi state protect --stack ${stack.name} --yes ${result.unprotected.join(" ")}\``;
        err.message += how;
      }
    }
    const stillUnprotected = result.unprotected.length > 0 ? ` (${result.unprotected.length} of its resources are unprotected now)` : "";
    const resume = `cell ${id} stays draining in config${stillUnprotected}; run the same retire again to resume`;
    if (signal?.aborted) throw destroyStarted ? new InfraError("cancelled", `cancelled during the destroy of cell ${id}; ${resume}`) : cancelled();
    if (destroyStarted && err instanceof InfraError && (err.kind === "engine" || err.kind === "throttled")) throw new InfraError(err.kind, `${err.message}\n  ${resume}`);
    throw err;
  }

  report("config", `removing ${cellKey(id)}`);
  // Re-read under the lease: the list is appended to, never rewritten from a stale copy.
  const retired = retiredCells(await stack.getAllConfig());
  if (!retired.includes(id)) {
    const w = { key: `${RETIRED_CELLS_KEY}[${retired.length}]`, value: id };
    await stack.setConfig(w.key, w.value, { path: true });
    result.configWritten.push(w);
  }
  await stack.removeConfig(cellKey(id), { path: true });
  result.configRemoved.push(cellKey(id));
  result.phase = "retired";
  report("done", `cell ${id} is retired`);
  return result;
}
