import { accessSync, constants, existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline/promises";
import { Command, CommanderError } from "commander";
import { BlastRadiusError, engineMessage, InfraError, openStack, UserError } from "../automation";
import { listStacks, PROJECT_DIR, StackFileError } from "../offline/stackfile";
import { ConfigError } from "../cells/config";
import { formatProblems } from "../cells/plan/model";
import { parseServiceStackName } from "../cells/plan/services";
import type { PolicyConfigError } from "../policies/offline";
import { addCellCommands, CliEnv, untilAborted } from "./cells";
import { addServiceCommands } from "./services";
import { buildPlan, policyFailure, renderPlan, writePlanJson } from "./plan";

/*
 * cellctl: the operator's and control plane's CLI.
 * Exit codes: 0 ok, 1 user error (config, arguments, a refused request), 2 infrastructure error
 * (Pulumi CLI missing, stack locked, engine or cloud failure, blast-radius guard, cancelled).
 */

export const EXIT = { ok: 0, user: 1, infra: 2 } as const;

/** A user mistake: exit 1, the message without a stack trace. The control-plane library throws the same class. */
export { UserError };

/** The real world: process streams, a terminal prompt, the LocalWorkspace binding. */
export function processEnv(signal?: AbortSignal): CliEnv {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
    openStack: (name, dir) => openStack(name, { workDir: dir }),
    signal,
  };
}

export function buildCli(env: CliEnv = processEnv()): Command {
  const program = new Command("cellctl")
    .description("Plan and operate cellplane region stacks")
    .exitOverride()
    .configureOutput({ writeOut: (s) => void env.stdout.write(s), writeErr: (s) => void env.stderr.write(s) });

  program
    .command("plan")
    .description("plan a region stack offline: the real program under Pulumi mocks, no cloud, no CLI")
    .option("-s, --stack <stack>", "stack name (reads Pulumi.<stack>.yaml); may be omitted when the project has exactly one stack file")
    .option("--json <file>", "also write the plan JSON contract to <file>")
    .option("--dir <dir>", "project directory holding the stack files")
    .option("--policy-config <file>", "policy pack config, as for pulumi --policy-pack-config (default policies/policy-config.json)")
    .action(async (opts: { stack?: string; json?: string; dir?: string; policyConfig?: string }) => {
      const stack = opts.stack ?? onlyStack(opts.dir);
      // Checked before the plan runs: a mistake here must not cost a whole plan first.
      if (opts.json) assertWritable(opts.json);
      if (opts.policyConfig && !existsSync(opts.policyConfig)) {
        throw new UserError(`no policy config file ${opts.policyConfig}\n  fix: pass an existing file to --policy-config, or omit it for policies/policy-config.json`);
      }
      env.stderr.write(`cellctl: planning stack ${stack} offline (the program under mocks; Ctrl-C cancels)\n`);
      const outcome = await untilAborted(buildPlan(stack, opts.dir, undefined, { policyConfig: opts.policyConfig }), env.signal);
      if (outcome.kind === "config-error") {
        throw new UserError(`invalid cellplane config in stack ${stack}:\n${formatProblems(outcome.problems)}`);
      }
      env.stdout.write(renderPlan(outcome.doc) + "\n");
      if (opts.json) {
        writePlanJson(outcome.doc, opts.json);
        env.stdout.write(`plan JSON written to ${opts.json}\n`);
      }
      const failure = policyFailure(outcome.doc);
      if (failure) throw new UserError(failure);
    });

  addCellCommands(program, env);
  addServiceCommands(program, env);
  return program;
}

/**
 * The stack when `--stack` is omitted: the project's only stack file. There is no
 * default stack (the CLI serves every cloud); with several stack files the caller
 * must name one.
 */
export function onlyStack(dir: string | undefined): string {
  // Region stacks only: tenant service stacks (`<region>-svc-<id>`) sit beside them.
  const stacks = listStacks(dir ? path.resolve(dir) : PROJECT_DIR).filter((s) => parseServiceStackName(s) === null);
  if (stacks.length === 1) return stacks[0];
  throw new UserError(
    stacks.length === 0
      ? `no stack file (Pulumi.<stack>.yaml) in ${dir ?? PROJECT_DIR}\n  fix: pass --dir <project directory>, or create a stack file (see docs/config.md)`
      : `which stack? this project has ${stacks.length} stack files: ${stacks.join(", ")}\n  fix: pass --stack <name>, e.g. --stack ${stacks[0]}`,
  );
}

/** Throws a UserError unless `file` can be written (its directory exists and is writable; it is not a directory). */
export function assertWritable(file: string): void {
  const resolved = path.resolve(file);
  try {
    if (existsSync(resolved)) {
      if (statSync(resolved).isDirectory()) throw new Error("it is a directory");
      accessSync(resolved, constants.W_OK);
    } else {
      accessSync(path.dirname(resolved), constants.W_OK);
    }
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UserError(`cannot write ${file} (${why}); nothing was planned\n  fix: pass --json a path in an existing, writable directory`);
  }
}

/** The JSON error document of `cells ... --json` (docs/cellctl.md). */
export interface JsonError {
  error: { exitCode: 1 | 2; kind: string; message: string; outside?: BlastRadiusError["outside"] };
}

/** By name: the policy runner (and its JSON-schema validator) loads only with `plan`, not for every command. */
function isPolicyConfigError(err: unknown): err is PolicyConfigError {
  return err instanceof Error && err.name === "PolicyConfigError";
}

function classify(err: unknown): JsonError["error"] {
  if (err instanceof UserError || err instanceof ConfigError || isPolicyConfigError(err) || err instanceof StackFileError) return { exitCode: EXIT.user, kind: "user", message: err.message };
  if (err instanceof BlastRadiusError) return { exitCode: EXIT.infra, kind: err.kind, message: err.message, outside: err.outside };
  if (err instanceof InfraError) return { exitCode: EXIT.infra, kind: err.kind, message: err.message };
  return { exitCode: EXIT.infra, kind: "engine", message: engineMessage(err) };
}

/** Runs the CLI and returns the exit code; never prints a stack trace. */
export async function main(argv: string[], env?: CliEnv): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  if (!env) process.once("SIGINT", onSigint);
  const io = env ?? processEnv(controller.signal);
  try {
    await buildCli(io).parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    const json = (argv[0] === "cells" || argv[0] === "services") && argv.includes("--json");
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok;
      if (json) io.stdout.write(JSON.stringify({ error: { exitCode: EXIT.user, kind: "user", message: err.message.replace(/^error: /, "") } } satisfies JsonError, null, 2) + "\n");
      return EXIT.user;
    }
    const e = classify(err);
    io.stderr.write(`error: ${e.message}\n`);
    if (json) io.stdout.write(JSON.stringify({ error: e } satisfies JsonError, null, 2) + "\n");
    return e.exitCode;
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
