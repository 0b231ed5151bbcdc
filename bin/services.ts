import * as path from "node:path";
import { SingleBar } from "cli-progress";
import { Command } from "commander";
import {
  addService,
  AddServiceResult,
  listServices,
  OfflineServiceStacks,
  planAddService,
  PulumiServiceStacks,
  removeService,
  ServiceOperationOptions,
  ServiceResourcePlan,
  ServiceStacks,
  ServiceSummary,
  StackFileConfig,
  UserError,
} from "../automation";
import { SERVICE_SIZE_NAMES, ServiceSizeName } from "../cells/plan/services";
import { CliEnv, untilAborted } from "./cells";
import { table } from "./plan";

/*
 * `cellctl services list|add|remove`: tenant services of a region stack, one
 * stack each (`<region stack>-svc-<id>`). Same conventions as `cells`: human output
 * on stdout, progress on stderr, one JSON document with --json, exit codes 0/1/2.
 */

/** The service stacks the CLI drives (tests pass in-memory ones). */
export interface ServiceCliEnv extends CliEnv {
  serviceStacks?(dir: string | undefined): ServiceStacks;
}

interface Common {
  stack: string;
  dir?: string;
  json?: boolean;
}

function print(env: CliEnv, value: unknown): void {
  env.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

type ServiceProgress = Parameters<NonNullable<ServiceOperationOptions["onProgress"]>>[0];

function progress(env: CliEnv, json: boolean): { listener: (p: ServiceProgress) => void; stop(): void } {
  if (json) return { listener: () => {}, stop: () => {} };
  let bar: SingleBar | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    stop,
    listener: (p) => {
      if (p.phase === "up" && p.total > 0 && env.stderr.isTTY) {
        bar ??= new SingleBar({ stream: env.stderr as NodeJS.WritableStream, format: "up      [{bar}] {value}/{total} {current}", hideCursor: true, barsize: 30 });
        if (p.done === 0 || !bar.isActive) bar.start(p.total, p.done, { current: "" });
        bar.setTotal(p.total);
        bar.update(p.done, { current: p.current ?? "" });
        return;
      }
      if (p.phase === "up" && p.total > 0) return;
      stop();
      env.stderr.write(p.phase === "retry" ? `cellctl: service ${p.service}: ${p.current}\n` : `cellctl: ${p.phase} service ${p.service}\n`);
    },
  };
}

export function renderServicePlan(p: ServiceResourcePlan): string {
  const out: string[] = [];
  out.push(`plan: add service ${p.service.id} (${p.service.size}) to region stack ${p.regionStack}, in its own stack ${p.stack}; nothing is changed`);
  out.push(`placement:`);
  out.push(`  cell            ${p.placement.cell} (${p.placement.cellPodsFreeAfter} data-plane pods free after it)`);
  if (p.placement.poolMember) {
    const rg = p.resources.find((r) => r.type.endsWith(":ResourceGroup"))?.inputs.resourceGroupName;
    out.push(`  ${(p.pool?.memberKind ?? "pool member").padEnd(16)}${p.placement.poolMember} (drawn among ${p.placement.eligibleMembers.length} eligible)`);
    if (rg) out.push(`  resource group  ${String(rg)}`);
    // Object-storage buckets of any cloud (type `...:Bucket`): their name is `bucket` or `name`.
    const bucket = p.resources.find((r) => r.type.endsWith(":Bucket"));
    const bucketName = bucket?.inputs.bucket ?? bucket?.inputs.name;
    if (bucketName) out.push(`  bucket          ${String(bucketName)}`);
  }
  if (p.pool) {
    const t = table([p.pool.memberKind, "state", "services"]);
    for (const m of p.pool.members) t.push([m.id, m.open ? "open" : "closed", String(m.services)]);
    out.push(t.toString());
  }
  out.push(`\nResources of ${p.stack}: ${p.resources.length} (protected: ${p.resources.filter((r) => r.protect).length})`);
  const t = table(["type", "name", "protected"]);
  for (const r of p.resources) t.push([r.type, r.name, r.protect ? "yes" : ""]);
  out.push(t.toString());
  const mandatory = p.policy.violations.filter((v) => v.level === "mandatory");
  out.push(`\npolicy pack: ${mandatory.length} mandatory, ${p.policy.violations.length - mandatory.length} advisory violation(s)`);
  for (const v of p.policy.violations) out.push(`  ${v.level} ${v.policy}: ${v.message}`);
  out.push(`\nto add it: cellctl services add --stack ${p.regionStack} --size ${p.service.size} --yes`);
  return out.join("\n");
}

function renderList(stack: string, services: ServiceSummary[]): string {
  if (services.length === 0) return `region stack ${stack} has no services`;
  const t = table(["service", "stack", "cell", "size", "state", "pool member"]);
  for (const s of services) t.push([s.id, s.stack, s.cell, s.size, s.state, s.poolMember ?? ""]);
  return t.toString();
}

