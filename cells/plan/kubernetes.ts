import type { KubernetesRelease } from "./clouds/types";

/*
 * Cloud-neutral reading of a cloud's Kubernetes support calendar
 * (CloudFace.kubernetesCalendar): the default minor, and whether a version is
 * within standard support on a given day. Pure; callers pass the date in.
 */

/** Days before the end of standard support from which validation warns. */
export const SUPPORT_WARNING_DAYS = 60;

const DAY_MS = 86_400_000;

/** "1.35.2" -> "1.35". */
export function minorOf(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}

function minorNumber(minor: string): number {
  return Number(minor.split(".")[1] ?? "0");
}

/** The default minor of a cloud: the newest row of its calendar. */
export function defaultKubernetesMinor(calendar: readonly KubernetesRelease[]): string {
  const newest = [...calendar].sort((a, b) => minorNumber(b.minor) - minorNumber(a.minor))[0];
  if (!newest) throw new Error("cellplane: a cloud's Kubernetes calendar is empty");
  return newest.minor;
}

export type SupportStatus =
  | { status: "supported"; end: string; source: string }
  | { status: "ending"; end: string; daysLeft: number; source: string }
  | { status: "ended"; end: string | null; source: string | null }
  | { status: "unlisted" };

/** Where `version` stands in `calendar` on `today`: supported, ending within SUPPORT_WARNING_DAYS, ended, or newer than the calendar. */
export function supportOf(version: string, calendar: readonly KubernetesRelease[], today: Date): SupportStatus {
  const minor = minorOf(version);
  const row = calendar.find((r) => r.minor === minor);
  if (!row) {
    const oldest = Math.min(...calendar.map((r) => minorNumber(r.minor)));
    return minorNumber(minor) < oldest ? { status: "ended", end: null, source: null } : { status: "unlisted" };
  }
  // Support lasts through the end day (UTC).
  const end = Date.parse(`${row.endOfStandardSupport}T23:59:59Z`);
  const now = today.getTime();
  if (now > end) return { status: "ended", end: row.endOfStandardSupport, source: row.source };
  const daysLeft = Math.floor((end - now) / DAY_MS);
  if (daysLeft < SUPPORT_WARNING_DAYS) return { status: "ending", end: row.endOfStandardSupport, daysLeft, source: row.source };
  return { status: "supported", end: row.endOfStandardSupport, source: row.source };
}

/** The minors of `calendar` still in standard support on `today`, for fix hints. */
export function supportedMinors(calendar: readonly KubernetesRelease[], today: Date): string[] {
  return calendar.filter((r) => supportOf(r.minor, calendar, today).status !== "ended").map((r) => r.minor);
}
