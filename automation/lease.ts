import { mkdirSync } from "node:fs";
import * as path from "node:path";
import * as lockfile from "proper-lockfile";
import { InfraError } from "./errors";

/*
 * One lease per stack. Every read-modify-write of a stack's config (add, retire,
 * their reverts and their bookkeeping) runs while holding it, and re-reads the
 * config under it: two workers adding cells to one stack take turns instead of
 * both picking the same id and CIDR, and a revert only ever sees its own writes.
 *
 * The lease is a small interface so that the control plane brings the lock it can
 * trust where it runs:
 * - FileLease (this module): one machine. A lock file per stack with
 *   `proper-lockfile` (an atomic `mkdir`, refreshed while held, taken over when a
 *   crashed holder left it stale).
 * - A distributed control plane implements `StackLease` over the coordination
 *   service it already runs: an etcd lease + `concurrency.Mutex` on key
 *   `cellctl/<stack>`, a Consul session lock, a Kubernetes `coordination.k8s.io`
 *   Lease object, or a DynamoDB/Azure Blob lease with a conditional write. The
 *   contract is the same: `withLease` returns once `fn` has finished and the lease
 *   is released; while it runs, no other holder of the same stack's lease runs;
 *   if the lease is lost (a missed renewal), the implementation aborts the signal
 *   it handed `fn`, so the operation stops before its next step.
 * - InMemoryLease: one process (tests, a single worker with several tasks).
 */

/** Options of one `withLease` call. */
export interface LeaseOptions {
  /** Gives up waiting for the lease (the call rejects as cancelled). */
  signal?: AbortSignal;
}

/** A per-stack mutual-exclusion lease. */
export interface StackLease {
  /**
   * Runs `fn` while holding the lease of `stack`, waiting for it if another
   * holder has it. `fn` receives a signal that aborts if the lease is lost.
   */
  withLease<T>(stack: string, fn: (lost: AbortSignal) => Promise<T>, options?: LeaseOptions): Promise<T>;
}

/**
 * A lease held within this process: callers of the same stack queue up (a promise
 * chain per stack). What the in-memory stack hands out by default, and what a
 * single-process control plane may use.
 */
export class InMemoryLease implements StackLease {
  private readonly tails = new Map<string, Promise<void>>();
  /** Stacks whose lease is held right now (for assertions). */
  public readonly held = new Set<string>();

  async withLease<T>(stack: string, fn: (lost: AbortSignal) => Promise<T>, options: LeaseOptions = {}): Promise<T> {
    const previous = this.tails.get(stack) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(stack, tail);
    try {
      await waitOrAbort(previous, options.signal, stack);
      this.held.add(stack);
      try {
        return await fn(new AbortController().signal);
      } finally {
        this.held.delete(stack);
      }
    } finally {
      release();
      if (this.tails.get(stack) === tail) this.tails.delete(stack);
    }
  }
}

/** Where and how long a FileLease waits. */
export interface FileLeaseOptions {
  /** How long to wait for another holder, in ms; default 30 minutes (an `up` of a cell takes that long). */
  waitMs?: number;
  /** A lock not refreshed for this long is stale (its holder crashed) and is taken over; default 30 s. */
  staleMs?: number;
}

/**
 * A lock file per stack: `<dir>/.cellctl/<stack>.lock` (a directory created with an
 * atomic mkdir by proper-lockfile, its mtime refreshed while held). Works between
 * processes on one machine and on a shared filesystem that keeps mkdir atomic.
 */
export class FileLease implements StackLease {
  constructor(
    /** Directory that holds the `.cellctl/` lock directory; usually the project directory. */
    public readonly dir: string,
    private readonly options: FileLeaseOptions = {},
  ) {}

  /** The lock path of a stack's lease. */
  lockPath(stack: string): string {
    return path.join(this.dir, ".cellctl", `${stack}.lock`);
  }

  async withLease<T>(stack: string, fn: (lost: AbortSignal) => Promise<T>, options: LeaseOptions = {}): Promise<T> {
    const lock = this.lockPath(stack);
    mkdirSync(path.dirname(lock), { recursive: true });
    const lost = new AbortController();
    const staleMs = this.options.staleMs ?? 30_000;
    const deadline = Date.now() + (this.options.waitMs ?? 30 * 60_000);
    let release: (() => Promise<void>) | undefined;
    while (!release) {
      if (options.signal?.aborted) throw new InfraError("cancelled", `cancelled while waiting for the lease of stack ${stack}; nothing was changed`);
      try {
        // Keyed by the stack (proper-lockfile tracks held locks by this path): leases of
        // different stacks in one process are independent. The lock is `<stack>.lock` beside it.
        release = await lockfile.lock(lock.replace(/\.lock$/, ""), {
          realpath: false,
          stale: staleMs,
          update: Math.max(1000, Math.floor(staleMs / 3)),
          retries: 0,
          onCompromised: () => lost.abort(),
        });
      } catch (err) {
        if ((err as { code?: string }).code !== "ELOCKED") throw err;
        if (Date.now() > deadline) {
          throw new InfraError(
            "stack-locked",
            `the control-plane lease of stack ${stack} (${lock}) is held by another cellctl run; gave up waiting.\n  fix: wait for the other run to finish and run the command again; a crashed run's lease is taken over after ${Math.round(staleMs / 1000)} s`,
          );
        }
        await sleep(200 + Math.floor(Math.random() * 300), options.signal);
      }
    }
    try {
      return await fn(lost.signal);
    } finally {
      await release().catch(() => undefined);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

async function waitOrAbort(p: Promise<void>, signal: AbortSignal | undefined, stack: string): Promise<void> {
  if (!signal) return p;
  const cancelled = () => new InfraError("cancelled", `cancelled while waiting for the lease of stack ${stack}; nothing was changed`);
  if (signal.aborted) throw cancelled();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled());
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
