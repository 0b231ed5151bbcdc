// The errors module alone (the same classes the Automation API throws), not the API's index,
// which loads the whole Pulumi SDK: cellctl's offline commands must start fast.
import { CommandError, ConcurrentUpdateError, StackNotFoundError } from "@pulumi/pulumi/automation/errors";
import { ConfigError } from "../cells/config";

/*
 * Errors of the control plane, in two families that decide cellctl's exit code:
 * - UserError (exit 1): the request cannot be done as asked; the message says how to fix it.
 * - InfraError (exit 2): the stack, the backend, the engine or the cloud failed or refused.
 * Neither is ever printed with a stack trace.
 */

/** A mistake in the request or in config: retrying the same request will not help. The message says how to fix it. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** What went wrong on the infrastructure side. Stable words: callers switch on them. */
export type InfraErrorKind = "cli-missing" | "stack-locked" | "throttled" | "blast-radius" | "engine" | "cancelled";

/** The stack, its backend, the Pulumi engine or the cloud failed or refused. */
export class InfraError extends Error {
  constructor(
    public readonly kind: InfraErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "InfraError";
  }
}

/** One resource the blast-radius guard refused to let change. */
export interface OutsideChange {
  op: string;
  urn: string;
  type: string;
}

/** The preview would change resources outside the cell being added or retired: nothing was deployed. */
export class BlastRadiusError extends InfraError {
  constructor(
    message: string,
    public readonly outside: OutsideChange[],
  ) {
    super("blast-radius", message);
    this.name = "BlastRadiusError";
  }
}

/** How to get the Pulumi CLI and a backend; part of every "CLI missing" error. */
export const PULUMI_INSTALL_HINT =
  "install the Pulumi CLI: https://www.pulumi.com/docs/install/ (Linux/macOS: curl -fsSL https://get.pulumi.com | sh), " +
  "then choose a backend: `pulumi login` (Pulumi Cloud, or PULUMI_ACCESS_TOKEN) or PULUMI_BACKEND_URL=file://~/.pulumi-state (also s3://, azblob://, gs://)";

/** A locked stack: another update holds it. Retried by the library with backoff. */
export function isConcurrentUpdate(err: unknown): boolean {
  if (err instanceof ConcurrentUpdateError) return true;
  const message = err instanceof Error ? err.message : String(err);
  return message.includes("[409] Conflict") || message.includes("stack is currently locked");
}

/** The Pulumi CLI is not on PATH: the Automation API's spawn failed. */
export function isPulumiMissing(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /spawn \S*pulumi ENOENT/.test(message) || /failed with ENOENT: \S*pulumi\b/.test(message);
}

/**
 * The engine's own words from a failed CLI run. A CommandError's message is a dump
 * ("code: 255\n stdout: ...\n stderr: ..."); what an operator needs is its stderr
 * (or, when empty, the end of stdout, where the engine prints its diagnostics).
 */
export function engineMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const result = (err as unknown as { commandResult?: { stdout?: string; stderr?: string } }).commandResult;
  if (err instanceof CommandError && result) {
    const stderr = (result.stderr ?? "").trim();
    if (stderr) return stderr;
    const stdout = (result.stdout ?? "").trim().split("\n");
    return stdout.slice(-20).join("\n") || err.message;
  }
  return err.message;
}

/**
 * Maps a failure of the Automation API to the control plane's errors. A locked stack
 * is returned as it is, so the retry loop can recognise it.
 */
export function translatePulumiError(err: unknown, what: string, stack: string): Error {
  if (err instanceof UserError || err instanceof InfraError || err instanceof ConfigError) return err;
  if (isConcurrentUpdate(err)) return err as Error;
  if (isPulumiMissing(err)) {
    return new InfraError("cli-missing", `changing stack ${stack} needs the Pulumi CLI, and it is not installed or not on PATH (spawn pulumi ENOENT); nothing was changed.\n  fix: ${PULUMI_INSTALL_HINT}`);
  }
  if (err instanceof StackNotFoundError) {
    return new UserError(
      `stack ${stack} does not exist in the current backend (${process.env.PULUMI_BACKEND_URL ?? "pulumi login"}).\n` +
        `  fix: check the backend (PULUMI_BACKEND_URL, pulumi whoami -v), or create the stack once with \`pulumi stack init ${stack}\`; its config is in Pulumi.${stack}.yaml`,
    );
  }
  return new InfraError("engine", `${what} failed for stack ${stack}:\n${engineMessage(err)}`);
}
