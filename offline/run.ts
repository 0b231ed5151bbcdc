import * as pulumi from "@pulumi/pulumi";
import { MockOptions, StrictMocks } from "./mocks";
import { Registration } from "./registration";

export type { Registration };

/*
 * Runs the real program under Pulumi's mocks and records every registration the
 * way the engine would see it: URN, type, name, parent, inputs (references resolved
 * to mocked ids), dependencies, protect, provider, aliases.
 */

export interface RunResult {
  registrations: Registration[];
  /** Stack outputs as serialized for the engine: secrets are wrapped in Pulumi's secret envelope (see unwrapSecrets). */
  outputs: Record<string, any>;
  /** The tokens of the provider functions the program invoked, once per call, in call order: what a real run asks the cloud. */
  invokes: string[];
}

export interface RunOptions extends MockOptions {
  stack: string;
  /** Flat config as the engine passes it: "cellplane:cells" -> JSON string. */
  config: Record<string, string>;
  secretKeys?: string[];
  program: () => Promise<Record<string, unknown>>;
  /**
   * Record each registration's inputs and computed outputs (default true). The benchmark
   * turns it off for its large runs: it needs only URNs and dependencies, and deserializing
   * and holding 14,000 resources' inputs is the runner's cost, not the program's.
   */
  recordInputs?: boolean;
}

/** The subset of the mock monitor's RPC surface we wrap; its request objects are the engine's protobufs. */
interface MonitorLike {
  newUrn(parent: string, type: string, name: string): string;
  registerResourceOutputs(req: { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, any> } | undefined }, cb: (err: Error | null, resp?: unknown) => void): void;
  registerResource(req: RegisterRequest, cb: (err: Error | null, resp?: { getUrn(): string; getId(): string; getObject?(): unknown }) => void): void;
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getObject(): Parameters<typeof pulumi.runtime.deserializeProperties>[0];
  getDependenciesList(): string[];
  getProtect(): boolean;
  getProvider(): string;
  getIgnorechangesList(): string[];
  getAliasesList(): { getUrn(): string; hasSpec?(): boolean; getSpec?(): { getName(): string; getType(): string } }[];
}

/** The run in progress: runs are sequential (Pulumi's runtime state is global), so a second one waits for it. */
let previous: Promise<unknown> = Promise.resolve();

export function runProgram(opts: RunOptions): Promise<RunResult> {
  const run = previous.then(() => runOne(opts));
  previous = run.catch(() => undefined);
  return run;
}

async function runOne(opts: RunOptions): Promise<RunResult> {
  // The program turns off the stack Pulumi records per promise (cells/program.ts, as under
  // `pulumi up`); the test process gets its own setting back afterwards.
  const stackTraceLimit = Error.stackTraceLimit;
  try {
    const strict = new StrictMocks(opts);
    const answer = opts.answer;
    const invokes: RunResult["invokes"] = [];
    const call = (args: pulumi.runtime.MockCallArgs) => {
      invokes.push(args.token);
      return strict.call(args);
    };
    const mocks: pulumi.runtime.Mocks = { newResource: answer ? (args) => answer(args, strict.newResource(args)) : (args) => strict.newResource(args), call };
    await pulumi.runtime.setMocks(mocks, "cellplane", opts.stack, false, "organization");
    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys);
    const monitor = pulumi.runtime.getMonitor() as unknown as MonitorLike;
    // The engine qualifies a type with its parent's whole type chain (the root stack
    // excepted); the mock monitor keeps only the parent's last type. URN snapshots,
    // policies and the control plane's blast-radius guard need the engine's URNs.
    monitor.newUrn = (parent, type, name) => {
      const parentType = parent ? parent.split("::")[2] : "pulumi:pulumi:Stack";
      const qualified = parentType === "pulumi:pulumi:Stack" || type === "pulumi:pulumi:Stack" ? type : `${parentType}$${type}`;
      return `urn:pulumi:${opts.stack}::cellplane::${qualified}::${name}`;
    };
    const registrations: Registration[] = [];
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      const entry: Registration = {
        urn: "",
        id: null,
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        parent: req.getParent() || null,
        inputs: opts.recordInputs === false ? {} : pulumi.runtime.deserializeProperties(req.getObject()),
        dependencies: req.getDependenciesList(),
        protect: req.getProtect() === true,
        provider: req.getProvider() || null,
        ignoreChanges: req.getIgnorechangesList(),
        // A URN alias as is; a spec by its name, or by its type when it only renames the type.
        aliases: req.getAliasesList().map((a) => a.getUrn() || a.getSpec?.()?.getName() || a.getSpec?.()?.getType() || ""),
      };
      original(req, (err, resp) => {
        if (!err && resp) {
          entry.urn = resp.getUrn();
          entry.id = resp.getId() || null;
          const state = opts.recordInputs === false ? undefined : resp.getObject?.();
          if (state && entry.custom) {
            const out = pulumi.runtime.deserializeProperties(state as Parameters<typeof pulumi.runtime.deserializeProperties>[0]) as Record<string, unknown>;
            const computed = Object.fromEntries(Object.entries(out).filter(([k]) => !(k in entry.inputs) && k !== "name" && k !== "id"));
            if (Object.keys(computed).length > 0) entry.computed = computed;
          }
          registrations.push(entry);
        }
        // Answer on the next turn of the event loop: a mocked run is otherwise one long
        // chain of microtasks, and signals (Ctrl-C) and timers would wait for its end.
        setImmediate(() => cb(err, resp));
      });
    };
    // Stack outputs as the engine receives them: secrets keep their envelope.
    let outputs: Record<string, any> = {};
    const originalOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, cb) => {
      if (req.getUrn().includes("::pulumi:pulumi:Stack::")) outputs = req.getOutputs()?.toJavaScript() ?? {};
      originalOutputs(req, cb);
    };
    try {
      await pulumi.runtime.runInPulumiStack(opts.program);
    } catch (err) {
      // Tests assert what a failed run registered (an invalid config must register nothing).
      throw Object.assign(err as Error, { registrations: registrations.filter((r) => r.type !== "pulumi:pulumi:Stack") });
    }
    // Registrations still in flight (children registered from applies) finish here.
    await pulumi.runtime.disconnect();
    return { registrations: registrations.filter((r) => r.type !== "pulumi:pulumi:Stack"), outputs, invokes };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

// The secret helpers live in a module without Pulumi imports (the CLI's offline paths use them).
export { maskSecrets, unwrapSecrets } from "./secrets";
