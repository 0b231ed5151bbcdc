import { existsSync } from "node:fs";
import * as path from "node:path";
import { SingleBar } from "cli-progress";
import { Command } from "commander";
import {
  AddCellResourcePlan,
  addCell,
  AddCellResult,
  InfraError,
  describeRegion,
  planAddCell,
  policyGate,
  prepareAddCell,
  Progress,
  ProgressListener,
  RegionSummary,
  retireCell,
  RetireCellResult,
  RetryPolicy,
  StackBackend,
  StackFileConfig,
  UserError,
} from "../automation";
import { ROLES } from "../cells/plan/model";
import { listStacks, PROJECT_DIR } from "../offline/stackfile";
import { ipPlanTable, readPolicyConfig, table, weakenedPolicies } from "./plan";

/*
 * `cellctl cells list|add|retire`: a thin CLI over automation. Human output
 * goes to stdout, progress and notes to stderr; with --json, stdout carries exactly
 * one JSON document (shapes in docs/cellctl.md) and stderr no progress.
 */

/** What the cells commands need from the outside world; tests pass fakes. */
export interface CliEnv {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  /** Whether a human can answer a question (stdin and stderr are terminals). */
  interactive: boolean;
  /** Asks a yes/no question; true for yes. */
  confirm(question: string): Promise<boolean>;
  /** The engine-backed stack (default: the LocalWorkspace binding). */
  openStack(name: string, dir: string | undefined): StackBackend;
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal;
  /** Retry of a locked stack (default: the library's DEFAULT_RETRY). */
  retry?: Partial<RetryPolicy>;
}

interface CommonOptions {
  stack?: string;
  dir?: string;
  json?: boolean;
}

/**
 * Progress on stderr: a bar for the resource phases (up, destroy) on a terminal,
 * one line per phase otherwise; nothing at all with --json.
 */
function progressRenderer(env: CliEnv, json: boolean): { listener: ProgressListener; stop(): void } {
  if (json) return { listener: () => {}, stop: () => {} };
  let bar: SingleBar | undefined;
  let lastPhase = "";
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const listener = (p: Progress) => {
    const resourcePhase = p.phase === "up" || p.phase === "destroy";
    if (resourcePhase && env.stderr.isTTY) {
      if (!bar) {
        bar = new SingleBar({ stream: env.stderr as NodeJS.WritableStream, format: `${p.phase.padEnd(7)} [{bar}] {value}/{total} {current}`, hideCursor: true, barsize: 30 });
        bar.start(p.total, p.done, { current: "" });
      }
      bar.setTotal(p.total);
      bar.update(p.done, { current: p.current ?? "" });
      return;
    }
    if (resourcePhase) {
      if (p.phase !== lastPhase) env.stderr.write(`cellctl: ${p.phase}: ${p.total} resource(s) to change\n`);
    } else {
      stop();
      if (p.message) env.stderr.write(`cellctl: ${p.message}\n`);
    }
    lastPhase = p.phase;
  };
  return { listener, stop };
}

/** Config warnings (valid, but needs attention), on stderr as `cellctl plan` prints them. */
function printWarnings(env: CliEnv, warnings: readonly { path: string; message: string; fix: string }[]): void {
  for (const w of warnings) env.stderr.write(`cellctl: warning: ${w.path}: ${w.message}; fix: ${w.fix}\n`);
}

