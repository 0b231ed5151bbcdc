import { expect } from "chai";
import { SETTLE_MS } from "../cells/region";
import { program } from "../cells/program";
import { runProgram } from "../offline/run";
import { azureStackWithCells } from "../bench/stack";

/*
 * Issue 16: Region.build waits for a cell's registrations before building the next cell
 * only while the engine keeps answering; when it goes quiet for SETTLE_MS (it is creating
 * the resources) the next cell is built anyway. Here the engine is slow: every registration
 * that arrives in the first seconds of the run is answered only after DELAY_MS (as when
 * the cloud is creating it); later ones at once, so the run still ends quickly. If the wait
 * waited for answers, each cell would start at least DELAY_MS after the previous one; it
 * must start about SETTLE_MS (plus the time to construct a cell) after it, and before any
 * answer for the previous cell came back. Timestamps are taken when the engine receives
 * each registration.
 */

const CELLS = 4;
const DELAY_MS = 2_000;
/** Registrations arriving in this window after the first one are held for DELAY_MS. */
const SLOW_WINDOW_MS = 5_000;

describe("Region.build under a slow engine (issue 16)", function () {
  this.timeout(60_000);

  it(`starts all ${CELLS} cells' registrations a quiet period apart, not a registration answer apart`, async () => {
    const received: { cell: string; at: number }[] = [];
    const answered: { cell: string; at: number }[] = [];
    let first: number | undefined;
    const cellOf = (name: string) => /^(c\d{3})-/.exec(name)?.[1];
    await runProgram({
      stack: "prod-azure",
      config: azureStackWithCells(CELLS),
      program,
      answer: async (args, result) => {
        const now = Date.now();
        first ??= now;
        const cell = cellOf(args.name);
        if (cell) received.push({ cell, at: now });
        if (args.custom && now - first < SLOW_WINDOW_MS) await new Promise((r) => setTimeout(r, DELAY_MS));
        if (cell && args.custom) answered.push({ cell, at: Date.now() });
        return result;
      },
    });
    const ids = Array.from({ length: CELLS }, (_, i) => `c${String(i + 1).padStart(3, "0")}`);
    const started = ids.map((id) => Math.min(...received.filter((r) => r.cell === id).map((r) => r.at)));
    const firstAnswer = ids.map((id) => Math.min(...answered.filter((r) => r.cell === id).map((r) => r.at)));
    const gaps = started.slice(1).map((t, i) => t - started[i]);
    process.stdout.write(`      cell starts (ms after the first): ${started.map((t) => t - started[0]).join(", ")}; gaps ${gaps.join(", ")}\n`);
    for (let i = 1; i < CELLS; i++) {
      // Built while the engine still held every resource registration of the previous cell
      // (components are answered at once, as the engine does).
      expect(started[i], `${ids[i]} started after an answer for ${ids[i - 1]}`).to.be.below(firstAnswer[i - 1]);
      expect(gaps[i - 1], `${ids[i - 1]} -> ${ids[i]}`).to.be.at.least(SETTLE_MS);
    }
    // About N quiet periods in all (with the time to construct a cell), far from N delays.
    expect(started[CELLS - 1] - started[0]).to.be.below((CELLS - 1) * (SETTLE_MS + 750));
    expect(started[CELLS - 1] - started[0]).to.be.below((CELLS - 1) * DELAY_MS);
  });
});
