import { readFileSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { CLOUD_FACES, CLOUD_RULES, KUBERNETES_LIMITS, SMALLEST_CELL_PREFIX } from "./plan/clouds";
import { boundsOverlap, cidrBounds, cidrInside, cidrProblem, cidrsOverlap, coversWholeInternet, planCell, prefixOf, SERVICE_CIDR_BOUNDS, serviceRangeProblems } from "./plan/ipplan";

export { coversWholeInternet, SERVICE_CIDR_BOUNDS };
import { CellCapacity, CellIpPlan, CLOUDS, Cloud, formatPath, formatProblems, Problem, Result, ROLES, Role, RoleCapacity } from "./plan/model";
import { CELL_ID_PATTERN, cellIdProblem } from "./plan/naming";
import { DEFAULT_CHARTS, EXACT_VERSION } from "./plan/charts";
import { defaultKubernetesMinor, SUPPORT_WARNING_DAYS, supportedMinors, supportOf } from "./plan/kubernetes";

/*
 * The stack config schema of a region (namespace `cellplane:`), its defaults and
 * its validation. The cloud-neutral keys live here; each cloud's own key
 * (`cellplane:azure`, ...) is a slice from its pure face (cells/plan/clouds/<cloud>.ts),
 * composed below and accepted only on that cloud's stacks. Every key is documented
 * in docs/config.md. Validation collects every problem with its property path and a
 * fix, and runs before anything is registered: an invalid config registers zero
 * resources.
 */

// ---------------------------------------------------------------------------
// Defaults: the one place they live.

/**
 * Per-role cluster settings; the VM sizes and the Kubernetes version differ per
 * cloud (the version is the newest minor of the cloud's support calendar,
 * CloudFace.kubernetesCalendar), the rest does not.
 */
const ROLE_DEFAULTS: Record<Role, Omit<ClusterSettings, "vmSize" | "systemVmSize" | "kubernetesVersion">> = {
  proxy: { systemNodesPerZone: 1, minNodesPerZone: 1, maxNodesPerZone: 10, maxPodsPerNode: 50, maxSurgePercent: 33 },
  "data-plane-mgmt": { systemNodesPerZone: 1, minNodesPerZone: 1, maxNodesPerZone: 10, maxPodsPerNode: 50, maxSurgePercent: 33 },
  "data-plane": { systemNodesPerZone: 1, minNodesPerZone: 1, maxNodesPerZone: 100, maxPodsPerNode: 50, maxSurgePercent: 10 },
};

export const DEFAULTS = {
  /** Kubernetes service range of every cluster; never routed, so shared by all cells. */
  serviceCidr: "172.20.0.0/16",
  /** Prefix length `cellctl cells add` proposes for a new cell. */
  newCellPrefix: 16,
  protect: true,
  maintenance: { day: "Tuesday", startHourUtc: 8, durationHours: 4, upgradeChannel: "patch" },
  apiServer: { private: false, authorizedIpRanges: [] as string[] },
  platform: { acmeServer: "production", ingressAllowList: ["0.0.0.0/0"] },
} as const;

export function clusterDefaults(cloud: Cloud, role: Role): ClusterSettings {
  return { ...ROLE_DEFAULTS[role], kubernetesVersion: defaultKubernetesMinor(CLOUD_FACES[cloud].kubernetesCalendar), ...CLOUD_FACES[cloud].vmDefaults };
}

// ---------------------------------------------------------------------------
// Schema

const cidr = z.string().check((ctx) => {
  const problem = cidrProblem(ctx.value);
  if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem, params: { fix: "write the block's network address and prefix, e.g. 10.64.0.0/16" } });
});

const count = (min: number, max: number) => z.int().min(min).max(max);

export interface ClusterSettings {
  /** Kubernetes minor version ("1.33") or exact patch ("1.33.2"). Pinned: no "latest". */
  kubernetesVersion: string;
  /** VM size of the user pools. Changing it replaces the pools' nodes (rolling). */
  vmSize: string;
  /** VM size of the system pools. */
  systemVmSize: string;
  /** Fixed size of the system pool in each zone. */
  systemNodesPerZone: number;
  /** Autoscaler floor of the user pool in each zone. */
  minNodesPerZone: number;
  /** Autoscaler ceiling of the user pool in each zone; sizes the node and pod subnets. */
  maxNodesPerZone: number;
  /** Pods per node; sizes the pod subnets. Changing it replaces the pools. */
  maxPodsPerNode: number;
  /** Upgrade surge in percent of a zone's nodes; surge nodes need addresses too. */
  maxSurgePercent: number;
}

