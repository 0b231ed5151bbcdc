import type { EngineEvent } from "@pulumi/pulumi/automation";
import { CLOUD_THROTTLING, ThrottleText } from "../cells/plan/clouds";
import { Cloud } from "../cells/plan/model";
import { engineMessage, InfraError, isConcurrentUpdate } from "./errors";
import { backoffDelay, checkSignal, DEFAULT_RETRY, RetryPolicy, validateRetryPolicy } from "./retry";

/*
 * An engine command (preview, up, destroy) that failed because the cloud throttled it is
 * run again after a backoff: a Pulumi update is convergent, so the next run continues
 * where the last one stopped (what is done is in state and shows as "same"). The
 * providers retry most throttling themselves (azure-native: HTTP 429 with Retry-After,
 * pulumi-azure-native#850; the AWS SDK: ThrottlingException with its own backoff, up to
 * a few attempts); what reaches here is what they gave up on. Only throttling is
 * retried: any other failure (a quota of vCPUs, a bad input, a conflict the program's
 * ordering should have prevented) is thrown at once, because running again would fail
 * the same way.
 */

/** One provider text that means "throttled: the same request later will do". */
export type ThrottlePattern = ThrottleText & { cloud: Cloud };

/**
 * The throttling texts the providers print, as data: each cloud's own, with their
 * sources, in its pure face (cells/plan/clouds/<cloud>.ts, `throttling`). Resource quotas
 * (a vCPU or CPU quota) are NOT throttling: waiting does not raise them.
 */
export const THROTTLING: readonly ThrottlePattern[] = CLOUD_THROTTLING;

/** The first throttling pattern the text matches, if any. */
export function throttlingMatch(text: string): ThrottlePattern | undefined {
  return THROTTLING.find((t) => t.pattern.test(text));
}

/** The engine's summary lines that say only that the command failed, not why. */
const GENERIC = /^\s*(error: )?(update|preview|destroy|refresh) (failed|canceled)\s*$/;

/**
 * Whether a failed engine command failed only because of throttling. The errors the
 * engine reported as diagnostics decide: every one that says more than "update failed"
 * must be throttling (one other failure, and running again would fail again). Without
 * diagnostics, the command's own error text decides. A locked stack is not throttling:
 * it has its own retry (retryWhileLocked).
 */
export function isThrottled(err: unknown, diagnostics: readonly string[]): boolean {
  if (isConcurrentUpdate(err)) return false;
  const specific = diagnostics.map((d) => d.trim()).filter((d) => d !== "" && !GENERIC.test(d));
  if (specific.length > 0) return specific.every((d) => throttlingMatch(d) !== undefined);
  return throttlingMatch(engineMessage(err)) !== undefined;
}

/**
 * The backoff of a throttled command. Longer than a locked stack's: ARM's write bucket
 * refills at 10 per second (seconds), AWS's token buckets in seconds, GCP's rate quotas
 * per minute or per 100 seconds, so the ceiling starts at 30 s and reaches 5 min.
 */
export const DEFAULT_THROTTLE_RETRY: Pick<RetryPolicy, "attempts" | "baseDelayMs" | "maxDelayMs"> = {
  attempts: 4,
  baseDelayMs: 30_000,
  maxDelayMs: 300_000,
};

/** What a caller is told before each wait. */
export interface ThrottleNotice {
  /** 1 for the first retry. */
  retry: number;
  /** Retries left after this one. */
  remaining: number;
  delayMs: number;
  /** The throttling text that was matched (the first one). */
  cause: string;
}

/**
 * The throttle policy: its own counts and delays (DEFAULT_THROTTLE_RETRY), the clock and
 * random source of the caller's retry policy (so a test's fake clock drives both), then
 * the caller's throttle overrides.
 */
export function throttlePolicy(retry: Partial<RetryPolicy> = {}, throttle: Partial<RetryPolicy> = {}): RetryPolicy {
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const r = defined(retry);
  return validateRetryPolicy({ ...DEFAULT_RETRY, ...DEFAULT_THROTTLE_RETRY, ...(r.random ? { random: r.random } : {}), ...(r.sleep ? { sleep: r.sleep } : {}), ...defined(throttle) });
}

/**
 * Runs an engine command, running it again while it fails from cloud throttling only.
 * `fn` gets an event hook to pass to the command's `onEvent` (the wrapper reads the
 * error diagnostics from it). Anything else, and a locked stack, is thrown at once.
 * After `attempts` tries an InfraError of kind `throttled` says so, with the last cause.
 * Returns the value and how many retries it took.
 */
export async function retryWhileThrottled<T>(
  stack: string,
  what: string,
  fn: (watch: (event: EngineEvent) => void) => Promise<T>,
  options: { policy: RetryPolicy; signal?: AbortSignal; onRetry?: (notice: ThrottleNotice) => void },
): Promise<{ value: T; retries: number }> {
  const { policy, signal } = options;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    checkSignal(signal);
    const diagnostics: string[] = [];
    const watch = (e: EngineEvent) => {
      const d = e.diagnosticEvent;
      if (d?.severity === "error") diagnostics.push(d.message);
    };
    try {
      return { value: await fn(watch), retries: attempt - 1 };
    } catch (err) {
      if (signal?.aborted || !isThrottled(err, diagnostics)) throw err;
      const text = diagnostics.find((d) => throttlingMatch(d)) ?? engineMessage(err);
      const cause = text.split("\n").find((l) => throttlingMatch(l))?.trim() ?? text.trim().split("\n")[0];
      if (attempt >= policy.attempts) {
        throw new InfraError(
          "throttled",
          `the cloud kept throttling the ${what} of stack ${stack}: gave up after ${attempt} attempts (${Math.round(waited / 1000)} s of waiting between them).\n` +
            `  last: ${cause}\n` +
            `  fix: run the same command again later: it resumes where the ${what} stopped. If it keeps happening, other deployments share the subscription's, account's or project's request limits: spread them out, or lower the engine's parallelism (automation/parallelism.ts)`,
        );
      }
      const delayMs = backoffDelay(attempt - 1, policy);
      options.onRetry?.({ retry: attempt, remaining: policy.attempts - attempt - 1, delayMs, cause });
      await policy.sleep(delayMs, signal);
      waited += delayMs;
    }
  }
}
