// The CrossGuard pack: `pulumi preview --policy-pack policies`. Building a PolicyPack
// starts the analyzer's gRPC server, so nothing else imports this file: the rules
// live in policies.ts, which the offline runner (offline.ts) uses directly.
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, POLICIES } from "./policies";

new PolicyPack(PACK_NAME, {
  policies: POLICIES,
  enforcementLevel: PACK_ENFORCEMENT_LEVEL,
  description: "cellplane cell invariants (mandatory) and best practices (advisory) for Azure, AWS and GCP",
  provider: "multi-cloud",
});
