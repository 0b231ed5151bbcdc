import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import Table from "cli-table3";
import { parse } from "yaml";
import { PROJECT_DIR } from "../offline/stackfile";
import { ENGINE_PARALLEL, REGION_PARALLEL } from "../automation/parallelism";
import { ARM_WRITES, azureWrites, cellGraph, CLUSTER_WITH_POOLS_EXTRA_SECONDS, criticalPath, deployGraph, DURATION_SECONDS, simulate, slotsWithin, withoutSerialization } from "./deploy";
import { BareRegistration } from "./stack";

/*
 * `npm run bench`: how the program scales with the number of cells of an Azure region.
 * For each N it runs, each in its own child process (peak memory is per process):
 *   - the real program under the strict mocks with N cells (bench/stack.ts builds the config),
 *   - the same-types floor: the same SDK classes and inputs, constructed directly under trivial mocks,
 *   - the bare floor: as many input-less custom resources under trivial mocks.
 * Then the deploy model (bench/deploy.ts) over the largest plan's dependency graph.
 *
 *   npm run bench                      N = 1, 10, 50, 100
 *   npm run bench -- --cells 1,10      other sizes
 *   npm run bench -- --runs 1          rounds per size (default 3: medians of wall time, of peak memory and of the
 *                                      per-round ratios; a round runs the program and both floors back to back)
 *
 * It is a benchmark, not a test: figures depend on the machine and its load.
 */

interface Measure {
  resources: number;
  runMs: number;
  loadMs: number;
  baseRssMb: number;
  maxRssMb: number;
  heapUsedMb: number;
}

/** The heap flag `pulumi up` gives the program (Pulumi.yaml runtime.options.nodeargs): the children run under it too. */
function pulumiNodeArgs(): string[] {
  const doc = parse(readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as { runtime?: { options?: { nodeargs?: string } } };
  return (doc.runtime?.options?.nodeargs ?? "").split(/\s+/).filter(Boolean);
}

function worker(args: string[]): Measure {
  const child = spawnSync(process.execPath, [...pulumiNodeArgs(), "-r", "ts-node/register/transpile-only", path.join(__dirname, "worker.ts"), ...args], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    maxBuffer: 64 * 2 ** 20,
  });
  if (child.status !== 0) {
    throw new Error(`bench worker ${args.join(" ")} failed (${child.signal ?? child.status}):\n${child.stderr.split("\n").slice(-15).join("\n")}`);
  }
  return JSON.parse(child.stdout.trim().split("\n").pop()!) as Measure;
}

type Summary = Measure & { spreadMs: [number, number] };

const mid = <T>(xs: T[], by: (x: T) => number): T => [...xs].sort((a, b) => by(a) - by(b))[Math.floor(xs.length / 2)];

/** Median of the runs' wall times and, separately, of their peak memory: one figure per measure, less at the mercy of the machine's load. */
function summary(all: Measure[]): Summary {
  const times = all.map((m) => m.runMs);
  return { ...mid(all, (m) => m.runMs), maxRssMb: mid(all, (m) => m.maxRssMb).maxRssMb, spreadMs: [Math.min(...times), Math.max(...times)] };
}

