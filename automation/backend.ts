import type { EngineEvent, OpMap } from "@pulumi/pulumi/automation";
import { loadStackFile, PROJECT_DIR, StackFileError } from "../offline/stackfile";
import { UserError } from "./errors";
import type { StackLease } from "./lease";

/*
 * The seam between the control-plane library and Pulumi. Two interfaces:
 * - StackConfigReader: the stack's config, read offline. `listCells` and
 *   `planAddCell` need nothing else, so they run without the Pulumi CLI.
 * - StackBackend: everything that goes through the engine (config writes, preview,
 *   up, destroy, state). `PulumiStack` binds it to the Automation API's
 *   LocalWorkspace; `InMemoryStack` is a fake that behaves like a stack, for tests.
 */

/** Read-only access to a stack's config. */
export interface StackConfigReader {
  /** The stack name, e.g. `prod-azure`. */
  readonly name: string;
  /**
   * The flat config map as the engine hands it to the program: `cellplane:cells` ->
   * JSON string. Values that are `secure:` in the stack file are placeholders.
   */
  getAllConfig(): Promise<Record<string, string>>;
}

/** Options every engine operation takes. */
export interface EngineRunOptions {
  /** Receives every engine event (the Automation API's `EngineEvent`) as it happens. */
  onEvent?: (event: EngineEvent) => void;
  /** Cancels the operation: the engine is interrupted (SIGINT) and the call rejects. */
  signal?: AbortSignal;
}

export interface UpdateRunOptions extends EngineRunOptions {
  /** Policy pack directories, passed to the engine as `--policy-pack`. */
  policyPacks?: string[];
  /** Their config files, passed as `--policy-pack-config` (one per pack, in order). */
  policyPackConfigs?: string[];
}

export interface DestroyRunOptions extends EngineRunOptions {
  /** URNs to destroy; nothing else is touched (except dependents, see `targetDependents`). */
  target: string[];
  /** Also destroy resources that depend on a target, wherever they are. */
  targetDependents: boolean;
}

/** One resource of the stack's state (its last deployment). */
export interface StateResource {
  urn: string;
  type: string;
  /** Parent URN, or null for the stack itself. */
  parent: string | null;
  /** The `protect` bit: the engine refuses to delete the resource while it is set. */
  protect: boolean;
}

/** A stack behind the engine: config writes, preview, up, destroy, state. */
export interface StackBackend extends StackConfigReader {
  /**
   * The control-plane lease of this stack (automation/lease.ts), if the backend
   * brings one: `addCell` and `retireCell` hold it for their whole run unless the
   * caller passes its own.
   */
  readonly lease?: StackLease;
  /** The project directory the stack's program runs from, when there is one: its `policies/` is the default policy gate. */
  readonly workDir?: string;
  /** `pulumi config set [--path] key value`. With `path`, "true"/"false" and integers are stored typed, as the CLI does. */
  setConfig(key: string, value: string, options: { path: boolean }): Promise<void>;
  /** `pulumi config rm [--path] key`. */
  removeConfig(key: string, options: { path: boolean }): Promise<void>;
  /** `pulumi preview`: the changes an `up` would make. */
  preview(options: UpdateRunOptions): Promise<{ changeSummary: OpMap }>;
  /** `pulumi up`. */
  up(options: UpdateRunOptions): Promise<{ resourceChanges: OpMap }>;
  /** `pulumi destroy --preview-only --target ...`. */
  previewDestroy(options: DestroyRunOptions): Promise<{ changeSummary: OpMap }>;
  /** `pulumi destroy --target ...`. */
  destroy(options: DestroyRunOptions): Promise<{ resourceChanges: OpMap }>;
  /** The resources of the stack's last deployment (`pulumi stack export`). */
  listResources(): Promise<StateResource[]>;
  /** `pulumi state protect|unprotect --yes <urn>...`. */
  setProtected(urns: string[], protect: boolean): Promise<void>;
}

/**
 * Offline config of a stack: `Pulumi.<stack>.yaml` in the project directory, read
 * the way the Pulumi CLI flattens it (the same reader `cellctl plan` uses).
 */
export class StackFileConfig implements StackConfigReader {
  /**
   * @param name stack name; the file is `Pulumi.<name>.yaml`
   * @param dir project directory (default: this project's root)
   */
  constructor(
    public readonly name: string,
    public readonly dir: string = PROJECT_DIR,
  ) {}

  async getAllConfig(): Promise<Record<string, string>> {
    try {
      return loadStackFile(this.name, this.dir).config;
    } catch (err) {
      throw err instanceof StackFileError ? new UserError(err.message) : err;
    }
  }
}
