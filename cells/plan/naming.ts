import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { Role } from "./model";

/*
 * Names. Two kinds, never mixed up:
 * - Pulumi names (logical, part of the URN): `${cell}-${role}-z${zone}-pods`. Keyed by
 *   stable ids, never list positions. Changing one replaces the resource: ship an alias.
 * - Physical names (what the cloud sees): deterministic, within the cloud's rules,
 *   checked here. Pulumi's random suffix is not used, so names are predictable for
 *   the SREs who read them in the portal.
 */

/** Cell ids: short, lowercase, DNS- and Azure-pool-safe; they become part of every name. */
export const CELL_ID_PATTERN = /^[a-z][a-z0-9]{1,7}$/;

/**
 * Why `id` cannot be a cell id, or null. Besides the pattern, an id must stay a
 * string when YAML reads it back: ids are written as plain scalars into the stack
 * file (`cellctl:retiredCells: [true]`), and YAML 1.1 (and 1.2 for `true`, `false`,
 * `null`) turns words like `true`, `no`, `on`, `null` into booleans or null, after
 * which the stack file no longer holds the id.
 */
export function cellIdProblem(id: string): string | null {
  if (!CELL_ID_PATTERN.test(id)) return `"${id}" is not a valid cell id: use 2-8 lowercase letters and digits starting with a letter, e.g. c004`;
  for (const version of ["1.1", "1.2"] as const) {
    const read = parseYaml(id, { version });
    if (typeof read !== "string") return `cell id "${id}" reads as ${JSON.stringify(read)} (a ${read === null ? "null" : typeof read}), not a string, in YAML ${version}: the stack file would lose it`;
  }
  return null;
}

/** Short role codes for names with tight limits (AKS pool names are 12 characters). */
export const ROLE_CODE: Record<Role, string> = {
  proxy: "px",
  "data-plane-mgmt": "dpm",
  "data-plane": "dp",
};

export interface NameRule {
  min: number;
  max: number;
  pattern: RegExp;
  /** The rule in words, for error messages. */
  says: string;
}

/** Why `name` breaks `rule`, or null when it does not. */
export function nameProblem(name: string, rule: NameRule): string | null {
  if (name.length < rule.min || name.length > rule.max) return `"${name}" has ${name.length} characters; the rule is ${rule.says}`;
  if (!rule.pattern.test(name)) return `"${name}" breaks the rule: ${rule.says}`;
  return null;
}

/**
 * Joins parts into a physical name within `rule`. A name that would be too long is
 * cut and given a short hash of the full name, so it stays unique and deterministic.
 * Throws (a programming error, not a user one) if the result still breaks the rule.
 */
export function physicalName(parts: readonly string[], rule: NameRule, separator = "-"): string {
  let name = parts.filter((p) => p.length > 0).join(separator);
  if (name.length > rule.max) {
    const hash = createHash("sha256").update(name).digest("hex").slice(0, 6);
    name = name.slice(0, rule.max - hash.length - separator.length).replace(/[-_.]+$/, "") + separator + hash;
  }
  const problem = nameProblem(name, rule);
  if (problem) throw new Error(`cellplane naming: ${problem}`);
  return name;
}

/**
 * A GUID derived from a seed (name-based, in the manner of UUID v5). Azure role
 * assignments are named by GUID; deriving it from the assignment's meaning keeps
 * `pulumi up` idempotent and a re-created stack from colliding with itself.
 */
export function stableGuid(seed: string): string {
  const h = createHash("sha1").update(`cellplane:${seed}`).digest("hex");
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Tags (labels) of every resource of a region stack: the config's own tags, then
 * the ones cellplane owns. A cell's resources also carry `cell`.
 */
export function resourceTags(userTags: Record<string, string>, region: string, stack: string, cellId?: string): Record<string, string> {
  return { ...userTags, ...(cellId === undefined ? {} : { cell: cellId }), region, stack, "managed-by": "cellplane" };
}
