import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { parseServiceStackName } from "../cells/plan/services";
import { PROJECT_DIR } from "../offline/stackfile";
import { CLOUD_HOMES } from "../providers";
import { validateServiceConfig } from "../services/config";
import { translatePulumiError, UserError } from "./errors";
import { FileLease, StackLease } from "./lease";
import { ServiceStackFiles, ServiceStacks } from "./services";

/*
 * The real service stacks: Automation API inline programs (the service program)
 * in this project directory, so each service stack's config is its
 * `Pulumi.<region>-svc-<id>.yaml` beside the region's, and `pulumi up -s
 * <region>-svc-<id>` by an SRE runs the same program (index.ts dispatches on the
 * stack name). Service stacks are created by the control plane (createOrSelect):
 * a service is born with its stack, unlike a region.
 */
export class PulumiServiceStacks extends ServiceStackFiles implements ServiceStacks {
  /**
   * The lease placement and each service's operations run under: by default a
   * FileLease in the project directory, the same lock files `PulumiStack` takes for
   * the region's cells add/retire, so a placement never races a cell being drained.
   */
  public readonly lease: StackLease;

  constructor(
    private readonly workDir: string = PROJECT_DIR,
    private readonly envVars: Record<string, string> = {},
    lease?: StackLease,
  ) {
    super(workDir);
    this.lease = lease ?? new FileLease(workDir);
  }

  private async open(stackName: string, create: boolean): Promise<Stack> {
    const { serviceProgram } = await import("../services/program");
    const args = { stackName, projectName: "cellplane", program: serviceProgram };
    const opts = { workDir: this.workDir, envVars: this.envVars };
    try {
      return await (create ? LocalWorkspace.createOrSelectStack(args, opts) : LocalWorkspace.selectStack(args, opts));
    } catch (err) {
      throw translatePulumiError(err, `open ${stackName}`, stackName);
    }
  }

  private async call<T>(stackName: string, what: string, fn: (s: Stack) => Promise<T>, create = false): Promise<T> {
    const s = await this.open(stackName, create);
    try {
      return await fn(s);
    } catch (err) {
      throw translatePulumiError(err, what, stackName);
    }
  }

  create(stack: string, config: Record<string, string>): Promise<void> {
    return this.call(stack, "write the service config", (s) => s.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, value]) => [k, { value }]))), true);
  }

  setConfig(stack: string, key: string, value: string): Promise<void> {
    return this.call(stack, `set ${key}`, (s) => s.setConfig(key, { value }));
  }

  up(stack: string, options: { signal?: AbortSignal; onStep?: (done: number, total: number, current?: string) => void }): Promise<{ outputs: Record<string, unknown> }> {
    return this.call(stack, "up", async (s) => {
      let done = 0;
      await s.up({
        signal: options.signal,
        onEvent: (e) => {
          const m = e.resOutputsEvent?.metadata;
          if (m && m.op !== "same" && m.op !== "read") options.onStep?.(++done, Math.max(done, 15), m.urn.split("::").pop());
        },
      });
      const outs = await s.outputs();
      return { outputs: Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.value])) };
    });
  }

  async storageHoldsData(stack: string): Promise<boolean> {
    const entry = (await this.list(parseServiceStackName(stack)?.regionStack ?? "")).find((e) => e.stack === stack);
    const v = entry && validateServiceConfig(entry.config);
    if (!v || !v.ok) throw new UserError(`no valid service stack ${stack}`);
    const probe = CLOUD_HOMES[v.value.cloud].serviceData;
    if (!probe) throw new UserError(`services on ${v.value.cloud} are not built yet`);
    const outputs = await this.call(stack, "read outputs", async (s) => Object.fromEntries(Object.entries(await s.outputs()).map(([k, o]) => [k, o.value])));
    return (await probe())(outputs);
  }

  destroyAndRemove(stack: string, options: { signal?: AbortSignal }): Promise<{ destroyed: number }> {
    return this.call(stack, "destroy", async (s) => {
      // The stack is the service: every protected resource in it belongs to this tenant only.
      const state = await s.exportStack();
      const resources = (state.deployment as { resources?: { urn: string; protect?: boolean }[] } | undefined)?.resources ?? [];
      for (const r of resources) if (r.protect) r.protect = false;
      await s.importStack(state);
      const result = await s.destroy({ signal: options.signal });
      await s.workspace.removeStack(stack);
      return { destroyed: result.summary.resourceChanges?.delete ?? 0 };
    });
  }
}
