/*
 * Many regions: one stack per region, driven in parallel. Pulumi's engine does the
 * graph inside a stack; this only bounds how many stacks run at once.
 */

/** The outcome of an operation on one stack. */
export type StackOutcome<T> = { stack: string; ok: true; value: T } | { stack: string; ok: false; error: Error };

export interface ForEachStackOptions {
  /** Stacks run at once; default 4. */
  concurrency?: number;
  /** Stops starting stacks; those not started are reported as failed (cancelled). */
  signal?: AbortSignal;
}

/**
 * Runs `op` on every stack, at most `concurrency` at a time, and returns one
 * outcome per stack in the order given. It never fails fast: a stack that fails
 * is reported and the others go on.
 *
 * @example
 * const results = await forEachStack(["prod-azure", "prod-aws"], (s) => listCells(new StackFileConfig(s)), { concurrency: 2 });
 */
export async function forEachStack<T>(stacks: readonly string[], op: (stack: string, signal?: AbortSignal) => Promise<T>, options: ForEachStackOptions = {}): Promise<StackOutcome<T>[]> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`forEachStack: concurrency must be a whole number of at least 1, got ${concurrency}`);
  }
  const outcomes: StackOutcome<T>[] = new Array(stacks.length);
  let next = 0;
  const worker = async () => {
    while (next < stacks.length) {
      const i = next++;
      const stack = stacks[i];
      if (options.signal?.aborted) {
        outcomes[i] = { stack, ok: false, error: new Error(`not started on stack ${stack}: cancelled`) };
        continue;
      }
      try {
        outcomes[i] = { stack, ok: true, value: await op(stack, options.signal) };
      } catch (err) {
        outcomes[i] = { stack, ok: false, error: err instanceof Error ? err : new Error(String(err)) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, stacks.length) }, worker));
  return outcomes;
}
