import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { stackFilePath } from "../offline/stackfile";

export const EXAMPLE_STACKS = ["prod-azure", "prod-aws", "prod-gcp"] as const;

/** The `cellplane:` part of an example stack file as a raw object (keys without the namespace). */
export function exampleRaw(stack: string): Record<string, any> {
  const doc = parse(readFileSync(stackFilePath(stack), "utf8")) as { config: Record<string, unknown> };
  const raw: Record<string, any> = {};
  for (const [k, v] of Object.entries(doc.config)) if (k.startsWith("cellplane:")) raw[k.slice("cellplane:".length)] = v;
  return structuredClone(raw);
}

/** Turns a raw object back into the flat config map the engine hands the program. */
export function flatFromRaw(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [`cellplane:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}
