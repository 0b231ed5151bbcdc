/*
 * Typed reads of resource properties. The engine hands policies untyped JSON
 * (inputs for resource policies, outputs for stack policies, and the two differ
 * in places), so views read through these guards instead of casting to `any`
 * or to one SDK's argument types.
 */

/** A property bag as the engine passes it. */
export type Props = Readonly<Record<string, unknown>>;

export function record(v: unknown): Props | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Props) : undefined;
}

/** The value at `path` under `v`, or undefined when any step is missing. */
export function at(v: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = v;
  for (const key of path) {
    if (typeof key === "number") cur = Array.isArray(cur) ? cur[key] : undefined;
    else cur = record(cur)?.[key];
    if (cur === undefined) return undefined;
  }
  return cur;
}

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
export const bool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);
export const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
export const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === "string");
export const records = (v: unknown): Props[] => list(v).flatMap((x): Props[] => { const r = record(x); return r ? [r] : []; });

/** A string-to-string map (tags, labels); non-string values are dropped. */
export function stringMap(v: unknown): Record<string, string> {
  const r = record(v);
  if (!r) return {};
  return Object.fromEntries(Object.entries(r).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** A string, or the strings of a list: several clouds accept either for one field. */
export const oneOrMany = (v: unknown): string[] => (typeof v === "string" ? [v] : strings(v));
