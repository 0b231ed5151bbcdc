import * as pulumi from "@pulumi/pulumi";
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
  const config = loadRegionConfig();
  const previous = await deployedPlans();
  const moved = Object.values(config.plans).flatMap((plan) => (previous[plan.cellId] ? movedSubnets(previous[plan.cellId], plan) : []));
  if (moved.length > 0) {
    throw new pulumi.RunError(`refusing to move deployed subnets in stack ${pulumi.getStack()}:\n${formatProblems(moved)}`);
  }
  const provider = await loadProvider(config.cloud);
  const region = new Region("region", { stack: pulumi.getStack(), config, provider });
  return {
    cloud: config.cloud,
    region: config.region,
    ...region.outputs(),
    ipPlan: config.plans,
  };
}
