import { rawFromFlatConfig, ConfigError, RegionConfig, validateConfig } from "../cells/config";
import { CLOUD_FACES } from "../cells/plan/clouds";
import { formatProblems } from "../cells/plan/model";
import { Placement, PlacementCell, placeService, ServicePool } from "../cells/plan/placement";
import { cellPodCapacity, nextServiceId, parseServiceStackName, SERVICE_ID_PATTERN, SERVICE_SIZES, ServiceRecord, ServiceSizeName, serviceStackName } from "../cells/plan/services";
import { listStacks, loadStackFile, PROJECT_DIR } from "../offline/stackfile";
import { ServiceConfig, serviceConfigEntries, validateServiceConfig } from "../services/config";
import { StackConfigReader } from "./backend";
import { InfraError, UserError } from "./errors";
import { InMemoryLease, StackLease } from "./lease";
import { checkSignal, RetryPolicy } from "./retry";
import { retryWhileThrottled, throttlePolicy } from "./throttling";

/*
 * Tenant services of a region: list, plan (offline, under mocks), add and remove.
 * Every service is its own stack, `<region stack>-svc-<id>`, whose config records
 * its placement (cell, pool member, size). That config is the only record: what a
 * subscription holds is counted from the service stacks themselves, so the count
 * cannot drift from what is deployed. Placement reads every service stack and
 * writes the new one's config while holding the REGION stack's lease, so two
 * concurrent adds take turns and never both see the same free quota.
 */

/** The per-stack lease of the control plane (automation/lease.ts). */
export type ServiceLease = StackLease;

/** One service stack: its name and flat config. */
export interface ServiceStackEntry {
  stack: string;
  config: Record<string, string>;
}

/** The service stacks of a project: read offline (their config) and driven through the engine. */
export interface ServiceStacks {
  /**
   * The lease of the REGION stack these services belong to, shared with the region's
   * own operations (cells add/retire): placement never races a cell being drained.
   * Used when the caller passes none.
   */
  readonly lease?: ServiceLease;
  /** Every service stack of a region stack, with its config. */
  list(regionStack: string): Promise<ServiceStackEntry[]>;
  /** Creates the stack (if absent) and writes its whole config. */
  create(stack: string, config: Record<string, string>): Promise<void>;
  /** `pulumi config set` of one key. */
  setConfig(stack: string, key: string, value: string): Promise<void>;
  /** `pulumi up` of the service program; reports resources done/total. */
  up(stack: string, options: { signal?: AbortSignal; onStep?: (done: number, total: number, current?: string) => void }): Promise<{ outputs: Record<string, unknown> }>;
  /** Whether the service's storage holds any object (a blob, a version or a soft-deleted one). */
  storageHoldsData(stack: string): Promise<boolean>;
  /** `pulumi destroy` (protected resources unprotected first) and removal of the stack and its config. */
  destroyAndRemove(stack: string, options: { signal?: AbortSignal }): Promise<{ destroyed: number }>;
}

/** A service as the control plane sees it. */
export interface ServiceSummary {
  id: string;
  stack: string;
  cell: string;
  size: ServiceSizeName;
  state: "active" | "removing";
  /** Pool member (Azure subscription). */
  poolMember?: string;
}

export interface AddServiceRequest {
  /** Default: the next id (`s` + highest ever + 1). */
  id?: string;
  size?: ServiceSizeName;
  /** Place in this cell (it must be active with headroom); default: placement picks. */
  cell?: string;
}

export interface ServicePlacementPlan {
  regionStack: string;
  stack: string;
  service: ServiceConfig;
  placement: Placement;
  /** The pool with its usage before this service (for the record), when the cloud has one. */
  pool?: { memberKind: string; members: { id: string; open: boolean; services: number }[] };
}

function regionOf(flat: Record<string, string>, name: string): RegionConfig {
  const v = validateConfig(rawFromFlatConfig(flat));
  if (!v.ok) throw new ConfigError(v.problems, name);
  return v.value;
}

/** The cloud's service pool from region config, or undefined on a cloud without one. Throws when the cloud needs one and it is not configured. */
function poolOf(config: RegionConfig): ServicePool | undefined {
  const face = CLOUD_FACES[config.cloud] as { services?: { pool(settings: unknown, region: { cellCount: number }): ServicePool | undefined } };
  return face.services?.pool((config as unknown as Record<string, unknown>)[config.cloud], { cellCount: config.cells.length });
}

