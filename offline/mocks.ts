import * as pulumi from "@pulumi/pulumi";
import { CLOUD_HOMES } from "../providers";
import { CloudMocks, hex, mockGuid } from "../providers/mocking";

export { mockGuid };

/*
 * Strict Pulumi mocks. Ids and outputs are deterministic and look like the cloud's
 * own (ARM resource IDs, ARNs, GCP self-links). Each cloud's mocks live with its
 * build face (providers/<cloud>/mocks.ts); this monitor dispatches by package and
 * mocks the cloud-neutral packages (kubernetes, tls) itself. A resource type or
 * invoke without a mock throws, naming the token: a test never passes on a
 * silently faked value.
 */

/** What the mocks answer for one registration. */
export type MockAnswer = { id: string; state: Record<string, any> };

export interface MockOptions {
  /** Outputs of this stack's last deployment, served to the program's StackReference on itself. */
  previousOutputs?: Record<string, unknown>;
  /**
   * Sees every registration when the engine receives it and may answer later: a test's
   * slow engine (one that is creating the resources). Default: the answer, at once.
   * Used by runProgram (offline/run.ts) around StrictMocks.
   */
  answer?: (args: pulumi.runtime.MockResourceArgs, answer: MockAnswer) => MockAnswer | Promise<MockAnswer>;
}

/** Every cloud's mocks, by the package of its tokens. */
const BY_PACKAGE = new Map<string, CloudMocks>(Object.values(CLOUD_HOMES).flatMap((h) => h.mocks.packages.map((p) => [p, h.mocks] as const)));

/** The package of a type or invoke token: `azure-native:network:Subnet` -> `azure-native`. */
const packageOf = (token: string): string => token.split(":")[0];

export class StrictMocks implements pulumi.runtime.Mocks {
  constructor(private readonly options: MockOptions = {}) {}

  newResource(args: pulumi.runtime.MockResourceArgs): MockAnswer {
    const { type, name, inputs } = args;
    if (type === "pulumi:pulumi:StackReference") {
      return { id: inputs.name, state: { name: inputs.name, outputs: this.options.previousOutputs ?? {}, secretOutputNames: [] } };
    }
    if (!args.custom) {
      // Components have no cloud state. Only ours and the stack itself are expected.
      if (type === "pulumi:pulumi:Stack" || type.startsWith("cellplane:")) return { id: "", state: {} };
      throw new Error(`strict mocks: unexpected component ${type}; remote components are opaque to mocks`);
    }
    if (type.startsWith("pulumi:providers:")) {
      // Explicit providers (one Kubernetes provider per cluster). Only packages we use.
      // Explicit cloud providers: a tenant service's provider per pool subscription.
      if (type !== "pulumi:providers:kubernetes" && !BY_PACKAGE.has(type.slice("pulumi:providers:".length))) throw new Error(`strict mocks: unexpected provider ${type}`);
      return { id: mockGuid(`${type}/${name}`), state: { ...inputs } };
    }
    const cloud = BY_PACKAGE.get(packageOf(type));
    if (cloud) return cloud.newResource(type, name, inputs);
    switch (packageOf(type)) {
      case "kubernetes": {
        const meta = inputs.metadata ?? {};
        const ns = meta.namespace ?? inputs.namespace;
        const n = meta.name ?? inputs.name ?? name;
        return { id: ns ? `${ns}/${n}` : n, state: { ...inputs } };
      }
      case "tls":
        return { id: hex(`${type}/${name}`, 40), state: { ...inputs } };
      // @pulumiverse/time: waits (Sleep) and timestamps have no cloud state.
      case "time":
        if (type !== "time:index/sleep:Sleep") throw new Error(`strict mocks: no mock for resource type ${type}`);
        return { id: new Date(0).toISOString(), state: { ...inputs } };
      default:
        throw new Error(`strict mocks: no mock for resource type ${type}`);
    }
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    const cloud = BY_PACKAGE.get(packageOf(args.token));
    if (!cloud) throw new Error(`strict mocks: no mock for invoke ${args.token}; add one to the cloud's providers/<cloud>/mocks.ts`);
    return cloud.invoke(args.token, args.inputs);
  }
}
