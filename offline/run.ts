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
}

export interface RunOptions extends MockOptions {
  stack: string;
  /** Flat config as the engine passes it: "cellplane:cells" -> JSON string. */
  config: Record<string, string>;
  secretKeys?: string[];
  program: () => Promise<Record<string, unknown>>;
}

/** The subset of the mock monitor's RPC surface we wrap; its request objects are the engine's protobufs. */
interface MonitorLike {
  newUrn(parent: string, type: string, name: string): string;
  registerResourceOutputs(req: { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, any> } | undefined }, cb: (err: Error | null, resp?: unknown) => void): void;
  registerResource(req: RegisterRequest, cb: (err: Error | null, resp?: { getUrn(): string; getId(): string }) => void): void;
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
  getAliasesList(): { getUrn(): string; hasSpec?(): boolean; getSpec?(): { getName(): string } }[];
}

/** The run in progress: runs are sequential (Pulumi's runtime state is global), so a second one waits for it. */
let previous: Promise<unknown> = Promise.resolve();

export function runProgram(opts: RunOptions): Promise<RunResult> {
  const run = previous.then(() => runOne(opts));
  previous = run.catch(() => undefined);
  return run;
}

async function runOne(opts: RunOptions): Promise<RunResult> {
  // Pulumi records a stack trace for every promise and resource; under ts-node each
  // one is source-mapped, which made mocked runs of large regions 2-3x slower. The
  // program's own errors carry their messages, and user mistakes never print stacks.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    await pulumi.runtime.setMocks(new StrictMocks(opts), "cellplane", opts.stack, false, "organization");
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
        inputs: pulumi.runtime.deserializeProperties(req.getObject()),
        dependencies: req.getDependenciesList(),
        protect: req.getProtect() === true,
        provider: req.getProvider() || null,
        ignoreChanges: req.getIgnorechangesList(),
        aliases: req.getAliasesList().map((a) => a.getUrn() || a.getSpec?.()?.getName() || ""),
      };
      original(req, (err, resp) => {
        if (!err && resp) {
          entry.urn = resp.getUrn();
          entry.id = resp.getId() || null;
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
    return { registrations: registrations.filter((r) => r.type !== "pulumi:pulumi:Stack"), outputs };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** Pulumi's wire envelope of a secret value: {[SECRET_SIG_KEY]: SECRET_SIG, value}. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const isSecret = (v: any): boolean => v?.[SECRET_SIG_KEY] === SECRET_SIG;

/** Unwraps Pulumi's secret envelopes in deserialized values, reporting whether any were found. */
export function unwrapSecrets(value: any): { value: any; secret: boolean } {
  let secret = false;
  const walk = (v: any): any => {
    if (v && typeof v === "object") {
      if (isSecret(v)) {
        secret = true;
        return walk(v.value);
      }
      if (Array.isArray(v)) return v.map(walk);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return { value: walk(value), secret };
}

/** Replaces secret values with "[secret]", for output that is printed or written to files. */
export function maskSecrets(value: any): any {
  if (value && typeof value === "object") {
    if (isSecret(value)) return "[secret]";
    if (Array.isArray(value)) return value.map(maskSecrets);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v)]));
  }
  return value;
}
