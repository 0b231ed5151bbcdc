import { writeFileSync, readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { Registration, runProgram, unwrapSecrets } from "../offline/run";
import { registerAliasTransformation } from "../cells/aliases";
import { azureStackWithCells, BareRegistration } from "./stack";

/*
 * One measurement, in its own process so that peak memory (maxRSS) belongs to it alone.
 * `npm run bench` (bench/run.ts) spawns this file once per (mode, N):
 *
 *   program <N> <out.json> [<one.json>]
 *                                 the real program under the strict mocks, N Azure cells; with the 1-cell
 *                                 recording, its SDK classes and the Azure build face are loaded before the
 *                                 clock, as the types floor resolves its classes (module loading is not
 *                                 per-resource cost)
 *   program-separate <N> <out>    the same, every cell's pools as separate AgentPools (deploy reference)
 *   types <N> <in.json>           the same resource types and inputs (a 1-cell run replicated N times),
 *                                 constructed directly under trivial mocks: the SDK's own cost, no program code
 *   bare <count>                  <count> bare custom resources under trivial mocks: the engine-protocol floor
 *
 * It prints one JSON line: { resources, runMs, loadMs, baseRssMb, maxRssMb, heapUsedMb }.
 */

const loadStart = performance.now();

/** Trivial mocks: echo the inputs, no ids worth the name. */
const trivialMocks: pulumi.runtime.Mocks = {
  newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
  call: () => ({}),
};

/** A custom resource with no inputs and no aliases. */
class Bare extends pulumi.CustomResource {
  constructor(name: string) {
    super("bench:index:Bare", name, {});
  }
}

// The module is chosen by the type token at run time, the way the SDK lays them out.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (module: string): any => require(module);

/** The SDK class that registers a type token, looked up the way the SDK's modules are laid out. */
function constructorFor(type: string): new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.Resource {
  const [pkg, mod, kind] = type.split(":");
  if (type === "pulumi:providers:kubernetes") return load("@pulumi/kubernetes").Provider;
  if (pkg === "azure-native") return load(`@pulumi/azure-native/${mod}`)[kind];
  if (pkg === "tls") return load("@pulumi/tls")[kind];
  // @pulumiverse/time (grant-propagation waits): "time:index/sleep:Sleep".
  if (pkg === "time") return load("@pulumiverse/time")[kind];
  if (pkg === "kubernetes") {
    const k8s = load("@pulumi/kubernetes");
    const [group, version] = mod.split("/");
    const ns = group === "helm.sh" ? "helm" : group.split(".")[0];
    const cls = k8s[ns]?.[version]?.[kind];
    // Custom resources (cert-manager, Istio CRDs) go through the generic class, as in the program.
    return cls ?? k8s.apiextensions.CustomResource;
  }
  throw new Error(`bench: no SDK class for ${type}`);
}

async function measure(run: () => Promise<number>): Promise<void> {
  const loadMs = performance.now() - loadStart;
  // What the process holds before the run (Node, the SDKs, ts-node): subtracted for the per-resource figure.
  const baseRssMb = process.memoryUsage().rss / 2 ** 20;
  const start = performance.now();
  const resources = await run();
  const runMs = performance.now() - start;
  const mem = process.memoryUsage();
  process.stdout.write(
    JSON.stringify({ resources, runMs: Math.round(runMs), loadMs: Math.round(loadMs), baseRssMb: Math.round(baseRssMb), maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), heapUsedMb: Math.round(mem.heapUsed / 2 ** 20) }) + "\n",
  );
}

async function trivialRun(register: () => Promise<void>): Promise<void> {
  // As in the program (cells/program.ts) and the offline runner: no stack per promise.
  Error.stackTraceLimit = 0;
  await pulumi.runtime.setMocks(trivialMocks, "cellplane", "bench", false, "organization");
  await pulumi.runtime.runInPulumiStack(async () => {
    await register();
    return {};
  });
  await pulumi.runtime.disconnect();
}

async function main(): Promise<void> {
  const [mode, n, file, preload] = process.argv.slice(2);
  const count = Number(n);
  if (mode === "program" || mode === "program-separate") {
    const { program } = await import("../cells/program");
    if (preload) {
      // The same modules the types floor loads before its clock (the SDK classes of a cell,
      // loaded lazily by the SDK's module indexes), and the Azure build face (loaded on
      // demand by providers/index.ts). Without it the timed run included ~0.5 s of
      // requiring and transpiling (CPU profile, 10 cells), which the floor does not pay.
      const { loadProvider } = await import("../providers");
      await loadProvider("azure");
      for (const r of JSON.parse(readFileSync(preload, "utf8")) as BareRegistration[]) if (r.custom) constructorFor(r.type);
    }
    // The config is the harness's work (carving N blocks from the pool, as `cellctl cells add`
    // proposes them one at a time), not the program's: made before the clock.
    // program-separate: every cell with separate AgentPools (the deploy model's reference).
    const config = azureStackWithCells(count, { separatePools: mode === "program-separate" });
    let registrations: Registration[] = [];
    await measure(async () => {
      // Inputs are recorded for the 1-cell run only (the types floor replays them); the
      // deploy model needs URNs and dependencies, which every run records.
      registrations = (await runProgram({ stack: "bench-azure", config, program, recordInputs: count === 1 })).registrations;
      return registrations.length;
    });
    // After the clock and the figures: serializing 14,500 registrations is the harness's work
    // (0.5 s of the timed run at 100 cells when it was inside, a CPU profile showed).
    // Inputs only for the 1-cell run (the types floor replays them); the graph for every N.
    if (file) writeFileSync(file, JSON.stringify(registrations.map((r) => ({ ...slim(r), inputs: count === 1 ? r.inputs : {} }))));
  } else if (mode === "types") {
    const one = JSON.parse(readFileSync(file, "utf8")) as BareRegistration[];
    // Resolve the classes before timing: module loading is not per-resource cost.
    const classes = new Map(one.filter((r) => r.custom).map((r) => [r.type, constructorFor(r.type)]));
    await measure(async () => {
      let made = 0;
      await trivialRun(async () => {
        // The program's own stack transformation (cells/aliases.ts) applies here too: the
        // floor is the SDK classes as this project uses them, not with 100+ aliases each.
        registerAliasTransformation();
        for (let i = 0; i < count; i++) {
          for (const r of one) {
            // Region-level resources exist once; the cell's are replicated per cell.
            if (!r.cell && i > 0) continue;
            if (!r.custom) continue;
            const Cls = classes.get(r.type)!;
            new Cls(`${r.name}-${i}`, unwrapSecrets(r.inputs).value);
            made++;
          }
          // One cell per event-loop turn, as Region.build registers them.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      });
      return made;
    });
  } else if (mode === "bare") {
    await measure(async () => {
      await trivialRun(async () => {
        for (let i = 0; i < count; i++) {
          new Bare(`bare-${i}`);
          // In batches of a cell's size (~140), as Region.build registers them.
          if (i % 140 === 139) await new Promise<void>((resolve) => setImmediate(resolve));
        }
      });
      return count;
    });
  } else {
    throw new Error(`bench worker: unknown mode ${mode}`);
  }
}

/** What the deploy model and the types floor need of a registration. */
function slim(r: Registration): BareRegistration {
  return {
    urn: r.urn,
    type: r.type,
    name: r.name,
    custom: r.custom,
    cell: r.urn.includes("cellplane:cells:Cell$"),
    inputs: r.inputs,
    dependencies: r.dependencies,
    provider: r.provider,
    aliases: r.aliases.length,
  };
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