function renderAdd(r: AddServiceResult): string {
  return `service ${r.service.id} (${r.service.size}) is up in cell ${r.service.cell}${r.service.poolMember ? `, ${r.pool?.memberKind ?? "pool member"} ${r.service.poolMember}` : ""}: stack ${r.stack}`;
}

function parseSize(v: string): ServiceSizeName {
  if (!(SERVICE_SIZE_NAMES as string[]).includes(v)) throw new UserError(`unknown size "${v}"\n  fix: use one of ${SERVICE_SIZE_NAMES.join(", ")}`);
  return v as ServiceSizeName;
}

export function addServiceCommands(program: Command, env: ServiceCliEnv): void {
  const stacksFor = (dir: string | undefined, engine: boolean): ServiceStacks =>
    env.serviceStacks?.(dir) ?? (engine ? new PulumiServiceStacks(dir) : new OfflineServiceStacks(dir));
  const services = program.command("services").description("list, add and remove the tenant services of a region stack (one stack per service)");

  services
    .command("list")
    .description("list the services of a region stack, from their stacks' config (offline)")
    .requiredOption("-s, --stack <stack>", "region stack")
    .option("--dir <dir>", "project directory")
    .option("--json", "print JSON")
    .action(async (o: Common) => {
      const dir = o.dir && path.resolve(o.dir);
      const list = await listServices(new StackFileConfig(o.stack, dir), stacksFor(dir, false));
      if (o.json) print(env, list);
      else env.stdout.write(renderList(o.stack, list) + "\n");
    });

  services
    .command("add")
    .description("add a service: place it (cell, and the cloud's pool member where it has a pool) under the region's lease, create its stack, up")
    .requiredOption("-s, --stack <stack>", "region stack")
    .option("--id <id>", "service id (default: the next one); pass it to resume a failed add")
    .option("--size <size>", `service size: ${SERVICE_SIZE_NAMES.join(", ")}`, parseSize, "small" as ServiceSizeName)
    .option("--cell <cell>", "place in this cell (default: placement picks an active cell with headroom)")
    .option("--dry-run", "plan offline: placement and the service's resources under mocks; change nothing")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--dir <dir>", "project directory")
    .option("--json", "print JSON; no progress")
    .action(async (o: Common & { id?: string; size: ServiceSizeName; cell?: string; dryRun?: boolean; yes?: boolean }) => {
      const dir = o.dir && path.resolve(o.dir);
      const region = new StackFileConfig(o.stack, dir);
      const request = { id: o.id, size: o.size, cell: o.cell };
      if (o.dryRun) {
        const plan = await untilAborted(planAddService(region, stacksFor(dir, false), request, { signal: env.signal }), env.signal);
        if (o.json) print(env, { dryRun: true, ...plan });
        else env.stdout.write(renderServicePlan(plan) + "\n");
        return;
      }
      if (!o.yes) {
        if (!env.interactive) throw new UserError(`refusing to add a service to ${o.stack} without confirmation (not a terminal)\n  fix: pass --yes, or --dry-run to only plan`);
        if (!(await env.confirm(`Add a ${o.size} service to ${o.stack}? [y/N] `))) throw new UserError("not confirmed; nothing was changed");
      }
      const p = progress(env, o.json === true);
      try {
        const result = await addService(region, stacksFor(dir, true), request, { onProgress: p.listener, signal: env.signal, retry: env.retry });
        p.stop();
        if (o.json) print(env, { dryRun: false, ...result });
        else env.stdout.write(renderAdd(result) + "\n");
      } finally {
        p.stop();
      }
    });

  services
    .command("remove")
    .description("remove a service: first mark it removing; then, with --force, destroy its stack (refused while its storage holds data, unless --delete-data)")
    .requiredOption("-s, --stack <stack>", "region stack")
    .requiredOption("--id <id>", "the service")
    .option("--force", "phase 2: destroy the (removing) service's resources and its stack")
    .option("--delete-data", "with --force: destroy the storage account even though it holds data")
    .option("--dir <dir>", "project directory")
    .option("--json", "print JSON; no progress")
    .action(async (o: Common & { id: string; force?: boolean; deleteData?: boolean }) => {
      if (o.deleteData && !o.force) throw new UserError("--delete-data only applies to the destroy phase\n  fix: pass it together with --force");
      const dir = o.dir && path.resolve(o.dir);
      const p = progress(env, o.json === true);
      try {
        const result = await removeService(new StackFileConfig(o.stack, dir), stacksFor(dir, true), o.id, {
          force: o.force,
          deleteData: o.deleteData,
          onProgress: p.listener,
          signal: env.signal,
          retry: env.retry,
        });
        p.stop();
        if (o.json) print(env, result);
        else
          env.stdout.write(
            (result.phase === "removing"
              ? `service ${o.id} of ${o.stack} is removing: nothing new is routed to it.\nonce its data is exported or no longer wanted: cellctl services remove --stack ${o.stack} --id ${o.id} --force`
              : `service ${o.id} removed: ${result.destroyed} resource(s) destroyed, stack ${result.stack} removed`) + "\n",
          );
      } finally {
        p.stop();
      }
    });
}
