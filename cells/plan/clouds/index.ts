import { Cloud } from "../model";
import { aws } from "./aws";
import { azure } from "./azure";
import { gcp } from "./gcp";
import { CloudFace, CloudRules, ThrottleText } from "./types";

export type { CloudConfigSlice, CloudFace, CloudRules, ThrottleText, VmDefaults } from "./types";

/*
 * The registry of the clouds' pure faces: one row per cloud. A cloud's rules,
 * names, VM defaults and config slice live in cells/plan/clouds/<cloud>.ts; its
 * build face in providers/<cloud>. Sources are in ../shared/guide/cloud-facts.md
 * and the providers' docs.
 */
export const CLOUD_FACES = { azure, aws, gcp } as const satisfies Record<Cloud, CloudFace>;

/** What each cloud imposes on the IP plan and on cluster sizing. */
export const CLOUD_RULES: Record<Cloud, CloudRules> = { azure: azure.rules, aws: aws.rules, gcp: gcp.rules };

/** Every cloud's throttling texts, with the cloud (automation/throttling.ts). */
export const CLOUD_THROTTLING: readonly (ThrottleText & { cloud: Cloud })[] = (Object.entries(CLOUD_FACES) as [Cloud, CloudFace][]).flatMap(([cloud, f]) =>
  f.throttling.map((t) => ({ ...t, cloud })),
);

/** Each cloud's physical-name rules, by resource kind. */
export const NAME_RULES = { azure: azure.names, aws: aws.names, gcp: gcp.names } as const;

/** Repositories of the charts the clouds' build faces install themselves (CloudFace.charts). */
export const CLOUD_CHART_REPOS: readonly string[] = Object.values(CLOUD_FACES).flatMap((f: CloudFace) => Object.values(f.charts ?? {}).map((c) => c.repo));

/** Kubernetes' own scalability limits (v1.30 "large clusters"), stricter than some clouds'. */
export const KUBERNETES_LIMITS = {
  maxNodesPerCluster: 5000,
  maxPodsPerCluster: 150_000,
} as const;

/** Smallest cell a cloud may carve (seed 000: "at least /22 for the necessary workloads"). */
export const SMALLEST_CELL_PREFIX = 22;
