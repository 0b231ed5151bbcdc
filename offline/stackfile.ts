import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse, YAMLParseError } from "yaml";

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

/** A mistake in a stack name or a stack file (a user error: exit 1, no stack trace). */
export class StackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
}

/**
 * Stack names as Pulumi accepts them: letters, digits, `-`, `_` and `.`, starting with
 * a letter or digit. A name is never a path: `--stack ../../x` cannot read a file
 * outside the project directory.
 */
export const STACK_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Throws a StackFileError unless `stack` is a stack name (not a path). */
export function checkStackName(stack: string, dir = PROJECT_DIR): void {
  if (!STACK_NAME_PATTERN.test(stack) || stack.includes("..")) {
    const stacks = listStacks(dir);
    throw new StackFileError(
      `"${stack}" is not a stack name: use letters, digits, "-", "_" and "." only, not a path\n  fix: pass a stack of this project (${stacks.join(", ") || "none found"}); use --dir for another project directory`,
    );
  }
}

/** The stacks of a project directory: one per `Pulumi.<stack>.yaml`. */
export function listStacks(dir = PROJECT_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined && STACK_NAME_PATTERN.test(s))
    .sort();
}

/**
 * Flattens a stack file's `config:` map the way the Pulumi CLI does. `secure:` values
 * become placeholder secrets, except under `cellplane:`, which has no secret settings:
 * there the `{secure: ...}` object is kept, and validation says what is wrong with it.
 */
export function flattenStackConfig(stack: string, doc: unknown): StackFile {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const entries = doc && typeof doc === "object" && "config" in doc ? ((doc as { config?: Record<string, unknown> }).config ?? {}) : {};
  for (const [key, value] of Object.entries(entries)) {
    // cellplane has no secret settings: its `secure:` values stay as they are, so validation names them.
    if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value && !key.startsWith("cellplane:")) {
      config[key] = `mock-secret-for-${key}`;
      secretKeys.push(key);
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { stack, config, secretKeys };
}

export function stackFilePath(stack: string, dir = PROJECT_DIR): string {
  checkStackName(stack, dir);
  return path.join(dir, `Pulumi.${stack}.yaml`);
}

/**
 * Reads `Pulumi.<stack>.yaml`. A stack name that is a path, a missing file, a YAML
 * error and a file without a `config:` map are StackFileErrors that say what to fix.
 */
export function loadStackFile(stack: string, dir = PROJECT_DIR): StackFile {
  const file = stackFilePath(stack, dir);
  if (!existsSync(file)) {
    const stacks = listStacks(dir);
    throw new StackFileError(
      `no stack file ${file}\n  fix: use one of the stacks of this project (${stacks.join(", ") || "none found"}), or create Pulumi.${stack}.yaml (see docs/config.md)`,
    );
  }
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch (err) {
    if (!(err instanceof YAMLParseError)) throw err;
    const at = err.linePos?.[0] ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : "";
    throw new StackFileError(`${file} is not valid YAML${at}: ${err.message.split("\n")[0]}\n  fix: correct the YAML (indentation, quotes, a missing ':'); see docs/config.md for the layout`);
  }
  const config = doc && typeof doc === "object" ? (doc as { config?: unknown }).config : undefined;
  if (!config || typeof config !== "object" || Array.isArray(config)) {
    const what = doc === null || doc === undefined ? "is empty" : "has no config: map";
    throw new StackFileError(`${file} ${what}; a region stack's settings live under config: (cellplane:cloud, cellplane:region, ...)\n  fix: start from one of this repository's example stack files (Pulumi.<stack>.yaml) and docs/config.md`);
  }
  return flattenStackConfig(stack, doc);
}