const clusterSettingsSchema = z.strictObject({
  kubernetesVersion: z.string().regex(/^1\.\d{2}(\.\d+)?$/, { error: "must be a pinned Kubernetes version such as 1.33 or 1.33.2" }),
  vmSize: z.string().min(1),
  systemVmSize: z.string().min(1),
  systemNodesPerZone: count(1, 10),
  minNodesPerZone: count(0, 5000),
  maxNodesPerZone: count(1, 5000),
  maxPodsPerNode: count(10, 256),
  maxSurgePercent: count(1, 100),
});

const partialClusters = z.strictObject(Object.fromEntries(ROLES.map((r) => [r, clusterSettingsSchema.partial().optional()])) as Record<Role, z.ZodOptional<ReturnType<typeof clusterSettingsSchema.partial>>>);

export const CELL_STATES = ["active", "draining"] as const;
export type CellState = (typeof CELL_STATES)[number];

const cellSchema = z.strictObject({
  /** The cell's VNET/VPC block, carved from addressPool. Changing it replaces the cell's network: refused. */
  cidr,
  /** `draining`: the control plane places no new services here; retire with `cellctl cells retire --force`. */
  state: z.enum(CELL_STATES).default("active"),
  /** Per-role overrides of cellplane:clusters for this cell only. */
  clusters: partialClusters.optional(),
});

const weekday = z.enum(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]);

const chartVersion = z.string().regex(EXACT_VERSION, { error: "must be an exact chart version such as 1.30.1: no ranges, no latest" });
const chartsSchema = z.strictObject({
  certManager: chartVersion,
  externalDns: chartVersion,
  istio: chartVersion,
});

/** The clouds' config slices, each optional here; validateConfig accepts only the stack's own cloud's. */
const cloudSlices = Object.fromEntries(CLOUDS.map((c) => [c, CLOUD_FACES[c].config.schema.optional()])) as {
  [C in Cloud]: z.ZodOptional<(typeof CLOUD_FACES)[C]["config"]["schema"]>;
};

export const configSchema = z.strictObject({
  cloud: z.enum(CLOUDS),
  region: z.string().regex(/^[a-z][a-z0-9-]+[0-9a-z]$/, { error: "must be a cloud region name such as eastus2, us-west-2 or us-central1" }),
  zones: z.array(z.string()).min(1),
  addressPool: cidr,
  serviceCidr: cidr.default(DEFAULTS.serviceCidr),
  newCellPrefix: count(16, 24).default(DEFAULTS.newCellPrefix),
  dns: z.strictObject({ zone: z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, { error: "must be a DNS zone name such as eastus2.db.example.com" }) }),
  cells: z.record(z.string(), cellSchema).default({}),
  clusters: partialClusters.prefault({}),
  apiServer: z
    .strictObject({
      private: z.boolean().default(DEFAULTS.apiServer.private),
      authorizedIpRanges: z.array(cidr).default([...DEFAULTS.apiServer.authorizedIpRanges]),
    })
    .prefault({}),
  platform: z
    .strictObject({
      charts: chartsSchema.partial().prefault({}),
      acme: z.strictObject({
        email: z.email(),
        server: z.enum(["production", "staging"]).default(DEFAULTS.platform.acmeServer),
      }),
      ingressAllowList: z.array(cidr).min(1).default([...DEFAULTS.platform.ingressAllowList]),
      /** Who may reach the data-plane-mgmt ingress (the control plane's API); default: apiServer.authorizedIpRanges. Never the whole Internet. */
      managementAllowList: z.array(cidr).min(1).optional(),
    }),
  maintenance: z
    .strictObject({
      day: weekday.default(DEFAULTS.maintenance.day),
      startHourUtc: count(0, 23).default(DEFAULTS.maintenance.startHourUtc),
      durationHours: count(4, 24).default(DEFAULTS.maintenance.durationHours),
      upgradeChannel: z.enum(["patch", "stable", "rapid", "node-image"]).default(DEFAULTS.maintenance.upgradeChannel),
    })
    .prefault({}),
  tags: z.record(z.string().regex(/^[a-zA-Z][-\w.]{0,62}$/, { error: "tag keys are 1-63 letters, digits, '-', '_' and '.'" }), z.string().max(256)).default({}),
  protect: z.boolean().default(DEFAULTS.protect),
  // Each cloud's own key (`cellplane:azure`, `cellplane:gcp`, ...), from its pure face.
  ...cloudSlices,
});

