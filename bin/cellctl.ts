import { Command, CommanderError } from "commander";
import { formatProblems } from "../cells/plan/model";
import { PolicyConfigError } from "../policies/offline";
import { buildPlan, policyFailure, renderPlan, writePlanJson } from "./plan";

/*
 * cellctl: the operator's and control plane's CLI.
 * Exit codes: 0 ok, 1 user error (config, arguments), 2 infrastructure error.
 */

export const EXIT = { ok: 0, user: 1, infra: 2 } as const;

export class UserError extends Error {}

export function buildCli(): Command {
  const program = new Command("cellctl").description("Plan and operate cellplane region stacks").exitOverride();

  program
    .command("plan")
    .description("plan a region stack offline: the real program under Pulumi mocks, no cloud, no CLI")
    .option("-s, --stack <stack>", "stack name (reads Pulumi.<stack>.yaml)", "prod-azure")
    .option("--json <file>", "also write the plan JSON contract to <file>")
    .option("--dir <dir>", "project directory holding the stack files")
    .option("--policy-config <file>", "policy pack config, as for pulumi --policy-pack-config (default policies/policy-config.json)")
    .action(async (opts: { stack: string; json?: string; dir?: string; policyConfig?: string }) => {
      const outcome = await buildPlan(opts.stack, opts.dir, undefined, { policyConfig: opts.policyConfig });
      if (outcome.kind === "config-error") {
        throw new UserError(`invalid cellplane config in stack ${opts.stack}:\n${formatProblems(outcome.problems)}`);
      }
      process.stdout.write(renderPlan(outcome.doc) + "\n");
      if (opts.json) {
        writePlanJson(outcome.doc, opts.json);
        process.stdout.write(`plan JSON written to ${opts.json}\n`);
      }
      const failure = policyFailure(outcome.doc);
      if (failure) throw new UserError(failure);
    });

  return program;
}

/** Runs the CLI and returns the exit code; never prints a stack trace for a user mistake. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.user;
    }
    if (err instanceof UserError || err instanceof PolicyConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT.user;
    }
    process.stderr.write(`error: ${(err as Error).message ?? String(err)}\n`);
    return EXIT.infra;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
