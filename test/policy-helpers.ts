import { Policies } from "@pulumi/policy";
import { OfflineViolation, PolicyConfigFile, RecordedResource, runPolicies } from "../policies/offline";
import { POLICIES } from "../policies/policies";
import { unwrapSecrets } from "../offline/run";
import { sharedRun } from "./helpers";

/*
 * Helpers for policy tests: resources shaped like the harness records them, and
 * runs of one policy (or the pack) through the offline runner, the same path
 * `npm run plan` takes.
 */

export function policyNamed(name: string): Policies[number] {
  const p = POLICIES.find((x) => x.name === name);
  if (!p) throw new Error(`no policy ${name}`);
  return p;
}

/** A recorded resource. `cell` puts it inside a Cell (its URN's type chain), as the program does. */
export function res(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<RecordedResource> & { cell?: boolean } = {}): RecordedResource {
  const { cell = true, ...rest } = extra;
  const chain = cell ? `cellplane:cells:Region$cellplane:cells:Cell$${type}` : `cellplane:cells:Region$${type}`;
  return { urn: `urn:pulumi:test::cellplane::${chain}::${name}`, id: `id-of-${name}`, type, name, parent: null, inputs, dependencies: [], protect: true, provider: null, ...rest };
}

/** Violations of one policy over `resources`, at the policy's own level. */
export async function violationsOf(policy: string, resources: readonly RecordedResource[], config?: PolicyConfigFile): Promise<OfflineViolation[]> {
  const report = await runPolicies(resources, { policies: [policyNamed(policy)] }, config);
  return report.violations;
}

/** One mocked run of an example stack, as the policies see it (secrets unwrapped). */
export async function mockedStack(stack: string): Promise<RecordedResource[]> {
  // Shared with the other test files (test/helpers.ts); unwrapSecrets copies the inputs, so mutating tests change copies.
  const run = await sharedRun(stack);
  return run.registrations.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs).value }));
}