type ParsedConfig = z.output<typeof configSchema>;

export interface CellConfig {
  id: string;
  cidr: string;
  state: CellState;
  /** Effective per-role settings: defaults <- cellplane:clusters <- the cell's own overrides. */
  clusters: Record<Role, ClusterSettings>;
}

/** The validated region config: what the program and cellctl consume. */
/**
 * The sources a role's Internet ingress admits: the customer allow-list for the
 * proxies, the management allow-list for the data-plane API (data-plane-mgmt).
 */
export function ingressAllowListFor(platform: Pick<RegionConfig["platform"], "ingressAllowList" | "managementAllowList">, role: Role): string[] {
  return role === "data-plane-mgmt" ? platform.managementAllowList : platform.ingressAllowList;
}

export interface RegionConfig extends Omit<ParsedConfig, "cells" | "clusters" | "platform"> {
  /** Cells in id order (ids are identity; order is for reading only). */
  cells: CellConfig[];
  /** Region-level per-role settings, after defaults. */
  clusters: Record<Role, ClusterSettings>;
  platform: Omit<ParsedConfig["platform"], "charts" | "managementAllowList"> & { charts: typeof DEFAULT_CHARTS; managementAllowList: string[] };
  /** The IP plan of every cell, keyed by cell id. */
  plans: Record<string, CellIpPlan>;
  /** What is valid but needs attention soon (a Kubernetes version near its end of support); printed, never fatal. */
  warnings: Problem[];
}

export interface ValidateOptions {
  /** The day support calendars are read at; the program and cellctl use today, tests pass a date. */
  today?: Date;
}

// ---------------------------------------------------------------------------
// Validation

