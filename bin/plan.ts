import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import Table from "cli-table3";
import { RegionConfig, validateStackConfig } from "../cells/config";
import { FLOWS } from "../cells/plan/isolation";
import { CellIpPlan, COMPONENT_TYPES, PlannedSubnet, Problem, Role, ROLES } from "../cells/plan/model";
import { ReleaseSpec } from "../components/platform/values";
import { cellDomain, ingressHostnames } from "../cells/plan/platform";
import { loadProvider } from "../providers";
import type { PolicyConfigFile } from "../policies/offline";
import type { PlannedResource, Registration } from "../offline/registration";
import { maskSecrets, unwrapSecrets } from "../offline/secrets";
import { loadStackFile, PROJECT_DIR } from "../offline/stackfile";

/*
 * The offline plan: the real program under Pulumi's mocks, with no CLI and no
 * credentials. Its JSON is a contract for review tools (docs/plan-json.md): fields
 * are added, never renamed.
 */

/** One Helm release of a cluster's platform layer, with the values it is installed with (secrets masked). */
export type PlanRelease = Omit<ReleaseSpec, "values"> & { values: Record<string, unknown> };

/** The platform layer of one cluster: where its gateway answers and what is installed. */
export interface PlanPlatform {
  ingressHostnames: string[];
  releases: PlanRelease[];
}

export interface PlanDocument {
  project: "cellplane";
  stack: string;
  cloud: string;
  region: string;
  cells: {
    id: string;
    cidr: string;
    state: string;
    serviceCidr: string;
    dnsServiceIp: string;
    /** The cell's subdomain, `<cell>.<zone>`. */
    domain: string;
    subnets: PlannedSubnet[];
    /** Per cluster role; empty where the cloud builds no clusters yet. */
    platform: Partial<Record<Role, PlanPlatform>>;
  }[];
  isolation: { from: string; to: string; protocol: string; ports: number[]; why: string }[];
  resources: PlannedResource[];
  policy: {
    violations: { policy: string; level: string; urn: string; message: string }[];
    /** The pack that ran offline: its policies with their effective levels, and the config file applied. */
    pack: { name: string; config: string | null; policies: { name: string; level: string }[] };
    /** Mandatory policies of the pack that the config file disabled or downgraded (none: the gate is whole). */
    weakened: { policy: string; declared: string; effective: string }[];
  };
  summary: { resourceCount: number; byType: Record<string, number>; buildsResources: boolean };
}

export type PlanOutcome =
  | { kind: "ok"; doc: PlanDocument; config: RegionConfig; registrations: Registration[] }
  | { kind: "config-error"; problems: Problem[] };

/** The policy config `plan` applies unless told otherwise: the one the README passes to `--policy-pack-config`. */
export const DEFAULT_POLICY_CONFIG = path.join(PROJECT_DIR, "policies", "policy-config.json");

export interface PlanOptions {
  /** A `--policy-pack-config` file; default DEFAULT_POLICY_CONFIG when it exists. */
  policyConfig?: string;
}

/**
 * Validates the stack file, runs the program under mocks, then the policy pack
 * offline on what it registered. Config errors are returned, not thrown; an
 * invalid policy config throws PolicyConfigError.
 */
export async function buildPlan(stack: string, dir?: string, previousOutputs?: Record<string, unknown>, options: PlanOptions = {}): Promise<PlanOutcome> {
  const file = loadStackFile(stack, dir);
  const validated = validateStackConfig(file.config, file.secretKeys);
  if (!validated.ok) return { kind: "config-error", problems: validated.problems };
  const config = validated.value;
  // Imported here so that a config error, and every other cellctl command that uses this
  // module's tables, never loads the Pulumi and provider SDKs (cellctl --help starts fast).
  const [{ program }, { runProgram }, { runPolicies }, { PACK_ENFORCEMENT_LEVEL, PACK_NAME, POLICIES }] = await Promise.all([
    import("../cells/program"),
    import("../offline/run"),
    import("../policies/offline"),
    import("../policies/policies"),
  ]);
  const run = await runProgram({ ...file, program, previousOutputs });
  const byType: Record<string, number> = {};
  for (const r of run.registrations) byType[r.type] = (byType[r.type] ?? 0) + 1;
  const configFile = options.policyConfig ?? (existsSync(DEFAULT_POLICY_CONFIG) ? DEFAULT_POLICY_CONFIG : undefined);
  const policyConfig = configFile ? await readPolicyConfig(configFile) : undefined;
  const report = await runPolicies(
    run.registrations.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs).value })),
    { policies: POLICIES, enforcementLevel: PACK_ENFORCEMENT_LEVEL },
    policyConfig,
  );
  const doc: PlanDocument = {
    project: "cellplane",
    stack,
    cloud: config.cloud,
    region: config.region,
    cells: config.cells.map((c) => cellEntry(c.id, c.state, config.plans[c.id], config.dns.zone, run.registrations)),
    isolation: FLOWS.map(({ from, to, protocol, ports, why }) => ({ from, to, protocol, ports, why })),
    resources: run.registrations.map((r) => ({
      urn: r.urn,
      id: r.id,
      type: r.type,
      name: r.name,
      parent: r.parent,
      inputs: maskSecrets(r.inputs),
      dependencies: r.dependencies,
      protect: r.protect,
      provider: r.provider,
    })),
    policy: {
      violations: report.violations.map(({ policy, level, urn, message }) => ({ policy, level, urn, message })),
      pack: { name: PACK_NAME, config: configFile ? path.relative(process.cwd(), configFile) || configFile : null, policies: report.policies },
      weakened: weakenedPolicies(report.policies, POLICIES, PACK_ENFORCEMENT_LEVEL),
    },
    summary: { resourceCount: run.registrations.length, byType, buildsResources: (await loadProvider(config.cloud)).buildsResources },
  };
  return { kind: "ok", doc, config, registrations: run.registrations };
}

