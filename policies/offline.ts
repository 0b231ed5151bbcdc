import Ajv from "ajv";
import {
  EnforcementLevel,
  Policies,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { RecordedResource } from "../offline/registration";

/*
 * The offline runner: the pack's own policy objects applied to the resources a
 * mocked run registered, with no Pulumi CLI and no cloud. It hands policies the
 * arguments the engine would (pulumi-policy's server.ts): resource policies get
 * each resource's inputs; stack policies get every resource with parent and
 * dependencies linked. It resolves enforcement levels and config as the CLI does
 * for `--policy-pack-config FILE`: schema defaults, then "all", then per policy.
 *
 * One deliberate difference: stack policies see outputs in the engine, which for
 * the clouds we use carry the resource's id; offline they see inputs plus the
 * mocked id, the one output the policies rely on.
 */

export type { RecordedResource };

/** The `--policy-pack-config` file: per policy, a level or an object of level and properties; "all" sets every level. */
export type PolicyConfigFile = Record<string, unknown>;

export type ReportedLevel = "mandatory" | "advisory";

export interface OfflineViolation {
  policy: string;
  level: ReportedLevel;
  /** The resource in violation; "" for a stack-wide violation. */
  urn: string;
  message: string;
}

export interface OfflineReport {
  violations: OfflineViolation[];
  /** Policies that ran (not disabled), with their effective level. */
  policies: { name: string; level: EnforcementLevel }[];
}

export interface PackLike {
  policies: Policies;
  enforcementLevel?: EnforcementLevel;
}

export class PolicyConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid policy pack config:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "PolicyConfigError";
  }
}

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];
const isLevel = (v: unknown): v is EnforcementLevel => typeof v === "string" && (LEVELS as readonly string[]).includes(v);

export interface EffectiveConfig {
  level: EnforcementLevel;
  properties: Record<string, unknown>;
}

/**
 * Each policy's level and properties, resolved like the Pulumi CLI does: the
 * policy's level (or the pack's) and its schema defaults; then `all`'s level;
 * then the policy's own entry (a level string, or an object whose enforcementLevel
 * sets the level and whose other keys override properties). The result is
 * validated against each configSchema; an unknown policy name is an error too,
 * so a typo in the file never passes silently.
 */
export function resolvePolicyConfig(pack: PackLike, file: PolicyConfigFile = {}): Map<string, EffectiveConfig> {
  const problems: string[] = [];
  const names = new Set(pack.policies.map((p) => p.name));
  const entry = (key: string): { level?: EnforcementLevel; properties: Record<string, unknown> } => {
    const raw = file[key];
    if (raw === undefined) return { properties: {} };
    if (typeof raw === "string") {
      if (!isLevel(raw)) problems.push(`${key}: "${raw}" is not an enforcement level (${LEVELS.join(", ")})`);
      return { level: isLevel(raw) ? raw : undefined, properties: {} };
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      problems.push(`${key}: must be an enforcement level or an object`);
      return { properties: {} };
    }
    const { enforcementLevel, ...properties } = raw as Record<string, unknown>;
    if (enforcementLevel !== undefined && !isLevel(enforcementLevel)) problems.push(`${key}.enforcementLevel: "${String(enforcementLevel)}" is not an enforcement level`);
    return { level: isLevel(enforcementLevel) ? enforcementLevel : undefined, properties };
  };
  for (const key of Object.keys(file)) if (key !== "all" && !names.has(key)) problems.push(`${key}: no policy of that name in the pack`);
  const all = entry("all").level;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const result = new Map<string, EffectiveConfig>();
  for (const p of pack.policies) {
    const defaults = Object.fromEntries(
      Object.entries(p.configSchema?.properties ?? {}).flatMap(([k, s]) => (s.default !== undefined ? [[k, structuredClone(s.default)]] : [])),
    );
    const own = entry(p.name);
    const properties = { ...defaults, ...own.properties };
    if (p.configSchema) {
      const validate = ajv.compile({ type: "object", properties: p.configSchema.properties, required: p.configSchema.required });
      if (!validate(properties)) for (const e of validate.errors ?? []) problems.push(`${p.name}${e.instancePath.replace(/\//g, ".")}: ${e.message}`);
    } else if (Object.keys(own.properties).length > 0) {
      problems.push(`${p.name}: takes no properties (${Object.keys(own.properties).join(", ")})`);
    }
    result.set(p.name, { level: own.level ?? all ?? p.enforcementLevel ?? pack.enforcementLevel ?? "advisory", properties });
  }
  if (problems.length > 0) throw new PolicyConfigError(problems);
  return result;
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? "not applicable");
};

