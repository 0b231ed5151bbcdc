import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/*
 * Whether a tenant service's storage account still holds data, asked through the
 * management plane: the account's firewall admits only its cell's data-plane
 * subnets (and no trusted-service bypass), so a data-plane listing from the control
 * plane would be refused. Azure Monitor's BlobCount metric of the account's blob
 * service is a platform metric, readable with Monitoring Reader, and counts
 * soft-deleted blobs and versions too. It is emitted about hourly: keep a service
 * in `removing` for longer than that before the destroy, which is what the
 * two-phase remove is for.
 * https://learn.microsoft.com/azure/storage/blobs/monitor-blob-storage-reference (BlobCount, BlobCapacity)
 */
export async function azureStorageHoldsData(outputs: Record<string, unknown>): Promise<boolean> {
  const storage = outputs.storage as { accountId?: string } | undefined;
  const accountId = storage?.accountId;
  if (typeof accountId !== "string") throw new Error("the service stack has no storage.accountId output; run `cellctl services add --id <id>` to converge it first");
  const { stdout } = await run("az", [
    "monitor", "metrics", "list",
    "--resource", `${accountId}/blobServices/default`,
    "--metric", "BlobCount",
    "--interval", "PT1H",
    "--offset", "1d",
    "--aggregation", "Average",
    "-o", "json",
  ]);
  const doc = JSON.parse(stdout) as { value?: { timeseries?: { data?: { average?: number | null }[] }[] }[] };
  const points = (doc.value ?? []).flatMap((m) => m.timeseries ?? []).flatMap((t) => t.data ?? []).map((d) => d.average).filter((v): v is number => typeof v === "number");
  // No data point at all: the metric is not there yet (a fresh account); say "holds data" rather than guess empty.
  if (points.length === 0) return true;
  return points[points.length - 1] > 0;
}
