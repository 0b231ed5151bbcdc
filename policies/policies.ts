import { EnforcementLevel, Policies } from "@pulumi/policy";
import { CLUSTER_POLICIES } from "./clusters";
import { EKS_POLICIES } from "./eks";
import { GKE_POLICIES } from "./gke";
import { HYGIENE_POLICIES } from "./hygiene";
import { IDENTITY_POLICIES } from "./identity";
import { NETWORK_POLICIES } from "./network";
import { PLATFORM_POLICIES } from "./platform";
import { PROVIDER_API_POLICIES } from "./providerApi";
import { STORAGE_POLICIES } from "./storage";

/*
 * Every policy of the pack, by domain, as plain data. Only policies/index.ts
 * turns this into a PolicyPack (whose constructor starts a gRPC server); the
 * offline runner (policies/offline.ts), `npm run plan` and the tests import this
 * module instead.
 */

export const PACK_NAME = "cellplane";

/** The pack's level, for a policy that sets none (all of ours set one). */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "advisory";

export const POLICIES: Policies = [
  ...NETWORK_POLICIES,
  ...CLUSTER_POLICIES,
  ...EKS_POLICIES,
  ...IDENTITY_POLICIES,
  ...STORAGE_POLICIES,
  ...PLATFORM_POLICIES,
  ...HYGIENE_POLICIES,
  ...PROVIDER_API_POLICIES,
  ...GKE_POLICIES,
];

/** The domains, for docs/policies.md and the README. */
export const DOMAINS: Readonly<Record<string, Policies>> = {
  network: NETWORK_POLICIES,
  clusters: CLUSTER_POLICIES,
  eks: EKS_POLICIES,
  identity: IDENTITY_POLICIES,
  storage: STORAGE_POLICIES,
  platform: PLATFORM_POLICIES,
  hygiene: HYGIENE_POLICIES,
  "provider-api": PROVIDER_API_POLICIES,
  gke: GKE_POLICIES,
};