/** A `--policy-pack-config` file; a missing or malformed one is a user mistake (PolicyConfigError, exit 1). */
export async function readPolicyConfig(file: string): Promise<PolicyConfigFile> {
  // Loaded here, not at the top: cellctl's other commands use this module's tables only.
  const { PolicyConfigError } = await import("../policies/offline");
  if (!existsSync(file)) throw new PolicyConfigError([`${file}: no such file (fix: pass an existing file to --policy-config, or omit it for ${path.relative(process.cwd(), DEFAULT_POLICY_CONFIG)})`]);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as PolicyConfigFile;
  } catch (err) {
    throw new PolicyConfigError([`${file}: not valid JSON (${(err as Error).message})`]);
  }
}

/** Mandatory policies of the pack that a config file disabled or lowered (to advisory), with both levels. */
export function weakenedPolicies(
  effective: readonly { name: string; level: string }[],
  pack: readonly { name: string; enforcementLevel?: string }[],
  packLevel: string,
): PlanDocument["policy"]["weakened"] {
  const declared = new Map(pack.map((p) => [p.name, p.enforcementLevel ?? packLevel]));
  return effective
    .filter((p) => declared.get(p.name) === "mandatory" && (p.level === "advisory" || p.level === "disabled"))
    .map((p) => ({ policy: p.name, declared: "mandatory", effective: p.level }));
}

function cellEntry(id: string, state: string, plan: CellIpPlan, zone: string, registrations: Registration[]): PlanDocument["cells"][number] {
  return {
    id,
    cidr: plan.cidr,
    state,
    serviceCidr: plan.serviceCidr,
    dnsServiceIp: plan.dnsServiceIp,
    domain: cellDomain(id, zone),
    subnets: plan.subnets.map(({ role, zone, kind, cidr, required, usable }) => ({ role, zone, kind, cidr, required, usable })),
    platform: platformOf(id, zone, registrations),
  };
}

/** The releases each ClusterPlatform of a cell registered, read back from what the engine saw. */
function platformOf(cellId: string, zone: string, registrations: Registration[]): PlanDocument["cells"][number]["platform"] {
  const out: PlanDocument["cells"][number]["platform"] = {};
  for (const role of ROLES) {
    const component = registrations.find((r) => r.type === COMPONENT_TYPES.clusterPlatform && r.name === `${cellId}-${role}-platform`);
    if (!component) continue;
    const releases = registrations
      .filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.parent === component.urn)
      .map((r) => ({
        release: String(r.inputs.name),
        chart: String(r.inputs.chart),
        version: String(r.inputs.version),
        repo: String(r.inputs.repositoryOpts?.repo),
        namespace: String(r.inputs.namespace),
        values: maskSecrets(r.inputs.values ?? {}) as Record<string, unknown>,
      }))
      .sort((a, b) => a.release.localeCompare(b.release));
    out[role] = { ingressHostnames: ingressHostnames(role, cellDomain(cellId, zone)), releases };
  }
  return out;
}

/** A cell's resources at any depth (its clusters' platform layers included). */
function descendants(resources: PlanDocument["resources"], root: string | undefined): PlanDocument["resources"] {
  const inside = new Set(root ? [root] : []);
  // Registration order puts parents before children, so one pass suffices.
  return resources.filter((r) => r.parent !== null && inside.has(r.parent) && inside.add(r.urn));
}

/** Plain tables when not on a terminal, so logs and CI output carry no colour codes. */
export function table(head: string[], extra: Partial<Table.TableConstructorOptions> = {}): Table.Table {
  const tty = process.stdout.isTTY === true;
  return new Table({ head, style: { compact: true, head: tty ? ["cyan"] : [], border: tty ? ["grey"] : [] }, ...extra });
}

/** One cell's IP plan as a table: a block per (role, zone, kind). */
export function ipPlanTable(subnets: readonly PlannedSubnet[]): string {
  const t = table(["role", "zone", "kind", "cidr", "needed", "usable"]);
  for (const s of subnets) t.push([s.role ?? "(shared)", s.zone ?? "(regional)", s.kind, s.cidr, String(s.required), String(s.usable)]);
  return t.toString();
}

