/*
 * The engine's parallelism (`pulumi up --parallel`), decided rather than left to the
 * CLI's default. Sized by `npm run bench` (bench/deploy.ts: the plan's dependency graph
 * under a per-type duration model, with Azure Resource Manager's write bucket) and by
 * the cloud's documented write limits:
 *
 * - Azure Resource Manager throttles per subscription, principal and region with token
 *   buckets: writes 200, refilled at 10 per second; deletes 200 / 10; reads 250 / 25
 *   (learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
 *   regional token-bucket limits, 2024). Resource providers refuse concurrent writes on
 *   top (a VNET: one subnet write at a time; AKS pool creates in one VNET race on its
 *   ownership, Azure/AKS#4522), which the program's ordering serializes.
 * - What the providers retry: azure-native retries HTTP 429 throttling, honouring
 *   Retry-After, and does not count it against its retry limit (pulumi-azure-native#850);
 *   it does not retry 429 "RetryableError" from a concurrent write to the same VNET
 *   (pulumi-azure-native#3720, open) nor AnotherOperationInProgress (#903): the program
 *   chains a cell's subnet writes and a cluster's pool operations so neither happens.
 *   A failed update is safe to run again: it resumes where it stopped.
 *
 * In the model (`npm run bench`: Azure, writes limited by the bucket; figures of the
 * README's run, 145 resources a cell, pools created with the clusters): one cell needs 7
 * slots to deploy within 1.05x of its unbounded time (1,107 s) and 15 to reach it; 10 cells
 * need 68 (32: 1,413 s); 100 cells from scratch take 2,537 s at 200 slots, 2,528 s at 256 and
 * 1,472 s unbounded, where ARM's write refill, not the engine, is the limit. Each operation in flight is also polled
 * (reads: 25 per second refill); at 200 in flight and a poll every 10 s or slower that stays
 * under 20 reads per second.
 */

/**
 * What the control plane runs with: it adds or retires one cell per update, which needs
 * 15 slots; 32 keeps the example region (3 cells) within 1.05x of one cell from scratch (1.02x).
 */
export const ENGINE_PARALLEL = 32;

/**
 * What the README tells SREs to pass to `pulumi up` for a whole region (a new region, or a
 * recovery): as many slots as ARM's write bucket holds (200), so a burst of creates is
 * absorbed by the bucket and the refill paces the rest; 100 cells in about 42 minutes in the model.
 */
export const REGION_PARALLEL = 200;
