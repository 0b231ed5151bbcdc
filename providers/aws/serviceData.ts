import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/*
 * Whether a tenant service's bucket still holds data, asked through CloudWatch
 * rather than S3: the bucket policy denies listing to every principal but the
 * service's own role and outside the cell's VPC endpoint (providers/aws/service.ts),
 * so a ListObjectVersions from the control plane would be refused. S3's daily
 * storage metric NumberOfObjects (namespace AWS/S3, StorageType AllStorageTypes)
 * is free, readable with cloudwatch:GetMetricStatistics, and counts current and
 * noncurrent versions, delete markers and the parts of incomplete multipart
 * uploads. It is emitted once a day: keep a service in `removing` for more than a
 * day before the destroy, which is what the two-phase remove is for.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html (Amazon S3 daily storage metrics for buckets)
 */

/** How far back the daily metric is read: three days, so one late or missing point does not read as "empty". */
const LOOKBACK_MS = 3 * 24 * 3600 * 1000;

export async function awsStorageHoldsData(outputs: Record<string, unknown>, now: () => Date = () => new Date()): Promise<boolean> {
  const bucket = (outputs.storage as { account?: unknown } | undefined)?.account;
  const region = (outputs.location as { region?: unknown } | undefined)?.region;
  if (typeof bucket !== "string" || typeof region !== "string") {
    throw new Error("the service stack has no storage.account or location.region output; run `cellctl services add --id <id>` to converge it first");
  }
  const end = now();
  const { stdout } = await run("aws", [
    "cloudwatch",
    "get-metric-statistics",
    "--region", region,
    "--namespace", "AWS/S3",
    "--metric-name", "NumberOfObjects",
    "--dimensions", `Name=BucketName,Value=${bucket}`, "Name=StorageType,Value=AllStorageTypes",
    "--start-time", new Date(end.getTime() - LOOKBACK_MS).toISOString(),
    "--end-time", end.toISOString(),
    "--period", "86400",
    "--statistics", "Average",
    "--output", "json",
  ]);
  const doc = JSON.parse(stdout) as { Datapoints?: { Timestamp?: string; Average?: number | null }[] };
  const points = (doc.Datapoints ?? [])
    .filter((d): d is { Timestamp: string; Average: number } => typeof d.Average === "number" && typeof d.Timestamp === "string")
    .sort((a, b) => a.Timestamp.localeCompare(b.Timestamp));
  // No data point: a fresh bucket, or one S3 reports no storage for. Say "holds data"
  // rather than guess empty; --delete-data is the operator's explicit word.
  if (points.length === 0) return true;
  return points[points.length - 1].Average > 0;
}
