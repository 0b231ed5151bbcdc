import { InfraError, isConcurrentUpdate } from "./errors";

/*
 * A locked stack (another update holds it: ConcurrentUpdateError, "[409] Conflict"
 * on Pulumi Cloud, "the stack is currently locked" on a DIY backend) is waited out
 * with bounded exponential backoff and full jitter: many control-plane workers that
 * collide on one stack spread out instead of retrying in lockstep.
 */

/** How a locked stack is retried. Every field is injectable so tests run on a fake clock. */
export interface RetryPolicy {
  /** Tries in all, the first included. Default 6. */
  attempts: number;
  /** Ceiling of the first delay, in ms; doubles on every retry. Default 2,000. */
  baseDelayMs: number;
  /** Ceiling of any delay, in ms. Default 60,000. */
  maxDelayMs: number;
  /** Uniform random number in [0, 1). Default Math.random; tests pass a seeded one. */
  random: () => number;
  /** Waits `ms`; rejects when `signal` aborts. Default: a timer. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What a caller is told before each wait. */
export interface RetryNotice {
  /** 1 for the first retry. */
  retry: number;
  /** Retries left after this one. */
  remaining: number;
  delayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 2_000,
  maxDelayMs: 60_000,
  random: Math.random,
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(cancelled());
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(cancelled());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** The ceiling of the delay before retry `n` (0-based): min(max, base * 2^n). */
export function backoffCeiling(n: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n);
}

/** Full jitter: a delay drawn uniformly from [0, ceiling(n)). */
export function backoffDelay(n: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs" | "random">): number {
  return Math.floor(policy.random() * backoffCeiling(n, policy));
}

/** The error of an operation stopped by its AbortSignal (kind `cancelled`). */
export function cancelled(): InfraError {
  return new InfraError("cancelled", "cancelled; nothing more was started. Run the same command again to resume: it is idempotent");
}

/** Throws the cancellation error if `signal` has aborted. */
export function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}

/**
 * Checks a retry policy: a NaN, infinite or negative number would retry forever or
 * never wait. Throws a RangeError naming every bad field.
 */
export function validateRetryPolicy(policy: RetryPolicy): RetryPolicy {
  const bad: string[] = [];
  if (!Number.isSafeInteger(policy.attempts) || policy.attempts < 1) bad.push(`attempts must be a whole number of at least 1, got ${policy.attempts}`);
  for (const key of ["baseDelayMs", "maxDelayMs"] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) bad.push(`${key} must be a finite number of milliseconds >= 0, got ${policy[key]}`);
  }
  if (typeof policy.random !== "function" || typeof policy.sleep !== "function") bad.push("random and sleep must be functions");
  if (bad.length > 0) throw new RangeError(`invalid retry policy: ${bad.join("; ")}`);
  return policy;
}

/**
 * Runs `fn`, retrying it while the stack is locked. Any other error is thrown at
 * once. After `attempts` tries the stack is reported as locked, with what to do.
 * Returns the value and the number of tries it took.
 */
export async function retryWhileLocked<T>(
  stack: string,
  fn: () => Promise<T>,
  options: { policy?: Partial<RetryPolicy>; signal?: AbortSignal; onRetry?: (notice: RetryNotice) => void } = {},
): Promise<{ value: T; attempts: number }> {
  const policy = validateRetryPolicy({ ...DEFAULT_RETRY, ...stripUndefined(options.policy ?? {}) });
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    checkSignal(options.signal);
    try {
      return { value: await fn(), attempts: attempt };
    } catch (err) {
      if (!isConcurrentUpdate(err)) throw err;
      if (attempt >= policy.attempts) {
        throw new InfraError(
          "stack-locked",
          `stack ${stack} is locked by another update; gave up after ${attempt} attempts (${Math.round(waited / 1000)} s of waiting).\n` +
            `  fix: wait for the other update to finish and run the command again; if a crashed run left the lock behind, \`pulumi cancel --stack ${stack}\` releases it`,
        );
      }
      const delayMs = backoffDelay(attempt - 1, policy);
      options.onRetry?.({ retry: attempt, remaining: policy.attempts - attempt - 1, delayMs });
      await policy.sleep(delayMs, options.signal);
      waited += delayMs;
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