export function recordsOf(entries: readonly ServiceStackEntry[]): { summaries: ServiceSummary[]; records: ServiceRecord[] } {
  const summaries: ServiceSummary[] = [];
  for (const e of entries) {
    // A stack whose creation was interrupted before its config was written holds no
    // resources (its `up` never ran): it takes no quota, and a retry of the add rewrites it.
    if (!Object.keys(e.config).some((k) => k.startsWith("service:"))) continue;
    const v = validateServiceConfig(e.config);
    if (!v.ok) throw new UserError(`service stack ${e.stack} has an invalid config:\n${formatProblems(v.problems)}`);
    const c = v.value;
    summaries.push({ id: c.id, stack: e.stack, cell: c.cell, size: c.size, state: c.state, poolMember: c.poolMember });
  }
  summaries.sort((a, b) => a.id.localeCompare(b.id));
  return { summaries, records: summaries.map(({ id, cell, size, poolMember }) => ({ id, cell, size, poolMember })) };
}

/** The services of a region, from their stacks. Offline with `ServiceStackFiles`. */
export async function listServices(region: StackConfigReader, stacks: ServiceStacks): Promise<ServiceSummary[]> {
  return recordsOf(await stacks.list(region.name)).summaries;
}

/**
 * Places a new service without touching anything: validates the region config,
 * counts the pool from the service stacks, picks the cell and (on Azure) the pool
 * subscription, and returns the service stack's config.
 */
