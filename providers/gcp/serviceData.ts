import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/*
 * Whether a tenant service's bucket still holds data: `gcloud storage ls
 * --all-versions gs://<bucket>` lists its objects (noncurrent ones too) with the
 * control plane's own credentials. Unlike S3 here, nothing on the bucket denies a
 * project-level storage role, so the operator's project access suffices
 * (storage.objects.list). One line of output is enough to say "holds data"; soft-
 * deleted objects are not counted (they go with the bucket, as a delete intends).
 * https://cloud.google.com/sdk/gcloud/reference/storage/ls
 */
export async function gcpStorageHoldsData(outputs: Record<string, unknown>): Promise<boolean> {
  const bucket = (outputs.storage as { account?: unknown } | undefined)?.account;
  const project = (outputs.location as { project?: unknown } | undefined)?.project;
  if (typeof bucket !== "string" || typeof project !== "string") {
    throw new Error("the service stack has no storage.account or location.project output; run `cellctl services add --id <id>` to converge it first");
  }
  const { stdout } = await run("gcloud", ["storage", "ls", "--all-versions", `--project=${project}`, `gs://${bucket}`], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim().length > 0;
}
