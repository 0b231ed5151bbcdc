import { expect } from "chai";
import { addCell, commandError, DEFAULT_THROTTLE_RETRY, InfraError, InMemoryStack, isInCell, isThrottled, LOCKED_STDERR, retireCell, throttlingMatch } from "../automation";
import { loadStackFile } from "../offline/stackfile";

/*
 * Issue 16: a deploy the cloud throttled is run again with backoff (automation/throttling.ts)
 * and does not fail the region; any other failure is not retried. Through the in-memory
 * stand-in of a stack: the update fails as the CLI reports a provider's error (a diagnostic
 * and "update failed"), after some resources are done, as a real throttled update does.
 */

const STACK = "prod-azure";
const azure = () => new InMemoryStack(STACK, { config: loadStackFile(STACK).config });

/** Provider messages as they are printed (sources in automation/throttling.ts). */
const THROTTLED = {
  azure:
    "azure-native:network:Subnet (c004-proxy-z2-pods):\n    error: creating subnet: RESPONSE 429: 429 Too Many Requests\n    ERROR CODE: RetryableError\n" +
    '    { "error": { "code": "RetryableError", "message": "A retryable error occurred.", "details": [ { "code": "RetryableErrorDueToAnotherOperation" } ] } }',
  azureArm: 'error: Status=429 Code="SubscriptionRequestsThrottled" Message="Number of requests for subscription exceeded the limit. Please try again after \'6\' seconds."',
  aws: "aws:eks:NodeGroup (c004-proxy-sys-a):\n    error: creating EKS Node Group: operation error EKS: CreateNodegroup, exceeded maximum number of attempts, 3, https response error StatusCode: 400, ThrottlingException: Rate exceeded",
  awsEc2: "aws:ec2:Subnet (c004-proxy-a-nodes): error: creating EC2 Subnet: RequestLimitExceeded: Request limit exceeded.",
  gcp: "gcp:container:NodePool (c004-proxy-user-a): error: googleapi: Error 429: Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute' of service 'container.googleapis.com', rateLimitExceeded",
  gcpRead: "error: googleapi: Error 403: Quota exceeded for quota group 'ReadGroup' and limit 'Read requests per user per 100 seconds' of service 'compute.googleapis.com'., rateLimitExceeded",
};
const NOT_THROTTLED = {
  azureQuota: "azure-native:containerservice:ManagedCluster (c004-proxy-aks): QuotaExceeded: Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota",
  azureVnet: 'azure-native:containerservice:AgentPool (c004-proxy-user-z1): error: Status: "SetVNetOwnershipFailed" Message: "Virtual network ... is in Updating state"',
  awsQuota: "aws:eks:NodeGroup (c004-proxy-user-a): error: VcpuLimitExceeded: You have requested more vCPU capacity than your current vCPU limit of 32 allows",
  gcpQuota: "gcp:container:NodePool (c004-proxy-user-a): error: googleapi: Error 403: Quota 'CPUS' exceeded. Limit: 24.0 in region europe-west4., quotaExceeded",
};

