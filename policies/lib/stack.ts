import { PolicyResource } from "@pulumi/policy";
import { str, record } from "./props";

/*
 * One pass over a stack's resources, shared by every stack policy of a run:
 * by URN, by type, by id and by parent. Stack policies look things up here
 * instead of scanning all resources per resource, so a run stays linear in the
 * number of resources.
 */

/** Ids compare case-insensitively (ARM ids do), and GCP self-links compare as their resource path. */
export function normalizeId(id: string): string {
  return id.replace(/^https:\/\/www\.googleapis\.com\/[a-z]+\/v[0-9a-z]+\//, "").toLowerCase();
}

export class StackIndex {
  private static readonly cache = new WeakMap<readonly PolicyResource[], StackIndex>();

  /** The index of a resource list, built once per list (the offline runner hands every stack policy the same list). */
  static of(resources: readonly PolicyResource[]): StackIndex {
    let index = StackIndex.cache.get(resources);
    if (!index) {
      index = new StackIndex(resources);
      StackIndex.cache.set(resources, index);
    }
    return index;
  }

  readonly byUrn = new Map<string, PolicyResource>();
  private readonly typed = new Map<string, PolicyResource[]>();
  private readonly ids = new Map<string, PolicyResource>();
  private readonly kids = new Map<string, PolicyResource[]>();

  private constructor(readonly resources: readonly PolicyResource[]) {
    for (const r of resources) {
      this.byUrn.set(r.urn, r);
      push(this.typed, r.type, r);
      // Stack policies see outputs, which carry the cloud's id (ARM id, AWS id, GCP id and self-link).
      for (const key of ["id", "selfLink", "arn"]) {
        const id = str(record(r.props)?.[key]);
        if (id) this.ids.set(normalizeId(id), r);
      }
      if (r.parent) push(this.kids, r.parent.urn, r);
    }
  }

  ofType(...types: readonly string[]): PolicyResource[] {
    return types.flatMap((t) => this.typed.get(t) ?? []);
  }

  has(types: readonly string[]): boolean {
    return types.some((t) => (this.typed.get(t)?.length ?? 0) > 0);
  }

  byId(id: string, types?: readonly string[]): PolicyResource | undefined {
    const r = this.ids.get(normalizeId(id));
    return r && (!types || types.includes(r.type)) ? r : undefined;
  }

  children(r: PolicyResource): PolicyResource[] {
    return this.kids.get(r.urn) ?? [];
  }

  /**
   * What a reference property of `from` points at: by id first (the value, or its
   * `id` field); when the id is not in the stack (an engine whose outputs omit it,
   * or a value unknown in preview), the one dependency of `from` of those types.
   */
  ref(from: PolicyResource, value: unknown, types: readonly string[]): PolicyResource | undefined {
    const id = str(value) ?? str(record(value)?.id);
    if (id) {
      const hit = this.byId(id, types);
      if (hit) return hit;
    }
    if (value === undefined || value === null) return undefined;
    return this.soleDependency(from, types);
  }

  /** The one dependency of `from` of those types, or undefined when there are none or several. */
  soleDependency(from: PolicyResource, types: readonly string[]): PolicyResource | undefined {
    const deps = from.dependencies.filter((d) => types.includes(d.type));
    return deps.length === 1 ? deps[0] : undefined;
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
