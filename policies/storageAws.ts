import { PolicyResource } from "@pulumi/policy";
import { stackRule, violation } from "./lib/policy";
import { at, oneOrMany, Props, record, records, str } from "./lib/props";
import { StackIndex } from "./lib/stack";
import { AWS } from "./lib/types";

/*
 * What the storage policies judge of S3 that only an IAM policy document shows:
 * whether a bucket policy keeps data requests to a VPC endpoint (and does so
 * without locking the deployer out), and which IAM principals may read a bucket.
 * storage.ts composes these into the cloud-neutral storage view and rules.
 */

/** The statements of a policy document given as JSON text or an object. */
export function statementsOf(policy: unknown): Props[] {
  let doc: unknown = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return [];
    }
  }
  return [record(at(doc, "Statement")), ...records(at(doc, "Statement"))].filter((s): s is Props => s !== undefined);
}

/** An IAM wildcard pattern (`*`, `?`) as an anchored, case-insensitive regex (actions are case-insensitive). */
function glob(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, caseInsensitive ? "i" : "");
}

/** Whether one of a statement's action patterns covers `action` (NotAction: whether it is NOT excluded). */
export function coversAction(s: Props, action: string): boolean {
  if (s.NotAction !== undefined) return !oneOrMany(s.NotAction).some((p) => glob(p, true).test(action));
  return oneOrMany(s.Action).some((p) => glob(p, true).test(action));
}

function coversResource(s: Props, arn: string): boolean {
  if (s.NotResource !== undefined) return !oneOrMany(s.NotResource).some((p) => glob(p, false).test(arn));
  return oneOrMany(s.Resource).some((p) => glob(p, false).test(arn));
}

/** Whether a statement's principal is everyone (`"*"` or `{AWS: "*"}`). */
function everyone(s: Props): boolean {
  return s.Principal === "*" || oneOrMany(record(s.Principal)?.AWS).includes("*");
}

/** Condition keys naming where a request comes from: a VPC endpoint or a VPC. */
const VPC_KEYS = ["aws:sourcevpce", "aws:sourcevpc"];

/** The VPC / endpoint condition of a Deny, as `StringNotEquals` / `StringNotEqualsIfExists` ... `{"aws:SourceVpce": "vpce-..."}`: its values, or null when it has none. */
function vpcCondition(s: Props): string[] | null {
  const cond = record(s.Condition) ?? {};
  for (const [op, block] of Object.entries(cond)) {
    if (!/^StringNotEquals(IfExists)?$|^StringNotLike(IfExists)?$/.test(op.replace(/^ForAnyValue:|^ForAllValues:/, ""))) continue;
    for (const [key, value] of Object.entries(record(block) ?? {})) {
      if (VPC_KEYS.includes(key.toLowerCase())) {
        const values = oneOrMany(value).filter((v) => v.length > 0 && v !== "*");
        if (values.length > 0) return values;
      }
    }
  }
  return null;
}

/** Data requests a network restriction must cover: reading, writing and listing objects. */
const DATA_PROBES = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"];
/**
 * Management requests a network restriction must NOT cover: a Deny of these outside
 * a VPC endpoint refuses the deployer's own calls from outside the VPC (and the
 * console's), so nobody but the root user can change or delete the bucket policy.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies-vpc-endpoint.html (Important)
 */
const MANAGEMENT_PROBES = ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"];

export interface BucketNetworkView {
  /** Why any network reaches the bucket's data, or null. */
  openNetwork: string | null;
  /** Why the policy would lock the deployer out of managing the bucket, or null. */
  lockout: string | null;
}

/** The network view of a bucket from its policies (inline `policy` and the BucketPolicy companion). */
export function bucketNetwork(name: string, policies: unknown[]): BucketNetworkView {
  const statements = policies.flatMap(statementsOf).filter((s) => s.Effect === "Deny" && everyone(s) && vpcCondition(s) !== null);
  const objectArn = `arn:aws:s3:::${name}/object`;
  const bucketArn = `arn:aws:s3:::${name}`;
  const covered = DATA_PROBES.filter((a) => statements.some((s) => coversAction(s, a) && coversResource(s, a === "s3:ListBucket" ? bucketArn : objectArn)));
  const uncovered = DATA_PROBES.filter((a) => !covered.includes(a));
  const locking = MANAGEMENT_PROBES.filter((a) => statements.some((s) => coversAction(s, a) && coversResource(s, bucketArn)));
  return {
    openNetwork:
      uncovered.length === 0
        ? null
        : `no bucket policy statement denies ${uncovered.join(", ")} to requests that do not come through the cell's VPC endpoint (a Deny with StringNotEquals aws:SourceVpce), so any network with credentials reaches the data`,
    lockout:
      locking.length === 0
        ? null
        : `its bucket policy denies ${locking.join(", ")} outside a VPC endpoint: the deployer (outside the VPC) could no longer change or delete the policy, and only the account's root user could undo it`,
  };
}

