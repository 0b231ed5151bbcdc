/*
 * One registration as the engine sees it: the record the offline runner
 * (offline/run.ts) keeps, the offline policy runner (policies/offline.ts) judges
 * and the plan JSON (bin/plan.ts) publishes a part of. One shape, three readers.
 */

export interface Registration {
  urn: string;
  /** The mocked cloud id; null for components. */
  id: string | null;
  type: string;
  name: string;
  custom: boolean;
  parent: string | null;
  /** Inputs with references resolved to mocked ids (secrets keep their envelope until unwrapped). */
  inputs: Record<string, any>;
  dependencies: string[];
  protect: boolean;
  provider: string | null;
  ignoreChanges: string[];
  aliases: string[];
  /**
   * What the (mocked) cloud computed beyond the inputs (e.g. a public IP's
   * ipAddress). Stack policies see outputs in the engine; offline they see the
   * inputs plus these. Not published in the plan JSON.
   */
  computed?: Record<string, any>;
}

/** The fields of a registration the plan JSON publishes (docs: the plan JSON contract). */
export type PlannedResource = Pick<Registration, "urn" | "id" | "type" | "name" | "parent" | "inputs" | "dependencies" | "protect" | "provider">;

/** What the offline policy runner needs of a registration: the published fields, the rest optional. */
export type RecordedResource = Omit<PlannedResource, "id" | "dependencies"> & { id?: string | null; dependencies: readonly string[] } & Partial<Pick<Registration, "ignoreChanges" | "aliases" | "computed">>;
