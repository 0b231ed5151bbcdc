import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { Cloud, Role } from "./model";

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

const alnumHyphen = (min: number, max: number): NameRule => ({
  min,
  max,
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  says: `${min}-${max} lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
});

/** The cloud's naming rules for the kinds of resources cellplane creates. */
export const NAME_RULES = {
  azure: {
    resourceGroup: { min: 1, max: 90, pattern: /^[-\w.()]*[-\w()]$/, says: "1-90 letters, digits, '-', '_', '.', '(' and ')', not ending in '.'" },
    virtualNetwork: { min: 2, max: 64, pattern: /^[a-zA-Z0-9]([-\w.]*\w)?$/, says: "2-64 letters, digits, '-', '_' and '.', starting with a letter or digit" },
    subnet: { min: 1, max: 80, pattern: /^[a-zA-Z0-9]([-\w.]*\w)?$/, says: "1-80 letters, digits, '-', '_' and '.'" },
    natGateway: { min: 1, max: 80, pattern: /^[a-zA-Z0-9]([-\w.]*\w)?$/, says: "1-80 letters, digits, '-', '_' and '.'" },
    publicIp: { min: 1, max: 80, pattern: /^[a-zA-Z0-9]([-\w.]*\w)?$/, says: "1-80 letters, digits, '-', '_' and '.'" },
    networkSecurityGroup: { min: 1, max: 80, pattern: /^[a-zA-Z0-9]([-\w.]*\w)?$/, says: "1-80 letters, digits, '-', '_' and '.'" },
    securityRule: { min: 1, max: 80, pattern: /^[a-zA-Z0-9]([-\w.]*\w)?$/, says: "1-80 letters, digits, '-', '_' and '.'" },
    managedCluster: { min: 1, max: 63, pattern: /^[a-zA-Z0-9]([-\w]*[a-zA-Z0-9])?$/, says: "1-63 letters, digits, '-' and '_', starting and ending with a letter or digit" },
    dnsPrefix: alnumHyphen(1, 54),
    agentPool: { min: 1, max: 12, pattern: /^[a-z][a-z0-9]*$/, says: "1-12 lowercase letters and digits, starting with a letter" },
    userAssignedIdentity: { min: 3, max: 128, pattern: /^[a-zA-Z0-9][-\w]*$/, says: "3-128 letters, digits, '-' and '_'" },
    keyVault: { min: 3, max: 24, pattern: /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/, says: "3-24 letters, digits and '-', starting with a letter, no '--'; globally unique" },
    logAnalyticsWorkspace: { min: 4, max: 63, pattern: /^[a-zA-Z0-9][-a-zA-Z0-9]*[a-zA-Z0-9]$/, says: "4-63 letters, digits and '-', starting and ending with a letter or digit" },
  },
  aws: {
    eksCluster: { min: 1, max: 100, pattern: /^[0-9A-Za-z][A-Za-z0-9\-_]*$/, says: "1-100 letters, digits, '-' and '_'" },
    nodeGroup: { min: 1, max: 63, pattern: /^[0-9A-Za-z][A-Za-z0-9\-_]*$/, says: "1-63 letters, digits, '-' and '_'" },
    iamRole: { min: 1, max: 64, pattern: /^[\w+=,.@-]+$/, says: "1-64 letters, digits and '+=,.@-_'" },
  },
  gcp: {
    network: alnumHyphen(1, 63),
    subnetwork: alnumHyphen(1, 63),
    gkeCluster: alnumHyphen(1, 40),
    nodePool: alnumHyphen(1, 40),
    serviceAccount: alnumHyphen(6, 30),
  },
} as const satisfies Record<Cloud, Record<string, NameRule>>;

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