/** `isType`/`asType` compare the class's Pulumi type token with the resource's, as the engine does. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  return (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType === type;
}

function optionsOf(r: RecordedResource): PolicyResourceOptions {
  return {
    protect: r.protect,
    ignoreChanges: [...(r.ignoreChanges ?? [])],
    aliases: [...(r.aliases ?? [])],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
  };
}

/** The engine reports remediate-level violations as mandatory, since remediation did not fix them. */
const reported = (level: EnforcementLevel): ReportedLevel => (level === "advisory" ? "advisory" : "mandatory");

const isResourcePolicy = (p: Policies[number]): p is ResourceValidationPolicy => "validateResource" in p && p.validateResource !== undefined;
const isStackPolicy = (p: Policies[number]): p is StackValidationPolicy => typeof (p as Partial<StackValidationPolicy>).validateStack === "function";

/** Runs every enabled policy of `pack` over `resources`. Linear in resources x policies. */
export async function runPolicies(resources: readonly RecordedResource[], pack: PackLike, file?: PolicyConfigFile): Promise<OfflineReport> {
  const config = resolvePolicyConfig(pack, file);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const providerOf = (ref: string | null) => {
    // Provider references are "<urn>::<id>".
    const p = ref ? byUrn.get(ref.slice(0, ref.lastIndexOf("::"))) : undefined;
    return p ? { type: p.type, props: p.inputs, urn: p.urn, name: p.name } : undefined;
  };
  const violations: OfflineViolation[] = [];
  const ran: OfflineReport["policies"] = [];

  // Stack view: built once, shared by every stack policy (so their indexes are built once too).
  const stackResources: PolicyResource[] = resources.map((r) => {
    const props = r.id && !("id" in r.inputs) ? { ...r.inputs, id: r.id } : r.inputs;
    const provider = providerOf(r.provider);
    return {
      type: r.type,
      props,
      urn: r.urn,
      name: r.name,
      opts: optionsOf(r),
      ...(provider ? { provider } : {}),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
    };
  });
  const stackByUrn = new Map(stackResources.map((r) => [r.urn, r]));
  resources.forEach((r, i) => {
    const s = stackResources[i];
    const parent = r.parent ? stackByUrn.get(r.parent) : undefined;
    if (parent) s.parent = parent;
    s.dependencies = r.dependencies.flatMap((d) => stackByUrn.get(d) ?? []);
  });

  for (const policy of pack.policies) {
    const { level, properties } = config.get(policy.name)!;
    if (level === "disabled") continue;
    ran.push({ name: policy.name, level });
    const getConfig = <T extends object>() => structuredClone(properties) as T;
    const fail = (urn: string, err: unknown): never => {
      throw new Error(`policy ${policy.name} failed on ${urn || "the stack"}: ${err instanceof Error ? err.message : String(err)}`);
    };

    if (isResourcePolicy(policy)) {
      const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
      for (const r of resources) {
        const provider = providerOf(r.provider);
        const args: ResourceValidationArgs = {
          type: r.type,
          props: r.inputs,
          urn: r.urn,
          name: r.name,
          opts: optionsOf(r),
          ...(provider ? { provider } : {}),
          stackTags: new Map(),
          isType: (cls) => isTypeOf(r.type, cls),
          asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? r.inputs : undefined)) as ResourceValidationArgs["asType"],
          getConfig,
          notApplicable,
        };
        for (const validate of validations) {
          try {
            await validate(args, (message) => violations.push({ policy: policy.name, level: reported(level), urn: r.urn, message }));
          } catch (err) {
            if (!(err instanceof NotApplicable)) fail(r.urn, err);
          }
        }
      }
    }
    if (isStackPolicy(policy)) {
      try {
        await policy.validateStack(
          { resources: stackResources, stackTags: new Map(), getConfig, notApplicable },
          (message, urn) => violations.push({ policy: policy.name, level: reported(level), urn: urn ?? "", message }),
        );
      } catch (err) {
        if (!(err instanceof NotApplicable)) fail("", err);
      }
    }
  }
  return { violations, policies: ran };
}