function fixFor(issue: z.core.$ZodIssue): string {
  const params = (issue as { params?: { fix?: string } }).params;
  if (params?.fix) return params.fix;
  switch (issue.code) {
    case "unrecognized_keys":
      return `remove ${issue.keys.map((k) => `"${k}"`).join(", ")} or correct the spelling; every key is listed in docs/config.md`;
    case "invalid_type":
      return issue.input === undefined
        ? `set it (expected ${issue.expected}); see docs/config.md`
        : `it is set to ${JSON.stringify(issue.input)} (${Array.isArray(issue.input) ? "a list" : issue.input === null ? "null" : `a ${typeof issue.input}`}): give it a ${issue.expected} value; see docs/config.md`;
    case "invalid_value":
      return `use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_big":
      return `use at most ${issue.maximum}`;
    case "too_small":
      return issue.origin === "array" ? `list at least ${issue.minimum}` : `use at least ${issue.minimum}`;
    default:
      return "see docs/config.md for the expected form";
  }
}

function zodProblems(error: z.ZodError, prefix: (string | number)[] = []): Problem[] {
  return error.issues.map((issue) => {
    let path = [...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
    // Unknown keys are reported at the key itself, which is what the user has to delete.
    if (issue.code === "unrecognized_keys" && issue.keys.length === 1) path = [...path, issue.keys[0]];
    return { path, message: issue.message, fix: fixFor(issue) };
  });
}

/** Parses one top-level key on its own, so a broken key never hides problems in the others. */
function parseKey<K extends keyof typeof configSchema.shape>(raw: Record<string, unknown>, key: K): z.output<(typeof configSchema.shape)[K]> | undefined {
  const r = configSchema.shape[key].safeParse(raw[key]);
  return r.success ? (r.data as z.output<(typeof configSchema.shape)[K]>) : undefined;
}

function effectiveClusters(cloud: Cloud, region: ParsedConfig["clusters"] | undefined, cell: CellConfigInput["clusters"] | undefined): Record<Role, ClusterSettings> {
  return Object.fromEntries(
    ROLES.map((r) => [r, { ...clusterDefaults(cloud, r), ...stripUndefined(region?.[r]), ...stripUndefined(cell?.[r]) }]),
  ) as Record<Role, ClusterSettings>;
}

type CellConfigInput = z.output<typeof cellSchema>;

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  return o ? (Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>) : {};
}

export function capacityOf(clusters: Record<Role, ClusterSettings>): CellCapacity {
  return Object.fromEntries(
    ROLES.map((r) => {
      const c: RoleCapacity = {
        maxNodesPerZone: clusters[r].maxNodesPerZone,
        systemNodesPerZone: clusters[r].systemNodesPerZone,
        maxPodsPerNode: clusters[r].maxPodsPerNode,
        maxSurgePercent: clusters[r].maxSurgePercent,
      };
      return [r, c];
    }),
  ) as CellCapacity;
}

/** Limits of node and pod counts per cluster, for the cloud and for Kubernetes itself. */
function clusterLimitProblems(cloud: Cloud, zones: number, clusters: Record<Role, ClusterSettings>, at: (string | number)[]): Problem[] {
  const rules = CLOUD_RULES[cloud];
  const problems: Problem[] = [];
  for (const role of ROLES) {
    const c = clusters[role];
    const path = [...at, role];
    if (c.maxPodsPerNode > rules.maxPodsPerNode) {
      problems.push({ path: [...path, "maxPodsPerNode"], message: `${c.maxPodsPerNode} pods per node is above the ${cloud} limit of ${rules.maxPodsPerNode}`, fix: `use at most ${rules.maxPodsPerNode}` });
    }
    if (c.maxNodesPerZone > rules.maxNodesPerPool) {
      problems.push({ path: [...path, "maxNodesPerZone"], message: `${c.maxNodesPerZone} nodes in one zone's pool is above the ${cloud} limit of ${rules.maxNodesPerPool} per pool`, fix: `use at most ${rules.maxNodesPerPool}, or add a cell` });
    }
    if (c.minNodesPerZone > c.maxNodesPerZone) {
      problems.push({ path: [...path, "minNodesPerZone"], message: `minNodesPerZone (${c.minNodesPerZone}) is above maxNodesPerZone (${c.maxNodesPerZone})`, fix: "lower minNodesPerZone or raise maxNodesPerZone" });
    }
    for (const p of rules.checkPools?.({ vmSize: c.vmSize, systemVmSize: c.systemVmSize, maxPodsPerNode: c.maxPodsPerNode, zones }) ?? []) {
      problems.push({ path: [...path, p.field], message: p.message, fix: p.fix });
    }
    const nodes = (c.maxNodesPerZone + c.systemNodesPerZone) * zones;
    if (nodes > KUBERNETES_LIMITS.maxNodesPerCluster) {
      problems.push({ path: [...path, "maxNodesPerZone"], message: `${nodes} nodes across ${zones} zones is above Kubernetes' ${KUBERNETES_LIMITS.maxNodesPerCluster} nodes per cluster`, fix: `keep (maxNodesPerZone + systemNodesPerZone) x zones at or under ${KUBERNETES_LIMITS.maxNodesPerCluster}, or add a cell` });
    }
    const pods = nodes * c.maxPodsPerNode;
    if (pods > KUBERNETES_LIMITS.maxPodsPerCluster) {
      problems.push({ path: [...path, "maxPodsPerNode"], message: `${pods} pods per cluster (${nodes} nodes x ${c.maxPodsPerNode}) is above Kubernetes' ${KUBERNETES_LIMITS.maxPodsPerCluster}`, fix: "lower maxPodsPerNode or maxNodesPerZone, or add a cell" });
    }
  }
  return problems;
}

/**
 * Validates the raw `cellplane:` config (values already JSON-decoded) and returns
 * the effective region config with every cell's IP plan, or every problem found.
 */
