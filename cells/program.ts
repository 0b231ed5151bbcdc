import * as pulumi from "@pulumi/pulumi";
import { registerAliasTransformation } from "./aliases";
import { validateStackConfig, RegionConfig } from "./config";
import { movedSubnets } from "./plan/ipplan";
import { CellIpPlan, formatProblems, Problem, ROLES } from "./plan/model";
import { CLOUD_FACES } from "./plan/clouds";
import { Region } from "./region";
import { loadProvider } from "../providers";

/**
 * Reads and validates the stack's `cellplane:` config. A mistake ends the run with
 * every problem listed and no stack trace (RunError), before anything is registered.
 */
export function loadRegionConfig(): RegionConfig {
  const result = validateStackConfig(pulumi.runtime.allConfig());
  if (!result.ok) {
    throw new pulumi.RunError(`invalid cellplane config in stack ${pulumi.getStack()}:\n${formatProblems(result.problems)}`);
  }
  // Valid but due soon (a Kubernetes version near its end of support): shown in the preview, never fatal.
  for (const w of result.value.warnings) void pulumi.log.warn(`cellplane:${w.path.join(".")}: ${w.message}; fix: ${w.fix}`);
  return result.value;
}

/**
 * The IP plan this stack last deployed, read from its own `ipPlan` output. Used to
 * refuse a capacity change that would move a subnet in use.
 */
async function deployed(): Promise<Deployed> {
  const self = new pulumi.StackReference("deployed", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
  const plans = ((await self.getOutputDetails("ipPlan")).value as Record<string, CellIpPlan> | undefined) ?? {};
  const clusters = ((await self.getOutputDetails("clusterSettings")).value as Deployed["clusters"] | undefined) ?? {};
  const facts = ((await self.getOutputDetails("cellFacts")).value as Deployed["facts"] | undefined) ?? {};
  return { plans, clusters, facts };
}

interface Deployed {
  plans: Record<string, CellIpPlan>;
  clusters: Record<string, Record<string, Record<string, unknown>>>;
  facts: Record<string, Record<string, string>>;
}

/** The cloud's slice of the config (`cellplane:<cloud>`), as its face's functions take it. */
function cloudSettings(config: RegionConfig): never {
  return (config as unknown as Record<string, unknown>)[config.cloud] as never;
}

/** The cloud's facts of each cell (CloudFace.cellFacts), exported as `cellFacts`. */
function cellFactsOf(config: RegionConfig): Record<string, Record<string, string>> {
  const face = CLOUD_FACES[config.cloud].cellFacts;
  if (!face) return {};
  return Object.fromEntries(config.cells.map((c) => [c.id, face.of(cloudSettings(config), c.id)]));
}

/**
 * A deployed cell whose facts would change (CloudFace.cellFacts). A cell the last
 * deployment had (in `clusterSettings`) but recorded no facts for has the cloud's legacy facts.
 */
export function changedCellFacts(config: RegionConfig, before: Pick<Deployed, "clusters" | "facts">): Problem[] {
  const face = CLOUD_FACES[config.cloud].cellFacts;
  if (!face) return [];
  const now = cellFactsOf(config);
  const problems: Problem[] = [];
  for (const cell of config.cells) {
    const was = before.facts[cell.id] ?? (before.clusters[cell.id] ? face.legacy : undefined);
    if (!was) continue;
    for (const [key, value] of Object.entries(was)) {
      if (now[cell.id][key] === value) continue;
      problems.push({
        path: ["cells", cell.id],
        message: `cell ${cell.id} was deployed with ${key} "${value}"; this run would make it "${now[cell.id][key]}", which deletes or recreates its infrastructure`,
        fix: face.fix(cell.id, key, value),
      });
    }
  }
  return problems;
}

/** Changes to settings the cloud freezes on a deployed cluster (CloudFace.frozenClusterSettings). */
export function frozenChanges(config: RegionConfig, before: Record<string, Record<string, Record<string, unknown>>>): Problem[] {
  const problems: Problem[] = [];
  for (const cell of config.cells) {
    const frozen = CLOUD_FACES[config.cloud].frozenClusterSettings(cloudSettings(config), cell.id);
    for (const role of ROLES) {
      const was = before[cell.id]?.[role];
      if (!was) continue;
      for (const key of frozen) {
        const now = (cell.clusters[role] as unknown as Record<string, unknown>)[key];
        if (was[key] !== undefined && was[key] !== now) {
          problems.push({
            path: ["cells", cell.id, "clusters", role, key],
            message: `${key} of the deployed ${role} cluster is ${JSON.stringify(was[key])}; the cloud cannot apply the change to ${JSON.stringify(now)} to the pools it has (README "Changing a frozen pool setting")`,
            fix: `keep ${JSON.stringify(was[key])}, or roll it as README "Changing a frozen pool setting" says`,
          });
        }
      }
    }
  }
  return problems;
}

/** The program: config -> stability guard -> Region -> outputs. `index.ts` exports it for the engine. */
export async function program(): Promise<Record<string, unknown>> {
  // Pulumi's SDK formats a stack trace for every promise it creates (debuggablePromise:
  // four per output property of every resource) and keeps it; under ts-node each frame is
  // source-mapped. For a 25-cell region that tripled the run and added ~10% to memory
  // (bench/README "Scale"). The program's errors carry their messages (RunError, no stack);
  // CELLPLANE_STACK_TRACES=1 brings the stacks back when debugging the program itself.
  if (!process.env.CELLPLANE_STACK_TRACES) Error.stackTraceLimit = 0;
  // Before any resource: drops the azure-native SDK's per-API-version aliases, which a
  // stack created by this project never needs and which made large regions run out of memory (cells/aliases.ts).
  registerAliasTransformation();
  const config = loadRegionConfig();
  const before = await deployed();
  const { plans: previous, clusters: previousClusters } = before;
  const moved = Object.values(config.plans).flatMap((plan) => (previous[plan.cellId] ? movedSubnets(previous[plan.cellId], plan) : []));
  if (moved.length > 0) {
    throw new pulumi.RunError(`refusing to move deployed subnets in stack ${pulumi.getStack()}:\n${formatProblems(moved)}`);
  }
  const switched = changedCellFacts(config, before);
  if (switched.length > 0) {
    throw new pulumi.RunError(`refusing to change how deployed cells are built in stack ${pulumi.getStack()}:\n${formatProblems(switched)}`);
  }
  const frozen = frozenChanges(config, previousClusters);
  if (frozen.length > 0) {
    throw new pulumi.RunError(`refusing to change settings a deployed cluster cannot take in stack ${pulumi.getStack()}:\n${formatProblems(frozen)}`);
  }
  const provider = await loadProvider(config.cloud);
  const region = await Region.build("region", { stack: pulumi.getStack(), config, provider });
  return {
    cloud: config.cloud,
    region: config.region,
    ...region.outputs(),
    ipPlan: config.plans,
    // What the frozen-settings guard compares against on the next run.
    clusterSettings: Object.fromEntries(config.cells.map((c) => [c.id, c.clusters])),
    // What the cell-facts guard compares against on the next run (Azure: how the pools are created).
    ...(CLOUD_FACES[config.cloud].cellFacts ? { cellFacts: cellFactsOf(config) } : {}),
  };
}
