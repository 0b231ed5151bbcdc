import { createHash } from "node:crypto";

/*
 * What every cloud's mocks share: the shape the strict mock monitor asks each
 * cloud for (offline/mocks.ts dispatches by package), and deterministic ids. A
 * cloud's mocks live in providers/<cloud>/mocks.ts and import no SDK, so the
 * offline runner loads them cheaply.
 */

/** Inputs of a registration or an invoke, as the mock monitor hands them over (deserialized, untyped). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MockInputs = Record<string, any>;

export interface MockedResource {
  id: string;
  /** The resource's state: its inputs echoed back plus what the cloud computes. */
  state: MockInputs;
}

/** One cloud's strict mocks. Each method throws, naming the token, for anything it does not know. */
export interface CloudMocks {
  /** Package names of the cloud's type tokens (`azure-native`, `aws`, `gcp`, ...). */
  packages: readonly string[];
  newResource(type: string, name: string, inputs: MockInputs): MockedResource;
  invoke(token: string, inputs: MockInputs): MockInputs;
}

/** `n` hex digits of a hash of `seed`: deterministic ids. */
export function hex(seed: string, n: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, n);
}

/** A deterministic GUID from a seed, for mocked principal and client ids. */
export function mockGuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Thrown for a token a cloud's mocks do not know: the offline run stops, naming it and where to add it. */
export function noMock(what: string, token: string, file: string): Error {
  return new Error(`strict mocks: no mock for ${what} ${token}; add one to ${file}`);
}
