import { ALLOWED_CHART_REPOS, EXACT_VERSION } from "../cells/plan/charts";
import { CLOUD_CHART_REPOS } from "../cells/plan/clouds";
import { resourceRule, violation, ViewTable } from "./lib/policy";
import { at, Props, str } from "./lib/props";
import { K8S } from "./lib/types";

/*
 * Platform layer: Helm releases pin an exact chart version from a repository we
 * trust (cells/plan/charts.ts), so a preview never installs a chart nobody
 * reviewed.
 */

interface ChartView {
  chart: string | undefined;
  version: string | undefined;
  /** Repository URL: repositoryOpts.repo, or the location part of an oci:// or https:// chart reference. */
  repo: string | undefined;
}

function chartView(p: Props): ChartView {
  const chart = str(p.chart);
  const repo = str(at(p, "repositoryOpts", "repo")) ?? (chart && /^(oci|https?):\/\//.test(chart) ? chart.slice(0, chart.lastIndexOf("/")) : undefined);
  return { chart, version: str(p.version), repo };
}

const CHART_VIEWS: ViewTable<ChartView> = {
  [K8S.helmRelease]: ({ props }) => chartView(props),
  [K8S.helmChartV4]: ({ props }) => chartView(props),
};

const normalizeRepo = (url: string) => url.trim().replace(/\/+$/, "").toLowerCase();

export const helmChartPinned = resourceRule<ChartView, { extraRepos?: string[] }>({
  name: "helm-chart-pinned",
  description:
    "Every Helm release pins an exact chart version (1.30.1, v1.21.1: no ranges, no latest) from an allowed repository (cells/plan/charts.ts, plus extraRepos from the policy config). Fix: set version to an exact version and repositoryOpts.repo to an allowed repository (cellplane:platform.charts in the stack config).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      extraRepos: { type: "array", items: { type: "string" }, default: [], description: "Chart repositories allowed besides those of cells/plan/charts.ts." },
    },
  },
  views: CHART_VIEWS,
  check(v, { subject, config }) {
    const out: string[] = [];
    const what = `chart ${v.chart ?? "(unset)"}`;
    if (!v.version || !EXACT_VERSION.test(v.version)) {
      out.push(violation(subject.name, `${what} ${v.version ? `has version "${v.version}", not an exact version` : "has no version, so every preview may pick a new one"}`, "set version to an exact chart version such as 1.30.1 (cellplane:platform.charts)"));
    }
    const allowed = [...ALLOWED_CHART_REPOS, ...CLOUD_CHART_REPOS, ...(config.extraRepos ?? [])].map(normalizeRepo);
    if (!v.repo || !allowed.includes(normalizeRepo(v.repo))) {
      out.push(violation(subject.name, `${what} comes from ${v.repo ? `repository ${v.repo}, which is not allowed` : "no repository"}`, `set repositoryOpts.repo to one of ${allowed.join(", ")}, or add the repository to extraRepos in the policy config after review`));
    }
    return out;
  },
});

export const PLATFORM_POLICIES = [helmChartPinned];