/** Who may read one bucket's objects: IAM roles through inline role policies, and principals allowed by bucket policies. */
export function bucketReaders(index: StackIndex, bucket: PolicyResource, bucketPolicies: unknown[]): { who: string; via: string }[] {
  const name = str(bucket.props.bucket) ?? bucket.name;
  const objectArn = `arn:aws:s3:::${name}/object`;
  const reads = (s: Props) => s.Effect === "Allow" && coversAction(s, "s3:GetObject") && coversResource(s, objectArn);
  const out: { who: string; via: string }[] = [];
  for (const rp of index.ofType(AWS.rolePolicy)) {
    if (!statementsOf(rp.props.policy).some(reads)) continue;
    const role = index.ref(rp, rp.props.role, [AWS.iamRole]);
    out.push({ who: `role ${str(role?.props.name) ?? str(rp.props.role) ?? role?.name ?? "(unknown)"}`, via: rp.name });
  }
  for (const p of index.ofType(AWS.iamPolicy)) {
    if (!statementsOf(p.props.policy).some(reads)) continue;
    out.push({ who: `managed policy ${str(p.props.name) ?? p.name}`, via: p.name });
  }
  for (const s of bucketPolicies.flatMap(statementsOf)) {
    if (s.Effect !== "Allow" || !coversAction(s, "s3:GetObject")) continue;
    const principals = everyone(s) ? ["*"] : oneOrMany(record(s.Principal)?.AWS);
    for (const pr of principals) out.push({ who: `principal ${pr}`, via: "bucket policy" });
  }
  return out;
}

/**
 * A deny outside a VPC endpoint must spare the bucket's management: mandatory,
 * because the mistake is invisible until the next `pulumi up` is refused.
 */
export const s3VpceDenySparesManagement = stackRule({
  name: "s3-vpc-deny-spares-management",
  description:
    "A bucket policy that limits an S3 bucket to a VPC endpoint (Deny with aws:SourceVpce / aws:SourceVpc) denies only data actions (objects, listing), never bucket management: denying s3:* outside the endpoint locks the deployer and the console out of the bucket, and only the root user can remove the policy. Fix: list the data actions in the Deny (providers/aws/service.ts S3_DATA_ACTIONS).",
  enforcementLevel: "mandatory",
  appliesTo: [AWS.bucketPolicy, AWS.bucket, AWS.bucketV2],
  check(index, { report }) {
    for (const r of [...index.ofType(AWS.bucketPolicy), ...index.ofType(AWS.bucket, AWS.bucketV2)]) {
      if (r.props.policy === undefined) continue;
      const name = str(r.props.bucket) ?? r.name;
      const { lockout } = bucketNetwork(name, [r.props.policy]);
      if (lockout) report(r.urn, violation(r.name, lockout, "deny only object and listing actions outside the endpoint (s3:GetObject*, s3:PutObject*, s3:DeleteObject*, s3:ListBucket*, ...)"));
    }
  },
});

/** Whether an S3 action pattern names object-level actions (resource `bucket/key`) rather than bucket-level ones. */
function objectLevel(action: string): boolean {
  return /Object|MultipartUploadPart|AbortMultipartUpload|Replicate(Delete|Tags)/i.test(action);
}

/**
 * Every action of a bucket-policy statement must apply to one of its resources:
 * object actions to `arn:aws:s3:::bucket/...`, bucket actions to `arn:aws:s3:::bucket`.
 * Otherwise PutBucketPolicy fails with MalformedPolicy "Action does not apply to any
 * resource(s) in statement" (e.g. ministryofjustice/modernisation-platform#10762,
 * aws-amplify/docs#7799): only `up` shows it.
 */
export function mismatchedActions(policy: unknown): string[] {
  const out: string[] = [];
  for (const s of statementsOf(policy)) {
    if (s.NotResource !== undefined || s.NotAction !== undefined) continue;
    const resources = oneOrMany(s.Resource);
    if (resources.some((r) => r === "*")) continue;
    const objects = resources.some((r) => /^arn:[^:]+:s3:::[^/]+\/.*/.test(r));
    const buckets = resources.some((r) => /^arn:[^:]+:s3:::[^/]+$/.test(r));
    for (const a of oneOrMany(s.Action)) {
      if (!/^s3:/i.test(a) || a === "s3:*") continue;
      if (objectLevel(a) ? !objects : !buckets) out.push(`${str(s.Sid) ?? "a statement"}: ${a} needs ${objectLevel(a) ? "an object resource (arn:aws:s3:::<bucket>/*)" : "the bucket resource (arn:aws:s3:::<bucket>)"}`);
    }
  }
  return out;
}

export const s3BucketPolicyActionsMatchResources = stackRule({
  name: "s3-bucket-policy-actions-match-resources",
  description:
    "Every S3 action of a bucket-policy statement applies to one of the statement's resources (object actions to bucket/*, bucket actions such as s3:ListBucket to the bucket's ARN); S3 refuses the policy with MalformedPolicy otherwise. Fix: list both the bucket ARN and bucket/* where a statement mixes them.",
  enforcementLevel: "mandatory",
  appliesTo: [AWS.bucketPolicy, AWS.bucket, AWS.bucketV2],
  check(index, { report }) {
    for (const r of [...index.ofType(AWS.bucketPolicy), ...index.ofType(AWS.bucket, AWS.bucketV2)]) {
      if (r.props.policy === undefined) continue;
      const bad = mismatchedActions(r.props.policy);
      if (bad.length > 0) report(r.urn, violation(r.name, `S3 would refuse its bucket policy (MalformedPolicy: Action does not apply to any resource(s) in statement): ${bad.join("; ")}`, "add the missing resource to the statement"));
    }
  },
});
