import {
  PolicyConfigSchema,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { COMPONENT_TYPES, ROLES, Role } from "../../cells/plan/model";
import { Props, record } from "./props";
import { StackIndex } from "./stack";

/*
 * Builders for cellplane policies. A policy is a concept (one validator) applied
 * to neutral views; a view table maps each cloud's type token to an adapter that
 * normalizes that type's props. The validator never asks which cloud it is on,
 * except to pick the fix hint the adapter supplies.
 */

/** Default levels: cell invariants block (`mandatory`), best practices warn (`advisory`). */
export type Level = "mandatory" | "advisory";

/** What an adapter reads: one resource as the engine describes it. */
export interface Subject {
  type: string;
  name: string;
  urn: string;
  props: Props;
}

export type Adapter<V> = (subject: Subject) => V | readonly V[] | undefined;
export type ViewTable<V> = Readonly<Record<string, Adapter<V>>>;

/** The views of one resource, or undefined when the table has no adapter for its type. */
export function viewsOf<V>(table: ViewTable<V>, subject: Subject): readonly V[] | undefined {
  const adapter = Object.prototype.hasOwnProperty.call(table, subject.type) ? table[subject.type] : undefined;
  if (!adapter) return undefined;
  const v = adapter(subject);
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as readonly V[]) : [v as V];
}

interface Common {
  /** kebab-case, unique in the pack. */
  name: string;
  /** What the policy requires and how to fix a violation: the engine prints it above every message. */
  description: string;
  enforcementLevel: Level;
  configSchema?: PolicyConfigSchema;
}

/** For policies whose types are a family rather than a list (every taggable cloud resource). */
export interface ViewSelector<V> {
  /** The family in words, for "not applicable" reasons. */
  family: string;
  select(type: string): Adapter<V> | undefined;
}

export interface ResourceRuleSpec<V, C extends object> extends Common {
  views: ViewTable<V> | ViewSelector<V>;
  /** Messages for what `view` breaks; each names the resource and says what to fix. */
  check(view: V, ctx: { subject: Subject; config: C; opts: PolicyResourceOptions }): readonly string[];
}

function isSelector<V>(v: ViewTable<V> | ViewSelector<V>): v is ViewSelector<V> {
  return typeof (v as Partial<ViewSelector<V>>).select === "function";
}

/** A resource policy over a view table: types without an adapter are not applicable. */
export function resourceRule<V, C extends object = Record<string, never>>(spec: ResourceRuleSpec<V, C>): ResourceValidationPolicy {
  const { views, check, ...policy } = spec;
  const selector: ViewSelector<V> = isSelector(views)
    ? views
    : { family: Object.keys(views).join(", "), select: (type) => (Object.prototype.hasOwnProperty.call(views, type) ? views[type] : undefined) };
  return {
    ...policy,
    validateResource: (args: ResourceValidationArgs, report) => {
      const subject = subjectOf(args);
      const adapter = selector.select(subject.type);
      if (!adapter) return args.notApplicable(`applies to ${selector.family}`);
      const config = args.getConfig<C>();
      const list = viewsOf({ [subject.type]: adapter }, subject) ?? [];
      for (const view of list) for (const message of check(view, { subject, config, opts: args.opts })) report(message);
    },
  };
}

export interface StackRuleSpec<C extends object> extends Common {
  /** Types the policy reads; a stack with none of them is not applicable. */
  appliesTo: readonly string[];
  check(index: StackIndex, ctx: { config: C; report: (urn: string, message: string) => void }): void;
}

export function stackRule<C extends object = Record<string, never>>(spec: StackRuleSpec<C>): StackValidationPolicy {
  const { appliesTo, check, ...policy } = spec;
  return {
    ...policy,
    validateStack: (args: StackValidationArgs, report) => {
      const index = StackIndex.of(args.resources);
      if (!index.has(appliesTo)) return args.notApplicable(`the stack has none of ${appliesTo.join(", ")}`);
      check(index, { config: args.getConfig<C>(), report: (urn, message) => report(message, urn) });
    },
  };
}

export function subjectOf(r: { type: string; name: string; urn: string; props: Record<string, unknown> }): Subject {
  return { type: r.type, name: r.name, urn: r.urn, props: record(r.props) ?? {} };
}

/** "c001-proxy-aks: <problem>; fix: <fix>": every message names the resource and says what to do. */
export function violation(name: string, problem: string, fix: string): string {
  return `${name}: ${problem}; fix: ${fix}`;
}

// ---------------------------------------------------------------------------
// Where a resource sits in the topology, from its URN and Pulumi name.

/** Where a resource sits: in a cell or above cells, and whether it belongs to one role's cluster. */
export interface Scope {
  /** The cell id, or null for resources above cells (the region's DNS zone, its resource group). */
  cell: string | null;
  /** The role whose cluster the resource belongs to, or null for resources every role of the cell shares. */
  role: Role | null;
}

/** Roles longest first, so "data-plane-mgmt" is not read as "data-plane". */
const ROLES_LONGEST_FIRST = [...ROLES].sort((a, b) => b.length - a.length);

const CELL_TYPE = COMPONENT_TYPES.cell;
const typeChain = (urn: string): string[] => (urn.split("::")[2] ?? "").split("$");

/**
 * The scope of a resource. A URN's type is its parent's type, "$", its own, so a
 * child of a Cell has `cellplane:cells:Cell` in its URN and a grandchild (inside a
 * component of the cell) in its parent's URN. Pulumi names in a cell are keyed
 * `${cell}-${role}-...` (cells/plan/naming.ts), so the cell and role are read
 * from the name, without other resources.
 */
export function scopeOf(urn: string, name: string, parentUrn?: string): Scope {
  const inCell = typeChain(urn).includes(CELL_TYPE) || (parentUrn !== undefined && typeChain(parentUrn).includes(CELL_TYPE));
  if (!inCell) return { cell: null, role: null };
  const dash = name.indexOf("-");
  const cell = dash > 0 ? name.slice(0, dash) : name;
  return { cell, role: roleInName(name.slice(cell.length + 1)) };
}

/** The role a name starts with ("data-plane-mgmt-nsg" -> data-plane-mgmt), or null. */
export function roleInName(rest: string): Role | null {
  return ROLES_LONGEST_FIRST.find((r) => rest === r || rest.startsWith(`${r}-`)) ?? null;
}

/** The role of a resource: its `role` tag when valid, else its scope. */
export function roleOf(tags: Readonly<Record<string, string>>, urn: string, name: string, parentUrn?: string): Role | null {
  const tagged = ROLES.find((r) => r === tags.role);
  return tagged ?? scopeOf(urn, name, parentUrn).role;
}
