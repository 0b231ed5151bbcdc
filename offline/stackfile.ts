import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/**
 * Project root: where Pulumi.yaml and the Pulumi.<stack>.yaml files live. Found upwards
 * from this file, which runs from offline/ (ts-node) or dist/offline/ (the precompiled CLI).
 */
export const PROJECT_DIR = projectDir(path.resolve(__dirname, ".."));

function projectDir(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

export interface StackFile {
  stack: string;
  /** Flat config as the engine hands it to a program: structured values as JSON strings. */
  config: Record<string, string>;
  /** Keys whose values were `secure:` in the file; their values are placeholders here. */
  secretKeys: string[];
}

/** Flattens a stack file's `config:` map the way the Pulumi CLI does. `secure:` values become placeholder secrets. */
export function flattenStackConfig(stack: string, doc: unknown): StackFile {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const entries = doc && typeof doc === "object" && "config" in doc ? ((doc as { config?: Record<string, unknown> }).config ?? {}) : {};
  for (const [key, value] of Object.entries(entries)) {
    if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) {
      config[key] = `mock-secret-for-${key}`;
      secretKeys.push(key);
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { stack, config, secretKeys };
}

export function stackFilePath(stack: string, dir = PROJECT_DIR): string {
  return path.join(dir, `Pulumi.${stack}.yaml`);
}

export function loadStackFile(stack: string, dir = PROJECT_DIR): StackFile {
  const file = stackFilePath(stack, dir);
  if (!existsSync(file)) throw new Error(`no stack file ${file}`);
  return flattenStackConfig(stack, parse(readFileSync(file, "utf8")));
}