/** The median of per-round ratios and their range: "1.21 (1.15-1.30)". */
function ratio(xs: number[]): string {
  return `${mid(xs, (x) => x).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
}

const s = (ms: number) => (ms / 1000).toFixed(1);
const minutes = (sec: number) => `${sec} s (${(sec / 60).toFixed(1)} min)`;

function main(): void {
  const at = process.argv.indexOf("--cells");
  const sizes = at > 0 ? process.argv[at + 1].split(",").map(Number) : [1, 10, 50, 100];
  if (!sizes.includes(1)) sizes.unshift(1);
  const runsAt = process.argv.indexOf("--runs");
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`bench: --runs takes a whole number of runs (1 or more), not ${process.argv[runsAt + 1]}`);
  const dir = mkdtempSync(path.join(tmpdir(), "cellplane-bench-"));
  const file = (n: number) => path.join(dir, `registrations-${n}.json`);
  process.stdout.write(`cellplane bench: Azure region (Pulumi.prod-azure.yaml, /17 cells from its pool), node ${process.version}, ${pulumiNodeArgs().join(" ")}, medians of ${runs} paired rounds\n\n`);
  const rows: { n: number; program: Summary; types: Summary; bare: Summary; xTypes: number[]; xBare: number[] }[] = [];
  try {
    // A recording of one cell first (not measured): its SDK classes are loaded before each
    // measured program run's clock, as the types floor does (bench/worker.ts).
    worker(["program", "1", file(1)]);
    for (const n of sizes) {
      // Paired rounds: each round runs the program and both floors back to back, so a burst of
      // load on this shared machine hits a round's three runs alike; the ratios are per round
      // (their median and range), not of medians taken minutes apart.
      const rounds = Array.from({ length: runs }, () => {
        const program = worker(["program", String(n), file(n), file(1)]);
        return { program, types: worker(["types", String(n), file(1)]), bare: worker(["bare", String(program.resources)]) };
      });
      const [program, types, bare] = (["program", "types", "bare"] as const).map((k) => summary(rounds.map((r) => r[k])));
      const xTypes = rounds.map((r) => r.program.runMs / r.types.runMs);
      const xBare = rounds.map((r) => r.program.runMs / r.bare.runMs);
      rows.push({ n, program, types, bare, xTypes, xBare });
      const spread = (m: Summary) => `${s(m.runMs)} s (${s(m.spreadMs[0])}-${s(m.spreadMs[1])})`;
      process.stderr.write(`  ${n} cells: ${program.resources} resources, program ${spread(program)}, ${program.maxRssMb} MB; same-types floor ${spread(types)}; bare floor ${spread(bare)}; per round x types ${ratio(xTypes)}, x bare ${ratio(xBare)}\n`);
    }

    const table = new Table({
      head: ["cells", "resources", "plan wall", "peak RSS", "ms / resource", "KB / resource", "same-types floor", "x types", "bare floor", "x bare"],
      style: { head: [], border: [] },
    });
    for (const { n, program, types, bare, xTypes, xBare } of rows) {
      table.push([
        n,
        program.resources,
        `${s(program.runMs)} s`,
        `${program.maxRssMb} MB`,
        (program.runMs / program.resources).toFixed(2),
        Math.round(((program.maxRssMb - program.baseRssMb) * 1024) / program.resources),
        `${s(types.runMs)} s, ${types.maxRssMb} MB`,
        ratio(xTypes),
        `${s(bare.runMs)} s, ${bare.maxRssMb} MB`,
        ratio(xBare),
      ]);
    }
    process.stdout.write(table.toString() + "\n");
    process.stdout.write(
      "plan wall: the program's run (module loading excluded: the Azure build face and a cell's SDK classes are loaded first); KB / resource: peak RSS above the loaded process, per resource.\n" +
        "same-types floor: the same SDK classes and inputs under trivial mocks; bare floor: as many input-less resources.\n" +
        `x types, x bare: the program's time over the floor's in each round (a round runs the three back to back), median and range of ${runs} rounds.\n\n`,
    );
    const first = rows.find((r) => r.n === 10) ?? rows[0];
    const last = rows[rows.length - 1];
    const perMs = (r: (typeof rows)[number]) => r.program.runMs / r.program.resources;
    const perKb = (r: (typeof rows)[number]) => (r.program.maxRssMb - r.program.baseRssMb) / r.program.resources;
    process.stdout.write(
      `growth ${first.n} -> ${last.n} cells: time per resource x${(perMs(last) / perMs(first)).toFixed(2)}, memory per resource x${(perKb(last) / perKb(first)).toFixed(2)} (goal <= 1.2)\n\n`,
    );

    // Deploy model over the largest plan. The inherent chain is a cell's with its pools as
    // separate resources and no edge that only serializes writes (network, NAT, cluster, one
    // pool, add-ons): what a cell would take if the cloud took every write at once.
    const regs = JSON.parse(readFileSync(file(last.n), "utf8")) as BareRegistration[];
    const region = deployGraph(regs);
    const cell = cellGraph(region, "c001");
    const cellPath = criticalPath(cell);
    worker(["program-separate", "1", file(0)]);
    const separate = cellGraph(deployGraph(JSON.parse(readFileSync(file(0), "utf8")) as BareRegistration[]), "c001");
    const separatePath = criticalPath(separate);
    const inherent = criticalPath(withoutSerialization(separate));
    const regionPath = criticalPath(region);
    process.stdout.write(`deploy model (bench/deploy.ts; cluster ${DURATION_SECONDS["azure-native:containerservice:ManagedCluster"]} s, +${CLUSTER_WITH_POOLS_EXTRA_SECONDS} s with its pools, agent pool ${DURATION_SECONDS["azure-native:containerservice:AgentPool"]} s, NAT ${DURATION_SECONDS["azure-native:network:NatGateway"]} s, subnet ${DURATION_SECONDS["azure-native:network:Subnet"]} s, Helm release ${DURATION_SECONDS["kubernetes:helm.sh/v3:Release"]} s):\n`);
    process.stdout.write(`  inherent chain of a cell: ${minutes(inherent.seconds)}; a cell with separate pools (azure.separatePools): ${minutes(separatePath.seconds)}, ratio ${(separatePath.seconds / inherent.seconds).toFixed(2)}\n`);
    process.stdout.write(`  one cell's critical path (pools with the cluster, what a new cell gets): ${minutes(cellPath.seconds)}; ratio ${(cellPath.seconds / inherent.seconds).toFixed(2)} (goal <= 1.25)\n`);
    process.stdout.write(`  region of ${last.n} cells, unbounded parallelism: ${minutes(regionPath.seconds)}; ratio to one cell ${(regionPath.seconds / cellPath.seconds).toFixed(2)} (goal <= 1.05)\n`);
    process.stdout.write(`  one cell's path: ${cellPath.chain.map((c) => `${c.urn.split("::").pop()} @${c.finish}`).join(" -> ")}\n\n`);

    const slotsRow = [ENGINE_PARALLEL, 64, REGION_PARALLEL, 256];
    const sim = new Table({
      head: ["cells", "resources", ...slotsRow.map((p) => `--parallel ${p}${p === ENGINE_PARALLEL ? " (cellctl)" : p === REGION_PARALLEL ? " (README)" : ""}`), "unbounded", "unbounded, no ARM limit", "slots for <= 1.05x"],
      style: { head: [], border: [] },
    });
    for (const { n } of rows) {
      const graph = n === last.n ? region : deployGraph(JSON.parse(readFileSync(file(n), "utf8")) as BareRegistration[]);
      sim.push([
        n,
        graph.size,
        ...slotsRow.map((p) => `${simulate(graph, p, azureWrites)} s`),
        `${simulate(graph, Infinity, azureWrites)} s`,
        `${criticalPath(graph).seconds} s`,
        slotsWithin(graph, 1.05, azureWrites),
      ]);
    }
    process.stdout.write(
      `engine parallelism simulation (makespan of a deploy from scratch; ready resources start in registration order; Azure Resource Manager writes: bucket ${ARM_WRITES.bucket}, refill ${ARM_WRITES.refillPerSecond}/s):\n` +
        sim.toString() +
        "\n",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
