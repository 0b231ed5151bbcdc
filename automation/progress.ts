import type { EngineEvent } from "@pulumi/pulumi/automation";
import { isChange, parseUrn } from "./guard";

/** The phases of `addCell` and `retireCell`, in the order they run. */
export type Phase = "config" | "preview" | "up" | "unprotect" | "destroy" | "retry" | "done";

/** One progress report. `done`/`total` count resources in `up` and `destroy`; other phases report 0/0. */
export interface Progress {
  stack: string;
  cell: string;
  phase: Phase;
  /** Resources whose step finished in this phase. */
  done: number;
  /** Resources this phase will change, from the preview. */
  total: number;
  /** The step the engine is on, e.g. "create c004-vnet". */
  current?: string;
  /** A line for a human, e.g. "stack locked: retry 1 of 5 in 1.3 s". */
  message?: string;
}

export type ProgressListener = (progress: Progress) => void;

/**
 * Turns the engine events of an `up` or `destroy` into progress: a step starts at
 * its `resourcePreEvent` and is done at its `resOutputsEvent` (or `resOpFailedEvent`).
 * Steps that change nothing ("same", reads) are not counted.
 */
export function progressFromEvents(base: Omit<Progress, "done" | "current" | "message">, emit: ProgressListener): (event: EngineEvent) => void {
  let done = 0;
  let total = base.total;
  let current: string | undefined;
  const finished = new Set<string>();
  return (event) => {
    const started = event.resourcePreEvent?.metadata;
    if (started && !event.resourcePreEvent?.planning && isChange(started.op)) {
      current = `${started.op} ${parseUrn(started.urn).name}`;
      emit({ ...base, total, done, current });
      return;
    }
    const ended = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
    if (ended && !event.resOutputsEvent?.planning && isChange(ended.op) && !finished.has(ended.urn)) {
      finished.add(ended.urn);
      done += 1;
      total = Math.max(total, done);
      emit({ ...base, total, done, current });
    }
  };
}
