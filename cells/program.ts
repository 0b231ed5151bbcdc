import * as pulumi from "@pulumi/pulumi";
import { registerAliasTransformation } from "./aliases";
import { validateStackConfig, RegionConfig } from "./config";
import { movedSubnets } from "./plan/ipplan";
import { CellIpPlan, formatProblems } from "./plan/model";
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
  return result.value;
}

/**
 * The IP plan this stack last deployed, read from its own `ipPlan` output. Used to
 * refuse a capacity change that would move a subnet in use.
 */
async function deployedPlans(): Promise<Record<string, CellIpPlan>> {
  const self = new pulumi.StackReference("deployed", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
  const details = await self.getOutputDetails("ipPlan");
  return (details.value as Record<string, CellIpPlan> | undefined) ?? {};
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
  const previous = await deployedPlans();
  const moved = Object.values(config.plans).flatMap((plan) => (previous[plan.cellId] ? movedSubnets(previous[plan.cellId], plan) : []));
  if (moved.length > 0) {
    throw new pulumi.RunError(`refusing to move deployed subnets in stack ${pulumi.getStack()}:\n${formatProblems(moved)}`);
  }
  const provider = await loadProvider(config.cloud);
  const region = await Region.build("region", { stack: pulumi.getStack(), config, provider });
  return {
    cloud: config.cloud,
    region: config.region,
    ...region.outputs(),
    ipPlan: config.plans,
  };
}
