/*
 * Helm charts of the platform layer: the one place their versions and repositories
 * live. Stack config may override a version (cellplane:platform.charts), never a
 * repository. A test and a policy check that every release pins an exact version
 * from one of these repositories.
 */

export interface ChartSource {
  /** Chart repository URL. */
  repo: string;
  /** Charts this repository serves that we install. */
  charts: string[];
}

export const CHART_SOURCES = {
  certManager: { repo: "https://charts.jetstack.io", charts: ["cert-manager"] },
  externalDns: { repo: "https://kubernetes-sigs.github.io/external-dns/", charts: ["external-dns"] },
  // One version for base, istiod and gateway: Istio's charts are released together.
  istio: { repo: "https://istio-release.storage.googleapis.com/charts", charts: ["base", "istiod", "gateway"] },
} as const satisfies Record<string, ChartSource>;

export type ChartKey = keyof typeof CHART_SOURCES;

/** Pinned defaults. Upgrade by changing one line here (or per stack in config) and reading the chart's upgrade notes. */
export const DEFAULT_CHARTS: Record<ChartKey, string> = {
  certManager: "v1.21.1",
  externalDns: "1.21.0",
  istio: "1.30.1",
};

/** An exact chart version: semver without ranges or wildcards. */
export const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

export const ALLOWED_CHART_REPOS: readonly string[] = Object.values(CHART_SOURCES).map((s) => s.repo);
