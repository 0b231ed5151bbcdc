import { z } from "zod";
import { CLOUDS, Problem, Result } from "../cells/plan/model";
import { SERVICE_ID_PATTERN, SERVICE_SIZE_NAMES, ServiceSizeName } from "../cells/plan/services";
import { CELL_ID_PATTERN } from "../cells/plan/naming";

/*
 * The config of a service stack (`<region stack>-svc-<id>`, namespace `service:`):
 * where the service is and how big, written once by `cellctl services add` and
 * never changed (the cell and the pool member are the service's for life). It is
 * also the record placement counts: the pool's usage is the sum of these.
 */

export const SERVICE_CONFIG_NAMESPACE = "service";

export const serviceConfigSchema = z.strictObject({
  id: z.string().regex(SERVICE_ID_PATTERN, { error: "must be a service id such as s0001" }),
  regionStack: z.string().min(1),
  cloud: z.enum(CLOUDS),
  /** Cloud region of the region stack. */
  location: z.string().regex(/^[a-z][a-z0-9-]+[0-9a-z]$/),
  cell: z.string().regex(CELL_ID_PATTERN, { error: "must be a cell id such as c001" }),
  size: z.enum(SERVICE_SIZE_NAMES as [ServiceSizeName, ...ServiceSizeName[]]),
  /** Pool member (Azure subscription id) on clouds with a pool. */
  poolMember: z.string().optional(),
  protect: z.boolean().default(true),
  tags: z.record(z.string(), z.string()).default({}),
  /** `removing`: phase 1 of `cellctl services remove`; the control plane routes nothing new to it. */
  state: z.enum(["active", "removing"]).default("active"),
});

export type ServiceConfig = z.output<typeof serviceConfigSchema>;

/** Decodes the flat `service:*` config (JSON values) and validates it, with paths and fixes. */
export function validateServiceConfig(flat: Record<string, string>): Result<ServiceConfig> {
  const raw: Record<string, unknown> = {};
  const prefix = `${SERVICE_CONFIG_NAMESPACE}:`;
  for (const [k, v] of Object.entries(flat)) {
    if (!k.startsWith(prefix)) continue;
    let value: unknown = v;
    try {
      value = JSON.parse(v);
    } catch {
      value = v;
    }
    raw[k.slice(prefix.length)] = value;
  }
  const r = serviceConfigSchema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const problems: Problem[] = r.error.issues.map((i) => ({
    path: [SERVICE_CONFIG_NAMESPACE, ...i.path.map(String)],
    message: i.message,
    fix: "the service stack's config is written by `cellctl services add`; restore it from the control plane's record, do not edit it by hand",
  }));
  return { ok: false, problems };
}

/** The flat config of a service stack, as `pulumi config set` writes it. */
export function serviceConfigEntries(c: ServiceConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    out[`${SERVICE_CONFIG_NAMESPACE}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}