export function validateConfig(raw: Record<string, unknown>, opts: ValidateOptions = {}): Result<RegionConfig> {
  const today = opts.today ?? new Date();
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  // reportInput: a fix can tell a missing key from one set with the wrong type.
  const whole = configSchema.safeParse(raw, { reportInput: true });
  if (!whole.success) problems.push(...zodProblems(whole.error));

  // Semantic checks run on every key that parsed, even when others did not.
  const cloud = parseKey(raw, "cloud");
  const region = parseKey(raw, "region");
  const zones = parseKey(raw, "zones");
  const pool = parseKey(raw, "addressPool");
  const serviceCidr = parseKey(raw, "serviceCidr");
  const regionClusters = parseKey(raw, "clusters");
  const apiServer = parseKey(raw, "apiServer");
  const rawCells = raw.cells && typeof raw.cells === "object" ? (raw.cells as Record<string, unknown>) : {};

  if (cloud && region && zones) {
    const rules = CLOUD_RULES[cloud];
    const seen = new Map<string, number>();
    zones.forEach((zone, i) => {
      const why = rules.checkZone(zone, region);
      if (why) problems.push({ path: ["zones", i], message: why, fix: `use zones like ${JSON.stringify(rules.exampleZones(region))}` });
      if (seen.has(zone)) problems.push({ path: ["zones", i], message: `zone "${zone}" is listed twice (also at zones[${seen.get(zone)}])`, fix: "list each zone once" });
      else seen.set(zone, i);
    });
  }
  if (cloud) {
    for (const other of CLOUDS) {
      if (other !== cloud && raw[other] !== undefined) {
        problems.push({ path: [other], message: `settings for ${other} are given but this stack's cloud is ${cloud}`, fix: `remove cellplane:${other}, or correct cellplane:cloud` });
      }
    }
    const facts = { region: raw.region, zones: raw.zones, tags: raw.tags, dnsZone: (raw.dns as { zone?: unknown } | undefined)?.zone, whole: raw };
    problems.push(...CLOUD_FACES[cloud].config.check(raw[cloud], facts));
    warnings.push(...(CLOUD_FACES[cloud].config.warn?.(raw[cloud], facts) ?? []));
  }
  if (apiServer && !apiServer.private && apiServer.authorizedIpRanges.length === 0) {
    problems.push({
      path: ["apiServer"],
      message: "the Kubernetes API servers would be reachable from the whole Internet",
      fix: "set cellplane:apiServer.private: true, or list the operator networks in cellplane:apiServer.authorizedIpRanges",
    });
  }
  if (apiServer && cloud) {
    apiServer.authorizedIpRanges.forEach((r, i) => {
      if (r === "0.0.0.0/0") problems.push({ path: ["apiServer", "authorizedIpRanges", i], message: "0.0.0.0/0 authorizes the whole Internet", fix: "list the operator networks only" });
    });
    // The union counts, not each literal: 0.0.0.0/1 + 128.0.0.0/1 is the whole Internet too.
    if (!apiServer.authorizedIpRanges.includes("0.0.0.0/0") && coversWholeInternet(apiServer.authorizedIpRanges)) {
      problems.push({
        path: ["apiServer", "authorizedIpRanges"],
        message: `together, ${apiServer.authorizedIpRanges.join(", ")} cover every IPv4 address: they authorize the whole Internet`,
        fix: "list the operator networks only",
      });
    }
  }
  if (serviceCidr) problems.push(...serviceCidrProblems(serviceCidr));
  const platform = parseKey(raw, "platform");
  if (platform && apiServer) {
    const list = platform.managementAllowList ?? apiServer.authorizedIpRanges;
    const at = platform.managementAllowList ? ["platform", "managementAllowList"] : ["platform"];
    if (list.length === 0) {
      warnings.push({ path: at, message: "the data-plane API (data-plane-mgmt ingress) is closed to the Internet: apiServer.authorizedIpRanges is empty and managementAllowList is unset", fix: "set cellplane:platform.managementAllowList to the control plane's egress networks if it calls the API over the Internet" });
    }
    // The union counts, as for the API server: 0.0.0.0/1 + 128.0.0.0/1 is the whole Internet too.
    if (list.length > 0 && coversWholeInternet(list)) {
      problems.push({ path: platform.managementAllowList ? ["platform", "managementAllowList"] : ["apiServer", "authorizedIpRanges"], message: `${list.join(", ")} would open the data-plane API to the whole Internet`, fix: "list the control plane's networks only" });
    }
  }
  if (cloud && regionClusters) {
    const clusters = effectiveClusters(cloud, regionClusters, undefined);
    problems.push(...clusterLimitProblems(cloud, zones?.length ?? 3, clusters, ["clusters"]));
    versionSupport(cloud, clusters, ["clusters"], today, problems, warnings);
  }

  // Cells: each parsed on its own, then checked against the pool, the service range and each other.
  const okCells: { id: string; cell: CellConfigInput; broken?: boolean }[] = [];
  for (const [id, rawCell] of Object.entries(rawCells)) {
    if (!CELL_ID_PATTERN.test(id)) {
      problems.push({ path: ["cells", id], message: `cell id "${id}" is not a valid id`, fix: "use 2-8 lowercase letters and digits starting with a letter, e.g. c004; ids are identity and never change" });
      continue;
    }
    const yamlProblem = cellIdProblem(id);
    if (yamlProblem) {
      problems.push({ path: ["cells", id], message: yamlProblem, fix: "use an id YAML keeps as a string, such as c004 (not true, false, yes, no, on, off or null)" });
      continue;
    }
    const r = cellSchema.safeParse(rawCell);
    if (r.success) {
      okCells.push({ id, cell: r.data });
      continue;
    }
    // A cell with some other broken key still has its block checked against the rest.
    const block = cidr.safeParse((rawCell as { cidr?: unknown } | null)?.cidr);
    if (block.success) okCells.push({ id, cell: { cidr: block.data, state: "active" }, broken: true });
  }
  const plans: Record<string, CellIpPlan> = {};
  const cellsOut: CellConfig[] = [];
  // Every cell is checked against every other: parsed once, compared as numbers.
  const bounds = okCells.map(({ cell }) => cidrBounds(cell.cidr));
  for (const [i, { id, cell, broken }] of okCells.entries()) {
    const at = ["cells", id, "cidr"];
    const prefix = prefixOf(cell.cidr);
    if (prefix > SMALLEST_CELL_PREFIX) {
      problems.push({ path: at, message: `a /${prefix} cell is too small; cells are at least /${SMALLEST_CELL_PREFIX}`, fix: `give cell ${id} a /${SMALLEST_CELL_PREFIX} or larger block` });
    }
    const largest = cloud ? CLOUD_RULES[cloud].largestCellPrefix : null;
    if (largest !== null && prefix < largest) {
      problems.push({ path: at, message: `a /${prefix} is larger than a ${cloud} VPC may be (/${largest} at most)`, fix: `give cell ${id} a /${largest} to /${SMALLEST_CELL_PREFIX} block` });
    }
    if (pool && !cidrInside(cell.cidr, pool)) {
      problems.push({ path: at, message: `${cell.cidr} is outside the address pool ${pool}`, fix: `pick a block inside cellplane:addressPool (${pool}); cellctl cells add proposes a free one` });
    }
    if (serviceCidr && cidrsOverlap(cell.cidr, serviceCidr)) {
      problems.push({ path: at, message: `${cell.cidr} overlaps the Kubernetes service range ${serviceCidr}`, fix: "move the cell, or set cellplane:serviceCidr to a range outside every cell" });
    }
    for (const [j, other] of okCells.slice(0, i).entries()) {
      if (boundsOverlap(bounds[i], bounds[j])) {
        problems.push({ path: at, message: `${cell.cidr} overlaps cells.${other.id}.cidr (${other.cell.cidr})`, fix: "give every cell its own block; cellctl cells add proposes a free one" });
      }
    }
    if (!cloud || broken) continue;
    const clusters = effectiveClusters(cloud, regionClusters, cell.clusters);
    const limitProblems = clusterLimitProblems(cloud, zones?.length ?? 3, clusters, ["cells", id, "clusters"]).filter(
      // A region-level problem is reported once, at the region key.
      (p) => cell.clusters?.[p.path[3] as Role]?.[p.path[4] as keyof ClusterSettings] !== undefined,
    );
    problems.push(...limitProblems);
    // A cell's own version override is judged at the cell; the region's at the region key.
    const overridden = Object.fromEntries(ROLES.filter((r) => cell.clusters?.[r]?.kubernetesVersion !== undefined).map((r) => [r, clusters[r]])) as Partial<Record<Role, ClusterSettings>>;
    versionSupport(cloud, overridden, ["cells", id, "clusters"], today, problems, warnings);
    if (zones && serviceCidr) {
      const plan = planCell({ cloud, cellId: id, cidr: cell.cidr, zones, capacity: capacityOf(clusters), serviceCidr });
      if (plan.ok) plans[id] = plan.value;
      else problems.push(...plan.problems);
    }
    cellsOut.push({ id, cidr: cell.cidr, state: cell.state, clusters });
  }
  if (pool && serviceCidr && cidrsOverlap(pool, serviceCidr)) {
    problems.push({ path: ["serviceCidr"], message: `${serviceCidr} overlaps the address pool ${pool}`, fix: "pick a service range outside the pool (it is never routed, 172.20.0.0/16 is the default)" });
  }

  if (problems.length > 0 || !whole.success) return { ok: false, problems: dedupe(problems) };
  const c = whole.data;
  return {
    ok: true,
    value: {
      ...c,
      zones: [...c.zones].sort(),
      cells: cellsOut.sort((a, b) => a.id.localeCompare(b.id)),
      clusters: effectiveClusters(c.cloud, c.clusters, undefined),
      platform: {
        ...c.platform,
        charts: { ...DEFAULT_CHARTS, ...stripUndefined(c.platform.charts) },
        managementAllowList: c.platform.managementAllowList ?? [...c.apiServer.authorizedIpRanges],
      },
      // The stack's own cloud slice with its defaults, even when the key is absent.
      [c.cloud]: CLOUD_FACES[c.cloud].config.schema.parse(raw[c.cloud]),
      plans,
      warnings: dedupe(warnings),
    },
  };
}

