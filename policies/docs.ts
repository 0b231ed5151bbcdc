import { DOMAINS } from "./policies";

/**
 * docs/policies.md: every policy with its domain, default level, description and
 * config. A test keeps the file equal to this (UPDATE_GOLDEN=1 npm run test:unit).
 */
export function renderPolicyDocs(): string {
  const out = [
    "# Policies of the cellplane pack",
    "",
    "Generated from `policies/` by `renderPolicyDocs` (policies/docs.ts); a test fails when it is stale:",
    "`UPDATE_GOLDEN=1 npm run test:unit` rewrites it. How to run the pack: README, \"Policy pack\".",
    "",
    "`mandatory` policies are cell invariants: they fail `pulumi preview`/`up` and `npm run plan`.",
    "`advisory` policies are best practices: they warn. Override a level or a setting in a",
    "`--policy-pack-config` file (`policies/policy-config.json`).",
    "",
    "| policy | domain | level | config (default) |",
    "| --- | --- | --- | --- |",
  ];
  const details: string[] = [];
  for (const [domain, policies] of Object.entries(DOMAINS)) {
    for (const p of policies) {
      const props = Object.entries(p.configSchema?.properties ?? {});
      const config = props.map(([k, s]) => `\`${k}\` (${JSON.stringify(s.default)})`).join(", ") || "none";
      out.push(`| [${p.name}](#${p.name}) | ${domain} | ${p.enforcementLevel} | ${config} |`);
      details.push(`## ${p.name}`, "", `${domain}, ${p.enforcementLevel}. ${p.description}`, "");
      for (const [k, s] of props) details.push(`- \`${k}\`: ${s.description ?? ""} Default \`${JSON.stringify(s.default)}\`.`);
      if (props.length > 0) details.push("");
    }
  }
  return [...out, "", ...details].join("\n").replace(/\n+$/, "\n");
}
