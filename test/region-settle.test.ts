import { expect } from "chai";
import { SETTLE_MS } from "../cells/region";
import { program } from "../cells/program";
import { runProgram } from "../offline/run";
import { azureStackWithCells } from "../bench/stack";

/*
 * Issue 16: Region.build waits for a cell's registrations before building the next cell
 * only while the engine keeps answering; when it goes quiet for SETTLE_MS (it is creating
 * the resources) the next cell is built anyway. Here the engine is slow: it answers no
 * resource registration of any cell until every cell has started registering (or HOLD_MS
 * has passed: a wait that waited for answers would only get them then), as when the cloud
 * is creating them; components and region-level registrations are answered at once. Timestamps are taken when
 * the engine receives each registration, so the time to construct a cell (which grows
 * with the machine's load) is measured apart from the wait: each cell must start within
 * a fraction of a second of the previous cell's last registration, and before any answer.
 */

const CELLS = 4;
/** The longest the engine holds its answers; a serializing wait would start cells only after it. */
const HOLD_MS = 8_000;
/**
 * The longest wait allowed before a cell: a fraction of a second (the quiet period, its
 * timer's granularity and the event-loop lag of a loaded machine), whatever the engine's
 * answer time; 100 cells must start within a minute or so.
 */
const MAX_WAIT_MS = 1_250;

describe("Region.build under a slow engine (issue 16)", function () {
  this.timeout(60_000);

  it(`starts all ${CELLS} cells' registrations a quiet period apart while the engine answers none`, async () => {
    const ids = Array.from({ length: CELLS }, (_, i) => `c${String(i + 1).padStart(3, "0")}`);
    const received: { cell: string; at: number }[] = [];
    const answered: { cell: string; at: number }[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let timer: NodeJS.Timeout | undefined;
    const cellOf = (name: string) => /^(c\d{3})-/.exec(name)?.[1];
    await runProgram({
      stack: "prod-azure",
      config: azureStackWithCells(CELLS),
      program,
      answer: async (args, result) => {
        const cell = cellOf(args.name);
        // Region-level registrations (the stack's reference to its last outputs, the
        // region's DNS zone) are answered at once: the program reads them before any cell.
        if (!cell) return result;
        timer ??= setTimeout(release, HOLD_MS);
        received.push({ cell, at: Date.now() });
        if (ids.every((id) => received.some((r) => r.cell === id))) release();
        if (args.custom) {
          await released;
          answered.push({ cell, at: Date.now() });
        }
        return result;
      },
    });
    clearTimeout(timer);
    const started = ids.map((id) => Math.min(...received.filter((r) => r.cell === id).map((r) => r.at)));
    const firstAnswer = ids.map((id) => Math.min(...answered.filter((r) => r.cell === id).map((r) => r.at)));
    // The wait before cell i: from the previous cell's last registration (before cell i started) to cell i's first.
    const waits = ids.slice(1).map((_, i) => started[i + 1] - Math.max(...received.filter((r) => r.cell === ids[i] && r.at <= started[i + 1]).map((r) => r.at)));
    process.stdout.write(`      cell starts (ms after the first): ${started.map((t) => t - started[0]).join(", ")}; waits ${waits.join(", ")}\n`);
    for (let i = 1; i < CELLS; i++) {
      // Built while the engine still held every resource registration of the previous cell.
      expect(started[i], `${ids[i]} started after an answer for ${ids[i - 1]}`).to.be.at.most(firstAnswer[i - 1]);
      expect(waits[i - 1], `wait before ${ids[i]}`).to.be.within(0, MAX_WAIT_MS);
    }
    // All cells started before the engine gave up holding: N quiet periods plus construction.
    expect(started[CELLS - 1] - started[0]).to.be.below(HOLD_MS);
    expect(SETTLE_MS).to.be.below(MAX_WAIT_MS);
  });
});
