/**
 * The control plane's library for region stacks: list, plan, add and retire
 * cells through the Pulumi Automation API, and run an operation over many
 * region stacks. `cellctl` (bin/cellctl.ts) is a CLI over it.
 *
 * Offline (no Pulumi CLI): `listCells`, `describeRegion`, `prepareAddCell`,
 * `planAddCell` over a `StackConfigReader` such as `StackFileConfig`.
 * Through the engine: `addCell`, `retireCell` over a `StackBackend`:
 * `openStack(name)` for the real one, `InMemoryStack` for tests. Each runs whole
 * under the stack's lease (`StackLease`, automation/lease.ts: a file lock by default,
 * or a lease from the coordination service a distributed control plane runs).
 *
 * @example
 * import { addCell, openStack, planAddCell, StackFileConfig } from "./automation";
 * const plan = await planAddCell(new StackFileConfig("prod-azure"));   // c004, 10.67.0.0/16, its resources
 * const done = await addCell(openStack("prod-azure"), { id: plan.cell.id, cidr: plan.cell.cidr }, {
 *   onProgress: (p) => console.log(p.phase, `${p.done}/${p.total}`, p.current ?? ""),
 * });
 */
export * from "./backend";
export * from "./cells";
export * from "./errors";
export * from "./guard";
export * from "./lease";
export * from "./memory";
export * from "./operations";
export * from "./parallelism";
export * from "./progress";
export * from "./pulumi";
export * from "./regions";
export * from "./retry";
export * from "./services";
export * from "./throttling";
export * from "./servicesPulumi";