export async function prepareAddService(
  region: StackConfigReader,
  stacks: ServiceStacks,
  request: AddServiceRequest = {},
  options: { random?: () => number } = {},
): Promise<ServicePlacementPlan> {
  const config = regionOf(await region.getAllConfig(), region.name);
  const { summaries, records } = recordsOf(await stacks.list(region.name));
  const size = request.size ?? "small";
  if (!(size in SERVICE_SIZES)) throw new UserError(`unknown service size "${size}"\n  fix: use one of ${Object.keys(SERVICE_SIZES).join(", ")}`);
  const id = request.id ?? nextServiceId(summaries.map((s) => s.id));
  if (!SERVICE_ID_PATTERN.test(id)) throw new UserError(`"${id}" is not a service id\n  fix: use s followed by 4-7 digits (e.g. ${nextServiceId(summaries.map((s) => s.id))}), or omit it`);
  if (summaries.some((s) => s.id === id)) throw new UserError(`service ${id} already exists in ${region.name}\n  fix: omit the id to add a new service, or \`cellctl services list --stack ${region.name}\``);
  let pool: ServicePool | undefined;
  try {
    pool = poolOf(config);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  if (pool) {
    // A member dropped from config while it still holds services would stop being
    // counted against anything: refuse until it is back (closed, if it takes no more).
    const members = new Set(pool.members.map((m) => m.id));
    const orphans = [...new Set(records.map((r) => r.poolMember).filter((m): m is string => m !== undefined && !members.has(m)))];
    if (orphans.length > 0) {
      throw new UserError(
        orphans
          .map((m) => `${pool!.memberKind} ${m} holds ${records.filter((r) => r.poolMember === m).length} service(s) but is not in cellplane:${pool!.configPath.join(".")}.members`)
          .join("\n") + `\n  fix: put it back in the pool with state: closed (it keeps its services and takes no new ones)`,
      );
    }
  }
  let cells: PlacementCell[] = config.cells.map((c) => ({ id: c.id, state: c.state, podCapacity: cellPodCapacity(c, config.zones.length) }));
  if (request.cell !== undefined) {
    if (!cells.some((c) => c.id === request.cell)) throw new UserError(`cell ${request.cell} is not in ${region.name}\n  fix: use one of ${cells.map((c) => c.id).join(", ")}, or omit --cell`);
    cells = cells.filter((c) => c.id === request.cell);
  }
  const placed = placeService({ service: { id, size }, cells, services: records, pool, random: options.random });
  if (!placed.ok) throw new UserError(`cannot place service ${id} (${size}) in ${region.name}:\n${formatProblems(placed.problems)}`);
  const service: ServiceConfig = {
    id,
    regionStack: region.name,
    cloud: config.cloud,
    location: config.region,
    cell: placed.value.cell,
    size,
    poolMember: placed.value.poolMember,
    protect: config.protect,
    tags: config.tags,
    state: "active",
  };
  return {
    regionStack: region.name,
    stack: serviceStackName(region.name, id),
    service,
    placement: placed.value,
    pool: pool && {
      memberKind: pool.memberKind,
      members: pool.members.map((m) => ({ id: m.id, open: m.open, services: records.filter((r) => r.poolMember === m.id).length })),
    },
  };
}

/** A resource of the planned service. */
export interface PlannedServiceResource {
  urn: string;
  type: string;
  name: string;
  protect: boolean;
  provider: string | null;
  inputs: Record<string, unknown>;
}

export interface ServiceResourcePlan extends ServicePlacementPlan {
  resources: PlannedServiceResource[];
  /** The policy pack's verdict on the service's resources (the same pack as the region). */
  policy: { violations: { policy: string; level: string; urn: string; message: string }[] };
}

/**
 * `prepareAddService`, then the service program under Pulumi's mocks: the region
 * program runs first (mocked) so the service's StackReference reads the region's
 * real output shapes, then the service program, then the policy pack on its
 * resources. Touches nothing.
 */
export async function planAddService(
  region: StackConfigReader,
  stacks: ServiceStacks,
  request: AddServiceRequest = {},
  options: { random?: () => number; signal?: AbortSignal } = {},
): Promise<ServiceResourcePlan> {
  const plan = await prepareAddService(region, stacks, request, options);
  checkSignal(options.signal);
  const [{ program }, { serviceProgram }, run, pol, pack] = await Promise.all([
    import("../cells/program"),
    import("../services/program"),
    import("../offline/run"),
    import("../policies/offline"),
    import("../policies/policies"),
  ]);
  const regionRun = await run.runProgram({ stack: region.name, config: await region.getAllConfig(), program });
  checkSignal(options.signal);
  const serviceRun = await run
    .runProgram({ stack: plan.stack, config: serviceConfigEntries(plan.service), program: serviceProgram, previousOutputs: run.unwrapSecrets(regionRun.outputs).value })
    .catch((err: Error) => {
      throw new UserError(`service ${plan.service.id} would not plan:\n${err.message}`);
    });
  const report = await pol.runPolicies(
    serviceRun.registrations.map((r) => ({ ...r, inputs: run.unwrapSecrets(r.inputs).value })),
    { policies: pack.POLICIES, enforcementLevel: pack.PACK_ENFORCEMENT_LEVEL },
  );
  return {
    ...plan,
    resources: serviceRun.registrations.map((r) => ({ urn: r.urn, type: r.type, name: r.name, protect: r.protect, provider: r.provider, inputs: run.maskSecrets(r.inputs) })),
    policy: { violations: report.violations.map((v) => ({ policy: v.policy, level: v.level, urn: v.urn ?? "", message: v.message })) },
  };
}

export interface ServiceOperationOptions {
  /** The region stack's lease (automation/lease.ts); default: one shared by this process. */
  lease?: ServiceLease;
  signal?: AbortSignal;
  random?: () => number;
  /** The clock (`sleep`, `random`) of the throttle retry; the library's retry policy shape. */
  retry?: Partial<RetryPolicy>;
  /** Retry of an update or destroy the cloud throttled (automation/throttling.ts); defaults in DEFAULT_THROTTLE_RETRY. */
  throttleRetry?: Partial<RetryPolicy>;
  onProgress?: (p: { service: string; phase: "placing" | "recording" | "up" | "retry" | "checking-data" | "destroy" | "done"; done: number; total: number; current?: string }) => void;
}

/** Operations of this process on one stack take turns (used when neither the caller nor the stacks bring a lease). */
const PROCESS_LEASE = new InMemoryLease();

export interface AddServiceResult extends ServicePlacementPlan {
  outputs: Record<string, unknown>;
}

/**
 * Adds a service: under the region stack's lease, places it (counting every service
 * stack) and records it (creates its stack with its config); then, under the service
 * stack's own lease, runs `up` of the service program. A failed `up` leaves the record: the
 * same call with the id resumes (`cellctl services add --id <id>` converges).
 */
export async function addService(region: StackConfigReader, stacks: ServiceStacks, request: AddServiceRequest = {}, options: ServiceOperationOptions = {}): Promise<AddServiceResult> {
  const lease = options.lease ?? stacks.lease ?? PROCESS_LEASE;
  const report = (phase: Parameters<NonNullable<ServiceOperationOptions["onProgress"]>>[0]["phase"], service: string, done = 0, total = 0, current?: string) =>
    options.onProgress?.({ service, phase, done, total, current });
  checkSignal(options.signal);
  const existing = request.id ? recordsOf(await stacks.list(region.name)).summaries.find((s) => s.id === request.id) : undefined;
  let plan: ServicePlacementPlan;
  if (existing) {
    // Resume: the record exists, the placement is the one recorded.
    const entry = (await stacks.list(region.name)).find((e) => e.stack === existing.stack)!;
    const v = validateServiceConfig(entry.config);
    if (!v.ok) throw new UserError(formatProblems(v.problems));
    if (v.value.state === "removing") throw new UserError(`service ${existing.id} is being removed\n  fix: finish with \`cellctl services remove --stack ${region.name} --id ${existing.id} --force\``);
    plan = { regionStack: region.name, stack: existing.stack, service: v.value, placement: { cell: v.value.cell, poolMember: v.value.poolMember, cellPodsFreeAfter: 0, eligibleMembers: [] } };
  } else {
    plan = await lease.withLease(
      region.name,
      async (lost) => {
        report("placing", request.id ?? "new");
        const p = await prepareAddService(region, stacks, request, options);
        checkSignal(lost);
        report("recording", p.service.id);
        await stacks.create(p.stack, serviceConfigEntries(p.service));
        return p;
      },
      { signal: options.signal },
    );
  }
  checkSignal(options.signal);
  const throttle = throttlePolicy(options.retry, options.throttleRetry);
  report("up", plan.service.id);
  // The update runs under the service stack's own lease, not the region's: services
  // deploy in parallel, and a second add or a remove of the same service waits. An
  // update the cloud throttled runs again and continues where it stopped.
  const { outputs } = await lease.withLease(
    plan.stack,
    async (lost) => {
      const signal = options.signal ? AbortSignal.any([options.signal, lost]) : lost;
      const { value } = await retryWhileThrottled(plan.stack, "update", () => stacks.up(plan.stack, { signal, onStep: (d, t, c) => report("up", plan.service.id, d, t, c) }), {
        policy: throttle,
        signal,
        onRetry: (n) => report("retry", plan.service.id, 0, 0, `the cloud throttled the update (${n.cause}): retry ${n.retry} of ${n.retry + n.remaining} in ${(n.delayMs / 1000).toFixed(1)} s`),
      });
      return value;
    },
    { signal: options.signal },
  );
  report("done", plan.service.id);
  return { ...plan, outputs };
}

export interface RemoveServiceResult {
  id: string;
  stack: string;
  phase: "removing" | "removed";
  destroyed: number;
}

/**
 * Removes a service in two phases, like `cells retire`: first it is marked
 * `removing` (the control plane routes nothing new to it); then, with `force`,
 * its stack is destroyed and removed, which frees its quota in the pool. Phase 2
 * refuses while the storage account still holds data, unless `deleteData`.
 */
export async function removeService(
  region: StackConfigReader,
  stacks: ServiceStacks,
  id: string,
  options: ServiceOperationOptions & { force?: boolean; deleteData?: boolean } = {},
): Promise<RemoveServiceResult> {
  const lease = options.lease ?? stacks.lease ?? PROCESS_LEASE;
  const entries = await stacks.list(region.name);
  const stack = serviceStackName(region.name, id);
  const entry = entries.find((e) => e.stack === stack);
  if (!entry) throw new UserError(`service ${id} is not in ${region.name}\n  fix: \`cellctl services list --stack ${region.name}\` lists its services`);
  const v = validateServiceConfig(entry.config);
  if (!v.ok) throw new UserError(formatProblems(v.problems));
  if (!options.force) {
    if (v.value.state !== "removing") await lease.withLease(stack, () => stacks.setConfig(stack, "service:state", "removing"), { signal: options.signal });
    return { id, stack, phase: "removing", destroyed: 0 };
  }
  if (v.value.state !== "removing") {
    throw new UserError(`service ${id} is active; removal is two-phase\n  fix: first \`cellctl services remove --stack ${region.name} --id ${id}\` (marks it removing), then again with --force`);
  }
  options.onProgress?.({ service: id, phase: "checking-data", done: 0, total: 0 });
  if (!options.deleteData && (await stacks.storageHoldsData(stack))) {
    throw new UserError(
      `service ${id}'s storage still holds data; refusing to delete it\n  fix: export or delete the tenant's data first, or pass --delete-data to destroy it with its storage (soft-deleted blobs and noncurrent object versions go with it)`,
    );
  }
  options.onProgress?.({ service: id, phase: "destroy", done: 0, total: 0 });
  // Under the service stack's lease, not the region's: a destroy takes minutes and must
  // not hold up the region. Placement keeps counting the service until its stack (the
  // record) is removed, after its resources: a count is never lower than what exists.
  // A destroy the cloud throttled runs again: what is gone stays gone.
  const throttle = throttlePolicy(options.retry, options.throttleRetry);
  const { destroyed } = await lease.withLease(
    stack,
    async (lost) => {
      const signal = options.signal ? AbortSignal.any([options.signal, lost]) : lost;
      const { value } = await retryWhileThrottled(stack, "destroy", () => stacks.destroyAndRemove(stack, { signal }), {
        policy: throttle,
        signal,
        onRetry: (n) => options.onProgress?.({ service: id, phase: "retry", done: 0, total: 0, current: `the cloud throttled the destroy (${n.cause}): retry ${n.retry} of ${n.retry + n.remaining} in ${(n.delayMs / 1000).toFixed(1)} s` }),
      });
      return value;
    },
    { signal: options.signal },
  );
  options.onProgress?.({ service: id, phase: "done", done: destroyed, total: destroyed });
  return { id, stack, phase: "removed", destroyed };
}

/**
 * The service stacks' config files (`Pulumi.<region>-svc-<id>.yaml` in the project
 * directory, where the Pulumi CLI keeps a stack's config): the offline view, enough
 * for `list` and `--dry-run`. Engine operations need `PulumiServiceStacks`.
 */
export class ServiceStackFiles implements Pick<ServiceStacks, "list"> {
  constructor(private readonly dir: string = PROJECT_DIR) {}
  async list(regionStack: string): Promise<ServiceStackEntry[]> {
    return listStacks(this.dir)
      .filter((s) => parseServiceStackName(s)?.regionStack === regionStack)
      .map((stack) => ({ stack, config: loadStackFile(stack, this.dir).config }));
  }
}

/** Offline service stacks: `list` from files; every engine operation refuses (dry runs and listing only). */
export class OfflineServiceStacks extends ServiceStackFiles implements ServiceStacks {
  private refuse(): never {
    throw new InfraError("cli-missing", "this operation changes service stacks and needs the Pulumi engine; use PulumiServiceStacks (automation/servicesPulumi.ts)");
  }
  create(): Promise<void> {
    return this.refuse();
  }
  setConfig(): Promise<void> {
    return this.refuse();
  }
  up(): Promise<{ outputs: Record<string, unknown> }> {
    return this.refuse();
  }
  storageHoldsData(): Promise<boolean> {
    return this.refuse();
  }
  destroyAndRemove(): Promise<{ destroyed: number }> {
    return this.refuse();
  }
}

/** In-memory service stacks for tests and the control plane's own tests: config, a data flag, an up that records outputs. */
export class InMemoryServiceStacks implements ServiceStacks {
  readonly stacks = new Map<string, { config: Record<string, string>; deployed: boolean; holdsData: boolean }>();
  /** Updates that fail next, each with its engine message (a knob for tests). */
  readonly failUps: string[] = [];
  /** Delay of `up`, to let concurrent adds interleave in tests. */
  constructor(private readonly upDelayMs = 0) {}
  async list(regionStack: string): Promise<ServiceStackEntry[]> {
    return [...this.stacks.entries()].filter(([name]) => parseServiceStackName(name)?.regionStack === regionStack).map(([stack, s]) => ({ stack, config: { ...s.config } }));
  }
  async create(stack: string, config: Record<string, string>): Promise<void> {
    // Yield, so a missing lease would show as two adds reading the same counts.
    await new Promise((r) => setTimeout(r, 1));
    const s = this.stacks.get(stack);
    if (s) Object.assign(s.config, config);
    else this.stacks.set(stack, { config: { ...config }, deployed: false, holdsData: false });
  }
  async setConfig(stack: string, key: string, value: string): Promise<void> {
    const s = this.stacks.get(stack);
    if (!s) throw new UserError(`no stack ${stack}`);
    s.config[key] = value;
  }
  async up(stack: string, options: { signal?: AbortSignal; onStep?: (d: number, t: number, c?: string) => void }): Promise<{ outputs: Record<string, unknown> }> {
    const s = this.stacks.get(stack);
    if (!s) throw new UserError(`no stack ${stack}`);
    if (this.upDelayMs) await new Promise((r) => setTimeout(r, this.upDelayMs));
    checkSignal(options.signal);
    const failure = this.failUps.shift();
    if (failure !== undefined) throw new InfraError("engine", `up failed for stack ${stack}:\n${failure}`);
    options.onStep?.(1, 1, stack);
    s.deployed = true;
    return { outputs: { service: s.config["service:id"] } };
  }
  async storageHoldsData(stack: string): Promise<boolean> {
    return this.stacks.get(stack)?.holdsData ?? false;
  }
  async destroyAndRemove(stack: string): Promise<{ destroyed: number }> {
    if (!this.stacks.delete(stack)) throw new UserError(`no stack ${stack}`);
    return { destroyed: 1 };
  }
}