/**
 * Kubernetes versions against the cloud's support calendar on `today`: past the end
 * of standard support is a problem (the cloud creates no cluster on it), within
 * SUPPORT_WARNING_DAYS a warning, newer than the calendar a warning too.
 */
function versionSupport(cloud: Cloud, clusters: Partial<Record<Role, ClusterSettings>>, at: (string | number)[], today: Date, problems: Problem[], warnings: Problem[]): void {
  const calendar = CLOUD_FACES[cloud].kubernetesCalendar;
  const supported = supportedMinors(calendar, today);
  const day = today.toISOString().slice(0, 10);
  for (const role of ROLES) {
    const c = clusters[role];
    if (!c) continue;
    const path = [...at, role, "kubernetesVersion"];
    const s = supportOf(c.kubernetesVersion, calendar, today);
    if (s.status === "ended") {
      problems.push({
        path,
        message: `Kubernetes ${c.kubernetesVersion} is past its end of standard support on ${cloud}${s.end ? ` (${s.end}, ${s.source})` : " (older than every minor of its calendar)"} on ${day}; the cloud creates no cluster on it`,
        fix: `use a supported minor: ${supported.join(", ") || "none listed; update the calendar in cells/plan/clouds"}`,
      });
    } else if (s.status === "ending") {
      warnings.push({ path, message: `Kubernetes ${c.kubernetesVersion} leaves standard support on ${cloud} on ${s.end} (${s.daysLeft} days, under ${SUPPORT_WARNING_DAYS}; ${s.source})`, fix: `plan the upgrade to ${supported.filter((m) => m !== c.kubernetesVersion.split(".").slice(0, 2).join(".")).join(" or ") || "a newer minor"}` });
    } else if (s.status === "unlisted") {
      warnings.push({ path, message: `Kubernetes ${c.kubernetesVersion} is newer than ${cloud}'s support calendar in cells/plan/clouds/${cloud}.ts`, fix: "check the cloud offers it in the region, and add its row to the calendar" });
    }
  }
}