/** Human-readable plan: cells, each cell's IP plan, resource counts by type. */
export function renderPlan(doc: PlanDocument): string {
  const out: string[] = [];
  out.push(`cellplane plan: stack ${doc.stack} (${doc.cloud} ${doc.region}), ${doc.cells.length} cell(s)`);
  const cells = table(["cell", "cidr", "state", "subnets", "service cidr"]);
  for (const c of doc.cells) cells.push([c.id, c.cidr, c.state, String(c.subnets.length), c.serviceCidr]);
  out.push(cells.toString());
  for (const c of doc.cells) {
    out.push(`\nIP plan of ${c.id} (${c.cidr})`);
    out.push(ipPlanTable(c.subnets));
  }
  for (const c of doc.cells) {
    const cellUrn = doc.resources.find((r) => r.type === COMPONENT_TYPES.cell && r.name === c.id)?.urn;
    const children = descendants(doc.resources, cellUrn).filter((r) => !r.type.startsWith("cellplane:"));
    if (children.length === 0) continue;
    out.push(`\nResources of ${c.id}`);
    const t = table(["type", "count", "names"], { colWidths: [50, 7, 70], wordWrap: true });
    const byType = new Map<string, string[]>();
    for (const r of children) byType.set(r.type, [...(byType.get(r.type) ?? []), r.name]);
    for (const [type, names] of [...byType.entries()].sort()) t.push([type, String(names.length), names.length <= 9 ? names.join(", ") : `${names.slice(0, 3).join(", ")}, ...`]);
    out.push(t.toString());
    const releases = Object.entries(c.platform).flatMap(([role, p]) => p.releases.map((r) => [role, r.release, r.chart, r.version, r.namespace]));
    if (releases.length > 0) {
      out.push(`\nPlatform of ${c.id} (${c.domain})`);
      const pt = table(["cluster", "release", "chart", "version", "namespace"]);
      for (const row of releases) pt.push(row);
      out.push(pt.toString());
      const hosts = Object.entries(c.platform).filter(([, p]) => p.ingressHostnames.length > 0);
      out.push(hosts.map(([role, p]) => `  ingress ${role}: ${p.ingressHostnames.join(", ")}`).join("\n"));
    }
  }
  out.push(`\nIsolation (everything else between roles is denied)`);
  const iso = table(["from", "to", "protocol", "ports", "why"], { colWidths: [18, 18, 10, 28, 60], wordWrap: true });
  for (const f of doc.isolation) iso.push([f.from, f.to, f.protocol, f.ports.join(", "), f.why]);
  out.push(iso.toString());
  out.push(`\nResources: ${doc.summary.resourceCount}`);
  const types = table(["type", "count"]);
  for (const [type, n] of Object.entries(doc.summary.byType).sort()) types.push([type, String(n)]);
  out.push(types.toString());
  if (!doc.summary.buildsResources) {
    out.push(`\nnote: the ${doc.cloud} provider plans IP layouts only so far; its network and clusters are not built yet.`);
  }
  out.push("", renderPolicy(doc));
  return out.join("\n");
}

/** The policy section: violations grouped by level (mandatory first), then by policy. */
export function renderPolicy(doc: PlanDocument): string {
  const { violations, pack } = doc.policy;
  const count = (level: string) => violations.filter((v) => v.level === level).length;
  const out = [
    `Policy pack ${pack.name}: ${pack.policies.length} policies${pack.config ? `, config ${pack.config}` : ""}`,
    `  ${count("mandatory")} mandatory, ${count("advisory")} advisory violation(s)`,
  ];
  const weakened = doc.policy.weakened ?? [];
  if (weakened.length > 0) {
    out.push(`\nWARNING: the policy config weakens ${weakened.length} mandatory polic${weakened.length === 1 ? "y" : "ies"} of the pack (they no longer block):`);
    for (const w of weakened) out.push(`  ${w.policy}: mandatory -> ${w.effective}`);
  }
  for (const level of ["mandatory", "advisory"]) {
    const ofLevel = violations.filter((v) => v.level === level);
    if (ofLevel.length === 0) continue;
    out.push(`\n${level}${level === "mandatory" ? " (blocks the plan and pulumi preview/up)" : " (warns)"}`);
    const byPolicy = new Map<string, string[]>();
    for (const v of ofLevel) byPolicy.set(v.policy, [...(byPolicy.get(v.policy) ?? []), v.message]);
    for (const [policy, messages] of byPolicy) {
      out.push(`  ${policy} (${messages.length})`);
      for (const m of messages) out.push(`    ${m}`);
    }
  }
  return out.join("\n");
}

/** The error that fails the plan when a mandatory policy is violated, or null. */
export function policyFailure(doc: PlanDocument): string | null {
  const mandatory = doc.policy.violations.filter((v) => v.level === "mandatory");
  if (mandatory.length === 0) return null;
  return [
    `${mandatory.length} mandatory policy violation(s) in stack ${doc.stack}:`,
    ...mandatory.map((v) => `  ${v.policy}: ${v.message}\n      at ${v.urn || "the stack"}`),
  ].join("\n");
}

export function writePlanJson(doc: PlanDocument, file: string): void {
  writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
}