function printJson(env: CliEnv, value: unknown): void {
  env.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

function renderRegion(r: RegionSummary): string {
  const out = [`stack ${r.stack} (${r.cloud} ${r.region}), pool ${r.addressPool}, ${r.cells.length} cell(s)`];
  const t = table(["cell", "cidr", "state", ...ROLES]);
  for (const c of r.cells) t.push([c.id, c.cidr, c.state, ...ROLES.map((role) => `${c.capacity[role].maxNodesPerZone} x ${c.capacity[role].maxPodsPerNode}`)]);
  out.push(t.toString());
  out.push("capacity per role: max nodes per zone x max pods per node");
  if (r.retiredCells.length > 0) out.push(`retired (ids never reused): ${r.retiredCells.join(", ")}`);
  return out.join("\n");
}

function renderDryRun(p: AddCellResourcePlan): string {
  const out: string[] = [];
  const how = (picked: boolean) => (picked ? "picked" : "given");
  out.push(`plan: add cell ${p.cell.id} (${how(p.picked.id)}) with ${p.cell.cidr} (${how(p.picked.cidr)}) to stack ${p.stack}; nothing is changed`);
  if (p.exists) out.push(`cell ${p.cell.id} is already in config: an add writes nothing and converges it`);
  else out.push(`config to write:\n${p.config.map((w) => `  ${w.key} = ${w.value}`).join("\n")}`);
  out.push(`\nIP plan of ${p.cell.id} (${p.ipPlan.cidr}), service range ${p.ipPlan.serviceCidr}`);
  out.push(ipPlanTable(p.ipPlan.subnets));
  out.push(`\nResources of ${p.cell.id}: ${p.summary.resourceCount} (protected: ${p.resources.filter((r) => r.protect).length})`);
  const types = table(["type", "count"]);
  for (const [type, n] of Object.entries(p.summary.byType).sort()) types.push([type, String(n)]);
  out.push(types.toString());
  out.push(`\nto add it: cellctl cells add --stack ${p.stack} --id ${p.cell.id} --cidr ${p.cell.cidr} --yes`);
  return out.join("\n");
}

function renderPolicyGate(r: AddCellResult): string {
  if (r.policy.skipped) return "policy gate: SKIPPED (--no-policy-pack): preview and up ran without the policy pack";
  return `policy gate: ${r.policy.packs.join(", ")}${r.policy.configs.length ? ` with ${r.policy.configs.join(", ")}` : " (no config file)"}`;
}

function renderAdd(r: AddCellResult): string {
  return `${renderAddOutcome(r)}\n${renderPolicyGate(r)}`;
}

function renderAddOutcome(r: AddCellResult): string {
  if (!r.upRan) return `cell ${r.cell.id} (${r.cell.cidr}) of stack ${r.stack} is up to date: nothing to change${r.configWritten.length ? "" : ", no config written"}`;
  const changes = Object.entries(r.resourceChanges ?? {})
    .filter(([op]) => op !== "same" && op !== "read")
    .map(([op, n]) => `${n} ${op}`)
    .join(", ");
  const retried = [r.attempts > 1 ? `${r.attempts - 1} retries on a locked stack` : "", r.throttleRetries > 0 ? `${r.throttleRetries} retries of what the cloud throttled` : ""].filter(Boolean);
  return `cell ${r.cell.id} (${r.cell.cidr}) added to stack ${r.stack}: ${changes || "no resource changes"}${retried.length ? ` (after ${retried.join(" and ")})` : ""}`;
}

function renderRetire(r: RetireCellResult, force: boolean): string {
  if (r.phase === "retired") {
    const lines = [
      `cell ${r.cell} retired from stack ${r.stack}: ${r.destroyed.length} resource(s) destroyed, config ${r.configRemoved.join(", ")} removed${r.throttleRetries > 0 ? ` (after ${r.throttleRetries} retries of what the cloud throttled)` : ""}`,
    ];
    if (r.unprotected.length > 0) lines.push(`unprotected (--unprotect) before the destroy:\n${r.unprotected.map((u) => `  ${u}`).join("\n")}`);
    return lines.join("\n");
  }
  if (r.configWritten.length > 0) {
    return `cell ${r.cell} of stack ${r.stack} is draining: the control plane places no new services there.\nonce its services have moved: cellctl cells retire --stack ${r.stack} --id ${r.cell} --force`;
  }
  return `cell ${r.cell} of stack ${r.stack} is already draining${force ? "" : "; pass --force to destroy its resources and remove it"}`;
}

/** `work`, unless `signal` aborts first (Ctrl-C): then a `cancelled` InfraError (exit 2); offline work changes nothing. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  const cancelled = () => new InfraError("cancelled", "cancelled (Ctrl-C); nothing was changed");
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * The pack's mandatory policies a config file weakens, resolved as the engine does
 * (PolicyConfigError on a bad file). The pack loads here, on the paths that gate.
 */
async function weakenedBy(configFile: string): Promise<ReturnType<typeof weakenedPolicies>> {
  const [{ resolvePolicyConfig }, { PACK_ENFORCEMENT_LEVEL, POLICIES }] = await Promise.all([import("../policies/offline"), import("../policies/policies")]);
  const file = await readPolicyConfig(configFile);
  const levels = [...resolvePolicyConfig({ policies: POLICIES, enforcementLevel: PACK_ENFORCEMENT_LEVEL }, file).entries()].map(([name, c]) => ({ name, level: c.level }));
  return weakenedPolicies(levels, POLICIES, PACK_ENFORCEMENT_LEVEL);
}

/**
 * `cells` commands name their stack: there is no default stack (cellctl serves every
 * cloud), and a command that changes a stack never guesses one. The error lists the
 * stack files of the project.
 */
function requireStack<T extends { stack?: string; dir?: string }>(o: T): asserts o is T & { stack: string } {
  if (o.stack) return;
  const stacks = listStacks(o.dir ? path.resolve(o.dir) : PROJECT_DIR);
  throw new UserError(`--stack is required: name the region stack (this project has ${stacks.length ? stacks.join(", ") : "no stack files"})\n  fix: pass --stack <name>${stacks.length ? `, e.g. --stack ${stacks[0]}` : ""}`);
}

const stackOption = ["-s, --stack <stack>", "region stack (its config is Pulumi.<stack>.yaml)"] as const;
const dirOption = ["--dir <dir>", "project directory (Pulumi.yaml and the stack files); default: this project"] as const;

/** Adds `cells list|add|retire` to the program. */
export function addCellCommands(program: Command, env: CliEnv): void {
  const cells = program.command("cells").description("list, add and retire the cells of a region stack");

  cells
    .command("list")
    .description("list the cells of a region stack from its config (offline, no Pulumi CLI)")
    .option(...stackOption)
    .option(...dirOption)
    .option("--json", "print JSON (see docs/cellctl.md)")
    .action(async (o: CommonOptions) => {
      requireStack(o);
      const region = await describeRegion(new StackFileConfig(o.stack, o.dir && path.resolve(o.dir)));
      if (o.json) printJson(env, region);
      else env.stdout.write(renderRegion(region) + "\n");
    });

  cells
    .command("add")
    .description("add a cell: next id and free CIDR unless given, config write, preview, blast-radius guard, up")
    .option(...stackOption)
    .option("--id <id>", "cell id (default: the next one, never a retired one); pass it to make a retry idempotent")
    .option("--cidr <cidr>", "cell CIDR (default: the lowest free block of cellplane:newCellPrefix in cellplane:addressPool)")
    .option("--dry-run", "plan offline (IP plan and resources under mocks); change nothing")
    .option("-y, --yes", "do not ask for confirmation (required when not on a terminal)")
    .option("--policy-pack <dir>", "run preview and up with this policy pack (default: the project's policies/, or $CELLPLANE_POLICY_PACK)")
    .option("--no-policy-pack", "run preview and up WITHOUT the policy gate (reported in the output)")
    .option("--policy-config <file>", "the pack's config, as --policy-pack-config (default: policies/policy-config.json with the default pack)")
    .option(...dirOption)
    .option("--json", "print JSON (see docs/cellctl.md); no progress bar")
    .action(async (o: CommonOptions & { id?: string; cidr?: string; dryRun?: boolean; yes?: boolean; policyPack?: string | false; policyConfig?: string }) => {
      requireStack(o);
      const dir = o.dir && path.resolve(o.dir);
      const request = { id: o.id, cidr: o.cidr };
      if (o.dryRun) {
        if (!o.json) env.stderr.write(`cellctl: planning the new cell offline (the program under mocks; Ctrl-C cancels)\n`);
        const plan = await untilAborted(planAddCell(new StackFileConfig(o.stack, dir), request), env.signal);
        // (the program's own run under mocks prints the config warnings in this mode)
        if (o.json) printJson(env, { dryRun: true, ...plan });
        else env.stdout.write(renderDryRun(plan) + "\n");
        return;
      }
      const backend = env.openStack(o.stack, dir);
      const plan = await prepareAddCell(backend, request);
      // Valid, but needs attention (a Kubernetes version near its end of support): said before anything changes.
      if (!o.json) printWarnings(env, plan.warnings);
      if (!o.yes) {
        if (!env.interactive) {
          throw new UserError(`refusing to change stack ${o.stack} without confirmation (not a terminal)\n  fix: pass --yes, or --dry-run to only plan`);
        }
        const what = plan.exists ? `Converge cell ${plan.cell.id} (${plan.cell.cidr}) of` : `Add cell ${plan.cell.id} (${plan.cell.cidr}) to`;
        if (!(await env.confirm(`${what} stack ${o.stack}? [y/N] `))) throw new UserError("not confirmed; nothing was changed");
      }
      if (o.policyConfig && !existsSync(o.policyConfig)) throw new UserError(`no policy config file ${o.policyConfig}\n  fix: pass an existing file to --policy-config`);
      const policy =
        o.policyPack === false
          ? { policyPacks: [] }
          : { policyPacks: o.policyPack ? [path.resolve(o.policyPack)] : undefined, policyPackConfigs: o.policyConfig ? [path.resolve(o.policyConfig)] : undefined };
      // The project's pack: its config is checked before anything changes (a typo is a user error),
      // and every mandatory policy it weakens is said, as `plan` says it.
      const gate = policyGate(policy, backend.workDir ?? PROJECT_DIR);
      const projectPack = gate.packs.length === 1 && path.resolve(gate.packs[0]) === path.join(backend.workDir ?? PROJECT_DIR, "policies");
      const weakened = projectPack && gate.configs.length === 1 ? await weakenedBy(gate.configs[0]) : [];
      if (weakened.length > 0 && !o.json) {
        env.stderr.write(`cellctl: WARNING: ${gate.configs[0]} weakens mandatory policies: ${weakened.map((w) => `${w.policy} (mandatory -> ${w.effective})`).join(", ")}\n`);
      }
      const progress = progressRenderer(env, o.json === true);
      try {
        // The request as the user gave it: under the stack's lease the library picks the id and CIDR again,
        // so a concurrent add that took the confirmed ones never makes this one converge someone else's cell.
        const result = await addCell(backend, request, { onProgress: progress.listener, signal: env.signal, retry: env.retry, ...policy });
        progress.stop();
        if (result.cell.id !== plan.cell.id || result.cell.cidr !== plan.cell.cidr) {
          env.stderr.write(`cellctl: note: another add took ${plan.cell.id} (${plan.cell.cidr}) meanwhile; this one added ${result.cell.id} (${result.cell.cidr})\n`);
        }
        if (o.json) printJson(env, { dryRun: false, ...result, warnings: plan.warnings, policy: { ...result.policy, weakened } });
        else env.stdout.write(renderAdd(result) + "\n");
      } finally {
        progress.stop();
      }
    });

  cells
    .command("retire")
    .description("retire a cell: first mark it draining; then, with --force, destroy its resources and remove it")
    .option(...stackOption)
    .requiredOption("--id <id>", "the cell to retire")
    .option("--force", "phase 2: destroy the (draining) cell's resources and remove its config")
    .option("--unprotect", "with --force: clear the protect bit of the cell's protected resources first (each one is reported)")
    .option(...dirOption)
    .option("--json", "print JSON (see docs/cellctl.md); no progress bar")
    .action(async (o: CommonOptions & { id: string; force?: boolean; unprotect?: boolean }) => {
      requireStack(o);
      if (o.unprotect && !o.force) throw new UserError("--unprotect only applies to the destroy phase\n  fix: pass it together with --force");
      const progress = progressRenderer(env, o.json === true);
      try {
        const result = await retireCell(env.openStack(o.stack, o.dir && path.resolve(o.dir)), o.id, {
          force: o.force,
          unprotect: o.unprotect,
          onProgress: progress.listener,
          signal: env.signal,
          retry: env.retry,
        });
        progress.stop();
        if (o.json) printJson(env, result);
        else env.stdout.write(renderRetire(result, o.force === true) + "\n");
      } finally {
        progress.stop();
      }
    });
}