/** The service range against the bounds every cloud accepts (SERVICE_CIDR_BOUNDS, cells/plan/ipplan.ts). */
function serviceCidrProblems(serviceCidr: string): Problem[] {
  const fix = `use a private /${SERVICE_CIDR_BOUNDS.largestPrefix} to /${SERVICE_CIDR_BOUNDS.smallestPrefix} outside every cell, e.g. ${DEFAULTS.serviceCidr} (the default)`;
  return serviceRangeProblems(serviceCidr).map((message) => ({ path: ["serviceCidr"], message, fix }));
}

/**
 * Config namespaces a cellplane stack file may use: the program's, the control
 * plane's bookkeeping, Pulumi's own, and those of the provider packages the program
 * depends on (package.json). A key in any other namespace (`cellpane:protect`) would
 * be ignored silently, so it is refused.
 */
export const KNOWN_NAMESPACES: readonly string[] = ["cellplane", "cellctl", "pulumi", ...providerNamespaces()];

/** The config namespace of every `@pulumi/<provider>` package this project depends on (its name without the scope). */
function providerNamespaces(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  return Object.keys(pkg.dependencies ?? {})
    .map((d) => /^@pulumi\/(.+)$/.exec(d)?.[1])
    .filter((n): n is string => n !== undefined && n !== "pulumi" && n !== "policy")
    .sort();
}