function fakeClock() {
  const slept: number[] = [];
  return { slept, sleep: async (ms: number) => void slept.push(ms), random: () => 0.5 };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

describe("automation: a deploy the cloud throttled (issue 16)", function () {
  this.timeout(180_000);

  it("tells the providers' throttling texts of the three clouds from quotas and other failures", () => {
    for (const [name, text] of Object.entries(THROTTLED)) expect(throttlingMatch(text), name).to.not.equal(undefined);
    expect(throttlingMatch(THROTTLED.azure)?.cloud).to.equal("azure");
    expect(throttlingMatch(THROTTLED.aws)?.cloud).to.equal("aws");
    expect(throttlingMatch(THROTTLED.gcp)?.cloud).to.equal("gcp");
    for (const [name, text] of Object.entries(NOT_THROTTLED)) expect(throttlingMatch(text), name).to.equal(undefined);
    // One failure that is not throttling among throttled ones: running again would fail again.
    expect(isThrottled(commandError("error: update failed"), [THROTTLED.azure, "error: update failed"])).to.equal(true);
    expect(isThrottled(commandError("error: update failed"), [THROTTLED.azure, NOT_THROTTLED.azureQuota])).to.equal(false);
    // Without diagnostics, the CLI's own text decides; a locked stack has its own retry.
    expect(isThrottled(commandError(`error: update failed\n${THROTTLED.gcpRead}`), [])).to.equal(true);
    expect(isThrottled(commandError(LOCKED_STDERR.cloud), [])).to.equal(false);
  });

  it("runs a throttled update again, which continues where it stopped: the cell is up, one retry reported", async () => {
    const stack = azure().failUpAfter(20, THROTTLED.azure);
    const clock = fakeClock();
    const notes: string[] = [];
    const r = await addCell(stack, { id: "c004" }, { retry: clock, onProgress: (p) => p.phase === "retry" && notes.push(p.message ?? "") });
    expect(r.throttleRetries).to.equal(1);
    expect(r.attempts).to.equal(1);
    expect(stack.calls.map((c) => c.method).filter((m) => m === "preview" || m === "up")).to.deep.equal(["preview", "up", "up"]);
    // The second update created only what the first had not: 20 were done before the 429.
    const mine = (await stack.urns()).filter((u) => isInCell(u, "c004"));
    expect(mine.length).to.be.greaterThan(100);
    expect(r.resourceChanges?.create).to.equal(mine.length - 20);
    // One wait, drawn with full jitter under the throttle policy's first ceiling.
    expect(clock.slept).to.deep.equal([DEFAULT_THROTTLE_RETRY.baseDelayMs / 2]);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/^the cloud throttled the update of stack prod-azure \(.*429.*\): retry 1 of 3 in 15\.0 s$/);
  });

  it("runs a throttled preview again (reads are throttled too), then the update", async () => {
    const stack = azure().failPreviews(THROTTLED.azureArm, 2);
    const clock = fakeClock();
    const r = await addCell(stack, { id: "c004" }, { retry: clock });
    expect(r).to.include({ upRan: true, throttleRetries: 2, attempts: 1 });
    expect(stack.calls.map((c) => c.method).filter((m) => m === "preview" || m === "up")).to.deep.equal(["preview", "preview", "preview", "up"]);
    expect(clock.slept).to.deep.equal([15_000, 30_000]);
  });

  it("gives up on persistent throttling after the policy's attempts, with the last cause and how to resume", async () => {
    const stack = azure().failUpAfter(0, THROTTLED.aws, 10);
    const clock = fakeClock();
    const err = await rejection(addCell(stack, { id: "c004" }, { retry: clock }));
    expect(err).to.be.instanceOf(InfraError).and.to.have.property("kind", "throttled");
    expect(err.message).to.include(`the cloud kept throttling the update of stack prod-azure: gave up after ${DEFAULT_THROTTLE_RETRY.attempts} attempts`);
    expect(err.message).to.include("ThrottlingException: Rate exceeded");
    expect(err.message).to.include("the config of cell c004 stays in stack prod-azure");
    expect(stack.calls.filter((c) => c.method === "up")).to.have.length(DEFAULT_THROTTLE_RETRY.attempts);
    // Ceilings 30 s, 60 s, 120 s: each delay is half of its ceiling with random() = 0.5.
    expect(clock.slept).to.deep.equal([15_000, 30_000, 60_000]);
  });

  it("does not retry a failure that is not throttling (quotas of the three clouds, a VNET race)", async () => {
    for (const message of Object.values(NOT_THROTTLED)) {
      const stack = azure().failUpAfter(3, message);
      const clock = fakeClock();
      const err = await rejection(addCell(stack, { id: "c004" }, { retry: clock }));
      expect(err, message).to.be.instanceOf(InfraError).and.to.have.property("kind", "engine");
      expect(stack.calls.filter((c) => c.method === "up"), message).to.have.length(1);
      expect(clock.slept, message).to.deep.equal([]);
    }
  });

  it("runs a throttled destroy again when retiring a cell, and reports every resource destroyed", async () => {
    const stack = azure();
    const mine = (await stack.urns()).filter((u) => isInCell(u, "c003"));
    await retireCell(stack, "c003");
    stack.failDestroyAfter(10, THROTTLED.gcp);
    const clock = fakeClock();
    const r = await retireCell(stack, "c003", { force: true, unprotect: true, retry: clock });
    expect(r).to.include({ phase: "retired", throttleRetries: 1 });
    expect([...r.destroyed].sort()).to.deep.equal([...mine].sort());
    expect(stack.calls.filter((c) => c.method === "destroy")).to.have.length(2);
    expect(clock.slept).to.have.length(1);
  });
});
