import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { LocalWorkspace, OpMap, Stack } from "@pulumi/pulumi/automation";
import { checkStackName, PROJECT_DIR } from "../offline/stackfile";
import { DestroyRunOptions, StackBackend, StackFileConfig, StateResource, UpdateRunOptions } from "./backend";
import { translatePulumiError } from "./errors";
import { FileLease, StackLease } from "./lease";
import { ENGINE_PARALLEL } from "./parallelism";

const run = promisify(execFile);

/** Where and how the Pulumi CLI runs. */
export interface PulumiStackOptions {
  /** Project directory: Pulumi.yaml, index.ts and the stack files. Default: this project's root. */
  workDir?: string;
  /** Extra environment for every Pulumi command (e.g. PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE). */
  envVars?: Record<string, string>;
  /** The engine's parallelism (`--parallel`) for previews, updates and destroys. Default ENGINE_PARALLEL (automation/parallelism.ts). */
  parallel?: number;
  /** The stack's lease; default a FileLease in `workDir`. A distributed control plane passes its own (automation/lease.ts). */
  lease?: StackLease;
}

/**
 * The real StackBackend: the Automation API's LocalWorkspace on this project
 * directory, so the control plane runs exactly the program SREs run with
 * `pulumi up`. The backend comes from the environment (`PULUMI_BACKEND_URL`, or
 * `pulumi login`); the stack must exist there (`pulumi stack init <name>` once).
 *
 * Config is read offline from `Pulumi.<stack>.yaml` (`StackFileConfig`), so reads
 * need no CLI; writes, previews, updates and state go through the Pulumi CLI, which
 * is spawned on first use. Failures are translated: a missing CLI to an install
 * hint, an unknown stack to a UserError, engine failures to the engine's message.
 */
export class PulumiStack implements StackBackend {
  private readonly files: StackFileConfig;
  private selected?: Promise<Stack>;
  /** A lock file per stack in the project directory (`.cellctl/<stack>.lock`): control planes on this machine take turns. */
  public readonly lease: StackLease;

  constructor(
    public readonly name: string,
    private readonly options: PulumiStackOptions = {},
  ) {
    checkStackName(name, this.workDir);
    this.files = new StackFileConfig(name, this.workDir);
    this.lease = options.lease ?? new FileLease(this.workDir);
  }

  get workDir(): string {
    return this.options.workDir ?? PROJECT_DIR;
  }

  getAllConfig(): Promise<Record<string, string>> {
    return this.files.getAllConfig();
  }

  /** `selectStack`, never `createOrSelect`: a typo or the wrong backend must not create an empty stack. */
  private stack(): Promise<Stack> {
    // Loaded on first use: the Automation API pulls in the whole Pulumi SDK (about 1 s), which
    // the offline commands (`cellctl --help`, `cells list`) never need.
    this.selected ??= import("@pulumi/pulumi/automation").then(({ LocalWorkspace }) =>
      LocalWorkspace.selectStack({ stackName: this.name, workDir: this.workDir }, { envVars: this.options.envVars }),
    );
    return this.selected;
  }

  private async call<T>(what: string, fn: (stack: Stack) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.stack());
    } catch (err) {
      throw translatePulumiError(err, what, this.name);
    }
  }

  setConfig(key: string, value: string, options: { path: boolean }): Promise<void> {
    return this.call(`set ${key}`, (s) => s.setConfig(key, { value }, options.path));
  }

  removeConfig(key: string, options: { path: boolean }): Promise<void> {
    return this.call(`remove ${key}`, (s) => s.removeConfig(key, options.path));
  }

  /** Set explicitly on every engine run, never the CLI's default (automation/parallelism.ts says why this number). */
  get parallel(): number {
    return this.options.parallel ?? ENGINE_PARALLEL;
  }

  preview(o: UpdateRunOptions): Promise<{ changeSummary: OpMap }> {
    return this.call("preview", (s) => s.preview({ onEvent: o.onEvent, signal: o.signal, parallel: this.parallel, ...policyArgs(o) }));
  }

  async up(o: UpdateRunOptions): Promise<{ resourceChanges: OpMap }> {
    const r = await this.call("up", (s) => s.up({ onEvent: o.onEvent, signal: o.signal, parallel: this.parallel, ...policyArgs(o) }));
    return { resourceChanges: r.summary.resourceChanges ?? {} };
  }

  previewDestroy(o: DestroyRunOptions): Promise<{ changeSummary: OpMap }> {
    return this.call("destroy preview", (s) => s.previewDestroy({ target: o.target, targetDependents: o.targetDependents, onEvent: o.onEvent, signal: o.signal, parallel: this.parallel }));
  }

  async destroy(o: DestroyRunOptions): Promise<{ resourceChanges: OpMap }> {
    const r = await this.call("destroy", (s) => s.destroy({ target: o.target, targetDependents: o.targetDependents, onEvent: o.onEvent, signal: o.signal, parallel: this.parallel }));
    return { resourceChanges: r.summary.resourceChanges ?? {} };
  }

  async listResources(): Promise<StateResource[]> {
    const exported = await this.call("export the stack state", (s) => s.exportStack());
    const resources = (exported.deployment as { resources?: { urn: string; type: string; parent?: string; protect?: boolean }[] } | undefined)?.resources ?? [];
    return resources.map((r) => ({ urn: r.urn, type: r.type, parent: r.parent ?? null, protect: r.protect === true }));
  }

  async setProtected(urns: string[], protect: boolean): Promise<void> {
    if (urns.length === 0) return;
    // The same command the error message tells an operator to run; the Automation API has no wrapper for it.
    await this.call(`${protect ? "protect" : "unprotect"} ${urns.length} resource(s)`, async (s) => {
      const workspace = s.workspace as LocalWorkspace;
      await run(workspace.pulumiCommand.command, ["state", protect ? "protect" : "unprotect", "--stack", this.name, "--yes", "--non-interactive", ...urns], {
        cwd: this.workDir,
        env: { ...process.env, ...this.options.envVars },
      });
    });
  }
}

/** `--policy-pack` and `--policy-pack-config` of a preview or an update. */
function policyArgs(o: UpdateRunOptions): { policyPacks?: string[]; policyPackConfigs?: string[] } {
  if (!o.policyPacks?.length) return {};
  return { policyPacks: o.policyPacks, ...(o.policyPackConfigs?.length ? { policyPackConfigs: o.policyPackConfigs } : {}) };
}

/** The real backend of a stack in this project (or in `options.workDir`). */
export function openStack(name: string, options: PulumiStackOptions = {}): PulumiStack {
  return new PulumiStack(name, options);
}