/** The object Pulumi writes for an encrypted value: `{ secure: "<ciphertext>" }`. */
function isSecureValue(v: unknown): boolean {
  return !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
}

function secureProblems(value: unknown, path: (string | number)[]): Problem[] {
  if (isSecureValue(value)) {
    return [{ path, message: "is an encrypted (secure:) value; no cellplane setting is a secret, and offline plans cannot decrypt it", fix: `store it in plain text: pulumi config set --path ${formatPath(path)} <value> (without --secret)` }];
  }
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => secureProblems(v, [...path, Array.isArray(value) ? Number(k) : k]));
  return [];
}

/**
 * Validates a whole stack config, as the engine hands it over (flat keys, structured
 * values as JSON): the namespaces of its keys, `secure:` values where cellplane has
 * no secrets, then the `cellplane:` config itself (validateConfig).
 *
 * @param secretKeys keys whose values were `secure:` at the top level of the stack file
 */
export function validateStackConfig(flat: Record<string, string>, secretKeys: readonly string[] = []): Result<RegionConfig> {
  const problems: Problem[] = [];
  for (const key of Object.keys(flat)) {
    const ns = key.includes(":") ? key.slice(0, key.indexOf(":")) : "";
    if (!KNOWN_NAMESPACES.includes(ns)) {
      problems.push({
        path: [key],
        message: ns ? `unknown config namespace "${ns}:"; the key would be ignored` : "a config key without a namespace; the key would be ignored",
        fix: `correct the namespace (known: ${KNOWN_NAMESPACES.map((n) => `${n}:`).join(", ")}), or remove the key`,
      });
    }
  }
  const raw = rawFromFlatConfig(flat);
  for (const key of secretKeys.filter((k) => k.startsWith("cellplane:"))) problems.push(...secureProblems({ secure: "" }, [key.slice("cellplane:".length)]));
  for (const [key, value] of Object.entries(raw)) if (!secretKeys.includes(`cellplane:${key}`)) problems.push(...secureProblems(value, [key]));
  if (problems.length > 0) {
    // What validateConfig would add about the same keys ("expected string, received object") is noise.
    const noisy = new Set(problems.map((p) => formatPath(p.path)));
    const rest = validateConfig(raw);
    return { ok: false, problems: [...problems, ...(rest.ok ? [] : rest.problems.filter((p) => ![...noisy].some((n) => formatPath(p.path).startsWith(n))))] };
  }
  return validateConfig(raw);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path.join(".")}|${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Thrown for a user mistake in config: printed without a stack trace by the program and by cellctl. */
export class ConfigError extends Error {
  constructor(public readonly problems: Problem[], stack?: string) {
    super(`invalid cellplane config${stack ? ` in stack ${stack}` : ""} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${formatProblems(problems)}`);
    this.name = "ConfigError";
  }
}

/**
 * Turns the flat `cellplane:*` config map, as the Pulumi engine hands it to the
 * program (structured values are JSON strings), into a raw object for validation.
 * Keys of other namespaces (azure-native:, gcp:, ...) are left to their providers.
 */
export function rawFromFlatConfig(flat: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (!key.startsWith("cellplane:")) continue;
    const name = key.slice("cellplane:".length);
    try {
      raw[name] = JSON.parse(value);
    } catch {
      raw[name] = value;
    }
  }
  return raw;
}
